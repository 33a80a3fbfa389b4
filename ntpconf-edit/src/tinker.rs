//! ntpd's `tinker` grammar, token by token, as both ntpd dialects parse it
//! (classic ntp.org 4.2.8 `ntp_scanner.c` / `ntp_parser.y`, NTPsec alike).
//!
//! The lexer: bytes >= 0x80 are dropped unseen; whitespace, `#`, `"` and the
//! special characters `{ } ( ) , ; | =` end a token (each special character
//! is a token of its own); a quote glues the rest of the quoted text to the
//! token and makes it a string.  The parser (yacc): `tinker` then pairs of a
//! tinker keyword and a number.  After a complete pair any other token is a
//! syntax error *but the pairs before it are applied* (yacc's default
//! reduction has already handed them over); an error where a value belongs
//! drops the whole line.  A number that the lexer cannot represent makes ntpd
//! exit while parsing, and then nothing at all is applied.

use std::ops::Range;

/// Which ntpd reads the file: ntp.org's classic 4.2.8 (FreeBSD, Debian
/// bullseye) or NTPsec.  The grammar is shared; the differences are listed
/// where they matter (number underflow, `includefile`, `ntp.d`, `tick`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Dialect {
    /// ntp.org ntpd 4.2.8 (FreeBSD's base system and port, Debian up to bullseye).
    Classic,
    /// NTPsec (Debian bookworm and later, Ubuntu 23.04+).
    Ntpsec,
}

impl Dialect {
    /// The daemon as messages name it.
    pub fn daemon(self) -> &'static str {
        match self {
            Dialect::Classic => "classic ntpd",
            Dialect::Ntpsec => "NTPsec's ntpd",
        }
    }
}

/// Keywords ntpd 4.2.8 and NTPsec accept after `tinker`, with what they mean.
pub const KEYWORDS: &[(&str, &str)] = &[
    (
        "allan",
        "Allan intercept, log2 seconds (default 11; ntpd keeps the low byte)",
    ),
    ("dispersion", "dispersion increase rate, PPM (default 15)"),
    (
        "freq",
        "initial frequency offset, PPM, clamped to +-500; overrides the drift file",
    ),
    (
        "huffpuff",
        "huff-n'-puff filter span, seconds (values below 900 become 900)",
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
        "clock tick, seconds (classic 4.2.8 and NTPsec up to 1.2.3; NTPsec 1.2.4+ made it a command)",
    ),
];

/// Keywords `set` refuses: `tick` is a tinker keyword only in some versions
/// (NTPsec 1.2.4 moved it to a command of its own), the rest never were.
pub const NOT_TINKER: &[&str] = &["tick", "minpoll", "maxpoll", "codec", "maxdist"];

/// Other ntpd keywords a tinker line may meet (they are tokens, not strings,
/// so they are never a value); enough of the vocabulary for the tests and the
/// fuzzer.  `end` and `includefile` matter most.
const OTHER_KEYWORDS: &[&str] = &[
    "end",
    "includefile",
    "server",
    "pool",
    "peer",
    "restrict",
    "driftfile",
    "tinker",
    "tos",
    "minpoll",
    "maxpoll",
    "codec",
    "maxdist",
    "iburst",
    "default",
    "logfile",
    "enable",
    "disable",
];

pub fn is_keyword(word: &[u8]) -> bool {
    KEYWORDS.iter().any(|(k, _)| k.as_bytes() == word)
}

fn is_any_keyword(word: &[u8]) -> bool {
    is_keyword(word) || OTHER_KEYWORDS.iter().any(|k| k.as_bytes() == word)
}

/// `isspace` in the C locale.
pub fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b'\x0b' | b'\x0c')
}

/// Characters that are tokens of their own and end any other token.
pub fn is_special(b: u8) -> bool {
    b"{}(),;|=".contains(&b)
}

