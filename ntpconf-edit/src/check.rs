//! `check`: where ntpd will do something other than what the file seems to
//! say, and what `tinker step 0` costs on this host.
//!
//! Every finding is one [`Diagnostic`] (code, severity, message, file, line,
//! column) in one list, so another output format (SARIF) is a printer over
//! that list.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::model::{ReadLine, ReadNote, Reading, applied_state, effective, format_value};
use crate::tinker::{Dialect, NOT_TINKER, Pair, SyntaxError, Tinker};

pub use crate::conventions::Severity;
use Severity::{Error, Info, Warning};

use mailhost_common::lint::{self, Rule};

mailhost_common::rule_registry! {
    /// `check`'s codes, each with its one-line summary and its `--explain`
    /// text.  Codes are never reused; a new one goes at the end, with a
    /// case in the registry test below.
    pub enum Code {
        NE001 => Rule::summarised(
            Error,
            "syntax error on a tinker line (part or all of it is dropped)",
            "ntpd reads `tinker KEYWORD NUMBER ...` token by token. An error where a value belongs (a missing value, a word, a hex or quoted number, `=`) drops the whole line, valid pairs included. An error where the next keyword belongs (an unknown keyword, `,`, `}`, a stray word) is reported too, but the pairs before it are already applied and the rest of the line is lost. Keywords are lower case. Fix the line; `ntpconf-edit show` lists what ntpd applies.",
        ),
        NE002 => Rule::summarised(
            Error,
            "tinker line after `end` is never read",
            "ntpd stops reading at `end`, also at an `end` inside an included file, which ends the including files too. A tinker line after it (often appended by `echo ... >> ntp.conf`) does nothing. Move it before `end`; `ntpconf-edit set` writes before `end` on its own.",
        ),
        NE003 => Rule::summarised(
            Warning,
            "stepout below 300 is raised to 300",
            "ntpd's loop filter raises a stepout below 300 s to 300 s (CLOCK_MINSTEP), whatever the man page says about small values. Write 300 or more.",
        ),
        NE004 => Rule::summarised(
            Warning,
            "setting overridden by a later tinker line",
            "ntpd appends the pairs of every tinker line, included files too, and applies them in reading order: the last occurrence of a keyword wins. The earlier one does nothing. `ntpconf-edit set` edits the winning pair and removes the others.",
        ),
        NE005 => Rule::summarised(
            Info,
            "stepback/stepfwd need ntpd 4.2.8p2 or later",
            "`stepback` and `stepfwd` came with ntp 4.2.8p2 (bug 2763) and NTPsec. Older ntpd reports a syntax error and drops the line.",
        ),
        NE006 => Rule::summarised(
            Error,
            "not a tinker keyword (minpoll, ...), or `tick` where it is not one",
            "`minpoll`, `maxpoll`, `codec` and `maxdist` are not tinker keywords in 4.2.8 or NTPsec: the line is dropped. `tinker tick` is applied by classic 4.2.8 (p15 checked) and NTPsec up to 1.2.3; NTPsec 1.2.4 made `tick` a command of its own and drops `tinker tick` lines (a warning with --dialect ntpsec).",
        ),
        NE007 => Rule::summarised(
            Warning,
            "an included file or NTPsec's ntp.d may override tinker",
            "Tinker lines in an `includefile` target (and, for NTPsec, in ntp.d/*.conf beside the file, read after it) are applied in reading order, so they can override the main file. A target that cannot be read (missing, not a regular file, too deep) is skipped by ntpd.",
        ),
        NE008 => Rule::summarised(
            Info,
            "boot-time ntpdate steps the clock whatever tinker says",
            "With ntpdate_enable=\"YES\" and ntpdate_hosts empty, FreeBSD's rc.d/ntpdate takes the hosts of the `server`/`peer`/`pool` lines of this file and steps the clock with `ntpdate -b` before dovecot starts, whatever tinker says. That is the errata's boot-time correction. With ntpdate_hosts set, ntpdate does not read this file at all.",
        ),
        NE009 => Rule::summarised(
            Warning,
            "`;` is not a separator in ntp.conf",
            "ntp.conf has one command per line. A `;` is a token of its own: ntpd reports a syntax error there; the tinker pairs before it still apply, everything after it on the line is dropped.",
        ),
        NE010 => Rule::summarised(
            Warning,
            "`step` resets stepback and stepfwd set earlier",
            "`step` sets both step thresholds. A stepback or stepfwd applied before a later `step` is overwritten. Put stepback/stepfwd after the last `step` (`ntpconf-edit set` does).",
        ),
        NE011 => Rule::summarised(
            Warning,
            "`step 0`/`stepback 0` in force: corrections crawl at 500 ppm",
            "With `step 0` (or `stepback 0`) ntpd never steps the clock (back), it slews at most 500 ppm (0.5 ms per second): an offset of 40 s, the drift of a Hyper-V guest over the host's default 7-day sync interval, takes 80,000 s (about 22 h), and the clock is wrong meanwhile. A FreeBSD guest cannot write its clock to the hardware clock, so every boot may start far off. `ntpd -g` (ntpd_sync_on_start=\"YES\") and `ntpd -q` read this file and slew too; only rc.d/ntpdate (`ntpdate -b`) steps. The errata's fix: remove step 0 (`ntpconf-edit -i unset step stepback`), correct the guest at boot with ntpdate before dovecot (`sysrc ntpdate_enable=YES ntpdate_flags=-b`) and continuously with ntpd (`sysrc ntpd_enable=YES`), and cut the Hyper-V host's w32time SpecialPollInterval from 604800 to 3600 s. --offset SECS sets the offset used for the figure.",
        ),
        NE012 => Rule::summarised(
            Error,
            "ntpd will not start with this file: it exits while reading it (a lexeme it cannot hold, or huffpuff)",
            "ntpd reads its configuration when it starts, and its scanner (ntp_scanner.c) exits on some lexemes: a number it cannot represent, an integer below the 64-bit range (`-99999999999999999999`, or a thousand-digit negative one), a double that underflows to 0 (`1e-400`; NTPsec also for subnormal values such as `1e-310`), a bare `0x`; and any word or quoted string longer than 1024 characters. This holds on any line: a number on a line of its own, a `tinker` or `tos` value, a `server` or `restrict` option, even after a syntax error; not where the scanner expects a string (the word after `server`, `driftfile`, `=`..., the rest of a `logconfig` line; the keyword lists differ between classic ntpd and NTPsec, so one may start where the other does not). After parsing, a `huffpuff` beyond 900 * 2^31 s (1e400 is infinite) asks for a filter ntpd cannot allocate, and it exits too. Then ntpd does not run at all, and nothing keeps the time: `check` reports the line, `show` says so (exit 1), and `set`/`unset` refuse to write a file ntpd would still refuse (exit 2). Fix or remove the line. Checked against the real classic ntpd 4.2.8p15 and NTPsec (make oracle-fuzz-ntp).",
        ),
        NE013 => Rule::summarised(
            Error,
            "chronyd exits on this file (a makestep, maxslewrate or source line it cannot parse)",
            "chronyd treats a directive with too few or too many arguments, or a value it cannot scan, as a fatal error: it exits at start and nothing keeps the time. Checked against the real chronyd (`chronyd -p -f FILE`). Fix the line.",
        ),
        NE014 => Rule::summarised(
            Warning,
            "chrony steps the clock at any time (`makestep THRESHOLD -1`), backwards too",
            "`makestep THRESHOLD LIMIT` lets chronyd step the clock when it is more than THRESHOLD seconds off, during its first LIMIT clock updates; a negative LIMIT allows it at any time. After a VM is paused, restored or migrated, or the hypervisor sets the guest's clock, chronyd then steps it back at once, and dovecot exits with \"Time just moved backwards\". chrony's counterpart of the errata's fix: `makestep 1 3` (step only at start, before dovecot: order chronyd-wait or `chronyc waitsync` before dovecot), and slew afterwards.",
        ),
        NE015 => Rule::summarised(
            Info,
            "chrony keeps the time here and steps only at start (`makestep THRESHOLD LIMIT`)",
            "chronyd steps the clock only during its first LIMIT clock updates, then slews: the boot-time step the errata asks for, before dovecot starts. Shown so that it is clear which daemon was checked (ntpd's ntp.conf is not used on this host).",
        ),
        NE016 => Rule::summarised(
            Info,
            "chrony never steps (no `makestep`): at start it slews",
            "Without `makestep` (or with a limit of 0) chronyd never steps the clock: a boot that starts off is slewed at `maxslewrate` (83333 ppm by default on Linux, one twelfth: 40 s in 8 minutes; on FreeBSD a kernel limit makes it 500 ppm: 40 s in 22 hours), with dovecot already running on the wrong time. Add `makestep 1 3` to step at start.",
        ),
        NE017 => Rule::summarised(
            Warning,
            "systemd-timesyncd steps the clock whenever it is more than 0.4 s off, backwards too",
            "systemd-timesyncd slews an offset below 0.4 s (NTP_MAX_ADJUST in timesyncd-manager.c) and steps a larger one, at any time, and has no setting to change that: after a VM is paused or restored it steps the clock back and dovecot exits with \"Time just moved backwards\". On a mail host use chrony with `makestep 1 3` (step at start only) instead: `apt install chrony` replaces systemd-timesyncd.",
        ),
    }
}

