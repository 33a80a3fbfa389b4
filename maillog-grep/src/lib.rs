//! `maillog-grep`: Find time-went-backwards events and the clock steps behind them in mail and system logs.

pub mod cli;

#[path = "../../common/conventions.rs"]
pub mod conventions;

use anyhow::{Result, bail};

use crate::cli::Cli;

pub const EXIT_ERROR: u8 = 2;

pub fn run(_cli: &Cli) -> Result<u8> {
    bail!("not implemented yet")
}

/// The extra sections of the man page.
pub fn man_page() -> conventions::ManPage<'static> {
    conventions::ManPage {
        exit_status: cli::EXIT_STATUS,
        examples: cli::EXAMPLES,
        files: &[],
        see_also: "xinetd-lint(8), ntpconf-edit(8), maillog-grep(8), clockcheck(8)",
    }
}
