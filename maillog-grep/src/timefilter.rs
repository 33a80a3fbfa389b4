//! `--since` / `--until`: RFC 3339 dates and date-times, or ages like `7d`.

use chrono::{NaiveDate, NaiveDateTime, TimeDelta};

use crate::year::Resolved;

/// A point in time, comparable with events that have an offset (UTC) and
/// with events that do not (the local time of the machine reading the logs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Instant {
    pub utc: NaiveDateTime,
    pub local: NaiveDateTime,
}

/// Parses `--since`/`--until`.  `now_utc` and `local_offset` (seconds east
/// of UTC) are passed in, so this reads no clock.
pub fn parse(text: &str, now_utc: NaiveDateTime, local_offset: i32) -> Result<Instant, String> {
    let offset = TimeDelta::seconds(i64::from(local_offset));
    let from_local = |local: NaiveDateTime| Instant {
        utc: local - offset,
        local,
    };
    let from_utc = |utc: NaiveDateTime| Instant {
        utc,
        local: utc + offset,
    };
    let text = text.trim();
    if let Some(unit) = text.chars().last().filter(|c| c.is_ascii_alphabetic()) {
        let number = &text[..text.len() - 1];
        if let Ok(n) = number.parse::<i64>() {
            let seconds = match unit {
                's' => 1,
                'm' => 60,
                'h' => 3600,
                'd' => 86_400,
                'w' => 7 * 86_400,
                _ => {
                    return Err(format!(
                        "`{text}`: unknown unit `{unit}` (use s, m, h, d or w)"
                    ));
                }
            };
            return Ok(from_utc(
                now_utc - TimeDelta::seconds(n.saturating_mul(seconds)),
            ));
        }
    }
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(text) {
        return Ok(from_utc(t.naive_utc()));
    }
    for format in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(text, format) {
            return Ok(from_local(t));
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Ok(from_local(d.and_hms_opt(0, 0, 0).expect("midnight exists")));
    }
    Err(format!(
        "`{text}` is not a date (2026-11-27, 2026-11-27T08:00:00+01:00) or an age (7d, 12h, 30m)"
    ))
}

/// True when `t` is at or after `since`.
pub fn at_or_after(t: &Resolved, since: &Instant) -> bool {
    match t.offset {
        Some(_) => t.comparable() >= since.utc,
        None => t.local >= since.local,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> NaiveDateTime {
        NaiveDateTime::parse_from_str("2026-11-29T12:00:00", "%Y-%m-%dT%H:%M:%S").unwrap()
    }

    #[test]
    fn ages_and_dates() {
        let i = parse("7d", now(), 3600).unwrap();
        assert_eq!(i.utc.to_string(), "2026-11-22 12:00:00");
        assert_eq!(i.local.to_string(), "2026-11-22 13:00:00");
        let i = parse("2026-11-27", now(), 3600).unwrap();
        assert_eq!(i.local.to_string(), "2026-11-27 00:00:00");
        assert_eq!(i.utc.to_string(), "2026-11-26 23:00:00");
        let i = parse("2026-11-27T08:00:00+09:00", now(), 0).unwrap();
        assert_eq!(i.utc.to_string(), "2026-11-26 23:00:00");
        assert!(parse("yesterday", now(), 0).is_err());
        assert!(parse("5y", now(), 0).is_err());
    }
}
