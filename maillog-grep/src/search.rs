//! Running the scans: one job per file, a big plain file cut into parts so
//! every core searches it, and the blocks of a bzip2 file offered to the
//! workers that have no file to search ([`crate::helping`]): one budget of
//! `-j` threads for both.  The hits reach the
//! caller's [`Sink`] in input order, a buffer at a time, while the threads
//! search on: memory stays flat however many lines match, and only a few
//! files are open at once (a log server's directory may hold thousands).

use std::collections::VecDeque;
use std::fs::File;
use std::io::Read;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use anyhow::Result;

use mailhost_common::root::{Expect, Root};

use crate::helping::{Helpers, Runnable};
use crate::input::{self, Compression, Decoding, Limits, RangeReader};
use crate::scan::{self, Hits, Matcher, Range, Scanned};

/// A plain file at least this big is searched in parts.
const SPLIT_AT: u64 = 32 * 1024 * 1024;
/// The size of one part of a big plain file.
const PART_SIZE: u64 = 8 * 1024 * 1024;
/// How many inputs past the one being delivered may be open and searched.
const LOOKAHEAD: usize = 16;
/// How many batches of hits a job may hand over before the sink takes them.
const CHUNKS_IN_FLIGHT: usize = 2;
/// A job sends its hits in batches of about this many bytes: a job ahead of
/// the sink then waits only when its hits are many (the memory they hold
/// is bounded), never for a few hits in a long file.
const BATCH_BYTES: usize = 1024 * 1024;
/// How many jobs per thread may be taken ahead of the one the sink reads.
/// Each holds a few batches at most, so with the lookahead this bounds the
/// memory held for a sink slower than the search (every line an event).
const JOBS_AHEAD_PER_THREAD: usize = 2;
/// How many bzip2 blocks per thread may be decoded ahead of the reader:
/// enough to keep every worker busy, few enough to bound the memory.
const BLOCKS_AHEAD_PER_THREAD: usize = 2;

/// One input as the user named it.
#[derive(Clone, Debug)]
pub enum Input {
    Stdin,
    /// A path looked up inside `--root` (the host's too, when it is `/`):
    /// every input that names a file is opened through [`Root`].
    InRoot(InRoot),
}

/// A file opened through [`Root`], so no path leaves the root.
#[derive(Clone, Debug)]
pub struct InRoot {
    pub root: Arc<Root>,
    /// The path as the jail sees it.
    pub jail: PathBuf,
    /// What it may be: `Stream` for a path named on the command line (a
    /// FIFO is read as grep reads it), `Regular` for the default logs,
    /// rotated siblings and walked files (a planted FIFO is refused, never
    /// waited on).
    pub expect: Expect,
}

impl Input {
    pub fn display(&self) -> String {
        match self {
            Input::Stdin => "(standard input)".into(),
            Input::InRoot(f) => f.root.display_path(&f.jail).display().to_string(),
        }
    }

    /// What the path names, symlinks followed (inside the root).
    pub fn metadata(&self) -> std::io::Result<std::fs::Metadata> {
        match self {
            Input::Stdin => Err(std::io::Error::other("standard input has no metadata")),
            Input::InRoot(f) => f.root.metadata(&f.jail),
        }
    }

    /// Opens the file; only what the input may be is accepted.
    pub fn open(&self) -> std::io::Result<File> {
        match self {
            Input::Stdin => Err(std::io::Error::other("standard input is not opened")),
            Input::InRoot(f) => f.root.open(&f.jail, f.expect),
        }
    }

    /// True when a FIFO or a device here is read as a stream.
    fn streams(&self) -> bool {
        match self {
            Input::InRoot(f) => f.expect == Expect::Stream,
            Input::Stdin => true,
        }
    }
}

/// What searching one input gave, besides its hits.
#[derive(Debug, Default)]
pub struct Searched {
    /// The regular file as it was opened, for a second read (context
    /// lines); `None` for standard input and streams.
    pub file: Option<Arc<File>>,
    pub errors: Vec<String>,
    pub overlong: Vec<u64>,
}

/// Whether the sink wants the search to go on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    Continue,
    /// Nothing more of this input (`-l` has its answer): its `finished`
    /// comes next, then the next input.
    SkipInput,
    /// Nothing more at all (`-q` has its answer).
    Stop,
}

