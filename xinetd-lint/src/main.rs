use std::process::ExitCode;

use clap::{CommandFactory, Parser};
use xinetd_lint::cli::Cli;
use xinetd_lint::conventions::{finish, generate};
use xinetd_lint::{EXIT_ERROR, man_page, run};

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(kind) = cli.generate {
        let result = generate(
            kind,
            Cli::command(),
            &man_page(),
            &mut std::io::stdout().lock(),
        );
        return finish(
            "xinetd-lint",
            result.map(|()| 0).map_err(Into::into),
            EXIT_ERROR,
        );
    }
    finish("xinetd-lint", run(&cli), EXIT_ERROR)
}
