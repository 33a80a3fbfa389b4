//! What the machine (or the copied tree under `--root`) says about its time:
//! hypervisor and its time sync, the boot-time and continuous NTP set-up
//! (FreeBSD's rc.conf chain, or Linux's enabled systemd units), the tinker
//! settings ntpd applies, and whether xinetd runs dovecot's login processes.
//! Every file is read through [`Root`], /sys and /proc files with a small
//! limit (a `sys_vendor` that is a link to /dev/zero is an error, not a read
//! without end).

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

use mailhost_common::chrony::ChronyConf;
use mailhost_common::rcconf::RcConf;
use mailhost_common::root::Root;

use super::kernel::Kernel;

/// A /sys or /proc file is a few bytes; a larger one is not what we expect.
pub const MAX_PSEUDO_FILE_BYTES: u64 = 64 * 1024;
/// A saved `sysctl -a` is about a megabyte on a busy machine.
pub const MAX_SYSCTL_OUT_BYTES: u64 = 16 * 1024 * 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Os {
    FreeBsd,
    Linux,
    Unknown,
}

/// Hyper-V's TimeSync integration service, as far as the guest can see it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HostTimeSync {
    /// The service is there and can set the clock.
    pub active: bool,
    /// FreeBSD `hw.hvtimesync.ignore_sync`: 0 means the host's SYNC
    /// messages (after resume, restore, migration) set the clock.
    pub ignore_sync: Option<i64>,
    /// FreeBSD `hw.hvtimesync.sample_thresh`: steps when the guest is more
    /// than this many ms off the host; negative turns it off.
    pub sample_thresh_ms: Option<i64>,
    pub description: String,
}

/// The rc.conf variables of FreeBSD's time set-up, with FreeBSD's defaults
/// where the tree has no /etc/defaults/rc.conf.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RcTime {
    pub ntpdate_enable: bool,
    pub ntpdate_flags: String,
    pub ntpdate_hosts: String,
    pub ntpd_enable: bool,
    pub ntpd_flags: String,
    pub ntpd_sync_on_start: bool,
    pub ntpd_config: String,
    pub dovecot_enable: bool,
    pub xinetd_enable: bool,
    /// The whole chain: where each variable above was set
    /// (`RcConf::assignment`), and the commands that edit the file holding a
    /// setting (`RcConf::sysrc_commands`).
    pub chain: RcConf,
}

/// A tinker value ntpd applies, and where it was set.
#[derive(Clone, Debug, PartialEq)]
pub struct Applied {
    pub value: f64,
    pub at: String,
}

/// A systemd unit's state as `systemctl is-enabled` would report it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unit {
    pub name: String,
    /// `enabled` (a `.wants`/`.requires` link), `masked`, or `disabled`
    /// (the unit file exists but nothing pulls it in).
    pub state: &'static str,
}

