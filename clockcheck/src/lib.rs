//! `clockcheck`: a clock-offset check that monitoring and cron can trust,
//! and a watch for clock jumps.
//!
//! - [`settings`]: what a run is asked to do, validated (the binary builds
//!   it from its clap flags; the library never sees them).  [`status`]:
//!   the Nagios statuses every command exits with.
//! - [`packet`]: the NTP packet and era-safe timestamp arithmetic.
//! - [`query`]: the SNTP client and what makes a reply trustworthy.
//! - [`servers`]: which servers to ask; [`resolve`]: their names to
//!   addresses, within the deadline.
//! - [`check`]: the selection (which servers agree), the verdict and its
//!   output forms; [`range`]: Nagios threshold ranges; [`exposition`]:
//!   Prometheus' text format.
//! - [`watch`]: wall clock against monotonic clock.  [`envinfo`]: `clockcheck env`.

pub mod check;
pub mod envinfo;
pub mod exposition;
pub mod packet;
pub mod query;
pub mod range;
pub mod resolve;
pub mod servers;
pub mod settings;
pub mod status;
pub mod watch;

pub use mailhost_common::atomic_write;
// Not re-exported: its clap parts (`Generate`) are the binary's business.
use mailhost_common::conventions;

use std::io::Write;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::Result;
use mailhost_common::root::Root;

use crate::check::Report;
use crate::conventions::escape_path;
use crate::query::Clock;
use crate::settings::{
    CheckSettings, Mode, Output, OutputFormat, Refusal, Settings, WatchSettings,
};
pub use crate::status::Status;

/// An UNKNOWN result for a problem with the arguments or the set-up, in
/// the form asked for (a status line, a JSON object, or metrics with
/// `clockcheck_status 3`), so a plugin run always says what happened.
fn unknown(
    format: OutputFormat,
    clock: &dyn Clock,
    out: &mut dyn Write,
    message: &str,
) -> Result<Status> {
    let message = check::shown(message);
    match format {
        OutputFormat::Text => writeln!(out, "CLOCK UNKNOWN: {message}")?,
        OutputFormat::Json => {
            serde_json::to_writer(
                &mut *out,
                &serde_json::json!({"status": "UNKNOWN", "message": message}),
            )?;
            writeln!(out)?;
        }
        OutputFormat::Prometheus => {
            let mut e = exposition::Exposition::new();
            e.gauge(
                "clockcheck_status",
                "Nagios status of the last check: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.",
                f64::from(Status::Unknown.code()),
            );
            e.gauge(
                "clockcheck_last_run_timestamp_seconds",
                "When the check ran (Unix time).",
                clock.realtime().0 as f64,
            );
            write!(out, "{}", e.finish())?;
        }
    }
    Ok(Status::Unknown)
}

/// Runs what `settings` ask, writing to `out` or to `--output`'s file.
pub fn run(settings: &Settings, clock: &dyn Clock, out: &mut dyn Write) -> Result<Status> {
    write_to(&settings.output, clock, out, |out| {
        run_guarded(settings, clock, out)
    })
}

/// Reports settings that cannot be used: UNKNOWN in the asked form, to
/// `out` or to `--output`'s file, as a run would.
pub fn refuse(refusal: &Refusal, clock: &dyn Clock, out: &mut dyn Write) -> Result<Status> {
    write_to(&refusal.output, clock, out, |out| {
        unknown(refusal.output.format, clock, out, &refusal.why)
    })
}

/// `body`'s output to `out`, or, with `--output`, to that file atomically.
fn write_to(
    output: &Output,
    clock: &dyn Clock,
    out: &mut dyn Write,
    body: impl FnOnce(&mut dyn Write) -> Result<Status>,
) -> Result<Status> {
    let Some(path) = output.file.as_deref() else {
        return body(out);
    };
    let mut buffer = Vec::new();
    let status = body(&mut buffer)?;
    // For node_exporter: a reader never sees a half-written file.
    match atomic_write::create_or_replace(path, &buffer, atomic_write::FailAt::from_env()) {
        Ok(_) => Ok(status),
        // The file could not be written: say so where a plugin is read.
        Err(e) => {
            let why = format!("cannot write {}: {e}", escape_path(path));
            unknown(OutputFormat::Text, clock, out, &why)
        }
    }
}

