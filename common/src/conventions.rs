//! The command-line conventions every tool of the workspace follows.
//!
//! Written once, in this crate, and used by each tool, so the four crates
//! stay independent (each builds, tests and packages on its own) while their
//! behaviour cannot drift apart.  The README's "Conventions" section is the
//! user-facing description of the same rules; the CLI tests of every crate
//! check the binaries against it.
#![allow(dead_code)] // Not every tool uses every convention.

use std::ffi::OsStr;
use std::io::{self, Write};
use std::path::{Component, Path, PathBuf};

/// What `--generate` writes to stdout: a man page or a shell completion.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Generate {
    Man,
    Bash,
    Zsh,
    Fish,
}

/// `--format`: text for people, JSON Lines for programs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    #[default]
    Text,
    Json,
}

/// `--format` of the linters (xinetd-lint, `ntpconf-edit check`): text,
/// JSON Lines, or one SARIF 2.1.0 log of the findings ([`crate::sarif`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LintFormat {
    #[default]
    Text,
    Json,
    Sarif,
}

/// A value parser that offers `values` to shell completion (rule codes after
/// `--explain`, tinker keys after `set`) but accepts whatever `inner`
/// accepts: the tool itself says what is wrong with a value, as before.
/// Pair it with `hide_possible_values = true` to keep `--help` short.
#[derive(Clone)]
pub struct Suggest<P> {
    inner: P,
    values: Vec<(&'static str, &'static str)>,
}

/// `(value, help)` pairs offered for completion; see [`Suggest`].
pub fn suggest<P>(
    inner: P,
    values: impl IntoIterator<Item = (&'static str, &'static str)>,
) -> Suggest<P> {
    Suggest {
        inner,
        values: values.into_iter().collect(),
    }
}

impl<P: clap::builder::TypedValueParser> clap::builder::TypedValueParser for Suggest<P> {
    type Value = P::Value;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<Self::Value, clap::Error> {
        self.inner.parse_ref(cmd, arg, value)
    }

    fn possible_values(
        &self,
    ) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        Some(Box::new(self.values.iter().map(|&(value, help)| {
            clap::builder::PossibleValue::new(value).help(help)
        })))
    }
}

/// `--color`: colour only on a terminal, never with `NO_COLOR` or `TERM=dumb`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    #[default]
    Auto,
    Always,
    Never,
}

/// Decides whether to colour output.  The environment is passed in so the
/// rule is testable: `no_color` is the value of `NO_COLOR`, `term` of `TERM`.
pub fn use_color(
    choice: ColorChoice,
    is_terminal: bool,
    no_color: Option<&OsStr>,
    term: Option<&OsStr>,
) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            let no_color_set = no_color.is_some_and(|v| !v.is_empty());
            let dumb = term.is_some_and(|t| t == "dumb");
            is_terminal && !no_color_set && !dumb
        }
    }
}

/// `use_color` with this process's environment and the given stream.
pub fn use_color_for(choice: ColorChoice, stream: &impl std::io::IsTerminal) -> bool {
    use_color(
        choice,
        stream.is_terminal(),
        std::env::var_os("NO_COLOR").as_deref(),
        std::env::var_os("TERM").as_deref(),
    )
}

/// Looks an absolute default path (`/etc/ntp.conf`) up under `--root`.
/// `..` components cannot climb out of the root.
pub fn under_root(root: &Path, path: &Path) -> PathBuf {
    let mut out = root.to_path_buf();
    let mut depth = 0usize;
    for part in path.components() {
        match part {
            Component::Normal(name) => {
                out.push(name);
                depth += 1;
            }
            Component::ParentDir if depth > 0 => {
                out.pop();
                depth -= 1;
            }
            _ => {}
        }
    }
    out
}

/// True when the error, or anything it wraps, is a closed pipe: `tool | head`
/// is a success, not an error (ripgrep's rule).
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<io::Error>()
            .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
    })
}

/// Extra man-page sections that clap does not know about.
pub struct ManPage<'a> {
    /// `(code, meaning)` rows of the EXIT STATUS section.
    pub exit_status: &'a [(&'a str, &'a str)],
    /// `(command line, what it does)` rows of the EXAMPLES section.
    pub examples: &'a [(&'a str, &'a str)],
    /// Free text of a FILES section, if any.
    pub files: &'a [(&'a str, &'a str)],
    pub see_also: &'a str,
}

