//! `clockcheck env`: what keeps this machine's time, read from `$ROOT/sys`,
//! `$ROOT/proc` and (FreeBSD) sysctl, and what the user's notes advise.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::check::Status;

#[derive(Clone, Debug, Default, Serialize)]
pub struct TimeEnv {
    pub hypervisor: Option<String>,
    /// Whether the hypervisor's own time sync can step the clock, and why we think so.
    pub host_time_sync: Option<String>,
    pub clocksource: Option<String>,
    pub ntp_daemons: Vec<String>,
    pub advice: Vec<String>,
    pub status: String,
}

/// Where the facts come from: a root directory, and sysctl values (FreeBSD).
pub trait Source {
    fn read(&self, path: &str) -> Option<String>;
    fn list(&self, dir: &str) -> Vec<String>;
    fn sysctl(&self, name: &str) -> Option<String>;
}

pub struct RootSource {
    pub root: PathBuf,
}

impl RootSource {
    fn path(&self, p: &str) -> PathBuf {
        self.root.join(p.trim_start_matches('/'))
    }
}

impl Source for RootSource {
    fn read(&self, path: &str) -> Option<String> {
        std::fs::read(self.path(path))
            .ok()
            .map(|b| String::from_utf8_lossy(&b).trim().to_string())
    }
    fn list(&self, dir: &str) -> Vec<String> {
        std::fs::read_dir(self.path(dir))
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect()
    }
    /// The live system asks `sysctl -n`; a copied tree answers from a saved
    /// `sysctl -a` output in `$ROOT/sysctl.out` (`name: value` lines).
    fn sysctl(&self, name: &str) -> Option<String> {
        if let Some(saved) = self.read("/sysctl.out") {
            return saved.lines().find_map(|l| {
                l.strip_prefix(name)?
                    .strip_prefix(": ")
                    .map(|v| v.trim().to_string())
            });
        }
        if self.root != Path::new("/") || !cfg!(target_os = "freebsd") {
            return None;
        }
        let out = std::process::Command::new("sysctl")
            .args(["-n", name])
            .output()
            .ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
    }
}

const DAEMONS: &[&str] = &[
    "ntpd",
    "chronyd",
    "systemd-timesyn",
    "openntpd",
    "ntpdate",
    "vmtoolsd",
];

