//! `ntpconf-edit`: change the tinker settings of ntp.conf exactly as ntpd
//! reads them, and nothing else.
//!
//! - [`doc`]: the lossless line model (bytes, per-line endings).
//! - [`tinker`]: ntpd's tinker grammar (applied or dropped, never half).
//! - [`model`]: what ntpd reads, following includes, stopping at `end`.
//! - [`edit`]: `set` and `unset` on the document.
//! - [`check`]: where ntpd does something other than what the file says.

pub mod check;
pub mod cli;
pub mod doc;
pub mod edit;
pub mod model;
mod sarif_report;
pub mod tinker;

pub use mailhost_common::atomic_write;
pub use mailhost_common::conventions;

use std::ffi::{OsStr, OsString};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::Serialize;

use crate::atomic_write::FailAt;
use crate::cli::{Cli, Command};
use crate::conventions::{LintFormat as Format, under_root};
use crate::doc::Document;
use crate::tinker::{NOT_TINKER, is_keyword, is_number};

/// Exit codes (see the man page's EXIT STATUS).
pub const EXIT_OK: u8 = 0;
pub const EXIT_WOULD_CHANGE: u8 = 1;
pub const EXIT_ERROR: u8 = 2;

const DEFAULT_CONF: &str = "/etc/ntp.conf";

/// Where the process's outside world is: standard streams and the fault hook.
pub struct Io<'a> {
    pub stdin: &'a mut dyn Read,
    pub stdout: &'a mut dyn Write,
    pub stderr: &'a mut dyn Write,
    pub color: bool,
    pub fail_at: Option<FailAt>,
}

pub fn run(cli: &Cli, io: &mut Io<'_>) -> Result<u8> {
    let command = match &cli.command {
        Some(command) => command,
        None if !cli.edit.preset.is_empty() => &Command::Set { args: Vec::new() },
        None => bail!("no command given; try `ntpconf-edit --help`"),
    };
    match command {
        Command::Show { file } => show(cli, file.as_deref(), io),
        Command::Check { file } => check(cli, file.as_deref(), io),
        Command::Set { args } => {
            let (assignments, file) = parse_set_args(cli, args)?;
            edit_file(
                cli,
                file.as_deref(),
                io,
                |doc| edit::set(doc, &assignments),
                &keys_of(&assignments),
                &assignments,
            )
        }
        Command::Unset { args } => {
            let (keys, file) = parse_unset_args(args)?;
            let key_refs: Vec<&str> = keys.iter().map(String::as_str).collect();
            edit_file(
                cli,
                file.as_deref(),
                io,
                |doc| edit::unset(doc, &keys),
                &key_refs,
                &[],
            )
        }
    }
}

/// A requested `KEY=VALUE`.
type Assignment = (String, String);

fn keys_of(assignments: &[(String, String)]) -> Vec<&str> {
    assignments.iter().map(|(k, _)| k.as_str()).collect()
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

fn parse_set_args(cli: &Cli, args: &[OsString]) -> Result<(Vec<Assignment>, Option<OsString>)> {
    let mut assignments: Vec<(String, String)> = Vec::new();
    for preset in &cli.edit.preset {
        for (k, v) in preset.assignments() {
            assignments.push((k.to_string(), v.to_string()));
        }
    }
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
    Ok((assignments, file))
}

fn parse_unset_args(args: &[OsString]) -> Result<(Vec<String>, Option<OsString>)> {
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
    Ok((keys, file))
}

/// The input: its display name, its path on disk (None for stdin), its bytes.
struct Input {
    name: PathBuf,
    path: Option<PathBuf>,
    bytes: Vec<u8>,
}

fn load(cli: &Cli, file: Option<&OsStr>, stdin: &mut dyn Read) -> Result<Input> {
    let path = match file {
        Some(f) if f == "-" => {
            let mut bytes = Vec::new();
            stdin
                .read_to_end(&mut bytes)
                .context("reading standard input")?;
            return Ok(Input {
                name: PathBuf::from("-"),
                path: None,
                bytes,
            });
        }
        Some(f) => PathBuf::from(f),
        None => under_root(&cli.root, Path::new(DEFAULT_CONF)),
    };
    let bytes = conventions::read_limited(&path, conventions::MAX_CONFIG_BYTES)
        .with_context(|| format!("{}", path.display()))?;
    Ok(Input {
        name: path.clone(),
        path: Some(path),
        bytes,
    })
}

/// Includes resolved the way ntpd does, but under `--root`.
struct RootFiles<'a> {
    root: &'a Path,
}

impl model::Files for RootFiles<'_> {
    fn read(&self, path: &Path) -> std::io::Result<Vec<u8>> {
        conventions::read_limited(path, conventions::MAX_CONFIG_BYTES)
    }
    fn resolve(&self, including: &Path, argument: &str) -> PathBuf {
        let arg = Path::new(argument);
        if arg.is_absolute() {
            under_root(self.root, arg)
        } else {
            including.parent().unwrap_or(Path::new(".")).join(arg)
        }
    }
}

#[derive(Serialize)]
struct ShownSetting<'a> {
    key: &'a str,
    value: f64,
    written: &'a str,
    file: &'a Path,
    line: usize,
}

