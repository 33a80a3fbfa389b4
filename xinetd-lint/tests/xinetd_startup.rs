//! Regression tests for what the real xinetd does between parsing and
//! `Started service` (issue 14), each case run through Debian's xinetd in a
//! private network namespace and through `xinetd-lint --services`: both
//! must start exactly the expected ids.  Every class the differential
//! fuzzer (scripts/oracle-fuzz-xinetd.sh) found is here.

use std::path::Path;

mod support;
use support::{StopXinetd, json_active_ids, lint_services_in_private_netns, xinetd_startup};

fn available() -> bool {
    support::xinetd_oracle_available("xinetd start-up test")
}

/// The ids the real xinetd started (sorted, with repeats), and its log.
/// `prelude` runs first in the same namespace (a listener, say).
fn xinetd_started(conf: &Path, prelude: &str) -> (Vec<String>, String) {
    let pidfile = format!("{}.pid", conf.display());
    let mut run = xinetd_startup(conf, pidfile.as_ref(), 30, prelude, StopXinetd::XinetdPid);
    run.started.sort();
    (run.started, run.log)
}

/// The ids xinetd-lint calls active, in a namespace of its own after `prelude`.
fn lint_active(conf: &Path, prelude: &str) -> (Vec<String>, String) {
    let out = lint_services_in_private_netns(conf, prelude);
    assert!(out.status.code().is_some_and(|c| c < 2), "{out:?}");
    let mut active = json_active_ids(&out.stdout);
    active.sort();
    (active, String::from_utf8_lossy(&out.stdout).into_owned())
}

const BODY: &str = "\twait = no\n\tuser = root\n\tserver = /bin/true\n";

fn svc(name: &str, socket_type: &str, extra: &str) -> String {
    format!("service {name}\n{{\n\tsocket_type = {socket_type}\n{BODY}{extra}}}\n")
}

/// A case: its name, its files as (relative path, text with @DIR@ for the
/// directory), and the ids xinetd starts.
type Case = (&'static str, Vec<(&'static str, String)>, Vec<&'static str>);

/// An xinetd.conf of this text.
fn one(text: String) -> Vec<(&'static str, String)> {
    vec![("xinetd.conf", text)]
}

/// An UNLISTED daytime on port 5000 with this socket_type and protocol.
fn unlisted(socket: &str, protocol: &str) -> Vec<(&'static str, String)> {
    one(svc(
        "daytime",
        socket,
        &format!("\tprotocol = {protocol}\n\ttype = UNLISTED\n\tport = 5000\n"),
    ))
}

fn cases() -> Vec<Case> {
    [
        socket_cases(),
        binding_cases(),
        parse_recovery_cases(),
        value_cases(),
    ]
    .concat()
}

/// Socket creation: pairs the kernel refuses.
fn socket_cases() -> Vec<Case> {
    vec![
        ("seqpacket-tcp", unlisted("seqpacket", "tcp"), vec![]),
        ("seqpacket-udp", unlisted("seqpacket", "udp"), vec![]),
        ("stream-udp", unlisted("stream", "udp"), vec![]),
        ("dgram-tcp", unlisted("dgram", "tcp"), vec![]),
        ("raw-udp-is-fine", unlisted("raw", "udp"), vec!["daytime"]),
    ]
}

