//! `ntpconf-edit`: change the tinker settings of ntp.conf exactly as ntpd
//! reads them, and nothing else.
//!
//! - [`doc`]: the lossless line model (bytes, per-line endings).
//! - [`tinker`]: ntpd's tinker grammar, token by token (both dialects).
//! - [`model`]: what ntpd reads, following includes, stopping at `end`.
//!
//! Other tools (clockcheck env) ask [`applied_tinker`] for the tinker values
//! ntpd applies on a tree.
//! - [`edit`]: `set` and `unset` on the document.
//! - [`check`]: where ntpd does something other than what the file says.
//! - [`timekeepers`]: `check` where chrony or systemd-timesyncd keeps the
//!   time instead (chrony's `makestep`, timesyncd's fixed rule).
//! - [`settings`]: what a run does, validated (the binary's clap flags end
//!   there).

pub mod associations;
pub mod check;
pub mod doc;
pub mod edit;
pub mod model;
pub mod settings;
pub mod startup;
pub mod timekeepers;
pub mod tinker;

pub use mailhost_common::atomic_write;
pub use mailhost_common::conventions;
pub use mailhost_common::conventions::Io;

use std::ffi::OsStr;
use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::Serialize;

use crate::conventions::{Format, LintFormat, escape_path, escape_text};
use crate::doc::Document;
use crate::model::Reading;
use crate::settings::{
    Action, Assignment, Change, CheckRun, Command, EditOutput, EditRun, Settings,
};
use crate::timekeepers::Keeper;
use crate::tinker::Dialect;
use mailhost_common::chrony::ChronyConf;
use mailhost_common::lint::{self, RuleCode};
use mailhost_common::rcconf::RcConf;
use mailhost_common::root::{Root, read_at_most};

mailhost_common::exit_statuses! {
    /// How ntpconf-edit exits (the man page's EXIT STATUS is this table).
    pub enum Exit {
        Ok = 0 => "Success; with --check, the file is already in the asked state.",
        /// `--check`: a change is needed; `check`: a warning or an error.
        WouldChange = 1 => "With --check: the file is not in the asked state (a change is needed), or ntpd would not start with the result. `check`: a warning or an error was reported (info alone gives 0). `show`: ntpd will not start with this file (said on standard error; no settings are listed).",
        Error = 2 => "Error: bad arguments, an invalid key or value, an unreadable or unwritable file, includes over the reading budget, a `set` that cannot reach the asked state (ntpd would still apply something else), or a `set`/`unset` whose result ntpd would not start with (the line and the dialect are named). Nothing was written.",
    }
}

/// The files ntpd implementations read by default, in the order looked up
/// (after rc.conf's `ntpd_config`): Debian's NTPsec first, whose service
/// runs `ntpd -c /etc/ntpsec/ntp.conf` (an /etc/ntp.conf beside it is a
/// leftover nothing reads), then the base system's, then the ports'.
pub const DEFAULT_CONFS: [&str; 3] = [
    "/etc/ntpsec/ntp.conf",
    "/etc/ntp.conf",
    "/usr/local/etc/ntp.conf",
];

/// The largest `check --offset`: a clock that boots at the epoch is 57
/// years off, and 100 years leaves room without absurd figures.
pub const MAX_OFFSET_SECONDS: f64 = 100.0 * 365.0 * 86_400.0;

/// One run of ntpconf-edit as `settings` say.
pub fn run(settings: &Settings, io: &mut Io<'_>) -> Result<Exit> {
    match &settings.action {
        Action::ListRules => {
            lint::list_rules::<check::Code>(&mut *io.stdout)?;
            Ok(Exit::Ok)
        }
        Action::Explain(code) => {
            writeln!(io.stdout, "{}", lint::explanation(code.rule()))?;
            Ok(Exit::Ok)
        }
        Action::Command(command) => {
            let root = Root::new(&settings.root)
                .with_context(|| format!("--root {}", settings.root.display()))?;
            let cx = Run {
                root: &root,
                dialect: settings.dialect,
            };
            let code = run_command(&cx, command, io)?;
            // A reader that met the budget's end and went on without the
            // file (an optional include) must not leave an answer built on
            // half a tree.
            root.budget().check()?;
            Ok(code)
        }
    }
}

