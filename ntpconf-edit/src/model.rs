//! What ntpd reads from an ntp.conf: the tinker lines in reading order,
//! following `includefile` (and NTPsec's `ntp.d`), stopping at `end`, and the
//! settings that win.
//!
//! Reading is bounded: each file (device, inode) is read from disk once and
//! its text reused when it is included again, and the whole expansion stops
//! at a budget of files and bytes with an error (20 lines of `includefile
//! ntp.conf` would otherwise expand 20^5 times).

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use crate::tinker::{Dialect, Pair, Tinker, applied_value, classify_line, is_end, lex};

/// ntpd's include nesting limit.
pub const MAX_INCLUDE_DEPTH: usize = 5;
/// Included files expanded in one reading, at most.
pub const MAX_EXPANDED_FILES: usize = 2_000;
/// Bytes expanded in one reading, at most (the main file included).
pub const MAX_EXPANDED_BYTES: u64 = crate::conventions::MAX_CONFIG_BYTES;

/// How the model reaches files: a `--root` tree ([`mailhost_common::root::Root`]),
/// or [`mailhost_common::files::MemoryFiles`] in tests.  Paths are jail
/// paths (absolute, as ntpd in the jail sees them); only regular files are
/// read (FIFOs and devices are refused), and the lines kept are drawn from
/// the run's budget ([`Files::hold`]).
pub use mailhost_common::files::{FileId, Files};

/// The names in a directory, or `None` when `jail` is not a directory.
fn dir_names(files: &dyn Files, jail: &Path) -> Option<Vec<String>> {
    if !files.is_dir(jail) {
        return None;
    }
    let names = files.read_dir(jail).ok()?;
    Some(
        names
            .into_iter()
            .map(|n| n.to_string_lossy().into_owned())
            .collect(),
    )
}

/// One line ntpd reads, with where it came from.
#[derive(Clone, Debug)]
pub struct ReadLine {
    /// The display path of its file.
    pub file: PathBuf,
    /// 1-based.
    pub line: usize,
    pub text: Vec<u8>,
    pub tinker: Tinker,
    /// A top-level `tick N` command: ntpd applies it (LOOP_TICK) after
    /// every tinker pair.
    pub tick_command: Option<Box<Pair>>,
    /// Depth of includes: 0 for the main file.
    pub depth: usize,
}

/// Something about the reading itself (not a single tinker line).
#[derive(Clone, Debug)]
pub enum ReadNote {
    /// A line after `end`: ntpd never reads it.  Only tinker lines are kept.
    AfterEnd(ReadLine),
    /// `includefile` at this place (line 0: NTPsec's `ntp.d`, read after the
    /// file), and what became of it.
    Include {
        file: PathBuf,
        line: usize,
        target: PathBuf,
        problem: Option<String>,
    },
}

/// ntpd exits while reading the file at start-up (parsing, or applying
/// huffpuff right after): it never runs, and nothing of the file applies.
#[derive(Clone, Debug)]
pub struct Exit {
    /// The ntpd that exits (the other dialect may start on the same file).
    pub dialect: Dialect,
    pub file: PathBuf,
    pub line: usize,
    /// 1-based.
    pub column: usize,
    pub message: String,
}

impl Exit {
    /// `classic ntpd exits at start-up (WHY)`: the line's own location is
    /// printed apart.
    pub fn describe(&self) -> String {
        format!(
            "{} exits at start-up ({})",
            self.dialect.daemon(),
            self.message
        )
    }
}

#[derive(Clone, Debug, Default)]
pub struct Reading {
    pub lines: Vec<ReadLine>,
    pub notes: Vec<ReadNote>,
    /// Set when ntpd exits while parsing; then nothing applies.
    pub exit: Option<Exit>,
    /// Lines of the main file ntpd reads (an `end`, or an include that
    /// reached one, stops it); `set` writes nothing after them.
    pub main_read_lines: usize,
}

