//! chrony.conf as chronyd reads it, for what the toolkit asks of it: when
//! chronyd steps the clock (`makestep`), how fast it slews (`maxslewrate`),
//! its servers, and the lines on which chronyd exits at start.
//!
//! chronyd reads one directive per line (names in any case); a line whose
//! first non-blank character is one of `!;#%` is a comment.  `include
//! PATTERN` reads the files a glob names; `confdir DIR...` reads `*.conf` of
//! each directory, in name order, a name found in an earlier directory
//! hiding the same name in a later one; `sourcedir DIR...` reads only
//! `server`/`pool`/`peer` lines from `*.sources`.  chronyd exits ("Fatal
//! error") on a directive with the wrong number of arguments or a value it
//! cannot scan (conf.c: check_number_of_args, command_parse_error).  Used by
//! ntpconf-edit check (the counterpart of ntpd's `tinker step`) and
//! clockcheck env.

use std::io;
use std::path::{Path, PathBuf};

use crate::root::Root;

/// Where chrony's packages put the file: Debian, RHEL, FreeBSD's port.
pub const CHRONY_CONFS: [&str; 3] = [
    "/etc/chrony/chrony.conf",
    "/etc/chrony.conf",
    "/usr/local/etc/chrony.conf",
];

/// chronyd's slew limit when `maxslewrate` is not given (one twelfth).
pub const DEFAULT_MAX_SLEW_PPM: f64 = 83_333.333;

/// Files read through include/confdir/sourcedir at most (chronyd has no
/// limit; a loop of includes must not make us read forever).
const MAX_FILES: usize = 256;

/// A place in a file (a jail path, 1-based line and column).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct At {
    pub file: PathBuf,
    pub line: usize,
    pub column: usize,
}

/// `makestep THRESHOLD LIMIT`: step when off by more than THRESHOLD seconds,
/// during the first LIMIT clock updates only; a negative LIMIT: at any time.
#[derive(Clone, Debug, PartialEq)]
pub struct MakeStep {
    pub threshold: f64,
    pub limit: i64,
    pub at: At,
}

impl MakeStep {
    /// Steps (backwards too) whenever the offset is over the threshold,
    /// not only after chronyd starts.
    pub fn at_any_time(&self) -> bool {
        self.limit < 0
    }
}

/// A `server`, `pool` or `peer` line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Source {
    pub kind: String,
    pub host: String,
    pub at: At,
}

/// A line chronyd exits on, with chronyd's reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fatal {
    pub message: String,
    pub at: At,
}

/// What the toolkit knows of one chrony.conf and the files it pulls in.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ChronyConf {
    /// The main file (jail path).
    pub file: PathBuf,
    /// The last `makestep` line that parsed (chronyd keeps the last).
    pub makestep: Option<MakeStep>,
    /// The last `maxslewrate`, ppm, and where.
    pub max_slew: Option<(f64, At)>,
    /// `rtcsync`: the kernel copies the system time to the RTC (Linux).
    pub rtcsync: bool,
    pub sources: Vec<Source>,
    pub fatal: Vec<Fatal>,
    /// Files read, in order (jail paths).
    pub files: Vec<PathBuf>,
    /// Included files that could not be read (`path: error`).
    pub unreadable: Vec<String>,
}

impl ChronyConf {
    /// The first of [`CHRONY_CONFS`] that exists under `root`.
    pub fn find(root: &Root) -> Option<PathBuf> {
        CHRONY_CONFS
            .iter()
            .map(PathBuf::from)
            .find(|p| root.metadata(p).is_ok())
    }

    /// Reads `jail` and what it includes; an error only when the main file
    /// cannot be read.
    pub fn read(root: &Root, jail: &Path) -> io::Result<ChronyConf> {
        let bytes = root.read_config(jail)?;
        let mut conf = ChronyConf {
            file: jail.to_path_buf(),
            ..ChronyConf::default()
        };
        conf.files.push(jail.to_path_buf());
        conf.parse(root, jail, &String::from_utf8_lossy(&bytes), Lines::All);
        Ok(conf)
    }

    /// The slew rate chronyd can reach on this system, ppm: on FreeBSD (and
    /// NetBSD, macOS) a kernel limit makes anything from 500 ppm up act as
    /// 500 ppm (chrony.conf(5), maxslewrate).
    pub fn effective_slew_ppm(&self, freebsd: bool) -> f64 {
        let asked = self
            .max_slew
            .as_ref()
            .map_or(DEFAULT_MAX_SLEW_PPM, |(v, _)| *v);
        if freebsd {
            asked.min(500.0)
        } else {
            asked.min(100_000.0)
        }
    }

