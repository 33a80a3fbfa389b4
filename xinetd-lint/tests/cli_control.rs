//! Issue 12 through the real interface: quiet when clean, non-zero when
//! not, rule control, FreeBSD's own paths, explicit paths under --root,
//! imap3, and the log files dovecot writes to under xinetd.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use predicates::prelude::*;

mod support;
use support::{
    json_finding_codes, lint_path_under_root, lint_root, lint_root_with, lint_stdin, write_below,
    xinetd_lint,
};

/// The errata's dovecot service, FreeBSD paths.
fn dovecot(name: &str, login: &str) -> String {
    format!(
        "service {name}\n{{\n\tsocket_type = stream\n\tprotocol = tcp\n\twait = no\n\tuser = root\n\tserver = /usr/local/libexec/dovecot/{login}\n}}\n"
    )
}

/// The errata's clean FreeBSD host: the port's /usr/local/etc/xinetd.conf,
/// the four dovecot files in /usr/local/etc/xinetd.d, FreeBSD's tables,
/// xinetd enabled and the standalone dovecot not, and dovecot 1.2 (the
/// only generation the recipe works on; its package's license directory).
fn freebsd_host() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write_below(
        root,
        "etc/services",
        "pop3 110/tcp\nimap 143/tcp imap2\nimap3 220/tcp\nimaps 993/tcp\npop3s 995/tcp\n",
    );
    write_below(root, "etc/protocols", "tcp 6 TCP\nudp 17 UDP\n");
    write_below(root, "etc/passwd", "root:*:0:0::/root:/bin/sh\n");
    write_below(root, "etc/group", "wheel:*:0:root\n");
    write_below(
        root,
        "etc/rc.conf",
        "xinetd_enable=\"YES\"\ndovecot_enable=\"NO\"\n",
    );
    for login in ["imap-login", "pop3-login"] {
        let exe = root.join("usr/local/libexec/dovecot").join(login);
        write_below(
            root,
            &format!("usr/local/libexec/dovecot/{login}"),
            "#!/bin/sh\n",
        );
        fs::set_permissions(exe, fs::Permissions::from_mode(0o755)).unwrap();
    }
    write_below(
        root,
        "usr/local/share/licenses/dovecot-1.2.17/catalog.mk",
        "_LICENSE=LGPL21 MIT\n",
    );
    write_below(
        root,
        "usr/local/etc/xinetd.conf",
        "defaults\n{\n\tinstances = 60\n}\nincludedir /usr/local/etc/xinetd.d\n",
    );
    for (name, login) in [
        ("imap", "imap-login"),
        ("imaps", "imap-login"),
        ("pop3", "pop3-login"),
        ("pop3s", "pop3-login"),
    ] {
        write_below(
            root,
            &format!("usr/local/etc/xinetd.d/{name}"),
            dovecot(name, login),
        );
    }
    dir
}

/// The same host with dovecot 2.3 instead: every login service is an error
/// (XL048) that names the real fix; with no way to tell the generation, a
/// warning (XL049) that names what was looked for.
#[test]
fn the_errata_recipe_on_dovecot_2_and_on_an_unknown_dovecot() {
    let host = freebsd_host();
    let root = host.path();
    fs::remove_dir_all(root.join("usr/local/share/licenses/dovecot-1.2.17")).unwrap();
    write_below(
        root,
        "usr/local/share/licenses/dovecot-2.3.21.1_1/catalog.mk",
        "_LICENSE=LGPL21 MIT\n",
    );
    let out = xinetd_lint()
        .args(["--format", "json", "--root"])
        .arg(root)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(json_finding_codes(&out.stdout), ["XL048"; 4]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("dovecot 2.3.21.1 cannot run from xinetd"),
        "{text}"
    );
    assert!(
        text.contains(mailhost_host::dovecot::xinetd::FIX_2X),
        "{text}"
    );

    fs::remove_dir_all(root.join("usr/local/share/licenses")).unwrap();
    let out = xinetd_lint()
        .args(["--format", "json", "--root"])
        .arg(root)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(json_finding_codes(&out.stdout), ["XL049"; 4]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("only dovecot 1.x can be run from xinetd"),
        "{text}"
    );
    assert!(text.contains("/var/lib/dpkg/status"), "{text}");
}