/// One finding of `check`.  The field names are the JSON output's.
pub type Diagnostic = lint::Diagnostic<Code>;

/// What `check` prints and how it exits: 1 on a warning or an error.
pub const LINTER: lint::Linter = lint::Linter {
    tool: "ntpconf-edit",
    version: env!("CARGO_PKG_VERSION"),
    exit: lint::ExitRule::AtLeast(Severity::Warning),
    json_service: false,
    sarif_help: lint::SarifHelp::ExplainText,
};

pub(crate) fn diag(
    file: &Path,
    line: usize,
    column: usize,
    code: Code,
    message: String,
) -> Diagnostic {
    Diagnostic::new(file, line, column, code, message)
}

/// How the boot-time correction treats this file, from FreeBSD's rc.conf.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BootSync {
    /// rc.conf was found (a FreeBSD tree).
    pub freebsd: bool,
    /// ntpd_enable="YES".
    pub ntpd: bool,
    /// ntpd_sync_on_start="YES": ntpd -g reads this file at boot.
    pub ntpd_sync_on_start: bool,
    /// ntpdate_enable="YES".
    pub ntpdate: bool,
    /// ntpdate_hosts is set: ntpdate does not read this file.
    pub ntpdate_hosts: bool,
    /// ntpdate reads this file's server lines (its ntpdate_config is this file).
    pub ntpdate_reads_this_file: bool,
    /// ntpdate_flags has -b (step).
    pub ntpdate_steps: bool,
}

