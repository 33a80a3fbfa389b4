//! `maillog-grep`: every time-jump event in mail and system logs, rotated
//! and compressed ones too, at grep speed.
//!
//! - [`scan`]: whole-buffer literal search; only lines with a literal are parsed.
//! - [`probe`]: the default mode's faster search, for backward jumps only.
//! - [`search`]: one job per file, big plain files in parts, on every core;
//!   the hits reach the report in input order while the threads search on.
//! - [`input`]: compression by magic bytes; [`parallel_bzip2`] and [`parallel_zstd`]
//!   decode one archive's blocks or frames on every core, read out in order by [`in_order`].
//!   [`files`]: which files, in which order.
//! - [`record`]: a log line in any common format.  [`event`]: which messages are events.
//! - [`year`]: years for year-less timestamps.  [`timefilter`]: --since/--until.
//! - [`found`]: a file's hits as events.  [`report`]: printing them, file by file.
//! - [`summary`]: per host, and the step behind each dovecot event.
//! - [`context`]: `-A/-B/-C`, the lines around each event, from a second read.

pub mod bzip2_block;
pub mod bzip2_blocks;
pub mod cli;
pub mod context;
pub mod event;
pub mod files;
pub mod found;
pub mod helping;
pub mod in_order;
pub mod input;
pub mod mapped;
pub mod parallel_bzip2;
pub mod parallel_zstd;
pub mod probe;
pub mod record;
pub mod report;
pub mod scan;
pub mod search;
pub mod summary;
pub mod timefilter;
pub mod year;
pub mod zstd_frames;

pub use mailhost_common::conventions;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use chrono::{NaiveDateTime, TimeDelta};

use crate::cli::Cli;
use mailhost_common::root::{Expect, Root};

use crate::conventions::{Format, escape_path, escape_text};
use crate::search::Input;

pub const EXIT_FOUND: u8 = 0;
pub const EXIT_NONE: u8 = 1;
pub const EXIT_ERROR: u8 = 2;

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

pub use found::Found;

pub fn run(cli: &Cli, env: &mut Env<'_>) -> Result<u8> {
    let since = parse_when(cli.since.as_deref(), env)?;
    let until = parse_when(cli.until.as_deref(), env)?;
    let mut errored = false;
    let inputs = collect_inputs(cli, env, &mut errored)?;
    let matcher = if cli.all || cli.summary {
        scan::Matcher::new(event::ANCHORS)
    } else {
        scan::Matcher::backward()
    };
    let count_lines = cli.line_number || cli.format == Format::Json || cli.summary;
    let threads = cli.threads.unwrap_or(env.threads).max(1);
    // Text output escapes control characters in names (a file name with a
    // newline cannot forge a line); JSON is escaped by serde.
    let names: Vec<String> = inputs
        .iter()
        .map(Input::display)
        .map(|n| match cli.format {
            Format::Json => n,
            Format::Text => escape_text(&n).into_owned(),
        })
        .collect();
    let output = report::Output {
        stdout: &mut *env.stdout,
        stderr: &mut *env.stderr,
        color: env.color,
    };
    let mut report = report::Report::new(cli, output, env.clock, &inputs, &names, since, until);
    let dovecot = dovecot_model(cli);
    report.idents = std::sync::Arc::new(dovecot_idents(cli, dovecot.as_ref()));
    search::search_all(
        &inputs,
        &matcher,
        count_lines,
        threads,
        cli.decode_limits(),
        env.stdin,
        &mut report,
    )?;
    errored |= report.errored;
    let found_any = report.found_any;
    let (summary_shown, summary_steps) = (report.summary_shown, report.summary_steps);
    if cli.summary && !cli.quiet {
        let shown: Vec<&Found> = summary_shown.iter().collect();
        let steps: Vec<&Found> = summary_steps.iter().collect();
        let generation = dovecot
            .as_ref()
            .map_or(mailhost_host::dovecot::Generation::Unknown, |d| {
                d.generation()
            });
        let summaries = summary::summarize(
            &shown,
            &steps,
            &names,
            cli.window,
            env.clock.local_offset,
            generation,
        );
        match cli.format {
            Format::Json => {
                for s in &summaries {
                    serde_json::to_writer(&mut *env.stdout, s)?;
                    writeln!(env.stdout)?;
                }
            }
            Format::Text => summary::write_text(env.stdout, &summaries, cli.window)?,
        }
    }
    env.stdout.flush()?;
    Ok(if errored && !(cli.quiet && found_any) {
        EXIT_ERROR
    } else if found_any {
        EXIT_FOUND
    } else {
        EXIT_NONE
    })
}

