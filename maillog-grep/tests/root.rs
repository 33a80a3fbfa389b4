//! `--root` as a hostile jail owner would attack it (issue 13) and as a
//! FreeBSD admin would use it (issue 12): every file is opened through
//! `mailhost_common::root::Root`, explicit paths are looked up in the
//! root, a FIFO planted as a rotated sibling never hangs the run, a FIFO
//! named explicitly is read as grep reads it, names cannot forge lines,
//! and dovecot's `instance_name` and login tags count as dovecot.

mod common;

use std::os::unix::fs::symlink;
use std::path::Path;
use std::time::{Duration, Instant};

use common::*;

const FATAL: &str = "Mar  4 14:34:09 mx1 dovecot: imap(4711): Fatal: Time just moved backwards by 40.100000 seconds. This might cause a lot of problems, so I'll just kill myself now.";
const NTPD: &str = "Mar  4 14:34:05 mx1 ntpd[76]: 0.0.0.0 c61c 0c clock_step -40.100000 s";

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// `maillog-grep --root ROOT ARGS`.
fn in_root(root: &Path, args: &[&str]) -> assert_cmd::Command {
    let mut c = cmd();
    c.arg("--root").arg(root).args(args);
    c
}

/// `maillog-grep --root ROOT -c --year 2026 PATHS` counts `count` lines and
/// exits 0.
fn assert_count_in_root(root: &Path, paths: &[&str], count: usize) {
    in_root(root, &["-c", "--year", "2026"])
        .args(paths)
        .assert()
        .code(0)
        .stdout(format!("{count}\n"));
}

#[test]
fn explicit_paths_are_looked_up_under_the_root() {
    let jail = tempfile::tempdir().unwrap();
    write(&jail.path().join("var/log/maillog"), &format!("{FATAL}\n"));
    write(&jail.path().join("var/log/messages"), &format!("{NTPD}\n"));
    // The README's line, with --root.
    let out = in_root(
        jail.path(),
        &[
            "--rotated",
            "--summary",
            "--year",
            "2026",
            "/var/log/maillog",
            "/var/log/messages",
        ],
    )
    .output()
    .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("<- ntpd step backward 40.1 s"), "{text}");
    assert!(
        text.contains(&format!("{}/var/log/messages", jail.path().display())),
        "{text}"
    );
}

#[test]
fn default_paths_cover_freebsd_and_debian_under_the_root() {
    let jail = tempfile::tempdir().unwrap();
    write(&jail.path().join("var/log/mail.log"), &format!("{FATAL}\n"));
    assert_count_in_root(jail.path(), &[], 1);
    write(
        &jail.path().join("var/log/maillog"),
        &format!("{FATAL}\n{FATAL}\n"),
    );
    assert_count_in_root(jail.path(), &[], 2);
}

#[test]
fn a_planted_absolute_link_stays_inside_the_root() {
    let host = tempfile::tempdir().unwrap();
    let secret = host.path().join("host-maillog");
    write(&secret, &format!("{FATAL}\n"));
    let jail = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(jail.path().join("var/log")).unwrap();
    symlink(&secret, jail.path().join("var/log/maillog")).unwrap();
    // The link names a host path: inside the root it names nothing.
    let out = in_root(jail.path(), &["--year", "2026", "/var/log/maillog"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        out.stdout.is_empty(),
        "read the host's file: {:?}",
        out.stdout
    );
    // And `..` cannot climb out either.
    let depth = secret.components().count();
    let climb = format!(
        "{}{}",
        "../".repeat(depth + 3),
        secret.strip_prefix("/").unwrap().display()
    );
    let out = in_root(jail.path(), &["--year", "2026", &climb])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    // A relative link that stays inside is followed.
    write(&jail.path().join("srv/real-maillog"), &format!("{FATAL}\n"));
    std::fs::remove_file(jail.path().join("var/log/maillog")).unwrap();
    symlink("/srv/real-maillog", jail.path().join("var/log/maillog")).unwrap();
    assert_count_in_root(jail.path(), &["/var/log/maillog"], 1);
}

#[test]
fn a_fifo_planted_as_a_rotated_sibling_never_hangs() {
    let jail = tempfile::tempdir().unwrap();
    write(&jail.path().join("var/log/maillog"), &format!("{FATAL}\n"));
    write(
        &jail.path().join("var/log/maillog.1"),
        &format!("{FATAL}\n"),
    );
    mailhost_common::testing::make_fifo(&jail.path().join("var/log/maillog.0"));
    let started = Instant::now();
    let out = in_root(
        jail.path(),
        &[
            "--rotated",
            "-c",
            "-H",
            "--year",
            "2026",
            "/var/log/maillog",
        ],
    )
    .timeout(Duration::from_secs(20))
    .output()
    .unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "hung on the FIFO"
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stdout.contains("maillog.1:1") && stdout.contains("maillog:1"),
        "{stdout}"
    );
    assert!(
        stderr.contains("maillog.0") && stderr.contains("not a regular file"),
        "{stderr}"
    );
    assert_eq!(out.status.code(), Some(2));
    // Without --root (the host), the same.
    let out = cmd()
        .args(["--rotated", "-c", "--year", "2026"])
        .arg(jail.path().join("var/log/maillog"))
        .timeout(Duration::from_secs(20))
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a regular file"));
}

