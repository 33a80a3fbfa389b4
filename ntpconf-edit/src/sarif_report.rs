//! `check --format sarif`: the findings as one SARIF 2.1.0 log, with the
//! rule registry (`check::RULES`) as `tool.driver.rules` (see
//! `mailhost_common::sarif`).

use std::io::Write;

use anyhow::Result;
use mailhost_common::sarif::{self, Finding, RuleInfo};

use crate::check::{Diagnostic, RULES};

pub fn write(diagnostics: &[Diagnostic], out: &mut dyn Write) -> Result<()> {
    // The registry has a code and a one-line summary per rule (no name or
    // longer explanation yet): the summary serves as every description.
    let rules: Vec<RuleInfo<'_>> = RULES
        .iter()
        .map(|rule| RuleInfo {
            id: rule.code,
            name: rule.code,
            short_description: rule.summary,
            full_description: rule.summary,
            level: rule.severity,
            help: format!(
                "{} ({}): {}",
                rule.code,
                rule.severity.as_str(),
                rule.summary
            ),
        })
        .collect();
    let findings: Vec<Finding<'_>> = diagnostics
        .iter()
        .map(|d| Finding {
            rule_id: d.code,
            level: d.severity,
            message: &d.message,
            path: &d.file,
            line: d.line,
            column: d.column,
        })
        .collect();
    let log = sarif::log("ntpconf-edit", env!("CARGO_PKG_VERSION"), &rules, &findings);
    sarif::write(out, &log)?;
    Ok(())
}
