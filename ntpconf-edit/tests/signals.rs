//! Issue 21: SIGTERM during a write left `.NAME.XXXX.tmp` behind for good.
//! The writer is held mid-write (`TOOLKIT_PAUSE_AT`, after the temporary
//! file exists and before its contents are written, then after they are
//! written and before the fsync) and killed there, by SIGTERM and by
//! SIGKILL; afterwards the directory holds the old file and nothing else.
//! Both temporary files are played: Linux's unnamed one (`O_TMPFILE`) and
//! the named `.ntp.conf.XXXX.tmp` of FreeBSD and of file systems that refuse
//! `O_TMPFILE` (`TOOLKIT_NAMED_TEMP=1`), which SIGTERM must remove.  SIGTERM
//! still ends the run as SIGTERM does (killed by it, not a plain exit).
//! SIGKILL cannot be caught, so it is played on the unnamed file only.

use std::os::unix::process::ExitStatusExt;
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
    for (pause_at, named) in [
        ("write", "0"),
        ("fsync", "0"),
        ("write", "1"),
        ("fsync", "1"),
    ] {
        for signal in ["-TERM", "-HUP", "-INT", "-KILL"] {
            // SIGKILL cannot be caught: only the unnamed file survives it.
            if named == "1" && signal == "-KILL" {
                continue;
            }
            let dir = tempfile::tempdir().unwrap();
            std::fs::write(dir.path().join("ntp.conf"), old).unwrap();
            // Through `env --default-signal`: a run started with a signal
            // ignored keeps it ignored (nohup's HUP, a background job's INT),
            // and `make test` may itself run as a background job.  The exec
            // keeps the PID that is signalled.
            let mut child = Command::new("env")
                .arg("--default-signal=HUP,INT,TERM")
                .arg(assert_cmd::cargo::cargo_bin!("ntpconf-edit"))
                .args(["-i", "set", "panic=0"])
                .arg(dir.path().join("ntp.conf"))
                .env("TOOLKIT_PAUSE_AT", pause_at)
                .env("TOOLKIT_NAMED_TEMP", named)
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
            let status = child.wait().unwrap();
            let expected = match signal {
                "-TERM" => 15,
                "-HUP" => 1,
                "-INT" => 2,
                _ => 9,
            };
            assert_eq!(
                status.signal(),
                Some(expected),
                "{signal} at {pause_at} (named {named}): {status:?}"
            );
            assert_eq!(
                names(dir.path()),
                ["ntp.conf"],
                "{signal} at {pause_at} (named {named}): left behind"
            );
            assert_eq!(
                std::fs::read_to_string(dir.path().join("ntp.conf")).unwrap(),
                old
            );
        }
    }
}
