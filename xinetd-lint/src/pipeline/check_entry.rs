//! check_entry (confparse.c): the checks of a filled-in service, in
//! xinetd's order.  A service that passes them all is remembered for the
//! duplicate check of the services after it.

use super::{Daemon, Entry, Phase, Rejected};
use crate::attrs;
use crate::config::Defaults;
use crate::host::Host;
use crate::rules::Code;
use crate::startup::{BindAddr, Checked, CheckedServices};

pub(super) fn check_entry(
    e: &mut Entry,
    defaults: &Defaults,
    host: &dyn Host,
    daemon: &mut Daemon,
) -> Phase {
    let this = Checked {
        id: e.id.clone(),
        name: e.s.name.clone(),
        port: e.port.unwrap_or(0),
        protocol: e.protocol.clone().unwrap_or_default(),
        bind: e
            .bind
            .as_deref()
            .map(|b| BindAddr::new(b, e.flag("flags", "IPv6"))),
    };
    not_a_duplicate(e, &this, &daemon.checked)?;
    internal_service_exists(e)?;
    tcpmux_client(e, &mut daemon.crashed)?;
    rpc_service_known(e, host)?;
    in_etc_services(e, host)?;
    redirect_fits(e)?;
    traffic_only_when_redirected(e, defaults)?;
    nameinargs_not_internal(e)?;
    required_attributes(e)?;
    daemon.checked.push(this);
    Ok(())
}

/// XL022: an earlier service already checked binds the same port and
/// protocol (CheckedServices::duplicate_of says when that counts).
fn not_a_duplicate(e: &mut Entry, this: &Checked, checked: &CheckedServices) -> Phase {
    let Some(other) = checked.duplicate_of(this) else {
        return Ok(());
    };
    let (name, id) = (&e.s.name, &e.id);
    let message = if other.id.eq_ignore_ascii_case(id) {
        format!("service: {name} id: {id} not unique or is a duplicate - DISABLING")
    } else {
        format!(
            "service: {name} id: {id} is unique but its identical to service: {} id: {} - DISABLING{}",
            other.name,
            other.id,
            if this.bind.is_none() {
                " (xinetd's duplicate check: an earlier service binds this port and protocol, and this one has no bind address)"
            } else {
                ""
            }
        )
    };
    e.reject(Code::XL022, message)
}

/// XL034: an INTERNAL service must be one of xinetd's built-in ones.
/// A SENSOR service is xinetd's own handler, whatever its name.
fn internal_service_exists(e: &mut Entry) -> Phase {
    if !e.kind.internal || e.flag("flags", "SENSOR") {
        return Ok(());
    }
    let st = e.socket.clone().unwrap_or_default();
    if attrs::is_builtin(&e.s.name, &st) {
        return Ok(());
    }
    let message = format!("No such internal service: {}/{st} - DISABLING", e.s.name);
    e.reject(Code::XL034, message)
}

/// XL035, XL075: a TCPMUX client must be UNLISTED and use tcp.
fn tcpmux_client(e: &mut Entry, crashed: &mut bool) -> Phase {
    if !e.kind.tcpmux {
        return Ok(());
    }
    let name = e.s.name.clone();
    if !e.kind.unlisted {
        return e.reject(
            Code::XL035,
            format!("Service: {name} (tcpmux) should have UNLISTED in type."),
        );
    }
    let tcp = e.protocol.as_deref().map(|p| p.eq_ignore_ascii_case("tcp"));
    match tcp {
        None => {
            // check_entry compares "tcp" with the protocol name by
            // strcasecmp, and a TCPMUX client with neither protocol nor
            // socket_type has none: a NULL pointer, and xinetd dies of
            // SIGSEGV before it starts anything.
            *crashed = true;
            e.reject(
                Code::XL075,
                format!(
                    "Service: {name} (tcpmux) has no protocol (and no socket_type to give one): xinetd crashes (Segmentation fault) while checking it, and no service starts at all"
                ),
            )
        }
        Some(false) => e.reject(
            Code::XL035,
            format!("Service: {name} (tcpmux) should have tcp in protocol."),
        ),
        Some(true) => Ok(()),
    }
}

/// XL036: a listed RPC service must be in /etc/rpc.
fn rpc_service_known(e: &mut Entry, host: &dyn Host) -> Phase {
    if e.kind.rpc && !e.kind.unlisted && !host.has_rpc(&e.s.name) {
        let message = format!("unknown RPC service: {}", e.s.name);
        return e.reject(Code::XL036, message);
    }
    Ok(())
}

