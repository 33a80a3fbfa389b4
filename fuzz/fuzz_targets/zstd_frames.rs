//! The frame-parallel zstd reader against the zstd crate's sequential
//! decoder (libzstd), on files of several frames libzstd writes from the
//! input (with pzstd's skippable frames or without, content sizes or not),
//! then damaged (bits flipped, cut short, bytes appended), and on the raw
//! input as a file: whatever the sequential decoder decodes, the parallel
//! reader decodes to the same bytes; where it fails, the parallel reader
//! fails too, after a prefix of what it gave; never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mailhost_fuzz::{
    Sequential, check_parallel, control_and_file, damaged, read_capped, text_to_compress,
};
use maillog_grep::input::Compression;
use maillog_grep::parallel_zstd::ParallelZstd;

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
    let (want, want_ok) = match zstd::stream::read::Decoder::with_buffer(&file[..]) {
        Ok(decoder) => read_capped(decoder),
        Err(_) => (Vec::new(), Some(false)),
    };
    let sequential = Sequential {
        library: "libzstd",
        bytes: &want,
        ok: want_ok,
    };
    check_parallel(&sequential, control[1] & 0x80 != 0, |helpers| {
        read_capped(ParallelZstd::new(&file[..], helpers, window))
    });
});

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
