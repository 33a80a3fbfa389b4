//! The pieces of a bzip2 file that can be decoded apart: its blocks.
//!
//! A bzip2 stream is a header (`BZh1`..`BZh9`), blocks, and an end-of-stream
//! marker with the stream's CRC.  Each block starts with the 48-bit magic
//! 0x314159265359 at any bit offset and is decoded without the others, so
//! lbzip2 (and we) find the magics and decode the blocks on every core.
//! A block's bits, cut out and framed as a one-block stream of their own
//! (header, block, end marker, CRC), are something libbz2 decodes; our own
//! block decoder ([`crate::bzip2_block`]) decodes them faster and leaves
//! every block it cannot decode whole to libbz2 (libbz2-rs, through the
//! `bzip2` crate), so failures stay the sequential decoder's.
//!
//! The magic can also occur by chance inside a block's compressed data (a
//! *false marker*).  The cut then ends the block too early and its decode
//! fails; [`crate::parallel_bzip2`] then joins it with the next piece and
//! tries again, as lbzip2 does.
//!
//! Why not a crate (evaluated for issue 24): `parallel_bzip2_decoder` 0.2.1
//! turns a failed block into a clean end of file (a truncated or corrupt
//! archive would silently lose its tail), keeps out-of-order blocks without
//! bound, unwraps a channel send, needs the whole file in memory and runs
//! its own rayon pool; `lbzip2` 0.5.13 is a separate BWT decoder (not
//! libbz2) on its own thread engine, from one author's small ecosystem.
//! Neither can share the search's worker threads.

use aho_corasick::AhoCorasick;

// The markers are the block decoder's (the leaf module), so the two
// modules do not depend on each other.
use crate::bzip2_block::Decoded;
pub use crate::bzip2_block::{BLOCK_MAGIC, END_MAGIC};

/// The most compressed bytes a block of a level-`level` stream can take:
/// at most `level` x 100,000 symbols after the first run-length step, each
/// coded in at most 20 bits, plus its tables and selectors.  A piece joined
/// past this is damaged, not a block cut by false markers.
pub fn max_block_bytes(level: u8) -> usize {
    usize::from(level) * 250_000 + 64 * 1024
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MarkerKind {
    Block,
    End,
}

/// A magic found in the compressed bytes (maybe by chance).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Marker {
    pub kind: MarkerKind,
    /// Bit position of the magic's first bit in the file.
    pub bit: u64,
    /// The 32 bits after the magic: the block's CRC, or the stream's.
    pub crc: u32,
}

/// Finds the markers in the compressed bytes as they arrive: 16 four-byte
/// patterns (each magic at each of the 8 bit offsets; four of its bytes are
/// whole at every offset), found with aho-corasick's vectorised search and
/// then checked bit for bit.
pub struct MarkerFinder {
    patterns: AhoCorasick,
}

/// Bytes a marker needs after its first byte to be checked: the magic (up to
/// 7 bytes at an offset) and its CRC (4 more).
const MARKER_SPAN: usize = 11;

impl Default for MarkerFinder {
    fn default() -> Self {
        Self::new()
    }
}

impl MarkerFinder {
    pub fn new() -> MarkerFinder {
        let mut patterns = Vec::new();
        for magic in [BLOCK_MAGIC, END_MAGIC] {
            for shift in 0..8 {
                // The magic starting `shift` bits into byte 0: bytes 1..5 are
                // all magic.
                let bytes = ((magic << 16) >> shift).to_be_bytes();
                patterns.push(bytes[1..5].to_vec());
            }
        }
        let patterns = AhoCorasick::new(patterns).expect("16 short literal patterns always build");
        MarkerFinder { patterns }
    }

