//! A crafted NTP server on 127.0.0.1 for the tests: it answers each request
//! with what a [`Claim`] says (an offset, a stratum, a Kiss code), honestly
//! measured or lying.
#![allow(dead_code)] // Each test file uses a part.

use std::collections::HashSet;
use std::net::{SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use clockcheck::packet::{Packet, Timestamp};

/// What a hostile (or honest) responder claims.
#[derive(Clone, Copy)]
pub struct Claim {
    pub offset: f64,
    pub stratum: u8,
    pub reference_id: [u8; 4],
    pub root_dispersion: u32,
}

pub fn honest(offset: f64) -> Claim {
    Claim {
        offset,
        stratum: 2,
        reference_id: [127, 0, 0, 1],
        root_dispersion: 0,
    }
}

pub struct Responder {
    pub port: u16,
    stop: Arc<AtomicBool>,
}

impl Drop for Responder {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

pub fn now_ts(shift: f64) -> Timestamp {
    let d = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    Timestamp::from_unix(d.as_secs() as i64, d.subsec_nanos()).plus(shift)
}

/// Serves on a fresh port of 127.0.0.1 until dropped: `answer` is given the
/// socket, the bytes received, the decoded request and the sender, and
/// returns the bytes to send back (`None`: send nothing).
pub fn serve_with<F>(answer: F) -> Responder
where
    F: Fn(&UdpSocket, &[u8], Packet, SocketAddr) -> Option<Vec<u8>> + Send + 'static,
{
    serve_on(UdpSocket::bind("127.0.0.1:0").unwrap(), answer)
}

/// As [`serve_with`], on a socket the test bound (another loopback
/// address, a port shared by several addresses).
pub fn serve_on<F>(socket: UdpSocket, answer: F) -> Responder
where
    F: Fn(&UdpSocket, &[u8], Packet, SocketAddr) -> Option<Vec<u8>> + Send + 'static,
{
    socket
        .set_read_timeout(Some(Duration::from_millis(50)))
        .unwrap();
    let port = socket.local_addr().unwrap().port();
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    std::thread::spawn(move || {
        let mut buf = [0u8; 512];
        while !flag.load(Ordering::Relaxed) {
            let Ok((n, from)) = socket.recv_from(&mut buf) else {
                continue;
            };
            let Some(request) = Packet::decode(&buf[..n]) else {
                continue;
            };
            if let Some(bytes) = answer(&socket, &buf[..n], request, from) {
                let _ = socket.send_to(&bytes, from);
            }
        }
    });
    Responder { port, stop }
}

/// Answers every request with what `claim` says.
pub fn serve(claim: Claim) -> Responder {
    serve_with(answer_with(claim))
}

/// Answers on `socket` with what `claim` says.
pub fn serve_claim_on(socket: UdpSocket, claim: Claim) -> Responder {
    serve_on(socket, answer_with(claim))
}

fn answer_with(
    claim: Claim,
) -> impl Fn(&UdpSocket, &[u8], Packet, SocketAddr) -> Option<Vec<u8>> + Send + 'static {
    move |_, _, request, _| {
        let reply = Packet {
            leap: if claim.stratum == 0 { 3 } else { 0 },
            version: 4,
            mode: 4,
            stratum: claim.stratum,
            precision: -20,
            reference_id: claim.reference_id,
            root_dispersion: claim.root_dispersion,
            reference: now_ts(claim.offset - 10.0),
            origin: request.transmit,
            receive: now_ts(claim.offset),
            transmit: now_ts(claim.offset),
            ..Packet::default()
        };
        Some(reply.encode().to_vec())
    }
}

/// A sample as read back: metric name, labels, value.
pub type MetricSample = (String, Vec<(String, String)>, f64);

/// A strict reader of Prometheus' text format 0.0.4 (what node_exporter's
/// text-file collector accepts): every line is a HELP, a TYPE or a sample;
/// a family's HELP and TYPE come once, before its samples, and its samples
/// are together; names and labels are well formed; values are floats.
/// Returns the samples as (name, labels, value).
pub fn parse_exposition(text: &str) -> Vec<MetricSample> {
    fn is_name(s: &str) -> bool {
        let mut chars = s.chars();
        matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_' || c == ':')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
    }
    assert!(text.ends_with('\n'), "the file ends with a newline");
    let mut typed: HashSet<String> = HashSet::new();
    let mut helped: HashSet<String> = HashSet::new();
    let mut finished: HashSet<String> = HashSet::new();
    let mut current: Option<String> = None;
    let mut samples = Vec::new();
    for line in text.lines() {
        assert!(!line.is_empty(), "empty line in {text}");
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, _help) = rest.split_once(' ').expect(line);
            assert!(is_name(name), "{line}");
            assert!(helped.insert(name.to_string()), "second HELP: {line}");
            assert!(!typed.contains(name), "HELP after TYPE: {line}");
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').expect(line);
            assert!(is_name(name), "{line}");
            assert!(
                ["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind),
                "{line}"
            );
            assert!(typed.insert(name.to_string()), "second TYPE: {line}");
            if let Some(previous) = current.replace(name.to_string()) {
                finished.insert(previous);
            }
            continue;
        }
        assert!(!line.starts_with('#'), "unknown comment: {line}");
        // name{label="value",...} value
        let name_end = line.find(['{', ' ']).expect(line);
        let name = &line[..name_end];
        assert!(is_name(name), "{line}");
        assert_eq!(
            current.as_deref(),
            Some(name),
            "sample outside its family: {line}"
        );
        assert!(!finished.contains(name), "family split: {line}");
        let mut rest = &line[name_end..];
        let mut labels = Vec::new();
        if let Some(after) = rest.strip_prefix('{') {
            let mut pos = 0;
            loop {
                let eq = after[pos..].find('=').expect(line) + pos;
                let label = &after[pos..eq];
                assert!(is_name(label) && !label.starts_with("__"), "{line}");
                assert_eq!(after.as_bytes().get(eq + 1), Some(&b'"'), "{line}");
                let mut i = eq + 2;
                let mut value = String::new();
                loop {
                    let c = after[i..].chars().next().expect(line);
                    match c {
                        '\\' => {
                            match after[i + 1..].chars().next().expect(line) {
                                '\\' => value.push('\\'),
                                '"' => value.push('"'),
                                'n' => value.push('\n'),
                                other => panic!("bad escape \\{other} in {line}"),
                            }
                            i += 2;
                        }
                        '"' => {
                            i += 1;
                            break;
                        }
                        c => {
                            value.push(c);
                            i += c.len_utf8();
                        }
                    }
                }
                labels.push((label.to_string(), value));
                match after[i..].chars().next() {
                    Some(',') => pos = i + 1,
                    Some('}') => {
                        rest = &after[i + 1..];
                        break;
                    }
                    _ => panic!("{line}"),
                }
            }
        }
        let value_text = rest.strip_prefix(' ').expect(line);
        let mut parts = value_text.split(' ');
        let value = parts.next().unwrap();
        let parsed: f64 = match value {
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            "NaN" => f64::NAN,
            v => v.parse().unwrap_or_else(|_| panic!("bad value in {line}")),
        };
        if let Some(ts) = parts.next() {
            ts.parse::<i64>().expect(line);
        }
        assert!(parts.next().is_none(), "{line}");
        assert!(typed.contains(name) && helped.contains(name), "{line}");
        samples.push((name.to_string(), labels, parsed));
    }
    samples
}

