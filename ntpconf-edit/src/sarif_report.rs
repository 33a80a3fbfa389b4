//! `check --format sarif`: the findings as one SARIF 2.1.0 log, with the
//! rule registry (`check::RULES`) as `tool.driver.rules` (see
//! `mailhost_common::sarif`).

use std::io::Write;

use anyhow::Result;
use mailhost_common::sarif::{self, Finding, RuleInfo};

use crate::check::{Diagnostic, RULES};

pub fn write(diagnostics: &[Diagnostic], out: &mut dyn Write) -> Result<()> {
    // The registry has a code, a one-line summary and the `--explain` text;
    // the code serves as the rule's name.
    let rules: Vec<RuleInfo<'_>> = RULES
        .iter()
        .map(|rule| RuleInfo {
            id: rule.code,
            name: rule.code,
            short_description: rule.summary,
            full_description: rule.explain,
            level: rule.severity,
            help: rule.explain.to_string(),
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
