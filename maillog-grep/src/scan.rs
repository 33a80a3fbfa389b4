//! The fast path: search whole buffers for a few literals (in the default
//! mode, for two short probes) and hand over only the lines that contain one
//! (ripgrep's approach).  Lines without one are never looked at, line
//! numbers are counted only when asked for, and the buffer stays the same
//! size whatever the file size.
//!
//! A `last message repeated N times` line repeats the line before it, so it
//! holds no literal of its own: the repeat lines right after a hit are kept
//! with it, and so is a repeat line that starts a buffer or a part (its line
//! before may have been a hit there).  Repeats of other lines are dropped
//! later, when the hits are read as events.

use std::io::{self, Read};
use std::sync::LazyLock;

use aho_corasick::packed;
use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};

use crate::{event, probe};

/// The first buffer size; it grows only for lines longer than this.
const INITIAL_BUFFER: usize = 2 * 1024 * 1024;
/// Longest line kept whole.  Past it, the rest of that line is skipped
/// (and reported), so a compression bomb cannot make memory grow.
pub const MAX_LINE: usize = 16 * 1024 * 1024;

/// Finds where a line may hold an event: any of a small set of literals
/// (Teddy, SIMD, where the CPU has it, otherwise a DFA), or the default
/// mode's probes.
pub enum Matcher {
    Teddy(packed::Searcher),
    Automaton(AhoCorasick),
    BackwardProbes,
}

impl Matcher {
    /// The default mode's matcher: [`crate::event::BACKWARD_PROBES`].
    pub fn backward() -> Matcher {
        Matcher::BackwardProbes
    }

    pub fn new(literals: &[&str]) -> Matcher {
        let mut builder = packed::Config::new()
            .match_kind(packed::MatchKind::LeftmostFirst)
            .builder();
        builder.extend(literals);
        if let Some(searcher) = builder.build() {
            return Matcher::Teddy(searcher);
        }
        let automaton = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostFirst)
            .kind(Some(AhoCorasickKind::DFA))
            .build(literals)
            .expect("a few short literals always build");
        Matcher::Automaton(automaton)
    }

    pub fn find(&self, haystack: &[u8], from: usize) -> Option<usize> {
        match self {
            Matcher::Teddy(s) => s
                .find_in(haystack, aho_corasick::Span::from(from..haystack.len()))
                .map(|m| m.start()),
            Matcher::Automaton(a) => a
                .find(aho_corasick::Input::new(haystack).span(from..haystack.len()))
                .map(|m| m.start()),
            Matcher::BackwardProbes => probe::find(haystack, from),
        }
    }
}

/// A line that holds one of the literals, as found in a [`Hits`] batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hit<'a> {
    /// The line without its newline.
    pub line: &'a [u8],
    /// Byte offset of the line's first byte in the (decompressed) stream.
    pub offset: u64,
    /// 1-based, when line numbers were counted.
    pub number: Option<u64>,
}

/// Lines that hold a literal, in stream order.  Their text is kept in one
/// buffer per batch, not one allocation per line: a file of nothing but
/// events has millions, and the thread that reads them frees them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Hits {
    text: Vec<u8>,
    lines: Vec<HitPlace>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct HitPlace {
    /// Where the line ends in `text` (it starts where the previous ends).
    end: usize,
    offset: u64,
    number: Option<u64>,
}

impl Hits {
    pub fn push(&mut self, line: &[u8], offset: u64, number: Option<u64>) {
        self.text.extend_from_slice(line);
        self.lines.push(HitPlace {
            end: self.text.len(),
            offset,
            number,
        });
    }

    pub fn len(&self) -> usize {
        self.lines.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// The memory the batch holds, roughly.
    pub fn bytes(&self) -> usize {
        self.text.len() + self.lines.len() * std::mem::size_of::<HitPlace>()
    }

    pub fn get(&self, index: usize) -> Option<Hit<'_>> {
        let place = self.lines.get(index)?;
        let start = index.checked_sub(1).map_or(0, |i| self.lines[i].end);
        Some(Hit {
            line: &self.text[start..place.end],
            offset: place.offset,
            number: place.number,
        })
    }

