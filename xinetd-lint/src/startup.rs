//! What happens to a service between xinetd's parse and `Started service`:
//! the duplicate check of `check_entry` (confparse.c), the socket the kernel
//! must create, and the bind that must succeed (service.c `svc_activate`,
//! `activate_normal`).  Each rule here was checked against Debian's xinetd
//! 2.3.15.3 in a private network namespace (tests/xinetd_startup.rs).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// A bind address as xinetd holds it after `service_fill`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BindAddr {
    Ip(IpAddr),
    /// A host name: resolved when xinetd starts; compared by name here.
    Name(String),
}

impl BindAddr {
    /// `localhost` and other names resolve with AF_INET unless the service
    /// asks for IPv6 (service_fill's hints).
    pub fn new(word: &str, wants_ipv6: bool) -> BindAddr {
        match word.parse::<IpAddr>() {
            Ok(ip) => BindAddr::Ip(ip),
            Err(_) if word.eq_ignore_ascii_case("localhost") => BindAddr::Ip(if wants_ipv6 {
                IpAddr::V6(Ipv6Addr::LOCALHOST)
            } else {
                IpAddr::V4(Ipv4Addr::LOCALHOST)
            }),
            Err(_) => BindAddr::Name(word.to_ascii_lowercase()),
        }
    }
}

/// What `check_entry`'s duplicate test compares: port (0 when none was
/// given or looked up, as for TCPMUX clients), protocol and bind address.
#[derive(Clone, Debug)]
pub struct Checked {
    pub id: String,
    pub name: String,
    pub port: u16,
    pub protocol: String,
    pub bind: Option<BindAddr>,
}

/// The services that passed check_entry so far, in order, indexed by port:
/// xinetd compares each service with every earlier one (a list walk in C),
/// but only those with the same port can match, so ten thousand services
/// cost ten thousand probes here, not fifty million comparisons.
#[derive(Default)]
pub struct CheckedServices {
    in_order: Vec<Checked>,
    by_port: std::collections::HashMap<u16, Vec<usize>>,
}

impl CheckedServices {
    pub fn push(&mut self, service: Checked) {
        self.by_port
            .entry(service.port)
            .or_default()
            .push(self.in_order.len());
        self.in_order.push(service);
    }

    /// The service checked last (its bind address is the one svc_activate
    /// binds).
    pub fn last(&self) -> Option<&Checked> {
        self.in_order.last()
    }

    /// The earliest service that makes xinetd's duplicate check disable
    /// `this` (see [`is_duplicate`]).
    pub fn duplicate_of(&self, this: &Checked) -> Option<&Checked> {
        let same_port = self.by_port.get(&this.port)?;
        same_port
            .iter()
            .map(|&i| &self.in_order[i])
            .find(|other| is_duplicate(this, other))
    }
}

/// Whether an earlier service makes xinetd's duplicate check disable `this`.
///
/// xinetd compares a service with every earlier one still configured, but
/// only with those that have a bind address: ports and protocols must be
/// equal, and then either this one has no bind address (so it would take
/// the other's address too) or the same family and address.  The ids only
/// change the wording of the message.
fn is_duplicate(this: &Checked, other: &Checked) -> bool {
    let Some(other_bind) = &other.bind else {
        return false;
    };
    if other.port != this.port || !other.protocol.eq_ignore_ascii_case(&this.protocol) {
        return false;
    }
    match &this.bind {
        None => true,
        Some(bind) => same_address(bind, other_bind),
    }
}

fn same_address(a: &BindAddr, b: &BindAddr) -> bool {
    match (a, b) {
        (BindAddr::Ip(x), BindAddr::Ip(y)) => x == y,
        (BindAddr::Name(x), BindAddr::Name(y)) => x == y,
        _ => false,
    }
}

/// Whether Linux creates an inet socket of this type and protocol (as
/// root).  stream needs TCP, dgram UDP or UDP-Lite, seqpacket SCTP (not
/// available without the sctp module, as on Debian's test machines and in
/// containers); raw takes any protocol.  Protocol 0 (`ip`) picks the type's
/// default.  A refused pair fails `socket()` for IPv6 and again for IPv4,
/// and xinetd deactivates the service.
pub fn kernel_accepts(socket_type: &str, protocol: &str) -> bool {
    let p = protocol.to_ascii_lowercase();
    let default = matches!(p.as_str(), "ip" | "hopopt");
    match socket_type {
        "raw" => true,
        "stream" => default || p == "tcp",
        "dgram" => default || p == "udp" || p == "udplite",
        _ => false,
    }
}

