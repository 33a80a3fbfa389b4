//! The time daemons' items: which daemon, and how it corrects the clock
//! (ntpd's `step 0`, chrony's makestep, systemd-timesyncd's steps).

use mailhost_common::conventions::shell_quote;

use super::super::facts::{Facts, Os};
use super::{
    AppliesTo, Item, Level, Situation, crawl, has_flag, linux_unit_of, slew_only, time_daemons,
};

/// `tinker-step-0`: ntpd made slew-only on a guest (`tinker step 0` or
/// `stepback 0`), which the errata tried and rejected.
pub(super) fn tinker_step_0(s: &Situation) -> Option<Item> {
    let (facts, guest) = (s.facts, s.guest);
    let (hyperv, freebsd) = (s.hyperv, s.freebsd);
    let crawl = crawl();
    let slew = slew_only(facts);
    if !guest || slew.is_empty() {
        return None;
    }
    let keys: Vec<&str> = slew.iter().map(|(k, _)| *k).collect();
    let at: Vec<String> = slew
        .iter()
        .map(|(k, at)| format!("`tinker {k} 0` ({at})"))
        .collect();
    let conf = facts.ntp_conf.as_ref().map(|p| p.display().to_string());
    let file_arg = match conf.as_deref() {
        Some("/etc/ntp.conf") | None => String::new(),
        Some(other) => format!(" {}", shell_quote(other)),
    };
    let boot = match &facts.rc {
        Some(rc) if rc.ntpdate_enable && !has_flag(&rc.ntpdate_flags, "-B") => {
            " ntpdate -b still steps at boot, but every later jump ntpd has to undo crawls the same way."
        }
        Some(rc) if rc.ntpd_sync_on_start => {
            " FreeBSD's ntpd_sync_on_start=\"YES\" (ntpd -g) reads this file at boot and slews too."
        }
        _ => " Every jump ntpd has to undo crawls the same way.",
    };
    Some(Item {
        id: "tinker-step-0",
        applies_to: AppliesTo::Guest,
        level: Level::Warning,
        problem: format!("ntpd slews only: {} in force", at.join(", ")),
        why: format!(
            "ntpd slews at most 500 ppm (0.5 ms per second): the 40 s a guest's clock may be off after a boot \
             take {crawl}, and the clock is wrong meanwhile; {}.{boot}",
            if hyperv && freebsd {
                "a FreeBSD guest cannot keep its time in the hardware clock, so every boot may start that far off"
            } else if guest {
                "every boot starts from the host's clock, so it may start that far off"
            } else {
                "the errata tried `step 0` and rejected it"
            }
        ) + " ntpd reads ntp.conf only when it starts: a running ntpd keeps `step 0` until it is restarted.",
        commands: [
            vec![format!(
                "ntpconf-edit -i unset {}{file_arg}",
                keys.join(" ")
            )],
            ntpd_restart(facts),
        ]
        .concat(),
    })
}

/// `one-time-daemon`: more than one NTP daemon disciplines the clock.
pub(super) fn one_time_daemon(s: &Situation) -> Option<Item> {
    let (facts, daemons) = (s.facts, &s.daemons);
    let syncing: Vec<&String> = daemons.iter().collect();
    if syncing.len() <= 1 {
        return None;
    }
    let keep = syncing[0].clone();
    let others: Vec<String> = syncing[1..].iter().map(|s| s.to_string()).collect();
    Some(Item {
        id: "one-time-daemon",
        applies_to: AppliesTo::Guest,
        level: Level::Warning,
        problem: format!(
            "more than one time daemon is in use ({}); keep {keep}",
            daemons.join(", ")
        ),
        why: "Two NTP daemons each discipline the same clock and undo each other's corrections; keep one \
              (a hypervisor's own time sync is a different matter)."
            .into(),
        commands: others
            .iter()
            .map(|d| {
                if let Some(rc) = &facts.rc {
                    let disable = rc.chain.sysrc_commands(&[(&format!("{d}_enable"), "NO")]);
                    format!("service {d} stop; {}", disable.join("; "))
                } else {
                    format!("systemctl disable --now {}", linux_unit_of(facts, d))
                }
            })
            .collect(),
    })
}

