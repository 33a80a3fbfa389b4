//! The errata's four xinetd.d files for dovecot (examples/errata/xinetd.d):
//! lint-clean on the example host with the standalone dovecot off, and all
//! four really started by Debian's xinetd (login paths stubbed with
//! /bin/true), run as tests/xinetd_oracle.rs runs it: a private network
//! namespace, debug mode under `script`, stopped by its process group.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

mod support;
use support::{StopXinetd, json_active_ids, xinetd_startup};

const SERVICES: [&str; 4] = ["imap", "imaps", "pop3", "pop3s"];

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn errata_file(service: &str) -> String {
    std::fs::read_to_string(repo().join("examples/errata/xinetd.d").join(service)).unwrap()
}

#[test]
fn the_errata_files_are_lint_clean_on_the_example_host() {
    let tree = tempfile::tempdir().unwrap();
    let host = repo().join("examples/host");
    let status = Command::new("cp")
        .arg("-Rp")
        .arg(&host)
        .arg(tree.path().join("h"))
        .status()
        .unwrap();
    assert!(status.success());
    let root = tree.path().join("h");
    let xinetd_d = root.join("etc/xinetd.d");
    std::fs::remove_dir_all(&xinetd_d).unwrap();
    std::fs::create_dir(&xinetd_d).unwrap();
    for service in SERVICES {
        std::fs::write(xinetd_d.join(service), errata_file(service)).unwrap();
    }
    // The errata's rc.conf: the standalone dovecot off.
    let rc = std::fs::read_to_string(root.join("etc/rc.conf"))
        .unwrap()
        .replace("dovecot_enable=\"YES\"", "dovecot_enable=\"NO\"");
    std::fs::write(root.join("etc/rc.conf"), rc).unwrap();

    let bin = assert_cmd::cargo::cargo_bin!("xinetd-lint");
    let out = Command::new(bin).arg("--root").arg(&root).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        !text.contains(": warning: ") && !text.contains(": error: "),
        "{text}"
    );
    let out = Command::new(bin)
        .args(["--services", "--format", "json", "--root"])
        .arg(&root)
        .output()
        .unwrap();
    let active: BTreeSet<String> = json_active_ids(&out.stdout).into_iter().collect();
    assert_eq!(active, SERVICES.iter().map(|s| s.to_string()).collect());
}

fn xinetd_available() -> bool {
    support::xinetd_oracle_available("errata xinetd test")
}

#[test]
fn the_real_xinetd_starts_all_four() {
    if !xinetd_available() {
        return;
    }
    let scratch = tempfile::tempdir().unwrap();
    let dir = scratch.path().join("xinetd.d");
    std::fs::create_dir(&dir).unwrap();
    for service in SERVICES {
        // The FreeBSD login paths do not exist here: /bin/true stands in.
        let text = errata_file(service)
            .replace("/usr/local/libexec/dovecot/imap-login", "/bin/true")
            .replace("/usr/local/libexec/dovecot/pop3-login", "/bin/true");
        assert!(!text.contains("/usr/local/libexec"), "{text}");
        std::fs::write(dir.join(service), text).unwrap();
    }
    let conf = scratch.path().join("xinetd.conf");
    std::fs::write(
        &conf,
        format!(
            "defaults\n{{\n\tinstances\t= 60\n\tlog_type\t= SYSLOG daemon info\n}}\n\nincludedir {}\n",
            dir.display()
        ),
    )
    .unwrap();
    let pidfile = scratch.path().join("xinetd.pid");
    let run = xinetd_startup(&conf, &pidfile, 60, "", StopXinetd::ProcessGroup);
    let (started, log): (BTreeSet<String>, _) = (run.started.into_iter().collect(), run.log);
    assert_eq!(
        started,
        SERVICES
            .iter()
            .map(|s| s.to_string())
            .collect::<BTreeSet<_>>(),
        "{log}"
    );
    assert!(log.contains("Started working"), "{log}");
}

/// The two example hosts: dovecot 1.2 (examples/host) gets the 1.x checks
/// and no XL048; dovecot 2.3 (examples/host-dovecot2, same xinetd files)
/// gets XL048 with the same fix `clockcheck env` prints.
#[test]
fn the_example_hosts_and_their_dovecot_generations() {
    let bin = assert_cmd::cargo::cargo_bin!("xinetd-lint");
    let lint = |host: &str| {
        let out = Command::new(bin)
            .args(["--select", "XL041,XL042,XL043,XL048,XL049", "--root"])
            .arg(repo().join("examples").join(host))
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let (code, text) = lint("host");
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("[XL043]") && text.contains("[XL042]"),
        "{text}"
    );
    assert!(
        !text.contains("[XL048]") && !text.contains("[XL049]"),
        "{text}"
    );
    let (code, text) = lint("host-dovecot2");
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("imap: dovecot 2.3.21.1 cannot run from xinetd"),
        "{text}"
    );
    assert!(
        text.contains(mailhost_host::dovecot::xinetd::FIX_2X),
        "{text}"
    );
    assert!(
        !text.contains("[XL042]") && !text.contains("[XL041]"),
        "{text}"
    );
}