/// The include expansion went over its budget.
#[derive(Debug)]
pub struct OverBudget(pub String);

impl std::fmt::Display for OverBudget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for OverBudget {}

struct Reader<'a> {
    files: &'a dyn Files,
    dialect: Dialect,
    out: Reading,
    ended: bool,
    /// A NUL byte where ntpd reads a keyword or number: it reads nothing
    /// more, of this file or any other (`startup::LineScan::StopsReading`).
    stopped_at_nul: bool,
    cache: HashMap<FileId, std::rc::Rc<Vec<u8>>>,
    expanded_files: usize,
    expanded_bytes: u64,
    /// Stop reading after this many associations (`server`, `peer`,
    /// `pool`): for callers that only ask for the first few.
    associations_at_most: Option<usize>,
    associations_seen: usize,
}

/// Reads `main` (already loaded as `bytes`; `main` is its jail path, or `-`
/// for standard input) and everything it includes, as `dialect` does.
pub fn read(
    main: &Path,
    bytes: &[u8],
    files: &dyn Files,
    dialect: Dialect,
) -> Result<Reading, OverBudget> {
    read_until(main, bytes, files, dialect, None)
}

/// [`read`], stopping (as at an `end`) once more than
/// `associations_at_most` associations were read: a caller that takes at
/// most that many (clockcheck's servers) does not pay for a million more.
/// Only the associations of such a reading are complete.
pub fn read_until(
    main: &Path,
    bytes: &[u8],
    files: &dyn Files,
    dialect: Dialect,
    associations_at_most: Option<usize>,
) -> Result<Reading, OverBudget> {
    let mut reader = Reader {
        files,
        dialect,
        out: Reading::default(),
        ended: false,
        stopped_at_nul: false,
        cache: HashMap::new(),
        expanded_files: 0,
        expanded_bytes: bytes.len() as u64,
        associations_at_most,
        associations_seen: 0,
    };
    let shown = if main == Path::new("-") {
        main.to_path_buf()
    } else {
        files.display(main)
    };
    let read_lines = reader.read_file(main, &shown, bytes, 0)?;
    reader.out.main_read_lines = read_lines;
    if reader.out.exit.is_none() {
        reader.out.exit = exit_when_applying(&reader.out, dialect);
    }
    if dialect == Dialect::Ntpsec && !reader.ended && main != Path::new("-") {
        // NTPsec reads <dir of the file>/ntp.d/*.conf after the file itself.
        let dir = main.parent().unwrap_or(Path::new("/")).join("ntp.d");
        if dir_names(files, &dir).is_some() {
            // Line 0: read after the file, not from one of its lines.
            reader.include_dir(&dir, &shown, 0, 0)?;
        }
    }
    Ok(reader.out)
}

