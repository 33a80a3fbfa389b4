//! `ntpconf-edit check` on hosts where chrony or systemd-timesyncd keeps the
//! time: the exit status follows their stepping settings, never "no
//! ntp.conf"; and where the check says chronyd exits, the real chronyd
//! (`chronyd -p -f FILE`, which parses the file and prints it) does exit.

use std::path::{Path, PathBuf};
use std::process::Command as Process;

use assert_cmd::Command;
use mailhost_common::testing::{self, tree};

fn check_on(root: &Path, args: &[&str]) -> (i32, String) {
    let out = Command::new(assert_cmd::cargo::cargo_bin!("ntpconf-edit"))
        .arg("check")
        .args(args)
        .arg("--root")
        .arg(root)
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

/// Debian 12's chrony.conf, as the package installs it.
const DEBIAN_CHRONY_CONF: &str = "\
# Welcome to the chrony configuration file.
confdir /etc/chrony/conf.d
pool 2.debian.pool.ntp.org iburst
sourcedir /run/chrony-dhcp
sourcedir /etc/chrony/sources.d
keyfile /etc/chrony/chrony.keys
driftfile /var/lib/chrony/chrony.drift
ntsdumpdir /var/lib/chrony
logdir /var/log/chrony
maxupdateskew 100.0
rtcsync
makestep 1 3
leapsectz right/UTC
";

#[test]
fn a_chrony_host_is_checked_by_its_makestep() {
    let host = tree(&[("etc/chrony/chrony.conf", DEBIAN_CHRONY_CONF)]);
    let (code, text) = check_on(host.path(), &[]);
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains("/etc/chrony/chrony.conf:12:1: info:"),
        "{text}"
    );
    assert!(text.contains("chrony keeps the time here"), "{text}");
    assert!(text.contains("[NE015]"), "{text}");

    // A drop-in that lets chronyd step at any time: a warning, exit 1, at its line.
    std::fs::create_dir_all(host.path().join("etc/chrony/conf.d")).unwrap();
    std::fs::write(
        host.path().join("etc/chrony/conf.d/vm.conf"),
        "# after a migration\nmakestep 0.1 -1\n",
    )
    .unwrap();
    let (code, text) = check_on(host.path(), &[]);
    assert_eq!(
        code, 0,
        "conf.d is read before the main file's later makestep: {text}"
    );
    std::fs::write(
        host.path().join("etc/chrony/chrony.conf"),
        DEBIAN_CHRONY_CONF.replace("makestep 1 3\n", ""),
    )
    .unwrap();
    let (code, text) = check_on(host.path(), &["--format", "json"]);
    assert_eq!(code, 1, "{text}");
    let v: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(v["code"], "NE014");
    assert_eq!(v["severity"], "warning");
    assert!(
        v["file"]
            .as_str()
            .unwrap()
            .ends_with("/etc/chrony/conf.d/vm.conf"),
        "{v}"
    );
    assert_eq!(v["line"], 2);
    // --ignore works as for ntp.conf.
    assert_eq!(check_on(host.path(), &["--ignore", "NE014"]).0, 0);
}

#[test]
fn a_timesyncd_host_is_named_and_warned() {
    let host = tree(&[("lib/systemd/system/systemd-timesyncd.service", "[Unit]\n")]);
    let (code, text) = check_on(host.path(), &[]);
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains("systemd-timesyncd keeps the time here"),
        "{text}"
    );
    assert!(text.contains("[NE017]"), "{text}");
}

#[test]
fn ntp_conf_still_wins_and_nothing_at_all_is_an_error() {
    let host = tree(&[
        ("etc/chrony/chrony.conf", "makestep 1 -1\n"),
        ("etc/ntp.conf", "server a iburst\n"),
    ]);
    assert_eq!(check_on(host.path(), &[]).0, 0);
    let empty = tree(&[]);
    let (code, text) = check_on(empty.path(), &[]);
    assert_eq!(code, 2, "{text}");
}

fn chronyd() -> Option<PathBuf> {
    let unpacked =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/test-tools/chrony/usr/sbin/chronyd");
    [unpacked, PathBuf::from("/usr/sbin/chronyd")]
        .into_iter()
        .find(|p| p.exists())
}

/// The words the oracle combines: numbers sscanf takes whole, in part
/// (`1.5x`, `3x`, a dangling exponent), or not at all.
const WORDS: [&str; 14] = [
    "1", "3", "-1", "0", "1.5", "1.5x", "x", "1e", "0x10", ".5", "+3", "inf", "3x", ".",
];

#[test]
fn chronyd_exits_exactly_where_check_says_it_does() {
    let Some(chronyd) = chronyd() else {
        testing::skip(
            "chronyd_exits_exactly_where_check_says_it_does",
            "no chronyd (scripts/install-test-deps.sh unpacks it)",
        );
        return;
    };
    let mut lines: Vec<String> = Vec::new();
    for a in WORDS {
        lines.push(format!("maxslewrate {a}"));
        for b in WORDS {
            lines.push(format!("makestep {a} {b}"));
        }
        lines.push(format!("makestep {a}"));
        lines.push(format!("makestep {a} 3 {a}"));
    }
    lines.extend(
        [
            "maxslewrate",
            "makestep",
            "maxslewrate 1 2",
            "MakeStep 1 3",
            "server",
            "pool",
        ]
        .map(String::from),
    );
    let dir = tempfile::tempdir().unwrap();
    let mut disagreements = Vec::new();
    for line in &lines {
        let host = tree(&[("etc/chrony/chrony.conf", &format!("{line}\n"))]);
        let file = host.path().join("etc/chrony/chrony.conf");
        let real = Process::new(&chronyd)
            .arg("-p")
            .arg("-f")
            .arg(&file)
            .env("TZ", "UTC")
            .current_dir(dir.path())
            .output()
            .unwrap();
        let chronyd_exits = !real.status.success();
        let (_, ours) = check_on(host.path(), &["--select", "NE013"]);
        let we_say_it_exits = ours.contains("[NE013]");
        if chronyd_exits != we_say_it_exits {
            disagreements.push(format!(
                "{line:?}: chronyd exits: {chronyd_exits} ({}), ntpconf-edit: {ours}",
                String::from_utf8_lossy(&real.stderr).trim()
            ));
        }
    }
    assert!(
        disagreements.is_empty(),
        "{} of {} lines:\n{}",
        disagreements.len(),
        lines.len(),
        disagreements.join("\n")
    );
}
