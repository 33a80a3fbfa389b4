//! A zstd file of several frames decoded frame by frame on every worker,
//! read in order.
//!
//! [`ParallelZstd`] is a `Read` that gives the bytes the sequential
//! decoder gives and fails where it fails (its error message may differ).
//! It finds the frames without decoding them ([`crate::zstd_frames`]),
//! offers the next few to the other workers ([`crate::helping`]) and hands
//! their output on in order.  pzstd writes frames of a few MiB, and
//! `cat a.zst b.zst` makes one frame per file; `zstd` itself (`-T0` and
//! `--rsyncable` too) writes one frame per file, which no one can split:
//! a frame longer than [`MAX_FRAME_BYTES`] is decoded by the sequential
//! decoder on this thread, and so is everything after it.
//!
//! Memory is bounded: at most `window` frames are in flight, each holding
//! at most [`MAX_FRAME_BYTES`] of input and [`MAX_HELD_OUTPUT`] of output;
//! a frame that decodes to more is decoded again, streaming, here.

use std::collections::VecDeque;
use std::io::{self, BufReader, Read};
use std::sync::Arc;

use crate::helping::{Helpers, Task};
use crate::in_order::{InOrder, Output, Pieces, append_from};
use crate::zstd_frames::{FrameWalk, Start, Walked, frame_start};

/// The most input of one frame handed to a worker (pzstd's frames are
/// about 1.5 MiB at its default level).
pub const MAX_FRAME_BYTES: usize = 8 * 1024 * 1024;
/// The most output of one frame held in memory (pzstd's frames decode to
/// 8 MiB at its default level, 32 MiB at -19).
pub const MAX_HELD_OUTPUT: usize = 32 * 1024 * 1024;
/// How much compressed input is read at a time.
pub const READ_SIZE: usize = 1024 * 1024;

#[derive(Debug)]
enum FrameError {
    /// It decodes to more than [`MAX_HELD_OUTPUT`].
    TooBig,
    Damaged(String),
}

type Decoded = Result<Vec<u8>, FrameError>;

/// What comes next, in order.
enum Piece {
    Frame {
        start: u64,
        bytes: Arc<Vec<u8>>,
        /// The content size the frame's header gives, if it gives one.
        declared: Option<u64>,
        decoded: Arc<Task<Decoded>>,
    },
    /// From here on, the sequential decoder.
    Sequential,
}

/// The reader: the frames' output in order ([`crate::in_order`]).
pub type ParallelZstd<'h, R> = InOrder<'h, ZstdPieces<'h, R>>;

/// The frames of one zstd file, walked and offered to the workers.
pub struct ZstdPieces<'h, R> {
    /// `None` once handed to the sequential decoder.
    source: Option<R>,
    source_done: bool,
    helpers: &'h dyn Helpers,
    window: usize,
    /// How much input one read asks for.
    read_size: usize,
    /// Input from file offset `buf_base` on; the frame being walked
    /// begins at `buf[0]`.
    buf: Vec<u8>,
    buf_base: u64,
    walk: Option<FrameWalk>,
    /// Bytes of a skippable frame still to be dropped.
    skipping: u64,
    /// The walk is over (end, failure or the sequential decoder).
    walk_done: bool,
    pieces: VecDeque<Piece>,
}

impl<'h, R: Read + 'h> ParallelZstd<'h, R> {
    /// `window`: how many frames may be decoded ahead.
    pub fn new(source: R, helpers: &'h dyn Helpers, window: usize) -> ParallelZstd<'h, R> {
        Self::with_read_size(source, helpers, window, READ_SIZE)
    }

    /// As [`ParallelZstd::new`], reading `read_size` bytes at a time: the
    /// tests and the fuzz target read a few bytes at a time, so that reads
    /// end inside headers, blocks and checksums as they may on a pipe.
    pub fn with_read_size(
        source: R,
        helpers: &'h dyn Helpers,
        window: usize,
        read_size: usize,
    ) -> ParallelZstd<'h, R> {
        InOrder::over(ZstdPieces {
            source: Some(source),
            source_done: false,
            helpers,
            window: window.max(1),
            read_size: read_size.max(1),
            buf: Vec::new(),
            buf_base: 0,
            walk: None,
            skipping: 0,
            walk_done: false,
            pieces: VecDeque::new(),
        })
    }
}

