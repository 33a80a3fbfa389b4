//! Server names to addresses within the run's deadline.  getaddrinfo(3) has
//! no timeout of its own (a resolver that does not answer costs 5 s per try
//! and name), so each name is resolved on a worker thread of a small pool
//! and the answers are collected until the deadline; a name still pending
//! then is reported as not resolved in time, and its thread is abandoned
//! (it ends with the process).

use std::io;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::time::Instant;

/// Names resolved at once, at most.
pub const RESOLVER_THREADS: usize = 16;

/// The addresses one `pool` line may add: ntpd's `tos maxclock` default
/// (10, in ntp and NTPsec alike) bounds a pool's associations.
pub const POOL_MAX_ADDRESSES: usize = 10;

/// How ntpd counts a configured name as voters in its selection: a
/// `server` or `peer` line (and `-H`) is one association, however many
/// addresses its name has (ntpd takes the first); a `pool` line adds an
/// association per address, up to [`POOL_MAX_ADDRESSES`].  So a name with
/// three addresses is one voter, and cannot outvote two other servers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Server,
    Pool,
}

impl Kind {
    /// How many of a name's addresses become voters.
    pub fn addresses_kept(self) -> usize {
        match self {
            Kind::Server => 1,
            Kind::Pool => POOL_MAX_ADDRESSES,
        }
    }
}

/// A configured server: `-H`, or a server/peer/pool line of ntp.conf.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Association {
    pub host: String,
    pub port: u16,
    pub kind: Kind,
}

/// Which address families to keep (`-4`, `-6`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    Any,
    V4,
    V6,
}

impl Family {
    fn keeps(self, addr: &SocketAddr) -> bool {
        match self {
            Family::Any => true,
            Family::V4 => addr.is_ipv4(),
            Family::V6 => addr.is_ipv6(),
        }
    }
}

/// One address to ask, or why a name gave none (`(name, reason)`).
pub type Target = Result<SocketAddr, (String, String)>;

/// The system's resolver.
pub fn system_resolver(host: &str, port: u16) -> io::Result<Vec<SocketAddr>> {
    Ok((host, port).to_socket_addrs()?.collect())
}

