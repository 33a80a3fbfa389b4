//! An SNTP client (RFC 4330 / RFC 5905) that trusts a reply only after
//! checking it: mode, version, the origin echo of our random nonce, a
//! non-zero transmit time, leap and stratum, root distance, delay.
//! Kiss-o'-Death codes are honoured: DENY and RSTR stop the queries to that
//! server, RATE backs off.

use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::packet::{self, LEAP_ALARM, MODE_SERVER, Packet, Timestamp};

/// The clocks, passed in so tests and fakes can drive them.
pub trait Clock: Sync {
    /// CLOCK_REALTIME as (seconds, nanoseconds) since the Unix epoch.
    fn realtime(&self) -> (i64, u32);
    /// A monotonic clock, for round trips that a wall-clock jump must not spoil.
    fn monotonic(&self) -> Duration;
}

pub struct SystemClock {
    start: Instant,
}

impl SystemClock {
    pub fn new() -> SystemClock {
        SystemClock {
            start: Instant::now(),
        }
    }
}

impl Default for SystemClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for SystemClock {
    fn realtime(&self) -> (i64, u32) {
        match std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
            Ok(d) => (d.as_secs() as i64, d.subsec_nanos()),
            Err(e) => {
                let d = e.duration();
                let nanos = d.subsec_nanos();
                if nanos == 0 {
                    (-(d.as_secs() as i64), 0)
                } else {
                    (-(d.as_secs() as i64) - 1, 1_000_000_000 - nanos)
                }
            }
        }
    }
    fn monotonic(&self) -> Duration {
        self.start.elapsed()
    }
}

/// How many rejected replies are kept for the report.
pub const MAX_REJECTED_KEPT: usize = 64;

/// Largest root distance accepted (ntpd's default `tos maxdist`).
pub const MAX_ROOT_DISTANCE: f64 = 1.5;

/// ntpd's floor for a root distance (MINDISPERSE): no interval is narrower.
pub const MIN_DISTANCE: f64 = 0.001;

/// ntpd's frequency tolerance (PHI, 15 ppm): how fast an error bound grows.
pub const PHI: f64 = 15e-6;

/// Our own clock reading precision (the monotonic clock and the system
/// clock are read to the nanosecond; 1 µs is a safe bound).
pub const LOCAL_PRECISION: f64 = 1e-6;

/// One usable measurement.
#[derive(Clone, Debug, Serialize)]
pub struct Sample {
    pub offset: f64,
    pub delay: f64,
    pub stratum: u8,
    pub leap: u8,
    /// What the server claims: root delay / 2 + root dispersion.
    pub root_distance: f64,
    /// The error bound of this sample, as ntpd's root distance:
    /// (delay + root delay) / 2 + root dispersion + the dispersion of the
    /// measurement (both precisions, PHI over the round trip), at least
    /// [`MIN_DISTANCE`].  The true offset lies within `offset ± distance`
    /// if the server is honest.
    pub distance: f64,
}

/// Why a reply was not used.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Rejected {
    pub reason: &'static str,
    pub detail: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct ServerResult {
    pub server: String,
    pub samples: Vec<Sample>,
    pub rejected: Vec<Rejected>,
    /// A Kiss-o'-Death code the server sent, if any.
    pub kiss: Option<String>,
    /// A socket error (unreachable, refused), if any.
    pub error: Option<String>,
    /// True when the server never answered in time.
    pub silent: bool,
    /// Bad replies past the ones kept in `rejected` (a flood).
    pub rejected_more: u64,
}

impl ServerResult {
    /// A result with nothing measured, for a server that was never asked.
    pub fn failed(server: String, error: String) -> ServerResult {
        ServerResult {
            server,
            samples: Vec::new(),
            rejected: Vec::new(),
            kiss: None,
            error: Some(error),
            silent: true,
            rejected_more: 0,
        }
    }

    /// The sample with the least delay.
    pub fn best(&self) -> Option<&Sample> {
        self.samples
            .iter()
            .min_by(|a, b| a.delay.total_cmp(&b.delay))
    }

