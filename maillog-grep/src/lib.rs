//! `maillog-grep`: every time-jump event in mail and system logs, rotated
//! and compressed ones too, at grep speed.
//!
//! - [`scan`]: whole-buffer literal search; only lines with a literal are parsed.
//! - [`probe`]: the default mode's faster search, for backward jumps only.
//! - [`search`]: one job per file, big plain files in parts, on every core;
//!   the hits reach the [`feed`] in input order while the threads search on.
//! - [`input`]: compression by magic bytes; [`parallel_bzip2`] and [`parallel_zstd`]
//!   decode one archive's blocks or frames on every core, read out in order by [`in_order`].
//!   [`files`]: which files, in which order.
//! - [`record`]: a log line in any common format.  [`event`]: which messages are events.
//! - [`year`]: years for year-less timestamps.  [`timefilter`]: --since/--until.
//! - [`found`]: a file's hits as events.  [`feed`]: the wanted ones, file by
//!   file, to the output's sink.
//! - [`settings`]: what the run is asked for (the binary's clap flags become
//!   a `Settings`; the library never sees them).
//! - [`output`]: the one trait of the output forms; [`sinks`]: one sink per
//!   form (lines, JSON, `-c`/`-l`/`-q`, `--summary`), chosen once.
//! - [`summary`]: per host, and the step behind each dovecot event.
//! - [`context`]: `-A/-B/-C`, the lines around each event, from a second read.
//!
//! The modules depend downwards only: `run` (here) → `feed` → `sinks` →
//! `output`, `context`, `summary` → `found` → `event`, `record`, `year`.

pub mod bzip2_block;
pub mod bzip2_blocks;
pub mod context;
pub mod event;
pub mod feed;
pub mod files;
pub mod found;
pub mod helping;
pub mod in_order;
pub mod input;
pub mod mapped;
pub mod output;
pub mod parallel_bzip2;
pub mod parallel_zstd;
pub mod probe;
pub mod record;
pub mod scan;
pub mod search;
pub mod settings;
pub mod sinks;
pub mod summary;
pub mod timefilter;
pub mod year;
pub mod zstd_frames;

pub use mailhost_common::conventions;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Result, bail};

use mailhost_common::root::{Expect, Root};
use mailhost_host::dovecot::{Dovecot, Generation};

use crate::conventions::{escape_path, escape_text};
use crate::feed::{Feed, Rules, Wanted, Years};
use crate::output::{Names, Out};
use crate::search::Input;
use crate::settings::{Output, Settings};

pub use crate::found::Found;
pub use crate::timefilter::Clock;

mailhost_common::exit_statuses! {
    /// How maillog-grep exits: grep's 0/1/2 (the man page's EXIT STATUS is
    /// this table).
    pub enum Exit {
        Found = 0 => "At least one event was found.",
        NoneFound = 1 => "No event was found.",
        Error = 2 => "An error occurred (an unreadable or damaged file, bad arguments), even if events were found, unless -q was given and an event was found.",
    }
}

/// What the logic needs from the outside world, passed in so it reads no
/// clock and no environment of its own.
pub struct Env<'a> {
    pub clock: Clock,
    pub threads: usize,
    pub color: bool,
    pub stdin: &'a mut dyn Read,
    pub stdout: &'a mut dyn Write,
    pub stderr: &'a mut dyn Write,
}

/// Searches the logs the settings name and prints what they ask for.
pub fn run(settings: &Settings, env: &mut Env<'_>) -> Result<Exit> {
    let wanted = Wanted {
        events: settings.events,
        since: parse_when(settings.since.as_deref(), env)?,
        until: parse_when(settings.until.as_deref(), env)?,
    };
    let mut errored = false;
    let inputs = collect_inputs(settings, env, &mut errored)?;
    let names = Names::new(
        inputs.iter().map(Input::display).collect(),
        settings.format,
        env.color,
        settings.file_names.shown(inputs.len()),
    );
    let dovecot = Root::new(&settings.root).ok().map(|r| Dovecot::read(&r));
    let facts = sinks::host_summary::Facts {
        local_offset: env.clock.local_offset,
        generation: dovecot
            .as_ref()
            .map_or(Generation::Unknown, Dovecot::generation),
    };
    let sink = sinks::for_settings(settings, &names, facts);
    // Steps in every direction are the summary's candidate causes.
    let matcher = if settings.events.all || settings.events.summary {
        scan::Matcher::new(event::ANCHORS)
    } else {
        scan::Matcher::backward()
    };
    let count_lines = sink.needs().line_numbers;
    let years = Years {
        inputs: &inputs,
        year: settings.year,
        clock: env.clock,
    };
    let out = Out {
        stdout: &mut *env.stdout,
        stderr: &mut *env.stderr,
        errored,
    };
    let rules = Rules {
        idents: Arc::new(dovecot_idents(settings, dovecot.as_ref())),
        years,
        wanted,
    };
    let mut feed = Feed::new(rules, &names, sink, out);
    let threads = settings.threads.unwrap_or(env.threads).max(1);
    search::search_all(
        &inputs,
        &matcher,
        count_lines,
        threads,
        settings.limits,
        env.stdin,
        &mut feed,
    )?;
    let (out, found_any) = feed.finish()?;
    out.stdout.flush()?;
    let quiet = settings.output == Output::Quiet;
    Ok(if out.errored && !(quiet && found_any) {
        Exit::Error
    } else if found_any {
        Exit::Found
    } else {
        Exit::NoneFound
    })
}

fn parse_when(text: Option<&str>, env: &Env<'_>) -> Result<Option<timefilter::Instant>> {
    text.map(|t| {
        timefilter::parse(t, env.clock.now_utc, env.clock.local_offset).map_err(anyhow::Error::msg)
    })
    .transpose()
}