/// Resolves the associations, in their order: a server's first address
/// (of the family asked for), a pool's first [`POOL_MAX_ADDRESSES`], as
/// ntpd does.  Literal addresses need no resolver.
pub fn resolve_all(
    hosts: &[Association],
    family: Family,
    deadline: Instant,
    resolver: fn(&str, u16) -> io::Result<Vec<SocketAddr>>,
) -> Vec<Target> {
    let mut answers: Vec<Option<io::Result<Vec<SocketAddr>>>> = hosts
        .iter()
        .map(|a| {
            a.host
                .parse::<IpAddr>()
                .ok()
                .map(|ip| Ok(vec![SocketAddr::new(ip, a.port)]))
        })
        .collect();
    let names: Vec<usize> = (0..hosts.len()).filter(|&i| answers[i].is_none()).collect();
    if !names.is_empty() {
        let work: Arc<Vec<(usize, String, u16)>> = Arc::new(
            names
                .iter()
                .map(|&i| (i, hosts[i].host.clone(), hosts[i].port))
                .collect(),
        );
        let next = Arc::new(AtomicUsize::new(0));
        let (send, receive) = mpsc::channel();
        for _ in 0..RESOLVER_THREADS.min(work.len()) {
            let (work, next, send) = (work.clone(), next.clone(), send.clone());
            let spawned = std::thread::Builder::new()
                .name("resolver".into())
                // getaddrinfo and its NSS modules need well under this.
                .stack_size(256 * 1024)
                .spawn(move || {
                    loop {
                        let k = next.fetch_add(1, Ordering::Relaxed);
                        let Some((i, host, port)) = work.get(k) else {
                            return;
                        };
                        if Instant::now() >= deadline {
                            return;
                        }
                        if send.send((*i, resolver(host, *port))).is_err() {
                            return; // Nobody waits any more.
                        }
                    }
                });
            if spawned.is_err() {
                break; // Fewer workers; the ones running share the names.
            }
        }
        drop(send);
        let mut pending = work.len();
        while pending > 0 {
            let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                break;
            };
            match receive.recv_timeout(left) {
                Ok((i, answer)) => {
                    answers[i] = Some(answer);
                    pending -= 1;
                }
                Err(_) => break, // Deadline, or every worker gone.
            }
        }
    }
    let mut targets = Vec::new();
    for (Association { host, kind, .. }, answer) in hosts.iter().zip(answers) {
        match answer {
            None => targets.push(Err((
                host.clone(),
                "cannot resolve: no answer within -t".to_string(),
            ))),
            Some(Err(e)) => targets.push(Err((host.clone(), format!("cannot resolve ({e})")))),
            Some(Ok(addrs)) => {
                let kept: Vec<SocketAddr> = addrs
                    .into_iter()
                    .filter(|a| family.keeps(a))
                    .take(kind.addresses_kept())
                    .collect();
                if kept.is_empty() {
                    targets.push(Err((
                        host.clone(),
                        "no address of the asked family".to_string(),
                    )));
                }
                targets.extend(kept.into_iter().map(Ok));
            }
        }
    }
    targets
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn server(host: &str, port: u16) -> Association {
        Association {
            host: host.to_string(),
            port,
            kind: Kind::Server,
        }
    }

    /// A name with three addresses, as a hostile DNS zone or hosts file
    /// gives it; every other name has one.
    fn three_for_hostile(host: &str, port: u16) -> io::Result<Vec<SocketAddr>> {
        let last: &[u8] = if host.starts_with("hostile") {
            &[2, 3, 4]
        } else {
            &[9]
        };
        Ok(last
            .iter()
            .map(|b| SocketAddr::new([127, 0, 0, *b].into(), port))
            .collect())
    }

    #[test]
    fn a_server_name_is_one_voter_whatever_it_resolves_to() {
        let far = Instant::now() + Duration::from_secs(5);
        let hosts = [
            server("hostile.example", 123),
            server("honest.example", 123),
        ];
        let targets = resolve_all(&hosts, Family::Any, far, three_for_hostile);
        assert_eq!(
            targets,
            [
                Ok("127.0.0.2:123".parse().unwrap()),
                Ok("127.0.0.9:123".parse().unwrap())
            ],
            "the first address, as ntpd takes it"
        );
        // A pool line: one voter per address, at most POOL_MAX_ADDRESSES.
        let pool = [Association {
            kind: Kind::Pool,
            ..server("hostile.pool.example", 123)
        }];
        assert_eq!(
            resolve_all(&pool, Family::Any, far, three_for_hostile).len(),
            3
        );
        fn many(_: &str, port: u16) -> io::Result<Vec<SocketAddr>> {
            Ok((1..=200)
                .map(|b| SocketAddr::new([127, 0, 1, b].into(), port))
                .collect())
        }
        assert_eq!(
            resolve_all(&pool, Family::Any, far, many).len(),
            POOL_MAX_ADDRESSES
        );
    }

    fn hanging(host: &str, port: u16) -> io::Result<Vec<SocketAddr>> {
        if host == "slow.example" {
            std::thread::sleep(Duration::from_secs(30));
        }
        Ok(vec![SocketAddr::new([192, 0, 2, 1].into(), port)])
    }

    #[test]
    fn a_hanging_name_costs_the_deadline_not_more() {
        let hosts: Vec<Association> = ["slow.example", "fast.example", "127.0.0.1", "::1"]
            .iter()
            .map(|h| server(h, 123))
            .chain((0..40).map(|i| server(&format!("slow{i}.example"), 123)))
            .collect();
        let start = Instant::now();
        let targets = resolve_all(
            &hosts,
            Family::Any,
            start + Duration::from_millis(300),
            hanging,
        );
        assert!(
            start.elapsed() < Duration::from_millis(1000),
            "{:?}",
            start.elapsed()
        );
        assert_eq!(
            targets[0],
            Err((
                "slow.example".to_string(),
                "cannot resolve: no answer within -t".to_string()
            ))
        );
        assert_eq!(targets[1], Ok("192.0.2.1:123".parse().unwrap()));
        assert_eq!(targets[2], Ok("127.0.0.1:123".parse().unwrap()));
        assert_eq!(targets[3], Ok("[::1]:123".parse().unwrap()));
        assert_eq!(targets.len(), 44);
    }

    #[test]
    fn families() {
        let hosts = vec![server("127.0.0.1", 1), server("::1", 2)];
        let far = Instant::now() + Duration::from_secs(5);
        let v6 = resolve_all(&hosts, Family::V6, far, system_resolver);
        assert!(v6[0].is_err() && v6[1].is_ok(), "{v6:?}");
    }
}
