//! A lossless line model of ntp.conf.
//!
//! The file is kept as bytes (ntpd does not care about encodings, and neither
//! may an editor that promises to change nothing else).  Each line remembers
//! its own terminator, so CRLF and LF can be mixed and a missing final newline
//! survives.  `Document::to_bytes` writes back exactly what was read.
//!
//! A line costs about its own bytes (issue 21): the document keeps the
//! bytes it was read from, and only the lines the editor may change (tinker
//! lines) are held one by one; every run of other lines is one span of those
//! bytes, so a 6 MB file of blank or comment lines costs some 6 MB, not 40
//! bytes a line.  Readers that only look at the lines ([`lines`]) hold no
//! copy at all.

use std::ops::Range;

use crate::tinker::{Tinker, classify};

/// One physical line: its text without the terminator, and the terminator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    pub text: Vec<u8>,
    /// `"\n"`, `"\r\n"` or empty for a last line without newline.
    pub ending: &'static [u8],
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Document {
    pub lines: Lines,
}

/// The lines of a document, in order: runs of lines as they were read
/// (spans of the bytes read) and lines of their own (those an edit may
/// change, or has).  Line indexes are 0-based, over every line.
#[derive(Clone, Debug)]
pub struct Lines {
    source: Vec<u8>,
    segments: Vec<Segment>,
    len: usize,
}

#[derive(Clone, Debug)]
enum Segment {
    /// `count` lines, unchanged: `source[start..end]`, terminators included.
    Span {
        start: usize,
        end: usize,
        count: usize,
    },
    /// One line held on its own.
    Own(Line),
}

impl Segment {
    fn count(&self) -> usize {
        match self {
            Segment::Span { count, .. } => *count,
            Segment::Own(_) => 1,
        }
    }
}

/// A token of ntpd's scanner with its byte range in the line text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Token {
    pub range: Range<usize>,
    /// True for a `"quoted string"` (ntpd accepts no quoted tinker value).
    pub quoted: bool,
}

/// Lines an edit may change are held on their own: tinker lines (an edit
/// changes, removes or adds to no other line).
fn held_apart(text: &[u8]) -> bool {
    !matches!(classify(text), Tinker::Other)
}

impl Document {
    pub fn parse(bytes: &[u8]) -> Document {
        let mut segments = Vec::new();
        let (mut at, mut span_start, mut span_count, mut len) = (0, 0, 0, 0);
        for (text, ending) in lines(bytes) {
            let next = at + text.len() + ending.len();
            if held_apart(text) {
                if span_count > 0 {
                    segments.push(Segment::Span {
                        start: span_start,
                        end: at,
                        count: span_count,
                    });
                }
                segments.push(Segment::Own(Line {
                    text: text.to_vec(),
                    ending,
                }));
                (span_start, span_count) = (next, 0);
            } else {
                span_count += 1;
            }
            at = next;
            len += 1;
        }
        if span_count > 0 {
            segments.push(Segment::Span {
                start: span_start,
                end: at,
                count: span_count,
            });
        }
        Document {
            lines: Lines {
                source: bytes.to_vec(),
                segments,
                len,
            },
        }
    }

    /// The memory the document holds: the bytes read, one entry per run
    /// or held line, and the held lines' text.  An editor charges it to the
    /// run's budget.
    pub fn held_bytes(&self) -> u64 {
        let lines = &self.lines;
        let own: usize = lines
            .segments
            .iter()
            .map(|s| match s {
                Segment::Own(line) => line.text.capacity(),
                Segment::Span { .. } => 0,
            })
            .sum();
        (lines.source.capacity() + lines.segments.capacity() * std::mem::size_of::<Segment>() + own)
            as u64
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.lines.source.len());
        for segment in &self.lines.segments {
            match segment {
                Segment::Span { start, end, .. } => {
                    out.extend_from_slice(&self.lines.source[*start..*end])
                }
                Segment::Own(line) => {
                    out.extend_from_slice(&line.text);
                    out.extend_from_slice(line.ending);
                }
            }
        }
        out
    }

    /// The terminator new lines should get: the one most lines already use.
    pub fn preferred_ending(&self) -> &'static [u8] {
        let (mut crlf, mut lf) = (0usize, 0usize);
        for (_, ending) in self.lines.iter() {
            crlf += usize::from(ending == CRLF);
            lf += usize::from(ending == LF);
        }
        if crlf > lf { b"\r\n" } else { b"\n" }
    }
}

