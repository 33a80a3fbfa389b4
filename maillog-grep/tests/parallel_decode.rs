//! One bzip2 file decoded on every worker (issue 24): the output of the
//! real bzip2, pbzip2 and lbzip2 gives the same lines, with the same line
//! numbers, as the plain log; damage is what `bzip2 -d` says it is; and a
//! decompression bomb is skipped with exit 2 (issue 21).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

/// A log of about 6 MB (several bzip2 blocks at every level) with a dovecot
/// event every 5,000 lines and a clock step every 7,919.
fn write_log(dir: &Path) -> PathBuf {
    let mut text = String::new();
    for i in 0..80_000u32 {
        text.push_str(&format!(
            "Jun  4 05:{:02}:{:02} mx1 postfix/qmgr[{}]: {:08X}: from=<user{}@example.org>, size={}\n",
            i / 60 % 60,
            i % 60,
            1000 + i % 97,
            i.wrapping_mul(2_654_435_761),
            i % 1013,
            i * 37 % 100_000
        ));
        if i % 5000 == 0 {
            text.push_str(&format!(
                "Jun  4 05:46:14 mx1 dovecot: imap(u{i}): Fatal: Time just moved backwards by {} seconds.\n",
                i % 90 + 1
            ));
        }
        if i % 7919 == 0 {
            text.push_str("Jun  4 05:46:10 mx1 ntpd[812]: time reset -3.201133 s\n");
        }
    }
    let path = dir.join("maillog");
    std::fs::write(&path, text).unwrap();
    path
}

/// Runs `program args` with `input` as stdin and its output to `out`.
fn run_to(program: &str, args: &[&str], input: &Path, out: &Path) {
    let status = Command::new(program)
        .args(args)
        .stdin(std::fs::File::open(input).unwrap())
        .stdout(std::fs::File::create(out).unwrap())
        .status()
        .unwrap();
    assert!(status.success(), "{program} {args:?} failed");
}

/// What maillog-grep prints for `path`: every event, numbered.
fn events(path: &Path, threads: &str) -> (Option<i32>, String, String) {
    let out = cmd()
        .args(["--all", "-n", "-H", "--year", "2025", "-j", threads])
        .arg(path)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).replace(&path.display().to_string(), "F");
    (
        out.status.code(),
        stdout,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn bzip2_pbzip2_and_lbzip2_output_gives_the_plain_lines_and_numbers() {
    if !["bzip2", "pbzip2", "lbzip2"].iter().all(|t| have(t)) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let plain = write_log(dir.path());
    let (code, want, _) = events(&plain, "1");
    assert_eq!(code, Some(0));
    assert_eq!(want.lines().count(), 16 + 11, "{want}");
    let shapes: &[(&str, &str, &[&str])] = &[
        ("bzip2-1", "bzip2", &["-1", "-c"]),
        ("bzip2-9", "bzip2", &["-9", "-c"]),
        // pbzip2 writes one stream per 100 kB..900 kB block.
        ("pbzip2", "pbzip2", &["-p2", "-b1", "-c"]),
        ("lbzip2", "lbzip2", &["-n", "2", "-1", "-c"]),
    ];
    let mut joined = Vec::new();
    for (name, program, args) in shapes {
        let archive = dir.path().join(name);
        run_to(program, args, &plain, &archive);
        joined.extend(std::fs::read(&archive).unwrap());
        for threads in ["1", "2", "3"] {
            let (code, got, stderr) = events(&archive, threads);
            assert_eq!(code, Some(0), "{name} -j {threads}: {stderr}");
            assert_eq!(got, want, "{name} -j {threads}");
        }
        let out = cmd()
            .args(["--all", "-n", "--year", "2025", "-"])
            .pipe_stdin(&archive)
            .unwrap()
            .output()
            .unwrap();
        let stdin_want = want.replace("F:", "");
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            stdin_want,
            "{name} on stdin"
        );
    }
    // All four, one after the other, as one file: four times the lines.
    let all = dir.path().join("joined");
    std::fs::write(&all, &joined).unwrap();
    let out = cmd()
        .args(["--all", "-c", "-j", "2"])
        .arg(&all)
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("{}\n", 4 * 27)
    );
}

