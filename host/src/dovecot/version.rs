//! Which dovecot is installed: its generation (1.x or 2.x, the line inetd
//! support fell on: dovecot 2.0 removed it) and version, from what an
//! install leaves in the tree, most specific first:
//!
//! 1. Debian's package database, /var/lib/dpkg/status (`dovecot-core` for
//!    2.x, `dovecot-common` for 1.x), installed packages only;
//! 2. FreeBSD's package files: every port installs
//!    /usr/local/share/licenses/PKGNAME-VERSION/ (the pkg database itself,
//!    /var/db/pkg/local.sqlite, is SQLite and not read here; neither is
//!    RHEL's rpm database);
//! 3. the master binary's start-up line, `Dovecot vVERSION starting up`,
//!    which every version since 1.0 builds into /usr/sbin/dovecot or
//!    /usr/local/sbin/dovecot as one string;
//! 4. the shape of dovecot.conf (see `config`): generation only.
//!
//! What none of these tells is `Generation::Unknown`, with the list of what
//! was looked for, for the tools to print.

use std::path::Path;

use mailhost_common::root::Root;

use super::config::Config;

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum Generation {
    /// 1.x: inetd-capable (a login process started by inetd starts a master).
    #[serde(rename = "1.x")]
    V1,
    /// 2.0 and later: no inetd support.
    #[serde(rename = "2.x")]
    V2,
    #[serde(rename = "unknown")]
    Unknown,
}

impl Generation {
    pub fn as_str(self) -> &'static str {
        match self {
            Generation::V1 => "1.x",
            Generation::V2 => "2.x",
            Generation::Unknown => "unknown",
        }
    }

    /// From a version such as `2.3.19.1` or `1.2.17`.
    pub fn of_version(version: &str) -> Generation {
        match version
            .split('.')
            .next()
            .and_then(|m| m.parse::<u32>().ok())
        {
            Some(1) => Generation::V1,
            Some(n) if n >= 2 => Generation::V2,
            _ => Generation::Unknown,
        }
    }
}

/// Which dovecot, and how that is known.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    pub generation: Generation,
    /// The upstream version (`2.3.19.1`), when a source tells it.
    pub version: Option<String>,
    /// Where the answer came from (`/var/lib/dpkg/status: dovecot-core
    /// 1:2.3.19.1+dfsg1-2.1+deb12u7`), or, when unknown, every place looked.
    pub evidence: String,
}

impl Identity {
    /// `dovecot 2.3.19.1` / `dovecot 1.x` / `dovecot (unknown version)`.
    pub fn name(&self) -> String {
        match (&self.version, self.generation) {
            (Some(v), _) => format!("dovecot {v}"),
            (None, Generation::Unknown) => "dovecot (generation unknown)".into(),
            (None, g) => format!("dovecot {}", g.as_str()),
        }
    }
}

pub const DPKG_STATUS: &str = "/var/lib/dpkg/status";
pub const FREEBSD_LICENSES: &str = "/usr/local/share/licenses";
pub const MASTER_BINARIES: &[&str] = &["/usr/local/sbin/dovecot", "/usr/sbin/dovecot"];
/// The Debian packages that carry dovecot's version: 2.x, then 1.x.
const DPKG_PACKAGES: &[&str] = &["dovecot-core", "dovecot-common"];
/// A dovecot master binary is a few MB.
const MAX_BINARY_BYTES: u64 = 32 * 1024 * 1024;
/// A dpkg status file of a large server is a few MB.
const MAX_STATUS_BYTES: u64 = 64 * 1024 * 1024;

/// Identifies the dovecot under `root`.  `config` is dovecot.conf, if read.
pub fn identify(root: &Root, config: Option<&Config>) -> Identity {
    let found = |version: String, evidence: String| Identity {
        generation: Generation::of_version(&version),
        version: Some(version),
        evidence,
    };
    if let Some((version, evidence)) = from_dpkg(root) {
        return found(version, evidence);
    }
    if let Some((version, evidence)) = from_freebsd_licenses(root) {
        return found(version, evidence);
    }
    for binary in MASTER_BINARIES {
        if let Some(version) = from_binary(root, Path::new(binary)) {
            let shown = root.display_path(Path::new(binary)).display().to_string();
            return found(version, format!("{shown}: `Dovecot v… starting up`"));
        }
    }
    if let Some(config) = config
        && let Some((generation, why)) = &config.shape
    {
        return Identity {
            generation: *generation,
            version: None,
            evidence: format!("the shape of dovecot.conf: {why}"),
        };
    }
    let conf = match config {
        Some(c) => format!("{} has no line only one generation accepts", c.file),
        None => format!("no dovecot.conf ({})", super::CONFIG_FILES.join(", ")),
    };
    Identity {
        generation: Generation::Unknown,
        version: None,
        evidence: format!(
            "found no dovecot package in {DPKG_STATUS}, no {FREEBSD_LICENSES}/dovecot-*, \
             no version string in {}, and {conf}",
            MASTER_BINARIES.join(" or ")
        ),
    }
}

