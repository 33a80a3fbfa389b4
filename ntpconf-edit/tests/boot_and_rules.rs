//! The contracts of issues 11 and 12 (check's exit status, --explain, rule
//! control, what `step 0` costs and who corrects the clock at boot, FreeBSD's
//! paths) and the attacks of issue 13, played through the binary on copied
//! host trees.

use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use assert_cmd::cargo::cargo_bin_cmd;
use predicates::prelude::*;
mod support;
use support::ConfigFrom;

fn cmd() -> assert_cmd::Command {
    let mut c = cargo_bin_cmd!("ntpconf-edit");
    c.env_remove("TOOLKIT_FAIL_AT").env_remove("NO_COLOR");
    c.timeout(Duration::from_secs(20));
    c
}

/// A host tree: `files` as (jail path, contents).
fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (path, text) in files {
        let full = dir.path().join(path.trim_start_matches('/'));
        fs::create_dir_all(full.parent().unwrap()).unwrap();
        fs::write(full, text).unwrap();
    }
    dir
}

fn check_json(root: &Path, extra: &[&str]) -> (i32, Vec<serde_json::Value>) {
    let out = cmd()
        .on_root(&["--format", "json", "check"], root)
        .args(extra)
        .output()
        .unwrap();
    let rows = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (out.status.code().unwrap(), rows)
}

fn codes(rows: &[serde_json::Value]) -> Vec<&str> {
    rows.iter().map(|r| r["code"].as_str().unwrap()).collect()
}

fn message<'a>(rows: &'a [serde_json::Value], code: &str) -> &'a str {
    rows.iter()
        .find(|r| r["code"] == code)
        .unwrap_or_else(|| panic!("no {code} in {rows:?}"))["message"]
        .as_str()
        .unwrap()
}

const ERRATA_CONF: &str =
    "server 0.freebsd.pool.ntp.org iburst\nserver 1.freebsd.pool.ntp.org iburst\ntinker panic 0\n";
const STEP0_CONF: &str = "server 0.freebsd.pool.ntp.org iburst\ntinker panic 0 step 0\n";

/// `check_json` on a FreeBSD host with `tinker step 0` (STEP0_CONF) and
/// this rc.conf.
fn check_step0_host(rc_conf: &str, extra: &[&str]) -> (i32, Vec<serde_json::Value>) {
    let host = tree(&[("/etc/ntp.conf", STEP0_CONF), ("/etc/rc.conf", rc_conf)]);
    check_json(host.path(), extra)
}

#[test]
fn check_is_quiet_and_0_on_the_errata_host() {
    let host = tree(&[
        ("/etc/ntp.conf", ERRATA_CONF),
        (
            "/etc/rc.conf",
            "ntpdate_enable=\"YES\"\nntpdate_flags=\"-b\"\nntpd_enable=\"YES\"\n",
        ),
    ]);
    cmd()
        .on_root(&["check"], host.path())
        .assert()
        .code(0)
        .stdout("")
        .stderr("");
}

#[test]
fn check_exits_1_on_a_warning_or_an_error_and_0_on_info_alone() {
    // info only (NE005)
    cmd()
        .on_stdin(&["check"], "tinker stepfwd 1\n")
        .assert()
        .code(0)
        .stdout(predicate::str::contains("[NE005]"));
    // warning (NE003)
    cmd()
        .on_stdin(&["check"], "tinker stepout 60\n")
        .assert()
        .code(1)
        .stdout(predicate::str::contains("warning"));
    // error (NE001)
    cmd()
        .on_stdin(&["check"], "tinker panic 0 step\n")
        .assert()
        .code(1)
        .stdout(predicate::str::contains("error"));
    // unreadable: 2
    cmd()
        .args(["check", "/nonexistent/ntp.conf"])
        .assert()
        .code(2);
}

