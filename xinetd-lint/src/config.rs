//! Reading configuration the way xinetd does: its `-f` file, `include`
//! and `includedir` (with the skip rule for names with a `.` or a `~`), the
//! block state machine of `parse.c` with its recovery (skip to the next lone
//! `}`), and every per-line check xinetd makes while reading (§2–§4).
//! What it cannot tell from one line is left to `pipeline`.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use crate::attrs::{self, Parsed};
use crate::host::Host;
use crate::lex::{self, AttrLine};
use crate::rules::Code;
use attribute::{AttrAt, Flow};
use mailhost_common::lint;

mod attribute;

/// Nesting limit for include/includedir (xinetd has none; loops are found
/// by identity, this only bounds a long chain of distinct files).
pub const MAX_DEPTH: usize = 64;
/// How many files one expansion may read (includes and includedir entries;
/// ten times the 10,000-fragment tree of `make bench`).
pub const MAX_FILES: usize = 100_000;
/// How many bytes one expansion may read in all.
pub const MAX_TOTAL_BYTES: u64 = 256 * 1024 * 1024;

/// One finding (the shared linter's, with xinetd-lint's codes).
pub use crate::rules::Diagnostic;

/// An attribute as written: its values and where.
#[derive(Clone, Debug)]
pub struct Setting {
    pub values: Vec<String>,
    pub line: usize,
    pub column: usize,
}

impl Setting {
    pub fn first(&self) -> &str {
        self.values.first().map_or("", String::as_str)
    }
}

#[derive(Clone, Debug, Default)]
pub struct Service {
    pub name: String,
    pub file: String,
    pub line: usize,
    pub column: usize,
    /// Single-valued attributes (first wins) and list attributes (as they
    /// ended up after `=`, `+=`, `-=`), by canonical name.
    pub attrs: BTreeMap<&'static str, Setting>,
    /// Attributes written in the block (required-attribute check).
    pub written: BTreeSet<&'static str>,
    /// `disable = yes`: xinetd frees it without a word.
    pub disabled: bool,
    /// Line and rule of the first value error (`DISABLING SERVICE`), if any.
    pub value_error: Option<(usize, Code)>,
    /// Dropped while reading (no space before `=`, bad operator, no `{`, EOF).
    pub dropped: Option<Code>,
    /// The file came through an include or includedir.
    pub in_fragment: bool,
    /// The first `server` value as written, accepted or not.
    pub server_written: Option<String>,
}

impl Service {
    /// A finding about this service, at `line:column` of its file.
    pub fn finding(&self, line: usize, column: usize, code: Code, message: String) -> Diagnostic {
        Diagnostic::new(self.file.as_str(), line, column, code, message)
            .with_service(Some(&self.name))
    }

    pub fn get(&self, name: &str) -> Option<&Setting> {
        self.attrs
            .get(attrs::canonical(attrs::lookup(name).map_or("", |a| a.name)))
    }
    pub fn id(&self) -> String {
        self.get("id")
            .map_or_else(|| self.name.clone(), |s| s.first().to_string())
    }
}

#[derive(Clone, Debug, Default)]
pub struct Defaults {
    pub attrs: BTreeMap<&'static str, Setting>,
    pub file: Option<String>,
}

#[derive(Default)]
pub struct Model {
    pub services: Vec<Service>,
    pub defaults: Defaults,
    pub diagnostics: Vec<Diagnostic>,
    /// Every file read, in order, by jail path (for --fix).
    pub files: Vec<PathBuf>,
}

/// What a block is being read for.
enum Block {
    Service(Service),
    Defaults,
    /// A second `defaults` in one file: read and ignored.
    Ignored,
}

/// A block being read, and the first value error in it.
struct OpenBlock {
    block: Block,
    /// Line and rule of the first value error (`DISABLING SERVICE`), until
    /// a `disable = no` undoes it.
    value_error: Option<(usize, Code)>,
}

/// A file's identity: the same file reached by two names, or through a
/// link, is one file.
use mailhost_common::files::FileId;

/// A file read already, and what its repeated includes have cost.
struct Seen {
    /// The name it was first read by.
    first: String,
    /// The XL062 finding of its first repeat (later repeats only count
    /// there: a million `include` lines of one file make one finding).
    repeat_finding: Option<usize>,
    repeats: usize,
}

