//! Issue 12, "Thresholds a dovecot host needs": Nagios ranges for -w and -c,
//! judged as check_ntp_time judges them (the absolute offset against
//! monitoring-plugins' ranges), checked against check_ntp_time itself on
//! the same servers; -v; several servers; the Prometheus text format of
//! the check and of `watch`, parsed strictly.

use std::collections::HashSet;
use std::path::Path;
use std::process::Command;

use assert_cmd::cargo::cargo_bin_cmd;

mod support;
use support::{Claim, honest, parse_exposition, run_writing_metrics_to, serve};

const CHECK_NTP_TIME: &str = "/usr/lib/nagios/plugins/check_ntp_time";

fn check_ntp_time_available() -> bool {
    let found = Path::new(CHECK_NTP_TIME).exists();
    if !found {
        let msg = "monitoring-plugins-basic is not installed: run scripts/install-test-deps.sh";
        mailhost_common::testing::skip("clockcheck thresholds test", msg);
    }
    found
}

#[test]
fn nagios_ranges_give_check_ntp_time_s_verdicts() {
    if !check_ntp_time_available() {
        return;
    }
    // Offsets away from every range end (a measurement is within 1 ms).
    let offsets = [-33.0, -12.0, -0.5, 3.0, 7.5, 15.0, 25.0, 150.0];
    let pairs = [
        ("60", "120"),
        ("10", "20"),
        ("10:20", "~:30"),
        ("~:5", "~:20"),
        ("@10:20", "40"),
        ("5:", "@0:2"),
        ("~:5", "10:"),
        ("-5:5", "-10:10"),
        ("@~:8", "@20:"),
        ("0.25", "1e2"),
    ];
    let mut seen = HashSet::new();
    for offset in offsets {
        let server = serve(honest(offset));
        let port = server.port.to_string();
        for (w, c) in pairs {
            let theirs = Command::new(CHECK_NTP_TIME)
                .args(["-H", "127.0.0.1", "-p", &port, "-t", "3", "-w", w, "-c", c])
                .output()
                .unwrap();
            let their_line = String::from_utf8_lossy(&theirs.stdout).into_owned();
            let ours = cargo_bin_cmd!("clockcheck")
                .args([
                    "-H",
                    &format!("127.0.0.1:{port}"),
                    "-t",
                    "3",
                    "-w",
                    w,
                    "-c",
                    c,
                ])
                .output()
                .unwrap();
            let our_line = String::from_utf8_lossy(&ours.stdout).into_owned();
            assert_eq!(
                ours.status.code(),
                theirs.status.code(),
                "offset {offset}, -w {w} -c {c}:\n ours:   {our_line} theirs: {their_line}"
            );
            let word =
                ["OK", "WARNING", "CRITICAL", "UNKNOWN"][ours.status.code().unwrap() as usize];
            assert!(
                their_line.starts_with(&format!("NTP {word}")),
                "{their_line}"
            );
            assert!(
                our_line.starts_with(&format!("CLOCK {word}: Offset ")),
                "{our_line}"
            );
            seen.insert(word);
        }
    }
    // The table exercises every verdict, not only one.
    assert_eq!(seen.len(), 3, "{seen:?}");
}

#[test]
fn bad_ranges_are_unknown_with_a_reason() {
    for (flag, range) in [("-w", "20:10"), ("-c", "abc"), ("-w", "1:2:3")] {
        let out = cargo_bin_cmd!("clockcheck")
            .args(["-H", "127.0.0.1:9", flag, range])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(3));
        let line = String::from_utf8_lossy(&out.stdout);
        assert!(
            line.starts_with(&format!(
                "CLOCK UNKNOWN: {flag}: `{range}` is not a Nagios range"
            )),
            "{line}"
        );
    }
}

#[test]
fn dovecot_thresholds_in_json_and_perfdata() {
    let server = serve(honest(-3.0));
    let name = format!("127.0.0.1:{}", server.port);
    let out = cargo_bin_cmd!("clockcheck")
        .args(["-H", &name, "-w", "~:1", "-c", "4", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["warning"], "~:1");
    assert_eq!(json["critical"], 4.0, "a plain range stays a number");
    let out = cargo_bin_cmd!("clockcheck")
        .args(["-H", &name, "-w", "~:1", "-c", "4"])
        .output()
        .unwrap();
    let line = String::from_utf8_lossy(&out.stdout);
    assert!(line.contains(";~:1;4; delay="), "{line}");
}

#[test]
fn verbose_keeps_the_status_line_first() {
    let server = serve(honest(0.25));
    let name = format!("127.0.0.1:{}", server.port);
    for v in ["-v", "-vv"] {
        let out = cargo_bin_cmd!("clockcheck")
            .args(["-H", &name, v, "-n", "2"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0));
        let text = String::from_utf8_lossy(&out.stdout);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("CLOCK OK: Offset 0.2"), "{text}");
        assert!(
            lines[1].starts_with(&format!("server {name}: offset 0.2")),
            "{text}"
        );
        assert!(lines[1].ends_with("; decided"), "{text}");
        if v == "-vv" {
            assert_eq!(
                lines
                    .iter()
                    .filter(|l| l.contains(": sample offset"))
                    .count(),
                2,
                "{text}"
            );
        } else {
            assert_eq!(lines.len(), 2, "{text}");
        }
    }
    // Without -v one server is one line, as check_ntp_time prints.
    let out = cargo_bin_cmd!("clockcheck")
        .args(["-H", &name])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 1);
}