/// The files to read, in order.  Missing paths are reported and skipped.
fn collect_inputs(
    settings: &Settings,
    env: &mut Env<'_>,
    errored: &mut bool,
) -> Result<Vec<Input>> {
    // Every path, default or named, is looked up inside --root (the host
    // when it is `/`), through `Root`: no symlink or `..` leads out of it.
    let root = Arc::new(
        Root::new(&settings.root)
            .map_err(|e| anyhow::anyhow!("--root {}: {e}", escape_path(&settings.root)))?,
    );
    let in_root = |jail: PathBuf, expect: Expect| {
        Input::InRoot(search::InRoot {
            root: root.clone(),
            jail,
            expect,
        })
    };
    let shown = |jail: &Path| escape_path(&root.display_path(jail));
    let mut named: Vec<(PathBuf, Expect)> = settings
        .paths
        .iter()
        .map(|p| (p.clone(), Expect::Stream))
        .collect();
    if named.is_empty() {
        let candidates = [
            Path::new("/var/log/maillog"),
            Path::new("/var/log/mail.log"),
        ];
        match candidates.iter().find(|p| root.metadata(p).is_ok()) {
            // Not named by the user: a FIFO planted there is refused.
            Some(p) => named.push((p.to_path_buf(), Expect::Regular)),
            None => bail!(
                "no log to read: neither {} nor {} exists (name files to search)",
                shown(candidates[0]),
                shown(candidates[1])
            ),
        }
    }
    let mut inputs = Vec::new();
    for (path, expect) in named {
        if path.as_os_str() == "-" {
            inputs.push(Input::Stdin);
        } else if root.metadata(&path).is_ok_and(|m| m.is_dir()) {
            let walked = if root.is_host() {
                files::walk(&path)
            } else {
                files::walk_in(&root, &path)
            };
            for entry in walked {
                match entry {
                    Ok(file) => inputs.push(in_root(file, Expect::Regular)),
                    Err(e) => {
                        writeln!(env.stderr, "maillog-grep: {}", escape_text(&e))?;
                        *errored = true;
                    }
                }
            }
        } else if settings.rotated {
            let exists = |p: &Path| root.metadata(p).is_ok();
            if !exists(&path) {
                writeln!(
                    env.stderr,
                    "maillog-grep: {}: No such file or directory (os error 2)",
                    shown(&path)
                )?;
                *errored = true;
            }
            for file in files::with_rotated_in(&root, &path) {
                if file == path {
                    if exists(&file) {
                        inputs.push(in_root(file, expect));
                    }
                } else if exists(&file) {
                    // A sibling is never waited on: regular files only.
                    inputs.push(in_root(file, Expect::Regular));
                }
            }
        } else {
            inputs.push(in_root(path, expect));
        }
    }
    Ok(inputs)
}

/// Dovecot's idents: the defaults, `--dovecot-ident`, and the instance
/// names of the dovecot installed under --root (the host model every tool
/// shares; since 2.3.8 `instance_name` is its syslog ident).
fn dovecot_idents(settings: &Settings, dovecot: Option<&Dovecot>) -> event::Idents {
    let configured = dovecot.map_or(&[][..], |d| d.instance_names());
    event::Idents::with(settings.dovecot_idents.iter().chain(configured))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::Output;

    /// Runs the library on `log` as the binary would, from settings alone.
    fn run_on(log: &str, output: Output) -> (Exit, String) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("maillog");
        std::fs::write(&path, log).unwrap();
        let settings = Settings {
            paths: vec![path],
            year: Some(2025),
            output,
            ..Settings::default()
        };
        let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
        let mut env = Env {
            clock: Clock {
                now_utc: chrono::NaiveDate::from_ymd_opt(2025, 6, 1)
                    .unwrap()
                    .and_hms_opt(0, 0, 0)
                    .unwrap(),
                local_offset: 0,
            },
            threads: 1,
            color: false,
            stdin: &mut std::io::empty(),
            stdout: &mut stdout,
            stderr: &mut stderr,
        };
        let exit = run(&settings, &mut env).unwrap();
        assert!(stderr.is_empty(), "{}", String::from_utf8_lossy(&stderr));
        (exit, String::from_utf8(stdout).unwrap())
    }

    const DEATH: &str = "Mar  1 14:47:26 mx1 dovecot: Fatal: Time just moved backwards (1172760455 -> 1172760445)! This might cause a lot of problems, so I'll just kill myself now.\n";

    #[test]
    fn each_output_form_from_settings() {
        let log = format!("Mar  1 14:47:20 mx1 postfix/smtpd[1]: connect\n{DEATH}{DEATH}");
        let lines = Output::Lines {
            context: context::Around::default(),
        };
        assert_eq!(
            run_on(&log, lines),
            (Exit::Found, format!("{DEATH}{DEATH}"))
        );
        assert_eq!(run_on(&log, Output::Count), (Exit::Found, "2\n".into()));
        assert_eq!(run_on(&log, Output::Quiet), (Exit::Found, String::new()));
        let (exit, summary) = run_on(&log, Output::Summary { window: 120.0 });
        assert_eq!(exit, Exit::Found);
        assert!(
            summary.starts_with("host mx1: 2 events, 2 dovecot deaths\n"),
            "{summary}"
        );
        let quiet_log = "Mar  1 14:47:20 mx1 postfix/smtpd[1]: connect\n";
        assert_eq!(
            run_on(quiet_log, Output::Count),
            (Exit::NoneFound, "0\n".into())
        );
    }
}