/// Receives what the search finds, in input order: the hits of input 0, a
/// buffer at a time and in file order, then `finished(0, ..)`, then input 1.
pub trait Sink {
    fn hits(&mut self, input: usize, hits: Hits) -> Result<Next>;
    fn finished(&mut self, input: usize, searched: Searched) -> Result<Next>;
}

/// What a job sends to the sink's thread.
enum Message {
    Hits(Hits),
    /// The job's end: lines counted, overlong lines, and its error.
    Done(Scanned, Option<String>),
}

/// Which bytes of its file a job searches.
#[derive(Clone, Copy)]
enum Extent {
    /// The whole input through its decoder.
    Whole,
    /// Part `[start, stop)` of a plain file.
    Part { start: u64, stop: u64 },
}

struct Job {
    /// Position in the order in which the sink reads the jobs.
    seq: usize,
    /// Set when the sink wants no more of this job's input.
    skipped: Arc<AtomicBool>,
    file: Arc<File>,
    extent: Extent,
    sender: SyncSender<Message>,
}

/// How one input is read, as the planner decided.
enum Plan {
    /// Searched by jobs on the worker threads; their messages, in order.
    Jobs {
        file: Arc<File>,
        parts: bool,
        receivers: Vec<Receiver<Message>>,
        skipped: Arc<AtomicBool>,
    },
    /// Standard input, a FIFO or a device: read once, on the sink's thread.
    Stream,
    /// Could not be opened.
    Failed(String),
}

/// The schedule the worker threads and the sink's thread share.
struct Schedule {
    /// Inputs before this one are planned.
    next_to_plan: usize,
    /// Inputs before this one are delivered to the sink.
    delivered: usize,
    /// Planned jobs not yet taken, in input and part order.
    queue: VecDeque<Job>,
    /// The `seq` of the next job planned.
    next_seq: usize,
    /// Jobs the sink has read to their end.
    jobs_done: usize,
    /// Jobs (and streams) being read now: they may offer blocks to decode.
    running: usize,
    /// Blocks offered by running jobs, for workers with nothing else to do.
    help: VecDeque<Arc<dyn Runnable>>,
    plans: Vec<Option<Plan>>,
}

struct Shared<'a> {
    inputs: &'a [Input],
    jobs_ahead: usize,
    threads: usize,
    limits: Limits,
    schedule: Mutex<Schedule>,
    /// Signalled when a plan is made, an input delivered, or the search stops.
    changed: Condvar,
    /// Set once the sink's thread is done (or wants no more): the workers
    /// quit, and running jobs stop sending.
    stopping: AtomicBool,
    /// The first panic of any thread of the search, which stopped it.
    panicked: Mutex<Option<String>>,
}

impl<'a> Shared<'a> {
    fn new(inputs: &'a [Input], threads: usize, limits: Limits) -> Shared<'a> {
        Shared {
            inputs,
            jobs_ahead: threads.max(1) * JOBS_AHEAD_PER_THREAD,
            threads: threads.max(1),
            limits,
            schedule: Mutex::new(Schedule {
                next_to_plan: 0,
                delivered: 0,
                queue: VecDeque::new(),
                next_seq: 0,
                jobs_done: 0,
                running: 0,
                help: VecDeque::new(),
                plans: inputs.iter().map(|_| None).collect(),
            }),
            changed: Condvar::new(),
            stopping: AtomicBool::new(false),
            panicked: Mutex::new(None),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Schedule> {
        self.schedule.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn wait<'g>(&self, guard: MutexGuard<'g, Schedule>) -> MutexGuard<'g, Schedule> {
        self.changed.wait(guard).unwrap_or_else(|e| e.into_inner())
    }

    /// Plans the next input, if it is within the lookahead.  Planning in
    /// order, under the lock, keeps the queue in input order: the earliest
    /// unfinished job is then always running, so the sink never waits on a
    /// job that no thread will take.
    fn plan_next(&self, schedule: &mut Schedule) -> bool {
        let index = schedule.next_to_plan;
        if index >= self.inputs.len() || index >= schedule.delivered + LOOKAHEAD {
            return false;
        }
        schedule.next_to_plan += 1;
        let plan = match &self.inputs[index] {
            Input::Stdin => Plan::Stream,
            file => plan_file(file, schedule),
        };
        schedule.plans[index] = Some(plan);
        self.changed.notify_all();
        true
    }

    /// Runs `f` (a thread's whole part in the search); if it panics, the
    /// panic is kept for the caller and the search stops, so no thread
    /// waits for what the panicked one would have done.
    fn guarded<R>(&self, f: impl FnOnce() -> R) -> Option<R> {
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
            Ok(result) => Some(result),
            Err(payload) => {
                let message = payload
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| payload.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "no message".into());
                let mut panicked = self.panicked.lock().unwrap_or_else(|e| e.into_inner());
                panicked.get_or_insert(message);
                drop(panicked);
                self.stop();
                None
            }
        }
    }

