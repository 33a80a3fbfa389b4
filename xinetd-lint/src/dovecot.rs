//! The dovecot case: imap, imaps, pop3 and pop3s run from xinetd by
//! starting dovecot's login processes directly, which works only while the
//! standalone dovecot is stopped.

use std::path::Path;

use mailhost_common::rcconf::RcConf;

use crate::config::{Diagnostic, Model};
use crate::host::Host;
use crate::logdest::{self, SyslogConf};
use crate::pipeline::{Status, TakenPort, Verdict};
use crate::rules;

/// The login process each service needs (the errata names imap3 among
/// the services imap-login serves).
fn login_for(name: &str) -> Option<&'static str> {
    match name {
        "imap" | "imaps" | "imap2" | "imap3" | "imap4" => Some("imap-login"),
        "pop3" | "pop3s" => Some("pop3-login"),
        _ => None,
    }
}

/// Where the standalone dovecot is enabled, if it is: FreeBSD's rc.conf
/// chain (rc.conf, rc.conf.local, rc.conf.d; the last assignment wins), or
/// systemd units enabled under /etc/systemd/system.  Read inside the tree.
pub fn standalone_enabled(host: &dyn Host) -> Option<String> {
    if let Some(root) = host.root()
        && let Ok(rc) = RcConf::load(root)
        && rc.is_yes("dovecot_enable")
        && let Some(at) = rc.assignment("dovecot_enable")
    {
        return Some(format!(
            "dovecot_enable=\"{}\" in {}:{}",
            at.value,
            host.display(&at.file).display(),
            at.line
        ));
    }
    let unit = crate::host::enabled_unit(host, &["dovecot.service", "dovecot.socket"])?;
    let name = unit
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    Some(format!(
        "systemd {name} is enabled ({})",
        host.display(Path::new(&unit)).display()
    ))
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

/// The files the active dovecot services log to (jail paths, in order,
/// each once): what `--log-files` prints.
pub fn log_files(model: &Model, verdicts: &[Verdict], syslog: &SyslogConf) -> Vec<String> {
    let mut files: Vec<String> = Vec::new();
    for (service, verdict) in model.services.iter().zip(verdicts) {
        if login_for(&service.name).is_none() || verdict.status != Status::Active {
            continue;
        }
        for file in logdest::place(service, &model.defaults, syslog).files {
            if !files.contains(&file) {
                files.push(file);
            }
        }
    }
    files
}

pub fn check(model: &Model, verdicts: &[Verdict], syslog: &SyslogConf, out: &mut Vec<Diagnostic>) {
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
            let place = logdest::place(service, &model.defaults, syslog);
            push(
                service.line,
                service.column,
                "XL044",
                format!(
                    "{}: dovecot's {login} now logs through xinetd {}, not /var/log/maillog",
                    service.name, place.sentence
                ),
            );
        }
    }
}
