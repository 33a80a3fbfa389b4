//! The dovecot case: imap, imaps, pop3 and pop3s run from xinetd by
//! starting dovecot's login processes directly.  That works on dovecot 1.x
//! only, and only while the standalone dovecot is stopped; on 2.x it cannot
//! work at all.  Which dovecot is installed, its listeners and where it logs
//! come from the host model (`mailhost_host::dovecot`), the same one
//! `clockcheck env` reads, with the same verdict and fix.

use mailhost_common::root::Root;
use mailhost_host::dovecot::standalone::{self, EnabledBy};
use mailhost_host::dovecot::{Dovecot, Generation, Identity, LogTarget, xinetd};

use crate::config::{Diagnostic, Model, Service};
use crate::host::Host;
use crate::logdest::{self, SyslogConf};
use crate::pipeline::{Status, TakenPort, Verdict};
use crate::rules::Code;

/// The login process each service needs (the errata names imap3 among
/// the services imap-login serves).
fn login_for(name: &str) -> Option<&'static str> {
    match name {
        "imap" | "imaps" | "imap2" | "imap3" | "imap4" => Some("imap-login"),
        "pop3" | "pop3s" => Some("pop3-login"),
        _ => None,
    }
}

/// True when the service's `server` is one of dovecot's login processes.
fn runs_a_login(service: &Service) -> bool {
    service.get("server").is_some_and(|server| {
        let path = server.first();
        let base = path.rsplit('/').next().unwrap_or(path);
        base == "imap-login" || base == "pop3-login"
    })
}

/// The installed dovecot under the host's root (unknown, saying why, when
/// the root cannot be opened).
pub fn read_model(host: &dyn Host) -> Dovecot {
    match Root::new(&host.path("/")) {
        Ok(root) => Dovecot::read(&root),
        Err(e) => Dovecot {
            identity: Identity {
                generation: Generation::Unknown,
                version: None,
                evidence: format!("the root could not be opened: {e}"),
            },
            config: None,
        },
    }
}

/// Where the standalone dovecot is enabled, if it is, in words: the host
/// model's answer (`mailhost_host::dovecot::standalone::enabled`: the rc.conf
/// chain, the last assignment winning, else an enabled systemd unit).
pub fn standalone_enabled(host: &dyn Host) -> Option<String> {
    let root = host.root()?;
    Some(match standalone::enabled(root, None)? {
        EnabledBy::RcConf { value, file, line } => format!(
            "dovecot_enable=\"{value}\" in {}:{line}",
            host.display(&file).display()
        ),
        EnabledBy::Systemd { unit, link } => format!(
            "systemd {unit} is enabled ({})",
            host.display(&link).display()
        ),
    })
}

/// Ports a standalone dovecot takes from xinetd: on the live system the
/// ones running dovecot processes listen on; where the standalone daemon is
/// enabled, the listeners its dovecot.conf configures (dovecot's defaults
/// only when no dovecot.conf is found).
pub fn taken_ports(host: &dyn Host, dovecot: &Dovecot) -> Vec<TakenPort> {
    let mut taken: Vec<TakenPort> = Vec::new();
    for (port, pid) in crate::dovecot_listeners::live_ports(host).unwrap_or_default() {
        if !taken.iter().any(|t| t.port == port) {
            taken.push(TakenPort {
                port,
                protocol: "tcp",
                code: Code::XL043,
                why: format!("dovecot (PID {pid}) is running and listens on {port}/tcp"),
            });
        }
    }
    let Some(why) = standalone_enabled(host) else {
        return taken;
    };
    for (port, listener) in dovecot.ports() {
        let listens = match &dovecot.config {
            Some(config) => format!("its {listener} in {} listens on {port}/tcp", config.file),
            None => format!("with no dovecot.conf found it listens on {port}/tcp by default"),
        };
        if !taken.iter().any(|t| t.port == port) {
            taken.push(TakenPort {
                port,
                protocol: "tcp",
                code: Code::XL043,
                why: format!("the standalone dovecot is enabled too ({why}) and {listens}"),
            });
        }
    }
    taken
}

