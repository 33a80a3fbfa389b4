//! `--format sarif`: the findings as one SARIF 2.1.0 log, with the rule
//! registry as `tool.driver.rules` (see `mailhost_common::sarif`).

use std::io::Write;
use std::path::Path;

use anyhow::{Result, bail};
use mailhost_common::sarif::{self, Finding, RuleInfo};

use crate::cli::Cli;
use crate::config::Diagnostic;
use crate::rules::{RULES, Rule};

/// What `xinetd-lint --explain CODE` prints.
pub fn explanation(rule: &Rule) -> String {
    format!(
        "{} {} ({})\n\n{}",
        rule.code,
        rule.name,
        rule.severity.as_str(),
        rule.explain
    )
}

/// Writes the findings shown (after --severity, --select, --ignore and the
/// suppression comments) as one log.
pub fn write(cli: &Cli, shown: &[&Diagnostic], out: &mut dyn Write) -> Result<()> {
    if cli.services {
        bail!("--format sarif reports findings; --services lists services (use text or json)");
    }
    let rules: Vec<RuleInfo<'_>> = RULES
        .iter()
        .map(|rule| RuleInfo {
            id: rule.code,
            name: rule.name,
            short_description: sarif::first_sentence(rule.explain),
            full_description: rule.explain,
            level: rule.severity,
            help: explanation(rule),
        })
        .collect();
    let findings: Vec<Finding<'_>> = shown
        .iter()
        .map(|d| Finding {
            rule_id: d.code,
            level: d.severity,
            message: &d.message,
            path: Path::new(&d.file),
            line: d.line,
            column: d.column,
        })
        .collect();
    let log = sarif::log("xinetd-lint", env!("CARGO_PKG_VERSION"), &rules, &findings);
    sarif::write(out, &log)?;
    Ok(())
}
