//! Each event's line as grep prints it: `name:12:line`, and with
//! `-A/-B/-C` the lines around it (`name-11-line`, `--` between groups),
//! read again from the file once its events are known.

use std::fs::File;
use std::io::Write;

use anyhow::Result;

use crate::context::{self, Around};
use crate::found::Found;
use crate::input;
use crate::output::{EventSink, Names, Needs, Out, printable};
use crate::search::Next;

pub struct Standard<'n> {
    names: &'n Names,
    line_number: bool,
    context: Around,
    /// For the second read of a compressed file.
    limits: input::Limits,
    /// The line prefix of the file being printed: (input, prefix), made
    /// once per file, not once per line.
    prefix: Option<(usize, Option<String>)>,
    /// Whether a context group was printed (the next one needs `--`).
    any_group: bool,
}

impl<'n> Standard<'n> {
    pub fn new(
        names: &'n Names,
        line_number: bool,
        context: Around,
        limits: input::Limits,
    ) -> Standard<'n> {
        Standard {
            names,
            line_number,
            context,
            limits,
            prefix: None,
            any_group: false,
        }
    }

    /// Prints one event's line with grep's prefixes.
    fn print(&mut self, out: &mut Out<'_>, f: &Found) -> Result<()> {
        if self
            .prefix
            .as_ref()
            .is_none_or(|(input, _)| *input != f.file)
        {
            self.prefix = Some((f.file, self.names.prefix(f.file)));
        }
        if let Some((_, Some(name))) = &self.prefix {
            write!(out.stdout, "{name}:")?;
        }
        if let (true, Some(n)) = (self.line_number, f.line) {
            write!(out.stdout, "{n}:")?;
        }
        out.stdout.write_all(&printable(&f.text))?;
        out.stdout.write_all(b"\n")?;
        Ok(())
    }

    /// Prints a file's events with the lines around them; returns those it
    /// could not place (printed alone by the caller), and says why.
    fn print_with_context<'f>(
        &mut self,
        out: &mut Out<'_>,
        input: usize,
        file: Option<&File>,
        shown: &'f [Found],
    ) -> Result<Vec<&'f Found>> {
        let names = self.names;
        let name = names.on_stderr(input);
        let Some(file) = file else {
            writeln!(
                out.stderr,
                "maillog-grep: {name}: read once (standard input or a FIFO), so its events are printed without the lines around them"
            )?;
            return Ok(shown.iter().collect());
        };
        let prefix = GrepPrefix {
            name: self.names.prefix(input),
            line_number: self.line_number,
        };
        let offsets: Vec<u64> = shown.iter().map(|f| f.offset).collect();
        let printed = reread_with_context(
            &mut *out.stdout,
            file,
            &offsets,
            self.context,
            &prefix,
            self.any_group,
            self.limits,
        )?;
        self.any_group = printed.any_group;
        let alone: Vec<&Found> = printed.missed.iter().map(|&i| &shown[i]).collect();
        if let Some(e) = printed.read_error {
            out.error(
                name,
                format_args!("reading it again for the lines around events: {e}"),
            )?;
        } else if !alone.is_empty() {
            out.error(
                name,
                format_args!(
                    "changed since it was searched; {} events are printed without the lines around them",
                    alone.len()
                ),
            )?;
        }
        Ok(alone)
    }
}

impl EventSink for Standard<'_> {
    fn needs(&self) -> Needs {
        Needs {
            text: true,
            time: false,
            line_numbers: self.line_number,
            whole_file: !self.context.is_none(),
        }
    }

    fn event(&mut self, out: &mut Out<'_>, found: Found) -> Result<Next> {
        self.print(out, &found)?;
        Ok(Next::Continue)
    }

    fn events(
        &mut self,
        out: &mut Out<'_>,
        input: usize,
        file: Option<&File>,
        shown: Vec<Found>,
    ) -> Result<Next> {
        if self.context.is_none() {
            for found in &shown {
                self.print(out, found)?;
            }
            return Ok(Next::Continue);
        }
        for found in self.print_with_context(out, input, file, &shown)? {
            self.print(out, found)?;
        }
        Ok(Next::Continue)
    }
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
    around: Around,
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
