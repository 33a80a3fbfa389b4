mod cli;

use std::process::ExitCode;

use chrono::{Local, Offset, Utc};
use clap::{CommandFactory, Parser};
use mailhost_common::cli::finish_generate;
use maillog_grep::conventions::{finish, use_color_for};
use maillog_grep::{Clock, Env, Exit, run};

use crate::cli::{Cli, man_page};

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(kind) = cli.generate {
        return finish_generate(kind, Cli::command(), &man_page(), Exit::Error.code());
    }
    let color = use_color_for(cli.color, &std::io::stdout());
    let settings = cli.into_settings();
    let mut env = Env {
        clock: Clock {
            now_utc: Utc::now().naive_utc(),
            local_offset: Local::now().offset().fix().local_minus_utc(),
        },
        threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
        color,
        stdin: &mut std::io::stdin().lock(),
        stdout: &mut std::io::BufWriter::with_capacity(64 * 1024, std::io::stdout().lock()),
        stderr: &mut std::io::stderr().lock(),
    };
    finish("maillog-grep", run(&settings, &mut env), Exit::Error)
}
