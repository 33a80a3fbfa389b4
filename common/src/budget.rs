//! One memory budget per run, which every reader of a `--root` tree draws
//! from: files opened, bytes read, bytes held (values built from the input,
//! such as rc.conf expansions), directory entries listed, and how deep and
//! how large an expansion may grow.
//!
//! A size limit per file is not a memory bound: a 429-byte rc.conf of
//! `a="$a$a"` lines asks for 64 TiB, twenty links to one large file are
//! twenty reads, and an include that names itself is read again and again.
//! So the limits here count across every reader of the run, and a reader
//! that would go over gets an error it cannot mistake for a missing file.
//! Once over, the budget stays over ([`Budget::exhausted`]), so a tool that
//! swallowed the error in some corner still ends with a clear message and
//! exit 2 (clockcheck: UNKNOWN) instead of an answer built on half a tree.
//!
//! Every [`Root`](crate::root::Root) draws from the run's budget
//! ([`Budget::run`]) unless given another one (tests do, to stay apart).

use std::collections::HashSet;
use std::io;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

/// The limits of one run.  Generous for any real host, small enough that a
/// run stays far below 512 MiB of address space.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Files read whole (configuration files, /proc and /sys entries).
    pub files: u64,
    /// Bytes read from those files, all together.
    pub bytes_read: u64,
    /// Bytes of values built from the input and kept (expansions).
    pub bytes_held: u64,
    /// Directory entries listed, all directories together.
    pub entries: u64,
    /// Nesting of includes (a file including a file ...).
    pub depth: usize,
    /// The largest single expanded value (one rc.conf variable).
    pub expansion: usize,
}

impl Limits {
    pub const DEFAULT: Limits = Limits {
        files: 200_000,
        bytes_read: 256 * 1024 * 1024,
        bytes_held: 64 * 1024 * 1024,
        entries: 1_000_000,
        depth: 16,
        expansion: 1024 * 1024,
    };
}

impl Default for Limits {
    fn default() -> Limits {
        Limits::DEFAULT
    }
}

/// What a run has drawn, and the first limit it went over.
#[derive(Debug)]
pub struct Budget {
    limits: Limits,
    files: AtomicU64,
    bytes_read: AtomicU64,
    bytes_held: AtomicU64,
    entries: AtomicU64,
    over: AtomicBool,
    /// The first overrun's message, for the tool's final error.
    first_overrun: Mutex<Option<String>>,
}

/// The error a reader gets when the budget is spent.  Its kind is
/// `OutOfMemory`, never `NotFound`, so no caller takes it for a missing file.
pub fn is_over_budget(err: &io::Error) -> bool {
    err.kind() == io::ErrorKind::OutOfMemory
}

impl Budget {
    pub fn new(limits: Limits) -> Arc<Budget> {
        Arc::new(Budget {
            limits,
            files: AtomicU64::new(0),
            bytes_read: AtomicU64::new(0),
            bytes_held: AtomicU64::new(0),
            entries: AtomicU64::new(0),
            over: AtomicBool::new(false),
            first_overrun: Mutex::new(None),
        })
    }

