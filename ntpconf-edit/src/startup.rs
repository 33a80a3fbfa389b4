//! Lines that make ntpd exit while it reads its configuration at start-up,
//! so that it never runs: ntp_scanner.c's `yylex` exits on a lexeme longer
//! than its 1024-byte buffer and on a number it cannot represent
//! (`lex_number` says which), wherever the line stands (a line of its own,
//! a `tinker` or `tos` value, a `server` option), unless the scanner reads
//! that lexeme as a string.
//!
//! Whether a lexeme is a string depends on the scanner's state
//! (`followedby`), which this module replays per line: after a keyword the
//! keyword table marks FOLLBY_STRING (`server`, `driftfile`, ... — the set
//! differs by dialect) the next lexeme is a string, after one marked
//! FOLLBY_STRINGS_TO_EOC (`logconfig`, `phone`, ...) every lexeme to the end
//! of the line is, and so is the lexeme after `=`.  A quoted lexeme is a
//! string, and an empty `""` makes the next one a string too (`instring`
//! survives the scanner's retry loop).  Special characters are tokens of
//! their own only while no string is expected.  Each keyword set was
//! checked against the real programs (tests/oracle_fuzz.rs,
//! `startup_shapes_agree_with_both_ntpd_dialects`).

use crate::tinker::{Dialect, Number, is_c_space, is_special, lex_number};

/// yytext holds 1024 bytes plus its NUL: a lexeme of 1025 bytes makes
/// ntpd exit ("configuration item on line N longer than limit").
pub const MAX_LEXEME: usize = 1024;

/// Keywords after which the scanner reads one lexeme as a string.
fn follows_with_string(word: &[u8], dialect: Dialect) -> bool {
    const BOTH: &[&str] = &[
        "driftfile",
        "file",
        "fudge",
        "includefile",
        "keys",
        "leapfile",
        "logfile",
        "ntpsigndsocket",
        "peer",
        "pidfile",
        "pool",
        "refid",
        "server",
        "setvar",
        "statsdir",
        "unconfig",
        "unpeer",
    ];
    const CLASSIC: &[&str] = &[
        "abbrev",
        "broadcast",
        "digest",
        "host",
        "ident",
        "keysdir",
        "manycastclient",
        "pw",
        "randfile",
        "saveconfigdir",
        "trap",
    ];
    const NTPSEC: &[&str] = &["aead", "clock", "path", "ppspath", "tlsciphersuites"];
    let own = match dialect {
        Dialect::Classic => CLASSIC,
        Dialect::Ntpsec => NTPSEC,
    };
    BOTH.iter().chain(own).any(|k| k.as_bytes() == word)
}

/// Keywords after which the scanner reads the rest of the line as strings.
fn follows_with_strings_to_eol(word: &[u8], dialect: Dialect) -> bool {
    let keywords: &[&str] = match dialect {
        Dialect::Classic => &["logconfig", "manycastserver", "multicastclient", "phone"],
        Dialect::Ntpsec => &["logconfig", "phone"],
    };
    keywords.iter().any(|k| k.as_bytes() == word)
}

#[derive(Clone, Copy, PartialEq)]
enum Expect {
    Token,
    String,
    StringsToEol,
}

/// What ntpd's scanner does with one line.
#[derive(Clone, Debug, PartialEq)]
pub enum LineScan {
    /// Read to its end; ntpd goes on.
    Goes,
    /// ntpd exits here (the message, 0-based column).
    Exits(String, usize),
    /// A NUL byte where a keyword or number is read: both ntpds stop
    /// reading the configuration there, without exiting (checked against
    /// the real programs: `x\0 1e-400` starts, a file of NULs starts, and
    /// `tinker panic 3\0` then `tinker panic 4` applies 3).  After a
    /// keyword that takes a string (`server a\0b 1e-400`) it is read on.
    StopsReading,
}

/// Where ntpd exits while scanning one line (0-based column) and why, or
/// None.  `line` has no newline.
pub fn exit_in_line(line: &[u8], dialect: Dialect) -> Option<(String, usize)> {
    match scan_line(line, dialect) {
        LineScan::Exits(message, column) => Some((message, column)),
        LineScan::Goes | LineScan::StopsReading => None,
    }
}

