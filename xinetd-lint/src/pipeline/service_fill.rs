//! service_fill: the values xinetd fills in before it checks a service,
//! and the rules that reject a service it cannot fill.

use super::{Entry, Phase};
use crate::host::Host;
use crate::rules::Code;

pub(super) fn service_fill(e: &mut Entry, host: &dyn Host) -> Phase {
    fill_in(e);
    server_given(e)?;
    port_known(e, host)
}

/// A redirect's server, the protocol from socket_type, and socket_type
/// from the protocol.  No rule here: they are filled whatever is rejected.
fn fill_in(e: &mut Entry) {
    if e.redirect {
        e.server = Some("/bin/true".into());
    }
    if e.protocol.is_none() {
        e.protocol = match e.socket.as_deref() {
            Some("stream") => Some("tcp".into()),
            Some("dgram") => Some("udp".into()),
            _ => None,
        };
    }
    e.socket_given = e.socket.is_some()
        || e.protocol
            .as_deref()
            .is_some_and(|p| p.eq_ignore_ascii_case("tcp") || p.eq_ignore_ascii_case("udp"))
            && e.s.written.contains("protocol");
    // A protocol alone gives the socket type.
    if e.socket.is_none() {
        e.socket = match e.protocol.as_deref() {
            Some(p) if p.eq_ignore_ascii_case("tcp") => Some("stream".to_string()),
            Some(p) if p.eq_ignore_ascii_case("udp") => Some("dgram".to_string()),
            _ => None,
        };
    }
}

/// XL028, XL039: a server to start (INTERNAL services have none), and its
/// arguments when NAMEINARGS takes the program name from them.
fn server_given(e: &mut Entry) -> Phase {
    if !e.kind.internal && e.server.is_none() {
        let message = format!("Must specify a server in {}", e.s.name);
        return e.reject(Code::XL028, message);
    }
    if e.flag("flags", "NAMEINARGS") && e.s.get("server_args").is_none() {
        return e.reject(
            Code::XL039,
            "Must specify server args if using NAMEINARGS flag".into(),
        );
    }
    Ok(())
}

/// XL029, XL032, XL030: without `port`, xinetd looks the service up in
/// /etc/services (RPC services and TCPMUX clients need no port).
fn port_known(e: &mut Entry, host: &dyn Host) -> Phase {
    if e.port.is_some() || e.kind.rpc || e.kind.tcpmux {
        return Ok(());
    }
    let s = e.s;
    let name = &s.name;
    if e.kind.unlisted {
        let message = format!("Unlisted service: {name} must have a port entry");
        return e.reject(Code::XL029, message);
    }
    let Some(proto) = &e.protocol else {
        let message = format!("Port not specified for service: {name} and no protocol given");
        return e.reject(Code::XL032, message);
    };
    match host.service_port(name, proto) {
        Some(p) => {
            e.port = Some(p);
            Ok(())
        }
        None => {
            let message = format!(
                "Port not specified and can't find service: {name} with getservbyname ({name}/{proto} is not in /etc/services)"
            );
            e.reject(Code::XL030, message)
        }
    }
}
