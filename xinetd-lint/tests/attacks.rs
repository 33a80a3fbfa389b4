//! Issue 13, played as the attacker plays it: a hostile tree given to
//! `xinetd-lint --root` (run as root, as cron runs it) with planted links,
//! FIFOs, devices, include loops and fan-outs, file names that forge
//! diagnostic lines, and host names that would make it wait on DNS.

use std::fs;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use assert_cmd::cargo::cargo_bin_cmd;
use predicates::prelude::*;

fn cmd() -> assert_cmd::Command {
    let mut c = cargo_bin_cmd!("xinetd-lint");
    c.env_remove("TOOLKIT_FAIL_AT")
        .env_remove("NO_COLOR")
        .timeout(Duration::from_secs(30));
    c
}

fn write(root: &Path, name: &str, text: &[u8]) -> PathBuf {
    let path = root.join(name);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(&path, text).unwrap();
    path
}

/// A jail with the usual tables and an xinetd.conf that includes xinetd.d.
fn jail() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "etc/services", b"rsync 873/tcp\n");
    write(root, "etc/protocols", b"tcp 6 TCP\n");
    write(root, "etc/passwd", b"root:*:0:0::/root:/bin/sh\n");
    let exe = write(root, "bin/true", b"#!/bin/sh\n");
    fs::set_permissions(exe, fs::Permissions::from_mode(0o755)).unwrap();
    write(
        root,
        "etc/xinetd.conf",
        b"defaults\n{\n}\nincludedir /etc/xinetd.d\n",
    );
    fs::create_dir_all(root.join("etc/xinetd.d")).unwrap();
    dir
}

/// A file of the host, outside every jail, that the attacker wants read.
fn host_secret() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("secret");
    fs::write(&path, "SECRET-7f3a9 the first line of a host file\n").unwrap();
    (dir, path)
}

fn output(args: &[&str], root: &Path) -> (Option<i32>, String) {
    let out = cmd().args(args).arg("--root").arg(root).output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code(), text)
}

#[test]
fn host_files_are_never_read_or_quoted() {
    let jail = self::jail();
    let root = jail.path();
    let (_keep, secret) = host_secret();
    let secret_text = secret.to_str().unwrap();
    // The attacker's tree: include by absolute path, a link named like the
    // jail's own shadow, links in xinetd.d (absolute and climbing with ..).
    write(
        root,
        "etc/xinetd.conf",
        format!(
            "include /etc/shadow\ninclude {secret_text}\ninclude ../../../../../../..{secret_text}\nincludedir /etc/xinetd.d\n"
        )
        .as_bytes(),
    );
    symlink(&secret, root.join("etc/shadow")).unwrap();
    symlink(&secret, root.join("etc/xinetd.d/absolute")).unwrap();
    let climb = format!("{}{}", "../".repeat(40), &secret_text[1..]);
    symlink(&climb, root.join("etc/xinetd.d/climbing")).unwrap();
    let (code, text) = output(&[], root);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        !text.contains("SECRET-7f3a9"),
        "a host file was read: {text}"
    );
    assert!(
        text.contains(&format!("{}/etc/xinetd.conf:1:9: error: ", root.display())),
        "{text}"
    );
    // The real /etc/shadow through a planted link: never quoted either.
    if let Ok(shadow) = fs::read_to_string("/etc/shadow") {
        let jail = self::jail();
        symlink("/etc/shadow", jail.path().join("etc/xinetd.d/shadow")).unwrap();
        write(
            jail.path(),
            "etc/xinetd.conf",
            b"include /etc/shadow\nincludedir /etc/xinetd.d\n",
        );
        let (_, text) = output(&["--severity", "info"], jail.path());
        let first = shadow
            .lines()
            .next()
            .unwrap_or("")
            .split(':')
            .next()
            .unwrap_or("");
        assert!(
            !text.contains(&format!("(`{first}")) && !text.contains("XL001"),
            "the host's /etc/shadow was read: {text}"
        );
    }
}

#[test]
fn fix_never_writes_a_file_outside_the_root() {
    let jail = self::jail();
    let root = jail.path();
    let host = tempfile::tempdir().unwrap();
    let fixable = "service rsync\n{\n\tsocket_type = stream\n\twait=no\n\tuser = root\n\tserver = /bin/true\n}\n";
    // A link out of the root to a host file, and one whose absolute target
    // also exists inside the root (the host's file has the same name).
    let victim = host.path().join("victim");
    fs::write(&victim, fixable).unwrap();
    symlink(&victim, root.join("etc/xinetd.d/rsync")).unwrap();
    let (_, text) = output(&["--fix"], root);
    assert_eq!(fs::read_to_string(&victim).unwrap(), fixable, "{text}");
    let twin = host.path().join("twin");
    fs::write(&twin, fixable).unwrap();
    write(root, &twin.to_str().unwrap()[1..], fixable.as_bytes());
    fs::remove_file(root.join("etc/xinetd.d/rsync")).unwrap();
    symlink(&twin, root.join("etc/xinetd.d/rsync")).unwrap();
    let (_, text) = output(&["--fix"], root);
    assert_eq!(
        fs::read_to_string(&twin).unwrap(),
        fixable,
        "the host's file was written: {text}"
    );
    // A plain file inside the root is fixed as before.
    fs::remove_file(root.join("etc/xinetd.d/rsync")).unwrap();
    let inside = write(root, "etc/xinetd.d/rsync", fixable.as_bytes());
    let (code, text) = output(&["--fix"], root);
    assert_eq!(code, Some(0), "{text}");
    assert!(
        fs::read_to_string(inside)
            .unwrap()
            .contains("\twait = no\n")
    );
}

