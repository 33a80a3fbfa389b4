//! The command line of `maillog-grep`: one clap definition that also feeds
//! the man page and the shell completions.  Grep's letters where grep has
//! them (`-n -H -h -c -l -q -A -B -C`), so `-h` is --no-filename and help is
//! --help.  Flags end here: [`Cli::into_settings`] makes the library's
//! `Settings`, and the library never sees clap.

use std::path::PathBuf;

use clap::{ArgAction, Parser};

use mailhost_common::cli::Generate;
use maillog_grep::Exit;
use maillog_grep::context::Around;
use maillog_grep::conventions::{self, ColorChoice, Format};
use maillog_grep::input::Limits;
use maillog_grep::settings::{Events, FileNames, Output, Settings};

#[derive(Debug, Parser)]
#[command(
    name = "maillog-grep",
    version,
    disable_help_flag = true,
    about = "Find time-went-backwards events, and the clock steps behind them, in mail and system logs",
    long_about = "Find the events that kill dovecot (\"Time just moved backwards\") and the clock steps \
behind them, in mail and system logs: plain, rotated and compressed (gzip, bzip2, xz, zstd, \
recognised by their magic bytes), in every common line format (BSD syslog, RFC 5424, rsyslog's \
RFC 3339, journalctl, dovecot's own log files).\n\n\
By default only backward jumps are reported: dovecot's messages, and clock steps that set the \
clock back (ntpd, ntpdate, NTPsec, chronyd, OpenNTPD, busybox ntpd, postfix's detector). --all adds \
every clock event (forward jumps, steps of unknown direction, kernel clocksource trouble, journald's \
and systemd's notes, and the backward steps of FreeBSD's kernel, Hyper-V's time sync, chronyd's \
initstepslew and leap seconds, whose lines the default search does not look for). The census of \
messages, with their versions, is docs/clock-messages.md. A message only \
counts when the program that writes it logged it, so mail quoting the words is not an event. \
`last message repeated N times` after an event counts N more.\n\n\
--summary lines up each dovecot backward event with the clock step that caused it: the nearest \
step on the same host within --window seconds before it. On Hyper-V the host's time sync steps \
the clock without logging anything (FreeBSD logs it only with bootverbose); then the summary says \
\"no step source found\", and when such jumps recur at a regular interval it gives the interval, \
the drift it implies and, for 7 days, Hyper-V's default host sync interval and its fix. xinetd's \
`EXIT: imap status=89` lines (a dovecot login process died) count as deaths and are tied to the \
step before them; a line logged to two files (maillog and messages) counts once; and each event \
says what it did on the dovecot installed under --root (1.x: the whole server exits; 2.x: one \
session is cut and the master holds new sessions back).",
    after_help = "Exit status: 0 an event was found, 1 none, 2 error (even if events were found, unless -q)."
)]
pub struct Cli {
    /// Logs to search: files, directories (walked), - for standard input.
    /// Default: $ROOT/var/log/maillog or $ROOT/var/log/mail.log, whichever exists.
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// Report every clock event, not only backward jumps.
    #[arg(long)]
    pub all: bool,

    /// Also read each named log's rotated siblings (maillog.0.bz2, mail.log.1, mail.log.2.gz,
    /// maillog-20250921, ...), oldest first.
    #[arg(long)]
    pub rotated: bool,

    /// The year of the last year-less timestamp of each input, 1 to 9999 (default: from the
    /// file's modification time; for standard input, the current year).
    #[arg(long, value_name = "YEAR", value_parser = clap::value_parser!(i32).range(1..=9999))]
    pub year: Option<i32>,

    /// Prefix each line with its line number.
    #[arg(short = 'n', long = "line-number")]
    pub line_number: bool,

    /// Prefix each line with its file name (the default with several files).
    #[arg(short = 'H', long = "with-filename", overrides_with = "no_filename")]
    pub with_filename: bool,

    /// Never prefix lines with the file name.
    #[arg(short = 'h', long = "no-filename", overrides_with = "with_filename")]
    pub no_filename: bool,

