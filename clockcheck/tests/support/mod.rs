//! A crafted NTP server on 127.0.0.1 for the tests: it answers each request
//! with what a [`Claim`] says (an offset, a stratum, a Kiss code), honestly
//! measured or lying.
#![allow(dead_code)] // Each test file uses a part.

use std::net::UdpSocket;
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

pub fn serve(claim: Claim) -> Responder {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
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
            let _ = socket.send_to(&reply.encode(), from);
        }
    });
    Responder { port, stop }
}