    /// ntpd's peer jitter: the RMS of the other samples' offsets from the
    /// best one's (0 with one sample).
    pub fn jitter(&self) -> f64 {
        let Some(best) = self.best() else {
            return 0.0;
        };
        if self.samples.len() < 2 {
            return 0.0;
        }
        let sum: f64 = self
            .samples
            .iter()
            .map(|s| (s.offset - best.offset).powi(2))
            .sum();
        (sum / (self.samples.len() - 1) as f64).sqrt()
    }

    /// The offset interval of this server, `offset ± (distance + jitter)`,
    /// from its best sample; `None` without a usable sample, or when the
    /// bound is over ntpd's `maxdist` (samples that scatter by seconds must
    /// not make an interval that agrees with everything).
    pub fn interval(&self) -> Option<(f64, f64)> {
        let best = self.best()?;
        let half = best.distance + self.jitter();
        (half <= MAX_ROOT_DISTANCE).then_some((best.offset - half, best.offset + half))
    }
}

fn reject(reason: &'static str, detail: String) -> Rejected {
    Rejected { reason, detail }
}

/// Checks a reply to the request whose transmit field was `nonce`.
/// `Ok` gives the server's receive and transmit stamps.
pub fn validate(reply: &[u8], nonce: Timestamp) -> Result<Packet, Rejected> {
    let Some(p) = Packet::decode(reply) else {
        return Err(reject(
            "short",
            format!(
                "{} bytes, an NTP reply has at least {}",
                reply.len(),
                packet::LEN
            ),
        ));
    };
    if p.mode != MODE_SERVER {
        return Err(reject("mode", format!("mode {}, not 4 (server)", p.mode)));
    }
    if !(3..=4).contains(&p.version) {
        return Err(reject(
            "version",
            format!("version {}, not 3 or 4", p.version),
        ));
    }
    if p.origin != nonce {
        return Err(reject(
            "origin",
            "origin timestamp does not echo our request (stale, duplicate or spoofed reply)".into(),
        ));
    }
    if p.stratum == 0 {
        return Err(reject("kiss", format!("Kiss-o'-Death {}", p.kiss_code())));
    }
    if p.leap == LEAP_ALARM || p.stratum > 15 {
        return Err(reject(
            "unsynchronized",
            format!(
                "server not synchronised (leap {}, stratum {})",
                p.leap, p.stratum
            ),
        ));
    }
    if p.transmit.is_zero() || p.receive.is_zero() {
        return Err(reject(
            "zero-timestamp",
            "zero receive or transmit timestamp".into(),
        ));
    }
    if p.root_distance() > MAX_ROOT_DISTANCE {
        return Err(reject(
            "root-distance",
            format!(
                "root distance {:.3} s is over {MAX_ROOT_DISTANCE} s",
                p.root_distance()
            ),
        ));
    }
    Ok(p)
}

/// Keeps the first [`MAX_REJECTED_KEPT`] rejections, counts the rest.
fn push_rejected(result: &mut ServerResult, r: Rejected) {
    if result.rejected.len() < MAX_REJECTED_KEPT {
        result.rejected.push(r);
    } else {
        result.rejected_more += 1;
    }
}

fn random_nonce() -> Timestamp {
    let mut bytes = [0u8; 8];
    if getrandom::fill(&mut bytes).is_err() {
        // No entropy source: fall back to std's per-process random hasher keys.
        use std::hash::{BuildHasher, Hasher};
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(Instant::now().elapsed().as_nanos() as u64);
        bytes = h.finish().to_be_bytes();
    }
    Timestamp(u64::from_be_bytes(bytes))
}

