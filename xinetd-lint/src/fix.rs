//! `--fix`: only the rewrites that make xinetd read what the file plainly
//! means, everything else byte for byte: a missing space before the
//! operator, a trailing comment moved to its own line, CRLF, a BOM.

use crate::lex::{self, AttrLine};
use crate::rules::Code;

/// One fix made, where it was (line and column of the original file).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Applied {
    pub line: usize,
    pub column: usize,
    pub code: Code,
    pub what: &'static str,
}

/// The fixed text of one file.
pub fn fix(bytes: &[u8]) -> Vec<u8> {
    fix_report(bytes).0
}

/// The fixed text of one file, and each fix made (for `--fix`'s report).
pub fn fix_report(bytes: &[u8]) -> (Vec<u8>, Vec<Applied>) {
    let mut applied = Vec::new();
    let body = match bytes.strip_prefix(b"\xEF\xBB\xBF") {
        Some(body) => {
            applied.push(Applied {
                line: 1,
                column: 1,
                code: Code::XL026,
                what: "removed the UTF-8 byte-order mark",
            });
            body
        }
        None => bytes,
    };
    let mut out = Vec::with_capacity(body.len());
    let mut lines = body.split(|b| *b == b'\n').peekable();
    let mut crlf = false;
    let mut number = 0;
    while let Some(raw) = lines.next() {
        number += 1;
        let last = lines.peek().is_none();
        // Every CR before the newline: `x\r\r\n` is fixed in one run.
        let line = &raw[..raw.iter().rposition(|b| *b != b'\r').map_or(0, |i| i + 1)];
        if line.len() != raw.len() && !crlf {
            crlf = true;
            applied.push(Applied {
                line: number,
                column: raw.len(),
                code: Code::XL025,
                what: "converted CRLF line ends to LF",
            });
        }
        let (fixed, fixes) = fix_line(line);
        out.extend(fixed);
        applied.extend(fixes.into_iter().map(|(column, code, what)| Applied {
            line: number,
            column,
            code,
            what,
        }));
        if !last {
            out.push(b'\n');
        }
    }
    (out, applied)
}

type LineFix = (usize, Code, &'static str);

fn fix_line(line: &[u8]) -> (Vec<u8>, Vec<LineFix>) {
    if lex::is_blank_or_comment(line) || lex::is_lone(line, b'{') || lex::is_lone(line, b'}') {
        return (line.to_vec(), Vec::new());
    }
    let mut fixes = Vec::new();
    // Each fix is applied at most once: no loop on input that stays odd.
    let spaced = match space_before_operator(line) {
        Some(spaced) => {
            let column = match lex::attribute(line) {
                AttrLine::NoSpaceBeforeOp { op_column, .. } => op_column,
                _ => 1,
            };
            fixes.push((column, Code::XL009, "inserted a space before the operator"));
            spaced
        }
        None => line.to_vec(),
    };
    match comment_to_own_line(&spaced) {
        Some((fixed, column)) => {
            fixes.push((
                column,
                Code::XL016,
                "moved the trailing comment to its own line",
            ));
            (fixed, fixes)
        }
        None => (spaced, fixes),
    }
}

/// `name=v` or `name+=v` becomes `name = v` / `name += v`.
fn space_before_operator(line: &[u8]) -> Option<Vec<u8>> {
    let AttrLine::NoSpaceBeforeOp { name, op_column } = lex::attribute(line) else {
        return None;
    };
    let mut at = op_column - 1;
    // `name+=`: the `+` belongs to the operator, unless it is the whole name.
    if name.text.len() > 1 && matches!(line[at - 1], b'+' | b'-') {
        at -= 1;
    }
    let op_len = if line[at] == b'=' { 1 } else { 2 };
    let mut fixed = line[..at].to_vec();
    fixed.push(b' ');
    fixed.extend_from_slice(&line[at..at + op_len]);
    let rest = &line[at + op_len..];
    if !rest.is_empty() && !matches!(rest[0], b' ' | b'\t') {
        fixed.push(b' ');
    }
    fixed.extend_from_slice(rest);
    // Only a rewrite that xinetd then reads as an attribute is a fix.
    matches!(lex::attribute(&fixed), AttrLine::Ok { .. }).then_some(fixed)
}

/// `name = value # note` becomes `# note` on its own line above it (and
/// the comment's column).
fn comment_to_own_line(line: &[u8]) -> Option<(Vec<u8>, usize)> {
    let AttrLine::Ok { values, .. } = lex::attribute(line) else {
        return None;
    };
    let comment = values.iter().find(|v| v.text.starts_with(b"#"))?;
    let at = comment.column - 1;
    let indent: Vec<u8> = line
        .iter()
        .take_while(|b| matches!(b, b' ' | b'\t'))
        .copied()
        .collect();
    let mut fixed = indent;
    fixed.extend_from_slice(&line[at..]);
    fixed.push(b'\n');
    fixed.extend_from_slice(line[..at].trim_ascii_end());
    Some((fixed, comment.column))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(s: &str) -> String {
        String::from_utf8(fix(s.as_bytes())).unwrap()
    }

    #[test]
    fn fixes_only_what_it_promises() {
        assert_eq!(f("\twait=no\n"), "\twait = no\n");
        assert_eq!(f("\tsocket_type= stream\n"), "\tsocket_type = stream\n");
        assert_eq!(f("\tonly_from+=10.0.0.1\n"), "\tonly_from += 10.0.0.1\n");
        assert_eq!(
            f("\tper_source = 10 # the limit\n"),
            "\t# the limit\n\tper_source = 10\n"
        );
        assert_eq!(
            fix(b"\xEF\xBB\xBFservice x\r\n{\r\n}\r\n"),
            b"service x\n{\n}\n"
        );
        let untouched = "# c\nservice imap\n{\n\tuser = root\n\tserver_args = -a  -b\n}\nincludedir /etc/xinetd.d # x";
        assert_eq!(f(untouched), untouched);
    }

    #[test]
    fn odd_lines_terminate() {
        // Found by the fuzzer: `+=x` looped forever (the `+` is the name).
        for odd in ["+=x", "-=", "a++=x", "==", "+=", "x=#", "\x0b=y"] {
            let once = fix(odd.as_bytes());
            assert_eq!(fix(&once), once, "{odd:?}");
        }
        assert_eq!(f("a++=x"), "a+ += x");
        // Found by the fuzzer: several CRs before the newline.
        assert_eq!(
            f("user = root\r\r\r\nwait = no\r\n"),
            "user = root\nwait = no\n"
        );
    }
}
