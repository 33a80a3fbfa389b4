//! Issue 21, "Peers and arguments", played as the attacker plays it: a
//! hostile DNS name with three addresses against two honest servers, an
//! ntp.conf of 1.2 million server lines, absurd `-n`.  Before the fix the
//! name was three voters (CLOCK OK while the clock was 300 s off), the
//! million lines ended in SIGABRT, `-n` took any number.

use std::io::Read;
use std::net::UdpSocket;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::cargo::{cargo_bin, cargo_bin_cmd};
mod support;
use support::{Claim, honest, serve, serve_claim_on};

/// Three sockets on one port of 127.0.0.2, .3 and .4: the addresses of
/// the hostile name (a name gives addresses, not ports).
fn three_addresses_one_port() -> [UdpSocket; 3] {
    for _ in 0..50 {
        let first = UdpSocket::bind("127.0.0.2:0").unwrap();
        let port = first.local_addr().unwrap().port();
        let (Ok(second), Ok(third)) = (
            UdpSocket::bind(("127.0.0.3", port)),
            UdpSocket::bind(("127.0.0.4", port)),
        ) else {
            continue;
        };
        return [first, second, third];
    }
    panic!("no port free on 127.0.0.2, .3 and .4 at once");
}

/// Runs clockcheck in a private mount namespace whose /etc/hosts is
/// `hosts`, killed after `limit`: exit code and stdout.
fn run_with_hosts(hosts: &str, args: &[String], limit: Duration) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("hosts");
    std::fs::write(&file, hosts).unwrap();
    let mut child = Command::new("unshare")
        .args([
            "--mount",
            "sh",
            "-c",
            "mount --bind \"$1\" /etc/hosts && shift && exec \"$@\"",
            "sh",
        ])
        .arg(&file)
        .arg(cargo_bin("clockcheck"))
        .args(args)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    let code = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status.code();
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut text = String::new();
    let _ = child.stdout.take().unwrap().read_to_string(&mut text);
    (code, text)
}

#[test]
fn a_name_with_three_addresses_does_not_outvote_two_honest_servers() {
    let probe = Command::new("unshare")
        .args(["--mount", "true"])
        .status()
        .is_ok_and(|s| s.success());
    if !probe {
        mailhost_common::testing::skip(
            "clockcheck a_name_with_three_addresses",
            "unshare --mount needs root (CAP_SYS_ADMIN)",
        );
        return;
    }
    // The truth: this clock is 300 s ahead; two honest servers say so.
    let honest_a = serve(honest(-300.0));
    let honest_b = serve(honest(-300.0));
    // The liar's name resolves to three addresses that all say "on time".
    let liar = Claim {
        stratum: 1,
        reference_id: *b"GPS\0",
        ..honest(0.0)
    };
    let sockets = three_addresses_one_port();
    let port = sockets[0].local_addr().unwrap().port();
    let _liars: Vec<_> = sockets
        .into_iter()
        .map(|s| serve_claim_on(s, liar))
        .collect();
    let hosts = "127.0.0.1 localhost\n127.0.0.2 time.hostile.test\n127.0.0.3 time.hostile.test\n127.0.0.4 time.hostile.test\n";
    let args: Vec<String> = [
        "-H".to_string(),
        format!("time.hostile.test:{port}"),
        "-H".to_string(),
        format!("127.0.0.1:{}", honest_a.port),
        "-H".to_string(),
        format!("127.0.0.1:{}", honest_b.port),
        "-t".to_string(),
        "3".to_string(),
        "--format".to_string(),
        "json".to_string(),
    ]
    .into();
    let (code, text) = run_with_hosts(hosts, &args, Duration::from_secs(20));
    let report: serde_json::Value =
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("{code:?}: {text}"));
    assert_eq!(code, Some(2), "{report}");
    assert_eq!(report["status"], "CRITICAL", "{report}");
    let offset = report["offset"].as_f64().unwrap();
    assert!((offset + 300.0).abs() < 0.05, "{report}");
    assert_eq!(report["usable"], 3, "three voters: {report}");
    assert_eq!(report["agreeing"], 2, "{report}");
    assert_eq!(report["majority"], true, "{report}");
}

