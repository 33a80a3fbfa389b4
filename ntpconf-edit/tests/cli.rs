//! The binary through its real interface: the README's conventions, the
//! issue's command forms and exit codes, and `-i` never losing the file.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use assert_cmd::cargo::cargo_bin_cmd;
use predicates::prelude::*;
mod support;
use support::ConfigFrom;

fn cmd() -> assert_cmd::Command {
    let mut c = cargo_bin_cmd!("ntpconf-edit");
    c.env_remove("TOOLKIT_FAIL_AT").env_remove("NO_COLOR");
    c
}

const CONF: &str = "# header\nserver 0.pool.ntp.org iburst\ntinker panic 5   # vm\n";

fn conf_in(dir: &Path, text: &str) -> std::path::PathBuf {
    let path = dir.join("ntp.conf");
    fs::write(&path, text).unwrap();
    path
}

#[test]
fn help_and_version_succeed() {
    cmd()
        .arg("--help")
        .assert()
        .success()
        .stdout(predicate::str::contains("tinker"));
    cmd()
        .arg("--version")
        .assert()
        .success()
        .stdout(predicate::str::starts_with("ntpconf-edit "));
}

#[test]
fn usage_errors_exit_2() {
    cmd()
        .arg("--bogus")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--bogus"));
    cmd()
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no command"));
}

#[test]
fn set_writes_the_result_to_stdout_like_sed() {
    let dir = tempfile::tempdir().unwrap();
    let path = conf_in(dir.path(), CONF);
    cmd()
        .args(["set", "panic=0"])
        .arg(&path)
        .assert()
        .success()
        .stdout("# header\nserver 0.pool.ntp.org iburst\ntinker panic 0   # vm\n")
        .stderr("");
    assert_eq!(
        fs::read_to_string(&path).unwrap(),
        CONF,
        "without -i the file is untouched"
    );
}

#[test]
fn dash_is_stdin() {
    cmd()
        .on_stdin(&["set", "step=0"], "server a\n")
        .assert()
        .success()
        .stdout("tinker step 0\nserver a\n");
    cmd()
        .on_stdin(&["-i", "set", "step=0"], "x\n")
        .assert()
        .code(2);
}

#[test]
fn root_finds_the_default_file() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir_all(dir.path().join("etc")).unwrap();
    fs::write(dir.path().join("etc/ntp.conf"), "tinker panic 0\n").unwrap();
    cmd()
        .on_root(&["show"], dir.path())
        .assert()
        .success()
        .stdout(
            predicate::str::starts_with("panic 0\t")
                .and(predicate::str::contains("etc/ntp.conf:1")),
        );
}

#[test]
fn errors_name_the_tool_and_the_path_and_exit_2() {
    cmd()
        .args(["show", "/nonexistent/ntp.conf"])
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::starts_with(
            "ntpconf-edit: /nonexistent/ntp.conf: ",
        ));
}

#[test]
fn show_json_has_the_documented_fields() {
    let out = cmd()
        .on_stdin(
            &["--format", "json", "show"],
            "tinker panic 0\ntinker stepout 60\n",
        )
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let rows: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 2);
    for row in &rows {
        for field in ["key", "value", "file", "line"] {
            assert!(row.get(field).is_some(), "{field} missing in {row}");
        }
    }
    assert_eq!(rows[0]["key"], "panic");
    assert_eq!(rows[1]["value"], 300.0);
    assert_eq!(rows[1]["written"], "60");
}

#[test]
fn check_exits_1_only_when_a_change_is_needed() {
    let dir = tempfile::tempdir().unwrap();
    let path = conf_in(dir.path(), CONF);
    cmd()
        .args(["--check", "set", "panic=0"])
        .arg(&path)
        .assert()
        .code(1)
        .stdout("");
    cmd()
        .args(["--check", "set", "panic=5"])
        .arg(&path)
        .assert()
        .code(0)
        .stdout("");
    cmd()
        .args(["--check", "unset", "step"])
        .arg(&path)
        .assert()
        .code(0);
    cmd()
        .args(["--check", "unset", "panic"])
        .arg(&path)
        .assert()
        .code(1);
    assert_eq!(fs::read_to_string(&path).unwrap(), CONF);
}

