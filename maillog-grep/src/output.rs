//! The one trait every output form implements ([`crate::sinks`] has one
//! sink per form), and what they share: where the output goes and how file
//! names are printed.  As ripgrep's printers: the search and the event
//! filter know nothing of printing, and a sink knows nothing of searching.

use std::fs::File;
use std::io::Write;

use anyhow::Result;

use crate::conventions::{Format, escape_text};
use crate::found::Found;
use crate::search::Next;

/// Where the output goes, and whether an error was reported.
pub struct Out<'o> {
    pub stdout: &'o mut dyn Write,
    pub stderr: &'o mut dyn Write,
    /// True once an error was written to standard error.
    pub errored: bool,
}

impl Out<'_> {
    /// Reports a problem with one input (`name` as printed on stderr); the
    /// run then exits 2.
    pub fn error(&mut self, name: &str, message: std::fmt::Arguments<'_>) -> Result<()> {
        writeln!(self.stderr, "maillog-grep: {name}: {message}")?;
        self.errored = true;
        Ok(())
    }
}

/// What a sink reads of an event; the rest is not kept.
#[derive(Clone, Copy, Debug, Default)]
pub struct Needs {
    /// The event's line (to print it).
    pub text: bool,
    /// Its time, host and program (JSON and the summary): events are then
    /// kept until their years are known.
    pub time: bool,
    /// Line numbers.
    pub line_numbers: bool,
    /// A file's events all at once at its end (`-A/-B/-C` read the file
    /// again, once, for all of them).
    pub whole_file: bool,
}

/// Receives the events the user asked for, in input order, and prints them
/// in one output form.
pub trait EventSink {
    fn needs(&self) -> Needs;

    /// One event the user asked for.  `Stop` once `-q` has its answer,
    /// `SkipInput` once `-l` has this file's.
    fn event(&mut self, out: &mut Out<'_>, found: Found) -> Result<Next>;

    /// Events kept until their years were known, every one of them, before
    /// the filters (the summary takes its candidate causes from them).
    fn resolved(&mut self, _all: &[Found]) {}

    /// A file's wanted events together (all of them with
    /// [`Needs::whole_file`]); `file` is the file as searched, for a second
    /// read (`None` for standard input and streams).
    fn events(
        &mut self,
        out: &mut Out<'_>,
        _input: usize,
        _file: Option<&File>,
        shown: Vec<Found>,
    ) -> Result<Next> {
        for found in shown {
            let next = self.event(out, found)?;
            if next != Next::Continue {
                return Ok(next);
            }
        }
        Ok(Next::Continue)
    }

    /// The end of input `input`.
    fn file_end(&mut self, _out: &mut Out<'_>, _input: usize) -> Result<()> {
        Ok(())
    }

    /// The end of the search (the summary is written here).
    fn finish(&mut self, _out: &mut Out<'_>) -> Result<()> {
        Ok(())
    }
}

/// The inputs' names as printed.
pub struct Names {
    /// On standard output: escaped in text (a name with a newline cannot
    /// forge a line); as they are in JSON, which serde escapes.
    shown: Vec<String>,
    /// On standard error: always escaped.
    on_stderr: Vec<String>,
    color: bool,
    /// Whether lines start with their file's name.
    prefixed: bool,
}

impl Names {
    /// `displayed`: each input's name as it reads; `prefixed`: whether
    /// lines start with it.
    pub fn new(displayed: Vec<String>, format: Format, color: bool, prefixed: bool) -> Names {
        let on_stderr: Vec<String> = displayed
            .iter()
            .map(|n| escape_text(n).into_owned())
            .collect();
        let shown = match format {
            Format::Json => displayed,
            Format::Text => on_stderr.clone(),
        };
        Names {
            shown,
            on_stderr,
            color,
            prefixed,
        }
    }

    pub fn all(&self) -> &[String] {
        &self.shown
    }

    pub fn shown(&self, input: usize) -> &str {
        &self.shown[input]
    }

    pub fn on_stderr(&self, input: usize) -> &str {
        &self.on_stderr[input]
    }

    /// The file name, coloured when asked for.
    pub fn colored(&self, input: usize) -> String {
        let (pre, post) = if self.color {
            ("\x1b[35m", "\x1b[0m")
        } else {
            ("", "")
        };
        format!("{pre}{}{post}", self.shown[input])
    }

    /// The file name as printed before a line; `None` without file names.
    pub fn prefix(&self, input: usize) -> Option<String> {
        self.prefixed.then(|| self.colored(input))
    }
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
