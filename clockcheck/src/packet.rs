//! The NTP packet (RFC 5905), and timestamp arithmetic that stays correct
//! across the 2036 era rollover: differences are taken in wrapping 64-bit
//! two's complement and read as signed (RFC 5905 §6), which is right while
//! the two clocks are within 68 years of each other, whatever the era.

/// Seconds from 1900-01-01 (NTP) to 1970-01-01 (Unix).
pub const UNIX_EPOCH_NTP: u64 = 2_208_988_800;

/// A 64-bit NTP timestamp: 32 bits of seconds, 32 bits of fraction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Timestamp(pub u64);

impl Timestamp {
    /// From a time since the Unix epoch, in the NTP era it falls in (the
    /// seconds wrap modulo 2^32 in 2036, as on the wire).
    pub fn from_unix(secs: i64, nanos: u32) -> Timestamp {
        let ntp_secs = (secs + UNIX_EPOCH_NTP as i64) as u64 & 0xFFFF_FFFF;
        let frac = ((u64::from(nanos) << 32) / 1_000_000_000) & 0xFFFF_FFFF;
        Timestamp((ntp_secs << 32) | frac)
    }

    /// `self - other` in seconds, era-safe.
    pub fn minus(self, other: Timestamp) -> f64 {
        self.0.wrapping_sub(other.0) as i64 as f64 / 4_294_967_296.0
    }

    /// `self + seconds` (for T4 = T1 + monotonic elapsed).
    pub fn plus(self, seconds: f64) -> Timestamp {
        Timestamp(
            self.0
                .wrapping_add((seconds * 4_294_967_296.0) as i64 as u64),
        )
    }

    pub fn is_zero(self) -> bool {
        self.0 == 0
    }
}

/// Leap indicator 3: the server's clock is not synchronised.
pub const LEAP_ALARM: u8 = 3;
pub const MODE_CLIENT: u8 = 3;
pub const MODE_SERVER: u8 = 4;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Packet {
    pub leap: u8,
    pub version: u8,
    pub mode: u8,
    pub stratum: u8,
    pub poll: i8,
    pub precision: i8,
    /// NTP short format, 16.16.
    pub root_delay: u32,
    pub root_dispersion: u32,
    pub reference_id: [u8; 4],
    pub reference: Timestamp,
    pub origin: Timestamp,
    pub receive: Timestamp,
    pub transmit: Timestamp,
}

pub const LEN: usize = 48;

impl Packet {
    /// A client request: version 4, mode 3, `nonce` in the transmit field
    /// (the server echoes it as origin; RFC 9109 practice).
    pub fn request(nonce: Timestamp) -> Packet {
        Packet {
            version: 4,
            mode: MODE_CLIENT,
            transmit: nonce,
            ..Packet::default()
        }
    }

    pub fn encode(&self) -> [u8; LEN] {
        let mut b = [0u8; LEN];
        b[0] = (self.leap & 3) << 6 | (self.version & 7) << 3 | (self.mode & 7);
        b[1] = self.stratum;
        b[2] = self.poll as u8;
        b[3] = self.precision as u8;
        b[4..8].copy_from_slice(&self.root_delay.to_be_bytes());
        b[8..12].copy_from_slice(&self.root_dispersion.to_be_bytes());
        b[12..16].copy_from_slice(&self.reference_id);
        for (at, ts) in [
            (16, self.reference),
            (24, self.origin),
            (32, self.receive),
            (40, self.transmit),
        ] {
            b[at..at + 8].copy_from_slice(&ts.0.to_be_bytes());
        }
        b
    }

    /// Decodes the first 48 bytes; `None` for a shorter datagram.
    /// (Extension fields and MACs after them are ignored.)
    pub fn decode(bytes: &[u8]) -> Option<Packet> {
        if bytes.len() < LEN {
            return None;
        }
        let u32_at = |at: usize| {
            u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
        };
        let ts_at = |at: usize| Timestamp(u64::from(u32_at(at)) << 32 | u64::from(u32_at(at + 4)));
        Some(Packet {
            leap: bytes[0] >> 6,
            version: (bytes[0] >> 3) & 7,
            mode: bytes[0] & 7,
            stratum: bytes[1],
            poll: bytes[2] as i8,
            precision: bytes[3] as i8,
            root_delay: u32_at(4),
            root_dispersion: u32_at(8),
            reference_id: [bytes[12], bytes[13], bytes[14], bytes[15]],
            reference: ts_at(16),
            origin: ts_at(24),
            receive: ts_at(32),
            transmit: ts_at(40),
        })
    }

