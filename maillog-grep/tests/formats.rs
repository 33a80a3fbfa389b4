//! Every clock-event variant of reference/logs.md §1–2 in every line format,
//! compressed with the real gzip, bzip2, xz and zstd, and the year and DST
//! traps of year-less timestamps.

mod common;

use std::collections::BTreeMap;

use common::*;

type Tally = BTreeMap<(String, String, bool), u64>;

fn tally(stdout: &[u8]) -> Tally {
    let mut t = Tally::new();
    for o in json_lines(stdout) {
        let key = (
            o["source"].as_str().unwrap().to_string(),
            o["kind"].as_str().unwrap().to_string(),
            o["fatal"].as_bool().unwrap(),
        );
        *t.entry(key).or_default() += o["count"].as_u64().unwrap();
    }
    t
}

fn expected(rows: &[((&str, &str, bool), u64)]) -> Tally {
    rows.iter()
        .map(|((s, k, f), n)| ((s.to_string(), k.to_string(), *f), *n))
        .collect()
}

/// What variants.log holds, reviewed group by group against its comments:
/// ntpd panics, kernel-discipline and spike lines, slews (`time slew`,
/// `adjust time server`, `adjusting local clock`), chrony's `wrong by` without
/// `(step)`, timesyncd's sync messages, PID 1's `Time has been changed`,
/// postfix's recovery and file-system-clock lines, Hyper-V's version lines and
/// repeats of non-events are not events.
fn variants_expected() -> Tally {
    expected(&[
        (("chronyd", "backward", false), 13),
        (("chronyd", "forward", false), 10),
        // The 1.x own-log block's "Error: ... kill myself" lines count as
        // deaths: the message says so (no level word before 1.1.rc2).
        (("dovecot", "backward", false), 100),
        (("dovecot", "backward", true), 76),
        (("dovecot", "forward", false), 66),
        (("hyperv", "backward", false), 3),
        (("kernel", "step", false), 11),
        (("kernel", "unstable", false), 17),
        (("ntpd", "backward", false), 18),
        (("ntpd", "forward", false), 10),
        (("ntpdate", "backward", false), 7),
        (("ntpsec", "backward", false), 3),
        (("ntpsec", "forward", false), 5),
        (("ntpsec", "step", false), 3),
        (("openntpd", "forward", false), 1),
        (("postfix", "backward", false), 8),
        (("systemd", "step", false), 11),
        (("timesyncd", "forward", false), 11),
    ])
}

