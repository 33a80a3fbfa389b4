//! `check`: where ntpd will do something other than what the file seems to say.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::doc::tokenize;
use crate::model::{ReadNote, Reading, effective, format_value};
use crate::tinker::{NOT_TINKER, Tinker};

pub use crate::conventions::Severity;

/// A stable rule code with its one-line summary.  Codes are never reused.
pub struct Rule {
    pub code: &'static str,
    pub severity: Severity,
    pub summary: &'static str,
}

pub const RULES: &[Rule] = &[
    Rule {
        code: "NE001",
        severity: Severity::Error,
        summary: "ntpd drops this whole tinker line (syntax error)",
    },
    Rule {
        code: "NE002",
        severity: Severity::Error,
        summary: "tinker line after `end` is never read",
    },
    Rule {
        code: "NE003",
        severity: Severity::Warning,
        summary: "stepout below 300 is raised to 300",
    },
    Rule {
        code: "NE004",
        severity: Severity::Warning,
        summary: "setting overridden by a later tinker line",
    },
    Rule {
        code: "NE005",
        severity: Severity::Info,
        summary: "stepback/stepfwd need ntpd 4.2.8p2 or later",
    },
    Rule {
        code: "NE006",
        severity: Severity::Error,
        summary: "not a tinker keyword (tick, minpoll, ...)",
    },
    Rule {
        code: "NE007",
        severity: Severity::Warning,
        summary: "an included file or NTPsec's ntp.d may override tinker",
    },
    Rule {
        code: "NE008",
        severity: Severity::Info,
        summary: "boot-time ntpdate steps the clock whatever tinker says",
    },
    Rule {
        code: "NE009",
        severity: Severity::Warning,
        summary: "`;` is not a separator in ntp.conf",
    },
    Rule {
        code: "NE010",
        severity: Severity::Warning,
        summary: "`step` resets stepback and stepfwd set earlier",
    },
];

#[derive(Clone, Debug, Serialize)]
pub struct Diagnostic {
    pub file: PathBuf,
    pub line: usize,
    pub column: usize,
    pub code: &'static str,
    pub severity: Severity,
    pub message: String,
}

fn diag(
    file: &Path,
    line: usize,
    column: usize,
    code: &'static str,
    message: String,
) -> Diagnostic {
    let severity = RULES
        .iter()
        .find(|r| r.code == code)
        .map_or(Severity::Error, |r| r.severity);
    Diagnostic {
        file: file.to_path_buf(),
        line,
        column,
        code,
        severity,
        message,
    }
}

