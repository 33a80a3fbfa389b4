//! Issue 21: SIGTERM during a write left `.NAME.XXXX.tmp` behind for good.
//! The writer is held mid-write (`TOOLKIT_PAUSE_AT`, after the temporary
//! file exists and before its contents are written, then after they are
//! written and before the fsync) and killed there, by SIGTERM and by
//! SIGKILL; afterwards the directory holds the old file and nothing else.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn a_writer_killed_mid_write_leaves_no_temporary_file() {
    let old = "server a\ntinker panic 1\n";
    for pause_at in ["write", "fsync"] {
        for signal in ["-TERM", "-KILL"] {
            let dir = tempfile::tempdir().unwrap();
            std::fs::write(dir.path().join("ntp.conf"), old).unwrap();
            let mut child = Command::new(assert_cmd::cargo::cargo_bin!("ntpconf-edit"))
                .args(["-i", "set", "panic=0"])
                .arg(dir.path().join("ntp.conf"))
                .env("TOOLKIT_PAUSE_AT", pause_at)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            // The edit of a two-line file reaches the pause at once.
            std::thread::sleep(Duration::from_millis(1500));
            assert!(
                child.try_wait().unwrap().is_none(),
                "not held at {pause_at}"
            );
            let killed = Command::new("kill")
                .arg(signal)
                .arg(child.id().to_string())
                .status()
                .unwrap();
            assert!(killed.success());
            let _ = child.wait();
            assert_eq!(
                names(dir.path()),
                ["ntp.conf"],
                "{signal} at {pause_at}: left behind"
            );
            assert_eq!(
                std::fs::read_to_string(dir.path().join("ntp.conf")).unwrap(),
                old
            );
        }
    }
}
