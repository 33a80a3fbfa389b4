//! `--summary`: per host, what happened, and for each dovecot backward event
//! (and each dovecot login death xinetd logged) the clock step behind it,
//! and what the event did on the installed dovecot's generation.
//!
//! Near-linear by construction (issue 21): the same event seen in two files
//! is found by hashing, and each event's step by a binary search in the
//! host's steps, sorted once.

use std::collections::{BTreeMap, HashMap};

use chrono::{NaiveDateTime, TimeDelta};
use mailhost_host::dovecot::Generation;
use serde::Serialize;

use crate::conventions::escape_text;
use crate::event::{Kind, Source};
use crate::found::Found;

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
    /// Who logged it: dovecot, or xinetd (a login process's exit).
    pub source: Source,
    pub kind: Kind,
    /// What the event did on the installed dovecot's generation.
    pub effect: String,
    /// dovecot 2.x's master: the seconds it held new sessions back.
    pub held_back: Option<f64>,
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
    /// Backward jumps with no logged step source (or Hyper-V's own) that
    /// recur at a regular interval: a host-side sync correcting drift.
    pub recurring: Option<Recurring>,
    /// The installed dovecot's generation (`1.x`, `2.x`, `unknown`), from
    /// the host model under --root.
    pub dovecot_generation: Generation,
    /// Events seen again in another file (same time, host, program, pid
    /// and message: syslogd wrote one line to two files) and counted once.
    pub merged_copies: u64,
}

/// Silent backward jumps at a regular interval (issue 11): the interval,
/// their size, and the drift they imply.
#[derive(Clone, Debug, Serialize)]
pub struct Recurring {
    /// How many incidents (events within `INCIDENT_GAP` of each other are one).
    pub incidents: usize,
    /// Median seconds between incidents.
    pub interval_seconds: f64,
    /// The largest distance of an interval from the median, in seconds.
    pub interval_spread_seconds: f64,
    /// Mean jump per incident, in seconds.
    pub mean_seconds: f64,
    /// The drift that size over that interval implies.
    pub drift_seconds_per_day: f64,
    pub drift_ppm: f64,
    /// True when the interval is near 604,800 s (7 days), Hyper-V's
    /// default host sync interval (w32time SpecialPollInterval 0x93a80).
    pub hyperv_default_interval: bool,
    /// What to do, when the interval is Hyper-V's default.
    pub advice: Option<String>,
}

/// Events closer than this are one incident (a step wakes many processes).
pub const INCIDENT_GAP: f64 = 600.0;
/// Intervals within this fraction of their median count as regular.
pub const REGULAR_TOLERANCE: f64 = 0.10;
/// Fewest incidents (so at least two intervals) before claiming a period.
pub const MIN_INCIDENTS: usize = 3;
/// w32time's default SpecialPollInterval, seconds.
pub const HYPERV_DEFAULT_INTERVAL: f64 = 604_800.0;

pub const HYPERV_ADVICE: &str = "this is Hyper-V's default host time sync interval (w32time \
SpecialPollInterval 604800 = 0x93a80, 7 days), over which the guest's clock drifts this far: on \
the Hyper-V host, set HKLM\\SYSTEM\\CurrentControlSet\\Services\\W32Time\\TimeProviders\\NtpClient\\SpecialPollInterval \
to 3600 (0xe10) and restart w32time (net stop w32time, net start w32time); `clockcheck env` gives \
the exact commands";

