//! `--summary`: per host, what happened, and for each dovecot backward event
//! the clock step behind it.

use std::collections::BTreeMap;

use chrono::{NaiveDateTime, TimeDelta};
use serde::Serialize;

use crate::Found;
use crate::event::{Kind, Source};

/// Where an event is, for the reader to look it up.
#[derive(Clone, Debug, Serialize)]
pub struct Place {
    pub timestamp: Option<String>,
    pub file: String,
    pub line: Option<u64>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Count {
    pub source: Source,
    pub kind: Kind,
    pub count: u64,
}

#[derive(Clone, Debug, Serialize)]
pub struct Jump {
    pub seconds: f64,
    pub kind: Kind,
    pub source: Source,
    #[serde(flatten)]
    pub place: Place,
}

#[derive(Clone, Debug, Serialize)]
pub struct Step {
    pub source: Source,
    pub kind: Kind,
    pub seconds: Option<f64>,
    /// Seconds between the step and the dovecot event.
    pub before: f64,
    #[serde(flatten)]
    pub place: Place,
}

#[derive(Clone, Debug, Serialize)]
pub struct Cause {
    pub seconds: Option<f64>,
    pub fatal: bool,
    #[serde(flatten)]
    pub place: Place,
    /// The nearest clock step before it within the window, if any.
    pub step: Option<Step>,
}

#[derive(Clone, Debug, Serialize)]
pub struct HostSummary {
    pub host: String,
    pub events: u64,
    pub counts: Vec<Count>,
    pub dovecot_deaths: u64,
    pub largest_jump: Option<Jump>,
    pub first: Option<String>,
    pub last: Option<String>,
    pub causes: Vec<Cause>,
}

fn place(found: &Found, files: &[String]) -> Place {
    Place {
        timestamp: found.time.map(|t| t.rfc3339()),
        file: files[found.file].clone(),
        line: found.line,
    }
}

/// One timeline for comparing events: UTC, taking naive times as local time
/// of the machine reading the logs (`local_offset`).
fn timeline(found: &Found, local_offset: i32) -> Option<NaiveDateTime> {
    let t = found.time?;
    Some(match t.offset {
        Some(_) => t.comparable(),
        None => t.local - TimeDelta::seconds(i64::from(local_offset)),
    })
}

/// `shown` are the events the user asked for; `steps` every clock step found
/// (candidate causes, even outside --since or the default backward filter).
pub fn summarize(
    shown: &[&Found],
    steps: &[&Found],
    files: &[String],
    window: f64,
    local_offset: i32,
) -> Vec<HostSummary> {
    let host_of = |f: &Found| f.host.clone().unwrap_or_else(|| "-".into());
    let mut hosts: BTreeMap<String, Vec<&Found>> = BTreeMap::new();
    for found in shown {
        hosts.entry(host_of(found)).or_default().push(found);
    }
    let mut out = Vec::new();
    for (host, events) in hosts {
        let mut counts: BTreeMap<(Source, Kind), u64> = BTreeMap::new();
        let mut deaths = 0;
        let mut largest: Option<&Found> = None;
        let mut first: Option<&Found> = None;
        let mut last: Option<&Found> = None;
        for f in &events {
            *counts.entry((f.event.source, f.event.kind)).or_default() += f.count;
            if f.event.fatal {
                deaths += f.count;
            }
            if f.event.seconds.unwrap_or(0.0) > largest.and_then(|l| l.event.seconds).unwrap_or(0.0)
            {
                largest = Some(f);
            }
            let key = |x: &Found| timeline(x, local_offset);
            if key(f).is_some() && first.is_none_or(|x| key(f) < key(x)) {
                first = Some(f);
            }
            if key(f).is_some() && last.is_none_or(|x| key(f) >= key(x)) {
                last = Some(f);
            }
        }
        let host_steps: Vec<&&Found> = steps.iter().filter(|s| host_of(s) == host).collect();
        let causes = events
            .iter()
            .filter(|f| f.event.source == Source::Dovecot && f.event.kind == Kind::Backward)
            .map(|f| {
                let at = timeline(f, local_offset);
                let step = at.and_then(|at| {
                    host_steps
                        .iter()
                        .filter_map(|s| {
                            let before = (at - timeline(s, local_offset)?).as_seconds_f64();
                            // A little slack after: the step line and dovecot's
                            // line can carry the same second in either order.
                            (-2.0..=window).contains(&before).then_some((before, *s))
                        })
                        .min_by(|a, b| a.0.abs().total_cmp(&b.0.abs()))
                        .map(|(before, s)| Step {
                            source: s.event.source,
                            kind: s.event.kind,
                            seconds: s.event.seconds,
                            before,
                            place: place(s, files),
                        })
                });
                Cause {
                    seconds: f.event.seconds,
                    fatal: f.event.fatal,
                    place: place(f, files),
                    step,
                }
            })
            .collect();
        out.push(HostSummary {
            host,
            events: events.iter().map(|f| f.count).sum(),
            counts: counts
                .into_iter()
                .map(|((source, kind), count)| Count {
                    source,
                    kind,
                    count,
                })
                .collect(),
            dovecot_deaths: deaths,
            largest_jump: largest.map(|f| Jump {
                seconds: f.event.seconds.unwrap_or(0.0),
                kind: f.event.kind,
                source: f.event.source,
                place: place(f, files),
            }),
            first: first.and_then(|f| f.time).map(|t| t.rfc3339()),
            last: last.and_then(|f| f.time).map(|t| t.rfc3339()),
            causes,
        });
    }
    out
}

fn at(place: &Place) -> String {
    let file = match place.line {
        Some(line) => format!("{}:{line}", place.file),
        None => place.file.clone(),
    };
    match &place.timestamp {
        Some(t) => format!("{t} ({file})"),
        None => format!("(no timestamp) ({file})"),
    }
}

fn secs(s: Option<f64>) -> String {
    s.map_or("? s".into(), |s| format!("{s} s"))
}

/// Consecutive causes with the same step behind them (or none, and the
/// same jump size): one incident, one line.
fn group_by_cause(causes: &[Cause]) -> Vec<Vec<&Cause>> {
    let key = |c: &Cause| match &c.step {
        Some(step) => (Some((step.place.file.clone(), step.place.line)), None),
        None => (None, c.seconds.map(f64::to_bits)),
    };
    let mut groups: Vec<Vec<&Cause>> = Vec::new();
    for c in causes {
        match groups.last_mut() {
            Some(g) if key(g[0]) == key(c) => g.push(c),
            _ => groups.push(vec![c]),
        }
    }
    groups
}

/// The human form of the summary.
pub fn write_text(
    out: &mut dyn std::io::Write,
    summaries: &[HostSummary],
    window: f64,
) -> std::io::Result<()> {
    for s in summaries {
        writeln!(
            out,
            "host {}: {} events, {} dovecot deaths",
            s.host, s.events, s.dovecot_deaths
        )?;
        let counts: Vec<String> = s
            .counts
            .iter()
            .map(|c| format!("{} {} {}", c.source.as_str(), c.kind.as_str(), c.count))
            .collect();
        writeln!(out, "  by source: {}", counts.join(", "))?;
        if let Some(j) = &s.largest_jump {
            writeln!(
                out,
                "  largest jump: {} s {} ({}) at {}",
                j.seconds,
                j.kind.as_str(),
                j.source.as_str(),
                at(&j.place)
            )?;
        }
        writeln!(out, "  first event: {}", s.first.as_deref().unwrap_or("-"))?;
        writeln!(out, "  last event:  {}", s.last.as_deref().unwrap_or("-"))?;
        if !s.causes.is_empty() {
            writeln!(
                out,
                "  dovecot backward events and the clock step behind them:"
            )?;
        }
        let mut silent = false;
        for group in group_by_cause(&s.causes) {
            let (first, last) = (group[0], group[group.len() - 1]);
            let deaths = group.iter().filter(|c| c.fatal).count();
            let when = match (&first.place.timestamp, &last.place.timestamp) {
                (Some(a), Some(b)) if a != b => format!("{a} .. {b}"),
                (Some(a), _) => a.clone(),
                _ => "(no timestamp)".into(),
            };
            let what = if group.len() == 1 {
                format!(
                    "{} {}",
                    if first.fatal {
                        "dovecot died:"
                    } else {
                        "dovecot saw:"
                    },
                    secs(first.seconds)
                )
            } else {
                format!(
                    "{} events, {deaths} deaths: {}",
                    group.len(),
                    secs(first.seconds)
                )
            };
            let cause = match &first.step {
                Some(step) => format!(
                    "{} step {} {} at {}, {:.0} s before",
                    step.source.as_str(),
                    step.kind.as_str(),
                    secs(step.seconds),
                    at(&step.place),
                    step.before
                ),
                None => {
                    silent = true;
                    format!("no step source found within {window} s before it")
                }
            };
            let place = match first.place.line {
                Some(line) => format!("{}:{line}", first.place.file),
                None => first.place.file.clone(),
            };
            writeln!(out, "    {when} ({place}) {what} back <- {cause}")?;
        }
        if silent {
            writeln!(
                out,
                "  no step source found: a hypervisor's time sync (Hyper-V's among them) steps the clock without logging anything"
            )?;
        }
    }
    Ok(())
}
