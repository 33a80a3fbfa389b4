//! maillog-grep through its real interface: grep's conventions, the issue's
//! options, exit codes and JSON fields.

mod common;

use std::fs;

use common::*;
use predicates::prelude::*;

const DOVECOT_FATAL: &str = "Nov 26 08:02:19 mail1 dovecot: imap(dave)<1><s>: Fatal: Time just moved backwards by 55.289767 seconds. This might cause a lot of problems, so I'll just kill myself now.";
const NTPD_STEP: &str = "Nov 26 08:02:14 mail1 ntpd[752]: 0.0.0.0 c61c 0c clock_step -55.289767 s";
const NOISE: &str = "Nov 26 08:02:20 mail1 postfix/qmgr[5]: 2564FF6D7EB: removed";

fn log(lines: &[&str]) -> String {
    lines.iter().map(|l| format!("{l}\n")).collect()
}

/// `maillog-grep ARGS -`, reading `input` from stdin.
fn on_stdin(args: &[&str], input: impl AsRef<[u8]>) -> assert_cmd::Command {
    let mut c = cmd();
    c.args(args).arg("-").write_stdin(input.as_ref());
    c
}

#[test]
fn help_version_and_grep_letters() {
    cmd()
        .arg("--help")
        .assert()
        .success()
        .stdout(predicate::str::contains("--no-filename"));
    cmd()
        .arg("--version")
        .assert()
        .success()
        .stdout(predicate::str::starts_with("maillog-grep "));
    cmd().arg("--bogus").assert().code(2);
    // -h is grep's --no-filename, not help.
    let dir = tempfile::tempdir().unwrap();
    for name in ["a", "b"] {
        fs::write(dir.path().join(name), log(&[DOVECOT_FATAL])).unwrap();
    }
    cmd()
        .arg("-h")
        .arg(dir.path().join("a"))
        .arg(dir.path().join("b"))
        .assert()
        .success()
        .stdout(format!("{DOVECOT_FATAL}\n{DOVECOT_FATAL}\n"));
}

#[test]
fn exit_0_found_1_none_quiet_on_none() {
    cmd()
        .arg("-")
        .write_stdin(log(&[NOISE, DOVECOT_FATAL]))
        .assert()
        .code(0)
        .stdout(format!("{DOVECOT_FATAL}\n"))
        .stderr("");
    cmd()
        .arg("-")
        .write_stdin(log(&[NOISE]))
        .assert()
        .code(1)
        .stdout("")
        .stderr("");
    cmd().arg("-").write_stdin("").assert().code(1).stdout("");
}

#[test]
fn line_numbers_names_counts_lists_and_quiet() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.log");
    let b = dir.path().join("b.log");
    fs::write(&a, log(&[NOISE, NTPD_STEP, DOVECOT_FATAL])).unwrap();
    fs::write(&b, log(&[NOISE])).unwrap();
    let (a_s, b_s) = (a.display().to_string(), b.display().to_string());
    cmd()
        .arg("-n")
        .arg(&a)
        .assert()
        .code(0)
        .stdout(format!("2:{NTPD_STEP}\n3:{DOVECOT_FATAL}\n"));
    cmd()
        .arg("-H")
        .arg(&a)
        .assert()
        .stdout(predicate::str::starts_with(format!("{a_s}:{NTPD_STEP}")));
    cmd()
        .arg("-c")
        .arg(&a)
        .arg(&b)
        .assert()
        .code(0)
        .stdout(format!("{a_s}:2\n{b_s}:0\n"));
    cmd()
        .arg("-l")
        .arg(&a)
        .arg(&b)
        .assert()
        .code(0)
        .stdout(format!("{a_s}\n"));
    cmd().arg("-q").arg(&a).assert().code(0).stdout("");
    cmd().arg("-q").arg(&b).assert().code(1).stdout("");
}

