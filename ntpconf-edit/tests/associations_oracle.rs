//! The real ntpd as the oracle for "what are its servers"
//! (`ntpconf_edit::ntp_associations`): for each case, the associations
//! classic ntpd saves with `--saveconfigquit` and those NTPsec mobilizes at
//! start-up must be the ones the model lists, in the same order, with
//! `includefile` followed and `end` honoured.
//!
//! ntpd runs in a private network and mount namespace (a tmpfs over /var)
//! without CAP_SYS_TIME, so it can never touch the clock (reference A1.4);
//! NTPsec is stopped by its PID once it has configured its associations.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use mailhost_common::root::Root;
use ntpconf_edit::tinker::Dialect;

mod support;
use support::watch_ntpd;

fn tools() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/test-tools")
}

fn present() -> bool {
    let found = tools().join("ntp-classic/usr/sbin/ntpd").exists()
        && tools().join("ntpsec/usr/sbin/ntpd").exists()
        && Path::new("/usr/bin/unshare").exists();
    if !found {
        let msg = "classic ntpd or NTPsec is not unpacked: run scripts/install-test-deps.sh";
        mailhost_common::testing::skip("associations oracle test", msg);
    }
    found
}

const JAIL: &str = r#"mount -t tmpfs tmpfs /var && cd / && exec setpriv --bounding-set=-sys_time --inh-caps=-sys_time "$@""#;

/// Classic ntpd's saved configuration: its server, peer and pool lines'
/// addresses, in order.
fn classic(conf: &Path, scratch: &Path) -> Vec<String> {
    let ntpd = tools().join("ntp-classic/usr/sbin/ntpd");
    let lib = std::fs::read_dir(tools().join("ntp-classic/usr/lib"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.to_string_lossy().contains("-linux-gnu"))
        .expect("classic ntpd's libraries");
    let saved = scratch.join("saved.conf");
    let _ = std::fs::remove_file(&saved);
    let status = Command::new("timeout")
        .args(["20", "unshare", "-n", "-m", "--propagation", "private"])
        .args(["sh", "-c", JAIL, "sh"])
        .arg(&ntpd)
        .arg("-n")
        .arg("-c")
        .arg(conf)
        .arg("--saveconfigquit")
        .arg(&saved)
        .env("LD_LIBRARY_PATH", lib)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("run classic ntpd");
    assert!(status.success(), "classic ntpd: {status}");
    let text = std::fs::read_to_string(&saved).expect("ntpd saved its configuration");
    text.lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            if !matches!(words.next()?, "server" | "peer" | "pool") {
                return None;
            }
            let host = words.next()?;
            let host = if host == "-4" || host == "-6" {
                words.next()?
            } else {
                host
            };
            // ntpd saves refclocks as `server 127.127.T.U`; the model leaves
            // them out (not servers to ask).
            (!host.starts_with("127.127.")).then(|| host.to_string())
        })
        .collect()
}

/// The associations NTPsec mobilizes at start-up (`event at 0 HOST … mobilize`),
/// read until it configures the loop (`loop_config: item 1`).
fn ntpsec(conf: &Path) -> Vec<String> {
    let ntpd = tools().join("ntpsec/usr/sbin/ntpd");
    let mut command = Command::new("unshare");
    command
        .args(["-n", "-m", "--propagation", "private"])
        .args(["sh", "-c", &format!("{JAIL} 2>&1"), "sh"])
        .arg(&ntpd)
        .args(["-n", "-D", "3", "-c"])
        .arg(conf);
    let mut hosts = Vec::new();
    let mut configured = false;
    watch_ntpd(&mut command, |line| {
        if line.starts_with("loop_config: item 1") {
            configured = true;
            return false;
        }
        if let Some(rest) = line.strip_prefix("event at 0 ")
            && line.contains(" mobilize assoc ")
        {
            hosts.push(rest.split_whitespace().next().unwrap().to_string());
        }
        true
    });
    assert!(configured, "NTPsec did not configure {}", conf.display());
    hosts
}

fn predicted(conf: &Path, dialect: Dialect) -> Vec<String> {
    let root = Root::new(Path::new("/")).unwrap();
    ntpconf_edit::ntp_associations(&root, Some(conf), Some(dialect), None)
        .unwrap()
        .associations
        .into_iter()
        .map(|a| a.host)
        .collect()
}

/// Each case: the main file, and the files it includes (name, text) in the
/// same directory; `@DIR@` is that directory.
const CASES: &[(&str, &[(&str, &str)])] = &[
    (
        "server 192.0.2.1 iburst\n  pool 192.0.2.2\nincludefile @DIR@/inc.conf\nserver 192.0.2.9\n",
        &[(
            "inc.conf",
            "peer 192.0.2.3\nserver -4 192.0.2.4\nend\nserver 192.0.2.5\n",
        )],
    ),
    (
        "server 192.0.2.1\nincludefile @DIR@/missing.conf\nincludefile @DIR@/a.conf\nserver 192.0.2.4\nend\nserver 192.0.2.5\n",
        &[(
            "a.conf",
            "server 192.0.2.2\n# server 192.0.2.7\n\tserver 192.0.2.3 minpoll 4 iburst\n",
        )],
    ),
    (
        "server 192.0.2.7 bogus\nserver 192.0.2.8 minpoll\nserver 192.0.2.9 minpoll 4 iburst\n\
         server 192.0.2.10 key 1 prefer\nserver 192.0.2.11 iburst 7\npool 192.0.2.12 preempt\n\
         server -4\nserver 192.0.2.13 -4\nserver 192.0.2.20 minpoll abc\nserver 192.0.2.21 version 4.5\n\
         server 192.0.2.23 ttl\nserver 192.0.2.26 bias\n\"server\" 192.0.2.27\n\
         server 192.0.2.28 minpoll 0x10\nserver 192.0.2.29 prefer minpoll\nSERVER 192.0.2.30\n\
         server \"192.0.2.31\"\nserver 127.127.1.0\n",
        &[],
    ),
];

#[test]
fn associations_agree_with_both_ntpd_dialects() {
    if !present() {
        return;
    }
    for (index, (main, included)) in CASES.iter().enumerate() {
        let dir = tempfile::tempdir().unwrap();
        let here = dir.path().to_str().unwrap();
        for (name, text) in *included {
            std::fs::write(dir.path().join(name), text.replace("@DIR@", here)).unwrap();
        }
        let conf = dir.path().join("ntp.conf");
        std::fs::write(&conf, main.replace("@DIR@", here)).unwrap();
        let classic_hosts = classic(&conf, dir.path());
        assert_eq!(
            predicted(&conf, Dialect::Classic),
            classic_hosts,
            "case {index}: classic ntpd"
        );
        assert!(
            !classic_hosts.is_empty(),
            "case {index}: nothing to compare"
        );
        assert_eq!(
            predicted(&conf, Dialect::Ntpsec),
            ntpsec(&conf),
            "case {index}: NTPsec"
        );
    }
}
