//! `clockcheck env`: what keeps this machine's time, and what to change, as
//! a list of advice items that agree with the errata this toolkit is built
//! from (see the developers' guide, "The problem we solve").
//!
//! - [`kernel`]: FreeBSD's sysctl values and process table, behind a trait
//!   (a saved `sysctl.out` stands in for a copied tree).
//! - [`facts`]: what the tree says: hypervisor, rc.conf or systemd units,
//!   the tinker values ntpd applies, xinetd's dovecot services.
//! - [`advice`]: the items, with the errata's reasoning and exact commands.
//!
//! This module puts them together and writes text, JSON or Prometheus.

pub mod advice;
pub mod facts;
pub mod kernel;

use std::io::{self, Write};
use std::path::Path;

use serde::Serialize;

use crate::check::Status;
use crate::conventions::escape_text;
use crate::settings::OutputFormat;
use advice::{BootSync, Item, Level};
use facts::Facts;
use kernel::Kernel;
use mailhost_common::root::Root;

#[derive(Clone, Debug, Serialize)]
pub struct TimeEnv {
    pub hypervisor: Option<String>,
    /// Whether the hypervisor's own time sync can step the clock, and why we think so.
    pub host_time_sync: Option<String>,
    pub clocksource: Option<String>,
    pub ntp_daemons: Vec<String>,
    /// One line per item (problem: commands).
    pub advice: Vec<String>,
    pub status: String,
    pub os: Option<facts::Os>,
    pub boot_sync: BootSync,
    pub items: Vec<Item>,
    /// What could not be read (`path: error`).
    pub unreadable: Vec<String>,
    /// Why the status is UNKNOWN: facts the verdict needs that could not be
    /// had (empty when it is OK or WARNING).
    pub unknown: Vec<String>,
    /// The installed dovecot as every tool states it (the host model's
    /// `mailhost_host::dovecot::standalone::Facts`).
    pub dovecot: Option<mailhost_host::dovecot::standalone::Facts>,
    /// The xinetd services set to run dovecot's login processes
    /// (`xinetd_lint::services`), as `FILE: SERVICE` (jail paths).
    pub xinetd_dovecot_services: Vec<String>,
    /// The daemon that keeps the time by its configuration
    /// (`ntpconf_edit::time_keeper`): ntpd, chronyd, systemd-timesyncd.
    pub time_keeper: Option<String>,
}

/// The kernel to ask for `root`: the live one for the host, a saved
/// `sysctl -a` for a copied tree (`$ROOT/sysctl.out`), else none (the host
/// model's `mailhost_host::kernel::for_root`).
pub fn kernel_for(root: &Root) -> io::Result<Box<dyn Kernel>> {
    kernel::for_root(root)
}

/// Everything `clockcheck env` says about `root`.
pub fn inspect(root: &Root, kernel: &dyn Kernel) -> TimeEnv {
    let facts = facts::gather(root, kernel);
    from_facts(&facts)
}

pub fn from_facts(facts: &Facts) -> TimeEnv {
    let items = advice::items(facts);
    let status = if !facts.unknown.is_empty() {
        Status::Unknown
    } else if items.iter().any(|i| i.level == Level::Warning) {
        Status::Warning
    } else {
        Status::Ok
    };
    TimeEnv {
        hypervisor: facts.hypervisor.clone(),
        host_time_sync: facts.host_time_sync.as_ref().map(|s| s.description.clone()),
        clocksource: facts.clocksource.clone(),
        ntp_daemons: advice::time_daemons(facts),
        advice: items.iter().map(one_line).collect(),
        status: status.as_str().to_string(),
        os: facts.os,
        boot_sync: advice::boot_sync(facts),
        items,
        unreadable: facts.unreadable.clone(),
        unknown: facts.unknown.clone(),
        dovecot: facts.dovecot_facts.clone(),
        xinetd_dovecot_services: facts.xinetd_logins.clone(),
        time_keeper: facts.time_keeper.clone(),
    }
}

fn one_line(item: &Item) -> String {
    format!(
        "[{}] {}: {}: {}",
        item.applies_to.as_str(),
        item.id,
        item.problem,
        item.commands.join(" ; ")
    )
}

/// The exit status: OK, WARNING or UNKNOWN (Nagios).
pub fn exit_code(env: &TimeEnv) -> Status {
    match env.status.as_str() {
        "OK" => Status::Ok,
        "UNKNOWN" => Status::Unknown,
        _ => Status::Warning,
    }
}

