//! `clockcheck`: a clock-offset check that monitoring and cron can trust,
//! and a watch for clock jumps.
//!
//! - [`packet`]: the NTP packet and era-safe timestamp arithmetic.
//! - [`query`]: the SNTP client and what makes a reply trustworthy.
//! - [`check`]: the verdict and its output forms.
//! - [`watch`]: wall clock against monotonic clock.  [`envinfo`]: `clockcheck env`.

pub mod check;
pub mod cli;
pub mod envinfo;
pub mod packet;
pub mod query;
pub mod watch;

pub use mailhost_common::atomic_write;
pub use mailhost_common::conventions;

use std::io::Write;
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use crate::check::Status;
use crate::cli::{Cli, Command, OutputFormat, parse_duration};
use crate::conventions::under_root;
use crate::query::Clock;

pub const EXIT_UNKNOWN: u8 = 3;

/// An UNKNOWN result for a problem with the arguments or the set-up.
fn unknown(out: &mut dyn Write, message: &str) -> Result<u8> {
    writeln!(out, "CLOCK UNKNOWN: {message}")?;
    Ok(EXIT_UNKNOWN)
}

pub fn run(cli: &Cli, clock: &dyn Clock, out: &mut dyn Write) -> Result<u8> {
    if cli.output.is_some() {
        let mut buffer = Vec::new();
        let code = run_to(cli, clock, &mut buffer)?;
        // For node_exporter: a reader never sees a half-written file.
        let path = cli.output.as_deref().unwrap_or(Path::new("-"));
        atomic_write::create_or_replace(path, &buffer, atomic_write::FailAt::from_env())
            .with_context(|| path.display().to_string())?;
        return Ok(code);
    }
    run_to(cli, clock, out)
}

fn run_to(cli: &Cli, clock: &dyn Clock, out: &mut dyn Write) -> Result<u8> {
    match &cli.command {
        Some(Command::Watch {
            interval,
            duration,
            threshold,
        }) => watch_command(cli, clock, out, interval, duration.as_deref(), threshold),
        Some(Command::Env) => env_command(cli, out),
        None => check_command(cli, clock, out),
    }
}

/// Splits `host`, `host:port`, `[v6]:port` and bare IPv6 addresses.
fn host_port(spec: &str, default_port: u16) -> (String, u16) {
    if let Some(rest) = spec.strip_prefix('[')
        && let Some((host, port)) = rest.split_once(']')
    {
        let port = port
            .strip_prefix(':')
            .and_then(|p| p.parse().ok())
            .unwrap_or(default_port);
        return (host.to_string(), port);
    }
    match spec.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') => match port.parse() {
            Ok(p) => (host.to_string(), p),
            Err(_) => (spec.to_string(), default_port),
        },
        _ => (spec.to_string(), default_port),
    }
}

