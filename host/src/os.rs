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