/// Runs the check or the watch; an error (an unreadable file, a failed
/// write) or a panic becomes an UNKNOWN result with the reason, in the
/// asked form.
/// (Output is not buffered: `watch` prints each jump as it is seen.)
fn run_guarded(settings: &Settings, clock: &dyn Clock, out: &mut dyn Write) -> Result<Status> {
    if matches!(settings.mode, Mode::Env { .. }) {
        return run_to(settings, clock, out); // `env` reports its own errors.
    }
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        run_to(settings, clock, &mut *out)
    }));
    let format = settings.output.format;
    match outcome {
        Ok(Ok(status)) => Ok(status),
        Ok(Err(e)) if conventions::is_broken_pipe(&e) => Err(e),
        Ok(Err(e)) => unknown(format, clock, out, &format!("{e:#}")),
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            unknown(format, clock, out, &format!("internal error: {what}"))
        }
    }
}

fn run_to(settings: &Settings, clock: &dyn Clock, out: &mut dyn Write) -> Result<Status> {
    match &settings.mode {
        Mode::Check(check) => check_command(settings, check, clock, out),
        Mode::Watch(watch) => watch_command(&settings.output, watch, clock, out),
        Mode::Env { quiet } => envinfo::run(&settings.root, settings.output.format, *quiet, out),
    }
}

fn check_command(
    settings: &Settings,
    check: &CheckSettings,
    clock: &dyn Clock,
    out: &mut dyn Write,
) -> Result<Status> {
    let format = settings.output.format;
    let started = Instant::now();
    let deadline = started + check.timeout;
    let root = match Root::new(&settings.root) {
        Ok(root) => root,
        Err(e) => return unknown(format, clock, out, &format!("--root: {e}")),
    };
    let hosts = match servers::servers_to_ask(check, &root) {
        Ok(hosts) => hosts,
        Err(why) => return unknown(format, clock, out, &why),
    };
    // Names get at most half of -t, so the servers that did resolve (and
    // literal addresses) still have time to answer.
    let names_deadline = started + check.timeout / 2;
    let targets = resolve::resolve_all(
        &hosts,
        check.family,
        names_deadline,
        resolve::system_resolver,
    );
    let addrs: Vec<SocketAddr> = targets
        .iter()
        .filter_map(|t| t.as_ref().ok().copied())
        .collect();
    let mut asked = query::query_all(&addrs, check.samples, deadline, clock).into_iter();
    // In the order given: a name that did not resolve keeps its place.
    let results: Vec<query::ServerResult> = targets
        .into_iter()
        .filter_map(|t| match t {
            Ok(_) => asked.next(),
            Err((host, why)) => Some(query::ServerResult::failed(host, why)),
        })
        .collect();
    let report = check::evaluate(results, &check.thresholds, check.quiet);
    match format {
        OutputFormat::Text => write_check_text(&report, check.verbose, out)?,
        OutputFormat::Json => {
            serde_json::to_writer(&mut *out, &report)?;
            writeln!(out)?;
        }
        OutputFormat::Prometheus => write!(out, "{}", report.prometheus(clock.realtime().0))?,
    }
    Ok(report.status)
}

/// The Nagios line, then (with -v, or several servers) one line per
/// server, then (with -vv) every sample and rejected reply.
fn write_check_text(report: &Report, verbose: u8, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(out, "{}", report.nagios_line())?;
    if verbose > 0 || report.servers.len() > 1 {
        for line in report.server_lines() {
            writeln!(out, "{line}")?;
        }
    }
    if verbose > 1 {
        for v in &report.servers {
            let name = check::shown(&v.result.server);
            for s in &v.result.samples {
                let (offset, delay, bound) = (s.offset, s.delay, s.distance);
                writeln!(
                    out,
                    "  {name}: sample offset {offset:.6} secs, delay {delay:.6} secs, error bound {bound:.6} secs"
                )?;
            }
            for r in &v.result.rejected {
                let detail = check::shown(&r.detail);
                writeln!(out, "  {name}: rejected ({}): {detail}", r.reason)?;
            }
        }
    }
    Ok(())
}

