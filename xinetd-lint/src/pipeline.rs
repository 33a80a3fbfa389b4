//! Which services survive: xinetd's post-parse pipeline (reference §5),
//! then start-up (two services on one port; a standalone daemon on it).

use serde::Serialize;

use crate::attrs;
use crate::config::{Diagnostic, Model, Service};
use crate::host::Host;
use crate::rules::Code;
use crate::startup::{self, BindAddr, Checked, Listener};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Active,
    Disabled,
    Rejected,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::Disabled => "disabled",
            Status::Rejected => "rejected",
        }
    }
}

/// One service and xinetd's verdict on it.
#[derive(Clone, Debug, Serialize)]
pub struct Verdict {
    pub id: String,
    pub name: String,
    pub file: String,
    pub line: usize,
    pub protocol: Option<String>,
    pub port: Option<u16>,
    pub server: Option<String>,
    pub status: Status,
    pub reasons: Vec<Code>,
    /// The `server` as written, even when xinetd rejected the value (no
    /// such file in the tree): what the service is meant to start.
    pub server_written: Option<String>,
}

fn has_flag(s: &Service, attr: &str, flag: &str) -> bool {
    s.get(attr)
        .is_some_and(|v| v.values.iter().any(|x| x.eq_ignore_ascii_case(flag)))
}

/// A port xinetd cannot bind because another program holds it, with why.
pub struct TakenPort {
    pub port: u16,
    pub protocol: &'static str,
    pub code: Code,
    pub why: String,
}