#[test]
fn explain_says_what_a_rule_checks() {
    cmd()
        .args(["--explain", "NE011"])
        .assert()
        .success()
        .stdout(
            predicate::str::starts_with("NE011 (warning)")
                .and(predicate::str::contains("80,000 s"))
                .and(predicate::str::contains("ntpdate")),
        );
    cmd()
        .args(["check", "--explain", "ne006"])
        .assert()
        .success()
        .stdout(predicate::str::contains("4.2.8"));
    cmd()
        .args(["--explain", "NE999"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("unknown check code"));
}

#[test]
fn select_ignore_and_the_suppression_comment() {
    let input = "tinker stepout 60\ntinker minpoll 4\n";
    let run = |args: &[&str], text: &str| {
        let out = cmd()
            .args(["--format", "json", "check"])
            .args(args)
            .arg("-")
            .write_stdin(text.to_string())
            .output()
            .unwrap();
        let rows: Vec<serde_json::Value> = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        (
            out.status.code().unwrap(),
            rows.iter()
                .map(|r| r["code"].as_str().unwrap().to_string())
                .collect::<Vec<_>>(),
        )
    };
    assert_eq!(run(&[], input), (1, vec!["NE003".into(), "NE006".into()]));
    assert_eq!(
        run(&["--ignore", "NE006"], input),
        (1, vec!["NE003".into()])
    );
    assert_eq!(run(&["--ignore", "NE006,ne003"], input), (0, vec![]));
    assert_eq!(
        run(&["--select", "NE006"], input),
        (1, vec!["NE006".into()])
    );
    let suppressed = format!("# ntpconf-edit: ignore NE006, NE003\n{input}");
    assert_eq!(run(&[], &suppressed), (0, vec![]));
    cmd()
        .on_stdin(&["check", "--ignore", "NE404"], input)
        .assert()
        .code(2);
}

#[test]
fn step0_with_ntpd_sync_on_start_slews_at_boot_too() {
    let (status, rows) = check_step0_host("ntpd_enable=\"YES\"\nntpd_sync_on_start=\"YES\"\n", &[]);
    assert_eq!(status, 1);
    let m = message(&rows, "NE011");
    assert!(m.contains("a 40 s offset takes 80000 s (22.2 h)"), "{m}");
    assert!(
        m.contains("`ntpd -g` (ntpd_sync_on_start=\"YES\") reads this file and slews too"),
        "{m}"
    );
    assert!(!codes(&rows).contains(&"NE008"), "{rows:?}");
    assert_eq!(
        rows.iter().find(|r| r["code"] == "NE011").unwrap()["line"],
        2
    );
}

#[test]
fn step0_with_boot_time_ntpdate_steps_at_boot_from_the_server_lines() {
    let (status, rows) = check_step0_host(
        "ntpdate_enable=\"YES\"\nntpd_enable=\"YES\"\n",
        &["--offset", "120"],
    );
    assert_eq!(status, 1);
    let m = message(&rows, "NE011");
    assert!(
        m.contains("a 120 s offset takes 240000 s (2.8 days)"),
        "{m}"
    );
    assert!(
        m.contains(
            "rc.d/ntpdate takes only the server lines of this file and steps (`ntpdate -b`)"
        ),
        "{m}"
    );
    assert!(
        message(&rows, "NE008").contains("rc.d/ntpdate -b reads the server lines of this file")
    );
}

#[test]
fn ntpdate_hosts_means_ntpdate_does_not_read_this_file() {
    let (_, rows) = check_step0_host(
        "ntpdate_enable=\"YES\"\nntpdate_hosts=\"ntp.nict.jp\"\n",
        &[],
    );
    assert!(
        !codes(&rows).contains(&"NE008"),
        "NE008 must not claim ntpdate reads this file: {rows:?}"
    );
    assert!(
        message(&rows, "NE011").contains("steps from ntpdate_hosts (it does not read this file)")
    );
}

#[test]
fn ntpdate_with_another_config_or_without_b_is_no_boot_step() {
    let (_, rows) = check_step0_host(
        "ntpdate_enable=\"YES\"\nntpdate_config=\"/etc/other.conf\"\n",
        &[],
    );
    assert!(!codes(&rows).contains(&"NE008"));
    assert!(message(&rows, "NE011").contains("nothing steps at boot"));
}

#[test]
fn stepback_0_alone_is_reported_and_linux_trees_get_the_generic_path() {
    let host = tree(&[("/etc/ntp.conf", "tinker stepback 0\n")]);
    let (status, rows) = check_json(host.path(), &[]);
    assert_eq!(status, 1);
    let m = message(&rows, "NE011");
    assert!(
        m.starts_with("stepback 0: ntpd never steps the clock back"),
        "{m}"
    );
    assert!(m.contains("no FreeBSD rc.conf here"), "{m}");
}

#[test]
fn the_dovecot_preset_says_what_it_costs() {
    let help = cmd().arg("--help").output().unwrap();
    let help = String::from_utf8(help.stdout).unwrap();
    assert!(help.contains("80,000 s (about 22 h)"), "{help}");
    assert!(help.contains("SpecialPollInterval 3600"), "{help}");
    let man = cmd().args(["--generate", "man"]).output().unwrap();
    let man = String::from_utf8_lossy(&man.stdout);
    assert!(man.contains("22 h"), "man page");
    assert!(
        !man.contains("Make ntpd slew instead of step (tinker step 0), editing"),
        "old advice"
    );
}

#[test]
fn default_paths_follow_freebsd_then_the_real_programs() {
    // rc.conf's ntpd_config first.
    let host = tree(&[
        (
            "/etc/rc.conf",
            "ntpd_config=\"/usr/local/etc/ntp/mine.conf\"\n",
        ),
        ("/usr/local/etc/ntp/mine.conf", "tinker panic 1\n"),
        ("/etc/ntp.conf", "tinker panic 2\n"),
    ]);
    cmd()
        .on_root(&["show"], host.path())
        .assert()
        .success()
        .stdout(predicate::str::starts_with("panic 1\t"));
    // FreeBSD without ntpd_config: rc.d/ntpd's default, /etc/ntp.conf.
    let freebsd = tree(&[
        ("/etc/rc.conf", "ntpd_enable=\"YES\"\n"),
        ("/usr/local/etc/ntp.conf", "tinker panic 3\n"),
        ("/etc/ntp.conf", "tinker panic 2\n"),
    ]);
    cmd()
        .on_root(&["show"], freebsd.path())
        .assert()
        .success()
        .stdout(predicate::str::starts_with("panic 2\t"));
    // Elsewhere /etc/ntpsec/ntp.conf (Debian's NTPsec runs `ntpd -c` it; an
    // /etc/ntp.conf beside it is a leftover), /etc/ntp.conf, the port's.
    let leftover = tree(&[
        ("/etc/ntp.conf", "tinker panic 2\n"),
        ("/etc/ntpsec/ntp.conf", "tinker panic 4\n"),
    ]);
    cmd()
        .on_root(&["show"], leftover.path())
        .assert()
        .success()
        .stdout(predicate::str::starts_with("panic 4\t"));
    let port = tree(&[("/usr/local/etc/ntp.conf", "tinker panic 3\n")]);
    cmd()
        .on_root(&["show"], port.path())
        .assert()
        .success()
        .stdout(predicate::str::starts_with("panic 3\t"));
    let ntpsec = tree(&[("/etc/ntpsec/ntp.conf", "tinker panic 4\n")]);
    cmd()
        .on_root(&["show"], ntpsec.path())
        .assert()
        .success()
        .stdout(
            predicate::str::starts_with("panic 4\t")
                .and(predicate::str::contains("etc/ntpsec/ntp.conf:1")),
        );
}

#[test]
fn an_explicit_path_is_looked_up_under_the_root() {
    let host = tree(&[("/usr/local/etc/ntp.conf", "tinker panic 5\n")]);
    cmd()
        .on_root(&["show"], host.path())
        .arg("/usr/local/etc/ntp.conf")
        .assert()
        .success()
        .stdout(predicate::str::starts_with("panic 5\t"));
    cmd()
        .on_root(&["-i", "set", "panic=0"], host.path())
        .arg("/usr/local/etc/ntp.conf")
        .assert()
        .success();
    assert_eq!(
        fs::read_to_string(host.path().join("usr/local/etc/ntp.conf")).unwrap(),
        "tinker panic 0\n"
    );
}

#[test]
fn a_freebsd_tree_is_read_as_classic_ntpd() {
    // Classic ntpd opens a relative includefile from its working directory
    // (`/`), NTPsec from the file's directory.
    let host = tree(&[
        ("/etc/rc.conf", "ntpd_enable=\"YES\"\n"),
        ("/etc/ntp.conf", "includefile extra.conf\n"),
        ("/etc/extra.conf", "tinker panic 7\n"),
        ("/extra.conf", "tinker panic 8\n"),
    ]);
    cmd()
        .on_root(&["show"], host.path())
        .assert()
        .success()
        .stdout(predicate::str::starts_with("panic 8\t"));
    cmd()
        .on_root(&["--dialect", "ntpsec", "show"], host.path())
        .assert()
        .success()
        .stdout(predicate::str::starts_with("panic 7\t"));
}

// ---- issue 13: as the jail owner would attack it ----

#[test]
fn in_place_never_edits_the_host_through_an_absolute_symlink() {
    let host_side = tempfile::tempdir().unwrap();
    let victim = host_side.path().join("victim.conf");
    fs::write(&victim, "tinker panic 5\n").unwrap();
    let jail = tree(&[]);
    fs::create_dir_all(jail.path().join("etc")).unwrap();
    std::os::unix::fs::symlink(&victim, jail.path().join("etc/ntp.conf")).unwrap();
    cmd()
        .on_root(&["-i", "set", "panic=0"], jail.path())
        .assert()
        .code(2);
    assert_eq!(
        fs::read_to_string(&victim).unwrap(),
        "tinker panic 5\n",
        "the host file was edited"
    );
    // (Editing through a link to a jail path, /etc/ntp.conf -> /etc/real.conf,
    // needs the hardened replace_in_root of the security branch.)
}

#[test]
fn includes_never_read_the_host() {
    let host_side = tempfile::tempdir().unwrap();
    let secret = host_side.path().join("secret.conf");
    fs::write(&secret, "tinker panic 4242\n").unwrap();
    let jail = tree(&[(
        "/etc/ntp.conf",
        &format!(
            "includefile {}\nincludefile ../../../../..{}\nincludefile /etc/link.conf\n",
            secret.display(),
            secret.display()
        ),
    )]);
    std::os::unix::fs::symlink(&secret, jail.path().join("etc/link.conf")).unwrap();
    for dialect in ["classic", "ntpsec"] {
        let out = cmd()
            .on_root(&["--dialect", dialect, "show"], jail.path())
            .output()
            .unwrap();
        assert!(out.status.success());
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            !stdout.contains("4242"),
            "{dialect}: read the host: {stdout}"
        );
        let check = cmd()
            .on_root(&["--dialect", dialect, "check"], jail.path())
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&check.stdout);
        assert!(
            !text.contains("4242") && text.contains("cannot be read"),
            "{text}"
        );
    }
}

