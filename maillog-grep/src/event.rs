//! Which messages are clock events, and what they say: who logged it, which
//! way the clock went, by how much, and whether dovecot died of it.
//!
//! The table follows the census in docs/clock-messages.md, message by
//! message (each was taken from the program's own source and history).  A
//! message only counts when the program that logged it is the one that
//! writes that text, so mail that merely quotes the words (a Subject in a
//! postfix warning) is not an event.

use serde::Serialize;

use crate::record::Record;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    Dovecot,
    Ntpd,
    Ntpdate,
    Ntpsec,
    Chronyd,
    Openntpd,
    Timesyncd,
    Postfix,
    Kernel,
    /// Hyper-V's time sync (FreeBSD's hv_timesync driver, bootverbose).
    Hyperv,
    Journald,
    /// systemd's PID 1.
    Systemd,
    /// FreeBSD's date(1).
    Date,
    /// busybox's ntpd.
    Busybox,
    /// xinetd's `EXIT: imap status=89` line: a dovecot login process it
    /// started died of a Fatal (dovecot's exit code 89).
    Xinetd,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Dovecot => "dovecot",
            Source::Ntpd => "ntpd",
            Source::Ntpdate => "ntpdate",
            Source::Ntpsec => "ntpsec",
            Source::Chronyd => "chronyd",
            Source::Openntpd => "openntpd",
            Source::Timesyncd => "timesyncd",
            Source::Postfix => "postfix",
            Source::Kernel => "kernel",
            Source::Hyperv => "hyperv",
            Source::Journald => "journald",
            Source::Systemd => "systemd",
            Source::Date => "date",
            Source::Busybox => "busybox",
            Source::Xinetd => "xinetd",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Backward,
    Forward,
    /// The clock was set, direction not known.
    Step,
    /// Clocksource trouble (the kernel distrusts its clock).
    Unstable,
    /// A process exited (xinetd's EXIT line of a dovecot login process).
    Exit,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Backward => "backward",
            Kind::Forward => "forward",
            Kind::Step => "step",
            Kind::Unstable => "unstable",
            Kind::Exit => "exit",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    pub source: Source,
    pub kind: Kind,
    /// Size of the jump as logged (a magnitude; `kind` says the direction).
    pub seconds: Option<f64>,
    /// True when the dovecot process that logged it died of it.
    pub fatal: bool,
    /// True when a program set the clock (a candidate cause in `--summary`),
    /// as opposed to a program noticing that it moved.
    pub is_step: bool,
    /// True for a backward event the default mode does not report (only
    /// `--all` does; `--summary` still uses it as a cause): its line holds
    /// none of the default mode's probes, and a third probe would slow every
    /// default search (journald's rotation notes are left out on purpose).
    pub all_only: bool,
    /// dovecot 2.x's master: "waiting for M secs until new services are
    /// launched again", the seconds new sessions are held back.
    pub held_back: Option<f64>,
}

/// What the scanner looks for with `--all` and `--summary`: one short anchor
/// inside each event message.  Lines without any are never parsed (that is
/// what makes it fast); lines with one are parsed and `classify` decides.
/// Each anchor is a piece of the message whose first bytes are rare in mail
/// logs (`d backwards`, not `moved backwards`: Teddy, the SIMD searcher,
/// filters on the first bytes, and "mov" or "tim" start far more false
/// candidates than "d b" does).  Repeat lines need no anchor: the scanner
/// keeps every repeat line that follows a hit (see `scan`).
pub const ANCHORS: &[&str] = &[
    "d backwards", // dovecot "moved backwards", timesyncd and journald "jumped backwards"
    "d forward",   // dovecot "jumped forwards", "moved forward(s)"
    "e reset ",    // ntpd <= 4.2.4 "time reset"
    "k_step ",     // ntpd/NTPsec "clock_step"
    "time set ",   // ntpd -q / NTPsec "time set"
    "p time server ", // ntpdate "step time server"
    "e stepped by ", // NTPsec "time stepped by"
    "s stepped by ", // chronyd "was stepped by"
    "e jump detected", // chronyd "Backward/Forward time jump detected!"
    "k wrong by ", // chronyd "System clock wrong by"
    "l clock to ", // OpenNTPD "set local clock to"
    "d time jump", // postfix "backward time jump detected"
    "g clocksource", // Linux "Marking clocksource"
    "g TSC unstable", // Linux "Marking TSC unstable"
    " unstable (delta", // Linux "Clocksource tsc unstable (delta = ...)"
    "m clock to ", // Linux RTC "setting system clock to"
    "t backwards", // FreeBSD "calcru: runtime went backwards"
    "al time step", // ntpd/NTPsec "Doing intital/initial time step"
    "p second",    // leap second steps: ntpd, NTPsec, chronyd, Linux
    "e changed from ", // NTPsec "time changed from DATE to DATE"
    "k_reset'",    // ntpd <= 4.2.4 "system event 'event_clock_reset'"
    "l offset : ", // chronyd initstepslew "System's initial offset : "
    "d. Resyncing", // early timesyncd "System time changed. Resyncing."
    "e stepped from ", // FreeBSD kernel "Time stepped from A to B (C)"
    "y sync request", // FreeBSD hv_timesync "apply sync request"
    "y sample request", // FreeBSD hv_timesync "apply sample request"
    "k delay of ", // Linux watchdog "read-back delay of N ns ... marking unstable"
    "g unstable (", // Linux "sched_clock: Marking unstable (...)"
    "e has been changed", // systemd PID 1 "Time has been changed"
    "e set by ",   // FreeBSD date(1) "date set by USER"
    "g time to ",  // busybox ntpd "setting time to DATE (offset -1.5s)"
    "s=89 ",       // xinetd "EXIT: imap status=89 pid=N duration=N(sec)"
];

