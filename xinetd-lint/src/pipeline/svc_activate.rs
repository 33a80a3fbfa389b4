//! svc_activate (service.c, `activate_normal`): start-up.  The kernel must
//! create the socket, RPC needs a portmapper, a bind address must be local,
//! and a TCP port can be bound once per address.  Each rule was checked
//! against Debian's xinetd 2.3.15.3 in a private network namespace
//! (tests/xinetd_startup.rs).

use super::{Daemon, Entry, Phase, TakenPort};
use crate::host::Host;
use crate::rules::Code;
use crate::startup::{self, Listener};

pub(super) fn svc_activate(
    e: &mut Entry,
    host: &dyn Host,
    taken: &[TakenPort],
    daemon: &mut Daemon,
) -> Phase {
    // A TCPMUX client gets no socket of its own: xinetd's tcpmux service
    // hands it connections.
    if e.kind.tcpmux {
        return Ok(());
    }
    socket_created(e)?;
    portmapper_enabled(e, host)?;
    // flags = IPv6 with an IPv4 bind address: what xinetd binds is not
    // that address (XL074), so neither its locality nor its conflicts can
    // be judged from it.
    let ipv6_with_v4_bind = e.flag("flags", "IPv6")
        && e.bind
            .as_deref()
            .is_some_and(|b| b.parse::<std::net::Ipv4Addr>().is_ok());
    if ipv6_with_v4_bind {
        ipv6_flag_with_v4_bind(e);
    } else {
        bind_address_local(e, host)?;
    }
    port_free(e, taken, daemon, ipv6_with_v4_bind)
}

/// XL070: the kernel must accept the socket_type and protocol pair.
fn socket_created(e: &mut Entry) -> Phase {
    let (Some(st), Some(proto)) = (e.socket.as_deref(), e.protocol.as_deref()) else {
        return Ok(());
    };
    if startup::kernel_accepts(st, proto) {
        return Ok(());
    }
    let message = format!(
        "socket_type {st} with protocol {proto}: the kernel refuses this socket (socket creation failed: {}) and xinetd deactivates service {}",
        if st == "seqpacket" {
            "Socket type not supported"
        } else {
            "Protocol not supported"
        },
        e.id
    );
    e.reject(Code::XL070, message)
}

/// XL046: an RPC service registers with the portmapper.
fn portmapper_enabled(e: &mut Entry, host: &dyn Host) -> Phase {
    if e.kind.rpc && !host.portmapper() {
        let message = format!(
            "RPC service {} needs rpcbind/portmap, and none is enabled: pmap_set fails and xinetd deactivates it",
            e.s.name
        );
        return e.reject(Code::XL046, message);
    }
    Ok(())
}

/// XL074, a warning only: the service starts, on an address nobody meant.
fn ipv6_flag_with_v4_bind(e: &mut Entry) {
    let flags = e.s.get("flags");
    let (line, column) = flags.map_or((e.s.line, e.s.column), |f| (f.line, f.column));
    let message = format!(
        "flags = IPv6 with the IPv4 bind address {}: xinetd builds the IPv6 address from the IPv4 one's bytes and the memory after them, so service {} binds an address nobody meant, or fails (Cannot assign requested address)",
        e.bind.as_deref().unwrap_or_default(),
        e.id
    );
    e.note(line, column, Code::XL074, message);
}

/// XL047: xinetd can bind only an address of this host.
fn bind_address_local(e: &mut Entry, host: &dyn Host) -> Phase {
    let Some(address) = &e.bind else {
        return Ok(());
    };
    if host.local_address(address) {
        return Ok(());
    }
    let message = format!(
        "bind = {address} is not an address of this host: xinetd cannot bind it and deactivates service {}",
        e.id
    );
    e.reject(Code::XL047, message)
}

/// XL043 (the codes of `taken`), XL022: the port must not be held by another
/// program (`taken`) nor, for TCP, by a service xinetd has bound already.
fn port_free(
    e: &mut Entry,
    taken: &[TakenPort],
    daemon: &mut Daemon,
    ipv6_with_v4_bind: bool,
) -> Phase {
    let (Some(p), Some(proto)) = (e.port, e.protocol.clone()) else {
        return Ok(());
    };
    let tcp = proto.eq_ignore_ascii_case("tcp");
    let listener = (!ipv6_with_v4_bind)
        .then(|| {
            Listener::new(
                &e.id,
                p,
                daemon.checked.last().and_then(|c| c.bind.as_ref()),
                e.flag("flags", "IPv4") && !e.flag("flags", "IPv6"),
                e.s.written.contains("v6only"),
            )
        })
        .flatten();
    if let Some(t) = taken
        .iter()
        .find(|t| t.port == p && t.protocol.eq_ignore_ascii_case(&proto))
    {
        let message = format!(
            "{}: xinetd's bind fails (Address already in use) and service {} is deactivated",
            t.why, e.id
        );
        return e.reject(t.code, message);
    }
    if !tcp {
        return Ok(());
    }
    // UDP sockets never conflict here: xinetd sets SO_REUSEADDR, and Linux
    // lets every such socket bind.
    if let Some(l) = &listener
        && let Some(other) = daemon.listening.conflict_with(l)
    {
        let message = format!(
            "port {p}/{proto} is already bound by service id {}{}: this one fails to bind at start-up (Address already in use) and is deactivated",
            other.id,
            if e.bind.is_none() {
                ""
            } else {
                " (a service without `bind` listens on [::], which takes IPv4 too)"
            }
        );
        return e.reject(Code::XL022, message);
    }
    if let Some(l) = listener {
        daemon.listening.push(l);
    }
    Ok(())
}