/// One lexeme of a line, as ntpd's scanner returns it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lexeme {
    /// Where it is in the line's bytes (dropped high bytes included).
    pub range: Range<usize>,
    /// What ntpd sees: high bytes dropped, quotes removed.
    pub text: Vec<u8>,
    /// A special character token (`{ } ( ) , ; | =`).
    pub special: bool,
    /// Read (in part) from a `"quoted"` string: always a string token.
    pub quoted: bool,
}

/// Splits a line into ntpd's lexemes.  `#` ends the line's tokens anywhere
/// outside quotes; an unterminated quote runs to the end of the line.
///
/// Why not [`crate::startup::scan_line`], whose inner loop reads words the
/// same way: that one replays the scanner *with the parser's feedback*
/// (after `=` or a keyword that takes a string, special characters and NUL
/// are part of a string; a lexeme over the scanner's limit ends ntpd) to
/// decide whether ntpd starts at all.  This one gives every lexeme with its
/// byte range for the model and the edits, reading each line as the
/// keyword lines the model knows (no string state beyond a lone `""`).
/// One scanner with both jobs would make each answer depend on the other's
/// state; they are kept apart, each checked against the real ntpd
/// (tests/oracle_fuzz.rs).
pub fn lex(line: &[u8]) -> Vec<Lexeme> {
    let mut out = Vec::new();
    let mut i = 0;
    let n = line.len();
    // After a lone `""` the scanner's retry loop keeps its `instring`: the
    // next word is a string, even unquoted (a special character ends that).
    let mut after_empty_quotes = false;
    loop {
        while i < n && (line[i] >= 0x80 || is_c_space(line[i])) {
            i += 1;
        }
        if i >= n || line[i] == b'#' {
            return out;
        }
        if is_special(line[i]) {
            after_empty_quotes = false;
            out.push(Lexeme {
                range: i..i + 1,
                text: vec![line[i]],
                special: true,
                quoted: false,
            });
            i += 1;
            continue;
        }
        let start = i;
        let mut text = Vec::new();
        let mut quoted = false;
        let mut comment = false;
        while i < n {
            let b = line[i];
            if b >= 0x80 {
                i += 1;
                continue;
            }
            if is_c_space(b) || is_special(b) || b == b'"' {
                break;
            }
            if b == b'#' {
                comment = true;
                break;
            }
            if b == 0 && !after_empty_quotes {
                // A NUL where a keyword or number is read: the word ends
                // there and ntpd reads nothing more (startup::LineScan).
                comment = true;
                break;
            }
            text.push(b);
            i += 1;
        }
        if !comment && i < n && line[i] == b'"' {
            quoted = true;
            i += 1;
            while i < n && line[i] != b'"' {
                if line[i] < 0x80 {
                    text.push(line[i]);
                }
                i += 1;
            }
            if i < n {
                i += 1; // the closing quote
            }
        }
        // A lone `""` is an empty lexeme: ntpd reads on (its loop repeats).
        if text.is_empty() {
            after_empty_quotes |= quoted;
        } else {
            out.push(Lexeme {
                range: start..i,
                text,
                special: false,
                quoted: quoted || after_empty_quotes,
            });
            after_empty_quotes = false;
        }
        if comment {
            return out;
        }
    }
}

/// What the lexer makes of a word where a number may stand.
#[derive(Clone, Debug, PartialEq)]
pub enum Number {
    /// A number token (`T_Integer` or `T_Double`) with the value ntpd takes.
    Value(f64),
    /// A string, a keyword or an unsigned/hex token: a syntax error there.
    NotNumber,
    /// ntpd logs this and exits while still parsing.
    Exits(String),
}