    /// Print NUM lines after each event, as grep does (`--` between groups; at most 1000).
    #[arg(short = 'A', long = "after-context", value_name = "NUM",
          value_parser = count_up_to(MAX_CONTEXT))]
    pub after_context: Option<usize>,

    /// Print NUM lines before each event (at most 1000).
    #[arg(short = 'B', long = "before-context", value_name = "NUM",
          value_parser = count_up_to(MAX_CONTEXT))]
    pub before_context: Option<usize>,

    /// Print NUM lines before and after each event (-A and -B override it). The lines come
    /// from a second read of each file; standard input and FIFOs are read once, so their
    /// events are printed alone. At most 1000.
    #[arg(short = 'C', long = "context", value_name = "NUM",
          value_parser = count_up_to(MAX_CONTEXT))]
    pub context: Option<usize>,

    /// Print the number of events per file (a repeat line counts N).
    #[arg(short = 'c', long)]
    pub count: bool,

    /// Print only the names of files with events. Stops reading each file at its first event.
    #[arg(short = 'l', long = "files-with-matches")]
    pub files_with_matches: bool,

    /// Print nothing; the exit status tells whether an event was found. Stops reading at the
    /// first event.
    #[arg(short = 'q', long)]
    pub quiet: bool,

    /// Per host: counts per source and kind, dovecot deaths, largest jump, first and last
    /// event, and the clock step behind each dovecot backward event.
    #[arg(long)]
    pub summary: bool,

    /// How many seconds before a dovecot event a clock step may be its cause (0 to 86400).
    #[arg(long, value_name = "SECS", default_value_t = 120.0,
          value_parser = seconds_up_to(MAX_WINDOW))]
    pub window: f64,

    /// Only events at or after this time: an RFC 3339 date or date-time, or a relative
    /// age such as 7d, 12h, 30m (at most 100 years).
    #[arg(long, value_name = "WHEN")]
    pub since: Option<String>,

    /// Only events before this time (same forms as --since).
    #[arg(long, value_name = "WHEN")]
    pub until: Option<String>,

    /// Worker threads, 1 to 256 (default: the number of CPUs).
    #[arg(short = 'j', long, value_name = "N", value_parser = count_from_one_up_to(MAX_THREADS))]
    pub threads: Option<usize>,

    /// A compressed file that decodes to more than RATIO times its compressed size (and more
    /// than 64 MiB) is reported as a probable decompression bomb and the rest of it is skipped
    /// (exit status 2, as for a damaged file). Real logs compress 5 to 30 times.
    #[arg(
        long = "max-decoded-ratio",
        value_name = "RATIO",
        default_value_t = maillog_grep::input::DEFAULT_MAX_RATIO,
        value_parser = clap::value_parser!(u64).range(2..=1_000_000_000)
    )]
    pub max_decoded_ratio: u64,

    /// Look default paths up under DIR (a jail, a mounted image, a copied /var/log).
    #[arg(long, value_name = "DIR", default_value = "/")]
    pub root: PathBuf,

    /// A syslog ident dovecot logs under besides dovecot, dovecot2, imap-login, pop3-login
    /// (its `instance_name`; repeatable). The `instance_name` of dovecot.conf under $ROOT
    /// ($ROOT/usr/local/etc/dovecot/dovecot.conf, /usr/local/etc/dovecot.conf,
    /// /etc/dovecot/dovecot.conf or /etc/dovecot.conf, the first found) is added by itself.
    #[arg(long = "dovecot-ident", value_name = "NAME")]
    pub dovecot_ident: Vec<String>,

    /// Output format: text, or JSON Lines (one object per event or per host).
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,

    /// Colour the file-name prefix: auto (terminal only, not with NO_COLOR), always, never.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    /// Print help.
    #[arg(long, action = ArgAction::Help)]
    pub help: Option<bool>,

    /// Write a man page or a shell completion script to standard output.
    #[arg(long, value_enum, hide = true)]
    pub generate: Option<Generate>,
}

/// The most lines -A, -B or -C may ask for: each held line costs memory,
/// and context of a time event is a screenful, not a log.
pub const MAX_CONTEXT: usize = 1000;

/// The most worker threads -j may ask for (each holds a read buffer).
pub const MAX_THREADS: usize = 256;

/// The longest --window: a step and the death it causes are seconds apart;
/// a day already pairs unrelated events.
pub const MAX_WINDOW: f64 = 86_400.0;

/// A count from 0 to `max`, or a usage error (exit 2) that says the range.
fn count_up_to(max: usize) -> impl Fn(&str) -> Result<usize, String> + Clone + Send + Sync {
    move |text| match text.parse::<usize>() {
        Ok(n) if n <= max => Ok(n),
        _ => Err(format!("a whole number from 0 to {max}")),
    }
}

/// A count from 1 to `max`.
fn count_from_one_up_to(
    max: usize,
) -> impl Fn(&str) -> Result<usize, String> + Clone + Send + Sync {
    move |text| match text.parse::<usize>() {
        Ok(n) if (1..=max).contains(&n) => Ok(n),
        _ => Err(format!("a whole number from 1 to {max}")),
    }
}

/// Seconds from 0 to `max` (fractions allowed; NaN and infinity are not).
fn seconds_up_to(max: f64) -> impl Fn(&str) -> Result<f64, String> + Clone + Send + Sync {
    move |text| match text.parse::<f64>() {
        Ok(s) if (0.0..=max).contains(&s) => Ok(s),
        _ => Err(format!("a number of seconds from 0 to {max}")),
    }
}