impl BootSync {
    /// From the rc.conf chain, for the ntp.conf at `jail`.  FreeBSD's
    /// defaults apply where /etc/defaults/rc.conf is missing from the tree.
    pub fn from_rc(rc: &mailhost_common::rcconf::RcConf, jail: Option<&Path>) -> BootSync {
        let freebsd = !rc.files().is_empty();
        let ntpdate_config = rc.get("ntpdate_config").unwrap_or("/etc/ntp.conf");
        let hosts = rc
            .get("ntpdate_hosts")
            .is_some_and(|h| !h.trim().is_empty());
        BootSync {
            freebsd,
            ntpd: rc.is_yes("ntpd_enable"),
            ntpd_sync_on_start: rc.is_yes("ntpd_sync_on_start"),
            ntpdate: rc.is_yes("ntpdate_enable"),
            ntpdate_hosts: hosts,
            ntpdate_reads_this_file: !hosts && jail.is_some_and(|j| j == Path::new(ntpdate_config)),
            ntpdate_steps: rc
                .get("ntpdate_flags")
                .unwrap_or("-b")
                .split_whitespace()
                .any(|f| f.starts_with('-') && f.contains('b')),
        }
    }
}

/// What `check` needs beyond the reading.
pub struct Context<'a> {
    pub main: &'a Path,
    pub dialect: Dialect,
    pub boot: BootSync,
    /// The offset whose slew time NE011 states, seconds.
    pub offset: f64,
}

