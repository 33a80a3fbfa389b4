//! What one run of `ntpconf-edit` does, validated: the library's whole
//! input besides the files.  The binary's `cli.rs` builds it from the flags
//! (`Cli::into_settings`); the library never sees clap.  Each command is
//! one [`Action`] carrying only what it reads; `set` and `unset` arguments
//! are checked against ntpd's tinker grammar here, before any file is read.

use std::ffi::OsString;
use std::path::PathBuf;

use anyhow::{Result, bail};

use crate::check;
use crate::conventions::{Format, LintFormat};
use crate::tinker::{self, Dialect, NOT_TINKER, is_keyword, is_number};
use mailhost_common::lint;

/// A whole run.
#[derive(Clone, Debug)]
pub struct Settings {
    /// `--root`: every path is looked up under it.
    pub root: PathBuf,
    /// `--dialect`; None detects it from the tree.
    pub dialect: Option<Dialect>,
    pub action: Action,
}

/// The one thing a run does.
#[derive(Clone, Debug)]
pub enum Action {
    /// `--list-rules`.
    ListRules,
    /// `--explain CODE`.
    Explain(check::Code),
    /// A command that reads the tree.
    Command(Command),
}

/// The commands, each with only what it reads.
#[derive(Clone, Debug)]
pub enum Command {
    /// `show [FILE]`.  SARIF is refused when there is a setting to print
    /// (as it always was: a file without settings prints nothing, exit 0).
    Show {
        file: Option<OsString>,
        format: LintFormat,
    },
    /// `keeper`: text (also for `--format sarif`, as always) or JSON.
    Keeper(Format),
    /// `check [FILE]`.
    Check(CheckRun),
    /// `set`, `unset`, or flags alone with `--preset`.
    Edit(EditRun),
}

/// `check`: its file, `--offset`, `--select`/`--ignore`, `--format`.
#[derive(Clone, Debug)]
pub struct CheckRun {
    pub file: Option<OsString>,
    /// Seconds, 0 to [`crate::MAX_OFFSET_SECONDS`].
    pub offset: f64,
    pub filter: lint::Filter<check::Code>,
    pub format: LintFormat,
}

/// `set` or `unset`, and what becomes of the result.
#[derive(Clone, Debug)]
pub struct EditRun {
    pub file: Option<OsString>,
    pub change: Change,
    pub output: EditOutput,
    /// `--check`: exit 1 when a change is needed (or the result is
    /// refused) instead of writing or failing.
    pub check: bool,
}

/// A requested `KEY=VALUE`.
pub type Assignment = (String, String);

/// What an edit asks for.
#[derive(Clone, Debug, PartialEq)]
pub enum Change {
    /// `set` (with the presets first): each key once, the last value given.
    Set(Vec<Assignment>),
    /// `unset`: the keys to remove.
    Unset(Vec<String>),
}

/// Where the edited file goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EditOutput {
    /// The result on standard output, like sed.
    Stdout,
    /// `-i`: the file replaced atomically, with `--backup`'s suffix a copy.
    InPlace { backup: Option<String> },
    /// `--diff` (over -i and --check): a unified diff, nothing written.
    Diff,
    /// `--check` alone: nothing printed, nothing written.
    Nothing,
}

impl EditOutput {
    /// From `-i`, `--backup`, `--diff`, `--check` as given for `file`, with
    /// the usage errors ntpconf-edit has always given.
    pub fn from_flags(
        file: Option<&OsString>,
        in_place: bool,
        backup: Option<String>,
        diff: bool,
        check: bool,
    ) -> Result<EditOutput> {
        if in_place && file.is_some_and(|f| f == "-") {
            bail!("-i cannot edit standard input");
        }
        if backup.is_some() && !in_place {
            bail!("--backup goes with -i");
        }
        Ok(if diff {
            EditOutput::Diff
        } else if check {
            EditOutput::Nothing
        } else if in_place {
            EditOutput::InPlace { backup }
        } else {
            EditOutput::Stdout
        })
    }
}

/// Checks a key the way ntpd's grammar does, with advice for the usual slips.
fn validate_key(key: &str) -> Result<()> {
    if NOT_TINKER.contains(&key) {
        bail!("`{key}` is not a tinker keyword in current ntpd (ntpd would drop the whole line)");
    }
    if !is_keyword(key.as_bytes()) {
        let lower = key.to_ascii_lowercase();
        if is_keyword(lower.as_bytes()) {
            bail!("tinker keywords are lower case: use `{lower}`, not `{key}`");
        }
        let known: Vec<&str> = tinker::KEYWORDS
            .iter()
            .map(|(k, _)| *k)
            .filter(|k| *k != "tick")
            .collect();
        bail!(
            "unknown tinker keyword `{key}` (known: {})",
            known.join(", ")
        );
    }
    Ok(())
}