    /// Root distance in seconds: root delay / 2 + root dispersion.
    pub fn root_distance(&self) -> f64 {
        short(self.root_delay) / 2.0 + short(self.root_dispersion)
    }

    /// The Kiss-o'-Death code of a stratum-0 packet (`RATE`, `DENY`, ...).
    /// Codes are four ASCII letters or digits (RFC 5905 §7.4); any other
    /// byte is shown as `\xNN`, so a hostile server cannot put `|` (the
    /// perfdata separator), a newline or an escape sequence into the line.
    pub fn kiss_code(&self) -> String {
        let mut code = String::new();
        for &b in &self.reference_id {
            if b.is_ascii_uppercase() || b.is_ascii_digit() {
                code.push(b as char);
            } else {
                code.push_str(&format!("\\x{b:02x}"));
            }
        }
        code
    }

    /// Server precision in seconds (2^precision).
    pub fn precision_seconds(&self) -> f64 {
        2f64.powi(i32::from(self.precision))
    }
}

/// NTP short format (16.16) in seconds.
pub fn short(v: u32) -> f64 {
    f64::from(v) / 65536.0
}

/// Offset and delay from the four timestamps (RFC 5905 §8).  A positive
/// offset means the server is ahead of the local clock.
pub fn offset_delay(t1: Timestamp, t2: Timestamp, t3: Timestamp, t4: Timestamp) -> (f64, f64) {
    let offset = (t2.minus(t1) + t3.minus(t4)) / 2.0;
    let delay = t4.minus(t1) - t3.minus(t2);
    (offset, delay)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn unix_epoch_and_the_2036_rollover() {
        assert_eq!(Timestamp::from_unix(0, 0).0 >> 32, UNIX_EPOCH_NTP);
        // 2036-02-07 06:28:16 UTC is the start of era 1: seconds wrap to 0.
        let rollover = 2_085_978_496;
        assert_eq!(Timestamp::from_unix(rollover, 0).0 >> 32, 0);
        let before = Timestamp::from_unix(rollover - 10, 0);
        let after = Timestamp::from_unix(rollover + 10, 0);
        assert_eq!(after.minus(before), 20.0);
        assert_eq!(before.minus(after), -20.0);
    }

    #[test]
    fn offset_across_eras_is_not_off_by_2_pow_32() {
        // Server 9.2 years ahead, in the next era (check_ntp_time says 1.8e19).
        let client = Timestamp::from_unix(1_795_910_400, 0); // 2026-11-29
        let server = Timestamp::from_unix(2_085_978_540, 0); // 2036-02-07 06:29:00
        let (offset, delay) = offset_delay(client, server, server, client);
        assert!((offset - 290_068_140.0).abs() < 1e-3, "{offset}");
        assert!(delay.abs() < 1e-6);
    }

    #[test]
    fn offset_sign_and_delay() {
        let t1 = Timestamp::from_unix(1000, 0);
        let t2 = Timestamp::from_unix(970, 1_000_000); // server 30 s behind, 1 ms later
        let t3 = Timestamp::from_unix(970, 2_000_000);
        let t4 = Timestamp::from_unix(1000, 3_000_000);
        let (offset, delay) = offset_delay(t1, t2, t3, t4);
        assert!((offset + 30.0).abs() < 1e-6, "{offset}");
        assert!((delay - 0.002).abs() < 1e-6, "{delay}");
    }

    #[test]
    fn kiss_codes_are_letters_and_digits_only() {
        let kiss = |id: [u8; 4]| {
            Packet {
                reference_id: id,
                ..Packet::default()
            }
            .kiss_code()
        };
        assert_eq!(kiss(*b"RATE"), "RATE");
        assert_eq!(kiss(*b"|o=1"), "\\x7c\\x6f\\x3d1");
        assert_eq!(kiss([b'A', b'\n', 0x1b, b'a']), "A\\x0a\\x1b\\x61");
    }

    #[test]
    fn short_packets_do_not_decode() {
        assert!(Packet::decode(&[0u8; 47]).is_none());
        assert!(Packet::decode(&[0u8; 48]).is_some());
    }

    proptest! {
        #[test]
        fn decode_encode_round_trip(bytes in prop::collection::vec(any::<u8>(), 48)) {
            let p = Packet::decode(&bytes).unwrap();
            prop_assert_eq!(p.encode().to_vec(), bytes);
            prop_assert_eq!(Packet::decode(&p.encode()), Some(p));
        }
    }
}
