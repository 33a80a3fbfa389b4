//! A bzip2 file decoded block by block on every worker, read in order.
//!
//! [`ParallelBzip2`] is a `Read` that gives exactly the bytes the sequential
//! decoder gives (every stream of a multi-stream file, pbzip2's one-block
//! streams included), and fails where it fails.  It finds the block markers
//! in the compressed bytes ([`crate::bzip2_blocks`]), offers the next few
//! blocks to the other workers ([`crate::helping`]), and walks the chain of
//! blocks in order: a block must begin where the one before it ended, so a
//! marker found by chance inside a block is passed over, and a block cut
//! short by one is joined with the next piece and decoded again.  Each
//! stream's CRC is checked against its blocks' CRCs, as libbz2 does.
//!
//! Memory is bounded: at most `window` pieces are in flight, each holding
//! its compressed bytes (at most a few MiB) and at most
//! [`MAX_HELD_OUTPUT`] of output; a block that decodes to more (a long run
//! of one byte) is checked and then decoded streaming, on this thread.

use std::collections::VecDeque;
use std::io::{self, Read};
use std::sync::Arc;

use crate::bzip2_blocks::{
    self, Marker, MarkerFinder, MarkerKind, PieceError, decode_framed, framed,
};
use crate::helping::{Helpers, Task};
use crate::in_order::{InOrder, Output, Pieces, append_from};

/// The most output of one block held in memory.  A log's block decodes to
/// about 900 kB; only runs of one byte make it larger (up to 45 MB).
pub const MAX_HELD_OUTPUT: usize = 8 * 1024 * 1024;
/// How much compressed input is read at a time.
pub const READ_SIZE: usize = 1024 * 1024;
/// A piece is cut at this size even when no marker follows yet: longer
/// than any block (see [`bzip2_blocks::max_block_bytes`]), it fails as
/// damaged, and no input makes the reader hold more.
const MAX_PIECE_BYTES: u64 = 4 * 1024 * 1024;

type Decoded = Result<Vec<u8>, PieceError>;

/// The bits from one marker to the next (or to the end of the file).
struct Piece {
    marker: Marker,
    /// The next marker's bit, or `None` for the end of the file.
    stop_bit: Option<u64>,
    /// The file's bytes from `marker.bit / 8` to the byte holding `stop_bit`.
    bytes: Arc<Vec<u8>>,
    /// The block's decode (for a block marker), offered to the helpers.
    decoded: Option<Arc<Task<Decoded>>>,
}

impl Piece {
    fn first_byte(&self) -> u64 {
        self.marker.bit / 8
    }
}

/// The reader: the blocks' output in order ([`crate::in_order`]).
pub type ParallelBzip2<'h, R> = InOrder<'h, Bzip2Pieces<'h, R>>;

/// The blocks of one bzip2 file, cut and offered to the workers.
pub struct Bzip2Pieces<'h, R> {
    source: R,
    source_done: bool,
    helpers: &'h dyn Helpers,
    window: usize,
    /// How much input one read asks for.
    read_size: usize,
    finder: MarkerFinder,
    /// Compressed bytes from file offset `buf_base` on.
    buf: Vec<u8>,
    buf_base: u64,
    /// Where in `buf` the marker search goes on.
    scan_from: usize,
    /// Markers found and not yet cut into pieces.
    markers: VecDeque<Marker>,
    pieces: VecDeque<Piece>,
    /// Where the next real marker must begin; `None` before the header is
    /// read, and after a stream ended at the end of the file.
    expect_bit: Option<u64>,
    header_read: bool,
    /// The current stream's level (its blocks' size, in 100 kB).
    level: u8,
    /// The CRC the current stream's end marker must carry.
    combined_crc: u32,
}

impl<'h, R: Read> ParallelBzip2<'h, R> {
    /// `window`: how many pieces may be decoded ahead (about twice the
    /// number of workers keeps them busy).
    pub fn new(source: R, helpers: &'h dyn Helpers, window: usize) -> ParallelBzip2<'h, R> {
        Self::with_read_size(source, helpers, window, READ_SIZE)
    }

    /// As [`ParallelBzip2::new`], reading `read_size` bytes at a time: the
    /// tests and the fuzz target read a few bytes at a time, so that reads
    /// end inside headers and markers as they may on a pipe.
    pub fn with_read_size(
        source: R,
        helpers: &'h dyn Helpers,
        window: usize,
        read_size: usize,
    ) -> ParallelBzip2<'h, R> {
        InOrder::over(Bzip2Pieces {
            source,
            source_done: false,
            helpers,
            window: window.max(1),
            read_size: read_size.max(1),
            finder: MarkerFinder::new(),
            buf: Vec::new(),
            buf_base: 0,
            scan_from: 0,
            markers: VecDeque::new(),
            pieces: VecDeque::new(),
            expect_bit: None,
            header_read: false,
            level: 9,
            combined_crc: 0,
        })
    }
}

