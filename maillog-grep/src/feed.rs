//! From the search's hits to the events the user asked for, file by file,
//! handed to the output's sink: classify each line, give it its year, keep
//! the wanted events.
//!
//! When no timestamp is needed (lines, `-c`, `-l`, `-q` without `--since`
//! or `--until`), each event goes to the sink as it comes and is not kept:
//! memory stays flat however many events a file holds.  Otherwise events
//! are kept until their years are known, because a year-less timestamp's
//! year depends on the lines after it: up to the next event that says its
//! year, or the end of the file.  Then they go, and are dropped.  Only
//! `--summary`'s sink keeps events across files, without their text.

use std::fs::File;
use std::sync::Arc;

use anyhow::Result;
use chrono::TimeDelta;

use crate::event::{Idents, Kind};
use crate::found::{self, Classifier, Found};
use crate::output::{EventSink, Names, Out};
use crate::scan::{self, Hits};
use crate::search::{Input, Next, Searched, Sink};
use crate::settings::Events;
use crate::timefilter::{self, Clock};
use crate::year;

/// Which events the user asked for.
pub struct Wanted {
    pub events: Events,
    pub since: Option<timefilter::Instant>,
    pub until: Option<timefilter::Instant>,
}

impl Wanted {
    /// Whether the user asked for this event.
    fn wants(&self, f: &Found) -> bool {
        (self.events.all
            || (f.event.kind == Kind::Backward && !f.event.all_only)
            // A dovecot login's death as xinetd logs it: --summary ties it
            // to the clock step before it.
            || (self.events.summary && f.event.kind == Kind::Exit))
            && self
                .since
                .as_ref()
                .is_none_or(|s| f.time.is_some_and(|t| timefilter::at_or_after(&t, s)))
            && self
                .until
                .as_ref()
                .is_none_or(|u| f.time.is_some_and(|t| !timefilter::at_or_after(&t, u)))
    }

    /// Whether the filter reads times.
    fn needs_time(&self) -> bool {
        self.since.is_some() || self.until.is_some()
    }
}

/// What makes a line's hit an event the user asked for.
pub struct Rules<'r> {
    /// Who logs as dovecot (default idents and instance names).
    pub idents: Arc<Idents>,
    pub years: Years<'r>,
    pub wanted: Wanted,
}

/// Where a file's years come from.
pub struct Years<'r> {
    pub inputs: &'r [Input],
    /// `--year`.
    pub year: Option<i32>,
    pub clock: Clock,
}

impl Years<'_> {
    /// `--year`, or the local time a file was last written (for standard
    /// input, now).
    fn anchor(&self, input: usize) -> year::Anchor {
        if let Some(year) = self.year {
            return year::Anchor::Year(year);
        }
        let offset = TimeDelta::seconds(i64::from(self.clock.local_offset));
        let now_local = self.clock.now_utc + offset;
        let input = &self.inputs[input];
        if matches!(input, Input::Stdin) {
            return year::Anchor::Written(now_local);
        }
        let modified = input.metadata().and_then(|m| m.modified()).ok();
        let written = modified.and_then(|m| {
            chrono::DateTime::<chrono::Utc>::from(m)
                .naive_utc()
                .checked_add_signed(offset)
        });
        year::Anchor::Written(written.unwrap_or(now_local))
    }
}

/// The search's sink: turns hits into the wanted events and hands them to
/// the output's sink.
pub struct Feed<'r, 'o> {
    rules: Rules<'r>,
    /// For the errors of each input.
    names: &'r Names,
    sink: Box<dyn EventSink + 'r>,
    out: Out<'o>,
    /// Hand events over as they come, keeping none.
    at_once: bool,
    /// Events keep their line (the sink prints it).
    keep_text: bool,
    /// The sink takes a file's events at its end, all together.
    whole_file: bool,
    /// The file being read: its classifier, and its events when kept.
    classifier: Option<Classifier>,
    kept: Vec<Found>,
    /// When the file was last written (for years), once looked up.
    anchor: Option<year::Anchor>,
    /// Whether an event was wanted (the exit status).
    found_any: bool,
}

impl<'r, 'o> Feed<'r, 'o> {
    pub fn new(
        rules: Rules<'r>,
        names: &'r Names,
        sink: Box<dyn EventSink + 'r>,
        out: Out<'o>,
    ) -> Feed<'r, 'o> {
        let needs = sink.needs();
        Feed {
            at_once: !(needs.time || needs.whole_file || rules.wanted.needs_time()),
            keep_text: needs.text,
            whole_file: needs.whole_file,
            rules,
            names,
            sink,
            out,
            classifier: None,
            kept: Vec::new(),
            anchor: None,
            found_any: false,
        }
    }

    /// The end of the search: the sink's last words.  Returns the output,
    /// and whether an event was found.
    pub fn finish(mut self) -> Result<(Out<'o>, bool)> {
        self.sink.finish(&mut self.out)?;
        Ok((self.out, self.found_any))
    }

    fn show(&mut self, f: Found) -> Result<Next> {
        self.found_any = true;
        self.sink.event(&mut self.out, f)
    }

    /// The kept events, at the end of their file or at an event that says
    /// its year: years, the filter, then the sink.
    fn show_kept(&mut self, input: usize, file: Option<&File>) -> Result<Next> {
        let mut kept = std::mem::take(&mut self.kept);
        if kept.is_empty() {
            return Ok(Next::Continue);
        }
        let anchor = *self
            .anchor
            .get_or_insert_with(|| self.rules.years.anchor(input));
        found::resolve_years(&mut kept, anchor);
        self.sink.resolved(&kept);
        let shown: Vec<Found> = kept
            .into_iter()
            .filter(|f| self.rules.wanted.wants(f))
            .collect();
        if shown.is_empty() {
            return Ok(Next::Continue);
        }
        self.found_any = true;
        self.sink.events(&mut self.out, input, file, shown)
    }
}

impl Sink for Feed<'_, '_> {
    fn hits(&mut self, input: usize, hits: Hits) -> Result<Next> {
        let mut classifier = self.classifier.take().unwrap_or_else(|| {
            Classifier::new(
                input,
                self.keep_text,
                !self.at_once,
                self.rules.idents.clone(),
            )
        });
        let mut next = Next::Continue;
        for hit in &hits {
            let Some(f) = classifier.event(hit) else {
                continue;
            };
            if self.at_once {
                if self.rules.wanted.wants(&f) {
                    next = self.show(f)?;
                    if next != Next::Continue {
                        break;
                    }
                }
                continue;
            }
            // An event that says its year ends the run of year-less ones
            // before it (their years follow from it): they can go now, so
            // a log with years keeps no events.  Not when the sink takes a
            // whole file (context lines read the file again once for all
            // its events).
            let says_year = f.stamp.as_ref().is_some_and(year::has_own_year);
            self.kept.push(f);
            if says_year && !self.whole_file {
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
        let names = self.names;
        let name = names.on_stderr(input);
        for error in &searched.errors {
            self.out.error(name, format_args!("{error}"))?;
        }
        for offset in &searched.overlong {
            let mib = scan::MAX_LINE >> 20;
            self.out.error(
                name,
                format_args!(
                    "the line at byte {offset} is longer than {mib} MiB; only its first {mib} MiB were searched"
                ),
            )?;
        }
        let next = self.show_kept(input, searched.file.as_deref())?;
        self.sink.file_end(&mut self.out, input)?;
        self.classifier = None;
        self.anchor = None;
        Ok(next)
    }
}