    fn parse(&mut self, root: &Root, file: &Path, text: &str, lines: Lines) {
        for (index, line) in text.lines().enumerate() {
            let column = line.len() - line.trim_start().len() + 1;
            let words: Vec<&str> = line.split_whitespace().collect();
            let Some(first) = words.first() else { continue };
            if first.starts_with(['!', ';', '#', '%']) {
                continue;
            }
            let at = At {
                file: file.to_path_buf(),
                line: index + 1,
                column,
            };
            let name = first.to_ascii_lowercase();
            let args = &words[1..];
            if lines == Lines::SourcesOnly && !matches!(name.as_str(), "server" | "pool" | "peer") {
                continue;
            }
            match name.as_str() {
                "makestep" => self.makestep(args, at),
                "maxslewrate" => match exact_args(args, 1).and_then(|_| scan_double(args[0])) {
                    Ok(v) => self.max_slew = Some((v, at)),
                    Err(why) => self.fatal(&name, why, at),
                },
                "rtcsync" => self.rtcsync = true,
                "server" | "pool" | "peer" => match args.first() {
                    Some(host) => self.sources.push(Source {
                        kind: name,
                        host: host.to_string(),
                        at,
                    }),
                    None => self.fatal(&name, "Missing arguments", at),
                },
                "include" => match exact_args(args, 1) {
                    Ok(()) => {
                        let files = glob(root, args[0]);
                        self.read_files(root, &files, Lines::All);
                    }
                    Err(why) => self.fatal(&name, why, at),
                },
                "confdir" | "sourcedir" if !args.is_empty() => {
                    let (suffix, lines) = if name == "confdir" {
                        (".conf", Lines::All)
                    } else {
                        (".sources", Lines::SourcesOnly)
                    };
                    let files = dir_files(root, args, suffix);
                    self.read_files(root, &files, lines);
                }
                "confdir" | "sourcedir" => self.fatal(&name, "Missing arguments", at),
                _ => {}
            }
        }
    }

    /// conf.c parse_makestep: two arguments, `sscanf("%lf %d")`.
    fn makestep(&mut self, args: &[&str], at: At) {
        let parsed = exact_args(args, 2).and_then(|_| {
            // One sscanf over the rest of the line: what %lf leaves of the
            // first word is where %d must start, so it has to be all of it.
            let (threshold, used) = scan_double_prefix(args[0])?;
            if used != args[0].len() {
                return Err("Could not parse");
            }
            let limit = scan_int(args[1])?;
            Ok((threshold, limit))
        });
        match parsed {
            Ok((threshold, limit)) => {
                self.makestep = Some(MakeStep {
                    threshold,
                    limit,
                    at,
                })
            }
            Err(why) => self.fatal("makestep", why, at),
        }
    }

    fn fatal(&mut self, directive: &str, why: &str, at: At) {
        self.fatal.push(Fatal {
            message: format!("{why} for {directive} directive"),
            at,
        });
    }

    fn read_files(&mut self, root: &Root, files: &[PathBuf], lines: Lines) {
        for file in files {
            if self.files.len() >= MAX_FILES || self.files.contains(file) {
                continue;
            }
            self.files.push(file.clone());
            match root.read_config(file) {
                Ok(bytes) => self.parse(root, file, &String::from_utf8_lossy(&bytes), lines),
                Err(e) => self.unreadable.push(e.to_string()),
            }
        }
    }
}

/// Which lines of a file count: all, or a sourcedir's server/pool/peer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Lines {
    All,
    SourcesOnly,
}

/// conf.c check_number_of_args: chronyd exits on too few or too many.
fn exact_args(args: &[&str], wanted: usize) -> Result<(), &'static str> {
    match args.len().cmp(&wanted) {
        std::cmp::Ordering::Less => Err("Missing arguments"),
        std::cmp::Ordering::Greater => Err("Too many arguments"),
        std::cmp::Ordering::Equal => Ok(()),
    }
}

/// `sscanf("%lf")` on one word: a decimal or hex float, `inf`, `nan`, from
/// the word's start (what follows is left for the next conversion).
fn scan_double(word: &str) -> Result<f64, &'static str> {
    scan_double_prefix(word).map(|(value, _)| value)
}

