//! A crafted NTP responder on 127.0.0.1: correct answers with a chosen
//! offset (sub-second ones measured within 1 ms), and every kind of bad
//! reply.  None of the bad ones is ever reported OK, and each says why.

use std::net::UdpSocket;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use assert_cmd::cargo::cargo_bin_cmd;
use clockcheck::packet::{Packet, Timestamp};
mod support;
use support::{Responder, now_ts, run_writing_metrics_to, serve_with};

#[derive(Clone, Copy)]
enum Reply {
    Offset(f64),
    Kiss(&'static [u8; 4]),
    WrongOrigin,
    ClientEcho,
    ZeroTransmit,
    Unsynchronised,
    Short,
    Garbage,
    /// A server in the next NTP era, at this Unix time.
    At(i64),
    Silent,
    /// 150 wrong-origin replies, then the right one (more would overflow the
    /// socket buffer, and then the kernel, not the client, drops the good one).
    Flood,
    /// The right reply, from another port of the same address.
    OtherPort,
    /// Every reply sent twice.
    Twice,
    /// The right reply, after this many milliseconds.
    Slow(u64),
}

/// Serves `reply` on a fresh port until dropped.
fn serve(reply: Reply) -> Responder {
    serve_with(move |socket, received, request, from| {
        let good = |shift: f64| Packet {
            leap: 0,
            version: 4,
            mode: 4,
            stratum: 2,
            reference_id: [127, 0, 0, 1],
            origin: request.transmit,
            receive: now_ts(shift),
            transmit: now_ts(shift),
            ..Packet::default()
        };
        let bytes: Vec<u8> = match reply {
            Reply::Offset(o) => good(o).encode().to_vec(),
            Reply::Kiss(code) => Packet {
                stratum: 0,
                reference_id: *code,
                leap: 3,
                ..good(0.0)
            }
            .encode()
            .to_vec(),
            Reply::WrongOrigin => Packet {
                origin: Timestamp(request.transmit.0 ^ 1),
                ..good(0.0)
            }
            .encode()
            .to_vec(),
            Reply::ClientEcho => request.encode().to_vec(),
            Reply::ZeroTransmit => Packet {
                transmit: Timestamp(0),
                ..good(0.0)
            }
            .encode()
            .to_vec(),
            Reply::Unsynchronised => Packet {
                leap: 3,
                stratum: 16,
                ..good(0.0)
            }
            .encode()
            .to_vec(),
            Reply::Short => good(0.0).encode()[..40].to_vec(),
            Reply::Garbage => (0..48u8)
                .map(|i| i.wrapping_mul(37).wrapping_add(received.len() as u8))
                .collect(),
            Reply::At(unix) => {
                let d = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
                let shift = (unix - d.as_secs() as i64) as f64;
                good(shift).encode().to_vec()
            }
            Reply::Silent => return None,
            Reply::Flood => {
                for i in 0..150u64 {
                    let bad = Packet {
                        origin: Timestamp(request.transmit.0 ^ (i + 1)),
                        ..good(5.0)
                    };
                    let _ = socket.send_to(&bad.encode(), from);
                }
                good(0.125).encode().to_vec()
            }
            Reply::OtherPort => {
                let other = UdpSocket::bind("127.0.0.1:0").unwrap();
                let _ = other.send_to(&good(0.0).encode(), from);
                return None;
            }
            Reply::Twice => {
                let bytes = good(0.25).encode();
                let _ = socket.send_to(&bytes, from);
                bytes.to_vec()
            }
            Reply::Slow(ms) => {
                std::thread::sleep(Duration::from_millis(ms));
                good(0.0).encode().to_vec()
            }
        };
        Some(bytes)
    })
}

/// The replies the first server's report lists as rejected.
fn rejections(json: &serde_json::Value) -> &Vec<serde_json::Value> {
    json["servers"][0]["rejected"].as_array().unwrap()
}

/// `clockcheck -H 127.0.0.1:PORT -t TIMEOUT`, asking `r`.
fn clockcheck_asking(r: &Responder, timeout: &str) -> assert_cmd::Command {
    let mut cmd = cargo_bin_cmd!("clockcheck");
    cmd.args(["-H", &format!("127.0.0.1:{}", r.port), "-t", timeout]);
    cmd
}

/// Asks a fresh responder giving `reply`: see [`run`].
fn ask(reply: Reply, extra: &[&str]) -> (i32, serde_json::Value, Duration) {
    run(&serve(reply), extra)
}

fn run(r: &Responder, extra: &[&str]) -> (i32, serde_json::Value, Duration) {
    let start = Instant::now();
    let out = clockcheck_asking(r, "2")
        .args(["--format", "json"])
        .args(extra)
        .output()
        .unwrap();
    let json = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&out.stdout)));
    (out.status.code().unwrap(), json, start.elapsed())
}