/// The terminal form: the facts, then each item with why and what to run.
pub fn write_text(env: &TimeEnv, out: &mut dyn Write) -> io::Result<()> {
    let show = |v: &Option<String>| v.as_deref().unwrap_or("-").to_string();
    // `label:` padded to 16 columns, the value wrapped under itself.
    let mut fact = |label: &str, value: &str| -> io::Result<()> {
        for (i, line) in wrap(&escape_text(value), 62).iter().enumerate() {
            let label = if i == 0 {
                format!("{label}:")
            } else {
                String::new()
            };
            writeln!(out, "{label:<16}{line}")?;
        }
        Ok(())
    };
    fact(
        "hypervisor",
        env.hypervisor.as_deref().unwrap_or("none detected"),
    )?;
    fact("host time sync", &show(&env.host_time_sync))?;
    fact("clocksource", &show(&env.clocksource))?;
    let daemons = if env.ntp_daemons.is_empty() {
        "none".to_string()
    } else {
        env.ntp_daemons.join(", ")
    };
    fact("time daemons", &daemons)?;
    fact("boot sync", &env.boot_sync.summary)?;
    for problem in &env.unreadable {
        fact("unreadable", problem)?;
    }
    for reason in &env.unknown {
        fact("unknown", reason)?;
    }
    let warnings = env
        .items
        .iter()
        .filter(|i| i.level == Level::Warning)
        .count();
    let infos = env.items.len() - warnings;
    fact(
        "status",
        &format!(
            "{} ({warnings} to fix, {infos} for information)",
            env.status
        ),
    )?;
    for item in &env.items {
        writeln!(out)?;
        let level = match item.level {
            Level::Warning => "WARNING",
            Level::Info => "INFO",
        };
        let place = match item.applies_to {
            advice::AppliesTo::Guest if env.hypervisor.is_none() => "on this machine",
            advice::AppliesTo::Guest => "on the guest",
            advice::AppliesTo::HypervisorHost => "on the host",
        };
        let place = match (item.applies_to, env.hypervisor.as_deref()) {
            (advice::AppliesTo::HypervisorHost, Some(name)) => format!("on the {name} host"),
            _ => place.to_string(),
        };
        writeln!(out, "{level} {} ({place})", item.id)?;
        for line in wrap(&escape_text(&item.problem), 76) {
            writeln!(out, "    {line}")?;
        }
        writeln!(out, "  why:")?;
        for line in wrap(&escape_text(&item.why), 76) {
            writeln!(out, "    {line}")?;
        }
        if !item.commands.is_empty() {
            writeln!(out, "  run:")?;
            for command in &item.commands {
                // Commands are ready to paste: a Windows path keeps its
                // backslashes; only control characters are escaped.
                let shown = if command.chars().any(char::is_control) {
                    escape_text(command)
                } else {
                    command.into()
                };
                writeln!(out, "    {shown}")?;
            }
        }
    }
    Ok(())
}

/// Splits `text` into lines of at most `width` characters at spaces.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// Metrics for node_exporter's text-file collector.
pub fn prometheus(env: &TimeEnv) -> String {
    let label = |v: &str| {
        v.replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace('\n', "\\n")
    };
    let mut out = String::new();
    let mut metric = |name: &str, help: &str, rows: Vec<(String, String)>| {
        out.push_str(&format!("# HELP {name} {help}\n# TYPE {name} gauge\n"));
        for (labels, value) in rows {
            out.push_str(&format!("{name}{labels} {value}\n"));
        }
    };
    metric(
        "clockcheck_env_status",
        "What clockcheck env advises: 0 OK, 1 WARNING (an item to fix on this guest), 3 UNKNOWN (a fact it needs could not be read).",
        vec![(String::new(), exit_code(env).code().to_string())],
    );
    metric(
        "clockcheck_env_advice",
        "Advice items that apply, by id, where they apply and whether they raise the status.",
        env.items
            .iter()
            .map(|i| {
                (
                    format!(
                        "{{id=\"{}\",applies_to=\"{}\",level=\"{}\"}}",
                        i.id,
                        i.applies_to.as_str(),
                        match i.level {
                            Level::Warning => "warning",
                            Level::Info => "info",
                        }
                    ),
                    "1".to_string(),
                )
            })
            .collect(),
    );
    metric(
        "clockcheck_env_hypervisor_info",
        "The hypervisor this guest runs on (none: bare metal or not detected).",
        vec![(
            format!(
                "{{hypervisor=\"{}\"}}",
                label(env.hypervisor.as_deref().unwrap_or("none"))
            ),
            "1".into(),
        )],
    );
    metric(
        "clockcheck_env_host_time_sync_active",
        "1 when the hypervisor's time sync can set this clock.",
        vec![(
            String::new(),
            u8::from(
                env.host_time_sync
                    .as_deref()
                    .is_some_and(|s| s.starts_with("active")),
            )
            .to_string(),
        )],
    );
    metric(
        "clockcheck_env_time_daemons",
        "Time daemons in use (enabled or running).",
        vec![(String::new(), env.ntp_daemons.len().to_string())],
    );
    metric(
        "clockcheck_env_boot_sync_steps",
        "1 when the clock is stepped at boot, before dovecot starts; 0 when it slews or nothing corrects it.",
        vec![(
            format!("{{by=\"{}\"}}", label(&env.boot_sync.by)),
            u8::from(env.boot_sync.steps).to_string(),
        )],
    );
    out
}