impl Lines {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Every line's text and terminator, in order, borrowed.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &'static [u8])> {
        self.segments.iter().flat_map(|segment| {
            let (span, own) = match segment {
                Segment::Span { start, end, .. } => (Some(lines(&self.source[*start..*end])), None),
                Segment::Own(line) => (None, Some((&line.text[..], line.ending))),
            };
            span.into_iter().flatten().chain(own)
        })
    }

    /// The lines held on their own, with their indexes: every tinker line
    /// is among them (a line in a span is none of ntpd's tinker lines), so
    /// a search for tinker lines need not look at the others.
    pub fn held(&self) -> impl Iterator<Item = (usize, &[u8])> {
        let mut first = 0;
        self.segments.iter().filter_map(move |segment| {
            let index = first;
            first += segment.count();
            match segment {
                Segment::Own(line) => Some((index, &line.text[..])),
                Segment::Span { .. } => None,
            }
        })
    }

    /// A copy of line `index`.
    pub fn get(&self, index: usize) -> Option<Line> {
        let (text, ending) = self.iter().nth(index)?;
        Some(Line {
            text: text.to_vec(),
            ending,
        })
    }

    /// The text of line `index` (which must exist).
    pub fn text(&self, index: usize) -> &[u8] {
        let (segment, first) = self.locate(index);
        match &self.segments[segment] {
            Segment::Own(line) => &line.text,
            Segment::Span { start, end, .. } => {
                lines(&self.source[*start..*end])
                    .nth(index - first)
                    .expect("a line of the span")
                    .0
            }
        }
    }

    /// The text of line `index` to change in place (it is held on its own
    /// from then on).
    pub fn text_mut(&mut self, index: usize) -> &mut Vec<u8> {
        &mut self.own(index).text
    }

    /// The terminator of line `index`.
    pub fn ending(&self, index: usize) -> &'static [u8] {
        self.iter().nth(index).expect("a line of the document").1
    }

    pub fn set_ending(&mut self, index: usize, ending: &'static [u8]) {
        self.own(index).ending = ending;
    }

    /// Removes line `index` and gives it back.
    pub fn remove(&mut self, index: usize) -> Line {
        self.own(index);
        let segment = self.split_at(index);
        self.len -= 1;
        match self.segments.remove(segment) {
            Segment::Own(line) => line,
            Segment::Span { .. } => unreachable!("line {index} was made a line of its own"),
        }
    }

    /// Inserts `line` before line `index` (at the end when `index` is the
    /// number of lines).
    pub fn insert(&mut self, index: usize, line: Line) {
        let segment = self.split_at(index);
        self.segments.insert(segment, Segment::Own(line));
        self.len += 1;
    }

    /// The segment that holds line `index`, and the index of its first line.
    fn locate(&self, index: usize) -> (usize, usize) {
        let mut first = 0;
        for (segment, s) in self.segments.iter().enumerate() {
            if index < first + s.count() {
                return (segment, first);
            }
            first += s.count();
        }
        panic!("line {index} of a document of {} lines", self.len)
    }

    /// Makes line `index` start a segment; returns that segment's index
    /// (the number of segments for the index past the last line).
    fn split_at(&mut self, index: usize) -> usize {
        if index == self.len {
            return self.segments.len();
        }
        let (segment, first) = self.locate(index);
        let Segment::Span { start, end, count } = self.segments[segment] else {
            return segment;
        };
        if index == first {
            return segment;
        }
        let before = index - first;
        let cut = start
            + lines(&self.source[start..end])
                .take(before)
                .map(|(text, ending)| text.len() + ending.len())
                .sum::<usize>();
        self.segments[segment] = Segment::Span {
            start,
            end: cut,
            count: before,
        };
        let rest = Segment::Span {
            start: cut,
            end,
            count: count - before,
        };
        self.segments.insert(segment + 1, rest);
        segment + 1
    }

    /// Line `index` as a line of its own.
    fn own(&mut self, index: usize) -> &mut Line {
        let segment = self.split_at(index);
        if index + 1 < self.len {
            self.split_at(index + 1);
        }
        if let Segment::Span { start, end, .. } = self.segments[segment] {
            let (text, ending) = lines(&self.source[start..end])
                .next()
                .expect("a span of one line");
            self.segments[segment] = Segment::Own(Line {
                text: text.to_vec(),
                ending,
            });
        }
        match &mut self.segments[segment] {
            Segment::Own(line) => line,
            Segment::Span { .. } => unreachable!("line {index} was just made its own"),
        }
    }
}