fn show(cli: &Cli, file: Option<&OsStr>, io: &mut Io<'_>) -> Result<u8> {
    let input = load(cli, file, io.stdin)?;
    let reading = model::read(&input.name, &input.bytes, &RootFiles { root: &cli.root });
    for setting in model::effective(&reading).values() {
        match cli.format {
            Format::Sarif => bail!("--format sarif is for `check` (findings); use text or json"),
            Format::Json => {
                let row = ShownSetting {
                    key: &setting.key,
                    value: setting.applied,
                    written: &setting.written,
                    file: &setting.file,
                    line: setting.line,
                };
                serde_json::to_writer(&mut *io.stdout, &row)?;
                writeln!(io.stdout)?;
            }
            Format::Text => {
                let applied = model::format_value(setting.applied);
                let note = if applied != setting.written {
                    format!(" (written {})", setting.written)
                } else {
                    String::new()
                };
                writeln!(
                    io.stdout,
                    "{} {applied}\t{}:{}{note}",
                    setting.key,
                    setting.file.display(),
                    setting.line
                )?;
            }
        }
    }
    Ok(EXIT_OK)
}

fn check(cli: &Cli, file: Option<&OsStr>, io: &mut Io<'_>) -> Result<u8> {
    let input = load(cli, file, io.stdin)?;
    let reading = model::read(&input.name, &input.bytes, &RootFiles { root: &cli.root });
    let ntp_d = input
        .path
        .as_deref()
        .and_then(|p| p.parent())
        .map(|dir| dir.join("ntp.d"))
        .filter(|dir| dir.is_dir());
    let diagnostics = check::check(&reading, &input.name, ntp_d.as_deref());
    if cli.format == Format::Sarif {
        sarif_report::write(&diagnostics, &mut *io.stdout)?;
        return Ok(EXIT_OK);
    }
    for d in diagnostics {
        match cli.format {
            Format::Sarif => unreachable!("written by sarif_report above"),
            Format::Json => {
                serde_json::to_writer(&mut *io.stdout, &d)?;
                writeln!(io.stdout)?;
            }
            Format::Text => {
                let line = conventions::finding_line(
                    &d.file.display(),
                    d.line,
                    d.column,
                    d.severity,
                    &d.message,
                    d.code,
                    io.color,
                );
                writeln!(io.stdout, "{line}")?;
            }
        }
    }
    Ok(EXIT_OK)
}

fn edit_file(
    cli: &Cli,
    file: Option<&OsStr>,
    io: &mut Io<'_>,
    apply: impl FnOnce(&mut Document),
    keys: &[&str],
    asked: &[(String, String)],
) -> Result<u8> {
    let opts = &cli.edit;
    if opts.in_place && file.is_some_and(|f| f == "-") {
        bail!("-i cannot edit standard input");
    }
    if opts.backup.is_some() && !opts.in_place {
        bail!("--backup goes with -i");
    }
    let input = load(cli, file, io.stdin)?;
    let mut doc = Document::parse(&input.bytes);
    for notice in edit::untouchable_lines(&doc, keys) {
        writeln!(
            io.stderr,
            "ntpconf-edit: {}:{}:{}: warning: {}",
            input.name.display(),
            notice.line,
            notice.column,
            notice.message
        )?;
    }
    apply(&mut doc);
    let output = doc.to_bytes();
    let changed = output != input.bytes;
    for warning in still_overridden(cli, &input, &output, asked) {
        writeln!(
            io.stderr,
            "ntpconf-edit: {}: warning: {warning}",
            input.name.display()
        )?;
    }

    if opts.diff {
        if changed {
            let old = String::from_utf8_lossy(&input.bytes);
            let new = String::from_utf8_lossy(&output);
            let name = input.name.display().to_string();
            let diff = similar::TextDiff::from_lines(old.as_ref(), new.as_ref());
            write!(io.stdout, "{}", diff.unified_diff().header(&name, &name))?;
        }
    } else if opts.check {
        // Nothing is written.
    } else if opts.in_place {
        if changed && let Some(path) = &input.path {
            atomic_write::replace_file(path, &output, opts.backup.as_deref(), io.fail_at)
                .with_context(|| format!("{}: not changed", path.display()))?;
        }
    } else {
        io.stdout.write_all(&output)?;
    }
    io.stdout.flush()?;
    Ok(if opts.check && changed {
        EXIT_WOULD_CHANGE
    } else {
        EXIT_OK
    })
}

/// Reads the edited text as ntpd will (includes too) and says which asked
/// settings still do not win: an included file sets the key later, or a later
/// stepback/stepfwd undoes part of `step`.
fn still_overridden(
    cli: &Cli,
    input: &Input,
    output: &[u8],
    asked: &[(String, String)],
) -> Vec<String> {
    let reading = model::read(&input.name, output, &RootFiles { root: &cli.root });
    let settings = model::effective(&reading);
    let mut out = Vec::new();
    for (key, value) in asked {
        let wanted = model::applied_value(key, value);
        let mut check = |k: &str| {
            if let Some(s) = settings.get(k)
                && s.applied != wanted
            {
                out.push(format!(
                    "{k} stays {} because {}:{} comes later in ntpd's reading order",
                    s.written,
                    s.file.display(),
                    s.line
                ));
            }
        };
        check(key);
        if key == "step" {
            check("stepback");
            check("stepfwd");
        }
    }
    out
}

/// The extra sections of the man page.
pub fn man_page() -> conventions::ManPage<'static> {
    conventions::ManPage {
        exit_status: cli::EXIT_STATUS,
        examples: cli::EXAMPLES,
        files: &[(
            "/etc/ntp.conf",
            "The default file (looked up under --root).",
        )],
        see_also: "ntp.conf(5), ntpd(8), dovecot(1), xinetd-lint(8), maillog-grep(8), clockcheck(8)",
    }
}
