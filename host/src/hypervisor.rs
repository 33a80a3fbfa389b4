//! Which hypervisor the guest runs on (FreeBSD's `kern.vm_guest`, else
//! Linux's DMI strings and /sys/hypervisor), and how it sets the guest's
//! clock: Hyper-V's TimeSync integration service (FreeBSD's
//! `hw.hvtimesync.*`, Linux's hv_utils), and the guest agents (VMware tools,
//! QEMU's guest agent) whose systemd units let the host step the clock.

use crate::kernel::Kernel;
use crate::reader::TreeReader;

/// VMware's guest tools (open-vm-tools), which set the clock on resume,
/// snapshot restore and vMotion even with periodic time sync off.
pub const VMWARE_TOOLS_UNITS: [&str; 2] = ["open-vm-tools.service", "vmtoolsd.service"];
/// QEMU's guest agent, through which the host sets the clock after a resume
/// (`virsh domtime --sync`).
pub const QEMU_AGENT_UNIT: &str = "qemu-guest-agent.service";

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

/// The hypervisor's name (`Hyper-V`, `VMware`, `KVM`, `Xen`, `bhyve`, `a
/// hypervisor`); `None` on bare metal or when nothing tells.
pub fn name(
    reader: &TreeReader<'_>,
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

/// Hyper-V's TimeSync service: FreeBSD's `hw.hvtimesync.*` sysctls, else
/// Linux's hv_utils module; `None` when neither is there.
pub fn hyperv_time_sync(reader: &TreeReader<'_>, kernel: &dyn Kernel) -> Option<HostTimeSync> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::{NoKernel, SavedSysctl};
    use mailhost_common::root::Root;

    fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (path, text) in files {
            let at = dir.path().join(path);
            std::fs::create_dir_all(at.parent().unwrap()).unwrap();
            std::fs::write(at, text).unwrap();
        }
        dir
    }

    #[test]
    fn the_kernel_is_asked_first_then_dmi() {
        let dir = tree(&[
            ("sys/class/dmi/id/sys_vendor", "Microsoft Corporation\n"),
            ("sys/class/dmi/id/product_name", "Virtual Machine\n"),
        ]);
        let root = Root::new(dir.path()).unwrap();
        let reader = TreeReader::new(&root);
        let bhyve = SavedSysctl::new("kern.vm_guest: bhyve\n".into());
        assert_eq!(
            name(&reader, &bhyve, &mut Vec::new()).as_deref(),
            Some("bhyve")
        );
        assert_eq!(
            name(&reader, &NoKernel, &mut Vec::new()).as_deref(),
            Some("Hyper-V")
        );
        let bare = tempfile::tempdir().unwrap();
        let root = Root::new(bare.path()).unwrap();
        assert_eq!(
            name(&TreeReader::new(&root), &NoKernel, &mut Vec::new()),
            None
        );
    }

    #[test]
    fn hyper_v_time_sync_from_sysctls_or_hv_utils() {
        let empty = tempfile::tempdir().unwrap();
        let root = Root::new(empty.path()).unwrap();
        let reader = TreeReader::new(&root);
        let off = SavedSysctl::new(
            "hw.hvtimesync.ignore_sync: 1\nhw.hvtimesync.sample_thresh: -1\n".into(),
        );
        let sync = hyperv_time_sync(&reader, &off).unwrap();
        assert!(!sync.active);
        assert_eq!(
            sync.description,
            "off (hw.hvtimesync.ignore_sync=1, hw.hvtimesync.sample_thresh=-1)"
        );
        let on = SavedSysctl::new("hw.hvtimesync.ignore_sync: 0\n".into());
        let sync = hyperv_time_sync(&reader, &on).unwrap();
        assert!(sync.active);
        assert_eq!(sync.ignore_sync, Some(0));
        assert_eq!(hyperv_time_sync(&reader, &NoKernel), None);

        let linux = tree(&[("proc/modules", "hv_utils 40960 0 - Live 0x0\n")]);
        let root = Root::new(linux.path()).unwrap();
        let sync = hyperv_time_sync(&TreeReader::new(&root), &NoKernel).unwrap();
        assert!(sync.active);
        assert!(sync.description.contains("hv_utils is loaded"));
    }
}
