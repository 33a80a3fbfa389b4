//! The verdict of an offset check, and its three output forms: one Nagios
//! plugin line, JSON, and a node_exporter text-file collector.

use serde::Serialize;

use crate::conventions::escape_text;
use crate::exposition::Exposition;
use crate::query::{MAX_ROOT_DISTANCE, ServerResult};
pub use crate::range::Range;
pub use crate::status::Status;

/// `-w` and `-c`: Nagios ranges on the absolute offset, as check_ntp_time
/// applies them (`get_status(fabs(offset), ...)`: CRITICAL first).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Thresholds {
    pub warning: Range,
    pub critical: Range,
}

impl Thresholds {
    /// check_ntp_time's defaults, `-w 60 -c 120`.
    pub fn default_ntp_time() -> Thresholds {
        Thresholds {
            warning: Range::up_to(60.0),
            critical: Range::up_to(120.0),
        }
    }
}

pub fn classify(offset: f64, t: &Thresholds) -> Status {
    let a = offset.abs();
    if t.critical.alerts(a) {
        Status::Critical
    } else if t.warning.alerts(a) {
        Status::Warning
    } else {
        Status::Ok
    }
}

/// Text from the network or a file, made safe for the Nagios line: control
/// characters escaped (`escape_text`), and `|`, which would start perfdata.
pub fn shown(text: &str) -> String {
    escape_text(text).replace('|', "\\x7c")
}

/// The largest set of intervals that share a point (Marzullo's algorithm,
/// the core of ntpd's clock selection): their indices and the common part.
/// Touching intervals count as overlapping.
pub fn largest_clique(intervals: &[(f64, f64)]) -> (Vec<usize>, f64, f64) {
    // Starts sort before ends at the same value, so touching ends count.
    let mut edges: Vec<(f64, u8)> = Vec::with_capacity(intervals.len() * 2);
    for &(low, high) in intervals {
        edges.push((low, 0));
        edges.push((high, 1));
    }
    edges.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let (mut count, mut best, mut low, mut high) = (0usize, 0usize, 0.0, 0.0);
    for (i, &(value, kind)) in edges.iter().enumerate() {
        if kind == 0 {
            count += 1;
            if count > best {
                best = count;
                low = value;
                // The region lasts until the next edge (an end, or a start
                // that will raise the count again).
                high = edges.get(i + 1).map_or(value, |e| e.0);
            }
        } else {
            count -= 1;
        }
    }
    let members = intervals
        .iter()
        .enumerate()
        .filter(|(_, (l, h))| *l <= low && *h >= high)
        .map(|(i, _)| i)
        .collect();
    (members, low, high)
}

/// A server, as the selection saw it.
#[derive(Clone, Debug, Serialize)]
pub struct ServerView {
    #[serde(flatten)]
    pub result: ServerResult,
    /// `offset ± (distance + jitter)` of the best sample.
    pub interval: Option<[f64; 2]>,
    /// In the majority (or, without one, among the servers considered).
    pub selected: bool,
    /// This server's entry in the report's `left_out`.
    #[serde(skip)]
    pub left_out: Option<usize>,
    /// This server decided the status.
    #[serde(skip)]
    pub decided: bool,
}

/// A server that did not take part in the verdict, and why.
#[derive(Clone, Debug, Serialize)]
pub struct LeftOut {
    pub server: String,
    /// `falseticker`, `no-reply`, `error`, `kiss`, or the reason of its last
    /// rejected reply (`unsynchronized`, `origin`, ...).
    pub reason: String,
    pub detail: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub status: Status,
    /// The one-line summary (without the perfdata), safe to print.
    pub message: String,
    pub offset: Option<f64>,
    pub delay: Option<f64>,
    /// The server that decided the status.
    pub server: Option<String>,
    pub stratum: Option<u8>,
    pub warning: Range,
    pub critical: Range,
    /// Servers with a usable sample.
    pub usable: usize,
    /// Servers in the largest group whose intervals intersect.
    pub agreeing: usize,
    /// True when that group is more than half of the usable servers.
    pub majority: bool,
    /// The part every interval of that group shares.
    pub common_interval: Option<[f64; 2]>,
    pub left_out: Vec<LeftOut>,
    pub servers: Vec<ServerView>,
}