pub const LIBFAKETIME: &str = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";

/// chronyd unpacked by scripts/install-test-deps.sh (installing chrony would
/// remove the host's own time daemon), or an installed one.
pub fn chronyd_binary() -> PathBuf {
    let unpacked =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/test-tools/chrony/usr/sbin/chronyd");
    if unpacked.exists() {
        unpacked
    } else {
        PathBuf::from("/usr/sbin/chronyd")
    }
}

/// A chronyd we started (`-x`, no CAP_SYS_TIME), stopped by its PID when
/// dropped.
pub struct Chronyd {
    child: Child,
    _dir: tempfile::TempDir,
}

impl Drop for Chronyd {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

/// Starts chronyd serving on 127.0.0.1:`port` (as stratum 8 when
/// `synchronised`), `faketime` ahead or behind with libfaketime, and waits
/// (up to 2.5 s) until `answers(port)` says it answers.
pub fn start_chronyd(
    port: u16,
    faketime: Option<&str>,
    synchronised: bool,
    answers: impl Fn(u16) -> bool,
) -> Chronyd {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let conf = d.join("chrony.conf");
    let local = if synchronised {
        "local stratum 8\n"
    } else {
        ""
    };
    std::fs::write(
        &conf,
        format!(
            "port {port}\nbindaddress 127.0.0.1\nallow 127.0.0.1\n{local}cmdport 0\nbindcmdaddress /\npidfile {}/chronyd.pid\ndriftfile {}/drift\n",
            d.display(),
            d.display()
        ),
    )
    .unwrap();
    let mut cmd = Command::new("setpriv");
    cmd.args(["--bounding-set=-sys_time"])
        .arg(chronyd_binary())
        .args(["-x", "-d", "-u", "root", "-f"])
        .arg(&conf);
    if let Some(f) = faketime {
        // The library itself, not the faketime wrapper: one PID to stop.
        cmd.env("LD_PRELOAD", LIBFAKETIME)
            .env("FAKETIME", f)
            .env("TZ", "UTC");
    }
    let child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chronyd");
    let server = Chronyd { child, _dir: dir };
    // It binds within ~40 ms.
    for _ in 0..50 {
        if answers(port) {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    server
}

/// Runs `cmd` with `--output FILE`: it must succeed and print nothing;
/// returns what it wrote to the file.
pub fn run_writing_metrics_to(cmd: &mut assert_cmd::Command, file: &Path) -> String {
    let out = cmd.arg("--output").arg(file).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty(), "metrics go to the file only");
    std::fs::read_to_string(file).unwrap()
}
