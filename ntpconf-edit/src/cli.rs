//! The command line of `ntpconf-edit`: one clap definition that also feeds
//! the man page and the shell completions.  The flags end here: the
//! library gets a validated [`Settings`] ([`Cli::into_settings`]).  Paths
//! name the library crate (`ntpconf_edit::`), not `crate::`, so that a test
//! can include this file and parse a command line as the binary does.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use mailhost_common::cli::{self as cli_support, Generate};
use mailhost_common::lint;
use ntpconf_edit::check;
use ntpconf_edit::conventions::{self, ColorChoice, LintFormat as Format};
use ntpconf_edit::settings::{
    self, Action, CheckRun, Command as Run, EditOutput, EditRun, Settings,
};
use ntpconf_edit::tinker::{self, Dialect};

#[derive(Debug, Parser)]
#[command(
    name = "ntpconf-edit",
    version,
    about = "Edit the tinker settings of ntp.conf, and nothing else",
    long_about = "Edit the `tinker` lines of ntp.conf exactly as ntpd reads them, keeping every other \
byte of the file as it was.\n\n\
ntpd applies tinker pairs in file order and the last one of each key wins, stops reading at `end` \
(also inside an included file), drops a whole tinker line for an error where a value belongs and \
the rest of the line after an error where a keyword belongs, and adjusts some values (stepout and \
huffpuff floors, allan in a byte, freq clamped to +-500 PPM). `set` edits the value that wins, removes \
earlier occurrences of the key, and adds a missing key to the last valid tinker line (or a new \
`tinker` line after the leading comments, before `end`); it judges \"already in the asked state\" by \
the values ntpd applies, and fails (exit 2) when ntpd would still apply something else. Like sed, \
`set` and `unset` write the result to standard output unless -i is given. ntpd reads ntp.conf \
only when it starts: after an edit, restart it (`service ntpd restart`, `systemctl restart \
ntpsec.service`) or it keeps the old values.\n\n\
Files ntpd will not start with: ntpd exits while reading a file with a number it cannot represent \
(`1e-400`, `-99999999999999999999`, a bare `0x`; NTPsec also `1e-310`) on any line, a word or quoted \
string over 1024 characters, or a huffpuff beyond 900 * 2^31 s; then nothing keeps the time. `check` \
reports the line as an error (NE012), `show` says so on standard error and exits 1, and `set`/`unset` \
write nothing and exit 2 (1 with --check) while the result would still make ntpd exit: fix or remove \
that line first (a `set` that replaces the offending value itself is written).\n\n\
Default file: on FreeBSD rc.conf's ntpd_config (by default /etc/ntp.conf), elsewhere the first of \
/etc/ntpsec/ntp.conf (Debian's NTPsec runs `ntpd -c` it), /etc/ntp.conf, /usr/local/etc/ntp.conf, \
all looked up under --root (an explicit FILE too).\n\n\
Why: dovecot exits with \"Time just moved backwards\" when the clock is stepped back. \
`tinker panic 0` (--preset vm) keeps ntpd running after a virtual machine was paused or migrated. \
`tinker step 0` (--preset dovecot) makes ntpd slew instead of step, but on a virtual machine that \
costs dearly: ntpd slews at most 500 ppm, so a 40 s offset takes 80,000 s (about 22 h) to correct, \
and `ntpd -g`/`ntpd -q` at boot obey it too. On a FreeBSD guest on Hyper-V (which cannot save its \
clock to the hardware clock) the errata's fix is instead: ntpdate -b at boot before dovecot \
(ntpdate_enable=YES), ntpd afterwards, and the Hyper-V host's time sync interval cut to 1 hour \
(SpecialPollInterval 3600). `ntpconf-edit check` reports this as NE011.",
    after_help = "Exit status: 0 ok, 1 --check found that a change is needed or `check` reported a warning or an error or `show` found that ntpd will not start with the file, 2 error.",
    args_conflicts_with_subcommands = false
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    #[command(flatten)]
    pub edit: EditOptions,

    /// Look every path up under DIR (default files, an explicit FILE, includefile targets, rc.conf); nothing outside it is read or written.
    #[arg(long, global = true, value_name = "DIR", default_value = "/")]
    pub root: PathBuf,

    /// Which ntpd reads the file: classic (ntp.org 4.2.8) or ntpsec. Default: classic on a FreeBSD tree (rc.conf or /usr/local/etc/ntp.conf or /usr/local/etc/rc.d under the root), else the one installed (NTPsec when /etc/ntpsec is there).
    #[arg(long, global = true, value_enum, value_name = "DIALECT")]
    pub dialect: Option<DialectArg>,

    /// Explain a check code (NE001...): what it checks, why, how to fix it.
    #[arg(long, global = true, value_name = "CODE")]
    pub explain: Option<String>,

    /// List every check code with its severity and summary, then exit.
    #[arg(long, global = true)]
    pub list_rules: bool,

    /// Output format: text, JSON Lines (one object per line), or sarif (`check` only: one
    /// SARIF 2.1.0 log of the findings, for code scanning).
    #[arg(long, global = true, value_enum, default_value_t = Format::Text)]
    pub format: Format,

    /// Colour the severity of diagnostics: auto (terminal only, not with NO_COLOR), always, never.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    /// Write a man page or a shell completion script to standard output.
    #[arg(long, value_enum, hide = true)]
    pub generate: Option<Generate>,
}

