//! The verdict of an offset check, and its three output forms: one Nagios
//! plugin line, JSON, and a node_exporter text-file collector.

use serde::Serialize;

use crate::query::{Sample, ServerResult};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Status {
    Ok = 0,
    Warning = 1,
    Critical = 2,
    Unknown = 3,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "OK",
            Status::Warning => "WARNING",
            Status::Critical => "CRITICAL",
            Status::Unknown => "UNKNOWN",
        }
    }
}

/// Thresholds on the absolute offset, as check_ntp_time applies them.
pub fn classify(offset: f64, warn: f64, crit: f64) -> Status {
    let a = offset.abs();
    if a > crit {
        Status::Critical
    } else if a > warn {
        Status::Warning
    } else {
        Status::Ok
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub status: Status,
    /// The one-line summary (without the perfdata).
    pub message: String,
    pub offset: Option<f64>,
    pub delay: Option<f64>,
    pub server: Option<String>,
    pub stratum: Option<u8>,
    pub warning: f64,
    pub critical: f64,
    pub servers: Vec<ServerResult>,
}

/// The best server decides: lowest stratum, then root distance, then delay.
pub fn evaluate(servers: Vec<ServerResult>, warn: f64, crit: f64, quiet: bool) -> Report {
    let best: Option<(&ServerResult, &Sample)> = servers
        .iter()
        .filter_map(|s| s.best().map(|b| (s, b)))
        .min_by(|(_, a), (_, b)| {
            (a.stratum, a.root_distance)
                .partial_cmp(&(b.stratum, b.root_distance))
                .unwrap_or(std::cmp::Ordering::Equal)
                .then(a.delay.total_cmp(&b.delay))
        });
    let mut report = Report {
        status: Status::Unknown,
        message: String::new(),
        offset: None,
        delay: None,
        server: None,
        stratum: None,
        warning: warn,
        critical: crit,
        servers: Vec::new(),
    };
    match best {
        Some((server, sample)) => {
            report.status = classify(sample.offset, warn, crit);
            report.message = format!(
                "Offset {:.6} secs, delay {:.6} secs, server {}, stratum {}",
                sample.offset, sample.delay, server.server, sample.stratum
            );
            report.offset = Some(sample.offset);
            report.delay = Some(sample.delay);
            report.server = Some(server.server.clone());
            report.stratum = Some(sample.stratum);
        }
        None => {
            let answered: Vec<&ServerResult> = servers.iter().filter(|s| !s.silent).collect();
            if answered.is_empty() {
                report.status = Status::Critical;
                let errors: Vec<String> = servers
                    .iter()
                    .filter_map(|s| s.error.as_ref().map(|e| format!("{}: {e}", s.server)))
                    .collect();
                report.message = if errors.is_empty() {
                    "No response from NTP server".into()
                } else {
                    format!("No response from NTP server ({})", errors.join("; "))
                };
            } else {
                report.status = if quiet {
                    Status::Unknown
                } else {
                    Status::Critical
                };
                let why: Vec<String> = answered
                    .iter()
                    .map(|s| {
                        let reasons: Vec<&str> = s.rejected.iter().map(|r| r.reason).collect();
                        format!(
                            "{}: {}",
                            s.server,
                            s.rejected
                                .last()
                                .map_or_else(|| reasons.join(","), |r| r.detail.clone())
                        )
                    })
                    .collect();
                report.message = format!("Offset unknown: no usable reply ({})", why.join("; "));
            }
        }
    }
    report.servers = servers;
    report
}

impl Report {
    /// `CLOCK OK: Offset ... |offset=...s;60;120; delay=...s`
    pub fn nagios_line(&self) -> String {
        let perf = match (self.offset, self.delay) {
            (Some(o), Some(d)) => format!(
                "|offset={o:.6}s;{};{}; delay={d:.6}s",
                self.warning, self.critical
            ),
            _ => String::new(),
        };
        format!("CLOCK {}: {}{perf}", self.status.as_str(), self.message)
    }

    /// A node_exporter text-file collector (`now` is the time of the run).
    pub fn prometheus(&self, now: i64) -> String {
        let mut out = String::new();
        let mut metric = |name: &str, help: &str, labels: &str, value: String| {
            out.push_str(&format!(
                "# HELP {name} {help}\n# TYPE {name} gauge\n{name}{labels} {value}\n"
            ));
        };
        metric(
            "clockcheck_status",
            "Nagios status of the last check: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.",
            "",
            (self.status as u8).to_string(),
        );
        if let (Some(o), Some(d), Some(server), Some(st)) =
            (self.offset, self.delay, &self.server, self.stratum)
        {
            let labels = format!(
                "{{server=\"{}\"}}",
                server.replace('\\', "\\\\").replace('"', "\\\"")
            );
            metric(
                "clockcheck_offset_seconds",
                "Offset of the NTP server from the local clock (positive: the local clock is behind).",
                &labels,
                format!("{o:.9}"),
            );
            metric(
                "clockcheck_delay_seconds",
                "Round-trip delay to the NTP server.",
                &labels,
                format!("{d:.9}"),
            );
            metric(
                "clockcheck_stratum",
                "Stratum of the NTP server.",
                &labels,
                st.to_string(),
            );
        }
        metric(
            "clockcheck_last_run_timestamp_seconds",
            "When the check ran (Unix time).",
            "",
            now.to_string(),
        );
        out
    }
}

/// Servers named by `server`, `pool` and `peer` lines of an ntp.conf
/// (refclocks `127.127.*` skipped), in file order.
pub fn servers_from_ntp_conf(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|line| {
            let line = line.split('#').next().unwrap_or("");
            let mut words = line.split_whitespace();
            if !matches!(words.next()?, "server" | "pool" | "peer") {
                return None;
            }
            let host = words.find(|w| !w.starts_with('-'))?;
            (!host.starts_with("127.127.")).then(|| host.to_string())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::Rejected;

    fn server(samples: Vec<Sample>, rejected: Vec<Rejected>, silent: bool) -> ServerResult {
        ServerResult {
            server: "127.0.0.1:123".into(),
            samples,
            rejected,
            kiss: None,
            error: None,
            silent,
            rejected_more: 0,
        }
    }

    fn sample(offset: f64, delay: f64) -> Sample {
        Sample {
            offset,
            delay,
            stratum: 2,
            leap: 0,
            root_distance: 0.01,
        }
    }

    #[test]
    fn thresholds_on_the_absolute_offset() {
        assert_eq!(classify(-30.0, 60.0, 120.0), Status::Ok);
        assert_eq!(classify(90.0, 60.0, 120.0), Status::Warning);
        assert_eq!(classify(-200.0, 60.0, 120.0), Status::Critical);
    }

    #[test]
    fn least_delay_wins_and_the_line_has_perfdata() {
        let r = evaluate(
            vec![server(
                vec![sample(1.0, 0.5), sample(2.0, 0.1)],
                vec![],
                false,
            )],
            60.0,
            120.0,
            false,
        );
        assert_eq!(r.offset, Some(2.0));
        assert_eq!(
            r.nagios_line(),
            "CLOCK OK: Offset 2.000000 secs, delay 0.100000 secs, server 127.0.0.1:123, stratum 2|offset=2.000000s;60;120; delay=0.100000s"
        );
    }

    #[test]
    fn nothing_usable() {
        let silent = evaluate(vec![server(vec![], vec![], true)], 60.0, 120.0, true);
        assert_eq!(silent.status, Status::Critical);
        assert!(
            silent
                .nagios_line()
                .starts_with("CLOCK CRITICAL: No response")
        );
        let unsync = vec![server(
            vec![],
            vec![Rejected {
                reason: "unsynchronized",
                detail: "x".into(),
            }],
            false,
        )];
        assert_eq!(
            evaluate(unsync.clone(), 60.0, 120.0, false).status,
            Status::Critical
        );
        assert_eq!(evaluate(unsync, 60.0, 120.0, true).status, Status::Unknown);
    }

    #[test]
    fn servers_from_a_freebsd_ntp_conf() {
        let text = "pool 0.freebsd.pool.ntp.org iburst\nserver -4 time.example.org\nserver 127.127.1.0\n#server old\n  peer 10.0.0.2\n";
        assert_eq!(
            servers_from_ntp_conf(text),
            ["0.freebsd.pool.ntp.org", "time.example.org", "10.0.0.2"]
        );
    }
}
