//! `clockcheck`: a clock-offset check that monitoring and cron can trust,
//! and a watch for clock jumps.
//!
//! - [`packet`]: the NTP packet and era-safe timestamp arithmetic.
//! - [`query`]: the SNTP client and what makes a reply trustworthy.
//! - [`resolve`]: server names to addresses, within the deadline.
//! - [`check`]: the selection (which servers agree), the verdict and its
//!   output forms; [`range`]: Nagios threshold ranges; [`exposition`]:
//!   Prometheus' text format.
//! - [`watch`]: wall clock against monotonic clock.  [`envinfo`]: `clockcheck env`.

pub mod check;
pub mod cli;
pub mod envinfo;
pub mod exposition;
pub mod packet;
pub mod query;
pub mod range;
pub mod resolve;
pub mod watch;

pub use mailhost_common::atomic_write;
pub use mailhost_common::conventions;

use std::io::Write;
use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Result;
use mailhost_common::chrony::ChronyConf;
use mailhost_common::rcconf::RcConf;
use mailhost_common::root::Root;
use mailhost_common::timesyncd::TimesyncdConf;
use ntpconf_edit::timekeepers::Keeper;

use crate::check::{Range, Status, Thresholds};
use crate::cli::{Cli, Command, OutputFormat, parse_duration};
use crate::conventions::escape_path;
use crate::query::Clock;
use crate::resolve::Family;

pub const EXIT_UNKNOWN: u8 = 3;

/// The longest `-t` accepted (a check that waits a day is a mistake).
pub const MAX_TIMEOUT: f64 = 86_400.0;

/// The most servers one check asks (`-H`, or server/peer/pool lines).
/// ntpd sets no limit on lines, but selects among at most `tos maxclock`
/// (10) survivors, and its documentation advises four to seven servers:
/// more than 64 is a mistake or an attack (a jail's ntp.conf of a million
/// lines), and the check says so (UNKNOWN) instead of asking them all.
pub const MAX_ASSOCIATIONS: usize = 64;

/// An UNKNOWN result for a problem with the arguments or the set-up, in
/// the form asked for (a status line, a JSON object, or metrics with
/// `clockcheck_status 3`), so a plugin run always says what happened.
fn unknown(
    format: OutputFormat,
    clock: &dyn Clock,
    out: &mut dyn Write,
    message: &str,
) -> Result<u8> {
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
                f64::from(EXIT_UNKNOWN),
            );
            e.gauge(
                "clockcheck_last_run_timestamp_seconds",
                "When the check ran (Unix time).",
                clock.realtime().0 as f64,
            );
            write!(out, "{}", e.finish())?;
        }
    }
    Ok(EXIT_UNKNOWN)
}

pub fn run(cli: &Cli, clock: &dyn Clock, out: &mut dyn Write) -> Result<u8> {
    let Some(path) = cli.output.as_deref() else {
        return run_guarded(cli, clock, out);
    };
    let mut buffer = Vec::new();
    let code = run_guarded(cli, clock, &mut buffer)?;
    // For node_exporter: a reader never sees a half-written file.
    match atomic_write::create_or_replace(path, &buffer, atomic_write::FailAt::from_env()) {
        Ok(_) => Ok(code),
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
fn run_guarded(cli: &Cli, clock: &dyn Clock, out: &mut dyn Write) -> Result<u8> {
    if matches!(cli.command, Some(Command::Env { .. })) {
        return run_to(cli, clock, out); // `env` reports its own errors.
    }
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        run_to(cli, clock, &mut *out)
    }));
    match outcome {
        Ok(Ok(code)) => Ok(code),
        Ok(Err(e)) if conventions::is_broken_pipe(&e) => Err(e),
        Ok(Err(e)) => unknown(cli.format, clock, out, &format!("{e:#}")),
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            unknown(cli.format, clock, out, &format!("internal error: {what}"))
        }
    }
}

fn run_to(cli: &Cli, clock: &dyn Clock, out: &mut dyn Write) -> Result<u8> {
    match &cli.command {
        Some(Command::Watch {
            interval,
            duration,
            threshold,
        }) => watch_command(cli, clock, out, interval, duration.as_deref(), threshold),
        Some(Command::Env { quiet }) => env_command(cli, *quiet, out),
        None => check_command(cli, clock, out),
    }
}