#[test]
fn sub_second_offsets_within_a_millisecond() {
    for offset in [0.25, -0.4, 0.0015, -0.75] {
        let (code, json, _) = ask(Reply::Offset(offset), &[]);
        assert_eq!(code, 0);
        let measured = json["offset"].as_f64().unwrap();
        assert!((measured - offset).abs() < 0.001, "{offset}: {measured}");
    }
}

#[test]
fn bad_replies_are_never_ok_and_say_why() {
    for (reply, reason) in [
        (Reply::Kiss(b"RATE"), "kiss"),
        (Reply::Kiss(b"DENY"), "kiss"),
        (Reply::Kiss(b"RSTR"), "kiss"),
        (Reply::WrongOrigin, "origin"),
        (Reply::ClientEcho, "mode"),
        (Reply::ZeroTransmit, "zero-timestamp"),
        (Reply::Unsynchronised, "unsynchronized"),
        (Reply::Short, "short"),
    ] {
        let r = serve(reply);
        let (code, json, elapsed) = run(&r, &[]);
        assert_eq!(code, 2, "{reason}: {json}");
        assert_eq!(json["status"], "CRITICAL");
        let reasons: Vec<&str> = rejections(&json)
            .iter()
            .map(|x| x["reason"].as_str().unwrap())
            .collect();
        assert!(reasons.contains(&reason), "{reason}: {reasons:?}");
        assert!(
            elapsed < Duration::from_millis(3500),
            "{reason}: took {elapsed:?}"
        );
        assert_eq!(run(&r, &["-q"]).0, 3, "{reason} with -q");
    }
}

#[test]
fn kiss_codes_are_reported_and_stop_the_queries() {
    for code in ["RATE", "DENY", "RSTR"] {
        let bytes: &'static [u8; 4] = match code {
            "RATE" => b"RATE",
            "DENY" => b"DENY",
            _ => b"RSTR",
        };
        let (_, json, elapsed) = ask(Reply::Kiss(bytes), &["-n", "4"]);
        assert_eq!(json["servers"][0]["kiss"], code);
        assert_eq!(
            rejections(&json).len(),
            1,
            "{code}: asked again after the kiss"
        );
        assert!(elapsed < Duration::from_millis(1500), "{code}: {elapsed:?}");
    }
}

#[test]
fn garbage_is_rejected() {
    let (code, json, _) = ask(Reply::Garbage, &[]);
    assert_eq!(code, 2, "{json}");
    assert!(!rejections(&json).is_empty());
}

#[test]
fn a_server_in_the_next_ntp_era() {
    // 2036-02-07 06:29:00 UTC: era 1.  check_ntp_time 2.3.3 says 1.8e19 s.
    let target = 2_085_978_540i64;
    let (code, json, _) = ask(Reply::At(target), &[]);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let measured = json["offset"].as_f64().unwrap();
    assert!(
        (measured - (target - now) as f64).abs() < 2.0,
        "{measured} vs {}",
        target - now
    );
    assert_eq!(code, 2);
}