pub fn inspect(src: &dyn Source) -> TimeEnv {
    let mut env = TimeEnv::default();
    // Hypervisor: FreeBSD kern.vm_guest, Linux /sys/hypervisor and DMI.
    let vendor = src.read("/sys/class/dmi/id/sys_vendor").unwrap_or_default();
    let product = src
        .read("/sys/class/dmi/id/product_name")
        .unwrap_or_default();
    env.hypervisor = match src.sysctl("kern.vm_guest").as_deref() {
        Some("hv") => Some("Hyper-V".into()),
        Some("vmware") => Some("VMware".into()),
        Some("kvm") => Some("KVM".into()),
        Some("xen") => Some("Xen".into()),
        Some("bhyve") => Some("bhyve".into()),
        _ => None,
    }
    .or_else(|| {
        if vendor.contains("Microsoft") && product.contains("Virtual") {
            Some("Hyper-V".into())
        } else if vendor.contains("VMware") {
            Some("VMware".into())
        } else if vendor.contains("QEMU") || product.contains("KVM") {
            Some("KVM".into())
        } else if vendor.contains("Xen")
            || src.read("/sys/hypervisor/type").as_deref() == Some("xen")
        {
            Some("Xen".into())
        } else {
            None
        }
    });
    // Hyper-V's TimeSync integration service.
    if env.hypervisor.as_deref() == Some("Hyper-V") {
        let freebsd = (
            src.sysctl("hw.hvtimesync.ignore_sync"),
            src.sysctl("hw.hvtimesync.sample_thresh"),
        );
        env.host_time_sync = match freebsd {
            (Some(ignore), Some(thresh)) => {
                let steps_on_sync = ignore == "0";
                let steps_on_sample = thresh.parse::<i64>().is_ok_and(|t| t >= 0);
                Some(format!(
                    "active: hw.hvtimesync.ignore_sync={ignore} ({}), hw.hvtimesync.sample_thresh={thresh} ({})",
                    if steps_on_sync { "steps the clock after resume/restore/migration" } else { "host SYNC ignored" },
                    if steps_on_sample { "steps on drift over that many ms" } else { "sample steps off" }
                ))
                .filter(|_| steps_on_sync || steps_on_sample)
                .or(Some("off (ignore_sync=1, sample_thresh=-1)".into()))
            }
            _ => {
                let modules = src.read("/proc/modules").unwrap_or_default();
                let loaded = modules.lines().any(|l| l.starts_with("hv_utils "))
                    || !src.list("/sys/bus/vmbus/drivers/hv_utils").is_empty();
                loaded.then(|| "active: hv_utils is loaded (TimeSync integration service steps the clock silently)".into())
            }
        };
    }
    env.clocksource = src
        .read("/sys/devices/system/clocksource/clocksource0/current_clocksource")
        .or_else(|| src.sysctl("kern.timecounter.hardware"));
    // NTP daemons running (Linux /proc).
    for pid in src
        .list("/proc")
        .into_iter()
        .filter(|p| p.bytes().all(|b| b.is_ascii_digit()))
    {
        if let Some(comm) = src.read(&format!("/proc/{pid}/comm"))
            && DAEMONS.contains(&comm.as_str())
            && !env.ntp_daemons.contains(&comm)
        {
            env.ntp_daemons.push(comm);
        }
    }
    env.ntp_daemons.sort();
    // Advice from the user's notes.
    let mut status = Status::Ok;
    let syncing: Vec<&String> = env
        .ntp_daemons
        .iter()
        .filter(|d| d.as_str() != "ntpdate")
        .collect();
    if syncing.len() > 1 {
        env.advice.push(format!(
            "more than one time daemon runs ({}): keep one time source only",
            env.ntp_daemons.join(", ")
        ));
        status = Status::Warning;
    }
    if let (Some(sync), false) = (&env.host_time_sync, syncing.is_empty())
        && sync.starts_with("active")
    {
        env.advice.push("the Hyper-V host's time sync and an NTP daemon both set this clock: pick one (FreeBSD: sysctl hw.hvtimesync.ignore_sync=1 hw.hvtimesync.sample_thresh=-1; or turn off Time synchronization for the VM in Hyper-V Manager)".into());
        status = Status::Warning;
    }
    if env.hypervisor.as_deref() == Some("Hyper-V") {
        env.advice.push("the Hyper-V host's own clock syncs every 7 days by default (w32time); 1 hour is advised, or the guests inherit its drift".into());
    }
    if env.hypervisor.is_some() {
        env.advice.push("for dovecot on a VM: `tinker step 0` (ntpconf-edit set --preset dovecot) makes ntpd slew instead of step backwards".into());
    }
    env.status = status.as_str().to_string();
    env
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_linux_hyper_v_guest_with_two_time_sources() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let write = |p: &str, s: &str| {
            let path = root.join(p);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, s).unwrap();
        };
        write("sys/class/dmi/id/sys_vendor", "Microsoft Corporation\n");
        write("sys/class/dmi/id/product_name", "Virtual Machine\n");
        write(
            "sys/devices/system/clocksource/clocksource0/current_clocksource",
            "hyperv_clocksource_tsc_page\n",
        );
        write(
            "proc/modules",
            "hv_utils 45056 0 - Live 0x0000000000000000\n",
        );
        write("proc/812/comm", "chronyd\n");
        write("proc/901/comm", "ntpd\n");
        write("proc/1/comm", "systemd\n");
        let env = inspect(&RootSource {
            root: root.to_path_buf(),
        });
        assert_eq!(env.hypervisor.as_deref(), Some("Hyper-V"));
        assert!(env.host_time_sync.as_deref().unwrap().starts_with("active"));
        assert_eq!(
            env.clocksource.as_deref(),
            Some("hyperv_clocksource_tsc_page")
        );
        assert_eq!(env.ntp_daemons, ["chronyd", "ntpd"]);
        assert_eq!(env.status, "WARNING");
        assert!(env.advice.iter().any(|a| a.contains("7 days")));
    }

    #[test]
    fn a_freebsd_guest_from_saved_sysctl_output() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("sysctl.out"), "kern.vm_guest: hv\nhw.hvtimesync.ignore_sync: 1\nhw.hvtimesync.sample_thresh: -1\nkern.timecounter.hardware: Hyper-V-TSC\n").unwrap();
        let env = inspect(&RootSource {
            root: dir.path().to_path_buf(),
        });
        assert_eq!(env.hypervisor.as_deref(), Some("Hyper-V"));
        assert_eq!(
            env.host_time_sync.as_deref(),
            Some("off (ignore_sync=1, sample_thresh=-1)")
        );
        assert_eq!(env.clocksource.as_deref(), Some("Hyper-V-TSC"));
        assert_eq!(env.status, "OK");
    }

    #[test]
    fn bare_metal_says_little() {
        let dir = tempfile::tempdir().unwrap();
        let env = inspect(&RootSource {
            root: dir.path().to_path_buf(),
        });
        assert_eq!(env.hypervisor, None);
        assert!(env.advice.is_empty());
    }
}
