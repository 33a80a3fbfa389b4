//! One line of an xinetd configuration file, read the way xinetd's
//! `parse.c` reads it, with nom.  Every piece keeps its byte column.
//!
//! xinetd splits on `\n` only; there are no continuation lines, no quotes,
//! no escapes and no trailing comments (`#` is a comment only as the first
//! non-blank character).  Tokens are separated by spaces and TABs only, so a
//! CR sticks to the last token (`no\r`).  Lines are bytes: xinetd never
//! decodes them.

use nom::IResult;
use nom::Parser;
use nom::branch::alt;
use nom::bytes::complete::{tag, take_till, take_till1, take_while};
use nom::combinator::{opt, rest};

/// A token and its 1-based byte column.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Token {
    pub text: Vec<u8>,
    pub column: usize,
}

impl Token {
    pub fn as_str(&self) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(&self.text)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Set,
    Add,
    Remove,
}

impl Op {
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Set => "=",
            Op::Add => "+=",
            Op::Remove => "-=",
        }
    }
}

/// What an attribute line says, or how it fails to say it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AttrLine {
    Ok {
        name: Token,
        op: Op,
        op_column: usize,
        values: Vec<Token>,
    },
    /// `wait=no`: the name is ended by `=` (xinetd drops the whole service).
    NoSpaceBeforeOp { name: Token, op_column: usize },
    /// No operator, or not one of `=`, `+=`, `-=`.
    BadOperator { name: Token },
}

fn is_blank(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// `isspace`, which xinetd uses to skip leading white space.
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b'\x0b' | b'\x0c')
}

/// 1-based column of `rest`, a suffix of `line`.
fn column(line: &[u8], rest: &[u8]) -> usize {
    line.len() - rest.len() + 1
}

/// 1-based column of `word`, which ends where `remaining` (a suffix of
/// `line`) begins.
fn column_before(line: &[u8], word: &[u8], remaining: &[u8]) -> usize {
    line.len() - remaining.len() - word.len() + 1
}

/// Splits on spaces and TABs only.
pub fn tokens(line: &[u8], start: &[u8]) -> Vec<Token> {
    let mut out = Vec::new();
    let mut input = start;
    loop {
        let parsed: IResult<&[u8], (&[u8], &[u8])> =
            (take_while(is_blank), take_till1(is_blank)).parse(input);
        match parsed {
            Ok((remaining, (_, word))) => {
                out.push(Token {
                    text: word.to_vec(),
                    column: column_before(line, word, remaining),
                });
                input = remaining;
            }
            Err(_) => return out,
        }
    }
}

/// True for a line xinetd skips: blank, or `#` as first non-blank.
pub fn is_blank_or_comment(line: &[u8]) -> bool {
    let trimmed: IResult<&[u8], &[u8]> = take_while(is_space).parse(line);
    match trimmed {
        Ok((rest, _)) => rest.is_empty() || rest[0] == b'#',
        Err(_) => true,
    }
}

/// A lone `{` or `}` (white space, CR included, around it).
pub fn is_lone(line: &[u8], brace: u8) -> bool {
    let mut words = line.split(|b| is_space(*b)).filter(|w| !w.is_empty());
    words.next() == Some(&[brace][..]) && words.next().is_none()
}

/// The words of a top-level line (`service NAME`, `defaults`,
/// `include PATH`, `includedir DIR`, or anything else).
pub fn words(line: &[u8]) -> Vec<Token> {
    let skipped: IResult<&[u8], &[u8]> = take_while(is_space).parse(line);
    let start = skipped.map_or(line, |(rest, _)| rest);
    tokens(line, start)
}

fn operator(input: &[u8]) -> IResult<&[u8], Op> {
    alt((
        tag(&b"="[..]).map(|_| Op::Set),
        tag(&b"+="[..]).map(|_| Op::Add),
        tag(&b"-="[..]).map(|_| Op::Remove),
    ))
    .parse(input)
}