impl Reader<'_> {
    /// Reads one file's lines; returns how many lines were read before an
    /// `end` (its own or an included one's) stopped the reading.
    fn read_file(
        &mut self,
        jail: &Path,
        shown: &Path,
        bytes: &[u8],
        depth: usize,
    ) -> Result<usize, OverBudget> {
        // Lines are looked at in place; only those that say something to
        // the model or its checks are kept (see `worth_keeping`), so a
        // line's cost is its own bytes, never a fixed few hundred for a
        // blank one.
        let mut read_lines = 0;
        for (index, (text, _)) in crate::doc::lines(bytes).enumerate() {
            if self.past_association_limit() || self.stopped_at_nul {
                // Nothing after the limit is asked for (not even AfterEnd);
                // nothing after a NUL is read by ntpd.
                break;
            }
            if !self.ended {
                read_lines = index + 1;
            }
            if text.iter().all(|&b| crate::doc::is_space(b)) {
                // A blank line holds no token: nothing for ntpd, nor to
                // classify (6 million of them are read in a few seconds).
                continue;
            }
            let classified = classify_line(text, self.dialect);
            let tick_command = tick_command(text, self.dialect).map(Box::new);
            let kept = !matches!(classified.tinker, Tinker::Other)
                || tick_command.is_some()
                || worth_keeping(text);
            let read_line = || ReadLine {
                file: shown.to_path_buf(),
                line: index + 1,
                text: text.to_vec(),
                tinker: classified.tinker.clone(),
                tick_command: tick_command.clone(),
                depth,
            };
            if self.ended {
                if !matches!(classified.tinker, Tinker::Other) {
                    let line = self.charged(read_line())?;
                    self.out.notes.push(ReadNote::AfterEnd(line));
                }
                continue;
            }
            // ntpd stops at `end` itself: the rest of that line is never
            // lexed (`end 1e-400` starts; found by the oracle fuzzer).
            if self.out.exit.is_none()
                && !is_end(text)
                && let Some((message, column)) = classified.exits
            {
                self.out.exit = Some(Exit {
                    dialect: self.dialect,
                    file: shown.to_path_buf(),
                    line: index + 1,
                    column: column + 1,
                    message,
                });
            }
            if is_end(text) {
                self.ended = true;
                continue;
            }
            self.stopped_at_nul = classified.stops_reading;
            if let Some(argument) = include_argument(text) {
                self.include(jail, shown, index + 1, &argument, depth)?;
                continue;
            }
            if kept {
                let line = self.charged(read_line())?;
                self.out.lines.push(line);
                self.count_association(text);
            }
        }
        Ok(read_lines)
    }

    fn past_association_limit(&self) -> bool {
        self.associations_at_most
            .is_some_and(|limit| self.associations_seen > limit)
    }

    /// Counts an association line; past the limit the reading ends.
    fn count_association(&mut self, text: &[u8]) {
        let Some(limit) = self.associations_at_most else {
            return;
        };
        if crate::associations::association_of_line(text, self.dialect).is_some() {
            self.associations_seen += 1;
            self.ended |= self.associations_seen > limit;
        }
    }

    /// A line to keep, its memory drawn from the run's budget: a file of
    /// nothing but tinker lines costs some 50 times its size here, so the
    /// 64 MiB file limit alone is no memory bound.
    fn charged(&self, line: ReadLine) -> Result<ReadLine, OverBudget> {
        match self.files.hold(held_bytes(&line)) {
            Ok(()) => Ok(line),
            Err(err) => Err(OverBudget(format!("{}: {err}", line.file.display()))),
        }
    }

    fn include(
        &mut self,
        including: &Path,
        shown: &Path,
        line: usize,
        argument: &str,
        depth: usize,
    ) -> Result<(), OverBudget> {
        let target = self.resolve(including, argument);
        let note = |problem: Option<String>, target: PathBuf| ReadNote::Include {
            file: shown.to_path_buf(),
            line,
            target,
            problem,
        };
        if depth + 1 > MAX_INCLUDE_DEPTH {
            let problem = format!("nested deeper than {MAX_INCLUDE_DEPTH} includes; ntpd skips it");
            self.out
                .notes
                .push(note(Some(problem), self.files.display(&target)));
            return Ok(());
        }
        if self.dialect == Dialect::Ntpsec && dir_names(self.files, &target).is_some() {
            self.out.notes.push(note(None, self.files.display(&target)));
            return self.include_dir(&target, shown, line, depth);
        }
        let problem = self.expand(&target, depth + 1)?;
        self.out
            .notes
            .push(note(problem, self.files.display(&target)));
        Ok(())
    }

    /// NTPsec: every `*.conf` in a directory, in byte order.
    fn include_dir(
        &mut self,
        dir: &Path,
        shown: &Path,
        line: usize,
        depth: usize,
    ) -> Result<(), OverBudget> {
        let names = dir_names(self.files, dir).unwrap_or_default();
        for name in names
            .iter()
            .filter(|n| n.ends_with(".conf") && !n.starts_with('.'))
        {
            if self.ended {
                break;
            }
            let target = dir.join(name);
            let problem = self.expand(&target, depth + 1)?;
            self.out.notes.push(ReadNote::Include {
                file: shown.to_path_buf(),
                line,
                target: self.files.display(&target),
                problem,
            });
        }
        Ok(())
    }

    /// Reads an included file (once from disk, then from the cache), within
    /// the budget.  Returns why it was skipped, if it was.
    fn expand(&mut self, target: &Path, depth: usize) -> Result<Option<String>, OverBudget> {
        let (id, bytes) = match self.files.read_config(target) {
            Ok(found) => found,
            Err(err) => return Ok(Some(format!("cannot be read ({err}); ntpd skips it"))),
        };
        let bytes = self
            .cache
            .entry(id)
            .or_insert_with(|| std::rc::Rc::new(bytes))
            .clone();
        self.expanded_files += 1;
        self.expanded_bytes += bytes.len() as u64;
        if self.expanded_files > MAX_EXPANDED_FILES || self.expanded_bytes > MAX_EXPANDED_BYTES {
            return Err(OverBudget(format!(
                "includes expand to more than {MAX_EXPANDED_FILES} files or {MAX_EXPANDED_BYTES} bytes (at {}); refusing to read on",
                self.files.display(target).display()
            )));
        }
        let shown = self.files.display(target);
        self.read_file(target, &shown, &bytes, depth)?;
        Ok(None)
    }

    /// Classic ntpd opens a relative `includefile` from its working
    /// directory (`/` when rc starts it); NTPsec from the including file's
    /// directory.
    fn resolve(&self, including: &Path, argument: &str) -> PathBuf {
        let arg = Path::new(argument);
        if arg.is_absolute() {
            return arg.to_path_buf();
        }
        match self.dialect {
            Dialect::Classic => Path::new("/").join(arg),
            Dialect::Ntpsec => {
                let dir = match including.parent() {
                    Some(d) if including != Path::new("-") && !d.as_os_str().is_empty() => d,
                    _ => Path::new("/"),
                };
                dir.join(arg)
            }
        }
    }
}

