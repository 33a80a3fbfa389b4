//! `clockcheck watch`: compare CLOCK_REALTIME with a monotonic clock and
//! report every jump of the wall clock past a threshold.  A backward jump
//! over 5 s is what makes dovecot kill itself.

use std::time::Duration;

use serde::Serialize;

use crate::check::Status;
use crate::query::Clock;

/// Dovecot dies of backward jumps larger than this (MAX_TIME_BACKWARDS_SLEEP).
pub const DOVECOT_LIMIT: f64 = 5.0;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Reading {
    /// Wall clock, seconds since the Unix epoch.
    pub realtime: f64,
    /// Monotonic clock, seconds.
    pub monotonic: f64,
}

impl Reading {
    pub fn now(clock: &dyn Clock) -> Reading {
        let (s, ns) = clock.realtime();
        Reading {
            realtime: s as f64 + f64::from(ns) / 1e9,
            monotonic: clock.monotonic().as_secs_f64(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Jump {
    /// Wall-clock time after the jump (Unix seconds).
    pub at: f64,
    /// Signed size: negative when the clock went backwards.
    pub seconds: f64,
    pub direction: &'static str,
}

/// How far the wall clock moved apart from the monotonic clock between two
/// readings; `None` below the threshold.
pub fn jump(before: Reading, after: Reading, threshold: f64) -> Option<Jump> {
    let seconds = (after.realtime - before.realtime) - (after.monotonic - before.monotonic);
    (seconds.abs() > threshold).then_some(Jump {
        at: after.realtime,
        seconds,
        direction: if seconds < 0.0 { "backward" } else { "forward" },
    })
}

/// CRITICAL for a backward jump over 5 s, WARNING for any smaller or
/// forward one, OK without jumps.
pub fn status(jumps: &[Jump]) -> Status {
    if jumps.iter().any(|j| j.seconds < -DOVECOT_LIMIT) {
        Status::Critical
    } else if jumps.is_empty() {
        Status::Ok
    } else {
        Status::Warning
    }
}

/// Watches until `duration` (forever without one), calling `report` for
/// each jump as it is seen, and `tick` with the jumps so far and the time
/// watched at the start and after every reading.  `sleep` is passed in for
/// tests.
pub fn run(
    clock: &dyn Clock,
    interval: Duration,
    duration: Option<Duration>,
    threshold: f64,
    sleep: &dyn Fn(Duration),
    report: &mut dyn FnMut(&Jump) -> std::io::Result<()>,
    tick: &mut dyn FnMut(&[Jump], Duration) -> std::io::Result<()>,
) -> std::io::Result<Vec<Jump>> {
    let start = clock.monotonic();
    let mut before = Reading::now(clock);
    let mut jumps = Vec::new();
    tick(&jumps, Duration::ZERO)?;
    loop {
        if let Some(d) = duration {
            let left = d.saturating_sub(clock.monotonic().saturating_sub(start));
            if left.is_zero() {
                return Ok(jumps);
            }
            sleep(interval.min(left));
        } else {
            sleep(interval);
        }
        let after = Reading::now(clock);
        if let Some(j) = jump(before, after, threshold) {
            report(&j)?;
            jumps.push(j);
        }
        before = after;
        tick(&jumps, clock.monotonic().saturating_sub(start))?;
    }
}

/// node_exporter text-file metrics for a finished watch of `watched`
/// seconds (`now`: Unix time of the end).
pub fn prometheus(jumps: &[Jump], watched: f64, threshold: f64, now: i64) -> String {
    let mut e = crate::exposition::Exposition::new();
    e.gauge(
        "clockcheck_watch_status",
        "Nagios status of the last watch: 0 OK, 1 WARNING (a jump), 2 CRITICAL (a backward jump over 5 s).",
        f64::from(status(jumps).code()),
    );
    let count = |direction: &str| jumps.iter().filter(|j| j.direction == direction).count() as f64;
    e.family(
        "clockcheck_watch_jumps",
        "Wall-clock jumps over the threshold seen during the last watch.",
        "gauge",
        &[
            (vec![("direction", "backward")], count("backward")),
            (vec![("direction", "forward")], count("forward")),
        ],
    );
    let largest = |direction: &str| {
        jumps
            .iter()
            .filter(|j| j.direction == direction)
            .map(|j| j.seconds.abs())
            .fold(0.0, f64::max)
    };
    e.family(
        "clockcheck_watch_largest_jump_seconds",
        "The largest wall-clock jump of the last watch (0 without one); dovecot dies of backward jumps over 5 s.",
        "gauge",
        &[
            (vec![("direction", "backward")], largest("backward")),
            (vec![("direction", "forward")], largest("forward")),
        ],
    );
    e.gauge(
        "clockcheck_watch_threshold_seconds",
        "Jumps smaller than this were not counted.",
        threshold,
    );
    e.gauge(
        "clockcheck_watch_duration_seconds",
        "How long the last watch ran.",
        watched,
    );
    e.gauge(
        "clockcheck_watch_last_run_timestamp_seconds",
        "When the last watch ended (Unix time).",
        now as f64,
    );
    e.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(realtime: f64, monotonic: f64) -> Reading {
        Reading {
            realtime,
            monotonic,
        }
    }

    #[test]
    fn jumps_are_the_difference_of_the_two_clocks() {
        assert_eq!(jump(r(100.0, 10.0), r(101.0, 11.0), 0.5), None);
        let j = jump(r(100.0, 10.0), r(47.0, 11.0), 0.5).unwrap();
        assert_eq!((j.seconds, j.direction), (-54.0, "backward"));
        assert_eq!(
            jump(r(100.0, 10.0), r(111.0, 11.0), 0.5).unwrap().direction,
            "forward"
        );
        assert_eq!(jump(r(100.0, 10.0), r(101.4, 11.0), 0.5), None);
    }

    #[test]
    fn statuses() {
        let j = |s: f64| Jump {
            at: 0.0,
            seconds: s,
            direction: "",
        };
        assert_eq!(status(&[]), Status::Ok);
        assert_eq!(status(&[j(-3.0)]), Status::Warning);
        assert_eq!(status(&[j(30.0)]), Status::Warning);
        assert_eq!(status(&[j(-3.0), j(-54.0)]), Status::Critical);
    }
}