/// One family and address a listening socket covers (None: the wildcard).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cover {
    V4(Option<Ipv4Addr>),
    V6(Option<Ipv6Addr>),
}

/// What a bound TCP socket takes.  Without `bind` xinetd opens an IPv6
/// socket on `[::]` and leaves IPV6_V6ONLY off, so it holds the IPv4
/// wildcard too, unless the service block writes `v6only` (any value turns
/// IPV6_V6ONLY on: xinetd tests only that the attribute was given) or
/// `flags = IPv4` (then it is `0.0.0.0`).
#[derive(Clone, Debug)]
pub struct Listener {
    pub id: String,
    pub port: u16,
    covers: Vec<Cover>,
}

impl Listener {
    /// None when the address cannot be known here (a host name).
    pub fn new(
        id: &str,
        port: u16,
        bind: Option<&BindAddr>,
        ipv4_flag: bool,
        v6only_written: bool,
    ) -> Option<Listener> {
        let v4_wildcard_too = !v6only_written;
        let covers = match bind {
            Some(BindAddr::Name(_)) => return None,
            // flags = IPv4 with an IPv6 bind address: xinetd fills a
            // sockaddr_in over the sockaddr_in6, whose flowinfo (0) becomes
            // the address: it binds 0.0.0.0.
            Some(BindAddr::Ip(IpAddr::V6(_))) if ipv4_flag => vec![Cover::V4(None)],
            Some(BindAddr::Ip(IpAddr::V4(a))) if a.is_unspecified() => vec![Cover::V4(None)],
            Some(BindAddr::Ip(IpAddr::V4(a))) => vec![Cover::V4(Some(*a))],
            Some(BindAddr::Ip(IpAddr::V6(a))) if a.is_unspecified() => {
                let mut c = vec![Cover::V6(None)];
                if v4_wildcard_too {
                    c.push(Cover::V4(None));
                }
                c
            }
            Some(BindAddr::Ip(IpAddr::V6(a))) => match a.to_ipv4_mapped() {
                Some(v4) => vec![Cover::V4(Some(v4))],
                None => vec![Cover::V6(Some(*a))],
            },
            None if ipv4_flag => vec![Cover::V4(None)],
            None => {
                let mut c = vec![Cover::V6(None)];
                if v4_wildcard_too {
                    c.push(Cover::V4(None));
                }
                c
            }
        };
        Some(Listener {
            id: id.to_string(),
            port,
            covers,
        })
    }

    /// Two listening TCP sockets conflict when they share a port and an
    /// address; a wildcard shares every address of its family.
    /// (SO_REUSEADDR does not help a second listener.)
    pub fn conflicts(&self, other: &Listener) -> bool {
        self.port == other.port
            && self.covers.iter().any(|a| {
                other.covers.iter().any(|b| match (a, b) {
                    (Cover::V4(x), Cover::V4(y)) => x.is_none() || y.is_none() || x == y,
                    (Cover::V6(x), Cover::V6(y)) => x.is_none() || y.is_none() || x == y,
                    _ => false,
                })
            })
    }
}

/// The TCP sockets xinetd has bound so far, by port: a new one can only
/// conflict with those on its own port (the same linear-time reason as
/// [`CheckedServices`]).
#[derive(Default)]
pub struct Listening {
    by_port: std::collections::HashMap<u16, Vec<Listener>>,
}

impl Listening {
    /// The first socket bound earlier that `new` conflicts with.
    pub fn conflict_with(&self, new: &Listener) -> Option<&Listener> {
        self.by_port
            .get(&new.port)?
            .iter()
            .find(|o| o.conflicts(new))
    }

