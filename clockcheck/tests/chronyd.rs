//! A real chronyd on 127.0.0.1 (non-standard ports, `-x` so it never touches
//! the clock, no CAP_SYS_TIME as a second guard) made to serve a wrong time
//! with libfaketime; check_ntp_time asked about the same server must agree.

use std::path::Path;
use std::process::Command;

use assert_cmd::cargo::cargo_bin_cmd;
mod support;
use support::{Chronyd, LIBFAKETIME, chronyd_binary, start_chronyd};

const CHECK_NTP_TIME: &str = "/usr/lib/nagios/plugins/check_ntp_time";

fn available() -> bool {
    let chronyd = chronyd_binary();
    let found = [
        chronyd.as_path(),
        Path::new(LIBFAKETIME),
        Path::new(CHECK_NTP_TIME),
    ]
    .iter()
    .all(|p| p.exists());
    if !found {
        let msg = "chrony, libfaketime or monitoring-plugins-basic is not installed: run scripts/install-test-deps.sh";
        mailhost_common::testing::skip("chronyd tests", msg);
    }
    found
}

/// A chronyd on 127.0.0.1:`port`, ready once check_ntp_time gets a response.
fn start(port: u16, faketime: Option<&str>, synchronised: bool) -> Chronyd {
    start_chronyd(port, faketime, synchronised, |port| {
        let out = Command::new(CHECK_NTP_TIME)
            .args(["-H", "127.0.0.1", "-p", &port.to_string(), "-t", "1"])
            .output()
            .unwrap();
        !String::from_utf8_lossy(&out.stdout).contains("No response")
    })
}

fn ours(port: u16, extra: &[&str]) -> (i32, serde_json::Value, String) {
    let out = cargo_bin_cmd!("clockcheck")
        .args([
            "-H",
            &format!("127.0.0.1:{port}"),
            "-t",
            "3",
            "--format",
            "json",
        ])
        .args(extra)
        .output()
        .unwrap();
    let text = cargo_bin_cmd!("clockcheck")
        .args(["-H", &format!("127.0.0.1:{port}"), "-t", "3"])
        .args(extra)
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    (
        out.status.code().unwrap(),
        json,
        String::from_utf8_lossy(&text.stdout).into_owned(),
    )
}

fn anchor(port: u16) -> f64 {
    let out = Command::new(CHECK_NTP_TIME)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let value = text
        .split("Offset ")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .unwrap_or_else(|| panic!("check_ntp_time said {text}"));
    value.parse().unwrap()
}

#[test]
fn offsets_of_a_faked_chronyd_and_their_statuses() {
    if !available() {
        return;
    }
    for (port, fake, expected, status) in [
        (11131u16, "-30s", -30.0, 0),
        (11132, "+90s", 90.0, 1),
        (11133, "-200s", -200.0, 2),
        (11134, "-3s", -3.0, 0),
    ] {
        let _server = start(port, Some(fake), true);
        let (code, json, line) = ours(port, &[]);
        let offset = json["offset"]
            .as_f64()
            .unwrap_or_else(|| panic!("{fake}: {json}"));
        assert!(
            (offset - expected).abs() < 0.010,
            "{fake}: measured {offset}"
        );
        assert_eq!(code, status, "{fake}: {line}");
        assert!(
            line.starts_with(["CLOCK OK", "CLOCK WARNING", "CLOCK CRITICAL"][status as usize]),
            "{line}"
        );
        assert!(
            line.contains(&format!("|offset={offset:.6}s;60;120; delay="))
                || line.contains("|offset="),
            "{line}"
        );
        let theirs = anchor(port);
        assert!(
            (offset - theirs).abs() < 0.005,
            "{fake}: clockcheck {offset}, check_ntp_time {theirs}"
        );
    }
}

#[test]
fn thresholds_from_the_command_line() {
    if !available() {
        return;
    }
    let _server = start(11135, Some("-30s"), true);
    assert_eq!(ours(11135, &["-w", "10", "-c", "20"]).0, 2);
    assert_eq!(ours(11135, &["-w", "10", "-c", "40"]).0, 1);
    assert_eq!(ours(11135, &["-w", "40", "-c", "50"]).0, 0);
}

