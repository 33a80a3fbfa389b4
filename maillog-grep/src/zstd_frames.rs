//! Where the frames of a zstd file begin and end, found without decoding.
//!
//! A zstd file is a sequence of frames (RFC 8878, section 3.1): zstd
//! frames, each a header and blocks whose headers give their sizes, and
//! skippable frames (pzstd writes one before each zstd frame, holding the
//! next frame's size), whose header gives their length.  Walking the block
//! headers costs three bytes per block of up to 128 KiB, so the frames can
//! be handed to several decoders at once.  The walk checks only what it
//! needs to find the next frame; the decoder checks everything else.

/// A zstd frame's magic number, little-endian on disk.
const FRAME_MAGIC: u32 = 0xFD2F_B528;
/// Skippable frames have magic 0x184D2A50 to 0x184D2A5F.
const SKIPPABLE_MAGIC: u32 = 0x184D_2A50;
/// No block is larger (RFC 8878, Block_Maximum_Size).
const MAX_BLOCK_SIZE: usize = 128 * 1024;

/// What the bytes at the start of a frame say about it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Start {
    /// A zstd frame; its blocks begin `header_len` bytes in.
    Frame(FrameHeader),
    /// A skippable frame of `len` bytes in all (header included).
    Skippable { len: u64 },
    /// More bytes are needed to tell.
    Incomplete,
    /// Not the start of a frame.
    Invalid(&'static str),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameHeader {
    pub header_len: usize,
    /// The frame ends with a 4-byte checksum after its last block.
    pub checksum: bool,
    /// The decoded size, when the header gives it.
    pub content_size: Option<u64>,
}

fn le_u32(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at + 4)?;
    Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

/// Reads the header of the frame `bytes` begin with.
pub fn frame_start(bytes: &[u8]) -> Start {
    let Some(magic) = le_u32(bytes, 0) else {
        return Start::Incomplete;
    };
    if magic & 0xFFFF_FFF0 == SKIPPABLE_MAGIC {
        return match le_u32(bytes, 4) {
            Some(size) => Start::Skippable {
                len: 8 + u64::from(size),
            },
            None => Start::Incomplete,
        };
    }
    if magic != FRAME_MAGIC {
        return Start::Invalid("not a zstd frame (unknown magic number)");
    }
    let Some(&descriptor) = bytes.get(4) else {
        return Start::Incomplete;
    };
    if descriptor & 0x08 != 0 {
        return Start::Invalid("reserved bit set in a zstd frame header");
    }
    let size_flag = descriptor >> 6;
    let single_segment = descriptor & 0x20 != 0;
    let dictionary_len = [0, 1, 2, 4][usize::from(descriptor & 3)];
    let size_len = match (size_flag, single_segment) {
        (0, false) => 0,
        (0, true) => 1,
        (1, _) => 2,
        (2, _) => 4,
        _ => 8,
    };
    let size_at = 5 + usize::from(!single_segment) + dictionary_len;
    let header_len = size_at + size_len;
    let Some(size_bytes) = bytes.get(size_at..header_len) else {
        return Start::Incomplete;
    };
    let mut size = [0u8; 8];
    size[..size_len].copy_from_slice(size_bytes);
    let size = u64::from_le_bytes(size);
    Start::Frame(FrameHeader {
        header_len,
        checksum: descriptor & 0x04 != 0,
        // The 2-byte form counts from 256.
        content_size: (size_len > 0).then_some(if size_len == 2 { size + 256 } else { size }),
    })
}

/// What a block header says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Block {
    /// A block of `len` bytes in all (its 3-byte header included).
    Next {
        len: usize,
        last: bool,
    },
    Incomplete,
    Invalid(&'static str),
}

/// Reads the block header `bytes` begin with.
pub fn block(bytes: &[u8]) -> Block {
    let Some(b) = bytes.get(..3) else {
        return Block::Incomplete;
    };
    let header = u32::from(b[0]) | u32::from(b[1]) << 8 | u32::from(b[2]) << 16;
    let last = header & 1 != 0;
    let size = (header >> 3) as usize;
    let content = match (header >> 1) & 3 {
        0 | 2 => size, // raw, compressed
        1 => 1,        // one byte repeated `size` times
        _ => return Block::Invalid("reserved zstd block type"),
    };
    if size > MAX_BLOCK_SIZE {
        return Block::Invalid("zstd block larger than 128 KiB");
    }
    Block::Next {
        len: 3 + content,
        last,
    }
}

/// The walk over one zstd frame's blocks, resumable as bytes arrive.
#[derive(Clone, Copy, Debug)]
pub struct FrameWalk {
    pub header: FrameHeader,
    /// Where the next block header is, from the frame's start.
    next_block: usize,
}