    /// The budget of this run (process): the one every `Root` draws from.
    pub fn run() -> Arc<Budget> {
        static RUN: OnceLock<Arc<Budget>> = OnceLock::new();
        RUN.get_or_init(|| Budget::new(Limits::DEFAULT)).clone()
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// One more file to read.
    pub fn open_file(&self) -> io::Result<()> {
        self.draw(&self.files, 1, self.limits.files, "files read")
    }

    /// `bytes` more read from a file.
    pub fn read_bytes(&self, bytes: u64) -> io::Result<()> {
        self.draw(
            &self.bytes_read,
            bytes,
            self.limits.bytes_read,
            "bytes read",
        )
    }

    /// How many bytes a reader may still read (the cap for its next file).
    pub fn bytes_left(&self) -> u64 {
        self.limits
            .bytes_read
            .saturating_sub(self.bytes_read.load(Ordering::Relaxed))
    }

    /// `bytes` more kept in memory, built from the input.
    pub fn hold(&self, bytes: u64) -> io::Result<()> {
        self.draw(
            &self.bytes_held,
            bytes,
            self.limits.bytes_held,
            "bytes held",
        )
    }

    /// `count` more directory entries listed.
    pub fn list_entries(&self, count: u64) -> io::Result<()> {
        self.draw(
            &self.entries,
            count,
            self.limits.entries,
            "directory entries",
        )
    }

    /// An include nested `depth` deep.
    pub fn nest(&self, depth: usize) -> io::Result<()> {
        if depth > self.limits.depth {
            return Err(self.overrun(format!(
                "includes nested more than {} deep",
                self.limits.depth
            )));
        }
        Ok(())
    }

    /// One value grown to `size` bytes by expansion.
    pub fn expand(&self, size: usize) -> io::Result<()> {
        if size > self.limits.expansion {
            return Err(self.overrun(format!(
                "an expansion grows beyond {} bytes",
                self.limits.expansion
            )));
        }
        Ok(())
    }

    /// True once any limit was exceeded in this run.
    pub fn exhausted(&self) -> bool {
        self.over.load(Ordering::Relaxed)
    }

    /// The first overrun's message (`None` while within the budget).
    pub fn overrun_message(&self) -> Option<String> {
        self.first_overrun
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// The error a tool ends with when the budget was exceeded.
    pub fn check(&self) -> io::Result<()> {
        match self.overrun_message() {
            Some(message) => Err(io::Error::new(io::ErrorKind::OutOfMemory, message)),
            None => Ok(()),
        }
    }

    fn draw(&self, counter: &AtomicU64, amount: u64, limit: u64, what: &str) -> io::Result<()> {
        let total = counter
            .fetch_add(amount, Ordering::Relaxed)
            .saturating_add(amount);
        if total > limit || self.exhausted() {
            return Err(self.overrun(format!("more than {limit} {what}")));
        }
        Ok(())
    }

    fn overrun(&self, what: String) -> io::Error {
        let message =
            format!("input exceeds this run's memory budget ({what}); refusing to read on");
        self.over.store(true, Ordering::Relaxed);
        let mut first = self
            .first_overrun
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let message = first.get_or_insert(message).clone();
        io::Error::new(io::ErrorKind::OutOfMemory, message)
    }
}

pub use crate::files::FileId;

/// The files a reader has already read.
#[derive(Debug, Default)]
pub struct SeenFiles(HashSet<FileId>);

impl SeenFiles {
    /// True the first time `id` is seen.
    pub fn first_time(&mut self, id: FileId) -> bool {
        self.0.insert(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> Arc<Budget> {
        Budget::new(Limits {
            files: 2,
            bytes_read: 100,
            bytes_held: 50,
            entries: 3,
            depth: 2,
            expansion: 10,
        })
    }

    #[test]
    fn each_limit_is_an_error_and_the_budget_stays_spent() {
        let budget = small();
        budget.open_file().unwrap();
        budget.open_file().unwrap();
        let err = budget.open_file().unwrap_err();
        assert!(is_over_budget(&err), "{err}");
        assert!(err.to_string().contains("more than 2 files read"), "{err}");
        assert!(budget.exhausted());
        // Once over, every draw fails, and the first reason is kept.
        let later = budget.read_bytes(1).unwrap_err();
        assert!(later.to_string().contains("files read"), "{later}");
        assert!(budget.check().is_err());
    }

    #[test]
    fn bytes_entries_depth_and_expansion_are_counted_across_calls() {
        for (name, spend) in [
            (
                "bytes read",
                (|b: &Budget| b.read_bytes(60)) as fn(&Budget) -> io::Result<()>,
            ),
            ("bytes held", |b: &Budget| b.hold(30)),
            ("directory entries", |b: &Budget| b.list_entries(2)),
        ] {
            let budget = small();
            spend(&budget).unwrap();
            let err = spend(&budget).unwrap_err();
            assert!(err.to_string().contains(name), "{name}: {err}");
        }
        let budget = small();
        budget.nest(2).unwrap();
        assert!(budget.nest(3).is_err());
        let budget = small();
        budget.expand(10).unwrap();
        assert!(budget.expand(11).is_err());
        assert!(budget.check().is_err());
    }

    #[test]
    fn within_the_budget_nothing_is_reported() {
        let budget = small();
        budget.read_bytes(100).unwrap();
        assert_eq!(budget.bytes_left(), 0);
        assert!(!budget.exhausted());
        assert!(budget.check().is_ok());
    }
}