#[derive(Clone, Debug, Default)]
pub struct Facts {
    pub os: Option<Os>,
    pub hypervisor: Option<String>,
    pub host_time_sync: Option<HostTimeSync>,
    pub clocksource: Option<String>,
    /// Command names of running processes, when they can be known.
    pub processes: Option<Vec<String>>,
    pub rc: Option<RcTime>,
    /// Linux: the time and mail units found, with their state.
    pub units: Vec<Unit>,
    /// The ntp.conf ntpd reads (jail path), and the tinker values it applies.
    pub ntp_conf: Option<PathBuf>,
    pub tinker: BTreeMap<String, Applied>,
    /// The server, pool and peer hosts of that ntp.conf (its own lines only,
    /// as FreeBSD's rc.d/ntpdate takes them when ntpdate_hosts is empty:
    /// `ntpconf_edit::associations::boot_ntpdate_hosts`).
    pub ntp_servers: Vec<String>,
    /// xinetd services (`file: service`) that run dovecot's login processes.
    pub xinetd_logins: Vec<String>,
    /// The installed dovecot, from the host model every tool shares.
    pub dovecot: Option<mailhost_host::dovecot::Dovecot>,
    /// The dovecot facts every tool prints (generation, version, what
    /// enables the standalone daemon, its ports).
    pub dovecot_facts: Option<mailhost_host::dovecot::standalone::Facts>,
    /// The daemon that keeps the time by its configuration
    /// (`ntpconf_edit::time_keeper`).
    pub time_keeper: Option<String>,
    /// What enables the standalone dovecot at boot, if anything (the host
    /// model's answer, `mailhost_host::dovecot::standalone::enabled`).
    pub dovecot_enabled: Option<mailhost_host::dovecot::standalone::EnabledBy>,
    /// chrony.conf, read as chronyd reads it (mailhost_common::chrony).
    pub chrony: Option<ChronyConf>,
    /// os-release's ID and ID_LIKE (Linux), for the package manager to name.
    pub linux_ids: Vec<String>,
    /// What could not be read, as `path: error` (shown, never fatal).
    pub unreadable: Vec<String>,
    /// Facts the verdict needs that could not be had (the tree is not an OS
    /// root, rc.conf is unreadable, a FreeBSD tree has no usable
    /// `sysctl.out`): any of them makes the status UNKNOWN, never OK.
    pub unknown: Vec<String>,
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

/// Daemons that set the clock, by process name (FreeBSD and Linux).
pub const TIME_DAEMONS: &[&str] = &["ntpd", "chronyd", "systemd-timesyn", "openntpd", "ntpdate"];

/// Linux units: the time daemons, dovecot, xinetd.
pub const TIME_UNITS: &[&str] = &[
    "chrony.service",
    "chronyd.service",
    "ntpsec.service",
    "ntp.service",
    "ntpd.service",
    "openntpd.service",
    "systemd-timesyncd.service",
];
/// The standalone dovecot: its service, or its socket activation.
pub const DOVECOT_UNITS: [&str; 2] = mailhost_host::dovecot::standalone::UNITS;
pub const XINETD_UNIT: &str = "xinetd.service";
/// VMware's guest tools (open-vm-tools), which set the clock on resume,
/// snapshot restore and vMotion even with periodic time sync off.
pub const VMWARE_TOOLS_UNITS: [&str; 2] = ["open-vm-tools.service", "vmtoolsd.service"];
/// QEMU's guest agent, through which the host sets the clock after a resume
/// (`virsh domtime --sync`).
pub const QEMU_AGENT_UNIT: &str = "qemu-guest-agent.service";

/// Reads everything under `root`, asking `kernel` what only a kernel knows.
pub fn gather(root: &Root, kernel: &dyn Kernel) -> Facts {
    let mut facts = Facts::default();
    let reader = Reader {
        root,
        seen: Default::default(),
    };
    let rc = RcConf::load(root);
    let rc = match rc {
        Ok(rc) => Some(rc),
        Err(e) => {
            // Every boot-time fact of a FreeBSD host is in the rc.conf chain.
            facts.unknown.push(format!("rc.conf chain unreadable: {e}"));
            None
        }
    };
    let freebsd = kernel.sysctl("kern.ostype").as_deref() == Some("FreeBSD")
        || kernel.sysctl("kern.vm_guest").is_some()
        || FREEBSD_MARKS.iter().any(|mark| reader.exists(mark));
    let linux = !freebsd && LINUX_MARKS.iter().any(|mark| reader.exists(mark));
    facts.os = Some(if freebsd {
        Os::FreeBsd
    } else if linux {
        Os::Linux
    } else {
        facts.unknown.push(format!(
            "{}: not an OS root: none of {} found there (pass the guest's root, not its etc/)",
            root.display_path(Path::new("/")).display(),
            FREEBSD_MARKS
                .iter()
                .chain(LINUX_MARKS)
                .copied()
                .collect::<Vec<_>>()
                .join(", ")
        ));
        Os::Unknown
    });
    facts.hypervisor = hypervisor(&reader, kernel, &mut facts.unreadable);
    if facts.hypervisor.as_deref() == Some("Hyper-V") {
        facts.host_time_sync = hyperv_time_sync(&reader, kernel);
    }
    facts.clocksource = reader
        .pseudo(
            "/sys/devices/system/clocksource/clocksource0/current_clocksource",
            &mut facts.unreadable,
        )
        .or_else(|| kernel.sysctl("kern.timecounter.hardware"));
    facts.processes = kernel
        .processes()
        .or_else(|| reader.proc_names(&mut facts.unreadable));
    if freebsd && let Some(rc) = &rc {
        facts.rc = Some(rc_time(rc));
    }
    if !freebsd {
        facts.units = units(root);
        facts.chrony = ChronyConf::find(root).and_then(|conf| {
            ChronyConf::read(root, &conf)
                .map_err(|e| facts.unreadable.push(e.to_string()))
                .ok()
        });
        facts.linux_ids = ["/etc/os-release", "/usr/lib/os-release"]
            .iter()
            .find_map(|p| reader.config(p, &mut facts.unreadable))
            .map(|text| os_release_ids(&text))
            .unwrap_or_default();
    }
    let no_chain = RcConf::default();
    if let Some(conf) = ntpconf_edit::locate_ntp_conf(root, rc.as_ref().unwrap_or(&no_chain)) {
        let path = PathBuf::from(&conf);
        match applied_tinker(root, &path) {
            Ok(tinker) => {
                facts.tinker = tinker;
                if let Ok(read) = ntpconf_edit::ntp_associations(root, Some(&path), None, None) {
                    facts.ntp_servers = read.boot_ntpdate_hosts;
                }
                facts.ntp_conf = Some(path);
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            // ntpd exits on this file: its tinker values are moot and nothing
            // keeps the time, so no verdict about them can be OK.
            Err(e)
                if e.get_ref()
                    .is_some_and(|inner| inner.is::<NtpdWillNotStart>()) =>
            {
                facts.unknown.push(e.to_string());
                facts.ntp_conf = Some(path);
            }
            Err(e) => facts.unreadable.push(e.to_string()),
        }
    }
    facts.xinetd_logins = xinetd_logins(root, &mut facts.unreadable);
    let dovecot = mailhost_host::dovecot::Dovecot::read(root);
    facts.dovecot_facts = Some(mailhost_host::dovecot::standalone::Facts::read(
        root, &dovecot,
    ));
    facts.dovecot = Some(dovecot);
    facts.time_keeper = Some(
        ntpconf_edit::time_keeper(root, rc.as_ref().unwrap_or(&no_chain))
            .0
            .name()
            .to_string(),
    );
    facts.dovecot_enabled = mailhost_host::dovecot::standalone::enabled(root, rc.as_ref());
    facts
}

/// The tinker values ntpd applies from `conf`, read with ntpconf-edit's own
/// model of ntpd (includes followed inside the root, `end` honoured, the
/// last occurrence winning).  The one call into ntpconf-edit's library.
pub fn applied_tinker(root: &Root, conf: &Path) -> io::Result<BTreeMap<String, Applied>> {
    let applied = ntpconf_edit::applied_tinker(root, Some(conf), None).map_err(|e| {
        // Keep "not found" recognisable: the caller tries the next path then.
        let kind = e
            .chain()
            .find_map(|c| c.downcast_ref::<io::Error>())
            .map_or(io::ErrorKind::Other, io::Error::kind);
        io::Error::new(kind, format!("{e:#}"))
    })?;
    if let Some(exit) = applied.exits {
        return Err(io::Error::other(NtpdWillNotStart(format!(
            "ntpd will not start with {}: {exit}",
            applied.file.display()
        ))));
    }
    Ok(applied
        .settings
        .into_iter()
        .map(|(key, s)| {
            let at = format!("{}:{}", s.file.display(), s.line);
            (
                key,
                Applied {
                    value: s.applied,
                    at,
                },
            )
        })
        .collect())
}

/// ntpd exits while reading its ntp.conf (ntpconf-edit check's NE012).
#[derive(Debug)]
pub struct NtpdWillNotStart(String);

impl std::fmt::Display for NtpdWillNotStart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for NtpdWillNotStart {}

struct Reader<'a> {
    root: &'a Root,
    /// Files read by the walks (/proc/N/comm): each once, by
    /// (device, inode), however many names a tree gives it.
    seen: std::cell::RefCell<mailhost_common::budget::SeenFiles>,
}

impl Reader<'_> {
    fn exists(&self, path: &str) -> bool {
        self.root.metadata(Path::new(path)).is_ok()
    }

