//! What the binary's tests share.
#![allow(dead_code)] // Each test file uses a part.

use std::path::Path;

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
