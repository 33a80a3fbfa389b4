//! The command line of `clockcheck`: one clap definition that also feeds
//! the man page and the shell completions.  The check's options are
//! monitoring-plugins' check_ntp_time's.  Flags end here: `into_settings`
//! turns them into the library's validated [`Settings`].

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};
use clockcheck::Status;
use clockcheck::resolve::Family;
use clockcheck::settings::{
    self, CheckSettings, MAX_SAMPLES, Mode, Output, Refusal, Settings, WatchSettings,
};
use mailhost_common::cli::Generate;
use mailhost_common::conventions;

#[derive(Debug, Parser)]
#[command(
    name = "clockcheck",
    version,
    args_conflicts_with_subcommands = true,
    about = "Measure the clock offset against NTP servers (a Nagios plugin), and watch for clock jumps",
    long_about = "Without a command: query NTP servers (-H, or those of whatever keeps the time \
under --root: the server/pool/peer lines of ntp.conf where ntpd's is, else chrony.conf's sources, \
else systemd-timesyncd's NTP=) with a careful SNTP client and print one Nagios plugin line, as \
check_ntp_time does: OK, WARNING or CRITICAL by the absolute offset against the Nagios ranges \
-w and -c, CRITICAL when no server answers usefully (UNKNOWN with -q). A reply counts only if \
its mode, version, origin echo, transmit time, leap and stratum, and error bound check out; \
Kiss-o'-Death codes are honoured; timestamps are era-safe across 2036. With several servers, \
those whose offset intervals (offset ± root distance) intersect form the majority and decide; \
the others are left out as falsetickers, and without a majority the status is at least WARNING. \
Voters are counted as ntpd counts associations: each -H and each server or peer line is one \
voter, however many addresses its name has (its first address is asked, as ntpd does), and a \
pool line is one voter per address, at most 10 (ntpd's tos maxclock); so one name cannot \
outvote two others. At most 64 servers are checked; more is UNKNOWN. \
For a dovecot host, -w 1 -c 4: dovecot dies when the clock is stepped back over 5 s.\n\n\
`watch` compares the wall clock with the monotonic clock and reports every jump: a backward jump \
over 5 s is what kills dovecot. `env` says what keeps this machine's time (hypervisor and its time \
sync, clocksource, NTP daemons, the boot-time sync) and gives the errata's advice, item by item, \
with the exact commands.",
    after_help = "Exit status (Nagios): 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (usage errors too)."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    /// NTP server to query, HOST or HOST:PORT ([v6addr]:PORT); repeat for several (at most 64).
    /// Each is one voter, as a server line is for ntpd: a name with several addresses is
    /// asked at its first.  Default: the servers of ntp.conf, chrony.conf or timesyncd.conf,
    /// whichever daemon keeps the time (as `ntpconf-edit check` finds it).
    #[arg(short = 'H', long = "host", value_name = "HOST[:PORT]")]
    pub hosts: Vec<String>,

    /// Port for servers given without one.
    #[arg(short = 'p', long, default_value_t = 123)]
    pub port: u16,

    /// WARNING when the absolute offset is outside RANGE (Nagios range:
    /// `5` alerts over 5 s, `~:5` the same, `2:5` outside 2..5, `@2:5` inside).
    #[arg(
        short = 'w',
        long = "warning",
        value_name = "RANGE",
        default_value = "60",
        allow_hyphen_values = true
    )]
    pub warning: String,

    /// CRITICAL when the absolute offset is outside RANGE (checked before -w).
    #[arg(
        short = 'c',
        long = "critical",
        value_name = "RANGE",
        default_value = "120",
        allow_hyphen_values = true
    )]
    pub critical: String,

    /// More detail: one line per server after the status line (which stays
    /// first); -vv adds every sample and rejected reply.
    #[arg(short = 'v', long, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// Give up after SECS (the whole run: name resolution and every server
    /// at once; at most 86400).
    #[arg(
        short = 't',
        long = "timeout",
        value_name = "SECS",
        default_value_t = 10.0
    )]
    pub timeout: f64,

    /// Good replies wanted per server address, 1 to 100; the one with the least delay is used.
    #[arg(short = 'n', long = "samples", value_name = "N", default_value_t = 4,
          value_parser = samples_in_range)]
    pub samples: usize,

    /// IPv4 addresses only.
    #[arg(short = '4', conflicts_with = "ipv6")]
    pub ipv4: bool,

    /// IPv6 addresses only.
    #[arg(short = '6')]
    pub ipv6: bool,

    /// UNKNOWN instead of CRITICAL when servers answer but none usefully.
    #[arg(short = 'q', long)]
    pub quiet: bool,

    /// The ntp.conf to take servers from (default $ROOT/etc/ntp.conf).
    #[arg(long, value_name = "FILE")]
    pub conf: Option<PathBuf>,

    /// Look default paths (/etc/ntp.conf, /sys, /proc) up under DIR.
    #[arg(long, global = true, value_name = "DIR", default_value = "/")]
    pub root: PathBuf,

    /// Output: text (one Nagios line), json, or prometheus (a node_exporter text-file collector).
    #[arg(long, global = true, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,

    /// Write the output to FILE atomically (temporary file and rename), for
    /// node_exporter's text-file collector directory.
    #[arg(long, global = true, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Write a man page or a shell completion script to standard output.
    #[arg(long, value_enum, hide = true)]
    pub generate: Option<Generate>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Text,
    Json,
    Prometheus,
}