/// Why a server without a usable sample is left out.
fn why_unusable(s: &ServerResult) -> LeftOut {
    let (reason, detail) = if let Some(kiss) = &s.kiss {
        ("kiss".to_string(), format!("Kiss-o'-Death {kiss}"))
    } else if let Some(r) = s.rejected.last() {
        (r.reason.to_string(), r.detail.clone())
    } else if let Some(e) = &s.error {
        ("error".to_string(), e.clone())
    } else if s.silent {
        ("no-reply".to_string(), "no reply within -t".to_string())
    } else {
        (
            "root-distance".to_string(),
            format!(
                "error bound {:.3} s (with the jitter of its samples) is over {MAX_ROOT_DISTANCE} s",
                s.best().map_or(f64::NAN, |b| b.distance) + s.jitter()
            ),
        )
    };
    LeftOut {
        server: s.server.clone(),
        reason,
        detail,
    }
}

/// At most this many servers are named in the status line; the rest are
/// counted (20,000 servers must not make a 2 MB line).
const NAMED_IN_LINE: usize = 5;

/// Which servers take part in the verdict.
struct Selection {
    /// Each server's `offset ± error bound`, if it has a usable sample.
    intervals: Vec<Option<(f64, f64)>>,
    /// How many servers have one.
    usable: usize,
    /// How many are in the largest group whose intervals intersect.
    agreeing: usize,
    /// That group is more than half of the usable servers.
    majority: bool,
    /// The part every interval of that group shares.
    common: (f64, f64),
    /// In the majority (or, without one, among the servers considered).
    selected: Vec<bool>,
    left_out: Vec<LeftOut>,
    /// Each server's entry in `left_out`.
    left_out_at: Vec<Option<usize>>,
}

/// Marzullo over the usable servers: the largest agreeing group, and
/// every other server left out with why (falseticker, or unusable).
fn select(servers: &[ServerResult]) -> Selection {
    let intervals: Vec<Option<(f64, f64)>> = servers.iter().map(|s| s.interval()).collect();
    let usable: Vec<usize> = (0..servers.len())
        .filter(|&i| intervals[i].is_some())
        .collect();
    let usable_intervals: Vec<(f64, f64)> = usable.iter().filter_map(|&i| intervals[i]).collect();
    let (clique, low, high) = largest_clique(&usable_intervals);
    let clique: Vec<usize> = clique.into_iter().map(|k| usable[k]).collect();
    let majority = !usable.is_empty() && clique.len() * 2 > usable.len();
    let mut in_clique = vec![false; servers.len()];
    for &i in &clique {
        in_clique[i] = true;
    }

    let mut selected = vec![false; servers.len()];
    let mut left_out = Vec::new();
    let mut left_out_at = vec![None; servers.len()];
    let common = format!("[{low:.6}, {high:.6}]");
    for (i, s) in servers.iter().enumerate() {
        if intervals[i].is_none() || majority && !in_clique[i] {
            left_out_at[i] = Some(left_out.len());
        }
        match intervals[i] {
            None => left_out.push(why_unusable(s)),
            Some(_) if !majority || in_clique[i] => selected[i] = true,
            Some((l, h)) => left_out.push(LeftOut {
                server: s.server.clone(),
                reason: "falseticker".into(),
                detail: format!(
                    "offset {:.6} ± {:.6} s does not meet the majority's {common} ({} of {} servers)",
                    (l + h) / 2.0,
                    (h - l) / 2.0,
                    clique.len(),
                    usable.len()
                ),
            }),
        }
    }
    Selection {
        intervals,
        usable: usable.len(),
        agreeing: clique.len(),
        majority,
        common: (low, high),
        selected,
        left_out,
        left_out_at,
    }
}

/// The server that decides: the worst status among the selected servers,
/// then the narrowest interval (within a majority) or the largest offset
/// (without).
fn decider(servers: &[ServerResult], sel: &Selection, t: &Thresholds) -> Option<usize> {
    (0..servers.len())
        .filter(|&i| sel.selected[i])
        .max_by(|&a, &b| {
            let (sa, sb) = (servers[a].best().unwrap(), servers[b].best().unwrap());
            let width = |i: usize| sel.intervals[i].map_or(f64::INFINITY, |(l, h)| h - l);
            classify(sa.offset, t)
                .cmp(&classify(sb.offset, t))
                .then(if sel.majority {
                    width(b).total_cmp(&width(a))
                } else {
                    sa.offset.abs().total_cmp(&sb.offset.abs())
                })
        })
}

