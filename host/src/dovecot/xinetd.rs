//! Running dovecot's login processes from xinetd (the errata's recipe):
//! whether it works on the installed generation, and what to do.  Every tool
//! prints these words, so that xinetd-lint and `clockcheck env` reach the
//! same conclusion with the same fix.
//!
//! Checked against the real programs (tests/dovecot_oracle in xinetd-lint)
//! and dovecot's source: 2.0 removed inetd support (dovecot/core
//! d176f84ce5): a login process the master did not start runs standalone and
//! never reads its standard input, and without a master it exits at once
//! with status 89.  1.x's login process detects inetd and starts a master
//! (`DOVECOT_INETD=1`) that binds no port.

use super::{Dovecot, Generation};

/// Whether the errata's recipe can work on this dovecot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Works {
    Yes,
    No,
    Unknown,
}

/// The conclusion, and the fix when there is one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    pub works: Works,
    /// One sentence: what happens, on which dovecot, and how that is known.
    pub conclusion: String,
    /// What to do (empty when nothing is to be done).
    pub fix: String,
}

/// The fix on dovecot 2.x, in the words every tool prints.
pub const FIX_2X: &str = "keep dovecot's own listeners (the standalone dovecot, enabled and \
running) and remove these xinetd services; on Linux, use systemd socket activation \
(dovecot.socket) if starting dovecot on demand is the goal";

/// What xinetd's log shows of a login process that died: its own EXIT line
/// (dovecot's Fatal line goes where dovecot logs, not there).
pub const XINETD_EXIT_LINE: &str = "`EXIT: imap status=89 pid=… duration=…(sec)`";

/// The verdict on running dovecot's login processes from xinetd.
pub fn verdict(dovecot: &Dovecot) -> Verdict {
    let id = &dovecot.identity;
    let name = id.name();
    match id.generation {
        Generation::V2 => Verdict {
            works: Works::No,
            conclusion: format!(
                "{name} cannot run from xinetd ({}): inetd support was removed in dovecot 2.0, so a \
                 login process xinetd starts runs standalone and never reads the connection, and no \
                 client gets a greeting (with no dovecot master running it exits at once, status 89)",
                id.evidence
            ),
            fix: FIX_2X.to_string(),
        },
        Generation::V1 => Verdict {
            works: Works::Yes,
            conclusion: format!(
                "{name} can run from xinetd ({}): the first connection's login process starts a \
                 dovecot master that binds no port; the standalone dovecot must be off; dovecot \
                 still logs to {}",
                id.evidence,
                dovecot.error_log().describe()
            ),
            fix: String::new(),
        },
        Generation::Unknown => Verdict {
            works: Works::Unknown,
            conclusion: format!(
                "which dovecot is installed is unknown ({}): only dovecot 1.x can be run from \
                 xinetd (2.0 removed inetd support)",
                id.evidence
            ),
            fix: format!(
                "check `dovecot --version`: on 1.x the errata's recipe holds; on 2.x {FIX_2X}"
            ),
        },
    }
}

/// Exact commands for the 2.x fix: move the xinetd services that start
/// dovecot's login processes aside, restart xinetd, enable and start the
/// standalone dovecot.  `rc_enable` is FreeBSD's command that sets
/// `dovecot_enable=YES` in the file of the rc.conf chain that holds it
/// (`RcConf::sysrc_commands`); `None` on a systemd host.
pub fn commands_2x(xinetd_files: &[String], rc_enable: Option<&str>) -> Vec<String> {
    let mut commands = Vec::new();
    if !xinetd_files.is_empty() {
        commands.push("mkdir -p /root/xinetd.d.off".to_string());
        commands.push(format!("mv {} /root/xinetd.d.off/", xinetd_files.join(" ")));
    }
    match rc_enable {
        Some(enable) => {
            commands.push("service xinetd restart".into());
            commands.push(enable.to_string());
            commands.push("service dovecot start".into());
        }
        None => {
            commands.push("systemctl restart xinetd.service".into());
            commands.push("systemctl enable --now dovecot.service".into());
        }
    }
    commands
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dovecot::Identity;

    fn dovecot(generation: Generation, version: Option<&str>) -> Dovecot {
        Dovecot {
            identity: Identity {
                generation,
                version: version.map(str::to_string),
                evidence: "test".into(),
            },
            config: None,
        }
    }

    #[test]
    fn each_generation_has_its_verdict() {
        let v2 = verdict(&dovecot(Generation::V2, Some("2.3.19.1")));
        assert_eq!(v2.works, Works::No);
        assert!(
            v2.conclusion
                .starts_with("dovecot 2.3.19.1 cannot run from xinetd")
        );
        assert_eq!(v2.fix, FIX_2X);
        let v1 = verdict(&dovecot(Generation::V1, Some("1.2.17")));
        assert_eq!(v1.works, Works::Yes);
        assert!(
            v1.conclusion.contains("logs to syslog, facility mail"),
            "{}",
            v1.conclusion
        );
        let unknown = verdict(&dovecot(Generation::Unknown, None));
        assert_eq!(unknown.works, Works::Unknown);
        assert!(unknown.conclusion.contains("only dovecot 1.x"));
    }

    #[test]
    fn commands_edit_the_file_that_holds_the_setting() {
        let files = vec!["/usr/local/etc/xinetd.d/imap".to_string()];
        let c = commands_2x(
            &files,
            Some("sysrc -f /etc/rc.conf.d/dovecot dovecot_enable=YES"),
        );
        assert_eq!(
            c,
            [
                "mkdir -p /root/xinetd.d.off",
                "mv /usr/local/etc/xinetd.d/imap /root/xinetd.d.off/",
                "service xinetd restart",
                "sysrc -f /etc/rc.conf.d/dovecot dovecot_enable=YES",
                "service dovecot start"
            ]
        );
        assert_eq!(
            commands_2x(&[], None).last().unwrap(),
            "systemctl enable --now dovecot.service"
        );
    }
}
