//! `maillog-grep`: every time-jump event in mail and system logs, rotated
//! and compressed ones too, at grep speed.
//!
//! - [`scan`]: whole-buffer literal search; only lines with a literal are parsed.
//! - [`probe`]: the default mode's faster search, for backward jumps only.
//! - [`search`]: one job per file, big plain files in parts, on every core.
//! - [`input`]: compression by magic bytes.  [`files`]: which files, in which order.
//! - [`record`]: a log line in any common format.  [`event`]: which messages are events.
//! - [`year`]: years for year-less timestamps.  [`timefilter`]: --since/--until.
//! - [`summary`]: per host, and the step behind each dovecot event.
//! - [`context`]: `-A/-B/-C`, the lines around each event, from a second read.

pub mod cli;
pub mod context;
pub mod event;
pub mod files;
pub mod input;
pub mod mapped;
pub mod probe;
pub mod record;
pub mod scan;
pub mod search;
pub mod summary;
pub mod timefilter;
pub mod year;

#[path = "../../common/conventions.rs"]
pub mod conventions;

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use chrono::{NaiveDate, NaiveDateTime, TimeDelta};
use serde::Serialize;

use crate::cli::Cli;
use crate::conventions::{Format, under_root};
use crate::event::{Event, Kind};
use crate::scan::Hit;
use crate::search::Input;
use crate::year::Resolved;

pub const EXIT_FOUND: u8 = 0;
pub const EXIT_NONE: u8 = 1;
pub const EXIT_ERROR: u8 = 2;

/// What the logic needs from the outside world, passed in so it reads no
/// clock and no environment of its own.
pub struct Env<'a> {
    pub now_utc: NaiveDateTime,
    /// Seconds east of UTC of the machine reading the logs.
    pub local_offset: i32,
    pub threads: usize,
    pub color: bool,
    pub stdin: &'a mut dyn Read,
    pub stdout: &'a mut dyn Write,
    pub stderr: &'a mut dyn Write,
}

/// An event as found in a file.
#[derive(Clone, Debug)]
pub struct Found {
    /// Index into the list of inputs.
    pub file: usize,
    pub line: Option<u64>,
    /// Byte offset of the line in the (decoded) input.
    pub offset: u64,
    pub text: Vec<u8>,
    pub time: Option<Resolved>,
    pub host: Option<String>,
    pub program: Option<String>,
    pub pid: Option<u32>,
    pub event: Event,
    /// 1, or N for a `last message repeated N times` line.
    pub count: u64,
}