/// Two documents are equal when their lines are, however they are held.
impl PartialEq for Lines {
    fn eq(&self, other: &Lines) -> bool {
        self.len == other.len && self.iter().eq(other.iter())
    }
}

impl Eq for Lines {}

impl IntoIterator for Lines {
    type Item = Line;
    type IntoIter = std::vec::IntoIter<Line>;

    fn into_iter(self) -> Self::IntoIter {
        let lines: Vec<Line> = self
            .iter()
            .map(|(text, ending)| Line {
                text: text.to_vec(),
                ending,
            })
            .collect();
        lines.into_iter()
    }
}

pub const LF: &[u8] = b"\n";
pub const CRLF: &[u8] = b"\r\n";
pub const NONE: &[u8] = b"";

/// The lines of `bytes`: each one's text (borrowed, no terminator) and its
/// terminator, exactly as [`Document::parse`] splits them.
pub fn lines(bytes: &[u8]) -> impl Iterator<Item = (&[u8], &'static [u8])> {
    let mut rest = bytes;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let line = match memchr_newline(rest) {
            Some(nl) => {
                let cr = nl > 0 && rest[nl - 1] == b'\r';
                let text = if cr { &rest[..nl - 1] } else { &rest[..nl] };
                rest = &rest[nl + 1..];
                (text, if cr { CRLF } else { LF })
            }
            None => (std::mem::take(&mut rest), NONE),
        };
        Some(line)
    })
}

fn memchr_newline(bytes: &[u8]) -> Option<usize> {
    bytes.iter().position(|&b| b == b'\n')
}

/// Whitespace as ntpd's scanner sees it: CR counts, so CRLF files work.
pub fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\x0b' | b'\x0c')
}

/// Splits a line into ntpd tokens.  `#` starts a comment anywhere outside a
/// quoted string, even glued to a token (`step 0#x` is `step`, `0`).  A `;`
/// is a token of its own: ntpd ends the statement there and reports an error.
pub fn tokenize(text: &[u8]) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < text.len() {
        let b = text[i];
        if is_space(b) {
            i += 1;
        } else if b == b'#' {
            break;
        } else if b == b';' {
            tokens.push(Token {
                range: i..i + 1,
                quoted: false,
            });
            i += 1;
        } else if b == b'"' {
            // An unterminated quote runs to the end of the line.
            let start = i;
            i += 1;
            while i < text.len() && text[i] != b'"' {
                i += 1;
            }
            i = (i + 1).min(text.len());
            tokens.push(Token {
                range: start..i,
                quoted: true,
            });
        } else {
            let start = i;
            while i < text.len() && !is_space(text[i]) && !matches!(text[i], b'#' | b';' | b'"') {
                i += 1;
            }
            tokens.push(Token {
                range: start..i,
                quoted: false,
            });
        }
    }
    tokens
}

