//! The command line of `clockcheck`: one clap definition that also feeds the man
//! page and the shell completions.

use std::path::PathBuf;

use clap::Parser;

use crate::conventions::{ColorChoice, Format, Generate};

#[derive(Debug, Parser)]
#[command(
    name = "clockcheck",
    version,
    about = "Measure the clock offset against NTP servers and watch for clock jumps"
)]
pub struct Cli {
    /// Look default paths up under DIR (a jail, a ports STAGEDIR, a mounted image).
    #[arg(long, value_name = "DIR", default_value = "/")]
    pub root: PathBuf,

    /// Output format: text, or JSON Lines (one object per line).
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,

    /// Colour: auto (terminal only, not with NO_COLOR), always, never.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    /// Write a man page or a shell completion script to standard output.
    #[arg(long, value_enum, hide = true)]
    pub generate: Option<Generate>,
}

pub const EXIT_STATUS: &[(&str, &str)] = &[
    ("0", "OK."),
    ("1", "WARNING."),
    ("2", "CRITICAL."),
    (
        "3",
        "UNKNOWN: bad arguments or an internal failure (never clap's 2).",
    ),
];

pub const EXAMPLES: &[(&str, &str)] = &[];