#[test]
fn several_servers_each_reported_and_the_worse_one_decides() {
    // 0.55 s and 1.45 s, within each other's claimed error bounds (root dispersion
    // 1 s each): they agree, but only one is over -w 1: it decides.
    let wide = |offset: f64| Claim {
        root_dispersion: 1 << 16,
        ..honest(offset)
    };
    let a = serve(wide(0.55));
    let b = serve(wide(1.45));
    let (na, nb) = (
        format!("127.0.0.1:{}", a.port),
        format!("127.0.0.1:{}", b.port),
    );
    let out = cargo_bin_cmd!("clockcheck")
        .args(["-H", &na, "-H", &nb, "-w", "1", "-c", "2"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("CLOCK WARNING: Offset 1.4"), "{text}");
    assert!(lines[0].contains(&format!("server {nb}")), "{text}");
    assert!(lines[0].contains("2 of 2 servers agree"), "{text}");
    assert!(
        lines[1].starts_with(&format!("server {na}: offset 0.5"))
            && lines[1].ends_with("; selected"),
        "{text}"
    );
    assert!(
        lines[2].starts_with(&format!("server {nb}: offset 1.4"))
            && lines[2].ends_with("; decided"),
        "{text}"
    );
}

#[test]
fn the_exposition_reader_is_strict() {
    let ok = "# HELP a A.\n# TYPE a gauge\na{x=\"1\\\"\\\\\\n\"} 1.5\na 2\n";
    assert_eq!(
        parse_exposition(ok)[0].1,
        [("x".to_string(), "1\"\\\n".to_string())]
    );
    for bad in [
        "a 1\n",                                                                // no TYPE
        "# HELP a A.\n# TYPE a gauge\na 1",                                     // no final newline
        "# HELP a A.\n# TYPE a gauge\na one\n",                                 // bad value
        "# HELP a A.\n# TYPE a gauge\na{x=\"\\q\"} 1\n",                        // bad escape
        "# HELP a A.\n# TYPE a gauge\n# HELP b B.\n# TYPE b gauge\nb 1\na 1\n", // split family
        "# HELP a A.\n# TYPE a gauge\n# TYPE a gauge\na 1\n",                   // TYPE twice
        "# HELP 1a A.\n# TYPE 1a gauge\n1a 1\n",                                // bad name
    ] {
        assert!(
            std::panic::catch_unwind(|| parse_exposition(bad)).is_err(),
            "accepted: {bad:?}"
        );
    }
}

#[test]
fn check_metrics_are_valid_exposition_with_every_server() {
    let a = serve(honest(0.5));
    let b = serve(honest(0.5));
    let liar = serve(Claim {
        stratum: 1,
        ..honest(-200.0)
    });
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let names: Vec<String> = [
        a.port,
        b.port,
        liar.port,
        silent.local_addr().unwrap().port(),
    ]
    .iter()
    .map(|p| format!("127.0.0.1:{p}"))
    .collect();
    let mut cmd = cargo_bin_cmd!("clockcheck");
    for n in &names {
        cmd.args(["-H", n]);
    }
    let out = cmd
        .args(["-t", "1", "--format", "prometheus"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    let samples = parse_exposition(&text);
    let value = |metric: &str, server: Option<&str>| {
        samples
            .iter()
            .find(|(n, l, _)| {
                n == metric && server.is_none_or(|s| l.iter().any(|(k, v)| k == "server" && v == s))
            })
            .map(|s| s.2)
    };
    assert_eq!(value("clockcheck_status", None), Some(0.0));
    assert_eq!(value("clockcheck_servers_usable", None), Some(3.0));
    assert_eq!(value("clockcheck_servers_agreeing", None), Some(2.0));
    assert_eq!(
        value("clockcheck_server_selected", Some(&names[0])),
        Some(1.0)
    );
    assert_eq!(
        value("clockcheck_server_selected", Some(&names[2])),
        Some(0.0)
    );
    assert_eq!(
        value("clockcheck_server_selected", Some(&names[3])),
        Some(0.0)
    );
    let liar_offset = value("clockcheck_server_offset_seconds", Some(&names[2])).unwrap();
    assert!((liar_offset + 200.0).abs() < 0.01, "{text}");
}

#[test]
fn watch_metrics_are_valid_exposition() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("watch.prom");
    let text = run_writing_metrics_to(
        cargo_bin_cmd!("clockcheck").args([
            "watch",
            "--interval",
            "100ms",
            "--duration",
            "300ms",
            "--format",
            "prometheus",
        ]),
        &file,
    );
    let samples = parse_exposition(&text);
    let names: HashSet<&str> = samples.iter().map(|s| s.0.as_str()).collect();
    for name in [
        "clockcheck_watch_status",
        "clockcheck_watch_jumps",
        "clockcheck_watch_largest_jump_seconds",
        "clockcheck_watch_duration_seconds",
        "clockcheck_watch_last_run_timestamp_seconds",
    ] {
        assert!(names.contains(name), "{name} missing: {text}");
    }
    assert!(
        text.contains("clockcheck_watch_jumps{direction=\"backward\"} 0\n"),
        "{text}"
    );
    assert!(
        !text.contains("CLOCK "),
        "no Nagios line in the metrics: {text}"
    );
    // Without --duration there is no end to write metrics at.
    let out = cargo_bin_cmd!("clockcheck")
        .args(["watch", "--format", "prometheus"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
}