/// How far a walk got.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Walked {
    /// The frame is `len` bytes long.
    Complete { len: usize },
    /// The frame goes on past the bytes given; `scanned` bytes are known
    /// to belong to it.
    Incomplete { scanned: usize },
    /// A block header that no encoder writes, `at` bytes in.
    Invalid { at: usize, why: &'static str },
}

impl FrameWalk {
    pub fn new(header: FrameHeader) -> FrameWalk {
        FrameWalk {
            header,
            next_block: header.header_len,
        }
    }

    /// Walks on over `frame` (the frame's bytes from its start, as many
    /// as are here).
    pub fn walk(&mut self, frame: &[u8]) -> Walked {
        loop {
            match block(frame.get(self.next_block..).unwrap_or(&[])) {
                Block::Next { len, last: false } => self.next_block += len,
                Block::Next { len, last: true } => {
                    // The walk stays at the last block until the whole
                    // frame is here: a walk resumed past it would read
                    // the checksum as a block header.
                    let end = self.next_block + len + if self.header.checksum { 4 } else { 0 };
                    return if end <= frame.len() {
                        Walked::Complete { len: end }
                    } else {
                        Walked::Incomplete {
                            scanned: self.next_block.min(frame.len()),
                        }
                    };
                }
                Block::Incomplete => {
                    return Walked::Incomplete {
                        scanned: self.next_block.min(frame.len()),
                    };
                }
                Block::Invalid(why) => {
                    return Walked::Invalid {
                        at: self.next_block,
                        why,
                    };
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(bytes: &[u8]) -> Vec<(usize, Option<u64>)> {
        let mut at = 0;
        let mut out = Vec::new();
        while at < bytes.len() {
            match frame_start(&bytes[at..]) {
                Start::Frame(header) => match FrameWalk::new(header).walk(&bytes[at..]) {
                    Walked::Complete { len } => {
                        out.push((len, header.content_size));
                        at += len;
                    }
                    other => panic!("{other:?}"),
                },
                Start::Skippable { len } => at += len as usize,
                other => panic!("{other:?}"),
            }
        }
        out
    }

    #[test]
    fn concatenated_frames_are_found_with_their_sizes() {
        // One-shot compression writes the content size (streaming, only
        // for empty input).
        let a = zstd::bulk::compress(&b"one line\n".repeat(100_000), 3).unwrap();
        let b = zstd::encode_all(&b""[..], 1).unwrap();
        let mut bytes = a.clone();
        bytes.extend_from_slice(&[0x5e, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 9, 9, 9]);
        bytes.extend_from_slice(&b);
        assert_eq!(
            frames(&bytes),
            [(a.len(), Some(900_000)), (b.len(), Some(0))]
        );
    }

    #[test]
    fn a_frame_cut_anywhere_is_incomplete_never_complete() {
        let a = zstd::encode_all(&b"one line\n".repeat(100_000)[..], 3).unwrap();
        for cut in 0..a.len() {
            let result = match frame_start(&a[..cut]) {
                Start::Frame(header) => FrameWalk::new(header).walk(&a[..cut]),
                Start::Incomplete => continue,
                other => panic!("cut {cut}: {other:?}"),
            };
            assert!(matches!(result, Walked::Incomplete { .. }), "cut {cut}");
        }
    }

    /// A walk resumed after the bytes ran out anywhere, even between the
    /// last block and the checksum, finds the frame's end.
    #[test]
    fn a_walk_resumed_anywhere_finds_the_same_end() {
        let mut encoder = zstd::Encoder::new(Vec::new(), 3).unwrap();
        encoder.include_checksum(true).unwrap();
        std::io::Write::write_all(&mut encoder, &b"one line\n".repeat(50_000)).unwrap();
        let mut frame = encoder.finish().unwrap();
        let len = frame.len();
        // What follows the frame looks like a block header.
        frame.extend_from_slice(&[0x00, 0x01, 0x00, 0xaa, 0xaa]);
        let Start::Frame(header) = frame_start(&frame) else {
            panic!("not a frame")
        };
        assert!(header.checksum);
        for cut in header.header_len..len {
            let mut walk = FrameWalk::new(header);
            assert!(
                matches!(walk.walk(&frame[..cut]), Walked::Incomplete { .. }),
                "cut {cut}"
            );
            assert_eq!(walk.walk(&frame), Walked::Complete { len }, "cut {cut}");
        }
    }

    #[test]
    fn reserved_block_types_and_magic_numbers_are_invalid() {
        assert!(matches!(frame_start(b"BZh9...."), Start::Invalid(_)));
        assert_eq!(
            block(&[0x06, 0, 0]),
            Block::Invalid("reserved zstd block type")
        );
        assert_eq!(
            block(&[0x03, 0, 0x20]),
            Block::Invalid("zstd block larger than 128 KiB")
        );
        assert_eq!(block(&[0x03, 0, 0]), Block::Next { len: 4, last: true });
    }
}