/// Cut and damaged archives: maillog-grep fails exactly where `bzip2 -d`
/// fails (exit 2, one message), never panics, and keeps the next file.
#[test]
fn truncated_and_damaged_archives_exit_2_where_bzip2_fails() {
    if !["bzip2", "pbzip2"].iter().all(|t| have(t)) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let plain = write_log(dir.path());
    let (_, want, _) = events(&plain, "1");
    let good = dir.path().join("good.log");
    std::fs::write(
        &good,
        "Jun  4 06:00:00 mx1 dovecot: master: Warning: Time moved backwards by 2 seconds.\n",
    )
    .unwrap();
    let mut checked_failures = 0;
    for (program, args) in [
        ("bzip2", &["-1", "-c"][..]),
        ("pbzip2", &["-p2", "-b1", "-c"][..]),
    ] {
        let archive = dir.path().join(format!("{program}.bz2"));
        run_to(program, args, &plain, &archive);
        let bytes = std::fs::read(&archive).unwrap();
        let mut cases: Vec<(String, Vec<u8>)> = [3, 40, bytes.len() / 3, bytes.len() - 5]
            .iter()
            .map(|&cut| (format!("cut at {cut}"), bytes[..cut].to_vec()))
            .collect();
        for at in [10, bytes.len() / 5, bytes.len() / 2, bytes.len() - 6] {
            let mut bad = bytes.clone();
            bad[at] ^= 0x40;
            cases.push((format!("bit flipped at {at}"), bad));
        }
        for (what, damaged) in cases {
            let path = dir.path().join("damaged");
            std::fs::write(&path, &damaged).unwrap();
            let reference_ok = Command::new("bzip2")
                .args(["-d", "-c", "-q"])
                .stdin(std::fs::File::open(&path).unwrap())
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .status()
                .unwrap()
                .success();
            let out = cmd()
                .args(["--all", "-n", "-H", "--year", "2025", "-j", "2"])
                .arg(&path)
                .arg(&good)
                .output()
                .unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            let stdout = String::from_utf8_lossy(&out.stdout)
                .replace(&path.display().to_string(), "F")
                .replace(&good.display().to_string(), "G");
            assert!(!stderr.contains("panicked"), "{program} {what}: {stderr}");
            let last = "G:1:Jun  4 06:00:00 mx1 dovecot: master: Warning: Time moved backwards by 2 seconds.\n";
            let ours = stdout.strip_suffix(last).unwrap_or_else(|| {
                panic!("{program} {what}: the next file was not read: {stdout} {stderr}")
            });
            if reference_ok {
                assert_eq!(out.status.code(), Some(0), "{program} {what}: {stderr}");
                assert_eq!(ours, want, "{program} {what}");
            } else {
                checked_failures += 1;
                assert_eq!(out.status.code(), Some(2), "{program} {what}: {stderr}");
                assert!(
                    stderr.starts_with(&format!("maillog-grep: {}: ", path.display())),
                    "{program} {what}: {stderr}"
                );
                assert_eq!(stderr.lines().count(), 1, "{program} {what}: {stderr}");
                // What was printed is the beginning of the whole file's events.
                assert!(want.starts_with(ours), "{program} {what}: {ours}");
            }
        }
    }
    assert!(
        checked_failures >= 10,
        "only {checked_failures} damaged cases failed"
    );
}

/// 100 MiB of `x` lines compresses to a few kB: a bomb.  It is
/// reported and skipped (exit 2), the next file is read; a ratio high
/// enough lets it through; the ratio is range-checked.
#[test]
fn a_decompression_bomb_is_skipped_with_exit_2() {
    if !have("bzip2") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let zeros = dir.path().join("zeros");
    std::fs::write(&zeros, b"x\n".repeat(50 << 20)).unwrap();
    let bomb = dir.path().join("maillog.0.bz2");
    run_to("bzip2", &["-9", "-c"], &zeros, &bomb);
    std::fs::remove_file(&zeros).unwrap();
    // More than 5,000 times smaller than what it decodes to.
    assert!(std::fs::metadata(&bomb).unwrap().len() < 20_000);
    let good = dir.path().join("maillog");
    std::fs::write(
        &good,
        "Jun  4 06:00:00 mx1 dovecot: master: Warning: Time moved backwards by 2 seconds.\n",
    )
    .unwrap();
    let out = cmd().args(["-c", "--rotated"]).arg(&good).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("{}:0\n{}:1\n", bomb.display(), good.display())
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with(&format!(
            "maillog-grep: {}: probable decompression bomb: decodes to more than 1000 times",
            bomb.display()
        )),
        "{stderr}"
    );
    cmd()
        .args(["-c", "--max-decoded-ratio", "1000000000"])
        .arg(&bomb)
        .assert()
        .code(1)
        .stdout("0\n");
    for bad in ["0", "1", "1000000001", "-5", "many"] {
        cmd()
            .arg("-c")
            .arg(format!("--max-decoded-ratio={bad}"))
            .arg(&good)
            .assert()
            .code(2)
            .stdout("")
            .stderr(predicates::str::contains("--max-decoded-ratio"));
    }
}

