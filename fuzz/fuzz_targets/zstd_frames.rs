//! The frame-parallel zstd reader against libzstd (frame by frame, each
//! frame's size checked: see `libzstd_frame_by_frame`), on files of
//! several frames libzstd writes from the input (with pzstd's skippable
//! frames or without, content sizes or not), then damaged (bits flipped,
//! cut short, bytes appended), and on the raw input as a file; read whole
//! or a few bytes at a time: whatever libzstd decodes, the parallel reader
//! decodes to the same bytes; where it fails, the parallel reader fails
//! too, after a prefix of what it gave; never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mailhost_fuzz::{
    BeforeFailure, CAP, Sequential, check_parallel, control_and_file, damaged, read_capped,
    read_size, text_to_compress,
};
use maillog_grep::input::Compression;
use maillog_grep::parallel_zstd::{ParallelZstd, READ_SIZE};
use zstd::zstd_safe;

fuzz_target!(|data: &[u8]| {
    let Some((control, file)) = control_and_file(data, generated) else {
        return;
    };
    // maillog-grep reads a file as zstd only when it begins as one (an
    // empty file, say, is plain text; libzstd calls it cut short).
    if Compression::detect(&file) != Compression::Zstd {
        return;
    }
    let window = usize::from(control[1] % 5) + 1;
    let reads = read_size(control, READ_SIZE);
    let (want, want_ok) = libzstd_frame_by_frame(&file);
    let sequential = Sequential {
        library: "libzstd",
        bytes: &want,
        ok: want_ok,
        before_failure: BeforeFailure::AsRead,
    };
    check_parallel(&sequential, control[1] & 0x80 != 0, |helpers| {
        read_capped(ParallelZstd::with_read_size(
            &file[..],
            helpers,
            window,
            reads,
        ))
    });
});

/// What libzstd makes of `file` (at most CAP bytes, and `Some(ok)` as
/// `read_capped` says), frame by frame: each frame it can measure decoded
/// on its own, and a frame whose output is not the content size its header
/// gives is a failure after that output.  libzstd checks that size when it
/// decodes a frame in one pass (into a buffer that holds the whole output,
/// as the zstd tool's 128 KiB buffer does for most frames) and not when it
/// streams one whose last block is empty, so the streaming decoder alone
/// answers by the size of the caller's buffer.  From the first frame that
/// is neither a zstd frame nor a skippable one (a legacy frame, damage),
/// the streaming decoder reads the rest, as maillog-grep's does.
fn libzstd_frame_by_frame(file: &[u8]) -> (Vec<u8>, Option<bool>) {
    const FRAME_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];
    let skippable = |b: &[u8]| b.len() >= 4 && b[0] & 0xf0 == 0x50 && b[1..4] == [0x2a, 0x4d, 0x18];
    let mut out = Vec::new();
    let mut rest = file;
    while !rest.is_empty() {
        let zstd_frame = rest.starts_with(&FRAME_MAGIC);
        let measured = zstd_safe::find_frame_compressed_size(rest)
            .ok()
            .filter(|_| zstd_frame || skippable(rest));
        let Some(len) = measured else {
            let (bytes, ok) = match zstd::stream::read::Decoder::with_buffer(rest) {
                Ok(decoder) => read_capped(decoder),
                Err(_) => (Vec::new(), Some(false)),
            };
            out.extend(bytes);
            return capped(out, ok);
        };
        let (frame, after) = rest.split_at(len);
        let (bytes, ok) = match zstd::stream::read::Decoder::with_buffer(frame) {
            Ok(decoder) => read_capped(decoder.single_frame()),
            Err(_) => (Vec::new(), Some(false)),
        };
        let declared = match zstd_safe::get_frame_content_size(frame) {
            Ok(size) if zstd_frame => size,
            _ => None,
        };
        let decoded = bytes.len() as u64;
        out.extend(bytes);
        if ok != Some(true) || out.len() as u64 > CAP {
            return capped(out, ok);
        }
        if declared.is_some_and(|size| size != decoded) {
            return (out, Some(false));
        }
        rest = after;
    }
    (out, Some(true))
}

/// `Some(ok)` only while the output is within CAP.
fn capped(out: Vec<u8>, ok: Option<bool>) -> (Vec<u8>, Option<bool>) {
    let ok = ok.filter(|_| out.len() as u64 <= CAP);
    (out, ok)
}

/// `body` compressed by libzstd as one to four frames (levels, skippable
/// frames and content sizes from the control bytes), then damaged as the
/// control bytes say.
fn generated(control: &[u8], body: &[u8]) -> Vec<u8> {
    // Repeat short inputs so a frame has several blocks.
    let text = text_to_compress(control, body, 300_000);
    let frames = usize::from(control[2] >> 1 & 3) + 1;
    let mut file = Vec::new();
    for (i, part) in text.chunks(text.len().div_ceil(frames).max(1)).enumerate() {
        let level = i32::from(control[3].wrapping_add(i as u8 * 3) % 6) + 1;
        // One-shot compression writes the content size, streaming does not.
        let frame = if control[2] & 0x10 != 0 {
            zstd::bulk::compress(part, level).unwrap()
        } else {
            zstd::encode_all(part, level).unwrap()
        };
        if control[2] & 0x08 != 0 {
            // pzstd's skippable frame, holding the next frame's size.
            file.extend_from_slice(&[0x50, 0x2a, 0x4d, 0x18, 4, 0, 0, 0]);
            file.extend_from_slice(&(frame.len() as u32).to_le_bytes());
        }
        file.extend(frame);
    }
    damaged(control, body, file)
}
