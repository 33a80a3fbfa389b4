//! The command line of `xinetd-lint`: one clap definition that also feeds
//! the man page and the shell completions.

use std::path::PathBuf;

use clap::Parser;

use crate::conventions::{ColorChoice, Generate, LintFormat as Format};
use crate::rules::Severity;
use mailhost_common::lint::RuleCode;

/// The lowest severity shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum SeverityFloor {
    Info,
    Warning,
    Error,
}

impl SeverityFloor {
    /// The lowest severity shown.
    pub fn floor(self) -> Severity {
        match self {
            SeverityFloor::Info => Severity::Info,
            SeverityFloor::Warning => Severity::Warning,
            SeverityFloor::Error => Severity::Error,
        }
    }
}

#[derive(Debug, Parser)]
#[command(
    name = "xinetd-lint",
    version,
    about = "Lint xinetd.conf and xinetd.d files the way xinetd reads them",
    long_about = "Read xinetd's configuration exactly as Debian's xinetd 2.3.15.3 reads it (include, \
includedir and its skip rule, defaults, the block parser and its recovery, every value parser, \
the post-parse checks against /etc/services, /etc/protocols, accounts and executables) and say, \
before a reload, which services xinetd will start, which it will reject and why, and what it will \
silently do differently from what the file says.\n\n\
For dovecot's imap/imaps/pop3/pop3s under xinetd it first tells which dovecot is installed \
(dpkg status, FreeBSD's package files, the master binary's version, dovecot.conf): on dovecot \
2.x these services cannot work (XL048: 2.0 removed inetd support); on an unknown generation it \
warns (XL049); on 1.x it checks that server is dovecot's imap-login or pop3-login, that \
`disable = yes` is not left in, and that the standalone dovecot is not enabled for the same \
ports (FreeBSD rc.conf, systemd).\n\n\
Diagnostics read `path:line:col: severity: message [CODE]`; --explain CODE says what a rule \
checks, why it matters and how to fix it.  Warnings and errors are shown by default \
(--severity); --ignore and --select pick rules, and a comment line `# xinetd-lint: ignore XL016` \
silences codes in its own file (xinetd reads it as a comment, in a block too).",
    after_help = "Exit status: 0 nothing shown (no finding at or above --severity), 1 findings shown (or left after --fix), 2 could not run."
)]
pub struct Cli {
    /// Files (read as xinetd's -f file), directories (read as an includedir) or - for
    /// standard input.  With --root, a path is looked up inside the root (`/etc/x` and
    /// `ROOT/etc/x` both name the root's /etc/x).  Default: the `-f FILE` of rc.conf's
    /// xinetd_flags, else $ROOT/usr/local/etc/xinetd.conf (FreeBSD's port), else
    /// $ROOT/etc/xinetd.conf.
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// Show findings of this severity and above; the exit status follows what is shown.
    #[arg(long, value_enum, default_value_t = SeverityFloor::Warning)]
    pub severity: SeverityFloor,

    /// Leave out findings with these codes (or rule names), comma-separated.
    #[arg(long, value_name = "CODE,...", value_delimiter = ',')]
    pub ignore: Vec<String>,

    /// Show only findings with these codes (or rule names), comma-separated.
    #[arg(long, value_name = "CODE,...", value_delimiter = ',')]
    pub select: Vec<String>,

    /// Print the files to search for what the active dovecot services logged, one per line:
    /// where dovecot logs (its log_path, or the files syslog.conf / rsyslog.conf send its
    /// syslog_facility to, Fatal lines at crit included), then xinetd's own log of those
    /// services (log_type), which holds only START/EXIT lines (`EXIT: imap status=89`).
    /// Nothing when no dovecot service is active:
    /// `f=$(xinetd-lint --log-files); maillog-grep --rotated --summary ${f:-/var/log/maillog}`.
    #[arg(long, conflicts_with_all = ["services", "fix", "diff"])]
    pub log_files: bool,

    /// Resolve host names (only_from, no_access, bind, redirect) even for a --root other
    /// than /.  They are resolved on this machine, which may not be the tree's.  Without
    /// it, names in a foreign tree count as resolving.
    #[arg(long)]
    pub resolve: bool,

    /// One row per service: id, name, protocol, port, server, where, and the verdict
    /// (active, disabled, rejected) with its reasons.
    #[arg(long)]
    pub services: bool,

    /// Print the facts about the host this run reasons from, as every tool of the toolkit
    /// states them: the installed dovecot (generation, version, what enables the standalone
    /// daemon, the ports its listeners take) and the xinetd services set to run dovecot's
    /// login processes in xinetd's default configuration (one JSON object with --format json).
    #[arg(long, conflicts_with_all = ["services", "fix", "diff", "log_files"])]
    pub host_facts: bool,

    /// Print what a rule checks, why it matters and how to fix it.
    #[arg(long, value_name = "CODE", hide_possible_values = true, value_parser =
        crate::conventions::suggest(clap::builder::StringValueParser::new(),
            crate::rules::Code::ALL.iter().map(|c| (c.as_str(), c.rule().name.unwrap_or("")))))]
    pub explain: Option<String>,

    /// List every rule with its code and severity.
    #[arg(long)]
    pub list_rules: bool,

    /// Rewrite the files, atomically, fixing only: a missing space before `=`, a trailing
    /// comment (moved to its own line), CRLF line ends, a UTF-8 BOM.  Prints one line per
    /// fix, then the findings that remain (exit 1 while any remain).
    #[arg(long)]
    pub fix: bool,

    /// Print the changes --fix would make as a unified diff, and write nothing.
    #[arg(long, conflicts_with = "fix")]
    pub diff: bool,

    /// Look every absolute path (includes, server, /etc/services, /etc/protocols, /etc/rpc,
    /// /etc/passwd, /etc/group, /etc/rc.conf, /etc/systemd) up under DIR.
    #[arg(long, value_name = "DIR", default_value = "/")]
    pub root: PathBuf,

    /// Output format: text, JSON Lines (one object per finding or per service), or sarif
    /// (one SARIF 2.1.0 log of the findings, for code scanning).
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,

    /// Colour the severity: auto (terminal only, not with NO_COLOR), always, never.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    /// Write a man page or a shell completion script to standard output.
    #[arg(long, value_enum, hide = true)]
    pub generate: Option<Generate>,
}

pub const EXAMPLES: &[(&str, &str)] = &[
    (
        "xinetd-lint",
        "Lint /etc/xinetd.conf and everything it includes.",
    ),
    (
        "xinetd-lint --services",
        "Which services xinetd will start, which it rejects, and why.",
    ),
    (
        "xinetd-lint --root /jails/mail",
        "A FreeBSD jail: its rc.conf xinetd_flags -f, or /usr/local/etc/xinetd.conf.",
    ),
    (
        "maillog-grep --rotated --summary $(xinetd-lint --log-files)",
        "Search where dovecot logs and xinetd's EXIT lines of its login processes.",
    ),
    (
        "xinetd-lint --severity info --format json",
        "Everything, info findings included, as JSON Lines.",
    ),
    (
        "xinetd-lint --root $STAGEDIR",
        "Check a ports STAGEDIR, a jail or a mounted image before installing it.",
    ),
    (
        "xinetd-lint /etc/xinetd.d/imap && service xinetd reload",
        "Reload only when the file is clean.",
    ),
    (
        "xinetd-lint --diff",
        "Show what --fix would change (spaces before `=`, trailing comments, CRLF, BOM).",
    ),
    (
        "xinetd-lint --explain XL016",
        "Why a trailing comment silently drops a setting.",
    ),
];
