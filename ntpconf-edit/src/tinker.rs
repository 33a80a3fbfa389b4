//! ntpd's `tinker` grammar: which lines it applies, which it drops, and why.
//!
//! One bad token makes ntpd drop the whole line, valid pairs included, so a
//! line is either `Tinker::Applied` with all its pairs or `Tinker::Dropped`.

use std::ops::Range;

use crate::doc::{Token, tokenize};

/// Keywords ntpd 4.2.8 and NTPsec accept after `tinker`, with what they mean.
pub const KEYWORDS: &[(&str, &str)] = &[
    ("allan", "Allan intercept, log2 seconds (default 11)"),
    ("dispersion", "dispersion increase rate, PPM (default 15)"),
    (
        "freq",
        "initial frequency offset, PPM; overrides the drift file",
    ),
    (
        "huffpuff",
        "huff-n'-puff filter span, seconds (at least 900)",
    ),
    (
        "panic",
        "panic threshold, seconds (default 1000; 0 disables the check)",
    ),
    (
        "step",
        "step threshold both ways, seconds (default 0.128; 0 never steps)",
    ),
    (
        "stepback",
        "backward step threshold, seconds (0 never steps back; ntpd 4.2.8p2+)",
    ),
    (
        "stepfwd",
        "forward step threshold, seconds (0 never steps forward; ntpd 4.2.8p2+)",
    ),
    (
        "stepout",
        "stepout interval, seconds (default 300; lower values become 300)",
    ),
    (
        "tick",
        "clock tick, seconds (NTPsec 1.2.2 only; not a tinker keyword elsewhere)",
    ),
];

/// Keywords `set` refuses: real ntpd rejects them on a tinker line
/// (`tick` only since NTPsec 1.2.4, where it became a command of its own).
pub const NOT_TINKER: &[&str] = &["tick", "minpoll", "maxpoll", "codec", "maxdist"];

pub fn is_keyword(word: &[u8]) -> bool {
    KEYWORDS.iter().any(|(k, _)| k.as_bytes() == word)
}

/// ntpd's number syntax: optional sign, decimal digits with an optional
/// fraction, optional exponent (`-12.5`, `.5`, `1e3`).  No hex, no quotes.
pub fn is_number(word: &[u8]) -> bool {
    let mut i = 0;
    if matches!(word.first(), Some(b'-' | b'+')) {
        i = 1;
    }
    let int_start = i;
    while i < word.len() && word[i].is_ascii_digit() {
        i += 1;
    }
    let mut digits = i - int_start;
    if i < word.len() && word[i] == b'.' {
        i += 1;
        let frac_start = i;
        while i < word.len() && word[i].is_ascii_digit() {
            i += 1;
        }
        digits += i - frac_start;
    }
    if digits == 0 {
        return false;
    }
    if i < word.len() && matches!(word[i], b'e' | b'E') {
        i += 1;
        if i < word.len() && matches!(word[i], b'-' | b'+') {
            i += 1;
        }
        let exp_start = i;
        while i < word.len() && word[i].is_ascii_digit() {
            i += 1;
        }
        if i == exp_start {
            return false;
        }
    }
    i == word.len()
}

/// One `KEY VALUE` pair of an applied tinker line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pair {
    pub key: String,
    pub value: String,
    pub key_range: Range<usize>,
    pub value_range: Range<usize>,
}

/// How ntpd reads one line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Tinker {
    /// Not a tinker line at all (`tinker` in another case is `Dropped`).
    Other,
    /// ntpd applies these pairs, in order.  `semicolon` marks a `;` after
    /// them: ntpd reports an error there but has already applied the pairs.
    Applied {
        pairs: Vec<Pair>,
        semicolon: Option<usize>,
    },
    /// ntpd logs a syntax error at `column` (0-based byte offset) and applies
    /// nothing from this line.
    Dropped { reason: String, column: usize },
}

/// Classifies a line's text the way ntpd's parser treats it.
pub fn classify(text: &[u8]) -> Tinker {
    let tokens = tokenize(text);
    let Some(first) = tokens.first() else {
        return Tinker::Other;
    };
    let head = &text[first.range.clone()];
    if head != b"tinker" {
        if head.eq_ignore_ascii_case(b"tinker") && !first.quoted {
            return Tinker::Dropped {
                reason: format!(
                    "`{}`: keywords are lower case, ntpd does not know this one",
                    String::from_utf8_lossy(head)
                ),
                column: first.range.start,
            };
        }
        return Tinker::Other;
    }
    classify_pairs(text, &tokens[1..], first.range.end)
}

