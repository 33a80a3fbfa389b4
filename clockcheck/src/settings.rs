//! What one run of clockcheck is asked to do, validated: the library's
//! view of the command line.  The binary parses flags with clap and turns
//! them into a [`Settings`] in one conversion (`cli.rs`, `into_settings`);
//! the library never sees a clap type.  A value that cannot be used (a bad
//! Nagios range, `-t 0`, `--interval 0`) is a [`Refusal`], which
//! [`crate::refuse`] reports as UNKNOWN in the asked output form, as a
//! plugin must.

use std::path::PathBuf;
use std::time::Duration;

use crate::check::{Range, Thresholds};
use crate::resolve::Family;

/// The longest `-t` accepted (a check that waits a day is a mistake).
pub const MAX_TIMEOUT: f64 = 86_400.0;

/// The most `-n` accepted: ntpd's clock filter keeps 8 samples; 100 is
/// room enough for a careful check and bounds what one server may cost.
pub const MAX_SAMPLES: usize = 100;

/// The longest duration accepted: room for any deadline arithmetic.
pub const MAX_DURATION: Duration = Duration::from_secs(100 * 365 * 86_400);

/// A validated run: where to look, how to answer, and what to do.
#[derive(Clone, Debug)]
pub struct Settings {
    /// `--root`: default paths (/etc/ntp.conf, /sys, /proc) are looked up under it.
    pub root: PathBuf,
    pub output: Output,
    pub mode: Mode,
}

/// How the answer is written: its form, and `--output`'s file if any.
#[derive(Clone, Debug)]
pub struct Output {
    pub format: OutputFormat,
    /// Written atomically (temporary file and rename) instead of stdout.
    pub file: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputFormat {
    /// One Nagios plugin line (and its long output).
    Text,
    Json,
    /// A node_exporter text-file collector.
    Prometheus,
}

/// The three commands; each carries only its own settings.
#[derive(Clone, Debug)]
pub enum Mode {
    /// The offset check (no command).
    Check(CheckSettings),
    /// `watch`: wall clock against monotonic clock.
    Watch(WatchSettings),
    /// `env`: what keeps the time; `quiet` prints nothing while it is OK.
    Env { quiet: bool },
}

/// The offset check, as check_ntp_time's options ask it.
#[derive(Clone, Debug)]
pub struct CheckSettings {
    /// `-H` as given (HOST, HOST:PORT, [v6]:PORT); empty: the configured servers.
    pub hosts: Vec<String>,
    /// `-p`: the port of servers given without one.
    pub port: u16,
    pub thresholds: Thresholds,
    /// `-v` count: 1 adds a line per server, 2 every sample and rejected reply.
    pub verbose: u8,
    /// `-t`: the whole run's budget, more than 0 and at most [`MAX_TIMEOUT`] s.
    pub timeout: Duration,
    /// `-n`: good replies wanted per server address, at least 1.
    pub samples: usize,
    pub family: Family,
    /// `-q`: UNKNOWN instead of CRITICAL when servers answer but none usefully.
    pub quiet: bool,
    /// `--conf`: the ntp.conf (or chrony.conf) to take servers from.
    pub conf: Option<PathBuf>,
}

/// `watch`, its durations parsed.
#[derive(Clone, Copy, Debug)]
pub struct WatchSettings {
    /// How often the clocks are compared (more than 0).
    pub interval: Duration,
    /// When to stop; `None`: run until killed.
    pub duration: Option<Duration>,
    /// Jumps larger than this many seconds are reported.
    pub threshold: f64,
}

/// Settings that cannot be used, and why: reported as UNKNOWN in
/// `output`'s form (a Nagios plugin never exits 2 for a usage error).
#[derive(Clone, Debug)]
pub struct Refusal {
    pub output: Output,
    pub why: String,
}

impl CheckSettings {
    /// `-w` and `-c` as Nagios ranges, then `-t` and `-n` in bounds; the
    /// message of the first that is wrong.
    pub fn thresholds_and_limits(
        warning: &str,
        critical: &str,
        timeout: f64,
        samples: usize,
    ) -> Result<(Thresholds, Duration), String> {
        let thresholds = match (Range::parse(warning), Range::parse(critical)) {
            (Ok(warning), Ok(critical)) => Thresholds { warning, critical },
            (Err(e), _) => return Err(format!("-w: {e}")),
            (_, Err(e)) => return Err(format!("-c: {e}")),
        };
        if !(timeout.is_finite() && timeout > 0.0 && timeout <= MAX_TIMEOUT) || samples == 0 {
            return Err(format!(
                "invalid -t or -n (-t: more than 0, at most {MAX_TIMEOUT} s; -n: at least 1)"
            ));
        }
        Ok((thresholds, Duration::from_secs_f64(timeout)))
    }
}

impl WatchSettings {
    /// `--interval`, `--duration` and `--threshold` as given (`1s`,
    /// `500ms`, `0.2`); with Prometheus output a watch without an end needs
    /// a file to keep up to date.
    pub fn parse(
        interval: &str,
        duration: Option<&str>,
        threshold: &str,
        output: &Output,
    ) -> Result<WatchSettings, String> {
        let parsed = (
            parse_duration(interval),
            duration.map(parse_duration).transpose(),
            parse_duration(threshold),
        );
        let (interval, duration, threshold) = match parsed {
            (Ok(i), Ok(d), Ok(t)) if !i.is_zero() => (i, d, t.as_secs_f64()),
            (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => return Err(e),
            _ => return Err("--interval must be more than 0".into()),
        };
        if output.format == OutputFormat::Prometheus && duration.is_none() && output.file.is_none()
        {
            return Err(
                "--format prometheus needs --duration, or --output FILE to keep up to date".into(),
            );
        }
        Ok(WatchSettings {
            interval,
            duration,
            threshold,
        })
    }
}

/// Parses `1s`, `500ms`, `2m`, `1h`, `0.5` (seconds).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let (number, scale) = if let Some(n) = t.strip_suffix("ms") {
        (n, 0.001)
    } else if let Some(n) = t.strip_suffix('s') {
        (n, 1.0)
    } else if let Some(n) = t.strip_suffix('m') {
        (n, 60.0)
    } else if let Some(n) = t.strip_suffix('h') {
        (n, 3600.0)
    } else {
        (t, 1.0)
    };
    match number.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Duration::try_from_secs_f64(v * scale)
            .ok()
            .filter(|d| *d <= MAX_DURATION)
            .ok_or_else(|| format!("`{text}` is too long (at most 100 years)")),
        _ => Err(format!("`{text}` is not a duration (1s, 500ms, 2m, 1h)")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_absurd_ones() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        for absurd in ["1e300h", "1e20", "inf", "nan", "-1s", "soon"] {
            assert!(parse_duration(absurd).is_err(), "{absurd}");
        }
    }

