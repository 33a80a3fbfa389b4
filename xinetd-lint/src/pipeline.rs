//! Which services survive: xinetd's post-parse pipeline (reference §5),
//! then start-up (two services on one port; a standalone daemon on it).
//!
//! Each service goes through xinetd's phases in xinetd's order, one
//! module each, and stops at the first rule that rejects it:
//! 1. `remove_disabled`: dropped while reading, `disable = yes`, the
//!    defaults' `enabled`/`disabled` lists, a value error
//!    (remove_disabled_services);
//! 2. `service_fill`: what xinetd fills in (a redirect's server, the
//!    protocol from socket_type and back, the port from /etc/services);
//! 3. `check_entry`: confparse.c's checks (duplicates, INTERNAL, TCPMUX,
//!    RPC, /etc/services, redirect, TRAFFIC, required attributes);
//! 4. `svc_activate`: start-up (the socket, the portmapper, the bind
//!    address, the port);
//! 5. `accepted_but_odd`: accepted, but probably not what was meant.
//!
//! A rule is a function under its phase; `Entry` is what the phases
//! know about the service, `Daemon` what xinetd has set up so far.

mod check_entry;
mod remove_disabled;
mod service_fill;
mod svc_activate;

use serde::Serialize;

use crate::config::{Diagnostic, Model, Service};
use crate::host::Host;
use crate::rules::Code;
use crate::startup::{CheckedServices, Listening};
use remove_disabled::IdLists;

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

/// A port xinetd cannot bind because another program holds it, with why.
pub struct TakenPort {
    pub port: u16,
    pub protocol: &'static str,
    pub code: Code,
    pub why: String,
}

fn has_flag(s: &Service, attr: &str, flag: &str) -> bool {
    s.get(attr)
        .is_some_and(|v| v.values.iter().any(|x| x.eq_ignore_ascii_case(flag)))
}

/// A rule rejected the service: the phases after it do not run.
struct Rejected;

/// What a phase (or one of its rules) ends with.
type Phase = Result<(), Rejected>;

/// What xinetd has set up while going through the services, in order.
#[derive(Default)]
struct Daemon {
    /// Services that passed check_entry so far (its duplicate check
    /// looks at them).
    checked: CheckedServices,
    /// The TCP sockets xinetd has bound at start-up.
    listening: Listening,
    /// xinetd died while checking the services: none starts.
    crashed: bool,
}

/// The `type` flags that decide which rules apply.
#[derive(Clone, Copy)]
struct Kind {
    internal: bool,
    unlisted: bool,
    rpc: bool,
    tcpmux: bool,
}

/// One service on its way through the phases: what xinetd has made of it
/// so far, and the codes of the rules that stopped it.
struct Entry<'a> {
    s: &'a Service,
    id: String,
    kind: Kind,
    redirect: bool,
    /// socket_type (lower case) as written, then as service_fill gave it.
    socket: Option<String>,
    /// Whether socket_type counts as written (required attributes).
    socket_given: bool,
    protocol: Option<String>,
    server: Option<String>,
    /// The port as written; `port` is it or what service_fill looked up.
    explicit_port: Option<u16>,
    port: Option<u16>,
    /// The service's bind address, else the defaults'.
    bind: Option<String>,
    reasons: Vec<Code>,
    out: &'a mut Vec<Diagnostic>,
}

impl<'a> Entry<'a> {
    fn new(s: &'a Service, default_bind: Option<&str>, out: &'a mut Vec<Diagnostic>) -> Self {
        let types: Vec<String> = s
            .get("type")
            .map(|v| v.values.iter().map(|x| x.to_ascii_uppercase()).collect())
            .unwrap_or_default();
        let is = |t: &str| types.iter().any(|x| x == t);
        let explicit_port = s
            .get("port")
            .and_then(|v| crate::attrs::integer(v.first()))
            .map(|p| p as u16);
        Entry {
            s,
            id: s.id(),
            kind: Kind {
                internal: is("INTERNAL"),
                unlisted: is("UNLISTED"),
                rpc: is("RPC"),
                tcpmux: is("TCPMUX") || is("TCPMUXPLUS"),
            },
            redirect: s.get("redirect").is_some(),
            socket: s.get("socket_type").map(|v| v.first().to_ascii_lowercase()),
            socket_given: false,
            protocol: s.get("protocol").map(|v| v.first().to_string()),
            server: s.get("server").map(|v| v.first().to_string()),
            explicit_port,
            port: explicit_port,
            bind: s
                .get("bind")
                .map(|v| v.first().to_string())
                .or_else(|| default_bind.map(str::to_string)),
            reasons: Vec::new(),
            out,
        }
    }

