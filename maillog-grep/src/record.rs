//! One log line split into timestamp, host, program, pid and message.
//!
//! The format is detected per line, because a central log server or a
//! pasted excerpt mixes them: BSD syslog as FreeBSD writes it (space-padded
//! day, optional `<facility.priority>`), RFC 5424, rsyslog's RFC 3339,
//! journalctl short / short-iso / short-precise / short-full / short-unix,
//! and dovecot's own `log_path` files.  Nothing here fails: an unknown line
//! is all message.  Nothing here reads the clock: the year of a year-less
//! timestamp is decided later, from the file (see `year`).

/// A timestamp as written in the line.  `year` is `None` for BSD syslog.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stamp {
    pub year: Option<i32>,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    pub nanos: u32,
    /// Seconds east of UTC when the line says (`+09:00`, `Z`).
    pub offset: Option<i32>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record<'a> {
    pub stamp: Option<Stamp>,
    pub host: Option<&'a [u8]>,
    pub program: Option<&'a [u8]>,
    pub pid: Option<u32>,
    pub message: &'a [u8],
    /// True for dovecot's own log file (`log_path`): no host, no syslog tag.
    pub dovecot_own_log: bool,
}

const MONTHS: [&[u8; 3]; 12] = [
    b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec",
];

fn month_of(name: &[u8]) -> Option<u32> {
    MONTHS
        .iter()
        .position(|m| m.as_slice() == name)
        .map(|i| i as u32 + 1)
}

/// Reads `n` ASCII digits at `at`.
fn digits(line: &[u8], at: usize, n: usize) -> Option<u32> {
    let part = line.get(at..at + n)?;
    part.iter().try_fold(0u32, |acc, &b| {
        b.is_ascii_digit().then(|| acc * 10 + u32::from(b - b'0'))
    })
}

/// `.ffffff` after the seconds: returns nanoseconds and the bytes used.
fn fraction(line: &[u8], at: usize) -> (u32, usize) {
    if line.get(at) != Some(&b'.') {
        return (0, 0);
    }
    let mut nanos = 0u32;
    let mut used = 1;
    let mut scale = 100_000_000;
    while let Some(&b) = line.get(at + used) {
        if !b.is_ascii_digit() {
            break;
        }
        nanos += u32::from(b - b'0') * scale;
        scale /= 10;
        used += 1;
    }
    if used == 1 { (0, 0) } else { (nanos, used) }
}

/// `HH:MM:SS[.f]` at `at`: returns (h, m, s, nanos, bytes used).
fn clock(line: &[u8], at: usize) -> Option<(u32, u32, u32, u32, usize)> {
    let h = digits(line, at, 2)?;
    let m = digits(line, at + 3, 2)?;
    let s = digits(line, at + 6, 2)?;
    if line[at + 2] != b':' || line[at + 5] != b':' || h > 23 || m > 59 || s > 60 {
        return None;
    }
    let (nanos, used) = fraction(line, at + 8);
    Some((h, m, s, nanos, 8 + used))
}

/// `YYYY-MM-DD` + `T` or ` ` + clock + optional zone, at `at`.
fn iso(line: &[u8], at: usize, zone_required: bool) -> Option<(Stamp, usize)> {
    let year = digits(line, at, 4)? as i32;
    let month = digits(line, at + 5, 2)?;
    let day = digits(line, at + 8, 2)?;
    if line[at + 4] != b'-'
        || line[at + 7] != b'-'
        || !matches!(line.get(at + 10), Some(b'T' | b' '))
    {
        return None;
    }
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let (hour, minute, second, nanos, used) = clock(line, at + 11)?;
    let mut end = at + 11 + used;
    let mut offset = None;
    match line.get(end) {
        Some(b'Z') => {
            offset = Some(0);
            end += 1;
        }
        Some(&sign @ (b'+' | b'-')) => {
            let h = digits(line, end + 1, 2)?;
            let (m, used) = if line.get(end + 3) == Some(&b':') {
                (digits(line, end + 4, 2)?, 6)
            } else {
                (digits(line, end + 3, 2)?, 5)
            };
            let secs = (h * 3600 + m * 60) as i32;
            offset = Some(if sign == b'-' { -secs } else { secs });
            end += used;
        }
        _ if zone_required => return None,
        _ => {}
    }
    let stamp = Stamp {
        year: Some(year),
        month,
        day,
        hour,
        minute,
        second,
        nanos,
        offset,
    };
    Some((stamp, end))
}