/// Binding, TCPMUX clients among them.
fn binding_cases() -> Vec<Case> {
    vec![
        (
            "two-dgram-one-port",
            one(svc("daytime", "dgram", "\tid = a\n") + &svc("daytime", "dgram", "\tid = b\n")),
            vec!["a", "b"],
        ),
        (
            "unbound-then-bound-tcp",
            one(svc("rsync", "stream", "\tid = a\n")
                + &svc("rsync", "stream", "\tid = b\n\tbind = 127.0.0.1\n")),
            vec!["a"],
        ),
        (
            "unbound-v6only-then-bound-tcp",
            one(svc("rsync", "stream", "\tid = a\n\tv6only = no\n")
                + &svc("rsync", "stream", "\tid = b\n\tbind = 127.0.0.1\n")),
            vec!["a", "b"],
        ),
        (
            "ipv4-then-v6only",
            one(svc("rsync", "stream", "\tid = a\n\tflags = IPv4\n")
                + &svc("rsync", "stream", "\tid = b\n\tv6only = yes\n")),
            vec!["a", "b"],
        ),
        (
            "bound-then-unbound-tcp",
            one(svc("rsync", "stream", "\tid = a\n\tbind = 127.0.0.1\n")
                + &svc("rsync", "stream", "\tid = b\n")),
            vec!["a"],
        ),
        (
            "bound-then-unbound-udp",
            one(svc("daytime", "dgram", "\tid = a\n\tbind = 127.0.0.1\n")
                + &svc("daytime", "dgram", "\tid = b\n")),
            vec!["a"],
        ),
        (
            "bound-v6-then-unbound-ipv4",
            one(svc("rsync", "stream", "\tid = a\n\tbind = ::1\n")
                + &svc("rsync", "stream", "\tid = b\n\tflags = IPv4\n")),
            vec!["a"],
        ),
        (
            "same-id-bound-other-ports",
            one(svc("rsync", "stream", "\tid = a\n\tbind = 127.0.0.1\n")
                + &svc("ftp", "stream", "\tid = a\n\tbind = 127.0.0.1\n")),
            vec!["a", "a"],
        ),
        (
            "tcpmux-clients-same-bind",
            one(svc(
                "m1",
                "stream",
                "\tid = a\n\ttype = TCPMUX UNLISTED\n\tbind = 127.0.0.1\n",
            ) + &svc(
                "m1",
                "stream",
                "\tid = b\n\ttype = TCPMUX UNLISTED\n\tbind = 127.0.0.1\n",
            )),
            vec!["a"],
        ),
        (
            "tcpmux-client-bind-not-local",
            one(svc(
                "m1",
                "stream",
                "\ttype = TCPMUX UNLISTED\n\tbind = 10.9.9.9\n",
            )),
            vec!["m1"],
        ),
        (
            "ipv4-flag-with-v6-bind-takes-0.0.0.0",
            one(svc(
                "rsync",
                "stream",
                "\tid = a\n\tflags = IPv4\n\tbind = ::1\n",
            ) + &svc("rsync", "stream", "\tid = b\n\tbind = 127.0.0.1\n")),
            vec!["a"],
        ),
        (
            "ipv6-flag-with-foreign-v4-bind",
            one(svc(
                "rsync",
                "stream",
                "\tflags = IPv6\n\tbind = 10.9.9.9\n",
            )),
            vec!["rsync"],
        ),
        // A TCPMUX client with no protocol: xinetd segfaults, nothing starts.
        (
            "tcpmux-without-protocol-crashes",
            one(svc("rsync", "stream", "")
                + "service mux\n{\n\ttype = TCPMUX UNLISTED\n\tserver = /bin/true\n}\n"),
            vec![],
        ),
    ]
}

/// Parse recovery: the line that is not `{` is consumed by the skip, and a
/// one-word line reads on into the next lines.
fn parse_recovery_cases() -> Vec<Case> {
    vec![
        (
            "missing-brace-line-is-consumed",
            one(format!(
                "service finger\n}}\n{}{}",
                svc("rsync", "stream", ""),
                svc("ftp", "stream", "")
            )),
            vec!["ftp"],
        ),
        // Parse recovery: a one-word line reads on into the next lines.
        (
            "one-word-line-eats-next-service",
            one(format!(
                "service rsync\n{{\n\tsocket_type = stream\n{BODY}\tdisable\n}}\n{}{}",
                svc("ftp", "stream", ""),
                svc("telnet", "stream", "")
            )),
            vec!["telnet"],
        ),
        (
            "one-word-line-in-defaults",
            one(format!(
                "defaults\n{{\n\tfoo\n\tinstances = 5\n}}\n{}{}",
                svc("ftp", "stream", ""),
                svc("telnet", "stream", "")
            )),
            vec!["telnet"],
        ),
        (
            "one-word-line-then-indented",
            one(format!(
                "service rsync\n{{\n\tdisable\n\tsocket_type = stream\n{BODY}}}\n{}",
                svc("ftp", "stream", "")
            )),
            vec!["ftp"],
        ),
    ]
}

