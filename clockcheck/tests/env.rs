//! `clockcheck env` on copied host trees: the FreeBSD guest set up exactly as
//! the errata says (OK, only informational items), each thing it warns
//! against (the item is named with its exact command), Linux guests, the
//! bundled example, the output forms, and hostile /sys files.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use assert_cmd::Command;
use serde_json::Value;
mod support;
use support::run_writing_metrics_to;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn cmd() -> Command {
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin!("clockcheck"));
    cmd.timeout(Duration::from_secs(30));
    cmd
}

/// `clockcheck env ARGS --root ROOT`, run to its end.
fn env_on(root: &Path, args: &[&str]) -> Output {
    cmd()
        .arg("env")
        .args(args)
        .arg("--root")
        .arg(root)
        .output()
        .unwrap()
}

struct Tree(tempfile::TempDir);

impl Tree {
    fn new() -> Tree {
        Tree(tempfile::tempdir().unwrap())
    }
    fn path(&self) -> &Path {
        self.0.path()
    }
    fn write(&self, path: &str, text: &str) -> &Tree {
        let path = self.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
        self
    }
    fn link(&self, target: &str, at: &str) -> &Tree {
        let at = self.path().join(at);
        std::fs::create_dir_all(at.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(target, at).unwrap();
        self
    }
    /// `clockcheck env --root TREE --format json`: (exit code, report).
    fn env_json(&self) -> (i32, Value) {
        let out = env_on(self.path(), &["--format", "json"]);
        let text = String::from_utf8(out.stdout).unwrap();
        let v: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
        (out.status.code().unwrap(), v)
    }
}

fn ids(v: &Value) -> Vec<String> {
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_string())
        .collect()
}

fn item<'a>(v: &'a Value, id: &str) -> &'a Value {
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == id)
        .unwrap_or_else(|| panic!("no item {id} in {:?}", ids(v)))
}

/// One text field (`why`, `problem`, ...) of the item `id`.
fn item_text(v: &Value, id: &str, field: &str) -> String {
    item(v, id)[field].as_str().unwrap().to_string()
}

fn commands(v: &Value, id: &str) -> Vec<String> {
    item(v, id)["commands"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect()
}

const NTP_CONF: &str = "pool 0.freebsd.pool.ntp.org iburst\ntinker panic 0\n";

/// A FreeBSD 14 guest on Hyper-V, set up exactly as the errata says: the
/// host's time sync left on, ntpdate -b at boot, ntpd, dovecot's logins from
/// xinetd and the standalone dovecot off, on dovecot 1.2 (the generation the
/// recipe works on; its package's license directory says so).
fn errata_guest(rc_extra: &str) -> Tree {
    let tree = Tree::new();
    let sysctl = std::fs::read_to_string(repo().join("examples/host/sysctl.out")).unwrap();
    tree.write("sysctl.out", &sysctl)
        .write(
            "etc/rc.conf",
            &format!(
                "hostname=\"mail1.example.org\"\nntpdate_enable=\"YES\"\nntpdate_flags=\"-b\"\n\
                 ntpd_enable=\"YES\"\nxinetd_enable=\"YES\"\ndovecot_enable=\"NO\"\n{rc_extra}"
            ),
        )
        .write("etc/ntp.conf", NTP_CONF)
        .write(
            "usr/local/share/licenses/dovecot-1.2.17/catalog.mk",
            "_LICENSE=LGPL21 MIT\n",
        );
    xinetd_host(&tree, "/usr/local/libexec/dovecot");
    for service in ["imap", "imaps", "pop3", "pop3s"] {
        let text =
            std::fs::read_to_string(repo().join("examples/errata/xinetd.d").join(service)).unwrap();
        tree.write(&format!("etc/xinetd.d/{service}"), &text);
    }
    tree
}

/// What xinetd needs to run the errata's services (xinetd-lint's reading,
/// which clockcheck env asks): xinetd.conf including xinetd.d, the
/// services, protocols and accounts it looks up, dovecot's login binaries
/// under `libexec`.
fn xinetd_host(tree: &Tree, libexec: &str) {
    tree.write("etc/xinetd.conf", "includedir /etc/xinetd.d\n");
    for table in ["protocols", "services", "passwd", "group"] {
        let text = std::fs::read_to_string(repo().join("examples/host/etc").join(table)).unwrap();
        tree.write(&format!("etc/{table}"), &text);
    }
    for login in ["imap-login", "pop3-login"] {
        let path = format!("{}/{login}", libexec.trim_start_matches('/'));
        tree.write(&path, "#!/bin/sh\n");
        let executable = std::os::unix::fs::PermissionsExt::from_mode(0o755);
        std::fs::set_permissions(tree.path().join(&path), executable).unwrap();
    }
}

#[test]
fn the_errata_configuration_is_ok_with_two_notes() {
    let (code, v) = errata_guest("").env_json();
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["status"], "OK");
    assert_eq!(ids(&v), ["hyperv-host-ntp", "hyperv-time-sync-and-ntpd"]);
    for i in v["items"].as_array().unwrap() {
        assert_eq!(i["level"], "info");
    }
    assert_eq!(item(&v, "hyperv-host-ntp")["applies_to"], "hypervisor-host");
    assert_eq!(item(&v, "hyperv-time-sync-and-ntpd")["applies_to"], "guest");
    assert_eq!(v["boot_sync"]["by"], "ntpdate");
    assert_eq!(v["boot_sync"]["steps"], true);
    assert_eq!(v["hypervisor"], "Hyper-V");
    assert_eq!(v["clocksource"], "Hyper-V-TSC");
    assert_eq!(v["ntp_daemons"], serde_json::json!(["ntpd"]));
    // The existing fields stay; `advice` is one line per item.
    for field in [
        "hypervisor",
        "host_time_sync",
        "clocksource",
        "ntp_daemons",
        "advice",
        "status",
    ] {
        assert!(v.get(field).is_some(), "{field}");
    }
    assert_eq!(v["advice"].as_array().unwrap().len(), 2);
    assert!(
        v["advice"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| !a.as_str().unwrap().contains('\n'))
    );
    for i in v["items"].as_array().unwrap() {
        for field in ["id", "applies_to", "problem", "why", "commands"] {
            assert!(i.get(field).is_some(), "{field} in {i}");
        }
    }
}

