//! Giving year-less (BSD syslog) timestamps their year.
//!
//! The anchor is the file's modification time (compressors keep it on
//! rotated archives) or `--year`.  Walking from the last timestamp back, each
//! one takes, of the years next to its neighbour's, the one that puts it
//! closest in time to that neighbour.  So Dec → Jan marks a new year, while a
//! small step back (Jan 1 00:00:05 → Dec 31 23:59:58, or the repeated hour
//! of a DST fall-back) stays a step back and is never taken for a new year.

use chrono::{Datelike, NaiveDate, NaiveDateTime, TimeDelta};

use crate::record::Stamp;

/// A timestamp with its year: the local time as written, and its UTC
/// offset when the line gave one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Resolved {
    pub local: NaiveDateTime,
    pub offset: Option<i32>,
}

impl Resolved {
    /// A value to compare and subtract: UTC when the offset is known,
    /// otherwise the local time as it is (for logs of one host's zone).
    pub fn comparable(&self) -> NaiveDateTime {
        match self.offset {
            Some(offset) => self.local - TimeDelta::seconds(i64::from(offset)),
            None => self.local,
        }
    }

    /// RFC 3339, with the offset when the log gave one.
    pub fn rfc3339(&self) -> String {
        let base = self.local.format("%Y-%m-%dT%H:%M:%S%.f").to_string();
        match self.offset {
            Some(0) => format!("{base}+00:00"),
            Some(offset) => {
                let sign = if offset < 0 { '-' } else { '+' };
                let a = offset.unsigned_abs();
                format!("{base}{sign}{:02}:{:02}", a / 3600, a % 3600 / 60)
            }
            None => base,
        }
    }
}

fn with_year(stamp: &Stamp, year: i32) -> Option<NaiveDateTime> {
    NaiveDate::from_ymd_opt(year, stamp.month, stamp.day)?.and_hms_nano_opt(
        stamp.hour,
        stamp.minute,
        stamp.second.min(59),
        stamp.nanos,
    )
}

/// True when the stamp says its year (and is a real date): its time then
/// depends on no other line, and the year-less stamps before it depend on
/// none after it.
pub fn has_own_year(stamp: &Stamp) -> bool {
    stamp
        .year
        .is_some_and(|year| with_year(stamp, year).is_some())
}

/// What gives the last year-less timestamp of a file its year.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Anchor {
    /// The local time the file was last written: the latest year that does
    /// not put the timestamp after it (a day of slack for time zones).
    Written(NaiveDateTime),
    /// `--year`: that year, as the user said.
    Year(i32),
}

/// Resolves every stamp of one file, in file order.
pub fn resolve(stamps: &[Option<Stamp>], anchor: Anchor) -> Vec<Option<Resolved>> {
    let mut out = vec![None; stamps.len()];
    // The neighbour that comes after, once known; the anchor at first.
    let mut next: Option<NaiveDateTime> = None;
    for (index, stamp) in stamps.iter().enumerate().rev() {
        let Some(stamp) = stamp else { continue };
        let local = match stamp.year {
            Some(year) => with_year(stamp, year),
            None => match next {
                None => last_line_year(stamp, anchor),
                Some(neighbour) => closest_to(stamp, neighbour),
            },
        };
        if let Some(local) = local {
            out[index] = Some(Resolved {
                local,
                offset: stamp.offset,
            });
            next = Some(local);
        }
    }
    out
}

/// The last timestamp: the latest of the years around the anchor that is not
/// after it (a day of slack for time zones).
fn last_line_year(stamp: &Stamp, anchor: Anchor) -> Option<NaiveDateTime> {
    let anchor = match anchor {
        Anchor::Written(time) => time,
        Anchor::Year(year) => match with_year(stamp, year) {
            Some(time) => return Some(time),
            // No such day that year (Feb 29): as for a file written at its start.
            None => NaiveDate::from_ymd_opt(year, 1, 1)?.and_hms_opt(0, 0, 0)?,
        },
    };
    let limit = anchor + TimeDelta::days(1);
    (anchor.year() - 1..=anchor.year() + 1)
        .rev()
        .filter_map(|y| with_year(stamp, y))
        .find(|t| *t <= limit)
        .or_else(|| with_year(stamp, anchor.year() - 1))
}