/// Values.
fn value_cases() -> Vec<Case> {
    vec![
        (
            "enabled-minus-equals-adds",
            one(format!(
                "defaults\n{{\n\tenabled -= rsync\n}}\n{}{}",
                svc("rsync", "stream", ""),
                svc("ftp", "stream", "")
            )),
            vec!["rsync"],
        ),
        (
            "disabled-minus-equals-adds",
            one(format!(
                "defaults\n{{\n\tdisabled -= rsync\n}}\n{}{}",
                svc("rsync", "stream", ""),
                svc("ftp", "stream", "")
            )),
            vec!["ftp"],
        ),
        (
            "empty-enabled-disables-all",
            one(format!(
                "defaults\n{{\n\tenabled =\n}}\n{}",
                svc("rsync", "stream", "")
            )),
            vec![],
        ),
        (
            "enabled-undoes-a-value-error",
            one(format!(
                "defaults\n{{\n\tenabled = rsync\n}}\n{}",
                svc("rsync", "stream", "\tonly_from = 10..1\n")
            )),
            vec!["rsync"],
        ),
        (
            "negative-rlimits-and-cps",
            one(svc(
                "rsync",
                "stream",
                "\trlimit_as = -1\n\trlimit_cpu = -1\n\trlimit_files = -2\n\tcps = -1 -5\n",
            )),
            vec!["rsync"],
        ),
        (
            "negative-rlimit-with-suffix",
            one(svc("rsync", "stream", "\trlimit_as = -5k\n")),
            vec![],
        ),
        (
            "only-from-double-dot",
            one(svc("rsync", "stream", "\tonly_from = 127.0.0.1 10..1\n")),
            vec![],
        ),
        (
            "no-access-double-dot",
            one(svc("rsync", "stream", "\tno_access = 10..1\n")),
            vec![],
        ),
        (
            "server-is-a-directory",
            one("service rsync\n{\n\tsocket_type = stream\n\twait = no\n\tuser = root\n\tserver = /bin\n}\n".into()),
            vec!["rsync"],
        ),
        (
            "redirect-protocol-only",
            one("service rsync\n{\n\tprotocol = tcp\n\twait = no\n\tuser = root\n\tredirect = 127.0.0.1 8873\n}\n".into()),
            vec!["rsync"],
        ),
        (
            "traffic-in-defaults",
            vec![
                ("xinetd.conf", "defaults\n{\n\tlog_on_success = PID TRAFFIC\n}\ninclude @DIR@/inc\n".into()),
                (
                    "inc",
                    svc("rsync", "stream", "")
                        + &svc("ftp", "stream", "\tlog_on_success -= TRAFFIC\n")
                        + &svc("telnet", "stream", "\tlog_on_success += HOST\n")
                        + "service login\n{\n\tsocket_type = stream\n\twait = no\n\tuser = root\n\tredirect = 127.0.0.1 8873\n}\n",
                ),
            ],
            vec!["ftp", "login"],
        ),
    ]
}

