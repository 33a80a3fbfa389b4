//! `-c`, `-l` and `-q`: what is printed is about files, not lines, so no
//! event keeps its text.

use anyhow::Result;

use crate::found::Found;
use crate::output::{EventSink, Names, Needs, Out};
use crate::search::Next;

/// `-c`: the number of events per file (a repeat line counts N), after the
/// file's name when names are printed.
pub struct Count<'n> {
    names: &'n Names,
    /// The file's events so far.
    count: u64,
}

impl<'n> Count<'n> {
    pub fn new(names: &'n Names) -> Count<'n> {
        Count { names, count: 0 }
    }
}

impl EventSink for Count<'_> {
    fn needs(&self) -> Needs {
        Needs::default()
    }

    fn event(&mut self, _out: &mut Out<'_>, found: Found) -> Result<Next> {
        self.count += found.count;
        Ok(Next::Continue)
    }

    fn file_end(&mut self, out: &mut Out<'_>, input: usize) -> Result<()> {
        if let Some(name) = self.names.prefix(input) {
            write!(out.stdout, "{name}:")?;
        }
        writeln!(out.stdout, "{}", std::mem::take(&mut self.count))?;
        Ok(())
    }
}

/// `-l`: the name of each file with an event; the rest of a file is not
/// read once its first event is found.
pub struct FilesWithMatches<'n> {
    names: &'n Names,
    /// Whether the file being read has an event.
    any: bool,
}

impl<'n> FilesWithMatches<'n> {
    pub fn new(names: &'n Names) -> FilesWithMatches<'n> {
        FilesWithMatches { names, any: false }
    }
}

impl EventSink for FilesWithMatches<'_> {
    fn needs(&self) -> Needs {
        Needs::default()
    }

    fn event(&mut self, _out: &mut Out<'_>, _found: Found) -> Result<Next> {
        self.any = true;
        Ok(Next::SkipInput)
    }

    fn file_end(&mut self, out: &mut Out<'_>, input: usize) -> Result<()> {
        if std::mem::take(&mut self.any) {
            writeln!(out.stdout, "{}", self.names.colored(input))?;
        }
        Ok(())
    }
}

/// `-q`: nothing printed; the search stops at the first event.
pub struct Quiet;

impl EventSink for Quiet {
    fn needs(&self) -> Needs {
        Needs::default()
    }

    fn event(&mut self, _out: &mut Out<'_>, _found: Found) -> Result<Next> {
        Ok(Next::Stop)
    }
}