fn run_command(cx: &Run<'_>, command: &Command, io: &mut Io<'_>) -> Result<Exit> {
    match command {
        Command::Show { file, format } => show(cx, *format, file.as_deref(), io),
        Command::Keeper(format) => keeper(*format, cx.root, io),
        Command::Check(run) => check(cx, run, io),
        Command::Edit(run) => edit_file(cx, run, io),
    }
}

/// What every command that reads ntp.conf shares: the tree and `--dialect`.
struct Run<'a> {
    root: &'a Root,
    dialect: Option<Dialect>,
}

impl Run<'_> {
    /// The dialect to model for this input: `--dialect`, else detected.
    fn dialect_of(&self, input: &Input) -> Dialect {
        self.dialect
            .unwrap_or_else(|| detect_dialect(self.root, input.jail.as_deref()))
    }
}

fn keys_of(assignments: &[Assignment]) -> Vec<&str> {
    assignments.iter().map(|(k, _)| k.as_str()).collect()
}

/// The input: its jail path (None for stdin), the name shown, its bytes.
struct Input {
    jail: Option<PathBuf>,
    name: PathBuf,
    bytes: Vec<u8>,
}

/// Where ntpd's configuration is on a tree: the one answer every tool uses
/// (ntpconf-edit's default file, clockcheck's servers, clockcheck env's
/// tinker values).  On a FreeBSD tree (an rc.conf chain) what rc.d/ntpd
/// reads: `ntpd_config`, by default /etc/ntp.conf; elsewhere the first of
/// [`DEFAULT_CONFS`] that exists, `None` when none does.
pub fn locate_ntp_conf(root: &Root, rc: &RcConf) -> Option<PathBuf> {
    if let Some(named) = rc.get("ntpd_config").filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(named));
    }
    if !rc.files().is_empty() {
        // /etc/defaults/rc.conf: ntpd_config="/etc/ntp.conf".
        return Some(PathBuf::from("/etc/ntp.conf"));
    }
    DEFAULT_CONFS
        .iter()
        .map(PathBuf::from)
        .find(|candidate| root.metadata(candidate).is_ok())
}

/// Which daemon keeps the time on a tree, and the configuration that shows
/// it: ntp.conf where [`locate_ntp_conf`] finds one, else chrony, else
/// systemd-timesyncd ([`timekeepers::which`]).  The one answer for
/// `ntpconf-edit keeper`, clockcheck's servers and clockcheck env.
pub fn time_keeper(root: &Root, rc: &RcConf) -> (Keeper, Option<PathBuf>) {
    let ntp_conf = locate_ntp_conf(root, rc);
    match timekeepers::which(root, None, ntp_conf.is_some()) {
        Keeper::Ntpd => (Keeper::Ntpd, ntp_conf),
        Keeper::Chrony(conf) => (Keeper::Chrony(conf.clone()), Some(conf)),
        Keeper::Timesyncd(marker) => (Keeper::Timesyncd(marker.clone()), Some(marker)),
    }
}

/// `keeper`: [`time_keeper`], printed.
fn keeper(format: Format, root: &Root, io: &mut Io<'_>) -> Result<Exit> {
    let rc = RcConf::load(root).context("reading rc.conf")?;
    let (keeper, config) = time_keeper(root, &rc);
    match format {
        Format::Json => {
            let record = serde_json::json!({
                "time_keeper": keeper.name(),
                "config": config.as_ref().map(|c| c.display().to_string()),
            });
            writeln!(io.stdout, "{record}")?;
        }
        Format::Text => writeln!(
            io.stdout,
            "{}\t{}",
            keeper.name(),
            config.map_or_else(|| "-".into(), |c| escape_path(&c))
        )?,
    }
    Ok(Exit::Ok)
}

