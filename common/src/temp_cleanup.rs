//! Named temporary files removed when the run is stopped by a signal.
//!
//! Where `O_TMPFILE` is not available (FreeBSD; a Linux file system that
//! refuses it) the writer's new file has a name, `.NAME.XXXX.tmp`, from its
//! creation to its rename.  cron, service managers and a user at a terminal
//! stop a run with SIGTERM, SIGHUP or SIGINT; without this the name stays
//! behind for good.  Every such name is registered here while it exists; the
//! first registration starts a thread that waits for those signals
//! (signal-hook's self-pipe, no code of ours runs in the handler), removes
//! every registered name, and then ends the process the way the signal
//! would have (killed by it: a shell sees status 128 + N).
//!
//! The registry's lock is held across the writer's rename, so a signal
//! either finds the name (and removes it, the original untouched) or finds
//! the rename done (the new file complete): never half of each.
//!
//! A signal the process was started with ignored (`nohup`'s SIGHUP, a
//! background job's SIGINT) stays ignored: no handler is installed for it.

use std::ffi::{OsStr, OsString};
use std::os::fd::{BorrowedFd, OwnedFd};
use std::sync::{Mutex, MutexGuard, OnceLock};

use signal_hook::consts::signal::{SIGHUP, SIGINT, SIGTERM};

/// The signals that stop a run: service managers' SIGTERM, a closed
/// terminal's SIGHUP, Ctrl-C's SIGINT.
const STOPPING: [i32; 3] = [SIGTERM, SIGHUP, SIGINT];

/// A name in a directory (held open: the name is removed where it was made,
/// whatever happened to the path since).
struct Pending {
    id: u64,
    dir: OwnedFd,
    name: OsString,
}

struct Registry {
    next_id: u64,
    pending: Vec<Pending>,
}

static REGISTRY: Mutex<Registry> = Mutex::new(Registry {
    next_id: 0,
    pending: Vec::new(),
});
static LISTENER: OnceLock<()> = OnceLock::new();

/// The registry, even after a panic elsewhere poisoned it: the list itself
/// is always consistent (each change is one push or one retain).
fn registry() -> MutexGuard<'static, Registry> {
    REGISTRY
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A registered name; dropping it forgets the name (the caller has renamed
/// or removed the file).
#[derive(Debug)]
pub(crate) struct Registration {
    id: u64,
}

/// Creates `name` in `dir` by `create` and registers it for removal on a
/// stopping signal, both under the registry's lock: a signal that comes
/// while the name is being made waits, then finds it.  Failing to watch for
/// signals is not an error: the write goes on as before, unregistered.
pub(crate) fn create_registered<T, E>(
    dir: BorrowedFd<'_>,
    name: &OsStr,
    create: impl FnOnce() -> Result<T, E>,
) -> Result<(T, Option<Registration>), E> {
    LISTENER.get_or_init(start_listener);
    let Ok(dir) = dir.try_clone_to_owned() else {
        return create().map(|made| (made, None));
    };
    let mut registry = registry();
    let made = create()?;
    let id = registry.next_id;
    registry.next_id += 1;
    registry.pending.push(Pending {
        id,
        dir,
        name: name.to_os_string(),
    });
    Ok((made, Some(Registration { id })))
}

/// Runs `step` (the rename) with no signal cleanup in between.
pub(crate) fn without_cleanup<R>(step: impl FnOnce() -> R) -> R {
    let _held = registry();
    step()
}

impl Drop for Registration {
    fn drop(&mut self) {
        registry().pending.retain(|p| p.id != self.id);
    }
}

fn start_listener() {
    let wanted: Vec<i32> = STOPPING
        .into_iter()
        .filter(|&signal| !ignored_at_start(signal))
        .collect();
    let Ok(mut signals) = signal_hook::iterator::Signals::new(&wanted) else {
        return;
    };
    let _ = std::thread::Builder::new()
        .name("temp-cleanup".into())
        .spawn(move || {
            if let Some(signal) = signals.forever().next() {
                remove_all_and_die(signal);
            }
        });
}

/// Removes every registered name and ends the process by `signal`; the
/// registry stays locked, so no rename can follow the removal.
fn remove_all_and_die(signal: i32) -> ! {
    let registry = registry();
    for pending in &registry.pending {
        let _ = rustix::fs::unlinkat(&pending.dir, &pending.name, rustix::fs::AtFlags::empty());
    }
    let _ = signal_hook::low_level::emulate_default_handler(signal);
    // Only if the default action could not be restored.
    std::process::exit(128 + signal)
}

/// Whether `signal` was ignored when the process started (Linux: the
/// `SigIgn` mask of /proc/self/status; elsewhere taken as not ignored).
fn ignored_at_start(signal: i32) -> bool {
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else {
        return false;
    };
    status
        .lines()
        .find_map(|line| line.strip_prefix("SigIgn:"))
        .and_then(|mask| u64::from_str_radix(mask.trim(), 16).ok())
        .is_some_and(|mask| mask & (1u64 << (signal - 1)) != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_registration_is_forgotten_when_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let dir_fd = std::fs::File::open(dir.path()).unwrap();
        let count = || registry().pending.len();
        let before = count();
        let fd = std::os::fd::AsFd::as_fd(&dir_fd);
        let made = || Ok::<(), ()>(());
        let (_, first) = create_registered(fd, OsStr::new(".a.tmp"), made).unwrap();
        let (_, second) = create_registered(fd, OsStr::new(".b.tmp"), made).unwrap();
        let (first, second) = (first.unwrap(), second.unwrap());
        let failed = create_registered(fd, OsStr::new(".c.tmp"), || Err::<(), ()>(()));
        assert!(failed.is_err());
        assert_eq!(count(), before + 2);
        drop(first);
        assert_eq!(count(), before + 1);
        assert!(registry().pending.iter().any(|p| p.id == second.id));
        drop(second);
        assert_eq!(count(), before);
    }

    #[test]
    fn sigign_mask_is_read_for_this_process() {
        // The test runner does not ignore SIGTERM; were the mask misread as
        // all ones (or the bit misplaced), this would say it does.
        if std::path::Path::new("/proc/self/status").exists() {
            assert!(!ignored_at_start(SIGTERM));
        }
    }
}