    #[test]
    fn check_values_refused_in_order() {
        let refused = |w, c, t, n| CheckSettings::thresholds_and_limits(w, c, t, n).unwrap_err();
        assert!(refused("x", "y", 0.0, 0).starts_with("-w: "));
        assert!(refused("60", "y", 0.0, 0).starts_with("-c: "));
        assert!(refused("60", "120", 0.0, 4).starts_with("invalid -t or -n"));
        assert!(refused("60", "120", 10.0, 0).starts_with("invalid -t or -n"));
        assert!(refused("60", "120", MAX_TIMEOUT + 1.0, 4).starts_with("invalid -t"));
        let (t, timeout) = CheckSettings::thresholds_and_limits("~:5", "@2:3", 10.0, 4).unwrap();
        assert_eq!(timeout, Duration::from_secs(10));
        assert_eq!(t.warning, Range::parse("~:5").unwrap());
    }

    #[test]
    fn watch_values_refused() {
        let text = Output {
            format: OutputFormat::Text,
            file: None,
        };
        let prometheus = Output {
            format: OutputFormat::Prometheus,
            file: None,
        };
        assert_eq!(
            WatchSettings::parse("0", None, "1s", &text).unwrap_err(),
            "--interval must be more than 0"
        );
        assert!(WatchSettings::parse("1s", Some("soon"), "1s", &text).is_err());
        assert!(
            WatchSettings::parse("1s", None, "1s", &prometheus)
                .unwrap_err()
                .contains("needs --duration")
        );
        let w = WatchSettings::parse("500ms", Some("1h"), "0.5s", &prometheus).unwrap();
        assert_eq!(
            (w.interval, w.duration, w.threshold),
            (
                Duration::from_millis(500),
                Some(Duration::from_secs(3600)),
                0.5
            )
        );
    }
}
