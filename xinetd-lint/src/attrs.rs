//! xinetd's attribute table (Debian 2.3.15.3 build): how many values each
//! attribute takes, which operators it allows, whether `defaults` may set
//! it, and the value parsers of `parsers.c` (reference §3.1, §4).

use std::net::IpAddr;

use crate::host::Host;

/// How many values an attribute takes, and whether `+=`/`-=` apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Count {
    One,
    Two,
    /// Any number, `=` only.
    Any,
    /// Any number; `=`, `+=`, `-=` (a list).
    List,
}

pub struct Attr {
    pub name: &'static str,
    pub count: Count,
    pub in_service: bool,
    pub in_defaults: bool,
}

const fn a(name: &'static str, count: Count, in_service: bool, in_defaults: bool) -> Attr {
    Attr {
        name,
        count,
        in_service,
        in_defaults,
    }
}

use Count::*;

pub const ATTRIBUTES: &[Attr] = &[
    a("socket_type", One, true, false),
    a("protocol", One, true, false),
    a("wait", One, true, false),
    a("user", One, true, false),
    a("group", One, true, false),
    a("server", One, true, false),
    a("server_args", Any, true, false),
    a("instances", One, true, true),
    a("per_source", One, true, true),
    a("cps", Two, true, true),
    a("log_type", Any, true, true),
    a("log_on_success", List, true, true),
    a("log_on_failure", List, true, true),
    a("only_from", List, true, true),
    a("no_access", List, true, true),
    a("access_times", Any, true, false),
    a("type", Any, true, false),
    a("flags", Any, true, false),
    a("id", One, true, false),
    a("port", One, true, false),
    a("rpc_version", One, true, false),
    a("rpc_number", One, true, false),
    a("env", List, true, false),
    a("passenv", List, true, true),
    a("nice", One, true, false),
    a("redirect", Two, true, false),
    a("bind", One, true, true),
    a("interface", One, true, true),
    a("banner", One, true, true),
    a("banner_success", One, true, true),
    a("banner_fail", One, true, true),
    a("groups", One, true, true),
    a("disable", One, true, false),
    a("max_load", One, true, true),
    a("rlimit_as", One, true, false),
    a("rlimit_cpu", One, true, false),
    a("rlimit_data", One, true, false),
    a("rlimit_files", One, true, false),
    a("rlimit_rss", One, true, false),
    a("rlimit_stack", One, true, false),
    a("v6only", One, true, true),
    a("deny_time", One, true, false),
    a("umask", One, true, true),
    a("libwrap", One, true, false),
    a("enabled", List, false, true),
    a("disabled", List, false, true),
];

/// Looks an attribute up the way xinetd does (case-insensitively).
pub fn lookup(name: &str) -> Option<&'static Attr> {
    ATTRIBUTES
        .iter()
        .find(|a| a.name.eq_ignore_ascii_case(name))
}

