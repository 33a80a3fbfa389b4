//! `--format json`: one JSON object per event (JSON Lines).

use anyhow::Result;
use serde::Serialize;

use crate::event::{Kind, Source};
use crate::found::Found;
use crate::output::{EventSink, Names, Needs, Out};
use crate::search::Next;

/// One event as a JSON line.  The field names are a contract.
#[derive(Serialize)]
struct JsonEvent<'a> {
    file: &'a str,
    line: Option<u64>,
    timestamp: Option<String>,
    host: Option<&'a str>,
    program: Option<&'a str>,
    pid: Option<u32>,
    source: Source,
    kind: Kind,
    seconds: Option<f64>,
    fatal: bool,
    text: String,
    count: u64,
}

pub struct Json<'n> {
    names: &'n Names,
}

impl<'n> Json<'n> {
    pub fn new(names: &'n Names) -> Json<'n> {
        Json { names }
    }
}

impl EventSink for Json<'_> {
    fn needs(&self) -> Needs {
        Needs {
            text: true,
            time: true,
            line_numbers: true,
            whole_file: false,
        }
    }

    fn event(&mut self, out: &mut Out<'_>, f: Found) -> Result<Next> {
        let row = JsonEvent {
            file: self.names.shown(f.file),
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
        serde_json::to_writer(&mut *out.stdout, &row)?;
        writeln!(out.stdout)?;
        Ok(Next::Continue)
    }
}