/// Writes a section-8 man page or a shell completion script for `cmd`.
pub fn generate(
    kind: Generate,
    mut cmd: clap::Command,
    page: &ManPage<'_>,
    out: &mut dyn Write,
) -> io::Result<()> {
    let name = cmd.get_name().to_string();
    let shell = match kind {
        Generate::Man => return render_man(cmd, page, out),
        Generate::Bash => clap_complete::Shell::Bash,
        Generate::Zsh => clap_complete::Shell::Zsh,
        Generate::Fish => clap_complete::Shell::Fish,
    };
    clap_complete::generate(shell, &mut cmd, name, out);
    Ok(())
}

fn render_man(mut cmd: clap::Command, page: &ManPage<'_>, out: &mut dyn Write) -> io::Result<()> {
    use roff::{Roff, bold, roman};
    // Built, clap fills in what the page needs: value counts, propagated
    // global options, the version of subcommands.
    cmd.build();
    let man = clap_mangen::Man::new(cmd.clone()).section("8");
    man.render_title(out)?;
    man.render_name_section(out)?;
    let mut synopsis = Roff::new();
    synopsis.control("SH", ["SYNOPSIS"]);
    synopsis.text(usage(&cmd, None));
    for sub in subcommands(&cmd) {
        synopsis.control("br", []);
        synopsis.text(usage(sub, Some(&cmd)));
    }
    synopsis.to_writer(out)?;
    man.render_description_section(out)?;
    man.render_options_section(out)?;
    // Each subcommand described here, not on a page of its own (no
    // ntpconf-edit-show(8) is installed).
    let mut roff = Roff::new();
    if cmd.has_subcommands() {
        roff.control("SH", ["SUBCOMMANDS"]);
        for sub in subcommands(&cmd) {
            let title = format!("{} {}", cmd.get_name(), sub.get_name());
            roff.control("SS", [title.as_str()]);
            roff.text(usage(sub, Some(&cmd)));
            if let Some(about) = sub.get_long_about().or(sub.get_about()) {
                roff.control("PP", []);
                roff.text([roman(about.to_string())]);
            }
            for arg in own_args(sub) {
                roff.control("TP", []);
                roff.text(arg_usage(arg, false));
                if let Some(help) = arg.get_long_help().or(arg.get_help()) {
                    roff.text([roman(help.to_string())]);
                }
                let values = listed_values(arg);
                if !values.is_empty() {
                    roff.control("br", []);
                    roff.text([roman(format!("Values: {}", values.join(", ")))]);
                }
            }
        }
    }
    let mut table = |title: &str, rows: &[(&str, &str)]| {
        if rows.is_empty() {
            return;
        }
        roff.control("SH", [title]);
        for (term, text) in rows {
            roff.control("TP", []);
            roff.text([bold(*term)]);
            roff.text([roman(*text)]);
        }
    };
    table("EXIT STATUS", page.exit_status);
    table("EXAMPLES", page.examples);
    table("FILES", page.files);
    if !page.see_also.is_empty() {
        roff.control("SH", ["SEE ALSO"]);
        roff.text([roman(page.see_also)]);
    }
    roff.to_writer(out)?;
    man.render_version_section(out)?;
    Ok(())
}

/// The subcommands a user can run (not clap's `help`).
fn subcommands(cmd: &clap::Command) -> impl Iterator<Item = &clap::Command> {
    cmd.get_subcommands()
        .filter(|sub| !sub.is_hide_set() && sub.get_name() != "help")
}

/// A subcommand's own arguments: not hidden, not the parent's global ones,
/// not `--help` (every command has it; the main synopsis shows it).
fn own_args(cmd: &clap::Command) -> impl Iterator<Item = &clap::Arg> {
    use clap::ArgAction::{Help, HelpLong, HelpShort, Version};
    cmd.get_arguments().filter(|arg| {
        !arg.is_hide_set()
            && !arg.is_global_set()
            && !matches!(arg.get_action(), Help | HelpShort | HelpLong | Version)
            && arg.get_id() != "help"
    })
}

/// The possible values of an option that takes a value, by name.
fn listed_values(arg: &clap::Arg) -> Vec<String> {
    if !arg.get_action().takes_values() || arg.is_hide_possible_values_set() {
        return Vec::new();
    }
    arg.get_possible_values()
        .iter()
        .filter(|v| !v.is_hide_set())
        .map(|v| v.get_name().to_string())
        .collect()
}

