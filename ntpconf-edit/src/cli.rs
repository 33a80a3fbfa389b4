//! The command line of `ntpconf-edit`: one clap definition that also feeds
//! the man page and the shell completions.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::conventions::{ColorChoice, Generate, LintFormat as Format};

#[derive(Debug, Parser)]
#[command(
    name = "ntpconf-edit",
    version,
    about = "Edit the tinker settings of ntp.conf, and nothing else",
    long_about = "Edit the `tinker` lines of ntp.conf exactly as ntpd reads them, keeping every other \
byte of the file as it was.\n\n\
ntpd applies tinker pairs in file order and the last one of each key wins, stops reading at `end`, \
and drops a whole tinker line for one bad token. `set` therefore edits the value that wins, removes \
earlier occurrences of the key, and adds a missing key to the last valid tinker line (or a new \
`tinker` line after the leading comments, before `end`). Like sed, `set` and `unset` write the \
result to standard output unless -i is given.\n\n\
Why: dovecot exits with \"Time just moved backwards\" when the clock is stepped back. \
`tinker step 0` (--preset dovecot) makes ntpd slew instead of step; `tinker panic 0` \
(--preset vm) keeps ntpd running after a virtual machine was paused or migrated.",
    after_help = "Exit status: 0 ok, 1 --check found that a change is needed, 2 error.",
    args_conflicts_with_subcommands = false
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    #[command(flatten)]
    pub edit: EditOptions,

    /// Look default paths (/etc/ntp.conf, includefile targets) up under DIR.
    #[arg(long, global = true, value_name = "DIR", default_value = "/")]
    pub root: PathBuf,

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
    /// Edit the file in place, atomically (mode, owner and symlinks kept).
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

    /// Set a common case: dovecot (step=0, never step the clock) or vm (panic=0).
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
            value_parser = crate::conventions::suggest(clap::builder::OsStringValueParser::new(),
                set_words()))]
        args: Vec<OsString>,
    },
    /// Remove every occurrence of tinker keys: ntpconf-edit unset step [FILE].
    Unset {
        /// Keys, then optionally the file (default $ROOT/etc/ntp.conf, - for stdin).
        #[arg(value_name = "KEY... [FILE]", num_args = 1.., hide_possible_values = true,
            value_parser = crate::conventions::suggest(clap::builder::OsStringValueParser::new(),
                crate::tinker::KEYWORDS.iter().copied()))]
        args: Vec<OsString>,
    },
    /// Report where ntpd will do something other than what the file seems to say.
    Check {
        /// ntp.conf to read (default $ROOT/etc/ntp.conf, - for standard input).
        file: Option<OsString>,
    },
}

/// What completion offers after `set`: `panic=`, `step=`, ... (the user types the value).
fn set_words() -> impl Iterator<Item = (&'static str, &'static str)> {
    static WORDS: std::sync::OnceLock<Vec<(String, &'static str)>> = std::sync::OnceLock::new();
    let words = WORDS.get_or_init(|| {
        let keys = crate::tinker::KEYWORDS.iter();
        keys.map(|&(key, help)| (format!("{key}="), help)).collect()
    });
    words.iter().map(|(word, help)| (word.as_str(), *help))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Preset {
    /// `tinker step 0`: never step the clock, so dovecot never sees time go back (dovecot's advice).
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

pub const EXIT_STATUS: &[(&str, &str)] = &[
    (
        "0",
        "Success; with --check, the file is already in the asked state.",
    ),
    (
        "1",
        "With --check: the file is not in the asked state (a change is needed).",
    ),
    (
        "2",
        "Error: bad arguments, an invalid key or value, an unreadable or unwritable file. Nothing was written.",
    ),
];

pub const EXAMPLES: &[(&str, &str)] = &[
    (
        "ntpconf-edit show",
        "List the tinker settings ntpd will apply from /etc/ntp.conf.",
    ),
    (
        "ntpconf-edit -i --preset dovecot",
        "Make ntpd slew instead of step (tinker step 0), editing /etc/ntp.conf in place.",
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
        "Check the ntp.conf of a mounted disk image.",
    ),
    (
        "ntpconf-edit --format json show | jq .",
        "Machine-readable settings: one {key, value, file, line} object per key.",
    ),
];