    pub fn iter(&self) -> impl Iterator<Item = Hit<'_>> {
        (0..self.len()).filter_map(|i| self.get(i))
    }

    pub fn append(&mut self, other: &Hits) {
        for hit in other {
            self.push(hit.line, hit.offset, hit.number);
        }
    }

    /// Adds the lines counted before this batch's stream began (a part of
    /// a file numbers its lines from its own start); `None` when that
    /// count is unknown, and so are the numbers.
    pub fn add_lines_before(&mut self, before: Option<u64>) {
        for place in &mut self.lines {
            place.number = place.number.zip(before).map(|(n, before)| n + before);
        }
    }
}

impl<'a> IntoIterator for &'a Hits {
    type Item = Hit<'a>;
    type IntoIter = Box<dyn Iterator<Item = Hit<'a>> + 'a>;

    fn into_iter(self) -> Self::IntoIter {
        Box::new(self.iter())
    }
}

/// What a scan saw besides its hits.
#[derive(Clone, Debug, Default)]
pub struct Scanned {
    pub hits: Hits,
    /// Newlines counted (only when counting).
    pub lines: u64,
    /// Offsets of lines longer than `MAX_LINE`, whose tail was skipped.
    pub overlong: Vec<u64>,
}

/// Where in the stream a scan works: for a part of a file searched by one
/// thread, lines that start before `start` or at/after `stop` belong to
/// another part.
#[derive(Clone, Copy, Debug)]
pub struct Range {
    /// Absolute offset of the reader's first byte.
    pub base: u64,
    /// True when the reader begins one byte before the part (at a possible
    /// newline): everything up to and including the first newline belongs
    /// to the part before.
    pub skip_first_line: bool,
    pub stop: Option<u64>,
}

impl Range {
    pub const WHOLE: Range = Range {
        base: 0,
        skip_first_line: false,
        stop: None,
    };
}

/// Scans a stream.  On a read error (a damaged archive, say) the hits found
/// before it are kept in `partial` and the error is returned with them.
pub fn scan(
    reader: &mut dyn Read,
    matcher: &Matcher,
    count_lines: bool,
    range: Range,
) -> Result<Scanned, (io::Error, Scanned)> {
    let mut hits = Hits::default();
    let mut collect = |found: Hits| {
        hits.append(&found);
        true
    };
    let with_hits = |mut scanned: Scanned, hits: Hits| {
        scanned.hits = hits;
        scanned
    };
    match scan_with(reader, matcher, count_lines, range, &mut collect) {
        Ok(scanned) => Ok(with_hits(scanned, hits)),
        Err((e, scanned)) => Err((e, with_hits(scanned, hits))),
    }
}

