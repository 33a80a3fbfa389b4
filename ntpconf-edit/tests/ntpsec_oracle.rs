//! NTPsec's real parser as the oracle: for every corpus file and our own
//! cases, the tinker values ntpd applies must equal what `show` predicts,
//! before and after `set`, and ntpd must report no syntax error on a line
//! the tool wrote.
//!
//! ntpd runs parse-only in a private network and mount namespace (a tmpfs
//! over /var, so `logfile` and `driftfile` lines write nowhere real),
//! without CAP_SYS_TIME, so it can never touch the clock (reference A1.4).
//! It is stopped by its PID as soon as it has printed its configuration.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use assert_cmd::cargo::cargo_bin_cmd;

mod support;
use support::watch_ntpd;

fn ntpd() -> Option<PathBuf> {
    let unpacked =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/test-tools/ntpsec/usr/sbin/ntpd");
    if unpacked.exists() && Path::new("/usr/bin/unshare").exists() {
        return Some(unpacked);
    }
    let msg = "NTPsec's ntpd is not unpacked: run scripts/install-test-deps.sh";
    mailhost_common::testing::skip("ntpsec oracle test", msg);
    None
}

/// What ntpd did with a configuration file.
#[derive(Debug, Default)]
struct OracleRun {
    /// `(loop_config item, value)` in the order ntpd applied them.
    applied: Vec<(u32, f64)>,
    /// Lines ntpd reported a syntax error on.
    error_lines: Vec<usize>,
}

fn run_oracle(ntpd: &Path, conf: &Path) -> OracleRun {
    let script = r#"mount -t tmpfs tmpfs /var && exec setpriv --bounding-set=-sys_time --inh-caps=-sys_time "$0" -n -D 2 -c "$1" 2>&1"#;
    let mut command = Command::new("unshare");
    command
        .args(["-n", "-m", "--propagation", "private", "sh", "-c", script])
        .arg(ntpd)
        .arg(conf);
    let mut run = OracleRun::default();
    let mut parsed = false;
    watch_ntpd(&mut command, |line| {
        if line.starts_with("Finished Parsing") {
            parsed = true;
        } else if line.starts_with("create_sockets") {
            return false;
        } else if let Some(rest) = line.strip_prefix("loop_config: item ") {
            let mut words = rest.split_whitespace();
            let item: u32 = words.next().unwrap().parse().unwrap();
            let value: f64 = words.nth(1).unwrap().parse().unwrap();
            run.applied.push((item, value));
        } else if let Some(at) = line.find("syntax error in ") {
            let tail = &line[at..];
            let n = tail
                .split(" line ")
                .nth(1)
                .unwrap()
                .split(',')
                .next()
                .unwrap();
            run.error_lines.push(n.trim().parse().unwrap());
        }
        true
    });
    assert!(parsed, "ntpd did not finish parsing {}", conf.display());
    run
}

fn key_of(item: u32) -> &'static str {
    match item {
        3 => "step",
        4 => "stepback",
        5 => "stepfwd",
        6 => "panic",
        7 => "dispersion",
        8 => "stepout",
        10 => "allan",
        11 => "huffpuff",
        12 => "freq",
        14 => "tick",
        other => panic!("unknown loop_config item {other}"),
    }
}

/// The final value of each key, from what ntpd applied, with the loop
/// filter's own rules (stepout raised to 300; step resets both directions
/// that were mentioned).
fn oracle_settings(run: &OracleRun) -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    let mentioned: Vec<u32> = run.applied.iter().map(|(i, _)| *i).collect();
    for (item, value) in &run.applied {
        let key = key_of(*item);
        // loop_config's own adjustments (ntp_loopfilter.c).
        let value = match key {
            "stepout" => value.max(300.0),
            "huffpuff" => value.max(900.0),
            "allan" => f64::from(*value as i32 as u8),
            "freq" => value.clamp(-500.0, 500.0),
            _ => *value,
        };
        out.insert(key.to_string(), value);
        if key == "step" {
            for (direction, item) in [("stepback", 4), ("stepfwd", 5)] {
                if mentioned.contains(&item) {
                    out.insert(direction.to_string(), value);
                }
            }
        }
    }
    out
}

fn predicted_settings(conf: &Path) -> BTreeMap<String, f64> {
    let out = cargo_bin_cmd!("ntpconf-edit")
        .args(["--dialect", "ntpsec", "--format", "json", "show"])
        .arg(conf)
        .output()
        .unwrap();
    assert!(out.status.success(), "show failed on {}", conf.display());
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            (
                v["key"].as_str().unwrap().to_string(),
                v["value"].as_f64().unwrap(),
            )
        })
        .collect()
}

/// Lines `check` says ntpd drops (NE001/NE006 errors).
fn predicted_dropped(conf: &Path) -> Vec<usize> {
    let out = cargo_bin_cmd!("ntpconf-edit")
        .args(["--dialect", "ntpsec", "--format", "json", "check"])
        .arg(conf)
        .output()
        .unwrap();
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter_map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            let code = v["code"].as_str().unwrap();
            (code == "NE001" || (code == "NE006" && v["severity"] == "error"))
                .then(|| v["line"].as_u64().unwrap() as usize)
        })
        .collect()
}

fn corpus_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/ntp.conf");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with("-ntp.conf"))
        .collect();
    files.sort();
    files
}