#[test]
fn json_lines_have_the_documented_fields() {
    let out = on_stdin(
        &["--format", "json", "--year", "2026"],
        log(&[NTPD_STEP, DOVECOT_FATAL]),
    )
    .output()
    .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let rows = json_lines(&out.stdout);
    assert_eq!(rows.len(), 2);
    for row in &rows {
        for field in [
            "file",
            "line",
            "timestamp",
            "host",
            "program",
            "pid",
            "source",
            "kind",
            "seconds",
            "fatal",
            "text",
        ] {
            assert!(row.get(field).is_some(), "{field} missing: {row}");
        }
    }
    assert_eq!(rows[0]["source"], "ntpd");
    assert_eq!(rows[0]["pid"], 752);
    assert_eq!(rows[1]["file"], "(standard input)");
    assert_eq!(rows[1]["line"], 2);
    assert_eq!(rows[1]["timestamp"], "2026-11-26T08:02:19");
    assert_eq!(rows[1]["host"], "mail1");
    assert_eq!(rows[1]["program"], "dovecot");
    assert_eq!(rows[1]["pid"], serde_json::Value::Null);
    assert_eq!(rows[1]["kind"], "backward");
    assert_eq!(rows[1]["seconds"], 55.289767);
    assert_eq!(rows[1]["fatal"], true);
    assert_eq!(rows[1]["text"], DOVECOT_FATAL);
    // An offset in the log is kept in the timestamp.
    let out = cmd().args(["--format", "json", "-"]).write_stdin("2021-01-10T04:06:34.123456+09:00 mx1 dovecot: imap(bob)<4711><S>: Fatal: Time just moved backwards by 17.402113 seconds.\n").output().unwrap();
    assert_eq!(
        json_lines(&out.stdout)[0]["timestamp"],
        "2021-01-10T04:06:34.123456+09:00"
    );
}

#[test]
fn repeats_count_n_more_of_the_previous_event() {
    let input = log(&[
        "Nov 26 08:02:19 mail1 dovecot: master: Warning: Time moved backwards by 3 seconds, waiting for 4 secs until new services are launched again.",
        "Nov 26 08:02:19 mail1 syslogd: last message repeated 3 times",
        NOISE,
        "Nov 26 08:02:21 mail1 syslogd: last message repeated 9 times",
        "2025-01-01T10:46:23.981523+09:00 mx rsyslogd:  message repeated 5 times: [dovecot: imap(a): Fatal: Time just moved backwards by 8 seconds.]",
    ]);
    on_stdin(&["-c"], &input).assert().code(0).stdout("9\n");
    let out = on_stdin(&["--format", "json"], &input).output().unwrap();
    let counts: Vec<u64> = json_lines(&out.stdout)
        .iter()
        .map(|o| o["count"].as_u64().unwrap())
        .collect();
    assert_eq!(counts, [1, 3, 5]);
}

#[test]
fn quoted_words_in_mail_are_not_events() {
    let input = log(&[
        "Nov 26 08:02:19 mail1 postfix/cleanup[9]: 4F3: warning: header Subject: Time just moved backwards by 54 seconds from a[1.2.3.4]",
        "Nov 26 08:02:19 mail1 dovecot: imap(bob): copy from INBOX: box=Sent, subject=Time moved backwards by 3 seconds",
    ]);
    on_stdin(&["--all"], &input).assert().code(1).stdout("");
}

#[test]
fn nul_bytes_and_invalid_utf8_never_hide_a_match() {
    let mut input = b"\0\0\0garbage\xff\xfe\n".to_vec();
    input.extend_from_slice(DOVECOT_FATAL.as_bytes());
    input.extend_from_slice(b"\n\0\0\xc3\x28 more \0\n");
    input.extend_from_slice(NTPD_STEP.as_bytes());
    input.extend_from_slice(b"\x00\n");
    let out = on_stdin(&["-c"], &input).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "2\n");
    let out = cmd().args(["-"]).write_stdin(input).output().unwrap();
    assert!(
        out.stdout.windows(3).any(|w| w == b"s\0\n"),
        "the raw line is printed as it is"
    );
}