/// `Mmm dd HH:MM:SS[.f]` (day space- or zero-padded) at `at`.
fn bsd(line: &[u8], at: usize) -> Option<(Stamp, usize)> {
    let month = month_of(line.get(at..at + 3)?)?;
    if line.get(at + 3) != Some(&b' ') {
        return None;
    }
    let day = match (line.get(at + 4)?, line.get(at + 5)?) {
        (b' ', d) if d.is_ascii_digit() => u32::from(d - b'0'),
        (a, b) if a.is_ascii_digit() && b.is_ascii_digit() => {
            u32::from(a - b'0') * 10 + u32::from(b - b'0')
        }
        _ => return None,
    };
    if line.get(at + 6) != Some(&b' ') || !(1..=31).contains(&day) {
        return None;
    }
    let (hour, minute, second, nanos, used) = clock(line, at + 7)?;
    let stamp = Stamp {
        year: None,
        month,
        day,
        hour,
        minute,
        second,
        nanos,
        offset: None,
    };
    Some((stamp, at + 7 + used))
}

fn skip_spaces(line: &[u8], mut at: usize) -> usize {
    while line.get(at) == Some(&b' ') {
        at += 1;
    }
    at
}

fn word_end(line: &[u8], at: usize) -> usize {
    line[at.min(line.len())..]
        .iter()
        .position(|&b| b == b' ')
        .map_or(line.len(), |p| at + p)
}

/// Splits `host tag[pid]: message` (or `tag: message` when `with_host` is
/// false) starting at `at`.
fn host_and_tag(line: &[u8], at: usize, stamp: Stamp) -> Record<'_> {
    let mut at = skip_spaces(line, at);
    // FreeBSD syslogd -v / -vv writes `<facility.priority>` before the host.
    if line.get(at) == Some(&b'<')
        && let Some(close) = line[at..].iter().position(|&b| b == b'>')
        && line.get(at + close + 1) == Some(&b' ')
    {
        at = skip_spaces(line, at + close + 1);
    }
    let host_end = word_end(line, at);
    let host = &line[at..host_end];
    // Dovecot's own log file has no host: the first word is already the
    // `imap(user)<pid><session>:` prefix or a level (`Error:`).
    if host.ends_with(b":") {
        return Record {
            stamp: Some(stamp),
            host: None,
            program: Some(b"dovecot"),
            pid: None,
            message: &line[at..],
            dovecot_own_log: true,
        };
    }
    let rest = skip_spaces(line, host_end);
    let (program, pid, message) = tag(line, rest);
    Record {
        stamp: Some(stamp),
        host: Some(host),
        program,
        pid,
        message,
        dovecot_own_log: false,
    }
}

/// `tag[pid]: message` or `tag: message`; old syslogd wrote
/// `last message repeated N times` with no tag at all.
fn tag(line: &[u8], at: usize) -> (Option<&[u8]>, Option<u32>, &[u8]) {
    let rest = &line[at.min(line.len())..];
    let end = rest
        .iter()
        .position(|&b| matches!(b, b':' | b'[' | b' '))
        .unwrap_or(rest.len());
    let name = &rest[..end];
    match rest.get(end) {
        Some(b':') if !name.is_empty() => {
            let msg = &rest[end + 1..];
            (Some(name), None, msg.strip_prefix(b" ").unwrap_or(msg))
        }
        Some(b'[') if !name.is_empty() => {
            let close = rest[end..].iter().position(|&b| b == b']').map(|p| end + p);
            match close {
                Some(close) if rest.get(close + 1) == Some(&b':') => {
                    let pid = std::str::from_utf8(&rest[end + 1..close])
                        .ok()
                        .and_then(|p| p.parse().ok());
                    let msg = &rest[close + 2..];
                    (Some(name), pid, msg.strip_prefix(b" ").unwrap_or(msg))
                }
                _ => (None, None, rest),
            }
        }
        _ => (None, None, rest),
    }
}