/// Three bytes in a row, each within an inclusive range.
pub type Probe = [(u8, u8); 3];

/// What the scanner looks for in the default mode, where only backward
/// jumps are reported.  Every line `classify` calls a backward jump (and
/// does not mark `all_only`) holds one of these two probes:
/// - `kwa`: dovecot's "moved backwards", postfix's "backward time jump" and
///   chronyd's "Backward time jump" all say "backward";
/// - a space, `-`, then a digit (or `.`): a step program's negative
///   correction, which `step_event` reads right after a marker that ends in
///   a space ("time reset -0.5", "stepped by -2", "(offset -1.5s)").
///
/// Probes of three bytes, two of them fixed, are rare in mail logs and are
/// checked at memory speed (see `probe`); the test
/// `event_lines_hold_an_anchor_and_backward_lines_a_probe` keeps this list
/// and `classify` in step.
pub const BACKWARD_PROBES: [Probe; 2] = [
    [(b'k', b'k'), (b'w', b'w'), (b'a', b'a')],
    [(b' ', b' '), (b'-', b'-'), (b'.', b'9')],
];

/// Where `needle` first stands in `hay` (as `memchr::memmem::find`).
/// `classify` asks a few of these per line, of a message of a few hundred
/// bytes at most: `memmem::find` builds a searcher for each call, which
/// cost more than the search (12% of `--all -c` on a file of clock events,
/// by callgrind), so the first byte is found with memchr and the rest
/// compared in place.
fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    let Some((&first, rest)) = needle.split_first() else {
        return Some(0);
    };
    memchr::memchr_iter(first, hay).find(|&at| hay[at + 1..].starts_with(rest))
}

/// A decimal number (sign and fraction kept) at the start of `text`.
fn number(text: &[u8]) -> Option<f64> {
    let end = text
        .iter()
        .enumerate()
        .position(|(i, &b)| {
            !(b.is_ascii_digit() || b == b'.' || (i == 0 && (b == b'-' || b == b'+')))
        })
        .unwrap_or(text.len());
    std::str::from_utf8(&text[..end]).ok()?.parse().ok()
}

fn number_after(text: &[u8], marker: &[u8]) -> Option<f64> {
    let at = find(text, marker)? + marker.len();
    number(&text[at..])
}

/// An unsigned integer at the start of `text`, exactly (nanosecond clock
/// readings do not fit an f64 exactly).
fn integer(text: &[u8]) -> Option<u128> {
    let end = text
        .iter()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(text.len());
    std::str::from_utf8(&text[..end]).ok()?.parse().ok()
}

/// `SECONDS.NANOSECONDS` (FreeBSD's `%jd.%09ld`) as nanoseconds.
fn seconds_nanos(text: &[u8]) -> Option<i128> {
    let dot = text.iter().position(|&b| b == b'.')?;
    let secs = integer(&text[..dot])? as i128;
    let nanos = integer(&text[dot + 1..])? as i128;
    Some(secs * 1_000_000_000 + nanos)
}

/// A signed correction: negative means the clock was set back.
fn step_event(source: Source, correction: Option<f64>) -> Event {
    let kind = match correction {
        Some(v) if v < 0.0 => Kind::Backward,
        Some(v) if v > 0.0 => Kind::Forward,
        _ => Kind::Step,
    };
    Event {
        source,
        kind,
        seconds: correction.map(f64::abs),
        fatal: false,
        is_step: true,
        all_only: false,
        held_back: None,
    }
}

/// A step the default mode leaves to `--all` (its line holds no probe).
fn unprobed_step(source: Source, correction: Option<f64>) -> Event {
    Event {
        all_only: true,
        ..step_event(source, correction)
    }
}

/// A program noticing that the clock moved (not a cause).
fn noticed(source: Source, kind: Kind, seconds: Option<f64>) -> Event {
    Event {
        source,
        kind,
        seconds,
        fatal: false,
        is_step: false,
        held_back: None,
        all_only: false,
    }
}

fn program_is(record: &Record<'_>, names: &[&str]) -> bool {
    record
        .program
        .is_some_and(|p| names.iter().any(|n| p == n.as_bytes()))
}

/// The syslog idents dovecot logs under: `dovecot` (and `dovecot[PID]`
/// through journald), the `instance_name` setting since 2.3.8, and the
/// login processes' own tags (`imap-login:`, `pop3-login:`) when xinetd
/// starts them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Idents {
    /// A set: 100,000 instance names cost linear time to build and one
    /// look-up per line, not a scan of the list (issue 21).
    dovecot: std::collections::HashSet<Vec<u8>>,
}

/// Dovecot's idents when nothing else is known.
pub const DEFAULT_DOVECOT_IDENTS: &[&str] = &[
    "dovecot",
    "dovecot2",
    "imap-login",
    "pop3-login",
    "submission-login",
    "managesieve-login",
];

impl Default for Idents {
    fn default() -> Idents {
        Idents::with(std::iter::empty::<&str>())
    }
}

