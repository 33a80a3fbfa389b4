//! `xinetd-lint`: xinetd's own verdict on every service, plus the mistakes
//! xinetd lets through silently.
//!
//! - [`lex`]: one line, with nom, the way xinetd's `parse.c` reads it.
//! - [`attrs`]: the attribute table and the value parsers.
//! - [`config`]: files, includes and the block state machine with recovery.
//! - [`pipeline`]: xinetd's post-parse checks and start-up: the verdicts.
//! - [`dovecot`]: imap/pop3 from xinetd.  [`host`]: what depends on the machine.
//! - [`rules`]: stable codes and explanations.  [`fix`]: `--fix`.
//! - [`logdest`]: where the services' log records go (log_type, syslog.conf).
//! - [`settings`]: what a run does, validated (the binary's clap flags end there).

pub mod attrs;
pub mod config;
pub mod dovecot;
pub mod dovecot_listeners;
pub mod fix;
pub mod host;
pub mod lex;
pub mod logdest;
pub mod pipeline;
pub mod rules;
pub mod settings;
pub mod startup;

pub use mailhost_common::atomic_write;
pub use mailhost_common::conventions;
pub use mailhost_common::conventions::Io;

use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
// RootHost's files (open, stat, display) are the shared `Files` trait's.
use mailhost_common::files::Files as _;
use mailhost_common::root::{Expect, Root};

use crate::conventions::{Format, escape_text};
use crate::host::{Host, RootHost};
use crate::rules::{Code, LINTER};
use crate::settings::{LintRun, Mode, Output, Settings, findings_format};
use mailhost_common::lint::{self, RuleCode};

mailhost_common::exit_statuses! {
    /// How xinetd-lint exits (the man page's EXIT STATUS is this table).
    pub enum Exit {
        Clean = 0 => "Clean: no finding at or above --severity (warning by default) after --ignore, --select and `# xinetd-lint: ignore` comments.",
        Findings = 1 => "Findings were shown (after --fix: findings remain).",
        Error = 2 => "Could not run: bad arguments, an unreadable main file, an unknown rule code.",
    }
}

/// Everything a lint run found.
pub struct Lint {
    pub diagnostics: Vec<config::Diagnostic>,
    pub verdicts: Vec<pipeline::Verdict>,
    /// The files read, by jail path (for --fix).
    pub files: Vec<PathBuf>,
    /// Codes silenced per file (as shown) by `# xinetd-lint: ignore`.
    pub suppressed: lint::Suppressions<Code>,
    /// The files to search for what the dovecot services logged (jail
    /// paths): where dovecot logs, then xinetd's log (its EXIT lines).
    pub log_files: Vec<String>,
}

/// Where xinetd reads its configuration on this tree, in the order the
/// real program decides: the `-f FILE` of FreeBSD's rc.conf `xinetd_flags`,
/// then the port's compiled-in /usr/local/etc/xinetd.conf, then Linux's
/// /etc/xinetd.conf.
pub fn default_config(host: &dyn Host) -> PathBuf {
    if let Some(root) = host.root()
        && let Ok(rc) = mailhost_common::rcconf::RcConf::load(root)
        && let Some(flags) = rc.get("xinetd_flags")
    {
        let words: Vec<&str> = flags.split_whitespace().collect();
        if let Some(at) = words.iter().position(|w| *w == "-f")
            && let Some(file) = words.get(at + 1)
        {
            return Path::new("/").join(file);
        }
    }
    for candidate in DEFAULT_CONFIGS {
        if host.metadata(Path::new(candidate)).is_ok() {
            return PathBuf::from(candidate);
        }
    }
    PathBuf::from(DEFAULT_CONFIGS[1])
}

/// The configuration files xinetd is built to read: FreeBSD's port, Linux.
pub const DEFAULT_CONFIGS: [&str; 2] = ["/usr/local/etc/xinetd.conf", "/etc/xinetd.conf"];

/// A path from the command line as a jail path: with a root, `ROOT/etc/x`
/// and `/etc/x` both mean the tree's /etc/x (and a relative path is taken
/// from the root's top); for the host it stays as given.
pub fn jail_path(root: &Path, is_host: bool, given: &Path) -> PathBuf {
    if is_host {
        return given.to_path_buf();
    }
    if let Ok(rest) = given.strip_prefix(root) {
        return Path::new("/").join(rest);
    }
    Path::new("/").join(given)
}

