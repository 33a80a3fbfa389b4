//! `-A`, `-B`, `-C`: the lines around each event, as grep prints them.
//!
//! The search only ever looks at lines that hold an event, so the lines
//! around them come from a second, sequential read of the same open file
//! (decoded again when compressed), once the events to show are known.
//! Only the last `before` lines are held, each at most `MAX_LINE` long.

use std::collections::VecDeque;
use std::io::{self, BufRead, Write};

use crate::scan::MAX_LINE;

/// How many lines to print around each event.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Around {
    pub before: usize,
    pub after: usize,
}

impl Around {
    pub fn is_none(self) -> bool {
        self.before == 0 && self.after == 0
    }
}

/// How a printed line starts: `name:12:` for an event, `name-11-` around it.
pub trait Prefix {
    fn write(&self, out: &mut dyn Write, line_number: u64, is_event: bool) -> io::Result<()>;
}

/// What a second read found.
#[derive(Debug, Default)]
pub struct Printed {
    /// Indexes (into the offsets) of events that were not: their offset
    /// is not where a line starts, or is past the end (the file changed),
    /// or reading failed before them.
    pub missed: Vec<usize>,
    /// Why reading stopped early.
    pub read_error: Option<io::Error>,
    /// True when a group was printed (the next file's first group then
    /// needs a `--` before it, as grep does across files).
    pub any_group: bool,
}

/// Prints each event at `offsets` (its line's byte offset in the decoded
/// stream, in order) with the lines around it, reading `lines` from the
/// start.  Groups that do not touch are separated by `--`, and so is the
/// first group from what `previous_group` printed.  Stops reading after the
/// last event's context.  Events whose offset is not at a line start are
/// not printed but listed in `missed` (the file changed since).  Errors
/// are the output's; a read error ends the reading and is kept in `Printed`.
pub fn print(
    out: &mut dyn Write,
    lines: &mut dyn BufRead,
    offsets: &[u64],
    around: Around,
    prefix: &dyn Prefix,
    previous_group: bool,
) -> io::Result<Printed> {
    let mut printed = Printed {
        any_group: previous_group,
        ..Printed::default()
    };
    let mut held: VecDeque<(u64, Vec<u8>)> = VecDeque::with_capacity(around.before);
    let mut line = Vec::new();
    let (mut offset, mut number) = (0u64, 0u64);
    let mut after_left = 0usize;
    // The number of the last line printed, to know when a group ends.
    let mut last_printed: Option<u64> = None;
    let mut next = 0;
    while next < offsets.len() || after_left > 0 {
        let consumed = match read_line(lines, &mut line) {
            Ok(Some(consumed)) => consumed,
            Ok(None) => break,
            Err(e) => {
                printed.read_error = Some(e);
                break;
            }
        };
        let start = offset;
        offset += consumed;
        number += 1;
        // Events the read went past do not start a line.
        while next < offsets.len() && offsets[next] < start {
            printed.missed.push(next);
            next += 1;
        }
        if next < offsets.len() && offsets[next] == start {
            let first = held.front().map_or(number, |(n, _)| *n);
            let touches = last_printed.is_some_and(|last| first <= last + 1);
            if printed.any_group && !touches {
                out.write_all(b"--\n")?;
            }
            for (n, text) in held.drain(..) {
                write_line(out, prefix, n, false, &text)?;
            }
            write_line(out, prefix, number, true, &line)?;
            printed.any_group = true;
            last_printed = Some(number);
            after_left = around.after;
            next += 1;
        } else if after_left > 0 {
            write_line(out, prefix, number, false, &line)?;
            last_printed = Some(number);
            after_left -= 1;
        } else if around.before > 0 {
            if held.len() == around.before {
                held.pop_front();
            }
            held.push_back((number, std::mem::take(&mut line)));
        }
    }
    printed.missed.extend(next..offsets.len());
    Ok(printed)
}

fn write_line(
    out: &mut dyn Write,
    prefix: &dyn Prefix,
    number: u64,
    is_event: bool,
    text: &[u8],
) -> io::Result<()> {
    prefix.write(out, number, is_event)?;
    out.write_all(&crate::output::printable(text))?;
    out.write_all(b"\n")
}

