//! Debian's real xinetd as the oracle: for every corpus file and for our own
//! cases, the services xinetd starts must be exactly the ones
//! `xinetd-lint --services` calls active.
//!
//! xinetd runs in a private network namespace (`unshare -n`, only `lo`), in
//! debug mode under `script` (it logs to /dev/tty), and is stopped by its
//! process group as soon as it says `Started working` (reference §7).  Our
//! tool runs in a namespace of its own too, so host names fail to resolve
//! for both alike.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

mod support;
use support::{StopXinetd, json_active_ids, lint_services_in_private_netns, xinetd_startup};

fn available() -> bool {
    support::xinetd_oracle_available("xinetd oracle test")
}

/// The ids xinetd started for this configuration file, and its log.
fn xinetd_started(conf: &Path, scratch: &Path) -> (BTreeSet<String>, String) {
    let pidfile = scratch.join(format!(
        "{}.pid",
        conf.file_name().unwrap().to_string_lossy()
    ));
    let run = xinetd_startup(conf, &pidfile, 60, "", StopXinetd::ProcessGroup);
    (run.started.into_iter().collect(), run.log)
}

/// The ids we call active.
fn lint_active(conf: &Path) -> BTreeSet<String> {
    let out = lint_services_in_private_netns(conf, "");
    assert!(
        out.status.code().is_some_and(|c| c < 2),
        "xinetd-lint failed on {}: {}",
        conf.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    json_active_ids(&out.stdout).into_iter().collect()
}

fn corpus() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/xinetd.d");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| !p.to_string_lossy().ends_with(".tsv"))
        .collect();
    files.sort();
    files
}

/// Rewrites a file so the host does not decide: a missing server becomes
/// /bin/true, a missing user or group becomes root, `disable = yes` is
/// flipped.  Everything else stays byte for byte.
fn stubbed(text: &[u8]) -> Vec<u8> {
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    let group = std::fs::read_to_string("/etc/group").unwrap_or_default();
    let known = |table: &str, name: &str| table.lines().any(|l| l.split(':').next() == Some(name));
    let mut out = Vec::new();
    for (i, line) in text.split(|b| *b == b'\n').enumerate() {
        if i > 0 {
            out.push(b'\n');
        }
        let s = String::from_utf8_lossy(line);
        let words: Vec<&str> = s.split([' ', '\t']).filter(|w| !w.is_empty()).collect();
        let replaced = match words.as_slice() {
            [name, "=", value]
                if name.eq_ignore_ascii_case("server") && !Path::new(value).exists() =>
            {
                Some("\tserver = /bin/true".to_string())
            }
            [name, "=", value]
                if name.eq_ignore_ascii_case("user")
                    && !value.bytes().all(|b| b.is_ascii_digit())
                    && !known(&passwd, value) =>
            {
                Some("\tuser = root".into())
            }
            [name, "=", value]
                if name.eq_ignore_ascii_case("group")
                    && !value.bytes().all(|b| b.is_ascii_digit())
                    && !known(&group, value) =>
            {
                Some("\tgroup = root".into())
            }
            [name, "=", value]
                if name.eq_ignore_ascii_case("disable") && value.eq_ignore_ascii_case("yes") =>
            {
                Some("\tdisable = no".into())
            }
            _ => None,
        };
        match replaced {
            Some(r) => out.extend_from_slice(r.as_bytes()),
            None => out.extend_from_slice(line),
        }
    }
    out
}

