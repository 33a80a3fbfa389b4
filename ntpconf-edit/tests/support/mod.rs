//! What the binary's tests share.
#![allow(dead_code)] // Each test file uses a part.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// The two ways the tests hand a configuration to `ntpconf-edit`.
pub trait ConfigFrom {
    /// `ntpconf-edit ARGS --root ROOT`.
    fn on_root(&mut self, args: &[&str], root: &Path) -> &mut Self;
    /// `ntpconf-edit ARGS -`, reading `conf` from stdin.
    fn on_stdin(&mut self, args: &[&str], conf: &str) -> &mut Self;
}

impl ConfigFrom for assert_cmd::Command {
    fn on_root(&mut self, args: &[&str], root: &Path) -> &mut Self {
        self.args(args).arg("--root").arg(root)
    }
    fn on_stdin(&mut self, args: &[&str], conf: &str) -> &mut Self {
        self.args(args).arg("-").write_stdin(conf)
    }
}

/// Runs ntpd as `command` starts it (in its own namespaces, `unshare`, `sh`
/// and `setpriv` exec'd into it, its messages on stdout) and hands each line
/// it prints to `line` until `line` says it has seen enough (false), ntpd
/// says nothing for 10 s, or it ends; then stops ntpd by its own PID.
pub fn watch_ntpd(command: &mut Command, mut line: impl FnMut(&str) -> bool) {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start ntpd");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    // A thread reads, so that a silent ntpd is noticed by the timeout.
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    while let Ok(text) = rx.recv_timeout(Duration::from_secs(10)) {
        if !line(&text) {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
}