pub struct Reader<'h> {
    host: &'h dyn Host,
    pub model: Model,
    /// Files being read, innermost last: an include of one of them is a loop.
    stack: Vec<FileId>,
    /// Every file read so far, with the name it was read by: none is read twice.
    seen: HashMap<FileId, Seen>,
    files_read: usize,
    bytes_read: u64,
    /// The first time the budget ran out (reported once).
    over_budget: bool,
    /// The budget of one expansion ([`MAX_FILES`], [`MAX_TOTAL_BYTES`]).
    pub max_files: usize,
    pub max_total_bytes: u64,
    /// A file includes itself: the real xinetd recurses until it crashes,
    /// so no service starts.
    pub include_loop: bool,
    /// Codes silenced per file by `# xinetd-lint: ignore CODE,...`.
    pub suppressed: lint::Suppressions<Code>,
}

impl<'h> Reader<'h> {
    pub fn new(host: &'h dyn Host) -> Reader<'h> {
        Reader {
            host,
            model: Model::default(),
            stack: Vec::new(),
            seen: HashMap::new(),
            files_read: 0,
            bytes_read: 0,
            over_budget: false,
            max_files: MAX_FILES,
            max_total_bytes: MAX_TOTAL_BYTES,
            include_loop: false,
            suppressed: BTreeMap::new(),
        }
    }

    fn diag(
        &mut self,
        file: &str,
        line: usize,
        column: usize,
        code: Code,
        service: Option<&str>,
        message: String,
    ) {
        self.model
            .diagnostics
            .push(Diagnostic::new(file, line, column, code, message).with_service(service));
    }

    /// A file or directory that cannot be opened, read or stat'ed (XL006).
    fn unreadable(&mut self, file: &str, line: usize, column: usize, message: String) {
        self.diag(file, line, column, Code::XL006, None, message);
    }

    /// Reads a file as xinetd reads its `-f` file or an `include`, by its
    /// jail path (looked up inside the host's tree).  `at` is the include
    /// line that names it.
    pub fn read_file(&mut self, jail: &Path, fragment: bool, at: Option<(&str, usize, usize)>) {
        let shown = self.host.display(jail).display().to_string();
        let (file, line, col) = at.map_or((shown.clone(), 1, 1), |(f, l, c)| (f.to_string(), l, c));
        let what = if fragment {
            "Unable to open included configuration file"
        } else {
            "cannot read"
        };
        let opened = self.host.open_config(jail).and_then(|f| {
            let meta = f.metadata()?;
            Ok((f, FileId::of(&meta)))
        });
        let (handle, id) = match opened {
            Ok(opened) => opened,
            Err(e) => {
                self.unreadable(&file, line, col, format!("{what}: {e}"));
                return;
            }
        };
        if self.stack.contains(&id) {
            self.include_loop = true;
            self.diag(&file, line, col, Code::XL060, None, format!(
                "include loop: {shown} is already being read, so it includes itself; the real xinetd recurses until it crashes (segmentation fault) and no service starts"));
            return;
        }
        // Every include counts against the budget, a repeated one too: it
        // costs an open and a look-up, and a million of them are an attack.
        let run_budget = self.host.root().map(|root| root.budget());
        let over_own_budget = self.stack.len() >= MAX_DEPTH || self.files_read >= self.max_files;
        let over_run_budget =
            !over_own_budget && run_budget.is_some_and(|budget| budget.open_file().is_err());
        if over_own_budget || over_run_budget {
            let what = if over_run_budget {
                "this run's memory budget".to_string()
            } else {
                format!(
                    "more than {} files or {MAX_DEPTH} levels of include",
                    self.max_files
                )
            };
            self.budget_exceeded(&file, line, col, &what);
            return;
        }
        self.files_read += 1;
        if let Some(seen) = self.seen.get_mut(&id) {
            seen.repeats += 1;
            let (first, repeats) = (seen.first.clone(), seen.repeats);
            let message = |more: usize| {
                let again = if more > 0 {
                    format!(" (and {more} more times)")
                } else {
                    String::new()
                };
                format!(
                    "{shown} was already read (as {first}); it is not read again{again} (xinetd would read it twice, and each of its services would clash with itself)"
                )
            };
            match seen.repeat_finding {
                Some(index) => self.model.diagnostics[index].message = message(repeats - 1),
                None => {
                    seen.repeat_finding = Some(self.model.diagnostics.len());
                    self.diag(&file, line, col, Code::XL062, None, message(0));
                }
            }
            return;
        }
        let left = self.max_total_bytes.saturating_sub(self.bytes_read);
        let limit = left.min(crate::conventions::MAX_CONFIG_BYTES);
        let bytes = match mailhost_common::root::read_at_most(handle, limit) {
            Ok(bytes) => bytes,
            Err(_) if limit < crate::conventions::MAX_CONFIG_BYTES => {
                let what = format!("more than {} bytes in all", self.max_total_bytes);
                self.budget_exceeded(&file, line, col, &what);
                return;
            }
            Err(e) => {
                self.unreadable(&file, line, col, format!("{what}: {shown}: {e}"));
                return;
            }
        };
        self.bytes_read += bytes.len() as u64;
        if let Some(budget) = run_budget
            && budget.read_bytes(bytes.len() as u64).is_err()
        {
            self.budget_exceeded(&file, line, col, "this run's memory budget");
            return;
        }
        self.seen.insert(
            id,
            Seen {
                first: shown.clone(),
                repeat_finding: None,
                repeats: 0,
            },
        );
        self.model.files.push(jail.to_path_buf());
        self.stack.push(id);
        self.read_bytes(&bytes, &shown, jail, fragment);
        self.stack.pop();
    }

    fn budget_exceeded(&mut self, file: &str, line: usize, col: usize, what: &str) {
        if !self.over_budget {
            self.over_budget = true;
            self.diag(file, line, col, Code::XL061, None, format!(
                "include budget exceeded ({what}): the rest is not read, so this verdict is incomplete"));
        }
    }

    /// Reads a directory as xinetd's `includedir` does, by its jail path.
    pub fn read_dir(&mut self, dir: &Path, at: Option<(&str, usize, usize)>) {
        let shown = self.host.display(dir).display().to_string();
        let names = match self.host.read_dir(dir) {
            Ok(names) => names,
            Err(e) => {
                let (file, line, col) = at.unwrap_or((&shown, 1, 1));
                let file = file.to_string();
                self.unreadable(
                    &file,
                    line,
                    col,
                    format!("Unable to read included directory: {e}"),
                );
                return;
            }
        };
        for name in names {
            let name = name.as_bytes().to_vec();
            let text = String::from_utf8_lossy(&name).into_owned();
            let path = dir.join(std::ffi::OsStr::from_bytes(&name));
            let shown_path = format!("{}/{}", shown.trim_end_matches('/'), text);
            if name.contains(&b'.') || name.ends_with(b"~") {
                self.diag(&shown_path, 1, 1, Code::XL007, None, format!(
                    "xinetd's includedir skips `{text}` because its name {}: the services in it are never read",
                    if name.ends_with(b"~") { "ends in `~`" } else { "contains a `.`" }));
                continue;
            }
            match self.host.metadata(&path) {
                Ok(m) if m.is_file() => self.read_file(&path, true, None),
                Ok(_) => self.diag(
                    &shown_path,
                    1,
                    1,
                    Code::XL008,
                    None,
                    format!("{shown_path} is not a regular file. It is being skipped."),
                ),
                Err(e) => self.unreadable(
                    &shown_path,
                    1,
                    1,
                    format!("Unable to stat includedir file: {e}"),
                ),
            }
        }
    }

    /// Records `# xinetd-lint: ignore CODE,...` (a comment line to xinetd,
    /// at top level or inside a block) and starts resolving the host names
    /// of address lists, all of a file's at once.
    fn scan_comments_and_names(&mut self, lines: &[&[u8]], shown: &str) {
        let mut names = Vec::new();
        for line in lines {
            if lex::is_blank_or_comment(line) {
                if let Some(codes) = suppression(line) {
                    self.suppressed
                        .entry(shown.into())
                        .or_default()
                        .extend(codes);
                }
                continue;
            }
            // Only lines that can name hosts are lexed a second time.
            let first = line
                .trim_ascii_start()
                .split(|b| matches!(b, b' ' | b'\t' | b'=' | b'+' | b'-'))
                .next()
                .unwrap_or_default();
            let names_hosts = [
                b"only_from".as_slice(),
                b"no_access",
                b"bind",
                b"interface",
                b"redirect",
            ]
            .iter()
            .any(|n| first.eq_ignore_ascii_case(n));
            if !names_hosts {
                continue;
            }
            if let AttrLine::Ok { name, values, .. } = lex::attribute(line)
                && matches!(
                    name.as_str().to_ascii_lowercase().as_str(),
                    "only_from" | "no_access" | "bind" | "interface" | "redirect"
                )
            {
                names.extend(values.iter().map(|v| v.as_str().into_owned()));
            }
        }
        if !names.is_empty() {
            self.host.prefetch(&names);
        }
    }

    /// Reads one file's bytes (`path` is its jail path, or `-`).
    pub fn read_bytes(&mut self, bytes: &[u8], shown: &str, path: &Path, fragment: bool) {
        let _ = path;
        if bytes.starts_with(b"\xEF\xBB\xBF") {
            self.diag(
                shown,
                1,
                1,
                Code::XL026,
                None,
                "UTF-8 byte-order mark: xinetd does not recognise the first keyword".into(),
            );
        }
        let mut lines: Vec<&[u8]> = bytes.split(|b| *b == b'\n').collect();
        if bytes.ends_with(b"\n") {
            lines.pop();
        }
        // Mutable: a one-word attribute line makes xinetd overwrite bytes of
        // the lines after it (`overrun_after_one_word`).
        let lines = &mut lines[..];
        self.scan_comments_and_names(lines, shown);
        if let Some(n) = lines.iter().position(|l| l.ends_with(b"\r")) {
            self.diag(
                shown,
                n + 1,
                lines[n].len(),
                Code::XL025,
                None,
                "CRLF line endings: xinetd keeps the CR on the last word of every line".into(),
            );
        }
        let mut defaults_seen = false;
        let mut i = 0;
        while i < lines.len() {
            let line = lines[i];
            if lex::is_blank_or_comment(line) {
                i += 1;
                continue;
            }
            let words = lex::words(line);
            let keyword = words[0].as_str().to_ascii_lowercase();
            let arg = words.get(1).map(|w| w.as_str().into_owned());
            match keyword.as_str() {
                "service" | "defaults" => {
                    let block = if keyword == "defaults" {
                        let header = (shown, i + 1, words[0].column);
                        self.defaults_block(header, fragment, &mut defaults_seen)
                    } else {
                        let Some(name) = arg else {
                            i = self.missing_argument(lines, i, words[0].column, shown);
                            continue;
                        };
                        self.service_block(name, (shown, i + 1, words[1].column), fragment)
                    };
                    i = self.read_block(&mut *lines, i, shown, block);
                }
                "include" | "includedir" => {
                    let Some(target) = arg else {
                        i = self.missing_argument(lines, i, words[0].column, shown);
                        continue;
                    };
                    // A jail path: resolved inside the tree, never on the host.
                    let at = Some((shown, i + 1, words[1].column));
                    if keyword == "include" {
                        self.read_file(Path::new(&target), true, at);
                    } else {
                        self.read_dir(Path::new(&target), at);
                    }
                    i += 1;
                }
                _ => {
                    self.diag(shown, i + 1, words[0].column, Code::XL001, None, format!(
                        "missing service keyword (`{}`): xinetd skips everything up to the next lone `}}`",
                        crate::conventions::shorten(&words[0].as_str().escape_debug().to_string(), 60)));
                    i = skip_to_close(lines, i + 1, self, shown);
                }
            }
        }
    }

    /// A `defaults` header at `(file, line, column)`: only a file's first
    /// is read.
    fn defaults_block(
        &mut self,
        (shown, line, column): (&str, usize, usize),
        fragment: bool,
        defaults_seen: &mut bool,
    ) -> Block {
        if fragment {
            self.diag(
                shown,
                line,
                column,
                Code::XL024,
                None,
                "`defaults` in an included file is merged into the global defaults".into(),
            );
        }
        if *defaults_seen {
            self.diag(
                shown,
                line,
                column,
                Code::XL005,
                None,
                "only 1 defaults entry is allowed. This entry will be ignored".into(),
            );
            return Block::Ignored;
        }
        *defaults_seen = true;
        self.model
            .defaults
            .file
            .get_or_insert_with(|| shown.to_string());
        Block::Defaults
    }

    /// A `service NAME` header, its name at `(file, line, column)`.
    fn service_block(
        &self,
        name: String,
        (shown, line, column): (&str, usize, usize),
        fragment: bool,
    ) -> Block {
        let mut service = Service {
            name,
            file: shown.to_string(),
            line,
            column,
            in_fragment: fragment,
            ..Service::default()
        };
        // only_from and no_access come from defaults as they stand when the
        // block is read.
        for inherited in ["only_from", "no_access", "log_on_success", "log_on_failure"] {
            if let Some(s) = self.model.defaults.attrs.get(inherited) {
                service.attrs.insert(inherited, s.clone());
            }
        }
        Block::Service(service)
    }

    /// `service`, `include` or `includedir` without its argument: xinetd says
    /// `service name missing` for all three and skips to the next lone `}`.
    fn missing_argument(
        &mut self,
        lines: &[&[u8]],
        at: usize,
        column: usize,
        shown: &str,
    ) -> usize {
        self.diag(
            shown,
            at + 1,
            column,
            Code::XL002,
            None,
            "service name missing".into(),
        );
        skip_to_close(lines, at + 1, self, shown)
    }

    /// Reads from the header line `header` to the end of its block; returns
    /// the index of the next line to read at top level.
    fn read_block(
        &mut self,
        lines: &mut [&[u8]],
        header: usize,
        shown: &str,
        block: Block,
    ) -> usize {
        let mut i = header + 1;
        while i < lines.len() && lex::is_blank_or_comment(lines[i]) {
            i += 1;
        }
        if i >= lines.len() || !lex::is_lone(lines[i], b'{') {
            return self.missing_open_brace(lines, header, i, shown, block);
        }
        i += 1;
        let mut open = OpenBlock {
            block,
            value_error: None,
        };
        loop {
            if i >= lines.len() {
                self.diag(
                    shown,
                    lines.len().max(1),
                    1,
                    Code::XL004,
                    open.block.service_name(),
                    "incomplete entry: the file ends inside this block".into(),
                );
                if let Block::Service(mut s) = open.block {
                    s.dropped = Some(Code::XL004);
                    self.model.services.push(s);
                }
                return i;
            }
            let line = lines[i];
            if lex::is_lone(line, b'}') {
                i += 1;
                break;
            }
            if lex::is_blank_or_comment(line) {
                i += 1;
                continue;
            }
            match self.block_line(&mut open, lines, i, shown) {
                Flow::Continue => {}
                Flow::Abandon(code) => return self.abandon(open.block, lines, i, shown, code),
                Flow::StopDisabled => {
                    // `disable = yes`: the rest of the block is not read.
                    let next = skip_to_close(lines, i + 1, self, shown);
                    if let Block::Service(mut s) = open.block {
                        s.disabled = true;
                        self.model.services.push(s);
                    }
                    return next;
                }
            }
            i += 1;
        }
        if let Block::Service(mut s) = open.block {
            s.value_error = open.value_error;
            self.check_only_from(&s, shown);
            self.model.services.push(s);
        }
        i
    }

    /// The header is not followed by a lone `{`: a service is dropped, and
    /// xinetd skips to the next lone `}`.
    fn missing_open_brace(
        &mut self,
        lines: &[&[u8]],
        header: usize,
        i: usize,
        shown: &str,
        block: Block,
    ) -> usize {
        let line = if i < lines.len() { i + 1 } else { header + 1 };
        let name = block.service_name();
        self.diag(
            shown,
            line,
            1,
            Code::XL003,
            name,
            format!(
                "Service {}: missing '{{' (it must be alone on the line after the header)",
                name.unwrap_or("defaults")
            ),
        );
        if let Block::Service(mut s) = block {
            s.dropped = Some(Code::XL003);
            self.model.services.push(s);
        }
        // The line that is not `{` was read already: the skip starts after it.
        skip_to_close(lines, (i + 1).min(lines.len()), self, shown)
    }

    /// One attribute line `lines[i]` of a block.
    fn block_line(
        &mut self,
        open: &mut OpenBlock,
        lines: &mut [&[u8]],
        i: usize,
        shown: &str,
    ) -> Flow {
        let name = open.block.service_name();
        match lex::attribute(lines[i]) {
            AttrLine::NoSpaceBeforeOp {
                name: attr,
                op_column,
            } => {
                self.diag(
                    shown,
                    i + 1,
                    op_column,
                    Code::XL009,
                    name,
                    format!("Attribute {} needs a space before operator", attr.as_str()),
                );
                Flow::Abandon(Code::XL009)
            }
            AttrLine::BadOperator { name: attr } => {
                // A second `defaults` is skipped line by line, not parsed.
                let swallowed = if matches!(open.block, Block::Ignored) {
                    Overrun::None
                } else {
                    overrun_after_one_word(lines, i)
                };
                self.diag(
                    shown,
                    i + 1,
                    attr.column,
                    Code::XL010,
                    name,
                    format!(
                        "Bad operator for attribute: {}{}",
                        attr.as_str(),
                        swallowed.says()
                    ),
                );
                Flow::Abandon(Code::XL010)
            }
            AttrLine::Ok {
                name: attr,
                op,
                op_column,
                values,
            } => {
                let at = AttrAt {
                    shown,
                    line: i + 1,
                    attr: &attr,
                    op,
                    op_column,
                    values: &values,
                };
                self.attribute(open, &at)
            }
        }
    }

    /// A parse error in a block: a service is dropped and xinetd skips to
    /// the next lone `}`; defaults keep what was read, and the rest of their
    /// block is then read as top-level lines.
    fn abandon(
        &mut self,
        block: Block,
        lines: &[&[u8]],
        at: usize,
        shown: &str,
        code: Code,
    ) -> usize {
        match block {
            Block::Service(mut s) => {
                s.dropped = Some(code);
                self.model.services.push(s);
                skip_to_close(lines, at + 1, self, shown)
            }
            // A second `defaults` is skipped to its `}` whatever it holds.
            Block::Ignored => skip_to_close(lines, at + 1, self, shown),
            Block::Defaults => at + 1,
        }
    }

    /// only_from that keeps no address denies everyone (§4.1).
    fn check_only_from(&mut self, service: &Service, shown: &str) {
        let Some(setting) = service.attrs.get("only_from") else {
            return;
        };
        let kept = match attrs::parse_values("only_from", false, &setting.values, self.host) {
            Parsed::Addresses(list) => list.kept,
            _ => return, // a rejected list was reported already
        };
        if kept == 0 {
            let inherited = !service.written.contains("only_from");
            let (file, line, column) = if inherited {
                (
                    self.model
                        .defaults
                        .file
                        .clone()
                        .unwrap_or_else(|| shown.to_string()),
                    setting.line,
                    setting.column,
                )
            } else {
                (shown.to_string(), setting.line, setting.column)
            };
            let name = service.name.clone();
            self.diag(&file, line, column, Code::XL019, Some(&name), format!(
                "only_from {} no usable address: xinetd denies every client of {name} (its debug dump still says \"All sites\")",
                if setting.values.is_empty() { "is empty:" } else { "keeps" }));
        }
    }
}

/// The codes of a `# xinetd-lint: ignore XL016, XL017` comment line
/// (codes or rule names; unknown words are dropped).
pub fn suppression(line: &[u8]) -> Option<Vec<Code>> {
    let text = String::from_utf8_lossy(line);
    let comment = text.trim_start().strip_prefix('#')?;
    let codes = lint::suppressed_codes(comment, "xinetd-lint")?;
    (!codes.is_empty()).then_some(codes)
}

/// What xinetd's scan past a one-word attribute line did to the lines after it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Overrun {
    None,
    /// The next line was blanked.
    Blanked,
    /// The next line was cut at its first blank or `=`.
    Truncated,
    /// The line after the next one was swallowed.
    Merged,
}