/// Selection as ntpd does it in spirit: each server's interval is its offset
/// ± its error bound; the largest group of intersecting intervals is the
/// majority if it has more than half of the usable servers, and the others
/// are falsetickers, left out.  Within the majority the server whose offset
/// gives the worst status decides (so no server hides another that is
/// still consistent with it); without a majority the worst server decides
/// and the status is at least WARNING.
pub fn evaluate(servers: Vec<ServerResult>, t: &Thresholds, quiet: bool) -> Report {
    let sel = select(&servers);
    let decider = decider(&servers, &sel, t);
    let (low, high) = sel.common;
    let mut report = Report {
        status: Status::Unknown,
        message: String::new(),
        offset: None,
        delay: None,
        server: None,
        stratum: None,
        warning: t.warning,
        critical: t.critical,
        usable: sel.usable,
        agreeing: if sel.majority { sel.agreeing } else { 0 },
        majority: sel.majority,
        common_interval: (sel.majority && sel.usable > 1).then_some([low, high]),
        left_out: Vec::new(),
        servers: Vec::new(),
    };
    match decider {
        Some(i) => decided_by(&mut report, &servers[i], &sel, t),
        None => undecided(&mut report, &servers, &sel, quiet),
    }
    let Selection {
        intervals,
        selected,
        left_out,
        left_out_at,
        ..
    } = sel;
    report.left_out = left_out;
    report.servers = servers
        .into_iter()
        .zip(intervals)
        .enumerate()
        .map(|(i, (result, interval))| ServerView {
            result,
            interval: interval.map(|(l, h)| [l, h]),
            selected: selected[i],
            left_out: left_out_at[i],
            decided: decider == Some(i),
        })
        .collect();
    report
}

/// The verdict of the deciding server, and the summary: its offset, how
/// many agree, and who was left out.
fn decided_by(report: &mut Report, server: &ServerResult, sel: &Selection, t: &Thresholds) {
    let sample = server.best().unwrap();
    report.status = classify(sample.offset, t);
    let mut message = format!(
        "Offset {:.6} secs, delay {:.6} secs, server {}, stratum {}",
        sample.offset,
        sample.delay,
        shown(&server.server),
        sample.stratum
    );
    if !sel.majority {
        report.status = report.status.max(Status::Warning);
        message.push_str(&format!(
            "; servers disagree: no majority ({} servers, at most {} agree)",
            sel.usable, sel.agreeing
        ));
    } else if sel.usable > 1 {
        message.push_str(&format!(
            "; {} of {} servers agree",
            sel.agreeing, sel.usable
        ));
    }
    if !sel.left_out.is_empty() {
        message.push_str(&format!("; left out: {}", name_left_out(&sel.left_out)));
    }
    report.message = message;
    report.offset = Some(sample.offset);
    report.delay = Some(sample.delay);
    report.server = Some(server.server.clone());
    report.stratum = Some(sample.stratum);
}

/// No server is usable: CRITICAL when none answered (naming errors), else
/// CRITICAL or, with -q, UNKNOWN, naming why the answers were no use.
fn undecided(report: &mut Report, servers: &[ServerResult], sel: &Selection, quiet: bool) {
    let answered = servers.iter().any(|s| !s.silent);
    if !answered {
        report.status = Status::Critical;
        let errors: Vec<&LeftOut> = sel
            .left_out
            .iter()
            .filter(|l| l.reason == "error")
            .collect();
        report.message = if errors.is_empty() {
            "No response from NTP server".into()
        } else {
            format!("No response from NTP server ({})", name_some(&errors))
        };
    } else {
        report.status = if quiet {
            Status::Unknown
        } else {
            Status::Critical
        };
        let answering: Vec<&LeftOut> = sel
            .left_out
            .iter()
            .zip(servers.iter().filter(|s| s.interval().is_none()))
            .filter(|(_, s)| !s.silent)
            .map(|(l, _)| l)
            .collect();
        report.message = format!(
            "Offset unknown: no usable reply ({})",
            name_some(&answering)
        );
    }
}

/// `A (falseticker), B (no-reply)`, at most [`NAMED_IN_LINE`] named.
fn name_left_out(left_out: &[LeftOut]) -> String {
    let mut names: Vec<String> = left_out
        .iter()
        .take(NAMED_IN_LINE)
        .map(|l| format!("{} ({})", shown(&l.server), shown(&l.reason)))
        .collect();
    if left_out.len() > NAMED_IN_LINE {
        names.push(format!("and {} more", left_out.len() - NAMED_IN_LINE));
    }
    names.join(", ")
}

