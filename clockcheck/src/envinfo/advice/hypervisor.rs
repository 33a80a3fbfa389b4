//! The hypervisor's items: what sets a guest's clock from its host's (at
//! boot, on resume, by the host's time sync or VMware Tools), and what
//! keeps the host's own clock right.

use super::super::facts::{Facts, Os};
use super::{
    AppliesTo, DEFAULT_HOST_INTERVAL_SECS, ERRATA_HOST_INTERVAL_SECS, ERRATA_OFFSET_SECS, Item,
    Level, Situation, unit_enabled,
};

/// `linux-hwclock` (information): a Linux guest can keep its time in the
/// hardware clock, unlike a FreeBSD one.
pub(super) fn linux_hwclock(s: &Situation) -> Option<Item> {
    if !(s.facts.os == Some(Os::Linux) && s.guest) {
        return None;
    }
    Some(Item {
        id: "linux-hwclock",
        applies_to: AppliesTo::Guest,
        level: Level::Info,
        problem: "a Linux guest can keep its time in the hardware clock".into(),
        why: "Unlike a FreeBSD guest, Linux can write the synchronized time back (hwclock --systohc), so the \
              next boot starts near the right time instead of from the host's clock; chrony's `rtcsync` or \
              ntpd's 11-minute mode keep doing it."
            .into(),
        commands: vec!["hwclock --systohc".into(), "hwclock --show".into()],
    })
}

/// The host's own clock decides the guest's at every boot: what keeps it
/// right, for KVM and VMware hosts (Hyper-V's is `hyperv-host-ntp`).
pub(super) fn host_clock(s: &Situation) -> Option<Item> {
    match s.facts.hypervisor.as_deref()? {
        "KVM" => Some(Item {
            id: "kvm-host-ntp",
            applies_to: AppliesTo::HypervisorHost,
            level: Level::Info,
            problem: "the KVM host's clock decides the guest's time at every boot; the guest cannot see how it is kept"
                .into(),
            why: "QEMU starts the guest's RTC from the host's clock, and kvm-clock follows the host's. Keep a time \
                  daemon running on the host (chrony on current distributions). After a resume, the host can set \
                  the guest's clock through the QEMU guest agent (`virsh domtime --sync`): a step, backwards too \
                  when the guest was ahead."
                .into(),
            commands: vec![
                "chronyc tracking".into(),
                "systemctl enable --now chrony.service".into(),
            ],
        }),
        "VMware" => Some(Item {
            id: "vmware-host-ntp",
            applies_to: AppliesTo::HypervisorHost,
            level: Level::Info,
            problem: "the ESXi host's clock decides the guest's time at every power-on; the guest cannot see how it is kept"
                .into(),
            why: "VMware sets the guest's virtual RTC from the host's clock at power-on, and VMware Tools set the guest \
                  clock from the host's on resume, snapshot restore and vMotion. Keep NTP on the ESXi host running \
                  and pointed at reachable servers."
                .into(),
            commands: vec!["esxcli system ntp get".into(), "esxcli system time get".into()],
        }),
        _ => None,
    }
}

/// VMware Tools step the guest's clock to the host's on resume, snapshot
/// restore, vMotion and tools start, even with periodic time sync off.
pub(super) fn vmware_tools(s: &Situation) -> Option<Item> {
    let facts = s.facts;
    if facts.hypervisor.as_deref() != Some("VMware") {
        return None;
    }
    let tools = match &facts.rc {
        Some(rc) => {
            rc.chain.is_yes("vmware_guestd_enable")
                || rc.chain.is_yes("vmware_guest_vmblock_enable")
        }
        None => super::super::facts::VMWARE_TOOLS_UNITS
            .iter()
            .any(|u| unit_enabled(facts, u)),
    };
    if !tools {
        return None;
    }
    Some(Item {
        id: "vmware-tools-time-sync",
        applies_to: AppliesTo::Guest,
        level: Level::Info,
        problem: "VMware Tools run on this guest and set its clock from the host's".into(),
        why: "Periodic time sync (tools.syncTime) is off by default, but VMware Tools still step the clock to the \
              host's after a resume, a snapshot restore, a vMotion and when the tools start: a step back when the \
              guest was ahead, which kills dovecot if the host's clock is wrong. Keep the host's NTP right \
              (vmware-host-ntp) and periodic sync off while a time daemon runs in the guest; the one-off syncs are \
              turned off in the VM's .vmx (time.synchronize.continue, .restore, .resume.disk, .shrink, \
              .tools.startup = \"FALSE\")."
            .into(),
        commands: vec![
            "vmware-toolbox-cmd timesync status".into(),
            "vmware-toolbox-cmd timesync disable".into(),
        ],
    })
}

