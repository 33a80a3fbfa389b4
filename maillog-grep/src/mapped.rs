//! Searching part of a big plain file through a memory map, so the kernel
//! does not copy it into a buffer first (half of the time of a read()-based
//! search of a cached file).
//!
//! Memory stays flat: each part maps only its own window (tens of MiB) and
//! unmaps it when done, so resident memory is bounded by the window size
//! times the number of threads, whatever the file size.
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
/// The `Scanned` returned holds no hits.  `None`, before any hit is handed
/// over, when the part's last line is longer than the overhang, or the map
/// failed: the caller then reads the part instead.
pub fn search_part(
    file: &File,
    size: u64,
    start: u64,
    stop: u64,
    matcher: &Matcher,
    count_lines: bool,
    deliver: &mut dyn FnMut(Hits) -> bool,
) -> Option<Scanned> {
    let from = start.saturating_sub(1);
    let end = (stop + OVERHANG).min(size);
    let len = usize::try_from(end - from).ok()?;
    if len == 0 {
        return Some(Scanned::default());
    }
    // SAFETY: the map is read-only and private to this function.  If another
    // process truncates the file while it is mapped (copytruncate rotation),
    // reading past the new end raises SIGBUS; that is why only plain,
    // regular, large files are mapped, for the short time one part takes,
    // as ripgrep does.  Nothing here writes through the map.
    let map = unsafe { MmapOptions::new().offset(from).len(len).map(file) }.ok()?;
    let _ = map.advise(Advice::Sequential);
    let data: &[u8] = &map;
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
                search_part(&file, size, start, stop, &m, false, &mut deliver).expect("mapped");
                start = stop;
            }
            assert_eq!(offsets.len(), 20_001, "step {step}");
            assert!(offsets.windows(2).all(|w| w[0] < w[1]), "step {step}");
        }
    }
}
