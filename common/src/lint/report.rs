//! The findings written out (text, JSON Lines, SARIF) and the exit rule.
//! What differs between the two linters is data in [`Linter`], not a
//! second copy of the loop.

use std::io::{self, Write};
use std::path::Path;

use serde::Serialize;

use super::diagnostic::Diagnostic;
use super::registry::{RuleCode, explanation};
use crate::conventions::{LintFormat, Severity, finding_line};
use crate::sarif::{self, Finding, RuleInfo};

/// When findings make the exit status 1 (each tool's documented rule).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitRule {
    /// Any finding shown (after the filters, `--severity` included): xinetd-lint.
    AnyShown,
    /// A finding shown at this severity or worse: `ntpconf-edit check`
    /// exits 1 on a warning or an error, 0 on notes alone.
    AtLeast(Severity),
}

/// What a lint run comes to, before each tool maps it to its exit code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Clean,
    Findings,
}

impl ExitRule {
    pub fn outcome<C>(self, shown: &[&Diagnostic<C>]) -> Outcome {
        let counts = |d: &&Diagnostic<C>| match self {
            ExitRule::AnyShown => true,
            ExitRule::AtLeast(floor) => d.severity >= floor,
        };
        if shown.iter().any(counts) {
            Outcome::Findings
        } else {
            Outcome::Clean
        }
    }
}

/// What SARIF's `help` text of a rule is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SarifHelp {
    /// What `--explain` prints (heading included).
    Explanation,
    /// The explanation text alone.
    ExplainText,
}

/// What one linter's output looks like: its name for SARIF, the exit rule,
/// and the two JSON/SARIF details its users already rely on.
#[derive(Clone, Copy, Debug)]
pub struct Linter {
    pub tool: &'static str,
    pub version: &'static str,
    pub exit: ExitRule,
    /// JSON records carry `"service"` (null when none).
    pub json_service: bool,
    pub sarif_help: SarifHelp,
}

/// A JSON record: the field names and order are the JSON output's contract.
#[derive(Serialize)]
struct Record<'a, C> {
    file: &'a Path,
    line: usize,
    column: usize,
    code: C,
    severity: Severity,
    #[serde(skip_serializing_if = "Option::is_none")]
    service: Option<&'a Option<String>>,
    message: &'a str,
}

impl Linter {
    /// Writes the findings shown, in `format`: a line each (text), an
    /// object a line (JSON Lines), or one SARIF log with the registry.
    pub fn write_findings<C: RuleCode + Serialize>(
        &self,
        format: LintFormat,
        shown: &[&Diagnostic<C>],
        color: bool,
        out: &mut dyn Write,
    ) -> anyhow::Result<()> {
        match format {
            LintFormat::Sarif => self.write_sarif(shown, out)?,
            LintFormat::Json => {
                for d in shown {
                    let record = Record {
                        file: &d.file,
                        line: d.line,
                        column: d.column,
                        code: d.code,
                        severity: d.severity,
                        service: self.json_service.then_some(&d.service),
                        message: &d.message,
                    };
                    serde_json::to_writer(&mut *out, &record)?;
                    writeln!(out)?;
                }
            }
            LintFormat::Text => {
                for d in shown {
                    let line = finding_line(
                        &d.file,
                        d.line,
                        d.column,
                        d.severity,
                        &d.message,
                        d.code.as_str(),
                        color,
                    );
                    writeln!(out, "{line}")?;
                }
            }
        }
        Ok(())
    }

    /// One SARIF 2.1.0 log: the registry as `tool.driver.rules`, the
    /// findings as `results`.
    fn write_sarif<C: RuleCode>(
        &self,
        shown: &[&Diagnostic<C>],
        out: &mut dyn Write,
    ) -> io::Result<()> {
        let rules: Vec<RuleInfo<'_>> = C::ALL
            .iter()
            .map(|code| {
                let rule = code.rule();
                RuleInfo {
                    id: rule.code,
                    name: rule.name.unwrap_or(rule.code),
                    short_description: rule.short_description(),
                    full_description: rule.explain,
                    level: rule.severity,
                    help: match self.sarif_help {
                        SarifHelp::Explanation => explanation(rule),
                        SarifHelp::ExplainText => rule.explain.to_string(),
                    },
                }
            })
            .collect();
        let findings: Vec<Finding<'_>> = shown
            .iter()
            .map(|d| Finding {
                rule_id: d.code.as_str(),
                level: d.severity,
                message: &d.message,
                path: &d.file,
                line: d.line,
                column: d.column,
            })
            .collect();
        let log = sarif::log(self.tool, self.version, &rules, &findings);
        sarif::write(out, &log)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conventions::Severity::*;
    use crate::lint::Rule;

    crate::rule_registry! {
        enum Code {
            T001 => Rule::named("loud", Error, "An error. Fix it."),
            T002 => Rule::summarised(Info, "a note", "A note."),
        }
    }

    const WITH_SERVICE: Linter = Linter {
        tool: "t",
        version: "1",
        exit: ExitRule::AnyShown,
        json_service: true,
        sarif_help: SarifHelp::Explanation,
    };

    fn note() -> Diagnostic<Code> {
        Diagnostic::new("/etc/x", 2, 3, Code::T002, "m".into())
    }

    #[test]
    fn exit_rules_differ_only_on_notes() {
        let note = note();
        assert_eq!(ExitRule::AnyShown.outcome(&[&note]), Outcome::Findings);
        assert_eq!(ExitRule::AtLeast(Warning).outcome(&[&note]), Outcome::Clean);
        assert_eq!(ExitRule::AnyShown.outcome::<Code>(&[]), Outcome::Clean);
    }

    /// What `linter` writes for the one note, in `format`.
    fn written(linter: &Linter, format: LintFormat) -> String {
        let mut out = Vec::new();
        linter
            .write_findings(format, &[&note()], false, &mut out)
            .unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn json_records_keep_each_tools_fields() {
        assert_eq!(
            written(&WITH_SERVICE, LintFormat::Json),
            "{\"file\":\"/etc/x\",\"line\":2,\"column\":3,\"code\":\"T002\",\"severity\":\"info\",\"service\":null,\"message\":\"m\"}\n"
        );
        let without = Linter {
            json_service: false,
            ..WITH_SERVICE
        };
        assert_eq!(
            written(&without, LintFormat::Text),
            "/etc/x:2:3: info: m [T002]\n"
        );
        assert!(!written(&without, LintFormat::Json).contains("service"));
    }

    #[test]
    fn sarif_log_lists_the_registry_and_points_at_it() {
        let log: serde_json::Value =
            serde_json::from_str(&written(&WITH_SERVICE, LintFormat::Sarif)).unwrap();
        let run = &log["runs"][0];
        assert_eq!(run["tool"]["driver"]["rules"].as_array().unwrap().len(), 2);
        assert_eq!(run["tool"]["driver"]["rules"][1]["name"], "T002");
        assert_eq!(run["results"][0]["ruleId"], "T002");
        assert_eq!(run["results"][0]["level"], "note");
    }
}