/// One SYNOPSIS line: `tool [-i|--in-place] [--preset NAME] [FILE] COMMAND`, or
/// for a subcommand `tool [OPTIONS] set [KEY=VALUE...]`, option arguments kept.
fn usage(cmd: &clap::Command, parent: Option<&clap::Command>) -> Vec<roff::Inline> {
    use roff::{bold, italic, roman};
    let mut line = Vec::new();
    if let Some(parent) = parent {
        line.push(bold(parent.get_name().to_string()));
        line.push(roman(" ["));
        line.push(italic("OPTIONS"));
        line.push(roman("] "));
    }
    line.push(bold(cmd.get_name().to_string()));
    let args: Vec<&clap::Arg> = if parent.is_some() {
        own_args(cmd).collect()
    } else {
        cmd.get_arguments().filter(|a| !a.is_hide_set()).collect()
    };
    for arg in args {
        line.push(roman(" "));
        line.extend(arg_usage(arg, true));
    }
    if parent.is_none() && subcommands(cmd).next().is_some() {
        let (open, close) = if cmd.is_subcommand_required_set() {
            ("", "")
        } else {
            ("[", "]")
        };
        line.push(roman(format!(" {open}")));
        line.push(italic("COMMAND"));
        line.push(roman(close));
    }
    line
}

/// How one argument is written: `-i|--in-place`, `--preset NAME`,
/// `--backup[=SUFFIX]`, `FILE...`; in brackets when optional and `bracket`.
fn arg_usage(arg: &clap::Arg, bracket: bool) -> Vec<roff::Inline> {
    use roff::{bold, italic, roman};
    let mut parts = Vec::new();
    let value_name = arg
        .get_value_names()
        .map(|names| {
            names
                .iter()
                .map(|n| n.to_string())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_else(|| arg.get_id().to_string().to_uppercase());
    let range = arg.get_num_args().unwrap_or_default();
    let repeats = range.max_values() > 1
        || matches!(
            arg.get_action(),
            clap::ArgAction::Append | clap::ArgAction::Count
        );
    if arg.is_positional() {
        // A name such as `KEY=VALUE... [FILE]` already says it repeats.
        let says_it = value_name.contains("...");
        parts.push(italic(value_name));
        if range.max_values() > 1 && !says_it {
            parts.push(roman("..."));
        }
    } else {
        match (arg.get_short(), arg.get_long()) {
            (Some(short), Some(long)) => {
                parts.push(bold(format!("-{short}")));
                parts.push(roman("|"));
                parts.push(bold(format!("--{long}")));
            }
            (Some(short), None) => parts.push(bold(format!("-{short}"))),
            (None, Some(long)) => parts.push(bold(format!("--{long}"))),
            (None, None) => {}
        }
        if arg.get_action().takes_values() {
            if range.min_values() == 0 {
                parts.push(roman("[="));
                parts.push(italic(value_name));
                parts.push(roman("]"));
            } else {
                parts.push(roman(" "));
                parts.push(italic(value_name));
            }
        }
        if repeats && arg.get_action().takes_values() {
            parts.push(roman("..."));
        }
    }
    if bracket && !arg.is_required_set() {
        parts.insert(0, roman("["));
        parts.push(roman("]"));
    }
    parts
}

/// The severity of a finding, as written in `path:line:col: severity:
/// message [CODE]` and in JSON.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }

    /// The word, coloured when `color` (see `use_color`).
    pub fn paint(self, color: bool) -> String {
        let word = self.as_str();
        if !color {
            return word.to_string();
        }
        let code = match self {
            Severity::Error => "1;31",
            Severity::Warning => "1;33",
            Severity::Info => "1;36",
        };
        format!("\x1b[{code}m{word}\x1b[0m")
    }
}

/// Where a run's outside world is: the standard streams, whether to colour,
/// and the fault hook of the atomic writer.  `main` builds it; tests pass
/// buffers.
pub struct Io<'a> {
    pub stdin: &'a mut dyn io::Read,
    pub stdout: &'a mut dyn Write,
    pub stderr: &'a mut dyn Write,
    pub color: bool,
    pub fail_at: Option<crate::atomic_write::FailAt>,
}

/// One finding in the form editors and make read:
/// `path:line:col: severity: message [CODE]`.  The file name and the
/// message come from files others write, so both are escaped here, once for
/// every tool: a name with a newline cannot forge a second finding.
pub fn finding_line(
    file: &Path,
    line: usize,
    column: usize,
    severity: Severity,
    message: &str,
    code: &str,
    color: bool,
) -> String {
    format!(
        "{}:{line}:{column}: {}: {} [{code}]",
        escape_path(file),
        severity.paint(color),
        escape_text(message)
    )
}