    /// A /sys or /proc value, trimmed; a missing file is `None`, any other
    /// failure is noted.
    fn pseudo(&self, path: &str, unreadable: &mut Vec<String>) -> Option<String> {
        match self.root.read_pseudo_once(
            Path::new(path),
            MAX_PSEUDO_FILE_BYTES,
            &mut self.seen.borrow_mut(),
        ) {
            Ok(Some(bytes)) => Some(String::from_utf8_lossy(&bytes).trim().to_string()),
            Ok(None) => None,
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => {
                unreadable.push(e.to_string());
                None
            }
        }
    }

    fn config(&self, path: &str, unreadable: &mut Vec<String>) -> Option<String> {
        match self.root.read_config(Path::new(path)) {
            Ok(bytes) => Some(String::from_utf8_lossy(&bytes).into_owned()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => {
                unreadable.push(e.to_string());
                None
            }
        }
    }

    fn list(&self, dir: &str) -> Vec<String> {
        self.root
            .read_dir(Path::new(dir))
            .unwrap_or_default()
            .into_iter()
            .map(|n| n.to_string_lossy().into_owned())
            .collect()
    }

    /// Linux's process names from /proc/PID/comm; `None` without /proc.
    fn proc_names(&self, unreadable: &mut Vec<String>) -> Option<Vec<String>> {
        let pids: Vec<String> = self
            .list("/proc")
            .into_iter()
            .filter(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
            .collect();
        if pids.is_empty() {
            return None;
        }
        let mut names = Vec::new();
        for pid in pids {
            // A process that ended since the listing is simply gone.
            let mut ignored = Vec::new();
            if let Some(comm) = self.pseudo(&format!("/proc/{pid}/comm"), &mut ignored) {
                names.push(comm);
            }
            unreadable.extend(
                ignored
                    .into_iter()
                    .filter(|e| !e.contains("No such process")),
            );
        }
        // A /proc without `comm` (FreeBSD's procfs) tells nothing, which is
        // not the same as "no process runs".
        if names.is_empty() {
            return None;
        }
        names.sort();
        names.dedup();
        Some(names)
    }
}

fn hypervisor(
    reader: &Reader<'_>,
    kernel: &dyn Kernel,
    unreadable: &mut Vec<String>,
) -> Option<String> {
    let from_sysctl = match kernel.sysctl("kern.vm_guest").as_deref() {
        Some("hv") => Some("Hyper-V"),
        Some("vmware") => Some("VMware"),
        Some("kvm") => Some("KVM"),
        Some("xen") => Some("Xen"),
        Some("bhyve") => Some("bhyve"),
        Some("generic") => Some("a hypervisor"),
        _ => None,
    };
    if let Some(name) = from_sysctl {
        return Some(name.into());
    }
    let vendor = reader
        .pseudo("/sys/class/dmi/id/sys_vendor", unreadable)
        .unwrap_or_default();
    let product = reader
        .pseudo("/sys/class/dmi/id/product_name", unreadable)
        .unwrap_or_default();
    let name = if vendor.contains("Microsoft") && product.contains("Virtual") {
        "Hyper-V"
    } else if vendor.contains("VMware") {
        "VMware"
    } else if vendor.contains("QEMU") || product.contains("KVM") {
        "KVM"
    } else if vendor.contains("Xen")
        || reader.pseudo("/sys/hypervisor/type", unreadable).as_deref() == Some("xen")
    {
        "Xen"
    } else {
        return None;
    };
    Some(name.into())
}

fn hyperv_time_sync(reader: &Reader<'_>, kernel: &dyn Kernel) -> Option<HostTimeSync> {
    let number = |name: &str| kernel.sysctl(name).and_then(|v| v.parse::<i64>().ok());
    let (ignore, thresh) = (
        number("hw.hvtimesync.ignore_sync"),
        number("hw.hvtimesync.sample_thresh"),
    );
    if ignore.is_some() || thresh.is_some() {
        let on_sync = ignore == Some(0);
        let on_sample = thresh.is_some_and(|t| t >= 0);
        let mut parts = Vec::new();
        if on_sync {
            parts.push("sets the clock to the host's after a resume, restore or migration (hw.hvtimesync.ignore_sync=0)".to_string());
        }
        if let Some(t) = thresh.filter(|_| on_sample) {
            parts.push(format!(
                "steps it whenever it is over {t} ms off the host's (hw.hvtimesync.sample_thresh={t})"
            ));
        }
        let active = on_sync || on_sample;
        let description = if active {
            format!("active: {}", parts.join("; "))
        } else {
            format!(
                "off (hw.hvtimesync.ignore_sync={}, hw.hvtimesync.sample_thresh={})",
                ignore.map_or("-".into(), |v| v.to_string()),
                thresh.map_or("-".into(), |v| v.to_string())
            )
        };
        return Some(HostTimeSync {
            active,
            ignore_sync: ignore,
            sample_thresh_ms: thresh,
            description,
        });
    }
    let mut ignored = Vec::new();
    let modules = reader
        .pseudo("/proc/modules", &mut ignored)
        .unwrap_or_default();
    let loaded = modules.lines().any(|l| l.starts_with("hv_utils "))
        || !reader.list("/sys/bus/vmbus/drivers/hv_utils").is_empty();
    loaded.then(|| HostTimeSync {
        active: true,
        ignore_sync: None,
        sample_thresh_ms: None,
        description: "active: hv_utils is loaded (the TimeSync integration service sets the clock to the host's)".into(),
    })
}

/// FreeBSD's defaults (/etc/defaults/rc.conf) for what a tree may not carry.
const RC_DEFAULTS: &[(&str, &str)] = &[
    ("ntpdate_enable", "NO"),
    ("ntpdate_flags", "-b"),
    ("ntpdate_hosts", ""),
    ("ntpd_enable", "NO"),
    ("ntpd_flags", ""),
    ("ntpd_sync_on_start", "NO"),
    ("ntpd_config", "/etc/ntp.conf"),
    ("dovecot_enable", "NO"),
    ("xinetd_enable", "NO"),
];

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

fn rc_time(rc: &RcConf) -> RcTime {
    let value = |name: &str| {
        rc.get(name)
            .map(str::to_string)
            .or_else(|| {
                RC_DEFAULTS
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, v)| v.to_string())
            })
            .unwrap_or_default()
    };
    let yes = |name: &str| mailhost_common::rcconf::is_yes(&value(name));
    RcTime {
        ntpdate_enable: yes("ntpdate_enable"),
        ntpdate_flags: value("ntpdate_flags"),
        ntpdate_hosts: value("ntpdate_hosts"),
        ntpd_enable: yes("ntpd_enable"),
        ntpd_flags: value("ntpd_flags"),
        ntpd_sync_on_start: yes("ntpd_sync_on_start"),
        ntpd_config: value("ntpd_config"),
        dovecot_enable: yes("dovecot_enable"),
        xinetd_enable: yes("xinetd_enable"),
        chain: rc.clone(),
    }
}

