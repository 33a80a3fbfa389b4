//! One finding, and which findings are shown.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::registry::{RuleCode, find};
use crate::conventions::Severity;

/// One finding: `path:line:col: severity: message [CODE]`.  The file is the
/// path as shown to the user (for a tree, with its root).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic<C> {
    pub file: PathBuf,
    pub line: usize,
    pub column: usize,
    pub code: C,
    /// The rule's severity (kept here so a reader need not look it up).
    pub severity: Severity,
    /// The service the finding is about, where the tool has services.
    pub service: Option<String>,
    pub message: String,
}

impl<C: RuleCode> Diagnostic<C> {
    /// A finding with its rule's severity.
    pub fn new(
        file: impl Into<PathBuf>,
        line: usize,
        column: usize,
        code: C,
        message: String,
    ) -> Self {
        Diagnostic {
            file: file.into(),
            line,
            column,
            code,
            severity: code.severity(),
            service: None,
            message,
        }
    }

    pub fn with_service(mut self, service: Option<&str>) -> Self {
        self.service = service.map(String::from);
        self
    }
}

/// The codes each file silences with its own comment, by the file as shown.
pub type Suppressions<C> = BTreeMap<PathBuf, BTreeSet<C>>;

/// The codes of a suppression comment: `comment` is the text after `#`,
/// which must read `TOOL: ignore CODE[,CODE...]` (spaces allowed after
/// the colon).  Codes may be written as names; unknown words are dropped
/// (no finding carries them).  `None` when the comment is not one.
pub fn suppressed_codes<C: RuleCode>(comment: &str, tool: &str) -> Option<Vec<C>> {
    let rest = comment.trim_start().strip_prefix(tool)?.strip_prefix(':')?;
    let rest = rest.trim_start().strip_prefix("ignore")?;
    Some(
        rest.split([',', ' ', '\t', '\r'])
            .filter(|word| !word.is_empty())
            .filter_map(find)
            .collect(),
    )
}

/// Which findings are shown: a severity floor, `--select`, `--ignore` and
/// the files' suppression comments.
#[derive(Clone, Debug)]
pub struct Filter<C> {
    floor: Severity,
    select: Vec<C>,
    ignore: Vec<C>,
}

impl<C: RuleCode> Filter<C> {
    /// From the command line's lists; an unknown code is an error, named
    /// with `noun` ("rule", "check") as each tool has always said it.
    pub fn new(floor: Severity, select: &[String], ignore: &[String], noun: &str) -> Result<Self> {
        let codes = |list: &[String]| -> Result<Vec<C>> {
            list.iter()
                .map(|c| c.trim())
                .filter(|c| !c.is_empty())
                .map(|c| {
                    find(c).with_context(|| format!("unknown {noun} code `{c}` (see --list-rules)"))
                })
                .collect()
        };
        Ok(Filter {
            floor,
            select: codes(select)?,
            ignore: codes(ignore)?,
        })
    }

    pub fn shows(&self, d: &Diagnostic<C>, suppressed: &Suppressions<C>) -> bool {
        d.severity >= self.floor
            && (self.select.is_empty() || self.select.contains(&d.code))
            && !self.ignore.contains(&d.code)
            && !suppressed
                .get(Path::new(&d.file))
                .is_some_and(|codes| codes.contains(&d.code))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conventions::Severity::*;
    use crate::lint::Rule;

    crate::rule_registry! {
        enum Code {
            T001 => Rule::named("loud", Error, "An error."),
            T002 => Rule::named("quiet", Info, "A note."),
        }
    }

    fn found(code: Code) -> Diagnostic<Code> {
        Diagnostic::new("/etc/x", 1, 1, code, "m".into())
    }

    #[test]
    fn comments_name_codes_or_rules_and_drop_the_unknown() {
        assert_eq!(
            suppressed_codes::<Code>(" tool: ignore T001, quiet NOPE", "tool"),
            Some(vec![Code::T001, Code::T002])
        );
        assert_eq!(
            suppressed_codes::<Code>(" other: ignore T001", "tool"),
            None
        );
        assert_eq!(
            suppressed_codes::<Code>(" tool: ignored", "tool"),
            Some(vec![])
        );
    }

    #[test]
    fn filter_applies_floor_lists_and_comments() {
        let none = Suppressions::new();
        let all = Filter::<Code>::new(Info, &[], &[], "rule").unwrap();
        assert!(all.shows(&found(Code::T002), &none));
        let floor = Filter::<Code>::new(Warning, &[], &[], "rule").unwrap();
        assert!(!floor.shows(&found(Code::T002), &none));
        let select = Filter::<Code>::new(Info, &["quiet".into()], &[], "rule").unwrap();
        assert!(!select.shows(&found(Code::T001), &none));
        let ignore = Filter::<Code>::new(Info, &[], &["t001".into()], "rule").unwrap();
        assert!(!ignore.shows(&found(Code::T001), &none));
        let mut comments = Suppressions::new();
        comments.insert("/etc/x".into(), [Code::T001].into());
        assert!(!all.shows(&found(Code::T001), &comments));
        let err = Filter::<Code>::new(Info, &["X9".into()], &[], "check").unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown check code `X9` (see --list-rules)"
        );
    }
}