impl Idents {
    /// The default idents and `more` (instance names).
    pub fn with<S: AsRef<str>>(more: impl IntoIterator<Item = S>) -> Idents {
        let mut dovecot: std::collections::HashSet<Vec<u8>> = DEFAULT_DOVECOT_IDENTS
            .iter()
            .map(|s| s.as_bytes().to_vec())
            .collect();
        for name in more {
            let name = name.as_ref().trim().as_bytes().to_vec();
            if !name.is_empty() {
                dovecot.insert(name);
            }
        }
        Idents { dovecot }
    }

    fn is_dovecot(&self, record: &Record<'_>) -> bool {
        record.program.is_some_and(|p| self.dovecot.contains(p))
    }
}

/// Classifies a parsed line with dovecot's default idents.  `None`: not a
/// clock event.
pub fn classify(record: &Record<'_>) -> Option<Event> {
    static DEFAULT: std::sync::LazyLock<Idents> = std::sync::LazyLock::new(Idents::default);
    classify_with(record, &DEFAULT)
}

/// Classifies a parsed line.  `None`: not a clock event.
pub fn classify_with(record: &Record<'_>, idents: &Idents) -> Option<Event> {
    let msg = record.message;
    if idents.is_dovecot(record) {
        return dovecot(msg);
    }
    if program_is(record, &["ntpd", "ntpdate", "sntp", "ntpdig", "openntpd"]) {
        return ntp_family(msg);
    }
    if program_is(record, &["chronyd"]) {
        return chronyd(msg);
    }
    if program_is(record, &["systemd-timesyncd"]) {
        return timesyncd(msg);
    }
    if program_is(record, &["systemd-journald"]) {
        // "Time jumped backwards, rotating." and, newer,
        // "PATH: Realtime clock jumped backwards relative to last journal
        // entry, rotating.": journald noticed, and only says so.
        let noticed_back = msg.starts_with(b"Time jumped backwards, rotating")
            || find(
                msg,
                b"Realtime clock jumped backwards relative to last journal entry",
            )
            .is_some();
        return noticed_back.then(|| Event {
            all_only: true,
            ..noticed(Source::Journald, Kind::Backward, None)
        });
    }
    if program_is(record, &["systemd"]) {
        return msg
            .starts_with(b"Time has been changed")
            .then(|| noticed(Source::Systemd, Kind::Step, None));
    }
    if program_is(record, &["date"]) {
        return msg
            .starts_with(b"date set by ")
            .then(|| step_event(Source::Date, None));
    }
    if record.program.is_some_and(|p| p.starts_with(b"postfix")) {
        // sane_time.c: "warning: [another ]backward time jump detected -- slewing clock".
        let warning = msg.strip_prefix(b"warning: ")?;
        let text = warning.strip_prefix(b"another ").unwrap_or(warning);
        return text
            .starts_with(b"backward time jump detected")
            .then(|| noticed(Source::Postfix, Kind::Backward, None));
    }
    if program_is(record, &["kernel"]) {
        return kernel(msg);
    }
    if program_is(record, &["xinetd"]) {
        return xinetd_exit(msg);
    }
    None
}

/// The services whose server is dovecot's imap-login or pop3-login in the
/// errata's xinetd files (and imap3, which the errata names too).
const DOVECOT_LOGIN_SERVICES: &[&[u8]] =
    &[b"imap", b"imaps", b"imap2", b"imap3", b"pop3", b"pop3s"];

/// xinetd's `EXIT: imap status=89 pid=N duration=N(sec)`: a dovecot login
/// process exited with 89, dovecot's exit code for a Fatal.  The reason is
/// in dovecot's own log, not here; xinetd's line only says it died.
fn xinetd_exit(msg: &[u8]) -> Option<Event> {
    let rest = msg.strip_prefix(b"EXIT: ")?;
    let (service, rest) = rest.split_at(rest.iter().position(|&b| b == b' ')?);
    if !DOVECOT_LOGIN_SERVICES.contains(&service) || !rest.starts_with(b" status=89 ") {
        return None;
    }
    Some(Event {
        source: Source::Xinetd,
        kind: Kind::Exit,
        seconds: None,
        fatal: true,
        is_step: false,
        held_back: None,
        // Not a clock jump: the default mode does not report it; --all and
        // --summary do.
        all_only: true,
    })
}

fn timesyncd(msg: &[u8]) -> Option<Event> {
    // "System clock time unset or jumped backwards, restoring from recorded
    // timestamp: DATE" (older) / "..., restored from recorded timestamp:
    // DATE" (newer): the clock is set forward to the saved time.
    if find(msg, b"jumped backwards, restoring").is_some()
        || find(msg, b"jumped backwards, restored").is_some()
    {
        return Some(step_event(Source::Timesyncd, None)).map(|e| Event {
            kind: Kind::Forward,
            ..e
        });
    }
    // Early timesyncd (v213..): someone else set the clock.
    if msg.starts_with(b"System time changed. Resyncing") {
        return Some(noticed(Source::Timesyncd, Kind::Step, None));
    }
    None
}