impl<'h, R: Read + 'h> ZstdPieces<'h, R> {
    /// Reads more input; false at its end.
    fn read_more(&mut self) -> io::Result<bool> {
        let Some(source) = self.source.as_mut().filter(|_| !self.source_done) else {
            return Ok(false);
        };
        let n = append_from(source, &mut self.buf, self.read_size)?;
        self.source_done = n == 0;
        Ok(n > 0)
    }

    fn drop_front(&mut self, n: usize) {
        self.buf.drain(..n);
        self.buf_base += n as u64;
    }

    /// From here on the sequential decoder reads the file: for the rest of
    /// a file too long to split, and where the walk finds the file cut
    /// short or damaged, so that the output of a damaged frame up to the
    /// damage, and the error, are the sequential decoder's.
    fn hand_over(&mut self) {
        self.pieces.push_back(Piece::Sequential);
        self.walk_done = true;
    }

    /// Walks on to the next frame and queues it.  False when more input is
    /// needed first.
    fn step(&mut self) -> bool {
        if self.skipping > 0 {
            let n = self.skipping.min(self.buf.len() as u64) as usize;
            self.drop_front(n);
            self.skipping -= n as u64;
            return n > 0 && self.skipping == 0;
        }
        let walk = match self.walk {
            Some(walk) => walk,
            None if self.buf.is_empty() && self.source_done => {
                self.walk_done = true;
                return true;
            }
            None => match frame_start(&self.buf) {
                Start::Frame(header) => FrameWalk::new(header),
                Start::Skippable { len } => {
                    self.skipping = len;
                    return true;
                }
                Start::Incomplete => return false,
                Start::Invalid(_) => {
                    self.hand_over();
                    return true;
                }
            },
        };
        let mut walk = walk;
        match walk.walk(&self.buf) {
            Walked::Complete { len } => {
                self.walk = None;
                let bytes: Vec<u8> = self.buf.drain(..len).collect();
                self.queue_frame(bytes, walk.header.content_size);
                self.buf_base += len as u64;
                true
            }
            Walked::Incomplete { scanned } if scanned > MAX_FRAME_BYTES => {
                self.hand_over();
                true
            }
            Walked::Incomplete { .. } => {
                self.walk = Some(walk);
                false
            }
            Walked::Invalid { .. } => {
                self.hand_over();
                true
            }
        }
    }

    fn queue_frame(&mut self, bytes: Vec<u8>, declared: Option<u64>) {
        let bytes = Arc::new(bytes);
        let shared = Arc::clone(&bytes);
        let decoded = Task::new(move || decode_frame(&shared, declared, MAX_HELD_OUTPUT));
        self.helpers.offer(decoded.clone());
        self.pieces.push_back(Piece::Frame {
            start: self.buf_base,
            bytes,
            declared,
            decoded,
        });
    }

    /// Keeps `window` pieces queued (or at least one, when there are any).
    fn fill(&mut self) -> io::Result<()> {
        while self.pieces.len() < self.window && !self.walk_done {
            if self.step() {
                continue;
            }
            if !self.read_more()? && !self.step() && self.source_done {
                // Cut short: what the sequential decoder makes of it.
                self.hand_over();
            }
        }
        Ok(())
    }

    /// The next frame's output; `None` at the end of the file.
    fn next_frame(&mut self) -> io::Result<Option<Output<'h>>> {
        self.fill()?;
        match self.pieces.pop_front() {
            None => Ok(None),
            Some(Piece::Sequential) => {
                // The rest of the file, frames and all, to the one decoder.
                let rest = io::Cursor::new(std::mem::take(&mut self.buf));
                let source = self.source.take().expect("handed over once");
                let decoder = zstd::stream::read::Decoder::with_buffer(BufReader::with_capacity(
                    READ_SIZE,
                    rest.chain(source),
                ))?;
                Ok(Some(Output::Streaming(Box::new(decoder))))
            }
            Some(Piece::Frame {
                start,
                bytes,
                declared,
                decoded,
            }) => {
                // A frame too big to hold, or a damaged one (its output up
                // to the damage, as the sequential decoder gives it), is
                // decoded again streaming, here.
                let failure = match decoded.collect() {
                    Ok(data) => return Ok(Some(Output::Held(data, 0))),
                    Err(FrameError::TooBig) => None,
                    Err(FrameError::Damaged(why)) => Some(damaged(start, &why)),
                };
                let frame = io::Cursor::new(SharedBytes(bytes));
                let decoder = zstd::stream::read::Decoder::with_buffer(frame)?.single_frame();
                Ok(Some(Output::Streaming(Box::new(DamageAt {
                    inner: decoder,
                    start,
                    failure,
                    declared,
                    decoded: 0,
                }))))
            }
        }
    }
}

/// A frame's bytes, shared with the worker that decoded it.
struct SharedBytes(Arc<Vec<u8>>);

