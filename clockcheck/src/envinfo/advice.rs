//! The advice, item by item, as the errata this toolkit is built from
//! concludes: keep the Hyper-V host's time right (a reachable NTP server,
//! a 1-hour interval instead of 7 days), step the guest at boot with ntpdate
//! before dovecot starts, keep it right with ntpd, and never make ntpd
//! slew-only (`tinker step 0`) on a guest whose every boot may start far off.

use serde::Serialize;

use super::facts::{Facts, Os, RcTime};
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

/// xinetd runs dovecot's login processes: what that means on the installed
/// dovecot, in the words xinetd-lint prints (the host model's verdict).
/// 1.x: the errata's recipe, with the standalone dovecot off.  2.x: it cannot
/// work; keep the standalone dovecot and move the xinetd services aside.
/// Unknown: say so, and that only 1.x can run this way.
fn dovecot_under_xinetd(facts: &Facts, freebsd: bool, dovecot_runs: bool) -> Option<Item> {
    use mailhost_host::dovecot::xinetd::{self, Works};
    let dovecot = facts.dovecot.as_ref()?;
    let verdict = xinetd::verdict(dovecot);
    let services = facts.xinetd_logins.join(", ");
    // `sysrc -f` where a later file of the chain holds the setting.
    let sysrc = |value: &str| match &facts.rc {
        Some(rc) => rc
            .chain
            .sysrc_commands(&[("dovecot_enable", value)])
            .concat(),
        None => format!("sysrc dovecot_enable={value}"),
    };
    match verdict.works {
        Works::Yes if dovecot_runs => Some(Item {
            id: "dovecot-standalone-and-xinetd",
            applies_to: AppliesTo::Guest,
            level: Level::Warning,
            problem: format!(
                "the standalone dovecot is enabled while xinetd runs its login processes ({services})"
            ),
            why: format!(
                "Both want the same ports (imap 143, imaps 993, pop3 110, pop3s 995): whichever starts second \
                 cannot bind them, and nothing says so. {}.",
                verdict.conclusion
            ),
            commands: if facts.rc.is_some() {
                vec![
                    "service dovecot stop".into(),
                    sysrc("NO"),
                    "service xinetd restart".into(),
                ]
            } else {
                let units: Vec<&str> = super::facts::DOVECOT_UNITS
                    .into_iter()
                    .rev()
                    .filter(|u| unit_enabled(facts, u))
                    .collect();
                vec![
                    format!("systemctl disable --now {}", units.join(" ")),
                    "systemctl restart xinetd.service".into(),
                ]
            },
        }),
        Works::Yes => None,
        Works::No => {
            let files: Vec<String> = facts
                .xinetd_logins
                .iter()
                .filter_map(|l| l.split_once(": ").map(|(file, _)| file.to_string()))
                .fold(Vec::new(), |mut files, f| {
                    if !files.contains(&f) {
                        files.push(f);
                    }
                    files
                });
            // FreeBSD: sysrc edits the file of the chain that holds the setting.
            let enable = freebsd.then(|| sysrc("YES"));
            let commands = xinetd::commands_2x(&files, enable.as_deref());
            Some(Item {
                id: "dovecot-2-under-xinetd",
                applies_to: AppliesTo::Guest,
                level: Level::Warning,
                problem: format!(
                    "xinetd runs dovecot's login processes ({services}), which {} cannot do",
                    dovecot.identity.name()
                ),
                why: format!("{}. Fix: {}.", verdict.conclusion, verdict.fix),
                commands,
            })
        }
        Works::Unknown => Some(Item {
            id: "dovecot-generation-unknown",
            applies_to: AppliesTo::Guest,
            level: Level::Warning,
            problem: format!(
                "xinetd runs dovecot's login processes ({services}), and which dovecot is installed is unknown"
            ),
            why: format!("{}. {}.", verdict.conclusion, capitalized(&verdict.fix)),
            commands: vec!["dovecot --version".into()],
        }),
    }
}

fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Every item that applies, warnings first, in a fixed order.
pub fn items(facts: &Facts) -> Vec<Item> {
    let mut items = Vec::new();
    let hyperv = facts.hypervisor.as_deref() == Some("Hyper-V");
    let guest = facts.hypervisor.is_some();
    let freebsd = facts.os == Some(Os::FreeBsd);
    let crawl = describe_duration(slew_seconds(ERRATA_OFFSET_SECS));
    let daemons = time_daemons(facts);

    if let Some(rc) = &facts.rc {
        // The boot-time step matters where the boot starts from a
        // hypervisor's clock; bare metal keeps its time in the RTC.
        if guest && !rc.ntpdate_enable {
            // ntpdate_flags=-b is FreeBSD's default; set explicitly, so an
            // older -B elsewhere in the chain cannot make it slew.
            let commands = rc
                .chain
                .sysrc_commands(&[("ntpdate_enable", "YES"), ("ntpdate_flags", "-b")]);
            items.push(Item {
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
            });
        } else if guest && rc.ntpdate_enable && has_flag(&rc.ntpdate_flags, "-B") {
            items.push(Item {
                id: "freebsd-ntpdate-slews",
                applies_to: AppliesTo::Guest,
                level: Level::Warning,
                problem: format!("ntpdate_flags=\"{}\" makes the boot-time ntpdate slew (-B)", rc.ntpdate_flags.trim()),
                why: format!(
                    "Slewing at 500 ppm takes {crawl} for the 40 s a boot may start off; `-b` steps before dovecot starts."
                ),
                commands: rc.chain.sysrc_commands(&[("ntpdate_flags", "-b")]),
            });
        }
        if rc.ntpdate_enable && rc.ntpdate_hosts.trim().is_empty() && facts.ntp_servers.is_empty() {
            let conf = facts
                .ntp_conf
                .as_ref()
                .map_or("/etc/ntp.conf".into(), |p| p.display().to_string());
            items.push(Item {
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
            });
        }
        if !rc.ntpd_enable {
            items.push(Item {
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
            });
        }
        if guest && has_flag(&rc.ntpd_flags, "-x") {
            let kept: Vec<&str> = rc
                .ntpd_flags
                .split_whitespace()
                .filter(|w| *w != "-x")
                .collect();
            items.push(Item {
                id: "freebsd-ntpd-x",
                applies_to: AppliesTo::Guest,
                level: Level::Warning,
                problem: format!("ntpd_flags=\"{}\" has -x: ntpd slews every offset under 600 s", rc.ntpd_flags.trim()),
                why: format!(
                    "At ntpd's 500 ppm slew limit the 40 s a Hyper-V guest may start off take {crawl} to correct, \
                     and the clock is wrong all that time."
                ),
                commands: [
                    rc.chain.sysrc_commands(&[("ntpd_flags", &kept.join(" "))]),
                    vec!["service ntpd restart".into()],
                ]
                .concat(),
            });
        }
    }

    let slew = slew_only(facts);
    if guest && !slew.is_empty() {
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
        items.push(Item {
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
                vec![format!("ntpconf-edit -i unset {}{file_arg}", keys.join(" "))],
                ntpd_restart(facts),
            ]
            .concat(),
        });
    }

    let xinetd_runs = match &facts.rc {
        Some(rc) => rc.xinetd_enable,
        None => unit_enabled(facts, super::facts::XINETD_UNIT),
    };
    let dovecot_runs = facts.dovecot_enabled.is_some();
    if xinetd_runs && !facts.xinetd_logins.is_empty() {
        items.extend(dovecot_under_xinetd(facts, freebsd, dovecot_runs));
    }

    let syncing: Vec<&String> = daemons.iter().collect();
    if syncing.len() > 1 {
        let keep = syncing[0].clone();
        let others: Vec<String> = syncing[1..].iter().map(|s| s.to_string()).collect();
        items.push(Item {
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
        });
    }

    if facts.os == Some(Os::Linux) && guest && daemons.is_empty() {
        let has_chrony = facts.units.iter().any(|u| u.name.starts_with("chrony"));
        items.push(Item {
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
        });
    }
    items.extend(chrony_steps_any_time(facts, guest, &daemons));
    items.extend(timesyncd_steps(facts, guest, &daemons));

    if facts.os == Some(Os::Linux) && guest {
        items.push(Item {
            id: "linux-hwclock",
            applies_to: AppliesTo::Guest,
            level: Level::Info,
            problem: "a Linux guest can keep its time in the hardware clock".into(),
            why: "Unlike a FreeBSD guest, Linux can write the synchronized time back (hwclock --systohc), so the \
                  next boot starts near the right time instead of from the host's clock; chrony's `rtcsync` or \
                  ntpd's 11-minute mode keep doing it."
                .into(),
            commands: vec!["hwclock --systohc".into(), "hwclock --show".into()],
        });
    }

    items.extend(host_clock_item(facts));
    items.extend(vmware_tools_item(facts));

    if hyperv {
        items.push(Item {
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
        });
    }

    if let Some(sync) = facts.host_time_sync.as_ref().filter(|s| s.active)
        && !daemons.is_empty()
    {
        let thresh = sync
            .sample_thresh_ms
            .filter(|t| *t >= 0)
            .map(|t| format!(", and whenever the guest is more than {t} ms off the host's"))
            .unwrap_or_default();
        items.push(Item {
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
        });
    }

    items.sort_by_key(|i| i.level != Level::Warning);
    items
}

/// Why a guest's boot starts from its host's clock, in the terms of its
/// hypervisor (the errata's argument is Hyper-V's).
fn boot_clock(facts: &Facts) -> String {
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

/// The host's own clock decides the guest's at every boot: what keeps it
/// right, for KVM and VMware hosts (Hyper-V's is `hyperv-host-ntp`).
fn host_clock_item(facts: &Facts) -> Option<Item> {
    match facts.hypervisor.as_deref()? {
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
fn vmware_tools_item(facts: &Facts) -> Option<Item> {
    if facts.hypervisor.as_deref() != Some("VMware") {
        return None;
    }
    let tools = match &facts.rc {
        Some(rc) => {
            rc.chain.is_yes("vmware_guestd_enable")
                || rc.chain.is_yes("vmware_guest_vmblock_enable")
        }
        None => super::facts::VMWARE_TOOLS_UNITS
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

/// chrony's `makestep T -1`: it steps (back too) at any time; chrony slews
/// fast (83333 ppm on Linux), so stepping only at start costs little.
fn chrony_steps_any_time(facts: &Facts, guest: bool, daemons: &[String]) -> Option<Item> {
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
fn timesyncd_steps(facts: &Facts, guest: bool, daemons: &[String]) -> Option<Item> {
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
