//! The command line of `maillog-grep`: one clap definition that also feeds the man
//! page and the shell completions.

use std::path::PathBuf;

use clap::Parser;

use crate::conventions::{ColorChoice, Format, Generate};

#[derive(Debug, Parser)]
#[command(
    name = "maillog-grep",
    version,
    about = "Find time-went-backwards events and the clock steps behind them in mail and system logs"
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
    ("0", "At least one event was found."),
    ("1", "No event was found."),
    (
        "2",
        "An error occurred (an unreadable or damaged file), even if events were found, unless -q was given.",
    ),
];

pub const EXAMPLES: &[(&str, &str)] = &[];