impl From<OutputFormat> for settings::OutputFormat {
    fn from(format: OutputFormat) -> Self {
        match format {
            OutputFormat::Text => settings::OutputFormat::Text,
            OutputFormat::Json => settings::OutputFormat::Json,
            OutputFormat::Prometheus => settings::OutputFormat::Prometheus,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Report every jump of the wall clock against the monotonic clock.
    Watch {
        /// How often to compare the clocks (1s, 500ms, 0.2).
        #[arg(long, default_value = "1s")]
        interval: String,
        /// Stop after this long and end with a Nagios status (default: run until killed).
        #[arg(long)]
        duration: Option<String>,
        /// Report jumps larger than this (0.5s).
        #[arg(long, default_value = "0.5s")]
        threshold: String,
    },
    /// What keeps this machine's time, and the errata's advice with exact commands.
    #[command(
        long_about = "What keeps this machine's (or --root's) time, and the advice of the errata \
this toolkit is built from, as items: each with a stable id, where it applies (guest or \
hypervisor-host), the problem, why, and the exact commands.\n\n\
Read: the hypervisor and its time sync (FreeBSD: kern.vm_guest, hw.hvtimesync.* through \
sysctlbyname; Linux: /sys DMI, hv_utils), running daemons (FreeBSD's process table, /proc), \
FreeBSD's rc.conf chain or Linux's enabled systemd units, the tinker values ntpd applies, and \
xinetd's dovecot services. Under --root, $ROOT/sysctl.out (saved `sysctl -a` or `sysctl -ae`) \
stands in for the kernel.\n\n\
The errata's fix: keep the Hyper-V host's clock right (a reachable NTP server, 1 hour instead \
of 7 days), step the guest at boot with ntpdate before dovecot starts, keep it right with ntpd, \
and no `tinker step 0` (40 s take 22 h to slew). Exit 1 (WARNING) while an item on the guest \
is open; the informational items do not raise it. Exit 3 (UNKNOWN) when a fact it needs \
could not be read: a directory that is no OS root, an unreadable rc.conf chain, a FreeBSD tree \
without a usable sysctl.out; --quiet never hides it."
    )]
    Env {
        /// Print nothing while the status is OK (text only: JSON and metrics are always
        /// written), so a cron job mails only when there is something to fix or something
        /// could not be read (UNKNOWN).
        #[arg(long)]
        quiet: bool,
    },
}

pub const EXAMPLES: &[(&str, &str)] = &[
    (
        "clockcheck",
        "Check against the servers of /etc/ntp.conf (Nagios line, exit 0-3).",
    ),
    (
        "clockcheck -H pool.ntp.org -w 0.5 -c 1",
        "Tight thresholds against a pool (all its addresses).",
    ),
    (
        "clockcheck -H 0.pool.ntp.org -H 1.pool.ntp.org -H 2.pool.ntp.org -w 1 -c 4",
        "Thresholds for a dovecot host (it dies when the clock steps back over 5 s); three servers, so one that lies is outvoted.",
    ),
    (
        "clockcheck -w ~:0.5 -c @10:20 -v",
        "Nagios ranges as check_ntp_time takes them; one line per server after the status line.",
    ),
    (
        "clockcheck -H 127.0.0.1:11123 --format json",
        "Every sample and every rejected reply with its reason.",
    ),
    (
        "clockcheck --format prometheus --output /var/lib/node_exporter/clock.prom",
        "For node_exporter's text-file collector (run from cron).",
    ),
    (
        "clockcheck watch --duration 1h --threshold 0.5s",
        "Watch for an hour; CRITICAL if the wall clock jumped back over 5 s.",
    ),
    (
        "clockcheck watch --duration 5m --format prometheus --output /var/lib/node_exporter/textfile/watch.prom",
        "Jump metrics for node_exporter, written when the watch ends (from cron).",
    ),
    (
        "clockcheck env",
        "Hypervisor, its time sync, the boot-time sync, and the errata's advice with exact commands.",
    ),
    (
        "clockcheck env --root /mnt/guest --format json",
        "The same for a copied FreeBSD tree ($ROOT/etc/rc.conf, $ROOT/sysctl.out).",
    ),
];