/// Our own cases, beyond the corpus: each line shape of reference A1.4.
const OWN_CASES: &[&str] = &[
    "tinker panic 5\ntinker panic 0\n",
    "tinker panic 0 step 0.5\ntinker stepout 60 stepback 0\n",
    "tinker stepback 0\ntinker step 0.5\n",
    "TINKER panic 1\ntinker Panic 2\ntinker panic 0 step\ntinker bogus 1\ntinker panic 0x10\n",
    "tinker panic 0;\n",
    "tinker freq -12.5 allan 11 dispersion 15 huffpuff 7200\n",
    "tinker freq 900 allan 300 huffpuff 10\n",
    "tinker panic 1e3 step .5   # comment\r\n",
    "server 127.0.0.1\nend\ntinker panic 0\n",
    "tinker panic 0 panic 5\n",
    "# leading comment\n\nserver 127.0.0.1 iburst\n",
    "tinker minpoll 4\ntinker\n",
    "\ttinker  step 0#glued\n",
];

fn check_file(ntpd: &Path, conf: &Path, scratch: &Path) {
    let before = run_oracle(ntpd, conf);
    assert_eq!(
        predicted_settings(conf),
        oracle_settings(&before),
        "show vs ntpd on {}",
        conf.display()
    );
    // Every tinker line ntpd complains about is one we predicted it drops.
    // (The reverse is checked line by line in `each_bad_shape_is_dropped`:
    // yacc's error recovery stays silent on an error right after another.)
    let dropped = predicted_dropped(conf);
    let text = String::from_utf8_lossy(&std::fs::read(conf).unwrap()).into_owned();
    let lines: Vec<&str> = text.lines().collect();
    for n in &before.error_lines {
        let line = lines.get(n - 1).copied().unwrap_or("");
        if line.trim_start().to_ascii_lowercase().starts_with("tinker") && !line.contains(';') {
            assert!(
                dropped.contains(n),
                "{}:{n}: ntpd rejects {line:?}, not predicted",
                conf.display()
            );
        }
    }

    // After `set`, ntpd must apply exactly the new values, and report no
    // error on any line that changed.
    let edited = scratch.join(conf.file_name().unwrap());
    let out = cargo_bin_cmd!("ntpconf-edit")
        .args(["--dialect", "ntpsec", "set", "panic=0", "stepback=0"])
        .arg(conf)
        .output()
        .unwrap();
    assert!(out.status.success());
    std::fs::write(&edited, &out.stdout).unwrap();
    let after = run_oracle(ntpd, &edited);
    let predicted = predicted_settings(&edited);
    assert_eq!(
        predicted,
        oracle_settings(&after),
        "show vs ntpd after set on {}",
        conf.display()
    );
    assert_eq!(predicted.get("panic"), Some(&0.0), "{}", conf.display());
    assert_eq!(predicted.get("stepback"), Some(&0.0), "{}", conf.display());
    let original = std::fs::read_to_string(conf).unwrap_or_default();
    let old_lines: Vec<&str> = original.lines().collect();
    let new_text = String::from_utf8_lossy(&out.stdout).into_owned();
    for (index, line) in new_text.lines().enumerate() {
        if !old_lines.contains(&line) {
            assert!(
                !after.error_lines.contains(&(index + 1)),
                "{}: ntpd rejects written line {line:?}",
                conf.display()
            );
        }
    }
}

#[test]
fn show_and_set_agree_with_ntpsec_on_the_corpus() {
    let Some(ntpd) = ntpd() else { return };
    let scratch = tempfile::tempdir().unwrap();
    let files = corpus_files();
    assert!(files.len() >= 40, "corpus not found");
    for conf in &files {
        check_file(&ntpd, conf, scratch.path());
    }
}

#[test]
fn show_and_set_agree_with_ntpsec_on_own_cases() {
    let Some(ntpd) = ntpd() else { return };
    let scratch = tempfile::tempdir().unwrap();
    let cases = tempfile::tempdir().unwrap();
    for (index, text) in OWN_CASES.iter().enumerate() {
        let conf = cases.path().join(format!("case{index}.conf"));
        std::fs::write(&conf, text).unwrap();
        check_file(&ntpd, &conf, scratch.path());
    }
}

/// Line shapes ntpd drops whole (reference A1.4), each between good lines so
/// yacc reports it: `check` must predict exactly that line, and nothing of it
/// may be applied.
const BAD_SHAPES: &[&str] = &[
    "TINKER panic 1",
    "Tinker panic 1",
    "tinker Panic 1",
    "tinker",
    "tinker panic",
    "tinker panic zero",
    "tinker panic 1 step",
    "tinker bogus 1",
    "tinker minpoll 4",
    "tinker panic 0x10",
    "tinker panic \"1\"",
];

#[test]
fn each_bad_shape_is_dropped() {
    let Some(ntpd) = ntpd() else { return };
    let dir = tempfile::tempdir().unwrap();
    for shape in BAD_SHAPES {
        let conf = dir.path().join("bad.conf");
        std::fs::write(&conf, format!("server 127.0.0.1\n{shape}\ntinker step 3\n")).unwrap();
        let run = run_oracle(&ntpd, &conf);
        assert_eq!(run.error_lines.first(), Some(&2), "ntpd accepted {shape:?}");
        assert_eq!(
            oracle_settings(&run),
            BTreeMap::from([("step".to_string(), 3.0)]),
            "{shape:?}"
        );
        assert_eq!(predicted_dropped(&conf), [2], "{shape:?}");
        assert_eq!(
            predicted_settings(&conf),
            oracle_settings(&run),
            "{shape:?}"
        );
    }
}
