//! The servers, peers and pools ntpd takes from an ntp.conf: the one answer
//! to "what are its servers" for every tool (ntpconf-edit, clockcheck's
//! servers without `-H`, clockcheck env).
//!
//! It reads the lines of the one ntpd model ([`crate::model::read`]), so
//! `includefile` (and NTPsec's `ntp.d`) is followed and `end` stops the
//! reading exactly as for the tinker values.  Checked against the real
//! programs (tests/associations_oracle.rs: classic ntpd's
//! `--saveconfigquit`, NTPsec's "mobilize assoc" events):
//!
//! - the keyword is `server`, `peer` or `pool`, lower case and unquoted;
//!   leading blanks do not matter;
//! - the word after it (after `-4` or `-6`) is the address, whatever it
//!   looks like (ntpd's scanner reads it as a string: `1234`, `iburst`);
//! - the association is dropped when an option that takes a number has
//!   none (`minpoll` at the end, `minpoll abc`, `version 4.5`): ntpd's
//!   parser cannot finish the command.  Any other word after the address
//!   ends the options, and ntpd keeps the association (with a syntax error
//!   for the rest of the line).
//!
//! Classic ntpd's refclocks (`server 127.127.T.U`) are not servers to ask
//! and are left out; NTPsec names refclocks with `refclock` and takes
//! `server 127.127.1.0` as an ordinary (loopback) server, so it stays.

use std::path::PathBuf;

use crate::model::Reading;
use crate::tinker::{Dialect, Lexeme, lex};

/// What a line asks ntpd for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Server,
    /// Classic ntpd: a symmetric peer; NTPsec treats it as a server.
    Peer,
    /// Several servers, from the name's addresses.
    Pool,
}

/// One `server`, `peer` or `pool` line ntpd takes.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Association {
    pub kind: Kind,
    /// The address or name as written.
    pub host: String,
    /// Where the line is (display path, 1-based line).
    pub file: PathBuf,
    pub line: usize,
}

/// The associations ntpd takes from a reading, in the order it reads them.
/// A file ntpd exits on still lists what it names: the servers are what the
/// admin configured, whether or not this ntpd starts.
pub fn associations(reading: &Reading, dialect: Dialect) -> Vec<Association> {
    reading
        .lines
        .iter()
        .filter_map(|line| {
            let (kind, host) = association_of_line(&line.text, dialect)?;
            Some(Association {
                kind,
                host,
                file: line.file.clone(),
                line: line.line,
            })
        })
        .collect()
}

/// The hosts FreeBSD's rc.d/ntpdate takes from this file when
/// `ntpdate_hosts` is empty, with their lines: its awk reads the main file
/// only (never an include), lines that start in column 1 with `server`,
/// `peer` or `pool`; the host is the second field, or the third after a
/// `-4`/`-6` flag; `127.127.*` refclocks are skipped.
pub fn boot_ntpdate_hosts(reading: &Reading) -> Vec<(usize, String)> {
    reading
        .lines
        .iter()
        .filter(|l| l.depth == 0)
        .filter_map(|l| {
            let text = String::from_utf8_lossy(&l.text);
            let mut fields = text.split_whitespace();
            let first = fields.next()?;
            let mut host = fields.next()?;
            if host.starts_with('-') {
                host = fields.next()?;
            }
            (text.starts_with(first)
                && matches!(first, "server" | "peer" | "pool")
                && !host.starts_with("127.127."))
            .then(|| (l.line, host.to_string()))
        })
        .collect()
}

/// Whether a line can name an association (the model keeps such lines; the
/// exact reading is [`association_of_line`]'s).
pub(crate) fn may_be_association(text: &[u8]) -> bool {
    let start = text.iter().position(|b| !b.is_ascii_whitespace());
    let rest = start.map_or(&[][..], |i| &text[i..]);
    [&b"server"[..], b"peer", b"pool"]
        .iter()
        .any(|k| rest.starts_with(k))
}

/// The association one line asks for, as ntpd's parser takes it.
pub fn association_of_line(text: &[u8], dialect: Dialect) -> Option<(Kind, String)> {
    let lexemes = lex(text);
    let mut words = lexemes.iter();
    let keyword = words.next()?;
    if keyword.quoted || keyword.special {
        return None;
    }
    let kind = match keyword.text.as_slice() {
        b"server" => Kind::Server,
        b"peer" => Kind::Peer,
        b"pool" => Kind::Pool,
        _ => return None,
    };
    let mut address = words.next()?;
    if !address.quoted && matches!(address.text.as_slice(), b"-4" | b"-6") {
        address = words.next()?;
    }
    if address.special {
        return None;
    }
    let host = String::from_utf8_lossy(&address.text).into_owned();
    let refclock = dialect == Dialect::Classic && host.starts_with("127.127.");
    if refclock || !options_complete(words.as_slice(), dialect) {
        return None;
    }
    Some((kind, host))
}

