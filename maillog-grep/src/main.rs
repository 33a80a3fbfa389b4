use std::process::ExitCode;

use clap::{CommandFactory, Parser};
use maillog_grep::cli::Cli;
use maillog_grep::conventions::{finish, generate};
use maillog_grep::{EXIT_ERROR, man_page, run};

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
            "maillog-grep",
            result.map(|()| 0).map_err(Into::into),
            EXIT_ERROR,
        );
    }
    finish("maillog-grep", run(&cli), EXIT_ERROR)
}
