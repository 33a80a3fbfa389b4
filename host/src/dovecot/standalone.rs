//! The standalone dovecot: whether it is enabled at boot, where that is
//! said, and the ports its own listeners take.  The one answer for every
//! tool (xinetd-lint's XL043 and its dovecot findings, clockcheck env's
//! advice, the cross-tool agreement test).

use std::path::PathBuf;

use mailhost_common::rcconf::RcConf;
use mailhost_common::root::Root;

use super::Dovecot;
use crate::systemd::{self, UnitState};

/// The units that start the standalone dovecot: its service, or its socket
/// activation.
pub const UNITS: [&str; 2] = ["dovecot.service", "dovecot.socket"];

/// What enables the standalone dovecot at boot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EnabledBy {
    /// FreeBSD: `dovecot_enable` says yes, set last at this file and line of
    /// the rc.conf chain (jail path).
    RcConf {
        value: String,
        file: PathBuf,
        line: usize,
    },
    /// systemd: this unit is pulled in by this link (jail path).
    Systemd { unit: String, link: PathBuf },
}

/// The standalone dovecot on a tree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Standalone {
    /// `None`: nothing enables it at boot.
    pub enabled: Option<EnabledBy>,
    /// The TCP ports its listeners take, each with its listener (dovecot's
    /// defaults when no dovecot.conf was found): [`Dovecot::ports`].
    pub ports: Vec<(u16, String)>,
}

/// Whether the standalone dovecot is enabled at boot: FreeBSD's rc.conf
/// chain (the last assignment of `dovecot_enable` wins), else a systemd unit
/// of [`UNITS`] that is enabled (not masked).  `rc` is the chain when the
/// caller has read it already (`None`: read here; unreadable counts as not
/// enabled there).
pub fn enabled(root: &Root, rc: Option<&RcConf>) -> Option<EnabledBy> {
    let loaded;
    let rc = match rc {
        Some(rc) => Some(rc),
        None => {
            loaded = RcConf::load(root).ok();
            loaded.as_ref()
        }
    };
    if let Some(rc) = rc
        && rc.is_yes("dovecot_enable")
        && let Some(at) = rc.assignment("dovecot_enable")
    {
        return Some(EnabledBy::RcConf {
            value: at.value.clone(),
            file: at.file.clone(),
            line: at.line,
        });
    }
    UNITS
        .iter()
        .find_map(|unit| match systemd::unit_state(root, unit) {
            Some(UnitState::Enabled { link }) => Some(EnabledBy::Systemd {
                unit: unit.to_string(),
                link,
            }),
            _ => None,
        })
}

/// Is the standalone dovecot enabled, and on which ports.
pub fn standalone(root: &Root, dovecot: &Dovecot) -> Standalone {
    Standalone {
        enabled: enabled(root, None),
        ports: dovecot.ports(),
    }
}

/// The dovecot facts every tool prints in its JSON (`dovecot`), in one
/// shape, so that the cross-tool agreement test (tests/agreement.sh) can
/// compare them field by field.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Facts {
    /// `1.x`, `2.x` or `unknown`.
    pub generation: super::Generation,
    pub version: Option<String>,
    /// What enables the standalone dovecot at boot, as a jail path and line
    /// (`/etc/rc.conf.d/dovecot:2`) or a systemd link; `null` when nothing
    /// does.
    pub enabled_by: Option<String>,
    /// The TCP ports its own listeners take, ascending.
    pub ports: Vec<u16>,
}

impl Facts {
    /// The facts of `dovecot` (read under `root`) and of its standalone
    /// daemon.
    pub fn read(root: &Root, dovecot: &Dovecot) -> Facts {
        let found = standalone(root, dovecot);
        let mut ports: Vec<u16> = found.ports.iter().map(|(port, _)| *port).collect();
        ports.sort_unstable();
        ports.dedup();
        Facts {
            generation: dovecot.generation(),
            version: dovecot.identity.version.clone(),
            enabled_by: found.enabled.map(|by| match by {
                EnabledBy::RcConf { file, line, .. } => format!("{}:{line}", file.display()),
                EnabledBy::Systemd { link, .. } => link.display().to_string(),
            }),
            ports,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chain_file_that_says_yes_is_named() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("etc/rc.conf.d")).unwrap();
        std::fs::write(dir.path().join("etc/rc.conf"), "dovecot_enable=\"NO\"\n").unwrap();
        std::fs::write(
            dir.path().join("etc/rc.conf.d/dovecot"),
            "# local\ndovecot_enable=\"YES\"\n",
        )
        .unwrap();
        let root = Root::new(dir.path()).unwrap();
        let dovecot = Dovecot::read(&root);
        let found = standalone(&root, &dovecot);
        assert_eq!(
            found.enabled,
            Some(EnabledBy::RcConf {
                value: "YES".into(),
                file: PathBuf::from("/etc/rc.conf.d/dovecot"),
                line: 2
            })
        );
        // No dovecot.conf: dovecot's default listeners.
        assert!(
            found.ports.iter().any(|(port, _)| *port == 143),
            "{found:?}"
        );
    }

    #[test]
    fn a_masked_unit_does_not_enable_it() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("etc/systemd/system/sockets.target.wants"))
            .unwrap();
        std::fs::write(dir.path().join("etc/systemd/system/dovecot.service"), "").unwrap();
        let root = Root::new(dir.path()).unwrap();
        assert_eq!(enabled(&root, None), None);
        std::os::unix::fs::symlink(
            "/lib/systemd/system/dovecot.socket",
            dir.path()
                .join("etc/systemd/system/sockets.target.wants/dovecot.socket"),
        )
        .unwrap();
        assert_eq!(
            enabled(&root, None),
            Some(EnabledBy::Systemd {
                unit: "dovecot.socket".into(),
                link: PathBuf::from("/etc/systemd/system/sockets.target.wants/dovecot.socket")
            })
        );
    }
}