/// Whether ntpd's parser finishes the option list: every option that takes
/// a number has one.  The first word that is not an option ends the list.
fn options_complete(words: &[Lexeme], dialect: Dialect) -> bool {
    let mut i = 0;
    while let Some(word) = words.get(i) {
        if word.quoted || word.special {
            return true;
        }
        let wants = number_option(&word.text, dialect);
        if wants == Wants::Nothing {
            if !FLAG_OPTIONS.contains(&word.text.as_slice()) {
                return true;
            }
            i += 1;
            continue;
        }
        match words.get(i + 1) {
            Some(value) if !value.quoted && !value.special && wants.accepts(&value.text) => i += 2,
            _ => return false,
        }
    }
    true
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Wants {
    Nothing,
    Integer,
    /// Integer or decimal (NTPsec's `bias`).
    Number,
}

impl Wants {
    fn accepts(self, word: &[u8]) -> bool {
        let digits = |w: &[u8]| !w.is_empty() && w.iter().all(u8::is_ascii_digit);
        let integer = |w: &[u8]| {
            digits(w.strip_prefix(b"-").unwrap_or(w))
                || w.strip_prefix(b"0x")
                    .or_else(|| w.strip_prefix(b"0X"))
                    .is_some_and(|h| !h.is_empty() && h.iter().all(u8::is_ascii_hexdigit))
        };
        match self {
            Wants::Nothing => true,
            Wants::Integer => integer(word),
            Wants::Number => {
                integer(word)
                    || matches!(
                        crate::tinker::lex_number(word, Dialect::Ntpsec),
                        crate::tinker::Number::Value(_)
                    )
            }
        }
    }
}

/// Options of `server`/`peer`/`pool` that take no value (both dialects).
const FLAG_OPTIONS: &[&[u8]] = &[
    b"autokey",
    b"burst",
    b"iburst",
    b"noselect",
    b"preempt",
    b"prefer",
    b"true",
    b"xleave",
];

/// Options that take a number, per dialect (classic 4.2.8's `ttl`; NTPsec's
/// `bias`), as the real programs showed.
fn number_option(word: &[u8], dialect: Dialect) -> Wants {
    match (word, dialect) {
        (b"key" | b"minpoll" | b"maxpoll" | b"mode" | b"version", _) => Wants::Integer,
        (b"ttl", Dialect::Classic) => Wants::Integer,
        (b"bias", Dialect::Ntpsec) => Wants::Number,
        _ => Wants::Nothing,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::tests::map_files;
    use std::collections::HashMap;
    use std::path::Path;

    fn hosts(text: &str, dialect: Dialect) -> Vec<String> {
        let reading = crate::model::read(
            Path::new("/etc/ntp.conf"),
            text.as_bytes(),
            &map_files(HashMap::new()),
            dialect,
        )
        .unwrap();
        associations(&reading, dialect)
            .into_iter()
            .map(|a| a.host)
            .collect()
    }

    #[test]
    fn the_address_follows_the_keyword_and_its_family_flag() {
        let text = "pool 0.freebsd.pool.ntp.org iburst\nserver -4 time.example.org\n\
                    server 127.127.1.0\n#server old\n  peer 10.0.0.2\nSERVER upper\n\
                    \"server\" quoted\nserver \"192.0.2.3\"\nserver 1234\nserver\n";
        assert_eq!(
            hosts(text, Dialect::Classic),
            [
                "0.freebsd.pool.ntp.org",
                "time.example.org",
                "10.0.0.2",
                "192.0.2.3",
                "1234"
            ]
        );
    }

    #[test]
    fn an_option_without_its_number_drops_the_line() {
        let text = "server a bogus\nserver b minpoll\nserver c minpoll 4 iburst\n\
                    server d iburst 7\nserver e minpoll abc\nserver f version 4.5\n\
                    server g ttl\nserver h bias\nserver i minpoll 0x10\nserver j prefer minpoll\n";
        assert_eq!(hosts(text, Dialect::Classic), ["a", "c", "d", "h", "i"]);
        assert_eq!(hosts(text, Dialect::Ntpsec), ["a", "c", "d", "g", "i"]);
    }

    #[test]
    fn a_limited_reading_stops_one_past_the_limit() {
        let text = "# many\nserver x minpoll\n".to_string() + &"server a\n".repeat(10_000);
        let reading = crate::model::read_until(
            Path::new("/etc/ntp.conf"),
            text.as_bytes(),
            &map_files(HashMap::new()),
            Dialect::Classic,
            Some(3),
        )
        .unwrap();
        // The dropped `server x minpoll` line does not count.
        assert_eq!(associations(&reading, Dialect::Classic).len(), 4);
        assert_eq!(reading.lines.len(), 5);
    }

    #[test]
    fn includes_are_followed_and_end_stops() {
        let mut map = HashMap::new();
        map.insert(
            PathBuf::from("/etc/inc.conf"),
            b"peer 192.0.2.3\nserver -4 192.0.2.4\nend\nserver 192.0.2.5\n".to_vec(),
        );
        let text = b"server 192.0.2.1 iburst\n  pool 192.0.2.2\nincludefile /etc/inc.conf\nserver 192.0.2.9\n";
        let reading = crate::model::read(
            Path::new("/etc/ntp.conf"),
            text,
            &map_files(map),
            Dialect::Classic,
        )
        .unwrap();
        let found = associations(&reading, Dialect::Classic);
        let shown: Vec<(Kind, &str, &str, usize)> = found
            .iter()
            .map(|a| (a.kind, a.host.as_str(), a.file.to_str().unwrap(), a.line))
            .collect();
        assert_eq!(
            shown,
            [
                (Kind::Server, "192.0.2.1", "/etc/ntp.conf", 1),
                (Kind::Pool, "192.0.2.2", "/etc/ntp.conf", 2),
                (Kind::Peer, "192.0.2.3", "/etc/inc.conf", 1),
                (Kind::Server, "192.0.2.4", "/etc/inc.conf", 2),
            ]
        );
    }
}