#[test]
fn a_10_mb_line_and_an_empty_file() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big");
    let mut text = "x".repeat(10 * 1024 * 1024);
    text.push('\n');
    text.push_str(DOVECOT_FATAL);
    text.push('\n');
    fs::write(&big, text).unwrap();
    cmd()
        .args(["-n"])
        .arg(&big)
        .assert()
        .code(0)
        .stdout(format!("2:{DOVECOT_FATAL}\n"));
    let empty = dir.path().join("empty");
    fs::write(&empty, "").unwrap();
    cmd().arg(&empty).assert().code(1).stdout("").stderr("");
}

#[test]
fn default_path_under_root() {
    let dir = tempfile::tempdir().unwrap();
    cmd()
        .arg("--root")
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no log to read"));
    fs::create_dir_all(dir.path().join("var/log")).unwrap();
    fs::write(dir.path().join("var/log/mail.log"), log(&[DOVECOT_FATAL])).unwrap();
    cmd()
        .arg("--root")
        .arg(dir.path())
        .assert()
        .code(0)
        .stdout(format!("{DOVECOT_FATAL}\n"));
    fs::write(dir.path().join("var/log/maillog"), log(&[NOISE])).unwrap();
    cmd().arg("--root").arg(dir.path()).assert().code(1);
}

#[test]
fn rotated_siblings_oldest_first() {
    if !have("bzip2") || !have("gzip") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let logdir = dir.path().join("var/log");
    fs::create_dir_all(&logdir).unwrap();
    for (name, day) in [("maillog.1", 24), ("maillog.0", 25), ("maillog", 26)] {
        fs::write(
            logdir.join(name),
            log(&[&DOVECOT_FATAL.replace("Nov 26", &format!("Nov {day}"))]),
        )
        .unwrap();
    }
    let one = compress("bzip2", &logdir.join("maillog.1"));
    fs::remove_file(logdir.join("maillog.1")).unwrap();
    let zero = compress("gzip", &logdir.join("maillog.0"));
    fs::remove_file(logdir.join("maillog.0")).unwrap();
    let out = cmd()
        .args(["--rotated", "-c", "--root"])
        .arg(dir.path())
        .output()
        .unwrap();
    let listed: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(String::from)
        .collect();
    assert_eq!(
        listed,
        [
            format!("{}:1", one.display()),
            format!("{}:1", zero.display()),
            format!("{}:1", logdir.join("maillog").display())
        ]
    );
    // Without --rotated only the live file.
    cmd()
        .args(["-c", "--root"])
        .arg(dir.path())
        .assert()
        .stdout("1\n");
}

#[test]
fn directories_are_walked() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir_all(dir.path().join("hosts/mx1")).unwrap();
    fs::write(dir.path().join("hosts/mx1/mail.log"), log(&[DOVECOT_FATAL])).unwrap();
    fs::write(dir.path().join("hosts/other.log"), log(&[NOISE])).unwrap();
    cmd()
        .arg("-l")
        .arg(dir.path())
        .assert()
        .code(0)
        .stdout(format!(
            "{}\n",
            dir.path().join("hosts/mx1/mail.log").display()
        ));
}

#[test]
fn errors_do_not_stop_the_other_files() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good");
    fs::write(&good, log(&[DOVECOT_FATAL])).unwrap();
    let missing = dir.path().join("missing");
    cmd()
        .arg(&missing)
        .arg(&good)
        .assert()
        .code(2)
        .stdout(format!("{}:{DOVECOT_FATAL}\n", good.display()))
        .stderr(predicate::str::starts_with(format!(
            "maillog-grep: {}: ",
            missing.display()
        )));
    // -q and a match: success despite the error (grep's rule).
    cmd().arg("-q").arg(&missing).arg(&good).assert().code(0);
}