/// One line as ntpd's scanner reads it.  `line` has no newline.
pub fn scan_line(line: &[u8], dialect: Dialect) -> LineScan {
    let n = line.len();
    let mut expect = Expect::Token;
    let mut i = 0;
    loop {
        // The scanner's retry loop: `instring` survives an empty lexeme.
        let mut instring = false;
        let (start, text) = loop {
            while i < n && (line[i] >= 0x80 || is_c_space(line[i])) {
                i += 1;
            }
            if i >= n {
                return LineScan::Goes;
            }
            if expect == Expect::Token && is_special(line[i]) {
                if line[i] == b'=' {
                    expect = Expect::String;
                }
                i += 1;
                continue;
            }
            let start = i;
            let mut text = Vec::new();
            let mut comment = false;
            while i < n {
                let b = line[i];
                if b >= 0x80 {
                    i += 1;
                    continue;
                }
                if is_c_space(b) || b == b'"' || (expect == Expect::Token && is_special(b)) {
                    break;
                }
                if b == 0 && expect == Expect::Token {
                    return LineScan::StopsReading;
                }
                if b == b'#' {
                    comment = true;
                    i = n;
                    break;
                }
                text.push(b);
                i += 1;
                if text.len() > MAX_LEXEME {
                    return LineScan::Exits(too_long(&text), start);
                }
            }
            if !comment && i < n && line[i] == b'"' {
                instring = true;
                i += 1;
                while i < n && line[i] != b'"' {
                    if line[i] < 0x80 {
                        text.push(line[i]);
                        if text.len() > MAX_LEXEME {
                            return LineScan::Exits(too_long(&text), start);
                        }
                    }
                    i += 1;
                }
                i += 1; // the closing quote, if any
            }
            if !text.is_empty() {
                break (start, text);
            }
            if comment {
                return LineScan::Goes;
            }
        };
        // C string functions stop at a NUL byte.
        let word = text.split(|b| *b == 0).next().unwrap_or_default();
        if expect == Expect::Token && !instring {
            if follows_with_string(word, dialect) {
                expect = Expect::String;
            } else if follows_with_strings_to_eol(word, dialect) {
                expect = Expect::StringsToEol;
            } else if let Number::Exits(message) = lex_number(word, dialect) {
                return LineScan::Exits(message, start);
            }
        } else if word.starts_with(b"-4") || word.starts_with(b"-6") {
            // `server -4 HOST`: an address-family flag, the string still to come.
        } else if expect == Expect::String {
            expect = Expect::Token;
        }
    }
}

fn too_long(text: &[u8]) -> String {
    let head = String::from_utf8_lossy(&text[..text.len().min(50)]).into_owned();
    format!(
        "configuration item longer than the scanner's limit of {MAX_LEXEME} characters, began with '{head}'"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exits(line: &str, dialect: Dialect) -> bool {
        exit_in_line(line.as_bytes(), dialect).is_some()
    }

    #[test]
    fn an_unrepresentable_number_anywhere_makes_ntpd_exit() {
        for line in [
            "1e-400",
            "-99999999999999999999",
            "0x",
            "server 127.0.0.1 minpoll 1e-400",
            "restrict -4 default 1e-400",
            "tos orphan 1e-400",
            "tos minclock 3;1e-400",
            "server a 1e-400",
            "server \"a\" 1e-400",
        ] {
            for dialect in [Dialect::Classic, Dialect::Ntpsec] {
                assert!(exits(line, dialect), "{line} {dialect:?}");
            }
        }
        assert_eq!(
            exit_in_line(b"tos orphan 1e-400", Dialect::Classic)
                .unwrap()
                .1,
            11
        );
    }

    #[test]
    fn a_string_the_scanner_expects_is_never_a_number() {
        for line in [
            "driftfile 1e-400",
            "server -4 1e-400",
            "server a=1e-400",
            "setvar a = 1e-400 default",
            "logconfig a 1e-400",
            "tinker panic 0 # 1e-400",
            "tinker panic \"1e-400\"",
        ] {
            for dialect in [Dialect::Classic, Dialect::Ntpsec] {
                assert!(!exits(line, dialect), "{line} {dialect:?}");
            }
        }
    }

    #[test]
    fn the_keyword_tables_differ_by_dialect() {
        assert!(!exits("broadcast 1e-400", Dialect::Classic));
        assert!(exits("broadcast 1e-400", Dialect::Ntpsec));
        assert!(exits("clock 1e-400", Dialect::Classic));
        assert!(!exits("clock 1e-400", Dialect::Ntpsec));
        assert!(!exits("manycastserver a 1e-400", Dialect::Classic));
        assert!(exits("manycastserver a 1e-400", Dialect::Ntpsec));
        // Classic exits only on an underflow to 0, NTPsec on any.
        assert!(!exits("1e-310", Dialect::Classic));
        assert!(exits("1e-310", Dialect::Ntpsec));
    }

    #[test]
    fn a_lexeme_over_1024_bytes_makes_ntpd_exit() {
        let long = "a".repeat(MAX_LEXEME);
        assert!(!exits(&long, Dialect::Classic));
        assert!(exits(&format!("{long}a"), Dialect::Classic));
        assert!(exits(&format!("server {long}a"), Dialect::Ntpsec));
        assert!(!exits(&format!("driftfile \"{long}\""), Dialect::Classic));
        assert!(exits(&format!("driftfile \"{long}a\""), Dialect::Classic));
        assert!(!exits(&format!("# {long}a"), Dialect::Classic));
        // High bytes are dropped before the buffer.
        assert!(!exits(&format!("{long}\u{e9}"), Dialect::Classic));
    }
}