/// The lexer's verdict on one word (ntp_scanner.c `is_integer`, `is_u_int`,
/// `is_double` and the conversions after them, with glibc's behaviour).
pub fn lex_number(word: &[u8], dialect: Dialect) -> Number {
    let text = String::from_utf8_lossy(word);
    if is_any_keyword(word) {
        return Number::NotNumber;
    }
    if is_integer(word) {
        // strtol: saturates at the 64-bit limits (ERANGE), then the value
        // is stored in an int, keeping its low 32 bits.
        let (value, saturated) = strtol(word);
        let stored = value as i32;
        if stored == 0 && saturated {
            return Number::Exits(format!("Integer cannot be represented: {text}"));
        }
        return Number::Value(f64::from(stored));
    }
    if is_u_int(word) {
        if word.len() == 2 && word[0] == b'0' && word[1].eq_ignore_ascii_case(&b'x') {
            // `0x` alone: sscanf converts nothing.
            return Number::Exits(format!("U_int cannot be represented: {text}"));
        }
        return Number::NotNumber;
    }
    if is_double(word) {
        let value = atof(word);
        let nonzero_digits = word
            .iter()
            .take_while(|b| !b.eq_ignore_ascii_case(&b'e'))
            .any(|b| (b'1'..=b'9').contains(b));
        let underflow_to_zero = value == 0.0 && nonzero_digits;
        let subnormal = value != 0.0 && value.abs() < f64::MIN_POSITIVE;
        // Classic exits only when the value became 0; NTPsec on any
        // underflow, a subnormal result included.
        if underflow_to_zero || (dialect == Dialect::Ntpsec && subnormal) {
            return Number::Exits(format!("Double too large to represent: {text}"));
        }
        return Number::Value(value);
    }
    Number::NotNumber
}

/// An optional `-` and only digits (a lone `-` counts: it reads as 0); an
/// unsigned value must fit a signed int once `%u` kept its low 32 bits.
fn is_integer(word: &[u8]) -> bool {
    let (negative, digits) = match word.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, word),
    };
    if !digits.iter().all(u8::is_ascii_digit) {
        return false;
    }
    if negative {
        return true;
    }
    // sscanf("%u"): strtoul saturates at 2^64-1, then an unsigned int keeps
    // the low 32 bits.
    let value = digits.iter().try_fold(0u64, |acc, d| {
        acc.checked_mul(10)?.checked_add(u64::from(d - b'0'))
    });
    let low = value.unwrap_or(u64::MAX) as u32;
    low <= i32::MAX as u32
}

fn strtol(word: &[u8]) -> (i64, bool) {
    let (negative, digits) = match word.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, word),
    };
    let mut value: i64 = 0;
    for d in digits {
        let digit = i64::from(d - b'0');
        let next = value.checked_mul(10).and_then(|v| {
            if negative {
                v.checked_sub(digit)
            } else {
                v.checked_add(digit)
            }
        });
        match next {
            Some(v) => value = v,
            None => return (if negative { i64::MIN } else { i64::MAX }, true),
        }
    }
    (value, false)
}

fn is_u_int(word: &[u8]) -> bool {
    match word {
        [b'0', x, rest @ ..] if x.eq_ignore_ascii_case(&b'x') => {
            rest.iter().all(u8::is_ascii_hexdigit)
        }
        _ => word.iter().all(u8::is_ascii_digit),
    }
}

fn is_double(word: &[u8]) -> bool {
    let mut i = 0;
    if matches!(word.first(), Some(b'+' | b'-')) {
        i = 1;
    }
    let mut digits = 0;
    while i < word.len() && word[i].is_ascii_digit() {
        i += 1;
        digits += 1;
    }
    if i < word.len() && word[i] == b'.' {
        i += 1;
        while i < word.len() && word[i].is_ascii_digit() {
            i += 1;
            digits += 1;
        }
    }
    if digits == 0 {
        return false;
    }
    if i == word.len() {
        return true;
    }
    if !word[i].eq_ignore_ascii_case(&b'e') {
        return false;
    }
    i += 1;
    if i < word.len() && matches!(word[i], b'+' | b'-') {
        i += 1;
    }
    while i < word.len() && word[i].is_ascii_digit() {
        i += 1;
    }
    i == word.len()
}