    pub fn push(&mut self, listener: Listener) {
        self.by_port
            .entry(listener.port)
            .or_default()
            .push(listener);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checked(port: u16, protocol: &str, bind: Option<&str>) -> Checked {
        Checked {
            id: "x".into(),
            name: "x".into(),
            port,
            protocol: protocol.into(),
            bind: bind.map(|b| BindAddr::new(b, false)),
        }
    }

    /// The duplicate check over these earlier services, through the index
    /// the pipeline uses.
    fn duplicate_of(this: &Checked, earlier: &[Checked]) -> Option<String> {
        let mut index = CheckedServices::default();
        for service in earlier {
            index.push(service.clone());
        }
        index.duplicate_of(this).map(|other| other.id.clone())
    }

    #[test]
    fn the_earliest_duplicate_is_named_whatever_ports_came_between() {
        let mut earlier = Vec::new();
        for (n, port) in [(1, 873), (2, 22), (3, 873), (4, 873)] {
            let mut c = checked(port, "tcp", Some("127.0.0.1"));
            c.id = format!("s{n}");
            earlier.push(c);
        }
        earlier[0].bind = None; // unbound: never a match, as in xinetd
        assert_eq!(
            duplicate_of(&checked(873, "TCP", None), &earlier).as_deref(),
            Some("s3")
        );
    }

    #[test]
    fn a_listener_conflicts_only_on_its_port() {
        let mut listening = Listening::default();
        listening.push(Listener::new("a", 873, None, false, false).unwrap());
        let other_port = Listener::new("b", 874, None, false, false).unwrap();
        assert!(listening.conflict_with(&other_port).is_none());
        let same_port = Listener::new("c", 873, None, true, false).unwrap();
        assert_eq!(
            listening.conflict_with(&same_port).map(|l| l.id.as_str()),
            Some("a")
        );
    }

    #[test]
    fn duplicate_check_needs_an_earlier_bound_service() {
        let bound = [checked(873, "tcp", Some("127.0.0.1"))];
        let unbound = [checked(873, "tcp", None)];
        // bound, then unbound on the same port: disabled
        assert!(duplicate_of(&checked(873, "tcp", None), &bound).is_some());
        // unbound, then bound: the check passes (the bind fails later)
        assert!(duplicate_of(&checked(873, "tcp", Some("127.0.0.1")), &unbound).is_none());
        // another port, protocol or address: no duplicate
        assert!(duplicate_of(&checked(874, "tcp", None), &bound).is_none());
        assert!(duplicate_of(&checked(873, "udp", None), &bound).is_none());
        assert!(duplicate_of(&checked(873, "tcp", Some("127.0.0.2")), &bound).is_none());
        assert!(duplicate_of(&checked(873, "tcp", Some("::1")), &bound).is_none());
        // TCPMUX clients: port 0 both
        let mux = [checked(0, "tcp", Some("127.0.0.1"))];
        assert!(duplicate_of(&checked(0, "tcp", Some("127.0.0.1")), &mux).is_some());
    }

    #[test]
    fn sockets_the_kernel_refuses() {
        assert!(kernel_accepts("stream", "tcp"));
        assert!(kernel_accepts("stream", "TCP"));
        assert!(kernel_accepts("dgram", "udp"));
        assert!(kernel_accepts("raw", "udp"));
        assert!(!kernel_accepts("stream", "udp"));
        assert!(!kernel_accepts("dgram", "tcp"));
        assert!(!kernel_accepts("seqpacket", "tcp"));
        assert!(!kernel_accepts("seqpacket", "udp"));
        assert!(!kernel_accepts("dgram", "icmp"));
    }

    #[test]
    fn listeners() {
        let ip = |s: &str| BindAddr::new(s, false);
        let dual = Listener::new("a", 873, None, false, false).unwrap();
        let v6only = Listener::new("a", 873, None, false, true).unwrap();
        let v4any = Listener::new("a", 873, None, true, false).unwrap();
        let lo = Listener::new("b", 873, Some(&ip("127.0.0.1")), false, false).unwrap();
        let lo2 = Listener::new("b", 873, Some(&ip("127.0.0.2")), false, false).unwrap();
        let lo6 = Listener::new("b", 873, Some(&ip("::1")), false, false).unwrap();
        assert!(dual.conflicts(&lo));
        assert!(dual.conflicts(&lo6));
        assert!(!v6only.conflicts(&lo));
        assert!(v6only.conflicts(&lo6));
        assert!(!v4any.conflicts(&v6only));
        assert!(v4any.conflicts(&lo));
        assert!(!lo.conflicts(&lo2));
        assert!(!lo.conflicts(&lo6));
        assert!(
            Listener::new(
                "c",
                873,
                Some(&BindAddr::new("myhost", false)),
                false,
                false
            )
            .is_none()
        );
    }
}