/// `set`'s arguments after the presets' assignments: `KEY=VALUE` pairs,
/// then optionally the file.
pub fn parse_set_args(
    presets: &[(&str, &str)],
    args: &[OsString],
) -> Result<(Change, Option<OsString>)> {
    let mut assignments: Vec<Assignment> = presets
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let mut file = None;
    for (index, arg) in args.iter().enumerate() {
        let text = arg.to_string_lossy();
        match text.split_once('=') {
            Some((key, value)) => {
                validate_key(key)?;
                if !is_number(value.as_bytes()) {
                    bail!(
                        "`{value}` is not a value ntpd accepts for {key} (a decimal number such as 0, 0.5, -12.5)"
                    );
                }
                assignments.retain(|(k, _)| k != key);
                assignments.push((key.to_string(), value.to_string()));
            }
            None if index == args.len() - 1 => file = Some(arg.clone()),
            None => bail!("`{text}` is not KEY=VALUE (only the last argument may be the file)"),
        }
    }
    if assignments.is_empty() {
        bail!("nothing to set: give KEY=VALUE pairs or --preset");
    }
    Ok((Change::Set(assignments), file))
}

/// `unset`'s arguments: keys, then optionally the file (a last argument
/// that is no keyword).
pub fn parse_unset_args(args: &[OsString]) -> Result<(Change, Option<OsString>)> {
    let mut keys = Vec::new();
    let mut file = None;
    for (index, arg) in args.iter().enumerate() {
        let text = arg.to_string_lossy();
        let last = index == args.len() - 1;
        if last && index > 0 && !is_keyword(text.as_bytes()) && !NOT_TINKER.contains(&text.as_ref())
        {
            file = Some(arg.clone());
        } else {
            validate_key(&text)?;
            keys.push(text.into_owned());
        }
    }
    Ok((Change::Unset(keys), file))
}

/// `check --offset`, refused beyond 100 years.
pub fn check_offset(offset: f64) -> Result<f64> {
    if !(0.0..=crate::MAX_OFFSET_SECONDS).contains(&offset) {
        bail!(
            "--offset takes a number of seconds, 0 to {} (100 years)",
            crate::MAX_OFFSET_SECONDS
        );
    }
    Ok(offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(args: &[&str]) -> Vec<OsString> {
        args.iter().map(OsString::from).collect()
    }

    #[test]
    fn set_takes_presets_first_and_the_last_value_of_a_key() {
        let (change, file) =
            parse_set_args(&[("step", "0")], &os(&["panic=0", "step=1", "ntp.conf"])).unwrap();
        let expected = [("panic", "0"), ("step", "1")].map(|(k, v)| (k.into(), v.into()));
        assert_eq!(change, Change::Set(expected.to_vec()));
        assert_eq!(file, Some(OsString::from("ntp.conf")));
        let err = parse_set_args(&[], &[]).unwrap_err().to_string();
        assert_eq!(err, "nothing to set: give KEY=VALUE pairs or --preset");
        let err = parse_set_args(&[], &os(&["Panic=0"]))
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "tinker keywords are lower case: use `panic`, not `Panic`"
        );
    }

    #[test]
    fn unset_takes_a_last_non_keyword_as_the_file() {
        let (change, file) = parse_unset_args(&os(&["step", "panic", "-"])).unwrap();
        assert_eq!(change, Change::Unset(vec!["step".into(), "panic".into()]));
        assert_eq!(file, Some(OsString::from("-")));
        assert!(parse_unset_args(&os(&["ntp.conf"])).is_err());
    }

    #[test]
    fn diff_wins_over_check_and_check_over_in_place() {
        let out = |i, diff, check| EditOutput::from_flags(None, i, None, diff, check).unwrap();
        assert_eq!(out(true, true, true), EditOutput::Diff);
        assert_eq!(out(true, false, true), EditOutput::Nothing);
        assert_eq!(
            out(true, false, false),
            EditOutput::InPlace { backup: None }
        );
        assert_eq!(out(false, false, false), EditOutput::Stdout);
        let stdin = OsString::from("-");
        let err = EditOutput::from_flags(Some(&stdin), true, None, false, false).unwrap_err();
        assert_eq!(err.to_string(), "-i cannot edit standard input");
        let err = EditOutput::from_flags(None, false, Some(".bak".into()), false, false);
        assert_eq!(err.unwrap_err().to_string(), "--backup goes with -i");
    }

    #[test]
    fn offset_is_at_most_a_hundred_years() {
        assert_eq!(check_offset(40.0).unwrap(), 40.0);
        assert!(check_offset(-1.0).is_err());
        assert!(check_offset(f64::NAN).is_err());
        assert!(check_offset(crate::MAX_OFFSET_SECONDS * 2.0).is_err());
    }
}
