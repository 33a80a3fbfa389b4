//! Issue 21: every duration, count and size argument is range-checked into
//! a usage error (exit 2, a message that names the range), never a panic
//! (`--since 999999999d`, `-B 18446744073709551615`: exit 101), a hang
//! (`-j 99999999999`: threads until the machine gives up) or a silently
//! absurd run (`--year 2147483647`: every timestamp lost).

mod common;

use std::time::Duration;

use common::*;

const FATAL: &str = "Mar  4 14:34:09 mx1 dovecot: imap(4711): Fatal: Time just moved backwards by 40.100000 seconds. This might cause a lot of problems, so I'll just kill myself now.\n";

/// Runs with `args` on a one-event log; the exit code and standard error.
fn run(args: &[&str]) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("maillog");
    std::fs::write(&log, FATAL).unwrap();
    let out = cmd()
        .args(args)
        .arg(&log)
        .timeout(Duration::from_secs(30))
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `value` of `option` is refused with exit 2, and the message says why.
fn refused(option: &str, value: &str, says: &str) {
    let (code, stderr) = run(&[option, value]);
    assert_eq!(code, Some(2), "{option} {value}: {stderr}");
    assert!(stderr.contains(says), "{option} {value}: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// `value` of `option` is taken (exit 0: the event is found).
fn taken(option: &str, value: &str) {
    let (code, stderr) = run(&[option, value]);
    assert_eq!(code, Some(0), "{option} {value}: {stderr}");
}

#[test]
fn since_and_until_ages_and_dates() {
    for option in ["--since", "--until"] {
        refused(option, "999999999d", "at most 100 years");
        refused(option, "36501d", "at most 100 years");
        refused(option, "99999999999999999999w", "not a date");
        refused(option, "+10000-01-01", "years 1 to 9999");
        refused(option, "0000-01-01", "years 1 to 9999");
    }
    taken("--since", "36500d");
    taken("--until", "9999-12-31");
}

#[test]
fn context_lines() {
    for option in ["-A", "-B", "-C"] {
        refused(option, "18446744073709551615", "from 0 to 1000");
        refused(option, "1001", "from 0 to 1000");
        taken(option, "1000");
    }
}

#[test]
fn threads() {
    refused("-j", "99999999999", "from 1 to 256");
    refused("-j", "257", "from 1 to 256");
    refused("-j", "0", "from 1 to 256");
    taken("-j", "256");
}

#[test]
fn window() {
    for absurd in ["1e300", "86401", "inf", "NaN", "-1"] {
        let (code, stderr) = run(&["--summary", &format!("--window={absurd}")]);
        assert_eq!(code, Some(2), "--window {absurd}: {stderr}");
        assert!(stderr.contains("from 0 to 86400"), "{stderr}");
    }
    let (code, stderr) = run(&["--summary", "--window", "86400"]);
    assert_eq!(code, Some(0), "{stderr}");
}

#[test]
fn year() {
    refused("--year", "2147483647", "1..=9999");
    refused("--year", "10000", "1..=9999");
    refused("--year", "0", "1..=9999");
    taken("--year", "9999");
    taken("--year", "1");
}
