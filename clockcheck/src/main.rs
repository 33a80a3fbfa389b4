use std::process::ExitCode;

use clap::{CommandFactory, Parser};
use clockcheck::cli::Cli;
use clockcheck::conventions::{finish, finish_generate};
use clockcheck::query::SystemClock;
use clockcheck::{EXIT_UNKNOWN, man_page, run};

fn main() -> ExitCode {
    // A Nagios plugin must never exit 2 for a usage error (2 is CRITICAL),
    // so clap's own exit is caught: usage errors become UNKNOWN.
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) if !err.use_stderr() => {
            let _ = err.print(); // --help, --version
            return ExitCode::SUCCESS;
        }
        Err(err) => {
            println!("CLOCK UNKNOWN: invalid command line: {}", err.kind());
            let _ = err.print();
            return ExitCode::from(EXIT_UNKNOWN);
        }
    };
    if let Some(kind) = cli.generate {
        return finish_generate(kind, Cli::command(), &man_page(), EXIT_UNKNOWN);
    }
    let clock = SystemClock::new();
    finish(
        "clockcheck",
        run(&cli, &clock, &mut std::io::stdout().lock()),
        EXIT_UNKNOWN,
    )
}