/// One association (`-H` or an ntp.conf line): its host and port.
fn association(spec: &str, default_port: u16, kind: resolve::Kind) -> resolve::Association {
    let (host, port) = host_port(spec, default_port);
    resolve::Association { host, port, kind }
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

/// The servers to ask: `-H`, `--conf`, or those of whatever keeps the time
/// on the tree: ntp.conf where ntpd's is (ntpconf_edit::locate_ntp_conf),
/// else chrony.conf's sources, else systemd-timesyncd's NTP= (read through
/// the root: regular files only, so a FIFO planted there cannot hang the
/// plugin); at most [`MAX_ASSOCIATIONS`].
fn servers_to_ask(cli: &Cli, root: &Root) -> Result<Vec<resolve::Association>, String> {
    let too_many = |from: &str| {
        format!(
            "{from} names more than {MAX_ASSOCIATIONS} servers; at most {MAX_ASSOCIATIONS} are checked (ntpd selects among 10)"
        )
    };
    if !cli.hosts.is_empty() {
        if cli.hosts.len() > MAX_ASSOCIATIONS {
            return Err(too_many("-H"));
        }
        return Ok(cli
            .hosts
            .iter()
            .map(|h| association(h, cli.port, resolve::Kind::Server))
            .collect());
    }
    let from_ntp_conf = |jail: &Path| -> Result<Vec<resolve::Association>, String> {
        let shown = escape_path(&root.display_path(jail));
        // ntpd's own reading (includefile followed, `end` honoured): the
        // one model of ntp.conf, in ntpconf-edit.
        let read = ntpconf_edit::ntp_associations(root, Some(jail), None, Some(MAX_ASSOCIATIONS))
            .map_err(|e| {
            // Root's errors name the path already (ROOT/etc/ntp.conf: ...).
            let why = format!("{e:#}");
            let why = if why.contains(&*root.display_path(jail).to_string_lossy()) {
                conventions::escape_text(&why).into_owned()
            } else {
                format!("{shown}: {}", conventions::escape_text(&why))
            };
            format!("no server given (-H), and cannot read {why}")
        })?;
        if read.associations.len() > MAX_ASSOCIATIONS {
            return Err(too_many(&shown));
        }
        if read.associations.is_empty() {
            return Err(format!(
                "no server given (-H) and no server/pool/peer line in {shown}"
            ));
        }
        Ok(read
            .associations
            .iter()
            .map(|a| association(&a.host, cli.port, resolve_kind(a.kind)))
            .collect())
    };
    if let Some(conf) = &cli.conf {
        return match conf.file_name().and_then(|n| n.to_str()) {
            Some("chrony.conf") => from_chrony_conf(root, conf, cli.port),
            _ => from_ntp_conf(conf),
        };
    }
    // Whatever keeps the time here, found by the rule ntpconf-edit check uses.
    let rc = RcConf::load(root).map_err(|e| {
        format!(
            "reading rc.conf: {}",
            conventions::escape_text(&e.to_string())
        )
    })?;
    let (keeper, ntp_conf) = ntpconf_edit::time_keeper(root, &rc);
    match keeper {
        Keeper::Chrony(conf) => from_chrony_conf(root, &conf, cli.port),
        Keeper::Timesyncd(_) => {
            let conf = TimesyncdConf::read(root);
            let servers = conf.servers();
            if servers.is_empty() {
                return Err(
                    "no server given (-H), and systemd-timesyncd's configuration names none \
                     (NTP=, FallbackNTP=): it uses its compiled-in servers"
                        .into(),
                );
            }
            if servers.len() > MAX_ASSOCIATIONS {
                return Err(too_many("timesyncd.conf"));
            }
            Ok(servers
                .iter()
                .map(|h| association(h, cli.port, resolve::Kind::Server))
                .collect())
        }
        Keeper::Ntpd => match ntp_conf {
            Some(conf) => from_ntp_conf(&conf),
            None => Err(format!(
                "no server given (-H), and no ntp.conf ({}), chrony.conf ({}) or systemd-timesyncd",
                ntpconf_edit::DEFAULT_CONFS.join(", "),
                mailhost_common::chrony::CHRONY_CONFS.join(", ")
            )),
        },
    }
}

/// How clockcheck asks an association ntpd would make: a pool may add
/// several voters, a server or peer one.
fn resolve_kind(kind: ntpconf_edit::associations::Kind) -> resolve::Kind {
    match kind {
        ntpconf_edit::associations::Kind::Pool => resolve::Kind::Pool,
        ntpconf_edit::associations::Kind::Server | ntpconf_edit::associations::Kind::Peer => {
            resolve::Kind::Server
        }
    }
}

/// The sources of chrony.conf (its includes, confdir and sourcedir
/// followed): a `pool` may add several voters, a `server` or `peer` one.
fn from_chrony_conf(
    root: &Root,
    conf: &Path,
    port: u16,
) -> Result<Vec<resolve::Association>, String> {
    let shown = escape_path(&root.display_path(conf));
    let chrony = ChronyConf::read(root, conf).map_err(|e| {
        format!(
            "no server given (-H), and cannot read {}",
            conventions::escape_text(&e.to_string())
        )
    })?;
    if chrony.sources.len() > MAX_ASSOCIATIONS {
        return Err(format!(
            "{shown} names more than {MAX_ASSOCIATIONS} servers; at most {MAX_ASSOCIATIONS} are checked"
        ));
    }
    if chrony.sources.is_empty() {
        return Err(format!(
            "no server given (-H) and no server/pool/peer line in {shown}"
        ));
    }
    Ok(chrony
        .sources
        .iter()
        .map(|s| {
            let kind = if s.kind == "pool" {
                resolve::Kind::Pool
            } else {
                resolve::Kind::Server
            };
            association(&s.host, port, kind)
        })
        .collect())
}

fn check_command(cli: &Cli, clock: &dyn Clock, out: &mut dyn Write) -> Result<u8> {
    let format = cli.format;
    let thresholds = match (Range::parse(&cli.warning), Range::parse(&cli.critical)) {
        (Ok(warning), Ok(critical)) => Thresholds { warning, critical },
        (Err(e), _) => return unknown(format, clock, out, &format!("-w: {e}")),
        (_, Err(e)) => return unknown(format, clock, out, &format!("-c: {e}")),
    };
    if !(cli.timeout.is_finite() && cli.timeout > 0.0 && cli.timeout <= MAX_TIMEOUT)
        || cli.samples == 0
    {
        return unknown(
            format,
            clock,
            out,
            &format!("invalid -t or -n (-t: more than 0, at most {MAX_TIMEOUT} s; -n: at least 1)"),
        );
    }
    let started = Instant::now();
    let deadline = started + Duration::from_secs_f64(cli.timeout);
    let root = match Root::new(&cli.root) {
        Ok(root) => root,
        Err(e) => return unknown(format, clock, out, &format!("--root: {e}")),
    };
    let hosts = match servers_to_ask(cli, &root) {
        Ok(hosts) => hosts,
        Err(why) => return unknown(format, clock, out, &why),
    };
    let family = if cli.ipv4 {
        Family::V4
    } else if cli.ipv6 {
        Family::V6
    } else {
        Family::Any
    };
    // Names get at most half of -t, so the servers that did resolve (and
    // literal addresses) still have time to answer.
    let names_deadline = started + Duration::from_secs_f64(cli.timeout / 2.0);
    let targets = resolve::resolve_all(&hosts, family, names_deadline, resolve::system_resolver);
    let addrs: Vec<SocketAddr> = targets
        .iter()
        .filter_map(|t| t.as_ref().ok().copied())
        .collect();
    let mut asked = query::query_all(&addrs, cli.samples, deadline, clock).into_iter();
    // In the order given: a name that did not resolve keeps its place.
    let results: Vec<query::ServerResult> = targets
        .into_iter()
        .filter_map(|t| match t {
            Ok(_) => asked.next(),
            Err((host, why)) => Some(query::ServerResult::failed(host, why)),
        })
        .collect();
    let report = check::evaluate(results, &thresholds, cli.quiet);
    match format {
        OutputFormat::Text => {
            writeln!(out, "{}", report.nagios_line())?;
            if cli.verbose > 0 || report.servers.len() > 1 {
                for line in report.server_lines() {
                    writeln!(out, "{line}")?;
                }
            }
            if cli.verbose > 1 {
                for v in &report.servers {
                    for s in &v.result.samples {
                        writeln!(
                            out,
                            "  {}: sample offset {:.6} secs, delay {:.6} secs, error bound {:.6} secs",
                            check::shown(&v.result.server),
                            s.offset,
                            s.delay,
                            s.distance
                        )?;
                    }
                    for r in &v.result.rejected {
                        writeln!(
                            out,
                            "  {}: rejected ({}): {}",
                            check::shown(&v.result.server),
                            r.reason,
                            check::shown(&r.detail)
                        )?;
                    }
                }
            }
        }
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
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => {
            return unknown(cli.format, clock, out, &e);
        }
        _ => return unknown(cli.format, clock, out, "--interval must be more than 0"),
    };
    let prometheus = cli.format == OutputFormat::Prometheus;
    // Without --duration the watch never ends: its metrics replace the
    // --output file as it goes (at the start, after each jump, and every
    // minute), for a watcher run as a service.
    let live_file = match (prometheus, duration, cli.output.as_deref()) {
        (true, None, Some(path)) => Some(path),
        (true, None, None) => {
            return unknown(
                cli.format,
                clock,
                out,
                "--format prometheus needs --duration, or --output FILE to keep up to date",
            );
        }
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
    let json = cli.format == OutputFormat::Json;
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

fn env_command(cli: &Cli, quiet: bool, out: &mut dyn Write) -> Result<u8> {
    envinfo::run(&cli.root, cli.format, quiet, out)
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