fn classify_pairs(text: &[u8], tokens: &[Token], after_head: usize) -> Tinker {
    let semicolon = tokens.iter().position(|t| &text[t.range.clone()] == b";");
    let statement = &tokens[..semicolon.unwrap_or(tokens.len())];
    if statement.is_empty() {
        return Tinker::Dropped {
            reason: "`tinker` without any KEYWORD VALUE pair".into(),
            column: statement.first().map_or(after_head, |t| t.range.start),
        };
    }
    let mut pairs = Vec::new();
    for chunk in statement.chunks(2) {
        let key_tok = &chunk[0];
        let key = &text[key_tok.range.clone()];
        if key_tok.quoted || !is_keyword(key) {
            let shown = String::from_utf8_lossy(key);
            let reason = if NOT_TINKER.iter().any(|k| k.as_bytes() == key) {
                format!("`{shown}` is not a tinker keyword")
            } else if is_keyword(&key.to_ascii_lowercase()) {
                format!("`{shown}`: tinker keywords are lower case")
            } else {
                format!("unknown tinker keyword `{shown}`")
            };
            return Tinker::Dropped {
                reason,
                column: key_tok.range.start,
            };
        }
        let Some(value_tok) = chunk.get(1) else {
            return Tinker::Dropped {
                reason: format!("`{}` has no value", String::from_utf8_lossy(key)),
                column: key_tok.range.end,
            };
        };
        let value = &text[value_tok.range.clone()];
        if value_tok.quoted || !is_number(value) {
            return Tinker::Dropped {
                reason: format!(
                    "`{}` is not a number ntpd accepts (decimal only, no quotes or hex)",
                    String::from_utf8_lossy(value)
                ),
                column: value_tok.range.start,
            };
        }
        pairs.push(Pair {
            key: String::from_utf8_lossy(key).into_owned(),
            value: String::from_utf8_lossy(value).into_owned(),
            key_range: key_tok.range.clone(),
            value_range: value_tok.range.clone(),
        });
    }
    Tinker::Applied {
        pairs,
        semicolon: semicolon.map(|i| tokens[i].range.start),
    }
}

/// True when the line is ntpd's `end`: nothing after it is read.
pub fn is_end(text: &[u8]) -> bool {
    tokenize(text)
        .first()
        .is_some_and(|t| &text[t.range.clone()] == b"end")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn applied(line: &str) -> Vec<(String, String)> {
        match classify(line.as_bytes()) {
            Tinker::Applied { pairs, .. } => pairs.into_iter().map(|p| (p.key, p.value)).collect(),
            other => panic!("{line:?} was {other:?}"),
        }
    }

    fn dropped(line: &str) -> bool {
        matches!(classify(line.as_bytes()), Tinker::Dropped { .. })
    }

    #[test]
    fn numbers_follow_ntpds_lexer() {
        for ok in ["0", "-3", "1e3", ".5", "-12.5", "7200", "5.", "+1", "1E-2"] {
            assert!(is_number(ok.as_bytes()), "{ok}");
        }
        for bad in ["", "-", ".", "0x10", "zero", "1e", "\"0\"", "1.2.3", "5s"] {
            assert!(!is_number(bad.as_bytes()), "{bad}");
        }
    }

    #[test]
    fn lines_ntpsec_applies() {
        // Each case below was checked against NTPsec 1.2.2 (reference A1.4).
        assert_eq!(applied("tinker panic 0"), [("panic".into(), "0".into())]);
        assert_eq!(applied("   tinker\tstep 0 panic 0 stepout 900").len(), 3);
        assert_eq!(applied("tinker panic 0   # trailing comment").len(), 1);
        assert_eq!(
            applied("tinker step 0#glued"),
            [("step".into(), "0".into())]
        );
        assert_eq!(applied("tinker panic 0 panic 5").len(), 2);
        assert_eq!(applied("tinker panic -3")[0].1, "-3");
        assert!(matches!(
            classify(b"tinker panic 0;"),
            Tinker::Applied {
                semicolon: Some(14),
                ..
            }
        ));
    }

    #[test]
    fn lines_ntpsec_drops_whole() {
        for line in [
            "TINKER panic 0",
            "Tinker panic 0",
            "tinker Panic 0",
            "tinker",
            "tinker panic",
            "tinker panic zero",
            "tinker panic 0 step",
            "tinker bogus 1",
            "tinker minpoll 4",
            "tinker panic 0x10",
            "tinker panic \"0\"",
        ] {
            assert!(dropped(line), "{line}");
        }
        assert_eq!(classify(b"server tinker"), Tinker::Other);
        assert_eq!(classify(b"# tinker panic 0"), Tinker::Other);
    }

    #[test]
    fn end_is_a_first_token() {
        assert!(is_end(b"end"));
        assert!(is_end(b"  end  # stop"));
        assert!(!is_end(b"# end"));
        assert!(!is_end(b"endx"));
    }
}