/// Queries one server for up to `samples` good replies before `deadline`.
pub fn query(
    server: SocketAddr,
    samples: usize,
    deadline: Instant,
    clock: &dyn Clock,
) -> ServerResult {
    let mut result = ServerResult {
        server: server.to_string(),
        samples: Vec::new(),
        rejected: Vec::new(),
        kiss: None,
        error: None,
        silent: true,
        rejected_more: 0,
    };
    let bind: SocketAddr = if server.is_ipv6() {
        "[::]:0".parse().unwrap()
    } else {
        "0.0.0.0:0".parse().unwrap()
    };
    // A fresh socket (and so a random source port) per run; connect() makes
    // the kernel drop datagrams from any other address or port.
    let socket = match UdpSocket::bind(bind).and_then(|s| s.connect(server).map(|()| s)) {
        Ok(s) => s,
        Err(e) => {
            result.error = Some(e.to_string());
            return result;
        }
    };
    let mut buf = [0u8; 1024];
    'requests: while result.samples.len() < samples {
        let Some(left) = deadline
            .checked_duration_since(Instant::now())
            .filter(|d| !d.is_zero())
        else {
            break;
        };
        let nonce = random_nonce();
        let (secs, nanos) = clock.realtime();
        let t1 = Timestamp::from_unix(secs, nanos);
        let m1 = clock.monotonic();
        if let Err(e) = socket.send(&Packet::request(nonce).encode()) {
            result.error = Some(e.to_string());
            break;
        }
        // Wait for this request's reply; a silent try is sent again after 1 s.
        let try_until = Instant::now() + left.min(Duration::from_secs(1));
        loop {
            let Some(wait) = try_until
                .checked_duration_since(Instant::now())
                .filter(|d| !d.is_zero())
            else {
                continue 'requests;
            };
            let _ = socket.set_read_timeout(Some(wait));
            let n = match socket.recv(&mut buf) {
                Ok(n) => n,
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    continue 'requests;
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    // ICMP port unreachable and the like.
                    result.error = Some(e.to_string());
                    break 'requests;
                }
            };
            let m4 = clock.monotonic();
            result.silent = false;
            match validate(&buf[..n], nonce) {
                Err(r) => {
                    if r.reason == "kiss" {
                        // DENY and RSTR: never ask again; RATE: back off, so
                        // no more requests in this run.  Other codes carry no
                        // time either; stop asking this server.
                        result.kiss = Packet::decode(&buf[..n]).map(|p| p.kiss_code());
                        result.rejected.push(r);
                        break 'requests;
                    }
                    // A flood of bad replies must not hide the good one: keep
                    // reading until the deadline, but keep only the first ones.
                    push_rejected(&mut result, r);
                }
                Ok(p) => {
                    let t4 = t1.plus((m4 - m1).as_secs_f64());
                    let (offset, delay) = packet::offset_delay(t1, p.receive, p.transmit, t4);
                    if delay < 0.0 {
                        push_rejected(
                            &mut result,
                            reject(
                                "negative-delay",
                                format!("round-trip delay {delay:.6} s is negative"),
                            ),
                        );
                    } else {
                        let dispersion = p.precision_seconds() + LOCAL_PRECISION + PHI * delay;
                        let distance = ((delay + packet::short(p.root_delay)) / 2.0
                            + packet::short(p.root_dispersion)
                            + dispersion)
                            .max(MIN_DISTANCE);
                        if distance.is_nan() || distance > MAX_ROOT_DISTANCE {
                            // ntpd's maxdist test on the whole error bound:
                            // a claimed precision of 2^127 s must not make an
                            // interval that agrees with everything.
                            push_rejected(
                                &mut result,
                                reject(
                                    "root-distance",
                                    format!(
                                        "error bound {distance:.3} s (delay, precision, root distance) is over {MAX_ROOT_DISTANCE} s"
                                    ),
                                ),
                            );
                            continue 'requests;
                        }
                        result.samples.push(Sample {
                            offset,
                            delay,
                            stratum: p.stratum,
                            leap: p.leap,
                            root_distance: p.root_distance(),
                            distance,
                        });
                    }
                    continue 'requests;
                }
            }
        }
    }
    result
}

/// Servers asked at once, at most (each worker holds one socket).  Kept
/// small: each thread may get its own malloc arena (64 MiB of address
/// space in glibc), and with 64 of them a run under `ulimit -v 512M` now and
/// then ran out of address space, where a new thread dies in std's start-up
/// beyond any error handling (SIGABRT, no status line).
pub const QUERY_WORKERS: usize = 16;

