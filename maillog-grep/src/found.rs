//! One file's hits as events: classify each line, count repeats, and give
//! year-less timestamps their year once the file's last event is known.

use std::sync::Arc;

use crate::event::{self, Event, Idents};
use crate::record::{self, Stamp};
use crate::scan::Hit;
use crate::year::{self, Resolved};

/// An event as found in a file.
#[derive(Clone, Debug)]
pub struct Found {
    /// Index into the list of inputs.
    pub file: usize,
    pub line: Option<u64>,
    /// Byte offset of the line in the (decoded) input.
    pub offset: u64,
    /// The line, when it is to be printed (empty otherwise).
    pub text: Vec<u8>,
    pub time: Option<Resolved>,
    pub host: Option<String>,
    pub program: Option<String>,
    pub pid: Option<u32>,
    pub event: Event,
    /// 1, or N for a `last message repeated N times` line.
    pub count: u64,
    /// The timestamp as written, until `resolve_years` gives it its year.
    pub stamp: Option<Stamp>,
    /// A hash of the message (after the syslog header): `--summary` takes
    /// the same message at the same time from two files as one event.
    /// Like `host` and `program`, made only when names are kept (0
    /// otherwise): hashing every message cost 10% of a `-c` run.
    pub message_key: u64,
}

/// Reads one file's hits, in file order, as events.  It remembers the last
/// event, because syslogd's `last message repeated N times` repeats the
/// line before it, which may have come in an earlier buffer.
pub struct Classifier {
    file: usize,
    keep_text: bool,
    keep_names: bool,
    /// End offset of the last event line, to know if a repeat line follows it.
    last_event_end: Option<u64>,
    /// The last event, with its program and pid.
    previous: Option<(Event, Option<String>, Option<u32>)>,
    /// Who logs as dovecot.
    idents: Arc<Idents>,
}

impl Classifier {
    /// `keep_text`: whether events keep their line (only printing needs it);
    /// `keep_names`: their host and program (JSON and `--summary` need them).
    pub fn new(file: usize, keep_text: bool, keep_names: bool, idents: Arc<Idents>) -> Classifier {
        Classifier {
            idents,
            file,
            keep_text,
            keep_names,
            last_event_end: None,
            previous: None,
        }
    }

    /// The event on `hit`'s line, if it is one.
    pub fn event(&mut self, hit: Hit<'_>) -> Option<Found> {
        let text = |b: &[u8]| {
            self.keep_names
                .then(|| String::from_utf8_lossy(b).into_owned())
        };
        let record = record::parse(hit.line);
        let end = hit.offset + hit.line.len() as u64;
        // What the line says, as (event, count, program, pid).
        let said = if let Some((count, quoted)) = event::repeat(&record) {
            match quoted {
                // rsyslog names what it repeats: classify that text.
                Some(quoted) => {
                    let inner = record::parse_tagged(quoted);
                    event::classify_with(&inner, &self.idents)
                        .map(|event| (event, count, inner.program.and_then(text), inner.pid))
                }
                // syslogd's repeat: of the event right before it, if any.
                None => self
                    .previous
                    .clone()
                    .filter(|_| self.last_event_end.is_some_and(|e| e + 1 == hit.offset))
                    .map(|(event, program, pid)| (event, count, program, pid)),
            }
        } else {
            event::classify_with(&record, &self.idents)
                .map(|event| (event, 1, record.program.and_then(text), record.pid))
        };
        let Some((event, count, program, pid)) = said else {
            self.last_event_end = None;
            return None;
        };
        self.last_event_end = Some(end);
        self.previous = Some((event.clone(), program.clone(), pid));
        Some(Found {
            file: self.file,
            line: hit.number,
            offset: hit.offset,
            host: record.host.and_then(text),
            stamp: record.stamp,
            text: if self.keep_text {
                hit.line.to_vec()
            } else {
                Vec::new()
            },
            time: None,
            program,
            pid,
            event,
            count,
            message_key: if self.keep_names {
                message_key(record.message)
            } else {
                0
            },
        })
    }
}

fn message_key(message: &[u8]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    message.hash(&mut hasher);
    hasher.finish()
}

/// Gives every event of one file, in file order, its time.
pub fn resolve_years(found: &mut [Found], anchor: year::Anchor) {
    let stamps: Vec<Option<Stamp>> = found.iter_mut().map(|f| f.stamp.take()).collect();
    for (f, time) in found.iter_mut().zip(year::resolve(&stamps, anchor)) {
        f.time = time;
    }
}