#[test]
fn since_and_until_use_the_time_inside_the_log() {
    let input = log(&[
        "2026-11-20T10:00:00+00:00 mx dovecot: imap(a): Fatal: Time just moved backwards by 8 seconds.",
        "2026-11-27T10:00:00+00:00 mx dovecot: imap(b): Fatal: Time just moved backwards by 9 seconds.",
    ]);
    on_stdin(&["-c", "--since", "2026-11-25"], &input)
        .assert()
        .stdout("1\n");
    on_stdin(&["-c", "--until", "2026-11-25"], &input)
        .assert()
        .stdout("1\n");
    on_stdin(&["-c", "--since", "2026-11-27T11:00:00+01:00"], &input)
        .assert()
        .stdout("1\n");
    on_stdin(&["-c", "--since", "2026-11-28"], &input)
        .assert()
        .code(1)
        .stdout("0\n");
    on_stdin(&["--since", "next tuesday"], &input)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not a date"));
}

#[test]
fn summary_finds_the_step_behind_each_dovecot_event() {
    let input = log(&[
        NTPD_STEP,
        DOVECOT_FATAL,
        "Nov 26 12:00:00 mail1 dovecot: master: Warning: Time moved backwards by 14638 seconds, waiting for 180 secs until new services are launched again.",
    ]);
    let out = on_stdin(&["--summary", "--year", "2026"], &input)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        text.contains("host mail1: 3 events, 1 dovecot deaths"),
        "{text}"
    );
    assert!(text.contains("dovecot died: 55.289767 s back <- ntpd step backward 55.289767 s at 2026-11-26T08:02:14"), "{text}");
    assert!(
        text.contains("dovecot saw: 14638 s back <- no step source found within 120 s"),
        "{text}"
    );
    let out = cmd()
        .args([
            "--summary",
            "--format",
            "json",
            "--window",
            "10",
            "--year",
            "2026",
            "-",
        ])
        .write_stdin(input)
        .output()
        .unwrap();
    let host = &json_lines(&out.stdout)[0];
    assert_eq!(host["host"], "mail1");
    assert_eq!(host["dovecot_deaths"], 1);
    assert_eq!(host["largest_jump"]["seconds"], 14638.0);
    assert_eq!(host["causes"][0]["step"]["source"], "ntpd");
    assert_eq!(host["causes"][0]["step"]["before"], 5.0);
    assert_eq!(host["causes"][1]["step"], serde_json::Value::Null);
}

#[test]
fn a_closed_pipe_is_a_quiet_success() {
    use std::io::Read;
    use std::process::{Command, Stdio};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.log");
    fs::write(&path, log(&[DOVECOT_FATAL]).repeat(100_000)).unwrap();
    let mut child = Command::new(assert_cmd::cargo::cargo_bin!("maillog-grep"))
        .arg(&path)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 64];
    stdout.read_exact(&mut first).unwrap();
    drop(stdout);
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(child.wait().unwrap().success(), "{stderr}");
    assert_eq!(stderr, "");
}

#[test]
fn a_big_plain_file_searched_in_parts_finds_every_event_once() {
    // Over the split size, so both threads search parts of it.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.log");
    let mut text = String::with_capacity(70 << 20);
    let mut expected = 0;
    let mut i = 0u64;
    while text.len() < 70 << 20 {
        text.push_str(NOISE);
        text.push('\n');
        if i.is_multiple_of(997) {
            text.push_str(DOVECOT_FATAL);
            text.push('\n');
            expected += 1;
        }
        i += 1;
    }
    fs::write(&path, &text).unwrap();
    for threads in ["1", "2", "3"] {
        cmd()
            .args(["-c", "-j", threads])
            .arg(&path)
            .assert()
            .code(0)
            .stdout(format!("{expected}\n"));
    }
}