/// Queries every address with a bounded pool of workers.  When there are
/// more servers than workers, each server gets a share of the time, at
/// least 1 s (or all of it): a silent server cannot hold a worker for the
/// whole run while others wait.  Servers whose turn never comes before the
/// deadline are reported as not asked.
pub fn query_all(
    servers: &[SocketAddr],
    samples: usize,
    deadline: Instant,
    clock: &dyn Clock,
) -> Vec<ServerResult> {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let start = Instant::now();
    let total = deadline.saturating_duration_since(start);
    let workers = QUERY_WORKERS.min(servers.len());
    let share = if servers.len() <= workers {
        total
    } else {
        total
            .mul_f64(workers as f64 / servers.len() as f64)
            .max(total.min(Duration::from_secs(1)))
    };
    let next = AtomicUsize::new(0);
    let results: Vec<Mutex<Option<ServerResult>>> =
        servers.iter().map(|_| Mutex::new(None)).collect();
    let work = || {
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(&server) = servers.get(i) else {
                return;
            };
            let now = Instant::now();
            if now >= deadline {
                return;
            }
            let until = now.checked_add(share).map_or(deadline, |u| u.min(deadline));
            let result = query(server, samples, until, clock);
            if let Ok(mut slot) = results[i].lock() {
                *slot = Some(result);
            }
        }
    };
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .filter_map(|_| {
                std::thread::Builder::new()
                    .name("query".into())
                    // A query needs little stack; see QUERY_WORKERS.
                    .stack_size(256 * 1024)
                    .spawn_scoped(scope, work)
                    .ok()
            })
            .collect();
        if handles.is_empty() && workers > 0 {
            work(); // No thread to be had: ask them one by one.
        }
        // Joined here, so a worker's panic stays a missing result (reported
        // below) instead of ending the run without a status line.
        for handle in handles {
            let _ = handle.join();
        }
    });
    servers
        .iter()
        .zip(results)
        .map(|(server, slot)| {
            slot.into_inner().ok().flatten().unwrap_or_else(|| {
                ServerResult::failed(
                    server.to_string(),
                    "not asked: -t ran out before its turn".into(),
                )
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(nonce: Timestamp) -> Packet {
        Packet {
            leap: 0,
            version: 4,
            mode: 4,
            stratum: 2,
            origin: nonce,
            receive: Timestamp(5 << 32),
            transmit: Timestamp(5 << 32),
            ..Packet::default()
        }
    }

    #[test]
    fn each_check_rejects_with_its_reason() {
        let nonce = Timestamp(0x1234_5678_9abc_def0);
        assert!(validate(&reply(nonce).encode(), nonce).is_ok());
        let reason = |p: Packet| validate(&p.encode(), nonce).unwrap_err().reason;
        assert_eq!(
            reason(Packet {
                mode: 3,
                ..reply(nonce)
            }),
            "mode"
        );
        assert_eq!(
            reason(Packet {
                version: 2,
                ..reply(nonce)
            }),
            "version"
        );
        assert_eq!(
            reason(Packet {
                origin: Timestamp(1),
                ..reply(nonce)
            }),
            "origin"
        );
        assert_eq!(
            reason(Packet {
                stratum: 0,
                reference_id: *b"RATE",
                ..reply(nonce)
            }),
            "kiss"
        );
        assert_eq!(
            reason(Packet {
                leap: 3,
                stratum: 16,
                ..reply(nonce)
            }),
            "unsynchronized"
        );
        assert_eq!(
            reason(Packet {
                transmit: Timestamp(0),
                ..reply(nonce)
            }),
            "zero-timestamp"
        );
        assert_eq!(
            reason(Packet {
                root_dispersion: 2 << 16,
                ..reply(nonce)
            }),
            "root-distance"
        );
        assert_eq!(validate(&[0u8; 20], nonce).unwrap_err().reason, "short");
    }
}