/// Reads one line into `line` (without its newline, at most `MAX_LINE`
/// bytes of it kept) and returns how many bytes it took, newline included;
/// `None` at the end.
fn read_line(lines: &mut dyn BufRead, line: &mut Vec<u8>) -> io::Result<Option<u64>> {
    line.clear();
    let mut consumed = 0u64;
    loop {
        let buf = match lines.fill_buf() {
            Ok(buf) => buf,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if buf.is_empty() {
            return Ok((consumed > 0).then_some(consumed));
        }
        let (take, done) = match memchr::memchr(b'\n', buf) {
            Some(nl) => (nl + 1, true),
            None => (buf.len(), false),
        };
        let keep = (take - usize::from(done)).min(MAX_LINE.saturating_sub(line.len()));
        line.extend_from_slice(&buf[..keep]);
        lines.consume(take);
        consumed += take as u64;
        if done {
            return Ok(Some(consumed));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// grep's prefixes with line numbers: `12:` and `11-`.
    struct Numbers;

    impl Prefix for Numbers {
        fn write(&self, out: &mut dyn Write, n: u64, is_event: bool) -> io::Result<()> {
            write!(out, "{n}{}", if is_event { ':' } else { '-' })
        }
    }

    fn run(text: &str, events: &[usize], before: usize, after: usize) -> String {
        // Offsets of the given (1-based) lines.
        let mut starts = vec![0u64];
        for (i, b) in text.bytes().enumerate() {
            if b == b'\n' {
                starts.push(i as u64 + 1);
            }
        }
        let offsets: Vec<u64> = events.iter().map(|&n| starts[n - 1]).collect();
        let mut out = Vec::new();
        let around = Around { before, after };
        let printed = print(
            &mut out,
            &mut text.as_bytes(),
            &offsets,
            around,
            &Numbers,
            false,
        )
        .unwrap();
        assert!(printed.missed.is_empty());
        String::from_utf8(out).unwrap()
    }

    const TEXT: &str = "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n";

    #[test]
    fn groups_like_grep() {
        assert_eq!(run(TEXT, &[3], 1, 1), "2-b\n3:c\n4-d\n");
        // Far apart: two groups and a separator.
        assert_eq!(
            run(TEXT, &[2, 8], 1, 1),
            "1-a\n2:b\n3-c\n--\n7-g\n8:h\n9-i\n"
        );
        // Touching groups merge.
        assert_eq!(run(TEXT, &[2, 5], 1, 1), "1-a\n2:b\n3-c\n4-d\n5:e\n6-f\n");
        // Overlapping: a line is printed once, and an event inside another's
        // after-context is still an event.
        assert_eq!(run(TEXT, &[2, 3], 2, 2), "1-a\n2:b\n3:c\n4-d\n5-e\n");
        // At both ends of the file.
        assert_eq!(
            run(TEXT, &[1, 10], 3, 3),
            "1:a\n2-b\n3-c\n4-d\n--\n7-g\n8-h\n9-i\n10:j\n"
        );
        assert_eq!(run(TEXT, &[3], 0, 0), "3:c\n");
    }

    #[test]
    fn a_last_line_without_newline_and_an_offset_that_is_not_a_line() {
        assert_eq!(run("a\nb\nc", &[3], 1, 5), "2-b\n3:c\n");
        let mut out = Vec::new();
        let around = Around {
            before: 1,
            after: 1,
        };
        let printed = print(
            &mut out,
            &mut &b"a\nb\nc\n"[..],
            &[3, 4],
            around,
            &Numbers,
            true,
        )
        .unwrap();
        // 3 is inside line 2; 4 is line 3, printed after a separator.
        assert_eq!(printed.missed, [0]);
        assert_eq!(String::from_utf8(out).unwrap(), "--\n2-b\n3:c\n");
    }

    #[test]
    fn long_lines_are_cut_at_the_limit_but_counted_whole() {
        let mut text = "x".repeat(MAX_LINE + 10);
        text.push_str("\nevent\n");
        let out = run(&text, &[2], 1, 0);
        assert!(out.starts_with("1-xxx"));
        assert_eq!(out.len(), 2 + MAX_LINE + 1 + "2:event\n".len());
    }
}
