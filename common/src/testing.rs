//! Telling that a test skipped, where `make test` shows it.
//!
//! A test whose real program (xinetd, chronyd, ntpd, a compressor) is missing
//! skips on a developer's machine and fails in CI. Cargo's harness hides what
//! a passing test printed, so a skip is also appended, one line, to the file
//! named by `MAILHOST_TEST_SKIPS` (`make test` sets it to
//! `target/test-skips.log` and prints that file at the end).

use std::io::Write;
use std::path::Path;

/// The environment variable naming the skip log.
pub const SKIP_LOG_VAR: &str = "MAILHOST_TEST_SKIPS";

/// A test that cannot run here: with `CI` set it fails (CI must run every
/// test), otherwise it is reported as [`skipped`] and the caller returns.
pub fn skip(what: &str, why: &str) {
    assert!(std::env::var_os("CI").is_none(), "{what}: {why}");
    skipped(what, why);
}

/// Reports that `what` skipped because of `why`: on standard error and in
/// the skip log. [`skip`] is the usual way in: it fails under CI first.
pub fn skipped(what: &str, why: &str) {
    eprintln!("\n*** SKIPPED {what}: {why} ***\n");
    if let Some(log) = std::env::var_os(SKIP_LOG_VAR) {
        append_skip(Path::new(&log), what, why);
    }
}

/// Makes a FIFO at `path` (mode 0600), as an attacker plants one where a
/// file is expected; panics if it cannot.
pub fn make_fifo(path: &Path) {
    rustix::fs::mknodat(
        rustix::fs::CWD,
        path,
        rustix::fs::FileType::Fifo,
        rustix::fs::Mode::from_raw_mode(0o600),
        0,
    )
    .unwrap_or_else(|e| panic!("mkfifo {}: {e}", path.display()));
}

fn append_skip(log: &Path, what: &str, why: &str) {
    // One write of one line in append mode: tests running in parallel
    // cannot interleave their lines.
    let line = format!("SKIPPED {what}: {why}\n");
    if let Ok(mut file) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
    {
        let _ = file.write_all(line.as_bytes());
    }
}

/// A temporary directory holding `files` (`relative/path`, text), parent
/// directories made: a host tree as a test needs it.
pub fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temporary directory");
    for (path, text) in files {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().expect("a relative path")).expect("its directory");
        std::fs::write(path, text).expect("the file");
    }
    dir
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_skip_is_appended_as_one_line() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("skips.log");
        append_skip(&log, "first test", "a program is missing");
        append_skip(&log, "second test", "another one");
        let text = std::fs::read_to_string(&log).unwrap();
        assert_eq!(
            text,
            "SKIPPED first test: a program is missing\nSKIPPED second test: another one\n"
        );
    }
}

/// The kernel as the oracle for the `--root` resolver's portable walk
/// ([`crate::root::walk`]), for its property test (root.rs) and its fuzz
/// target (fuzz/fuzz_targets/root_resolver.rs): the same tree, the same
/// query, the same file or the same error.
#[cfg(any(target_os = "linux", target_os = "android"))]
pub mod versus_openat2 {
    use std::collections::HashSet;
    use std::os::fd::{BorrowedFd, OwnedFd};
    use std::os::unix::fs::MetadataExt;
    use std::path::Path;

    use rustix::fs::{Mode, OFlags, ResolveFlags};

    /// Every (device, inode) in the tree at `dir`, links not followed.
    pub fn inodes(dir: &Path) -> HashSet<(u64, u64)> {
        let mut out = HashSet::new();
        add_inodes(dir, &mut out);
        out
    }

    fn add_inodes(dir: &Path, out: &mut HashSet<(u64, u64)>) {
        let meta = std::fs::symlink_metadata(dir).unwrap();
        out.insert((meta.dev(), meta.ino()));
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            if meta.is_dir() {
                add_inodes(&path, out);
            } else {
                out.insert((meta.dev(), meta.ino()));
            }
        }
    }

    /// The kernel's answer: `openat2(RESOLVE_IN_ROOT)`.  With `..` in a
    /// path it says EAGAIN whenever anything on the machine was renamed
    /// meanwhile (the global rename seqlock), so it is asked again, as
    /// `Root` does.
    pub fn kernel_open(
        top: BorrowedFd<'_>,
        relative: &str,
        flags: OFlags,
    ) -> rustix::io::Result<OwnedFd> {
        let mut tries = 0;
        loop {
            tries += 1;
            match rustix::fs::openat2(
                top,
                relative,
                flags,
                Mode::empty(),
                ResolveFlags::IN_ROOT | ResolveFlags::NO_MAGICLINKS,
            ) {
                Err(rustix::io::Errno::AGAIN) if tries < 1000 => {}
                other => return other,
            }
        }
    }

    /// What an open gave, to compare: the file's (device, inode), or the
    /// error number (-1 for an error that has none).
    pub fn answer(fd: std::io::Result<OwnedFd>) -> Result<(u64, u64), i32> {
        match fd {
            Ok(fd) => {
                let st = rustix::fs::fstat(&fd).unwrap();
                #[allow(clippy::unnecessary_cast)] // Not u64 on every target.
                Ok((st.st_dev as u64, st.st_ino as u64))
            }
            Err(e) => Err(e.raw_os_error().unwrap_or(-1)),
        }
    }
}