fn dovecot(msg: &[u8]) -> Option<Event> {
    let event = |kind, seconds, fatal| {
        Some(noticed(Source::Dovecot, kind, seconds)).map(|e| Event { fatal, ..e })
    };
    // 1.x puts `Fatal: ` before the child prefix, 2.x after it; either way
    // the level word ends right before "Time".
    let at = find(msg, b"Time ")?;
    let head = &msg[..at];
    let text = &msg[at..];
    // Dovecot writes these only right after its prefixes and level word
    // (`imap(bob)<1><s>: Fatal: `): colon-separated words without spaces.
    // Anything else is a message quoting the words (a Subject, a mailbox).
    let prefixes_only = head.is_empty()
        || (head.ends_with(b": ")
            && head[..head.len() - 2].split(|&b| b == b':').all(|part| {
                let part = part.strip_prefix(b" ").unwrap_or(part);
                !part.is_empty() && !part.contains(&b' ')
            }));
    if !prefixes_only {
        return None;
    }
    // The level word, or, before 1.1.rc2 (which wrote no level word to
    // syslog), the message itself: only i_fatal() says it will kill itself.
    let level_fatal = head.ends_with(b"Fatal: ") || head.starts_with(b"Fatal: ");
    if let Some(rest) = text.strip_prefix(b"Time just moved backwards") {
        let fatal = level_fatal || find(rest, b"so I'll just kill myself").is_some();
        if let Some(by) = rest.strip_prefix(b" by ") {
            // D2..D7, D11, D12, D20, D21.
            return event(Kind::Backward, number(by), fatal);
        }
        // D1 (1.0.rc25): "(OLD -> NEW)!", epoch seconds.
        let inner = rest.strip_prefix(b" (")?;
        let old = number(inner)?;
        let new = number_after(inner, b" -> ")?;
        return event(Kind::Backward, Some(old - new), fatal);
    }
    if let Some(by) = text.strip_prefix(b"Time moved backwards by ") {
        // D8, D9, D13, D14: warnings; the 2.x master's says how long it
        // holds new sessions back.
        let held_back = number_after(by, b"waiting for ");
        return event(Kind::Backward, number(by), false).map(|e| Event { held_back, ..e });
    }
    if let Some(by) = text.strip_prefix(b"Time jumped forwards ") {
        return event(Kind::Forward, number(by), false); // D10, D15
    }
    if let Some(rest) = text.strip_prefix(b"Time moved forward") {
        // D16 "forwards by", D17 "forward by", D18 "forward N", D19 "forward by N".
        let rest = rest.strip_prefix(b"s").unwrap_or(rest);
        let rest = rest
            .strip_prefix(b" by ")
            .or_else(|| rest.strip_prefix(b" "))?;
        return event(Kind::Forward, number(rest), false);
    }
    None
}

/// The leap-second step lines of ntpd (4.2.8p3+) and NTPsec: a positive
/// leap second steps the clock back one second, a negative one forward.
fn leap_step(source: Source, msg: &[u8]) -> Option<Event> {
    if msg.starts_with(b"Positive leap second, stepped backward") {
        return Some(step_event(source, Some(-1.0)));
    }
    if msg.starts_with(b"Negative leap second, stepped forward") {
        return Some(step_event(source, Some(1.0)));
    }
    None
}

/// `YYYY-MM-DD` as a day number, for comparing two dates.
fn day_number(text: &[u8]) -> Option<i64> {
    let s = std::str::from_utf8(text.get(..10)?).ok()?;
    let date = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()?;
    Some(i64::from(chrono::Datelike::num_days_from_ce(&date)))
}

fn ntp_family(msg: &[u8]) -> Option<Event> {
    // NTPsec prefixes its lines with a facility word (`CLOCK: `, `PROTO: `;
    // 0.9.8..1.0.0 reported events with `MODE6: `).  Classic ntpd has none.
    let (ntpsec, msg) = match msg
        .strip_prefix(b"CLOCK: ")
        .or_else(|| msg.strip_prefix(b"PROTO: "))
        .or_else(|| msg.strip_prefix(b"MODE6: "))
    {
        Some(rest) => (true, rest),
        None => (false, msg),
    };
    let ntpd = if ntpsec { Source::Ntpsec } else { Source::Ntpd };
    if let Some(v) = msg.strip_prefix(b"time reset ") {
        return Some(step_event(Source::Ntpd, number(v))); // <= 4.2.4
    }
    if let Some(v) = msg.strip_prefix(b"time stepped by ") {
        return Some(step_event(Source::Ntpsec, number(v)));
    }
    // NTPsec 1.1.1+, after a step of more than a day: "time changed from
    // 2024-03-01 to 2023-02-28" (local dates).  Only the direction is sure.
    if let Some(rest) = msg.strip_prefix(b"time changed from ") {
        let to = find(rest, b" to ")?;
        let (old, new) = (day_number(rest)?, day_number(&rest[to + 4..])?);
        let direction = (new - old).signum() as f64;
        let event = unprobed_step(Source::Ntpsec, Some(direction));
        return Some(Event {
            seconds: None,
            ..event
        });
    }
    // "0.0.0.0 c61c 0c clock_step +2.075483 s" (report_event).
    if let Some(at) = find(msg, b" 0c clock_step ") {
        return Some(step_event(ntpd, number(&msg[at + 15..])));
    }
    // ntpd <= 4.2.4: "system event 'event_clock_reset' (0x05) status '...' (0x..)",
    // right after the "time reset" line that carries the size.
    if msg.starts_with(b"system event 'event_clock_reset'") {
        return Some(step_event(Source::Ntpd, None));
    }
    // `-G` (ntpd 4.2.8p2+, NTPsec): the first step, whatever its size.
    // The spelling "intital" is the programs' own until NTPsec 1.2.4.
    if msg.starts_with(b"Doing intital time step") || msg.starts_with(b"Doing initial time step") {
        return Some(step_event(ntpd, None));
    }
    if let Some(event) = leap_step(ntpd, msg) {
        return Some(event);
    }
    // One-shot `ntpd -q`: "ntpd: time set +0.5 s" (slews are not jumps).
    let one_shot = msg.strip_prefix(b"ntpd: ").unwrap_or(msg);
    if let Some(v) = one_shot.strip_prefix(b"time set ") {
        return Some(step_event(ntpd, number(v)));
    }
    // busybox ntpd: "setting time to 2024-01-07 10:00:00.123456 (offset -1.500000s)".
    if one_shot.starts_with(b"setting time to ") {
        return Some(step_event(
            Source::Busybox,
            number_after(one_shot, b"(offset "),
        ));
    }
    // ntpdate: "step time server 203.0.113.5 offset -2835.904150 sec".
    if msg.starts_with(b"step time server ") {
        return Some(step_event(Source::Ntpdate, number_after(msg, b" offset ")));
    }
    // OpenNTPD: "set local clock to Mon Jan  6 10:00:00 UTC 2025 (offset -1.5s)".
    if msg.starts_with(b"set local clock to ") {
        return Some(step_event(Source::Openntpd, number_after(msg, b"(offset ")));
    }
    None
}