#[test]
fn a_fifo_as_include_target_is_refused_without_hanging() {
    let jail = tree(&[("/etc/ntp.conf", "includefile /etc/fifo\ntinker panic 0\n")]);
    let fifo = jail.path().join("etc/fifo");
    mailhost_common::testing::make_fifo(&fifo);
    let started = Instant::now();
    cmd()
        .on_root(&["check"], jail.path())
        .assert()
        .code(1)
        .stdout(predicate::str::contains("FIFO"));
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[test]
fn include_fan_out_stops_with_a_clear_error() {
    // 20 lines of `includefile ntp.conf`: 20^5 expansions without a budget.
    let jail = tree(&[("/etc/ntp.conf", &"includefile /etc/ntp.conf\n".repeat(20))]);
    let started = Instant::now();
    cmd()
        .on_root(&["show"], jail.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("includes expand to more than"));
    assert!(started.elapsed() < Duration::from_secs(10));
    // A file included twice the ordinary way is fine.
    let ok = tree(&[
        (
            "/etc/ntp.conf",
            "includefile /etc/a.conf\nincludefile /etc/a.conf\n",
        ),
        ("/etc/a.conf", "tinker panic 1\n"),
    ]);
    cmd()
        .on_root(&["show"], ok.path())
        .assert()
        .success()
        .stdout(predicate::str::starts_with("panic 1\t"));
}

#[test]
fn standard_input_has_the_configuration_limit() {
    let big = "#".repeat(64 * 1024 * 1024 + 10);
    cmd()
        .on_stdin(&["show"], &big)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("standard input"));
}

