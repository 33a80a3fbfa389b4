//! What is printed, file by file, as the search delivers its hits.
//!
//! When no timestamp is needed (lines, `-c`, `-l`, `-q` without `--since`
//! or `--until`), each event is printed or counted as it comes and not kept:
//! memory stays flat however many events a file holds.  Otherwise events
//! are kept until their years are known, because a year-less timestamp's
//! year depends on the lines after it: up to the next event that says its
//! year, or the end of the file.  Then they are printed, and dropped.  Only
//! `--summary` keeps events across files, without their text.

use std::fs::File;
use std::io::Write;

use anyhow::Result;
use serde::Serialize;

use crate::cli::Cli;
use crate::conventions::Format;
use crate::event::{self, Kind};
use crate::found::{self, Classifier, Found};
use crate::scan::{self, Hits};
use crate::search::{Input, Next, Searched, Sink};
use crate::{Clock, context, input, timefilter, year};

/// Where the report goes.
pub struct Output<'o> {
    pub stdout: &'o mut dyn Write,
    pub stderr: &'o mut dyn Write,
    pub color: bool,
}

/// The search's sink: turns hits into events and prints them.
pub struct Report<'r, 'o> {
    cli: &'r Cli,
    out: Output<'o>,
    clock: Clock,
    inputs: &'r [Input],
    names: &'r [String],
    since: Option<timefilter::Instant>,
    /// The names as printed on standard error (always escaped).
    err_names: Vec<String>,
    /// Who logs as dovecot (default idents and instance names).
    pub idents: std::sync::Arc<crate::event::Idents>,
    until: Option<timefilter::Instant>,
    /// Print (or count) events as they come, keeping none.
    at_once: bool,
    /// Events keep their line: it is printed (lines or JSON).
    keep_text: bool,
    /// Print the lines around each event (`-A/-B/-C` with line output).
    with_context: bool,
    with_name: bool,
    /// The line prefix of the file being printed: (input, prefix).
    prefix: Option<(usize, Option<String>)>,
    /// The file being read: its classifier, and its events when kept.
    classifier: Option<Classifier>,
    kept: Vec<Found>,
    /// When the file was last written (for years), once looked up.
    anchor: Option<year::Anchor>,
    /// The file's events shown so far, counting repeats, for `-c` and `-l`.
    file_count: u64,
    file_any: bool,
    /// Whether a context group was printed (the next one needs `--`).
    any_group: bool,
    /// For `--summary`: the events shown, and every clock step found.
    pub summary_shown: Vec<Found>,
    pub summary_steps: Vec<Found>,
    pub found_any: bool,
    /// True when an error was reported on stderr.
    pub errored: bool,
}

impl<'r, 'o> Report<'r, 'o> {
    pub fn new(
        cli: &'r Cli,
        out: Output<'o>,
        clock: Clock,
        inputs: &'r [Input],
        names: &'r [String],
        since: Option<timefilter::Instant>,
        until: Option<timefilter::Instant>,
    ) -> Report<'r, 'o> {
        // Only the line output and JSON print an event's text: counts and
        // summaries do not keep it.
        let keep_text = !(cli.count || cli.files_with_matches || cli.quiet || cli.summary);
        let prints_lines = cli.format == Format::Text && keep_text;
        let with_context = prints_lines && !cli.around().is_none();
        let needs_time =
            cli.format == Format::Json || cli.summary || since.is_some() || until.is_some();
        Report {
            cli,
            out,
            clock,
            inputs,
            names,
            since,
            until,
            at_once: !(needs_time || with_context),
            keep_text,
            with_context,
            with_name: !cli.no_filename && (cli.with_filename || names.len() > 1),
            prefix: None,
            classifier: None,
            kept: Vec::new(),
            anchor: None,
            file_count: 0,
            file_any: false,
            any_group: false,
            summary_shown: Vec::new(),
            idents: std::sync::Arc::new(crate::event::Idents::default()),
            err_names: names
                .iter()
                .map(|n| match cli.format {
                    Format::Json => crate::conventions::escape_text(n).into_owned(),
                    Format::Text => n.clone(),
                })
                .collect(),
            summary_steps: Vec::new(),
            found_any: false,
            errored: false,
        }
    }

    /// Whether the user asked for this event.
    fn wanted(&self, f: &Found) -> bool {
        (self.cli.all
            || (f.event.kind == Kind::Backward && !f.event.all_only)
            // A dovecot login's death as xinetd logs it: --summary ties it
            // to the clock step before it.
            || (self.cli.summary && f.event.kind == Kind::Exit))
            && self
                .since
                .as_ref()
                .is_none_or(|s| f.time.is_some_and(|t| timefilter::at_or_after(&t, s)))
            && self
                .until
                .as_ref()
                .is_none_or(|u| f.time.is_some_and(|t| !timefilter::at_or_after(&t, u)))
    }

