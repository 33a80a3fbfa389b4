//! The advice, item by item, as the errata this toolkit is built from
//! concludes: keep the Hyper-V host's time right (a reachable NTP server,
//! a 1-hour interval instead of 7 days), step the guest at boot with ntpdate
//! before dovecot starts, keep it right with ntpd, and never make ntpd
//! slew-only (`tinker step 0`) on a guest whose every boot may start far off.
//!
//! Each item is one function, with its facts, text and commands together:
//! [`freebsd`] (rc.conf), [`daemons`] (ntpd, chrony, timesyncd),
//! [`dovecot`] (xinetd's login services), [`hypervisor`] (the host's clock
//! and its time sync); [`ITEMS`] lists them in order.

mod daemons;
mod dovecot;
mod freebsd;
mod hypervisor;

use serde::Serialize;

use super::facts::{Facts, Os, RcTime};
#[cfg(test)]
use mailhost_common::conventions::shell_quote;

/// ntpd's slew limit: 500 ppm, 0.5 ms per second.
pub const MAX_SLEW_RATE: f64 = 500e-6;
/// The offset the errata saw at stake: the host's drift over its 7-day
/// interval, "nearly 40 s".
pub const ERRATA_OFFSET_SECS: f64 = 40.0;
/// w32time's default SpecialPollInterval: 7 days.
pub const DEFAULT_HOST_INTERVAL_SECS: f64 = 604_800.0;
/// The errata's interval: 1 hour.
pub const ERRATA_HOST_INTERVAL_SECS: f64 = 3_600.0;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AppliesTo {
    Guest,
    HypervisorHost,
}

impl AppliesTo {
    pub fn as_str(self) -> &'static str {
        match self {
            AppliesTo::Guest => "guest",
            AppliesTo::HypervisorHost => "hypervisor-host",
        }
    }
}

/// Whether an item is to be fixed (raises WARNING) or only informs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Warning,
    Info,
}

#[derive(Clone, Debug, Serialize)]
pub struct Item {
    /// Stable: scripts and tests match on it.
    pub id: &'static str,
    pub applies_to: AppliesTo,
    pub level: Level,
    pub problem: String,
    pub why: String,
    pub commands: Vec<String>,
}

/// How the clock is corrected at boot, before dovecot starts.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct BootSync {
    /// `ntpdate`, `ntpd -g`, `ntpd`, `chronyd`, `systemd-timesyncd`, or `none`.
    pub by: String,
    /// Whether it steps a large offset (false: it slews, or nothing corrects).
    pub steps: bool,
    /// Where its servers come from.
    pub servers_from: Option<String>,
    /// Seconds it takes to correct the errata's 40 s when it slews at 500 ppm.
    pub slew_seconds_for_40s: Option<f64>,
    pub summary: String,
}

/// How long slewing `offset` seconds takes at ntpd's 500 ppm.
pub fn slew_seconds(offset: f64) -> f64 {
    offset.abs() / MAX_SLEW_RATE
}

/// `80,000 s (about 22 h)`.
pub fn describe_duration(seconds: f64) -> String {
    let whole = seconds.round() as u64;
    let grouped = group_thousands(whole);
    if seconds >= 2.0 * 3600.0 {
        format!("{grouped} s (about {:.0} h)", seconds / 3600.0)
    } else if seconds >= 120.0 {
        format!("{grouped} s (about {:.0} min)", seconds / 60.0)
    } else {
        format!("{grouped} s")
    }
}

fn group_thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// ntpd slews instead of stepping: `step 0` or `stepback 0` in ntp.conf.
fn slew_only(facts: &Facts) -> Vec<(&'static str, String)> {
    ["step", "stepback"]
        .into_iter()
        .filter_map(|key| {
            let applied = facts.tinker.get(key)?;
            (applied.value == 0.0).then(|| (key, applied.at.clone()))
        })
        .collect()
}

fn has_flag(flags: &str, flag: &str) -> bool {
    flags.split_whitespace().any(|w| w == flag)
}