/// The file to read when none is named: [`locate_ntp_conf`], else
/// /etc/ntp.conf (whose absence is then the error the user sees).
pub fn default_conf(root: &Root) -> Result<PathBuf> {
    let rc = RcConf::load(root).context("reading rc.conf")?;
    Ok(locate_ntp_conf(root, &rc).unwrap_or_else(|| PathBuf::from("/etc/ntp.conf")))
}

fn load(root: &Root, file: Option<&OsStr>, stdin: &mut dyn Read) -> Result<Input> {
    let jail = match file {
        Some(f) if f == "-" => {
            let bytes = read_at_most(stdin, conventions::MAX_CONFIG_BYTES)
                .context("reading standard input")?;
            return Ok(Input {
                jail: None,
                name: PathBuf::from("-"),
                bytes,
            });
        }
        // An explicit path is a jail path under --root, as the default is.
        Some(f) => PathBuf::from(f),
        None => default_conf(root)?,
    };
    let name = root.display_path(&jail);
    let bytes = root.read_config(&jail).map_err(anyhow::Error::new)?;
    Ok(Input {
        jail: Some(jail),
        name,
        bytes,
    })
}

/// The dialect to model: the one asked for; else classic on a FreeBSD tree
/// (rc.conf, or the port's /usr/local/etc/ntp.conf: a bare /usr/local says
/// nothing, every Linux has one); else the one installed (NTPsec when its
/// files are there, or when the file is NTPsec's own path), classic when
/// nothing tells.
pub fn detect_dialect(root: &Root, conf: Option<&Path>) -> Dialect {
    let exists = |p: &str| root.metadata(Path::new(p)).is_ok();
    if exists("/etc/rc.conf")
        || exists("/etc/defaults/rc.conf")
        || exists("/usr/local/etc/ntp.conf")
        || exists("/usr/local/etc/rc.d")
    {
        return Dialect::Classic;
    }
    if conf.is_some_and(|c| c.starts_with("/etc/ntpsec"))
        || exists("/etc/ntpsec")
        || exists("/usr/share/doc/ntpsec")
        || exists("/usr/lib/python3/dist-packages/ntp")
    {
        return Dialect::Ntpsec;
    }
    Dialect::Classic
}

fn read_input(root: &Root, input: &Input, bytes: &[u8], dialect: Dialect) -> Result<Reading> {
    let main = input.jail.clone().unwrap_or_else(|| PathBuf::from("-"));
    Ok(model::read(&main, bytes, root, dialect)?)
}

/// The tinker values ntpd applies on a tree: for other tools (clockcheck
/// env).  `conf` is a jail path (None: the default file), `dialect` None
/// detects it as the command line does.
pub fn applied_tinker(
    root: &Root,
    conf: Option<&Path>,
    dialect: Option<Dialect>,
) -> Result<AppliedTinker> {
    let mut no_stdin = std::io::empty();
    let input = load(root, conf.map(Path::as_os_str), &mut no_stdin)?;
    let dialect = dialect.unwrap_or_else(|| detect_dialect(root, input.jail.as_deref()));
    let reading = read_input(root, &input, &input.bytes, dialect)?;
    Ok(AppliedTinker {
        file: input.name.clone(),
        dialect,
        settings: model::effective(&reading),
        state: model::applied_state(&reading),
        exits: reading.exit.as_ref().map(|e| {
            format!(
                "{}:{}:{}: {}",
                e.file.display(),
                e.line,
                e.column,
                e.describe()
            )
        }),
    })
}

/// The servers, peers and pools ntpd takes from ntp.conf on a tree: the one
/// answer to "what are its servers" (clockcheck without `-H`, clockcheck
/// env).  `conf` is a jail path (None: [`locate_ntp_conf`]'s file),
/// `dialect` None detects it.  Includes are followed and `end` honoured, as
/// for [`applied_tinker`].  With `at_most`, reading stops after `at_most +
/// 1` associations (enough to tell "too many").
pub fn ntp_associations(
    root: &Root,
    conf: Option<&Path>,
    dialect: Option<Dialect>,
    at_most: Option<usize>,
) -> Result<NtpAssociations> {
    let mut no_stdin = std::io::empty();
    let input = load(root, conf.map(Path::as_os_str), &mut no_stdin)?;
    let dialect = dialect.unwrap_or_else(|| detect_dialect(root, input.jail.as_deref()));
    let main = input.jail.clone().unwrap_or_else(|| PathBuf::from("-"));
    let reading = model::read_until(&main, &input.bytes, root, dialect, at_most)?;
    Ok(NtpAssociations {
        file: input.name.clone(),
        dialect,
        associations: associations::associations(&reading, dialect),
        boot_ntpdate_hosts: associations::boot_ntpdate_hosts(&reading)
            .into_iter()
            .map(|(_, host)| host)
            .collect(),
    })
}