pub fn run(cli: &Cli, env: &mut Env<'_>) -> Result<u8> {
    let since = parse_when(cli.since.as_deref(), env)?;
    let until = parse_when(cli.until.as_deref(), env)?;
    if !(cli.window.is_finite() && cli.window >= 0.0) {
        bail!("--window must be a number of seconds, 0 or more");
    }
    let mut errored = false;
    let inputs = collect_inputs(cli, env, &mut errored)?;
    let matcher = if cli.all || cli.summary {
        scan::Matcher::new(event::ANCHORS)
    } else {
        scan::Matcher::backward()
    };
    let count_lines = cli.line_number || cli.format == Format::Json || cli.summary;
    let threads = cli.threads.unwrap_or(env.threads).max(1);
    let searched = search::search_all(&inputs, &matcher, count_lines, threads, env.stdin);

    let names: Vec<String> = inputs.iter().map(Input::display).collect();
    let mut all_found: Vec<Vec<Found>> = Vec::new();
    // Only the line output and JSON print an event's text: counts and
    // summaries do not keep it (memory grows with the events found).
    let keep_text = !(cli.count || cli.files_with_matches || cli.quiet || cli.summary);
    let mut files = Vec::new();
    for (index, (input, mut result)) in inputs.iter().zip(searched).enumerate() {
        files.push(result.file.take());
        for error in &result.errors {
            writeln!(env.stderr, "maillog-grep: {}: {error}", names[index])?;
            errored = true;
        }
        for offset in &result.overlong {
            writeln!(
                env.stderr,
                "maillog-grep: {}: the line at byte {offset} is longer than {} MiB; only its first {} MiB were searched",
                names[index],
                scan::MAX_LINE >> 20,
                scan::MAX_LINE >> 20
            )?;
            errored = true;
        }
        let anchor = year_anchor(cli, env, input);
        all_found.push(events_of(index, result.hits, anchor, keep_text));
    }

    let wanted = |f: &Found| {
        (cli.all || f.event.kind == Kind::Backward)
            && since
                .as_ref()
                .is_none_or(|s| f.time.is_some_and(|t| timefilter::at_or_after(&t, s)))
            && until
                .as_ref()
                .is_none_or(|u| f.time.is_some_and(|t| !timefilter::at_or_after(&t, u)))
    };
    let shown: Vec<Vec<&Found>> = all_found
        .iter()
        .map(|fs| fs.iter().filter(|f| wanted(f)).collect())
        .collect();
    let found_any = shown.iter().any(|fs| !fs.is_empty());

    if !cli.quiet {
        if cli.summary {
            let flat: Vec<&Found> = shown.iter().flatten().copied().collect();
            let steps: Vec<&Found> = all_found
                .iter()
                .flatten()
                .filter(|f| f.event.is_step)
                .collect();
            let summaries = summary::summarize(&flat, &steps, &names, cli.window, env.local_offset);
            match cli.format {
                Format::Json => {
                    for s in &summaries {
                        serde_json::to_writer(&mut *env.stdout, s)?;
                        writeln!(env.stdout)?;
                    }
                }
                Format::Text => summary::write_text(env.stdout, &summaries, cli.window)?,
            }
        } else {
            errored |= write_results(cli, env, &names, &files, &shown)?;
        }
    }
    env.stdout.flush()?;
    Ok(if errored && !(cli.quiet && found_any) {
        EXIT_ERROR
    } else if found_any {
        EXIT_FOUND
    } else {
        EXIT_NONE
    })
}

fn parse_when(text: Option<&str>, env: &Env<'_>) -> Result<Option<timefilter::Instant>> {
    text.map(|t| timefilter::parse(t, env.now_utc, env.local_offset).map_err(anyhow::Error::msg))
        .transpose()
}

/// The files to read, in order.  Missing paths are reported and skipped.
fn collect_inputs(cli: &Cli, env: &mut Env<'_>, errored: &mut bool) -> Result<Vec<Input>> {
    let mut named: Vec<PathBuf> = cli.paths.clone();
    if named.is_empty() {
        let candidates =
            ["/var/log/maillog", "/var/log/mail.log"].map(|p| under_root(&cli.root, Path::new(p)));
        match candidates.iter().find(|p| p.exists()) {
            Some(p) => named.push(p.clone()),
            None => bail!(
                "no log to read: neither {} nor {} exists (name files to search)",
                candidates[0].display(),
                candidates[1].display()
            ),
        }
    }
    let mut inputs = Vec::new();
    for path in named {
        if path.as_os_str() == "-" {
            inputs.push(Input::Stdin);
        } else if path.is_dir() {
            for entry in files::walk(&path) {
                match entry {
                    Ok(file) => inputs.push(Input::File(file)),
                    Err(e) => {
                        writeln!(env.stderr, "maillog-grep: {e}")?;
                        *errored = true;
                    }
                }
            }
        } else if cli.rotated {
            if !path.exists() {
                writeln!(
                    env.stderr,
                    "maillog-grep: {}: No such file or directory (os error 2)",
                    path.display()
                )?;
                *errored = true;
            }
            inputs.extend(
                files::with_rotated(&path)
                    .into_iter()
                    .filter(|p| p.exists())
                    .map(Input::File),
            );
        } else {
            inputs.push(Input::File(path));
        }
    }
    Ok(inputs)
}

/// The local time a file was last written, or the end of `--year`.
fn year_anchor(cli: &Cli, env: &Env<'_>, input: &Input) -> NaiveDateTime {
    if let Some(year) = cli.year {
        let end = NaiveDate::from_ymd_opt(year, 12, 31).and_then(|d| d.and_hms_opt(23, 59, 59));
        if let Some(end) = end {
            return end;
        }
    }
    let now_local = env.now_utc + TimeDelta::seconds(i64::from(env.local_offset));
    let Input::File(path) = input else {
        return now_local;
    };
    let modified = std::fs::metadata(path).and_then(|m| m.modified()).ok();
    modified
        .and_then(|m| {
            chrono::DateTime::<chrono::Utc>::from(m)
                .naive_utc()
                .checked_add_signed(TimeDelta::seconds(i64::from(env.local_offset)))
        })
        .unwrap_or(now_local)
}