/// The memory a kept line holds: its struct, its own copies of the path and
/// text, and its pairs with their strings.
fn held_bytes(line: &ReadLine) -> u64 {
    let pair_bytes = |pair: &Pair| std::mem::size_of::<Pair>() + pair.key.len() + pair.value.len();
    let pairs: usize = match &line.tinker {
        Tinker::Applied { pairs, error } => {
            pairs.iter().map(pair_bytes).sum::<usize>()
                + error.as_ref().map_or(0, |e| e.reason.len())
        }
        Tinker::Dropped { reason, .. } => reason.len(),
        Tinker::Other => 0,
    };
    let tick = line.tick_command.as_deref().map_or(0, pair_bytes);
    (std::mem::size_of::<ReadLine>() + line.file.as_os_str().len() + line.text.len() + pairs + tick)
        as u64
}

/// ntpd exits after parsing, while applying the tinker list: `huffpuff`
/// sizes its filter as `(int)(value / 900)` doubles, and a value beyond the
/// int range (1e400 is inf) gives a negative size that emalloc cannot get.
fn exit_when_applying(reading: &Reading, dialect: Dialect) -> Option<Exit> {
    for line in &reading.lines {
        let Tinker::Applied { pairs, .. } = &line.tinker else {
            continue;
        };
        for pair in pairs {
            let slots = pair.number / 900.0;
            if pair.key == "huffpuff" && (slots.is_nan() || slots >= 2_147_483_648.0) {
                return Some(Exit {
                    dialect,
                    file: line.file.clone(),
                    line: line.line,
                    column: pair.value_range.start + 1,
                    message: format!(
                        "huffpuff {}: ntpd cannot allocate a filter that long and exits after parsing",
                        pair.value
                    ),
                });
            }
        }
    }
    None
}