impl Overrun {
    /// What the finding adds about it.
    fn says(self) -> &'static str {
        match self {
            Overrun::None => "",
            Overrun::Blanked => {
                " (a name alone on its line: xinetd reads on into the next line and blanks it)"
            }
            Overrun::Truncated => {
                " (a name alone on its line: xinetd reads on into the next line and cuts it at its first blank)"
            }
            Overrun::Merged => {
                " (a name alone on its line: xinetd reads on into the next line and swallows the line after it, so a following `service` header can be lost with its block)"
            }
        }
    }
}

/// `get_attr_op` scans the attribute name up to a space or `=`, and does
/// not stop at the end of the line: for a name alone on its line (nothing
/// after it, not even a blank) it runs into the next line, whose first
/// blank (possibly its newline) it overwrites with NUL.  So an indented
/// next line is blanked, an unindented one (`}`) is cut at its first blank,
/// and when it has none its newline goes and the line after it is read as
/// part of it, unseen: after `\tdisable` a `}` then eats the next
/// `service` header, and that service is lost too.  Verified against
/// xinetd 2.3.15.3 (tests/xinetd_startup.rs).
fn overrun_after_one_word(lines: &mut [&[u8]], at: usize) -> Overrun {
    let is_space = |b: u8| matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b'\x0b' | b'\x0c');
    let line = lines[at];
    let start = line
        .iter()
        .position(|b| !is_space(*b))
        .unwrap_or(line.len());
    let word = &line[start..];
    if word.is_empty() || word.iter().any(|b| is_space(*b) || *b == b'=') || at + 1 >= lines.len() {
        return Overrun::None;
    }
    let next = lines[at + 1];
    let merge = |lines: &mut [&[u8]]| {
        if at + 2 < lines.len() {
            lines[at + 2] = b"";
        }
        Overrun::Merged
    };
    match next.first() {
        // An empty line: its newline is the byte overwritten.
        None => {
            lines[at + 1] = b"";
            merge(lines)
        }
        Some(b) if is_space(*b) => {
            lines[at + 1] = b"";
            Overrun::Blanked
        }
        Some(_) => match next.iter().position(|b| is_space(*b) || *b == b'=') {
            Some(k) => {
                lines[at + 1] = &next[..k];
                Overrun::Truncated
            }
            None => merge(lines),
        },
    }
}

