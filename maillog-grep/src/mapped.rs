//! Searching part of a big plain file through a memory map, so the kernel
//! does not copy it into a buffer first (half of the time of a read()-based
//! search of a cached file).
//!
//! Memory stays flat: each part maps only its own window (tens of MiB) and
//! unmaps it when done, so resident memory is bounded by the window size
//! times the number of threads, whatever the file size.
//!
//! A file truncated while it is mapped (logrotate's copytruncate) raises
//! SIGBUS on the first page past its new end.  [`guard`] catches exactly
//! those faults, inside a registered window: it maps a page of zeros there
//! and marks the window, so the search runs on over zeros (no line, no
//! match) and the caller reports that the file shrank.  Any other SIGBUS
//! still kills the process, as before.
#![allow(unsafe_code)]

use std::fs::File;

use memmap2::{Advice, MmapOptions};

use crate::scan::{Hits, Matcher, Scanned, search_slice};

/// How far past its end a part looks for the end of its last line.
const OVERHANG: u64 = 1024 * 1024;
/// A part's hits are handed over for every slice this big, as a buffer's
/// are when reading, so a part full of events is not all held at once.
const SLICE: usize = 1024 * 1024;

/// Searches lines starting in `[start, stop)` of `file` (of `size` bytes),
/// handing the hits to `deliver` slice by slice (it returns false to stop).
/// The `Scanned` returned holds no hits; with it, whether the file shrank
/// under the map (the lines past its new end were zeros, never matched).
/// `None`, before any hit is handed over, when the part's last line is
/// longer than the overhang, or the map failed: the caller then reads the
/// part instead.
pub fn search_part(
    file: &File,
    size: u64,
    start: u64,
    stop: u64,
    matcher: &Matcher,
    count_lines: bool,
    deliver: &mut dyn FnMut(Hits) -> bool,
) -> Option<(Scanned, bool)> {
    let from = start.saturating_sub(1);
    let end = (stop + OVERHANG).min(size);
    // The file now ends before the part begins: it shrank since the plan.
    let Some(span) = end.checked_sub(from) else {
        return Some((Scanned::default(), true));
    };
    let len = usize::try_from(span).ok()?;
    if len == 0 {
        return Some((Scanned::default(), false));
    }
    // SAFETY: the map is read-only and private to this function.  If another
    // process truncates the file while it is mapped (copytruncate rotation),
    // reading past the new end faults; the guard registered for the window
    // before any byte is read turns that fault into a page of zeros.
    // Nothing here writes through the map.
    let map = unsafe { MmapOptions::new().offset(from).len(len).map(file) }.ok()?;
    let window = guard::Window::register(map.as_ptr() as usize, len)?;
    let _ = map.advise(Advice::Sequential);
    let data: &[u8] = &map;
    let part = MappedPart {
        start,
        stop,
        from,
        end,
        size,
    };
    let found = search_window(data, &part, matcher, count_lines, deliver)?;
    let shrank = window.faulted();
    drop(window); // before the map goes
    drop(map);
    Some((found, shrank))
}

/// Where a mapped window lies in its file, and which lines it searches.
struct MappedPart {
    /// The part: lines starting in `[start, stop)`.
    start: u64,
    stop: u64,
    /// The file offsets the map covers, `[from, end)`: from the byte
    /// before the part (to see whether a line starts at `start`) to the
    /// overhang past it; `size` is the file's.
    from: u64,
    end: u64,
    size: u64,
}

/// Searches the lines of `part` in `data`, the mapped bytes of its window.
fn search_window(
    data: &[u8],
    part: &MappedPart,
    matcher: &Matcher,
    count_lines: bool,
    deliver: &mut dyn FnMut(Hits) -> bool,
) -> Option<Scanned> {
    let MappedPart {
        start,
        stop,
        from,
        end,
        size,
    } = *part;
    // The part's first line starts after the first newline at or after
    // `from` (which is `start - 1`), unless it is the file's first line.
    let first = if start == 0 {
        0
    } else {
        match memchr::memchr(b'\n', data) {
            Some(nl) => nl + 1,
            // No line starts in this part (a line longer than the part).
            None => return Some(Scanned::default()),
        }
    };
    if first >= (stop - from) as usize {
        return Some(Scanned::default()); // the first line start is past the part
    }
    // It ends with the line that holds byte `stop - 1`.
    let last_in = (stop - from) as usize;
    let region_end = if end == size && last_in >= data.len() {
        data.len()
    } else {
        match memchr::memchr(b'\n', &data[last_in.saturating_sub(1)..]) {
            Some(nl) => last_in.saturating_sub(1) + nl + 1,
            None if end == size => data.len(),
            None => return None,
        }
    };
    if first >= region_end {
        return Some(Scanned::default());
    }
    let mut out = Scanned::default();
    let mut slice_start = first;
    while slice_start < region_end {
        // Each slice ends at a line's end, as `search_slice` needs.
        let cut = (slice_start + SLICE).min(region_end);
        let slice_end = match memchr::memchr(b'\n', &data[cut - 1..region_end]) {
            Some(nl) => cut + nl,
            None => region_end,
        };
        search_slice(
            &data[..slice_end],
            slice_start,
            from,
            matcher,
            count_lines,
            &mut out,
        );
        if !out.hits.is_empty() && !deliver(std::mem::take(&mut out.hits)) {
            break;
        }
        slice_start = slice_end;
    }
    Some(out)
}

