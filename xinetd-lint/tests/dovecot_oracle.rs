//! Issue 19 against the real dovecot 2.3.19.1 (Debian's, unpacked under
//! target/test-tools by scripts/install-test-deps.sh) and the real xinetd:
//! scripts/oracle-dovecot.sh runs them in private namespaces.  The errata's
//! xinetd files give no greeting and an `EXIT: imap status=89` line in
//! xinetd's log, the master alone greets, and xinetd-lint, on a tree holding
//! the real dovecot binary and the same xinetd files, says error (XL048).

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn tools() -> PathBuf {
    repo().join("target/test-tools")
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.trim_ascii() == b"0")
}

/// Runs the oracle into a temporary directory, or says why it cannot.
fn run_oracle() -> Option<tempfile::TempDir> {
    let master = tools().join("dovecot-core/usr/sbin/dovecot");
    let why = if !master.exists() {
        Some("dovecot 2.3 is not unpacked: run scripts/install-test-deps.sh")
    } else if !Path::new("/usr/sbin/xinetd").exists() {
        Some("xinetd is not installed: run scripts/install-test-deps.sh")
    } else if !is_root() {
        Some("needs root (private network and mount namespaces)")
    } else {
        None
    };
    if let Some(why) = why {
        mailhost_common::testing::skip("dovecot oracle", why);
        return None;
    }
    let out = tempfile::tempdir().unwrap();
    let status = Command::new("bash")
        .arg(repo().join("scripts/oracle-dovecot.sh"))
        .arg(out.path())
        .status()
        .unwrap();
    assert!(status.success(), "oracle-dovecot.sh failed");
    Some(out)
}

#[test]
fn the_errata_recipe_on_the_real_dovecot_2_3() {
    let Some(out) = run_oracle() else {
        return;
    };
    let results = std::fs::read_to_string(out.path().join("results")).unwrap();
    for case in [
        "xinetd imap, no master: no greeting",
        "xinetd pop3, no master: no greeting",
        "xinetd imap, master running: no greeting",
        "xinetd pop3, master running: no greeting",
        "xinetd imap with PATH, master running: no greeting",
        "xinetd pop3 with PATH, master running: no greeting",
        "master imap: greeting (* OK",
        "master pop3: greeting (+OK",
    ] {
        assert!(results.contains(case), "{case}\n{results}");
    }
    let xinetd_log = std::fs::read_to_string(out.path().join("xinetd-no-master.log")).unwrap();
    assert!(xinetd_log.contains("EXIT: imap status=89 "), "{xinetd_log}");
    assert!(xinetd_log.contains("EXIT: pop3 status=89 "), "{xinetd_log}");
    let with_master =
        std::fs::read_to_string(out.path().join("xinetd-path-with-master.log")).unwrap();
    assert!(
        with_master.contains("EXIT: imap status=89 "),
        "{with_master}"
    );

    // xinetd-lint on a tree with the real master binary (its version
    // string) and the same four xinetd files.
    let tree = tempfile::tempdir().unwrap();
    let root = tree.path();
    let copy = |from: &Path, to: &str| {
        let target = root.join(to);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::copy(from, &target).unwrap();
    };
    copy(
        &tools().join("dovecot-core/usr/sbin/dovecot"),
        "usr/sbin/dovecot",
    );
    copy(
        &tools().join("dovecot-imapd/usr/lib/dovecot/imap-login"),
        "usr/lib/dovecot/imap-login",
    );
    copy(
        &tools().join("dovecot-pop3d/usr/lib/dovecot/pop3-login"),
        "usr/lib/dovecot/pop3-login",
    );
    for name in ["services", "protocols", "passwd", "group"] {
        copy(
            &repo().join("examples/host/etc").join(name),
            &format!("etc/{name}"),
        );
    }
    std::fs::write(root.join("etc/xinetd.conf"), "includedir /etc/xinetd.d\n").unwrap();
    std::fs::create_dir_all(root.join("etc/xinetd.d")).unwrap();
    for service in ["imap", "imaps", "pop3", "pop3s"] {
        let text = std::fs::read_to_string(repo().join("examples/errata/xinetd.d").join(service))
            .unwrap()
            .replace("/usr/local/libexec/dovecot/", "/usr/lib/dovecot/");
        std::fs::write(root.join("etc/xinetd.d").join(service), text).unwrap();
    }
    let lint = Command::new(assert_cmd::cargo::cargo_bin!("xinetd-lint"))
        .arg("--root")
        .arg(root)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&lint.stdout);
    assert_eq!(lint.status.code(), Some(1), "{text}");
    assert_eq!(text.matches("[XL048]").count(), 4, "{text}");
    assert!(
        text.contains("dovecot 2.3.19.1 cannot run from xinetd"),
        "{text}"
    );
    assert!(
        text.contains("usr/sbin/dovecot: `Dovecot v… starting up`"),
        "{text}"
    );
}