/// A log big enough to be searched in parts on several threads (48 MiB),
/// with an event and its repeat every 9,973 lines and a 3 MiB line across
/// two parts; `overlong_at` puts a line longer than the 16 MiB maillog-grep
/// keeps of a line at about that offset.
/// Returns the expected line numbers of the events and repeats.
fn big_log(path: &std::path::Path, overlong_at: Option<usize>) -> Vec<u64> {
    let repeat = "Nov 26 08:02:19 mail1 syslogd: last message repeated 2 times";
    let mut text = String::new();
    let mut expected_lines = Vec::new();
    let mut line = 0u64;
    let mut overlong_at = overlong_at;
    let mut long_done = false;
    while text.len() < 48 << 20 {
        line += 1;
        if text.len() >= (47 << 19) && !long_done {
            // 3 MiB across the boundary of two 8 MiB parts, longer than the
            // 1 MiB a mapped part looks past its end: that part is read.
            long_done = true;
            text.push_str(&"y".repeat(3 << 20));
        } else if overlong_at.is_some_and(|at| text.len() >= at) {
            overlong_at = None;
            // Its event words are past the part that is searched.
            text.push_str(&"x".repeat(17 << 20));
            text.push_str(" Fatal: Time just moved backwards by 1 seconds");
        } else if line.is_multiple_of(9_973) {
            text.push_str(DOVECOT_FATAL);
            expected_lines.push(line);
            text.push('\n');
            line += 1;
            text.push_str(repeat);
            expected_lines.push(line);
        } else {
            text.push_str(NOISE);
        }
        text.push('\n');
    }
    fs::write(path, &text).unwrap();
    expected_lines
}

/// On one thread or several, in parts or whole, every event, repeat and
/// line number is the same, and as counted here.
#[test]
fn a_big_file_in_parts_gives_the_same_events_and_line_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("maillog");
    for overlong_at in [None, Some(10 << 20)] {
        let expected_lines = big_log(&path, overlong_at);
        let expected_count = expected_lines.len() / 2 * 3;
        let code = if overlong_at.is_some() { 2 } else { 0 };
        for threads in ["1", "2", "3"] {
            let out = cmd()
                .args(["-j", threads, "--format", "json"])
                .arg(&path)
                .output()
                .unwrap();
            assert_eq!(out.status.code(), Some(code));
            if overlong_at.is_some() {
                let stderr = String::from_utf8_lossy(&out.stderr);
                assert!(stderr.contains("longer than 16 MiB"), "{stderr}");
            }
            let rows = json_lines(&out.stdout);
            let lines: Vec<u64> = rows.iter().map(|o| o["line"].as_u64().unwrap()).collect();
            assert_eq!(lines, expected_lines, "-j {threads}");
            let counts: u64 = rows.iter().map(|o| o["count"].as_u64().unwrap()).sum();
            assert_eq!(counts as usize, expected_count, "-j {threads}");
            cmd()
                .args(["-j", threads, "-c"])
                .arg(&path)
                .assert()
                .code(code)
                .stdout(format!("{expected_count}\n"));
        }
    }
}