    /// An error for a search a panic stopped.
    fn panic_error(&self) -> Option<anyhow::Error> {
        let panicked = self.panicked.lock().unwrap_or_else(|e| e.into_inner());
        panicked.as_ref().map(|message| {
            anyhow::anyhow!("internal error: a search thread panicked ({message}); search stopped")
        })
    }

    fn stop(&self) {
        self.stopping.store(true, Ordering::Relaxed);
        let mut schedule = self.lock();
        schedule.queue.clear();
        schedule.help.clear();
        schedule.plans.clear();
        self.changed.notify_all();
    }

    /// How a job decodes its compressed input: with every worker's help.
    fn decoding(&self) -> Decoding<'_> {
        Decoding {
            helpers: self,
            window: self.threads * BLOCKS_AHEAD_PER_THREAD,
            limits: self.limits,
        }
    }

    /// Counts a job or stream as running (or no longer).
    fn set_running(&self, running: bool) {
        let mut schedule = self.lock();
        if running {
            schedule.running += 1;
        } else {
            schedule.running -= 1;
            // The idle workers may be done now.
            self.changed.notify_all();
        }
    }
}

impl Helpers for Shared<'_> {
    fn offer(&self, task: Arc<dyn Runnable>) {
        if self.stopping.load(Ordering::Relaxed) {
            return;
        }
        self.lock().help.push_back(task);
        // All: the sink's thread waits on the same condition.
        self.changed.notify_all();
    }
}

/// Searches every input and hands what it finds to `sink`, in input order.
/// Standard input, FIFOs and devices are read on the calling thread, at
/// their turn.  Each file is opened once: a file removed while it is
/// searched is still read to its end.  An error of the sink ends the search.
pub fn search_all(
    inputs: &[Input],
    matcher: &Matcher,
    count_lines: bool,
    threads: usize,
    limits: Limits,
    stdin: &mut dyn Read,
    sink: &mut dyn Sink,
) -> Result<()> {
    let shared = Shared::new(inputs, threads, limits);
    let result = std::thread::scope(|scope| {
        for _ in 0..threads.max(1) {
            scope.spawn(|| shared.guarded(|| work(&shared, matcher, count_lines)));
        }
        let result = shared.guarded(|| deliver_all(&shared, matcher, count_lines, stdin, sink));
        // Whatever happened, let the workers go (they may be waiting).
        shared.stop();
        result
    });
    // A panic anywhere ends the run as an error (exit 2), never a hang.
    match shared.panic_error() {
        Some(error) => Err(error),
        None => result.unwrap_or(Ok(())),
    }
}

/// A worker thread: takes the next job, or plans the next input, or decodes
/// a block a running job offered, or waits.
fn work(shared: &Shared<'_>, matcher: &Matcher, count_lines: bool) {
    let mut schedule = shared.lock();
    loop {
        // Set before `stop` takes the lock, so seen once it is released.
        if shared.stopping.load(Ordering::Relaxed) {
            return;
        }
        let may_run = schedule
            .queue
            .front()
            .is_some_and(|job| job.seq < schedule.jobs_done + shared.jobs_ahead);
        if may_run && let Some(job) = schedule.queue.pop_front() {
            schedule.running += 1;
            drop(schedule);
            run_job(job, matcher, count_lines, shared);
            shared.set_running(false);
            schedule = shared.lock();
        } else if shared.plan_next(&mut schedule) {
        } else if let Some(task) = schedule.help.pop_back() {
            // The newest block: the job that offered it decodes the older
            // ones itself as it needs them, so neither waits on the other.
            drop(schedule);
            task.run();
            schedule = shared.lock();
        } else {
            let all_planned = schedule.next_to_plan >= shared.inputs.len();
            if schedule.queue.is_empty() && all_planned && schedule.running == 0 {
                return;
            }
            schedule = shared.wait(schedule);
        }
    }
}