/// Turns one file's hits into events: classify, count repeats, resolve years.
/// The hits are consumed: a hit's line becomes its event's text (when
/// `keep_text`), never a copy.
fn events_of(file: usize, hits: Vec<Hit>, anchor: NaiveDateTime, keep_text: bool) -> Vec<Found> {
    let mut found: Vec<Found> = Vec::new();
    let mut stamps = Vec::new();
    // End offset of the last event line, to know if a repeat line follows it.
    let mut last_event_end: Option<u64> = None;
    let text = |b: &[u8]| Some(String::from_utf8_lossy(b).into_owned());
    for hit in hits {
        let record = record::parse(&hit.line);
        let end = hit.offset + hit.line.len() as u64;
        let host = record.host.and_then(text);
        // What the line says, as (event, count, program, pid); `None` when
        // it is no event.
        let said = if let Some((count, quoted)) = event::repeat(&record) {
            match quoted {
                // rsyslog names what it repeats: classify that text.
                Some(quoted) => {
                    let inner = record::parse_tagged(quoted);
                    event::classify(&inner)
                        .map(|event| (event, count, inner.program.and_then(text), inner.pid))
                }
                // syslogd's repeat: of the event right before it, if any.
                None => found
                    .last()
                    .filter(|_| last_event_end.is_some_and(|e| e + 1 == hit.offset))
                    .map(|previous| {
                        (
                            previous.event.clone(),
                            count,
                            previous.program.clone(),
                            previous.pid,
                        )
                    }),
            }
        } else {
            event::classify(&record)
                .map(|event| (event, 1, record.program.and_then(text), record.pid))
        };
        let Some((event, count, program, pid)) = said else {
            last_event_end = None;
            continue;
        };
        stamps.push(record.stamp);
        last_event_end = Some(end);
        found.push(Found {
            file,
            line: hit.number,
            offset: hit.offset,
            text: if keep_text { hit.line } else { Vec::new() },
            time: None,
            host,
            program,
            pid,
            event,
            count,
        });
    }
    for (f, time) in found.iter_mut().zip(year::resolve(&stamps, anchor)) {
        f.time = time;
    }
    found
}

#[derive(Serialize)]
struct JsonEvent<'a> {
    file: &'a str,
    line: Option<u64>,
    timestamp: Option<String>,
    host: Option<&'a str>,
    program: Option<&'a str>,
    pid: Option<u32>,
    source: event::Source,
    kind: Kind,
    seconds: Option<f64>,
    fatal: bool,
    text: String,
    count: u64,
}