impl AsRef<[u8]> for SharedBytes {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

/// Says which frame a streaming decode failed in; and fails at its end
/// when the first decode found damage the streaming one passes over (the
/// walk and the decoder disagreeing on where the frame ends, an output of
/// another size than the header gives), or when the output is not the
/// size the header gives ([`size_mismatch`]).
struct DamageAt<R> {
    inner: R,
    start: u64,
    failure: Option<String>,
    /// The frame's content size, when its header gives it.
    declared: Option<u64>,
    decoded: u64,
}

impl<R: Read> Read for DamageAt<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(out).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                damaged(self.start, &e.to_string()),
            )
        })?;
        self.decoded += n as u64;
        if n == 0 && !out.is_empty() {
            let failure = self.failure.take().or_else(|| {
                let declared = self.declared.filter(|&size| size != self.decoded)?;
                Some(damaged(self.start, &size_mismatch(declared, self.decoded)))
            });
            if let Some(why) = failure {
                return Err(io::Error::new(io::ErrorKind::InvalidData, why));
            }
        }
        Ok(n)
    }
}

/// A frame whose output is not the size its header gives is damaged.
/// libzstd says so when it decodes the frame in one pass (when the caller's
/// buffer holds the whole output: the zstd tool's 128 KiB buffer, for
/// most frames), but not when it streams a frame whose last block is
/// empty; the answer must not depend on a buffer's size, so every frame
/// is checked here.
fn size_mismatch(declared: u64, decoded: u64) -> String {
    format!("the frame's header gives {declared} bytes of content, it decodes to {decoded}")
}

fn damaged(at: u64, what: &str) -> String {
    format!("zstd data damaged in the frame at byte {at}: {what}")
}

/// Decodes one whole frame, whose header gives `expected` bytes of
/// content (if it gives a size), or says it decodes to more than
/// `max_output`.
fn decode_frame(frame: &[u8], expected: Option<u64>, max_output: usize) -> Decoded {
    let damaged = |e: io::Error| FrameError::Damaged(e.to_string());
    let decoder = zstd::stream::read::Decoder::with_buffer(frame)
        .map_err(damaged)?
        .single_frame();
    if expected.is_some_and(|size| size > max_output as u64) {
        return Err(FrameError::TooBig);
    }
    let mut decoder = decoder;
    let mut out = Vec::with_capacity(expected.map_or(READ_SIZE, |size| size as usize));
    (&mut decoder)
        .take(max_output as u64 + 1)
        .read_to_end(&mut out)
        .map_err(damaged)?;
    if out.len() > max_output {
        return Err(FrameError::TooBig);
    }
    if !decoder.finish().is_empty() {
        // The walk and the decoder disagree on where the frame ends.
        return Err(FrameError::Damaged(
            "a block runs past the frame's end".into(),
        ));
    }
    match expected {
        Some(size) if size != out.len() as u64 => {
            Err(FrameError::Damaged(size_mismatch(size, out.len() as u64)))
        }
        _ => Ok(out),
    }
}