fn check_command(cli: &Cli, clock: &dyn Clock, out: &mut dyn Write) -> Result<u8> {
    if !(cli.timeout.is_finite() && cli.timeout > 0.0)
        || cli.samples == 0
        || !(cli.warning >= 0.0 && cli.critical >= 0.0)
    {
        return unknown(out, "invalid -t, -n, -w or -c (positive numbers expected)");
    }
    let mut hosts = cli.hosts.clone();
    if hosts.is_empty() {
        let conf = cli
            .conf
            .clone()
            .unwrap_or_else(|| under_root(&cli.root, Path::new("/etc/ntp.conf")));
        match conventions::read_limited(&conf, conventions::MAX_CONFIG_BYTES) {
            Ok(bytes) => hosts = check::servers_from_ntp_conf(&String::from_utf8_lossy(&bytes)),
            Err(e) => {
                return unknown(
                    out,
                    &format!(
                        "no server given (-H) and {} cannot be read: {e}",
                        conf.display()
                    ),
                );
            }
        }
        if hosts.is_empty() {
            return unknown(
                out,
                &format!(
                    "no server given (-H) and no server/pool/peer line in {}",
                    conf.display()
                ),
            );
        }
    }
    let deadline = Instant::now() + Duration::from_secs_f64(cli.timeout);
    let mut targets: Vec<Result<SocketAddr, String>> = Vec::new();
    for spec in &hosts {
        let (host, port) = host_port(spec, cli.port);
        match (host.as_str(), port).to_socket_addrs() {
            Ok(addrs) => {
                let addrs: Vec<SocketAddr> = addrs
                    .filter(|a| !(cli.ipv4 && a.is_ipv6() || cli.ipv6 && a.is_ipv4()))
                    .collect();
                if addrs.is_empty() {
                    targets.push(Err(format!("{host}: no address of the asked family")));
                }
                targets.extend(addrs.into_iter().map(Ok));
            }
            Err(e) => targets.push(Err(format!("{host}: cannot resolve ({e})"))),
        }
    }
    let results: Vec<query::ServerResult> = std::thread::scope(|scope| {
        let handles: Vec<_> = targets
            .iter()
            .map(|t| {
                let t = t.clone();
                scope.spawn(move || match t {
                    Ok(addr) => query::query(addr, cli.samples, deadline, clock),
                    Err(e) => query::ServerResult {
                        server: e.split(':').next().unwrap_or("").to_string(),
                        samples: vec![],
                        rejected: vec![],
                        kiss: None,
                        error: Some(e),
                        silent: true,
                        rejected_more: 0,
                    },
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a query thread panicked"))
            .collect()
    });
    let report = check::evaluate(results, cli.warning, cli.critical, cli.quiet);
    match cli.format {
        OutputFormat::Text => writeln!(out, "{}", report.nagios_line())?,
        OutputFormat::Json => {
            serde_json::to_writer(&mut *out, &report)?;
            writeln!(out)?;
        }
        OutputFormat::Prometheus => write!(out, "{}", report.prometheus(clock.realtime().0))?,
    }
    Ok(report.status as u8)
}

fn watch_command(
    cli: &Cli,
    clock: &dyn Clock,
    out: &mut dyn Write,
    interval: &str,
    duration: Option<&str>,
    threshold: &str,
) -> Result<u8> {
    let parsed = (
        parse_duration(interval),
        duration.map(parse_duration).transpose(),
        parse_duration(threshold),
    );
    let (interval, duration, threshold) = match parsed {
        (Ok(i), Ok(d), Ok(t)) if !i.is_zero() => (i, d, t.as_secs_f64()),
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => return unknown(out, &e),
        _ => return unknown(out, "--interval must be more than 0"),
    };
    let json = cli.format == OutputFormat::Json;
    let mut report = |j: &watch::Jump| -> std::io::Result<()> {
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
    )?;
    let status = watch::status(&jumps);
    if !json {
        let worst = jumps
            .iter()
            .max_by(|a, b| a.seconds.abs().total_cmp(&b.seconds.abs()));
        let message = match worst {
            None => format!(
                "no wall-clock jump over {threshold} s in {} s",
                duration.map_or(0.0, |d| d.as_secs_f64())
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
        };
        writeln!(out, "CLOCK {}: {message}", status.as_str())?;
    }
    Ok(status as u8)
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

fn env_command(cli: &Cli, out: &mut dyn Write) -> Result<u8> {
    envinfo::run(&cli.root, cli.format, out)
}

/// The extra sections of the man page.
pub fn man_page() -> conventions::ManPage<'static> {
    conventions::ManPage {
        exit_status: cli::EXIT_STATUS,
        examples: cli::EXAMPLES,
        files: &[
            (
                "/etc/ntp.conf",
                "Where the servers come from without -H (under --root).",
            ),
            (
                "/etc/rc.conf",
                "env: FreeBSD's rc.conf chain (defaults, rc.conf, rc.conf.local, rc.conf.d), under --root.",
            ),
            (
                "$ROOT/sysctl.out",
                "env: a saved `sysctl -a` that stands in for the kernel of a copied tree.",
            ),
        ],
        see_also: "check_ntp_time(8), ntpd(8), chronyd(8), ntpconf-edit(8), maillog-grep(8), xinetd-lint(8)",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_and_port_forms() {
        assert_eq!(
            host_port("127.0.0.1:11123", 123),
            ("127.0.0.1".into(), 11123)
        );
        assert_eq!(host_port("pool.ntp.org", 123), ("pool.ntp.org".into(), 123));
        assert_eq!(host_port("[::1]:1234", 123), ("::1".into(), 1234));
        assert_eq!(host_port("::1", 123), ("::1".into(), 123));
    }

    #[test]
    fn dates_without_a_library() {
        assert_eq!(chrono_like(0.0), "1970-01-01T00:00:00Z");
        assert_eq!(chrono_like(1_795_910_400.5), "2026-11-29T00:00:00Z");
        assert_eq!(chrono_like(2_085_978_496.0), "2036-02-07T06:28:16Z");
    }
}
