//! Which OS a tree is the root of: FreeBSD (its kernel says so, or its base
//! system files are there) or Linux (os-release, systemd's directories,
//! /proc/1); a tree with none of them is not an OS root, and the error names
//! every file that was looked for.  On Linux, os-release's `ID` and
//! `ID_LIKE` name the distribution's family.

use std::path::Path;

use crate::kernel::Kernel;
use crate::reader::TreeReader;

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Os {
    FreeBsd,
    Linux,
    Unknown,
}

/// Files that show a tree is a FreeBSD root (base system files).
pub const FREEBSD_MARKS: &[&str] = &[
    "/bin/freebsd-version",
    "/etc/defaults/rc.conf",
    "/etc/rc.conf",
];
/// Files and directories that show a tree is a Linux root.
pub const LINUX_MARKS: &[&str] = &[
    "/etc/os-release",
    "/usr/lib/os-release",
    "/etc/systemd/system",
    "/lib/systemd/system",
    "/proc/1",
];

/// The tree has none of [`FREEBSD_MARKS`] or [`LINUX_MARKS`]: the message
/// names the tree and what was looked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotAnOsRoot(String);

impl std::fmt::Display for NotAnOsRoot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for NotAnOsRoot {}

/// The OS of the tree `reader` reads, asking `kernel` first.
pub fn identify(reader: &TreeReader<'_>, kernel: &dyn Kernel) -> Result<Os, NotAnOsRoot> {
    let freebsd = kernel.sysctl("kern.ostype").as_deref() == Some("FreeBSD")
        || kernel.sysctl("kern.vm_guest").is_some()
        || FREEBSD_MARKS.iter().any(|mark| reader.exists(mark));
    if freebsd {
        return Ok(Os::FreeBsd);
    }
    if LINUX_MARKS.iter().any(|mark| reader.exists(mark)) {
        return Ok(Os::Linux);
    }
    Err(NotAnOsRoot(format!(
        "{}: not an OS root: none of {} found there (pass the guest's root, not its etc/)",
        reader.root().display_path(Path::new("/")).display(),
        FREEBSD_MARKS
            .iter()
            .chain(LINUX_MARKS)
            .copied()
            .collect::<Vec<_>>()
            .join(", ")
    )))
}

/// os-release's `ID` and `ID_LIKE` words (/etc/os-release, else
/// /usr/lib/os-release); none when neither can be read.
pub fn linux_ids(reader: &TreeReader<'_>, unreadable: &mut Vec<String>) -> Vec<String> {
    ["/etc/os-release", "/usr/lib/os-release"]
        .iter()
        .find_map(|p| reader.config(p, unreadable))
        .map(|text| os_release_ids(&text))
        .unwrap_or_default()
}

/// os-release(5)'s `ID` and `ID_LIKE` words (`debian`, `rhel fedora`, ...).
fn os_release_ids(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|line| {
            let value = line
                .strip_prefix("ID=")
                .or_else(|| line.strip_prefix("ID_LIKE="))?;
            Some(value.trim().trim_matches(['"', '\'']).to_string())
        })
        .flat_map(|v| v.split_whitespace().map(str::to_string).collect::<Vec<_>>())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::{NoKernel, SavedSysctl};
    use mailhost_common::root::Root;

    #[test]
    fn a_tree_is_freebsd_linux_or_named_as_no_os_root() {
        let dir = tempfile::tempdir().unwrap();
        let root = Root::new(dir.path()).unwrap();
        let reader = TreeReader::new(&root);
        let error = identify(&reader, &NoKernel).unwrap_err().to_string();
        assert!(error.contains("not an OS root"), "{error}");
        for mark in FREEBSD_MARKS.iter().chain(LINUX_MARKS) {
            assert!(error.contains(mark), "{mark} not named in {error}");
        }
        let freebsd_kernel = SavedSysctl::new("kern.ostype: FreeBSD\n".into());
        assert_eq!(identify(&reader, &freebsd_kernel), Ok(Os::FreeBsd));

        std::fs::create_dir_all(dir.path().join("etc")).unwrap();
        std::fs::write(dir.path().join("etc/os-release"), "ID=debian\n").unwrap();
        assert_eq!(identify(&reader, &NoKernel), Ok(Os::Linux));
        std::fs::write(dir.path().join("etc/rc.conf"), "").unwrap();
        assert_eq!(identify(&reader, &NoKernel), Ok(Os::FreeBsd));
    }

    #[test]
    fn os_release_names_the_family() {
        assert_eq!(
            os_release_ids("NAME=Rocky\nID=\"rocky\"\nID_LIKE=\"rhel centos fedora\"\n"),
            ["rocky", "rhel", "centos", "fedora"]
        );
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("usr/lib")).unwrap();
        std::fs::write(dir.path().join("usr/lib/os-release"), "ID=debian\n").unwrap();
        let root = Root::new(dir.path()).unwrap();
        let mut unreadable = Vec::new();
        assert_eq!(
            linux_ids(&TreeReader::new(&root), &mut unreadable),
            ["debian"]
        );
        assert!(unreadable.is_empty());
    }
}