    /// The file name, coloured when asked for.
    fn colored_name(&self, input: usize) -> String {
        let (pre, post) = if self.out.color {
            ("\x1b[35m", "\x1b[0m")
        } else {
            ("", "")
        };
        format!("{pre}{}{post}", self.names[input])
    }

    /// The file name as printed before a line; `None` without file names.
    fn name_prefix(&self, input: usize) -> Option<String> {
        self.with_name.then(|| self.colored_name(input))
    }

    /// Counts an event the user asked for, and prints it when lines are
    /// printed.  `Stop` once `-q` has its answer, `SkipInput` once `-l` has
    /// this file's.
    fn show(&mut self, f: Found) -> Result<Next> {
        self.note_shown(f.count);
        let cli = self.cli;
        if cli.quiet {
            return Ok(Next::Stop);
        }
        if cli.summary {
            self.summary_shown.push(f);
            return Ok(Next::Continue);
        }
        if cli.files_with_matches {
            return Ok(Next::SkipInput);
        }
        if cli.count {
            return Ok(Next::Continue);
        }
        self.print_event(&f)?;
        Ok(Next::Continue)
    }

    /// Counts events shown (`count` with repeats), for `-c`, `-l` and the
    /// exit status.
    fn note_shown(&mut self, count: u64) {
        self.found_any = true;
        self.file_any = true;
        self.file_count += count;
    }

    /// Prints one event, as JSON or as its line with grep's prefixes.
    fn print_event(&mut self, f: &Found) -> Result<()> {
        // The prefix once per file, not once per line.
        if self
            .prefix
            .as_ref()
            .is_none_or(|(input, _)| *input != f.file)
        {
            self.prefix = Some((f.file, self.name_prefix(f.file)));
        }
        let name = self.prefix.as_ref().and_then(|(_, name)| name.as_deref());
        write_event(
            &mut *self.out.stdout,
            self.cli,
            &self.names[f.file],
            name,
            f,
        )
    }

    /// The kept events, at the end of their file or at an event that says
    /// its year: years, the filters, then printing.
    fn show_kept(&mut self, input: usize, file: Option<&File>) -> Result<Next> {
        let mut kept = std::mem::take(&mut self.kept);
        if kept.is_empty() {
            return Ok(Next::Continue);
        }
        let (cli, clock) = (self.cli, self.clock);
        let anchor = *self
            .anchor
            .get_or_insert_with(|| crate::year_anchor(cli, &clock, &self.inputs[input]));
        found::resolve_years(&mut kept, anchor);
        if self.cli.summary {
            // Candidate causes, even outside --since or the default filter.
            let steps = kept.iter().filter(|f| f.event.is_step).cloned();
            self.summary_steps.extend(steps);
        }
        let shown: Vec<Found> = kept.into_iter().filter(|f| self.wanted(f)).collect();
        if self.with_context && !shown.is_empty() {
            let alone = self.print_with_context(input, file, &shown)?;
            self.note_shown(shown.iter().map(|f| f.count).sum());
            for f in alone {
                self.print_event(f)?;
            }
            return Ok(Next::Continue);
        }
        for f in shown {
            let next = self.show(f)?;
            if next != Next::Continue {
                return Ok(next);
            }
        }
        Ok(Next::Continue)
    }

    /// Prints a file's events with the lines around them; returns those it
    /// could not place (printed alone by the caller), and says why.
    fn print_with_context<'f>(
        &mut self,
        input: usize,
        file: Option<&File>,
        shown: &'f [Found],
    ) -> Result<Vec<&'f Found>> {
        let name = &self.err_names[input];
        let Some(file) = file else {
            writeln!(
                self.out.stderr,
                "maillog-grep: {name}: read once (standard input or a FIFO), so its events are printed without the lines around them"
            )?;
            return Ok(shown.iter().collect());
        };
        let prefix = GrepPrefix {
            name: self.name_prefix(input),
            line_number: self.cli.line_number,
        };
        let offsets: Vec<u64> = shown.iter().map(|f| f.offset).collect();
        let printed = reread_with_context(
            &mut *self.out.stdout,
            file,
            &offsets,
            self.cli.around(),
            &prefix,
            self.any_group,
            self.cli.decode_limits(),
        )?;
        self.any_group = printed.any_group;
        let alone: Vec<&Found> = printed.missed.iter().map(|&i| &shown[i]).collect();
        if let Some(e) = printed.read_error {
            writeln!(
                self.out.stderr,
                "maillog-grep: {name}: reading it again for the lines around events: {e}"
            )?;
            self.errored = true;
        } else if !alone.is_empty() {
            writeln!(
                self.out.stderr,
                "maillog-grep: {name}: changed since it was searched; {} events are printed without the lines around them",
                alone.len()
            )?;
            self.errored = true;
        }
        Ok(alone)
    }
}