/// RFC 5424: `<PRI>1 TIMESTAMP HOST APP PROCID MSGID SD MSG`.
fn rfc5424(line: &[u8]) -> Option<Record<'_>> {
    let close = line.iter().take(6).position(|&b| b == b'>')?;
    if line.first() != Some(&b'<') || !line[1..close].iter().all(u8::is_ascii_digit) {
        return None;
    }
    if line.get(close + 1..close + 3) != Some(b"1 ") {
        return None;
    }
    let (stamp, end) = iso(line, close + 3, false)?;
    let mut fields = Vec::with_capacity(4);
    let mut at = end;
    for _ in 0..4 {
        at = skip_spaces(line, at);
        let stop = word_end(line, at);
        fields.push(&line[at..stop]);
        at = stop;
    }
    fn nil(f: &[u8]) -> Option<&[u8]> {
        if f == b"-" { None } else { Some(f) }
    }
    at = skip_spaces(line, at);
    // Structured data: `-` or one or more `[...]` elements.
    if line.get(at) == Some(&b'-') {
        at += 1;
    } else {
        while line.get(at) == Some(&b'[') {
            let mut i = at + 1;
            let mut quoted = false;
            while i < line.len() && (quoted || line[i] != b']') {
                match line[i] {
                    b'\\' => i += 1,
                    b'"' => quoted = !quoted,
                    _ => {}
                }
                i += 1;
            }
            at = i + 1;
        }
    }
    let mut message = line.get(skip_spaces(line, at)..).unwrap_or(b"");
    // A UTF-8 byte-order mark may start the message (RFC 5424 §6.4).
    message = message.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(message);
    let pid = fields
        .get(2)
        .and_then(|p| std::str::from_utf8(p).ok())
        .and_then(|p| p.parse().ok());
    Some(Record {
        stamp: Some(stamp),
        host: nil(fields[0]),
        program: nil(fields[1]),
        pid,
        message,
        dovecot_own_log: false,
    })
}

/// Parses one line (without its newline).  Never fails.
pub fn parse(line: &[u8]) -> Record<'_> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if line.first() == Some(&b'<')
        && let Some(record) = rfc5424(line)
    {
        return record;
    }
    if let Some((stamp, end)) = iso(line, 0, false) {
        return host_and_tag(line, end, stamp);
    }
    if let Some((stamp, end)) = bsd(line, 0) {
        return host_and_tag(line, end, stamp);
    }
    // journalctl -o short-full: `Fri 2018-09-21 04:06:34 JST host ident: msg`.
    if line.get(3) == Some(&b' ')
        && let Some((stamp, end)) = iso(line, 4, false)
    {
        let zone_end = word_end(line, skip_spaces(line, end));
        return host_and_tag(line, zone_end, stamp);
    }
    // journalctl -o short-unix: `1537470394.123456 host ident[pid]: msg`.
    if let Some(record) = unix_seconds(line) {
        return record;
    }
    // Dovecot 1.x own log file: `dovecot: <stamp>Level: message`.
    if let Some(rest) = line.strip_prefix(b"dovecot: ") {
        let offset = line.len() - rest.len();
        let found = iso(line, offset, false).or_else(|| bsd(line, offset));
        let (stamp, message) = match found {
            Some((stamp, end)) => (Some(stamp), &line[skip_spaces(line, end)..]),
            None => (None, rest),
        };
        return Record {
            stamp,
            host: None,
            program: Some(b"dovecot"),
            pid: None,
            message,
            dovecot_own_log: true,
        };
    }
    Record {
        stamp: None,
        host: None,
        program: None,
        pid: None,
        message: line,
        dovecot_own_log: false,
    }
}

fn unix_seconds(line: &[u8]) -> Option<Record<'_>> {
    let int_end = line.iter().position(|b| !b.is_ascii_digit())?;
    if !(9..=11).contains(&int_end) || line.get(int_end) != Some(&b'.') {
        return None;
    }
    let (nanos, used) = fraction(line, int_end);
    if used == 0 || line.get(int_end + used) != Some(&b' ') {
        return None;
    }
    let secs: i64 = std::str::from_utf8(&line[..int_end]).ok()?.parse().ok()?;
    let time = chrono::DateTime::from_timestamp(secs, nanos)?.naive_utc();
    use chrono::{Datelike, Timelike};
    let stamp = Stamp {
        year: Some(time.year()),
        month: time.month(),
        day: time.day(),
        hour: time.hour(),
        minute: time.minute(),
        second: time.second(),
        nanos,
        offset: Some(0),
    };
    Some(host_and_tag(line, int_end + used, stamp))
}

