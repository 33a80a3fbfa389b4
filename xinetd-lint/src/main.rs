mod cli;

use std::process::ExitCode;

use clap::{CommandFactory, Parser};
use mailhost_common::cli::finish_generate;
use mailhost_common::exit::{Stdout, run_on_stdio};
use xinetd_lint::{Exit, run};

use crate::cli::{Cli, man_page};

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(kind) = cli.generate {
        return finish_generate(kind, Cli::command(), &man_page(), Exit::Error.code());
    }
    run_on_stdio(
        "xinetd-lint",
        cli.color,
        Stdout::Buffered,
        Exit::Error,
        |io| run(&cli.into_settings()?, io),
    )
}