/// The time daemons in use: enabled units (Linux), enabled in rc.conf
/// (FreeBSD), or running.
pub fn time_daemons(facts: &Facts) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut add = |name: &str| {
        if !out.iter().any(|n| n == name) {
            out.push(name.to_string());
        }
    };
    if let Some(rc) = &facts.rc
        && rc.ntpd_enable
    {
        add("ntpd");
    }
    for unit in facts.units.iter().filter(|u| u.state == "enabled") {
        match unit.name.as_str() {
            "chrony.service" | "chronyd.service" => add("chronyd"),
            "ntp.service" | "ntpd.service" | "ntpsec.service" => add("ntpd"),
            "openntpd.service" => add("openntpd"),
            "systemd-timesyncd.service" => add("systemd-timesyncd"),
            _ => {}
        }
    }
    for name in facts.processes.iter().flatten() {
        match name.as_str() {
            "ntpd" | "chronyd" | "openntpd" => add(name),
            "systemd-timesyn" => add("systemd-timesyncd"),
            _ => {}
        }
    }
    out.sort();
    out
}

fn unit_enabled(facts: &Facts, name: &str) -> bool {
    facts
        .units
        .iter()
        .any(|u| u.name == name && u.state == "enabled")
}

pub fn boot_sync(facts: &Facts) -> BootSync {
    let slewing = !slew_only(facts).is_empty();
    let conf = facts
        .ntp_conf
        .as_ref()
        .map_or("/etc/ntp.conf".to_string(), |p| p.display().to_string());
    if let Some(rc) = &facts.rc {
        return freebsd_boot_sync(rc, slewing, &conf);
    }
    let daemons = time_daemons(facts);
    let by = ["chronyd", "ntpd", "systemd-timesyncd", "openntpd"]
        .into_iter()
        .find(|d| daemons.iter().any(|x| x == d));
    match by {
        None => BootSync {
            by: "none".into(),
            steps: false,
            servers_from: None,
            slew_seconds_for_40s: None,
            summary: "no time daemon is enabled: nothing corrects the clock at boot".into(),
        },
        Some("ntpd") => BootSync {
            by: "ntpd".into(),
            steps: !slewing,
            servers_from: Some(conf.clone()),
            slew_seconds_for_40s: slewing.then(|| slew_seconds(ERRATA_OFFSET_SECS)),
            summary: if slewing {
                format!("ntpd obeys `step 0` in {conf} at boot too: it slews")
            } else {
                "ntpd steps the first large offset once it has samples".into()
            },
        },
        Some("chronyd") => {
            let steps = facts
                .chrony
                .as_ref()
                .and_then(|c| c.makestep.as_ref())
                .is_some_and(|m| m.limit != 0);
            BootSync {
                by: "chronyd".into(),
                steps,
                servers_from: Some("chrony.conf".into()),
                slew_seconds_for_40s: None,
                summary: if steps {
                    "chronyd steps a large offset after start (makestep)".into()
                } else {
                    "chronyd without `makestep` slews at boot (fast, but dovecot runs meanwhile)"
                        .into()
                },
            }
        }
        Some(other) => BootSync {
            by: other.into(),
            steps: true,
            servers_from: None,
            slew_seconds_for_40s: None,
            summary: format!("{other} steps the clock when it first syncs"),
        },
    }
}

fn freebsd_boot_sync(rc: &RcTime, slewing: bool, conf: &str) -> BootSync {
    let servers = if rc.ntpdate_hosts.trim().is_empty() {
        format!("{conf} (its server lines only)")
    } else {
        format!("ntpdate_hosts ({})", rc.ntpdate_hosts.trim())
    };
    if rc.ntpdate_enable {
        let slews = has_flag(&rc.ntpdate_flags, "-B");
        return BootSync {
            by: "ntpdate".into(),
            steps: !slews,
            servers_from: Some(servers),
            slew_seconds_for_40s: slews.then(|| slew_seconds(ERRATA_OFFSET_SECS)),
            summary: format!(
                "rc.d/ntpdate runs `ntpdate {}` before ntpd and dovecot: it {}",
                rc.ntpdate_flags.trim(),
                if slews { "slews (-B)" } else { "steps" }
            ),
        };
    }
    if rc.ntpd_enable && (rc.ntpd_sync_on_start || has_flag(&rc.ntpd_flags, "-g")) {
        let slews = slewing || has_flag(&rc.ntpd_flags, "-x");
        return BootSync {
            by: "ntpd -g".into(),
            steps: !slews,
            servers_from: Some(conf.to_string()),
            slew_seconds_for_40s: slews.then(|| slew_seconds(ERRATA_OFFSET_SECS)),
            summary: if slews {
                format!(
                    "ntpd_sync_on_start (ntpd -g) reads {conf} at boot, and {} makes it slew",
                    if slewing {
                        "its `step 0`"
                    } else {
                        "-x in ntpd_flags"
                    }
                )
            } else {
                "ntpd_sync_on_start (ntpd -g) steps once ntpd has samples, seconds after boot"
                    .into()
            },
        };
    }
    if rc.ntpd_enable {
        return BootSync {
            by: "ntpd".into(),
            steps: !slewing,
            servers_from: Some(conf.to_string()),
            slew_seconds_for_40s: slewing.then(|| slew_seconds(ERRATA_OFFSET_SECS)),
            summary: "no boot-time sync: ntpd corrects the clock once it has samples, with dovecot already running".into(),
        };
    }
    BootSync {
        by: "none".into(),
        steps: false,
        servers_from: None,
        slew_seconds_for_40s: None,
        summary: "neither ntpdate nor ntpd is enabled: nothing corrects the clock".into(),
    }
}