/// `atof` on a word `is_double` accepted: a partial exponent (`1e`, `5e-`)
/// is ignored, as strtod stops before it.
fn atof(word: &[u8]) -> f64 {
    let text = String::from_utf8_lossy(word);
    let mantissa_end = text.find(['e', 'E']).unwrap_or(text.len());
    let exponent_digits = text[mantissa_end..].bytes().any(|b| b.is_ascii_digit());
    let usable = if exponent_digits {
        &text[..]
    } else {
        &text[..mantissa_end]
    };
    usable.parse().unwrap_or(0.0)
}

/// ntpd's number syntax for a value `set` writes: what the lexer reads as a
/// number, without surprises (no lone `-`, no partial exponent, no integer
/// beyond 32 bits, nothing that makes ntpd exit).
pub fn is_number(word: &[u8]) -> bool {
    if word.is_empty()
        || word == b"-"
        || word
            .last()
            .is_some_and(|b| !b.is_ascii_digit() && *b != b'.')
    {
        return false;
    }
    let Number::Value(value) = lex_number(word, Dialect::Ntpsec) else {
        return false;
    };
    // An integer-looking word must keep its value (no 32-bit wrap-around).
    if is_integer(word) {
        return String::from_utf8_lossy(word).parse::<i64>().ok() == Some(value as i64);
    }
    value.is_finite()
}

/// The value ntpd ends up using for a key, after `loop_config` (classic
/// `ntp_loopfilter.c`, NTPsec alike): stepout and huffpuff have floors, allan
/// is stored in an unsigned byte, freq is clamped to +-500 PPM when the loop
/// starts.
pub fn applied_value(key: &str, value: f64) -> f64 {
    match key {
        "stepout" if value < 300.0 => 300.0,
        "huffpuff" if value < 900.0 => 900.0,
        "allan" => f64::from(c_double_to_uchar(value)),
        "freq" => value.clamp(-500.0, 500.0),
        _ => value,
    }
}

/// `(u_char)double` as x86-64 code does it: a 32-bit truncating conversion
/// (out of range or NaN gives 0x80000000), then the low byte.
fn c_double_to_uchar(value: f64) -> u8 {
    let int = if value.is_nan() || !(-2_147_483_648.0..2_147_483_648.0).contains(&value) {
        i32::MIN
    } else {
        value.trunc() as i32
    };
    int as u8
}

/// One `KEY VALUE` pair ntpd applies.
#[derive(Clone, Debug, PartialEq)]
pub struct Pair {
    pub key: String,
    /// The value as written (the bytes of its token, lossily decoded).
    pub value: String,
    /// The number the lexer made of it (before `loop_config`'s adjustments).
    pub number: f64,
    pub key_range: Range<usize>,
    pub value_range: Range<usize>,
}

/// A syntax error ntpd reports on a line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyntaxError {
    pub reason: String,
    /// 0-based byte offset.
    pub column: usize,
    /// The offending token is a `;`.
    pub semicolon: bool,
}

/// How ntpd reads one line.
#[derive(Clone, Debug, PartialEq)]
pub enum Tinker {
    /// Not a tinker line at all (`tinker` in another case is `Dropped`).
    Other,
    /// ntpd applies these pairs, in order; with `error`, it also reports a
    /// syntax error after them (pairs before the error still apply).
    Applied {
        pairs: Vec<Pair>,
        error: Option<SyntaxError>,
    },
    /// ntpd logs a syntax error and applies nothing from this line.
    Dropped { reason: String, column: usize },
}

/// A line ntpd reads, classified, plus a lexeme that makes it exit.
#[derive(Clone, Debug, PartialEq)]
pub struct LineReading {
    pub tinker: Tinker,
    /// ntpd exits while parsing this line (the message, 0-based column).
    pub exits: Option<(String, usize)>,
    /// ntpd reads nothing after this line (a NUL byte where it reads a
    /// keyword or number; the line up to it still applies).
    pub stops_reading: bool,
}