/// `clockcheck env --root ROOT --format FORMAT`.
/// `clockcheck env`.  With `quiet`, text output is written only when the
/// status is not OK.
pub fn run(
    root_path: &Path,
    format: OutputFormat,
    quiet: bool,
    out: &mut dyn Write,
) -> anyhow::Result<Status> {
    let root = match Root::new(root_path) {
        Ok(root) => root,
        Err(e) => {
            writeln!(
                out,
                "CLOCK UNKNOWN: --root {}: {e}",
                crate::conventions::escape_path(root_path)
            )?;
            return Ok(Status::Unknown);
        }
    };
    let kernel = match kernel_for(&root) {
        Ok(kernel) => kernel,
        Err(e) => {
            writeln!(out, "CLOCK UNKNOWN: {}", escape_text(&e.to_string()))?;
            return Ok(Status::Unknown);
        }
    };
    let mut facts = facts::gather(&root, kernel.as_ref());
    if let Some(overrun) = root.budget().overrun_message() {
        // Facts gathered from half a tree are no answer: say what stopped.
        writeln!(out, "CLOCK UNKNOWN: {}", escape_text(&overrun))?;
        return Ok(Status::Unknown);
    }
    if !root.is_host()
        && facts.os == Some(facts::Os::FreeBsd)
        && root.metadata(Path::new("/sysctl.out")).is_err()
    {
        // Without it the hypervisor is unknown, and so is every guest item.
        facts.unknown.push(format!(
            "{}: missing; save the guest's `sysctl -a` there for the hypervisor and its time sync",
            root.display_path(Path::new("/sysctl.out")).display()
        ));
    }
    let env = from_facts(&facts);
    match format {
        OutputFormat::Json => {
            serde_json::to_writer(&mut *out, &env)?;
            writeln!(out)?;
        }
        OutputFormat::Prometheus => write!(out, "{}", prometheus(&env))?,
        OutputFormat::Text if quiet && env.status == "OK" => {}
        OutputFormat::Text => write_text(&env, out)?,
    }
    Ok(exit_code(&env))
}

#[cfg(test)]
mod tests {
    use super::*;
    use kernel::tests::FakeKernel;
    use mailhost_common::testing::tree;

    fn ids(env: &TimeEnv) -> Vec<&str> {
        env.items.iter().map(|i| i.id).collect()
    }

    #[test]
    fn a_linux_hyper_v_guest_with_two_time_daemons() {
        let dir = tree(&[
            ("sys/class/dmi/id/sys_vendor", "Microsoft Corporation\n"),
            ("sys/class/dmi/id/product_name", "Virtual Machine\n"),
            (
                "sys/devices/system/clocksource/clocksource0/current_clocksource",
                "hyperv_clocksource_tsc_page\n",
            ),
            (
                "proc/modules",
                "hv_utils 45056 0 - Live 0x0000000000000000\n",
            ),
            ("proc/812/comm", "chronyd\n"),
            ("proc/901/comm", "ntpd\n"),
            ("proc/1/comm", "systemd\n"),
        ]);
        let root = Root::new(dir.path()).unwrap();
        let env = inspect(&root, &kernel::NoKernel);
        assert_eq!(env.hypervisor.as_deref(), Some("Hyper-V"));
        assert!(env.host_time_sync.as_deref().unwrap().starts_with("active"));
        assert_eq!(
            env.clocksource.as_deref(),
            Some("hyperv_clocksource_tsc_page")
        );
        assert_eq!(env.ntp_daemons, ["chronyd", "ntpd"]);
        assert_eq!(env.status, "WARNING");
        assert!(ids(&env).contains(&"one-time-daemon"), "{:?}", ids(&env));
        assert!(ids(&env).contains(&"linux-hwclock"));
        assert!(env.advice.iter().all(|a| !a.contains("pick one")));
    }

