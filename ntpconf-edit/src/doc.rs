//! A lossless line model of ntp.conf.
//!
//! The file is kept as bytes (ntpd does not care about encodings, and neither
//! may an editor that promises to change nothing else).  Each line remembers
//! its own terminator, so CRLF and LF can be mixed and a missing final newline
//! survives.  `Document::to_bytes` writes back exactly what was read.
//!
//! A line costs its own bytes plus a fixed 40: the terminator is one of
//! three constants, not an allocation of its own (a 6 MB file of blank
//! lines must not cost gigabytes).  Readers that only look at the lines
//! ([`lines`]) hold no copy at all.

use std::ops::Range;

/// One physical line: its text without the terminator, and the terminator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    pub text: Vec<u8>,
    /// `"\n"`, `"\r\n"` or empty for a last line without newline.
    pub ending: &'static [u8],
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Document {
    pub lines: Vec<Line>,
}

/// A token of ntpd's scanner with its byte range in the line text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Token {
    pub range: Range<usize>,
    /// True for a `"quoted string"` (ntpd accepts no quoted tinker value).
    pub quoted: bool,
}

impl Document {
    pub fn parse(bytes: &[u8]) -> Document {
        let lines = lines(bytes)
            .map(|(text, ending)| Line {
                text: text.to_vec(),
                ending,
            })
            .collect();
        Document { lines }
    }

    /// The memory the document holds: each line's fixed part and its text.
    /// An editor charges it to the run's budget: a file of short lines
    /// costs up to 40 times its size here.
    pub fn held_bytes(&self) -> u64 {
        let texts: usize = self.lines.iter().map(|l| l.text.capacity()).sum();
        (self.lines.capacity() * std::mem::size_of::<Line>() + texts) as u64
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for line in &self.lines {
            out.extend_from_slice(&line.text);
            out.extend_from_slice(line.ending);
        }
        out
    }

    /// The terminator new lines should get: the one most lines already use.
    pub fn preferred_ending(&self) -> &'static [u8] {
        let crlf = self.lines.iter().filter(|l| l.ending == b"\r\n").count();
        let lf = self.lines.iter().filter(|l| l.ending == b"\n").count();
        if crlf > lf { b"\r\n" } else { b"\n" }
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

    /// What the editor charges to the budget counts the fixed part of
    /// every line, so a file of blank lines is not taken for a small one.
    #[test]
    fn held_bytes_count_each_lines_fixed_part() {
        let blank = Document::parse(&[b'\n'; 1000]);
        assert!(blank.held_bytes() >= 1000 * std::mem::size_of::<Line>() as u64);
        let long = Document::parse(&[b'x'; 5000]);
        assert!(long.held_bytes() >= 5000);
    }

    #[test]
    fn crlf_is_not_part_of_the_text() {
        let doc = Document::parse(b"tinker panic 0\r\n");
        assert_eq!(doc.lines[0].text, b"tinker panic 0");
        assert_eq!(doc.lines[0].ending, b"\r\n");
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