/// ntpd's slew limit: 500 ppm.
pub const SLEW_PPM: f64 = 500.0;

/// Seconds ntpd needs to slew `offset` seconds away at 500 ppm.
pub fn slew_seconds(offset: f64) -> f64 {
    offset.abs() / (SLEW_PPM * 1e-6)
}

pub(crate) fn human_duration(seconds: f64) -> String {
    if seconds >= 172_800.0 {
        format!("{:.1} days", seconds / 86_400.0)
    } else if seconds >= 3_600.0 {
        format!("{:.1} h", seconds / 3_600.0)
    } else {
        format!("{:.0} min", seconds / 60.0)
    }
}

/// Everything `check` reports for a reading, in file order.
pub fn check(reading: &Reading, cx: &Context<'_>) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    if let Some(exit) = &reading.exit {
        out.push(diag(
            &exit.file,
            exit.line,
            exit.column,
            Code::NE012,
            format!(
                "ntpd will not start: {} here, so nothing of this file applies",
                exit.describe()
            ),
        ));
    }
    let mut pairs_read = PairsRead::default();
    for line in &reading.lines {
        match &line.tinker {
            Tinker::Other => {}
            Tinker::Dropped { reason, column } => out.push(dropped_line(line, reason, *column)),
            Tinker::Applied { pairs, error } => {
                if let Some(error) = error {
                    out.push(syntax_error(line, pairs, error));
                }
                for pair in pairs {
                    pairs_read.read(line, pair, cx, &mut out);
                }
            }
        }
    }
    out.extend(pairs_read.overridden());
    out.extend(reading.notes.iter().map(read_note));
    slew_findings(reading, cx, &mut out);
    out.sort_by(|a, b| {
        (&a.file, a.line, a.column, a.code).cmp(&(&b.file, b.line, b.column, b.code))
    });
    out
}

/// NE006 for a word current ntpd does not know as a tinker keyword, else
/// NE001: ntpd drops the whole line.
fn dropped_line(line: &ReadLine, reason: &str, column: usize) -> Diagnostic {
    let code = if NOT_TINKER
        .iter()
        .any(|k| reason.contains(&format!("`{k}`")))
    {
        Code::NE006
    } else {
        Code::NE001
    };
    diag(
        &line.file,
        line.line,
        column + 1,
        code,
        format!("ntpd drops this line: {reason}"),
    )
}

/// NE009 (a `;`) or NE001: a syntax error after the pairs ntpd applies.
fn syntax_error(line: &ReadLine, pairs: &[Pair], error: &SyntaxError) -> Diagnostic {
    let kept: Vec<String> = pairs
        .iter()
        .map(|p| format!("{} {}", p.key, p.value))
        .collect();
    let (code, message) = if error.semicolon {
        (
            Code::NE009,
            format!(
                "ntpd reports a syntax error at `;` ({} still applied, the rest of the line is dropped)",
                kept.join(" ")
            ),
        )
    } else {
        (
            Code::NE001,
            format!(
                "ntpd reports a syntax error here: {}; the pairs before it ({}) still apply, the rest of the line is dropped",
                error.reason,
                kept.join(" ")
            ),
        )
    };
    diag(&line.file, line.line, error.column + 1, code, message)
}

/// The applied pairs in reading order: where each key was last set, and
/// the settings a later one overrides (NE004, reported after the walk).
#[derive(Default)]
struct PairsRead {
    last_seen: BTreeMap<String, (PathBuf, usize)>,
    /// (file, line, key) overridden by (later file, later line).
    overridden: Vec<(PathBuf, usize, String, PathBuf, usize)>,
}