/// Configuration files are small; reading a huge one (a 2 GB sparse file, a
/// device) into memory would hurt the host.  Larger files are refused.
pub const MAX_CONFIG_BYTES: u64 = 64 * 1024 * 1024;

/// `text` as one shell word: as is when it holds only characters no shell
/// treats specially, else in single quotes (a value read from a file must
/// not turn a pasted command into another one).
pub fn shell_quote(text: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_./=:,+-@%".contains(c);
    if !text.is_empty() && text.chars().all(plain) {
        return text.to_string();
    }
    format!("'{}'", text.replace('\'', "'\\''"))
}

/// Text from a file (a name, a value, a quoted line) made safe to print on a
/// terminal or into a line-oriented log: control characters, including
/// newlines and escape sequences, become `\n`, `\t`, `\r`, `\e`, or
/// `\xNN` (as `ls -b` shows them), and a backslash becomes `\\`, so a
/// file name cannot forge a diagnostic line or erase earlier ones.  JSON
/// output needs none of this: serde escapes.
pub fn escape_text(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        push_escaped(&mut out, c);
    }
    std::borrow::Cow::Owned(out)
}

/// A path as `escape_text` would print it; bytes that are not UTF-8 become
/// `\xNN` (not U+FFFD, so two different names never print alike).
pub fn escape_path(path: &Path) -> String {
    use std::os::unix::ffi::OsStrExt;
    escape_bytes(path.as_os_str().as_bytes())
}

/// Bytes as `escape_text` would print them, invalid UTF-8 as `\xNN`.
pub fn escape_bytes(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            push_escaped(&mut out, c);
        }
        for byte in chunk.invalid() {
            out.push_str(&format!("\\x{byte:02x}"));
        }
    }
    out
}

/// Control characters as `escape_text` shows them, backslashes left as
/// they are: for text whose parts may have been escaped already (an error
/// chain), so nothing is escaped twice and no control character is left.
pub fn escape_controls(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c.is_control() {
            push_escaped(&mut out, c);
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

fn needs_escape(c: char) -> bool {
    c.is_control() || c == '\\'
}

fn push_escaped(out: &mut String, c: char) {
    match c {
        '\n' => out.push_str("\\n"),
        '\t' => out.push_str("\\t"),
        '\r' => out.push_str("\\r"),
        '\x1b' => out.push_str("\\e"),
        '\\' => out.push_str("\\\\"),
        c if c.is_control() => {
            let mut buf = [0u8; 4];
            for byte in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("\\x{byte:02x}"));
            }
        }
        c => out.push(c),
    }
}

/// Shortens text quoted in a message (a 100 MB token must not become a
/// 100 MB diagnostic line).
pub fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let head: String = text.chars().take(max).collect();
    format!("{head}... ({} bytes)", text.len())
}

/// Turns what a tool's `run` returned into the process exit code: a closed
/// pipe is success, any other error is printed as `tool: message` (anyhow's
/// one-line cause chain) and exits with the tool's error code.
/// `--generate KIND`: the man page or a completion script on standard
/// output, then the exit status (`error_code` when it cannot be written).
pub fn finish_generate(
    kind: Generate,
    cmd: clap::Command,
    page: &ManPage<'_>,
    error_code: u8,
) -> std::process::ExitCode {
    let tool = cmd.get_name().to_string();
    let result = generate(kind, cmd, page, &mut io::stdout().lock());
    finish(&tool, result.map(|()| 0).map_err(Into::into), error_code)
}

pub fn finish<S: Into<u8>>(
    tool: &str,
    result: anyhow::Result<S>,
    error_code: S,
) -> std::process::ExitCode {
    let error_code: u8 = error_code.into();
    match result {
        Ok(code) => std::process::ExitCode::from(code.into()),
        Err(err) if is_broken_pipe(&err) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            // The one place an error leaves: whatever a message quotes (a
            // path from rc.conf, a value from a file) cannot drive the
            // terminal.  Messages that escaped their parts already have no
            // control characters left and pass unchanged.
            let message = escape_controls(&format!("{err:#}")).into_owned();
            let _ = writeln!(io::stderr().lock(), "{tool}: {message}");
            std::process::ExitCode::from(error_code)
        }
    }
}

#[cfg(test)]
mod conventions_tests {
    #[test]
    fn escape_controls_leaves_escaped_text_alone() {
        let raw = "/etc/\x1b[2Kntp\\.conf\r\x07: not found";
        assert_eq!(
            super::escape_controls(raw),
            r"/etc/\e[2Kntp\.conf\r\x07: not found"
        );
        let escaped = super::escape_text(raw).into_owned();
        assert_eq!(
            super::escape_controls(&escaped),
            escaped,
            "no double escaping"
        );
    }

