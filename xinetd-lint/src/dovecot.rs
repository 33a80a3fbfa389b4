//! The dovecot case: imap, imaps, pop3 and pop3s run from xinetd by
//! starting dovecot's login processes directly, which works only while the
//! standalone dovecot is stopped.

use crate::config::{Diagnostic, Model};
use crate::host::Host;
use crate::pipeline::{Status, TakenPort, Verdict};
use crate::rules;

/// The login process each service needs.
fn login_for(name: &str) -> Option<&'static str> {
    match name {
        "imap" | "imaps" | "imap2" | "imap4" => Some("imap-login"),
        "pop3" | "pop3s" => Some("pop3-login"),
        _ => None,
    }
}

/// Where the standalone dovecot is enabled, if it is: FreeBSD rc.conf and
/// rc.conf.d, or systemd units enabled under /etc/systemd/system.
pub fn standalone_enabled(host: &dyn Host) -> Option<String> {
    for file in [
        "/etc/rc.conf",
        "/etc/rc.conf.local",
        "/etc/rc.conf.d/dovecot",
    ] {
        let path = host.path(file);
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let mut found = None;
        for (n, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or("").trim();
            if let Some(value) = line.strip_prefix("dovecot_enable=") {
                let value = value.trim_matches(|c| c == '"' || c == '\'');
                // The last assignment wins, as in sh.
                found = value
                    .eq_ignore_ascii_case("yes")
                    .then(|| format!("dovecot_enable=\"YES\" in {}:{}", path.display(), n + 1));
            }
        }
        if found.is_some() {
            return found;
        }
    }
    let units = host.path("/etc/systemd/system");
    for wants in std::fs::read_dir(&units).into_iter().flatten().flatten() {
        for unit in ["dovecot.service", "dovecot.socket"] {
            let link = wants.path().join(unit);
            if wants.file_name().to_string_lossy().ends_with(".wants")
                && std::fs::symlink_metadata(&link).is_ok()
            {
                return Some(format!("systemd {unit} is enabled ({})", link.display()));
            }
        }
    }
    None
}

/// Ports a standalone dovecot takes from xinetd: on the live system the
/// ones running dovecot processes listen on; where the standalone daemon is
/// enabled, the listeners its dovecot.conf configures (dovecot's defaults,
/// 143, 993, 110 and 995, only when no dovecot.conf is found).
pub fn taken_ports(host: &dyn Host) -> Vec<TakenPort> {
    let mut taken: Vec<TakenPort> = Vec::new();
    for (port, pid) in crate::dovecot_listeners::live_ports(host).unwrap_or_default() {
        if !taken.iter().any(|t| t.port == port) {
            taken.push(TakenPort {
                port,
                protocol: "tcp",
                code: "XL043",
                why: format!("dovecot (PID {pid}) is running and listens on {port}/tcp"),
            });
        }
    }
    let Some(why) = standalone_enabled(host) else {
        return taken;
    };
    let ports: Vec<(u16, String)> = match crate::dovecot_listeners::read_config(host) {
        Some(config) => config
            .ports()
            .into_iter()
            .map(|(port, listener)| {
                (
                    port,
                    format!("its {listener} in {} listens on {port}/tcp", config.file),
                )
            })
            .collect(),
        None => [143u16, 993, 110, 995]
            .into_iter()
            .map(|port| {
                (
                    port,
                    format!("with no dovecot.conf found it listens on {port}/tcp by default"),
                )
            })
            .collect(),
    };
    for (port, listens) in ports {
        if !taken.iter().any(|t| t.port == port) {
            taken.push(TakenPort {
                port,
                protocol: "tcp",
                code: "XL043",
                why: format!("the standalone dovecot is enabled too ({why}) and {listens}"),
            });
        }
    }
    taken
}

pub fn check(model: &Model, verdicts: &[Verdict], out: &mut Vec<Diagnostic>) {
    for (service, verdict) in model.services.iter().zip(verdicts) {
        let Some(login) = login_for(&service.name) else {
            continue;
        };
        let mut push = |line: usize, column: usize, code: &'static str, message: String| {
            out.push(Diagnostic {
                file: service.file.clone(),
                line,
                column,
                code,
                severity: rules::severity(code),
                service: Some(service.name.clone()),
                message,
            });
        };
        if service.disabled {
            push(
                service.line,
                service.column,
                "XL042",
                format!(
                    "{} still says `disable = yes`: once the standalone dovecot is stopped nothing serves {} on this host",
                    service.name, service.name
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
                    "XL041",
                    format!(
                        "server for {} should be dovecot's {login} (/usr/local/libexec/dovecot/{login} on FreeBSD, /usr/lib/dovecot/{login} on Debian), not {path}",
                        service.name
                    ),
                );
            }
        }
        if verdict.status == Status::Active {
            push(
                service.line,
                service.column,
                "XL044",
                format!(
                    "{}: dovecot's {login} now logs through xinetd (its log_type, syslog facility daemon by default), not /var/log/maillog",
                    service.name
                ),
            );
        }
    }
}