#[test]
fn names_cannot_forge_output_lines() {
    let base = tempfile::tempdir().unwrap();
    let root = base.path().join("j\nforged:1:1: error: planted [NE001]");
    fs::create_dir_all(root.join("etc")).unwrap();
    fs::write(root.join("etc/ntp.conf"), "tinker stepout 60\n").unwrap();
    let out = cmd().args(["check", "--root"]).arg(&root).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(
        text.contains("\\n") && !text.lines().any(|l| l.starts_with("forged")),
        "{text}"
    );
}

#[test]
fn tinker_tick_is_applied_by_classic_and_warned_about_for_ntpsec() {
    let (status, rows) = {
        let out = cmd()
            .on_stdin(
                &["--dialect", "classic", "--format", "json", "check"],
                "tinker tick 0.01\n",
            )
            .output()
            .unwrap();
        (
            out.status.code().unwrap(),
            String::from_utf8(out.stdout).unwrap(),
        )
    };
    assert_eq!(
        (status, rows.as_str()),
        (0, ""),
        "classic 4.2.8p15 applies tinker tick"
    );
    cmd()
        .on_stdin(&["--dialect", "ntpsec", "check"], "tinker tick 0.01\n")
        .assert()
        .code(1)
        .stdout(
            predicate::str::contains("NTPsec 1.2.4 and later drop this whole line")
                .and(predicate::str::contains("[NE006]")),
        );
    cmd()
        .on_stdin(&["--dialect", "classic", "show"], "tinker tick 0.01\n")
        .assert()
        .success()
        .stdout(predicate::str::starts_with("tick 0.01\t"));
}