#[test]
fn in_place_is_idempotent_and_keeps_mode() {
    let dir = tempfile::tempdir().unwrap();
    let path = conf_in(dir.path(), CONF);
    fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
    cmd()
        .args(["-i", "--backup", "set", "--preset", "dovecot", "panic=0"])
        .arg(&path)
        .assert()
        .success()
        .stdout("");
    assert_eq!(
        fs::read_to_string(&path).unwrap(),
        "# header\nserver 0.pool.ntp.org iburst\ntinker panic 0 step 0   # vm\n"
    );
    assert_eq!(
        fs::read_to_string(dir.path().join("ntp.conf.bak")).unwrap(),
        CONF
    );
    assert_eq!(
        fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o640
    );
    cmd()
        .args(["--check", "set", "--preset", "dovecot", "panic=0"])
        .arg(&path)
        .assert()
        .code(0);
}

#[test]
fn in_place_edits_a_symlinks_target() {
    let dir = tempfile::tempdir().unwrap();
    let real = conf_in(dir.path(), CONF);
    let link = dir.path().join("link.conf");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    cmd()
        .args(["-i", "unset", "panic"])
        .arg(&link)
        .assert()
        .success();
    assert!(
        fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(
        fs::read_to_string(&real).unwrap(),
        "# header\nserver 0.pool.ntp.org iburst\n"
    );
}

#[test]
fn diff_shows_the_change_without_writing() {
    let dir = tempfile::tempdir().unwrap();
    let path = conf_in(dir.path(), CONF);
    cmd()
        .args(["--diff", "set", "panic=0"])
        .arg(&path)
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "-tinker panic 5   # vm\n+tinker panic 0   # vm\n",
        ));
    assert_eq!(fs::read_to_string(&path).unwrap(), CONF);
}

#[test]
fn bad_requests_exit_2_and_leave_the_file_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = conf_in(dir.path(), CONF);
    for args in [
        &["-i", "set", "panic=zero"][..],
        &["-i", "set", "Panic=0"],
        &["-i", "set", "minpoll=4"],
        &["-i", "set", "tick=0.01"],
        &["-i", "set", "bogus=1"],
        &["-i", "set", "panic=0x10"],
        &["-i", "unset", "bogus"],
        &["-i", "set"],
    ] {
        cmd()
            .args(args)
            .arg(&path)
            .assert()
            .code(2)
            .stderr(predicate::str::starts_with("ntpconf-edit: "));
        assert_eq!(fs::read_to_string(&path).unwrap(), CONF, "{args:?}");
    }
}

#[test]
fn a_failing_write_never_loses_the_file() {
    for step in ["create", "write", "fsync", "backup", "rename"] {
        let dir = tempfile::tempdir().unwrap();
        let path = conf_in(dir.path(), CONF);
        cmd()
            .env("TOOLKIT_FAIL_AT", step)
            .args(["-i", "--backup", "set", "panic=0"])
            .arg(&path)
            .assert()
            .code(2)
            .stderr(predicate::str::contains("not changed"));
        assert_eq!(fs::read_to_string(&path).unwrap(), CONF, "{step}");
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert!(
            names.iter().all(|n| !n.to_string_lossy().ends_with(".tmp")),
            "{step}: temp file left: {names:?}"
        );
    }
}