/// `A: detail; B: detail`, at most [`NAMED_IN_LINE`] named.
fn name_some(left_out: &[&LeftOut]) -> String {
    let mut names: Vec<String> = left_out
        .iter()
        .take(NAMED_IN_LINE)
        .map(|l| format!("{}: {}", shown(&l.server), l.detail))
        .collect();
    if left_out.len() > NAMED_IN_LINE {
        names.push(format!("and {} more", left_out.len() - NAMED_IN_LINE));
    }
    names.join("; ")
}

/// Nothing but printable text and no `|` in a status line, whatever a
/// message was built from (idempotent on text that is already safe).
fn line_safe(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() || c == '|' {
            out.push_str(&format!("\\x{:02x}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
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
        format!(
            "CLOCK {}: {}{perf}",
            self.status.as_str(),
            line_safe(&self.message)
        )
    }

    /// One line per server, after the status line (Nagios' long output):
    /// what it said and whether it took part.
    pub fn server_lines(&self) -> Vec<String> {
        self.servers
            .iter()
            .map(|v| {
                let name = shown(&v.result.server);
                let measured = match (v.result.best(), v.interval) {
                    (Some(s), Some([l, h])) => format!(
                        "offset {:.6} ± {:.6} secs, delay {:.6} secs, stratum {}",
                        s.offset,
                        (h - l) / 2.0,
                        s.delay,
                        s.stratum
                    ),
                    _ => "no usable reply".to_string(),
                };
                let role = if v.decided {
                    "decided".to_string()
                } else if v.selected {
                    "selected".to_string()
                } else {
                    match v.left_out.and_then(|k| self.left_out.get(k)) {
                        Some(l) => format!("left out, {}: {}", l.reason, l.detail),
                        None => "left out".to_string(),
                    }
                };
                line_safe(&format!("server {name}: {measured}; {role}"))
            })
            .collect()
    }

    /// A node_exporter text-file collector (`now` is the time of the run).
    pub fn prometheus(&self, now: i64) -> String {
        let mut e = Exposition::new();
        e.gauge(
            "clockcheck_status",
            "Nagios status of the last check: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.",
            f64::from(self.status.code()),
        );
        if let (Some(o), Some(d), Some(server), Some(st)) =
            (self.offset, self.delay, &self.server, self.stratum)
        {
            let labels = || vec![("server", server.as_str())];
            e.family(
                "clockcheck_offset_seconds",
                "Offset of the server that decided the status from the local clock (positive: the local clock is behind).",
                "gauge",
                &[(labels(), o)],
            );
            e.family(
                "clockcheck_delay_seconds",
                "Round-trip delay to the server that decided the status.",
                "gauge",
                &[(labels(), d)],
            );
            e.family(
                "clockcheck_stratum",
                "Stratum of the server that decided the status.",
                "gauge",
                &[(labels(), f64::from(st))],
            );
        }
        let per_server: Vec<(Vec<(&str, &str)>, f64)> = self
            .servers
            .iter()
            .filter_map(|v| {
                let b = v.result.best()?;
                Some((vec![("server", v.result.server.as_str())], b.offset))
            })
            .collect();
        e.family(
            "clockcheck_server_offset_seconds",
            "Offset measured from each server with a usable reply.",
            "gauge",
            &per_server,
        );
        let selected: Vec<(Vec<(&str, &str)>, f64)> = self
            .servers
            .iter()
            .map(|v| {
                (
                    vec![("server", v.result.server.as_str())],
                    f64::from(u8::from(v.selected)),
                )
            })
            .collect();
        e.family(
            "clockcheck_server_selected",
            "1 when the server took part in the verdict, 0 when it was left out (falseticker, no usable reply).",
            "gauge",
            &selected,
        );
        e.gauge(
            "clockcheck_servers_usable",
            "Servers with a usable reply.",
            self.usable as f64,
        );
        e.gauge(
            "clockcheck_servers_agreeing",
            "Servers in the majority whose offset intervals intersect (0 without a majority).",
            self.agreeing as f64,
        );
        e.gauge(
            "clockcheck_last_run_timestamp_seconds",
            "When the check ran (Unix time).",
            now as f64,
        );
        e.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::{Rejected, Sample};

    fn server(samples: Vec<Sample>, rejected: Vec<Rejected>, silent: bool) -> ServerResult {
        named("127.0.0.1:123", samples, rejected, silent)
    }

    fn named(
        name: &str,
        samples: Vec<Sample>,
        rejected: Vec<Rejected>,
        silent: bool,
    ) -> ServerResult {
        ServerResult {
            server: name.into(),
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
            distance: 0.01 + delay / 2.0,
        }
    }

    fn defaults() -> Thresholds {
        Thresholds::default_ntp_time()
    }

    fn ranges(w: &str, c: &str) -> Thresholds {
        Thresholds {
            warning: Range::parse(w).unwrap(),
            critical: Range::parse(c).unwrap(),
        }
    }

    #[test]
    fn thresholds_on_the_absolute_offset() {
        assert_eq!(classify(-30.0, &defaults()), Status::Ok);
        assert_eq!(classify(90.0, &defaults()), Status::Warning);
        assert_eq!(classify(-200.0, &defaults()), Status::Critical);
        assert_eq!(
            classify(-60.0, &defaults()),
            Status::Ok,
            "the end is inside"
        );
        // `@` ranges alert inside: here, offsets of 1..2 s are CRITICAL.
        assert_eq!(classify(-1.5, &ranges("100", "@1:2")), Status::Critical);
        assert_eq!(classify(3.0, &ranges("100", "@1:2")), Status::Ok);
    }

    #[test]
    fn least_delay_wins_and_the_line_has_perfdata() {
        let r = evaluate(
            vec![server(
                vec![sample(1.0, 0.5), sample(2.0, 0.1)],
                vec![],
                false,
            )],
            &defaults(),
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
        let silent = evaluate(vec![server(vec![], vec![], true)], &defaults(), true);
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
            evaluate(unsync.clone(), &defaults(), false).status,
            Status::Critical
        );
        assert_eq!(evaluate(unsync, &defaults(), true).status, Status::Unknown);
    }

    #[test]
    fn marzullo_finds_the_largest_group() {
        let (members, low, high) =
            largest_clique(&[(-300.1, -299.9), (0.0, 0.001), (-300.05, -299.95)]);
        assert_eq!(members, [0, 2]);
        assert_eq!((low, high), (-300.05, -299.95));
        // Touching intervals share their end point.
        assert_eq!(largest_clique(&[(0.0, 1.0), (1.0, 2.0)]).0, [0, 1]);
        assert_eq!(largest_clique(&[(0.0, 1.0), (2.0, 3.0)]).0, [0]);
        assert_eq!(largest_clique(&[]).0, Vec::<usize>::new());
    }

    #[test]
    fn a_lying_stratum_1_is_outvoted() {
        let liar = ServerResult {
            samples: vec![Sample {
                stratum: 1,
                ..sample(0.0, 0.001)
            }],
            ..named("liar", vec![], vec![], false)
        };
        let honest = |n: &str, o: f64| named(n, vec![sample(o, 0.002)], vec![], false);
        let r = evaluate(
            vec![liar, honest("a", -300.0), honest("b", -300.002)],
            &defaults(),
            false,
        );
        assert_eq!(r.status, Status::Critical, "{}", r.nagios_line());
        assert!(r.majority && r.agreeing == 2 && r.usable == 3);
        assert_eq!(r.left_out.len(), 1);
        assert_eq!(
            (r.left_out[0].server.as_str(), r.left_out[0].reason.as_str()),
            ("liar", "falseticker")
        );
        assert!(
            r.nagios_line().contains("left out: liar (falseticker)"),
            "{}",
            r.nagios_line()
        );
    }

    #[test]
    fn without_a_majority_at_least_warning_and_the_worst_decides() {
        let r = evaluate(
            vec![
                named("near", vec![sample(0.0, 0.001)], vec![], false),
                named("far", vec![sample(-30.0, 0.001)], vec![], false),
            ],
            &defaults(),
            false,
        );
        assert_eq!(r.status, Status::Warning);
        assert!(!r.majority);
        assert_eq!(r.server.as_deref(), Some("far"));
        assert!(r.message.contains("servers disagree"), "{}", r.message);
        let r = evaluate(
            vec![
                named("near", vec![sample(0.0, 0.001)], vec![], false),
                named("far", vec![sample(-300.0, 0.001)], vec![], false),
            ],
            &defaults(),
            false,
        );
        assert_eq!(r.status, Status::Critical);
    }

    #[test]
    fn within_the_majority_no_server_hides_a_worse_one() {
        // Both agree within their bounds (59.5 ± 1 and 60.5 ± 1), but only
        // one is over -w 60: it decides.
        let wide = |n: &str, o: f64| {
            named(
                n,
                vec![Sample {
                    distance: 1.0,
                    ..sample(o, 0.001)
                }],
                vec![],
                false,
            )
        };
        let r = evaluate(vec![wide("a", 59.5), wide("b", 60.5)], &defaults(), false);
        assert!(r.majority);
        assert_eq!(
            (r.status, r.server.as_deref()),
            (Status::Warning, Some("b"))
        );
    }

    #[test]
    fn a_server_whose_samples_scatter_is_left_out() {
        let scattered = named(
            "jittery",
            vec![sample(0.0, 0.001), sample(4.0, 0.002), sample(-4.0, 0.002)],
            vec![],
            false,
        );
        let r = evaluate(
            vec![
                scattered,
                named("steady", vec![sample(-300.0, 0.001)], vec![], false),
            ],
            &defaults(),
            false,
        );
        assert_eq!(r.usable, 1);
        assert_eq!(r.left_out[0].reason, "root-distance");
        assert_eq!(
            (r.status, r.server.as_deref()),
            (Status::Critical, Some("steady"))
        );
    }

    #[test]
    fn names_from_the_network_cannot_forge_the_line() {
        let r = evaluate(
            vec![named(
                "x|offset=0s;1;2;\n\u{1b}[2J",
                vec![sample(0.5, 0.01)],
                vec![],
                false,
            )],
            &defaults(),
            false,
        );
        let line = r.nagios_line();
        assert_eq!(line.matches('|').count(), 1, "{line}");
        assert!(!line.contains('\n') && !line.contains('\u{1b}'), "{line}");
        assert!(line.contains("x\\x7coffset=0s;1;2;\\n\\e[2J"), "{line}");
    }

    #[test]
    fn prometheus_families_appear_once() {
        let r = evaluate(
            vec![
                named("a", vec![sample(0.5, 0.01)], vec![], false),
                named("b", vec![sample(0.5, 0.01)], vec![], false),
                named("c\"", vec![], vec![], true),
            ],
            &defaults(),
            false,
        );
        let text = r.prometheus(1_800_000_000);
        for family in [
            "clockcheck_server_selected",
            "clockcheck_server_offset_seconds",
        ] {
            assert_eq!(
                text.matches(&format!("# TYPE {family} ")).count(),
                1,
                "{text}"
            );
        }
        assert!(
            text.contains("clockcheck_server_selected{server=\"c\\\"\"} 0\n"),
            "{text}"
        );
    }

    proptest::proptest! {
        /// Marzullo's sweep finds as large a group as checking every
        /// interval end by brute force, and every member holds the common part.
        #[test]
        fn the_clique_is_the_largest(raw in proptest::collection::vec((-50i32..50, 0i32..20), 0..12)) {
            let intervals: Vec<(f64, f64)> = raw
                .iter()
                .map(|&(o, w)| (f64::from(o - w), f64::from(o + w)))
                .collect();
            let (members, low, high) = largest_clique(&intervals);
            let best = intervals
                .iter()
                .flat_map(|&(l, h)| [l, h])
                .map(|p| intervals.iter().filter(|&&(l, h)| l <= p && p <= h).count())
                .max()
                .unwrap_or(0);
            proptest::prop_assert_eq!(members.len(), best);
            proptest::prop_assert!(low <= high || members.is_empty());
            for &m in &members {
                proptest::prop_assert!(intervals[m].0 <= low && high <= intervals[m].1);
            }
        }

        /// Any mix of servers gives a verdict without panicking; with a
        /// majority the decider is in it, and no falseticker decides.
        #[test]
        fn any_servers_give_a_verdict(raw in proptest::collection::vec((-400i32..400, 0u8..3), 0..10)) {
            let servers: Vec<ServerResult> = raw
                .iter()
                .enumerate()
                .map(|(i, &(o, kind))| match kind {
                    0 => named(&i.to_string(), vec![], vec![], true),
                    _ => named(&i.to_string(), vec![sample(f64::from(o), 0.001)], vec![], false),
                })
                .collect();
            let r = evaluate(servers, &defaults(), false);
            let line = r.nagios_line();
            proptest::prop_assert!(line.starts_with("CLOCK "));
            if let Some(decider) = r.servers.iter().find(|v| v.decided) {
                proptest::prop_assert!(decider.selected);
                if !r.majority {
                    proptest::prop_assert!(r.status >= Status::Warning);
                }
            }
            proptest::prop_assert_eq!(
                r.left_out.len(),
                r.servers.iter().filter(|v| !v.selected).count()
            );
        }
    }
}