/// Prints the events; true when an error was reported on the way (a file
/// that could not be read again for its context lines).
fn write_results(
    cli: &Cli,
    env: &mut Env<'_>,
    names: &[String],
    files: &[Option<File>],
    shown: &[Vec<&Found>],
) -> Result<bool> {
    let with_name = !cli.no_filename && (cli.with_filename || names.len() > 1);
    let (pre, post) = if env.color {
        ("\x1b[35m", "\x1b[0m")
    } else {
        ("", "")
    };
    let around = cli.around();
    let mut errored = false;
    // Whether a context group was printed (the next one needs `--`).
    let mut any_group = false;
    let out = &mut *env.stdout;
    for (index, found) in shown.iter().enumerate() {
        let name = &names[index];
        if cli.files_with_matches {
            if !found.is_empty() {
                writeln!(out, "{pre}{name}{post}")?;
            }
            continue;
        }
        if cli.count {
            let n: u64 = found.iter().map(|f| f.count).sum();
            if with_name {
                write!(out, "{pre}{name}{post}:")?;
            }
            writeln!(out, "{n}")?;
            continue;
        }
        let prefix = GrepPrefix {
            name: with_name.then(|| format!("{pre}{name}{post}")),
            line_number: cli.line_number,
        };
        // The events printed one by one: all of them, unless context lines
        // printed them (then only those it could not place).
        let missed: Vec<&Found>;
        let mut alone: &[&Found] = found;
        if cli.format == Format::Text && !around.is_none() && !found.is_empty() {
            match &files[index] {
                Some(file) => {
                    let printed = print_with_context(out, file, found, around, &prefix, any_group)?;
                    any_group = printed.any_group;
                    missed = printed.missed.iter().map(|&i| found[i]).collect();
                    alone = &missed;
                    if let Some(e) = printed.read_error {
                        writeln!(
                            env.stderr,
                            "maillog-grep: {name}: reading it again for the lines around events: {e}"
                        )?;
                        errored = true;
                    } else if !alone.is_empty() {
                        writeln!(
                            env.stderr,
                            "maillog-grep: {name}: changed since it was searched; {} events are printed without the lines around them",
                            alone.len()
                        )?;
                        errored = true;
                    }
                }
                None => {
                    writeln!(
                        env.stderr,
                        "maillog-grep: {name}: read once (standard input or a FIFO), so its events are printed without the lines around them"
                    )?;
                }
            }
        }
        for f in alone {
            match cli.format {
                Format::Json => {
                    let row = JsonEvent {
                        file: name,
                        line: f.line,
                        timestamp: f.time.map(|t| t.rfc3339()),
                        host: f.host.as_deref(),
                        program: f.program.as_deref(),
                        pid: f.pid,
                        source: f.event.source,
                        kind: f.event.kind,
                        seconds: f.event.seconds,
                        fatal: f.event.fatal,
                        text: String::from_utf8_lossy(&f.text).into_owned(),
                        count: f.count,
                    };
                    serde_json::to_writer(&mut *out, &row)?;
                    writeln!(out)?;
                }
                Format::Text => {
                    if let Some(name) = &prefix.name {
                        write!(out, "{name}:")?;
                    }
                    if let (true, Some(n)) = (cli.line_number, f.line) {
                        write!(out, "{n}:")?;
                    }
                    out.write_all(&f.text)?;
                    out.write_all(b"\n")?;
                }
            }
        }
    }
    Ok(errored)
}

/// grep's prefixes: `name:12:` on an event's line, `name-11-` around it.
struct GrepPrefix {
    /// The file name, coloured when asked for; `None` without file names.
    name: Option<String>,
    line_number: bool,
}

impl context::Prefix for GrepPrefix {
    fn write(&self, out: &mut dyn Write, line_number: u64, is_event: bool) -> std::io::Result<()> {
        let separator = if is_event { ':' } else { '-' };
        if let Some(name) = &self.name {
            write!(out, "{name}{separator}")?;
        }
        if self.line_number {
            write!(out, "{line_number}{separator}")?;
        }
        Ok(())
    }
}

/// Reads `file` again from its start, decoded as the search read it, and
/// prints its events with the lines around them.  Errors are the output's.
fn print_with_context(
    out: &mut dyn Write,
    file: &File,
    found: &[&Found],
    around: context::Around,
    prefix: &GrepPrefix,
    any_group: bool,
) -> std::io::Result<context::Printed> {
    let reader = input::RangeReader { file, position: 0 };
    let decoded = match input::decoder(reader) {
        Ok((decoded, _)) => decoded,
        Err(e) => {
            return Ok(context::Printed {
                missed: (0..found.len()).collect(),
                read_error: Some(e),
                any_group,
            });
        }
    };
    let mut lines = std::io::BufReader::with_capacity(256 * 1024, decoded);
    let offsets: Vec<u64> = found.iter().map(|f| f.offset).collect();
    context::print(out, &mut lines, &offsets, around, prefix, any_group)
}

/// The extra sections of the man page.
pub fn man_page() -> conventions::ManPage<'static> {
    conventions::ManPage {
        exit_status: cli::EXIT_STATUS,
        examples: cli::EXAMPLES,
        files: &[
            (
                "/var/log/maillog",
                "FreeBSD's mail log, read by default (under --root).",
            ),
            (
                "/var/log/mail.log",
                "Debian's mail log, read by default when there is no maillog.",
            ),
        ],
        see_also: "grep(1), zgrep(1), newsyslog(8), logrotate(8), xinetd-lint(8), ntpconf-edit(8), clockcheck(8)",
    }
}