    #[test]
    fn a_finding_line_cannot_be_forged_by_its_file_name_or_message() {
        let line = super::finding_line(
            std::path::Path::new("x\n/etc/evil:1:1: error: forged"),
            3,
            7,
            super::Severity::Warning,
            "value \x1b[2Kerased",
            "XL001",
            false,
        );
        assert_eq!(line.lines().count(), 1, "{line}");
        assert!(!line.contains('\x1b'), "{line}");
        assert!(
            line.starts_with("x\\n/etc/evil:1:1: error: forged:3:7: warning: value "),
            "{line}"
        );
        assert!(line.ends_with(" [XL001]"), "{line}");
    }

    use super::*;

    #[test]
    fn colour_only_on_a_terminal_without_no_color() {
        assert!(use_color(ColorChoice::Auto, true, None, None));
        assert!(!use_color(ColorChoice::Auto, false, None, None));
        assert!(!use_color(
            ColorChoice::Auto,
            true,
            Some(OsStr::new("1")),
            None
        ));
        // An empty NO_COLOR does not count (no-color.org).
        assert!(use_color(
            ColorChoice::Auto,
            true,
            Some(OsStr::new("")),
            None
        ));
        assert!(!use_color(
            ColorChoice::Auto,
            true,
            None,
            Some(OsStr::new("dumb"))
        ));
        assert!(use_color(
            ColorChoice::Always,
            false,
            Some(OsStr::new("1")),
            None
        ));
        assert!(!use_color(ColorChoice::Never, true, None, None));
    }

    #[test]
    fn root_cannot_be_escaped() {
        let root = Path::new("/stage");
        assert_eq!(
            under_root(root, Path::new("/etc/ntp.conf")),
            Path::new("/stage/etc/ntp.conf")
        );
        assert_eq!(
            under_root(root, Path::new("/../../etc/x")),
            Path::new("/stage/etc/x")
        );
        assert_eq!(
            under_root(root, Path::new("/a/../b")),
            Path::new("/stage/b")
        );
        assert_eq!(
            under_root(Path::new("/"), Path::new("/etc/x")),
            Path::new("/etc/x")
        );
    }

    #[test]
    fn control_characters_cannot_forge_lines() {
        assert_eq!(escape_text("plain name.conf"), "plain name.conf");
        assert_eq!(
            escape_text("a\nb:1:1: error: forged [XL001]"),
            "a\\nb:1:1: error: forged [XL001]"
        );
        assert_eq!(escape_text("\x1b[2K\x1b[1A"), "\\e[2K\\e[1A");
        assert_eq!(escape_text("tab\there\\"), "tab\\there\\\\");
        assert_eq!(escape_text("\u{7f}\u{85}"), "\\x7f\\xc2\\x85");
        use std::os::unix::ffi::OsStrExt;
        let name = Path::new(std::ffi::OsStr::from_bytes(b"caf\xe9\n"));
        assert_eq!(escape_path(name), "caf\\xe9\\n");
    }

    #[test]
    fn suggested_values_complete_but_do_not_restrict() {
        use clap::builder::TypedValueParser;
        let parser = suggest(
            clap::builder::StringValueParser::new(),
            [("XL016", "trailing-comment")],
        );
        let offered: Vec<String> = parser
            .possible_values()
            .unwrap()
            .map(|v| v.get_name().to_string())
            .collect();
        assert_eq!(offered, ["XL016"]);
        let cmd = clap::Command::new("t");
        let parsed = parser.parse_ref(&cmd, None, std::ffi::OsStr::new("XL999"));
        assert_eq!(parsed.unwrap(), "XL999");
        let mut cmd = clap::Command::new("t").arg(
            clap::Arg::new("explain")
                .long("explain")
                .value_parser(parser)
                .hide_possible_values(true),
        );
        let mut script = Vec::new();
        clap_complete::generate(clap_complete::Shell::Bash, &mut cmd, "t", &mut script);
        assert!(String::from_utf8(script).unwrap().contains("XL016"));
    }

    #[test]
    fn broken_pipe_is_found_in_the_chain() {
        let err = anyhow::Error::new(io::Error::from(io::ErrorKind::BrokenPipe)).context("writing");
        assert!(is_broken_pipe(&err));
        let other = anyhow::Error::new(io::Error::from(io::ErrorKind::NotFound));
        assert!(!is_broken_pipe(&other));
    }
}