/// Offset where the line's comment begins (`#` outside quotes), if any.
pub fn comment_start(text: &[u8]) -> Option<usize> {
    let mut in_quote = false;
    for (i, &b) in text.iter().enumerate() {
        match b {
            b'"' => in_quote = !in_quote,
            b'#' if !in_quote => return Some(i),
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<&str> {
        tokenize(text.as_bytes())
            .into_iter()
            .map(|t| &text[t.range])
            .collect()
    }

    #[test]
    fn round_trips_every_line_ending() {
        for input in [
            "",
            "a",
            "a\n",
            "a\r\nb\n",
            "a\nb",
            "\n\n",
            "x\r\n\r\ny",
            "a\rb\n",
        ] {
            assert_eq!(
                Document::parse(input.as_bytes()).to_bytes(),
                input.as_bytes()
            );
        }
    }

    /// Issue 21: a line costs about its bytes.  A file of blank lines (or
    /// comments) is held as the bytes read, not 40 bytes a line; a tinker
    /// line is held on its own, and what it holds is counted.
    #[test]
    fn held_bytes_are_about_the_bytes_read() {
        let blank = Document::parse(&[b'\n'; 100_000]);
        assert!(blank.held_bytes() >= 100_000);
        assert!(blank.held_bytes() < 101_000, "{}", blank.held_bytes());
        let comments = "# a comment\n".repeat(10_000);
        let held = Document::parse(comments.as_bytes()).held_bytes();
        assert!(held < comments.len() as u64 + 1_000, "{held}");
        let long = Document::parse(&[b'x'; 5000]);
        assert!(long.held_bytes() >= 5000);
        let tinker = "tinker panic 0\n".repeat(1_000);
        let held = Document::parse(tinker.as_bytes()).held_bytes();
        assert!(held >= 2 * tinker.len() as u64, "{held}");
    }

    #[test]
    fn lines_in_spans_are_edited_as_lines() {
        let mut doc = Document::parse(b"a\r\nb\ntinker panic 0\nc\nd");
        assert_eq!(doc.lines.len(), 5);
        assert_eq!(doc.lines.text(1), b"b");
        assert_eq!(doc.lines.text(4), b"d");
        doc.lines.text_mut(3).extend_from_slice(b"x");
        assert_eq!(doc.lines.remove(1).text, b"b");
        doc.lines.insert(
            1,
            Line {
                text: b"new".to_vec(),
                ending: LF,
            },
        );
        doc.lines.set_ending(4, CRLF);
        assert_eq!(doc.lines.ending(0), CRLF);
        assert_eq!(doc.to_bytes(), b"a\r\nnew\ntinker panic 0\ncx\nd\r\n");
        doc.lines.insert(
            5,
            Line {
                text: b"end".to_vec(),
                ending: NONE,
            },
        );
        assert_eq!(doc.lines.get(5).unwrap().text, b"end");
        assert_eq!(doc.lines.len(), 6);
        assert!(doc.lines.get(6).is_none());
        let copy = Document::parse(&doc.to_bytes());
        assert_eq!(copy, doc);
    }

    #[test]
    fn crlf_is_not_part_of_the_text() {
        let doc = Document::parse(b"tinker panic 0\r\n");
        assert_eq!(doc.lines.get(0).unwrap().text, b"tinker panic 0");
        assert_eq!(doc.lines.get(0).unwrap().ending, b"\r\n");
    }

    #[test]
    fn tokens_follow_ntpds_scanner() {
        assert_eq!(
            words("  tinker\tpanic 0   # for VMs"),
            ["tinker", "panic", "0"]
        );
        assert_eq!(words("tinker step 0#glued"), ["tinker", "step", "0"]);
        assert_eq!(
            words("leapfile \"/a b#c\" x"),
            ["leapfile", "\"/a b#c\"", "x"]
        );
        assert_eq!(words("tinker panic 0;"), ["tinker", "panic", "0", ";"]);
        assert_eq!(words("# all comment"), Vec::<&str>::new());
    }
}