/// Scans a stream, handing its hits to `deliver` one buffer at a time, so
/// memory stays flat however many lines match.  The `Scanned` returned
/// holds no hits.  When `deliver` returns false (nobody wants more), the
/// scan stops there.
pub fn scan_with(
    reader: &mut dyn Read,
    matcher: &Matcher,
    count_lines: bool,
    range: Range,
    deliver: &mut dyn FnMut(Hits) -> bool,
) -> Result<Scanned, (io::Error, Scanned)> {
    let mut out = Scanned::default();
    // Hands over what the last slice found; false when the scan must stop.
    let mut hand_over =
        |out: &mut Scanned| out.hits.is_empty() || deliver(std::mem::take(&mut out.hits));
    let mut buf = vec![0u8; INITIAL_BUFFER];
    let mut filled = 0usize;
    let mut base = range.base;
    let mut eof = false;
    let mut skipping_first = range.skip_first_line;
    let mut skipping_overlong = false;
    // A read error ends the stream like EOF: what was read before it is
    // still searched, then the error is returned with those hits.
    let mut failure: Option<io::Error> = None;
    let finish = |out: Scanned, failure: Option<io::Error>| match failure {
        Some(e) => Err((e, out)),
        None => Ok(out),
    };

    loop {
        // Fill the buffer (a short read is not the end).
        while !eof && filled < buf.len() {
            match reader.read(&mut buf[filled..]) {
                Ok(0) => eof = true,
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    failure = Some(e);
                    eof = true;
                }
            }
        }
        // Complete lines only, unless the stream has ended.
        let complete = if eof {
            filled
        } else {
            memchr::memrchr(b'\n', &buf[..filled]).map_or(0, |i| i + 1)
        };
        let mut start = 0;
        if skipping_first || skipping_overlong {
            match memchr::memchr(b'\n', &buf[..filled]) {
                Some(nl) => {
                    if skipping_overlong && count_lines {
                        out.lines += 1;
                    }
                    start = nl + 1;
                    skipping_first = false;
                    skipping_overlong = false;
                }
                None => {
                    // Still inside the line to skip: drop the buffer.
                    base += filled as u64;
                    filled = 0;
                    // A part whose range holds no line start owns nothing.
                    let past_part = skipping_first && range.stop.is_some_and(|stop| base >= stop);
                    if eof || past_part {
                        return finish(out, failure);
                    }
                    continue;
                }
            }
        }
        let mut end = complete.max(start);
        if let Some(stop) = range.stop
            && base + (end as u64) > stop
        {
            // Lines starting at or after `stop` belong to the next part:
            // process up to the end of the line that contains `stop - 1`.
            // After a skipped overlong line, `base` may already be past
            // `stop`: then nothing here is this part's.
            let limit = stop.saturating_sub(base).min(filled as u64) as usize;
            if limit <= start {
                return finish(out, failure);
            }
            end = match memchr::memchr(b'\n', &buf[limit - 1..filled]) {
                Some(nl) => limit - 1 + nl + 1,
                None if eof => filled,
                None => complete.max(start), // need more data to finish the line
            };
        }
        search_slice(&buf[..end], start, base, matcher, count_lines, &mut out);
        if !hand_over(&mut out) {
            return Ok(out);
        }
        let finished_part = range.stop.is_some_and(|stop| base + (end as u64) >= stop);
        if (eof && end >= filled) || finished_part {
            return finish(out, failure);
        }
        if end == 0 && filled == buf.len() {
            // One line fills the whole buffer.
            if buf.len() < MAX_LINE {
                buf.resize((buf.len() * 2).min(MAX_LINE), 0);
                continue;
            }
            out.overlong.push(base);
            search_slice(&buf[..filled], 0, base, matcher, count_lines, &mut out);
            if !hand_over(&mut out) {
                return Ok(out);
            }
            skipping_overlong = true;
            base += filled as u64;
            filled = 0;
            continue;
        }
        buf.copy_within(end..filled, 0);
        base += end as u64;
        filled -= end;
    }
}

/// Searches `region[from..]`, which ends at a line boundary (or at the end
/// of the data).  Lines are numbered from `from`.
pub fn search_slice(
    region: &[u8],
    from: usize,
    base: u64,
    matcher: &Matcher,
    count_lines: bool,
    out: &mut Scanned,
) {
    let mut kept = Kept {
        region,
        base,
        count_lines,
        counted: from,
        out,
    };
    let mut pos = kept.repeats_from(from);
    while pos < region.len() {
        let Some(at) = matcher.find(region, pos) else {
            break;
        };
        let line_start = memchr::memrchr(b'\n', &region[..at])
            .map_or(0, |i| i + 1)
            .max(from);
        let line_end = memchr::memchr(b'\n', &region[at..]).map_or(region.len(), |i| at + i);
        kept.keep(line_start, line_end);
        pos = kept.repeats_from(line_end + 1);
    }
    if count_lines {
        let rest = &region[kept.counted.min(region.len())..];
        kept.out.lines += memchr::memchr_iter(b'\n', rest).count() as u64;
    }
}

/// Built once: every line after a hit is checked for it, and building a
/// searcher costs more than searching one line.
static REPEAT_FINDER: LazyLock<memchr::memmem::Finder<'static>> =
    LazyLock::new(|| memchr::memmem::Finder::new(event::REPEAT_MARKER));

/// The lines one `search_slice` keeps, numbered when counting.
struct Kept<'r, 'o> {
    region: &'r [u8],
    base: u64,
    count_lines: bool,
    /// Newlines before this offset are counted.
    counted: usize,
    out: &'o mut Scanned,
}