/// Everything `check` reports for a reading.  `ntp_d_exists` says whether an
/// NTPsec `ntp.d` directory sits beside the main file.
pub fn check(reading: &Reading, main: &Path, ntp_d: Option<&Path>) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let mut last_seen: BTreeMap<String, (PathBuf, usize)> = BTreeMap::new();
    let mut overridden = Vec::new();

    for line in &reading.lines {
        match &line.tinker {
            Tinker::Other => {}
            Tinker::Dropped { reason, column } => {
                let code = if NOT_TINKER
                    .iter()
                    .any(|k| reason.contains(&format!("`{k}`")))
                {
                    "NE006"
                } else {
                    "NE001"
                };
                out.push(diag(
                    &line.file,
                    line.line,
                    column + 1,
                    code,
                    format!("ntpd drops this line: {reason}"),
                ));
            }
            Tinker::Applied { pairs, semicolon } => {
                if let Some(at) = semicolon {
                    out.push(diag(
                        &line.file,
                        line.line,
                        at + 1,
                        "NE009",
                        "ntpd reports a syntax error at `;` (the pairs before it still apply)"
                            .into(),
                    ));
                }
                for pair in pairs {
                    let col = pair.key_range.start + 1;
                    if let Some((file, n)) = last_seen.get(&pair.key) {
                        overridden.push((
                            file.clone(),
                            *n,
                            pair.key.clone(),
                            line.file.clone(),
                            line.line,
                        ));
                    }
                    if pair.key == "step" {
                        for direction in ["stepback", "stepfwd"] {
                            if let Some((file, n)) = last_seen.get(direction) {
                                out.push(diag(
                                    file,
                                    *n,
                                    1,
                                    "NE010",
                                    format!(
                                        "{direction} set here is reset by `step {}` at {}:{}",
                                        pair.value,
                                        line.file.display(),
                                        line.line
                                    ),
                                ));
                            }
                        }
                    }
                    last_seen.insert(pair.key.clone(), (line.file.clone(), line.line));
                    let value: f64 = pair.value.parse().unwrap_or(0.0);
                    match pair.key.as_str() {
                        "stepout" if value < 300.0 => out.push(diag(&line.file, line.line, col, "NE003",
                            format!("stepout {} is below 300; ntpd uses 300", pair.value))),
                        "stepback" | "stepfwd" => out.push(diag(&line.file, line.line, col, "NE005",
                            format!("{} needs ntpd 4.2.8p2 or later (or NTPsec); older ntpd drops the line", pair.key))),
                        "tick" => out.push(diag(&line.file, line.line, col, "NE006",
                            "tick is accepted on a tinker line only by NTPsec up to 1.2.3; ntpd 4.2.8 and NTPsec 1.2.4+ drop the line".into())),
                        _ => {}
                    }
                }
            }
        }
    }
    for (file, line, key, later_file, later_line) in overridden {
        out.push(diag(
            &file,
            line,
            1,
            "NE004",
            format!(
                "{key} here is overridden by {}:{later_line}",
                later_file.display()
            ),
        ));
    }
    for note in &reading.notes {
        match note {
            ReadNote::AfterEnd(line) => out.push(diag(
                &line.file,
                line.line,
                1,
                "NE002",
                "tinker after `end`: ntpd stops reading at `end`, so this is never applied".into(),
            )),
            ReadNote::Include {
                file,
                line,
                target,
                problem,
            } => {
                let message = match problem {
                    Some(problem) => format!("includefile {}: {problem}", target.display()),
                    None => format!(
                        "includefile {}: tinker lines there override earlier ones in reading order",
                        target.display()
                    ),
                };
                out.push(diag(file, *line, 1, "NE007", message));
            }
        }
    }
    if let Some(dir) = ntp_d {
        out.push(diag(
            main,
            1,
            1,
            "NE007",
            format!(
                "NTPsec also reads {}/*.conf after this file; tinker lines there win",
                dir.display()
            ),
        ));
    }
    let settings = effective(reading);
    let never_steps = ["step", "stepback"]
        .iter()
        .any(|k| settings.get(*k).is_some_and(|s| s.applied == 0.0));
    if never_steps && let Some(line) = boot_ntpdate_server_line(reading, main) {
        out.push(diag(main, line, 1, "NE008", format!(
            "ntpd will not step back (step/stepback {}), but FreeBSD's boot-time ntpdate -b reads the server lines of this file and steps the clock anyway; that is harmless only while it runs before dovecot",
            format_value(0.0))));
    }
    out.sort_by(|a, b| {
        (&a.file, a.line, a.column, a.code).cmp(&(&b.file, b.line, b.column, b.code))
    });
    out
}

/// FreeBSD's rc.d/ntpdate takes hosts from lines that start in column 1 with
/// `server`, `peer` or `pool`.  Returns the first such line.
fn boot_ntpdate_server_line(reading: &Reading, main: &Path) -> Option<usize> {
    reading
        .lines
        .iter()
        .filter(|l| l.file == main)
        .find_map(|l| {
            let tokens = tokenize(&l.text);
            let first = tokens.first()?;
            let word = &l.text[first.range.clone()];
            (first.range.start == 0 && matches!(word, b"server" | b"peer" | b"pool"))
                .then_some(l.line)
        })
}
