//! `--format sarif`: a linter's findings as a SARIF 2.1.0 log, the format
//! code-scanning services (GitHub, GitLab, Azure DevOps) read, so a
//! repository of configuration files can show xinetd-lint's and
//! `ntpconf-edit check`'s findings beside the lines they are about.
//!
//! The log's model is the `serde-sarif` crate's (generated from the
//! specification's JSON schema), not hand-written JSON. Each linter passes
//! its rule registry, which becomes `tool.driver.rules`, and its findings,
//! which become `results` pointing at their rules by id and index.

use std::collections::HashMap;
use std::io::{self, Write};
use std::path::Path;

use serde_sarif::sarif::{
    ArtifactLocation, Location, Message, MultiformatMessageString, PhysicalLocation, Region,
    ReportingConfiguration, ReportingDescriptor, ResultLevel, Run, Sarif, Tool, ToolComponent,
};

use crate::conventions::Severity;

/// One rule of a linter's registry, as `tool.driver.rules` describes it.
pub struct RuleInfo<'a> {
    /// The stable code: `XL016`, `NE001`.
    pub id: &'a str,
    /// A short identifier in words: `trailing-comment`.
    pub name: &'a str,
    /// One sentence.
    pub short_description: &'a str,
    /// What it checks and why it matters.
    pub full_description: &'a str,
    /// The severity the rule reports with.
    pub level: Severity,
    /// How to fix it: the text `--explain CODE` prints.
    pub help: String,
}

/// One finding: `path:line:col: severity: message [CODE]`.
pub struct Finding<'a> {
    pub rule_id: &'a str,
    pub level: Severity,
    pub message: &'a str,
    pub path: &'a Path,
    pub line: usize,
    pub column: usize,
}

/// The SARIF level of a severity: `info` is SARIF's `note`.
pub fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Info => "note",
        Severity::Warning => "warning",
        Severity::Error => "error",
    }
}

fn result_level(severity: Severity) -> ResultLevel {
    match severity {
        Severity::Info => ResultLevel::Note,
        Severity::Warning => ResultLevel::Warning,
        Severity::Error => ResultLevel::Error,
    }
}

/// The first sentence of `text` (up to and including the first `. `), for a
/// short description when a registry has only a long one.
pub fn first_sentence(text: &str) -> &str {
    match text.find(". ") {
        Some(end) => &text[..=end],
        None => text,
    }
}

/// A file path as a SARIF artifact URI: absolute paths as `file:` URIs,
/// relative ones as relative references (against the directory the linter
/// ran in), every byte outside RFC 3986's unreserved set and `/`
/// percent-encoded, so spaces, `#`, `%` and non-UTF-8 names survive.
pub fn path_uri(path: &Path) -> String {
    use std::os::unix::ffi::OsStrExt;
    let mut uri = String::new();
    if path.is_absolute() {
        uri.push_str("file://");
    }
    for &byte in path.as_os_str().as_bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                uri.push(byte as char)
            }
            _ => uri.push_str(&format!("%{byte:02X}")),
        }
    }
    uri
}

fn text(text: &str) -> MultiformatMessageString {
    MultiformatMessageString::builder()
        .text(text.to_string())
        .build()
}