impl<R: Read> Bzip2Pieces<'_, R> {
    /// Reads more compressed input and finds its markers.  False at the end.
    fn read_more(&mut self) -> io::Result<bool> {
        if self.source_done {
            return Ok(false);
        }
        // Drop the bytes no piece will need (before the first unread marker).
        let keep_from = self
            .markers
            .front()
            .map_or(self.scan_from as u64 + self.buf_base, |m| m.bit / 8)
            .min(self.buf_base + self.scan_from as u64);
        let drop = (keep_from - self.buf_base) as usize;
        if drop > 0 && drop >= self.buf.len() / 2 {
            self.buf.drain(..drop);
            self.buf_base += drop as u64;
            self.scan_from -= drop;
        }
        let n = append_from(&mut self.source, &mut self.buf, self.read_size)?;
        self.source_done = n == 0;
        let mut found = Vec::new();
        self.scan_from = self.finder.find(
            &self.buf,
            self.scan_from,
            self.buf_base,
            self.source_done,
            &mut found,
        );
        // A marker right after the search's restart point may be found twice.
        let last = self.markers.back().map(|m| m.bit);
        self.markers
            .extend(found.into_iter().filter(|m| last.is_none_or(|l| m.bit > l)));
        Ok(!self.source_done || n > 0)
    }

    /// Cuts the next piece, if its end is known.  False when no piece can
    /// be cut yet (more input needed) or ever (at the end).
    fn cut_piece(&mut self) -> bool {
        let Some(&marker) = self.markers.front() else {
            return false;
        };
        let buffered_to = self.buf_base + self.buf.len() as u64;
        let stop_bit = match self.markers.get(1) {
            Some(next) => Some(next.bit),
            None if self.source_done => None,
            None if buffered_to - marker.bit / 8 > MAX_PIECE_BYTES => Some(buffered_to * 8),
            None => return false,
        };
        self.markers.pop_front();
        let from = (marker.bit / 8 - self.buf_base) as usize;
        let to = stop_bit.map_or(self.buf.len(), |b| {
            ((b.div_ceil(8) - self.buf_base) as usize).min(self.buf.len())
        });
        let bytes = Arc::new(self.buf[from..to].to_vec());
        let decoded = (marker.kind == MarkerKind::Block).then(|| {
            let bytes = Arc::clone(&bytes);
            let task = Task::new(move || {
                decode_framed(&framed_piece(marker, &bytes, stop_bit), MAX_HELD_OUTPUT)
            });
            self.helpers.offer(task.clone());
            task
        });
        self.pieces.push_back(Piece {
            marker,
            stop_bit,
            bytes,
            decoded,
        });
        true
    }

    /// Keeps `window` pieces cut (and offered), or at least `at_least`.
    fn fill(&mut self, at_least: usize) -> io::Result<()> {
        while self.pieces.len() < self.window.max(at_least) {
            if !self.cut_piece() && !self.read_more()? && !self.cut_piece() {
                break;
            }
        }
        Ok(())
    }

    /// Reads the first stream's header: `BZh` and a level digit.
    fn read_header(&mut self) -> io::Result<()> {
        while self.buf.len() < 4 && self.read_more()? {}
        match self.buf.get(..4) {
            Some(&[b'B', b'Z', b'h', level @ b'1'..=b'9']) => {
                self.expect_bit = Some(32);
                self.level = level - b'0';
                Ok(())
            }
            _ if self.buf.len() < 4 => Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "bzip2 header cut short",
            )),
            _ => Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "not a bzip2 stream (bad header)",
            )),
        }
    }

    /// The next block's output; `None` at the end of the file.
    fn next_block(&mut self) -> io::Result<Option<Output<'static>>> {
        if !self.header_read {
            self.header_read = true;
            self.read_header()?;
        }
        loop {
            let Some(expect) = self.expect_bit else {
                return Ok(None);
            };
            self.fill(1)?;
            let Some(piece) = self.pieces.pop_front() else {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!("bzip2 stream cut short at byte {}", expect / 8),
                ));
            };
            if piece.marker.bit < expect {
                continue; // A marker found by chance inside the last block.
            }
            if piece.marker.bit > expect {
                return Err(damaged(expect, "no block where one must begin"));
            }
            match piece.marker.kind {
                MarkerKind::Block => return self.take_block(piece).map(Some),
                MarkerKind::End => self.end_stream(&piece)?,
            }
        }
    }

    /// A block's output, joining it with the pieces after it while it is
    /// cut short by markers found by chance.
    fn take_block(&mut self, piece: Piece) -> io::Result<Output<'static>> {
        let marker = piece.marker;
        let decoded = piece.decoded.as_ref().map(|t| t.collect());
        let (mut bytes, mut stop_bit) = (piece.bytes, piece.stop_bit);
        let mut result = decoded.unwrap_or(Err(PieceError::NotABlock));
        let max_bytes = bzip2_blocks::max_block_bytes(self.level);
        let mut joined_any = false;
        loop {
            if result == Err(PieceError::TooBig) {
                // Checked whole before a byte of it is passed on.
                let whole = framed_piece(marker, &bytes, stop_bit);
                if decodes_whole(&whole) {
                    let decoder = bzip2::read::BzDecoder::new(io::Cursor::new(whole));
                    self.accept(marker, stop_bit);
                    return Ok(Output::Streaming(Box::new(decoder)));
                }
                result = Err(PieceError::NotABlock);
            }
            match result {
                Ok(data) => {
                    self.accept(marker, stop_bit);
                    return Ok(Output::Held(data, 0));
                }
                Err(PieceError::TooBig) => continue,
                Err(PieceError::NotABlock) => {}
            }
            // Join the next piece, if there is one and the block could be
            // that long.
            self.fill(1)?;
            let next = match (stop_bit, self.pieces.front()) {
                (Some(_), Some(next)) if bytes.len() + next.bytes.len() <= max_bytes => {
                    self.pieces.pop_front().expect("just looked at")
                }
                (None, _) if !joined_any => {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        format!("bzip2 block at byte {} cut short", marker.bit / 8),
                    ));
                }
                _ => return Err(damaged(marker.bit, "the block does not decode")),
            };
            let mut joined = bytes[..(next.first_byte() - marker.bit / 8) as usize].to_vec();
            joined.extend_from_slice(&next.bytes);
            bytes = Arc::new(joined);
            joined_any = true;
            stop_bit = next.stop_bit;
            result = decode_framed(&framed_piece(marker, &bytes, stop_bit), MAX_HELD_OUTPUT);
        }
    }

    fn accept(&mut self, marker: Marker, stop_bit: Option<u64>) {
        self.combined_crc = self.combined_crc.rotate_left(1) ^ marker.crc;
        // Past the end of the file: the end marker is missing.
        self.expect_bit = Some(stop_bit.unwrap_or(u64::MAX));
    }

    /// Checks a stream's CRC; the next stream, trailing bytes or the end.
    fn end_stream(&mut self, piece: &Piece) -> io::Result<()> {
        // The stream ends after the marker and CRC, padded to a byte.
        let end_byte = (piece.marker.bit + 80).div_ceil(8);
        let stream_bytes = (end_byte - piece.first_byte()) as usize;
        if stream_bytes > piece.bytes.len() {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!(
                    "bzip2 stream end cut short at byte {}",
                    piece.marker.bit / 8
                ),
            ));
        }
        if piece.marker.crc != self.combined_crc {
            return Err(damaged(piece.marker.bit, "stream CRC mismatch"));
        }
        self.combined_crc = 0;
        let rest = &piece.bytes[stream_bytes..];
        if rest.is_empty() && piece.stop_bit.is_none() {
            self.expect_bit = None;
            return Ok(());
        }
        match rest.get(..4) {
            Some(&[b'B', b'Z', b'h', level @ b'1'..=b'9']) => {
                self.expect_bit = Some((end_byte + 4) * 8);
                self.level = level - b'0';
                Ok(())
            }
            // As the sequential decoder (libbz2 reads them as a stream):
            // bytes after a stream that do not begin another are an error.
            _ => Err(damaged(
                end_byte * 8,
                "bytes after a stream that are not a stream",
            )),
        }
    }
}