/// Lines the checks read besides tinker and `tick` lines: the server lines
/// rc.d/ntpdate takes (they start in column 1), every association line
/// (`crate::associations`, indented too) and the suppression comment.
fn worth_keeping(text: &[u8]) -> bool {
    crate::associations::may_be_association(text) || {
        // `ntpconf-edit:` then `ignore CODES` (see check::suppressions).
        let marker = format!("{}:", crate::check::SUPPRESS_TOOL).into_bytes();
        text.windows(marker.len()).any(|w| w == marker)
    }
}

/// `tick NUMBER` as a command of its own (classic 4.2.8, NTPsec): applied
/// even with junk after the number, as a tinker pair is.
fn tick_command(text: &[u8], dialect: Dialect) -> Option<Pair> {
    let lexemes = lex(text);
    let (key, value) = (lexemes.first()?, lexemes.get(1)?);
    if key.text != b"tick" || key.quoted || value.quoted || value.special {
        return None;
    }
    let crate::tinker::Number::Value(number) = crate::tinker::lex_number(&value.text, dialect)
    else {
        return None;
    };
    Some(Pair {
        key: "tick".into(),
        value: String::from_utf8_lossy(&text[value.range.clone()]).into_owned(),
        number,
        key_range: key.range.clone(),
        value_range: value.range.clone(),
    })
}

/// The file name of an `includefile` line, as the lexer reads it.
fn include_argument(text: &[u8]) -> Option<String> {
    let lexemes = lex(text);
    let first = lexemes.first()?;
    if first.text != b"includefile" || first.quoted {
        return None;
    }
    let arg = lexemes.get(1)?;
    if arg.special {
        return None;
    }
    Some(String::from_utf8_lossy(&arg.text).into_owned())
}

/// A tinker setting as ntpd ends up with it.
#[derive(Clone, Debug, PartialEq)]
pub struct Setting {
    pub key: String,
    /// The value as written on the winning line.
    pub written: String,
    /// The value ntpd applies, after its own adjustments (stepout and
    /// huffpuff floors, allan in a byte, freq clamped).
    pub applied: f64,
    pub file: PathBuf,
    pub line: usize,
}

/// Every pair ntpd applies, in order (none when it exits while parsing).
pub fn applied_pairs(reading: &Reading) -> Vec<(&ReadLine, &Pair)> {
    if reading.exit.is_some() {
        return Vec::new();
    }
    let mut out = Vec::new();
    for line in &reading.lines {
        if let Tinker::Applied { pairs, .. } = &line.tinker {
            out.extend(pairs.iter().map(|p| (line, p)));
        }
    }
    // config_tinker runs before config_vars: top-level `tick` comes last.
    for line in &reading.lines {
        if let Some(tick) = &line.tick_command {
            out.push((line, tick));
        }
    }
    out
}

/// The last occurrence of each key wins; `step` also sets `stepback` and
/// `stepfwd` (listed here when the file mentions them).
pub fn effective(reading: &Reading) -> BTreeMap<String, Setting> {
    let pairs = applied_pairs(reading);
    let mentioned = |key: &str| pairs.iter().any(|(_, p)| p.key == key);
    let directions: Vec<&str> = ["stepback", "stepfwd"]
        .into_iter()
        .filter(|k| mentioned(k))
        .collect();
    let mut out: BTreeMap<String, Setting> = BTreeMap::new();
    for (line, pair) in &pairs {
        let setting = |key: &str| Setting {
            key: key.to_string(),
            written: pair.value.clone(),
            applied: applied_value(key, pair.number),
            file: line.file.clone(),
            line: line.line,
        };
        out.insert(pair.key.clone(), setting(&pair.key));
        if pair.key == "step" {
            for direction in &directions {
                out.insert(direction.to_string(), setting(direction));
            }
        }
    }
    out
}

/// The value ntpd runs with for each key the file sets, `step`'s effect on
/// both directions included whether or not they are mentioned: what `set`
/// and `--check` judge by.
pub fn applied_state(reading: &Reading) -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    for (_, pair) in applied_pairs(reading) {
        let value = applied_value(&pair.key, pair.number);
        out.insert(pair.key.clone(), value);
        if pair.key == "step" {
            out.insert("stepback".into(), value);
            out.insert("stepfwd".into(), value);
        }
    }
    out
}