#[test]
fn a_silent_server_is_critical_within_the_timeout() {
    let (code, json, elapsed) = ask(Reply::Silent, &[]);
    assert_eq!(code, 2);
    assert!(
        json["message"].as_str().unwrap().starts_with("No response"),
        "{json}"
    );
    assert!(elapsed < Duration::from_millis(3500), "{elapsed:?}");
    assert!(
        elapsed >= Duration::from_millis(1900),
        "gave up early: {elapsed:?}"
    );
}

#[test]
fn prometheus_output_for_node_exporter() {
    let r = serve(Reply::Offset(0.5));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("clock.prom");
    let text = run_writing_metrics_to(
        clockcheck_asking(&r, "2").args(["--format", "prometheus"]),
        &file,
    );
    assert!(
        text.contains(
            "# TYPE clockcheck_offset_seconds gauge\nclockcheck_offset_seconds{server=\"127.0.0.1:"
        ),
        "{text}"
    );
    assert!(text.contains("clockcheck_status 0\n"), "{text}");
}

#[test]
fn usage_errors_are_unknown_never_2() {
    for args in [
        &["--bogus"][..],
        &["-w"],
        &["-t", "abc"],
        &["watch", "--interval", "soon"],
    ] {
        let out = cargo_bin_cmd!("clockcheck").args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(3), "{args:?}");
        assert!(
            String::from_utf8_lossy(&out.stdout).starts_with("CLOCK UNKNOWN"),
            "{args:?}"
        );
    }
    cargo_bin_cmd!("clockcheck").arg("--help").assert().code(0);
    cargo_bin_cmd!("clockcheck")
        .arg("--version")
        .assert()
        .code(0);
    let empty = tempfile::tempdir().unwrap();
    cargo_bin_cmd!("clockcheck")
        .arg("--root")
        .arg(empty.path())
        .assert()
        .code(3);
}

#[test]
fn a_flood_of_bad_replies_does_not_hide_the_good_one() {
    let (code, json, elapsed) = ask(Reply::Flood, &["-n", "1"]);
    assert_eq!(code, 0, "{json}");
    // The good reply left after the flood: the path is asymmetric, and any
    // client's error is then bounded by half the round-trip delay.
    let (offset, delay) = (
        json["offset"].as_f64().unwrap(),
        json["delay"].as_f64().unwrap(),
    );
    assert!(
        (offset - 0.125).abs() <= delay / 2.0 + 0.001,
        "offset {offset}, delay {delay}"
    );
    assert!(rejections(&json).len() <= 64, "the report stays bounded");
    assert!(json["servers"][0]["rejected_more"].as_u64().unwrap() > 0);
    assert!(elapsed < Duration::from_millis(3500), "{elapsed:?}");
}

#[test]
fn a_reply_from_another_port_is_not_taken() {
    let (code, json, elapsed) = ask(Reply::OtherPort, &[]);
    assert_eq!(code, 2, "{json}");
    assert!(
        json["message"].as_str().unwrap().starts_with("No response"),
        "{json}"
    );
    assert!(elapsed < Duration::from_millis(3500), "{elapsed:?}");
}

#[test]
fn duplicate_replies_are_harmless() {
    let (code, json, _) = ask(Reply::Twice, &["-n", "4"]);
    assert_eq!(code, 0, "{json}");
    assert!(
        (json["offset"].as_f64().unwrap() - 0.25).abs() < 0.001,
        "{json}"
    );
    assert_eq!(
        json["servers"][0]["samples"].as_array().unwrap().len(),
        4,
        "{json}"
    );
}

#[test]
fn a_server_slower_than_the_timeout_is_critical_on_time() {
    let r = serve(Reply::Slow(4000));
    let start = Instant::now();
    let out = clockcheck_asking(&r, "1").output().unwrap();
    let elapsed = start.elapsed();
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(
        elapsed < Duration::from_millis(2500),
        "took {elapsed:?} with -t 1"
    );
}
