//! Running the scans: one job per file (a decoder is sequential), and a big
//! plain file cut into parts so every core searches it.  Results come back
//! in input order, whatever order the threads finish in.

use std::fs::File;
use std::io::Read;
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::input::{self, Compression, RangeReader};
use crate::scan::{self, Hit, Matcher, Range, Scanned};

/// A plain file at least this big is searched in parts.
const SPLIT_AT: u64 = 32 * 1024 * 1024;
/// The size of one part of a big plain file.
const PART_SIZE: u64 = 8 * 1024 * 1024;

/// One input as the user named it.
#[derive(Clone, Debug)]
pub enum Input {
    Stdin,
    File(PathBuf),
}

impl Input {
    pub fn display(&self) -> String {
        match self {
            Input::Stdin => "(standard input)".into(),
            Input::File(p) => p.display().to_string(),
        }
    }
}

/// What searching one input gave.
#[derive(Debug, Default)]
pub struct Searched {
    pub hits: Vec<Hit>,
    /// The regular file as it was opened, for a second read (context
    /// lines); `None` for standard input and streams.
    pub file: Option<File>,
    pub errors: Vec<String>,
    pub overlong: Vec<u64>,
    pub compression: Option<Compression>,
}

/// What one job gives: its hits, or an error with the hits found before it.
type JobResult = Result<Scanned, (String, Scanned)>;

enum Job {
    /// The whole input through its decoder.
    Whole { input: usize },
    /// Part `[start, stop)` of a plain file.
    Part { input: usize, start: u64, stop: u64 },
}

/// Searches every input; `stdin`, FIFOs and devices are read on the calling
/// thread, in order.  Each file is opened once: a file removed while it is
/// searched is still read to its end.
pub fn search_all(
    inputs: &[Input],
    matcher: &Matcher,
    count_lines: bool,
    threads: usize,
    stdin: &mut dyn Read,
) -> Vec<Searched> {
    let mut results: Vec<Searched> = inputs.iter().map(|_| Searched::default()).collect();
    let mut open: Vec<Option<File>> = inputs.iter().map(|_| None).collect();
    let mut jobs = Vec::new();
    for (index, input) in inputs.iter().enumerate() {
        match input {
            Input::Stdin => {
                results[index] = search_reader(stdin, matcher, count_lines);
            }
            Input::File(path) => match plan(index, path, &mut jobs, &mut results[index]) {
                Some(Opened::Regular(file)) => open[index] = Some(file),
                Some(Opened::Stream(mut file)) => {
                    results[index] = search_reader(&mut file, matcher, count_lines)
                }
                None => {}
            },
        }
    }
    let outputs: Vec<Mutex<Option<JobResult>>> = jobs.iter().map(|_| Mutex::new(None)).collect();
    let next = AtomicUsize::new(0);
    let workers = threads.clamp(1, jobs.len().max(1));
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(job) = jobs.get(i) else { break };
                    let result = run_job(job, &open, matcher, count_lines);
                    *outputs[i].lock().unwrap_or_else(|e| e.into_inner()) = Some(result);
                }
            });
        }
    });
    // Jobs are in input order and, within a file, in part order.  A part
    // numbers its lines from its own start: the lines of the parts before
    // it are added here.  After a part that failed, that count is unknown,
    // and so are the line numbers (better none than wrong ones).
    let mut lines_before = Some(0);
    let mut previous_input = None;
    for (job, output) in jobs.iter().zip(outputs) {
        let (index, is_part) = match job {
            Job::Whole { input } => (*input, false),
            Job::Part { input, .. } => (*input, true),
        };
        if previous_input != Some(index) {
            lines_before = Some(0);
            previous_input = Some(index);
        }
        let result = &mut results[index];
        let mut renumber = |mut scanned: Scanned, complete: bool| {
            if is_part {
                for hit in &mut scanned.hits {
                    hit.number = hit.number.zip(lines_before).map(|(n, before)| n + before);
                }
                lines_before = lines_before.filter(|_| complete).map(|n| n + scanned.lines);
            }
            scanned
        };
        match output.into_inner().unwrap_or_else(|e| e.into_inner()) {
            Some(Ok(scanned)) => absorb(result, renumber(scanned, true)),
            Some(Err((error, partial))) => {
                absorb(result, renumber(partial, false));
                // Parts of one file fail alike: say it once.
                if !result.errors.contains(&error) {
                    result.errors.push(error);
                }
            }
            None => result
                .errors
                .push("internal error: a search job did not run".into()),
        }
    }
    for (result, file) in results.iter_mut().zip(open) {
        result.file = file;
    }
    results
}