fn parse_when(text: Option<&str>, env: &Env<'_>) -> Result<Option<timefilter::Instant>> {
    text.map(|t| {
        timefilter::parse(t, env.clock.now_utc, env.clock.local_offset).map_err(anyhow::Error::msg)
    })
    .transpose()
}

/// The files to read, in order.  Missing paths are reported and skipped.
fn collect_inputs(cli: &Cli, env: &mut Env<'_>, errored: &mut bool) -> Result<Vec<Input>> {
    // Every path, default or named, is looked up inside --root (the host
    // when it is `/`), through `Root`: no symlink or `..` leads out of it.
    let root = std::sync::Arc::new(
        Root::new(&cli.root)
            .map_err(|e| anyhow::anyhow!("--root {}: {e}", escape_path(&cli.root)))?,
    );
    let in_root = |jail: PathBuf, expect: Expect| {
        Input::InRoot(search::InRoot {
            root: root.clone(),
            jail,
            expect,
        })
    };
    let shown = |jail: &Path| escape_path(&root.display_path(jail));
    let mut named: Vec<(PathBuf, Expect)> = cli
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
        } else if cli.rotated {
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

/// The dovecot installed under --root (the host model every tool shares):
/// its `instance_name` (since 2.3.8 its syslog ident) and its generation,
/// which decides what a death did.  Nothing readable: unknown.
fn dovecot_model(cli: &Cli) -> Option<mailhost_host::dovecot::Dovecot> {
    let root = Root::new(&cli.root).ok()?;
    Some(mailhost_host::dovecot::Dovecot::read(&root))
}

/// Dovecot's idents: the defaults, `--dovecot-ident`, and the model's
/// instance names.
fn dovecot_idents(cli: &Cli, dovecot: Option<&mailhost_host::dovecot::Dovecot>) -> event::Idents {
    let configured = dovecot.map_or(&[][..], |d| d.instance_names());
    event::Idents::with(cli.dovecot_ident.iter().chain(configured))
}

/// The time now, and the time zone of the machine reading the logs.
#[derive(Clone, Copy, Debug)]
pub struct Clock {
    pub now_utc: NaiveDateTime,
    /// Seconds east of UTC of the machine reading the logs.
    pub local_offset: i32,
}

/// `--year`, or the local time a file was last written (for standard
/// input, now).
pub(crate) fn year_anchor(cli: &Cli, clock: &Clock, input: &Input) -> year::Anchor {
    if let Some(year) = cli.year {
        return year::Anchor::Year(year);
    }
    let now_local = clock.now_utc + TimeDelta::seconds(i64::from(clock.local_offset));
    if matches!(input, Input::Stdin) {
        return year::Anchor::Written(now_local);
    }
    let modified = input.metadata().and_then(|m| m.modified()).ok();
    let written = modified.and_then(|m| {
        chrono::DateTime::<chrono::Utc>::from(m)
            .naive_utc()
            .checked_add_signed(TimeDelta::seconds(i64::from(clock.local_offset)))
    });
    year::Anchor::Written(written.unwrap_or(now_local))
}

/// The extra sections of the man page.
pub fn man_page() -> conventions::ManPage<'static> {
    conventions::ManPage {
        exit_status: cli::EXIT_STATUS,
        examples: cli::EXAMPLES,
        files: &[
            (
                "/var/log/maillog",
                "FreeBSD's mail log, read by default (under --root).",
            ),
            (
                "/var/log/mail.log",
                "Debian's mail log, read by default when there is no maillog.",
            ),
            (
                "/usr/local/etc/dovecot/dovecot.conf",
                "FreeBSD's dovecot.conf (under --root; 1.x: /usr/local/etc/dovecot.conf): its instance_name is a dovecot ident, its shape tells 1.x from 2.x.",
            ),
            (
                "/etc/dovecot/dovecot.conf",
                "Linux's dovecot.conf (1.0: /etc/dovecot.conf), read when FreeBSD's is missing.",
            ),
            (
                "/var/lib/dpkg/status",
                "Debian's package database (under --root): the dovecot version, whose generation decides what a death did.",
            ),
        ],
        see_also: "grep(1), zgrep(1), newsyslog(8), logrotate(8), xinetd-lint(8), ntpconf-edit(8), clockcheck(8)",
    }
}