/// Compares xinetd and us on every file, eight at a time (xinetd mostly waits).
fn compare_all(files: Vec<PathBuf>) {
    let scratch = tempfile::tempdir().unwrap();
    let queue = std::sync::Mutex::new(files);
    let failures = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..8 {
            scope.spawn(|| {
                loop {
                    let Some(file) = queue.lock().unwrap().pop() else { break };
                    let (started, log) = xinetd_started(&file, scratch.path());
                    let ours = lint_active(&file);
                    if started != ours {
                        failures.lock().unwrap().push(format!("{}:\n  xinetd started {started:?}\n  xinetd-lint active {ours:?}\n{log}", file.display()));
                    }
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    assert!(
        failures.is_empty(),
        "{} files disagree:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn corpus_as_is() {
    if !available() {
        return;
    }
    let files = corpus();
    assert!(files.len() >= 80);
    compare_all(files);
}

#[test]
fn corpus_with_servers_users_and_disable_stubbed() {
    if !available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    let mut active_somewhere = 0;
    for file in corpus() {
        let path = dir.path().join(file.file_name().unwrap());
        std::fs::write(&path, stubbed(&std::fs::read(&file).unwrap())).unwrap();
        if !lint_active(&path).is_empty() {
            active_somewhere += 1;
        }
        files.push(path);
    }
    // The stubbing must have done its job, or this test proves little.
    assert!(
        active_somewhere >= 50,
        "only {active_somewhere} stubbed files have an active service"
    );
    compare_all(files);
}

/// Our own cases: one file each, every shape xinetd treats specially.
const CASES: &[(&str, &str)] = &[
    (
        "valid-external",
        "service rsync\n{\n\tsocket_type = stream\n\twait = no\n\tuser = root\n\tserver = /bin/true\n}\n",
    ),
    (
        "valid-internal",
        "service echo\n{\n\ttype = INTERNAL\n\tid = echo-stream\n\tsocket_type = stream\n\tprotocol = tcp\n\tuser = root\n\twait = no\n}\n",
    ),
    (
        "missing-user",
        "service rsync\n{\n\tsocket_type = stream\n\twait = no\n\tserver = /bin/true\n}\n",
    ),
    (
        "no-space-before-op",
        "service rsync\n{\n\tsocket_type = stream\n\twait=no\n\tuser = root\n\tserver = /bin/true\n}\n",
    ),
    (
        "bad-operator-eats-next",
        "service rsync\n{\n\tsocket_type = stream\n\twait = no\n\tuser = root\n\tserver = /bin/true\n} # end\nservice echo\n{\n\ttype = INTERNAL\n\tsocket_type = stream\n\tuser = root\n\twait = no\n}\n",
    ),
    (
        "trailing-comment-limit",
        "service rsync\n{\n\tsocket_type = stream\n\twait = no\n\tuser = root\n\tserver = /bin/true\n\tper_source = 10 # limit\n}\n",
    ),
    (
        "trailing-comment-server",
        "service rsync\n{\n\tsocket_type = stream\n\twait = no\n\tuser = root\n\tserver = /bin/true # the daemon\n}\n",
    ),
    (
        "value-error",
        "service rsync\n{\n\tsocket_type = stream\n\twait = maybe\n\tuser = root\n\tserver = /bin/true\n}\n",
    ),
    (
        "value-error-then-enabled",
        "service rsync\n{\n\tsocket_type = stream\n\twait = no\n\tuser = root\n\tserver = /bin/true\n\tonly_from = 10.0.0.1,10.0.0.2\n\tdisable = no\n}\n",
    ),
    (
        "access-times-24",
        "service rsync\n{\n\tsocket_type = stream\n\twait = no\n\tuser = root\n\tserver = /bin/true\n\taccess_times = 12:00-24:00\n}\n",
    ),
    (
        "disable-yes",
        "service rsync\n{\n\tdisable = yes\n\tsocket_type = stream\n\twait = maybe\n}\n",
    ),
    (
        "duplicate-no-bind",
        "service rsync\n{\n\tsocket_type = stream\n\twait = no\n\tuser = root\n\tserver = /bin/true\n}\nservice rsync\n{\n\tid = rsync2\n\tsocket_type = stream\n\twait = no\n\tuser = root\n\tserver = /bin/true\n}\n",
    ),
    (
        "duplicate-with-bind",
        "service rsync\n{\n\tsocket_type = stream\n\twait = no\n\tuser = root\n\tserver = /bin/true\n\tbind = 127.0.0.1\n}\nservice rsync\n{\n\tsocket_type = stream\n\twait = no\n\tuser = root\n\tserver = /bin/true\n\tbind = 127.0.0.1\n}\n",
    ),
    (
        "port-mismatch",
        "service rsync\n{\n\tsocket_type = stream\n\twait = no\n\tuser = root\n\tserver = /bin/true\n\tport = 8873\n}\n",
    ),
    (
        "unlisted-ok",
        "service rsync-alt\n{\n\ttype = UNLISTED\n\tport = 8873\n\tsocket_type = stream\n\twait = no\n\tuser = root\n\tserver = /bin/true\n}\n",
    ),
    (
        "unlisted-no-port",
        "service rsync-alt\n{\n\ttype = UNLISTED\n\tsocket_type = stream\n\twait = no\n\tuser = root\n\tserver = /bin/true\n}\n",
    ),
    (
        "not-in-services",
        "service mysqlchk\n{\n\tport = 9200\n\tsocket_type = stream\n\twait = no\n\tuser = root\n\tserver = /bin/true\n}\n",
    ),
    (
        "upper-case-protocol",
        "service rsync\n{\n\tsocket_type = stream\n\tprotocol = TCP\n\twait = no\n\tuser = root\n\tserver = /bin/true\n}\n",
    ),
    (
        "case-insensitive-enums",
        "service rsync\n{\n\tSocket_Type = STREAM\n\tWAIT = No\n\tuser = root\n\tserver = /bin/true\n}\n",
    ),
    (
        "no-such-internal",
        "service servers\n{\n\ttype = INTERNAL UNLISTED\n\tport = 9099\n\tprotocol = tcp\n\tsocket_type = stream\n\twait = no\n}\n",
    ),
    (
        "missing-brace",
        "service rsync {\n\tsocket_type = stream\n\twait = no\n\tuser = root\n\tserver = /bin/true\n}\n",
    ),
    (
        "typo-keyword",
        "servce rsync\n{\n\tsocket_type = stream\n\twait = no\n\tuser = root\n\tserver = /bin/true\n}\nservice echo\n{\n\ttype = INTERNAL\n\tsocket_type = stream\n\tuser = root\n\twait = no\n}\n",
    ),
    (
        "crlf",
        "service rsync\r\n{\r\n\tsocket_type = stream\r\n\twait = no\r\n\tuser = root\r\n\tserver = /bin/true\r\n}\r\n",
    ),
    (
        "bom",
        "\u{feff}service rsync\n{\n\tsocket_type = stream\n\twait = no\n\tuser = root\n\tserver = /bin/true\n}\n",
    ),
    (
        "incomplete",
        "service rsync\n{\n\tsocket_type = stream\n\twait = no\n\tuser = root\n\tserver = /bin/true\n",
    ),
    (
        "attribute-twice",
        "service rsync\n{\n\tsocket_type = stream\n\twait = no\n\twait = maybe\n\tuser = root\n\tserver = /bin/true\n}\n",
    ),
    (
        "plus-equals-single",
        "service rsync\n{\n\tsocket_type = stream\n\twait = no\n\tuser = root\n\tuser += nobody\n\tserver = /bin/true\n}\n",
    ),
    (
        "unknown-and-mdns",
        "service rsync\n{\n\tsocket_type = stream\n\twait = no\n\tuser = root\n\tserver = /bin/true\n\tmdns = yes\n\tfrobnicate = 1\n}\n",
    ),
    (
        "defaults-lists",
        "defaults\n{\n\tdisabled = rsync\n}\nservice rsync\n{\n\tsocket_type = stream\n\twait = no\n\tuser = root\n\tserver = /bin/true\n}\nservice echo\n{\n\ttype = INTERNAL\n\tsocket_type = stream\n\tuser = root\n\twait = no\n}\n",
    ),
    (
        "only-from-empty",
        "service rsync\n{\n\tsocket_type = stream\n\twait = no\n\tuser = root\n\tserver = /bin/true\n\tonly_from =\n}\n",
    ),
    (
        "traffic-no-redirect",
        "service rsync\n{\n\tsocket_type = stream\n\twait = no\n\tuser = root\n\tserver = /bin/true\n\tlog_on_success += TRAFFIC\n}\n",
    ),
    (
        "relative-server",
        "service rsync\n{\n\tsocket_type = stream\n\twait = no\n\tuser = root\n\tserver = true\n}\n",
    ),
    (
        "dgram-nowait",
        "service echo\n{\n\ttype = INTERNAL\n\tsocket_type = dgram\n\twait = no\n\tuser = root\n}\n",
    ),
    (
        "protocol-only",
        "service rsync\n{\n\tprotocol = tcp\n\twait = no\n\tuser = root\n\tserver = /bin/true\n}\n",
    ),
    (
        "redirect",
        "service rsync\n{\n\tsocket_type = stream\n\twait = no\n\tuser = root\n\tredirect = 127.0.0.1 8873\n}\n",
    ),
    (
        "stray-close",
        "service rsync\n{\n\tsocket_type = stream\n\twait = no\n\tuser = root\n\tserver = /bin/true\n}\n}\n",
    ),
];

#[test]
fn own_cases() {
    if !available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let files = CASES
        .iter()
        .map(|(name, text)| {
            let path = dir.path().join(name);
            std::fs::write(&path, text).unwrap();
            path
        })
        .collect();
    compare_all(files);
}
