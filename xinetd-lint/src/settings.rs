//! What one run of `xinetd-lint` does, validated: the library's whole
//! input besides the files.  The binary's `cli.rs` builds it from the flags
//! (`Cli::into_settings`); the library never sees clap.  Flags that exclude
//! each other are one [`Mode`], so a run cannot ask for two of them and no
//! output needs a "cannot happen" arm.

use std::path::PathBuf;

use mailhost_common::conventions::{Format, LintFormat};
use mailhost_common::lint;

use crate::rules::Code;

/// A whole run.
#[derive(Clone, Debug)]
pub struct Settings {
    /// `--root`: every absolute path is looked up under it.
    pub root: PathBuf,
    /// `--resolve`: resolve host names in a tree other than `/` too.
    pub resolve: bool,
    pub mode: Mode,
}

/// What the run prints.
#[derive(Clone, Debug)]
pub enum Mode {
    /// `--list-rules`.
    ListRules,
    /// `--explain CODE`.
    Explain(Code),
    /// `--host-facts`: text (also for `--format sarif`, as always) or JSON.
    HostFacts(Format),
    /// Read the configuration and report on it.
    Lint(LintRun),
}

/// A run that reads xinetd's configuration.
#[derive(Clone, Debug)]
pub struct LintRun {
    /// The paths given (empty: xinetd's default configuration).
    pub paths: Vec<PathBuf>,
    /// `--severity`, `--select`, `--ignore`.
    pub filter: lint::Filter<Code>,
    pub output: Output,
}

/// What a [`LintRun`] prints.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Output {
    /// The findings, in any format (the default).
    Findings(LintFormat),
    /// `--services`: one row per service (SARIF has no place for them).
    Services(Format),
    /// `--log-files`: the files dovecot's services log to.
    LogFiles,
    /// `--fix`: one line per fix, then the findings that remain.
    Fix(Format),
    /// `--diff`: what `--fix` would change.
    Diff,
}

/// The findings format of a text or JSON output.
pub fn findings_format(format: Format) -> LintFormat {
    match format {
        Format::Text => LintFormat::Text,
        Format::Json => LintFormat::Json,
    }
}