/// `-n`: 1 to [`MAX_SAMPLES`], or a usage error (UNKNOWN).
fn samples_in_range(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n) if (1..=MAX_SAMPLES).contains(&n) => Ok(n),
        _ => Err(format!("a whole number from 1 to {MAX_SAMPLES}")),
    }
}

impl Cli {
    /// The one conversion from flags to settings: a value clap let through
    /// but the library cannot use is a [`Refusal`] (UNKNOWN in the asked
    /// form, checked in the order the options are documented).
    pub fn into_settings(self) -> Result<Settings, Refusal> {
        let output = Output {
            format: self.format.into(),
            file: self.output.clone(),
        };
        let mode = match &self.command {
            None => self.check_settings().map(Mode::Check),
            Some(Command::Watch {
                interval,
                duration,
                threshold,
            }) => WatchSettings::parse(interval, duration.as_deref(), threshold, &output)
                .map(Mode::Watch),
            Some(Command::Env { quiet }) => Ok(Mode::Env { quiet: *quiet }),
        };
        match mode {
            Ok(mode) => Ok(Settings {
                root: self.root,
                output,
                mode,
            }),
            Err(why) => Err(Refusal { output, why }),
        }
    }

    fn check_settings(&self) -> Result<CheckSettings, String> {
        let (thresholds, timeout) = CheckSettings::thresholds_and_limits(
            &self.warning,
            &self.critical,
            self.timeout,
            self.samples,
        )?;
        let family = if self.ipv4 {
            Family::V4
        } else if self.ipv6 {
            Family::V6
        } else {
            Family::Any
        };
        Ok(CheckSettings {
            hosts: self.hosts.clone(),
            port: self.port,
            thresholds,
            verbose: self.verbose,
            timeout,
            samples: self.samples,
            family,
            quiet: self.quiet,
            conf: self.conf.clone(),
        })
    }
}

/// The extra sections of the man page (its EXIT STATUS is [`Status::TABLE`]).
pub fn man_page() -> conventions::ManPage<'static> {
    conventions::ManPage {
        exit_status: Status::TABLE,
        examples: EXAMPLES,
        files: &[
            (
                "/etc/ntp.conf",
                "Where the servers come from without -H (under --root).",
            ),
            (
                "/etc/rc.conf",
                "env: FreeBSD's rc.conf chain (defaults, rc.conf, rc.conf.local, rc.conf.d), under --root.",
            ),
            (
                "$ROOT/sysctl.out",
                "env: a saved `sysctl -a` that stands in for the kernel of a copied tree.",
            ),
        ],
        see_also: "check_ntp_time(8), ntpd(8), chronyd(8), ntpconf-edit(8), maillog-grep(8), xinetd-lint(8)",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_clap_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn flags_become_settings() {
        let settings =
            Cli::parse_from(["clockcheck", "-H", "a", "-6", "-vv", "-w", "1", "-t", "4"])
                .into_settings()
                .unwrap();
        let Mode::Check(check) = settings.mode else {
            panic!("not a check: {:?}", settings.mode)
        };
        assert_eq!(check.hosts, ["a"]);
        assert_eq!(check.family, Family::V6);
        assert_eq!(check.verbose, 2);
        assert_eq!(check.timeout, std::time::Duration::from_secs(4));
        let watch = Cli::parse_from(["clockcheck", "watch", "--interval", "0"]).into_settings();
        assert_eq!(watch.unwrap_err().why, "--interval must be more than 0");
        let refused = Cli::parse_from(["clockcheck", "--format", "json", "-w", "x"])
            .into_settings()
            .unwrap_err();
        assert_eq!(refused.output.format, settings::OutputFormat::Json);
        assert!(refused.why.starts_with("-w: "), "{}", refused.why);
    }
}