/// Classifies a line's text the way ntpd's parser treats it.
pub fn classify(text: &[u8]) -> Tinker {
    classify_line(text, Dialect::Classic).tinker
}

pub fn classify_line(text: &[u8], dialect: Dialect) -> LineReading {
    let scan = crate::startup::scan_line(text, dialect);
    let stops_reading = scan == crate::startup::LineScan::StopsReading;
    let exits = match scan {
        crate::startup::LineScan::Exits(message, column) => Some((message, column)),
        _ => None,
    };
    let lexemes = lex(text);
    let Some(first) = lexemes.first() else {
        return LineReading {
            tinker: Tinker::Other,
            exits,
            stops_reading,
        };
    };
    if first.text != b"tinker" || first.quoted {
        let tinker = if first.text.eq_ignore_ascii_case(b"tinker") && !first.quoted {
            Tinker::Dropped {
                reason: format!(
                    "`{}`: keywords are lower case, ntpd does not know this one",
                    String::from_utf8_lossy(&first.text)
                ),
                column: first.range.start,
            }
        } else {
            Tinker::Other
        };
        return LineReading {
            tinker,
            exits,
            stops_reading,
        };
    }
    let tinker = parse_pairs(text, &lexemes[1..], first.range.end, dialect);
    LineReading {
        exits,
        tinker,
        stops_reading,
    }
}

fn describe(lexeme: &Lexeme) -> String {
    String::from_utf8_lossy(&lexeme.text).into_owned()
}

fn parse_pairs(text: &[u8], lexemes: &[Lexeme], after_head: usize, dialect: Dialect) -> Tinker {
    let mut pairs = Vec::new();
    let mut i = 0;
    loop {
        let Some(key) = lexemes.get(i) else {
            if pairs.is_empty() {
                return Tinker::Dropped {
                    reason: "`tinker` without any KEYWORD VALUE pair".into(),
                    column: text.len().max(after_head),
                };
            }
            return Tinker::Applied { pairs, error: None };
        };
        let key_word = &key.text;
        if key.special || key.quoted || !is_keyword(key_word) {
            let shown = describe(key);
            let reason = if key.special {
                format!("`{shown}` ends the statement here (not a separator in ntp.conf)")
            } else if NOT_TINKER.iter().any(|k| k.as_bytes() == &key_word[..]) && !key.quoted {
                format!("`{shown}` is not a tinker keyword")
            } else if is_keyword(&key_word.to_ascii_lowercase()) && !key.quoted {
                format!("`{shown}`: tinker keywords are lower case")
            } else {
                format!("unknown tinker keyword `{shown}`")
            };
            if pairs.is_empty() {
                return Tinker::Dropped {
                    reason,
                    column: key.range.start,
                };
            }
            return Tinker::Applied {
                pairs,
                error: Some(SyntaxError {
                    reason,
                    column: key.range.start,
                    semicolon: key.special && key.text == b";",
                }),
            };
        }
        let Some(value) = lexemes.get(i + 1) else {
            return Tinker::Dropped {
                reason: format!("`{}` has no value", describe(key)),
                column: key.range.end,
            };
        };
        let number = if value.special || value.quoted {
            Number::NotNumber
        } else {
            lex_number(&value.text, dialect)
        };
        let number = match number {
            Number::Value(number) => number,
            // ntpd exits on this value (recorded by `startup::exit_in_line`); it is still
            // the pair's value, so an edit can replace it.
            Number::Exits(_) => f64::NAN,
            Number::NotNumber => {
                return Tinker::Dropped {
                    reason: format!(
                        "`{}` is not a number ntpd accepts (decimal only, no quotes or hex)",
                        String::from_utf8_lossy(&text[value.range.clone()])
                    ),
                    column: value.range.start,
                };
            }
        };
        pairs.push(Pair {
            key: describe(key),
            value: String::from_utf8_lossy(&text[value.range.clone()]).into_owned(),
            number,
            key_range: key.range.clone(),
            value_range: value.range.clone(),
        });
        i += 2;
    }
}

