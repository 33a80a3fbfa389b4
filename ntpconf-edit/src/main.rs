mod cli;

use std::process::ExitCode;

use clap::{CommandFactory, Parser};
use ntpconf_edit::atomic_write::FailAt;
use ntpconf_edit::conventions::{finish, finish_generate, use_color_for};
use ntpconf_edit::{Exit, Io, run};

use crate::cli::{Cli, man_page};

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(kind) = cli.generate {
        return finish_generate(kind, Cli::command(), &man_page(), Exit::Error.code());
    }
    let mut io = Io {
        stdin: &mut std::io::stdin().lock(),
        stdout: &mut std::io::stdout().lock(),
        stderr: &mut std::io::stderr().lock(),
        color: use_color_for(cli.color, &std::io::stdout()),
        fail_at: FailAt::from_env(),
    };
    let result = cli
        .into_settings()
        .and_then(|settings| run(&settings, &mut io));
    finish("ntpconf-edit", result, Exit::Error)
}
