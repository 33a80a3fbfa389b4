//! The block-parallel bzip2 reader against libbz2's sequential decoder, on
//! streams libbz2 writes from the input (several streams, every level) and
//! then damages (bits flipped, cut short), and on the raw input as a file;
//! read whole or a few bytes at a time: whatever libbz2 decodes, the
//! parallel reader decodes to the same bytes; where libbz2 fails, it fails
//! too, after a prefix of what libbz2 gave; never a panic.
#![no_main]

use std::io::Write;

use libfuzzer_sys::fuzz_target;
use mailhost_fuzz::{
    BeforeFailure, CAP, Sequential, check_parallel, control_and_file, damaged, read_capped,
    read_size, text_to_compress,
};
use maillog_grep::parallel_bzip2::{ParallelBzip2, READ_SIZE};

fuzz_target!(|data: &[u8]| {
    let Some((control, file)) = control_and_file(data, generated) else {
        return;
    };
    let window = usize::from(control[1] % 5) + 1;
    let reads = read_size(control, READ_SIZE);
    let (mut want, want_ok) = read_capped(bzip2::read::MultiBzDecoder::new(&file[..]));
    if want_ok == Some(false) {
        // The Read adapter drops the bytes libbz2 wrote in the call that
        // failed (a last block whose stream CRC is wrong gives nothing):
        // what libbz2 gave before failing is taken from its own calls.
        want = libbz2_output_before_failure(&file);
    }
    let sequential = Sequential {
        library: "libbz2",
        bytes: &want,
        ok: want_ok,
        before_failure: BeforeFailure::All,
    };
    check_parallel(&sequential, control[1] & 0x80 != 0, |helpers| {
        read_capped(ParallelBzip2::with_read_size(
            &file[..],
            helpers,
            window,
            reads,
        ))
    });
});

/// Everything libbz2 writes out, stream after stream, up to the call that
/// fails (at most CAP + 1 bytes).
fn libbz2_output_before_failure(file: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 * 1024);
    let mut at = 0;
    while at < file.len() {
        let mut stream = bzip2::Decompress::new(false);
        loop {
            if out.len() as u64 > CAP {
                return out;
            }
            if out.len() == out.capacity() {
                out.reserve(64 * 1024);
            }
            let (before_in, before_out) = (stream.total_in(), out.len());
            let status = stream.decompress_vec(&file[at + before_in as usize..], &mut out);
            match status {
                Ok(bzip2::Status::StreamEnd) => break,
                Ok(_) if stream.total_in() == before_in && out.len() == before_out => return out,
                Ok(_) => {}
                Err(_) => return out,
            }
        }
        at += stream.total_in() as usize;
    }
    out
}

/// `body` compressed by libbz2 as one to three streams (levels from the
/// control bytes), then damaged as the control bytes say.
fn generated(control: &[u8], body: &[u8]) -> Vec<u8> {
    // Repeat short inputs so the text spans several blocks at level 1.
    let text = text_to_compress(control, body, 250_000);
    let streams = usize::from(control[2] >> 1 & 3).max(1);
    let mut file = Vec::new();
    for (i, part) in text.chunks(text.len().div_ceil(streams).max(1)).enumerate() {
        let level = u32::from(control[3].wrapping_add(i as u8 * 3) % 9) + 1;
        let mut encoder = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::new(level));
        encoder.write_all(part).unwrap();
        file.extend(encoder.finish().unwrap());
    }
    damaged(control, body, file)
}
