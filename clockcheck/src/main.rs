mod cli;

use std::process::ExitCode;

use clap::{CommandFactory, Parser};
use clockcheck::Status;
use clockcheck::query::SystemClock;
use clockcheck::{refuse, run};
use mailhost_common::cli::finish_generate;
use mailhost_common::conventions::finish;

use crate::cli::{Cli, man_page};

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
            return Status::Unknown.into();
        }
    };
    if let Some(kind) = cli.generate {
        return finish_generate(kind, Cli::command(), &man_page(), Status::Unknown.code());
    }
    let clock = SystemClock::new();
    let out = &mut std::io::stdout().lock();
    let result = match cli.into_settings() {
        Ok(settings) => run(&settings, &clock, out),
        Err(refusal) => refuse(&refusal, &clock, out),
    };
    finish("clockcheck", result, Status::Unknown)
}