impl Kept<'_, '_> {
    /// Keeps `region[start..end]`, a whole line.
    fn keep(&mut self, start: usize, end: usize) {
        let number = if self.count_lines {
            let skipped = &self.region[self.counted..start];
            self.out.lines += memchr::memchr_iter(b'\n', skipped).count() as u64;
            self.counted = start;
            Some(self.out.lines + 1)
        } else {
            None
        };
        let line = &self.region[start..end];
        self.out.hits.push(line, self.base + start as u64, number);
    }

    /// Keeps the repeat lines that start at `pos`, one after another, and
    /// returns where the first other line starts.
    fn repeats_from(&mut self, mut pos: usize) -> usize {
        while pos < self.region.len() {
            let end =
                memchr::memchr(b'\n', &self.region[pos..]).map_or(self.region.len(), |i| pos + i);
            if REPEAT_FINDER.find(&self.region[pos..end]).is_none() {
                break;
            }
            self.keep(pos, end);
            pos = end + 1;
        }
        pos
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hits(text: &[u8], count: bool) -> Vec<(String, u64, Option<u64>)> {
        let m = Matcher::new(&["needle", "pin"]);
        let out = scan(&mut &text[..], &m, count, Range::WHOLE).unwrap();
        out.hits
            .into_iter()
            .map(|h| {
                (
                    String::from_utf8_lossy(h.line).into_owned(),
                    h.offset,
                    h.number,
                )
            })
            .collect()
    }

    /// Scans `text` as two parts cut at `cut`, as `search` does: the first
    /// stops at `cut`, the second starts one byte early and skips the rest
    /// of the first part's last line.
    fn scan_in_two(text: &[u8], m: &Matcher, count_lines: bool, cut: u64) -> (Scanned, Scanned) {
        let first = Range {
            base: 0,
            skip_first_line: false,
            stop: Some(cut),
        };
        let from = cut - 1;
        let second = Range {
            base: from,
            skip_first_line: true,
            stop: None,
        };
        (
            scan(&mut &text[..], m, count_lines, first).unwrap(),
            scan(&mut &text[from as usize..], m, count_lines, second).unwrap(),
        )
    }

    #[test]
    fn finds_lines_with_offsets_and_numbers() {
        let text = b"a\nhay needle hay\nb\npin\nneedle pin needle\nlast needle";
        let found = hits(text, true);
        assert_eq!(
            found,
            [
                ("hay needle hay".to_string(), 2, Some(2)),
                ("pin".to_string(), 19, Some(4)),
                ("needle pin needle".to_string(), 23, Some(5)),
                ("last needle".to_string(), 41, Some(6)),
            ]
        );
        assert_eq!(hits(text, false)[1].2, None);
    }

    #[test]
    fn nul_bytes_and_invalid_utf8_do_not_hide_matches() {
        let text = b"\0\0\xff\xfe\nbin\0ary needle \xc3\x28\n\0";
        assert_eq!(hits(text, true).len(), 1);
    }

    #[test]
    fn lines_across_buffer_refills() {
        let mut text = Vec::new();
        for i in 0..300_000 {
            text.extend_from_slice(format!("line {i} filler filler filler\n").as_bytes());
            if i % 1000 == 999 {
                text.extend_from_slice(b"the needle\n");
            }
        }
        let found = hits(&text, true);
        assert_eq!(found.len(), 300);
        assert_eq!(found[0].2, Some(1001));
        assert_eq!(found[299].2, Some(300_300));
    }

    #[test]
    fn a_10_mb_line_is_kept_whole() {
        let mut text = b"start\n".to_vec();
        text.extend(std::iter::repeat_n(b'x', 10 * 1024 * 1024));
        text.extend_from_slice(b" needle\nend needle\n");
        let found = hits(&text, true);
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].0.len(), 10 * 1024 * 1024 + 7);
        assert_eq!(found[1].2, Some(3));
    }

    #[test]
    fn parts_of_a_file_see_each_line_exactly_once() {
        let mut text = Vec::new();
        for i in 0..50_000 {
            text.extend_from_slice(format!("{i} needle\n").as_bytes());
        }
        let m = Matcher::new(&["needle"]);
        for cut in [1u64, 7, 8, 9, 100_000, 200_003] {
            let (first, second) = scan_in_two(&text, &m, false, cut);
            let all: Vec<u64> = first
                .hits
                .iter()
                .chain(&second.hits)
                .map(|h| h.offset)
                .collect();
            assert_eq!(all.len(), 50_000, "cut {cut}");
            assert!(all.windows(2).all(|w| w[0] < w[1]), "cut {cut}");
        }
    }

    #[test]
    fn repeat_lines_after_a_hit_are_kept_even_across_a_cut() {
        let mut text = Vec::new();
        for i in 0..40 {
            text.extend_from_slice(format!("{i} needle\n").as_bytes());
            text.extend_from_slice(b"syslogd: last message repeated 2 times\n");
            text.extend_from_slice(b"rsyslogd: message repeated 3 times: [x]\n");
            text.extend_from_slice(b"filler\nlast message repeated 9 times\n");
        }
        let m = Matcher::new(&["needle"]);
        let whole = scan(&mut &text[..], &m, true, Range::WHOLE).unwrap();
        let lines: Vec<&[u8]> = whole.hits.iter().map(|h| h.line).collect();
        assert_eq!(
            lines.len(),
            120,
            "each hit and its two repeats, not the repeat after filler"
        );
        assert!(lines[1].ends_with(b"repeated 2 times") && lines[2].ends_with(b"[x]"));
        assert_eq!(whole.hits.get(1).unwrap().number, Some(2));
        assert_eq!(whole.hits.get(3).unwrap().number, Some(6));
        let offsets: Vec<u64> = whole.hits.iter().map(|h| h.offset).collect();
        for cut in 1..text.len() as u64 {
            let (first, second) = scan_in_two(&text, &m, false, cut);
            let from = cut - 1;
            let mut parts: Vec<u64> = first
                .hits
                .iter()
                .chain(&second.hits)
                .map(|h| h.offset)
                .collect();
            // The second part also keeps a repeat line that starts it when
            // it follows no hit; reading hits as events drops that one.
            let extra: Vec<u64> = parts
                .iter()
                .filter(|o| !offsets.contains(o))
                .copied()
                .collect();
            assert!(extra.len() <= 1, "cut {cut}: {extra:?}");
            for &o in &extra {
                assert!(
                    o >= from && text[..o as usize].ends_with(b"filler\n"),
                    "cut {cut}"
                );
            }
            parts.retain(|o| offsets.contains(o));
            assert_eq!(parts, offsets, "cut {cut}");
        }
    }

    #[test]
    fn a_part_ends_with_an_overlong_line_that_runs_past_it() {
        let mut text = b"0 needle\n".to_vec();
        text.extend(std::iter::repeat_n(b'x', MAX_LINE + 1000));
        text.extend_from_slice(b" needle\n");
        for i in 1..50 {
            text.extend_from_slice(format!("{i} needle\n").as_bytes());
        }
        let m = Matcher::new(&["needle"]);
        let whole = scan(&mut &text[..], &m, true, Range::WHOLE).unwrap();
        // The overlong line's needle is past the part that is searched.
        assert_eq!(whole.hits.len(), 50);
        assert_eq!(whole.hits.get(49).unwrap().number, Some(51));
        assert_eq!(whole.overlong, [9]);
        // Cut inside the overlong line, and just after it.
        for cut in [
            9u64,
            100,
            4 << 20,
            (MAX_LINE + 500) as u64,
            (MAX_LINE + 1012) as u64,
        ] {
            let (first, second) = scan_in_two(&text, &m, true, cut);
            let parts: Vec<u64> = first
                .hits
                .iter()
                .chain(&second.hits)
                .map(|h| h.offset)
                .collect();
            let all: Vec<u64> = whole.hits.iter().map(|h| h.offset).collect();
            assert_eq!(parts, all, "cut {cut}");
            assert_eq!(first.lines + second.lines, whole.lines, "cut {cut}");
        }
    }
}
