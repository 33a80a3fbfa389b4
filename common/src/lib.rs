//! `mailhost-common`: the conventions every tool of the mailhost toolkit
//! follows, written once so the four tools cannot drift apart (as ripgrep's
//! `grep-cli` and uutils' `uucore` serve their tools).
//!
//! - [`conventions`]: `--format`, `--color`, `--generate`, diagnostics in the
//!   `path:line:col: severity: message [CODE]` form, bounded reads, exit handling.
//! - [`atomic_write`]: replacing a file so that it is never lost (and
//!   `xattrs`, what it keeps of the file besides bytes and mode; and
//!   `temp_cleanup`, its named temporary file removed on SIGTERM).
//! - [`root`]: `--root DIR`, a tree no path can leave.
//! - [`files`]: the one file-access trait readers go through (`Root`'s,
//!   or a map in memory for tests), and the one file identity.
//! - [`budget`]: the one memory budget every reader of a run draws from.
//! - [`rcconf`]: FreeBSD's rc.conf chain, as sh reads it.
//! - [`chrony`]: chrony.conf, as chronyd reads it (makestep, maxslewrate, sources).
//! - [`timesyncd`]: systemd-timesyncd's servers, as it reads timesyncd.conf.
//! - [`exit`]: a tool's exit statuses as one type, and its man page's table.
//! - [`lint`]: the linters' shared framework: typed rule codes, one
//!   diagnostic, filters, suppressions, `--explain`/`--list-rules`, writers, exit rule.
//! - [`sarif`]: `--format sarif`, a linter's findings as a SARIF 2.1.0 log.
//! - [`testing`]: a test's skip, reported where `make test` shows it.
//!
//! The README's "Conventions" section is the user-facing description of the
//! same rules; each tool's CLI tests check its binary against it.

pub mod atomic_write;
pub mod budget;
pub mod chrony;
#[cfg(feature = "cli")]
pub mod cli;
pub mod conventions;
pub mod exit;
pub mod files;
pub mod lint;
pub mod rcconf;
pub mod root;
pub mod sarif;
mod temp_cleanup;
pub mod testing;
pub mod timesyncd;
mod xattrs;

/// For [`rule_registry!`]'s `Serialize` impl, so a tool needs no path to serde of its own.
pub use serde;