/// Builds the log of one run of `tool` (its name and version) with `rules`
/// as the driver's rule registry and `findings` as its results.
pub fn log(tool: &str, version: &str, rules: &[RuleInfo<'_>], findings: &[Finding<'_>]) -> Sarif {
    let index: HashMap<&str, usize> = rules.iter().enumerate().map(|(i, r)| (r.id, i)).collect();
    let descriptors: Vec<ReportingDescriptor> = rules
        .iter()
        .map(|rule| {
            ReportingDescriptor::builder()
                .id(rule.id.to_string())
                .name(rule.name.to_string())
                .short_description(text(rule.short_description))
                .full_description(text(rule.full_description))
                .help(text(&rule.help))
                .default_configuration(
                    ReportingConfiguration::builder()
                        .level(serde_json::Value::from(level(rule.level)))
                        .build(),
                )
                .build()
        })
        .collect();
    let results: Vec<serde_sarif::sarif::Result> = findings
        .iter()
        .map(|finding| {
            let region = Region::builder()
                .start_line(finding.line.max(1) as i64)
                .start_column(finding.column.max(1) as i64)
                .build();
            let location = Location::builder()
                .physical_location(
                    PhysicalLocation::builder()
                        .artifact_location(
                            ArtifactLocation::builder()
                                .uri(path_uri(finding.path))
                                .build(),
                        )
                        .region(region)
                        .build(),
                )
                .build();
            let result = serde_sarif::sarif::Result::builder()
                .rule_id(finding.rule_id.to_string())
                .level(result_level(finding.level))
                .message(Message::builder().text(finding.message.to_string()).build())
                .locations(vec![location]);
            match index.get(finding.rule_id) {
                Some(&i) => result.rule_index(i as i64).build(),
                None => result.build(),
            }
        })
        .collect();
    let driver = ToolComponent::builder()
        .name(tool.to_string())
        .version(version.to_string())
        .semantic_version(version.to_string())
        .rules(descriptors)
        .build();
    let run = Run::builder()
        .tool(Tool::builder().driver(driver).build())
        .results(results)
        // Our columns count characters, not UTF-16 code units.
        .column_kind(serde_json::Value::from("unicodeCodePoints"))
        .build();
    Sarif::builder()
        .schema(serde_sarif::sarif::SCHEMA_URL.to_string())
        .version(serde_json::Value::from("2.1.0"))
        .runs(vec![run])
        .build()
}

/// Writes `log` as one pretty-printed JSON document and a newline.
pub fn write(out: &mut dyn Write, log: &Sarif) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, log)?;
    writeln!(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> serde_json::Value {
        let rules = [RuleInfo {
            id: "XL016",
            name: "trailing-comment",
            short_description: "A trailing comment is read as values.",
            full_description: "A trailing comment is read as values. xinetd drops them.",
            level: Severity::Warning,
            help: "XL016 trailing-comment (warning)\n\nMove the comment to its own line.".into(),
        }];
        let findings = [
            Finding {
                rule_id: "XL016",
                level: Severity::Warning,
                message: "trailing comment",
                path: Path::new("/etc/xinetd.d/imap #1"),
                line: 9,
                column: 27,
            },
            Finding {
                rule_id: "XL999",
                level: Severity::Info,
                message: "not in the registry",
                path: Path::new("etc/x"),
                line: 0,
                column: 0,
            },
        ];
        serde_json::to_value(log("xinetd-lint", "0.1.0", &rules, &findings)).unwrap()
    }

    #[test]
    fn rules_and_results_are_linked() {
        let log = sample();
        assert_eq!(log["version"], "2.1.0");
        let run = &log["runs"][0];
        let rule = &run["tool"]["driver"]["rules"][0];
        assert_eq!(rule["id"], "XL016");
        assert_eq!(rule["name"], "trailing-comment");
        assert_eq!(rule["defaultConfiguration"]["level"], "warning");
        assert!(rule["help"]["text"].as_str().unwrap().contains("own line"));
        let first = &run["results"][0];
        assert_eq!(first["ruleId"], "XL016");
        assert_eq!(first["ruleIndex"], 0);
        assert_eq!(first["level"], "warning");
        let place = &first["locations"][0]["physicalLocation"];
        assert_eq!(
            place["artifactLocation"]["uri"],
            "file:///etc/xinetd.d/imap%20%231"
        );
        assert_eq!(place["region"]["startLine"], 9);
        assert_eq!(place["region"]["startColumn"], 27);
        // A code outside the registry has no index; line 0 becomes line 1.
        let second = &run["results"][1];
        assert!(second.get("ruleIndex").is_none());
        assert_eq!(second["level"], "note");
        assert_eq!(
            second["locations"][0]["physicalLocation"]["region"]["startLine"],
            1
        );
    }

    #[test]
    fn uris_encode_every_byte_outside_the_unreserved_set() {
        use std::os::unix::ffi::OsStrExt;
        let odd = Path::new(std::ffi::OsStr::from_bytes(b"a b/%\xff.conf"));
        assert_eq!(path_uri(odd), "a%20b/%25%FF.conf");
        assert_eq!(first_sentence("One. Two. Three."), "One.");
        assert_eq!(first_sentence("No stop"), "No stop");
    }
}
