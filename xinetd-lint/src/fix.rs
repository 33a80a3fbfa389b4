//! `--fix`: only the rewrites that make xinetd read what the file plainly
//! means, everything else byte for byte: a missing space before the
//! operator, a trailing comment moved to its own line, CRLF, a BOM.

use crate::lex::{self, AttrLine};

/// The fixed text of one file.
pub fn fix(bytes: &[u8]) -> Vec<u8> {
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut out = Vec::with_capacity(body.len());
    let mut lines = body.split(|b| *b == b'\n').peekable();
    while let Some(raw) = lines.next() {
        let last = lines.peek().is_none();
        let line = raw.strip_suffix(b"\r").unwrap_or(raw);
        out.extend(fix_line(line));
        if !last {
            out.push(b'\n');
        }
    }
    out
}

fn fix_line(line: &[u8]) -> Vec<u8> {
    if lex::is_blank_or_comment(line) || lex::is_lone(line, b'{') || lex::is_lone(line, b'}') {
        return line.to_vec();
    }
    match lex::attribute(line) {
        AttrLine::NoSpaceBeforeOp { op_column, .. } => {
            // `name=v` or `name+=v`: a space before the operator, and one
            // after it when there is none.
            let mut at = op_column - 1;
            if at > 0 && matches!(line[at - 1], b'+' | b'-') {
                at -= 1;
            }
            let mut fixed = line[..at].to_vec();
            fixed.push(b' ');
            let op_len = if line[at] == b'=' { 1 } else { 2 };
            fixed.extend_from_slice(&line[at..at + op_len]);
            let rest = &line[at + op_len..];
            if !rest.is_empty() && !matches!(rest[0], b' ' | b'\t') {
                fixed.push(b' ');
            }
            fixed.extend_from_slice(rest);
            fix_line(&fixed)
        }
        AttrLine::Ok { values, .. } => match values.iter().find(|v| v.text.starts_with(b"#")) {
            Some(comment) => {
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
                fixed
            }
            None => line.to_vec(),
        },
        AttrLine::BadOperator { .. } => line.to_vec(),
    }
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
}
