//! Every code of the registry is triggered: a table of (code, minimal
//! tree), each run through xinetd-lint, which must report that code.  A
//! new rule adds one row here (or, where it needs a whole host, one entry
//! of `ELSEWHERE` naming the test file that sets that host up).

mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use mailhost_common::lint::RuleCode;
use support::{json_finding_codes, write_below, xinetd_lint};
use xinetd_lint::rules::Code;

/// A service that xinetd starts on the base tree; `{}` is replaced by the
/// lines a case adds to it.
fn service(extra: &str) -> String {
    format!(
        "service svc\n{{\n\tsocket_type = stream\n\twait = no\n\tuser = root\n\tserver = /bin/true\n{extra}}}\n"
    )
}

/// What the base tree of every case holds besides its xinetd.conf.
fn base_tree(root: &Path) {
    write_below(
        root,
        "etc/services",
        "svc 9999/tcp\nsvc 9999/udp\nother 9998/tcp\n",
    );
    write_below(
        root,
        "etc/protocols",
        "tcp 6 TCP\nudp 17 UDP\nicmp 1 ICMP\n",
    );
    write_below(root, "etc/passwd", "root:x:0:0:root:/root:/bin/sh\n");
    write_below(root, "etc/group", "root:x:0:\n");
    write_below(root, "etc/rpc", "rstatd 100001 rstat\n");
    write_below(root, "bin/true", "#!/bin/sh\n");
    std::fs::set_permissions(
        root.join("bin/true"),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
}

/// (code, files below the root: (path, contents)).
type Case = (Code, Vec<(&'static str, String)>);

/// An xinetd.conf of this text.
fn conf(text: String) -> Vec<(&'static str, String)> {
    vec![("etc/xinetd.conf", text)]
}

/// An xinetd.conf of the base service with these lines added.
fn svc(extra: &str) -> Vec<(&'static str, String)> {
    conf(service(extra))
}

fn plain(text: &str) -> Vec<(&'static str, String)> {
    conf(text.to_string())
}

fn cases() -> Vec<Case> {
    [
        block_cases(),
        attribute_cases(),
        pipeline_cases(),
        start_up_cases(),
    ]
    .concat()
}

/// Reading files and blocks: includes, keywords, braces, operators.
fn block_cases() -> Vec<Case> {
    vec![
        (Code::XL001, conf(format!("servce svc\n{}", service("")))),
        (Code::XL002, plain("service\n{\n}\n")),
        (
            Code::XL003,
            plain("service svc {\n\tsocket_type = stream\n}\n"),
        ),
        (
            Code::XL004,
            plain("service svc\n{\n\tsocket_type = stream\n"),
        ),
        (Code::XL005, plain("defaults\n{\n}\ndefaults\n{\n}\n")),
        (Code::XL006, plain("include /etc/nope\n")),
        (
            Code::XL007,
            vec![
                ("etc/xinetd.conf", "includedir /etc/xinetd.d\n".into()),
                ("etc/xinetd.d/svc.conf", service("")),
            ],
        ),
        (
            Code::XL008,
            vec![
                ("etc/xinetd.conf", "includedir /etc/xinetd.d\n".into()),
                ("etc/xinetd.d/sub/x", service("")),
            ],
        ),
        (Code::XL009, svc("\tinstances= 5\n")),
        (Code::XL010, svc("\tbareword\n")),
    ]
}

/// Attribute lines and their values, and how a file is written.
fn attribute_cases() -> Vec<Case> {
    vec![
        (Code::XL011, svc("\tnosuchattr = 1\n")),
        (Code::XL012, plain("defaults\n{\n\tserver = /bin/true\n}\n")),
        (Code::XL013, svc("\tuser = root\n")),
        (Code::XL014, svc("\tinstances += 5\n")),
        (Code::XL015, svc("\tinstances = 5 6\n")),
        (Code::XL016, svc("\tinstances = 5 # limit\n")),
        (Code::XL017, svc("\tinstances = many\n")),
        (Code::XL018, svc("\tinstances = many\n\tdisable = no\n")),
        (Code::XL019, svc("\tonly_from = 127.0.0.\n")),
        (Code::XL020, svc("\tonly_from = 127.0.0.1 127.0.0.\n")),
        (Code::XL021, svc("\taccess_times = 12:00-24:00\n")),
        (Code::XL022, conf(format!("{}{}", service(""), service("")))),
        (Code::XL023, svc("\tmdns = yes\n")),
        (
            Code::XL024,
            vec![
                ("etc/xinetd.conf", "includedir /etc/xinetd.d\n".into()),
                (
                    "etc/xinetd.d/svc",
                    format!("defaults\n{{\n}}\n{}", service("")),
                ),
            ],
        ),
        (Code::XL025, conf(service("").replace('\n', "\r\n"))),
        (Code::XL026, conf(format!("\u{feff}{}", service("")))),
    ]
}

/// The post-parse pipeline: remove_disabled_services, service_fill, check_entry, and what is accepted but odd.
fn pipeline_cases() -> Vec<Case> {
    vec![
        (Code::XL027, svc("\tdisable = yes\n")),
        (
            Code::XL028,
            plain("service svc\n{\n\tsocket_type = stream\n\twait = no\n\tuser = root\n}\n"),
        ),
        (Code::XL029, svc("\ttype = UNLISTED\n\tprotocol = tcp\n")),
        (
            Code::XL030,
            conf(service("").replace("service svc", "service unknown")),
        ),
        (Code::XL031, svc("\tport = 1234\n")),
        (
            Code::XL032,
            plain("service svc\n{\n\twait = no\n\tuser = root\n\tserver = /bin/true\n}\n"),
        ),
        (
            Code::XL033,
            plain(
                "service svc\n{\n\tsocket_type = stream\n\tuser = root\n\tserver = /bin/true\n}\n",
            ),
        ),
        (Code::XL034, svc("\ttype = INTERNAL\n")),
        (Code::XL035, svc("\ttype = TCPMUX\n")),
        (Code::XL036, svc("\ttype = RPC\n\trpc_version = 1\n")),
        (
            Code::XL037,
            plain(
                "service svc\n{\n\tsocket_type = stream\n\twait = yes\n\tuser = root\n\tredirect = 127.0.0.1 80\n}\n",
            ),
        ),
        (Code::XL038, svc("\tlog_on_success = TRAFFIC\n")),
        (Code::XL039, svc("\tflags = NAMEINARGS\n")),
        (
            Code::XL040,
            conf(service("").replace("socket_type = stream", "socket_type = dgram")),
        ),
        (
            Code::XL045,
            conf(service("").replace("wait = no", "wait = yes")),
        ),
    ]
}

/// Include loops and repeats, start-up (svc_activate), and values that do not do what they say.
fn start_up_cases() -> Vec<Case> {
    vec![
        (Code::XL060, plain("include /etc/xinetd.conf\n")),
        (
            Code::XL062,
            vec![
                ("etc/xinetd.conf", "include /etc/a\ninclude /etc/a\n".into()),
                ("etc/a", "# nothing\n".into()),
            ],
        ),
        (Code::XL070, svc("\tprotocol = udp\n")),
        (Code::XL071, conf(service("").replace("/bin/true", "/etc"))),
        (Code::XL072, svc("\trlimit_as = -1\n")),
        (
            Code::XL073,
            conf(format!(
                "defaults\n{{\n\tenabled -= svc\n}}\n{}",
                service("")
            )),
        ),
        (Code::XL074, svc("\tflags = IPv6\n\tbind = 127.0.0.1\n")),
        (
            Code::XL075,
            plain(
                "service svc\n{\n\ttype = TCPMUX UNLISTED\n\twait = no\n\tuser = root\n\tserver = /bin/true\n}\n",
            ),
        ),
    ]
}

/// Codes that need a whole host (a dovecot of a known generation, a
/// standalone dovecot, a portmapper, the live system, a silent resolver,
/// a budget of 100,000 files): the test file that triggers each.
const ELSEWHERE: &[(Code, &str)] = &[
    (Code::XL041, "cli.rs"),
    (Code::XL042, "cli.rs"),
    (Code::XL043, "cli.rs"),
    (Code::XL044, "cli.rs"),
    (Code::XL046, "cli.rs"),
    (Code::XL047, "cli.rs"),
    (Code::XL048, "cli.rs"),
    (Code::XL049, "cli.rs"),
    (Code::XL061, "cli.rs"),
    (Code::XL063, "cli.rs"),
];

#[test]
fn every_code_is_triggered_by_its_minimal_tree() {
    let mut missed = Vec::new();
    for (code, files) in cases() {
        let dir = tempfile::tempdir().unwrap();
        base_tree(dir.path());
        for (path, text) in &files {
            write_below(dir.path(), path, text);
        }
        let out = xinetd_lint()
            .args(["--severity", "info", "--format", "json", "--root"])
            .arg(dir.path())
            .output()
            .unwrap();
        let codes = json_finding_codes(&out.stdout);
        if !codes.iter().any(|c| c == code.as_str()) {
            missed.push(format!("{code}: got {codes:?}"));
        }
    }
    assert!(missed.is_empty(), "not triggered:\n{}", missed.join("\n"));
}

#[test]
fn every_code_has_an_explanation_and_a_trigger() {
    let tabled: Vec<Code> = cases().into_iter().map(|(code, _)| code).collect();
    let tests = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    for code in Code::ALL {
        let rule = code.rule();
        assert!(rule.explain.len() > 40, "{code} explains too little");
        if tabled.contains(code) {
            continue;
        }
        let Some((_, file)) = ELSEWHERE.iter().find(|(c, _)| c == code) else {
            panic!("{code} has no row in the table and no test named in ELSEWHERE");
        };
        let text = std::fs::read_to_string(tests.join(file)).unwrap();
        assert!(
            text.contains(&format!("\"{code}\"")),
            "{file} does not check {code}"
        );
    }
}
