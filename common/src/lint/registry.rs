//! The rule registry: what each code checks, why, and how to fix it.

use std::fmt::Debug;
use std::hash::Hash;
use std::io::{self, Write};

use crate::conventions::Severity;

/// One rule.  `code` is filled in by [`rule_registry!`](crate::rule_registry)
/// from the variant's name, so it cannot disagree with the enum.
#[derive(Clone, Copy, Debug)]
pub struct Rule {
    /// The stable code: `XL016`, `NE001`.
    pub code: &'static str,
    /// A short name in words (`trailing-comment`), accepted wherever a code
    /// is; `None` where a registry has only codes.
    pub name: Option<&'static str>,
    pub severity: Severity,
    /// One line; `None` where the first sentence of `explain` serves.
    pub summary: Option<&'static str>,
    /// What it checks, why it matters, how to fix it (`--explain`).
    pub explain: &'static str,
}

impl Rule {
    /// A rule known by a code and a name (xinetd-lint's form).
    pub const fn named(name: &'static str, severity: Severity, explain: &'static str) -> Rule {
        Rule {
            code: "",
            name: Some(name),
            severity,
            summary: None,
            explain,
        }
    }

    /// A rule known by its code, with a one-line summary (ntpconf-edit's form).
    pub const fn summarised(
        severity: Severity,
        summary: &'static str,
        explain: &'static str,
    ) -> Rule {
        Rule {
            code: "",
            name: None,
            severity,
            summary: Some(summary),
            explain,
        }
    }

    /// The one-line description: the summary, or the explanation's first sentence.
    pub fn short_description(&self) -> &'static str {
        self.summary
            .unwrap_or_else(|| crate::sarif::first_sentence(self.explain))
    }
}

/// A tool's code enum, as [`rule_registry!`](crate::rule_registry) declares it.
pub trait RuleCode: Copy + Eq + Ord + Hash + Debug + Send + Sync + 'static {
    /// Every code, in registry order.
    const ALL: &'static [Self];
    /// Old rule names still accepted (a rename must not break a comment).
    const RENAMED: &'static [(&'static str, Self)];

    fn rule(self) -> &'static Rule;

    fn as_str(self) -> &'static str {
        self.rule().code
    }

    fn severity(self) -> Severity {
        self.rule().severity
    }
}

/// The code a user wrote (`XL016`, `xl016`, `trailing-comment`, or a
/// renamed rule's old name), or `None`: unknown text never becomes a code.
pub fn find<C: RuleCode>(text: &str) -> Option<C> {
    let text = text.trim();
    if let Some((_, code)) = C::RENAMED
        .iter()
        .find(|(old, _)| old.eq_ignore_ascii_case(text))
    {
        return Some(*code);
    }
    C::ALL.iter().copied().find(|code| {
        let rule = code.rule();
        rule.code.eq_ignore_ascii_case(text)
            || rule
                .name
                .is_some_and(|name| name.eq_ignore_ascii_case(text))
    })
}

/// What `--explain CODE` prints: the heading `CODE [name] (severity)`, the
/// summary line where the registry has one, a blank line, the explanation.
pub fn explanation(rule: &Rule) -> String {
    let name = rule.name.map(|n| format!(" {n}")).unwrap_or_default();
    let summary = rule.summary.map(|s| format!("{s}\n")).unwrap_or_default();
    format!(
        "{}{name} ({})\n{summary}\n{}",
        rule.code,
        rule.severity.as_str(),
        rule.explain
    )
}

/// What `--list-rules` prints: one `CODE  severity  name-or-summary` line a rule.
pub fn list_rules<C: RuleCode>(out: &mut dyn Write) -> io::Result<()> {
    for code in C::ALL {
        let rule = code.rule();
        writeln!(
            out,
            "{}  {:<7}  {}",
            rule.code,
            rule.severity.as_str(),
            rule.name.unwrap_or_else(|| rule.short_description())
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conventions::Severity::*;

    crate::rule_registry! {
        enum Code {
            T001 => Rule::named("first", Error, "Checks one thing. Because."),
            T002 => Rule::summarised(Info, "second, in a line", "Checks another thing."),
        }
        renamed { "old-first" => T001 }
    }

    #[test]
    fn codes_names_and_old_names_are_found_and_nothing_else() {
        assert_eq!(find::<Code>("t001"), Some(Code::T001));
        assert_eq!(find::<Code>("FIRST"), Some(Code::T001));
        assert_eq!(find::<Code>("old-first"), Some(Code::T001));
        assert_eq!(find::<Code>("T002"), Some(Code::T002));
        assert_eq!(find::<Code>("T003"), None);
        assert_eq!(find::<Code>(""), None);
    }

    #[test]
    fn explanation_has_the_heading_each_registry_form_had() {
        assert_eq!(
            explanation(Code::T001.rule()),
            "T001 first (error)\n\nChecks one thing. Because."
        );
        assert_eq!(
            explanation(Code::T002.rule()),
            "T002 (info)\nsecond, in a line\n\nChecks another thing."
        );
    }

    #[test]
    fn list_rules_names_every_code_in_order() {
        let mut out = Vec::new();
        list_rules::<Code>(&mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "T001  error    first\nT002  info     second, in a line\n"
        );
        assert_eq!(Code::T002.to_string(), "T002");
        assert_eq!(serde_json::to_string(&Code::T001).unwrap(), "\"T001\"");
    }
}
