//! What the xinetd-lint integration tests share, kept in one place so each
//! test file holds only its cases: running xinetd-lint and reading its JSON
//! lines, and running Debian's real xinetd as the oracle (a private network
//! namespace with only `lo`, debug mode under `script` because xinetd logs
//! to /dev/tty, its debug log read line by line).
#![allow(dead_code)] // Each test file uses a part.

use std::ffi::OsStr;
use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use assert_cmd::assert::Assert;

/// xinetd-lint without the environment that changes how it behaves (fault
/// injection, colour), so every test starts from the same defaults.
pub fn xinetd_lint() -> assert_cmd::Command {
    let mut c = assert_cmd::cargo::cargo_bin_cmd!("xinetd-lint");
    c.env_remove("TOOLKIT_FAIL_AT").env_remove("NO_COLOR");
    c
}

/// xinetd-lint on the host tree `root` (`--root ROOT`), run: what most CLI
/// cases check.
pub fn lint_root(root: impl AsRef<OsStr>) -> Assert {
    lint_root_with(&[], root)
}

/// xinetd-lint with `args`, then `--root ROOT`, run.
pub fn lint_root_with(args: &[&str], root: impl AsRef<OsStr>) -> Assert {
    xinetd_lint().args(args).arg("--root").arg(root).assert()
}

/// xinetd-lint on the file or directory `path`, looked up under the host
/// tree `root` (`--root ROOT PATH`), run.
pub fn lint_path_under_root(root: impl AsRef<OsStr>, path: impl AsRef<OsStr>) -> Assert {
    xinetd_lint().arg("--root").arg(root).arg(path).assert()
}

/// xinetd-lint reading `input` on its stdin through the path `path_arg`
/// (`-`, /dev/stdin), run.
pub fn lint_stdin(path_arg: &str, input: &str) -> Assert {
    xinetd_lint().arg(path_arg).write_stdin(input).assert()
}

/// Writes `text` to `name` below `root`, creating the directories above it.
pub fn write_below(root: &Path, name: &str, text: impl AsRef<[u8]>) {
    let path = root.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// The `code` of every finding in xinetd-lint's `--format json` output.
pub fn json_finding_codes(stdout: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(stdout)
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["code"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect()
}

/// Every service in `--services --format json` output, in its order.
pub fn json_services(stdout: &[u8]) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The ids `--services --format json` output calls active, in its order.
pub fn json_active_ids(stdout: &[u8]) -> Vec<String> {
    json_services(stdout)
        .into_iter()
        .filter(|v| v["status"] == "active")
        .map(|v| v["id"].as_str().unwrap().to_string())
        .collect()
}

/// Whether the oracle can run here (xinetd, script and ip installed); if
/// not, `what` is reported skipped, and under CI that is a failure.
pub fn xinetd_oracle_available(what: &str) -> bool {
    let found = Path::new("/usr/sbin/xinetd").exists()
        && Path::new("/usr/bin/script").exists()
        && Path::new("/usr/sbin/ip").exists();
    if !found {
        let msg = "xinetd, script or ip is not installed: run scripts/install-test-deps.sh";
        mailhost_common::testing::skip(what, msg);
    }
    found
}

/// Starts Debian's xinetd on `conf` in debug mode, in a private network
/// namespace (only `lo`, up) after the shell text `prelude`, with its debug
/// log on the child's stdout.  timeout(1) stops it after `seconds`;
/// `after` is shell text run when it has ended (`script` runs both).  The
/// child leads a process group of its own, so it can be stopped as one.
pub fn spawn_xinetd_in_private_netns(
    conf: &Path,
    pidfile: &Path,
    seconds: u32,
    prelude: &str,
    after: &str,
) -> Child {
    let inner = format!(
        "timeout -k 2 -s TERM {seconds} xinetd -d -dontfork -f '{}' -pidfile '{}'{after}",
        conf.display(),
        pidfile.display()
    );
    Command::new("unshare")
        .args([
            "-n",
            "sh",
            "-c",
            &format!("ip link set lo up; {prelude} exec script -qec \"{inner}\" /dev/null"),
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .expect("start xinetd")
}

/// How to stop xinetd once it has said it started working.
pub enum StopXinetd {
    /// xinetd by the PID its log shows, then script and sh: the process
    /// group we started.
    ProcessGroup,
    /// xinetd alone, by the PID its log shows (it runs in the session
    /// `script` made); the chain above it then ends by itself, and the
    /// rest of its log is read.
    XinetdPid,
}

/// What xinetd did on start-up.
pub struct XinetdStartup {
    /// The ids of `Started service:` lines, in the log's order, repeats kept.
    pub started: Vec<String>,
    /// The debug log up to `Started working` (or `no services. Exiting`).
    pub log: String,
}

/// Runs xinetd as [`spawn_xinetd_in_private_netns`] does until it has
/// started working (or found nothing to start), then stops it as `stop`
/// says; timeout(1) after `seconds` is the fallback.
pub fn xinetd_startup(
    conf: &Path,
    pidfile: &Path,
    seconds: u32,
    prelude: &str,
    stop: StopXinetd,
) -> XinetdStartup {
    let mut child = spawn_xinetd_in_private_netns(conf, pidfile, seconds, prelude, "");
    let pgid = child.id();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let (mut started, mut log, mut pid) = (Vec::new(), String::new(), None::<u32>);
    while let Ok(line) = rx.recv_timeout(Duration::from_secs(40)) {
        log.push_str(&line);
        log.push('\n');
        // `26/12/1@08:52:36: DEBUG: 25619 {cnf_start_services} ...`
        if pid.is_none() {
            pid = line
                .split(": ")
                .nth(2)
                .and_then(|rest| rest.split(' ').next())
                .and_then(|p| p.parse().ok());
        }
        if let Some(at) = line.find("Started service: ") {
            started.push(line[at + 17..].trim().to_string());
        }
        if line.contains("Started working") || line.contains("no services. Exiting") {
            break;
        }
    }
    // xinetd itself first, by its PID, in both modes: it runs in the
    // session `script` made, outside our process group, so ending the
    // group alone left it running for good (script's hang-up is a SIGHUP,
    // which xinetd takes as "reread the configuration").
    if let Some(pid) = pid {
        let _ = Command::new("kill").arg(pid.to_string()).status();
    }
    match stop {
        StopXinetd::ProcessGroup => {
            let _ = Command::new("kill")
                .args(["-TERM", "--", &format!("-{pgid}")])
                .status();
        }
        StopXinetd::XinetdPid => while rx.recv_timeout(Duration::from_secs(10)).is_ok() {},
    }
    let _ = child.wait();
    XinetdStartup { started, log }
}

/// `xinetd-lint --services --format json conf` in a private network
/// namespace like xinetd's (only `lo`, up) after the shell text `prelude`,
/// so host names and listeners look the same to both.
pub fn lint_services_in_private_netns(conf: &Path, prelude: &str) -> Output {
    let bin = assert_cmd::cargo::cargo_bin!("xinetd-lint");
    Command::new("unshare")
        .args([
            "-n",
            "sh",
            "-c",
            &format!("ip link set lo up; {prelude} exec \"$0\" --services --format json \"$1\""),
        ])
        .arg(bin)
        .arg(conf)
        .output()
        .unwrap()
}