/// The sink's side: each input in turn, its jobs' messages in part order.
fn deliver_all(
    shared: &Shared<'_>,
    matcher: &Matcher,
    count_lines: bool,
    stdin: &mut dyn Read,
    sink: &mut dyn Sink,
) -> Result<()> {
    for index in 0..shared.inputs.len() {
        let plan = {
            let mut schedule = shared.lock();
            loop {
                if let Some(plan) = schedule.plans.get_mut(index).and_then(Option::take) {
                    break plan;
                }
                // Stopped by a panic on another thread: nothing more comes.
                if shared.stopping.load(Ordering::Relaxed) {
                    return Ok(());
                }
                // Plan it here if no worker is free to (they may all be
                // busy with earlier inputs' jobs).
                if !shared.plan_next(&mut schedule) {
                    schedule = shared.wait(schedule);
                }
            }
        };
        let mut searched = Searched::default();
        let next = match plan {
            Plan::Failed(error) => {
                searched.errors.push(error);
                Next::Continue
            }
            Plan::Stream => {
                shared.set_running(true);
                let decoding = shared.decoding();
                let read = match &shared.inputs[index] {
                    Input::Stdin => read_stream(stdin, index, matcher, count_lines, decoding, sink),
                    file => match file.open() {
                        Ok(mut file) => {
                            read_stream(&mut file, index, matcher, count_lines, decoding, sink)
                        }
                        Err(e) => Ok((Next::Continue, Scanned::default(), Some(e.to_string()))),
                    },
                };
                shared.set_running(false);
                let (next, scanned, error) = read?;
                searched.overlong = scanned.overlong;
                searched.errors.extend(error);
                next
            }
            Plan::Jobs {
                file,
                parts,
                receivers,
                skipped,
            } => {
                searched.file = Some(file);
                let next = receive_jobs(shared, receivers, parts, index, &mut searched, sink)?;
                if next == Next::SkipInput {
                    skipped.store(true, Ordering::Relaxed);
                }
                next
            }
        };
        if next == Next::Stop {
            return Ok(());
        }
        // The file is closed once its jobs are done (the sink may keep it).
        if sink.finished(index, searched)? == Next::Stop {
            return Ok(());
        }
        shared.lock().delivered = index + 1;
        shared.changed.notify_all();
    }
    Ok(())
}

/// Reads the messages of one input's jobs, in order, into the sink.
fn receive_jobs(
    shared: &Shared<'_>,
    receivers: Vec<Receiver<Message>>,
    parts: bool,
    index: usize,
    searched: &mut Searched,
    sink: &mut dyn Sink,
) -> Result<Next> {
    // A part numbers its lines from its own start: the lines of the parts
    // before it are added here.  After a part that failed, that count is
    // unknown, and so are the line numbers (better none than wrong ones).
    let mut lines_before = Some(0);
    let jobs = receivers.len();
    for (done, receiver) in receivers.into_iter().enumerate() {
        loop {
            match receiver.recv() {
                Ok(Message::Hits(mut hits)) => {
                    if parts {
                        hits.add_lines_before(lines_before);
                    }
                    match sink.hits(index, hits)? {
                        Next::Continue => {}
                        Next::Stop => return Ok(Next::Stop),
                        Next::SkipInput => {
                            // The jobs not read count as done: the threads
                            // drop them (see `skipped`) and take later ones.
                            shared.lock().jobs_done += jobs - done;
                            shared.changed.notify_all();
                            return Ok(Next::SkipInput);
                        }
                    }
                }
                Ok(Message::Done(scanned, error)) => {
                    let complete = error.is_none();
                    lines_before = lines_before.filter(|_| complete).map(|n| n + scanned.lines);
                    searched.overlong.extend(scanned.overlong);
                    // Parts of one file fail alike: say it once.
                    if let Some(error) = error
                        && !searched.errors.contains(&error)
                    {
                        searched.errors.push(error);
                    }
                    break;
                }
                Err(_) => {
                    searched
                        .errors
                        .push("internal error: a search job did not finish".into());
                    lines_before = None;
                    break;
                }
            }
        }
        shared.lock().jobs_done += 1;
        shared.changed.notify_all();
    }
    Ok(Next::Continue)
}