/// An attribute line: `NAME WS OP [WS] VALUES`.
pub fn attribute(line: &[u8]) -> AttrLine {
    // (leading space, name, blanks after the name)
    type Head<'a> = (&'a [u8], &'a [u8], &'a [u8]);
    let parsed: IResult<&[u8], Head<'_>> = (
        take_while(is_space),
        take_till(|b| is_blank(b) || b == b'='),
        take_while(is_blank),
    )
        .parse(line);
    let Ok((after_blank, (_, name_bytes, blanks))) = parsed else {
        return AttrLine::BadOperator {
            name: Token {
                text: Vec::new(),
                column: 1,
            },
        };
    };
    let after_name_len = after_blank.len() + blanks.len();
    let name = Token {
        text: name_bytes.to_vec(),
        column: line.len() - after_name_len - name_bytes.len() + 1,
    };
    let op_column = column(line, after_blank);
    // xinetd: a name ended by `=` needs a space before the operator.
    if blanks.is_empty() && after_blank.first() == Some(&b'=') && !name_bytes.is_empty() {
        return AttrLine::NoSpaceBeforeOp { name, op_column };
    }
    let with_op: IResult<&[u8], (Op, Option<&[u8]>)> = (operator, opt(rest)).parse(after_blank);
    match with_op {
        Ok((_, (op, values))) if !name_bytes.is_empty() => {
            let values = tokens(line, values.unwrap_or_default());
            AttrLine::Ok {
                name,
                op,
                op_column,
                values,
            }
        }
        _ => AttrLine::BadOperator { name },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(line: &str) -> (String, Op, Vec<String>) {
        match attribute(line.as_bytes()) {
            AttrLine::Ok {
                name, op, values, ..
            } => (
                name.as_str().into_owned(),
                op,
                values.iter().map(|v| v.as_str().into_owned()).collect(),
            ),
            other => panic!("{line:?}: {other:?}"),
        }
    }

    #[test]
    fn attribute_lines_as_xinetd_reads_them() {
        assert_eq!(
            ok("\tsocket_type\t= stream"),
            ("socket_type".into(), Op::Set, vec!["stream".into()])
        );
        assert_eq!(ok("wait =no"), ("wait".into(), Op::Set, vec!["no".into()]));
        assert_eq!(
            ok("only_from += 10.0.0.1 # office").2,
            ["10.0.0.1", "#", "office"]
        );
        assert_eq!(
            ok("server_args = -c \"foo bar\"").2,
            ["-c", "\"foo", "bar\""]
        );
        assert_eq!(ok("only_from =").2, Vec::<String>::new());
        assert_eq!(ok("user = root\r").2, ["root\r"]);
        assert_eq!(ok("log_on_success -= PID").1, Op::Remove);
    }

    #[test]
    fn failures_xinetd_reports() {
        assert!(matches!(
            attribute(b"wait=no"),
            AttrLine::NoSpaceBeforeOp { .. }
        ));
        assert!(matches!(
            attribute(b"socket_type= stream"),
            AttrLine::NoSpaceBeforeOp { .. }
        ));
        assert!(matches!(
            attribute(b"disable"),
            AttrLine::BadOperator { .. }
        ));
        assert!(matches!(
            attribute(b"} # end"),
            AttrLine::BadOperator { .. }
        ));
        assert!(matches!(
            attribute(b"wait : no"),
            AttrLine::BadOperator { .. }
        ));
        assert!(matches!(
            attribute(b"include /etc/x"),
            AttrLine::BadOperator { .. }
        ));
    }

    #[test]
    fn columns_are_byte_positions() {
        let AttrLine::Ok {
            name,
            op_column,
            values,
            ..
        } = attribute(b"\tuser\t= root")
        else {
            panic!()
        };
        assert_eq!((name.column, op_column, values[0].column), (2, 7, 9));
    }

    #[test]
    fn braces_comments_and_words() {
        assert!(is_lone(b"{", b'{'));
        assert!(is_lone(b"  }\r", b'}'));
        assert!(!is_lone(b"} # end", b'}'));
        assert!(!is_lone(b"service x {", b'{'));
        assert!(is_blank_or_comment(b"   # x"));
        assert!(is_blank_or_comment(b"\r"));
        assert!(!is_blank_or_comment(b"x # y"));
        let w = words(b"  service  imap extra");
        assert_eq!(
            w.iter()
                .map(|t| t.as_str().into_owned())
                .collect::<Vec<_>>(),
            ["service", "imap", "extra"]
        );
        assert_eq!(w[1].column, 12);
    }
}