#[test]
fn the_errata_clean_host_is_quiet_and_found_by_default() {
    let host = freebsd_host();
    // No /etc/xinetd.conf in the tree: FreeBSD's port file is found.
    lint_root(host.path()).code(0).stdout("").stderr("");
    lint_root_with(&["--format", "json"], host.path())
        .code(0)
        .stdout("")
        .stderr("");
    // The four info findings are there when asked for, and then count.
    let out = xinetd_lint()
        .args(["--severity", "info", "--root"])
        .arg(host.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(text.lines().count(), 4, "{text}");
    assert!(
        text.lines()
            .all(|l| l.contains(": info: ") && l.ends_with("[XL044]")),
        "{text}"
    );
    let out = xinetd_lint()
        .args(["--severity", "info", "--format", "json", "--root"])
        .arg(host.path())
        .output()
        .unwrap();
    assert_eq!(json_finding_codes(&out.stdout), ["XL044"; 4]);
    // The services table sees the four services active.
    let out = xinetd_lint()
        .args(["--services", "--format", "json", "--root"])
        .arg(host.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let active = String::from_utf8_lossy(&out.stdout)
        .matches("\"status\":\"active\"")
        .count();
    assert_eq!(active, 4);
}

#[test]
fn non_zero_on_each_kind_of_finding_and_the_floor_decides() {
    let host = freebsd_host();
    let imap = host.path().join("usr/local/etc/xinetd.d/imap");
    // A warning alone.
    let warned = dovecot("imap", "imap-login")
        .replace("\twait = no\n", "\twait = no\n\tper_source = 5 # limit\n");
    fs::write(&imap, &warned).unwrap();
    lint_root(host.path())
        .code(1)
        .stdout(predicate::str::contains("warning:").and(predicate::str::contains("[XL016]")));
    lint_root_with(&["--severity", "error"], host.path())
        .code(0)
        .stdout("");
    // An error alone.
    fs::write(
        &imap,
        dovecot("imap", "imap-login").replace("wait = no", "wait=no"),
    )
    .unwrap();
    lint_root(host.path())
        .code(1)
        .stdout(predicate::str::contains("error:").and(predicate::str::contains("[XL009]")));
    lint_root_with(&["--severity", "error"], host.path()).code(1);
    // The dovecot rules: a wrong login, a disabled service, the standalone daemon.
    fs::write(&imap, dovecot("imap", "pop3-login")).unwrap();
    lint_root(host.path())
        .code(1)
        .stdout(predicate::str::contains("[XL041]"));
    fs::write(
        &imap,
        dovecot("imap", "imap-login").replace("\twait = no\n", "\tdisable = yes\n\twait = no\n"),
    )
    .unwrap();
    lint_root(host.path())
        .code(1)
        .stdout(predicate::str::contains("[XL042]"));
    fs::write(&imap, dovecot("imap", "imap-login")).unwrap();
    write_below(host.path(), "etc/rc.conf.local", "dovecot_enable=\"YES\"\n");
    lint_root(host.path()).code(1).stdout(
        predicate::str::contains("[XL043]").and(predicate::str::contains("rc.conf.local:1")),
    );
}

#[test]
fn ignore_select_and_the_suppression_comment() {
    let host = freebsd_host();
    let imap = host.path().join("usr/local/etc/xinetd.d/imap");
    let both = dovecot("imap", "imap-login").replace(
        "\twait = no\n",
        "\twait = no\n\tper_source = 5 # limit\n\tfrobnicate = 1\n",
    );
    fs::write(&imap, &both).unwrap();
    let codes = |args: &[&str]| {
        let out = xinetd_lint()
            .args(args)
            .args(["--format", "json", "--root"])
            .arg(host.path())
            .output()
            .unwrap();
        (out.status.code(), json_finding_codes(&out.stdout))
    };
    assert_eq!(codes(&[]), (Some(1), vec!["XL016".into(), "XL011".into()]));
    assert_eq!(
        codes(&["--ignore", "XL016"]),
        (Some(1), vec!["XL011".into()])
    );
    assert_eq!(
        codes(&["--ignore", "XL016,unknown-attribute"]),
        (Some(0), vec![])
    );
    assert_eq!(
        codes(&["--select", "XL016"]),
        (Some(1), vec!["XL016".into()])
    );
    assert_eq!(
        codes(&["--select", "XL016,XL011", "--ignore", "XL011"]),
        (Some(1), vec!["XL016".into()])
    );
    assert_eq!(
        codes(&["--select", "XL044", "--severity", "info"]),
        (Some(1), vec!["XL044".into(); 4])
    );
    lint_root_with(&["--ignore", "XL999"], host.path())
        .code(2)
        .stderr(predicate::str::contains("unknown rule code `XL999`"));
    // The comment silences its codes in its own file, at top level or inside the block.
    fs::write(&imap, format!("# xinetd-lint: ignore XL016\n{both}")).unwrap();
    assert_eq!(codes(&[]), (Some(1), vec!["XL011".into()]));
    fs::write(
        &imap,
        both.replace(
            "\tper_source",
            "\t# xinetd-lint: ignore XL016, XL011\n\tper_source",
        ),
    )
    .unwrap();
    assert_eq!(codes(&[]), (Some(0), vec![]));
    // ... and not in another file.
    let pop3 = host.path().join("usr/local/etc/xinetd.d/pop3");
    fs::write(
        &pop3,
        dovecot("pop3", "pop3-login")
            .replace("\twait = no\n", "\twait = no\n\tper_source = 5 # limit\n"),
    )
    .unwrap();
    assert_eq!(codes(&[]), (Some(1), vec!["XL016".into()]));
}

#[test]
fn freebsd_paths_in_the_order_xinetd_uses_them() {
    let host = freebsd_host();
    let root = host.path();
    // Both files present: FreeBSD's port reads /usr/local/etc/xinetd.conf.
    write_below(root, "etc/xinetd.conf", "servce broken\n");
    lint_root(root).code(0).stdout("");
    // rc.conf's xinetd_flags -f FILE decides before both.
    write_below(
        root,
        "etc/rc.conf",
        "xinetd_enable=\"YES\"\nxinetd_flags=\"-f /usr/local/etc/xinetd-mail.conf -pidfile /var/run/x.pid\"\n",
    );
    write_below(root, "usr/local/etc/xinetd-mail.conf", "servce other\n");
    lint_root(root).code(1).stdout(
        predicate::str::contains("xinetd-mail.conf:1:1:").and(predicate::str::contains("[XL001]")),
    );
    // A Linux tree: /etc/xinetd.conf.
    let linux = tempfile::tempdir().unwrap();
    write_below(linux.path(), "etc/xinetd.conf", "servce broken\n");
    lint_root(linux.path())
        .code(1)
        .stdout(predicate::str::starts_with(format!(
            "{}/etc/xinetd.conf:1:1:",
            linux.path().display()
        )));
}

#[test]
fn explicit_paths_are_looked_up_under_the_root() {
    let host = freebsd_host();
    let root = host.path();
    write_below(
        root,
        "usr/local/etc/xinetd.d/imap",
        dovecot("imap", "imap-login").replace("wait = no", "wait=no"),
    );
    let expected = format!(
        "{}/usr/local/etc/xinetd.d/imap:5:6: error: Attribute wait needs a space before operator [XL009]\n",
        root.display()
    );
    for given in [
        Path::new("/usr/local/etc/xinetd.conf").to_path_buf(),
        root.join("usr/local/etc/xinetd.conf"),
    ] {
        lint_path_under_root(root, &given)
            .code(1)
            .stdout(expected.clone());
    }
    // A directory given explicitly is read as an includedir, under the root too.
    lint_path_under_root(root, "/usr/local/etc/xinetd.d")
        .code(1)
        .stdout(expected.clone());
    lint_path_under_root(root, "/usr/local/etc/nonexistent.conf")
        .code(2)
        .stderr(predicate::str::contains("usr/local/etc/nonexistent.conf"));
}

#[test]
fn a_pipe_named_on_the_host_is_read_as_grep_reads_it() {
    // `xinetd-lint <(ssh mailhost cat /etc/xinetd.conf)`: /dev/fd/N is a pipe.
    lint_stdin("/dev/stdin", "servce x\n")
        .code(1)
        .stdout(predicate::str::starts_with(
            "/dev/stdin:1:1: error: missing service keyword",
        ));
}

#[test]
fn imap3_is_served_by_imap_login() {
    let host = freebsd_host();
    write_below(
        host.path(),
        "usr/local/etc/xinetd.d/imap3",
        dovecot("imap3", "pop3-login"),
    );
    lint_root(host.path())
        .code(1)
        .stdout(predicate::str::contains("imap3:").and(predicate::str::contains("[XL041]")));
    write_below(
        host.path(),
        "usr/local/etc/xinetd.d/imap3",
        dovecot("imap3", "imap-login"),
    );
    lint_root(host.path()).code(0).stdout("");
}

#[test]
fn log_files_with_file_and_syslog_destinations() {
    let host = freebsd_host();
    let root = host.path();
    let log_files = |root: &Path| {
        let out = xinetd_lint()
            .args(["--log-files", "--root"])
            .arg(root)
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.stderr.is_empty());
        String::from_utf8(out.stdout).unwrap()
    };
    // No syslog configuration in the tree: xinetd's default (daemon.info) names no file.
    assert_eq!(log_files(root), "");
    // FreeBSD's stock syslog.conf sends *.notice (not daemon.info) to messages;
    // a !xinetd block and the port's syslog.d decide.
    write_below(
        root,
        "etc/syslog.conf",
        "*.err;kern.warning;auth.notice;mail.crit\t\t/dev/console\n*.notice;authpriv.none;kern.debug;lpr.info;mail.crit;news.err\t/var/log/messages\nmail.info\t\t\t\t\t/var/log/maillog\n!ppp\n*.*\t\t\t\t\t\t/var/log/ppp.log\n!*\ninclude\t\t\t\t\t\t/etc/syslog.d\ninclude\t\t\t\t\t\t/usr/local/etc/syslog.d\n",
    );
    // Dovecot logs to syslog, facility mail: maillog, and its Fatal lines
    // (LOG_CRIT) to messages too; xinetd's daemon.info goes nowhere.
    assert_eq!(log_files(root), "/var/log/maillog\n/var/log/messages\n");
    write_below(
        root,
        "usr/local/etc/syslog.d/xinetd.conf",
        "!xinetd\ndaemon.info\t/var/log/xinetd.log\n",
    );
    assert_eq!(
        log_files(root),
        "/var/log/maillog\n/var/log/messages\n/var/log/xinetd.log\n"
    );
    let out = xinetd_lint()
        .args(["--severity", "info", "--select", "XL044", "--root"])
        .arg(root)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("dovecot's imap-login logs where every dovecot process logs, to syslog, facility mail (dovecot's default log_path), which syslogd writes to /var/log/maillog, /var/log/messages;")
            && text.contains("xinetd's own log (to syslog daemon.info (xinetd's default log_type), which syslogd writes to /var/log/xinetd.log (")
            && text.contains("usr/local/etc/syslog.d/xinetd.conf:2)")
            && text.contains("EXIT: imap status=89"),
        "{text}"
    );
    assert!(!text.contains("logs through xinetd"), "{text}");
    // SYSLOG facility and level from the defaults, through rsyslog.
    let rsys = freebsd_host();
    let root = rsys.path();
    write_below(
        root,
        "usr/local/etc/xinetd.conf",
        "defaults\n{\n\tlog_type = SYSLOG local3 notice\n}\nincludedir /usr/local/etc/xinetd.d\n",
    );
    write_below(
        root,
        "etc/rsyslog.conf",
        "*.info;mail.none;local3.none\t-/var/log/syslog\n$IncludeConfig /etc/rsyslog.d/*.conf\n",
    );
    write_below(
        root,
        "etc/rsyslog.d/30-xinetd.conf",
        "local3.=debug\t/var/log/xinetd-debug.log\nlocal3.notice\t/var/log/xinetd.log;RSYSLOG_FileFormat\n",
    );
    assert_eq!(log_files(root), "/var/log/xinetd.log\n");
    // log_type FILE in a service: that file, for that service.
    write_below(
        root,
        "usr/local/etc/xinetd.d/pop3",
        dovecot("pop3", "pop3-login").replace(
            "\twait = no\n",
            "\twait = no\n\tlog_type = FILE /var/log/pop3-xinetd.log\n",
        ),
    );
    assert_eq!(
        log_files(root),
        "/var/log/xinetd.log\n/var/log/pop3-xinetd.log\n"
    );
    let out = xinetd_lint()
        .args(["--severity", "info", "--root"])
        .arg(root)
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains("xinetd's own log (to the file /var/log/pop3-xinetd.log (log_type at ")
    );
    // dovecot.conf's log_path, when set, is where dovecot's lines are.
    write_below(
        root,
        "usr/local/etc/dovecot.conf",
        "protocols = imap pop3\nlog_path = /var/log/dovecot.log\n",
    );
    assert_eq!(
        log_files(root),
        "/var/log/dovecot.log\n/var/log/xinetd.log\n/var/log/pop3-xinetd.log\n"
    );
}

