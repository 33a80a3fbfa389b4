//! The frame-parallel zstd reader against the zstd crate's sequential
//! decoder (libzstd), on files of several frames libzstd writes from the
//! input (with pzstd's skippable frames or without, content sizes or not),
//! then damaged (bits flipped, cut short, bytes appended), and on the raw
//! input as a file: whatever the sequential decoder decodes, the parallel
//! reader decodes to the same bytes; where it fails, the parallel reader
//! fails too, after a prefix of what it gave; never a panic.
#![no_main]

use std::io::Read;
use std::sync::{Arc, Mutex};

use libfuzzer_sys::fuzz_target;
use maillog_grep::helping::{Helpers, NoHelpers, Runnable};
use maillog_grep::input::Compression;
use maillog_grep::parallel_zstd::ParallelZstd;

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
    let (got, got_ok) = read_capped(ParallelZstd::new(&file[..], &NoHelpers, window));
    compare(&want, want_ok, &got, got_ok);
    if control[1] & 0x80 != 0 {
        // Frames decoded by another thread, out of order.
        let helpers = Stack::default();
        let (got, got_ok) = std::thread::scope(|s| {
            let reader = s.spawn(|| read_capped(ParallelZstd::new(&file[..], &helpers, window)));
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
            assert_eq!(got_ok, Some(true), "libzstd decodes it");
            assert!(got == want, "same bytes as libzstd");
        }
        (Some(false), Some(ok)) => {
            assert!(!ok, "libzstd fails on it");
            assert!(want.starts_with(got), "a prefix of what libzstd gave");
        }
        // One of them reached the cap: what both gave agrees.
        _ => {
            let n = want.len().min(got.len());
            assert!(want[..n] == got[..n], "the same beginning as libzstd");
        }
    }
}

/// Up to CAP bytes; `Some(ok)` when the end or an error came before it.
fn read_capped(reader: impl Read) -> (Vec<u8>, Option<bool>) {
    let mut out = Vec::new();
    let mut reader = reader.take(CAP + 1);
    let result = reader.read_to_end(&mut out);
    if out.len() as u64 > CAP {
        return (out, None);
    }
    (out, Some(result.is_ok()))
}

/// `body` compressed by libzstd as one to four frames (levels, skippable
/// frames and content sizes from the control bytes), then damaged as the
/// control bytes say.
fn generated(control: &[u8], body: &[u8]) -> Vec<u8> {
    // Repeat short inputs so a frame has several blocks.
    let mut text = body.to_vec();
    while !text.is_empty() && text.len() < 300_000 && control[2] & 1 == 1 {
        text.extend_from_slice(body);
        text.extend_from_slice(format!("{}\n", text.len()).as_bytes());
    }
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
