//! Issue 21, "Time" and "Peers": inputs an attacker can make large.  Ten
//! thousand services against a passwd of two hundred thousand accounts,
//! and twenty thousand host names behind a resolver that never answers.
//! Each ran for minutes or panicked before the fix (cloned tables; one
//! thread per name after the DNS deadline).

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use assert_cmd::cargo::cargo_bin_cmd;

fn write(root: &Path, name: &str, text: &[u8]) -> PathBuf {
    let path = root.join(name);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(&path, text).unwrap();
    path
}

#[test]
fn many_services_against_a_large_passwd_stay_fast() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    const SERVICES: usize = 10_000;
    const ACCOUNTS: usize = 200_000;
    let mut services = String::new();
    let mut passwd = String::new();
    let mut group = String::new();
    for n in 0..ACCOUNTS {
        passwd.push_str(&format!(
            "user{n}:*:{n}:{n}::/nonexistent:/usr/sbin/nologin\n"
        ));
        group.push_str(&format!("group{n}:*:{n}:\n"));
    }
    let mut conf = String::from("defaults\n{\n}\n");
    for n in 0..SERVICES {
        services.push_str(&format!("svc{n} {}/tcp\n", 10_000 + n));
        // The last accounts of the tables: a linear scan reads all of them.
        let user = ACCOUNTS - 1 - n % 100;
        conf.push_str(&format!(
            "service svc{n}\n{{\n\tsocket_type = stream\n\twait = no\n\tuser = user{user}\n\tgroup = group{user}\n\tserver = /bin/true\n}}\n"
        ));
    }
    write(root, "etc/services", services.as_bytes());
    write(root, "etc/protocols", b"tcp 6 TCP\n");
    write(root, "etc/passwd", passwd.as_bytes());
    write(root, "etc/group", group.as_bytes());
    let exe = write(root, "bin/true", b"#!/bin/sh\n");
    fs::set_permissions(exe, fs::Permissions::from_mode(0o755)).unwrap();
    write(root, "etc/xinetd.conf", conf.as_bytes());
    // Before: every look-up copied the table, 20,000 copies of 200,000
    // names (minutes).  The cap is a hang detector, not a benchmark: see
    // scripts/bench-scaling.sh for the figures.
    let out = cargo_bin_cmd!("xinetd-lint")
        .args(["--format", "json", "--root"])
        .arg(root)
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        &text[..text.len().min(2000)],
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn an_unknown_user_among_many_is_still_found() {
    // The index answers as the scan did: present names pass, absent fail.
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "etc/services", b"svc 10000/tcp\n");
    write(root, "etc/protocols", b"tcp 6 TCP\n");
    write(
        root,
        "etc/passwd",
        b"root:*:0:0::/root:/bin/sh\n# a comment\n",
    );
    write(root, "etc/group", b"wheel:*:0:root\n");
    let exe = write(root, "bin/true", b"#!/bin/sh\n");
    fs::set_permissions(exe, fs::Permissions::from_mode(0o755)).unwrap();
    write(
        root,
        "etc/xinetd.conf",
        b"service svc\n{\n\tsocket_type = stream\n\twait = no\n\tuser = root\n\tgroup = nobody\n\tserver = /bin/true\n}\n",
    );
    let out = cargo_bin_cmd!("xinetd-lint")
        .arg("--root")
        .arg(root)
        .timeout(Duration::from_secs(30))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("nobody"), "{text}");
    assert!(!text.contains("user = root"), "{text}");
}