/// Finds a regular period in silent jumps: `(time, seconds)` in time order.
pub fn recurring(jumps: &[(NaiveDateTime, Option<f64>)]) -> Option<Recurring> {
    // Incidents: (start, largest size).
    let mut incidents: Vec<(NaiveDateTime, f64)> = Vec::new();
    let mut last: Option<NaiveDateTime> = None;
    for &(t, size) in jumps {
        let size = size.unwrap_or(0.0);
        match incidents.last_mut() {
            Some(incident) if last.is_some_and(|l| (t - l).as_seconds_f64() <= INCIDENT_GAP) => {
                incident.1 = incident.1.max(size);
            }
            _ => incidents.push((t, size)),
        }
        last = Some(t);
    }
    if incidents.len() < MIN_INCIDENTS {
        return None;
    }
    let mut intervals: Vec<f64> = incidents
        .windows(2)
        .map(|w| (w[1].0 - w[0].0).as_seconds_f64())
        .collect();
    let unsorted = intervals.clone();
    intervals.sort_by(f64::total_cmp);
    let median = intervals[intervals.len() / 2];
    if median <= INCIDENT_GAP {
        return None;
    }
    let spread = unsorted
        .iter()
        .map(|i| (i - median).abs())
        .fold(0.0, f64::max);
    if spread > median * REGULAR_TOLERANCE {
        return None;
    }
    let mean = incidents.iter().map(|i| i.1).sum::<f64>() / incidents.len() as f64;
    let rate = mean / median;
    let hyperv =
        (median - HYPERV_DEFAULT_INTERVAL).abs() <= HYPERV_DEFAULT_INTERVAL * REGULAR_TOLERANCE;
    Some(Recurring {
        incidents: incidents.len(),
        interval_seconds: median,
        interval_spread_seconds: spread,
        mean_seconds: mean,
        drift_seconds_per_day: rate * 86_400.0,
        drift_ppm: rate * 1e6,
        hyperv_default_interval: hyperv,
        advice: hyperv.then(|| HYPERV_ADVICE.to_string()),
    })
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

/// One line logged to two files (maillog and messages: FreeBSD copies
/// `mail.crit`, dovecot's Fatal level, to both) is one event.  Events are
/// the same when host, time, program, pid and message are; within one file
/// such repeats are separate events (two sessions cut in one second), so
/// from each further file only as many are taken as exceed the most any
/// single file had.  Returns the events kept and, per host, how many were
/// merged.
fn merge_copies<'a>(
    shown: &[&'a Found],
    local_offset: i32,
) -> (Vec<&'a Found>, BTreeMap<String, u64>) {
    type Key = (
        Option<String>,
        Option<NaiveDateTime>,
        Option<String>,
        Option<u32>,
        u64,
        u64,
    );
    let mut seen: HashMap<Key, (HashMap<usize, u64>, u64)> = HashMap::new();
    let mut kept = Vec::with_capacity(shown.len());
    let mut merged: BTreeMap<String, u64> = BTreeMap::new();
    for &f in shown {
        let key = (
            f.host.clone(),
            timeline(f, local_offset),
            f.program.clone(),
            f.pid,
            f.message_key,
            f.count,
        );
        let (per_file, most) = seen.entry(key).or_default();
        let in_this_file = per_file.entry(f.file).or_default();
        *in_this_file += 1;
        if *in_this_file > *most {
            *most = *in_this_file;
            kept.push(f);
        } else {
            let host = f.host.clone().unwrap_or_else(|| "-".into());
            *merged.entry(host).or_default() += f.count;
        }
    }
    (kept, merged)
}

/// A host's clock steps on the timeline, in time order (ties in input
/// order), for `nearest_step`.
struct Steps<'a> {
    sorted: Vec<(NaiveDateTime, usize, &'a Found)>,
}

impl<'a> Steps<'a> {
    fn new(steps: Vec<(usize, &'a Found)>, local_offset: i32) -> Steps<'a> {
        let mut sorted: Vec<(NaiveDateTime, usize, &Found)> = steps
            .into_iter()
            .filter_map(|(i, s)| Some((timeline(s, local_offset)?, i, s)))
            .collect();
        sorted.sort_by_key(|(t, i, _)| (*t, *i));
        Steps { sorted }
    }

    /// The step nearest to `at` among those up to `window` seconds before
    /// it or 2 s after (the step line and dovecot's line can carry the same
    /// second in either order); on a tie, the one found first.  Two binary
    /// searches, not a scan of every step.
    fn nearest(&self, at: NaiveDateTime, window: f64) -> Option<(f64, &'a Found)> {
        let before = |t: NaiveDateTime| (at - t).as_seconds_f64();
        let after_at = self.sorted.partition_point(|(t, _, _)| *t <= at);
        let mut candidates: Vec<(f64, usize, &Found)> = Vec::with_capacity(2);
        if after_at > 0 {
            // The latest time at or before `at`, and its first step.
            let latest = self.sorted[after_at - 1].0;
            let first = self.sorted.partition_point(|(t, _, _)| *t < latest);
            let (t, i, s) = self.sorted[first];
            candidates.push((before(t), i, s));
        }
        if let Some(&(t, i, s)) = self.sorted.get(after_at) {
            candidates.push((before(t), i, s));
        }
        candidates
            .into_iter()
            .filter(|(b, _, _)| (-2.0..=window).contains(b))
            .min_by(|a, b| a.0.abs().total_cmp(&b.0.abs()).then(a.1.cmp(&b.1)))
            .map(|(b, _, s)| (b, s))
    }
}

/// What a dovecot event did, on the installed generation.
fn effect(f: &Found, generation: Generation) -> String {
    let e = &f.event;
    if e.source == Source::Xinetd {
        return match generation {
            Generation::V2 => "a login process xinetd started died (status 89): on dovecot 2.x every one does, whatever the clock, since 2.x cannot run from xinetd".into(),
            Generation::V1 => "a dovecot (1.x) login process died (status 89; dovecot's log says why)".into(),
            Generation::Unknown => "a dovecot login process died (status 89; dovecot's log says why)".into(),
        };
    }
    match (e.fatal, generation) {
        (true, Generation::V1) => "dovecot (1.x) exited: the server is down".into(),
        (true, Generation::V2) => {
            "a session was cut (the mail process died; the master stays)".into()
        }
        (true, Generation::Unknown) => "a dovecot process died".into(),
        (false, _) => match e.held_back {
            Some(m) => format!("new sessions held back {m} s"),
            None => "dovecot waited (no process died)".into(),
        },
    }
}

/// `shown` are the events the user asked for; `steps` every clock step found
/// (candidate causes, even outside --since or the default backward filter).
/// `generation` is the installed dovecot's (what an event did depends on it).
pub fn summarize(
    shown: &[&Found],
    steps: &[&Found],
    files: &[String],
    window: f64,
    local_offset: i32,
    generation: Generation,
) -> Vec<HostSummary> {
    let host_of = |f: &Found| f.host.clone().unwrap_or_else(|| "-".into());
    let (shown, merged) = merge_copies(shown, local_offset);
    let mut hosts: BTreeMap<String, (Vec<&Found>, u64)> = BTreeMap::new();
    for found in &shown {
        hosts.entry(host_of(found)).or_default().0.push(found);
    }
    for (host, n) in merged {
        hosts.entry(host).or_default().1 += n;
    }
    let mut steps_by_host: BTreeMap<String, Vec<(usize, &Found)>> = BTreeMap::new();
    for (i, s) in steps.iter().enumerate() {
        steps_by_host.entry(host_of(s)).or_default().push((i, s));
    }
    let mut out = Vec::new();
    for (host, (events, merged_copies)) in hosts {
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
        let host_steps = Steps::new(
            steps_by_host.remove(&host).unwrap_or_default(),
            local_offset,
        );
        let is_cause = |f: &Found| {
            (f.event.source == Source::Dovecot && f.event.kind == Kind::Backward)
                || (f.event.source == Source::Xinetd && f.event.kind == Kind::Exit)
        };
        let causes: Vec<Cause> = events
            .iter()
            .filter(|f| is_cause(f))
            .map(|f| {
                let step = timeline(f, local_offset)
                    .and_then(|at| host_steps.nearest(at, window))
                    .map(|(before, s)| Step {
                        source: s.event.source,
                        kind: s.event.kind,
                        seconds: s.event.seconds,
                        before,
                        place: place(s, files),
                    });
                Cause {
                    seconds: f.event.seconds,
                    fatal: f.event.fatal,
                    place: place(f, files),
                    step,
                    source: f.event.source,
                    kind: f.event.kind,
                    effect: effect(f, generation),
                    held_back: f.event.held_back,
                }
            })
            .collect();
        // Jumps no logged program caused (or Hyper-V's sync did), in time order.
        let mut silent: Vec<(NaiveDateTime, Option<f64>)> = events
            .iter()
            .filter(|f| is_cause(f))
            .zip(&causes)
            .filter(|(f, _)| f.event.source == Source::Dovecot)
            .filter(|(_, c)| c.step.as_ref().is_none_or(|s| s.source == Source::Hyperv))
            .filter_map(|(f, c)| Some((timeline(f, local_offset)?, c.seconds)))
            .collect();
        silent.sort_by_key(|j| j.0);
        out.push(HostSummary {
            recurring: recurring(&silent),
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
            dovecot_generation: generation,
            merged_copies,
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

fn generation_of(s: &HostSummary) -> Generation {
    s.dovecot_generation
}

/// What one incident did, in one phrase: on 1.x a death is the whole
/// server; on 2.x each death is one session, and the master holds new
/// sessions back.
fn group_effect(group: &[&Cause], generation: Generation) -> String {
    if group.len() == 1 {
        return group[0].effect.clone();
    }
    let deaths = group
        .iter()
        .filter(|c| c.fatal && c.source == Source::Dovecot)
        .count();
    let exits = group.iter().filter(|c| c.source == Source::Xinetd).count();
    let held = group
        .iter()
        .filter_map(|c| c.held_back)
        .fold(None, |m: Option<f64>, h| Some(m.map_or(h, |m| m.max(h))));
    let mut parts = Vec::new();
    match generation {
        Generation::V1 if deaths + exits > 0 => {
            parts.push("dovecot (1.x) exited: the server is down".to_string())
        }
        Generation::V2 if deaths > 0 => parts.push(format!("{deaths} sessions cut")),
        _ if deaths > 0 => parts.push(format!("{deaths} dovecot processes died")),
        _ => {}
    }
    if exits > 0 && generation != Generation::V1 {
        parts.push(format!("{exits} login processes exited with status 89"));
    }
    // Only 2.x's master holds sessions back (1.x's exits with the rest).
    if let Some(h) = held.filter(|_| generation != Generation::V1) {
        parts.push(format!("new sessions held back {h} s"));
    }
    if parts.is_empty() {
        "dovecot waited (no process died)".into()
    } else {
        parts.join(", ")
    }
}

/// The human form of the summary.
pub fn write_text(
    out: &mut dyn std::io::Write,
    summaries: &[HostSummary],
    window: f64,
) -> std::io::Result<()> {
    for s in summaries {
        write_host_facts(out, s)?;
        if !s.causes.is_empty() {
            writeln!(
                out,
                "  dovecot backward events and the clock step behind them:"
            )?;
        }
        let mut silent = false;
        for group in group_by_cause(&s.causes) {
            silent |= group[0].step.is_none();
            writeln!(
                out,
                "    {}; {}",
                incident(&group, window),
                group_effect(&group, generation_of(s))
            )?;
        }
        write_host_notes(out, s, silent)?;
    }
    Ok(())
}

/// A host's header: its counts, dovecot's generation, the largest jump,
/// the first and last event.
fn write_host_facts(out: &mut dyn std::io::Write, s: &HostSummary) -> std::io::Result<()> {
    // The host name comes from the log: escaped, as every name printed.
    writeln!(
        out,
        "host {}: {} events, {} dovecot deaths",
        escape_text(&s.host),
        s.events,
        s.dovecot_deaths
    )?;
    writeln!(
        out,
        "  dovecot generation: {}{}",
        s.dovecot_generation.as_str(),
        match s.dovecot_generation {
            Generation::Unknown => " (nothing under --root tells it)",
            _ => " (from the tree under --root)",
        }
    )?;
    if s.merged_copies > 0 {
        writeln!(
            out,
            "  {} lines seen in two files (same time, program, pid, message) counted once",
            s.merged_copies
        )?;
    }
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
    writeln!(out, "  last event:  {}", s.last.as_deref().unwrap_or("-"))
}

/// One incident: when and where, what dovecot saw, and the step behind it
/// (or that none was found within `window` seconds).
fn incident(group: &[&Cause], window: f64) -> String {
    let (first, last) = (group[0], group[group.len() - 1]);
    let deaths = group.iter().filter(|c| c.fatal).count();
    let when = match (&first.place.timestamp, &last.place.timestamp) {
        (Some(a), Some(b)) if a != b => format!("{a} .. {b}"),
        (Some(a), _) => a.clone(),
        _ => "(no timestamp)".into(),
    };
    let size = group.iter().find_map(|c| c.seconds);
    let what = if group.len() == 1 && first.source == Source::Xinetd {
        "xinetd: a dovecot login exited with status 89,".to_string()
    } else if group.len() == 1 {
        format!(
            "{} {} back",
            if first.fatal {
                "dovecot died:"
            } else {
                "dovecot saw:"
            },
            secs(first.seconds)
        )
    } else {
        format!(
            "{} events, {deaths} deaths: {} back",
            group.len(),
            secs(size)
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
        None => format!("no step source found within {window} s before it"),
    };
    let place = match first.place.line {
        Some(line) => format!("{}:{line}", first.place.file),
        None => first.place.file.clone(),
    };
    format!("{when} ({place}) {what} <- {cause}")
}

/// What a host's incidents suggest: a recurring silent jump, Hyper-V's
/// steps, jumps with no logged step (`silent`).
fn write_host_notes(
    out: &mut dyn std::io::Write,
    s: &HostSummary,
    silent: bool,
) -> std::io::Result<()> {
    if let Some(r) = &s.recurring {
        writeln!(
            out,
            "  recurring: {} backward jumps with no step source, every {:.1} days ({:.0} s, within {:.0} s), {:.1} s each on average: the clock drifts {:.2} s/day ({:.1} ppm) between corrections",
            r.incidents,
            r.interval_seconds / 86_400.0,
            r.interval_seconds,
            r.interval_spread_seconds,
            r.mean_seconds,
            r.drift_seconds_per_day,
            r.drift_ppm
        )?;
        if let Some(advice) = &r.advice {
            writeln!(out, "  {advice}")?;
        }
    }
    if s.causes.iter().any(|c| {
        c.step
            .as_ref()
            .is_some_and(|st| st.source == Source::Hyperv)
    }) {
        writeln!(
            out,
            "  hyperv steps: the Hyper-V host's time sync set the clock (hv_timesync, logged with bootverbose)"
        )?;
    }
    if silent {
        writeln!(
            out,
            "  no step source found: a hypervisor's time sync (Hyper-V's among them) steps the clock without logging anything"
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Event;
    use crate::year::Resolved;

    fn found(file: usize, second: i64, step: bool) -> Found {
        let base = chrono::NaiveDate::from_ymd_opt(2026, 12, 7)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap();
        Found {
            file,
            line: Some(1),
            offset: 0,
            text: Vec::new(),
            time: Some(Resolved {
                local: base + TimeDelta::seconds(second),
                offset: Some(0),
            }),
            host: Some("h".into()),
            program: Some(if step { "ntpd" } else { "dovecot" }.into()),
            pid: None,
            event: Event {
                source: if step { Source::Ntpd } else { Source::Dovecot },
                kind: Kind::Backward,
                seconds: Some(1.0),
                fatal: !step,
                is_step: step,
                all_only: false,
                held_back: None,
            },
            count: 1,
            stamp: None,
            message_key: second as u64,
        }
    }

    /// The old pairing: every step against the event, the nearest within
    /// [-2, window] seconds, the first found on a tie.
    fn brute_force(at: NaiveDateTime, steps: &[Found], window: f64) -> Option<usize> {
        steps
            .iter()
            .enumerate()
            .filter_map(|(i, s)| {
                let before = (at - timeline(s, 0)?).as_seconds_f64();
                (-2.0..=window).contains(&before).then_some((before, i))
            })
            .min_by(|a, b| a.0.abs().total_cmp(&b.0.abs()))
            .map(|(_, i)| i)
    }

    #[test]
    fn the_sorted_search_finds_what_every_pair_found() {
        // Pseudo-random step times with repeats, in input order unsorted.
        let mut seed = 7u64;
        let mut next = |m: u64| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) % m
        };
        let steps: Vec<Found> = (0..300)
            .map(|_| found(0, next(2000) as i64, true))
            .collect();
        let refs: Vec<(usize, &Found)> = steps.iter().enumerate().collect();
        let sorted = Steps::new(refs, 0);
        for at in 0..2100 {
            let event = found(0, at, false);
            let t = timeline(&event, 0).unwrap();
            for window in [0.0, 1.0, 30.0, 120.0] {
                let fast = sorted
                    .nearest(t, window)
                    .map(|(_, s)| steps.iter().position(|x| std::ptr::eq(x, s)).unwrap());
                let slow = brute_force(t, &steps, window);
                assert_eq!(fast, slow, "at {at} window {window}");
            }
        }
    }

    #[test]
    fn a_copy_in_another_file_is_merged_and_repeats_in_one_file_are_not() {
        let (a, b, c) = (
            found(0, 10, false),
            found(0, 10, false),
            found(1, 10, false),
        );
        let d = found(1, 10, false);
        let e = found(1, 10, false);
        let (kept, merged) = merge_copies(&[&a, &b, &c, &d, &e], 0);
        // Two in file 0, three in file 1: three deaths, two copies.
        assert_eq!(kept.len(), 3);
        assert_eq!(merged.get("h"), Some(&2));
    }
}