fn watch_command(
    output: &Output,
    settings: &WatchSettings,
    clock: &dyn Clock,
    out: &mut dyn Write,
) -> Result<Status> {
    let WatchSettings {
        interval,
        duration,
        threshold,
    } = *settings;
    let prometheus = output.format == OutputFormat::Prometheus;
    // Without --duration the watch never ends: its metrics replace the
    // --output file as it goes (at the start, after each jump, and every
    // minute), for a watcher run as a service.  (Settings made sure such
    // a watch has the file.)
    let live_file = match (prometheus, duration) {
        (true, None) => output.file.as_deref(),
        _ => None,
    };
    let mut written: Option<(usize, Duration)> = None;
    let mut keep_file = |jumps: &[watch::Jump], watched: Duration| -> std::io::Result<()> {
        let Some(path) = live_file else {
            return Ok(());
        };
        let due = written.is_none_or(|(seen, at)| {
            seen != jumps.len() || watched.saturating_sub(at) >= Duration::from_secs(60)
        });
        if due {
            let metrics =
                watch::prometheus(jumps, watched.as_secs_f64(), threshold, clock.realtime().0);
            atomic_write::create_or_replace(path, metrics.as_bytes(), None)?;
            written = Some((jumps.len(), watched));
        }
        Ok(())
    };
    let json = output.format == OutputFormat::Json;
    let mut report = |j: &watch::Jump| -> std::io::Result<()> {
        if prometheus {
            return Ok(()); // The metrics sum the jumps up at the end.
        }
        if json {
            serde_json::to_writer(&mut *out, j)?;
            writeln!(out)?;
        } else {
            let at = chrono_like(j.at);
            writeln!(
                out,
                "{at} wall clock jumped {} by {:.6} s",
                j.direction,
                j.seconds.abs()
            )?;
        }
        out.flush()
    };
    let jumps = watch::run(
        clock,
        interval,
        duration,
        threshold,
        &std::thread::sleep,
        &mut report,
        &mut keep_file,
    )?;
    let status = watch::status(&jumps);
    if prometheus {
        let watched = duration.unwrap_or_default().as_secs_f64();
        write!(
            out,
            "{}",
            watch::prometheus(&jumps, watched, threshold, clock.realtime().0)
        )?;
    } else if !json {
        let message = watch_summary(&jumps, status, settings);
        writeln!(out, "CLOCK {}: {message}", status.as_str())?;
    }
    Ok(status)
}

/// The status line's message at the end of a watch: the largest jump.
fn watch_summary(jumps: &[watch::Jump], status: Status, settings: &WatchSettings) -> String {
    let worst = jumps
        .iter()
        .max_by(|a, b| a.seconds.abs().total_cmp(&b.seconds.abs()));
    match worst {
        None => format!(
            "no wall-clock jump over {} s in {} s",
            settings.threshold,
            settings.duration.map_or(0.0, |d| d.as_secs_f64())
        ),
        Some(j) => format!(
            "{} jump(s); largest {} by {:.6} s{}",
            jumps.len(),
            j.direction,
            j.seconds.abs(),
            if status == Status::Critical {
                " (dovecot dies of backward jumps over 5 s)"
            } else {
                ""
            }
        ),
    }
}

/// RFC 3339 UTC for a Unix time, without a date library.
fn chrono_like(t: f64) -> String {
    let secs = t.floor() as i64;
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_without_a_library() {
        assert_eq!(chrono_like(0.0), "1970-01-01T00:00:00Z");
        assert_eq!(chrono_like(1_795_910_400.5), "2026-11-29T00:00:00Z");
        assert_eq!(chrono_like(2_085_978_496.0), "2036-02-07T06:28:16Z");
    }
}
