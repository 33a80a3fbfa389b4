//! Issue 19 through the real interface: xinetd's `EXIT: imap status=89`
//! lines count as dovecot login deaths and are tied to the clock step before
//! them; one death logged to two files (maillog and messages) is one event;
//! the summary says what an event did on the installed dovecot's generation
//! (read from --root through the host model); the host name is escaped.

mod common;

use std::fs;
use std::path::Path;

use common::*;

const NTPD_STEP: &str = "Dec  7 10:00:00 mail1 ntpd[752]: 0.0.0.0 c61c 0c clock_step -60.000497 s";
const FATAL_1X: &str = "Dec  7 10:00:01 mail1 dovecot: Fatal: Time just moved backwards by 60 seconds. This might cause a lot of problems, so I'll just kill myself now.";
const XINETD_EXIT: &str =
    "Dec  7 10:00:02 mail1 xinetd[812]: EXIT: imap status=89 pid=4242 duration=0(sec)";

fn write(dir: &Path, path: &str, text: &str) {
    let full = dir.join(path);
    fs::create_dir_all(full.parent().unwrap()).unwrap();
    fs::write(full, text).unwrap();
}

fn lines(lines: &[&str]) -> String {
    lines.iter().map(|l| format!("{l}\n")).collect()
}

/// A tree whose dovecot is `package` `version` (Debian's status file), with
/// `maillog` and `messages` under /var/log.
fn tree(package: &str, version: &str, maillog: &[&str], messages: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "var/lib/dpkg/status",
        &format!("Package: {package}\nStatus: install ok installed\nVersion: {version}\n\n"),
    );
    write(dir.path(), "var/log/maillog", &lines(maillog));
    write(dir.path(), "var/log/messages", &lines(messages));
    dir
}

fn summary(root: &Path, format: &str) -> (Option<i32>, String) {
    let out = cmd()
        .args(["--summary", "--year", "2026", "--format", format, "--root"])
        .arg(root)
        .args(["/var/log/maillog", "/var/log/messages"])
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn a_1x_death_in_maillog_and_messages_is_one_event_and_the_server_is_down() {
    // FreeBSD's syslog.conf copies mail.crit (dovecot's Fatal) to messages.
    let t = tree(
        "dovecot-common",
        "1:1.2.15-7",
        &[NTPD_STEP, FATAL_1X],
        &[FATAL_1X],
    );
    let (code, text) = summary(t.path(), "text");
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains("host mail1: 2 events, 1 dovecot deaths"),
        "{text}"
    );
    assert!(text.contains("dovecot generation: 1.x"), "{text}");
    assert!(text.contains("1 lines seen in two files"), "{text}");
    assert!(
        text.contains("<- ntpd step backward 60.000497 s at 2026-12-07T10:00:00")
            && text.contains("dovecot (1.x) exited: the server is down"),
        "{text}"
    );
    let (_, json) = summary(t.path(), "json");
    let host: serde_json::Value = serde_json::from_str(json.lines().next().unwrap()).unwrap();
    assert_eq!(host["dovecot_deaths"], 1);
    assert_eq!(host["merged_copies"], 1);
    assert_eq!(host["dovecot_generation"], "1.x");
    assert_eq!(host["causes"].as_array().unwrap().len(), 1);
    assert_eq!(
        host["causes"][0]["effect"],
        "dovecot (1.x) exited: the server is down"
    );
}

#[test]
fn two_deaths_in_one_second_in_one_file_stay_two() {
    let t = tree(
        "dovecot-common",
        "1:1.2.15-7",
        &[NTPD_STEP, FATAL_1X, FATAL_1X],
        &[FATAL_1X],
    );
    let (_, json) = summary(t.path(), "json");
    let host: serde_json::Value = serde_json::from_str(json.lines().next().unwrap()).unwrap();
    assert_eq!(host["dovecot_deaths"], 2, "{json}");
    assert_eq!(host["merged_copies"], 1, "{json}");
}

#[test]
fn xinetd_status_89_is_a_login_death_tied_to_the_step_before_it() {
    let t = tree("dovecot-common", "1:1.2.15-7", &[NTPD_STEP], &[XINETD_EXIT]);
    let (code, text) = summary(t.path(), "text");
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains("host mail1: 2 events, 1 dovecot deaths"),
        "{text}"
    );
    assert!(
        text.contains("xinetd: a dovecot login exited with status 89, <- ntpd step backward 60.000497 s at 2026-12-07T10:00:00"),
        "{text}"
    );
    let (_, json) = summary(t.path(), "json");
    let host: serde_json::Value = serde_json::from_str(json.lines().next().unwrap()).unwrap();
    assert_eq!(host["causes"][0]["source"], "xinetd");
    assert_eq!(host["causes"][0]["kind"], "exit");
    assert_eq!(host["causes"][0]["step"]["before"], 2.0);
    // The default mode reports clock jumps only; --all shows the exit too.
    let out = cmd()
        .args(["--all", "--year", "2026", "--root"])
        .arg(t.path())
        .arg("/var/log/messages")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("status=89"));
    let out = cmd()
        .args(["--year", "2026", "--root"])
        .arg(t.path())
        .arg("/var/log/messages")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn on_2x_sessions_are_cut_and_new_ones_held_back() {
    let t = tree(
        "dovecot-core",
        "1:2.3.19.1+dfsg1-2.1+deb12u7",
        &[
            NTPD_STEP,
            "Dec  7 10:00:01 mail1 dovecot: master: Warning: Time moved backwards by 60.000497 seconds, waiting for 60 secs until new services are launched again.",
            "Dec  7 10:00:01 mail1 dovecot: imap(bob)<4242><abc>: Fatal: Time just moved backwards by 60.000497 seconds. This might cause a lot of problems, so I'll just kill myself now. http://wiki2.dovecot.org/TimeMovedBackwards",
            "Dec  7 10:00:01 mail1 dovecot: imap(ann)<4243><abd>: Fatal: Time just moved backwards by 60.000497 seconds. This might cause a lot of problems, so I'll just kill myself now. http://wiki2.dovecot.org/TimeMovedBackwards",
        ],
        &[],
    );
    let (code, text) = summary(t.path(), "text");
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("dovecot generation: 2.x"), "{text}");
    assert!(text.contains("3 events, 2 deaths"), "{text}");
    assert!(
        text.contains("2 sessions cut, new sessions held back 60 s"),
        "{text}"
    );
    assert!(!text.contains("server is down"), "{text}");
}

#[test]
fn the_summary_host_name_is_escaped() {
    let host = "mail\u{1b}]0;owned\u{7}\r";
    let line = FATAL_1X.replace("mail1", host);
    let out = cmd()
        .args(["--summary", "--year", "2026", "-"])
        .write_stdin(format!("{line}\n"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("host mail"), "{text}");
    for raw in ['\u{1b}', '\u{7}', '\r'] {
        assert!(!text.contains(raw), "{text:?}");
    }
}
