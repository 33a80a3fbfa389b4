//! The command line of `xinetd-lint`: one clap definition that also feeds the man
//! page and the shell completions.

use std::path::PathBuf;

use clap::Parser;

use crate::conventions::{ColorChoice, Format, Generate};

#[derive(Debug, Parser)]
#[command(
    name = "xinetd-lint",
    version,
    about = "Lint xinetd.conf and xinetd.d files the way xinetd reads them"
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
    ("0", "No findings."),
    ("1", "Findings were reported."),
    ("2", "Could not run: bad arguments or unreadable input."),
];

pub const EXAMPLES: &[(&str, &str)] = &[];
