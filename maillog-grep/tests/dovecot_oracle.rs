//! Issue 19 against the real dovecot 2.3.19.1: under libfaketime, its master
//! and imap process log the time-moved-backwards lines (a 3 s and a 60 s
//! step, with an IMAP session open), written by the real program through
//! scripts/oracle-dovecot.sh, and maillog-grep must find and classify them.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.trim_ascii() == b"0")
}

#[test]
fn the_real_dovecot_2_3_lines_after_a_step_back() {
    let tools = repo().join("target/test-tools");
    let libfaketime = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";
    let why = if !tools.join("dovecot-core/usr/sbin/dovecot").exists() {
        Some("dovecot 2.3 is not unpacked: run scripts/install-test-deps.sh")
    } else if !Path::new(libfaketime).exists() || !Path::new("/usr/sbin/xinetd").exists() {
        Some("libfaketime or xinetd is not installed: run scripts/install-test-deps.sh")
    } else if !is_root() {
        Some("needs root (private network and mount namespaces)")
    } else {
        None
    };
    if let Some(why) = why {
        mailhost_common::testing::skip("dovecot oracle", why);
        return;
    }
    let out = tempfile::tempdir().unwrap();
    let status = Command::new("bash")
        .arg(repo().join("scripts/oracle-dovecot.sh"))
        .arg(out.path())
        .status()
        .unwrap();
    assert!(status.success());
    let results = std::fs::read_to_string(out.path().join("results")).unwrap();
    assert!(
        results.contains("faketime 60 s back: NOOP -> ("),
        "the session was cut\n{results}"
    );
    let log = out.path().join("faketime-dovecot.log");
    let text = std::fs::read_to_string(&log).unwrap();

    // Every line of the real log that mentions the jump is found, nothing else.
    let expected = text
        .lines()
        .filter(|l| l.contains("moved backwards"))
        .count();
    assert!(expected >= 4, "{text}");
    let all = cmd()
        .args(["--all", "--year", "2026"])
        .arg(&log)
        .output()
        .unwrap();
    assert_eq!(all.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&all.stdout).lines().count(),
        expected,
        "{text}"
    );

    // A tree with the real master binary: generation 2.x, whose imap Fatal
    // cuts a session and whose master holds new sessions back.
    let tree = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(tree.path().join("usr/sbin")).unwrap();
    std::fs::copy(
        tools.join("dovecot-core/usr/sbin/dovecot"),
        tree.path().join("usr/sbin/dovecot"),
    )
    .unwrap();
    std::fs::create_dir_all(tree.path().join("var/log")).unwrap();
    std::fs::copy(&log, tree.path().join("var/log/dovecot.log")).unwrap();
    let summary = cmd()
        .args(["--summary", "--format", "json", "--year", "2026", "--root"])
        .arg(tree.path())
        .arg("/var/log/dovecot.log")
        .output()
        .unwrap();
    let host: serde_json::Value =
        serde_json::from_slice(summary.stdout.split(|&b| b == b'\n').next().unwrap()).unwrap();
    assert_eq!(host["dovecot_generation"], "2.x");
    assert_eq!(host["dovecot_deaths"], 1, "{host}");
    let causes = host["causes"].as_array().unwrap();
    assert!(
        causes.iter().any(
            |c| c["fatal"] == true && c["effect"].as_str().unwrap().contains("session was cut")
        ),
        "{host}"
    );
    assert!(
        causes
            .iter()
            .any(|c| c["held_back"].as_f64().is_some_and(|h| h > 50.0)),
        "{host}"
    );
    // The 3 s step: the imap process slept (an Error, not a death).
    assert!(
        text.contains("I'll sleep now until we're back in present"),
        "{text}"
    );
}