/// XL032, XL030, XL031: a listed service must be in /etc/services, at the
/// port it gives.
fn in_etc_services(e: &mut Entry, host: &dyn Host) -> Phase {
    if e.kind.unlisted || e.kind.rpc {
        return Ok(());
    }
    let s = e.s;
    let Some(proto) = e.protocol.clone() else {
        return e.reject(
            Code::XL032,
            format!(
                "A protocol or a socket_type must be specified for service: {}.",
                s.name
            ),
        );
    };
    match host.service_port(&s.name, &proto) {
        None => e.reject(
            Code::XL030,
            format!(
                "service/protocol combination not in /etc/services: {}/{proto} (add it there, or write `type = UNLISTED` and `port`)",
                s.name
            ),
        ),
        Some(listed) => match e.explicit_port {
            Some(given) if given != listed => e.reject(
                Code::XL031,
                format!("Service {} expects port {listed}, not {given}", s.name),
            ),
            _ => Ok(()),
        },
    }
}

/// XL037: a redirect needs a stream socket, `wait = no` and no NAMEINARGS.
fn redirect_fits(e: &mut Entry) -> Phase {
    if !e.redirect {
        return Ok(());
    }
    let name = e.s.name.clone();
    let waits =
        e.s.get("wait")
            .is_some_and(|w| w.first().eq_ignore_ascii_case("yes"));
    if e.socket.as_deref() != Some("stream") {
        e.reject(
            Code::XL037,
            format!("Only tcp sockets are supported for redirected service {name}"),
        )
    } else if waits {
        e.reject(
            Code::XL037,
            format!("Redirected service {name} must not wait"),
        )
    } else if e.flag("flags", "NAMEINARGS") {
        e.reject(
            Code::XL037,
            format!("Redirected service {name} should not have NAMEINARGS flag set"),
        )
    } else {
        Ok(())
    }
}

/// XL038: TRAFFIC is logged for redirected services only.
///
/// A service that never writes log_on_success gets the final defaults'
/// (service_fill); one that does started from the defaults as they stood
/// when its block was read (config).
fn traffic_only_when_redirected(e: &mut Entry, defaults: &Defaults) -> Phase {
    let written = e.s.written.contains("log_on_success");
    let traffic = if written {
        e.flag("log_on_success", "TRAFFIC")
    } else {
        defaults
            .attrs
            .get("log_on_success")
            .is_some_and(|v| v.values.iter().any(|x| x.eq_ignore_ascii_case("TRAFFIC")))
    };
    if e.redirect || !traffic {
        return Ok(());
    }
    let message = format!(
        "Service {} should not have TRAFFIC flag set since its not redirected{}",
        e.s.name,
        if written {
            ""
        } else {
            " (TRAFFIC comes from the defaults' log_on_success)"
        }
    );
    e.reject(Code::XL038, message)
}

/// XL039: an INTERNAL service has no program name to take from server_args.
fn nameinargs_not_internal(e: &mut Entry) -> Phase {
    if e.flag("flags", "NAMEINARGS") && e.kind.internal {
        let message = format!(
            "Service {} is INTERNAL and has NAMEINARGS flag set",
            e.s.name
        );
        return e.reject(Code::XL039, message);
    }
    Ok(())
}

/// XL033: required attributes, written in the block (defaults never count);
/// every missing one is reported.
fn required_attributes(e: &mut Entry) -> Phase {
    let (kind, redirect) = (e.kind, e.redirect);
    let mut required: Vec<&str> = vec!["socket_type", "wait"];
    if !kind.internal {
        required.push("user");
        if !redirect {
            required.push("server");
        }
    }
    if kind.unlisted && !kind.tcpmux {
        required.extend(["protocol", "port"]);
    } else if kind.unlisted {
        required.push("protocol");
    }
    if kind.rpc {
        required.extend(["protocol", "rpc_version"]);
        if kind.unlisted {
            required.push("rpc_number");
        }
    }
    let mut result = Ok(());
    for attr in required {
        let given = match attr {
            "socket_type" => e.socket_given,
            "protocol" => {
                e.s.written.contains("protocol")
                    || e.socket
                        .as_deref()
                        .is_some_and(|t| t == "stream" || t == "dgram")
            }
            other => e.s.written.contains(attrs::canonical(
                attrs::lookup(other).map_or("", |a| a.name),
            )),
        };
        if !given {
            let message = format!("Service {} missing attribute {attr} - DISABLING", e.id);
            e.report(Code::XL033, message);
            result = Err(Rejected);
        }
    }
    result
}