/// What [`ntp_associations`] returns.
#[derive(Clone, Debug)]
pub struct NtpAssociations {
    /// The file read, as shown (ROOT/etc/ntp.conf).
    pub file: PathBuf,
    pub dialect: Dialect,
    /// In the order ntpd reads them.
    pub associations: Vec<associations::Association>,
    /// The hosts FreeBSD's rc.d/ntpdate takes from the file when
    /// `ntpdate_hosts` is empty ([`associations::boot_ntpdate_hosts`]).
    pub boot_ntpdate_hosts: Vec<String>,
}

/// What [`applied_tinker`] returns.
#[derive(Clone, Debug)]
pub struct AppliedTinker {
    /// The file read, as shown (ROOT/etc/ntp.conf).
    pub file: PathBuf,
    pub dialect: Dialect,
    /// Each key the file sets, with the winning line and the applied value.
    pub settings: std::collections::BTreeMap<String, model::Setting>,
    /// The value ntpd runs with for every key set (`step` gives stepback and
    /// stepfwd too): `state["stepback"] == 0.0` means it never steps back.
    pub state: std::collections::BTreeMap<String, f64>,
    /// ntpd exits while reading the file at start-up (then it does not run
    /// and nothing applies): where and why (`FILE:LINE:COL: ...`).
    pub exits: Option<String>,
}

#[derive(Serialize)]
struct ShownSetting<'a> {
    key: &'a str,
    value: f64,
    written: &'a str,
    file: &'a Path,
    line: usize,
}

/// Says on stderr that ntpd will not start with this file (the line, the
/// dialect, why); true when it did.
fn report_exit(reading: &Reading, io: &mut Io<'_>) -> Result<bool> {
    let Some(exit) = &reading.exit else {
        return Ok(false);
    };
    writeln!(
        io.stderr,
        "ntpconf-edit: {}:{}:{}: error: ntpd will not start: {}; nothing of this file applies",
        escape_path(&exit.file),
        exit.line,
        exit.column,
        escape_text(&exit.describe())
    )?;
    Ok(true)
}

