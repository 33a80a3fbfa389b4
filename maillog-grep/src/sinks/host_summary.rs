//! `--summary`: keeps the events shown and every clock step (without their
//! text) across files, and at the end writes one summary per host, as text
//! or JSON Lines ([`crate::summary`] does the analysis).

use anyhow::Result;
use mailhost_host::dovecot::Generation;

use crate::conventions::Format;
use crate::found::Found;
use crate::output::{EventSink, Names, Needs, Out};
use crate::search::Next;
use crate::summary;

/// What the summary needs to know besides the events.
#[derive(Clone, Copy, Debug)]
pub struct Facts {
    /// Seconds east of UTC of the machine reading the logs.
    pub local_offset: i32,
    /// The installed dovecot's: what an event did depends on it.
    pub generation: Generation,
}

pub struct HostSummary<'n> {
    names: &'n Names,
    window: f64,
    format: Format,
    facts: Facts,
    /// The events the user asked for.
    shown: Vec<Found>,
    /// Every clock step found: candidate causes, even outside --since or
    /// the default filter.
    steps: Vec<Found>,
}

impl<'n> HostSummary<'n> {
    pub fn new(names: &'n Names, window: f64, format: Format, facts: Facts) -> HostSummary<'n> {
        HostSummary {
            names,
            window,
            format,
            facts,
            shown: Vec::new(),
            steps: Vec::new(),
        }
    }
}

impl EventSink for HostSummary<'_> {
    fn needs(&self) -> Needs {
        Needs {
            text: false,
            time: true,
            line_numbers: true,
            whole_file: false,
        }
    }

    fn event(&mut self, _out: &mut Out<'_>, found: Found) -> Result<Next> {
        self.shown.push(found);
        Ok(Next::Continue)
    }

    fn resolved(&mut self, all: &[Found]) {
        let steps = all.iter().filter(|f| f.event.is_step).cloned();
        self.steps.extend(steps);
    }

    fn finish(&mut self, out: &mut Out<'_>) -> Result<()> {
        let shown: Vec<&Found> = self.shown.iter().collect();
        let steps: Vec<&Found> = self.steps.iter().collect();
        let summaries = summary::summarize(
            &shown,
            &steps,
            self.names.all(),
            self.window,
            self.facts.local_offset,
            self.facts.generation,
        );
        match self.format {
            Format::Json => {
                for s in &summaries {
                    serde_json::to_writer(&mut *out.stdout, s)?;
                    writeln!(out.stdout)?;
                }
            }
            Format::Text => summary::write_text(&mut *out.stdout, &summaries, self.window)?,
        }
        Ok(())
    }
}