#[test]
fn a_full_disk_never_loses_the_file() {
    // A real full file system: a tiny tmpfs in a private mount namespace.
    let dir = tempfile::tempdir().unwrap();
    let bin = assert_cmd::cargo::cargo_bin!("ntpconf-edit");
    let big = format!("{}{}", CONF, "# padding\n".repeat(3000));
    fs::write(dir.path().join("orig"), &big).unwrap();
    let script = format!(
        r#"set -e; mount -t tmpfs -o size=40k tmpfs "$1"; cp "$1/../orig" "$1/ntp.conf" 2>/dev/null || true;
        cat "$1/../orig" > "$1/ntp.conf"; head -c 8k /dev/zero > "$1/fill" || true;
        if {bin} -i set panic=0 "$1/ntp.conf"; then echo EDITED; fi; cmp "$1/ntp.conf" "$1/../orig" && echo INTACT; ls -a "$1""#,
        bin = bin.display()
    );
    let mnt = dir.path().join("mnt");
    fs::create_dir(&mnt).unwrap();
    let out = std::process::Command::new("unshare")
        .args(["-m", "--propagation", "private", "sh", "-c", &script, "sh"])
        .arg(&mnt)
        .output();
    let Ok(out) = out else { return };
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() && stdout.is_empty() {
        let msg = format!(
            "cannot mount a tmpfs here: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        mailhost_common::testing::skip("full-disk test", &msg);
        return;
    }
    assert!(
        !stdout.contains("EDITED"),
        "the edit cannot fit, it must fail: {stdout}"
    );
    assert!(stdout.contains("INTACT"), "original damaged: {stdout}");
    assert!(!stdout.contains(".tmp"), "temp file left: {stdout}");
}

#[test]
fn a_closed_pipe_is_a_quiet_success() {
    use std::io::Read;
    use std::process::{Command, Stdio};
    let dir = tempfile::tempdir().unwrap();
    // 960 KB of output, far beyond a pipe's buffer.
    let path = conf_in(dir.path(), &"server a.example iburst\n".repeat(40_000));
    let mut child = Command::new(assert_cmd::cargo::cargo_bin!("ntpconf-edit"))
        .args(["set", "panic=0"])
        .arg(&path)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 16];
    stdout.read_exact(&mut first).unwrap();
    drop(stdout); // like `| head -c 16`
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "exit {status:?}, stderr {stderr}");
    assert_eq!(stderr, "");
}

#[test]
fn check_reports_in_the_editor_format() {
    cmd().on_stdin(&["check"], "server a\nend\ntinker panic 0\n")
        .assert()
        .code(1)
        .stdout("-:3:1: error: tinker after `end`: ntpd stops reading at `end`, so this is never applied [NE002]\n");
}

#[test]
fn colour_only_when_asked_or_on_a_terminal() {
    let input = "tinker panic 0 step\n";
    cmd()
        .on_stdin(&["check"], input)
        .assert()
        .stdout(predicate::str::contains("\x1b[").not());
    cmd()
        .on_stdin(&["--color", "always", "check"], input)
        .assert()
        .stdout(predicate::str::contains("\x1b["));
}

#[test]
fn set_that_cannot_win_over_an_include_fails() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("extra.conf"), "tinker panic 9\n").unwrap();
    // NTPsec resolves a relative includefile against the file's directory.
    let path = conf_in(dir.path(), "tinker panic 1\nincludefile extra.conf\n");
    cmd()
        .args(["--dialect", "ntpsec", "set", "panic=0"])
        .arg(&path)
        .assert()
        .code(2)
        .stdout("")
        .stderr(
            predicate::str::contains("panic would be 9 because")
                .and(predicate::str::contains("extra.conf:1"))
                .and(predicate::str::contains("cannot reach the asked state")),
        );
    cmd()
        .args(["--dialect", "ntpsec", "--check", "set", "panic=0"])
        .arg(&path)
        .assert()
        .code(1);
    // Classic ntpd opens it from its working directory, `/`: not there, so
    // the edit wins.
    cmd()
        .args(["--dialect", "classic", "set", "panic=0"])
        .arg(&path)
        .assert()
        .success()
        .stdout("tinker panic 0\nincludefile extra.conf\n");
}