/// An input file, opened.
enum Opened {
    /// A regular file: searched by jobs, in parts when big and plain.
    Regular(File),
    /// A FIFO or a device: read once, in order.
    Stream(File),
}

fn absorb(result: &mut Searched, scanned: Scanned) {
    result.hits.extend(scanned.hits);
    result.overlong.extend(scanned.overlong);
}

fn plan(
    index: usize,
    path: &PathBuf,
    jobs: &mut Vec<Job>,
    result: &mut Searched,
) -> Option<Opened> {
    use std::os::unix::fs::FileExt;
    let opened = File::open(path).and_then(|f| {
        let meta = f.metadata()?;
        if meta.is_dir() {
            return Err(std::io::Error::other("is a directory"));
        }
        Ok((f, meta))
    });
    let (file, meta) = match opened {
        Ok(x) => x,
        Err(e) => {
            result.errors.push(e.to_string());
            return None;
        }
    };
    if !meta.file_type().is_file() {
        return Some(Opened::Stream(file));
    }
    // Positioned reads: the file's offset stays at 0 for the jobs.
    let mut head = [0u8; 6];
    let mut read = 0;
    while read < head.len() {
        match file.read_at(&mut head[read..], read as u64) {
            Ok(0) => break,
            Ok(n) => read += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => {
                result.errors.push(e.to_string());
                return None;
            }
        }
    }
    let (size, compression) = (meta.len(), Compression::detect(&head[..read]));
    result.compression = Some(compression);
    if compression == Compression::Plain && size >= SPLIT_AT {
        // Small parts: each is mapped on its own, so this bounds the memory
        // a thread holds, and keeps every core busy to the end.  On one
        // thread too: a map costs less than copying the file into a buffer.
        let mut start = 0;
        while start < size {
            let stop = (start + PART_SIZE).min(size);
            jobs.push(Job::Part {
                input: index,
                start,
                stop,
            });
            start = stop;
        }
    } else {
        jobs.push(Job::Whole { input: index });
    }
    Some(Opened::Regular(file))
}

fn run_job(job: &Job, open: &[Option<File>], matcher: &Matcher, count_lines: bool) -> JobResult {
    let (index, part) = match job {
        Job::Whole { input } => (*input, None),
        Job::Part { input, start, stop } => (*input, Some((*start, *stop))),
    };
    let Some(file) = open[index].as_ref() else {
        return Err((
            "internal error: a job for a file that is not open".into(),
            Scanned::default(),
        ));
    };
    match part {
        Some((start, stop)) => {
            let size = file
                .metadata()
                .map_err(|e| (e.to_string(), Scanned::default()))?
                .len();
            if let Some(found) =
                crate::mapped::search_part(file, size, start, stop, matcher, count_lines)
            {
                return Ok(found);
            }
            // Start one byte early: if it is a newline, the part begins with
            // a whole line; if not, the first partial line is the previous part's.
            let from = start.saturating_sub(1);
            let mut reader = RangeReader {
                file,
                position: from,
            };
            let range = Range {
                base: from,
                skip_first_line: start > 0,
                stop: Some(stop),
            };
            scan::scan(&mut reader, matcher, count_lines, range)
                .map_err(|(e, s)| (e.to_string(), s))
        }
        None => {
            // Positioned reads from 0, whatever the shared offset is.
            let reader = RangeReader { file, position: 0 };
            let (mut reader, _) =
                input::decoder(reader).map_err(|e| (e.to_string(), Scanned::default()))?;
            scan::scan(&mut reader, matcher, count_lines, Range::WHOLE)
                .map_err(|(e, s)| (describe(e), s))
        }
    }
}

fn search_reader(reader: &mut dyn Read, matcher: &Matcher, count_lines: bool) -> Searched {
    let mut result = Searched::default();
    match input::decoder(reader) {
        Err(e) => result.errors.push(e.to_string()),
        Ok((mut decoded, compression)) => {
            result.compression = Some(compression);
            match scan::scan(&mut decoded, matcher, count_lines, Range::WHOLE) {
                Ok(s) => absorb(&mut result, s),
                Err((e, partial)) => {
                    absorb(&mut result, partial);
                    result.errors.push(describe(e));
                }
            }
        }
    }
    result
}

/// Decoders report a truncated archive as an unexpected end of file.
fn describe(e: std::io::Error) -> String {
    if e.kind() == std::io::ErrorKind::UnexpectedEof {
        format!("truncated or damaged archive ({e}); events before the damage were kept")
    } else {
        format!("damaged or unreadable ({e}); events before the damage were kept")
    }
}