#[derive(Debug, Args)]
pub struct EditOptions {
    /// Edit the file in place, atomically (mode, owner and symlinks kept). A running ntpd
    /// keeps the old values until it is restarted.
    #[arg(short = 'i', long = "in-place", global = true)]
    pub in_place: bool,

    /// With -i, keep a copy of the original as FILE plus SUFFIX (default .bak).
    #[arg(long, global = true, value_name = "SUFFIX", num_args = 0..=1,
          require_equals = true, default_missing_value = ".bak")]
    pub backup: Option<String>,

    /// Print a unified diff of the change instead of the result.
    #[arg(long, global = true)]
    pub diff: bool,

    /// Write nothing; exit 1 when the file is not already in the asked state.
    #[arg(long, global = true)]
    pub check: bool,

    /// Set a common case: vm (panic=0), or dovecot (step=0: slew only, a 40 s offset then takes ~22 h; see --help).
    #[arg(long, global = true, value_enum, value_name = "NAME")]
    pub preset: Vec<Preset>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the tinker settings ntpd will apply, and where each comes from.
    Show {
        /// ntp.conf to read (default $ROOT/etc/ntp.conf, - for standard input).
        file: Option<OsString>,
    },
    /// Set tinker keys: ntpconf-edit set panic=0 step=0 [FILE].
    Set {
        /// KEY=VALUE pairs, then optionally the file (default $ROOT/etc/ntp.conf, - for stdin).
        #[arg(value_name = "KEY=VALUE... [FILE]", num_args = 0.., hide_possible_values = true,
            value_parser = cli_support::suggest(clap::builder::OsStringValueParser::new(),
                set_words()))]
        args: Vec<OsString>,
    },
    /// Remove every occurrence of tinker keys: ntpconf-edit unset step [FILE].
    Unset {
        /// Keys, then optionally the file (default $ROOT/etc/ntp.conf, - for stdin).
        #[arg(value_name = "KEY... [FILE]", num_args = 1.., hide_possible_values = true,
            value_parser = cli_support::suggest(clap::builder::OsStringValueParser::new(),
                tinker::KEYWORDS.iter().copied()))]
        args: Vec<OsString>,
    },
    /// Report where ntpd will do something other than what the file seems to say (exit 1 on a
    /// warning or an error). Where no ntp.conf is but chrony or systemd-timesyncd keeps the
    /// time, check their stepping instead (chrony's makestep; NE013-NE017).
    Check {
        /// ntp.conf to read (default $ROOT/etc/ntp.conf, - for standard input); a file named
        /// chrony.conf is checked as chrony's.
        file: Option<OsString>,

        /// The offset whose slew time NE011 states, in seconds, at most 100 years (default: 40, the
        /// errata's weekly drift).
        #[arg(long, value_name = "SECS", default_value_t = 40.0)]
        offset: f64,

        /// Report only these codes (comma-separated).
        #[arg(long, value_name = "CODE,...", value_delimiter = ',')]
        select: Vec<String>,

        /// Do not report these codes (comma-separated); a file can say `# ntpconf-edit: ignore NE006`.
        #[arg(long, value_name = "CODE,...", value_delimiter = ',')]
        ignore: Vec<String>,
    },
    /// Print which daemon keeps the time on the tree (ntpd, chronyd, systemd-timesyncd) and the
    /// file that says so, as `check` decides it; with --format json one object with
    /// `time_keeper` and `config`.
    Keeper,
}