    /// Appends the markers whose first byte is in `buf[from..]` to `out`,
    /// as far as `buf` holds enough bytes to check them (all of them when
    /// `at_eof`); `base` is the file offset of `buf[0]`.  Returns where the
    /// next call should start (a marker that did not fit is found again).
    pub fn find(
        &self,
        buf: &[u8],
        from: usize,
        base: u64,
        at_eof: bool,
        out: &mut Vec<Marker>,
    ) -> usize {
        let limit = if at_eof {
            buf.len()
        } else {
            buf.len().saturating_sub(MARKER_SPAN)
        };
        // The pattern starts one byte after the marker's first byte.
        let mut at = from + 1;
        while at < buf.len() {
            let input = aho_corasick::Input::new(buf).range(at..);
            let Some(found) = self.patterns.find(input) else {
                break;
            };
            let first = found.start() - 1;
            if first >= limit {
                return first;
            }
            let pattern = found.pattern().as_usize();
            let (kind, magic) = if pattern < 8 {
                (MarkerKind::Block, BLOCK_MAGIC)
            } else {
                (MarkerKind::End, END_MAGIC)
            };
            let shift = (pattern % 8) as u64;
            let bit = first as u64 * 8 + shift;
            if read_bits(buf, bit, 48) == magic {
                out.push(Marker {
                    kind,
                    bit: base * 8 + bit,
                    crc: read_bits(buf, bit + 48, 32) as u32,
                });
            }
            at = found.start() + 1;
        }
        limit.max(from)
    }
}

/// `count` (at most 57) bits of `buf` from bit `bit` on, big-endian; bits
/// past the end read as zero.
pub fn read_bits(buf: &[u8], bit: u64, count: u32) -> u64 {
    let byte = (bit / 8) as usize;
    let mut word = [0u8; 8];
    let available = buf.len().saturating_sub(byte).min(8);
    word[..available].copy_from_slice(&buf[byte..byte + available]);
    let word = u64::from_be_bytes(word);
    (word << (bit % 8)) >> (64 - count)
}

/// A block's bits framed as a stream of its own: `BZh9`, the bits
/// `[start, stop)` of `bytes` (which hold the file from byte `start / 8`
/// on, relative), the end marker, and the block's CRC as the stream's (a
/// one-block stream's CRC is its block's).  Level 9 fits every block.
pub fn framed(bytes: &[u8], start_bit: u64, stop_bit: u64, crc: u32) -> Vec<u8> {
    let mut out = BitWriter::with_capacity(bytes.len() + 16);
    out.bytes.extend_from_slice(b"BZh9");
    let mut bit = start_bit;
    while bit < stop_bit {
        let count = (stop_bit - bit).min(32) as u32;
        out.put(read_bits(bytes, bit, count), count);
        bit += u64::from(count);
    }
    out.put(END_MAGIC, 48);
    out.put(u64::from(crc), 32);
    out.finish()
}

struct BitWriter {
    bytes: Vec<u8>,
    pending: u64,
    pending_bits: u32,
}

impl BitWriter {
    fn with_capacity(capacity: usize) -> BitWriter {
        BitWriter {
            bytes: Vec::with_capacity(capacity),
            pending: 0,
            pending_bits: 0,
        }
    }

    /// Appends the low `count` (at most 48) bits of `value`.
    fn put(&mut self, value: u64, count: u32) {
        let value = value & ((1u64 << count) - 1);
        self.pending = (self.pending << count) | value;
        self.pending_bits += count;
        while self.pending_bits >= 8 {
            self.pending_bits -= 8;
            self.bytes.push((self.pending >> self.pending_bits) as u8);
        }
        self.pending &= (1u64 << self.pending_bits) - 1;
    }

    fn finish(mut self) -> Vec<u8> {
        if self.pending_bits > 0 {
            self.bytes
                .push((self.pending << (8 - self.pending_bits)) as u8);
        }
        self.bytes
    }
}

/// Why a piece did not decode on its own.
#[derive(Debug, PartialEq, Eq)]
pub enum PieceError {
    /// Not a whole block (cut by a false marker, truncated or damaged).
    NotABlock,
    /// It decodes to more than the caller wanted to hold; decode it
    /// streaming instead.
    TooBig,
}

