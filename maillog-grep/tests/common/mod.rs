//! Helpers shared by the maillog-grep integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

pub fn cmd() -> assert_cmd::Command {
    let mut c = assert_cmd::cargo::cargo_bin_cmd!("maillog-grep");
    c.env_remove("NO_COLOR").env("TZ", "UTC");
    c
}

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures")
        .join(name)
}

/// True when `program` is installed.  Missing on a developer's laptop: a
/// loud skip.  Missing in CI: a failure, because CI must run every test.
pub fn have(program: &str) -> bool {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        let msg = format!("{program} is not installed: run scripts/install-test-deps.sh");
        mailhost_common::testing::skip("maillog-grep test", &msg);
    }
    found
}

/// Compresses `path` with the real program (`gzip`, `bzip2`, `xz`, `zstd`),
/// keeping the original; returns the archive's path.
pub fn compress(program: &str, path: &Path) -> PathBuf {
    let suffix = match program {
        "gzip" => "gz",
        "bzip2" => "bz2",
        "xz" => "xz",
        "zstd" => "zst",
        other => panic!("unknown compressor {other}"),
    };
    let status = Command::new(program)
        .args(["-k", "-f", "-q"])
        .arg(path)
        .status()
        .unwrap();
    assert!(status.success(), "{program} failed");
    PathBuf::from(format!("{}.{suffix}", path.display()))
}

/// Parses JSON Lines output.
pub fn json_lines(stdout: &[u8]) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}