#[test]
fn fix_reports_each_fix_then_what_remains() {
    let host = freebsd_host();
    let imap = host.path().join("usr/local/etc/xinetd.d/imap");
    let shown = imap.display().to_string();
    // Two fixable mistakes and one that --fix cannot fix (an unknown user).
    let broken = dovecot("imap", "imap-login")
        .replace("wait = no", "wait=no")
        .replace(
            "\tuser = root\n",
            "\tuser = root\n\tper_source = 5 # limit\n\tgroup = nosuchgroup\n",
        );
    fs::write(&imap, &broken).unwrap();
    let out = xinetd_lint()
        .args(["--fix", "--root"])
        .arg(host.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "an error remains");
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        format!("{shown}:5:6: fixed: inserted a space before the operator [XL009]"),
        "{text}"
    );
    assert_eq!(
        lines[1],
        format!("{shown}:7:17: fixed: moved the trailing comment to its own line [XL016]"),
        "{text}"
    );
    assert!(
        lines[2].starts_with(&format!("{shown}:"))
            && lines[2].contains("error:")
            && lines[2].contains("nosuchgroup"),
        "{text}"
    );
    assert_eq!(lines.len(), 3, "{text}");
    assert!(
        fs::read_to_string(&imap)
            .unwrap()
            .contains("\twait = no\n\tuser = root\n\t# limit\n\tper_source = 5\n")
    );
    // JSON: one object per fix (`"fixed": true`), then the findings.
    fs::write(&imap, &broken).unwrap();
    let out = xinetd_lint()
        .args(["--fix", "--format", "json", "--root"])
        .arg(host.path())
        .output()
        .unwrap();
    let rows: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 3);
    assert_eq!(
        (rows[0]["code"].as_str(), rows[0]["fixed"].as_bool()),
        (Some("XL009"), Some(true))
    );
    assert_eq!(rows[1]["code"], "XL016");
    assert_eq!(rows[2]["severity"], "error");
    // Once the rest is fixed by hand: nothing to fix, nothing remains, silence.
    fs::write(
        &imap,
        dovecot("imap", "imap-login").replace("wait = no", "wait=no"),
    )
    .unwrap();
    lint_root_with(&["--fix"], host.path())
        .code(0)
        .stdout(format!(
            "{shown}:5:6: fixed: inserted a space before the operator [XL009]\n"
        ));
    lint_root_with(&["--fix"], host.path())
        .code(0)
        .stdout("")
        .stderr("");
}
