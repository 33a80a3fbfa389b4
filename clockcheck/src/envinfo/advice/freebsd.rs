//! FreeBSD's rc.conf items: the boot-time ntpdate and ntpd between boots,
//! each fixed with `sysrc` in the file of the chain that holds the setting.

use super::hypervisor::boot_clock;
use super::{AppliesTo, Item, Level, Situation, crawl, has_flag, slew_only};

/// `freebsd-ntpdate-at-boot`: a guest whose clock is not stepped at boot.
/// The boot-time step matters where the boot starts from a hypervisor's
/// clock; bare metal keeps its time in the RTC.
pub(super) fn ntpdate_at_boot(s: &Situation) -> Option<Item> {
    let rc = s.facts.rc.as_ref()?;
    let facts = s.facts;
    let crawl = crawl();
    if !s.guest || rc.ntpdate_enable {
        return None;
    }
    // ntpdate_flags=-b is FreeBSD's default; set explicitly, so an
    // older -B elsewhere in the chain cannot make it slew.
    let commands = rc
        .chain
        .sysrc_commands(&[("ntpdate_enable", "YES"), ("ntpdate_flags", "-b")]);
    Some(Item {
        id: "freebsd-ntpdate-at-boot",
        applies_to: AppliesTo::Guest,
        level: Level::Warning,
        problem: "the clock is not stepped at boot (ntpdate_enable is not YES)".into(),
        why: format!(
            "{} `ntpdate -b` steps it before dovecot starts, while ntpd alone corrects it only \
             once it has samples, with dovecot already running{}.",
            boot_clock(facts),
            if rc.ntpd_sync_on_start && !slew_only(facts).is_empty() {
                format!(", and with `step 0` it slews: {crawl} for 40 s")
            } else {
                String::new()
            }
        ),
        commands,
    })
}

/// `freebsd-ntpdate-slews`: the boot-time ntpdate slews (`-B`).
pub(super) fn ntpdate_slews(s: &Situation) -> Option<Item> {
    let rc = s.facts.rc.as_ref()?;
    let crawl = crawl();
    if !(s.guest && rc.ntpdate_enable && has_flag(&rc.ntpdate_flags, "-B")) {
        return None;
    }
    Some(Item {
        id: "freebsd-ntpdate-slews",
        applies_to: AppliesTo::Guest,
        level: Level::Warning,
        problem: format!(
            "ntpdate_flags=\"{}\" makes the boot-time ntpdate slew (-B)",
            rc.ntpdate_flags.trim()
        ),
        why: format!(
            "Slewing at 500 ppm takes {crawl} for the 40 s a boot may start off; `-b` steps before dovecot starts."
        ),
        commands: rc.chain.sysrc_commands(&[("ntpdate_flags", "-b")]),
    })
}

/// `freebsd-ntpdate-no-servers`: ntpdate is enabled with no server to ask.
pub(super) fn ntpdate_no_servers(s: &Situation) -> Option<Item> {
    let rc = s.facts.rc.as_ref()?;
    let facts = s.facts;
    if !(rc.ntpdate_enable && rc.ntpdate_hosts.trim().is_empty() && facts.ntp_servers.is_empty()) {
        return None;
    }
    let conf = facts
        .ntp_conf
        .as_ref()
        .map_or("/etc/ntp.conf".into(), |p| p.display().to_string());
    Some(Item {
        id: "freebsd-ntpdate-no-servers",
        applies_to: AppliesTo::Guest,
        level: Level::Warning,
        problem: format!(
            "ntpdate has no server to ask: ntpdate_hosts is empty and {conf} has no server, pool or peer line"
        ),
        why: "rc.d/ntpdate takes its servers from ntpdate_hosts, else from the server lines of ntp.conf; \
              with neither the boot-time step never happens."
            .into(),
        commands: rc
            .chain
            .sysrc_commands(&[("ntpdate_hosts", "0.freebsd.pool.ntp.org")]),
    })
}

/// `freebsd-ntpd-enable`: nothing keeps the clock right between boots.
pub(super) fn ntpd_enable(s: &Situation) -> Option<Item> {
    let rc = s.facts.rc.as_ref()?;
    let guest = s.guest;
    if rc.ntpd_enable {
        return None;
    }
    Some(Item {
        id: "freebsd-ntpd-enable",
        applies_to: AppliesTo::Guest,
        level: Level::Warning,
        problem: "ntpd does not keep the clock right between boots (ntpd_enable is not YES)".into(),
        why: if guest {
            "ntpdate corrects the clock only at boot; between boots the guest drifts with its host \
             (nearly 40 s in 7 days, about 66 ppm), and every later step back is one dovecot may die of."
                .into()
        } else {
            "Without ntpd nothing keeps the clock right between boots; the drift builds up until a \
             correction steps it back, which is what dovecot dies of."
                .into()
        },
        commands: [
            rc.chain.sysrc_commands(&[("ntpd_enable", "YES")]),
            vec!["service ntpd start".into()],
        ]
        .concat(),
    })
}

/// `freebsd-ntpd-x`: `ntpd -x` slews every offset under 600 s.
pub(super) fn ntpd_x(s: &Situation) -> Option<Item> {
    let rc = s.facts.rc.as_ref()?;
    let crawl = crawl();
    if !(s.guest && has_flag(&rc.ntpd_flags, "-x")) {
        return None;
    }
    let kept: Vec<&str> = rc
        .ntpd_flags
        .split_whitespace()
        .filter(|w| *w != "-x")
        .collect();
    Some(Item {
        id: "freebsd-ntpd-x",
        applies_to: AppliesTo::Guest,
        level: Level::Warning,
        problem: format!(
            "ntpd_flags=\"{}\" has -x: ntpd slews every offset under 600 s",
            rc.ntpd_flags.trim()
        ),
        why: format!(
            "At ntpd's 500 ppm slew limit the 40 s a Hyper-V guest may start off take {crawl} to correct, \
             and the clock is wrong all that time."
        ),
        commands: [
            rc.chain.sysrc_commands(&[("ntpd_flags", &kept.join(" "))]),
            vec!["service ntpd restart".into()],
        ]
        .concat(),
    })
}