/// An installed dovecot package in dpkg's status file: (version, evidence).
fn from_dpkg(root: &Root) -> Option<(String, String)> {
    let bytes = root
        .read_limited(Path::new(DPKG_STATUS), MAX_STATUS_BYTES)
        .ok()?;
    let text = String::from_utf8_lossy(&bytes);
    for wanted in DPKG_PACKAGES {
        for paragraph in text.split("\n\n") {
            let field = |name: &str| {
                paragraph.lines().find_map(|l| {
                    l.strip_prefix(name)
                        .and_then(|r| r.strip_prefix(':'))
                        .map(str::trim)
                })
            };
            if field("Package") != Some(wanted)
                || !field("Status").is_some_and(|s| s.ends_with(" installed"))
            {
                continue;
            }
            let Some(full) = field("Version") else {
                continue;
            };
            // `1:2.3.19.1+dfsg1-2.1+deb12u7` -> `2.3.19.1`.
            let upstream = full.split_once(':').map_or(full, |(_, v)| v);
            let upstream = upstream.split(['+', '-', '~']).next().unwrap_or(upstream);
            if Generation::of_version(upstream) == Generation::Unknown {
                continue;
            }
            let shown = root
                .display_path(Path::new(DPKG_STATUS))
                .display()
                .to_string();
            return Some((upstream.to_string(), format!("{shown}: {wanted} {full}")));
        }
    }
    None
}

/// FreeBSD: /usr/local/share/licenses/dovecot-2.3.21.1_1 (also the
/// dovecot1 and dovecot2 ports of old).
fn from_freebsd_licenses(root: &Root) -> Option<(String, String)> {
    let names = root.read_dir(Path::new(FREEBSD_LICENSES)).ok()?;
    let mut names: Vec<String> = names
        .into_iter()
        .map(|n| n.to_string_lossy().into_owned())
        .collect();
    names.sort();
    for name in names {
        let Some(rest) = ["dovecot-", "dovecot1-", "dovecot2-"]
            .iter()
            .find_map(|p| name.strip_prefix(p))
        else {
            continue;
        };
        // PORTVERSION_PORTREVISION,PORTEPOCH
        let version = rest.split(['_', ',']).next().unwrap_or(rest);
        if Generation::of_version(version) != Generation::Unknown {
            let shown = root
                .display_path(&Path::new(FREEBSD_LICENSES).join(&name))
                .display()
                .to_string();
            return Some((version.to_string(), format!("{shown} (FreeBSD package)")));
        }
    }
    None
}

/// The version in a master binary's `Dovecot vVERSION starting up`.
fn from_binary(root: &Root, binary: &Path) -> Option<String> {
    let bytes = root.read_limited(binary, MAX_BINARY_BYTES).ok()?;
    version_in(&bytes)
}

/// `Dovecot v2.3.19.1 (9b53102964) starting up` -> `2.3.19.1`.
pub fn version_in(bytes: &[u8]) -> Option<String> {
    const MARKER: &[u8] = b"Dovecot v";
    let mut from = 0;
    while let Some(at) = bytes[from..]
        .windows(MARKER.len())
        .position(|w| w == MARKER)
    {
        let start = from + at + MARKER.len();
        let version: String = bytes[start..]
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric() || **b == b'.')
            .map(|&b| char::from(b))
            .collect();
        if version.contains('.') && Generation::of_version(&version) != Generation::Unknown {
            return Some(version);
        }
        from = start;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root_with(files: &[(&str, &[u8])]) -> (tempfile::TempDir, Root) {
        let dir = tempfile::tempdir().unwrap();
        for (path, bytes) in files {
            let full = dir.path().join(path.trim_start_matches('/'));
            std::fs::create_dir_all(full.parent().unwrap()).unwrap();
            std::fs::write(full, bytes).unwrap();
        }
        let root = Root::new(dir.path()).unwrap();
        (dir, root)
    }

    #[test]
    fn dpkg_status_installed_packages_only() {
        let status =
            b"Package: dovecot-core\nStatus: deinstall ok config-files\nVersion: 1:2.2.27-3\n\n\
Package: dovecot-common\nStatus: install ok installed\nVersion: 1:1.2.15-7\n\n";
        let (_d, root) = root_with(&[(DPKG_STATUS, status)]);
        let id = identify(&root, None);
        assert_eq!(id.generation, Generation::V1);
        assert_eq!(id.version.as_deref(), Some("1.2.15"));
        assert!(
            id.evidence.contains("dovecot-common 1:1.2.15-7"),
            "{}",
            id.evidence
        );
    }

    #[test]
    fn freebsd_license_directory() {
        let (_d, root) =
            root_with(&[("/usr/local/share/licenses/dovecot-2.3.21.1_1/LICENSE", b"x")]);
        let id = identify(&root, None);
        assert_eq!(
            (id.generation, id.version.as_deref()),
            (Generation::V2, Some("2.3.21.1"))
        );
    }

    #[test]
    fn master_binary_start_up_line() {
        assert_eq!(
            version_in(b"\0Dovecot v\0Dovecot v2.3.19.1 (9b53102964) starting up\0").as_deref(),
            Some("2.3.19.1")
        );
        assert_eq!(
            version_in(b"Dovecot v1.2.17 starting up").as_deref(),
            Some("1.2.17")
        );
        assert_eq!(version_in(b"Dovecot vx"), None);
    }

    #[test]
    fn nothing_found_is_unknown_and_says_where_it_looked() {
        let (_d, root) = root_with(&[("/etc/rc.conf", b"")]);
        let id = identify(&root, None);
        assert_eq!(id.generation, Generation::Unknown);
        assert!(id.evidence.contains(DPKG_STATUS), "{}", id.evidence);
        assert!(id.evidence.contains("no dovecot.conf"), "{}", id.evidence);
    }
}