#[test]
fn an_unsynchronised_chronyd_is_critical() {
    if !available() {
        return;
    }
    let _server = start(11136, None, false);
    let (code, json, line) = ours(11136, &[]);
    assert_eq!(code, 2, "{line}");
    assert!(line.starts_with("CLOCK CRITICAL: Offset unknown"), "{line}");
    assert!(
        json["servers"][0]["rejected"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["reason"] == "unsynchronized" || r["reason"] == "kiss"),
        "{json}"
    );
    assert_eq!(ours(11136, &["-q"]).0, 3);
}

#[test]
fn servers_from_ntp_conf_under_root() {
    if !available() {
        return;
    }
    let _server = start(11137, Some("+2s"), true);
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(root.path().join("etc")).unwrap();
    std::fs::write(
        root.path().join("etc/ntp.conf"),
        "# test\nserver 127.0.0.1 iburst\nserver 127.127.1.0\n",
    )
    .unwrap();
    let out = cargo_bin_cmd!("clockcheck")
        .args(["-p", "11137", "-t", "3", "--root"])
        .arg(root.path())
        .output()
        .unwrap();
    let line = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{line}");
    assert!(line.contains("server 127.0.0.1:11137"), "{line}");
}

/// Without -H and without an ntp.conf, the servers come from what keeps the
/// time: chrony.conf (its sourcedir followed), else timesyncd.conf.
#[test]
fn servers_from_chrony_or_timesyncd_under_root() {
    if !available() {
        return;
    }
    let _server = start(11139, Some("+1s"), true);
    let chrony = mailhost_common::testing::tree(&[
        (
            "etc/chrony/chrony.conf",
            "sourcedir /etc/chrony/sources.d\nmakestep 1 3\n",
        ),
        (
            "etc/chrony/sources.d/local.sources",
            "server 127.0.0.1 iburst\n",
        ),
    ]);
    let timesyncd = mailhost_common::testing::tree(&[
        ("lib/systemd/system/systemd-timesyncd.service", "[Unit]\n"),
        ("etc/systemd/timesyncd.conf", "[Time]\nNTP=127.0.0.1\n"),
    ]);
    for root in [&chrony, &timesyncd] {
        let out = cargo_bin_cmd!("clockcheck")
            .args(["-p", "11139", "-t", "3", "--root"])
            .arg(root.path())
            .output()
            .unwrap();
        let line = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{line}");
        assert!(line.contains("server 127.0.0.1:11139"), "{line}");
    }
    // Nothing that keeps the time: UNKNOWN, naming where it looked.
    let empty = tempfile::tempdir().unwrap();
    let out = cargo_bin_cmd!("clockcheck")
        .arg("--root")
        .arg(empty.path())
        .output()
        .unwrap();
    let line = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(3), "{line}");
    assert!(line.contains("chrony.conf"), "{line}");
}

#[test]
fn across_the_2036_era_rollover() {
    if !available() {
        return;
    }
    // Server at 06:28:20, client at 06:28:10 on 2036-02-07 (era 1 starts at
    // 06:28:16): the true offset is 10 s plus the time between the two
    // starts.  check_ntp_time 2.3.3 reports 1.8e19 s here.
    let started = std::time::Instant::now();
    let _server = start(11138, Some("@2036-02-07 06:28:20"), true);
    let before = started.elapsed().as_secs_f64();
    let out = Command::new(assert_cmd::cargo::cargo_bin!("clockcheck"))
        .args([
            "-H",
            "127.0.0.1:11138",
            "-t",
            "3",
            "-n",
            "1",
            "--format",
            "json",
        ])
        .env("LD_PRELOAD", LIBFAKETIME)
        .env("FAKETIME", "@2036-02-07 06:28:10")
        .env("TZ", "UTC")
        .output()
        .unwrap();
    let after = started.elapsed().as_secs_f64();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let offset = json["offset"].as_f64().unwrap_or_else(|| panic!("{json}"));
    assert!(
        offset > 10.0 - 0.05 + before.min(0.0) && offset < 10.0 + after + 0.05,
        "offset {offset}, client started {before}..{after} s after the server"
    );
}