/// What completion offers after `set`: `panic=`, `step=`, ... (the user types the value).
fn set_words() -> impl Iterator<Item = (&'static str, &'static str)> {
    static WORDS: std::sync::OnceLock<Vec<(String, &'static str)>> = std::sync::OnceLock::new();
    let words = WORDS.get_or_init(|| {
        let keys = tinker::KEYWORDS.iter();
        keys.map(|&(key, help)| (format!("{key}="), help)).collect()
    });
    words.iter().map(|(word, help)| (word.as_str(), *help))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Preset {
    /// `tinker step 0`: never step the clock (dovecot's own advice). On a VM it makes every correction crawl at 500 ppm (40 s: ~22 h), boot-time `ntpd -g` included; the errata's fix is ntpdate -b at boot before dovecot plus the Hyper-V host's sync interval at 1 h.
    Dovecot,
    /// `tinker panic 0`: keep running after a pause or live migration moved the clock far.
    Vm,
}

impl Preset {
    pub fn assignments(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Preset::Dovecot => &[("step", "0")],
            Preset::Vm => &[("panic", "0")],
        }
    }
}

/// `--dialect`: [`Dialect`] as clap offers it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DialectArg {
    /// ntp.org ntpd 4.2.8 (FreeBSD's base system and port, Debian up to bullseye).
    Classic,
    /// NTPsec (Debian bookworm and later, Ubuntu 23.04+).
    Ntpsec,
}

impl From<DialectArg> for Dialect {
    fn from(dialect: DialectArg) -> Dialect {
        match dialect {
            DialectArg::Classic => Dialect::Classic,
            DialectArg::Ntpsec => Dialect::Ntpsec,
        }
    }
}

impl Cli {
    /// The settings these flags ask for, or the usage error (exit 2)
    /// ntpconf-edit has always given, with the same text and precedence:
    /// --list-rules, then --explain, then the command's own.
    pub fn into_settings(self) -> anyhow::Result<Settings> {
        let action = if self.list_rules {
            Action::ListRules
        } else if let Some(code) = &self.explain {
            let Some(code) = lint::find(code) else {
                anyhow::bail!("unknown check code `{code}` (see --list-rules)")
            };
            Action::Explain(code)
        } else {
            let command = match self.command {
                Some(command) => command,
                None if !self.edit.preset.is_empty() => Command::Set { args: Vec::new() },
                None => anyhow::bail!("no command given; try `ntpconf-edit --help`"),
            };
            Action::Command(command_settings(command, self.format, self.edit)?)
        };
        Ok(Settings {
            root: self.root,
            dialect: self.dialect.map(Dialect::from),
            action,
        })
    }
}

/// One command's settings.
fn command_settings(command: Command, format: Format, edit: EditOptions) -> anyhow::Result<Run> {
    Ok(match command {
        Command::Show { file } => Run::Show { file, format },
        Command::Keeper => Run::Keeper(match format {
            Format::Json => conventions::Format::Json,
            // `keeper` has no SARIF form and has always printed text.
            Format::Text | Format::Sarif => conventions::Format::Text,
        }),
        Command::Check {
            file,
            offset,
            select,
            ignore,
        } => Run::Check(CheckRun {
            filter: lint::Filter::new(check::Severity::Info, &select, &ignore, "check")?,
            offset: settings::check_offset(offset)?,
            file,
            format,
        }),
        Command::Set { args } => {
            let presets: Vec<(&str, &str)> = edit
                .preset
                .iter()
                .flat_map(|preset| preset.assignments().iter().copied())
                .collect();
            let (change, file) = settings::parse_set_args(&presets, &args)?;
            Run::Edit(edit.run(change, file)?)
        }
        Command::Unset { args } => {
            let (change, file) = settings::parse_unset_args(&args)?;
            Run::Edit(edit.run(change, file)?)
        }
    })
}

impl EditOptions {
    /// An edit of `file` with these options.
    fn run(self, change: settings::Change, file: Option<OsString>) -> anyhow::Result<EditRun> {
        let output = EditOutput::from_flags(
            file.as_ref(),
            self.in_place,
            self.backup,
            self.diff,
            self.check,
        )?;
        Ok(EditRun {
            file,
            change,
            output,
            check: self.check,
        })
    }
}

/// The extra sections of the man page (with `Cli::command()`).
pub fn man_page() -> conventions::ManPage<'static> {
    conventions::ManPage {
        exit_status: ntpconf_edit::Exit::TABLE,
        examples: EXAMPLES,
        files: &[
            (
                "/etc/rc.conf",
                "FreeBSD: ntpd_config names the default file; ntpdate_enable, ntpdate_hosts, ntpdate_flags and ntpd_sync_on_start decide the boot-time path NE011 reports (the whole rc.conf chain, under --root).",
            ),
            (
                "/etc/ntp.conf",
                "The default file, then /usr/local/etc/ntp.conf (FreeBSD's port) and /etc/ntpsec/ntp.conf (NTPsec), looked up under --root.",
            ),
        ],
        see_also: "ntp.conf(5), ntpd(8), dovecot(1), xinetd-lint(8), maillog-grep(8), clockcheck(8)",
    }
}