/// The time, mail and guest-tools units the tree has, with their state: the
/// host model's reading of systemd (`mailhost_host::systemd::unit_state`).
fn units(root: &Root) -> Vec<Unit> {
    TIME_UNITS
        .iter()
        .chain(&DOVECOT_UNITS)
        .chain([&XINETD_UNIT])
        .chain(&VMWARE_TOOLS_UNITS)
        .chain([&QEMU_AGENT_UNIT])
        .filter_map(|name| {
            let state = mailhost_host::systemd::unit_state(root, name)?;
            Some(Unit {
                name: name.to_string(),
                state: state.as_str(),
            })
        })
        .collect()
}

/// The xinetd services that start dovecot's imap-login or pop3-login and that
/// xinetd is set to run (`XinetdService::configured_to_run`: a service that
/// only the standalone dovecot's port keeps from starting counts, it is the
/// conflict env reports), as `FILE: SERVICE` (jail paths): xinetd's own reading of its
/// configuration, from xinetd-lint's library (`xinetd_lint::services`).
fn xinetd_logins(root: &Root, unreadable: &mut Vec<String>) -> Vec<String> {
    match xinetd_lint::services(root) {
        Ok(services) => xinetd_lint::dovecot_login_services(&services),
        Err(e) => {
            unreadable.push(format!("xinetd's configuration: {e:#}"));
            Vec::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_proc_without_comm_files_tells_no_process_list() {
        let dir = tempfile::tempdir().unwrap();
        // FreeBSD's procfs: a directory per process, `status`, no `comm`.
        std::fs::create_dir_all(dir.path().join("proc/1")).unwrap();
        std::fs::write(dir.path().join("proc/1/status"), "init 1 0 0 0 -\n").unwrap();
        let root = Root::new(dir.path()).unwrap();
        let reader = Reader {
            root: &root,
            seen: Default::default(),
        };
        assert_eq!(reader.proc_names(&mut Vec::new()), None);

        std::fs::create_dir_all(dir.path().join("proc/42")).unwrap();
        std::fs::write(dir.path().join("proc/42/comm"), "ntpd\n").unwrap();
        assert_eq!(
            reader.proc_names(&mut Vec::new()),
            Some(vec!["ntpd".to_string()])
        );
    }
}
