//! `xinetd-lint`: xinetd's own verdict on every service, plus the mistakes
//! xinetd lets through silently.
//!
//! - [`lex`]: one line, with nom, the way xinetd's `parse.c` reads it.
//! - [`attrs`]: the attribute table and the value parsers.
//! - [`config`]: files, includes and the block state machine with recovery.
//! - [`pipeline`]: xinetd's post-parse checks and start-up: the verdicts.
//! - [`dovecot`]: imap/pop3 from xinetd.  [`host`]: what depends on the machine.
//! - [`rules`]: stable codes and explanations.  [`fix`]: `--fix`.

pub mod attrs;
pub mod cli;
pub mod config;
pub mod dovecot;
pub mod fix;
pub mod host;
pub mod lex;
pub mod pipeline;
pub mod rules;
mod sarif_report;

pub use mailhost_common::atomic_write;
pub use mailhost_common::conventions;

use std::io::{Read, Write};
use std::path::Path;

use anyhow::{Context, Result, bail};

use crate::atomic_write::FailAt;
use crate::cli::Cli;
use crate::conventions::{LintFormat as Format, under_root};
use crate::host::{Host, RootHost};
use crate::rules::Severity;

pub const EXIT_CLEAN: u8 = 0;
pub const EXIT_FINDINGS: u8 = 1;
pub const EXIT_ERROR: u8 = 2;

pub struct Io<'a> {
    pub stdin: &'a mut dyn Read,
    pub stdout: &'a mut dyn Write,
    pub stderr: &'a mut dyn Write,
    pub color: bool,
    pub fail_at: Option<FailAt>,
}

/// Everything a lint run found.
pub struct Lint {
    pub diagnostics: Vec<config::Diagnostic>,
    pub verdicts: Vec<pipeline::Verdict>,
    pub files: Vec<std::path::PathBuf>,
}

/// Reads the inputs and runs every check.  `stdin` is read for `-`.
pub fn lint(cli: &Cli, host: &dyn Host, stdin: &mut dyn Read) -> Result<Lint> {
    let mut reader = config::Reader::new(host);
    let default = under_root(&cli.root, Path::new("/etc/xinetd.conf"));
    let paths = if cli.paths.is_empty() {
        vec![default]
    } else {
        cli.paths.clone()
    };
    for path in &paths {
        let shown = path.display().to_string();
        if path.as_os_str() == "-" {
            let mut bytes = Vec::new();
            stdin
                .read_to_end(&mut bytes)
                .context("reading standard input")?;
            reader.read_bytes(&bytes, "-", Path::new("-"), false);
        } else if path.is_dir() {
            reader.read_dir(path, &shown, None);
        } else {
            let bytes = conventions::read_limited(path, conventions::MAX_CONFIG_BYTES)
                .with_context(|| shown.clone())?;
            reader.model.files.push(path.clone());
            reader.read_bytes(&bytes, &shown, path, false);
        }
    }
    let model = reader.model;
    let mut diagnostics = model.diagnostics.clone();
    let taken = dovecot::taken_ports(host);
    let verdicts = pipeline::verdicts(&model, host, &taken, &mut diagnostics);
    dovecot::check(&model, &verdicts, &mut diagnostics);
    diagnostics.sort_by(|a, b| {
        (&a.file, a.line, a.column, a.code).cmp(&(&b.file, b.line, b.column, b.code))
    });
    diagnostics.dedup_by(|a, b| {
        a.file == b.file && a.line == b.line && a.code == b.code && a.message == b.message
    });
    Ok(Lint {
        diagnostics,
        verdicts,
        files: model.files,
    })
}