pub const EXAMPLES: &[(&str, &str)] = &[
    (
        "ntpconf-edit show",
        "List the tinker settings ntpd will apply from /etc/ntp.conf.",
    ),
    (
        "ntpconf-edit -i --preset vm",
        "Keep ntpd running after a pause or migration (tinker panic 0), editing the file in place.",
    ),
    (
        "ntpconf-edit -i unset step stepback",
        "Undo --preset dovecot on a VM guest (the errata's fix steps at boot with ntpdate -b instead).",
    ),
    (
        "ntpconf-edit -i --backup set panic=0 stepback=0 /etc/ntp.conf",
        "Set two keys, keeping /etc/ntp.conf.bak.",
    ),
    (
        "ntpconf-edit --check set step=0 || ntpconf-edit -i set step=0",
        "Idempotent form for a Makefile or a config-management run.",
    ),
    (
        "ntpconf-edit --diff unset step",
        "Show what removing every `step` would change.",
    ),
    (
        "ntpconf-edit check --root /mnt/guest",
        "Check the ntp.conf of a mounted disk image (rc.conf there decides the boot-time path of NE011).",
    ),
    (
        "ntpconf-edit check --ignore NE005 --offset 120",
        "Skip a rule; state the slew time of a 120 s offset.",
    ),
    (
        "ntpconf-edit --explain NE011",
        "What `step 0` costs on a VM and the errata's fix.",
    ),
    (
        "ntpconf-edit --list-rules",
        "Every check code, its severity and its summary.",
    ),
    (
        "ntpconf-edit --format json show | jq .",
        "Machine-readable settings: one {key, value, file, line} object per key.",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;
    use ntpconf_edit::settings::Change;

    fn settings(args: &[&str]) -> anyhow::Result<Settings> {
        let argv = std::iter::once("ntpconf-edit").chain(args.iter().copied());
        Cli::try_parse_from(argv)?.into_settings()
    }

    fn edit(args: &[&str]) -> EditRun {
        match settings(args).unwrap().action {
            Action::Command(Run::Edit(run)) => run,
            other => panic!("not an edit: {other:?}"),
        }
    }

    #[test]
    fn presets_alone_are_a_set() {
        let run = edit(&["-i", "--preset", "vm"]);
        assert_eq!(run.change, Change::Set(vec![("panic".into(), "0".into())]));
        assert_eq!(run.output, EditOutput::InPlace { backup: None });
        assert_eq!(run.file, None);
        let err = settings(&[]).unwrap_err().to_string();
        assert_eq!(err, "no command given; try `ntpconf-edit --help`");
    }

    #[test]
    fn check_and_diff_combine_and_backup_needs_in_place() {
        let run = edit(&["--check", "--diff", "unset", "step", "ntp.conf"]);
        assert!(run.check);
        assert_eq!(run.output, EditOutput::Diff);
        assert_eq!(run.file, Some(OsString::from("ntp.conf")));
        let err = settings(&["--backup", "set", "step=0"]).unwrap_err();
        assert_eq!(err.to_string(), "--backup goes with -i");
        let err = settings(&["-i", "set", "step=0", "-"]).unwrap_err();
        assert_eq!(err.to_string(), "-i cannot edit standard input");
    }

    #[test]
    fn list_rules_then_explain_come_first() {
        let asked = [
            "--list-rules",
            "--explain",
            "NE999",
            "check",
            "--select",
            "NE999",
        ];
        assert!(matches!(
            settings(&asked).unwrap().action,
            Action::ListRules
        ));
        let err = settings(&["--explain", "NE999", "show"]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown check code `NE999` (see --list-rules)"
        );
        let err = settings(&["check", "--ignore", "NE999"]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown check code `NE999` (see --list-rules)"
        );
    }

    #[test]
    fn keeper_prints_text_for_sarif_and_dialect_is_passed_on() {
        let settings = settings(&["--dialect", "ntpsec", "--format", "sarif", "keeper"]).unwrap();
        assert_eq!(settings.dialect, Some(Dialect::Ntpsec));
        assert!(matches!(
            settings.action,
            Action::Command(Run::Keeper(conventions::Format::Text))
        ));
    }
}