#[test]
fn a_pool_name_is_one_voter_per_address() {
    // The same three addresses behind a `pool` line are three voters, as
    // ntpd makes three associations of them; ntp.conf read from a root.
    let probe = Command::new("unshare")
        .args(["--mount", "true"])
        .status()
        .is_ok_and(|s| s.success());
    if !probe {
        mailhost_common::testing::skip(
            "clockcheck a_pool_name_is_one_voter_per_address",
            "unshare --mount needs root (CAP_SYS_ADMIN)",
        );
        return;
    }
    let sockets = three_addresses_one_port();
    let port = sockets[0].local_addr().unwrap().port();
    let _pool: Vec<_> = sockets
        .into_iter()
        .map(|s| serve_claim_on(s, honest(0.25)))
        .collect();
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir(root.path().join("etc")).unwrap();
    std::fs::write(
        root.path().join("etc/ntp.conf"),
        "pool pool.hostile.test iburst\n",
    )
    .unwrap();
    let hosts =
        "127.0.0.2 pool.hostile.test\n127.0.0.3 pool.hostile.test\n127.0.0.4 pool.hostile.test\n";
    let args: Vec<String> = [
        "--root",
        root.path().to_str().unwrap(),
        "-p",
        &port.to_string(),
        "-t",
        "3",
        "--format",
        "json",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let (code, text) = run_with_hosts(hosts, &args, Duration::from_secs(20));
    let report: serde_json::Value =
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("{code:?}: {text}"));
    assert_eq!(code, Some(0), "{report}");
    assert_eq!(report["usable"], 3, "{report}");
}

/// Runs clockcheck under `ulimit -v` (512 MiB) and a time cap: exit code,
/// stdout, elapsed time.
fn run_capped(args: &[&str], limit: Duration) -> (Option<i32>, String, Duration) {
    let start = Instant::now();
    let mut child = Command::new("sh")
        .args(["-c", "ulimit -v 524288 && exec \"$@\"", "sh"])
        .arg(cargo_bin("clockcheck"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut out = String::new();
        let _ = stdout.read_to_string(&mut out);
        out
    });
    let code = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status.code();
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    (code, reader.join().unwrap(), start.elapsed())
}

#[test]
fn a_million_server_lines_are_unknown_with_a_status_line() {
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir(root.path().join("etc")).unwrap();
    let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
    let line = format!(
        "server 127.0.0.1:{} iburst\n",
        silent.local_addr().unwrap().port()
    );
    std::fs::write(root.path().join("etc/ntp.conf"), line.repeat(1_200_000)).unwrap();
    let root_arg = root.path().to_str().unwrap();
    for format in ["text", "json", "prometheus"] {
        let (code, text, elapsed) = run_capped(
            &["--root", root_arg, "-t", "2", "--format", format],
            Duration::from_secs(20),
        );
        assert_eq!(code, Some(3), "{format}: {}", &text[..text.len().min(300)]);
        assert!(elapsed < Duration::from_secs(10), "{format}: {elapsed:?}");
        match format {
            "text" => {
                assert!(text.starts_with("CLOCK UNKNOWN: "), "{text}");
                assert!(text.contains("more than 64 servers"), "{text}");
                assert_eq!(text.lines().count(), 1, "{text}");
            }
            "json" => assert!(text.contains("\"status\":\"UNKNOWN\""), "{text}"),
            _ => assert!(text.contains("\nclockcheck_status 3\n"), "{text}"),
        }
    }
}