fn closest_to(stamp: &Stamp, neighbour: NaiveDateTime) -> Option<NaiveDateTime> {
    // Feb 29 exists only in leap years: look a few years around.
    (neighbour.year() - 4..=neighbour.year() + 1)
        .filter_map(|y| with_year(stamp, y))
        .min_by_key(|t| (*t - neighbour).num_seconds().abs())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::parse;

    fn years(lines: &[&str], anchor: &str) -> Vec<String> {
        let stamps: Vec<_> = lines.iter().map(|l| parse(l.as_bytes()).stamp).collect();
        let anchor = NaiveDateTime::parse_from_str(anchor, "%Y-%m-%dT%H:%M:%S").unwrap();
        resolve(&stamps, Anchor::Written(anchor))
            .into_iter()
            .map(|r| r.map_or("-".into(), |r| r.rfc3339()))
            .collect()
    }

    #[test]
    fn rollover_into_a_new_year() {
        let got = years(
            &[
                "Dec 31 23:59:58 h a: x",
                "Jan  1 00:00:03 h a: x",
                "Jan  2 10:00:00 h a: x",
            ],
            "2026-01-02T10:00:01",
        );
        assert_eq!(
            got,
            [
                "2025-12-31T23:59:58",
                "2026-01-01T00:00:03",
                "2026-01-02T10:00:00"
            ]
        );
    }

    #[test]
    fn a_step_back_across_new_year_is_not_a_new_year() {
        // The shared sample: Jan 1 lines, then the clock steps back into Dec 31.
        let got = years(
            &[
                "Dec 31 23:59:50 h a: x",
                "Jan  1 00:00:05 h a: x",
                "Dec 31 21:40:00 h a: x",
            ],
            "2025-12-31T21:40:00",
        );
        assert_eq!(
            got,
            [
                "2025-12-31T23:59:50",
                "2026-01-01T00:00:05",
                "2025-12-31T21:40:00"
            ]
        );
    }

    #[test]
    fn a_file_last_written_in_january_keeps_december_in_the_old_year() {
        let got = years(&["Dec 30 10:00:00 h a: x"], "2026-01-02T00:00:00");
        assert_eq!(got, ["2025-12-30T10:00:00"]);
    }

    #[test]
    fn dst_fall_back_repeats_an_hour_in_the_same_year() {
        let got = years(
            &[
                "Oct 26 02:59:59 h a: x",
                "Oct 26 02:00:01 h a: x",
                "Oct 26 03:10:00 h a: x",
            ],
            "2025-10-27T00:00:00",
        );
        assert_eq!(
            got,
            [
                "2025-10-26T02:59:59",
                "2025-10-26T02:00:01",
                "2025-10-26T03:10:00"
            ]
        );
    }

    #[test]
    fn year_option_is_the_last_line_s_year_even_on_new_year_s_day() {
        // No day of slack as for a file's modification time: the user said.
        let stamps: Vec<_> = ["Dec 31 23:59:58 h a: x", "Jan  1 00:00:05 h a: x"]
            .iter()
            .map(|l| parse(l.as_bytes()).stamp)
            .collect();
        let got: Vec<String> = resolve(&stamps, Anchor::Year(2026))
            .into_iter()
            .map(|r| r.map_or("-".into(), |r| r.rfc3339()))
            .collect();
        assert_eq!(got, ["2025-12-31T23:59:58", "2026-01-01T00:00:05"]);
        let leap_day = [parse(b"Feb 29 12:00:00 h a: x").stamp];
        let got = resolve(&leap_day, Anchor::Year(2028))[0].map(|r| r.rfc3339());
        assert_eq!(got.as_deref(), Some("2028-02-29T12:00:00"));
    }

    #[test]
    fn leap_day_and_explicit_years() {
        let got = years(&["Feb 29 12:00:00 h a: x"], "2025-03-01T00:00:00");
        assert_eq!(got, ["2024-02-29T12:00:00"]);
        let got = years(
            &["2021-01-10T04:06:34.123456+09:00 h a: x", "junk"],
            "2030-01-01T00:00:00",
        );
        assert_eq!(got, ["2021-01-10T04:06:34.123456+09:00", "-"]);
    }
}
