//! NTP packets: decode(encode(p)) == p, and validating any reply never panics.
#![no_main]

use clockcheck::packet::{Packet, Timestamp};
use clockcheck::query::validate;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(p) = Packet::decode(data) {
        assert_eq!(&p.encode()[..], &data[..48], "encode(decode(x)) == x");
        assert_eq!(Packet::decode(&p.encode()), Some(p), "decode(encode(p)) == p");
        let _ = p.root_distance();
        let _ = p.kiss_code();
    }
    let nonce = Timestamp(data.iter().take(8).fold(0u64, |a, b| a << 8 | u64::from(*b)));
    let _ = validate(data, nonce);
    if data.len() >= 16 {
        let a = Timestamp(u64::from_be_bytes(data[..8].try_into().unwrap()));
        let b = Timestamp(u64::from_be_bytes(data[8..16].try_into().unwrap()));
        // Era-safe differences are antisymmetric and bounded by 2^31 s.
        let d = a.minus(b);
        assert!(d.abs() <= 2_147_483_648.0);
        assert!((d + b.minus(a)).abs() < 1e-6 || d == -2_147_483_648.0);
    }
});