/// A piece's bits as a one-block stream (`bytes` begin at the byte
/// holding the marker's first bit).
fn framed_piece(marker: Marker, bytes: &[u8], stop_bit: Option<u64>) -> Vec<u8> {
    let stop = stop_bit.map_or(bytes.len() as u64 * 8, |b| b - marker.bit / 8 * 8);
    framed(bytes, marker.bit % 8, stop, marker.crc)
}

impl<'h, R: Read> Pieces<'h> for Bzip2Pieces<'h, R> {
    fn next_output(&mut self) -> io::Result<Option<Output<'h>>> {
        self.next_block()
    }

    fn abandon(&mut self) {
        for piece in self.pieces.drain(..) {
            if let Some(task) = &piece.decoded {
                task.cancel();
            }
        }
    }
}

fn damaged(bit: u64, what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("bzip2 data damaged at byte {}: {what}", bit / 8),
    )
}

/// True when a framed block decodes to its end (its output is dropped).
fn decodes_whole(framed: &[u8]) -> bool {
    let mut decoder = bzip2::read::BzDecoder::new(framed);
    io::copy(&mut decoder, &mut io::sink()).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bzip2_blocks::tests::compress;
    use crate::helping::NoHelpers;
    use crate::in_order::tests::{check_reads_of_any_size, text};

    fn decode(bytes: &[u8], window: usize) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        ParallelBzip2::new(bytes, &NoHelpers, window).read_to_end(&mut out)?;
        Ok(out)
    }

    fn sequential(bytes: &[u8]) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        bzip2::read::MultiBzDecoder::new(bytes).read_to_end(&mut out)?;
        Ok(out)
    }

    #[test]
    fn several_blocks_and_streams_decode_as_the_sequential_decoder_does() {
        let a = text(200_000);
        let b = text(3);
        let mut bytes = compress(&a, 1);
        bytes.extend(compress(&b, 9));
        bytes.extend(compress(b"", 5));
        bytes.extend(compress(&a, 2));
        for window in [1, 2, 7] {
            assert_eq!(decode(&bytes, window).unwrap(), sequential(&bytes).unwrap());
        }
    }

    #[test]
    fn long_runs_decode_streaming() {
        let mut data = vec![b'x'; 30_000_000];
        data.extend(text(1000));
        let bytes = compress(&data, 9);
        assert_eq!(decode(&bytes, 3).unwrap(), data);
    }

    /// Reads may end anywhere: inside a stream header, a block marker or
    /// an end-of-stream marker.
    #[test]
    fn reads_of_any_size_give_the_same_text() {
        let data = text(40_000);
        let mut bytes = Vec::new();
        for part in data.chunks(data.len() / 3 + 1) {
            let mut encoder = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::new(1));
            std::io::Write::write_all(&mut encoder, part).unwrap();
            bytes.extend(encoder.finish().unwrap());
        }
        check_reads_of_any_size(&data, 23, |window, read_size| {
            ParallelBzip2::with_read_size(&bytes[..], &NoHelpers, window, read_size)
        });
    }

    #[test]
    fn a_truncated_file_is_an_unexpected_end_after_its_whole_blocks() {
        let data = text(200_000);
        let bytes = compress(&data, 1);
        for cut in [3, 10, bytes.len() / 2, bytes.len() - 12, bytes.len() - 1] {
            let mut out = Vec::new();
            let mut reader = ParallelBzip2::new(&bytes[..cut], &NoHelpers, 3);
            let err = reader.read_to_end(&mut out).unwrap_err();
            assert_eq!(
                err.kind(),
                io::ErrorKind::UnexpectedEof,
                "cut at {cut}: {err}"
            );
            assert!(data.starts_with(&out), "cut at {cut}");
        }
    }

    #[test]
    fn a_flipped_bit_is_an_error_never_a_panic_nor_wrong_text() {
        let data = text(50_000);
        let bytes = compress(&data, 1);
        for at in (4..bytes.len()).step_by(997) {
            let mut bad = bytes.clone();
            bad[at] ^= 0x10;
            match decode(&bad, 2) {
                Ok(out) => assert_eq!(out, data, "flip at {at}"),
                Err(_) => assert!(sequential(&bad).is_err(), "flip at {at}"),
            }
        }
    }

    #[test]
    fn a_block_magic_followed_by_megabytes_of_noise_is_damage_in_bounded_memory() {
        let mut bytes = compress(b"one\n", 9);
        bytes.truncate(4 + 10); // the header, the block magic and its CRC
        let mut noise = 0x1234_5678u32;
        bytes.extend((0..20_000_000).map(|_| {
            noise = noise.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (noise >> 24) as u8
        }));
        let mut reader = ParallelBzip2::new(&bytes[..], &NoHelpers, 2);
        let err = reader.read_to_end(&mut Vec::new()).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData, "{err}");
        assert!(reader.pieces().buf.len() as u64 <= MAX_PIECE_BYTES + 2 * READ_SIZE as u64);
    }

    #[test]
    fn trailing_bytes_after_a_stream_end_it_as_the_sequential_decoder_does() {
        let mut bytes = compress(b"one\n", 9);
        bytes.extend_from_slice(b"garbage after the stream\n");
        assert_eq!(decode(&bytes, 2).ok(), sequential(&bytes).ok());
    }
}