/// The value and how many bytes glibc's scanf consumes: it reads greedily,
/// so a dangling exponent (`1e`, `1e+`) is consumed with the number.
fn scan_double_prefix(word: &str) -> Result<(f64, usize), &'static str> {
    let bytes = word.as_bytes();
    let negative = bytes.first() == Some(&b'-');
    let start = usize::from(matches!(bytes.first(), Some(b'+' | b'-')));
    let signed = |v: f64| if negative { -v } else { v };
    let lower = word[start..].to_ascii_lowercase();
    for special in ["infinity", "inf", "nan"] {
        if lower.starts_with(special) {
            let value = if special == "nan" {
                f64::NAN
            } else {
                f64::INFINITY
            };
            return Ok((signed(value), start + special.len()));
        }
    }
    if let Some(hex) = lower.strip_prefix("0x") {
        // A hex float: its integer part is enough for the values that matter here.
        let digits: String = hex.chars().take_while(char::is_ascii_hexdigit).collect();
        let value =
            u64::from_str_radix(&digits[..digits.len().min(15)], 16).map_or(0.0, |v| v as f64);
        return Ok((signed(value), start + 2 + digits.len()));
    }
    let digits_from = |mut i: usize| {
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        i
    };
    let mut end = digits_from(start);
    let mut digits = end - start;
    if end < bytes.len() && bytes[end] == b'.' {
        let fraction_end = digits_from(end + 1);
        digits += fraction_end - end - 1;
        end = fraction_end;
    }
    if digits == 0 {
        return Err("Could not parse");
    }
    let mantissa_end = end;
    let mut value_end = end;
    if end < bytes.len() && (bytes[end] == b'e' || bytes[end] == b'E') {
        end += 1;
        if end < bytes.len() && (bytes[end] == b'+' || bytes[end] == b'-') {
            end += 1;
        }
        let exponent_end = digits_from(end);
        if exponent_end > end {
            value_end = exponent_end;
        }
        end = exponent_end;
    }
    let text = &word[..value_end.max(mantissa_end)];
    Ok((text.parse::<f64>().unwrap_or(0.0), end))
}

/// `sscanf("%d")` on one word: an optional sign and decimal digits from the
/// word's start; an out-of-range value is what glibc gives (wrapped, as
/// strtol's result converted to int), which no real file relies on: we clamp.
fn scan_int(word: &str) -> Result<i64, &'static str> {
    let (sign, digits) = match word.as_bytes().first() {
        Some(b'-') => (-1, &word[1..]),
        Some(b'+') => (1, &word[1..]),
        _ => (1, word),
    };
    let digits: String = digits.chars().take_while(char::is_ascii_digit).collect();
    if digits.is_empty() {
        return Err("Could not parse");
    }
    let value = digits.parse::<i64>().unwrap_or(i64::from(i32::MAX));
    Ok((sign * value).clamp(i64::from(i32::MIN), i64::from(i32::MAX)))
}

/// The files a glob names (a `*` or `?` in the last component only, as
/// chrony's packages use it: `/etc/chrony/conf.d/*.conf`), in name order.
fn glob(root: &Root, pattern: &str) -> Vec<PathBuf> {
    let path = Path::new(pattern);
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
        return Vec::new();
    };
    let name = name.to_string_lossy();
    if !name.contains(['*', '?']) {
        return vec![path.to_path_buf()];
    }
    let mut names: Vec<String> = root
        .read_dir(dir)
        .unwrap_or_default()
        .into_iter()
        .map(|n| n.to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.') && wildcard(&name, n))
        .collect();
    names.sort();
    names.into_iter().map(|n| dir.join(n)).collect()
}

/// `*.SUFFIX` of each directory in name order; a name seen in an earlier
/// directory hides the same name in a later one (confdir's rule).
fn dir_files(root: &Root, dirs: &[&str], suffix: &str) -> Vec<PathBuf> {
    let mut chosen: Vec<(String, PathBuf)> = Vec::new();
    for dir in dirs {
        for name in root.read_dir(Path::new(dir)).unwrap_or_default() {
            let name = name.to_string_lossy().into_owned();
            if name.ends_with(suffix)
                && !name.starts_with('.')
                && !chosen.iter().any(|(n, _)| *n == name)
            {
                chosen.push((name.clone(), Path::new(dir).join(&name)));
            }
        }
    }
    chosen.sort();
    chosen.into_iter().map(|(_, p)| p).collect()
}