fn chronyd(msg: &[u8]) -> Option<Event> {
    if let Some(v) = msg.strip_prefix(b"System clock was stepped by ") {
        return Some(step_event(Source::Chronyd, number(v)));
    }
    // 2.0+, leapsecmode step: one second, direction not said.
    if msg.starts_with(b"System clock was stepped for leap second") {
        return Some(Event {
            seconds: Some(1.0),
            ..step_event(Source::Chronyd, None)
        });
    }
    if let Some(rest) = msg.strip_prefix(b"Backward time jump detected!") {
        // 1.26..1.29.1: "(correction 35.2 +- 0.5 seconds)", how far it went back.
        let seconds = number_after(rest, b"(correction ").map(f64::abs);
        return Some(noticed(Source::Chronyd, Kind::Backward, seconds));
    }
    if msg.starts_with(b"Forward time jump detected!") {
        return Some(noticed(Source::Chronyd, Kind::Forward, None));
    }
    // "System clock wrong by -1250.844905 seconds (step)": -offset, so a
    // positive value means the clock was behind and was stepped forward.
    // Without "(step)" chronyd slewed or ignored it: not a jump.
    if let Some(v) = msg.strip_prefix(b"System clock wrong by ")
        && find(v, b"(step)").is_some()
    {
        return Some(step_event(Source::Chronyd, number(v)));
    }
    // initstepslew: "System's initial offset : 12.5 seconds fast of true
    // (step)": the only line such a step leaves.  Fast means the clock was
    // ahead, so it went back.
    if let Some(v) = msg.strip_prefix(b"System's initial offset : ")
        && find(v, b"(step)").is_some()
    {
        let size = number(v)?.abs();
        return if find(v, b" fast of true").is_some() {
            Some(unprobed_step(Source::Chronyd, Some(-size)))
        } else if find(v, b" slow of true").is_some() {
            Some(step_event(Source::Chronyd, Some(size)))
        } else {
            None
        };
    }
    None
}

/// FreeBSD's hv_timesync (bootverbose): "apply sync request, hv: NS, vm:
/// NS" or "apply sample request, ...": the host's time and the guest's, in
/// nanoseconds, right before the guest is set to the host's.
fn hyperv(msg: &[u8]) -> Option<Event> {
    let at = find(msg, b"apply sync request, hv: ")
        .map(|a| a + 24)
        .or_else(|| find(msg, b"apply sample request, hv: ").map(|a| a + 26))?;
    let rest = &msg[at..];
    let hv = integer(rest)? as i128;
    let vm = integer(&rest[find(rest, b", vm: ")? + 6..])? as i128;
    let correction = (hv - vm) as f64 / 1e9;
    Some(unprobed_step(Source::Hyperv, Some(correction)))
}

fn kernel(msg: &[u8]) -> Option<Event> {
    // Kernel lines may carry a `[ 123.456]` uptime.
    let msg = match msg.strip_prefix(b"[") {
        Some(rest) => rest
            .iter()
            .position(|&b| b == b']')
            .map_or(msg, |p| rest[p + 1..].trim_ascii_start()),
        None => msg,
    };
    let unstable = || Some(noticed(Source::Kernel, Kind::Unstable, None));
    // The clocksource watchdog's read-back forms (5.13+, 6.x, 6.7+) end in
    // "marking unstable" / "marking tsc unstable"; its "test skipped" and
    // "retried" lines are not trouble.
    let read_back_unstable = find(msg, b"read-back delay of ").is_some()
        && find(msg, b", marking ").is_some()
        && msg.trim_ascii_end().ends_with(b"unstable");
    if find(msg, b"Marking clocksource").is_some()
        || find(msg, b"Marking TSC unstable").is_some()
        || read_back_unstable
        || msg.starts_with(b"sched_clock: Marking unstable (")
        || (msg.starts_with(b"Clocksource ") && find(msg, b" unstable (delta = ").is_some())
        || msg.starts_with(b"calcru: runtime went backwards")
    {
        return unstable();
    }
    // Leap seconds (kernel/time/ntp.c): inserting repeats 23:59:59, so
    // the clock goes back one second; deleting skips one.
    if msg.starts_with(b"Clock: inserting leap second 23:59:60") {
        return Some(unprobed_step(Source::Kernel, Some(-1.0)));
    }
    if msg.starts_with(b"Clock: deleting leap second 23:59:59") {
        return Some(step_event(Source::Kernel, Some(1.0)));
    }
    // FreeBSD kern_tc.c with kern.timecounter.stepwarnings=1: "Time stepped
    // from OLD to NEW (ASKED)", seconds.nanoseconds since the epoch.
    if let Some(rest) = msg.strip_prefix(b"Time stepped from ") {
        let old = seconds_nanos(rest)?;
        let to = find(rest, b" to ")?;
        let new = seconds_nanos(&rest[to + 4..])?;
        return Some(unprobed_step(
            Source::Kernel,
            Some((new - old) as f64 / 1e9),
        ));
    }
    if let Some(event) = hyperv(msg) {
        return Some(event);
    }
    if find(msg, b": setting system clock to ").is_some() {
        return Some(step_event(Source::Kernel, None));
    }
    None
}