/// Reads the inputs and runs every check.  `paths` are as given (empty:
/// xinetd's default configuration), `root` is `--root` as given; `stdin`
/// is read for `-`.
pub fn lint(paths: &[PathBuf], root: &Path, host: &dyn Host, stdin: &mut dyn Read) -> Result<Lint> {
    let mut reader = config::Reader::new(host);
    let is_host = host.root().is_some_and(|r| r.is_host());
    let paths = if paths.is_empty() {
        vec![default_config(host)]
    } else {
        paths
            .iter()
            .map(|p| {
                if p.as_os_str() == "-" {
                    p.clone()
                } else {
                    jail_path(root, is_host, p)
                }
            })
            .collect()
    };
    for path in &paths {
        if path.as_os_str() == "-" {
            let bytes =
                mailhost_common::root::read_at_most(&mut *stdin, conventions::MAX_CONFIG_BYTES)
                    .context("reading standard input")?;
            reader.read_bytes(&bytes, "-", Path::new("-"), false);
            continue;
        }
        let meta = host.metadata(path).map_err(escaped)?;
        if meta.is_dir() {
            reader.read_dir(path, None);
        } else if is_host
            && !meta.is_file()
            && let Some(root) = host.root()
        {
            // A pipe named on the host's command line (`xinetd-lint <(ssh h
            // cat /etc/xinetd.conf)`) is read as grep reads it; in a tree,
            // where others plant files, only regular files are.
            let stream = root.open(path, Expect::Stream).map_err(escaped)?;
            let bytes = mailhost_common::root::read_at_most(stream, conventions::MAX_CONFIG_BYTES)
                .map_err(escaped)?;
            let shown = path.display().to_string();
            reader.read_bytes(&bytes, &shown, path, false);
        } else {
            // The main file must open (a FIFO or a device is refused here)
            // and fit the limit: otherwise the run cannot say anything.
            host.open_config(path).map_err(escaped)?;
            if meta.len() > conventions::MAX_CONFIG_BYTES {
                return Err(escaped(format!(
                    "{}: {} bytes is too large for a configuration file (limit {})",
                    host.display(path).display(),
                    meta.len(),
                    conventions::MAX_CONFIG_BYTES
                )));
            }
            reader.read_file(path, false, None);
        }
    }
    let include_loop = reader.include_loop;
    let suppressed = std::mem::take(&mut reader.suppressed);
    let model = reader.model;
    let mut diagnostics = model.diagnostics.clone();
    let dovecot_model = dovecot::read_model(host);
    let taken = dovecot::taken_ports(host, &dovecot_model);
    let mut verdicts = pipeline::verdicts(&model, host, &taken, &mut diagnostics);
    if include_loop {
        // xinetd crashed while reading: nothing starts.
        for v in verdicts
            .iter_mut()
            .filter(|v| v.status == pipeline::Status::Active)
        {
            v.status = pipeline::Status::Rejected;
            v.reasons.push(Code::XL060);
        }
    }
    let timed_out = host.timed_out();
    if !timed_out.is_empty() {
        let first = model.files.first().map_or_else(
            || "-".to_string(),
            |f| host.display(f).display().to_string(),
        );
        diagnostics.push(config::Diagnostic::new(
            first,
            1,
            1,
            Code::XL063,
            format!(
                "no answer from the resolver within {} s for {}: counted as not resolving, which xinetd (it waits) may not do",
                host::DNS_DEADLINE.as_secs(),
                some_names(&timed_out)
            ),
        ));
    }
    let syslog = logdest::SyslogConf::load(host);
    dovecot::check(&model, &verdicts, &syslog, &dovecot_model, &mut diagnostics);
    let log_files = dovecot::log_files(&model, &verdicts, &syslog, &dovecot_model);
    // Files by their bytes (as the shown names always were), not by path
    // components: `/a-b` sorts before `/a/b`.
    diagnostics.sort_by(|a, b| {
        (a.file.as_os_str(), a.line, a.column, a.code).cmp(&(
            b.file.as_os_str(),
            b.line,
            b.column,
            b.code,
        ))
    });
    diagnostics.dedup_by(|a, b| {
        a.file == b.file && a.line == b.line && a.code == b.code && a.message == b.message
    });
    Ok(Lint {
        diagnostics,
        verdicts,
        files: model.files,
        suppressed,
        log_files,
    })
}