impl<'h, R: Read + 'h> Pieces<'h> for ZstdPieces<'h, R> {
    fn next_output(&mut self) -> io::Result<Option<Output<'h>>> {
        self.next_frame()
    }

    fn abandon(&mut self) {
        for piece in self.pieces.drain(..) {
            if let Piece::Frame { decoded, .. } = piece {
                decoded.cancel();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::helping::NoHelpers;
    use crate::in_order::tests::{check_reads_of_any_size, text};

    fn decode(bytes: &[u8], window: usize) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        ParallelZstd::new(bytes, &NoHelpers, window).read_to_end(&mut out)?;
        Ok(out)
    }

    fn sequential(bytes: &[u8]) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        zstd::stream::read::Decoder::new(bytes)?.read_to_end(&mut out)?;
        Ok(out)
    }

    /// Frames of `text` cut in `parts`, each after a pzstd-like skippable frame.
    fn multi_frame(data: &[u8], parts: usize) -> Vec<u8> {
        let mut bytes = Vec::new();
        for chunk in data.chunks(data.len().div_ceil(parts).max(1)) {
            let frame = zstd::encode_all(chunk, 3).unwrap();
            bytes.extend_from_slice(&[0x50, 0x2a, 0x4d, 0x18, 4, 0, 0, 0]);
            bytes.extend_from_slice(&(frame.len() as u32).to_le_bytes());
            bytes.extend(frame);
        }
        bytes
    }

    #[test]
    fn several_frames_decode_as_the_sequential_decoder_does() {
        let data = text(300_000);
        let bytes = multi_frame(&data, 7);
        for window in [1, 2, 5] {
            assert_eq!(decode(&bytes, window).unwrap(), data);
        }
        assert_eq!(sequential(&bytes).unwrap(), data);
    }

    #[test]
    fn a_frame_too_long_to_hand_out_goes_to_the_sequential_decoder() {
        let mut data = Vec::new();
        let mut noise = 7u32;
        // Incompressible: one frame of more than MAX_FRAME_BYTES.
        data.extend((0..MAX_FRAME_BYTES + 100_000).map(|_| {
            noise = noise.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (noise >> 24) as u8
        }));
        let mut bytes = zstd::encode_all(&data[..], 1).unwrap();
        let tail = text(1000);
        bytes.extend(multi_frame(&tail, 2));
        data.extend(tail);
        assert_eq!(decode(&bytes, 3).unwrap(), data);
    }

    #[test]
    fn a_frame_decoding_to_more_than_is_held_streams() {
        let data = vec![b'x'; MAX_HELD_OUTPUT + 5];
        let bytes = multi_frame(&data, 1);
        assert_eq!(decode(&bytes, 2).unwrap(), data);
    }

    #[test]
    fn a_truncated_file_fails_after_what_the_sequential_decoder_gives() {
        let data = text(100_000);
        let bytes = multi_frame(&data, 5);
        for cut in [1, 5, 13, bytes.len() / 2, bytes.len() - 1] {
            let mut out = Vec::new();
            let err = ParallelZstd::new(&bytes[..cut], &NoHelpers, 3)
                .read_to_end(&mut out)
                .unwrap_err();
            assert!(data.starts_with(&out), "cut {cut}: {err}");
            // Up to the cut, as the sequential decoder gives it.
            let mut theirs = Vec::new();
            let reader = zstd::stream::read::Decoder::new(&bytes[..cut]);
            assert!(
                reader.unwrap().read_to_end(&mut theirs).is_err(),
                "cut {cut}"
            );
            assert_eq!(out.len(), theirs.len(), "cut {cut}");
        }
    }

    #[test]
    fn a_flipped_bit_is_an_error_or_the_right_text_never_a_panic() {
        let data = text(30_000);
        let bytes = multi_frame(&data, 4);
        for at in (0..bytes.len()).step_by(211) {
            let mut bad = bytes.clone();
            bad[at] ^= 0x04;
            match (decode(&bad, 2), sequential(&bad)) {
                (Ok(ours), Ok(theirs)) => assert_eq!(ours, theirs, "flip at {at}"),
                (Err(_), Err(_)) => {}
                (ours, theirs) => panic!(
                    "flip at {at}: ours {:?}, sequential {:?}",
                    ours.map(|o| o.len()),
                    theirs.map(|o| o.len())
                ),
            }
        }
    }

    /// Reads may end anywhere: inside a frame header, a block header, a
    /// skippable frame or a checksum (a walk resumed past the last block
    /// once read the checksum as a block header).
    #[test]
    fn reads_of_any_size_give_the_same_text() {
        let data = text(20_000);
        let mut bytes = Vec::new();
        for part in data.chunks(data.len() / 5 + 1) {
            let mut encoder = zstd::Encoder::new(Vec::new(), 3).unwrap();
            encoder.include_checksum(true).unwrap();
            io::Write::write_all(&mut encoder, part).unwrap();
            bytes.extend_from_slice(&[0x50, 0x2a, 0x4d, 0x18, 2, 0, 0, 0, 7, 7]);
            bytes.extend(encoder.finish().unwrap());
        }
        check_reads_of_any_size(&data, 39, |window, read_size| {
            ParallelZstd::with_read_size(&bytes[..], &NoHelpers, window, read_size)
        });
    }

    /// A header that gives more content than the blocks make (an empty
    /// last block) is damage, whatever the buffer it is read into: libzstd
    /// finds it only when it decodes the frame in one pass.  40 MiB is
    /// more than a frame's output held here (streamed), 6,403 bytes less.
    #[test]
    fn a_frame_shorter_than_its_header_says_is_damage() {
        let file = zstd::bulk::compress(b"before\n", 3).unwrap();
        let at = file.len();
        for declared in [40u32 << 20, 6403] {
            let mut bytes = file.clone();
            // Single segment, a 4-byte content size, a last raw block of 0.
            bytes.extend_from_slice(&[0x28, 0xb5, 0x2f, 0xfd, 0xa0]);
            bytes.extend_from_slice(&declared.to_le_bytes());
            bytes.extend_from_slice(&[0x01, 0x00, 0x00]);
            bytes.extend(zstd::bulk::compress(b"after\n", 3).unwrap());
            for capacity in [0, 1 << 16, 64 << 20] {
                let mut out = Vec::with_capacity(capacity);
                let err = ParallelZstd::new(&bytes[..], &NoHelpers, 2)
                    .read_to_end(&mut out)
                    .expect_err("a short frame was read");
                assert_eq!(out, b"before\n", "{declared}, {capacity}");
                assert!(
                    err.to_string().contains(&format!("frame at byte {at}")),
                    "{declared}, {capacity}: {err}"
                );
            }
        }
    }

    #[test]
    fn trailing_garbage_is_an_error_as_in_the_sequential_decoder() {
        let mut bytes = multi_frame(&text(10), 1);
        bytes.extend_from_slice(b"garbage after the frames\n");
        assert!(sequential(&bytes).is_err());
        assert!(decode(&bytes, 2).is_err());
    }
}