/// Decodes one framed block ([`crate::bzip2_block`], or libbz2 where that
/// declines), holding at most `max_output` bytes of its output.
pub fn decode_framed(framed: &[u8], max_output: usize) -> Result<Vec<u8>, PieceError> {
    // Our faster decoder answers for the blocks it decodes whole.
    match crate::bzip2_block::decode_framed(framed, max_output) {
        Some(Decoded::Text(text)) => return Ok(text),
        Some(Decoded::TooBig) => return Err(PieceError::TooBig),
        None => {}
    }
    let mut decoder = bzip2::Decompress::new(false);
    let mut out = Vec::with_capacity(framed.len().saturating_mul(8).min(max_output));
    loop {
        if out.len() == out.capacity() {
            if out.len() >= max_output {
                return Err(PieceError::TooBig);
            }
            out.reserve((out.len() + 1024 * 1024).min(max_output - out.len()));
        }
        let consumed = decoder.total_in() as usize;
        let before = out.len();
        match decoder.decompress_vec(&framed[consumed..], &mut out) {
            Ok(bzip2::Status::StreamEnd) => return Ok(out),
            Ok(_) => {
                let stuck = decoder.total_in() as usize == consumed && out.len() == before;
                if stuck && out.len() < out.capacity() {
                    // All input taken, room left, and no end: not a block.
                    return Err(PieceError::NotABlock);
                }
            }
            Err(_) => return Err(PieceError::NotABlock),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::io::Write;

    /// `data` as libbz2 compresses it at `level` (the other bzip2 modules'
    /// tests use it too).
    pub(crate) fn compress(data: &[u8], level: u32) -> Vec<u8> {
        let mut enc = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::new(level));
        enc.write_all(data).unwrap();
        enc.finish().unwrap()
    }

    fn all_markers(bytes: &[u8]) -> Vec<Marker> {
        let mut out = Vec::new();
        MarkerFinder::new().find(bytes, 0, 0, true, &mut out);
        out
    }

    #[test]
    fn finds_the_first_block_right_after_the_header_and_the_end_marker() {
        let bytes = compress(b"hello\n", 9);
        let markers = all_markers(&bytes);
        assert_eq!(
            markers.first().map(|m| (m.kind, m.bit)),
            Some((MarkerKind::Block, 32))
        );
        assert_eq!(markers.last().map(|m| m.kind), Some(MarkerKind::End));
    }

    #[test]
    fn finds_markers_at_every_bit_offset_and_across_calls() {
        for shift in 0..8u32 {
            // A marker written `shift` bits into a run of zero bytes.
            let mut w = BitWriter::with_capacity(64);
            w.put(0, 24 + shift);
            w.put(BLOCK_MAGIC, 48);
            w.put(0xdead_beef, 32);
            w.put(0, 40);
            let bytes = w.finish();
            assert_eq!(
                all_markers(&bytes),
                [Marker {
                    kind: MarkerKind::Block,
                    bit: 24 + u64::from(shift),
                    crc: 0xdead_beef
                }]
            );
            // Fed in two pieces, split inside the marker.
            let finder = MarkerFinder::new();
            let mut out = Vec::new();
            let next = finder.find(&bytes[..6], 0, 0, false, &mut out);
            assert!(out.is_empty());
            finder.find(&bytes, next, 0, true, &mut out);
            assert_eq!(out.len(), 1, "shift {shift}");
        }
    }

    #[test]
    fn a_framed_block_decodes_to_its_text() {
        let text: Vec<u8> = (0..300_000u32)
            .flat_map(|n| format!("line {n}\n").into_bytes())
            .collect();
        let bytes = compress(&text, 1);
        let markers = all_markers(&bytes);
        let mut decoded = Vec::new();
        for pair in markers.windows(2) {
            if pair[0].kind == MarkerKind::Block {
                let piece = framed(&bytes, pair[0].bit, pair[1].bit, pair[0].crc);
                decoded.extend(decode_framed(&piece, 1 << 24).unwrap());
            }
        }
        assert!(markers.len() > 3, "several blocks");
        assert_eq!(decoded, text);
    }

    #[test]
    fn a_cut_block_is_not_a_block_and_a_big_one_is_too_big() {
        let text = vec![b'a'; 2_000_000];
        let bytes = compress(&text, 9);
        let markers = all_markers(&bytes);
        let (first, second) = (markers[0], markers[1]);
        let whole = framed(&bytes, first.bit, second.bit, first.crc);
        assert_eq!(decode_framed(&whole, 1 << 10), Err(PieceError::TooBig));
        let cut = framed(&bytes, first.bit, (first.bit + second.bit) / 2, first.crc);
        assert_eq!(decode_framed(&cut, 1 << 24), Err(PieceError::NotABlock));
    }
}