/// `*` and `?` wildcards, as fnmatch without classes.
fn wildcard(pattern: &str, name: &str) -> bool {
    let (p, n): (Vec<char>, Vec<char>) = (pattern.chars().collect(), name.chars().collect());
    let (mut pi, mut ni, mut star, mut mark) = (0, 0, None, 0);
    while ni < n.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == n[ni]) {
            pi += 1;
            ni += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ni;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ni = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::tree;

    fn read(files: &[(&str, &str)]) -> ChronyConf {
        let dir = tree(files);
        let root = Root::new(dir.path()).unwrap();
        let main = ChronyConf::find(&root).unwrap();
        ChronyConf::read(&root, &main).unwrap()
    }

    #[test]
    fn debian_default_steps_at_start_only() {
        let conf = read(&[
            (
                "etc/chrony/chrony.conf",
                "# Debian\npool 2.debian.pool.ntp.org iburst\nconfdir /etc/chrony/conf.d\n\
                 sourcedir /etc/chrony/sources.d\nmakestep 1 3\nrtcsync\n",
            ),
            (
                "etc/chrony/sources.d/local.sources",
                "server ntp.example.org iburst\nmakestep 1 -1\n",
            ),
            ("etc/chrony/conf.d/slew.conf", "maxslewrate 500\n"),
        ]);
        let step = conf.makestep.as_ref().unwrap();
        assert_eq!((step.threshold, step.limit), (1.0, 3));
        assert!(!step.at_any_time());
        assert_eq!(step.at.line, 5);
        assert!(conf.rtcsync);
        let hosts: Vec<&str> = conf.sources.iter().map(|s| s.host.as_str()).collect();
        assert_eq!(hosts, ["2.debian.pool.ntp.org", "ntp.example.org"]);
        assert_eq!(conf.max_slew.as_ref().unwrap().0, 500.0);
        assert!(conf.fatal.is_empty());
    }

    #[test]
    fn the_last_makestep_wins_and_a_bad_one_is_fatal() {
        let conf = read(&[(
            "etc/chrony.conf",
            "makestep 1 3\nMakeStep 0.5 -1\nmakestep 1\nmakestep x 3\nmakestep 1 3 4\n",
        )]);
        let step = conf.makestep.unwrap();
        assert_eq!((step.threshold, step.limit, step.at.line), (0.5, -1, 2));
        let fatal: Vec<(usize, &str)> = conf
            .fatal
            .iter()
            .map(|f| (f.at.line, f.message.as_str()))
            .collect();
        assert_eq!(
            fatal,
            [
                (3, "Missing arguments for makestep directive"),
                (4, "Could not parse for makestep directive"),
                (5, "Too many arguments for makestep directive"),
            ]
        );
    }

    #[test]
    fn scanning_is_sscanf_s() {
        assert_eq!(scan_double("1.5x"), Ok(1.5));
        assert_eq!(scan_double("1e3"), Ok(1000.0));
        assert_eq!(scan_double("-.5"), Ok(-0.5));
        assert!(scan_double("x1").is_err());
        assert!(scan_double(".").is_err());
        assert_eq!(scan_double_prefix("1e"), Ok((1.0, 2)));
        assert_eq!(scan_double_prefix("1.5x"), Ok((1.5, 3)));
        assert_eq!(scan_double_prefix("0x10"), Ok((16.0, 4)));
        assert_eq!(scan_int("3x"), Ok(3));
        assert_eq!(scan_int("-1"), Ok(-1));
        assert!(scan_int("1.5").is_ok());
        assert!(scan_int("x").is_err());
    }

    #[test]
    fn include_loops_end() {
        let conf = read(&[
            ("etc/chrony.conf", "include /etc/chrony.d/*.conf\n"),
            (
                "etc/chrony.d/a.conf",
                "include /etc/chrony.conf\ninclude /etc/chrony.d/*.conf\nmakestep 2 -1\n",
            ),
        ]);
        assert_eq!(conf.files.len(), 2);
        assert_eq!(conf.makestep.unwrap().threshold, 2.0);
    }

    #[test]
    fn wildcards() {
        assert!(wildcard("*.conf", "a.conf"));
        assert!(!wildcard("*.conf", "a.conf.bak"));
        assert!(wildcard("a?c", "abc"));
    }
}