/// Reads a stream through its decoder on this thread, into the sink.
fn read_stream(
    reader: &mut dyn Read,
    index: usize,
    matcher: &Matcher,
    count_lines: bool,
    decoding: Decoding<'_>,
    sink: &mut dyn Sink,
) -> Result<(Next, Scanned, Option<String>)> {
    let (mut decoded, _) = match input::decoder_with(reader, decoding) {
        Ok(x) => x,
        Err(e) => return Ok((Next::Continue, Scanned::default(), Some(e.to_string()))),
    };
    let mut next = Next::Continue;
    let mut failure = None;
    let mut deliver = |hits: Hits| match sink.hits(index, hits) {
        Ok(Next::Continue) => true,
        Ok(stop) => {
            next = stop;
            false
        }
        Err(e) => {
            failure = Some(e);
            false
        }
    };
    let result = scan::scan_with(
        &mut decoded,
        matcher,
        count_lines,
        Range::WHOLE,
        &mut deliver,
    );
    if let Some(e) = failure {
        return Err(e);
    }
    Ok(match result {
        Ok(scanned) => (next, scanned, None),
        Err((e, scanned)) => (next, scanned, Some(describe(e))),
    })
}

/// Opens one input file and queues its jobs.
fn plan_file(input: &Input, schedule: &mut Schedule) -> Plan {
    use std::os::unix::fs::FileExt;
    // A FIFO is not opened here: opening one waits for a writer.  Only an
    // input named explicitly may be one; elsewhere it is refused.
    match input.metadata() {
        Ok(meta) if meta.is_dir() => return Plan::Failed("is a directory".into()),
        Ok(meta) if !meta.file_type().is_file() && input.streams() => return Plan::Stream,
        Ok(meta) if !meta.file_type().is_file() => {
            return Plan::Failed(
                "not a regular file: skipped (a rotated or walked log must be one)".into(),
            );
        }
        Ok(_) => {}
        Err(e) => return Plan::Failed(e.to_string()),
    }
    // Opened as the input allows: a FIFO swapped in since the look is
    // refused without waiting (Expect::Regular opens non-blocking).
    let opened = input.open().and_then(|f| {
        let meta = f.metadata()?;
        Ok((f, meta))
    });
    let (file, meta) = match opened {
        Ok(x) => x,
        Err(e) => return Plan::Failed(e.to_string()),
    };
    // Positioned reads: the file's offset stays at 0 for the jobs.
    let mut head = [0u8; 6];
    let mut read = 0;
    while read < head.len() {
        match file.read_at(&mut head[read..], read as u64) {
            Ok(0) => break,
            Ok(n) => read += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Plan::Failed(e.to_string()),
        }
    }
    let file = Arc::new(file);
    let size = meta.len();
    let mut extents = Vec::new();
    let parts = Compression::detect(&head[..read]) == Compression::Plain && size >= SPLIT_AT;
    if parts {
        // Small parts: each is mapped on its own, so this bounds the memory
        // a thread holds, and keeps every core busy to the end.  On one
        // thread too: a map costs less than copying the file into a buffer.
        let mut start = 0;
        while start < size {
            let stop = (start + PART_SIZE).min(size);
            extents.push(Extent::Part { start, stop });
            start = stop;
        }
    } else {
        extents.push(Extent::Whole);
    }
    let mut receivers = Vec::new();
    let skipped = Arc::new(AtomicBool::new(false));
    for extent in extents {
        let (sender, receiver) = sync_channel(CHUNKS_IN_FLIGHT);
        schedule.queue.push_back(Job {
            seq: schedule.next_seq,
            skipped: Arc::clone(&skipped),
            file: Arc::clone(&file),
            extent,
            sender,
        });
        receivers.push(receiver);
        schedule.next_seq += 1;
    }
    Plan::Jobs {
        file,
        parts,
        receivers,
        skipped,
    }
}

/// Runs one job, sending its hits in batches as they are found, then its
/// end.  The first hits go at once (for `-q`), the rest by the megabyte.
fn run_job(job: Job, matcher: &Matcher, count_lines: bool, shared: &Shared<'_>) {
    let (sender, skipped) = (&job.sender, &job.skipped);
    let stopping = &shared.stopping;
    if skipped.load(Ordering::Relaxed) {
        return;
    }
    // False once the sink's thread has stopped listening: stop searching.
    let send = |hits: Hits| {
        !stopping.load(Ordering::Relaxed)
            && !skipped.load(Ordering::Relaxed)
            && sender.send(Message::Hits(hits)).is_ok()
    };
    let mut batch = Hits::default();
    let mut sent_any = false;
    let mut deliver = |hits: Hits| {
        if batch.is_empty() {
            batch = hits;
        } else {
            batch.append(&hits);
        }
        if sent_any && batch.bytes() < BATCH_BYTES {
            return true;
        }
        sent_any = true;
        send(std::mem::take(&mut batch))
    };
    let searched = search_extent(
        &job.file,
        job.extent,
        matcher,
        count_lines,
        shared.decoding(),
        &mut deliver,
    );
    if !batch.is_empty() && !send(batch) {
        return;
    }
    let (scanned, error) = match searched {
        Ok(scanned) => (scanned, None),
        Err((error, scanned)) => (scanned, Some(error)),
    };
    let _ = sender.send(Message::Done(scanned, error));
}