/// `bind` and `interface` are one attribute.
pub fn canonical(name: &'static str) -> &'static str {
    if name == "interface" { "bind" } else { name }
}

pub const SOCKET_TYPES: &[&str] = &["stream", "dgram", "raw", "seqpacket"];
pub const TYPES: &[&str] = &[
    "RPC",
    "INTERNAL",
    "UNLISTED",
    "TCPMUX",
    "TCPMUXPLUS",
    "SPECIAL",
];
pub const FLAGS: &[&str] = &[
    "REUSE",
    "INTERCEPT",
    "NORETRY",
    "IDONLY",
    "NAMEINARGS",
    "NODELAY",
    "KEEPALIVE",
    "NOLIBWRAP",
    "SENSOR",
    "IPv4",
    "IPv6",
    "LABELED",
];
pub const LOG_ON_SUCCESS: &[&str] = &["PID", "HOST", "USERID", "EXIT", "DURATION", "TRAFFIC"];
pub const LOG_ON_FAILURE: &[&str] = &["HOST", "USERID", "ATTEMPT"];
const FACILITIES: &[&str] = &[
    "daemon", "auth", "authpriv", "user", "mail", "lpr", "news", "uucp", "ftp", "local0", "local1",
    "local2", "local3", "local4", "local5", "local6", "local7",
];
const LEVELS: &[&str] = &[
    "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug",
];

fn one_of(word: &str, allowed: &[&str]) -> bool {
    allowed.iter().any(|a| a.eq_ignore_ascii_case(word))
}

/// strtol as xinetd uses it: optional blanks and sign, base 10, whole word.
pub fn integer(word: &str) -> Option<i64> {
    let w = word.trim_matches(|c| c == ' ' || c == '\t');
    let digits = w.strip_prefix('+').unwrap_or(w);
    if digits.is_empty()
        || !digits
            .trim_start_matches('-')
            .bytes()
            .all(|b| b.is_ascii_digit())
    {
        return None;
    }
    digits.parse().ok()
}

fn unsigned(word: &str) -> Option<u64> {
    integer(word).filter(|n| *n >= 0).map(|n| n as u64)
}

/// strtoull as xinetd's `parse_ull` uses it: leading white space, an
/// optional sign, base-10 digits, trailing white space.  A `-` negates
/// modulo 2^64 (`-1` is the largest value); only a magnitude beyond 64 bits
/// is an error.
pub fn strtoull(word: &str) -> Option<u64> {
    let is_space = |c: char| matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0b' | '\x0c');
    let w = word.trim_start_matches(is_space).trim_end_matches(is_space);
    let (negative, digits) = match w.as_bytes().first() {
        Some(b'-') => (true, &w[1..]),
        Some(b'+') => (false, &w[1..]),
        _ => (false, w),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let magnitude: u64 = digits.parse().ok()?;
    Some(if negative {
        magnitude.wrapping_neg()
    } else {
        magnitude
    })
}

/// xinetd's `get_limit`: a strtoull number with an optional k/K/m/M suffix,
/// refused when the multiplication overflows (so `-1` passes and means no
/// limit, `-5k` does not).
fn rlimit(word: &str) -> bool {
    let trimmed = word.trim_end_matches(|c: char| c.is_ascii_whitespace());
    let (body, multiplier) = match trimmed.as_bytes().last() {
        Some(b'k' | b'K') => (&trimmed[..trimmed.len() - 1], 1024u64),
        Some(b'm' | b'M') => (&trimmed[..trimmed.len() - 1], 1024 * 1024),
        _ => (trimmed, 1),
    };
    !word.is_empty() && strtoull(body).is_some_and(|v| v.checked_mul(multiplier).is_some())
}

/// A negative rlimit_* or cps number xinetd accepts and wraps (XL072).
pub fn wraps_negative(name: &str, values: &[String]) -> bool {
    let negative = |w: &str| w.trim_start().starts_with('-') && strtoull(w).is_some_and(|v| v != 0);
    match name {
        "cps" => values.iter().any(|v| negative(v)),
        n if n.starts_with("rlimit_") => values.first().is_some_and(|v| {
            !v.eq_ignore_ascii_case("UNLIMITED")
                && negative(v.trim_end_matches(['k', 'K', 'm', 'M']))
        }),
        _ => false,
    }
}

fn yes_no(word: &str) -> Option<bool> {
    if word.eq_ignore_ascii_case("yes") {
        Some(true)
    } else if word.eq_ignore_ascii_case("no") {
        Some(false)
    } else {
        None
    }
}

/// How an address list (only_from, no_access) came out.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct AddressList {
    /// Tokens xinetd drops with `failed to parse` (not fatal).
    pub dropped: Vec<String>,
    pub kept: usize,
}

/// The outcome of a value parser.
#[derive(Debug, PartialEq, Eq)]
pub enum Parsed {
    Ok,
    /// An address list: what was kept, what was dropped.
    Addresses(AddressList),
    /// xinetd's error text; the service is disabled (`DISABLING SERVICE`).
    Error(String),
}

/// Checks the values of one attribute line.  `host` answers the questions
/// that depend on the machine (users, protocols, executables, names).
pub fn parse_values(name: &str, op_is_remove: bool, values: &[String], host: &dyn Host) -> Parsed {
    use Parsed::*;
    let first = values.first().map(String::as_str).unwrap_or("");
    let err = |s: String| Error(s);
    match name {
        "socket_type" if !one_of(first, SOCKET_TYPES) => err(format!("Bad socket type: {first}")),
        "protocol" if !host.has_protocol(first) => {
            err(format!("Protocol {first} not in /etc/protocols"))
        }
        "wait" if yes_no(first).is_none() => err(format!("Bad value for wait: {first}")),
        "groups" if yes_no(first).is_none() => err(format!("Bad value for groups: {first}")),
        "v6only" if yes_no(first).is_none() => err(format!("Bad value for v6only: {first}")),
        "disable" if yes_no(first).is_none() => err(format!("Bad value: {first}")),
        "user" if !first.bytes().all(|b| b.is_ascii_digit()) && !host.has_user(first) => {
            err(format!("Unknown user: {first}"))
        }
        "group" if !first.bytes().all(|b| b.is_ascii_digit()) && !host.has_group(first) => {
            err(format!("Unknown group: {first}"))
        }
        "server" => match host.executable(first) {
            Result::Ok(()) => Ok,
            Result::Err(e) => err(e),
        },
        "server_args" | "log_type" | "access_times" | "type" | "flags" if values.is_empty() => err(
            format!("attribute {name} expects at least 1 value and none was given."),
        ),
        "instances" if !first.eq_ignore_ascii_case("UNLIMITED") && unsigned(first).is_none() => {
            err(format!("Number of instances is invalid: {first}"))
        }
        "per_source" if !first.eq_ignore_ascii_case("UNLIMITED") && unsigned(first).is_none() => {
            err(format!(
                "Number of per source instances is invalid: {first}"
            ))
        }
        "cps" if strtoull(first).is_none() => err("cps argument not a number".into()),
        "cps" if strtoull(&values[1]).is_none() => err("cps time argument not a number".into()),
        "log_type" => log_type(values),
        "log_on_success" => flag_list(values, LOG_ON_SUCCESS, "Bad log_on_success flag"),
        "log_on_failure" => flag_list(values, LOG_ON_FAILURE, "Bad log_on_failure flag"),
        "type" => flag_list(values, TYPES, "Bad service type"),
        "flags" => flag_list(values, FLAGS, "Bad service flag"),
        "only_from" | "no_access" => addresses(values, host),
        "access_times" => access_times(values),
        "port" if !integer(first).is_some_and(|p| (0..=65535).contains(&p)) => {
            err("port number is invalid".into())
        }
        "rpc_version" => rpc_version(first),
        "rpc_number" | "nice" if integer(first).is_none() => err(format!("Error parsing: {first}")),
        "env" if op_is_remove => err("operator '-=' not supported for env attribute".into()),
        "env" => match values.iter().find(|v| !v.contains('=')) {
            Some(v) => err(format!("{v} has no '='")),
            None => Ok,
        },
        "redirect" => redirect(values, host),
        "bind" | "interface" if !address_or_host(first, host) => err("bad address".into()),
        "max_load" => match first
            .trim()
            .split(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-' || c == '+'))
            .next()
        {
            Some(n) if n.parse::<f64>().is_ok_and(|v| v != 0.0) => Ok,
            _ => err("error parsing max_load argument".into()),
        },
        "rlimit_as" | "rlimit_data" | "rlimit_rss" | "rlimit_stack" | "rlimit_files"
            if !first.eq_ignore_ascii_case("UNLIMITED") && !rlimit(first) =>
        {
            let what = match name {
                "rlimit_as" => "Address space limit",
                "rlimit_data" => "Data limit",
                "rlimit_rss" => "RSS limit",
                "rlimit_stack" => "Stack limit",
                _ => "Max files limit",
            };
            err(format!("{what} is invalid: {first}"))
        }
        "rlimit_cpu" if !first.eq_ignore_ascii_case("UNLIMITED") && strtoull(first).is_none() => {
            err(format!("CPU limit is invalid: {first}"))
        }
        "deny_time" if !one_of(first, &["FOREVER", "NEVER"]) && integer(first).is_none() => {
            err(format!("Error parsing: {first}"))
        }
        "umask"
            if !(first.bytes().all(|b| (b'0'..=b'7').contains(&b))
                && !first.is_empty()
                && i64::from_str_radix(first, 8).is_ok_and(|v| v <= 0o777)) =>
        {
            err("umask argument is invalid.".into())
        }
        _ => Ok,
    }
}

fn flag_list(values: &[String], allowed: &[&str], message: &str) -> Parsed {
    match values.iter().find(|v| !one_of(v, allowed)) {
        Some(bad) => Parsed::Error(format!("{message}: {bad}")),
        None => Parsed::Ok,
    }
}

fn log_type(values: &[String]) -> Parsed {
    let err = |s: &str| Parsed::Error(s.to_string());
    let kind = values[0].as_str();
    if kind.eq_ignore_ascii_case("SYSLOG") {
        match values.len() {
            2 | 3 => {}
            _ => return err("wrong number of arguments"),
        }
        if !one_of(&values[1], FACILITIES) {
            return Parsed::Error(format!("Unknown syslog facility: {}", values[1]));
        }
        if let Some(level) = values.get(2)
            && !one_of(level, LEVELS)
        {
            return Parsed::Error(format!("Unknown syslog level: {level}"));
        }
        Parsed::Ok
    } else if kind.eq_ignore_ascii_case("FILE") {
        if !(2..=4).contains(&values.len()) {
            return err("wrong number of arguments");
        }
        let limit = |w: &str| -> Option<u64> {
            let (body, mult) = match w.chars().last() {
                Some('k' | 'K') => (&w[..w.len() - 1], 1024),
                Some('m' | 'M') => (&w[..w.len() - 1], 1024 * 1024),
                _ => (w, 1),
            };
            body.parse::<u64>().ok().map(|v| v * mult)
        };
        let soft = match values.get(2) {
            Some(s) => match limit(s) {
                Some(v) => Some(v),
                None => return err("soft limit is invalid"),
            },
            None => None,
        };
        if let Some(h) = values.get(3) {
            match (limit(h), soft) {
                (None, _) => return err("hard limit is invalid"),
                (Some(hard), Some(soft)) if hard < soft => {
                    return Parsed::Error(format!(
                        "hard limit ({hard}) is less than soft limit ({soft})"
                    ));
                }
                _ => {}
            }
        }
        Parsed::Ok
    } else {
        Parsed::Error(format!("Unknown log type: {kind}"))
    }
}

/// `H:MM-H:MM` intervals: hour 0–23, minute 0–59, start before end
/// (so the man page's own `12:00-24:00` is refused).
pub fn access_times(values: &[String]) -> Parsed {
    for v in values {
        let parse_time = |t: &str| -> Option<u32> {
            let (h, m) = t.split_once(':')?;
            let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
            // `then`, not `then_some`: the minutes are counted only for an
            // hour in range (200000003 * 60 overflows a u32).
            (h <= 23 && m <= 59).then(|| h * 60 + m)
        };
        let Some((a, b)) = v.split_once('-') else {
            return Parsed::Error(format!("invalid time interval: {v}"));
        };
        match (parse_time(a), parse_time(b)) {
            (Some(s), Some(e)) if s < e => {}
            (Some(_), Some(_)) => return Parsed::Error(format!("invalid time interval: {v}")),
            _ => return Parsed::Error(format!("incorrect time interval: {v}")),
        }
    }
    Parsed::Ok
}

fn rpc_version(word: &str) -> Parsed {
    let ok = match word.split_once('-') {
        Some((a, b)) => matches!((integer(a), integer(b)), (Some(a), Some(b)) if a <= b),
        None => integer(word).is_some(),
    };
    if ok {
        Parsed::Ok
    } else {
        Parsed::Error(format!("bad version range: {word}"))
    }
}

fn redirect(values: &[String], host: &dyn Host) -> Parsed {
    if !address_or_host(&values[0], host) {
        return Parsed::Error("bad address".into());
    }
    match integer(&values[1]) {
        Some(p) if p > 65535 => Parsed::Error("port number too large".into()),
        Some(p) if p < 1 => Parsed::Error("port number invalid".into()),
        Some(_) => Parsed::Ok,
        None if host.service_port(&values[1], "tcp").is_some() => Parsed::Ok,
        None => Parsed::Error("port number invalid".into()),
    }
}

fn address_or_host(word: &str, host: &dyn Host) -> bool {
    word.parse::<IpAddr>().is_ok() || host.resolves(word)
}

/// One only_from/no_access token: what xinetd's `addrlist` accepts.
fn address_token(token: &str, host: &dyn Host) -> Result<bool, String> {
    if token.contains(',') && !token.contains('{') {
        return Err(format!(
            "Address: {token} has a comma in it - remove the comma"
        ));
    }
    if let Some(open) = token.find('{') {
        // Factorised a.b.{c,d}: IPv4 only, braces last, no empty parts.
        let prefix = &token[..open];
        let inner = token[open + 1..].strip_suffix('}');
        let good = inner
            .is_some_and(|i| !i.is_empty() && i.split(',').all(|p| p.parse::<u8>().is_ok()))
            && prefix.ends_with('.')
            && prefix
                .trim_end_matches('.')
                .split('.')
                .all(|p| p.parse::<u8>().is_ok());
        if token.contains("..") {
            return Err(format!("Bad address: {token}. Consecutive dots"));
        }
        if token.contains(",,") {
            return Err(format!("Bad address: {token}. Consecutive commas"));
        }
        return if good {
            Ok(true)
        } else {
            Err(format!("Bad address: {token}"))
        };
    }
    let (addr, bits) = match token.split_once('/') {
        Some((a, b)) => (a, Some(b)),
        None => (token, None),
    };
    if let Some(bits) = bits {
        let max = if addr.contains(':') { 128 } else { 32 };
        let ok = addr.parse::<IpAddr>().is_ok() && bits.parse::<u32>().is_ok_and(|b| b <= max);
        return Ok(ok);
    }
    if addr.parse::<IpAddr>().is_ok() {
        return Ok(true);
    }
    // `.domain.suffix` matches by name at connection time; a leading dot
    // with only digits and dots falls through to the factorised parser.
    if addr.starts_with('.') && !addr.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return Ok(true);
    }
    if factorised_prefix_has_double_dot(token) && !host.network(addr) && !host.resolves(addr) {
        return Err(format!("Bad address: {token}. Consecutive dots"));
    }
    // Numeric IPv4 with trailing zero octets left out is not accepted; a
    // dotted quad with fewer parts (`127.0.0.`) fails to parse.
    if addr.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return Ok(false);
    }
    Ok(host.network(addr) || host.resolves(addr))
}