/// pzstd writes several frames, each after a skippable frame, and begins
/// with one: it is zstd, not plain text (it was read as text: no events).
#[test]
fn pzstd_output_is_zstd() {
    if !have("pzstd") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let plain = write_log(dir.path());
    let (_, want, _) = events(&plain, "1");
    let archive = dir.path().join("pzstd");
    run_to("pzstd", &["-q", "-p", "2", "-c"], &plain, &archive);
    assert_eq!(&std::fs::read(&archive).unwrap()[1..4], [0x2a, 0x4d, 0x18]);
    for threads in ["1", "2"] {
        let (code, got, stderr) = events(&archive, threads);
        assert_eq!(code, Some(0), "-j {threads}: {stderr}");
        assert_eq!(got, want, "-j {threads}");
    }
}

/// How many zstd frames the real `zstd -lv` counts in `path`.
fn zstd_frames(path: &Path) -> usize {
    let out = Command::new("zstd").arg("-lv").arg(path).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find(|l| l.starts_with("# Zstandard Frames:"))
        .unwrap_or_else(|| panic!("zstd -lv: {text}"));
    line.rsplit(' ').next().unwrap().parse().unwrap()
}

/// Which zstd outputs have several frames (what docs/benchmarks.md and
/// parallel_zstd.rs say): pzstd's and concatenated files'; `zstd -T0` and
/// `--rsyncable` write one.  Every shape gives the plain log's lines and
/// numbers, on one worker or several.
#[test]
fn zstd_pzstd_and_concatenated_frames_give_the_plain_lines_and_numbers() {
    if !["zstd", "pzstd"].iter().all(|t| have(t)) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let plain = write_log(dir.path());
    let (_, want, _) = events(&plain, "1");
    let shapes: &[(&str, &str, &[&str], bool)] = &[
        ("zstd-T0", "zstd", &["-q", "-T0", "-c"], false),
        (
            "zstd-rsyncable",
            "zstd",
            &["-q", "-T2", "--rsyncable", "-c"],
            false,
        ),
        // At level 1 pzstd cuts 6 MB into several frames.
        ("pzstd-1", "pzstd", &["-q", "-1", "-p", "2", "-c"], true),
    ];
    for (name, program, args, several) in shapes {
        let archive = dir.path().join(name);
        run_to(program, args, &plain, &archive);
        assert_eq!(zstd_frames(&archive) > 1, *several, "{name}");
        for threads in ["1", "2", "3"] {
            let (code, got, stderr) = events(&archive, threads);
            assert_eq!(code, Some(0), "{name} -j {threads}: {stderr}");
            assert_eq!(got, want, "{name} -j {threads}");
        }
    }
    // The log cut in three, each part compressed by zstd, the parts joined.
    let text = std::fs::read(&plain).unwrap();
    let mut joined = Vec::new();
    let mut from = 0;
    for part in 1..=3 {
        let to = if part == 3 {
            text.len()
        } else {
            from + text[from + text.len() / 3..]
                .iter()
                .position(|&b| b == b'\n')
                .unwrap()
                + text.len() / 3
                + 1
        };
        let piece = dir.path().join("piece");
        std::fs::write(&piece, &text[from..to]).unwrap();
        let compressed = dir.path().join("piece.zst");
        run_to("zstd", &["-q", "-c"], &piece, &compressed);
        joined.extend(std::fs::read(&compressed).unwrap());
        from = to;
    }
    let archive = dir.path().join("joined.zst");
    std::fs::write(&archive, joined).unwrap();
    assert_eq!(zstd_frames(&archive), 3);
    for threads in ["1", "2"] {
        let (code, got, stderr) = events(&archive, threads);
        assert_eq!(code, Some(0), "joined -j {threads}: {stderr}");
        assert_eq!(got, want, "joined -j {threads}");
    }
}

