//! Issue 21: `check --offset` is range-checked into a usage error, and
//! text taken from files (a file name in a `--diff` header, rc.conf's
//! `ntpd_config` in an error message) leaves the program escaped: ESC, CR
//! and BEL never reach the terminal raw.

use std::fs;
use std::path::Path;

use assert_cmd::cargo::cargo_bin_cmd;

fn cmd() -> assert_cmd::Command {
    let mut c = cargo_bin_cmd!("ntpconf-edit");
    c.env_remove("TOOLKIT_FAIL_AT").env_remove("NO_COLOR");
    c
}

const CONF: &str = "server 0.pool.ntp.org iburst\ntinker panic 5\n";

fn no_raw_controls(what: &str, text: &[u8]) {
    for c in [0x1b, b'\r', 0x07] {
        assert!(
            !text.contains(&c),
            "{what} holds byte {c:#04x}: {}",
            String::from_utf8_lossy(text)
        );
    }
}

#[test]
fn offset_out_of_range_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ntp.conf");
    fs::write(&path, CONF).unwrap();
    for absurd in ["1e300", "3153600001", "inf", "NaN", "-1"] {
        let out = cmd()
            .args(["check", &format!("--offset={absurd}")])
            .arg(&path)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "--offset {absurd}: {stderr}");
        assert!(stderr.contains("0 to 3153600000"), "{stderr}");
    }
    // 57 years: a clock that booted at the epoch.
    let out = cmd()
        .args(["check", "--offset", "1800000000"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(matches!(out.status.code(), Some(0 | 1)), "{out:?}");
}

#[test]
fn a_diff_header_does_not_pass_control_characters() {
    let dir = tempfile::tempdir().unwrap();
    let name = "ntp\x1b]0;owned\x07\r.conf";
    let path = dir.path().join(name);
    fs::write(&path, CONF).unwrap();
    let out = cmd()
        .args(["--diff", "set", "panic=0"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    no_raw_controls("the diff", &out.stdout);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains(r"ntp\e]0;owned\x07\r.conf"), "{text}");
    assert!(text.contains("+tinker panic 0\n"), "{text}");
}

fn jail_with_ntpd_config(value: &str) -> tempfile::TempDir {
    let jail = tempfile::tempdir().unwrap();
    let etc = jail.path().join("etc");
    fs::create_dir_all(&etc).unwrap();
    fs::write(etc.join("rc.conf"), format!("ntpd_config=\"{value}\"\n")).unwrap();
    jail
}

#[test]
fn an_error_naming_rc_conf_s_ntpd_config_is_escaped() {
    // A jail owner's rc.conf names a file that does not exist, with a
    // terminal title sequence and a carriage return in its name.
    let jail = jail_with_ntpd_config("/etc/\x1b]0;owned\x07\rntp.conf");
    for args in [&["show"][..], &["check"][..], &["set", "panic=0"][..]] {
        let out = cmd()
            .arg("--root")
            .arg(jail.path())
            .args(args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {out:?}");
        no_raw_controls("the error", &out.stderr);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(r"\e]0;owned\x07\rntp.conf"), "{stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
    }
}

#[test]
fn an_error_about_a_found_file_is_escaped_too() {
    // ntpd_config names a directory: read, refused, named in the error.
    let name = "/etc/dir\x1b[2K";
    let jail = jail_with_ntpd_config(name);
    fs::create_dir_all(Path::new(jail.path()).join(name.trim_start_matches('/'))).unwrap();
    let out = cmd()
        .arg("--root")
        .arg(jail.path())
        .arg("show")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    no_raw_controls("the error", &out.stderr);
}
