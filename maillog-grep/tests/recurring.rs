//! `--summary` names a regular period in backward jumps that no logged
//! program caused (issue 11): the errata's Hyper-V guest, stepped back
//! about 40 s every 7 days by the host's time sync; a daily one; and
//! irregular jumps, where no period is claimed.  Also Hyper-V's own logged
//! steps (FreeBSD hv_timesync, bootverbose) named as the cause.

mod common;

use chrono::{Duration, NaiveDate, NaiveDateTime};
use common::*;

fn start() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2026, 1, 4)
        .unwrap()
        .and_hms_opt(3, 12, 9)
        .unwrap()
}

/// A mail log with a dovecot death and the master's warning at each
/// `(offset from start in seconds, jump in seconds)`, and mail traffic
/// between them.
fn log(jumps: &[(i64, f64)]) -> String {
    let mut text = String::new();
    for &(at, size) in jumps {
        let t = start() + Duration::seconds(at);
        let stamp = |t: NaiveDateTime| t.format("%Y-%m-%dT%H:%M:%S%.6f+00:00").to_string();
        text.push_str(&format!(
            "{} mx1 postfix/smtpd[811]: connect from unknown[192.0.2.7]\n",
            stamp(t - Duration::seconds(30))
        ));
        text.push_str(&format!(
            "{} mx1 dovecot: imap(4711): Fatal: Time just moved backwards by {size:.6} seconds. This might cause a lot of problems, so I'll just kill myself now. http://wiki2.dovecot.org/TimeMovedBackwards\n",
            stamp(t)
        ));
        text.push_str(&format!(
            "{} mx1 dovecot: master: Warning: Time moved backwards by {size:.6} seconds, waiting for {size:.3} seconds until new services are launched again.\n",
            stamp(t + Duration::seconds(1))
        ));
    }
    text
}

fn summary(text: &str) -> serde_json::Value {
    let out = cmd()
        .args(["--summary", "--format", "json", "-"])
        .write_stdin(text.to_string())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let hosts = json_lines(&out.stdout);
    assert_eq!(hosts.len(), 1, "{hosts:?}");
    hosts[0].clone()
}

fn text_summary(text: &str) -> String {
    let out = cmd()
        .args(["--summary", "-"])
        .write_stdin(text.to_string())
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap()
}

const WEEK: i64 = 604_800;

#[test]
fn weekly_silent_jumps_are_hypervs_default_interval() {
    // Five weekly corrections, a few minutes late or early, 38..42 s each.
    let jumps: Vec<(i64, f64)> = (0..5)
        .map(|i| {
            (
                i * WEEK + [0, 240, -180, 420, 60][i as usize],
                38.0 + i as f64,
            )
        })
        .collect();
    let text = log(&jumps);
    let s = summary(&text);
    let r = &s["recurring"];
    assert_eq!(r["incidents"], 5, "{s}");
    let interval = r["interval_seconds"].as_f64().unwrap();
    assert!((interval - WEEK as f64).abs() < 700.0, "{interval}");
    assert!((r["mean_seconds"].as_f64().unwrap() - 40.0).abs() < 1e-6);
    let per_day = r["drift_seconds_per_day"].as_f64().unwrap();
    assert!((per_day - 40.0 / 7.0).abs() < 0.01, "{per_day}");
    let ppm = r["drift_ppm"].as_f64().unwrap();
    assert!((ppm - 40.0 / WEEK as f64 * 1e6).abs() < 0.1, "{ppm}");
    assert_eq!(r["hyperv_default_interval"], true);
    let advice = r["advice"].as_str().unwrap();
    assert!(
        advice.contains("SpecialPollInterval 604800 = 0x93a80"),
        "{advice}"
    );
    assert!(advice.contains("3600 (0xe10)") && advice.contains("net stop w32time"));
    assert!(advice.contains("clockcheck env"));
    // The fields the summary had stay.
    assert_eq!(s["dovecot_deaths"], 5);
    assert_eq!(s["causes"].as_array().unwrap().len(), 10);
    let shown = text_summary(&text);
    assert!(
        shown.contains("recurring: 5 backward jumps with no step source, every 7.0 days"),
        "{shown}"
    );
    assert!(shown.contains("5.71 s/day (66.1 ppm)"), "{shown}");
    assert!(
        shown.contains("Hyper-V's default host time sync interval"),
        "{shown}"
    );
}