    #[test]
    fn the_live_freebsd_kernel_is_asked_through_the_trait() {
        let dir = tree(&[
            ("etc/rc.conf", "ntpdate_enable=YES\nntpd_enable=YES\n"),
            ("etc/ntp.conf", "pool 0.freebsd.pool.ntp.org iburst\n"),
        ]);
        let mut kernel = FakeKernel::default();
        for (k, v) in [
            ("kern.ostype", "FreeBSD"),
            ("kern.vm_guest", "hv"),
            ("hw.hvtimesync.ignore_sync", "0"),
            ("hw.hvtimesync.sample_thresh", "100"),
            ("kern.timecounter.hardware", "Hyper-V-TSC"),
        ] {
            kernel.values.insert(k.into(), v.into());
        }
        kernel.processes = Some(vec!["init".into(), "ntpd".into()]);
        let root = Root::new(dir.path()).unwrap();
        let env = inspect(&root, &kernel);
        assert_eq!(env.os, Some(facts::Os::FreeBsd));
        assert_eq!(env.ntp_daemons, ["ntpd"]);
        assert_eq!(env.status, "OK", "{:?}", env.items);
        assert_eq!(ids(&env), ["hyperv-host-ntp", "hyperv-time-sync-and-ntpd"]);
        assert_eq!(env.boot_sync.by, "ntpdate");
        assert!(env.boot_sync.steps);
    }

    #[test]
    fn a_pseudo_file_that_never_ends_is_refused() {
        let dir = tree(&[("sys/class/dmi/id/product_name", "Virtual Machine\n")]);
        std::os::unix::fs::symlink("/dev/zero", dir.path().join("sys/class/dmi/id/sys_vendor"))
            .unwrap();
        // Inside the root /dev/zero does not exist; make it a huge file.
        std::fs::create_dir_all(dir.path().join("dev")).unwrap();
        let big = std::fs::File::create(dir.path().join("dev/zero")).unwrap();
        big.set_len(1 << 30).unwrap();
        let root = Root::new(dir.path()).unwrap();
        let env = inspect(&root, &kernel::NoKernel);
        assert_eq!(env.hypervisor, None);
        assert!(
            env.unreadable
                .iter()
                .any(|e| e.contains("sys_vendor") && e.contains("more than 65536 bytes")),
            "{:?}",
            env.unreadable
        );
    }

    #[test]
    fn bare_metal_says_little() {
        let dir = tree(&[("etc/os-release", "ID=debian\nVERSION_ID=\"12\"\n")]);
        let root = Root::new(dir.path()).unwrap();
        let env = inspect(&root, &kernel::NoKernel);
        assert_eq!(env.hypervisor, None);
        assert!(env.advice.is_empty());
        assert_eq!(env.status, "OK");
        assert_eq!(exit_code(&env).code(), 0);
    }

    #[test]
    fn an_empty_tree_is_unknown_not_ok() {
        let dir = tempfile::tempdir().unwrap();
        let root = Root::new(dir.path()).unwrap();
        let env = inspect(&root, &kernel::NoKernel);
        assert_eq!(env.status, "UNKNOWN");
        assert_eq!(exit_code(&env).code(), 3);
        assert!(
            env.unknown[0].contains("not an OS root"),
            "{:?}",
            env.unknown
        );
    }

    #[test]
    fn an_ntp_conf_ntpd_refuses_is_unknown_not_advice() {
        // Issue 20: ntpd exits on 1e-400 at start-up; no tinker value applies.
        let dir = tree(&[
            ("etc/os-release", "ID=debian\nVERSION_ID=\"11\"\n"),
            (
                "etc/ntp.conf",
                "server 127.0.0.1 minpoll 1e-400\ntinker step 0\n",
            ),
        ]);
        let root = Root::new(dir.path()).unwrap();
        let env = inspect(&root, &kernel::NoKernel);
        assert_eq!(env.status, "UNKNOWN", "{:?}", env.items);
        assert_eq!(exit_code(&env).code(), 3);
        assert!(
            env.unknown
                .iter()
                .any(|u| u.contains("ntpd will not start") && u.contains(":1:26:")),
            "{:?}",
            env.unknown
        );
    }

    #[test]
    fn text_wraps_at_words() {
        assert_eq!(wrap("aa bb cc", 5), ["aa bb", "cc"]);
    }
}