/// One service of xinetd's configuration and xinetd's verdict on it, with
/// the file it is in as a jail path (for commands run on the host).
#[derive(Clone, Debug)]
pub struct XinetdService {
    pub verdict: pipeline::Verdict,
    /// `verdict.file` as a jail path (/etc/xinetd.d/imap).
    pub jail_file: PathBuf,
}

impl XinetdService {
    /// xinetd starts it (`Status::Active`).
    pub fn runs(&self) -> bool {
        self.verdict.status == pipeline::Status::Active
    }

    /// xinetd is set to run it: it starts, or it is rejected only because
    /// the standalone dovecot holds its port (XL043): that is the conflict
    /// itself, and whichever of the two starts second cannot bind the port.
    /// Any other rejection (a bad value, a missing server binary) means
    /// xinetd does not run it.
    pub fn configured_to_run(&self) -> bool {
        self.runs()
            || (self.verdict.status == pipeline::Status::Rejected
                && !self.verdict.reasons.is_empty()
                && self.verdict.reasons.iter().all(|r| *r == Code::XL043))
    }

    /// Its `server`, as written, is one of dovecot's login processes
    /// (imap-login, pop3-login): the errata's recipe.
    pub fn runs_dovecot_login(&self) -> bool {
        self.verdict
            .server_written
            .as_deref()
            .is_some_and(|server| {
                let base = server.rsplit('/').next().unwrap_or(server);
                base == "imap-login" || base == "pop3-login"
            })
    }
}

/// Which services xinetd runs on a tree: the one answer for every tool
/// (xinetd-lint --services, clockcheck env).  xinetd's own configuration
/// (the rc.conf `-f FILE`, else the port's or Linux's xinetd.conf) read as
/// xinetd reads it: includes and includedir's file-name rules, `defaults`
/// (`enabled`, `disabled`), `disable`, the checks that reject a service.
/// Host names are resolved only on the live system, as xinetd-lint does.
/// No xinetd.conf means xinetd runs nothing: an empty list.
pub fn services(root: &Root) -> Result<Vec<XinetdService>> {
    let host = RootHost::with_root(Some(root.try_clone()?), root.path(), root.is_host());
    if let Err(e) = host.metadata(&default_config(&host))
        && e.kind() == std::io::ErrorKind::NotFound
    {
        return Ok(Vec::new());
    }
    let lint = lint(&[], root.path(), &host, &mut std::io::empty())?;
    Ok(services_of(&lint, &host))
}

/// The services of a lint run, with their jail paths.
fn services_of(lint: &Lint, host: &RootHost) -> Vec<XinetdService> {
    let jails: std::collections::HashMap<String, &PathBuf> = lint
        .files
        .iter()
        .map(|jail| (host.display(jail).to_string_lossy().into_owned(), jail))
        .collect();
    let jail_of = |shown: &str| {
        jails
            .get(shown)
            .map_or_else(|| PathBuf::from(shown), |jail| (*jail).clone())
    };
    lint.verdicts
        .iter()
        .map(|v| XinetdService {
            jail_file: jail_of(&v.file),
            verdict: v.clone(),
        })
        .collect()
}

/// The services set to run dovecot's login processes, as `FILE: SERVICE`
/// (jail paths): what xinetd-lint --host-facts and clockcheck env print.
pub fn dovecot_login_services(services: &[XinetdService]) -> Vec<String> {
    services
        .iter()
        .filter(|s| s.configured_to_run() && s.runs_dovecot_login())
        .map(|s| format!("{}: {}", s.jail_file.display(), s.verdict.name))
        .collect()
}

