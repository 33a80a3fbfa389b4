//! Nagios threshold ranges, as monitoring-plugins define them
//! (`utils_base.c`, `_parse_range` and `check_range`):
//!
//! | range    | alert when the value is      |
//! |----------|------------------------------|
//! | `10`     | < 0 or > 10                  |
//! | `10:`    | < 10                         |
//! | `~:10`   | > 10                         |
//! | `10:20`  | < 10 or > 20                 |
//! | `@10:20` | >= 10 and <= 20 (inside)     |
//!
//! The ends themselves never alert for an outside range (`10` is OK at 10),
//! and always alert for an inside one.  check_ntp_time applies its `-w` and
//! `-c` to the absolute offset (`get_status(fabs(offset), ...)`), and so
//! does clockcheck.

use std::fmt;

use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Range {
    /// `-inf` for `~`.
    pub start: f64,
    /// `+inf` when nothing follows the colon.
    pub end: f64,
    /// `@`: alert inside the range instead of outside.
    pub inside: bool,
}

impl Range {
    /// `0:end`, the range a bare number means.
    pub fn up_to(end: f64) -> Range {
        Range {
            start: 0.0,
            end,
            inside: false,
        }
    }

    /// Parses `10`, `10:`, `~:10`, `10:20`, `@10:20`.
    pub fn parse(text: &str) -> Result<Range, String> {
        let bad = |why: &str| format!("`{text}` is not a Nagios range ({why})");
        let t = text.trim();
        let (inside, t) = match t.strip_prefix('@') {
            Some(rest) => (true, rest),
            None => (false, t),
        };
        let number = |s: &str| -> Result<f64, String> {
            match s.trim().parse::<f64>() {
                Ok(v) if v.is_finite() => Ok(v),
                _ => Err(bad("a number expected")),
            }
        };
        let (start, end) = match t.split_once(':') {
            None => (0.0, number(t)?),
            Some((s, e)) => {
                let start = if s.trim() == "~" {
                    f64::NEG_INFINITY
                } else {
                    number(s)?
                };
                let end = if e.trim().is_empty() {
                    f64::INFINITY
                } else {
                    number(e)?
                };
                (start, end)
            }
        };
        if start > end {
            return Err(bad("start is after end"));
        }
        Ok(Range { start, end, inside })
    }

    /// True when `value` should alert.
    pub fn alerts(&self, value: f64) -> bool {
        let within = self.start <= value && value <= self.end;
        if self.inside { within } else { !within }
    }

    /// A plain `0:N` range, which is shown as `N` (and as a number in JSON).
    fn plain_end(&self) -> Option<f64> {
        (!self.inside && self.start == 0.0 && self.end.is_finite()).then_some(self.end)
    }
}

impl fmt::Display for Range {
    /// The canonical text, which is also what perfdata carries.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(end) = self.plain_end() {
            return write!(f, "{end}");
        }
        if self.inside {
            f.write_str("@")?;
        }
        if self.start == f64::NEG_INFINITY {
            f.write_str("~")?;
        } else {
            write!(f, "{}", self.start)?;
        }
        f.write_str(":")?;
        if self.end.is_finite() {
            write!(f, "{}", self.end)?;
        }
        Ok(())
    }
}

/// JSON keeps `"warning": 60` for a plain range (the field was a number
/// before ranges existed); any other range is its text, `"10:20"`.
impl Serialize for Range {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.plain_end() {
            Some(end) => s.serialize_f64(end),
            None => s.serialize_str(&self.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_forms_of_the_monitoring_plugins_guidelines() {
        let r = |t: &str| Range::parse(t).unwrap();
        assert_eq!(r("10"), Range::up_to(10.0));
        assert!(!r("10").alerts(10.0) && r("10").alerts(10.001) && r("10").alerts(-0.5));
        assert!(r("10:").alerts(9.9) && !r("10:").alerts(1e9));
        assert!(r("~:10").alerts(10.5) && !r("~:10").alerts(-1e9));
        assert!(r("10:20").alerts(9.0) && !r("10:20").alerts(15.0) && r("10:20").alerts(21.0));
        assert!(r("@10:20").alerts(10.0) && r("@10:20").alerts(20.0) && !r("@10:20").alerts(21.0));
        assert!(r("@5").alerts(0.0) && !r("@5").alerts(5.5));
    }

    #[test]
    fn bad_ranges_are_refused() {
        for t in ["", "abc", "20:10", "1:2:3", "@", "~", "nan", "inf", "1e999"] {
            assert!(Range::parse(t).is_err(), "{t}");
        }
    }

    #[test]
    fn shown_as_given_in_canonical_form() {
        for (t, shown) in [
            ("60", "60"),
            ("0.5", "0.5"),
            ("10:", "10:"),
            ("~:5", "~:5"),
            ("@10:20", "@10:20"),
            ("0:5", "5"),
        ] {
            assert_eq!(Range::parse(t).unwrap().to_string(), shown);
        }
        assert_eq!(serde_json::to_string(&Range::up_to(60.0)).unwrap(), "60.0");
        assert_eq!(
            serde_json::to_string(&Range::parse("~:5").unwrap()).unwrap(),
            "\"~:5\""
        );
    }
}