#[test]
fn fifos_and_devices_are_refused_without_hanging() {
    let jail = self::jail();
    let root = jail.path();
    let fifo = root.join("etc/fifo");
    mailhost_common::testing::make_fifo(&fifo);
    let mut conf = "include /etc/fifo\nincludedir /etc/xinetd.d\n".to_string();
    // A character device planted in the tree (only root can make one).
    let device = root.join("etc/zero");
    let have_device = std::process::Command::new("mknod")
        .arg(&device)
        .args(["c", "1", "5"])
        .status()
        .is_ok_and(|s| s.success());
    if have_device {
        conf.push_str("include /etc/zero\n");
    }
    write(root, "etc/xinetd.conf", conf.as_bytes());
    mailhost_common::testing::make_fifo(&root.join("etc/xinetd.d/pipe"));
    let started = Instant::now();
    let (code, text) = output(&[], root);
    assert!(started.elapsed() < Duration::from_secs(20));
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("not a regular file (a FIFO)"), "{text}");
    assert!(
        text.contains("xinetd.d/pipe is not a regular file"),
        "{text}"
    );
    if have_device {
        assert!(text.contains("etc/zero: not a regular file"), "{text}");
    }
    // The main file itself a FIFO in the tree: an error, at once.
    let (code, text) = output(&["/etc/fifo"], root);
    assert_eq!(code, Some(2), "{text}");
    assert!(text.contains("not a regular file (a FIFO)"), "{text}");
}

const RSYNC: &str = "service rsync\n{\n\tsocket_type = stream\n\twait = no\n\tuser = root\n\tserver = /bin/true\n}\n";

#[test]
fn a_file_that_includes_itself_starts_nothing() {
    let jail = self::jail();
    let root = jail.path();
    write(
        root,
        "etc/xinetd.d/rsync",
        format!("{RSYNC}include /etc/xinetd.d/rsync\n").as_bytes(),
    );
    let (code, text) = output(&[], root);
    assert_eq!(code, Some(1));
    assert!(
        text.contains("[XL060]") && text.contains("segmentation fault"),
        "{text}"
    );
    let (_, services) = output(&["--services", "--format", "json"], root);
    assert!(!services.contains("\"active\""), "{services}");
    assert!(services.contains("\"XL060\""), "{services}");
}

#[test]
fn include_fan_out_ends_fast() {
    // Sixteen fragments that each include their own directory: N! reads.
    let jail = self::jail();
    let root = jail.path();
    for n in 0..16 {
        write(
            root,
            &format!("etc/xinetd.d/f{n:02}"),
            b"includedir /etc/xinetd.d\n",
        );
    }
    let started = Instant::now();
    let (code, text) = output(&[], root);
    assert!(started.elapsed() < Duration::from_secs(20));
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("[XL060]"), "{text}");
    // Twenty includes of the same file, five levels deep: 20^5 reads.
    let jail = self::jail();
    let root = jail.path();
    for level in 0..5 {
        let line = format!("include /etc/fan/l{}\n", level + 1);
        write(
            root,
            &format!("etc/fan/l{level}"),
            line.repeat(20).as_bytes(),
        );
    }
    write(root, "etc/fan/l5", RSYNC.as_bytes());
    write(root, "etc/xinetd.conf", b"include /etc/fan/l0\n");
    let started = Instant::now();
    let (code, text) = output(&["--services"], root);
    assert!(started.elapsed() < Duration::from_secs(20));
    assert_eq!(code, Some(1), "{text}");
    assert_eq!(text.matches("active").count(), 1, "{text}");
    let (_, findings) = output(&["--format", "json"], root);
    // One finding per repeated file, however often it is repeated (a
    // million `include` lines must not make a million findings).
    assert_eq!(
        findings.matches("\"XL062\"").count(),
        5,
        "each repeated file is reported once: {findings}"
    );
    assert_eq!(findings.matches("(and 18 more times)").count(), 5);
}