impl PairsRead {
    /// One applied pair: NE004 (remembered), NE010, and its value's own
    /// findings (NE003, NE005, NE006).
    fn read(&mut self, line: &ReadLine, pair: &Pair, cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
        if let Some((file, n)) = self.last_seen.get(&pair.key) {
            self.overridden.push((
                file.clone(),
                *n,
                pair.key.clone(),
                line.file.clone(),
                line.line,
            ));
        }
        if pair.key == "step" {
            for direction in ["stepback", "stepfwd"] {
                if let Some((file, n)) = self.last_seen.get(direction) {
                    out.push(diag(
                        file,
                        *n,
                        1,
                        Code::NE010,
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
        self.last_seen
            .insert(pair.key.clone(), (line.file.clone(), line.line));
        out.extend(pair_value(line, pair, cx.dialect));
    }

    /// NE004: each setting a later one of the same key overrides.
    fn overridden(self) -> impl Iterator<Item = Diagnostic> {
        self.overridden
            .into_iter()
            .map(|(file, line, key, later_file, later_line)| {
                diag(
                    &file,
                    line,
                    1,
                    Code::NE004,
                    format!(
                        "{key} here is overridden by {}:{later_line}",
                        later_file.display()
                    ),
                )
            })
    }
}

/// What one pair's key and value say on their own: a stepout below ntpd's
/// floor (NE003), a key older ntpd lacks (NE005), NTPsec's `tick` (NE006).
fn pair_value(line: &ReadLine, pair: &Pair, dialect: Dialect) -> Option<Diagnostic> {
    let col = pair.key_range.start + 1;
    let (code, message) = match pair.key.as_str() {
        "stepout" if pair.number < 300.0 => (
            Code::NE003,
            format!("stepout {} is below 300; ntpd uses 300", pair.value),
        ),
        "stepback" | "stepfwd" => (
            Code::NE005,
            format!(
                "{} needs ntpd 4.2.8p2 or later (or NTPsec); older ntpd drops the line",
                pair.key
            ),
        ),
        "tick" if dialect == Dialect::Ntpsec => (
            Code::NE006,
            "NTPsec 1.2.4 and later drop this whole line (`tick` became a command of its own); NTPsec up to 1.2.3 and classic 4.2.8 apply it".into(),
        ),
        _ => return None,
    };
    Some(diag(&line.file, line.line, col, code, message))
}

/// NE002 (a tinker line after `end`) and NE007 (an included file).
fn read_note(note: &ReadNote) -> Diagnostic {
    match note {
        ReadNote::AfterEnd(line) => diag(
            &line.file,
            line.line,
            1,
            Code::NE002,
            "tinker after `end`: ntpd stops reading at `end`, so this is never applied".into(),
        ),
        ReadNote::Include {
            file,
            line,
            target,
            problem,
        } => {
            let what = if *line == 0 {
                "NTPsec also reads"
            } else {
                "includefile"
            };
            let message = match problem {
                Some(problem) => format!("{what} {}: {problem}", target.display()),
                None => format!(
                    "{what} {}: tinker lines there override earlier ones in reading order",
                    target.display()
                ),
            };
            diag(file, (*line).max(1), 1, Code::NE007, message)
        }
    }
}

/// NE011 (what `step 0` costs and who corrects the clock at boot) and NE008
/// (the boot-time ntpdate that steps anyway).
fn slew_findings(reading: &Reading, cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    let state = applied_state(reading);
    let settings = effective(reading);
    let Some(key) = ["step", "stepback"]
        .into_iter()
        .rev()
        .find(|k| state.get(*k) == Some(&0.0))
    else {
        return;
    };
    let (file, line) = settings
        .get(key)
        .or_else(|| settings.get("step"))
        .map_or((cx.main.to_path_buf(), 1), |s| (s.file.clone(), s.line));
    let slew = slew_seconds(cx.offset);
    let what = if key == "step" {
        "never steps the clock"
    } else {
        "never steps the clock back"
    };
    let boot = &cx.boot;
    let path = if !boot.freebsd {
        "no FreeBSD rc.conf here: `ntpd -g` and `ntpd -q` read this file and slew as well"
            .to_string()
    } else if boot.ntpdate && boot.ntpdate_reads_this_file && boot.ntpdate_steps {
        "at boot rc.d/ntpdate takes only the server lines of this file and steps (`ntpdate -b`), so the boot is corrected; every later jump crawls".to_string()
    } else if boot.ntpdate && boot.ntpdate_hosts && boot.ntpdate_steps {
        "at boot rc.d/ntpdate steps from ntpdate_hosts (it does not read this file), so the boot is corrected; every later jump crawls".to_string()
    } else if boot.ntpd_sync_on_start {
        "at boot `ntpd -g` (ntpd_sync_on_start=\"YES\") reads this file and slews too: a guest that boots far off crawls back".to_string()
    } else {
        "nothing steps at boot (no ntpdate_enable=\"YES\" with -b): a guest that boots far off crawls back".to_string()
    };
    out.push(diag(
        &file,
        line,
        1,
        Code::NE011,
        format!(
            "{key} 0: ntpd {what} and slews at most 500 ppm, so a {} s offset takes {} s ({}) to correct; {path}. The errata's fix: ntpdate at boot before dovecot, ntpd afterwards, the Hyper-V host's sync interval at 1 h (see --explain NE011)",
            format_value(cx.offset),
            format_value(slew.round()),
            human_duration(slew),
        ),
    ));
    if boot.freebsd
        && boot.ntpdate
        && boot.ntpdate_reads_this_file
        && let Some(line) = boot_ntpdate_server_line(reading)
    {
        {
            out.push(diag(cx.main, line, 1, Code::NE008, format!(
                "ntpd will not step back ({key} 0), but the boot-time rc.d/ntpdate{} reads the server lines of this file and steps the clock anyway; that is harmless only while it runs before dovecot",
                if boot.ntpdate_steps { " -b" } else { "" })));
        }
    }
}

/// The first line of the main file FreeBSD's rc.d/ntpdate takes a host from
/// ([`crate::associations::boot_ntpdate_hosts`]).
fn boot_ntpdate_server_line(reading: &Reading) -> Option<usize> {
    crate::associations::boot_ntpdate_hosts(reading)
        .first()
        .map(|(line, _)| *line)
}

/// The tool name of the per-file comment `# ntpconf-edit: ignore
/// NE006[,NE007...]` (a comment, so ntpd ignores it).
pub const SUPPRESS_TOOL: &str = "ntpconf-edit";

/// The codes each file suppresses with its comment.
pub fn suppressions(reading: &Reading) -> lint::Suppressions<Code> {
    let mut out = lint::Suppressions::new();
    let lines = reading
        .lines
        .iter()
        .chain(reading.notes.iter().filter_map(|n| match n {
            ReadNote::AfterEnd(l) => Some(l),
            _ => None,
        }));
    for line in lines {
        let text = String::from_utf8_lossy(&line.text);
        let Some(hash) = text.find('#') else { continue };
        if let Some(codes) = lint::suppressed_codes::<Code>(&text[hash + 1..], SUPPRESS_TOOL) {
            out.entry(line.file.clone()).or_default().extend(codes);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_explains_itself() {
        for code in <Code as lint::RuleCode>::ALL {
            let rule = lint::RuleCode::rule(*code);
            assert!(rule.explain.len() > 60, "{}", rule.code);
        }
        assert_eq!(lint::find::<Code>("ne011"), Some(Code::NE011));
    }

    #[test]
    fn slew_time_at_500_ppm() {
        assert_eq!(slew_seconds(40.0), 80_000.0);
        assert_eq!(human_duration(80_000.0), "22.2 h");
    }
}