/// What every item asks about the machine, worked out once.
pub(super) struct Situation<'a> {
    facts: &'a Facts,
    /// Any hypervisor: the boot starts from its host's clock.
    guest: bool,
    hyperv: bool,
    freebsd: bool,
    /// [`time_daemons`].
    daemons: Vec<String>,
}

/// What slewing the errata's 40 s at 500 ppm takes, in words.
fn crawl() -> String {
    describe_duration(slew_seconds(ERRATA_OFFSET_SECS))
}

/// Every advice item, in the order they are listed (warnings are then
/// moved first).  Adding an item: a function here that returns it where it
/// applies, with its facts, text and commands, and a test in envinfo's or
/// tests/env.rs.
const ITEMS: &[fn(&Situation) -> Option<Item>] = &[
    freebsd::ntpdate_at_boot,
    freebsd::ntpdate_slews,
    freebsd::ntpdate_no_servers,
    freebsd::ntpd_enable,
    freebsd::ntpd_x,
    daemons::tinker_step_0,
    dovecot::under_xinetd,
    daemons::one_time_daemon,
    daemons::linux_time_daemon,
    daemons::chrony_makestep_any_time,
    daemons::timesyncd_steps,
    hypervisor::linux_hwclock,
    hypervisor::host_clock,
    hypervisor::vmware_tools,
    hypervisor::hyperv_host_ntp,
    hypervisor::hyperv_time_sync_and_ntpd,
];

/// Every item that applies, warnings first, in a fixed order.
pub fn items(facts: &Facts) -> Vec<Item> {
    let situation = Situation {
        facts,
        guest: facts.hypervisor.is_some(),
        hyperv: facts.hypervisor.as_deref() == Some("Hyper-V"),
        freebsd: facts.os == Some(Os::FreeBsd),
        daemons: time_daemons(facts),
    };
    let mut items: Vec<Item> = ITEMS.iter().filter_map(|item| item(&situation)).collect();
    items.sort_by_key(|i| i.level != Level::Warning);
    items
}

/// The systemd unit that runs `daemon` here (for `systemctl disable`).
fn linux_unit_of(facts: &Facts, daemon: &str) -> String {
    let candidates: &[&str] = match daemon {
        "chronyd" => &["chrony.service", "chronyd.service"],
        "ntpd" => &["ntpsec.service", "ntp.service", "ntpd.service"],
        "systemd-timesyncd" => &["systemd-timesyncd.service"],
        "openntpd" => &["openntpd.service"],
        _ => &[],
    };
    candidates
        .iter()
        .find(|c| unit_enabled(facts, c))
        .or(candidates.first())
        .map_or(format!("{daemon}.service"), |c| c.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_words() {
        assert_eq!(shell_quote("/etc/ntp.conf"), "/etc/ntp.conf");
        assert_eq!(shell_quote("-p /var/run/x"), "'-p /var/run/x'");
        assert_eq!(shell_quote("a'$(rm)"), "'a'\\''$(rm)'");
        assert_eq!(shell_quote(""), "''");
    }

    #[test]
    fn the_errata_numbers() {
        assert_eq!(slew_seconds(40.0), 80_000.0);
        assert_eq!(describe_duration(80_000.0), "80,000 s (about 22 h)");
        assert_eq!(describe_duration(600.0), "600 s (about 10 min)");
        assert_eq!(describe_duration(5.0), "5 s");
    }
}