/// xinetd's last resort, `factorized_addr`, reads digits and dots up to a
/// `{` with a dot assumed before the first character: two dots in a row
/// there (`10..1`, `.1`) are an error that disables the service, while
/// any other character first makes it give up quietly (`failed to parse`).
fn factorised_prefix_has_double_dot(token: &str) -> bool {
    let mut last = b'.';
    for b in token.bytes() {
        match b {
            b'{' => return false,
            b'0'..=b'9' => {}
            b'.' if last == b'.' => return true,
            b'.' => {}
            _ => return false,
        }
        last = b;
    }
    false
}

fn addresses(values: &[String], host: &dyn Host) -> Parsed {
    let mut list = AddressList::default();
    for v in values {
        match address_token(v, host) {
            Err(e) => return Parsed::Error(e),
            Ok(true) => list.kept += 1,
            Ok(false) => list.dropped.push(v.clone()),
        }
    }
    Parsed::Addresses(list)
}

/// Services xinetd itself implements (`builtins.c`), by name and socket type.
pub fn is_builtin(name: &str, socket_type: &str) -> bool {
    let n = name.to_ascii_lowercase();
    match socket_type {
        "stream" => matches!(
            n.as_str(),
            "echo" | "discard" | "time" | "daytime" | "chargen" | "tcpmux"
        ),
        "dgram" => matches!(
            n.as_str(),
            "echo" | "discard" | "time" | "daytime" | "chargen"
        ),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::tests::FakeHost;

    fn check(name: &str, values: &[&str]) -> Parsed {
        let values: Vec<String> = values.iter().map(|v| v.to_string()).collect();
        parse_values(name, false, &values, &FakeHost)
    }

    fn is_err(p: Parsed) -> bool {
        matches!(p, Parsed::Error(_))
    }

    #[test]
    fn enums_are_case_insensitive() {
        assert_eq!(check("socket_type", &["STREAM"]), Parsed::Ok);
        assert_eq!(check("wait", &["No"]), Parsed::Ok);
        assert_eq!(check("log_type", &["syslog", "DAEMON", "Info"]), Parsed::Ok);
        assert!(is_err(check("socket_type", &["stream\r"])));
        assert!(is_err(check("wait", &["maybe"])));
    }

    #[test]
    fn numbers_and_limits() {
        assert_eq!(check("instances", &["UNLIMITED"]), Parsed::Ok);
        assert_eq!(check("instances", &["+5"]), Parsed::Ok);
        assert!(is_err(check("instances", &["-1"])));
        assert!(is_err(check("port", &["65536"])));
        assert_eq!(check("rlimit_as", &["64M"]), Parsed::Ok);
        assert!(is_err(check("rlimit_as", &["1G"])));
        assert!(is_err(check("rlimit_cpu", &["20k"])));
        // strtoull takes a sign and wraps it: accepted, and flagged XL072.
        assert_eq!(check("rlimit_cpu", &["-1"]), Parsed::Ok);
        assert_eq!(check("rlimit_as", &["-1"]), Parsed::Ok);
        assert!(is_err(check("rlimit_as", &["-5k"])));
        assert_eq!(check("cps", &["-1", "5"]), Parsed::Ok);
        assert!(wraps_negative("cps", &["10".into(), "-2".into()]));
        assert!(!wraps_negative("rlimit_as", &["-0".into()]));
        assert!(is_err(check("umask", &["0999"])));
        assert_eq!(check("umask", &["022"]), Parsed::Ok);
        assert!(is_err(check("cps", &["25", "x"])));
        assert!(is_err(check("log_type", &["FILE", "/x", "10", "5"])));
    }

    #[test]
    fn access_times_refuse_24_00() {
        assert_eq!(
            check("access_times", &["2:00-8:59", "12:00-23:59"]),
            Parsed::Ok
        );
        assert!(is_err(check("access_times", &["12:00-24:00"])));
        assert!(is_err(check("access_times", &["08:00-07:00"])));
    }

    /// An hour far out of range is an error, not an overflow in the
    /// minute count (xinetd_config's long fuzz run found it).
    #[test]
    fn access_times_hours_past_u32_minutes_are_refused() {
        for value in ["2:00-200000003:59", "4294967295:00-4294967295:59"] {
            assert_eq!(
                check("access_times", &[value]),
                Parsed::Error(format!("incorrect time interval: {value}"))
            );
        }
    }

    #[test]
    fn address_lists() {
        assert_eq!(
            check(
                "only_from",
                &["10.0.0.0/8", "::1", "192.168.{1,2}", ".example.com"]
            ),
            Parsed::Addresses(AddressList {
                dropped: vec![],
                kept: 4
            })
        );
        assert!(
            matches!(check("only_from", &["10.0.0.1,", "10.0.0.2"]), Parsed::Error(e) if e.contains("comma"))
        );
        for dots in ["10..1", "127.0.0.1 10..1", ".1", "1..2.3"] {
            let words: Vec<&str> = dots.split(' ').collect();
            assert!(
                matches!(check("no_access", &words), Parsed::Error(e) if e.contains("Consecutive dots")),
                "{dots}"
            );
        }
        assert!(matches!(
            check("only_from", &["a..b"]),
            Parsed::Addresses(_)
        ));
        assert_eq!(
            check("only_from", &["127.0.0.", "#", "office"]),
            Parsed::Addresses(AddressList {
                dropped: vec!["127.0.0.".into(), "#".into(), "office".into()],
                kept: 0
            })
        );
    }

    #[test]
    fn builtins() {
        assert!(is_builtin("echo", "stream"));
        assert!(is_builtin("daytime", "dgram"));
        assert!(!is_builtin("servers", "stream"));
        assert!(!is_builtin("tcpmux", "dgram"));
    }
}
