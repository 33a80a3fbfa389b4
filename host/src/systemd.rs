//! systemd units on a tree: whether a unit is enabled, masked or only
//! installed, as `systemctl is-enabled` would say, from the links alone (a
//! link is never followed, so a link to a host file cannot probe it).

use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};

use mailhost_common::root::Root;

/// Where `systemctl is-enabled` looks: the admin's links in /etc, and the
/// links the distribution ships enabled (`.wants` in the vendor directory).
pub const ENABLE_DIRS: &[&str] = &[
    "/etc/systemd/system",
    "/lib/systemd/system",
    "/usr/lib/systemd/system",
];

/// A unit's state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UnitState {
    /// A `.wants`/`.requires` link pulls it in: the link (jail path).
    Enabled { link: PathBuf },
    /// A link to /dev/null (or an empty file) in /etc/systemd/system.
    Masked,
    /// Its unit file exists, nothing pulls it in.
    Disabled,
}

impl UnitState {
    /// The word `systemctl is-enabled` prints.
    pub fn as_str(&self) -> &'static str {
        match self {
            UnitState::Enabled { .. } => "enabled",
            UnitState::Masked => "masked",
            UnitState::Disabled => "disabled",
        }
    }
}

/// The state of unit `name` on the tree; `None` when the tree has no such
/// unit at all.
pub fn unit_state(root: &Root, name: &str) -> Option<UnitState> {
    let admin = Path::new("/etc/systemd/system").join(name);
    let masked = root
        .metadata(&admin)
        .is_ok_and(|m| m.file_type().is_char_device() || (m.is_file() && m.len() == 0));
    if masked {
        return Some(UnitState::Masked);
    }
    if let Some(link) = enabling_link(root, name) {
        return Some(UnitState::Enabled { link });
    }
    ENABLE_DIRS
        .iter()
        .any(|dir| root.metadata(&Path::new(dir).join(name)).is_ok())
        .then_some(UnitState::Disabled)
}

/// A systemd unit's state as `systemctl is-enabled` would report it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unit {
    pub name: String,
    /// `enabled` (a `.wants`/`.requires` link), `masked`, or `disabled`
    /// (the unit file exists but nothing pulls it in).
    pub state: &'static str,
}

/// The units among `names` that the tree has, in that order, with their
/// state.
pub fn unit_states<'n>(root: &Root, names: impl IntoIterator<Item = &'n str>) -> Vec<Unit> {
    names
        .into_iter()
        .filter_map(|name| {
            let state = unit_state(root, name)?;
            Some(Unit {
                name: name.to_string(),
                state: state.as_str(),
            })
        })
        .collect()
}

/// The first `.wants`/`.requires` link to `name` (jail path).
fn enabling_link(root: &Root, name: &str) -> Option<PathBuf> {
    for dir in ENABLE_DIRS {
        let dir = Path::new(dir);
        for sub in root.read_dir(dir).unwrap_or_default() {
            let sub = sub.to_string_lossy();
            if !(sub.ends_with(".wants") || sub.ends_with(".requires")) {
                continue;
            }
            let wants = dir.join(&*sub);
            let names = root.read_dir(&wants).unwrap_or_default();
            if names.iter().any(|n| n == name) {
                return Some(wants.join(name));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enabled_masked_disabled_and_absent() {
        let dir = tempfile::tempdir().unwrap();
        let at = |p: &str| dir.path().join(p);
        std::fs::create_dir_all(at("etc/systemd/system/multi-user.target.wants")).unwrap();
        std::fs::create_dir_all(at("lib/systemd/system/sockets.target.wants")).unwrap();
        std::fs::write(at("lib/systemd/system/dovecot.service"), "[Unit]\n").unwrap();
        std::fs::write(at("lib/systemd/system/dovecot.socket"), "[Unit]\n").unwrap();
        std::fs::write(at("lib/systemd/system/chrony.service"), "[Unit]\n").unwrap();
        std::os::unix::fs::symlink(
            "/lib/systemd/system/dovecot.service",
            at("etc/systemd/system/multi-user.target.wants/dovecot.service"),
        )
        .unwrap();
        std::fs::write(at("etc/systemd/system/chrony.service"), "").unwrap();
        let root = Root::new(dir.path()).unwrap();
        assert_eq!(
            unit_state(&root, "dovecot.service"),
            Some(UnitState::Enabled {
                link: PathBuf::from("/etc/systemd/system/multi-user.target.wants/dovecot.service")
            })
        );
        assert_eq!(
            unit_state(&root, "dovecot.socket"),
            Some(UnitState::Disabled)
        );
        assert_eq!(unit_state(&root, "chrony.service"), Some(UnitState::Masked));
        assert_eq!(unit_state(&root, "xinetd.service"), None);
        let states: Vec<(String, &str)> = unit_states(
            &root,
            ["xinetd.service", "dovecot.socket", "chrony.service"],
        )
        .into_iter()
        .map(|unit| (unit.name, unit.state))
        .collect();
        assert_eq!(
            states,
            [
                ("dovecot.socket".to_string(), "disabled"),
                ("chrony.service".to_string(), "masked")
            ]
        );
    }
}