/// `--host-facts`: the dovecot facts, and the dovecot login services of
/// xinetd's default configuration ([`services`]: none without one).
fn write_host_facts(format: Format, host: &RootHost, io: &mut Io<'_>) -> Result<Exit> {
    let root = host.root().context("the root could not be opened")?;
    let dovecot = mailhost_host::dovecot::standalone::Facts::read(root, &dovecot::read_model(host));
    let logins = dovecot_login_services(&services(root)?);
    root.budget().check()?;
    match format {
        Format::Json => {
            let record = serde_json::json!({
                "dovecot": dovecot,
                "xinetd_dovecot_services": logins,
            });
            writeln!(io.stdout, "{record}")?;
        }
        Format::Text => {
            writeln!(
                io.stdout,
                "dovecot: {} {}; enabled by {}; ports {:?}",
                dovecot.generation.as_str(),
                escape_text(dovecot.version.as_deref().unwrap_or("(version unknown)")),
                escape_text(dovecot.enabled_by.as_deref().unwrap_or("nothing")),
                dovecot.ports
            )?;
            for service in &logins {
                writeln!(
                    io.stdout,
                    "xinetd dovecot service: {}",
                    escape_text(service)
                )?;
            }
        }
    }
    io.stdout.flush()?;
    Ok(Exit::Clean)
}

/// An error whose text names a file: printed escaped, like every name.
fn escaped(e: impl std::fmt::Display) -> anyhow::Error {
    anyhow::anyhow!("{}", escape_text(&e.to_string()))
}

/// The findings of `lint` that `filter` shows.
fn shown<'a>(lint: &'a Lint, filter: &lint::Filter<Code>) -> Vec<&'a config::Diagnostic> {
    lint.diagnostics
        .iter()
        .filter(|d| filter.shows(d, &lint.suppressed))
        .collect()
}

fn exit_code(outcome: lint::Outcome) -> Exit {
    match outcome {
        lint::Outcome::Clean => Exit::Clean,
        lint::Outcome::Findings => Exit::Findings,
    }
}

/// One run of xinetd-lint as `settings` say.
pub fn run(settings: &Settings, io: &mut Io<'_>) -> Result<Exit> {
    match &settings.mode {
        Mode::ListRules => {
            lint::list_rules::<Code>(&mut *io.stdout)?;
            Ok(Exit::Clean)
        }
        Mode::Explain(code) => {
            writeln!(io.stdout, "{}", lint::explanation(code.rule()))?;
            Ok(Exit::Clean)
        }
        Mode::HostFacts(format) => write_host_facts(*format, &open_host(settings)?, io),
        Mode::Lint(run) => lint_and_report(settings, run, &open_host(settings)?, io),
    }
}

/// The tree under `--root`, as the checks see it.
fn open_host(settings: &Settings) -> Result<RootHost> {
    let root =
        Root::new(&settings.root).with_context(|| format!("--root {}", settings.root.display()))?;
    // Names are resolved for the live system, or for a tree when asked.
    let resolve = root.is_host() || settings.resolve;
    Ok(RootHost::with_root(Some(root), &settings.root, resolve))
}

/// Reads the configuration and prints what `run.output` asks for.
fn lint_and_report(
    settings: &Settings,
    run: &LintRun,
    host: &RootHost,
    io: &mut Io<'_>,
) -> Result<Exit> {
    let lint = lint(&run.paths, &settings.root, host, io.stdin)?;
    // Every reader draws from the run's budget; one that met its end and
    // went on without a file must not leave a verdict on half a tree.
    if let Some(root) = host.root() {
        root.budget().check()?;
    }
    match run.output {
        Output::LogFiles => {
            for file in &lint.log_files {
                writeln!(io.stdout, "{}", escape_text(file))?;
            }
            io.stdout.flush()?;
            Ok(Exit::Clean)
        }
        Output::Fix(format) => fix_files(settings, run, Some(format), host, lint, io),
        Output::Diff => fix_files(settings, run, None, host, lint, io),
        Output::Services(format) => {
            for v in &lint.verdicts {
                write_service(format, v, io)?;
            }
            let shown = shown(&lint, &run.filter);
            io.stdout.flush()?;
            Ok(exit_code(LINTER.exit.outcome(&shown)))
        }
        Output::Findings(format) => {
            let shown = shown(&lint, &run.filter);
            LINTER.write_findings(format, &shown, io.color, &mut *io.stdout)?;
            io.stdout.flush()?;
            Ok(exit_code(LINTER.exit.outcome(&shown)))
        }
    }
}