/// Where dovecot's own lines go: the sentence and the files (jail paths).
/// Fatal lines are logged at LOG_CRIT, which syslog.conf may copy to a
/// second file (FreeBSD's /var/log/messages takes `*.crit`).
fn dovecot_place(dovecot: &Dovecot, syslog: &SyslogConf) -> (String, Vec<String>) {
    let set_at = dovecot
        .config
        .as_ref()
        .and_then(|c| c.log_path.as_ref())
        .map_or_else(
            || "dovecot's default log_path".to_string(),
            |s| format!("log_path at {}", s.at),
        );
    let mut files: Vec<String> = Vec::new();
    let mut add = |file: &str| {
        if !files.iter().any(|f| f == file) {
            files.push(file.to_string());
        }
    };
    for target in [dovecot.error_log(), dovecot.info_log()] {
        match target {
            LogTarget::File(path) => add(&path),
            LogTarget::Syslog { facility } => {
                for level in ["info", "crit"] {
                    for rule in syslog.files_for(&facility, level) {
                        add(&rule.file);
                    }
                }
            }
        }
    }
    let whither = match dovecot.error_log() {
        LogTarget::File(_) => String::new(),
        LogTarget::Syslog { .. } if syslog.read.is_empty() => {
            "; no syslog.conf or rsyslog.conf in the tree says which file that is".into()
        }
        LogTarget::Syslog { .. } if files.is_empty() => format!(
            ", which no selector line of {} sends to a file",
            syslog.read.join(", ")
        ),
        LogTarget::Syslog { .. } => format!(", which syslogd writes to {}", files.join(", ")),
    };
    (
        format!("{} ({set_at}){whither}", dovecot.error_log().describe()),
        files,
    )
}

/// The files to search for what the active dovecot services logged (jail
/// paths, in order, each once): where dovecot logs, then xinetd's log of
/// those services (its `EXIT: imap status=89` lines).  What `--log-files`
/// prints.
pub fn log_files(
    model: &Model,
    verdicts: &[Verdict],
    syslog: &SyslogConf,
    dovecot: &Dovecot,
) -> Vec<String> {
    let mut files: Vec<String> = Vec::new();
    let active: Vec<&Service> = model
        .services
        .iter()
        .zip(verdicts)
        .filter(|(s, v)| login_for(&s.name).is_some() && v.status == Status::Active)
        .map(|(s, _)| s)
        .collect();
    if active.is_empty() {
        return files;
    }
    let (_, dovecot_files) = dovecot_place(dovecot, syslog);
    let xinetd_files = active
        .iter()
        .flat_map(|s| logdest::place(s, &model.defaults, syslog).files);
    for file in dovecot_files.into_iter().chain(xinetd_files) {
        if !files.contains(&file) {
            files.push(file);
        }
    }
    files
}

pub fn check(
    model: &Model,
    verdicts: &[Verdict],
    syslog: &SyslogConf,
    dovecot: &Dovecot,
    out: &mut Vec<Diagnostic>,
) {
    let verdict = xinetd::verdict(dovecot);
    for (service, status) in model.services.iter().zip(verdicts) {
        let Some(login) = login_for(&service.name) else {
            continue;
        };
        let mut push = |line: usize, column: usize, code: Code, message: String| {
            out.push(service.finding(line, column, code, message));
        };
        let name = &service.name;
        if !service.disabled && runs_a_login(service) {
            match verdict.works {
                xinetd::Works::No => push(
                    service.line,
                    service.column,
                    Code::XL048,
                    format!("{name}: {}; fix: {}", verdict.conclusion, verdict.fix),
                ),
                xinetd::Works::Unknown => push(
                    service.line,
                    service.column,
                    Code::XL049,
                    format!("{name}: {}", verdict.conclusion),
                ),
                xinetd::Works::Yes => {}
            }
        }
        // On 2.x the recipe itself is wrong (XL048): no advice on its details.
        if dovecot.generation() == Generation::V2 {
            continue;
        }
        if service.disabled {
            push(
                service.line,
                service.column,
                Code::XL042,
                format!(
                    "{name} still says `disable = yes`: once the standalone dovecot is stopped nothing serves {name} on this host"
                ),
            );
        }
        if let Some(server) = service.get("server") {
            let path = server.first();
            let base = path.rsplit('/').next().unwrap_or(path);
            if base != login {
                push(
                    server.line,
                    server.column,
                    Code::XL041,
                    format!(
                        "server for {name} should be dovecot's {login} (/usr/local/libexec/dovecot/{login} on FreeBSD, /usr/lib/dovecot/{login} on Debian), not {path}"
                    ),
                );
            }
        }
        if status.status == Status::Active {
            let (dovecot_sentence, _) = dovecot_place(dovecot, syslog);
            let xinetd_place = logdest::place(service, &model.defaults, syslog);
            push(
                service.line,
                service.column,
                Code::XL044,
                format!(
                    "{name}: dovecot's {login} logs where every dovecot process logs, to {dovecot_sentence}; \
                     xinetd's own log ({}) holds only xinetd's START and EXIT lines for {name}, such as {} \
                     when a login process dies",
                    xinetd_place.sentence,
                    xinetd::XINETD_EXIT_LINE
                ),
            );
        }
    }
}