fn show(cx: &Run<'_>, format: LintFormat, file: Option<&OsStr>, io: &mut Io<'_>) -> Result<Exit> {
    let input = load(cx.root, file, io.stdin)?;
    let dialect = cx.dialect_of(&input);
    let reading = read_input(cx.root, &input, &input.bytes, dialect)?;
    // Like a linter's error: listed settings would be none, and exit 0
    // would read as "ntpd runs with its defaults".
    let refused = report_exit(&reading, io)?;
    for setting in model::effective(&reading).values() {
        match format {
            LintFormat::Sarif => {
                bail!("--format sarif is for `check` (findings); use text or json")
            }
            LintFormat::Json => {
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
            LintFormat::Text => {
                let applied = model::format_value(setting.applied);
                let note = if applied != setting.written {
                    format!(" (written {})", escape_text(&setting.written))
                } else {
                    String::new()
                };
                writeln!(
                    io.stdout,
                    "{} {applied}\t{}:{}{note}",
                    setting.key,
                    escape_path(&setting.file),
                    setting.line
                )?;
            }
        }
    }
    Ok(if refused { Exit::WouldChange } else { Exit::Ok })
}

fn check(cx: &Run<'_>, run: &CheckRun, io: &mut Io<'_>) -> Result<Exit> {
    let (root, file, offset) = (cx.root, run.file.as_deref(), run.offset);
    let rc = RcConf::load(root).context("reading rc.conf")?;
    if file.is_none_or(|f| f != "-") {
        let ntp_conf_present = locate_ntp_conf(root, &rc).is_some();
        match timekeepers::which(root, file, ntp_conf_present) {
            Keeper::Ntpd => {}
            Keeper::Chrony(jail) => {
                let conf = ChronyConf::read(root, &jail).map_err(anyhow::Error::new)?;
                let freebsd = !rc.files().is_empty() || jail.starts_with("/usr/local");
                let found = timekeepers::check_chrony(root, &conf, freebsd, offset);
                return report(run, found, &Default::default(), io);
            }
            Keeper::Timesyncd(marker) => {
                let found = timekeepers::check_timesyncd(root, &marker);
                return report(run, found, &Default::default(), io);
            }
        }
    }
    let input = load(root, file, io.stdin)?;
    let dialect = cx.dialect_of(&input);
    let reading = read_input(root, &input, &input.bytes, dialect)?;
    let context = check::Context {
        main: &input.name,
        dialect,
        boot: check::BootSync::from_rc(&rc, input.jail.as_deref()),
        offset,
    };
    let suppressed = check::suppressions(&reading);
    report(run, check::check(&reading, &context), &suppressed, io)
}

/// Prints what `check` found (after --select/--ignore and the file's own
/// suppressions) and gives the exit status: 1 for a warning or an error.
fn report(
    run: &CheckRun,
    found: Vec<check::Diagnostic>,
    suppressed: &lint::Suppressions<check::Code>,
    io: &mut Io<'_>,
) -> Result<Exit> {
    let shown: Vec<&check::Diagnostic> = found
        .iter()
        .filter(|d| run.filter.shows(d, suppressed))
        .collect();
    check::LINTER.write_findings(run.format, &shown, io.color, &mut *io.stdout)?;
    Ok(match check::LINTER.exit.outcome(&shown) {
        lint::Outcome::Findings => Exit::WouldChange,
        lint::Outcome::Clean => Exit::Ok,
    })
}

/// `set` and `unset`: the edit, judged by what ntpd applies before and
/// after, then written where `run.output` says.
fn edit_file(cx: &Run<'_>, run: &EditRun, io: &mut Io<'_>) -> Result<Exit> {
    let root = cx.root;
    let (keys, asked): (Vec<&str>, &[Assignment]) = match &run.change {
        Change::Set(assignments) => (keys_of(assignments), assignments),
        Change::Unset(keys) => (keys.iter().map(String::as_str).collect(), &[]),
    };
    let input = load(root, run.file.as_deref(), io.stdin)?;
    let dialect = cx.dialect_of(&input);
    let before = read_input(root, &input, &input.bytes, dialect)?;
    let mut doc = Document::parse(&input.bytes);
    root.budget()
        .hold(doc.held_bytes())
        .map_err(|err| anyhow::anyhow!("{}: {err}", escape_path(&input.name)))?;
    let stops = reading_stops(&doc, &before);
    let shown = escape_path(&input.name);
    for notice in edit::untouchable_lines(&doc, &keys, &stops) {
        writeln!(
            io.stderr,
            "ntpconf-edit: {shown}:{}:{}: warning: {}",
            notice.line,
            notice.column,
            escape_text(&notice.message)
        )?;
    }
    // `set` judges the asked state by what ntpd applies: a file already
    // there is left exactly as it is.
    let already = !asked.is_empty() && unmet(&before, asked).is_empty();
    if !already {
        match &run.change {
            Change::Set(assignments) => edit::set(&mut doc, assignments, &stops),
            Change::Unset(keys) => edit::unset(&mut doc, keys, &stops),
        }
    }
    let output = doc.to_bytes();
    let after = read_input(root, &input, &output, dialect)?;
    if after.exit.is_some() {
        // Writing a file ntpd refuses would leave the host without ntpd
        // after its next start; the admin fixes that line first.  The
        // line is named as the input numbers it (the edit may shift it).
        report_exit(
            if before.exit.is_some() {
                &before
            } else {
                &after
            },
            io,
        )?;
        if run.check {
            return Ok(Exit::WouldChange);
        }
        bail!("{shown}: ntpd would not start with the result; nothing written");
    }
    let missed = unmet(&after, asked);
    if !missed.is_empty() {
        for reason in &missed {
            writeln!(
                io.stderr,
                "ntpconf-edit: {shown}: error: {}",
                escape_text(reason)
            )?;
        }
        if run.check {
            return Ok(Exit::WouldChange);
        }
        bail!(
            "{shown}: cannot reach the asked state (ntpd would apply something else); nothing written"
        );
    }
    for key in keys.iter().filter(|_| asked.is_empty()) {
        if let Some(s) = model::effective(&after).get(*key) {
            writeln!(
                io.stderr,
                "ntpconf-edit: {shown}: warning: {key} stays {} because {}:{} sets it",
                escape_text(&s.written),
                escape_path(&s.file),
                s.line
            )?;
        }
    }
    write_result(root, run, &input, &output, io)
}

/// The edited file where `run.output` says, and the exit status.
fn write_result(
    root: &Root,
    run: &EditRun,
    input: &Input,
    output: &[u8],
    io: &mut Io<'_>,
) -> Result<Exit> {
    let changed = output != input.bytes;
    match &run.output {
        EditOutput::Diff => {
            if changed {
                let old = String::from_utf8_lossy(&input.bytes);
                let new = String::from_utf8_lossy(output);
                // The header is the one place the name leaves unescaped
                // otherwise: a name with ESC or CR must not drive the terminal.
                let name = escape_path(&input.name);
                let diff = similar::TextDiff::from_lines(old.as_ref(), new.as_ref());
                write!(io.stdout, "{}", diff.unified_diff().header(&name, &name))?;
            }
        }
        // --check: nothing is written.
        EditOutput::Nothing => {}
        EditOutput::InPlace { backup } => {
            if changed && let Some(jail) = &input.jail {
                atomic_write::replace_in_root(root, jail, output, backup.as_deref(), io.fail_at)
                    .with_context(|| format!("{}: not changed", escape_path(&input.name)))?;
            }
        }
        EditOutput::Stdout => io.stdout.write_all(output)?,
    }
    io.stdout.flush()?;
    Ok(if run.check && changed {
        Exit::WouldChange
    } else {
        Exit::Ok
    })
}

/// The main file's lines that end ntpd's reading besides `end`: the include
/// line whose target reached an `end`.
fn reading_stops(doc: &Document, reading: &Reading) -> Vec<Vec<u8>> {
    let n = reading.main_read_lines;
    match doc.lines.get(n.wrapping_sub(1)) {
        Some(line) if n < doc.lines.len() && !tinker::is_end(&line.text) => {
            vec![line.text.clone()]
        }
        _ => Vec::new(),
    }
}

/// Why ntpd would not apply each asked value from this reading (empty: the
/// file is in the asked state).
fn unmet(reading: &Reading, asked: &[(String, String)]) -> Vec<String> {
    let state = model::applied_state(reading);
    let settings = model::effective(reading);
    let mut out = Vec::new();
    for (key, value) in asked {
        let tinker::Number::Value(number) = tinker::lex_number(value.as_bytes(), Dialect::Classic)
        else {
            continue;
        };
        let wanted = tinker::applied_value(key, number);
        if state.get(key) == Some(&wanted) {
            continue;
        }
        let reason = if let Some(exit) = &reading.exit {
            format!(
                "{key}: {} at {}:{}, so nothing applies",
                exit.describe(),
                exit.file.display(),
                exit.line,
            )
        } else {
            match (
                state.get(key),
                settings.get(key).or_else(|| settings.get("step")),
            ) {
                (Some(have), Some(s)) => format!(
                    "{key} would be {} because {}:{} comes later in ntpd's reading order",
                    model::format_value(*have),
                    s.file.display(),
                    s.line
                ),
                _ => format!("{key} would not be applied by ntpd"),
            }
        };
        out.push(reason);
    }
    out
}