#[test]
fn an_installed_ntpsec_is_the_default_dialect_off_freebsd() {
    let host = tree(&[
        ("/etc/ntpsec/ntp.conf", "includefile extra.conf\n"),
        ("/etc/ntpsec/extra.conf", "tinker panic 7\n"),
    ]);
    cmd()
        .on_root(&["show"], host.path())
        .assert()
        .success()
        .stdout(predicate::str::starts_with("panic 7\t"));
}

#[test]
fn ntpd_exiting_on_the_file_is_an_error_finding() {
    cmd()
        .on_stdin(
            &["check"],
            "tinker panic 0 bogus -99999999999999999999999\n",
        )
        .assert()
        .code(1)
        .stdout(
            predicate::str::contains("[NE012]")
                .and(predicate::str::contains("nothing of this file applies")),
        );
    cmd()
        .on_stdin(&["show"], "tinker panic 0\ntinker huffpuff 1e400\n")
        .assert()
        .code(1)
        .stdout("")
        .stderr(predicate::str::contains(
            "-:2:17: error: ntpd will not start: classic ntpd exits at start-up (huffpuff",
        ));
    // Any line, not only tinker lines: a number of its own, a server option.
    for (text, at) in [
        ("tinker panic 0\n-99999999999999999999\n", "-:2:1:"),
        ("server 127.0.0.1 minpoll 1e-400\n", "-:1:26:"),
    ] {
        cmd().on_stdin(&["check"], text).assert().code(1).stdout(
            predicate::str::contains(format!("{at} error: ntpd will not start"))
                .and(predicate::str::contains("[NE012]")),
        );
        cmd().on_stdin(&["show"], text).assert().code(1).stdout("");
    }
}

#[test]
fn files_that_include_their_own_directory_stop_at_the_budget() {
    // NTPsec reads a directory named by includefile: 16 files that each
    // include their directory would expand 16^5 times.
    let mut files: Vec<(String, String)> =
        vec![("/etc/ntp.conf".into(), "includefile /etc/conf.d\n".into())];
    for i in 0..16 {
        files.push((
            format!("/etc/conf.d/{i:02}.conf"),
            "includefile /etc/conf.d\ntinker panic 1\n".into(),
        ));
    }
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let jail = tree(&refs);
    let started = Instant::now();
    cmd()
        .on_root(&["--dialect", "ntpsec", "check"], jail.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("includes expand to more than"));
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn a_bare_usr_local_does_not_make_a_linux_tree_freebsd() {
    let host = tree(&[
        ("/usr/local/bin/x", ""),
        ("/etc/ntpsec/ntp.conf", "includefile extra.conf\n"),
        ("/etc/ntpsec/extra.conf", "tinker panic 7\n"),
    ]);
    cmd()
        .on_root(&["show"], host.path())
        .assert()
        .success()
        .stdout(predicate::str::starts_with("panic 7\t"));
    fs::create_dir_all(host.path().join("usr/local/etc/rc.d")).unwrap();
    cmd()
        .on_root(&["show"], host.path())
        .assert()
        .success()
        .stdout("");
}

#[test]
fn ntpsec_reads_ntp_d_after_the_file() {
    let host = tree(&[
        ("/etc/ntpsec/ntp.conf", "tinker panic 1\n"),
        ("/etc/ntpsec/ntp.d/10-vm.conf", "tinker panic 0\n"),
        ("/etc/ntpsec/ntp.d/20-x.txt", "tinker panic 9\n"),
    ]);
    cmd()
        .on_root(&["show"], host.path())
        .assert()
        .success()
        .stdout(
            predicate::str::starts_with("panic 0\t")
                .and(predicate::str::contains("ntp.d/10-vm.conf:1")),
        );
    cmd()
        .on_root(&["check"], host.path())
        .assert()
        .code(1)
        .stdout(
            predicate::str::contains("ntp.conf:1:1: warning: NTPsec also reads")
                .and(predicate::str::contains("[NE007]")),
        );
    // Classic ntpd knows no ntp.d.
    cmd()
        .on_root(&["--dialect", "classic", "show"], host.path())
        .assert()
        .success()
        .stdout(predicate::str::starts_with("panic 1\t"));
}