/// `hyperv-host-ntp` (information): the Hyper-V host's own w32time
/// settings, the errata's fix on the host.
pub(super) fn hyperv_host_ntp(s: &Situation) -> Option<Item> {
    if !s.hyperv {
        return None;
    }
    Some(Item {
        id: "hyperv-host-ntp",
        applies_to: AppliesTo::HypervisorHost,
        level: Level::Info,
        problem: "the Hyper-V host's own clock decides the guest's time at every boot and resume; the guest cannot see how it is kept".into(),
        why: format!(
            "w32time's default interval is 7 days (SpecialPollInterval 604800 = 0x93a80), in which the host's \
             clock drifts nearly 40 s (about 66 ppm); at 1 hour (3600 = 0xe10) that drift stays near {:.2} s. \
             SpecialPollInterval applies only to a peer flagged 0x1 (SpecialInterval; 0x9 adds 0x8, client \
             mode), and the default server may fail with a connection error: the errata uses ntp.nict.jp. \
             Run in an elevated prompt on a host that is not a domain member.",
            ERRATA_OFFSET_SECS * ERRATA_HOST_INTERVAL_SECS / DEFAULT_HOST_INTERVAL_SECS
        ),
        commands: vec![
            "w32tm /config /manualpeerlist:\"ntp.nict.jp,0x9\" /syncfromflags:manual /update".into(),
            "reg add HKLM\\SYSTEM\\CurrentControlSet\\Services\\W32Time\\TimeProviders\\NtpClient /v SpecialPollInterval /t REG_DWORD /d 3600 /f".into(),
            "net stop w32time".into(),
            "net start w32time".into(),
            "w32tm /resync".into(),
            "w32tm /query /status".into(),
            "w32tm /query /configuration".into(),
        ],
    })
}

/// `hyperv-time-sync-and-ntpd` (information): the host's time sync and a
/// daemon both set this clock, as in the errata's configuration.
pub(super) fn hyperv_time_sync_and_ntpd(s: &Situation) -> Option<Item> {
    let (facts, daemons, freebsd) = (s.facts, &s.daemons, s.freebsd);
    let sync = facts.host_time_sync.as_ref().filter(|s| s.active)?;
    if daemons.is_empty() {
        return None;
    }
    let thresh = sync
        .sample_thresh_ms
        .filter(|t| *t >= 0)
        .map(|t| format!(", and whenever the guest is more than {t} ms off the host's"))
        .unwrap_or_default();
    Some(Item {
        id: "hyperv-time-sync-and-ntpd",
        applies_to: AppliesTo::Guest,
        level: Level::Info,
        problem: format!(
            "the Hyper-V host's time sync and {} both set this clock, as in the errata's configuration",
            daemons.join(", ")
        ),
        why: format!(
            "Hyper-V's time sync steps the guest to the host's clock after a resume, restore or live \
             migration{thresh}; {} keeps it on internet time in between. That costs nothing while the host's \
             own clock is right (the hyperv-host-ntp item) and one step of the host's whole error when it \
             is not: a 40 s step back is what kills dovecot. Keep both and fix the host's interval.",
            daemons.join(", ")
        ),
        commands: if freebsd {
            vec!["sysctl hw.hvtimesync".into()]
        } else {
            vec!["lsmod | grep hv_utils".into()]
        },
    })
}

/// Why a guest's boot starts from its host's clock, in the terms of its
/// hypervisor (the errata's argument is Hyper-V's).
pub(super) fn boot_clock(facts: &Facts) -> String {
    let freebsd = facts.os == Some(Os::FreeBsd);
    match facts.hypervisor.as_deref() {
        Some("Hyper-V") if freebsd => "A FreeBSD guest cannot write its clock back to the hardware clock, so every \
            boot starts from the Hyper-V host's clock, which may be off by the host's drift (nearly 40 s in \
            w32time's default 7-day interval);"
            .into(),
        Some("Hyper-V") => "Every boot starts from the Hyper-V host's clock, which may be off by the host's \
            drift (nearly 40 s in w32time's default 7-day interval);"
            .into(),
        Some("KVM") => "Every boot starts from the virtual RTC, which QEMU sets from the KVM host's clock when \
            the VM starts (libvirt's default `<clock offset='utc'>`), so the guest starts as far off as the \
            host is;"
            .into(),
        Some("VMware") => "Every boot starts from the virtual RTC, which VMware sets from the ESXi host's clock \
            when the VM powers on, so the guest starts as far off as the host is;"
            .into(),
        Some(other) => format!(
            "Every boot starts from the virtual RTC that {other} sets from its host's clock, so the guest starts \
             as far off as the host is;"
        ),
        None => "Every boot starts from the hardware clock;".into(),
    }
}
