//! What ntpd reads from an ntp.conf: the tinker lines in reading order,
//! following `includefile`, stopping at `end`, and the settings that win.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::doc::{Document, tokenize};
use crate::tinker::{Pair, Tinker, classify, is_end};

/// ntpd's include nesting limit.
pub const MAX_INCLUDE_DEPTH: usize = 5;

/// How the model reaches files: the real file system under `--root`, or a
/// map in tests.  `resolve` turns an `includefile` argument into a path.
pub trait Files {
    fn read(&self, path: &Path) -> std::io::Result<Vec<u8>>;
    fn resolve(&self, including_file: &Path, argument: &str) -> PathBuf;
}

/// One line ntpd reads, with where it came from.
#[derive(Clone, Debug)]
pub struct ReadLine {
    pub file: PathBuf,
    /// 1-based.
    pub line: usize,
    pub text: Vec<u8>,
    pub tinker: Tinker,
    /// Depth of includes: 0 for the main file.
    pub depth: usize,
}

/// Something about the reading itself (not a single tinker line).
#[derive(Clone, Debug)]
pub enum ReadNote {
    /// A line after `end`: ntpd never reads it.  Only tinker lines are kept.
    AfterEnd(ReadLine),
    /// `includefile` at this place, and what became of it.
    Include {
        file: PathBuf,
        line: usize,
        target: PathBuf,
        problem: Option<String>,
    },
}

#[derive(Clone, Debug, Default)]
pub struct Reading {
    pub lines: Vec<ReadLine>,
    pub notes: Vec<ReadNote>,
}

/// Reads `main` (already loaded as `bytes`) and everything it includes.
pub fn read(main: &Path, bytes: &[u8], files: &dyn Files) -> Reading {
    let mut reading = Reading::default();
    let mut ended = false;
    read_into(main, bytes, 0, files, &mut reading, &mut ended);
    reading
}

fn read_into(
    file: &Path,
    bytes: &[u8],
    depth: usize,
    files: &dyn Files,
    out: &mut Reading,
    ended: &mut bool,
) {
    let doc = Document::parse(bytes);
    for (index, line) in doc.lines.iter().enumerate() {
        let read_line = ReadLine {
            file: file.to_path_buf(),
            line: index + 1,
            text: line.text.clone(),
            tinker: classify(&line.text),
            depth,
        };
        if *ended {
            // Only the main file is read past an `end` in an include (never),
            // so this only ever records lines of the file that said `end`.
            if !matches!(read_line.tinker, Tinker::Other) {
                out.notes.push(ReadNote::AfterEnd(read_line));
            }
            continue;
        }
        if is_end(&line.text) {
            *ended = true;
            continue;
        }
        if let Some(argument) = include_argument(&line.text) {
            let target = files.resolve(file, &argument);
            let problem = if depth + 1 > MAX_INCLUDE_DEPTH {
                Some(format!(
                    "nested deeper than {MAX_INCLUDE_DEPTH} includes; ntpd skips it"
                ))
            } else {
                match files.read(&target) {
                    Ok(included) => {
                        read_into(&target, &included, depth + 1, files, out, ended);
                        None
                    }
                    Err(err) => Some(format!("cannot be read ({err}); ntpd skips it")),
                }
            };
            out.notes.push(ReadNote::Include {
                file: file.to_path_buf(),
                line: index + 1,
                target,
                problem,
            });
            // An `end` inside an include ends the whole reading, but the
            // rest of *this* file is then still recorded as after-end.
            continue;
        }
        out.lines.push(read_line);
    }
}

fn include_argument(text: &[u8]) -> Option<String> {
    let tokens = tokenize(text);
    let first = tokens.first()?;
    if &text[first.range.clone()] != b"includefile" {
        return None;
    }
    let arg = tokens.get(1)?;
    let raw = &text[arg.range.clone()];
    let raw = if arg.quoted {
        raw.strip_prefix(b"\"").unwrap_or(raw)
    } else {
        raw
    };
    let raw = raw.strip_suffix(b"\"").unwrap_or(raw);
    Some(String::from_utf8_lossy(raw).into_owned())
}

/// A tinker setting as ntpd ends up with it.
#[derive(Clone, Debug, PartialEq)]
pub struct Setting {
    pub key: String,
    /// The value as written on the winning line.
    pub written: String,
    /// The value ntpd applies (`stepout` below 300 becomes 300).
    pub applied: f64,
    pub file: PathBuf,
    pub line: usize,
}