impl Cli {
    /// The settings these flags ask for.  Clap has already refused what is
    /// out of range (exit 2); the modes that exclude each other become one
    /// `Output`, by the precedence `-q`, `--summary`, `-l`, `-c`, lines.
    pub fn into_settings(self) -> Settings {
        let output = if self.quiet {
            Output::Quiet
        } else if self.summary {
            Output::Summary {
                window: self.window,
            }
        } else if self.files_with_matches {
            Output::FilesWithMatches
        } else if self.count {
            Output::Count
        } else {
            Output::Lines {
                context: self.around(),
            }
        };
        let file_names = if self.no_filename {
            FileNames::Never
        } else if self.with_filename {
            FileNames::Always
        } else {
            FileNames::Auto
        };
        Settings {
            paths: self.paths,
            rotated: self.rotated,
            root: self.root,
            year: self.year,
            events: Events {
                all: self.all,
                summary: self.summary,
            },
            since: self.since,
            until: self.until,
            dovecot_idents: self.dovecot_ident,
            output,
            format: self.format,
            line_number: self.line_number,
            file_names,
            threads: self.threads,
            limits: Limits {
                max_ratio: self.max_decoded_ratio,
            },
        }
    }

    /// The lines to print around each event (grep's -A, -B, -C): JSON
    /// prints events alone.
    fn around(&self) -> Around {
        if self.format == Format::Json {
            return Around::default();
        }
        let both = self.context.unwrap_or(0);
        Around {
            before: self.before_context.unwrap_or(both),
            after: self.after_context.unwrap_or(both),
        }
    }
}

/// The extra sections of the man page.
pub fn man_page() -> conventions::ManPage<'static> {
    conventions::ManPage {
        exit_status: Exit::TABLE,
        examples: EXAMPLES,
        files: FILES,
        see_also: "grep(1), zgrep(1), newsyslog(8), logrotate(8), xinetd-lint(8), ntpconf-edit(8), clockcheck(8)",
    }
}

const FILES: &[(&str, &str)] = &[
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
];

const EXAMPLES: &[(&str, &str)] = &[
    (
        "maillog-grep",
        "Dovecot's backward-time events and backward clock steps in /var/log/maillog (or mail.log).",
    ),
    (
        "maillog-grep --rotated --summary",
        "The same over maillog and all its rotated, compressed copies, summarised per host with the step behind each event.",
    ),
    (
        "maillog-grep --summary /var/log/maillog /var/log/messages",
        "FreeBSD: ntpd logs to messages, dovecot to maillog; read both to find causes.",
    ),
    (
        "maillog-grep --all --since 7d --format json /var/log/remote/",
        "Every clock event of the last week on a central log server, as JSON Lines.",
    ),
    (
        "maillog-grep -q --since 1d || echo ok",
        "For cron or monitoring: exit 0 when dovecot saw time go backwards in the last day.",
    ),
    (
        "maillog-grep -B 3 -n /var/log/messages",
        "Each backward step with the three lines before it, numbered, as grep -B 3 -n would show them.",
    ),
    (
        "zcat old.gz | maillog-grep -",
        "Standard input (compressed input is recognised there too).",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn settings(args: &[&str]) -> Settings {
        let mut argv = vec!["maillog-grep"];
        argv.extend_from_slice(args);
        Cli::try_parse_from(argv).unwrap().into_settings()
    }

    #[test]
    fn one_output_form_by_grep_s_precedence() {
        let quiet = settings(&["-q", "--summary", "-l", "-c"]);
        assert_eq!(quiet.output, Output::Quiet);
        // -q keeps --summary's choice of events (deaths count for the exit status).
        assert!(quiet.events.summary);
        assert_eq!(
            settings(&["--summary", "-l", "--window", "5"]).output,
            Output::Summary { window: 5.0 }
        );
        assert_eq!(settings(&["-l", "-c"]).output, Output::FilesWithMatches);
        assert_eq!(settings(&["-c", "-C", "2"]).output, Output::Count);
        assert_eq!(
            settings(&["-C", "2", "-A", "5"]).output,
            Output::Lines {
                context: Around {
                    before: 2,
                    after: 5
                }
            }
        );
        // JSON prints events alone.
        assert_eq!(
            settings(&["--format", "json", "-C", "2"]).output,
            Output::Lines {
                context: Around::default()
            }
        );
    }

    #[test]
    fn the_last_of_h_and_no_h_wins() {
        assert_eq!(settings(&["-H", "-h"]).file_names, FileNames::Never);
        assert_eq!(settings(&["-h", "-H"]).file_names, FileNames::Always);
        assert_eq!(settings(&[]).file_names, FileNames::Auto);
    }

    #[test]
    fn the_exit_status_table_is_grep_s() {
        let codes: Vec<&str> = man_page().exit_status.iter().map(|(c, _)| *c).collect();
        assert_eq!(codes, ["0", "1", "2"]);
        assert_eq!(
            (
                Exit::Found.code(),
                Exit::NoneFound.code(),
                Exit::Error.code()
            ),
            (0, 1, 2)
        );
    }
}