/// `-A`, `-B`, `-C` print what GNU grep prints for the same lines: the
/// same context lines, `-` and `:` separators and `--` between groups, also
/// across files.  Compressed files give the same lines.
#[test]
fn context_lines_as_grep_prints_them() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.log");
    let b = dir.path().join("b.log");
    fs::copy(fixture("logs/sample-maillog-bsd.log"), &a).unwrap();
    fs::copy(fixture("logs/variants.log"), &b).unwrap();
    // The event lines, as patterns for grep.
    let events = cmd()
        .args(["--year", "2025", "-h"])
        .args([&a, &b])
        .output()
        .unwrap();
    let patterns = dir.path().join("patterns");
    fs::write(&patterns, &events.stdout).unwrap();
    assert!(events.stdout.len() > 1000);
    for opts in [
        &["-n", "-B2", "-A1"][..],
        &["-C3"],
        &["-h", "-n", "-A2"],
        &["-B1"],
    ] {
        let ours = cmd()
            .args(["--year", "2025"])
            .args(opts)
            .args([&a, &b])
            .output()
            .unwrap();
        assert_eq!(ours.status.code(), Some(0));
        assert_eq!(String::from_utf8_lossy(&ours.stderr), "");
        let grep = std::process::Command::new("grep")
            .args(opts)
            .args(["-x", "-F", "-f"])
            .arg(&patterns)
            .args([&a, &b])
            .output()
            .unwrap();
        assert!(
            grep.stdout.windows(3).any(|w| w == b"\n--"),
            "groups in {opts:?}"
        );
        assert_eq!(
            String::from_utf8_lossy(&ours.stdout),
            String::from_utf8_lossy(&grep.stdout),
            "{opts:?}"
        );
    }
    let plain = cmd()
        .args(["--year", "2025", "-h", "-n", "-C2"])
        .arg(&b)
        .output()
        .unwrap();
    for program in ["gzip", "zstd"] {
        if !have(program) {
            continue;
        }
        let archive = compress(program, &b);
        let out = cmd()
            .args(["--year", "2025", "-h", "-n", "-C2"])
            .arg(&archive)
            .output()
            .unwrap();
        assert_eq!(out.stdout, plain.stdout, "{program}");
    }
    // Counts, names and JSON are not changed by context options.
    for opts in [&["-c"][..], &["-l"], &["--format", "json"], &["--summary"]] {
        let run = |context: &[&str]| {
            cmd()
                .args(["--year", "2025"])
                .args(opts)
                .args(context)
                .args([&a, &b])
                .output()
                .unwrap()
        };
        let (with, without) = (run(&["-C5"]), run(&[]));
        assert_eq!(with.stdout, without.stdout, "{opts:?}");
        assert_eq!(with.status.code(), Some(0), "{opts:?}");
    }
}

/// Standard input is read once: its events are printed without context,
/// and stderr says so; that is not an error.
#[test]
fn context_on_standard_input_prints_the_events_and_says_why() {
    let input = log(&[NOISE, NTPD_STEP, NOISE, DOVECOT_FATAL, NOISE]);
    let out = on_stdin(&["-C1"], &input).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        log(&[NTPD_STEP, DOVECOT_FATAL])
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("without the lines around them"), "{stderr}");
}