/// True when the line is ntpd's `end`: nothing after it is read.
pub fn is_end(text: &[u8]) -> bool {
    lex(text)
        .first()
        .is_some_and(|t| t.text == b"end" && !t.quoted && !t.special)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn applied(line: &str) -> Vec<(String, f64)> {
        match classify(line.as_bytes()) {
            Tinker::Applied { pairs, .. } => pairs.into_iter().map(|p| (p.key, p.number)).collect(),
            other => panic!("{line:?} was {other:?}"),
        }
    }

    fn dropped(line: &str) -> bool {
        matches!(classify(line.as_bytes()), Tinker::Dropped { .. })
    }

    fn number(word: &str, dialect: Dialect) -> Number {
        lex_number(word.as_bytes(), dialect)
    }

    #[test]
    fn values_set_may_write() {
        for ok in ["0", "-3", "1e3", ".5", "-12.5", "7200", "5.", "+1", "1E-2"] {
            assert!(is_number(ok.as_bytes()), "{ok}");
        }
        for bad in [
            "",
            "-",
            ".",
            "0x10",
            "zero",
            "1e",
            "\"0\"",
            "1.2.3",
            "5s",
            "4294967296",
            "1e-400",
            "1e400",
        ] {
            assert!(!is_number(bad.as_bytes()), "{bad}");
        }
    }

    #[test]
    fn numbers_as_the_lexer_reads_them() {
        // Each checked against classic 4.2.8p15 and NTPsec 1.2.2 (-D 2).
        use Dialect::*;
        use Number::*;
        assert_eq!(number("-", Classic), Value(0.0));
        assert_eq!(number("1e", Classic), Value(1.0));
        assert_eq!(number("5e-", Ntpsec), Value(5.0));
        assert_eq!(number("4294967296", Classic), Value(0.0));
        assert_eq!(number("99999999999", Classic), Value(1215752191.0));
        assert_eq!(number("-99999999999", Classic), Value(-1215752191.0));
        assert_eq!(number("-2147483649", Classic), Value(2147483647.0));
        assert_eq!(number("9223372036854775808", Classic), Value(-1.0));
        assert_eq!(number("-9223372036854775808", Classic), Value(0.0));
        assert_eq!(number("2147483648", Classic), NotNumber);
        assert_eq!(number("18446744073709551616", Classic), NotNumber);
        assert!(matches!(number("-9223372036854775809", Classic), Exits(_)));
        assert!(matches!(number("1e-400", Classic), Exits(_)));
        assert!(matches!(number("0x", Ntpsec), Exits(_)));
        assert_eq!(number("0e-999", Classic), Value(0.0));
        assert_eq!(number("1e400", Classic), Value(f64::INFINITY));
        assert!(matches!(number("1e-310", Classic), Value(v) if v > 0.0));
        assert!(matches!(number("1e-310", Ntpsec), Exits(_)));
        assert_eq!(number("0X10", Classic), NotNumber);
        assert_eq!(number(".e5", Classic), NotNumber);
        assert_eq!(number("step", Classic), NotNumber);
    }

    #[test]
    fn lexer_ends_tokens_and_drops_high_bytes() {
        let words =
            |line: &[u8]| -> Vec<Vec<u8>> { lex(line).into_iter().map(|l| l.text).collect() };
        assert_eq!(
            words(b"tinker panic 0,step 1"),
            [&b"tinker"[..], b"panic", b"0", b",", b"step", b"1"]
        );
        assert_eq!(
            words(b"tinker pa\xc3\xa9nic 3"),
            [&b"tinker"[..], b"panic", b"3"]
        );
        assert_eq!(
            words(b"tinker panic 1\"2\"3"),
            [&b"tinker"[..], b"panic", b"12", b"3"]
        );
        assert_eq!(
            words(b"tinker step 0#glued"),
            [&b"tinker"[..], b"step", b"0"]
        );
        assert_eq!(
            words(b"tinker panic\x0c5"),
            [&b"tinker"[..], b"panic", b"5"]
        );

        // Found against the real ntpd (issue 20): after a lone `""` the next
        // word is a string, so the value is not a number and the line drops.
        let quoted =
            |line: &[u8]| -> Vec<bool> { lex(line).into_iter().map(|l| l.quoted).collect() };
        assert_eq!(quoted(b"tinker panic \"\" 0"), [false, false, true]);
        assert_eq!(
            quoted(b"tinker \"\" , panic 0"),
            [false, false, false, false]
        );
        assert!(dropped("tinker panic \"\" 0"));
    }

    #[test]
    fn pairs_before_an_error_at_a_key_still_apply() {
        assert_eq!(applied("tinker panic 0,step 1"), [("panic".into(), 0.0)]);
        assert_eq!(
            applied("tinker panic 5 bogus 3 step 1"),
            [("panic".into(), 5.0)]
        );
        assert_eq!(applied("tinker panic 0 end"), [("panic".into(), 0.0)]);
        assert_eq!(applied("tinker panic 0 step 1 }").len(), 2);
        assert!(matches!(
            classify(b"tinker panic 0;"),
            Tinker::Applied {
                error: Some(SyntaxError {
                    semicolon: true,
                    column: 14,
                    ..
                }),
                ..
            }
        ));
    }

    #[test]
    fn an_error_where_a_value_belongs_drops_the_line() {
        for line in [
            "TINKER panic 0",
            "tinker Panic 0",
            "tinker",
            "tinker panic",
            "tinker panic zero",
            "tinker panic 0 step",
            "tinker bogus 1",
            "tinker minpoll 4",
            "tinker panic 0x10",
            "tinker panic \"0\"",
            "tinker panic=0",
            "tinker step 0 stepback 0x1",
            "tinker panic 2147483648",
            "tinker,panic 0",
        ] {
            assert!(dropped(line), "{line}");
        }
        assert_eq!(classify(b"server tinker"), Tinker::Other);
        assert_eq!(classify(b"# tinker panic 0"), Tinker::Other);
    }

    #[test]
    fn a_number_ntpd_cannot_hold_makes_it_exit() {
        let exits = |line: &str, d| classify_line(line.as_bytes(), d).exits.is_some();
        assert!(exits("tinker panic 1e-400", Dialect::Classic));
        assert!(exits(
            "tinker panic 0 bogus -99999999999999999999999",
            Dialect::Classic
        ));
        assert!(!exits(
            "tinker panic 0 = -99999999999999999999999",
            Dialect::Classic
        ));
        assert!(!exits("tinker panic 1e-310", Dialect::Classic));
        // Found by the oracle fuzzer: `server` makes the next lexeme a string.
        assert!(!exits("tinker huffpuff 10 server 1e-310", Dialect::Ntpsec));
        assert!(exits("tinker panic 1e-310", Dialect::Ntpsec));
    }

    #[test]
    fn values_after_loop_config() {
        assert_eq!(applied_value("huffpuff", 10.0), 900.0);
        assert_eq!(applied_value("huffpuff", 7200.0), 7200.0);
        assert_eq!(applied_value("allan", 300.0), 44.0);
        assert_eq!(applied_value("allan", -1.0), 255.0);
        assert_eq!(applied_value("allan", 11.7), 11.0);
        assert_eq!(applied_value("freq", 900.0), 500.0);
        assert_eq!(applied_value("freq", -700.0), -500.0);
        assert_eq!(applied_value("stepout", 60.0), 300.0);
        assert_eq!(applied_value("panic", -3.0), -3.0);
    }

    #[test]
    fn end_is_a_first_token() {
        assert!(is_end(b"end"));
        assert!(is_end(b"  end  # stop"));
        assert!(!is_end(b"# end"));
        assert!(!is_end(b"endx"));
    }
}