#[test]
fn startup_classes_agree_with_the_real_xinetd() {
    if !available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    for (name, files, expected) in cases() {
        let case = dir.path().join(name);
        std::fs::create_dir_all(&case).unwrap();
        for (rel, text) in &files {
            let text = text.replace("@DIR@", &case.display().to_string());
            std::fs::write(case.join(rel), text).unwrap();
        }
        let conf = case.join("xinetd.conf");
        let (started, log) = xinetd_started(&conf, "");
        let (active, verdicts) = lint_active(&conf, "");
        if started != expected || active != expected {
            failures.push(format!(
                "{name}: expected {expected:?}, xinetd started {started:?}, xinetd-lint active {active:?}\n{verdicts}{}",
                log.lines()
                    .filter(|l| l.contains("ERROR") || l.contains("WARNING"))
                    .collect::<Vec<_>>()
                    .join("\n")
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// A root with an imap, imaps and pop3 service under xinetd and the
/// standalone dovecot enabled in rc.conf; `dovecot` is dovecot.conf's text.
fn dovecot_root(conf_dir: &str, dovecot: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    for d in ["etc/xinetd.d", "bin"] {
        std::fs::create_dir_all(root.join(d)).unwrap();
    }
    std::fs::write(
        root.join("etc/services"),
        "pop3 110/tcp\nimap2 143/tcp imap\nimaps 993/tcp\n",
    )
    .unwrap();
    std::fs::write(root.join("etc/protocols"), "tcp 6 TCP\n").unwrap();
    std::fs::write(root.join("etc/passwd"), "root:*:0:0::/root:/bin/sh\n").unwrap();
    std::fs::write(root.join("etc/rc.conf"), "dovecot_enable=\"YES\"\n").unwrap();
    std::fs::write(root.join("bin/true"), "#!/bin/sh\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(
        root.join("bin/true"),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    let mut text = String::new();
    for name in ["imap", "imaps", "pop3"] {
        text += &svc(name, "stream", "");
    }
    std::fs::write(root.join("etc/xinetd.conf"), text).unwrap();
    for (rel, body) in dovecot {
        let path = root.join(conf_dir).join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, body).unwrap();
    }
    dir
}

fn verdicts_under(root: &Path) -> Vec<(String, String)> {
    let out = assert_cmd::Command::new(assert_cmd::cargo::cargo_bin!("xinetd-lint"))
        .args(["--services", "--format", "json", "--root"])
        .arg(root)
        .arg(root.join("etc/xinetd.conf"))
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .map(|v| {
            (
                v["id"].as_str().unwrap().to_string(),
                format!(
                    "{}{:?}",
                    v["status"].as_str().unwrap(),
                    v["reasons"].as_array().unwrap()
                ),
            )
        })
        .collect()
}

#[test]
fn xl043_follows_dovecot_conf_listeners() {
    // FreeBSD layout: protocols without pop3, imap's plain listener off,
    // through a conf.d include.
    let root = dovecot_root(
        "usr/local/etc/dovecot",
        &[
            (
                "dovecot.conf",
                "protocols = imap lmtp\n!include conf.d/*.conf\n",
            ),
            (
                "conf.d/10-master.conf",
                "service imap-login {\n  inet_listener imap {\n    port = 0\n  }\n  inet_listener imaps {\n    port = 993\n    ssl = yes\n  }\n}\n",
            ),
        ],
    );
    let v = verdicts_under(root.path());
    assert_eq!(
        v,
        [
            ("imap".to_string(), "active[]".to_string()),
            ("imaps".into(), "rejected[String(\"XL043\")]".into()),
            ("pop3".into(), "active[]".into()),
        ]
    );
    // Linux layout, Debian's protocols.d: pop3 only, on its default port.
    let root = dovecot_root(
        "etc/dovecot",
        &[(
            "dovecot.conf",
            "!include_try /usr/share/dovecot/protocols.d/*.protocol\n",
        )],
    );
    std::fs::create_dir_all(root.path().join("usr/share/dovecot/protocols.d")).unwrap();
    std::fs::write(
        root.path()
            .join("usr/share/dovecot/protocols.d/pop3d.protocol"),
        "protocols = $protocols pop3\n",
    )
    .unwrap();
    let v = verdicts_under(root.path());
    assert_eq!(v[0], ("imap".to_string(), "active[]".to_string()));
    assert_eq!(
        v[2],
        (
            "pop3".to_string(),
            "rejected[String(\"XL043\")]".to_string()
        )
    );
    // No dovecot.conf: dovecot's defaults, every port taken.
    let root = dovecot_root("etc/dovecot", &[]);
    let v = verdicts_under(root.path());
    assert!(v.iter().all(|(_, s)| s.starts_with("rejected")), "{v:?}");
}

#[test]
fn xl043_sees_a_running_dovecot_on_the_live_system() {
    if !available() || !Path::new("/usr/bin/python3").exists() {
        return;
    }
    // A process named dovecot (comm comes from the name exec'd) listening
    // on [::]:143 in the namespace, as a standalone dovecot would.
    let dir = tempfile::tempdir().unwrap();
    let fake = dir.path().join("dovecot");
    std::os::unix::fs::symlink("/usr/bin/python3", &fake).unwrap();
    let prelude = format!(
        "'{}' -c 'import socket,time; s=socket.socket(socket.AF_INET6); s.bind((\"::\",143)); s.listen(); time.sleep(8)' & sleep 1;",
        fake.display()
    );
    let conf = dir.path().join("imap");
    std::fs::write(
        &conf,
        svc("imap", "stream", "") + &svc("pop3", "stream", ""),
    )
    .unwrap();
    let (started, log) = xinetd_started(&conf, &prelude);
    assert_eq!(started, ["pop3"], "{log}");
    let (active, verdicts) = lint_active(&conf, &prelude);
    assert_eq!(active, ["pop3"], "{verdicts}");
    assert!(verdicts.contains("XL043"), "{verdicts}");
    // Nothing listening: both start, for xinetd and for us.
    let (active, _) = lint_active(&conf, "");
    assert_eq!(active, ["imap", "pop3"]);
}