#[test]
fn daily_silent_jumps_are_a_period_but_not_hypervs() {
    let jumps: Vec<(i64, f64)> = (0..6).map(|i| (i * 86_400 + i * 37, 5.0)).collect();
    let s = summary(&log(&jumps));
    let r = &s["recurring"];
    assert_eq!(r["incidents"], 6, "{s}");
    assert!((r["interval_seconds"].as_f64().unwrap() - 86_437.0).abs() < 1.0);
    assert!(
        (r["drift_seconds_per_day"].as_f64().unwrap() - 5.0 * 86_400.0 / 86_437.0).abs() < 1e-3
    );
    assert_eq!(r["hyperv_default_interval"], false);
    assert!(r["advice"].is_null());
    assert!(!text_summary(&log(&jumps)).contains("Hyper-V's default"));
}

#[test]
fn irregular_or_too_few_jumps_claim_no_period() {
    let irregular = [
        (0, 40.0),
        (3 * 86_400, 12.0),
        (4 * 86_400, 30.0),
        (11 * 86_400, 7.0),
        (12 * 86_400 + 5000, 3.0),
    ];
    let s = summary(&log(&irregular));
    assert!(s["recurring"].is_null(), "{s}");
    assert!(!text_summary(&log(&irregular)).contains("recurring:"));
    let two = [(0, 40.0), (WEEK, 40.0)];
    assert!(summary(&log(&two))["recurring"].is_null());
    // Weekly, but each one has ntpd's step right before it: not silent.
    let mut text = String::new();
    for i in 0..4 {
        let t = start() + Duration::seconds(i * WEEK);
        text.push_str(&format!(
            "{} mx1 ntpd[76]: 0.0.0.0 c61c 0c clock_step -40.000000 s\n",
            (t - Duration::seconds(3)).format("%Y-%m-%dT%H:%M:%S+00:00")
        ));
        text.push_str(&log(&[(i * WEEK, 40.0)]));
    }
    assert!(summary(&text)["recurring"].is_null());
}

#[test]
fn hypervs_logged_step_is_named_as_the_cause() {
    let t = start();
    let hv = t - Duration::seconds(2);
    let ns = |t: NaiveDateTime| t.and_utc().timestamp() as i128 * 1_000_000_000;
    let text = format!(
        "{} mx1 kernel: hvtimesync0: apply sync request, hv: {}, vm: {}\n{}",
        hv.format("%Y-%m-%dT%H:%M:%S+00:00"),
        ns(hv),
        ns(hv) + 40_000_000_000,
        log(&[(0, 40.0)])
    );
    let s = summary(&text);
    let step = &s["causes"][0]["step"];
    assert_eq!(step["source"], "hyperv", "{s}");
    assert_eq!(step["kind"], "backward");
    assert!((step["seconds"].as_f64().unwrap() - 40.0).abs() < 1e-6);
    let shown = text_summary(&text);
    assert!(shown.contains("<- hyperv step backward 40 s"), "{shown}");
    assert!(
        shown.contains("the Hyper-V host's time sync set the clock"),
        "{shown}"
    );
    // The default mode leaves the step line to --all (see docs/clock-messages.md).
    let out = cmd().arg("-").write_stdin(text.clone()).output().unwrap();
    assert!(!String::from_utf8_lossy(&out.stdout).contains("hvtimesync0"));
    let out = cmd()
        .args(["--all", "-"])
        .write_stdin(text)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("hvtimesync0"));
}