#[test]
fn every_variant_is_classified() {
    let out = cmd()
        .args(["--all", "--format", "json", "--year", "2025"])
        .arg(fixture("logs/variants.log"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(tally(&out.stdout), variants_expected());
}

#[test]
fn default_mode_reports_only_backward_jumps() {
    let out = cmd()
        .args(["--format", "json", "--year", "2025"])
        .arg(fixture("logs/variants.log"))
        .output()
        .unwrap();
    let want: Tally = variants_expected()
        .into_iter()
        .filter(|((s, k, _), _)| k == "backward" && s != "hyperv")
        .collect();
    assert_eq!(tally(&out.stdout), want);
}

/// A syslog line taken apart, to be written again in another format.
struct Parts {
    month: String,
    day: u32,
    time: String,
    host: String,
    tag: String,
    message: String,
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

fn parts(line: &str) -> Option<Parts> {
    // BSD: "Mar  4 14:34:09 host tag: msg"; RFC 3339: "2025-02-04T01:20:12.709769+09:00 host tag: msg".
    let (month, day, time, rest) = if line.as_bytes().first()?.is_ascii_digit() {
        let (stamp, rest) = line.split_once(' ')?;
        let month = MONTHS[stamp[5..7].parse::<usize>().ok()? - 1].to_string();
        (
            month,
            stamp[8..10].parse().ok()?,
            stamp[11..19].to_string(),
            rest,
        )
    } else {
        (
            line[..3].to_string(),
            line[4..6].trim().parse().ok()?,
            line[7..15].to_string(),
            &line[16..],
        )
    };
    let (host, rest) = rest.split_once(' ')?;
    let (tag, message) = rest.split_once(": ")?;
    Some(Parts {
        month,
        day,
        time,
        host: host.into(),
        tag: tag.into(),
        message: message.into(),
    })
}

fn month_number(m: &str) -> usize {
    MONTHS.iter().position(|x| *x == m).unwrap() + 1
}

/// The same line in each format a mail host writes.
fn formats(p: &Parts) -> Vec<(&'static str, String)> {
    let m = month_number(&p.month);
    let (app, pid) = match p.tag.split_once('[') {
        Some((a, rest)) => (a.to_string(), rest.trim_end_matches(']').to_string()),
        None => (p.tag.clone(), "-".to_string()),
    };
    let iso = format!("2025-{m:02}-{:02}T{}", p.day, p.time);
    let epoch = {
        let h: i64 = p.time[0..2].parse().unwrap();
        let mi: i64 = p.time[3..5].parse().unwrap();
        let s: i64 = p.time[6..8].parse().unwrap();
        let days_before =
            [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334][m - 1] + i64::from(p.day) - 1;
        1_735_689_600 + days_before * 86_400 + h * 3600 + mi * 60 + s
    };
    vec![
        (
            "bsd",
            format!(
                "{} {:>2} {} {} {}: {}",
                p.month, p.day, p.time, p.host, p.tag, p.message
            ),
        ),
        (
            "bsd -v",
            format!(
                "{} {:>2} {} <mail.crit> {} {}: {}",
                p.month, p.day, p.time, p.host, p.tag, p.message
            ),
        ),
        (
            "rfc5424",
            format!(
                "<18>1 {iso}.123456+09:00 {}.example {app} {pid} - - {}",
                p.host, p.message
            ),
        ),
        (
            "rfc3339",
            format!("{iso}.123456+09:00 {} {}: {}", p.host, p.tag, p.message),
        ),
        (
            "journal short",
            format!(
                "{} {:02} {} {} {}: {}",
                p.month, p.day, p.time, p.host, p.tag, p.message
            ),
        ),
        (
            "journal short-iso",
            format!("{iso}+0900 {} {}: {}", p.host, p.tag, p.message),
        ),
        (
            "journal short-precise",
            format!(
                "{} {:02} {}.654321 {} {}: {}",
                p.month, p.day, p.time, p.host, p.tag, p.message
            ),
        ),
        (
            "journal short-full",
            format!(
                "Tue {} {} JST {} {}: {}",
                &iso[..10],
                p.time,
                p.host,
                p.tag,
                p.message
            ),
        ),
        (
            "journal short-unix",
            format!("{epoch}.123456 {} {}: {}", p.host, p.tag, p.message),
        ),
    ]
}

#[test]
fn every_variant_in_every_line_format() {
    let text = std::fs::read_to_string(fixture("logs/variants.log")).unwrap();
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .collect();
    let converted: Vec<Parts> = lines.iter().filter_map(|l| parts(l)).collect();
    // Dovecot's own log files have no syslog prefix to convert.
    assert!(
        converted.len() >= lines.len() - 12,
        "only {} of {} lines could be converted",
        converted.len(),
        lines.len()
    );
    let mut by_format: BTreeMap<&str, String> = BTreeMap::new();
    for p in &converted {
        for (name, line) in formats(p) {
            let text = by_format.entry(name).or_default();
            text.push_str(&line);
            text.push('\n');
        }
    }
    let reference = {
        let out = cmd()
            .args(["--all", "--format", "json", "--year", "2025", "-"])
            .write_stdin(by_format["bsd"].clone())
            .output()
            .unwrap();
        tally(&out.stdout)
    };
    // The BSD rendering holds everything but the own-log lines.
    let mut want = variants_expected();
    *want
        .get_mut(&("dovecot".into(), "backward".into(), true))
        .unwrap() -= 10;
    *want
        .get_mut(&("dovecot".into(), "backward".into(), false))
        .unwrap() -= 1;
    assert_eq!(reference, want);
    for (name, text) in &by_format {
        let out = cmd()
            .args(["--all", "--format", "json", "--year", "2025", "-"])
            .write_stdin(text.clone())
            .output()
            .unwrap();
        assert_eq!(tally(&out.stdout), reference, "format {name}");
        for o in json_lines(&out.stdout) {
            assert!(o["timestamp"].is_string(), "{name}: no timestamp in {o}");
            assert!(o["host"].is_string(), "{name}: no host in {o}");
        }
        // The default mode's own search finds the same backward jumps.
        let out = cmd()
            .args(["--format", "json", "--year", "2025", "-"])
            .write_stdin(text.clone())
            .output()
            .unwrap();
        let backward: Tally = reference
            .iter()
            .filter(|((source, kind, _), _)| kind == "backward" && source != "hyperv")
            .map(|(k, n)| (k.clone(), *n))
            .collect();
        assert_eq!(tally(&out.stdout), backward, "default mode, format {name}");
    }
}

#[test]
fn the_real_compressors_in_every_format_and_stdin() {
    let tools = ["gzip", "bzip2", "xz", "zstd"];
    if !tools.iter().all(|t| have(t)) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("maillog");
    std::fs::copy(fixture("logs/variants.log"), &plain).unwrap();
    let want = {
        let out = cmd()
            .args(["--all", "--format", "json", "--year", "2025"])
            .arg(&plain)
            .output()
            .unwrap();
        tally(&out.stdout)
    };
    for tool in tools {
        let archive = compress(tool, &plain);
        let renamed = dir.path().join(format!("maillog.0-{tool}")); // the name says nothing
        std::fs::rename(&archive, &renamed).unwrap();
        let out = cmd()
            .args(["--all", "--format", "json", "--year", "2025"])
            .arg(&renamed)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{tool}");
        assert_eq!(tally(&out.stdout), want, "{tool}");
        let out = cmd()
            .args(["--all", "--format", "json", "--year", "2025", "-"])
            .pipe_stdin(&renamed)
            .unwrap()
            .output()
            .unwrap();
        assert_eq!(tally(&out.stdout), want, "{tool} on stdin");
    }
}

#[test]
fn multi_member_gzip_and_multi_stream_bzip2() {
    if !have("gzip") || !have("bzip2") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a");
    let b = dir.path().join("b");
    std::fs::write(&a, "Jun  4 05:46:13 mx1 dovecot: pop3(dave): Fatal: Time just moved backwards by 1999 seconds.\n").unwrap();
    std::fs::write(
        &b,
        "Jun  4 05:47:13 mx1 dovecot: pop3(erin): Fatal: Time just moved backwards by 7 seconds.\n",
    )
    .unwrap();
    for tool in ["gzip", "bzip2"] {
        let mut joined = std::fs::read(compress(tool, &a)).unwrap();
        joined.extend(std::fs::read(compress(tool, &b)).unwrap());
        let path = dir.path().join(format!("joined-{tool}"));
        std::fs::write(&path, joined).unwrap();
        cmd().arg("-c").arg(&path).assert().code(0).stdout("2\n");
    }
}

#[test]
fn a_truncated_archive_keeps_what_came_before_and_exits_2() {
    if !["gzip", "bzip2", "xz", "zstd"].iter().all(|t| have(t)) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("maillog");
    // Big enough that each format has emitted the early events before the cut.
    let mut text = String::new();
    for i in 0..40_000 {
        text.push_str(&format!(
            "Jun  4 05:46:13 mx1 postfix/qmgr[1]: {i:08X}: removed, nothing to see here at all\n"
        ));
        if i % 4000 == 0 {
            text.push_str(&format!("Jun  4 05:46:14 mx1 dovecot: imap(u{i}): Fatal: Time just moved backwards by 9 seconds.\n"));
        }
    }
    std::fs::write(&plain, &text).unwrap();
    let good = dir.path().join("good.log");
    std::fs::write(
        &good,
        "Jun  4 06:00:00 mx1 dovecot: master: Warning: Time moved backwards by 2 seconds.\n",
    )
    .unwrap();
    for tool in ["gzip", "bzip2", "xz", "zstd"] {
        let archive = std::fs::read(compress(tool, &plain)).unwrap();
        let cut = dir.path().join(format!("cut.{tool}"));
        std::fs::write(&cut, &archive[..archive.len() * 3 / 4]).unwrap();
        let out = cmd()
            .args(["-c", "-H"])
            .arg(&cut)
            .arg(&good)
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(2),
            "{tool}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        let counted: u64 = stdout
            .lines()
            .next()
            .unwrap()
            .rsplit(':')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert!(
            (1..10).contains(&counted),
            "{tool}: kept {counted} of 10 events before the damage"
        );
        assert!(
            stdout.contains("good.log:1"),
            "{tool}: the next file was not read: {stdout}"
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.starts_with(&format!("maillog-grep: {}: ", cut.display())),
            "{tool}: {stderr}"
        );
        assert_eq!(stderr.lines().count(), 1, "{tool}: {stderr}");
    }
}

#[test]
fn year_rollover_and_a_step_back_across_new_year() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("maillog");
    std::fs::copy(fixture("logs/sample-maillog-bsd.log"), &path).unwrap();
    // The sample ends on Dec 31 2025 about 21:40 +09:00 (its README).
    let status = std::process::Command::new("touch")
        .args(["-d", "2025-12-31 21:40:30"])
        .arg(&path)
        .status()
        .unwrap();
    assert!(status.success());
    let out = cmd()
        .args(["--all", "--format", "json"])
        .arg(&path)
        .output()
        .unwrap();
    let rows = json_lines(&out.stdout);
    let years: Vec<String> = rows
        .iter()
        .map(|o| o["timestamp"].as_str().unwrap()[..4].to_string())
        .collect();
    // Events before midnight are 2025, after it 2026; the clock then steps
    // back into Dec 31 2025, which must not become a year later or earlier.
    let first_2026 = years
        .iter()
        .position(|y| y == "2026")
        .expect("no event after midnight");
    assert!(years[..first_2026].iter().all(|y| y == "2025"));
    assert_eq!(years.last().unwrap(), "2025");
    assert!(rows.iter().all(|o| {
        let t = o["timestamp"].as_str().unwrap();
        t.starts_with("2025-12-31") || t.starts_with("2026-01-01")
    }));
    // The same file with --year: the last line's year.
    let out = cmd()
        .args(["--all", "--format", "json", "--year", "2030"])
        .arg(&path)
        .output()
        .unwrap();
    let rows = json_lines(&out.stdout);
    assert!(
        rows.last().unwrap()["timestamp"]
            .as_str()
            .unwrap()
            .starts_with("2030-12-31")
    );
}

#[test]
fn the_dst_fall_back_hour_is_neither_lost_nor_a_new_year() {
    // Europe: 03:00 summer time becomes 02:00 again on Oct 26 2025.
    let log = "\
Oct 26 02:40:00 mx1 dovecot: master: Warning: Time moved backwards by 3 seconds, waiting for 4 secs until new services are launched again.
Oct 26 02:59:59 mx1 postfix/qmgr[1]: A1: removed
Oct 26 02:05:00 mx1 dovecot: master: Warning: Time moved backwards by 2 seconds, waiting for 3 secs until new services are launched again.
Oct 26 02:45:00 mx1 dovecot: imap(bob): Fatal: Time just moved backwards by 8 seconds. This might cause a lot of problems, so I'll just kill myself now.
";
    let out = cmd()
        .args(["--format", "json", "--year", "2025", "-"])
        .write_stdin(log)
        .output()
        .unwrap();
    let stamps: Vec<String> = json_lines(&out.stdout)
        .iter()
        .map(|o| o["timestamp"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        stamps,
        [
            "2025-10-26T02:40:00",
            "2025-10-26T02:05:00",
            "2025-10-26T02:45:00"
        ]
    );
}

#[test]
fn both_shared_samples_give_the_injected_counts() {
    // The generator's own counts (the .stats.json files of the samples).
    for (name, dovecot, ntpd, chrony, postfix) in [
        ("sample-maillog-bsd.log", 25, 3, 3, 2),
        ("sample-mail-rfc3339.log", 35, 2, 0, 2),
    ] {
        let out = cmd()
            .args(["--format", "json", "--year", "2025"])
            .arg(fixture(&format!("logs/{name}")))
            .output()
            .unwrap();
        let t = tally(&out.stdout);
        let sum = |source: &str| {
            t.iter()
                .filter(|((s, _, _), _)| s == source)
                .map(|(_, n)| n)
                .sum::<u64>()
        };
        assert_eq!(
            (sum("dovecot"), sum("ntpd"), sum("chronyd"), sum("postfix")),
            (dovecot, ntpd, chrony, postfix),
            "{name}"
        );
        let fatal: u64 = t.iter().filter(|((_, _, f), _)| *f).map(|(_, n)| n).sum();
        assert_eq!(fatal, 7, "{name}");
    }
}