pub fn verdicts(
    model: &Model,
    host: &dyn Host,
    taken: &[TakenPort],
    out: &mut Vec<Diagnostic>,
) -> Vec<Verdict> {
    let mut verdicts = Vec::new();
    let list = |name: &str| -> Vec<String> {
        model
            .defaults
            .attrs
            .get(name)
            .map(|s| s.values.iter().map(|v| v.to_ascii_lowercase()).collect())
            .unwrap_or_default()
    };
    let (enabled, disabled) = (list("enabled"), list("disabled"));
    // `enabled` given at all, even empty, disables every service it does not name.
    let enabled_given = model.defaults.attrs.contains_key("enabled");
    let default_bind = model
        .defaults
        .attrs
        .get("bind")
        .map(|s| s.first().to_string());
    // Services that passed check_entry so far (its duplicate check looks
    // at them), and the TCP sockets xinetd has bound at start-up.
    let mut checked: Vec<Checked> = Vec::new();
    let mut listening: Vec<Listener> = Vec::new();
    // xinetd died while checking the services: none starts.
    let mut crashed = false;

    for s in &model.services {
        let mut reasons: Vec<Code> = Vec::new();
        let mut fail = |code: Code, message: String, out: &mut Vec<Diagnostic>| {
            out.push(s.finding(s.line, s.column, code, message));
            reasons.push(code);
        };
        let id = s.id();
        let id_lower = id.to_ascii_lowercase();
        let socket = s.get("socket_type").map(|v| v.first().to_ascii_lowercase());
        let mut protocol = s.get("protocol").map(|v| v.first().to_string());
        let types: Vec<String> = s
            .get("type")
            .map(|v| v.values.iter().map(|x| x.to_ascii_uppercase()).collect())
            .unwrap_or_default();
        let is = |t: &str| types.iter().any(|x| x == t);
        let (internal, unlisted, rpc) = (is("INTERNAL"), is("UNLISTED"), is("RPC"));
        let tcpmux = is("TCPMUX") || is("TCPMUXPLUS");
        let redirect = s.get("redirect").is_some();
        let mut server = s.get("server").map(|v| v.first().to_string());
        let explicit_port = s
            .get("port")
            .and_then(|v| attrs::integer(v.first()))
            .map(|p| p as u16);
        let mut port = explicit_port;

        let status = if let Some(code) = s.dropped {
            reasons.push(code);
            Status::Rejected
        } else if s.disabled {
            fail(
                Code::XL027,
                format!(
                    "service {} is disabled (`disable = yes`): xinetd does not start it and logs nothing",
                    s.name
                ),
                out,
            );
            Status::Disabled
        } else if disabled.contains(&id_lower) || (enabled_given && !enabled.contains(&id_lower)) {
            fail(
                Code::XL027,
                format!(
                    "service {} (id {id}) is disabled by the `enabled`/`disabled` lists of defaults",
                    s.name
                ),
                out,
            );
            Status::Disabled
        } else if let Some((_, code)) = s.value_error
            && !(enabled_given && enabled.contains(&id_lower))
        {
            reasons.push(code);
            Status::Rejected
        } else {
            if let Some((line, _)) = s.value_error {
                // remove_disabled_services marks every service disabled and
                // then enables the ids of `enabled`: the value error's
                // DISABLING is undone like a later `disable = no`.
                out.push(s.finding(
                    line,
                    1,
                    Code::XL018,
                    format!(
                        "defaults' `enabled` names {id}, which re-enables it after the value rejected here: it runs without that setting"
                    ),
                ));
            }
            // Fill-in (service_fill).
            if redirect {
                server = Some("/bin/true".into());
            }
            let mut ok = true;
            if !internal && server.is_none() {
                fail(
                    Code::XL028,
                    format!("Must specify a server in {}", s.name),
                    out,
                );
                ok = false;
            }
            if ok && has_flag(s, "flags", "NAMEINARGS") && s.get("server_args").is_none() {
                fail(
                    Code::XL039,
                    "Must specify server args if using NAMEINARGS flag".into(),
                    out,
                );
                ok = false;
            }
            if protocol.is_none() {
                protocol = match socket.as_deref() {
                    Some("stream") => Some("tcp".into()),
                    Some("dgram") => Some("udp".into()),
                    _ => None,
                };
            }
            let socket_given = socket.is_some()
                || protocol.as_deref().is_some_and(|p| {
                    p.eq_ignore_ascii_case("tcp") || p.eq_ignore_ascii_case("udp")
                }) && s.written.contains("protocol");
            // service_fill: a protocol alone gives the socket type.
            let socket = socket.or_else(|| match protocol.as_deref() {
                Some(p) if p.eq_ignore_ascii_case("tcp") => Some("stream".to_string()),
                Some(p) if p.eq_ignore_ascii_case("udp") => Some("dgram".to_string()),
                _ => None,
            });
            if ok && port.is_none() && !rpc && !tcpmux {
                if unlisted {
                    fail(
                        Code::XL029,
                        format!("Unlisted service: {} must have a port entry", s.name),
                        out,
                    );
                    ok = false;
                } else if let Some(proto) = &protocol {
                    match host.service_port(&s.name, proto) {
                        Some(p) => port = Some(p),
                        None => {
                            fail(
                                Code::XL030,
                                format!(
                                    "Port not specified and can't find service: {} with getservbyname ({}/{proto} is not in /etc/services)",
                                    s.name, s.name
                                ),
                                out,
                            );
                            ok = false;
                        }
                    }
                } else {
                    fail(
                        Code::XL032,
                        format!(
                            "Port not specified for service: {} and no protocol given",
                            s.name
                        ),
                        out,
                    );
                    ok = false;
                }
            }
            // Checks (check_entry).
            let bind = s
                .get("bind")
                .map(|v| v.first().to_string())
                .or_else(|| default_bind.clone());
            let wants_ipv6 = has_flag(s, "flags", "IPv6");
            let this = Checked {
                id: id.clone(),
                name: s.name.clone(),
                port: port.unwrap_or(0),
                protocol: protocol.clone().unwrap_or_default(),
                bind: bind.as_deref().map(|b| BindAddr::new(b, wants_ipv6)),
            };
            if ok && let Some(other) = startup::duplicate_of(&this, &checked) {
                let message = if other.id.eq_ignore_ascii_case(&id) {
                    format!(
                        "service: {} id: {id} not unique or is a duplicate - DISABLING",
                        s.name
                    )
                } else {
                    format!(
                        "service: {} id: {id} is unique but its identical to service: {} id: {} - DISABLING{}",
                        s.name,
                        other.name,
                        other.id,
                        if this.bind.is_none() {
                            " (xinetd's duplicate check: an earlier service binds this port and protocol, and this one has no bind address)"
                        } else {
                            ""
                        }
                    )
                };
                fail(Code::XL022, message, out);
                ok = false;
            }
            // A SENSOR service is xinetd's own handler, whatever its name.
            if ok && internal && !has_flag(s, "flags", "SENSOR") {
                let st = socket.clone().unwrap_or_default();
                if !attrs::is_builtin(&s.name, &st) {
                    fail(
                        Code::XL034,
                        format!("No such internal service: {}/{st} - DISABLING", s.name),
                        out,
                    );
                    ok = false;
                }
            }
            if ok && tcpmux {
                if !unlisted {
                    fail(
                        Code::XL035,
                        format!("Service: {} (tcpmux) should have UNLISTED in type.", s.name),
                        out,
                    );
                    ok = false;
                } else if protocol.is_none() {
                    // check_entry compares "tcp" with the protocol name by
                    // strcasecmp, and a TCPMUX client with neither protocol
                    // nor socket_type has none: a NULL pointer, and xinetd
                    // dies of SIGSEGV before it starts anything.
                    fail(
                        Code::XL075,
                        format!(
                            "Service: {} (tcpmux) has no protocol (and no socket_type to give one): xinetd crashes (Segmentation fault) while checking it, and no service starts at all",
                            s.name
                        ),
                        out,
                    );
                    crashed = true;
                    ok = false;
                } else if !protocol
                    .as_deref()
                    .is_some_and(|p| p.eq_ignore_ascii_case("tcp"))
                {
                    fail(
                        Code::XL035,
                        format!("Service: {} (tcpmux) should have tcp in protocol.", s.name),
                        out,
                    );
                    ok = false;
                }
            }
            if ok && rpc && !unlisted && !host.has_rpc(&s.name) {
                fail(Code::XL036, format!("unknown RPC service: {}", s.name), out);
                ok = false;
            }
            if ok && !unlisted && !rpc {
                match &protocol {
                    None => {
                        fail(
                            Code::XL032,
                            format!(
                                "A protocol or a socket_type must be specified for service: {}.",
                                s.name
                            ),
                            out,
                        );
                        ok = false;
                    }
                    Some(proto) => match host.service_port(&s.name, proto) {
                        None => {
                            fail(
                                Code::XL030,
                                format!(
                                    "service/protocol combination not in /etc/services: {}/{proto} (add it there, or write `type = UNLISTED` and `port`)",
                                    s.name
                                ),
                                out,
                            );
                            ok = false;
                        }
                        Some(listed) => {
                            if let Some(given) = explicit_port
                                && given != listed
                            {
                                fail(
                                    Code::XL031,
                                    format!(
                                        "Service {} expects port {listed}, not {given}",
                                        s.name
                                    ),
                                    out,
                                );
                                ok = false;
                            }
                        }
                    },
                }
            }
            if ok && redirect {
                if socket.as_deref() != Some("stream") {
                    fail(
                        Code::XL037,
                        format!(
                            "Only tcp sockets are supported for redirected service {}",
                            s.name
                        ),
                        out,
                    );
                    ok = false;
                } else if s
                    .get("wait")
                    .is_some_and(|w| w.first().eq_ignore_ascii_case("yes"))
                {
                    fail(
                        Code::XL037,
                        format!("Redirected service {} must not wait", s.name),
                        out,
                    );
                    ok = false;
                } else if has_flag(s, "flags", "NAMEINARGS") {
                    fail(
                        Code::XL037,
                        format!(
                            "Redirected service {} should not have NAMEINARGS flag set",
                            s.name
                        ),
                        out,
                    );
                    ok = false;
                }
            }
            // A service that never writes log_on_success gets the final
            // defaults' (service_fill); one that does started from the
            // defaults as they stood when its block was read (config).
            let traffic = if s.written.contains("log_on_success") {
                has_flag(s, "log_on_success", "TRAFFIC")
            } else {
                model
                    .defaults
                    .attrs
                    .get("log_on_success")
                    .is_some_and(|v| v.values.iter().any(|x| x.eq_ignore_ascii_case("TRAFFIC")))
            };
            if ok && !redirect && traffic {
                fail(
                    Code::XL038,
                    format!(
                        "Service {} should not have TRAFFIC flag set since its not redirected{}",
                        s.name,
                        if s.written.contains("log_on_success") {
                            ""
                        } else {
                            " (TRAFFIC comes from the defaults' log_on_success)"
                        }
                    ),
                    out,
                );
                ok = false;
            }
            if ok && has_flag(s, "flags", "NAMEINARGS") && internal {
                fail(
                    Code::XL039,
                    format!("Service {} is INTERNAL and has NAMEINARGS flag set", s.name),
                    out,
                );
                ok = false;
            }
            // Required attributes, written in the block (defaults never count).
            if ok {
                let mut required: Vec<&str> = vec!["socket_type", "wait"];
                if !internal {
                    required.push("user");
                    if !redirect {
                        required.push("server");
                    }
                }
                if unlisted && !tcpmux {
                    required.extend(["protocol", "port"]);
                } else if unlisted {
                    required.push("protocol");
                }
                if rpc {
                    required.extend(["protocol", "rpc_version"]);
                    if unlisted {
                        required.push("rpc_number");
                    }
                }
                for attr in required {
                    let given = match attr {
                        "socket_type" => socket_given,
                        "protocol" => {
                            s.written.contains("protocol")
                                || socket
                                    .as_deref()
                                    .is_some_and(|t| t == "stream" || t == "dgram")
                        }
                        other => s.written.contains(attrs::canonical(
                            attrs::lookup(other).map_or("", |a| a.name),
                        )),
                    };
                    if !given {
                        fail(
                            Code::XL033,
                            format!("Service {id} missing attribute {attr} - DISABLING"),
                            out,
                        );
                        ok = false;
                    }
                }
            }
            if ok {
                checked.push(this);
            }
            // Start-up (svc_activate).  A TCPMUX client gets no socket of
            // its own: xinetd's tcpmux service hands it connections.
            let startup = ok && !tcpmux;
            if startup
                && let (Some(st), Some(proto)) = (socket.as_deref(), protocol.as_deref())
                && !startup::kernel_accepts(st, proto)
            {
                fail(
                    Code::XL070,
                    format!(
                        "socket_type {st} with protocol {proto}: the kernel refuses this socket (socket creation failed: {}) and xinetd deactivates service {id}",
                        if st == "seqpacket" {
                            "Socket type not supported"
                        } else {
                            "Protocol not supported"
                        }
                    ),
                    out,
                );
                ok = false;
            }
            // RPC needs a portmapper, a bind address must be local, and a
            // TCP port can be bound once per address.
            if ok && !tcpmux && rpc && !host.portmapper() {
                fail(
                    Code::XL046,
                    format!(
                        "RPC service {} needs rpcbind/portmap, and none is enabled: pmap_set fails and xinetd deactivates it",
                        s.name
                    ),
                    out,
                );
                ok = false;
            }
            // flags = IPv6 with an IPv4 bind address: what xinetd binds is
            // not that address (XL074), so neither its locality nor its
            // conflicts can be judged from it.
            let ipv6_with_v4_bind = !tcpmux
                && has_flag(s, "flags", "IPv6")
                && bind
                    .as_deref()
                    .is_some_and(|b| b.parse::<std::net::Ipv4Addr>().is_ok());
            if ok && ipv6_with_v4_bind {
                out.push(s.finding(
                    s.get("flags").map_or(s.line, |f| f.line),
                    s.get("flags").map_or(s.column, |f| f.column),
                    Code::XL074,
                    format!(
                        "flags = IPv6 with the IPv4 bind address {}: xinetd builds the IPv6 address from the IPv4 one's bytes and the memory after them, so service {id} binds an address nobody meant, or fails (Cannot assign requested address)",
                        bind.as_deref().unwrap_or_default()
                    ),
                ));
            }
            if ok
                && !tcpmux
                && !ipv6_with_v4_bind
                && let Some(address) = &bind
                && !host.local_address(address)
            {
                fail(
                    Code::XL047,
                    format!(
                        "bind = {address} is not an address of this host: xinetd cannot bind it and deactivates service {id}"
                    ),
                    out,
                );
                ok = false;
            }
            if ok
                && !tcpmux
                && let (Some(p), Some(proto)) = (port, &protocol)
            {
                let tcp = proto.eq_ignore_ascii_case("tcp");
                let listener = (!ipv6_with_v4_bind)
                    .then(|| {
                        Listener::new(
                            &id,
                            p,
                            checked.last().and_then(|c| c.bind.as_ref()),
                            has_flag(s, "flags", "IPv4") && !has_flag(s, "flags", "IPv6"),
                            s.written.contains("v6only"),
                        )
                    })
                    .flatten();
                if let Some(t) = taken
                    .iter()
                    .find(|t| t.port == p && t.protocol.eq_ignore_ascii_case(proto))
                {
                    fail(
                        t.code,
                        format!(
                            "{}: xinetd's bind fails (Address already in use) and service {id} is deactivated",
                            t.why
                        ),
                        out,
                    );
                    ok = false;
                } else if tcp
                    && let Some(l) = &listener
                    && let Some(other) = listening.iter().find(|o| o.conflicts(l))
                {
                    // UDP sockets never conflict here: xinetd sets
                    // SO_REUSEADDR, and Linux lets every such socket bind.
                    fail(
                        Code::XL022,
                        format!(
                            "port {p}/{proto} is already bound by service id {}{}: this one fails to bind at start-up (Address already in use) and is deactivated",
                            other.id,
                            if bind.is_none() {
                                ""
                            } else {
                                " (a service without `bind` listens on [::], which takes IPv4 too)"
                            }
                        ),
                        out,
                    );
                    ok = false;
                }
                if ok
                    && tcp
                    && let Some(l) = listener
                {
                    listening.push(l);
                }
            }
            // Accepted, but probably not what was meant.
            let wait_is = |v: &str| {
                s.get("wait")
                    .is_some_and(|w| w.first().eq_ignore_ascii_case(v))
            };
            if ok && socket.as_deref() == Some("dgram") && wait_is("no") {
                note_on_wait(
                    out,
                    s,
                    Code::XL040,
                    "dgram with `wait = no`: accepted by this xinetd, broken at run time, rejected from 2.3.15.4 on",
                );
            }
            if ok && socket.as_deref() == Some("stream") && !internal && wait_is("yes") {
                note_on_wait(
                    out,
                    s,
                    Code::XL045,
                    "stream with `wait = yes`: the server is handed the listening socket and must accept() connections itself",
                );
            }
            if ok { Status::Active } else { Status::Rejected }
        };
        verdicts.push(Verdict {
            id,
            name: s.name.clone(),
            file: s.file.clone(),
            line: s.line,
            protocol,
            port,
            server,
            status,
            reasons,
            server_written: s.server_written.clone(),
        });
    }
    if crashed {
        for v in verdicts.iter_mut().filter(|v| v.status == Status::Active) {
            v.status = Status::Rejected;
            v.reasons.push(Code::XL075);
        }
    }
    verdicts
}

/// A finding about an accepted service, at its `wait` line.
fn note_on_wait(out: &mut Vec<Diagnostic>, s: &Service, code: Code, message: &str) {
    let wait = s.get("wait");
    out.push(s.finding(
        wait.map_or(s.line, |w| w.line),
        wait.map_or(s.column, |w| w.column),
        code,
        message.to_string(),
    ));
}
