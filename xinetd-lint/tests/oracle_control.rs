//! Debian's real xinetd decides two things xinetd-lint's rule control and
//! include safety rely on: the suppression comment `# xinetd-lint: ignore
//! CODE` is a comment to xinetd (at top level and inside a service block),
//! and a file that includes itself crashes xinetd, so nothing starts, which
//! must be xinetd-lint's verdict too.  Same method as xinetd_oracle.rs:
//! xinetd in debug mode under `script`, in a private network namespace.

use std::io::Read;
use std::path::Path;
use std::time::{Duration, Instant};

mod support;

fn available() -> bool {
    support::xinetd_oracle_available("xinetd oracle test")
}

/// xinetd's debug log for `conf` (at most `seconds`, then stopped), and
/// whether it printed `Started working`.
fn xinetd_log(conf: &Path, seconds: u32) -> String {
    let mut child = support::spawn_xinetd_in_private_netns(
        conf,
        &conf.with_extension("pid"),
        seconds,
        "",
        "; echo xinetd-exit=\\$?",
    );
    let mut log = String::new();
    // Reading ends when the time is up: timeout(1) stops xinetd.
    let started = Instant::now();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut log)
        .unwrap();
    let _ = child.wait();
    assert!(started.elapsed() < Duration::from_secs(seconds as u64 + 20));
    log
}

fn lint_services(conf: &Path) -> Vec<serde_json::Value> {
    support::json_services(&support::lint_services_in_private_netns(conf, "").stdout)
}

const ECHO: &str = "service echo\n{\n\ttype = INTERNAL\n\tid = echo-stream\n\tsocket_type = stream\n\tprotocol = tcp\n\tuser = root\n\twait = no\n}\n";

#[test]
fn the_suppression_comment_is_a_comment_to_xinetd() {
    if !available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("suppressed.conf");
    let text = format!(
        "# xinetd-lint: ignore XL016\n{}",
        ECHO.replace(
            "\ttype",
            "\t# xinetd-lint: ignore XL016, XL011\n  # xinetd-lint: ignore XL045\n\ttype"
        )
    );
    std::fs::write(&conf, &text).unwrap();
    let log = xinetd_log(&conf, 3);
    assert!(log.contains("Started service: echo-stream"), "{log}");
    assert!(
        log.contains("Started working: 1 available service"),
        "{log}"
    );
    assert!(
        !log.contains("ERROR") && !log.contains("Bad operator"),
        "{log}"
    );
    let ours = lint_services(&conf);
    assert_eq!(ours.len(), 1);
    assert_eq!(ours[0]["status"], "active");
}

#[test]
fn a_file_that_includes_itself_crashes_xinetd_and_starts_nothing() {
    if !available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // Directly, and through a second file.
    let direct = dir.path().join("direct.conf");
    std::fs::write(&direct, format!("{ECHO}include {}\n", direct.display())).unwrap();
    let first = dir.path().join("first.conf");
    let second = dir.path().join("second.conf");
    std::fs::write(&first, format!("{ECHO}include {}\n", second.display())).unwrap();
    std::fs::write(&second, format!("include {}\n", first.display())).unwrap();
    for conf in [&direct, &first] {
        let log = xinetd_log(conf, 10);
        assert!(!log.contains("Started working"), "{log}");
        assert!(
            log.contains("xinetd-exit=139"),
            "a segmentation fault: {log}"
        );
        let ours = lint_services(conf);
        assert!(!ours.is_empty());
        assert!(
            ours.iter().all(|v| v["status"] != "active"),
            "{}: {ours:?}",
            conf.display()
        );
    }
    // The same service included twice (no loop) starts once, for both.
    let inc = dir.path().join("echo.inc");
    std::fs::write(&inc, ECHO).unwrap();
    let twice = dir.path().join("twice.conf");
    std::fs::write(&twice, format!("include {0}\ninclude {0}\n", inc.display())).unwrap();
    let log = xinetd_log(&twice, 3);
    assert!(
        log.contains("Started working: 1 available service"),
        "{log}"
    );
    let ours = lint_services(&twice);
    assert_eq!(ours.iter().filter(|v| v["status"] == "active").count(), 1);
}
