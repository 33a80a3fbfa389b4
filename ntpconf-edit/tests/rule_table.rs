//! Every code of `check`'s registry is triggered: a table of (code, minimal
//! tree), each run through `ntpconf-edit check`, which must report that
//! code.  A new rule adds one row here.

use assert_cmd::cargo::cargo_bin_cmd;
use mailhost_common::lint::RuleCode;
use ntpconf_edit::check::Code;

/// (code, files below the root: (path, contents)).
fn cases() -> Vec<(Code, Vec<(&'static str, &'static str)>)> {
    let ntp = |text: &'static str| vec![("etc/ntp.conf", text)];
    vec![
        (Code::NE001, ntp("tinker panic\n")),
        (Code::NE002, ntp("end\ntinker panic 0\n")),
        (Code::NE003, ntp("tinker stepout 100\n")),
        (Code::NE004, ntp("tinker panic 0\ntinker panic 1\n")),
        (Code::NE005, ntp("tinker stepfwd 5\n")),
        (Code::NE006, ntp("tinker minpoll 4\n")),
        (
            Code::NE007,
            vec![
                ("etc/ntp.conf", "includefile /etc/more.conf\n"),
                ("etc/more.conf", "tinker panic 0\n"),
            ],
        ),
        (
            Code::NE008,
            vec![
                ("etc/ntp.conf", "server 192.0.2.1\ntinker step 0\n"),
                ("etc/rc.conf", "ntpdate_enable=\"YES\"\n"),
            ],
        ),
        (Code::NE009, ntp("tinker panic 0 ; step 1\n")),
        (Code::NE010, ntp("tinker stepback 5\ntinker step 10\n")),
        (Code::NE011, ntp("tinker step 0\n")),
        (Code::NE012, ntp("tinker panic 1e-400\n")),
        (
            Code::NE013,
            vec![("etc/chrony/chrony.conf", "makestep 1\n")],
        ),
        (
            Code::NE014,
            vec![("etc/chrony/chrony.conf", "makestep 1 -1\n")],
        ),
        (
            Code::NE015,
            vec![("etc/chrony/chrony.conf", "makestep 1 3\n")],
        ),
        (
            Code::NE016,
            vec![("etc/chrony/chrony.conf", "pool 192.0.2.1\n")],
        ),
        (
            Code::NE017,
            vec![("etc/systemd/timesyncd.conf", "[Time]\n")],
        ),
    ]
}

fn codes_found(files: &[(&str, &str)]) -> Vec<String> {
    let dir = mailhost_common::testing::tree(files);
    let out = cargo_bin_cmd!("ntpconf-edit")
        .env_remove("NO_COLOR")
        .args(["check", "--format", "json", "--root"])
        .arg(dir.path())
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|line| {
            let record: serde_json::Value = serde_json::from_str(line).unwrap();
            record["code"].as_str().unwrap().to_string()
        })
        .collect()
}

#[test]
fn every_code_is_triggered_by_its_minimal_tree() {
    let mut missed = Vec::new();
    for (code, files) in cases() {
        let codes = codes_found(&files);
        if !codes.iter().any(|c| c == code.as_str()) {
            missed.push(format!("{code}: got {codes:?}"));
        }
    }
    assert!(missed.is_empty(), "not triggered:\n{}", missed.join("\n"));
}

#[test]
fn every_code_has_an_explanation_and_a_row() {
    let tabled: Vec<Code> = cases().into_iter().map(|(code, _)| code).collect();
    for code in Code::ALL {
        assert!(code.rule().explain.len() > 60, "{code} explains too little");
        assert!(tabled.contains(code), "{code} has no row in the table");
    }
}

#[test]
fn list_rules_names_every_code() {
    let out = cargo_bin_cmd!("ntpconf-edit")
        .arg("--list-rules")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.lines().count(), Code::ALL.len());
    assert!(text.starts_with("NE001  error    syntax error on a tinker line"));
}