pub const REPEAT_MARKER: &[u8] = b"message repeated ";

/// `last message repeated N times` (syslogd) or `message repeated N times:
/// [text]` (rsyslog): how many more, and the repeated text when given.
pub fn repeat<'a>(record: &Record<'a>) -> Option<(u64, Option<&'a [u8]>)> {
    let msg = record.message.trim_ascii_start();
    let msg = msg.strip_prefix(b"last ").unwrap_or(msg);
    let rest = msg.strip_prefix(REPEAT_MARKER)?;
    let end = rest.iter().position(|b| !b.is_ascii_digit())?;
    let count: u64 = std::str::from_utf8(&rest[..end]).ok()?.parse().ok()?;
    let after = rest[end..].strip_prefix(b" times")?;
    let text = after
        .strip_prefix(b": [")
        .map(|t| t.strip_suffix(b"]").unwrap_or(t));
    Some((count, text))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::parse;
    use proptest::prelude::*;

    proptest! {
        // Bytes of a small alphabet, so that matches and near misses are
        // common; needles of every length the markers have, empty included.
        #[test]
        fn find_agrees_with_memmem(
            hay in proptest::collection::vec(prop::sample::select(b" tTo-ab".to_vec()), 0..300),
            needle in proptest::collection::vec(prop::sample::select(b" tTo-ab".to_vec()), 0..6),
        ) {
            prop_assert_eq!(find(&hay, &needle), memchr::memmem::find(&hay, &needle));
        }
    }

    fn ev(line: &str) -> Option<Event> {
        classify(&parse(line.as_bytes()))
    }

    fn ev3(line: &str) -> (Source, Kind, Option<f64>, bool) {
        let e = ev(line).unwrap_or_else(|| panic!("no event: {line}"));
        (e.source, e.kind, e.seconds, e.fatal)
    }

    use Kind::*;
    use Source::*;

    #[test]
    fn dovecot_1x() {
        assert_eq!(
            ev3(
                "Mar  4 14:34:09 mail dovecot: Fatal: imap-login: Time just moved backwards (1173018858 -> 1173018852)! This might cause a lot of problems, so I'll just kill myself now."
            ),
            (Dovecot, Backward, Some(6.0), true)
        );
        assert_eq!(
            ev3(
                "Mar  4 21:42:57 imap2 dovecot: Fatal: POP3(judy): Time just moved backwards by 287 seconds. This might cause a lot of problems, so I'll just kill myself now."
            ),
            (Dovecot, Backward, Some(287.0), true)
        );
        assert_eq!(
            ev3(
                "Mar  4 17:30:58 mx1 dovecot: imap-login: Time just moved backwards by 1 seconds. I'll sleep now until we're back in present."
            ),
            (Dovecot, Backward, Some(1.0), false)
        );
        assert_eq!(
            ev3(
                "dovecot: 2010-09-08 06:39:45 Fatal: Time just moved backwards by 28 seconds. This might cause a lot of problems, so I'll just kill myself now. http://wiki.dovecot.org/TimeMovedBackwards"
            ),
            (Dovecot, Backward, Some(28.0), true)
        );
    }

    #[test]
    fn dovecot_2x() {
        assert_eq!(
            ev3(
                "Jan 14 05:51:18 mx1 dovecot: imap(grace@example.com)<57906><U2OLzu6UQBGSyLvV>: Fatal: Time just moved backwards by 21.862396 seconds. This might cause a lot of problems, so I'll just kill myself now. http://wiki2.dovecot.org/TimeMovedBackwards"
            ),
            (Dovecot, Backward, Some(21.862396), true)
        );
        assert_eq!(
            ev3(
                "Jun  4 00:59:27 mx1 dovecot: lmtp(bob@example.com): Error: Time just moved backwards by 2 seconds. I'll sleep now until we're back in present. http://wiki2.dovecot.org/TimeMovedBackwards"
            ),
            (Dovecot, Backward, Some(2.0), false)
        );
        assert_eq!(
            ev3("Jun  3 19:15:59 mx1 dovecot: log: Warning: Time moved backwards by 6462 seconds."),
            (Dovecot, Backward, Some(6462.0), false)
        );
        assert_eq!(
            ev3(
                "Jan 13 09:47:51 imap2 dovecot: master: Warning: Time moved backwards by 11.656524 seconds, waiting for 11.656 seconds until new services are launched again."
            ),
            (Dovecot, Backward, Some(11.656524), false)
        );
        assert_eq!(
            ev3(
                "Jun  4 22:57:04 imap2 dovecot: imap(heidi): Warning: Time jumped forwards 63587 seconds"
            ),
            (Dovecot, Forward, Some(63587.0), false)
        );
        assert_eq!(
            ev3(
                "Jan 12 17:05:46 mail dovecot: master: Warning: Time moved forwards by 568.328319 seconds - adjusting timeouts."
            ),
            (Dovecot, Forward, Some(568.328319), false)
        );
        assert_eq!(
            ev3(
                "2025-02-03T19:45:40.234565+09:00 mx-deb dovecot: imap(frank)<47682><5JPt>: Warning: Time moved forward 8707.162635 seconds"
            ),
            (Dovecot, Forward, Some(8707.162635), false)
        );
        assert_eq!(
            ev3(
                "2025-11-04T05:32:57.002914+09:00 mx-deb dovecot: imap(frank)<41714><W>: Warning: Time moved forward by 106.506121 seconds"
            ),
            (Dovecot, Forward, Some(106.506121), false)
        );
        assert_eq!(
            ev3(
                "Sep 21 04:06:34 imap(bob)<1><s>: Fatal: Time just moved backwards by 17.402113 seconds. This might cause a lot of problems, so I'll just kill myself now."
            ),
            (Dovecot, Backward, Some(17.402113), true)
        );
    }

    #[test]
    fn ntp_daemons_and_their_signs() {
        assert_eq!(
            ev3("Feb  4 05:01:22 mx1 ntpd[76420]: time reset -3531.447374 s"),
            (Ntpd, Backward, Some(3531.447374), false)
        );
        assert_eq!(
            ev3("Jun  3 15:53:16 mx1 ntpd[94401]: 0.0.0.0 011c 0c clock_step +1116.420532 s"),
            (Ntpd, Forward, Some(1116.420532), false)
        );
        assert_eq!(
            ev3(
                "2023-05-04T07:16:28.098579+09:00 mail01 ntpd[1149]: PROTO: 0.0.0.0 c41c 0c clock_step -1572.931936 s"
            ),
            (Ntpsec, Backward, Some(1572.931936), false)
        );
        assert_eq!(
            ev3("2023-05-04T07:16:28+09:00 m ntpd[1]: CLOCK: time stepped by -3.507211"),
            (Ntpsec, Backward, Some(3.507211), false)
        );
        assert_eq!(
            ev3(
                "Jan  4 10:11:43 mail ntpdate[20945]: step time server 203.0.113.5 offset -2835.904150 sec"
            ),
            (Ntpdate, Backward, Some(2835.90415), false)
        );
        assert_eq!(
            ev3("Jun  3 09:39:28 imap2 ntpd[9365]: ntpd: time set -0.616622 s"),
            (Ntpd, Backward, Some(0.616622), false)
        );
        assert!(ev("Jun  3 09:39:28 imap2 ntpd[9365]: ntpd: time slew +0.016622 s").is_none());
        assert!(
            ev("Jun  3 10:51:02 imap2 ntpd[9365]: 0.0.0.0 c61d 0d kern kernel time sync disabled")
                .is_none()
        );
        assert_eq!(
            ev3(
                "Aug  1 01:30:18 imap2 ntpd[92000]: set local clock to Mon Jan  6 10:00:00 UTC 2025 (offset -1.500000s)"
            ),
            (Openntpd, Backward, Some(1.5), false)
        );
        assert!(
            ev("Aug  1 01:30:18 imap2 ntpd[92000]: adjusting local clock by 0.119654s").is_none()
        );
    }

    #[test]
    fn chrony_timesyncd_postfix_kernel() {
        assert_eq!(
            ev3(
                "2024-01-07T20:23:07.796031+09:00 mail01 chronyd[612]: System clock was stepped by -336.103183 seconds"
            ),
            (Chronyd, Backward, Some(336.103183), false)
        );
        assert_eq!(
            ev3("Nov 26 08:02:16 mail1 chronyd[752]: Backward time jump detected!"),
            (Chronyd, Backward, None, false)
        );
        assert_eq!(
            ev3(
                "x 2024-01-08T10:34:03Z h chronyd[6]: Forward time jump detected!"
                    .trim_start_matches("x ")
            ),
            (Chronyd, Forward, None, false)
        );
        assert_eq!(
            ev3(
                "2024-01-08T19:44:45Z h chronyd[6]: System clock wrong by -1250.844905 seconds (step)"
            ),
            (Chronyd, Backward, Some(1250.844905), false)
        );
        assert!(ev("2024-01-08T19:44:45Z h chronyd[6]: System clock wrong by -1250.844905 seconds (ignored)").is_none());
        assert_eq!(
            ev3(
                "Feb 01 20:17:42 mail01 systemd-timesyncd[758]: System clock time unset or jumped backwards, restoring from recorded timestamp: Thu 2024-02-15 03:17:42 UTC"
            ),
            (Timesyncd, Forward, None, false)
        );
        assert_eq!(
            ev3(
                "Mar  1 04:26:10 mail postfix/qmgr[29125]: warning: backward time jump detected -- slewing clock"
            ),
            (Postfix, Backward, None, false)
        );
        assert_eq!(
            ev3(
                "Mar  1 04:26:10 mail postfix/qmgr[29125]: warning: another backward time jump detected -- slewing clock"
            ),
            (Postfix, Backward, None, false)
        );
        assert!(ev("Mar  4 12:02:38 mail postfix/qmgr[70058]: warning: backward time jump recovered -- back to normality").is_none());
        assert_eq!(
            ev3(
                "2024-09-01T15:12:57+09:00 mx-deb kernel: clocksource: timekeeping watchdog on CPU4: Marking clocksource 'tsc' as unstable because the skew is too large:"
            ),
            (Kernel, Unstable, None, false)
        );
        assert_eq!(
            ev3(
                "Mar  1 19:22:13 mx1 kernel: calcru: runtime went backwards from 173210142 usec to 173209562 usec for pid 41213 (smtpd)"
            ),
            (Kernel, Unstable, None, false)
        );
        assert_eq!(
            ev3(
                "2024-09-01T03:46:48Z vm kernel: [    1.5] rtc_cmos 00:00: setting system clock to 2024-09-01T03:46:48 UTC (1725162408)"
            ),
            (Kernel, Step, None, false)
        );
    }

    #[test]
    fn quoted_words_are_not_events() {
        assert!(ev("Mar  1 04:26:10 mx1 postfix/cleanup[1]: 4F3: warning: header Subject: Time just moved backwards by 54 seconds from x").is_none());
        assert!(
            ev("Mar  1 04:26:10 mx1 sshd[1]: Time just moved backwards by 54 seconds").is_none()
        );
        assert!(ev("Mar  1 04:26:10 mx1 dovecot: imap(bob): Info: subject=<Time jumped> Time just moved backward").is_none());
    }

    #[test]
    fn repeats() {
        let r = parse(b"Nov 28 08:01:53 mail1 syslogd: last message repeated 36 times");
        assert_eq!(repeat(&r), Some((36, None)));
        let r = parse(b"Mar  4 12:00:00 mx1 last message repeated 3 times");
        assert_eq!(repeat(&r), Some((3, None)));
        let r = parse(b"2025-01-01T10:46:23.981523+09:00 mx-deb rsyslogd:  message repeated 36 times: [dovecot: imap-login: x]");
        assert_eq!(repeat(&r), Some((36, Some(&b"dovecot: imap-login: x"[..]))));
    }

    /// Every event in the fixtures holds an anchor, and every backward one a
    /// probe: the scanner never skips a line `classify` would report.
    #[test]
    fn the_2x_master_says_how_long_it_holds_sessions_back() {
        let e = ev("Dec  7 10:00:00 mail2 dovecot: master: Warning: Time moved backwards by 60.000497 seconds, waiting for 60 secs until new services are launched again.").unwrap();
        assert_eq!(
            (e.kind, e.fatal, e.held_back),
            (Backward, false, Some(60.0))
        );
    }

    #[test]
    fn xinetd_exits_of_dovecot_logins() {
        assert_eq!(
            ev3("Dec  7 10:00:01 mail1 xinetd[812]: EXIT: imap status=89 pid=4242 duration=0(sec)"),
            (Xinetd, Exit, None, true)
        );
        assert_eq!(
            ev3(
                "Dec  7 10:00:01 mail1 xinetd[812]: EXIT: pop3s status=89 pid=4243 duration=12(sec)"
            ),
            (Xinetd, Exit, None, true)
        );
        for line in [
            "Dec  7 10:00:01 mail1 xinetd[812]: EXIT: imap status=0 pid=4242 duration=3(sec)",
            "Dec  7 10:00:01 mail1 xinetd[812]: EXIT: rsync status=89 pid=4242 duration=0(sec)",
            "Dec  7 10:00:01 mail1 xinetd[812]: START: imap pid=4242 from=192.0.2.7",
            "Dec  7 10:00:01 mail1 postfix/smtp[9]: EXIT: imap status=89 pid=4242",
        ] {
            assert_eq!(ev(line), None, "{line}");
        }
        let line =
            b"Dec  7 10:00:01 mail1 xinetd[812]: EXIT: imap status=89 pid=4242 duration=0(sec)";
        assert!(ANCHORS.iter().any(|a| find(line, a.as_bytes()).is_some()));
    }

    #[test]
    fn event_lines_hold_an_anchor_and_backward_lines_a_probe() {
        let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/logs/");
        let mut backward = 0;
        for name in [
            "variants.log",
            "sample-maillog-bsd.log",
            "sample-mail-rfc3339.log",
        ] {
            let text = std::fs::read(format!("{fixtures}{name}")).unwrap();
            for line in text.split(|&b| b == b'\n') {
                let record = parse(line);
                // rsyslog's repeats carry the line they repeat.
                let inner = repeat(&record)
                    .and_then(|(_, text)| text)
                    .map(crate::record::parse_tagged);
                let Some(event) = classify(inner.as_ref().unwrap_or(&record)) else {
                    continue;
                };
                let shown = String::from_utf8_lossy(line);
                assert!(
                    ANCHORS.iter().any(|a| find(line, a.as_bytes()).is_some()),
                    "no anchor: {shown}"
                );
                if event.kind == Kind::Backward && !event.all_only {
                    backward += 1;
                    assert!(
                        crate::probe::find_slow(line, 0).is_some(),
                        "no probe: {shown}"
                    );
                }
            }
        }
        assert!(
            backward > 200,
            "only {backward} backward events in the fixtures"
        );
    }
}
