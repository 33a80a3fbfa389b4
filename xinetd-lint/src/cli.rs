//! The command line of `xinetd-lint`: one clap definition that also feeds
//! the man page and the shell completions.  The flags end here: the
//! library gets a validated [`Settings`] ([`Cli::into_settings`]).

use std::path::PathBuf;

use clap::Parser;

use mailhost_common::cli::{self as cli_support, Generate};
use mailhost_common::lint::{self, RuleCode};
use xinetd_lint::conventions::{self, ColorChoice, LintFormat as Format};
use xinetd_lint::rules::Severity;
use xinetd_lint::settings::{LintRun, Mode, Output, Settings};

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
        cli_support::suggest(clap::builder::StringValueParser::new(),
            xinetd_lint::rules::Code::ALL.iter().map(|c| (c.as_str(), c.rule().name.unwrap_or("")))))]
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

impl Cli {
    /// The settings these flags ask for, or the usage error (exit 2)
    /// xinetd-lint has always given, with the same text and precedence:
    /// --list-rules, then --explain, then --select/--ignore, then the
    /// outputs SARIF cannot carry.
    pub fn into_settings(self) -> anyhow::Result<Settings> {
        let mode = if self.list_rules {
            Mode::ListRules
        } else if let Some(code) = &self.explain {
            let Some(code) = lint::find(code) else {
                anyhow::bail!("unknown rule code `{code}` (see --list-rules)")
            };
            Mode::Explain(code)
        } else {
            let floor = self.severity.floor();
            let filter = lint::Filter::new(floor, &self.select, &self.ignore, "rule")?;
            if self.host_facts {
                // --host-facts has no SARIF form and has always printed text.
                Mode::HostFacts(plain(self.format).unwrap_or(conventions::Format::Text))
            } else {
                Mode::Lint(LintRun {
                    output: self.output()?,
                    paths: self.paths,
                    filter,
                })
            }
        };
        Ok(Settings {
            root: self.root,
            resolve: self.resolve,
            mode,
        })
    }

    /// What a lint run prints, in the order the flags have always won
    /// (clap already refuses --log-files with --services, --fix, --diff).
    fn output(&self) -> anyhow::Result<Output> {
        Ok(if self.log_files {
            Output::LogFiles
        } else if self.fix || self.diff {
            let Some(format) = plain(self.format) else {
                anyhow::bail!(
                    "--format sarif reports findings; run --fix with text or json, then lint with sarif"
                )
            };
            if self.diff {
                Output::Diff
            } else {
                Output::Fix(format)
            }
        } else if self.services {
            let Some(format) = plain(self.format) else {
                anyhow::bail!(
                    "--format sarif reports findings; --services lists services (use text or json)"
                )
            };
            Output::Services(format)
        } else {
            Output::Findings(self.format)
        })
    }
}

/// Text or JSON; None for SARIF, which only findings have.
fn plain(format: Format) -> Option<conventions::Format> {
    match format {
        Format::Text => Some(conventions::Format::Text),
        Format::Json => Some(conventions::Format::Json),
        Format::Sarif => None,
    }
}

/// The extra sections of the man page (with `Cli::command()`).
pub fn man_page() -> conventions::ManPage<'static> {
    conventions::ManPage {
        exit_status: xinetd_lint::Exit::TABLE,
        examples: EXAMPLES,
        files: &[
            (
                "/usr/local/etc/xinetd.conf, /etc/xinetd.conf",
                "The default input (under --root), unless rc.conf's xinetd_flags names -f FILE.",
            ),
            (
                "/etc/syslog.conf, /etc/syslog.d, /usr/local/etc/syslog.d, /etc/rsyslog.conf, /etc/rsyslog.d",
                "Where a log_type SYSLOG facility goes (XL044, --log-files).",
            ),
            (
                "/etc/services, /etc/protocols, /etc/rpc",
                "Service, protocol and RPC names, as xinetd looks them up.",
            ),
            (
                "/etc/rc.conf, /etc/systemd/system",
                "Where a standalone dovecot may be enabled.",
            ),
        ],
        see_also: "xinetd(8), xinetd.conf(5), dovecot(1), ntpconf-edit(8), maillog-grep(8), clockcheck(8)",
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use xinetd_lint::rules::Code;

    fn settings(args: &[&str]) -> anyhow::Result<Settings> {
        let argv = std::iter::once("xinetd-lint").chain(args.iter().copied());
        Cli::try_parse_from(argv)?.into_settings()
    }

    fn output(args: &[&str]) -> Output {
        match settings(args).unwrap().mode {
            Mode::Lint(run) => run.output,
            other => panic!("not a lint run: {other:?}"),
        }
    }

    #[test]
    fn each_output_flag_is_one_mode() {
        assert_eq!(output(&[]), Output::Findings(Format::Text));
        assert_eq!(
            output(&["--format", "sarif"]),
            Output::Findings(Format::Sarif)
        );
        let json = conventions::Format::Json;
        assert_eq!(
            output(&["--services", "--format", "json"]),
            Output::Services(json)
        );
        assert_eq!(
            output(&["--fix", "--services", "--format", "json"]),
            Output::Fix(json)
        );
        assert_eq!(output(&["--diff"]), Output::Diff);
        assert_eq!(
            output(&["--log-files", "--format", "sarif"]),
            Output::LogFiles
        );
    }

    #[test]
    fn sarif_is_refused_for_services_fix_and_diff() {
        for flag in ["--services", "--fix", "--diff"] {
            let err = settings(&[flag, "--format", "sarif"])
                .unwrap_err()
                .to_string();
            assert!(
                err.starts_with("--format sarif reports findings; "),
                "{flag}: {err}"
            );
        }
    }

    #[test]
    fn list_rules_then_explain_come_before_every_other_check() {
        let rest = ["--services", "--format", "sarif", "--select", "XL999"];
        let mut args = vec!["--list-rules", "--explain", "XL999"];
        args.extend(rest);
        assert!(matches!(settings(&args).unwrap().mode, Mode::ListRules));
        let mut args = vec!["--explain", "XL016"];
        args.extend(rest);
        assert!(matches!(
            settings(&args).unwrap().mode,
            Mode::Explain(Code::XL016)
        ));
        let err = settings(&["--explain", "XL999"]).unwrap_err().to_string();
        assert_eq!(err, "unknown rule code `XL999` (see --list-rules)");
        let err = settings(&["--host-facts", "--ignore", "XL999"])
            .unwrap_err()
            .to_string();
        assert_eq!(err, "unknown rule code `XL999` (see --list-rules)");
    }

    #[test]
    fn host_facts_prints_text_for_sarif() {
        let mode = settings(&["--host-facts", "--format", "sarif"])
            .unwrap()
            .mode;
        assert!(
            matches!(mode, Mode::HostFacts(conventions::Format::Text)),
            "{mode:?}"
        );
    }
}