/// xinetd's recovery: skip to the line after the next lone `}`.
fn skip_to_close(lines: &[&[u8]], from: usize, reader: &mut Reader<'_>, shown: &str) -> usize {
    match (from..lines.len()).find(|&i| lex::is_lone(lines[i], b'}')) {
        Some(i) => i + 1,
        None => {
            if from < lines.len() {
                reader.diag(
                    shown,
                    lines.len(),
                    1,
                    Code::XL004,
                    None,
                    "missing } in last service entry".into(),
                );
            }
            lines.len()
        }
    }
}

use std::os::unix::ffi::OsStrExt;

#[cfg(test)]
mod file_tests {
    use super::*;

    #[test]
    fn suppression_comments() {
        assert_eq!(
            suppression(b"# xinetd-lint: ignore XL016"),
            Some(vec![Code::XL016])
        );
        assert_eq!(
            suppression(b"\t#xinetd-lint: ignore xl016, trailing-comment XL011"),
            Some(vec![Code::XL016, Code::XL016, Code::XL011])
        );
        assert_eq!(suppression(b"# xinetd-lint: ignore"), None);
        assert_eq!(suppression(b"# a comment about xinetd-lint"), None);
        assert_eq!(
            suppression(b"user = root # xinetd-lint: ignore XL016"),
            None
        );
    }

    fn budget_codes(files: usize, max_files: usize, max_bytes: u64) -> Vec<Code> {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("etc/xinetd.d")).unwrap();
        for n in 0..files {
            std::fs::write(dir.path().join(format!("etc/xinetd.d/f{n:03}")), "# x\n").unwrap();
        }
        let host = crate::host::RootHost::new(dir.path());
        let mut reader = Reader::new(&host);
        reader.max_files = max_files;
        reader.max_total_bytes = max_bytes;
        reader.read_dir(Path::new("/etc/xinetd.d"), None);
        assert!(reader.files_read <= max_files && reader.bytes_read <= max_bytes);
        reader.model.diagnostics.iter().map(|d| d.code).collect()
    }

    #[test]
    fn the_budget_of_files_and_bytes() {
        assert_eq!(budget_codes(150, 150, 10_000), Vec::<Code>::new());
        assert_eq!(
            budget_codes(151, 150, 10_000),
            [Code::XL061],
            "reported once"
        );
        // 4 bytes a file: the 26th file does not fit in 100 bytes.
        assert_eq!(budget_codes(30, 1000, 100), [Code::XL061]);
        assert_eq!(budget_codes(25, 1000, 100), Vec::<Code>::new());
    }
}