/// SIGBUS inside a registered window becomes a page of zeros.
pub mod guard {
    use std::sync::Once;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    /// Windows mapped at once: one per searching thread, with room.
    const SLOTS: usize = 256;
    static STARTS: [AtomicUsize; SLOTS] = [const { AtomicUsize::new(0) }; SLOTS];
    static ENDS: [AtomicUsize; SLOTS] = [const { AtomicUsize::new(0) }; SLOTS];
    static FAULTED: [AtomicBool; SLOTS] = [const { AtomicBool::new(false) }; SLOTS];
    static PAGE: AtomicUsize = AtomicUsize::new(4096);
    static INSTALL: Once = Once::new();

    /// A mapped range whose truncation faults are caught while this lives.
    pub struct Window(usize);

    impl Window {
        /// `None` when no slot is free or the handler cannot be installed:
        /// the caller then reads instead of mapping.
        pub fn register(start: usize, len: usize) -> Option<Window> {
            if !install() || start == 0 {
                return None;
            }
            for slot in 0..SLOTS {
                if STARTS[slot]
                    .compare_exchange(0, start, Ordering::AcqRel, Ordering::Relaxed)
                    .is_ok()
                {
                    FAULTED[slot].store(false, Ordering::Release);
                    ENDS[slot].store(start + len, Ordering::Release);
                    return Some(Window(slot));
                }
            }
            None
        }

        /// True when a page of the window was past the file's end.
        pub fn faulted(&self) -> bool {
            FAULTED[self.0].load(Ordering::Acquire)
        }
    }

    impl Drop for Window {
        fn drop(&mut self) {
            ENDS[self.0].store(0, Ordering::Release);
            STARTS[self.0].store(0, Ordering::Release);
        }
    }

    fn install() -> bool {
        static INSTALLED: AtomicBool = AtomicBool::new(false);
        INSTALL.call_once(|| {
            // SAFETY: sysconf and sigaction with a handler that only uses
            // atomics and mmap (a system call) on memory it owns.
            unsafe {
                let page = libc::sysconf(libc::_SC_PAGESIZE);
                if page > 0 {
                    PAGE.store(page as usize, Ordering::Relaxed);
                }
                let mut action: libc::sigaction = std::mem::zeroed();
                action.sa_sigaction = on_sigbus as *const () as usize;
                action.sa_flags = libc::SA_SIGINFO;
                libc::sigemptyset(&mut action.sa_mask);
                let ok = libc::sigaction(libc::SIGBUS, &action, std::ptr::null_mut()) == 0;
                INSTALLED.store(ok, Ordering::Release);
            }
        });
        INSTALLED.load(Ordering::Acquire)
    }

    extern "C" fn on_sigbus(_: libc::c_int, info: *mut libc::siginfo_t, _: *mut libc::c_void) {
        // SAFETY: the kernel hands a valid siginfo; the page replaced lies
        // inside a window this process mapped read-only and still holds.
        unsafe {
            let address = (*info).si_addr() as usize;
            for slot in 0..SLOTS {
                let start = STARTS[slot].load(Ordering::Acquire);
                let end = ENDS[slot].load(Ordering::Acquire);
                if start != 0 && start <= address && address < end {
                    let page = PAGE.load(Ordering::Relaxed);
                    let at = address & !(page - 1);
                    let zeros = libc::mmap(
                        at as *mut libc::c_void,
                        page,
                        libc::PROT_READ,
                        libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED,
                        -1,
                        0,
                    );
                    if zeros != libc::MAP_FAILED {
                        FAULTED[slot].store(true, Ordering::Release);
                        return; // the read is retried, and finds zeros
                    }
                }
            }
            // Not a truncated window: die of it, as without the guard.
            libc::signal(libc::SIGBUS, libc::SIG_DFL);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_cut_anywhere_see_each_line_once() {
        let mut text = Vec::new();
        for i in 0..20_000 {
            text.extend_from_slice(format!("{i} needle\n").as_bytes());
        }
        text.extend_from_slice(b"no newline at the end needle");
        let mut file = tempfile::tempfile().unwrap();
        std::io::Write::write_all(&mut file, &text).unwrap();
        let size = text.len() as u64;
        let m = Matcher::new(&["needle"]);
        for step in [1u64 << 10, 4099, 65_536, size] {
            let mut offsets = Vec::new();
            let mut start = 0;
            while start < size {
                let stop = (start + step).min(size);
                let mut deliver = |hits: Hits| {
                    offsets.extend(hits.iter().map(|h| h.offset));
                    true
                };
                let (_, shrank) =
                    search_part(&file, size, start, stop, &m, false, &mut deliver).expect("mapped");
                assert!(!shrank);
                start = stop;
            }
            assert_eq!(offsets.len(), 20_001, "step {step}");
            assert!(offsets.windows(2).all(|w| w[0] < w[1]), "step {step}");
        }
    }

    /// Issue 21: a file cut shorter while mapped (copytruncate) killed the
    /// search by SIGBUS.  Here the part was planned on the old size; the
    /// pages past the new end read as zeros and the shrink is reported.
    #[test]
    fn a_file_truncated_under_the_map_is_searched_to_its_new_end() {
        let mut text = Vec::new();
        for i in 0..100_000 {
            text.extend_from_slice(format!("{i:>10} needle\n").as_bytes());
        }
        let mut file = tempfile::tempfile().unwrap();
        std::io::Write::write_all(&mut file, &text).unwrap();
        let size = text.len() as u64; // 1.8 MB planned
        file.set_len(600_000).unwrap(); // then cut
        let m = Matcher::new(&["needle"]);
        let mut found = 0;
        let mut deliver = |hits: Hits| {
            found += hits.iter().count();
            true
        };
        let (_, shrank) =
            search_part(&file, size, 0, size, &m, false, &mut deliver).expect("mapped");
        assert!(shrank);
        assert_eq!(found, 600_000 / 18);
    }
}