/// One row of `--services`.
fn write_service(format: Format, v: &pipeline::Verdict, io: &mut Io<'_>) -> Result<()> {
    match format {
        Format::Json => {
            serde_json::to_writer(&mut *io.stdout, v)?;
            writeln!(io.stdout)?;
        }
        Format::Text => {
            let port = v.port.map_or("-".into(), |p| p.to_string());
            let reasons = if v.reasons.is_empty() {
                String::new()
            } else {
                let codes: Vec<&str> = v.reasons.iter().map(|c| c.as_str()).collect();
                format!(" [{}]", codes.join(","))
            };
            writeln!(
                io.stdout,
                "{:<9} {:<16} {:<16} {:<4} {:<6} {:<40} {}:{}{}",
                v.status.as_str(),
                escape_text(&v.id),
                escape_text(&v.name),
                escape_text(v.protocol.as_deref().unwrap_or("-")),
                port,
                escape_text(v.server.as_deref().unwrap_or("-")),
                escape_text(&v.file),
                v.line,
                reasons
            )?;
        }
    }
    Ok(())
}

/// `--fix` (`fix` is its output format) and `--diff` (`fix` None).  --fix
/// writes each file inside the root only (`replace_in_root`), prints one
/// line per fix, then the findings that remain, and exits 1 while any
/// remain; --diff prints and writes nothing.
fn fix_files(
    settings: &Settings,
    run: &LintRun,
    fix: Option<Format>,
    host: &RootHost,
    lint: Lint,
    io: &mut Io<'_>,
) -> Result<Exit> {
    let root = host.root().context("the root could not be opened")?;
    let mut changed = false;
    for jail in &lint.files {
        let shown = host.display(jail).display().to_string();
        let before = root.read_config(jail).map_err(escaped)?;
        let (after, applied) = fix::fix_report(&before);
        if after == before {
            continue;
        }
        changed = true;
        let Some(format) = fix else {
            let (old, new) = (
                String::from_utf8_lossy(&before),
                String::from_utf8_lossy(&after),
            );
            let diff = similar::TextDiff::from_lines(old.as_ref(), new.as_ref());
            let name = escape_text(&shown);
            write!(io.stdout, "{}", diff.unified_diff().header(&name, &name))?;
            continue;
        };
        atomic_write::replace_in_root(root, jail, &after, None, io.fail_at)
            .map_err(|e| escaped(format!("{shown}: not changed: {e}")))?;
        for fix in &applied {
            write_fix(format, &shown, fix, io)?;
        }
    }
    let Some(format) = fix else {
        io.stdout.flush()?;
        return Ok(if changed { Exit::Findings } else { Exit::Clean });
    };
    // What remains, read again from the files as they are now.  Standard
    // input was consumed by the first pass; it has nothing to fix.
    let again = if changed {
        self::lint(&run.paths, &settings.root, host, &mut std::io::empty())?
    } else {
        lint
    };
    let remaining = shown(&again, &run.filter);
    LINTER.write_findings(
        findings_format(format),
        &remaining,
        io.color,
        &mut *io.stdout,
    )?;
    io.stdout.flush()?;
    Ok(exit_code(LINTER.exit.outcome(&remaining)))
}

/// The line `--fix` prints for one fix it made.
fn write_fix(format: Format, shown: &str, fix: &fix::Applied, io: &mut Io<'_>) -> Result<()> {
    match format {
        // One object per fix, told apart from findings by `fixed`.
        Format::Json => {
            let record = serde_json::json!({
                "file": shown, "line": fix.line, "column": fix.column,
                "code": fix.code, "fixed": true, "message": fix.what,
            });
            writeln!(io.stdout, "{record}")?;
        }
        Format::Text => writeln!(
            io.stdout,
            "{}:{}:{}: fixed: {} [{}]",
            escape_text(shown),
            fix.line,
            fix.column,
            fix.what,
            fix.code
        )?,
    }
    Ok(())
}

/// The first names of a list and how many more: twenty thousand names
/// behind a silent resolver make one readable finding, not a 400 kB line.
fn some_names(names: &[String]) -> String {
    const SHOWN: usize = 10;
    match names.len().checked_sub(SHOWN) {
        Some(more) if more > 0 => format!("{} and {more} more", names[..SHOWN].join(", ")),
        _ => names.join(", "),
    }
}