#[test]
fn a_million_includes_of_one_file_stay_within_the_budget() {
    // Issue 21: re-including an already-read file bypassed the include
    // budget and added a finding each time.
    let jail = self::jail();
    let root = jail.path();
    write(root, "etc/one", RSYNC.as_bytes());
    write(
        root,
        "etc/xinetd.conf",
        "include /etc/one\n".repeat(300_000).as_bytes(),
    );
    let started = Instant::now();
    let (code, text) = output(&["--format", "json"], root);
    assert!(started.elapsed() < Duration::from_secs(60));
    // 300,000 includes: over the 100,000-file include budget, reported once.
    assert_eq!(code, Some(1), "{}", &text[..text.len().min(2000)]);
    assert_eq!(text.matches("\"XL062\"").count(), 1);
    assert_eq!(text.matches("\"XL061\"").count(), 1);
}

#[test]
fn a_file_name_cannot_forge_a_diagnostic_line() {
    let jail = self::jail();
    let root = jail.path();
    let name = "x\nforged:1:1: error: all is well [XL000]";
    write(root, &format!("etc/xinetd.d/{name}"), b"servce x\n{\n}\n");
    write(
        root,
        "etc/xinetd.d/rsync",
        RSYNC
            .replace("\twait", "\tfrob\x1b[2J = 1\n\twait")
            .as_bytes(),
    );
    let out = cmd().arg("--root").arg(root).output().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(!stdout.contains('\x1b'), "{stdout:?}");
    for line in stdout.lines() {
        assert!(
            line.starts_with(&root.display().to_string()),
            "forged line: {line:?}"
        );
    }
    assert!(stdout.contains("x\\nforged:1:1:"), "{stdout}");
    assert!(stdout.contains("frob\\e[2J"), "{stdout}");
    let out = cmd()
        .args(["--services", "--root"])
        .arg(root)
        .output()
        .unwrap();
    assert!(
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .all(|l| !l.starts_with("forged"))
    );
}

#[test]
fn a_foreign_root_is_not_resolved_unless_asked() {
    let jail = self::jail();
    let root = jail.path();
    write(
        root,
        "etc/xinetd.d/rsync",
        RSYNC
            .replace(
                "\twait",
                "\tonly_from = 127.0.0.1 mail.does-not-exist.invalid\n\twait",
            )
            .as_bytes(),
    );
    // The names of another system are not looked up here: no finding.
    cmd().arg("--root").arg(root).assert().code(0).stdout("");
    // Asked for: resolved on this machine, where it does not exist.
    cmd()
        .args(["--resolve", "--root"])
        .arg(root)
        .assert()
        .code(1)
        .stdout(predicate::str::contains("[XL020]"));
}

#[test]
fn a_resolver_that_never_answers_costs_the_deadline_not_minutes() {
    // A private mount and network namespace whose resolv.conf names a
    // server on 127.0.0.1 that reads every query and answers none.  The
    // lint starts only once the server is bound (on a busy machine Python
    // takes a while): before, a query meets a closed port and fails at once.
    if std::process::Command::new("unshare")
        .args(["-m", "-n", "true"])
        .status()
        .map_or(true, |s| !s.success())
    {
        mailhost_common::testing::skip(
            "xinetd-lint a_resolver_that_never_answers",
            "unshare -m -n is not available (needs root)",
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("resolv.conf"),
        "nameserver 127.0.0.1\noptions timeout:5 attempts:3\n",
    )
    .unwrap();
    let names: Vec<String> = (0..6).map(|n| format!("host{n}.mail.example")).collect();
    let conf = dir.path().join("xinetd.conf");
    fs::write(
        &conf,
        format!(
            "service echo\n{{\n\ttype = INTERNAL\n\tsocket_type = stream\n\twait = no\n\tuser = root\n\tonly_from = {}\n}}\n",
            names.join(" ")
        ),
    )
    .unwrap();
    let bin = assert_cmd::cargo::cargo_bin!("xinetd-lint");
    let script = "ip link set lo up; mount --bind \"$1/resolv.conf\" /etc/resolv.conf; \
        timeout 20 python3 -c 'import socket,sys,time; s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.bind((\"127.0.0.1\",53)); open(sys.argv[1],\"w\").close(); time.sleep(20)' \"$1/bound\" & \
        i=0; while [ ! -e \"$1/bound\" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done; \
        \"$0\" --format json \"$1/xinetd.conf\"; status=$?; kill $! 2>/dev/null; exit $status";
    let started = Instant::now();
    let out = std::process::Command::new("unshare")
        .args(["-m", "-n", "sh", "-c", script])
        .arg(bin)
        .arg(dir.path())
        .output()
        .unwrap();
    let took = started.elapsed();
    let stdout = String::from_utf8_lossy(&out.stdout);
    // Six names, 15 s each for the C library: 90 s one after another.
    assert!(took < Duration::from_secs(10), "took {took:?}: {stdout}");
    assert_eq!(
        out.status.code(),
        Some(1),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(stdout.matches("\"XL063\"").count(), 1, "{stdout}");
    for name in &names {
        assert!(stdout.contains(name.as_str()), "{name}: {stdout}");
    }
}