#[test]
fn sixty_four_servers_are_checked_and_sixty_five_are_unknown() {
    let good = serve(honest(0.25));
    let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
    let silent_host = format!("127.0.0.1:{}", silent.local_addr().unwrap().port());
    let good_host = format!("127.0.0.1:{}", good.port);
    let mut args: Vec<&str> = vec!["-H", &good_host, "-t", "2", "-n", "1"];
    for _ in 0..63 {
        args.extend(["-H", &silent_host]);
    }
    let (code, text, _) = run_capped(&args, Duration::from_secs(20));
    assert_eq!(code, Some(0), "{text}");
    assert!(text.starts_with("CLOCK OK: "), "{text}");
    args.extend(["-H", &silent_host]);
    let (code, text, _) = run_capped(&args, Duration::from_secs(20));
    assert_eq!(code, Some(3), "{text}");
    assert!(
        text.starts_with("CLOCK UNKNOWN: -H names more than 64 servers"),
        "{text}"
    );
}

#[test]
fn samples_out_of_range_are_a_usage_error() {
    for absurd in ["0", "101", "18446744073709551615", "-1"] {
        let out = cargo_bin_cmd!("clockcheck")
            .args([
                "-H",
                "127.0.0.1:9",
                "-t",
                "1",
                &format!("--samples={absurd}"),
            ])
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(3), "-n {absurd}: {stdout}");
        assert!(
            stdout.starts_with("CLOCK UNKNOWN: invalid command line"),
            "{stdout}"
        );
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("from 1 to 100"),
            "{out:?}"
        );
    }
}

#[test]
fn the_other_numbers_are_range_checked_too() {
    // Already refused before issue 21 (hostile_peer.rs has -t, -w,
    // --duration and --interval): the rest, so every number has a test.
    for args in [
        &["watch", "--threshold", "1e300h", "--duration", "1s"][..],
        &["watch", "--threshold", "-1s", "--duration", "1s"],
        &["watch", "--interval", "0", "--duration", "1s"],
        &["-H", "127.0.0.1", "-p", "65536", "-t", "1"],
        &["-H", "127.0.0.1:9", "-c", "1e999", "-t", "1"],
    ] {
        let out = cargo_bin_cmd!("clockcheck")
            .args(args)
            .timeout(Duration::from_secs(10))
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(3), "{args:?}: {stdout}");
        assert!(stdout.starts_with("CLOCK UNKNOWN: "), "{args:?}: {stdout}");
    }
}

/// Without -H the servers are ntpd's own reading of ntp.conf (the one
/// model, `ntpconf_edit::ntp_associations`): an `includefile` is followed,
/// and nothing after an `end` (here inside the included file) is asked.
#[test]
fn servers_from_ntp_conf_follow_includefile_and_stop_at_end() {
    let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir(root.path().join("etc")).unwrap();
    std::fs::write(
        root.path().join("etc/ntp.conf"),
        "server 127.0.0.1 iburst\nincludefile /etc/ntp.extra\nserver 127.0.0.4\n",
    )
    .unwrap();
    std::fs::write(
        root.path().join("etc/ntp.extra"),
        "  server 127.0.0.2\nserver 127.0.0.9 minpoll\npool 127.0.0.3\nend\nserver 127.0.0.5\n",
    )
    .unwrap();
    let port_arg = port.to_string();
    let root_arg = root.path().to_str().unwrap();
    let (code, text, _) = run_capped(
        &[
            "--root", root_arg, "-p", &port_arg, "-t", "1", "--format", "json",
        ],
        Duration::from_secs(20),
    );
    assert_eq!(code, Some(2), "no server answers: CRITICAL; {text}");
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let asked: Vec<&str> = v["servers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["server"].as_str().unwrap())
        .collect();
    let expected: Vec<String> = ["127.0.0.1", "127.0.0.2", "127.0.0.3"]
        .iter()
        .map(|h| format!("{h}:{port}"))
        .collect();
    assert_eq!(asked, expected, "{text}");
}