/// `tag[pid]: message` alone, as rsyslog quotes a repeated message.
pub fn parse_tagged(text: &[u8]) -> Record<'_> {
    let (program, pid, message) = tag(text, 0);
    Record {
        stamp: None,
        host: None,
        program,
        pid,
        message,
        dovecot_own_log: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(b: &[u8]) -> &str {
        std::str::from_utf8(b).unwrap()
    }

    #[test]
    fn freebsd_bsd_syslog_with_padded_day() {
        let r = parse(b"Mar  4 14:34:09 mail dovecot: Fatal: imap-login: Time just moved");
        let st = r.stamp.unwrap();
        assert_eq!((st.year, st.month, st.day, st.hour), (None, 3, 4, 14));
        assert_eq!(s(r.host.unwrap()), "mail");
        assert_eq!(s(r.program.unwrap()), "dovecot");
        assert_eq!(s(r.message), "Fatal: imap-login: Time just moved");
    }

    #[test]
    fn facility_priority_and_pid() {
        let r = parse(b"Feb  4 05:01:22 <ntp.notice> mx1 ntpd[76420]: time reset -3531.447374 s");
        assert_eq!(s(r.host.unwrap()), "mx1");
        assert_eq!(s(r.program.unwrap()), "ntpd");
        assert_eq!(r.pid, Some(76420));
        assert_eq!(s(r.message), "time reset -3531.447374 s");
    }

    #[test]
    fn rsyslog_rfc3339_and_postfix_tags() {
        let r = parse(b"2025-12-31T23:57:00.011816+09:00 mx1 postfix/smtpd[98992]: connect from x");
        let st = r.stamp.unwrap();
        assert_eq!(st.year, Some(2025));
        assert_eq!(st.offset, Some(9 * 3600));
        assert_eq!(st.nanos, 11_816_000);
        assert_eq!(s(r.program.unwrap()), "postfix/smtpd");
    }

    #[test]
    fn rfc5424_as_freebsd_writes_it() {
        let r = parse(b"<22>1 2018-09-21T04:06:34.123456+09:00 host.example dovecot - - - imap(bob): Fatal: x");
        assert_eq!(s(r.host.unwrap()), "host.example");
        assert_eq!(s(r.program.unwrap()), "dovecot");
        assert_eq!(r.pid, None);
        assert_eq!(s(r.message), "imap(bob): Fatal: x");
        let r = parse(b"<30>1 2018-09-21T04:06:34Z h ntpd 812 - [meta x=\"]\"] time reset -1.5 s");
        assert_eq!(r.pid, Some(812));
        assert_eq!(s(r.message), "time reset -1.5 s");
        assert_eq!(r.stamp.unwrap().offset, Some(0));
    }

    #[test]
    fn journalctl_formats() {
        let r = parse(b"Sep 21 04:06:34.123456 host ident[5]: msg");
        assert_eq!(r.stamp.unwrap().nanos, 123_456_000);
        let r = parse(b"2018-09-21T04:06:34+0900 host ident[5]: msg");
        assert_eq!(r.stamp.unwrap().offset, Some(9 * 3600));
        let r = parse(b"Fri 2018-09-21 04:06:34 JST host ident[5]: msg");
        assert_eq!(s(r.host.unwrap()), "host");
        assert_eq!(r.stamp.unwrap().offset, None);
        let r = parse(b"1537470394.123456 host ident[5]: msg");
        let st = r.stamp.unwrap();
        assert_eq!(
            (st.year, st.month, st.day, st.hour, st.offset),
            (Some(2018), 9, 20, 19, Some(0))
        );
    }

    #[test]
    fn dovecot_own_log_files() {
        let r = parse(
            b"Sep 21 04:06:34 imap(bob)<1><s>: Error: Time just moved backwards by 2 seconds.",
        );
        assert!(r.dovecot_own_log);
        assert_eq!(
            s(r.message),
            "imap(bob)<1><s>: Error: Time just moved backwards by 2 seconds."
        );
        let r =
            parse(b"dovecot: 2010-09-08 06:39:45 Fatal: Time just moved backwards by 28 seconds.");
        assert!(r.dovecot_own_log);
        assert_eq!(r.stamp.unwrap().year, Some(2010));
        assert_eq!(
            s(r.message),
            "Fatal: Time just moved backwards by 28 seconds."
        );
    }

    #[test]
    fn old_syslogd_repeat_has_no_tag() {
        let r = parse(b"Mar  4 12:00:00 mx1 last message repeated 3 times");
        assert_eq!(r.program, None);
        assert_eq!(s(r.message), "last message repeated 3 times");
    }

    #[test]
    fn junk_never_fails() {
        for junk in [
            &b""[..],
            b"\0\0\xff\xfe",
            b"Mar",
            b"Mar  4 1",
            b"<12>1 x",
            b"2025-13-01T00:00:00 x",
            b"Mar 99 00:00:00 h t: m",
        ] {
            let r = parse(junk);
            assert!(r.stamp.is_none(), "{junk:?}");
        }
    }
}
