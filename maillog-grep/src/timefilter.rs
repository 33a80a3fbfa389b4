//! `--since` / `--until`: RFC 3339 dates and date-times, or ages like `7d`.

use chrono::{Datelike, NaiveDate, NaiveDateTime, TimeDelta};

use crate::year::Resolved;

/// The time now, and the time zone of the machine reading the logs: passed
/// in, so the logic reads no clock of its own.
#[derive(Clone, Copy, Debug)]
pub struct Clock {
    pub now_utc: NaiveDateTime,
    /// Seconds east of UTC of the machine reading the logs.
    pub local_offset: i32,
}

/// A point in time, comparable with events that have an offset (UTC) and
/// with events that do not (the local time of the machine reading the logs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Instant {
    pub utc: NaiveDateTime,
    pub local: NaiveDateTime,
}

/// The oldest age `--since 7d` may name: 100 years.
pub const MAX_AGE_SECONDS: u64 = 36_500 * 86_400;

/// Parses `--since`/`--until`.  `now_utc` and `local_offset` (seconds east
/// of UTC) are passed in, so this reads no clock.
pub fn parse(text: &str, now_utc: NaiveDateTime, local_offset: i32) -> Result<Instant, String> {
    let offset = TimeDelta::seconds(i64::from(local_offset));
    // Years 1 to 9999 only: the dates of logs, and room for the offset
    // arithmetic at either end of chrono's range (which would panic).
    let in_range = |t: NaiveDateTime| (1..=9999).contains(&t.year()).then_some(t);
    let out_of_range = || format!("`{text}`: a date in the years 1 to 9999");
    let from_local = |local: NaiveDateTime| {
        let utc = in_range(local).and_then(|l| l.checked_sub_signed(offset));
        Ok(Instant {
            utc: utc.ok_or_else(out_of_range)?,
            local,
        })
    };
    let from_utc = |utc: NaiveDateTime| {
        let local = in_range(utc).and_then(|u| u.checked_add_signed(offset));
        Ok(Instant {
            utc,
            local: local.ok_or_else(out_of_range)?,
        })
    };
    let text = text.trim();
    if let Some(unit) = text.chars().last().filter(|c| c.is_ascii_alphabetic()) {
        let number = &text[..text.len() - 1];
        if let Ok(n) = number.parse::<u64>() {
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
            // At most MAX_AGE: `999999999d` is a usage error, not a
            // date before chrono's range (a panic).
            let age = n
                .checked_mul(seconds)
                .filter(|age| *age <= MAX_AGE_SECONDS)
                .ok_or_else(|| format!("`{text}`: an age of at most 100 years (36500d)"))?;
            let age = TimeDelta::seconds(age as i64);
            return now_utc
                .checked_sub_signed(age)
                .map_or_else(|| Err(out_of_range()), from_utc);
        }
    }
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(text) {
        return from_utc(t.naive_utc());
    }
    for format in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(text, format) {
            return from_local(t);
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return from_local(d.and_hms_opt(0, 0, 0).expect("midnight exists"));
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

    #[test]
    fn absurd_ages_and_dates_are_errors_not_panics() {
        assert!(parse("36500d", now(), 0).is_ok(), "100 years");
        for absurd in [
            "36501d",
            "999999999d",
            "18446744073709551615s",
            "99999999999999999999d",
            "-5d",
            "+262143-12-31",
            "+262143-12-31T23:59:59",
            "-262143-01-01",
            "0000-01-01",
            "+10000-01-01T00:00:00+00:00",
        ] {
            assert!(parse(absurd, now(), 50_400).is_err(), "{absurd}");
            assert!(parse(absurd, now(), -50_400).is_err(), "{absurd}");
        }
        // At the edges of the years allowed, with the widest offsets.
        assert!(parse("9999-12-31T23:59:59", now(), -50_400).is_ok());
        assert!(parse("0001-01-01", now(), 50_400).is_ok());
    }
}