/// Cut and damaged pzstd archives: exit 2 (one message) exactly where
/// `zstd -d` fails, never a panic, the next file still read.
#[test]
fn truncated_and_damaged_pzstd_archives_exit_2_where_zstd_fails() {
    if !["zstd", "pzstd"].iter().all(|t| have(t)) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let plain = write_log(dir.path());
    let (_, want, _) = events(&plain, "1");
    let good = dir.path().join("good.log");
    let last = "Jun  4 06:00:00 mx1 dovecot: master: Warning: Time moved backwards by 2 seconds.\n";
    std::fs::write(&good, last).unwrap();
    let archive = dir.path().join("pzstd");
    run_to("pzstd", &["-q", "-1", "-p", "2", "-c"], &plain, &archive);
    let bytes = std::fs::read(&archive).unwrap();
    // (Fewer than 4 bytes carry no magic number: they are plain text.)
    let mut cases: Vec<(String, Vec<u8>)> = [6, 10, 40, bytes.len() / 3, bytes.len() - 5]
        .iter()
        .map(|&cut| (format!("cut at {cut}"), bytes[..cut].to_vec()))
        .collect();
    for at in [
        5,
        12,
        14,
        20,
        bytes.len() / 5,
        bytes.len() / 2,
        bytes.len() - 6,
    ] {
        let mut bad = bytes.clone();
        bad[at] ^= 0x40;
        cases.push((format!("bit flipped at {at}"), bad));
    }
    let mut failures = 0;
    for (what, damaged) in cases {
        let path = dir.path().join("damaged");
        std::fs::write(&path, &damaged).unwrap();
        let reference_ok = Command::new("zstd")
            .args(["-d", "-c", "-q"])
            .stdin(std::fs::File::open(&path).unwrap())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .unwrap()
            .success();
        let out = cmd()
            .args(["--all", "-n", "-H", "--year", "2025", "-j", "2"])
            .arg(&path)
            .arg(&good)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        let stdout = String::from_utf8_lossy(&out.stdout)
            .replace(&path.display().to_string(), "F")
            .replace(&good.display().to_string(), "G");
        assert!(!stderr.contains("panicked"), "{what}: {stderr}");
        let ours = stdout
            .strip_suffix(&format!("G:1:{last}"))
            .unwrap_or_else(|| panic!("{what}: the next file was not read: {stdout} {stderr}"));
        if reference_ok {
            assert_eq!(out.status.code(), Some(0), "{what}: {stderr}");
            assert_eq!(ours, want, "{what}");
        } else {
            failures += 1;
            assert_eq!(out.status.code(), Some(2), "{what}: {stderr}");
            assert_eq!(stderr.lines().count(), 1, "{what}: {stderr}");
            assert!(want.starts_with(ours), "{what}: {ours}");
        }
    }
    assert!(failures >= 8, "only {failures} damaged cases failed");
}

/// A frame whose header gives a content size its blocks do not make (here
/// 100,000 bytes, and one empty block) is damage, as `zstd -d` says (it
/// decodes the frame in one pass into its 128 KiB buffer).  libzstd passes
/// over it when it streams the frame into a smaller buffer, so the answer
/// once depended on the size of a buffer (parallel_zstd.rs checks the size
/// of every frame).
#[test]
fn a_frame_shorter_than_its_header_says_is_damage_as_zstd_says() {
    if !have("zstd") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let compress = |text: &str| {
        let plain = dir.path().join("part");
        let packed = dir.path().join("part.zst");
        std::fs::write(&plain, text).unwrap();
        run_to("zstd", &["-q", "-c"], &plain, &packed);
        std::fs::read(&packed).unwrap()
    };
    let before =
        "Jun  4 05:46:14 mx1 dovecot: imap(a): Fatal: Time just moved backwards by 3 seconds.\n";
    let after =
        "Jun  4 05:47:14 mx1 dovecot: imap(b): Fatal: Time just moved backwards by 4 seconds.\n";
    // Magic, a single-segment header giving 100,000 bytes (more than the
    // first read of a frame asks for, less than zstd's buffer), and a last
    // raw block of 0 bytes.
    let short_frame = [
        0x28, 0xb5, 0x2f, 0xfd, 0xa0, 0xa0, 0x86, 0x01, 0x00, 0x01, 0x00, 0x00,
    ];
    let mut bytes = compress(before);
    let short_frame_at = bytes.len();
    bytes.extend_from_slice(&short_frame);
    bytes.extend(compress(after));
    let path = dir.path().join("maillog.zst");
    std::fs::write(&path, &bytes).unwrap();
    let zstd = Command::new("zstd")
        .args(["-d", "-c", "-q"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(!zstd.status.success(), "zstd -d read the short frame");
    assert_eq!(String::from_utf8_lossy(&zstd.stdout), before);
    for threads in ["1", "2"] {
        let (code, stdout, stderr) = events(&path, threads);
        assert_eq!(code, Some(2), "-j {threads}: {stdout} {stderr}");
        assert_eq!(stdout, format!("F:1:{before}"), "-j {threads}");
        let said = format!("damaged in the frame at byte {short_frame_at}");
        assert!(stderr.contains(&said), "-j {threads}: {stderr}");
    }
}
