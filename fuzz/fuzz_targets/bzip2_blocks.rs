//! The block-parallel bzip2 reader against libbz2's sequential decoder, on
//! streams libbz2 writes from the input (several streams, every level) and
//! then damages (bits flipped, cut short), and on the raw input as a file:
//! whatever libbz2 decodes, the parallel reader decodes to the same bytes;
//! where libbz2 fails, it fails too, after a prefix of what libbz2 gave;
//! never a panic.
#![no_main]

use std::io::{Read, Write};
use std::sync::{Arc, Mutex};

use libfuzzer_sys::fuzz_target;
use maillog_grep::helping::{Helpers, NoHelpers, Runnable};
use maillog_grep::parallel_bzip2::ParallelBzip2;

/// More output than this is not compared past this (a tiny input can ask
/// for gigabytes).
const CAP: u64 = 16 << 20;

/// Helpers that run the offered tasks on another thread, in reverse order,
/// so results arrive out of order.
#[derive(Default)]
struct Stack(Mutex<Vec<Arc<dyn Runnable>>>);

impl Helpers for Stack {
    fn offer(&self, task: Arc<dyn Runnable>) {
        self.0.lock().unwrap().push(task);
    }
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 4 {
        return;
    }
    let (control, body) = data.split_at(4);
    let file = if control[0] & 1 == 0 {
        body.to_vec()
    } else {
        generated(control, body)
    };
    let window = usize::from(control[1] % 5) + 1;
    let (mut want, want_ok) = read_capped(bzip2::read::MultiBzDecoder::new(&file[..]));
    if want_ok == Some(false) {
        // The Read adapter drops the bytes libbz2 wrote in the call that
        // failed (a last block whose stream CRC is wrong gives nothing):
        // what libbz2 gave before failing is taken from its own calls.
        want = libbz2_output_before_failure(&file);
    }
    let (got, got_ok) = read_capped(ParallelBzip2::new(&file[..], &NoHelpers, window));
    compare(&want, want_ok, &got, got_ok);
    if control[1] & 0x80 != 0 {
        // Blocks decoded by another thread, out of order.
        let helpers = Stack::default();
        let (got, got_ok) = std::thread::scope(|s| {
            let reader = s.spawn(|| read_capped(ParallelBzip2::new(&file[..], &helpers, window)));
            while !reader.is_finished() {
                let task = helpers.0.lock().unwrap().pop();
                match task {
                    Some(task) => task.run(),
                    None => std::thread::yield_now(),
                }
            }
            reader.join().unwrap()
        });
        compare(&want, want_ok, &got, got_ok);
    }
});

fn compare(want: &[u8], want_ok: Option<bool>, got: &[u8], got_ok: Option<bool>) {
    match (want_ok, got_ok) {
        (Some(true), _) => {
            assert_eq!(got_ok, Some(true), "libbz2 decodes it");
            assert!(got == want, "same bytes as libbz2");
        }
        (Some(false), Some(ok)) => {
            assert!(!ok, "libbz2 fails on it");
            assert!(want.starts_with(got), "a prefix of what libbz2 gave");
        }
        // One of them reached the cap: what both gave agrees.
        _ => {
            let n = want.len().min(got.len());
            assert!(want[..n] == got[..n], "the same beginning as libbz2");
        }
    }
}

/// Up to CAP bytes; `Some(ok)` when the end or an error came before it.
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

fn read_capped(reader: impl Read) -> (Vec<u8>, Option<bool>) {
    let mut out = Vec::new();
    let mut reader = reader.take(CAP + 1);
    let result = reader.read_to_end(&mut out);
    if out.len() as u64 > CAP {
        return (out, None);
    }
    (out, Some(result.is_ok()))
}

/// `body` compressed by libbz2 as one to three streams (levels from the
/// control bytes), then damaged as the control bytes say.
fn generated(control: &[u8], body: &[u8]) -> Vec<u8> {
    // Repeat short inputs so the text spans several blocks at level 1.
    let mut text = body.to_vec();
    while !text.is_empty() && text.len() < 250_000 && control[2] & 1 == 1 {
        text.extend_from_slice(body);
        text.extend_from_slice(format!("{}\n", text.len()).as_bytes());
    }
    let streams = usize::from(control[2] >> 1 & 3).max(1);
    let mut file = Vec::new();
    for (i, part) in text.chunks(text.len().div_ceil(streams).max(1)).enumerate() {
        let level = u32::from(control[3].wrapping_add(i as u8 * 3) % 9) + 1;
        let mut encoder = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::new(level));
        encoder.write_all(part).unwrap();
        file.extend(encoder.finish().unwrap());
    }
    if file.is_empty() {
        return file;
    }
    match control[0] >> 1 & 3 {
        1 => {
            let at = usize::from(control[1]) * 7919 % file.len();
            file[at] ^= 1 << (control[3] % 8);
        }
        2 => {
            let keep = usize::from(control[1]) * 7919 % file.len();
            file.truncate(keep);
        }
        3 => file.extend_from_slice(&body[..body.len().min(8)]),
        _ => {}
    }
    file
}
