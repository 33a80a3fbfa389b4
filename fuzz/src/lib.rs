//! What the fuzz targets share: for the two parallel decoders
//! (`bzip2_blocks`, `zstd_frames`), the check against the sequential
//! decoder, with pieces decoded here and, out of order, on another thread;
//! and the inputs made from the fuzzer's bytes.

use std::io::Read;
use std::sync::{Arc, Mutex};

use maillog_grep::helping::{Helpers, NoHelpers, Runnable};

/// More output than this is not compared past this (a tiny input can ask
/// for gigabytes).
pub const CAP: u64 = 16 << 20;

/// Up to CAP bytes; `Some(ok)` when the end or an error came before it.
pub fn read_capped(reader: impl Read) -> (Vec<u8>, Option<bool>) {
    let mut out = Vec::new();
    let mut reader = reader.take(CAP + 1);
    let result = reader.read_to_end(&mut out);
    if out.len() as u64 > CAP {
        return (out, None);
    }
    (out, Some(result.is_ok()))
}

/// What the sequential decoder (`library`) gave: its bytes, and
/// `Some(ok)` as [`read_capped`] says.
pub struct Sequential<'a> {
    pub library: &'a str,
    pub bytes: &'a [u8],
    pub ok: Option<bool>,
    pub before_failure: BeforeFailure,
}

/// How much of its output before a failure the sequential decoder gave.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum BeforeFailure {
    /// All of it: the parallel reader gives a prefix of it.
    All,
    /// What a `Read` adapter kept: the call that failed dropped what the
    /// library wrote in it (libzstd reports no output with an error), so
    /// how much comes out depends on the buffers read into, and either
    /// reader may have more of the same bytes: the two agree as far as
    /// both go.
    AsRead,
}

/// Checks what `parallel` reads (with [`read_capped`]) against the
/// sequential decoder: with every piece decoded on this thread, and when
/// `out_of_order`, with the pieces decoded on another thread in reverse
/// order, so results arrive out of order.
pub fn check_parallel(
    want: &Sequential<'_>,
    out_of_order: bool,
    parallel: impl Fn(&dyn Helpers) -> (Vec<u8>, Option<bool>) + Sync,
) {
    let (got, got_ok) = parallel(&NoHelpers);
    compare(want, &got, got_ok);
    if out_of_order {
        let helpers = Stack::default();
        let (got, got_ok) = std::thread::scope(|s| {
            let reader = s.spawn(|| parallel(&helpers));
            while !reader.is_finished() {
                let task = helpers.0.lock().unwrap().pop();
                match task {
                    Some(task) => task.run(),
                    None => std::thread::yield_now(),
                }
            }
            reader.join().unwrap()
        });
        compare(want, &got, got_ok);
    }
}

/// Helpers that run the offered tasks on another thread, in reverse order.
#[derive(Default)]
struct Stack(Mutex<Vec<Arc<dyn Runnable>>>);

impl Helpers for Stack {
    fn offer(&self, task: Arc<dyn Runnable>) {
        self.0.lock().unwrap().push(task);
    }
}

/// Whatever the sequential decoder decodes, the same bytes; where it
/// fails, a failure after a prefix of what it gave.
fn compare(want: &Sequential<'_>, got: &[u8], got_ok: Option<bool>) {
    let library = want.library;
    match (want.ok, got_ok) {
        (Some(true), _) => {
            assert_eq!(got_ok, Some(true), "{library} decodes it");
            assert!(got == want.bytes, "same bytes as {library}");
        }
        (Some(false), Some(ok)) => {
            assert!(!ok, "{library} fails on it");
            match want.before_failure {
                BeforeFailure::All => assert!(
                    want.bytes.starts_with(got),
                    "a prefix of what {library} gave"
                ),
                BeforeFailure::AsRead => same_beginning(want, got),
            }
        }
        // One of them reached the cap: what both gave agrees.
        _ => same_beginning(want, got),
    }
}

fn same_beginning(want: &Sequential<'_>, got: &[u8]) {
    let n = want.bytes.len().min(got.len());
    assert!(
        want.bytes[..n] == got[..n],
        "the same beginning as {}",
        want.library
    );
}

/// The fuzzer's bytes as four control bytes and a file: the bytes after
/// them as they are, or, when `control[0]`'s low bit is set, what
/// `generated` makes of them (from the control bytes and those bytes).
/// `None` for fewer than four bytes.
pub fn control_and_file(
    data: &[u8],
    generated: impl FnOnce(&[u8], &[u8]) -> Vec<u8>,
) -> Option<(&[u8], Vec<u8>)> {
    if data.len() < 4 {
        return None;
    }
    let (control, body) = data.split_at(4);
    let file = if control[0] & 1 == 0 {
        body.to_vec()
    } else {
        generated(control, body)
    };
    Some((control, file))
}

/// How much input the parallel reader asks for at a time: its own size
/// (`usual`), or, when `control[3]`'s high bit is set, 1 to 890 bytes, so
/// that reads end inside headers, markers and checksums.
pub fn read_size(control: &[u8], usual: usize) -> usize {
    if control[3] & 0x80 == 0 {
        usual
    } else {
        1 + usize::from(control[3] & 0x7f) * 7
    }
}

/// The text to compress: `body`, repeated (with its length so far after
/// each copy) to at least `at_least` bytes when `control[2]`'s low bit is
/// set, so that it spans several blocks or frames.
pub fn text_to_compress(control: &[u8], body: &[u8], at_least: usize) -> Vec<u8> {
    let mut text = body.to_vec();
    while !text.is_empty() && text.len() < at_least && control[2] & 1 == 1 {
        text.extend_from_slice(body);
        text.extend_from_slice(format!("{}\n", text.len()).as_bytes());
    }
    text
}

/// `file` damaged as bits 1-2 of `control[0]` say: a bit flipped, cut
/// short, the first bytes of `body` appended, or left as it is.
pub fn damaged(control: &[u8], body: &[u8], mut file: Vec<u8>) -> Vec<u8> {
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