fn search_extent(
    file: &File,
    extent: Extent,
    matcher: &Matcher,
    count_lines: bool,
    decoding: Decoding<'_>,
    deliver: &mut dyn FnMut(Hits) -> bool,
) -> Result<Scanned, (String, Scanned)> {
    match extent {
        Extent::Part { start, stop } => {
            let size = file
                .metadata()
                .map_err(|e| (e.to_string(), Scanned::default()))?
                .len();
            if let Some((found, shrank)) =
                crate::mapped::search_part(file, size, start, stop, matcher, count_lines, deliver)
            {
                // A truncation under the map read as zeros, or before it
                // (the part was planned on the old size): say so.
                return match shrank || size < stop {
                    true => Err((shrank_now(file), found)),
                    false => Ok(found),
                };
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
            let scanned = scan::scan_with(&mut reader, matcher, count_lines, range, deliver)
                .map_err(|(e, s)| (e.to_string(), s))?;
            match file.metadata() {
                Ok(meta) if meta.len() < stop => Err((shrank_now(file), scanned)),
                _ => Ok(scanned),
            }
        }
        Extent::Whole => {
            // Positioned reads from 0, whatever the shared offset is.
            let reader = RangeReader { file, position: 0 };
            let (mut reader, _) = input::decoder_with(reader, decoding)
                .map_err(|e| (e.to_string(), Scanned::default()))?;
            scan::scan_with(&mut reader, matcher, count_lines, Range::WHOLE, deliver)
                .map_err(|(e, s)| (describe(e), s))
        }
    }
}

/// A file cut shorter while it was searched (copytruncate rotation).
fn shrank_now(file: &File) -> String {
    let now = file.metadata().map_or(0, |m| m.len());
    format!(
        "shrank to {now} bytes while being searched (truncated, e.g. by logrotate's copytruncate); lines up to there were searched"
    )
}

/// Decoders report a truncated archive as an unexpected end of file.
fn describe(e: std::io::Error) -> String {
    if let Some(bomb) = e
        .get_ref()
        .and_then(|e| e.downcast_ref::<input::ProbableBomb>())
    {
        bomb.to_string()
    } else if e.kind() == std::io::ErrorKind::UnexpectedEof {
        format!("truncated or damaged archive ({e}); events before the damage were kept")
    } else {
        format!("damaged or unreadable ({e}); events before the damage were kept")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file of the test's temporary directory, opened as maillog-grep
    /// opens a named path: through `Root` (the host's, `--root /`).
    fn host_file(path: PathBuf) -> Input {
        Input::InRoot(InRoot {
            root: Arc::new(Root::host()),
            jail: path,
            expect: Expect::Stream,
        })
    }

    /// Records what the search delivers, in the order it comes.
    #[derive(Default)]
    struct Recorder {
        /// (input, line number, offset) of each hit.
        hits: Vec<(usize, Option<u64>, u64)>,
        finished: Vec<usize>,
        /// Stop after this many hits.
        stop_after: Option<usize>,
        /// Skip the rest of each input after its first hits.
        skip_inputs: bool,
    }

    impl Sink for Recorder {
        fn hits(&mut self, input: usize, hits: Hits) -> Result<Next> {
            assert_eq!(self.finished.len(), input, "hits after their input ended");
            self.hits
                .extend(hits.iter().map(|h| (input, h.number, h.offset)));
            let enough = self.stop_after.is_some_and(|n| self.hits.len() >= n);
            Ok(if enough {
                Next::Stop
            } else if self.skip_inputs {
                Next::SkipInput
            } else {
                Next::Continue
            })
        }

        fn finished(&mut self, input: usize, searched: Searched) -> Result<Next> {
            assert_eq!(self.finished.len(), input, "inputs out of order");
            assert!(searched.errors.is_empty(), "{:?}", searched.errors);
            self.finished.push(input);
            Ok(Next::Continue)
        }
    }

    /// Runs `f` on its own thread; `None` if it has not ended in 30 s.
    fn within_30s<R: Send + 'static>(f: impl FnOnce() -> R + Send + 'static) -> Option<R> {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(f());
        });
        rx.recv_timeout(std::time::Duration::from_secs(30)).ok()
    }

    /// A block offered to the pool panics on the worker that takes it; the
    /// job that owns it (on another worker) collects the panic.  The run
    /// ends with the panic as its error and every worker returns (a worker
    /// idles while a job runs, and used to wait for it forever).
    #[test]
    fn a_panicking_block_ends_the_pool_with_an_error_not_a_hang() {
        let ended = within_30s(|| {
            let inputs = [Input::Stdin];
            let shared = Shared::new(&inputs, 2, Limits::default());
            // The stream is planned and running: idle workers wait on it.
            shared.lock().next_to_plan = 1;
            shared.set_running(true);
            let block = crate::helping::Task::new(|| -> Vec<u8> { panic!("bad block") });
            let (taken_tx, taken_rx) = std::sync::mpsc::channel();
            std::thread::scope(|scope| {
                for _ in 0..2 {
                    scope.spawn(|| shared.guarded(|| work(&shared, &Matcher::new(&["x"]), false)));
                }
                let owner = scope.spawn(|| {
                    shared.guarded(|| {
                        shared.offer(block.clone());
                        // Wait until a worker has taken it, then collect.
                        while !shared.lock().help.is_empty() {
                            std::thread::yield_now();
                        }
                        taken_tx.send(()).unwrap();
                        block.collect()
                    })
                });
                taken_rx.recv().unwrap();
                assert!(owner.join().unwrap().is_none(), "the owner did not panic");
            });
            shared.panic_error().map(|e| e.to_string())
        });
        let error = ended.expect("the pool hung after a panic");
        assert!(
            error.is_some_and(|e| e.contains("panicked (bad block)")),
            "no error for the panic"
        );
    }

    /// A panic on the sink's thread (here the sink itself) with files still
    /// queued: the search returns the panic as an error instead of waiting
    /// on its workers forever.
    #[test]
    fn a_panic_on_the_sink_thread_ends_the_search_with_an_error() {
        struct Panicking;
        impl Sink for Panicking {
            fn hits(&mut self, _: usize, _: Hits) -> Result<Next> {
                panic!("sink broke")
            }
            fn finished(&mut self, _: usize, _: Searched) -> Result<Next> {
                Ok(Next::Continue)
            }
        }
        let dir = tempfile::tempdir().unwrap();
        let inputs: Vec<Input> = (0..40)
            .map(|i| {
                let path = dir.path().join(format!("log{i}"));
                std::fs::write(&path, numbered(100)).unwrap();
                host_file(path)
            })
            .collect();
        let ended = within_30s(move || {
            let matcher = Matcher::new(&["needle"]);
            search_all(
                &inputs,
                &matcher,
                false,
                2,
                Limits::default(),
                &mut std::io::empty(),
                &mut Panicking,
            )
            .map_err(|e| e.to_string())
        });
        let error = ended.expect("the search hung after a panic").unwrap_err();
        assert!(error.contains("panicked (sink broke)"), "{error}");
    }

    /// Issue 21: a log cut shorter after the search planned its parts (as
    /// copytruncate does) is read up to its new end and the shrink reported;
    /// a mapped part died by SIGBUS here.
    #[test]
    fn a_part_past_the_new_end_reports_the_shrink() {
        let text = numbered(1000); // 100,000 bytes
        let mut file = tempfile::tempfile().unwrap();
        std::io::Write::write_all(&mut file, &text).unwrap();
        file.set_len(50_000).unwrap(); // truncated after planning
        let matcher = Matcher::new(&["needle"]);
        let mut found = 0;
        let mut deliver = |hits: Hits| {
            found += hits.iter().count();
            true
        };
        let part = Extent::Part {
            start: 40_000,
            stop: 80_000,
        };
        let (error, _) = search_extent(
            &file,
            part,
            &matcher,
            false,
            Decoding::sequential(Limits::default()),
            &mut deliver,
        )
        .unwrap_err();
        assert!(error.contains("shrank to 50000 bytes"), "{error}");
        // Lines 401..=500 were still there: 14 of them hold the needle.
        assert_eq!(found, (401..=500).filter(|n| n % 7 == 0).count());
    }

    /// `lines` lines of 100 bytes; every 7th holds the needle.
    fn numbered(lines: u64) -> Vec<u8> {
        let mut text = Vec::with_capacity(lines as usize * 100);
        for n in 1..=lines {
            let word = if n % 7 == 0 { "needle" } else { "hay..." };
            text.extend_from_slice(format!("{n:>20} {word} {:>71}\n", "").as_bytes());
        }
        text
    }

    fn expected(input: usize, lines: u64) -> Vec<(usize, Option<u64>, u64)> {
        (1..=lines)
            .filter(|n| n % 7 == 0)
            .map(|n| (input, Some(n), (n - 1) * 100))
            .collect()
    }

    #[test]
    fn delivers_every_input_in_order_with_its_line_numbers() {
        let dir = tempfile::tempdir().unwrap();
        // A file big enough to be searched in parts, standard input, then
        // more small files than are planned ahead.
        let big_lines = (SPLIT_AT / 100) + 50_000;
        let mut inputs = vec![host_file(dir.path().join("big")), Input::Stdin];
        std::fs::write(dir.path().join("big"), numbered(big_lines)).unwrap();
        let small = LOOKAHEAD as u64 * 2;
        for i in 1..=small {
            let path = dir.path().join(format!("small{i}"));
            std::fs::write(&path, numbered(i * 3)).unwrap();
            inputs.push(host_file(path));
        }
        let matcher = Matcher::new(&["needle"]);
        let stdin = numbered(50);
        for threads in [1, 2, 3] {
            let mut sink = Recorder::default();
            search_all(
                &inputs,
                &matcher,
                true,
                threads,
                Limits::default(),
                &mut &stdin[..],
                &mut sink,
            )
            .unwrap();
            let mut want = expected(0, big_lines);
            want.extend(expected(1, 50));
            for i in 1..=small {
                want.extend(expected(i as usize + 1, i * 3));
            }
            assert_eq!(sink.hits, want, "{threads} threads");
            assert_eq!(sink.finished, (0..inputs.len()).collect::<Vec<_>>());
        }
    }

    #[test]
    fn a_sink_that_stops_ends_the_search() {
        let dir = tempfile::tempdir().unwrap();
        let big_lines = (SPLIT_AT / 100) * 2;
        std::fs::write(dir.path().join("big"), numbered(big_lines)).unwrap();
        let inputs = vec![
            host_file(dir.path().join("big")),
            Input::Stdin,
            host_file(dir.path().join("big")),
        ];
        let matcher = Matcher::new(&["needle"]);
        let mut sink = Recorder {
            stop_after: Some(1),
            ..Recorder::default()
        };
        let stdin = numbered(100);
        search_all(
            &inputs,
            &matcher,
            false,
            2,
            Limits::default(),
            &mut &stdin[..],
            &mut sink,
        )
        .unwrap();
        // The first buffer that had a hit was the last one delivered.
        assert!(sink.hits.iter().all(|h| h.0 == 0));
        assert!(sink.hits.len() < (big_lines / 7) as usize);
        assert!(sink.finished.is_empty());
    }

    #[test]
    fn a_sink_that_skips_an_input_gets_the_next_ones_whole() {
        let dir = tempfile::tempdir().unwrap();
        let big_lines = (SPLIT_AT / 100) * 2;
        std::fs::write(dir.path().join("big"), numbered(big_lines)).unwrap();
        std::fs::write(dir.path().join("small"), numbered(30)).unwrap();
        let big = host_file(dir.path().join("big"));
        let small = host_file(dir.path().join("small"));
        let inputs = vec![big.clone(), small.clone(), Input::Stdin, big, small];
        let matcher = Matcher::new(&["needle"]);
        let stdin = numbered(100);
        for threads in [1, 2, 3] {
            let mut sink = Recorder {
                skip_inputs: true,
                ..Recorder::default()
            };
            search_all(
                &inputs,
                &matcher,
                true,
                threads,
                Limits::default(),
                &mut &stdin[..],
                &mut sink,
            )
            .unwrap();
            assert_eq!(sink.finished, [0, 1, 2, 3, 4], "{threads} threads");
            // Each input's first batch, which begins with its first hit.
            for input in 0..inputs.len() {
                let first = sink.hits.iter().find(|h| h.0 == input);
                assert_eq!(first, Some(&(input, Some(7), 600)), "{threads} threads");
            }
            assert!(sink.hits.len() < (big_lines / 7) as usize);
        }
    }
}