#[test]
fn more_files_than_the_open_file_limit() {
    // A log server's directory may hold thousands of logs: only a few are
    // open at once, so a low `ulimit -n` does not lose any of them.
    let dir = tempfile::tempdir().unwrap();
    for i in 0..300 {
        let lines = vec![DOVECOT_FATAL; i % 3 + 1];
        fs::write(dir.path().join(format!("{i:03}.log")), log(&lines)).unwrap();
    }
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(r#"ulimit -n 48 && exec "$0" -c "$1""#)
        .arg(assert_cmd::cargo::cargo_bin!("maillog-grep"))
        .arg(dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_eq!(stderr, "");
    let counts: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    let expected: Vec<String> = (0..300)
        .map(|i| {
            format!(
                "{}:{}",
                dir.path().join(format!("{i:03}.log")).display(),
                i % 3 + 1
            )
        })
        .collect();
    assert_eq!(counts, expected);
}

#[test]
fn quiet_stops_at_the_first_event_of_an_endless_stream() {
    // grep -q's contract: it answers as soon as it knows.  The stream never
    // ends, so waiting for its end would never answer (`timeout` makes
    // that a failure, 124, rather than a hung test).
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(r#"yes "$1" | timeout 60 "$0" -q -"#)
        .arg(assert_cmd::cargo::cargo_bin!("maillog-grep"))
        .arg(DOVECOT_FATAL)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty());
}

#[test]
fn memory_stays_flat_when_every_line_is_an_event() {
    // Lines and counts keep no event, nor does JSON once a line says its
    // year.  136 MB of nothing but events is searched under a 400 MiB
    // address-space limit (most of it is malloc's per-thread arenas);
    // keeping every event took over 500 MiB.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.log");
    let events = 800_000;
    fs::write(&path, log(&[DOVECOT_FATAL]).repeat(events)).unwrap();
    for (how, script) in [
        ("in parts", r#"ulimit -v 409600 && exec "$0" -j 2 -c "$1""#),
        (
            "whole, as a stream",
            r#"ulimit -v 409600 && exec "$0" -j 2 -c - < "$1""#,
        ),
        (
            "printing lines",
            r#"ulimit -v 409600 && "$0" -j 2 "$1" | wc -l"#,
        ),
        (
            "JSON, with years in the log",
            r#"sed 's/^Nov 26 \(..:..:..\)/2026-11-26T\1+00:00/' "$1" > "$1.rfc" &&
               ulimit -v 409600 && "$0" -j 2 --format json "$1.rfc" | wc -l"#,
        ),
    ] {
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(script)
            .arg(assert_cmd::cargo::cargo_bin!("maillog-grep"))
            .arg(&path)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{how}: {stderr}");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(stdout.trim(), events.to_string(), "{how}: {stderr}");
    }
}

#[test]
fn a_line_with_its_year_gives_the_year_to_the_lines_before_it() {
    // Events are printed as soon as their years are known: a line that
    // says its year settles the year-less ones before it, across New Year.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mixed.log");
    fs::write(
        &path,
        log(&[
            "Dec 31 23:59:58 h dovecot: imap(a): Fatal: Time just moved backwards by 1 seconds.",
            "2026-01-01T00:00:03+00:00 h dovecot: imap(b): Fatal: Time just moved backwards by 2 seconds.",
            "Jan  1 00:00:05 h dovecot: imap(c): Fatal: Time just moved backwards by 3 seconds.",
        ]),
    )
    .unwrap();
    let out = cmd()
        .args(["--format", "json", "--year", "2026"])
        .arg(&path)
        .output()
        .unwrap();
    let stamps: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["timestamp"].clone())
        .collect();
    assert_eq!(
        stamps,
        [
            "2025-12-31T23:59:58",
            "2026-01-01T00:00:03+00:00",
            // After the last line with a year, the year is --year's.
            "2026-01-01T00:00:05",
        ]
    );
}

#[test]
fn files_with_matches_stops_reading_a_file_at_its_first_event() {
    // grep -l's contract: one event answers for the file.  An endless
    // stream shows it (`timeout` turns waiting for its end into a failure).
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(r#"yes "$1" | timeout 60 "$0" -l - "$2""#)
        .arg(assert_cmd::cargo::cargo_bin!("maillog-grep"))
        .arg(DOVECOT_FATAL)
        .arg("/dev/null")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "(standard input)\n");
    // A file searched in parts, then the files after it, still each named.
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.log");
    let mut text = log(&[DOVECOT_FATAL]);
    text.push_str(&log(&[NOISE]).repeat(600_000)); // over 32 MiB: in parts
    text.push_str(&log(&[DOVECOT_FATAL]));
    fs::write(&big, text).unwrap();
    let none = dir.path().join("none.log");
    fs::write(&none, log(&[NOISE])).unwrap();
    let last = dir.path().join("last.log");
    fs::write(&last, log(&[NOISE, DOVECOT_FATAL])).unwrap();
    for threads in ["1", "2"] {
        cmd()
            .args(["-l", "-j", threads])
            .args([&big, &none, &last, &big])
            .assert()
            .code(0)
            .stdout(format!(
                "{}\n{}\n{}\n",
                big.display(),
                last.display(),
                big.display()
            ));
    }
}