#[test]
fn check_and_set_judge_by_the_values_ntpd_applies() {
    // `step 0` already gives stepback 0 and stepfwd 0.
    for args in [
        &["--check", "set", "stepback=0"][..],
        &["--check", "set", "stepfwd=0", "stepback=0"],
    ] {
        cmd().on_stdin(args, "tinker step 0\n").assert().code(0);
    }
    cmd()
        .on_stdin(&["set", "stepback=0"], "tinker step 0\n")
        .assert()
        .success()
        .stdout("tinker step 0\n");
    // huffpuff below 900 is raised to 900: asking for 10 on a file with 900 is no change.
    cmd()
        .on_stdin(&["--check", "set", "huffpuff=10"], "tinker huffpuff 900\n")
        .assert()
        .code(0);
    // A value ntpd reads differently from how it is written counts as what ntpd reads.
    cmd()
        .on_stdin(&["--check", "set", "panic=0"], "tinker panic -\n")
        .assert()
        .code(0);
}

#[test]
fn set_fails_when_ntpd_would_exit_on_the_file() {
    let input = "tinker panic 5\ntinker bogus -99999999999999999999999\n";
    cmd()
        .on_stdin(&["set", "panic=0"], input)
        .assert()
        .code(2)
        .stdout("")
        .stderr(
            predicate::str::contains("-:2:14: error: ntpd will not start: classic ntpd exits")
                .and(predicate::str::contains("nothing written")),
        );
    cmd()
        .on_stdin(&["--check", "set", "panic=0"], input)
        .assert()
        .code(1);
    // unset too: removing a key leaves a file ntpd still refuses.
    for args in [&["unset", "panic"][..], &["--diff", "unset", "panic"]] {
        cmd()
            .on_stdin(
                args,
                "tinker panic 5
1e-400
",
            )
            .assert()
            .code(2)
            .stdout("")
            .stderr(predicate::str::contains(
                "-:2:1: error: ntpd will not start: classic ntpd exits at start-up",
            ));
    }
    // The dialect decides: NTPsec refuses `1e-310`, classic reads it as 0.
    let subnormal = "tinker panic 5
tos minclock 1e-310
";
    cmd()
        .on_stdin(&["--dialect", "ntpsec", "set", "panic=0"], subnormal)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("NTPsec's ntpd exits at start-up"));
    cmd()
        .on_stdin(&["--dialect", "classic", "set", "panic=0"], subnormal)
        .assert()
        .success()
        .stdout("tinker panic 0\ntos minclock 1e-310\n");
    // The value ntpd chokes on is the one being set: the edit repairs it.
    cmd()
        .on_stdin(&["set", "panic=0"], "tinker panic 1e-400\n")
        .assert()
        .success()
        .stdout("tinker panic 0\n");
}

#[test]
fn set_writes_nothing_after_an_end_inside_an_include() {
    let dir = tempfile::tempdir().unwrap();
    let inc = dir.path().join("end.inc");
    fs::write(&inc, "server a\nend\n").unwrap();
    let path = conf_in(
        dir.path(),
        &format!(
            "# head\nincludefile {}\ntinker stepout 900\n",
            inc.display()
        ),
    );
    cmd()
        .args(["set", "panic=0"])
        .arg(&path)
        .assert()
        .success()
        .stdout(format!(
            "# head\ntinker panic 0\nincludefile {}\ntinker stepout 900\n",
            inc.display()
        ));
}

/// `keeper`: the daemon whose configuration decides, by the rule `check`
/// uses: ntp.conf where it is, else chrony, else systemd-timesyncd.
#[test]
fn keeper_names_the_daemon_and_its_file() {
    let keeper = |root: &Path| {
        let out = cmd()
            .arg("--root")
            .arg(root)
            .args(["--format", "json", "keeper"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0));
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir_all(dir.path().join("etc/chrony")).unwrap();
    fs::write(dir.path().join("etc/chrony/chrony.conf"), "pool a iburst\n").unwrap();
    let found = keeper(dir.path());
    assert_eq!(found["time_keeper"], "chronyd");
    assert_eq!(found["config"], "/etc/chrony/chrony.conf");
    fs::write(dir.path().join("etc/ntp.conf"), "server a\n").unwrap();
    let found = keeper(dir.path());
    assert_eq!(found["time_keeper"], "ntpd");
    assert_eq!(found["config"], "/etc/ntp.conf");
}