/// `env --quiet` for cron: nothing at all while OK (the informational items
/// included), the whole report and exit 1 once a guest item is open.
#[test]
fn quiet_prints_nothing_on_the_errata_host_and_everything_on_a_broken_one() {
    let clean = errata_guest("");
    let out = env_on(clean.path(), &["--quiet"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        out.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let broken = errata_guest("ntpdate_enable=\"NO\"\n");
    let out = env_on(broken.path(), &["--quiet"]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("sysrc ntpdate_enable=YES ntpdate_flags=-b"),
        "{text}"
    );
    // Machines still get their output when quiet.
    let out = env_on(clean.path(), &["--quiet", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(!out.stdout.is_empty());
}

#[test]
fn the_hyper_v_host_commands_take_effect() {
    let (_, v) = errata_guest("").env_json();
    assert_eq!(
        commands(&v, "hyperv-host-ntp"),
        [
            "w32tm /config /manualpeerlist:\"ntp.nict.jp,0x9\" /syncfromflags:manual /update",
            "reg add HKLM\\SYSTEM\\CurrentControlSet\\Services\\W32Time\\TimeProviders\\NtpClient /v SpecialPollInterval /t REG_DWORD /d 3600 /f",
            "net stop w32time",
            "net start w32time",
            "w32tm /resync",
            "w32tm /query /status",
            "w32tm /query /configuration",
        ]
    );
    let why = item_text(&v, "hyperv-host-ntp", "why");
    for needle in [
        "604800 = 0x93a80",
        "3600 = 0xe10",
        "nearly 40 s",
        "0x1",
        "ntp.nict.jp",
    ] {
        assert!(why.contains(needle), "{needle}: {why}");
    }
}

#[test]
fn no_ntpdate_at_boot_is_named_with_sysrc() {
    let tree = errata_guest("ntpdate_enable=\"NO\"\n");
    let (code, v) = tree.env_json();
    assert_eq!(code, 1);
    assert_eq!(v["status"], "WARNING");
    assert_eq!(
        commands(&v, "freebsd-ntpdate-at-boot"),
        ["sysrc ntpdate_enable=YES ntpdate_flags=-b"]
    );
    assert_eq!(item(&v, "freebsd-ntpdate-at-boot")["applies_to"], "guest");
    assert_eq!(v["boot_sync"]["by"], "ntpd");
}

#[test]
fn rc_conf_local_wins_as_sh_reads_it() {
    let tree = errata_guest("");
    tree.write("etc/rc.conf.local", "ntpdate_enable=NO\n");
    let (_, v) = tree.env_json();
    assert!(ids(&v).contains(&"freebsd-ntpdate-at-boot".to_string()));
    tree.write("etc/rc.conf.d/ntpdate", "ntpdate_enable=YES\n");
    let (code, v) = tree.env_json();
    assert_eq!(code, 0, "{:?}", ids(&v));
}

#[test]
fn no_ntpd_is_named() {
    let (code, v) = errata_guest("ntpd_enable=\"NO\"\n").env_json();
    assert_eq!(code, 1);
    assert_eq!(
        commands(&v, "freebsd-ntpd-enable"),
        ["sysrc ntpd_enable=YES", "service ntpd start"]
    );
}

#[test]
fn neither_ntpdate_nor_ntpd() {
    let tree = errata_guest("ntpdate_enable=NO\nntpd_enable=NO\n");
    let (_, v) = tree.env_json();
    assert!(ids(&v).contains(&"freebsd-ntpdate-at-boot".into()));
    assert!(ids(&v).contains(&"freebsd-ntpd-enable".into()));
    assert_eq!(v["boot_sync"]["by"], "none");
    // The host's time sync alone is not "both": no such note.
    assert!(!ids(&v).contains(&"hyperv-time-sync-and-ntpd".into()));
}

#[test]
fn tinker_step_0_is_undone_with_ntpconf_edit() {
    let tree = errata_guest("");
    tree.write(
        "etc/ntp.conf",
        "pool 0.freebsd.pool.ntp.org iburst\ntinker panic 0 step 0\n",
    );
    let (code, v) = tree.env_json();
    assert_eq!(code, 1);
    assert_eq!(
        commands(&v, "tinker-step-0"),
        ["ntpconf-edit -i unset step", "service ntpd restart"]
    );
    let why = item_text(&v, "tinker-step-0", "why");
    assert!(why.contains("80,000 s (about 22 h)"), "{why}");
    assert!(why.contains("ntpdate -b still steps at boot"), "{why}");
    assert!(why.contains("until it is restarted"), "{why}");
    // ntpdate steps at boot even so.
    assert_eq!(v["boot_sync"]["steps"], true);
}

#[test]
fn step_0_with_sync_on_start_slews_at_boot() {
    let tree = errata_guest("ntpdate_enable=NO\nntpd_sync_on_start=YES\n");
    tree.write("etc/ntp.conf", "tinker stepback 0\nserver a iburst\n");
    let (_, v) = tree.env_json();
    assert_eq!(
        commands(&v, "tinker-step-0"),
        ["ntpconf-edit -i unset stepback", "service ntpd restart"]
    );
    assert_eq!(v["boot_sync"]["by"], "ntpd -g");
    assert_eq!(v["boot_sync"]["steps"], false);
    assert_eq!(v["boot_sync"]["slew_seconds_for_40s"], 80000.0);
    let why = item_text(&v, "tinker-step-0", "why");
    assert!(
        why.contains("ntpd_sync_on_start=\"YES\" (ntpd -g) reads this file"),
        "{why}"
    );
}

#[test]
fn step_0_in_an_included_file_counts_and_a_dropped_line_does_not() {
    let tree = errata_guest("");
    tree.write("etc/ntp.conf", "server a\nincludefile /etc/ntp.d/vm.conf\n")
        .write("etc/ntp.d/vm.conf", "tinker step 0\n");
    let (_, v) = tree.env_json();
    let problem = item_text(&v, "tinker-step-0", "problem");
    assert!(problem.contains("/etc/ntp.d/vm.conf:1"), "{problem}");
    // `tinker panic 0 step` is dropped whole by ntpd: nothing is in force.
    tree.write("etc/ntp.conf", "server a\ntinker panic 0 step\n");
    let (code, v) = tree.env_json();
    assert_eq!(code, 0, "{:?}", ids(&v));
}

#[test]
fn ntpd_x_is_named() {
    let (_, v) = errata_guest("ntpd_flags=\"-x -p /var/db/ntp/ntpd.pid\"\n").env_json();
    assert_eq!(
        commands(&v, "freebsd-ntpd-x"),
        [
            "sysrc ntpd_flags='-p /var/db/ntp/ntpd.pid'",
            "service ntpd restart"
        ]
    );
}

#[test]
fn ntpdate_slewing_is_named() {
    let (_, v) = errata_guest("ntpdate_flags=\"-B\"\n").env_json();
    assert_eq!(
        commands(&v, "freebsd-ntpdate-slews"),
        ["sysrc ntpdate_flags=-b"]
    );
    assert_eq!(v["boot_sync"]["steps"], false);
}

#[test]
fn standalone_dovecot_beside_xinetd_is_named() {
    let (code, v) = errata_guest("dovecot_enable=\"YES\"\n").env_json();
    assert_eq!(code, 1);
    assert_eq!(
        commands(&v, "dovecot-standalone-and-xinetd"),
        [
            "service dovecot stop",
            "sysrc dovecot_enable=NO",
            "service xinetd restart"
        ]
    );
    let problem = item_text(&v, "dovecot-standalone-and-xinetd", "problem");
    for service in ["imap", "imaps", "pop3", "pop3s"] {
        assert!(
            problem.contains(&format!("/etc/xinetd.d/{service}: {service}")),
            "{problem}"
        );
    }
    // Without xinetd, the standalone dovecot is the right one.
    let (code, v) = errata_guest("dovecot_enable=YES\nxinetd_enable=NO\n").env_json();
    assert_eq!(code, 0, "{:?}", ids(&v));
}

/// What `sysrc [-f FILE] name=value ...` leaves in the tree, for a test: the
/// assignments land in FILE (default /etc/rc.conf), last one winning there as
/// sysrc's in-place edit does.
fn apply_sysrc(tree: &Tree, command: &str) {
    let mut words = command.split_whitespace();
    assert_eq!(words.next(), Some("sysrc"), "{command}");
    let mut words = words.peekable();
    let file = if words.peek() == Some(&"-f") {
        words.next();
        words.next().unwrap().to_string()
    } else {
        "/etc/rc.conf".to_string()
    };
    let path = tree.path().join(file.trim_start_matches('/'));
    let mut text = std::fs::read_to_string(&path).unwrap_or_default();
    for word in words {
        let (name, value) = word.split_once('=').unwrap();
        text.push_str(&format!("{name}=\"{value}\"\n"));
    }
    tree.write(file.trim_start_matches('/'), &text);
}

/// A setting held in rc.conf.d or rc.conf.local is changed there: plain
/// `sysrc` edits rc.conf, which rc.conf.d and rc.conf.local override.
#[test]
fn every_sysrc_command_edits_the_file_that_holds_the_setting() {
    let tree = errata_guest("");
    tree.write("etc/rc.conf.d/dovecot", "dovecot_enable=\"YES\"\n")
        .write("etc/rc.conf.local", "ntpd_enable=\"NO\"\n");
    let (code, v) = tree.env_json();
    assert_eq!(code, 1);
    let dovecot = commands(&v, "dovecot-standalone-and-xinetd");
    assert_eq!(
        dovecot[1],
        "sysrc -f /etc/rc.conf.d/dovecot dovecot_enable=NO"
    );
    let ntpd = commands(&v, "freebsd-ntpd-enable");
    assert_eq!(ntpd[0], "sysrc -f /etc/rc.conf.local ntpd_enable=YES");
    // Applied where they say, the two items are gone.
    apply_sysrc(&tree, &dovecot[1]);
    apply_sysrc(&tree, &ntpd[0]);
    let (code, v) = tree.env_json();
    assert_eq!(code, 0, "{:?}", ids(&v));
    // Plain `sysrc` into rc.conf would not have done it.
    let tree = errata_guest("");
    tree.write("etc/rc.conf.d/dovecot", "dovecot_enable=\"YES\"\n");
    apply_sysrc(&tree, "sysrc dovecot_enable=NO");
    let (code, v) = tree.env_json();
    assert_eq!(code, 1);
    assert!(ids(&v).contains(&"dovecot-standalone-and-xinetd".to_string()));
}

#[test]
fn the_host_time_sync_turned_off_leaves_only_the_host_item() {
    let tree = errata_guest("");
    let sysctl = std::fs::read_to_string(repo().join("examples/host/sysctl.out"))
        .unwrap()
        .replace(
            "hw.hvtimesync.ignore_sync: 0",
            "hw.hvtimesync.ignore_sync: 1",
        )
        .replace(
            "hw.hvtimesync.sample_thresh: 100",
            "hw.hvtimesync.sample_thresh: -1",
        );
    tree.write("sysctl.out", &sysctl);
    let (code, v) = tree.env_json();
    assert_eq!(code, 0);
    assert_eq!(ids(&v), ["hyperv-host-ntp"]);
    assert!(v["host_time_sync"].as_str().unwrap().starts_with("off"));
}

#[test]
fn the_bundled_example_names_each_problem() {
    let (code, v) = {
        let out = env_on(&repo().join("examples/host"), &["--format", "json"]);
        (
            out.status.code().unwrap(),
            serde_json::from_slice::<Value>(&out.stdout).unwrap(),
        )
    };
    assert_eq!(code, 1);
    assert_eq!(
        ids(&v),
        [
            "freebsd-ntpdate-at-boot",
            "tinker-step-0",
            "dovecot-standalone-and-xinetd",
            "hyperv-host-ntp",
            "hyperv-time-sync-and-ntpd"
        ]
    );
}

#[test]
fn no_output_recommends_step_0_or_turning_the_host_sync_off() {
    for tree in [
        errata_guest(""),
        errata_guest("ntpdate_enable=NO\nntpd_sync_on_start=YES\n"),
    ] {
        let out = env_on(tree.path(), &[]);
        let text = String::from_utf8(out.stdout).unwrap();
        for bad in [
            "preset dovecot",
            "set step",
            "step=0",
            "pick one",
            "ignore_sync=1",
            "Hyper-V Manager",
        ] {
            assert!(!text.contains(bad), "{bad} in:\n{text}");
        }
    }
}

#[test]
fn text_is_for_a_terminal() {
    let tree = errata_guest("dovecot_enable=YES\n");
    let out = env_on(tree.path(), &[]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("status:         WARNING (1 to fix, 2 for information)"),
        "{text}"
    );
    assert!(
        text.contains("\nWARNING dovecot-standalone-and-xinetd (on the guest)\n    the standalone dovecot is enabled"),
        "{text}"
    );
    assert!(text.contains("\n    sysrc dovecot_enable=NO\n"), "{text}");
    // Windows commands keep their backslashes.
    assert!(
        text.contains("reg add HKLM\\SYSTEM\\CurrentControlSet"),
        "{text}"
    );
    // Prose wraps at 80 columns; commands stay whole, ready to paste.
    let (_, v) = tree.env_json();
    let commands: Vec<String> = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|i| i["commands"].as_array().unwrap().iter())
        .map(|c| format!("    {}", c.as_str().unwrap()))
        .collect();
    for line in text.lines() {
        assert!(
            line.chars().count() <= 80 || commands.iter().any(|c| c == line),
            "{line}"
        );
    }
}

#[test]
fn prometheus_metrics_for_the_text_file_collector() {
    let tree = errata_guest("dovecot_enable=YES\n");
    let out = env_on(tree.path(), &["--format", "prometheus"]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    for line in [
        "clockcheck_env_status 1",
        "clockcheck_env_advice{id=\"dovecot-standalone-and-xinetd\",applies_to=\"guest\",level=\"warning\"} 1",
        "clockcheck_env_advice{id=\"hyperv-host-ntp\",applies_to=\"hypervisor-host\",level=\"info\"} 1",
        "clockcheck_env_hypervisor_info{hypervisor=\"Hyper-V\"} 1",
        "clockcheck_env_host_time_sync_active 1",
        "clockcheck_env_boot_sync_steps{by=\"ntpdate\"} 1",
        "# TYPE clockcheck_env_status gauge",
    ] {
        assert!(text.lines().any(|l| l == line), "{line} in:\n{text}");
    }
    // Every sample line is NAME{labels} VALUE.
    for l in text.lines().filter(|l| !l.starts_with('#')) {
        assert!(
            l.starts_with("clockcheck_env_")
                && l.rsplit(' ').next().unwrap().parse::<f64>().is_ok(),
            "{l}"
        );
    }
}

/// A Linux guest on Hyper-V (DMI says so, hv_utils loaded).
fn linux_guest() -> Tree {
    let tree = Tree::new();
    tree.write("sys/class/dmi/id/sys_vendor", "Microsoft Corporation\n")
        .write("sys/class/dmi/id/product_name", "Virtual Machine\n")
        .write(
            "proc/modules",
            "hv_utils 45056 0 - Live 0x0000000000000000\n",
        )
        .write("lib/systemd/system/chrony.service", "[Unit]\n")
        .write("lib/systemd/system/systemd-timesyncd.service", "[Unit]\n")
        .write("lib/systemd/system/dovecot.service", "[Unit]\n")
        .write("lib/systemd/system/xinetd.service", "[Unit]\n");
    tree
}

#[test]
fn a_linux_guest_without_a_time_daemon() {
    let (code, v) = linux_guest().env_json();
    assert_eq!(code, 1);
    assert_eq!(v["os"], "linux");
    assert_eq!(
        commands(&v, "linux-time-daemon"),
        ["systemctl enable --now chrony.service"]
    );
    assert_eq!(commands(&v, "linux-hwclock")[0], "hwclock --systohc");
    assert_eq!(item(&v, "linux-hwclock")["level"], "info");
    assert_eq!(v["boot_sync"]["by"], "none");
}

/// `ntpconf-edit check --root TREE`'s exit status: the other tool's verdict
/// on the same tree.
fn ntpconf_check_on(root: &Path) -> i32 {
    let bin = Path::new(env!("CARGO_BIN_EXE_clockcheck"))
        .parent()
        .unwrap()
        .join("ntpconf-edit");
    if !bin.exists() {
        // Built by the workspace's test run; alone, build it first.
        let status = std::process::Command::new(env!("CARGO"))
            .args(["build", "-q", "-p", "ntpconf-edit"])
            .status()
            .unwrap();
        assert!(status.success());
    }
    std::process::Command::new(bin)
        .args(["check", "--root"])
        .arg(root)
        .output()
        .unwrap()
        .status
        .code()
        .unwrap()
}

/// chrony's own terms: `makestep 1 -1` steps back at any time. The command
/// env gives, applied, ends the item, and ntpconf-edit check agrees before
/// and after.
#[test]
fn chrony_stepping_at_any_time_is_named_and_fixed_in_its_file() {
    let tree = linux_guest();
    tree.link(
        "/lib/systemd/system/chrony.service",
        "etc/systemd/system/multi-user.target.wants/chrony.service",
    )
    .write(
        "etc/chrony/chrony.conf",
        "pool 2.debian.pool.ntp.org iburst\n  makestep 0.5 -1\nrtcsync\n",
    );
    let (code, v) = tree.env_json();
    assert_eq!(code, 1);
    let commands = commands(&v, "chrony-makestep-any-time");
    assert_eq!(
        commands,
        [
            "sed -i 's/^[[:space:]]*makestep.*/makestep 1 3/' /etc/chrony/chrony.conf",
            "systemctl restart chrony.service"
        ]
    );
    assert!(
        item_text(&v, "chrony-makestep-any-time", "problem").contains("/etc/chrony/chrony.conf:2"),
        "{v}"
    );
    assert_eq!(ntpconf_check_on(tree.path()), 1);
    // Run the sed on the tree's file, as the admin would on the guest.
    let file = tree.path().join("etc/chrony/chrony.conf");
    let sed = commands[0].replace("/etc/chrony/chrony.conf", &file.to_string_lossy());
    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg(&sed)
        .status()
        .unwrap();
    assert!(status.success());
    let (code, v) = tree.env_json();
    assert_eq!(code, 0, "{:?}", ids(&v));
    assert_eq!(ntpconf_check_on(tree.path()), 0);
}

/// systemd-timesyncd steps over 0.4 s at any time: replace it with chrony,
/// by the distribution's package manager.
#[test]
fn timesyncd_is_named_and_chrony_installed_in_its_place() {
    let tree = Tree::new();
    tree.write("etc/os-release", "ID=debian\nVERSION_ID=\"12\"\n")
        .write("sys/class/dmi/id/sys_vendor", "QEMU\n")
        .write("lib/systemd/system/systemd-timesyncd.service", "[Unit]\n")
        .link(
            "/lib/systemd/system/systemd-timesyncd.service",
            "etc/systemd/system/sysinit.target.wants/systemd-timesyncd.service",
        );
    let (code, v) = tree.env_json();
    assert_eq!(code, 1, "{v}");
    assert_eq!(commands(&v, "timesyncd-steps"), ["apt-get install chrony"]);
    assert_eq!(ntpconf_check_on(tree.path()), 1);
    // No daemon at all on a RHEL guest: chrony, with dnf.
    let rhel = Tree::new();
    rhel.write(
        "etc/os-release",
        "ID=\"rocky\"\nID_LIKE=\"rhel centos fedora\"\n",
    )
    .write("sys/class/dmi/id/sys_vendor", "QEMU\n");
    let (_, v) = rhel.env_json();
    assert_eq!(
        commands(&v, "linux-time-daemon"),
        [
            "dnf install chrony",
            "systemctl enable --now chronyd.service"
        ]
    );
}

/// The errata's FreeBSD guest, moved to another hypervisor.
fn freebsd_guest_on(vm_guest: &str, rc_extra: &str) -> Tree {
    let tree = errata_guest(rc_extra);
    let sysctl: String = std::fs::read_to_string(tree.path().join("sysctl.out"))
        .unwrap()
        .lines()
        .filter(|l| {
            ![
                "kern.vm_guest",
                "hw.hvtimesync",
                "kern.timecounter.hardware",
            ]
            .iter()
            .any(|name| l.starts_with(name))
        })
        .map(|l| format!("{l}\n"))
        .collect();
    tree.write(
        "sysctl.out",
        &format!("{sysctl}kern.vm_guest: {vm_guest}\nkern.timecounter.hardware: TSC-low\n"),
    );
    tree
}

/// Other hypervisors are advised by their own facts: no Hyper-V, no
/// w32time, in any item, for FreeBSD on VMware and KVM and for Linux guests
/// with chrony or timesyncd.
#[test]
fn each_hypervisor_is_advised_in_its_own_terms() {
    let vmware = freebsd_guest_on(
        "vmware",
        "ntpdate_enable=\"NO\"\nvmware_guestd_enable=\"YES\"\n",
    );
    let (code, v) = vmware.env_json();
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["hypervisor"], "VMware");
    let vmware_ids = ids(&v);
    for id in [
        "freebsd-ntpdate-at-boot",
        "vmware-host-ntp",
        "vmware-tools-time-sync",
    ] {
        assert!(vmware_ids.contains(&id.to_string()), "{vmware_ids:?}");
    }
    assert!(item_text(&v, "freebsd-ntpdate-at-boot", "why").contains("ESXi host's clock"));
    let text = String::from_utf8(env_on(vmware.path(), &[]).stdout).unwrap();
    assert!(
        text.contains("INFO vmware-host-ntp (on the VMware host)"),
        "{text}"
    );

    let kvm = freebsd_guest_on("kvm", "ntpdate_enable=\"NO\"\n");
    let (_, k) = kvm.env_json();
    assert!(
        ids(&k).contains(&"kvm-host-ntp".to_string()),
        "{:?}",
        ids(&k)
    );
    assert!(item_text(&k, "freebsd-ntpdate-at-boot", "why").contains("KVM host's clock"));

    let chrony = linux_guest();
    chrony
        .write("sys/class/dmi/id/sys_vendor", "QEMU\n")
        .write("sys/class/dmi/id/product_name", "Standard PC\n")
        .write("proc/modules", "")
        .link(
            "/lib/systemd/system/chrony.service",
            "etc/systemd/system/multi-user.target.wants/chrony.service",
        )
        .write(
            "etc/chrony/chrony.conf",
            "pool 2.debian.pool.ntp.org iburst\nmakestep 1 3\n",
        );
    let (code, c) = chrony.env_json();
    assert_eq!(code, 0, "{:?}", ids(&c));

    let timesyncd = Tree::new();
    timesyncd
        .write("etc/os-release", "ID=debian\n")
        .write("sys/class/dmi/id/sys_vendor", "VMware, Inc.\n")
        .write("lib/systemd/system/systemd-timesyncd.service", "[Unit]\n")
        .link(
            "/lib/systemd/system/systemd-timesyncd.service",
            "etc/systemd/system/sysinit.target.wants/systemd-timesyncd.service",
        );
    let (_, t) = timesyncd.env_json();
    assert!(ids(&t).contains(&"timesyncd-steps".to_string()));

    for report in [&v, &k, &c, &t] {
        let all = report.to_string();
        assert!(!all.contains("Hyper-V"), "{all}");
        assert!(!all.contains("w32t"), "{all}");
    }
}

#[test]
fn a_linux_guest_with_chrony_is_ok() {
    let tree = linux_guest();
    tree.link(
        "/lib/systemd/system/chrony.service",
        "etc/systemd/system/multi-user.target.wants/chrony.service",
    )
    .write(
        "etc/chrony/chrony.conf",
        "pool 2.debian.pool.ntp.org iburst\nmakestep 1 3\nrtcsync\n",
    );
    let (code, v) = tree.env_json();
    assert_eq!(code, 0, "{:?}", ids(&v));
    assert_eq!(
        ids(&v),
        [
            "linux-hwclock",
            "hyperv-host-ntp",
            "hyperv-time-sync-and-ntpd"
        ]
    );
    assert_eq!(v["ntp_daemons"], serde_json::json!(["chronyd"]));
    assert_eq!(v["boot_sync"]["by"], "chronyd");
    assert_eq!(v["boot_sync"]["steps"], true);
}

#[test]
fn a_linux_guest_with_two_time_daemons_keeps_one() {
    let tree = linux_guest();
    tree.link(
        "/lib/systemd/system/chrony.service",
        "etc/systemd/system/multi-user.target.wants/chrony.service",
    )
    .link(
        "/lib/systemd/system/systemd-timesyncd.service",
        "etc/systemd/system/sysinit.target.wants/systemd-timesyncd.service",
    );
    let (code, v) = tree.env_json();
    assert_eq!(code, 1);
    assert_eq!(
        commands(&v, "one-time-daemon"),
        ["systemctl disable --now systemd-timesyncd.service"]
    );
    // A masked timesyncd is not in use.
    tree.write("etc/systemd/system/systemd-timesyncd.service", "");
    let (code, v) = tree.env_json();
    assert_eq!(code, 0, "{:?}", ids(&v));
}

/// Debian's package database with one dovecot package installed.
fn dpkg_status(package: &str, version: &str) -> String {
    format!("Package: {package}\nStatus: install ok installed\nVersion: {version}\n\n")
}

#[test]
fn the_errata_recipe_on_dovecot_2_is_the_opposite_advice() {
    // Same xinetd files, the standalone dovecot on, dovecot 2.3 installed
    // (set in rc.conf.d: the commands edit that file).
    let tree = errata_guest("");
    std::fs::remove_dir_all(tree.path().join("usr/local/share/licenses/dovecot-1.2.17")).unwrap();
    tree.write(
        "usr/local/share/licenses/dovecot-2.3.21.1_1/catalog.mk",
        "_LICENSE=LGPL21 MIT\n",
    )
    .write("etc/rc.conf.d/dovecot", "dovecot_enable=\"YES\"\n");
    let (code, v) = tree.env_json();
    assert_eq!(code, 1, "{v}");
    assert!(
        !ids(&v).contains(&"dovecot-standalone-and-xinetd".to_string()),
        "{v}"
    );
    let run = commands(&v, "dovecot-2-under-xinetd");
    assert_eq!(
        run,
        [
            "mkdir -p /root/xinetd.d.off",
            "mv /etc/xinetd.d/imap /etc/xinetd.d/imaps /etc/xinetd.d/pop3 /etc/xinetd.d/pop3s /root/xinetd.d.off/",
            "service xinetd restart",
            "sysrc -f /etc/rc.conf.d/dovecot dovecot_enable=YES",
            "service dovecot start"
        ]
    );
    assert!(!run.iter().any(|c| c.contains("dovecot_enable=NO")));
    let why = item_text(&v, "dovecot-2-under-xinetd", "why");
    assert!(
        why.contains("dovecot 2.3.21.1 cannot run from xinetd"),
        "{why}"
    );
    // The same fix, word for word, as xinetd-lint's XL048.
    assert!(
        why.contains(mailhost_host::dovecot::xinetd::FIX_2X),
        "{why}"
    );

    // Nothing tells the generation: a warning that says what was looked for.
    std::fs::remove_dir_all(tree.path().join("usr/local/share/licenses")).unwrap();
    let (code, v) = tree.env_json();
    assert_eq!(code, 1, "{v}");
    let why = item_text(&v, "dovecot-generation-unknown", "why");
    assert!(
        why.contains("only dovecot 1.x can be run from xinetd"),
        "{why}"
    );
    assert!(why.contains("/var/lib/dpkg/status"), "{why}");
}

#[test]
fn a_linux_guest_with_dovecot_standalone_and_under_xinetd() {
    let tree = linux_guest();
    // Debian's dovecot 1.2 (squeeze), which can run from xinetd.
    tree.write(
        "var/lib/dpkg/status",
        &dpkg_status("dovecot-common", "1:1.2.15-7"),
    );
    tree.link("/lib/systemd/system/chrony.service", "etc/systemd/system/multi-user.target.wants/chrony.service")
        .link("/lib/systemd/system/dovecot.service", "etc/systemd/system/multi-user.target.wants/dovecot.service")
        .link("/lib/systemd/system/xinetd.service", "etc/systemd/system/multi-user.target.wants/xinetd.service")
        .write(
            "etc/xinetd.d/imap",
            "service imap\n{\n\tsocket_type = stream\n\twait = no\n\tuser = root\n\tserver = /usr/lib/dovecot/imap-login\n}\n",
        );
    xinetd_host(&tree, "/usr/lib/dovecot");
    let (code, v) = tree.env_json();
    assert_eq!(code, 1);
    assert_eq!(
        commands(&v, "dovecot-standalone-and-xinetd"),
        [
            "systemctl disable --now dovecot.service",
            "systemctl restart xinetd.service"
        ]
    );
    // Socket activation is the standalone dovecot too.
    std::fs::remove_file(
        tree.path()
            .join("etc/systemd/system/multi-user.target.wants/dovecot.service"),
    )
    .unwrap();
    tree.link(
        "/lib/systemd/system/dovecot.socket",
        "etc/systemd/system/sockets.target.wants/dovecot.socket",
    );
    let (_, v) = tree.env_json();
    assert_eq!(
        commands(&v, "dovecot-standalone-and-xinetd")[0],
        "systemctl disable --now dovecot.socket"
    );
    // Debian 12's dovecot 2.3: the opposite, with systemd's commands.
    tree.write(
        "var/lib/dpkg/status",
        &dpkg_status("dovecot-core", "1:2.3.19.1+dfsg1-2.1+deb12u7"),
    );
    let (code, v) = tree.env_json();
    assert_eq!(code, 1);
    assert_eq!(
        commands(&v, "dovecot-2-under-xinetd"),
        [
            "mkdir -p /root/xinetd.d.off",
            "mv /etc/xinetd.d/imap /root/xinetd.d.off/",
            "systemctl restart xinetd.service",
            "systemctl enable --now dovecot.service"
        ]
    );
}

#[test]
fn a_linux_guest_with_ntpsec_and_step_0() {
    let tree = linux_guest();
    tree.link(
        "/lib/systemd/system/ntpsec.service",
        "etc/systemd/system/multi-user.target.wants/ntpsec.service",
    )
    .write("lib/systemd/system/ntpsec.service", "[Unit]\n")
    .write(
        "etc/ntpsec/ntp.conf",
        "pool 0.debian.pool.ntp.org iburst\ntinker step 0\n",
    );
    let (_, v) = tree.env_json();
    assert_eq!(
        commands(&v, "tinker-step-0"),
        [
            "ntpconf-edit -i unset step /etc/ntpsec/ntp.conf",
            "systemctl restart ntpsec.service"
        ]
    );
    assert_eq!(v["boot_sync"]["by"], "ntpd");
    assert_eq!(v["boot_sync"]["steps"], false);
}

#[test]
fn hostile_pseudo_files_neither_hang_nor_eat_memory() {
    let tree = linux_guest();
    // sys_vendor -> /dev/zero (inside the root: a real character device).
    std::fs::remove_file(tree.path().join("sys/class/dmi/id/sys_vendor")).unwrap();
    tree.link("/dev/zero", "sys/class/dmi/id/sys_vendor");
    std::fs::create_dir_all(tree.path().join("dev")).unwrap();
    let made_device = std::process::Command::new("mknod")
        .arg(tree.path().join("dev/zero"))
        .args(["c", "1", "5"])
        .status()
        .is_ok_and(|s| s.success());
    if !made_device {
        // Not root: a file far over the limit stands in.
        std::fs::File::create(tree.path().join("dev/zero"))
            .unwrap()
            .set_len(1 << 32)
            .unwrap();
    }
    // A FIFO where the clocksource belongs.
    let fifo = tree
        .path()
        .join("sys/devices/system/clocksource/clocksource0/current_clocksource");
    std::fs::create_dir_all(fifo.parent().unwrap()).unwrap();
    mailhost_common::testing::make_fifo(&fifo);
    let (code, v) = tree.env_json();
    // Without a readable sys_vendor the hypervisor is unknown: nothing to fix.
    assert_eq!(code, 0);
    let unreadable = v["unreadable"].to_string();
    assert!(unreadable.contains("sys_vendor"), "{unreadable}");
    assert!(
        unreadable.contains("current_clocksource") && unreadable.contains("FIFO"),
        "{unreadable}"
    );
    assert_eq!(v["hypervisor"], Value::Null);
}

#[test]
fn a_link_out_of_the_root_is_not_followed() {
    // The host's rc.conf is the errata's; the jail's rc.conf links to it.
    let outside = tempfile::tempdir().unwrap();
    let good = "ntpdate_enable=YES\nntpd_enable=YES\nxinetd_enable=YES\ndovecot_enable=NO\n";
    std::fs::write(outside.path().join("rc.conf"), good).unwrap();
    let tree = errata_guest("");
    std::fs::remove_file(tree.path().join("etc/rc.conf")).unwrap();
    tree.link(
        outside.path().join("rc.conf").to_str().unwrap(),
        "etc/rc.conf",
    );
    let (code, v) = tree.env_json();
    // Inside the root the link leads nowhere: FreeBSD's defaults apply.
    assert_eq!(code, 1);
    assert!(
        ids(&v).contains(&"freebsd-ntpdate-at-boot".into()),
        "{:?}",
        ids(&v)
    );
    assert!(
        ids(&v).contains(&"freebsd-ntpd-enable".into()),
        "{:?}",
        ids(&v)
    );
}

#[test]
fn freebsd_on_bare_metal_gets_no_guest_advice() {
    let tree = Tree::new();
    tree.write(
        "sysctl.out",
        "kern.ostype: FreeBSD\nkern.vm_guest: none\nkern.timecounter.hardware: TSC-low\n",
    )
    .write("etc/rc.conf", "ntpd_enable=NO\n")
    .write(
        "etc/ntp.conf",
        "pool 0.freebsd.pool.ntp.org iburst\ntinker step 0\n",
    );
    let (code, v) = tree.env_json();
    assert_eq!(code, 1);
    assert_eq!(v["os"], "freebsd");
    assert_eq!(v["hypervisor"], Value::Null);
    assert_eq!(ids(&v), ["freebsd-ntpd-enable"]);
    let out = env_on(tree.path(), &[]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("WARNING freebsd-ntpd-enable (on this machine)"),
        "{text}"
    );
}

#[test]
fn ntpdate_without_servers_is_named() {
    let tree = errata_guest("");
    tree.write("etc/ntp.conf", "tinker panic 0\n");
    let (code, v) = tree.env_json();
    assert_eq!(code, 1);
    assert_eq!(
        commands(&v, "freebsd-ntpdate-no-servers"),
        ["sysrc ntpdate_hosts=0.freebsd.pool.ntp.org"]
    );
    // ntpdate_hosts set: ntpdate does not read ntp.conf at all.
    let tree = errata_guest("ntpdate_hosts=\"ntp.nict.jp\"\n");
    tree.write("etc/ntp.conf", "tinker panic 0\n");
    let (code, v) = tree.env_json();
    assert_eq!(code, 0, "{:?}", ids(&v));
    assert_eq!(
        v["boot_sync"]["servers_from"],
        "ntpdate_hosts (ntp.nict.jp)"
    );
}

#[test]
fn a_file_name_cannot_forge_a_line() {
    let tree = errata_guest("dovecot_enable=YES\n");
    let imap = std::fs::read_to_string(tree.path().join("etc/xinetd.d/imap")).unwrap();
    tree.write(
        "etc/xinetd.d/x\nWARNING forged-item (on the guest)\x1b[2K",
        &imap,
    );
    let out = env_on(tree.path(), &[]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        !text.lines().any(|l| l.starts_with("WARNING forged")),
        "{text}"
    );
    assert!(!text.contains('\x1b'), "{text}");
    assert!(text.contains("x\\nWARNING forged-item"), "{text}");
}

#[test]
fn a_freebsd_tree_without_sysctl_out_says_what_is_missing() {
    let tree = errata_guest("");
    std::fs::remove_file(tree.path().join("sysctl.out")).unwrap();
    let (code, v) = tree.env_json();
    assert_eq!(code, 3, "{v}");
    assert_eq!(v["status"], "UNKNOWN");
    assert_eq!(v["hypervisor"], Value::Null);
    assert!(
        v["unknown"][0]
            .as_str()
            .unwrap()
            .contains("sysctl.out: missing"),
        "{v}"
    );
    // --quiet, for cron, never hides UNKNOWN.
    let out = env_on(tree.path(), &["--quiet"]);
    assert_eq!(out.status.code(), Some(3));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("sysctl.out: missing"), "{text}");
    assert!(text.contains("UNKNOWN"), "{text}");
}

/// A directory that is no OS root (empty, or a guest's etc/ instead of its
/// root) is UNKNOWN with what is missing, never "OK" about nothing.
#[test]
fn a_tree_that_is_no_os_root_is_unknown() {
    let empty = Tree::new();
    let (code, v) = empty.env_json();
    assert_eq!(code, 3, "{v}");
    assert_eq!(v["os"], "unknown");
    assert!(
        v["unknown"][0].as_str().unwrap().contains("not an OS root"),
        "{v}"
    );
    let guest = errata_guest("");
    let (code, v) = Tree(tempfile::tempdir_in(guest.path()).unwrap()).env_json();
    assert_eq!(code, 3, "{v}");
    let etc_only = env_on(&guest.path().join("etc"), &["--quiet"]);
    assert_eq!(etc_only.status.code(), Some(3));
    let text = String::from_utf8(etc_only.stdout).unwrap();
    assert!(text.contains("not an OS root"), "{text}");
}

/// `sysctl -ae` (`name=value`) reads as `sysctl -a` does: the Hyper-V guest
/// is still a Hyper-V guest; a file in neither form is UNKNOWN.
#[test]
fn both_sysctl_out_forms_are_read_and_junk_is_unknown() {
    let tree = errata_guest("");
    let plain = tree.env_json();
    let saved = std::fs::read_to_string(tree.path().join("sysctl.out")).unwrap();
    let equals: String = saved
        .lines()
        .map(|line| match line.split_once(": ") {
            Some((name, value)) => format!("{name}={value}\n"),
            None => format!("{line}\n"),
        })
        .collect();
    assert_ne!(equals, saved);
    tree.write("sysctl.out", &equals);
    let (code, v) = tree.env_json();
    assert_eq!(code, plain.0, "{v}");
    assert_eq!(v["hypervisor"], "Hyper-V");
    assert_eq!(v["hypervisor"], plain.1["hypervisor"]);
    assert_eq!(v["items"], plain.1["items"]);
    tree.write("sysctl.out", "this is not sysctl output\n");
    let out = env_on(tree.path(), &[]);
    assert_eq!(out.status.code(), Some(3));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("CLOCK UNKNOWN:"), "{text}");
    assert!(text.contains("sysctl -ae"), "{text}");
}

#[test]
fn prometheus_output_replaces_the_collector_file() {
    let tree = errata_guest("");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("clock_env.prom");
    std::fs::write(&file, "stale\n").unwrap();
    let text = run_writing_metrics_to(
        cmd()
            .args(["env", "--format", "prometheus", "--root"])
            .arg(tree.path()),
        &file,
    );
    assert!(
        text.lines().any(|l| l == "clockcheck_env_status 0"),
        "{text}"
    );
    assert!(!text.contains("stale"));
}

/// The two example hosts, as `make demo` shows them: the errata's host with
/// dovecot 1.2 (the standalone dovecot off is the advice) and the same host
/// with dovecot 2.3 (the opposite), and xinetd-lint's verdict on the same
/// trees is the same conclusion with the same fix.
#[test]
fn the_example_hosts_get_their_generations_advice() {
    let v1 = env_on(&repo().join("examples/host"), &["--format", "json"]);
    let v1: Value = serde_json::from_slice(&v1.stdout).unwrap();
    assert_eq!(
        commands(&v1, "dovecot-standalone-and-xinetd"),
        [
            "service dovecot stop",
            "sysrc dovecot_enable=NO",
            "service xinetd restart"
        ]
    );
    assert!(
        item_text(&v1, "dovecot-standalone-and-xinetd", "why")
            .contains("dovecot 1.2.17 can run from xinetd")
    );
    let v2 = env_on(
        &repo().join("examples/host-dovecot2"),
        &["--format", "json"],
    );
    assert_eq!(v2.status.code(), Some(1));
    let v2: Value = serde_json::from_slice(&v2.stdout).unwrap();
    assert!(!ids(&v2).contains(&"dovecot-standalone-and-xinetd".to_string()));
    let run = commands(&v2, "dovecot-2-under-xinetd");
    assert!(
        run.contains(&"sysrc dovecot_enable=YES".to_string()),
        "{run:?}"
    );
    assert!(
        !run.iter().any(|c| c.contains("dovecot_enable=NO")),
        "{run:?}"
    );
    let why = item_text(&v2, "dovecot-2-under-xinetd", "why");
    assert!(
        why.contains(mailhost_host::dovecot::xinetd::FIX_2X),
        "{why}"
    );
}
