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

/// `--format`: text for people, JSON Lines for programs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum Format {
    #[default]
    Text,
    Json,
}

/// `--format` of the linters (xinetd-lint, `ntpconf-edit check`): text,
/// JSON Lines, or one SARIF 2.1.0 log of the findings ([`crate::sarif`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum LintFormat {
    #[default]
    Text,
    Json,
    Sarif,
}

/// `--color`: colour only on a terminal, never with `NO_COLOR` or `TERM=dumb`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
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
    fn broken_pipe_is_found_in_the_chain() {
        let err = anyhow::Error::new(io::Error::from(io::ErrorKind::BrokenPipe)).context("writing");
        assert!(is_broken_pipe(&err));
        let other = anyhow::Error::new(io::Error::from(io::ErrorKind::NotFound));
        assert!(!is_broken_pipe(&other));
    }
}
