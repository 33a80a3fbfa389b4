//! What the machine (or the copied tree under `--root`) says about its time:
//! hypervisor and its time sync, the boot-time and continuous NTP set-up
//! (FreeBSD's rc.conf chain, or Linux's enabled systemd units), the tinker
//! settings ntpd applies, and whether xinetd runs dovecot's login processes.
//! Every file is read through [`Root`], /sys and /proc files with a small
//! limit (a `sys_vendor` that is a link to /dev/zero is an error, not a read
//! without end).  The host facts every tool may state (the OS, the hypervisor
//! and its time sync, the kernel's answers, systemd unit states, the time
//! daemons' units) are read by the host model, `mailhost_host`; this module
//! gathers them with ntpd's, chrony's, rc.conf's and xinetd's facts.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

use mailhost_common::chrony::ChronyConf;
use mailhost_common::rcconf::RcConf;
use mailhost_common::root::Root;
use mailhost_host::hypervisor;
use mailhost_host::reader::TreeReader;

use super::kernel::Kernel;

// The host facts (OS, hypervisor and its time sync, kernel, units) are the
// host model's, shared by every tool; re-exported under their old names.
pub use mailhost_host::hypervisor::{HostTimeSync, QEMU_AGENT_UNIT, VMWARE_TOOLS_UNITS};
pub use mailhost_host::kernel::MAX_SYSCTL_OUT_BYTES;
pub use mailhost_host::os::{FREEBSD_MARKS, LINUX_MARKS, Os};
pub use mailhost_host::reader::MAX_PSEUDO_FILE_BYTES;
pub use mailhost_host::systemd::Unit;
pub use mailhost_host::time_daemons::{TIME_DAEMONS, TIME_UNITS};

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

/// The standalone dovecot: its service, or its socket activation.
pub const DOVECOT_UNITS: [&str; 2] = mailhost_host::dovecot::standalone::UNITS;
pub const XINETD_UNIT: &str = "xinetd.service";

/// Reads everything under `root`, asking `kernel` what only a kernel knows.
pub fn gather(root: &Root, kernel: &dyn Kernel) -> Facts {
    let mut facts = Facts::default();
    let reader = TreeReader::new(root);
    let rc = RcConf::load(root);
    let rc = match rc {
        Ok(rc) => Some(rc),
        Err(e) => {
            // Every boot-time fact of a FreeBSD host is in the rc.conf chain.
            facts.unknown.push(format!("rc.conf chain unreadable: {e}"));
            None
        }
    };
    let os = mailhost_host::os::identify(&reader, kernel).unwrap_or_else(|not_os_root| {
        facts.unknown.push(not_os_root.to_string());
        Os::Unknown
    });
    let freebsd = os == Os::FreeBsd;
    facts.os = Some(os);
    facts.hypervisor = hypervisor::name(&reader, kernel, &mut facts.unreadable);
    if facts.hypervisor.as_deref() == Some("Hyper-V") {
        facts.host_time_sync = hypervisor::hyperv_time_sync(&reader, kernel);
    }
    facts.clocksource = reader
        .pseudo(
            "/sys/devices/system/clocksource/clocksource0/current_clocksource",
            &mut facts.unreadable,
        )
        .or_else(|| kernel.sysctl("kern.timecounter.hardware"));
    facts.processes = kernel
        .processes()
        .or_else(|| proc_names(&reader, &mut facts.unreadable));
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
        facts.linux_ids = mailhost_host::os::linux_ids(&reader, &mut facts.unreadable);
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

/// Linux's process names from /proc/PID/comm; `None` without /proc.
fn proc_names(reader: &TreeReader<'_>, unreadable: &mut Vec<String>) -> Option<Vec<String>> {
    let pids: Vec<String> = reader
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
        if let Some(comm) = reader.pseudo(&format!("/proc/{pid}/comm"), &mut ignored) {
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
/// host model's reading of systemd (`mailhost_host::systemd::unit_states`).
fn units(root: &Root) -> Vec<Unit> {
    let names = TIME_UNITS
        .iter()
        .chain(&DOVECOT_UNITS)
        .chain([&XINETD_UNIT])
        .chain(&VMWARE_TOOLS_UNITS)
        .chain([&QEMU_AGENT_UNIT]);
    mailhost_host::systemd::unit_states(root, names.copied())
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
        let reader = TreeReader::new(&root);
        assert_eq!(proc_names(&reader, &mut Vec::new()), None);

        std::fs::create_dir_all(dir.path().join("proc/42")).unwrap();
        std::fs::write(dir.path().join("proc/42/comm"), "ntpd\n").unwrap();
        assert_eq!(
            proc_names(&reader, &mut Vec::new()),
            Some(vec!["ntpd".to_string()])
        );
    }
}
