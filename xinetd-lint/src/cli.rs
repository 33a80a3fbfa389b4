//! The command line of `xinetd-lint`: one clap definition that also feeds
//! the man page and the shell completions.

use std::path::PathBuf;

use clap::Parser;

use crate::conventions::{ColorChoice, Generate, LintFormat as Format};

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
For dovecot's imap/imaps/pop3/pop3s under xinetd it also checks that server is dovecot's \
imap-login or pop3-login, that `disable = yes` is not left in, and that the standalone dovecot is \
not enabled for the same ports (FreeBSD rc.conf, systemd).\n\n\
Diagnostics read `path:line:col: severity: message [CODE]`; --explain CODE says what a rule \
checks, why it matters and how to fix it.",
    after_help = "Exit status: 0 clean (info only), 1 warnings or errors found, 2 could not run."
)]
pub struct Cli {
    /// Files (read as xinetd's -f file), directories (read as an includedir) or - for
    /// standard input.  Default: $ROOT/etc/xinetd.conf.
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// One row per service: id, name, protocol, port, server, where, and the verdict
    /// (active, disabled, rejected) with its reasons.
    #[arg(long)]
    pub services: bool,

    /// Print what a rule checks, why it matters and how to fix it.
    #[arg(long, value_name = "CODE", hide_possible_values = true, value_parser =
        crate::conventions::suggest(clap::builder::StringValueParser::new(),
            crate::rules::RULES.iter().map(|r| (r.code, r.name))))]
    pub explain: Option<String>,

    /// List every rule with its code and severity.
    #[arg(long)]
    pub list_rules: bool,

    /// Rewrite the files, atomically, fixing only: a missing space before `=`, a trailing
    /// comment (moved to its own line), CRLF line ends, a UTF-8 BOM.
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

pub const EXIT_STATUS: &[(&str, &str)] = &[
    (
        "0",
        "Clean: no warning or error (info findings, such as a disabled service, may be printed).",
    ),
    ("1", "Warnings or errors were found."),
    (
        "2",
        "Could not run: bad arguments, an unreadable main file, an unknown rule code.",
    ),
];

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
        "xinetd-lint --root /usr/local /usr/local/etc/xinetd.conf",
        "FreeBSD's ports layout.",
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