/// Formats an applied value the short way (`0`, `0.5`, `300`).
pub fn format_value(value: f64) -> String {
    let text = format!("{value}");
    if text == "-0" { "0".into() } else { text }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    use mailhost_common::budget::Budget;
    use mailhost_common::files::MemoryFiles;

    /// Files from a map of jail paths to bytes.
    pub fn map_files(map: HashMap<PathBuf, Vec<u8>>) -> MemoryFiles {
        MemoryFiles::new(map)
    }

    /// Issue 21: a file of nothing but tinker lines cost ~55 times its size
    /// outside any budget.  The lines kept are charged: 10,000 of them
    /// (270 KB) fit in 32 MiB held but not in 100 KB, which is an error
    /// naming the budget, not an abort.
    #[test]
    fn kept_lines_draw_from_the_budget() {
        let text = "tinker panic 0 stepout 900\n".repeat(10_000);
        let with_limit = |bytes_held: u64| {
            let limits = mailhost_common::budget::Limits {
                bytes_held,
                ..Default::default()
            };
            let files = MemoryFiles::default().with_budget(Budget::new(limits));
            read(
                Path::new("/etc/ntp.conf"),
                text.as_bytes(),
                &files,
                Dialect::Classic,
            )
        };
        assert_eq!(with_limit(32 << 20).unwrap().lines.len(), 10_000);
        let err = with_limit(100_000).unwrap_err();
        assert!(err.0.contains("memory budget"), "{err}");
    }

    fn read_map(text: &[u8], map: HashMap<PathBuf, Vec<u8>>, dialect: Dialect) -> Reading {
        read(Path::new("/etc/ntp.conf"), text, &map_files(map), dialect).unwrap()
    }

    fn settings(text: &str) -> BTreeMap<String, Setting> {
        effective(&read_map(text.as_bytes(), HashMap::new(), Dialect::Classic))
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
        let state = applied_state(&read_map(
            b"tinker step 0\n",
            HashMap::new(),
            Dialect::Classic,
        ));
        assert_eq!(state["stepfwd"], 0.0);
        assert_eq!(state["stepback"], 0.0);
    }

    #[test]
    fn values_are_those_after_loop_config() {
        let s = settings("tinker stepout 60 huffpuff 10 allan 300 freq 900\n");
        assert_eq!(s["stepout"].applied, 300.0);
        assert_eq!(s["huffpuff"].applied, 900.0);
        assert_eq!(s["allan"].applied, 44.0);
        assert_eq!(s["freq"].applied, 500.0);
    }

    #[test]
    fn an_endless_huffpuff_makes_ntpd_exit_after_parsing() {
        // Found by the oracle fuzzer (classic: no socket is ever created).
        let r = read_map(
            b"tinker huffpuff 1e400 huffpuff 5\n",
            HashMap::new(),
            Dialect::Classic,
        );
        assert!(r.exit.is_some());
        assert!(effective(&r).is_empty());
        let fine = read_map(
            b"tinker huffpuff 99999999999\n",
            HashMap::new(),
            Dialect::Classic,
        );
        assert!(fine.exit.is_none());
    }

    #[test]
    fn nothing_after_end_is_lexed_not_even_on_its_line() {
        // Found by the oracle fuzzer: both dialects start on `end 1e-400`.
        let r = read_map(b"end 1e-400\n", HashMap::new(), Dialect::Ntpsec);
        assert!(r.exit.is_none());
        let r = read_map(b"\"end\" 1e-400\n", HashMap::new(), Dialect::Ntpsec);
        assert!(r.exit.is_some());
    }

    #[test]
    fn a_tick_command_applies_after_every_tinker_pair() {
        // Found by the oracle fuzzer (both dialects print loop_config item tick).
        let s = settings("tick 1000\ntinker tick 0.01\n");
        assert_eq!(s["tick"].written, "1000");
        assert_eq!(s["tick"].line, 1);
    }

    #[test]
    fn a_number_that_makes_ntpd_exit_applies_nothing() {
        let r = read_map(
            b"tinker panic 0\ntinker step 1e-400\n",
            HashMap::new(),
            Dialect::Classic,
        );
        assert!(r.exit.is_some());
        assert!(effective(&r).is_empty());
    }

    /// Issue 21: 6 MB of blank lines cost 1.9 GB (a kept line per blank
    /// line).  Lines that say nothing to the model are not kept at all.
    #[test]
    fn blank_and_other_lines_are_not_kept() {
        let mut text = b"\n".repeat(100_000);
        text.extend_from_slice(b"driftfile /x\n# note\ntinker panic 0\nserver a\n");
        let r = read_map(&text, HashMap::new(), Dialect::Classic);
        let kept: Vec<usize> = r.lines.iter().map(|l| l.line).collect();
        assert_eq!(kept, [100_003, 100_004]);
        assert_eq!(r.main_read_lines, 100_004);
    }

    #[test]
    fn includes_are_followed_in_order() {
        let mut map = HashMap::new();
        map.insert(
            PathBuf::from("/etc/extra.conf"),
            b"tinker panic 7\n".to_vec(),
        );
        let text = b"tinker panic 0\nincludefile /etc/extra.conf\n";
        let s = effective(&read_map(text, map, Dialect::Classic));
        assert_eq!(s["panic"].written, "7");
        assert_eq!(s["panic"].file, Path::new("/etc/extra.conf"));
    }

    #[test]
    fn relative_includes_by_dialect() {
        let mut map = HashMap::new();
        map.insert(
            PathBuf::from("/etc/extra.conf"),
            b"tinker panic 7\n".to_vec(),
        );
        map.insert(PathBuf::from("/extra.conf"), b"tinker panic 8\n".to_vec());
        let text = b"includefile extra.conf\n";
        let classic = effective(&read_map(text, map.clone(), Dialect::Classic));
        assert_eq!(classic["panic"].written, "8");
        let ntpsec = effective(&read_map(text, map, Dialect::Ntpsec));
        assert_eq!(ntpsec["panic"].written, "7");
    }

    #[test]
    fn end_in_an_include_ends_the_main_file_too() {
        let mut map = HashMap::new();
        map.insert(
            PathBuf::from("/etc/e.conf"),
            b"tinker panic 1\nend\n".to_vec(),
        );
        let text = b"server a\nincludefile /etc/e.conf\ntinker panic 0\n";
        let r = read_map(text, map, Dialect::Classic);
        assert_eq!(r.main_read_lines, 2);
        assert_eq!(effective(&r)["panic"].written, "1");
    }

    #[test]
    fn include_loops_are_bounded() {
        let mut map = HashMap::new();
        map.insert(
            PathBuf::from("/etc/loop.conf"),
            b"includefile /etc/loop.conf\ntinker panic 1\n".to_vec(),
        );
        let r = read_map(b"includefile /etc/loop.conf\n", map, Dialect::Classic);
        assert!(r.notes.iter().any(|n| matches!(
            n,
            ReadNote::Include {
                problem: Some(_),
                ..
            }
        )));
        assert_eq!(r.lines.len(), MAX_INCLUDE_DEPTH);
    }

    #[test]
    fn include_fan_out_stops_at_the_budget() {
        let mut map = HashMap::new();
        map.insert(
            PathBuf::from("/etc/ntp.conf"),
            "includefile /etc/ntp.conf\n".repeat(20).into_bytes(),
        );
        let text = map[Path::new("/etc/ntp.conf")].clone();
        let err = read(
            Path::new("/etc/ntp.conf"),
            &text,
            &map_files(map),
            Dialect::Classic,
        )
        .unwrap_err();
        assert!(err.0.contains("more than"), "{err}");
    }
}