/// The last occurrence of each key wins; `step` also sets `stepback` and
/// `stepfwd` when those are mentioned anywhere.
pub fn effective(reading: &Reading) -> BTreeMap<String, Setting> {
    let mut out: BTreeMap<String, Setting> = BTreeMap::new();
    let mentioned = |key: &str| {
        reading.lines.iter().any(|l| match &l.tinker {
            Tinker::Applied { pairs, .. } => pairs.iter().any(|p| p.key == key),
            _ => false,
        })
    };
    let directions: Vec<&str> = ["stepback", "stepfwd"]
        .into_iter()
        .filter(|k| mentioned(k))
        .collect();
    for line in &reading.lines {
        let Tinker::Applied { pairs, .. } = &line.tinker else {
            continue;
        };
        for Pair { key, value, .. } in pairs {
            let setting = |key: &str| Setting {
                key: key.to_string(),
                written: value.clone(),
                applied: applied_value(key, value),
                file: line.file.clone(),
                line: line.line,
            };
            out.insert(key.clone(), setting(key));
            if key == "step" {
                for direction in &directions {
                    out.insert(direction.to_string(), setting(direction));
                }
            }
        }
    }
    out
}

/// The number ntpd uses for a written value.
pub fn applied_value(key: &str, written: &str) -> f64 {
    let value: f64 = written.parse().unwrap_or(f64::NAN);
    if key == "stepout" && value < 300.0 {
        300.0
    } else {
        value
    }
}

/// Formats an applied value the short way (`0`, `0.5`, `300`).
pub fn format_value(value: f64) -> String {
    let text = format!("{value}");
    if text == "-0" { "0".into() } else { text }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::collections::HashMap;

    pub struct MapFiles(pub HashMap<PathBuf, Vec<u8>>);

    impl Files for MapFiles {
        fn read(&self, path: &Path) -> std::io::Result<Vec<u8>> {
            self.0
                .get(path)
                .cloned()
                .ok_or_else(|| std::io::ErrorKind::NotFound.into())
        }
        fn resolve(&self, including: &Path, argument: &str) -> PathBuf {
            including.parent().unwrap_or(Path::new("/")).join(argument)
        }
    }

    fn settings(text: &str) -> BTreeMap<String, Setting> {
        let files = MapFiles(HashMap::new());
        effective(&read(Path::new("/etc/ntp.conf"), text.as_bytes(), &files))
    }

    #[test]
    fn last_occurrence_wins() {
        let s = settings("tinker panic 5\ntinker panic 0\n");
        assert_eq!(s["panic"].written, "0");
        assert_eq!(s["panic"].line, 2);
    }

    #[test]
    fn end_stops_reading() {
        let s = settings("server a\nend\ntinker panic 0\n");
        assert!(s.is_empty());
    }

    #[test]
    fn dropped_lines_apply_nothing() {
        assert!(settings("tinker panic 0 step\n").is_empty());
    }

    #[test]
    fn step_resets_both_directions() {
        let s = settings("tinker stepback 0\ntinker step 0.5\n");
        assert_eq!(s["stepback"].applied, 0.5);
        assert!(!s.contains_key("stepfwd"));
    }

    #[test]
    fn stepout_is_raised_to_300() {
        assert_eq!(settings("tinker stepout 60\n")["stepout"].applied, 300.0);
    }

    #[test]
    fn includes_are_followed_in_order() {
        let mut map = HashMap::new();
        map.insert(
            PathBuf::from("/etc/extra.conf"),
            b"tinker panic 7\n".to_vec(),
        );
        let files = MapFiles(map);
        let text = b"tinker panic 0\nincludefile extra.conf\n";
        let s = effective(&read(Path::new("/etc/ntp.conf"), text, &files));
        assert_eq!(s["panic"].written, "7");
        assert_eq!(s["panic"].file, Path::new("/etc/extra.conf"));
    }

    #[test]
    fn include_loops_are_bounded() {
        let mut map = HashMap::new();
        map.insert(
            PathBuf::from("/etc/loop.conf"),
            b"includefile loop.conf\ntinker panic 1\n".to_vec(),
        );
        let files = MapFiles(map);
        let r = read(
            Path::new("/etc/ntp.conf"),
            b"includefile loop.conf\n",
            &files,
        );
        assert!(r.notes.iter().any(|n| matches!(
            n,
            ReadNote::Include {
                problem: Some(_),
                ..
            }
        )));
        assert_eq!(r.lines.len(), MAX_INCLUDE_DEPTH);
    }
}