impl Sink for Report<'_, '_> {
    fn hits(&mut self, input: usize, hits: Hits) -> Result<Next> {
        let mut classifier = self.classifier.take().unwrap_or_else(|| {
            Classifier::new(input, self.keep_text, !self.at_once, self.idents.clone())
        });
        let mut next = Next::Continue;
        for hit in &hits {
            let Some(f) = classifier.event(hit) else {
                continue;
            };
            if self.at_once {
                if self.wanted(&f) {
                    next = self.show(f)?;
                    if next != Next::Continue {
                        break;
                    }
                }
                continue;
            }
            // An event that says its year ends the run of year-less ones
            // before it (their years follow from it): they can go now, so
            // a log with years keeps no events.  Not with context lines,
            // which read the file again once for all its events.
            let says_year = f.stamp.as_ref().is_some_and(year::has_own_year);
            self.kept.push(f);
            if says_year && !self.with_context {
                next = self.show_kept(input, None)?;
                if next != Next::Continue {
                    break;
                }
            }
        }
        self.classifier = Some(classifier);
        Ok(next)
    }

    fn finished(&mut self, input: usize, searched: Searched) -> Result<Next> {
        let name = &self.err_names[input];
        for error in &searched.errors {
            writeln!(self.out.stderr, "maillog-grep: {name}: {error}")?;
            self.errored = true;
        }
        for offset in &searched.overlong {
            writeln!(
                self.out.stderr,
                "maillog-grep: {name}: the line at byte {offset} is longer than {} MiB; only its first {} MiB were searched",
                scan::MAX_LINE >> 20,
                scan::MAX_LINE >> 20
            )?;
            self.errored = true;
        }
        let next = self.show_kept(input, searched.file.as_deref())?;
        let cli = self.cli;
        if !cli.quiet && !cli.summary {
            let name = self.name_prefix(input);
            let colored_name = self.colored_name(input);
            let out = &mut *self.out.stdout;
            if cli.files_with_matches && self.file_any {
                writeln!(out, "{colored_name}")?;
            } else if cli.count && !cli.files_with_matches {
                if let Some(name) = name {
                    write!(out, "{name}:")?;
                }
                writeln!(out, "{}", self.file_count)?;
            }
        }
        self.classifier = None;
        self.anchor = None;
        self.file_count = 0;
        self.file_any = false;
        Ok(next)
    }
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

/// Prints one event: a JSON object, or its line with grep's prefixes.
fn write_event(
    out: &mut dyn Write,
    cli: &Cli,
    file: &str,
    name_prefix: Option<&str>,
    f: &Found,
) -> Result<()> {
    match cli.format {
        Format::Json => {
            let row = JsonEvent {
                file,
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
            if let Some(name) = name_prefix {
                write!(out, "{name}:")?;
            }
            if let (true, Some(n)) = (cli.line_number, f.line) {
                write!(out, "{n}:")?;
            }
            out.write_all(&printable(&f.text))?;
            out.write_all(b"\n")?;
        }
    }
    Ok(())
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
/// prints the events at `offsets` with the lines around them.  Errors are
/// the output's.
fn reread_with_context(
    out: &mut dyn Write,
    file: &File,
    offsets: &[u64],
    around: context::Around,
    prefix: &GrepPrefix,
    any_group: bool,
    limits: input::Limits,
) -> std::io::Result<context::Printed> {
    let reader = input::RangeReader { file, position: 0 };
    let decoded = match input::decoder_with(reader, input::Decoding::sequential(limits)) {
        Ok((decoded, _)) => decoded,
        Err(e) => {
            return Ok(context::Printed {
                missed: (0..offsets.len()).collect(),
                read_error: Some(e),
                any_group,
            });
        }
    };
    let mut lines = std::io::BufReader::with_capacity(256 * 1024, decoded);
    context::print(out, &mut lines, offsets, around, prefix, any_group)
}

/// A log line as printed in text output: control characters (an escape
/// sequence that would rewrite the terminal, a carriage return that would
/// hide the line's start) become `\e`, `\r`, `\xNN`; tabs, NUL and every
/// other byte stay as grep prints them.
pub fn printable(line: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    // NUL stays: harmless on a terminal, and a log damaged by a crash
    // keeps its bytes (grep -a prints them too).
    let control = |b: u8| (b < 0x20 && b != b'\t' && b != 0) || b == 0x7f;
    if !line.iter().any(|&b| control(b)) {
        return std::borrow::Cow::Borrowed(line);
    }
    let mut out = Vec::with_capacity(line.len() + 8);
    for &b in line {
        match b {
            0x1b => out.extend_from_slice(b"\\e"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b if control(b) => out.extend_from_slice(format!("\\x{b:02x}").as_bytes()),
            b => out.push(b),
        }
    }
    std::borrow::Cow::Owned(out)
}