    fn flag(&self, attr: &str, flag: &str) -> bool {
        has_flag(self.s, attr, flag)
    }

    /// A finding at the service's header that is also a reason of its verdict.
    fn report(&mut self, code: Code, message: String) {
        self.out
            .push(self.s.finding(self.s.line, self.s.column, code, message));
        self.reasons.push(code);
    }

    /// [`Entry::report`], and the service goes no further.
    fn reject(&mut self, code: Code, message: String) -> Phase {
        self.report(code, message);
        Err(Rejected)
    }

    /// A finding that does not change the verdict.
    fn note(&mut self, line: usize, column: usize, code: Code, message: String) {
        self.out.push(self.s.finding(line, column, code, message));
    }

    fn verdict(self, status: Status) -> Verdict {
        Verdict {
            id: self.id,
            name: self.s.name.clone(),
            file: self.s.file.clone(),
            line: self.s.line,
            protocol: self.protocol,
            port: self.port,
            server: self.server,
            status,
            reasons: self.reasons,
            server_written: self.s.server_written.clone(),
        }
    }
}

pub fn verdicts(
    model: &Model,
    host: &dyn Host,
    taken: &[TakenPort],
    out: &mut Vec<Diagnostic>,
) -> Vec<Verdict> {
    let lists = IdLists::of(&model.defaults);
    let default_bind = model
        .defaults
        .attrs
        .get("bind")
        .map(|s| s.first().to_string());
    let mut daemon = Daemon::default();
    let mut verdicts = Vec::new();
    for s in &model.services {
        let mut e = Entry::new(s, default_bind.as_deref(), out);
        let status = remove_disabled::removed(&mut e, &lists).unwrap_or_else(|| {
            match phases(&mut e, model, host, taken, &mut daemon) {
                Ok(()) => Status::Active,
                Err(Rejected) => Status::Rejected,
            }
        });
        verdicts.push(e.verdict(status));
    }
    if daemon.crashed {
        for v in verdicts.iter_mut().filter(|v| v.status == Status::Active) {
            v.status = Status::Rejected;
            v.reasons.push(Code::XL075);
        }
    }
    verdicts
}

/// The phases after remove_disabled_services, in xinetd's order.
fn phases(
    e: &mut Entry,
    model: &Model,
    host: &dyn Host,
    taken: &[TakenPort],
    daemon: &mut Daemon,
) -> Phase {
    service_fill::service_fill(e, host)?;
    check_entry::check_entry(e, &model.defaults, host, daemon)?;
    svc_activate::svc_activate(e, host, taken, daemon)?;
    accepted_but_odd(e);
    Ok(())
}

/// Accepted, but probably not what was meant.
fn accepted_but_odd(e: &mut Entry) {
    let wait_is = |v: &str| {
        e.s.get("wait")
            .is_some_and(|w| w.first().eq_ignore_ascii_case(v))
    };
    let (no_wait, waits) = (wait_is("no"), wait_is("yes"));
    if e.socket.as_deref() == Some("dgram") && no_wait {
        note_on_wait(
            e,
            Code::XL040,
            "dgram with `wait = no`: accepted by this xinetd, broken at run time, rejected from 2.3.15.4 on",
        );
    }
    if e.socket.as_deref() == Some("stream") && !e.kind.internal && waits {
        note_on_wait(
            e,
            Code::XL045,
            "stream with `wait = yes`: the server is handed the listening socket and must accept() connections itself",
        );
    }
}

/// A finding about an accepted service, at its `wait` line.
fn note_on_wait(e: &mut Entry, code: Code, message: &str) {
    let wait = e.s.get("wait");
    let (line, column) = wait.map_or((e.s.line, e.s.column), |w| (w.line, w.column));
    e.note(line, column, code, message.to_string());
}