#[test]
fn a_fifo_named_explicitly_is_read_as_grep_reads_it() {
    let jail = tempfile::tempdir().unwrap();
    let fifo = jail.path().join("var/log/pipe");
    std::fs::create_dir_all(fifo.parent().unwrap()).unwrap();
    mailhost_common::testing::make_fifo(&fifo);
    let writer = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::write(fifo, format!("{FATAL}\n{FATAL}\n")).unwrap())
    };
    in_root(jail.path(), &["-c", "--year", "2026", "/var/log/pipe"])
        .timeout(Duration::from_secs(20))
        .assert()
        .code(0)
        .stdout("2\n");
    writer.join().unwrap();
}

#[test]
fn a_file_name_with_a_newline_cannot_forge_a_line() {
    let dir = tempfile::tempdir().unwrap();
    let evil = dir.path().join("x\nmaillog-grep: forged \x1b[2K");
    write(&evil, &format!("{FATAL}\x1b[2K\r\n"));
    let out = cmd()
        .args(["-H", "--year", "2026"])
        .arg(dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(stdout.lines().count(), 1, "{stdout:?}");
    assert!(
        stdout.contains("x\\nmaillog-grep: forged \\e[2K:"),
        "{stdout:?}"
    );
    assert!(!stdout.contains('\x1b'), "{stdout:?}");
    let out = cmd()
        .args(["--summary", "--year", "2026"])
        .arg(dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        !stdout.contains('\x1b') && stdout.contains("x\\nmaillog-grep"),
        "{stdout}"
    );
    // JSON keeps the real name (serde escapes it).
    let out = cmd()
        .args(["--format", "json", "--year", "2026"])
        .arg(dir.path())
        .output()
        .unwrap();
    let o = &json_lines(&out.stdout)[0];
    assert_eq!(o["file"].as_str().unwrap(), evil.to_str().unwrap());
}

#[test]
fn instance_name_and_login_tags_count_as_dovecot() {
    let jail = tempfile::tempdir().unwrap();
    let line = |tag: &str| {
        format!("Mar  4 14:34:09 mx1 {tag}: Warning: Time moved backwards by 40.100000 seconds.\n")
    };
    let log = [
        line("imapsrv"),
        line("imap-login"),
        line("pop3-login"),
        line("dovecot2"),
        line("mailsrv"),
    ]
    .concat();
    write(&jail.path().join("var/log/maillog"), &log);
    let count = |extra: &[&str]| {
        let out = in_root(jail.path(), &["-c", "--year", "2026"])
            .args(extra)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    assert_eq!(count(&[]), "3");
    // FreeBSD's dovecot.conf names the instance.
    write(
        &jail.path().join("usr/local/etc/dovecot/dovecot.conf"),
        "# local\ninstance_name = imapsrv\nprotocol imap {\n  instance_name = notthis\n}\n",
    );
    assert_eq!(count(&[]), "4");
    assert_eq!(count(&["--dovecot-ident", "mailsrv"]), "5");
}
