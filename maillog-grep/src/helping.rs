//! One worker budget for files and for the blocks of one file.
//!
//! The search runs `-j N` worker threads and no others.  A job that decodes
//! a big archive offers the blocks ahead of the one it reads as [`Task`]s;
//! a worker with no file job to run takes one (see `search::work`).  The
//! job runs a task itself when no one has taken it by the time it needs
//! it, so an archive is decoded in order even with one thread, and a set of
//! many small archives keeps every worker on its own file: no thread waits
//! on another, and no more threads run than `-j` says.
//!
//! A task that panics on a helping thread hands the panic to its owner,
//! who would have panicked running it itself: its `collect` panics instead
//! of waiting for a result that will never come (the search then stops,
//! see `search::guarded`).

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::{Arc, Condvar, Mutex};

/// Somewhere to offer work that another thread may do.
pub trait Helpers: Sync {
    fn offer(&self, task: Arc<dyn Runnable>);
}

/// No one helps: every task runs on the thread that needs it.
pub struct NoHelpers;

impl Helpers for NoHelpers {
    fn offer(&self, _task: Arc<dyn Runnable>) {}
}

/// What a helping thread does with a task it took.
pub trait Runnable: Send + Sync {
    /// Runs the task unless it has been taken already.
    fn run(&self);
}

enum State<T> {
    Waiting(Box<dyn FnOnce() -> T + Send>),
    Running,
    Done(T),
    /// The work panicked on a helping thread: the panic, for the owner.
    Panicked(Box<dyn Any + Send>),
    Collected,
}

/// A piece of work whose result one owner collects.
pub struct Task<T> {
    state: Mutex<State<T>>,
    finished: Condvar,
}

impl<T: Send> Task<T> {
    pub fn new(work: impl FnOnce() -> T + Send + 'static) -> Arc<Task<T>> {
        Arc::new(Task {
            state: Mutex::new(State::Waiting(Box::new(work))),
            finished: Condvar::new(),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State<T>> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Drops the work if no one has started it.
    pub fn cancel(&self) {
        let mut state = self.lock();
        if matches!(*state, State::Waiting(_)) {
            *state = State::Collected;
        }
    }

    /// The result: run here if no one has started it, else waited for.
    /// Panics if the work panicked on the thread that took it.
    pub fn collect(&self) -> T {
        let mut state = self.lock();
        loop {
            match std::mem::replace(&mut *state, State::Collected) {
                State::Waiting(work) => {
                    drop(state);
                    return work();
                }
                State::Done(result) => return result,
                State::Panicked(payload) => resume_unwind(payload),
                State::Running => {
                    *state = State::Running;
                    state = self.finished.wait(state).unwrap_or_else(|e| e.into_inner());
                }
                State::Collected => unreachable!("a task's result is collected once"),
            }
        }
    }
}

impl<T: Send> Runnable for Task<T> {
    fn run(&self) {
        let work = {
            let mut state = self.lock();
            match std::mem::replace(&mut *state, State::Running) {
                State::Waiting(work) => work,
                other => {
                    // Taken (or dropped) by its owner: nothing to do.
                    *state = other;
                    return;
                }
            }
        };
        // Caught so the owner learns of it: else it would wait forever.
        let outcome = catch_unwind(AssertUnwindSafe(work));
        let mut state = self.lock();
        if matches!(*state, State::Running) {
            *state = match outcome {
                Ok(result) => State::Done(result),
                Err(payload) => State::Panicked(payload),
            };
        }
        self.finished.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_task_runs_once_whoever_runs_it() {
        let ran = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = Arc::clone(&ran);
        let task =
            Task::new(move || counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 41);
        let helper: Arc<dyn Runnable> = task.clone();
        std::thread::scope(|s| {
            s.spawn(|| helper.run());
            assert_eq!(task.collect(), 41);
        });
        helper.run();
        assert_eq!(ran.load(std::sync::atomic::Ordering::SeqCst), 1);
    }

    /// A task that panics on the helper that took it: its owner's collect
    /// panics with the same message instead of waiting forever.
    #[test]
    fn a_panic_on_a_helper_reaches_the_owner_instead_of_a_hang() {
        let (started_tx, started_rx) = std::sync::mpsc::channel();
        let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
        let task = Task::new(move || -> u32 {
            started_tx.send(()).unwrap();
            let _ = release_rx.recv();
            panic!("block decoder broke")
        });
        let helper: Arc<dyn Runnable> = task.clone();
        let helping = std::thread::spawn(move || helper.run());
        // The helper has the task: collect must wait for it, then panic.
        started_rx.recv().unwrap();
        let (outcome_tx, outcome_rx) = std::sync::mpsc::channel();
        let owner = std::thread::spawn(move || {
            let outcome = catch_unwind(AssertUnwindSafe(|| task.collect()));
            let message = outcome
                .err()
                .and_then(|p| p.downcast_ref::<&str>().map(|s| s.to_string()));
            outcome_tx.send(message).unwrap();
        });
        release_tx.send(()).unwrap();
        let message = outcome_rx
            .recv_timeout(std::time::Duration::from_secs(20))
            .expect("the owner hung on a task whose helper panicked");
        assert_eq!(message.as_deref(), Some("block decoder broke"));
        helping.join().expect("the helper's panic was caught");
        owner.join().unwrap();
    }

    #[test]
    fn an_untaken_task_runs_on_the_collecting_thread() {
        let task = Task::new(|| std::thread::current().id());
        assert_eq!(task.collect(), std::thread::current().id());
    }
}
