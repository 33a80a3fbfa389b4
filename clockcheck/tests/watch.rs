//! `clockcheck watch` with libfaketime moving the wall clock while the
//! monotonic clock runs on (FAKETIME_DONT_FAKE_MONOTONIC), by rewriting the
//! timestamp file mid-run.  The system clock is never touched.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

mod support;

use support::LIBFAKETIME;

trait WallClockFromFile {
    /// Spawns with stdout piped, under libfaketime reading the wall clock's
    /// offset from `spec` at every call (rewrite it to jump) while the
    /// monotonic clock runs on.
    fn spawn_with_wall_clock_from(&mut self, spec: &Path) -> Child;
}

impl WallClockFromFile for Command {
    fn spawn_with_wall_clock_from(&mut self, spec: &Path) -> Child {
        self.env("LD_PRELOAD", LIBFAKETIME)
            .env("FAKETIME_TIMESTAMP_FILE", spec)
            .env("FAKETIME_NO_CACHE", "1")
            .env("FAKETIME_DONT_FAKE_MONOTONIC", "1")
            .stdout(Stdio::piped())
            .spawn()
            .unwrap()
    }
}

fn watch_with_jump(jump: &str) -> (i32, String) {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("faketime");
    std::fs::write(&spec, "+0\n").unwrap();
    let child = Command::new(assert_cmd::cargo::cargo_bin!("clockcheck"))
        .args([
            "watch",
            "--interval",
            "100ms",
            "--duration",
            "2500ms",
            "--threshold",
            "0.5s",
        ])
        .spawn_with_wall_clock_from(&spec);
    // Jump once the watcher runs (libfaketime mapped, then a few samples),
    // not at a fixed time after spawning: on a loaded machine the start
    // may be late, and a jump before the first sample is never seen.
    let maps = format!("/proc/{}/maps", child.id());
    for _ in 0..500 {
        let loaded = std::fs::read_to_string(&maps).is_ok_and(|m| m.contains("libfaketime"));
        if loaded {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(500));
    std::fs::write(&spec, format!("{jump}\n")).unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// The size in seconds of the first jump line in `direction`, parsed from
/// "... jumped backward by 2.999999 s".  The measured size depends on when
/// the watcher's samples fall, so tests compare it within a tolerance.
fn jump_size(out: &str, direction: &str) -> Option<f64> {
    let marker = format!("jumped {direction} by ");
    let line = out.lines().find(|line| line.contains(&marker))?;
    let (_, size) = line.split_once(&marker)?;
    size.trim_end_matches(" s").parse().ok()
}

fn available() -> bool {
    let found = Path::new(LIBFAKETIME).exists();
    if !found {
        mailhost_common::testing::skip(
            "watch tests",
            "libfaketime is not installed: run scripts/install-test-deps.sh",
        );
    }
    found
}

#[test]
fn a_backward_jump_over_5_s_is_critical() {
    if !available() {
        return;
    }
    let (code, out) = watch_with_jump("-54");
    assert_eq!(code, 2, "{out}");
    let first = out.lines().next().unwrap();
    assert!(first.contains("wall clock jumped backward by "), "{out}");
    let size = jump_size(&out, "backward").expect(&out);
    assert!((size - 54.0).abs() < 0.2, "{out}");
    assert!(
        out.lines()
            .last()
            .unwrap()
            .starts_with("CLOCK CRITICAL: 1 jump(s)"),
        "{out}"
    );
}

#[test]
fn small_backward_and_forward_jumps_warn() {
    if !available() {
        return;
    }
    let (code, out) = watch_with_jump("-3");
    assert_eq!(code, 1, "{out}");
    let size = jump_size(&out, "backward").expect(&out);
    assert!((size - 3.0).abs() < 0.2, "{out}");
    let (code, out) = watch_with_jump("+30");
    assert_eq!(code, 1, "{out}");
    let size = jump_size(&out, "forward").expect(&out);
    assert!((size - 30.0).abs() < 0.2, "{out}");
}

#[test]
fn no_jump_is_ok() {
    let out = Command::new(assert_cmd::cargo::cargo_bin!("clockcheck"))
        .args(["watch", "--interval", "100ms", "--duration", "500ms"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("CLOCK OK: no wall-clock jump"));
}

#[test]
fn a_watch_without_end_keeps_its_metrics_file_up_to_date() {
    if !available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("faketime");
    let metrics = dir.path().join("watch.prom");
    std::fs::write(&spec, "+0\n").unwrap();
    let mut child = Command::new(assert_cmd::cargo::cargo_bin!("clockcheck"))
        .args([
            "watch",
            "--interval",
            "100ms",
            "--format",
            "prometheus",
            "--output",
        ])
        .arg(&metrics)
        .spawn_with_wall_clock_from(&spec);
    let wait_for = |what: &str| -> String {
        for _ in 0..250 {
            if let Ok(text) = std::fs::read_to_string(&metrics)
                && text.contains(what)
            {
                return text;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        String::new()
    };
    // Written at the start: no jump yet.
    let first = wait_for("clockcheck_watch_status 0\n");
    std::thread::sleep(Duration::from_millis(300));
    std::fs::write(&spec, "-54\n").unwrap();
    let after = wait_for("clockcheck_watch_jumps{direction=\"backward\"} 1\n");
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
    assert!(!first.is_empty(), "no metrics file at the start");
    assert!(!after.is_empty(), "the jump never reached the file");
    support::parse_exposition(&first);
    let samples = support::parse_exposition(&after);
    let status = samples
        .iter()
        .find(|s| s.0 == "clockcheck_watch_status")
        .unwrap();
    assert_eq!(status.2, 2.0, "{after}");
    let largest = samples
        .iter()
        .find(|s| s.0 == "clockcheck_watch_largest_jump_seconds" && s.1[0].1 == "backward")
        .unwrap();
    assert!((largest.2 - 54.0).abs() < 0.2, "{after}");
}