pub fn run(cli: &Cli, io: &mut Io<'_>) -> Result<u8> {
    if cli.list_rules {
        for rule in rules::RULES {
            writeln!(
                io.stdout,
                "{}  {:<7}  {}",
                rule.code,
                rule.severity.as_str(),
                rule.name
            )?;
        }
        return Ok(EXIT_CLEAN);
    }
    if let Some(code) = &cli.explain {
        let Some(rule) = rules::find(code) else {
            bail!("unknown rule code `{code}` (see --list-rules)")
        };
        writeln!(
            io.stdout,
            "{} {} ({})\n\n{}",
            rule.code,
            rule.name,
            rule.severity.as_str(),
            rule.explain
        )?;
        return Ok(EXIT_CLEAN);
    }
    let host = RootHost::new(&cli.root);
    let lint = lint(cli, &host, io.stdin)?;
    if cli.fix || cli.diff {
        return fix_files(cli, &lint, io);
    }
    if cli.format == Format::Sarif {
        sarif_report::write(cli, &lint, &mut *io.stdout)?;
    } else if cli.services {
        for v in &lint.verdicts {
            match cli.format {
                Format::Sarif => unreachable!("written by sarif_report above"),
                Format::Json => {
                    serde_json::to_writer(&mut *io.stdout, v)?;
                    writeln!(io.stdout)?;
                }
                Format::Text => {
                    let port = v.port.map_or("-".into(), |p| p.to_string());
                    let reasons = if v.reasons.is_empty() {
                        String::new()
                    } else {
                        format!(" [{}]", v.reasons.join(","))
                    };
                    writeln!(
                        io.stdout,
                        "{:<9} {:<16} {:<16} {:<4} {:<6} {:<40} {}:{}{}",
                        v.status.as_str(),
                        v.id,
                        v.name,
                        v.protocol.as_deref().unwrap_or("-"),
                        port,
                        v.server.as_deref().unwrap_or("-"),
                        v.file,
                        v.line,
                        reasons
                    )?;
                }
            }
        }
    } else {
        for d in &lint.diagnostics {
            match cli.format {
                Format::Sarif => unreachable!("written by sarif_report above"),
                Format::Json => {
                    serde_json::to_writer(&mut *io.stdout, d)?;
                    writeln!(io.stdout)?;
                }
                Format::Text => {
                    let line = conventions::finding_line(
                        &d.file, d.line, d.column, d.severity, &d.message, d.code, io.color,
                    );
                    writeln!(io.stdout, "{line}")?;
                }
            }
        }
    }
    io.stdout.flush()?;
    let findings = lint
        .diagnostics
        .iter()
        .any(|d| d.severity >= Severity::Warning);
    Ok(if findings { EXIT_FINDINGS } else { EXIT_CLEAN })
}

fn fix_files(cli: &Cli, lint: &Lint, io: &mut Io<'_>) -> Result<u8> {
    let mut changed = false;
    for path in &lint.files {
        let before = std::fs::read(path).with_context(|| path.display().to_string())?;
        let after = fix::fix(&before);
        if after == before {
            continue;
        }
        changed = true;
        if cli.diff {
            let name = path.display().to_string();
            let (old, new) = (
                String::from_utf8_lossy(&before),
                String::from_utf8_lossy(&after),
            );
            let diff = similar::TextDiff::from_lines(old.as_ref(), new.as_ref());
            write!(io.stdout, "{}", diff.unified_diff().header(&name, &name))?;
        } else {
            atomic_write::replace_file(path, &after, None, io.fail_at)
                .with_context(|| format!("{}: not changed", path.display()))?;
        }
    }
    io.stdout.flush()?;
    Ok(if changed && cli.diff {
        EXIT_FINDINGS
    } else {
        EXIT_CLEAN
    })
}

/// The extra sections of the man page.
pub fn man_page() -> conventions::ManPage<'static> {
    conventions::ManPage {
        exit_status: cli::EXIT_STATUS,
        examples: cli::EXAMPLES,
        files: &[
            ("/etc/xinetd.conf", "The default input (under --root)."),
            (
                "/etc/services, /etc/protocols, /etc/rpc",
                "Service, protocol and RPC names, as xinetd looks them up.",
            ),
            (
                "/etc/rc.conf, /etc/systemd/system",
                "Where a standalone dovecot may be enabled.",
            ),
        ],
        see_also: "xinetd(8), xinetd.conf(5), dovecot(1), ntpconf-edit(8), maillog-grep(8), clockcheck(8)",
    }
}