/// `linux-time-daemon`: a Linux guest with no time daemon at all.
pub(super) fn linux_time_daemon(s: &Situation) -> Option<Item> {
    let facts = s.facts;
    if !(facts.os == Some(Os::Linux) && s.guest && s.daemons.is_empty()) {
        return None;
    }
    let has_chrony = facts.units.iter().any(|u| u.name.starts_with("chrony"));
    Some(Item {
        id: "linux-time-daemon",
        applies_to: AppliesTo::Guest,
        level: Level::Warning,
        problem: "no time daemon is enabled on this Linux guest".into(),
        why: "Without one the guest drifts with its host (nearly 40 s in a 7-day host interval) and nothing \
              corrects it after a boot or a resume."
            .into(),
        commands: if has_chrony {
            vec!["systemctl enable --now chrony.service".into()]
        } else {
            install_chrony(facts)
        },
    })
}

/// chrony's `makestep T -1`: it steps (back too) at any time; chrony slews
/// fast (83333 ppm on Linux), so stepping only at start costs little.
pub(super) fn chrony_makestep_any_time(s: &Situation) -> Option<Item> {
    let (facts, guest, daemons) = (s.facts, s.guest, &s.daemons);
    let step = facts.chrony.as_ref()?.makestep.as_ref()?;
    if !guest || !step.at_any_time() || !daemons.iter().any(|d| d == "chronyd") {
        return None;
    }
    let file = step.at.file.display().to_string();
    Some(Item {
        id: "chrony-makestep-any-time",
        applies_to: AppliesTo::Guest,
        level: Level::Warning,
        problem: format!(
            "chronyd steps the clock at any time it is more than {} s off (`makestep {} {}` at {file}:{}), backwards too",
            step.threshold, step.threshold, step.limit, step.at.line
        ),
        why: "After the hypervisor sets the guest's clock (a resume, a restore, a migration) chronyd steps it back at once, and dovecot exits with \"Time just moved backwards\". chronyd slews fast (a 40 s offset in about 8 minutes at its default 83333 ppm on Linux), so stepping only at start, before dovecot, as `makestep 1 3` does, costs little."
            .into(),
        commands: vec![
            format!("sed -i 's/^[[:space:]]*makestep.*/makestep 1 3/' {}", shell_quote(&file)),
            format!("systemctl restart {}", linux_unit_of(facts, "chronyd")),
        ],
    })
}

/// systemd-timesyncd steps whenever the offset is over 0.4 s, with no
/// setting to stop it (timesyncd-manager.c, NTP_MAX_ADJUST).
pub(super) fn timesyncd_steps(s: &Situation) -> Option<Item> {
    let (facts, guest, daemons) = (s.facts, s.guest, &s.daemons);
    if !guest || !daemons.iter().any(|d| d == "systemd-timesyncd") {
        return None;
    }
    Some(Item {
        id: "timesyncd-steps",
        applies_to: AppliesTo::Guest,
        level: Level::Warning,
        problem: "systemd-timesyncd keeps the time: it steps the clock whenever it is more than 0.4 s off, backwards too"
            .into(),
        why: "After the hypervisor sets the guest's clock, timesyncd steps it back at once and dovecot exits with \"Time just moved backwards\"; it has no setting to slew instead. chrony with `makestep 1 3` steps only at start, before dovecot, and slews fast afterwards."
            .into(),
        commands: install_chrony(facts),
    })
}

/// Installing chrony, by the distribution's package manager (Debian's
/// chrony package replaces systemd-timesyncd and starts chronyd; its
/// chrony.conf has `makestep 1 3`).
fn install_chrony(facts: &Facts) -> Vec<String> {
    let like = |id: &str| facts.linux_ids.iter().any(|i| i == id);
    if like("rhel") || like("fedora") || like("centos") {
        vec![
            "dnf install chrony".into(),
            "systemctl enable --now chronyd.service".into(),
        ]
    } else if like("suse") || like("opensuse") {
        vec![
            "zypper install chrony".into(),
            "systemctl enable --now chronyd.service".into(),
        ]
    } else {
        vec!["apt-get install chrony".into()]
    }
}

/// The command that makes a running ntpd read its edited ntp.conf (none
/// when ntpd is neither enabled nor running: it reads the file when it starts).
fn ntpd_restart(facts: &Facts) -> Vec<String> {
    let runs = time_daemons(facts).iter().any(|d| d == "ntpd");
    match &facts.rc {
        Some(rc) if rc.ntpd_enable || runs => vec!["service ntpd restart".into()],
        Some(_) => Vec::new(),
        None if runs => vec![format!(
            "systemctl restart {}",
            linux_unit_of(facts, "ntpd")
        )],
        None => Vec::new(),
    }
}
