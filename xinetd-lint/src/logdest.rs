//! Where a service's log records end up: its `log_type` (or the defaults',
//! or xinetd's own default, `SYSLOG daemon info`) and, for syslog, the files
//! syslogd sends that facility and level to, from the tree's syslog.conf
//! (FreeBSD's, with its `include` directories and `!prog` blocks) and
//! rsyslog's rsyslog.conf + rsyslog.d/*.conf selector lines, matched as
//! syslogd matches them.  XL044 and `--log-files` say this.

use std::path::Path;

use crate::config::{Defaults, Service, Setting};
use crate::host::Host;

/// xinetd's default when neither the service nor the defaults say
/// (`DEFAULT_SYSLOG_FACILITY` daemon, `DEFAULT_SYSLOG_LEVEL` info).
pub const DEFAULT_FACILITY: &str = "daemon";
pub const DEFAULT_LEVEL: &str = "info";
/// The ident xinetd logs with (what a `!prog` block of syslog.conf names).
pub const PROGRAM: &str = "xinetd";

/// A service's `log_type`, as xinetd applies it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Destination {
    File(String),
    Syslog { facility: String, level: String },
}

/// The destination and where it was set (`None`: xinetd's default).
pub struct LogType {
    pub destination: Destination,
    pub set_at: Option<(String, usize)>,
}

fn from_setting(setting: &Setting) -> Option<Destination> {
    let kind = setting.values.first()?;
    if kind.eq_ignore_ascii_case("FILE") {
        return setting.values.get(1).map(|p| Destination::File(p.clone()));
    }
    if kind.eq_ignore_ascii_case("SYSLOG") {
        let facility = setting.values.get(1)?.to_ascii_lowercase();
        let level = setting
            .values
            .get(2)
            .map_or(DEFAULT_LEVEL.to_string(), |l| l.to_ascii_lowercase());
        return Some(Destination::Syslog { facility, level });
    }
    None
}

/// The log_type that applies to `service`: its own, else the defaults'.
pub fn log_type(service: &Service, defaults: &Defaults) -> LogType {
    if let Some(setting) = service.attrs.get("log_type")
        && let Some(destination) = from_setting(setting)
    {
        return LogType {
            destination,
            set_at: Some((service.file.clone(), setting.line)),
        };
    }
    if let Some(setting) = defaults.attrs.get("log_type")
        && let Some(destination) = from_setting(setting)
    {
        return LogType {
            destination,
            set_at: Some((defaults.file.clone().unwrap_or_default(), setting.line)),
        };
    }
    LogType {
        destination: Destination::Syslog {
            facility: DEFAULT_FACILITY.into(),
            level: DEFAULT_LEVEL.into(),
        },
        set_at: None,
    }
}

/// syslog priorities, most severe first (syslog.h numbering).
const LEVELS: [&str; 8] = [
    "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug",
];

fn level_number(name: &str) -> Option<usize> {
    let name = name.to_ascii_lowercase();
    let name = match name.as_str() {
        "panic" => "emerg",
        "error" => "err",
        "warn" => "warning",
        other => other,
    };
    LEVELS.iter().position(|l| *l == name)
}

/// Whether one selector's level part (`info`, `=info`, `!info`, `<=notice`,
/// `*`, `none`) takes a message of priority `p`.
fn level_matches(spec: &str, p: usize) -> bool {
    let spec = spec.trim();
    match spec {
        "*" => return true,
        "none" => return false,
        _ => {}
    }
    // FreeBSD's comparison flags and rsyslog's `!` and `=`.
    let (negate, rest) = match spec.strip_prefix('!') {
        Some(rest) => (true, rest),
        None => (false, spec),
    };
    let flag_len = rest
        .find(|c: char| !matches!(c, '<' | '=' | '>'))
        .unwrap_or(rest.len());
    let (flags, name) = rest.split_at(flag_len);
    let level = if name == "*" {
        Some(LEVELS.len() - 1)
    } else {
        level_number(name)
    };
    let Some(level) = level else {
        return false; // an unknown level selects nothing
    };
    // Lower numbers are more severe: `>` means more severe than.
    let (lt, eq, gt) = (p > level, p == level, p < level);
    let hit = match flags {
        "" => eq || gt,
        "=" => eq,
        "<" => lt,
        ">" => gt,
        "<=" | "=<" => lt || eq,
        ">=" | "=>" => gt || eq,
        "<>" | "><" => lt || gt,
        _ => false,
    };
    hit != negate
}

/// Whether a selector field (`*.info;mail.none;daemon.=debug`) takes
/// facility `facility` at priority `p`: the last part naming the facility
/// (or `*`) decides, as syslogd builds its masks.
pub fn selector_matches(selector: &str, facility: &str, p: usize) -> bool {
    let mut taken = false;
    for part in selector.split(';') {
        let Some((facilities, level)) = part.rsplit_once('.') else {
            continue;
        };
        let names_it = facilities
            .split(',')
            .any(|f| f.trim() == "*" || f.trim().eq_ignore_ascii_case(facility));
        if names_it {
            taken = level_matches(level, p);
        }
    }
    taken
}

/// One selector line that writes to a file.
#[derive(Clone, Debug)]
pub struct Rule {
    pub selector: String,
    /// The log file, as the tree's own system names it (empty for a stop).
    pub file: String,
    /// rsyslog's `stop` (or `~`): what this rule takes goes no further.
    pub stop: bool,
    /// The configuration file (as shown) and line it is on.
    pub origin: String,
    pub line: usize,
}

/// The selector lines of the tree's syslog configuration.
#[derive(Default)]
pub struct SyslogConf {
    pub rules: Vec<Rule>,
    /// The configuration files read (as shown).
    pub read: Vec<String>,
}

/// The syslog files read so far, by (device, inode).
type Done = mailhost_common::budget::SeenFiles;

/// Where syslogd and rsyslogd read their configuration, in order.
const MAIN_FILES: [&str; 2] = ["/etc/syslog.conf", "/etc/rsyslog.conf"];
/// Directories read whether or not the main file names them: FreeBSD's
/// syslog.d (its syslog.conf includes both) and rsyslog.d.
const CONF_DIRS: [&str; 3] = ["/etc/syslog.d", "/usr/local/etc/syslog.d", "/etc/rsyslog.d"];

impl SyslogConf {
    pub fn load(host: &dyn Host) -> SyslogConf {
        let mut conf = SyslogConf::default();
        let mut done = Done::default();
        for file in MAIN_FILES {
            conf.read_file(host, Path::new(file), &mut done, 0);
        }
        for dir in CONF_DIRS {
            conf.read_dir(host, Path::new(dir), &mut done, 0);
        }
        conf
    }

    fn read_dir(&mut self, host: &dyn Host, dir: &Path, done: &mut Done, depth: usize) {
        let Ok(names) = host.read_dir(dir) else {
            return;
        };
        for name in names {
            if name.to_string_lossy().ends_with(".conf") {
                self.read_file(host, &dir.join(name), done, depth);
            }
        }
    }

    fn read_file(&mut self, host: &dyn Host, file: &Path, done: &mut Done, depth: usize) {
        if depth > 4 {
            return;
        }
        let Ok(handle) = host.open_config(file) else {
            return;
        };
        // Once per file (device, inode), by whatever name or link it is
        // reached; every read drawn from the run's budget.
        let Ok(meta) = handle.metadata() else {
            return;
        };
        if !done.first_time(mailhost_common::files::FileId::of(&meta)) {
            return;
        }
        let budget = host.root().map(|root| root.budget());
        if budget.is_some_and(|b| b.open_file().is_err()) {
            return;
        }
        let Ok(bytes) =
            mailhost_common::root::read_at_most(handle, crate::conventions::MAX_CONFIG_BYTES)
        else {
            return;
        };
        if budget.is_some_and(|b| b.read_bytes(bytes.len() as u64).is_err()) {
            return;
        }
        let shown = host.display(file).display().to_string();
        self.read.push(shown.clone());
        // A `!prog` block: its lines apply only to the programs it names.
        let mut for_xinetd = true;
        for (n, raw) in String::from_utf8_lossy(&bytes).lines().enumerate() {
            let line = raw.trim();
            let block = block_line(line);
            if let Some((kind, spec)) = block {
                let spec = spec.trim();
                match kind {
                    '!' => for_xinetd = program_matches(spec),
                    // A host block: only the local host (`@`) or all (`*`).
                    _ => for_xinetd = kind == '+' && matches!(spec, "*" | "@" | ""),
                }
                continue;
            }
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            // rsyslog reads included files where the include stands.
            if let Some(pattern) = rsyslog_include(line) {
                self.read_pattern(host, &pattern, done, depth + 1);
                continue;
            }
            if line.starts_with('$') {
                continue;
            }
            if let Some(target) = line
                .strip_prefix("include")
                .filter(|r| r.starts_with([' ', '\t']))
            {
                let target = Path::new(target.trim());
                match host.metadata(target) {
                    Ok(m) if m.is_dir() => self.read_dir(host, target, done, depth + 1),
                    Ok(_) => self.read_file(host, target, done, depth + 1),
                    Err(_) => {}
                }
                continue;
            }
            if !for_xinetd {
                continue;
            }
            // `& stop` ends what the rule before it took.
            if let Some(action) = line.strip_prefix('&') {
                if is_stop(action.trim())
                    && let Some(last) = self.rules.last().filter(|r| r.origin == shown)
                {
                    let mut stop = last.clone();
                    stop.stop = true;
                    stop.file.clear();
                    stop.line = n + 1;
                    self.rules.push(stop);
                }
                continue;
            }
            // A filter on the program name: `:programname, isequal, "xinetd"`
            // or `if $programname == 'xinetd' then`; it takes every priority.
            let (selector, action) = match program_filter(line) {
                Some(ProgramFilter::Other) => continue,
                Some(ProgramFilter::Xinetd(action)) => ("*.*", action),
                None => match line.split_once([' ', '\t']) {
                    Some(split) => split,
                    None => continue,
                },
            };
            // rsyslog's legacy form: `-/var/log/x;Template`; sysklogd's `-` (no sync).
            let action = action.trim();
            let stop = is_stop(action);
            let action = action.strip_prefix('-').unwrap_or(action);
            let action = action.split(';').next().unwrap_or(action);
            if !selector.contains('.')
                || !(stop || action.starts_with('/'))
                || action.starts_with("/dev/")
            {
                continue;
            }
            self.rules.push(Rule {
                selector: selector.to_string(),
                file: if stop {
                    String::new()
                } else {
                    action.to_string()
                },
                stop,
                origin: shown.clone(),
                line: n + 1,
            });
        }
    }

    /// `DIR/*.conf` (or `DIR/*`, or one file) as rsyslog's includes name them.
    fn read_pattern(&mut self, host: &dyn Host, pattern: &str, done: &mut Done, depth: usize) {
        let path = Path::new(pattern);
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let Some(dir) = path.parent() else {
            return;
        };
        match name.strip_prefix('*') {
            Some(suffix) => {
                let Ok(names) = host.read_dir(dir) else {
                    return;
                };
                for entry in names {
                    if entry.to_string_lossy().ends_with(suffix) {
                        self.read_file(host, &dir.join(entry), done, depth);
                    }
                }
            }
            None => self.read_file(host, path, done, depth),
        }
    }

    /// The rules that take `facility.level`, in file order.
    pub fn files_for(&self, facility: &str, level: &str) -> Vec<&Rule> {
        let Some(p) = level_number(level) else {
            return Vec::new();
        };
        let mut taken = Vec::new();
        for rule in self
            .rules
            .iter()
            .filter(|r| selector_matches(&r.selector, facility, p))
        {
            if rule.stop {
                break;
            }
            taken.push(rule);
        }
        taken
    }
}

fn is_stop(action: &str) -> bool {
    action == "stop" || action == "~"
}

/// `$IncludeConfig PATTERN` or `include(file="PATTERN" ...)`.
fn rsyslog_include(line: &str) -> Option<String> {
    if let Some(rest) = line.strip_prefix("$IncludeConfig") {
        return Some(rest.trim().to_string());
    }
    let rest = line.strip_prefix("include(")?;
    let at = rest.find("file=\"")? + 6;
    let end = rest[at..].find('"')?;
    Some(rest[at..at + end].to_string())
}

enum ProgramFilter<'a> {
    /// The filter takes xinetd's messages; the action follows.
    Xinetd(&'a str),
    /// A filter that takes something else (or that we cannot read).
    Other,
}

/// rsyslog's property filter on the program name or tag, and the
/// one-line RainerScript `if $programname == 'x' then ACTION`.
fn program_filter(line: &str) -> Option<ProgramFilter<'_>> {
    let (property, op, value, action) = if let Some(rest) = line.strip_prefix(':') {
        let mut parts = rest.splitn(3, ',');
        let property = parts.next()?.trim();
        let op = parts.next()?.trim();
        let rest = parts.next()?.trim_start();
        let rest = rest.strip_prefix('"')?;
        let end = rest.find('"')?;
        (property, op, &rest[..end], rest[end + 1..].trim())
    } else if let Some(rest) = line.strip_prefix("if ") {
        let (condition, action) = rest.split_once(" then ")?;
        let condition = condition.trim().trim_start_matches('$');
        let (property, op, value) = if let Some((p, v)) = condition.split_once("==") {
            (p.trim(), "isequal", v.trim())
        } else if let Some((p, v)) = condition.split_once(" startswith ") {
            (p.trim(), "startswith", v.trim())
        } else if let Some((p, v)) = condition.split_once(" contains ") {
            (p.trim(), "contains", v.trim())
        } else {
            return Some(ProgramFilter::Other);
        };
        (property, op, value.trim_matches(['\'', '"']), action.trim())
    } else {
        return None;
    };
    let subject = match property {
        "programname" => PROGRAM.to_string(),
        "syslogtag" => format!("{PROGRAM}["),
        _ => return Some(ProgramFilter::Other),
    };
    let (negate, op) = match op.strip_prefix('!') {
        Some(op) => (true, op),
        None => (false, op),
    };
    let hit = match op {
        "isequal" => subject == value,
        "startswith" => subject.starts_with(value),
        "contains" => subject.contains(value),
        _ => return Some(ProgramFilter::Other),
    };
    Some(if hit != negate {
        ProgramFilter::Xinetd(action)
    } else {
        ProgramFilter::Other
    })
}

/// A FreeBSD block line: `!prog` (or `#!prog`), `+host`, `-host`.
fn block_line(line: &str) -> Option<(char, &str)> {
    let hostish = |h: &str| {
        !h.is_empty()
            && h.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b".-_@*".contains(&b))
    };
    if let Some(spec) = line.strip_prefix("#!").or_else(|| line.strip_prefix('!')) {
        let spec = spec.trim();
        return (!spec.is_empty() && !spec.contains([' ', '\t'])).then_some(('!', spec));
    }
    if let Some(host) = line.strip_prefix('+') {
        return hostish(host.trim()).then_some(('+', host.trim()));
    }
    if let Some(host) = line.strip_prefix('-') {
        return hostish(host.trim()).then_some(('-', host.trim()));
    }
    None
}

/// `!prog,prog2` applies to xinetd when it names it; `!-prog` when it does
/// not; `!*` to everything.
fn program_matches(spec: &str) -> bool {
    if spec == "*" || spec.is_empty() {
        return true;
    }
    match spec.strip_prefix('-') {
        Some(excluded) => !excluded.split(',').any(|p| p.trim() == PROGRAM),
        None => spec.split(',').any(|p| p.trim() == PROGRAM),
    }
}

/// Where one service's records go: the log files (jail paths) and the
/// sentence XL044 prints.
pub struct Place {
    pub files: Vec<String>,
    pub sentence: String,
}

pub fn place(service: &Service, defaults: &Defaults, syslog: &SyslogConf) -> Place {
    let log = log_type(service, defaults);
    let source = match &log.set_at {
        Some((file, line)) => format!("log_type at {file}:{line}"),
        None => "xinetd's default log_type".to_string(),
    };
    match log.destination {
        Destination::File(path) => Place {
            sentence: format!("to the file {path} ({source})"),
            files: vec![path],
        },
        Destination::Syslog { facility, level } => {
            let rules = syslog.files_for(&facility, &level);
            let mut files: Vec<String> = Vec::new();
            for rule in &rules {
                if !files.contains(&rule.file) {
                    files.push(rule.file.clone());
                }
            }
            let whither = if syslog.read.is_empty() {
                "; no syslog.conf or rsyslog.conf in the tree says which file that is".to_string()
            } else if rules.is_empty() {
                format!(
                    ", which no selector line of {} sends to a file",
                    syslog.read.join(", ")
                )
            } else {
                let parts: Vec<String> = rules
                    .iter()
                    .map(|r| format!("{} ({}:{})", r.file, r.origin, r.line))
                    .collect();
                format!(", which syslogd writes to {}", parts.join(", "))
            };
            Place {
                sentence: format!("to syslog {facility}.{level} ({source}){whither}"),
                files,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_match_as_syslogd_does() {
        let info = level_number("info").unwrap();
        let debug = level_number("debug").unwrap();
        assert!(selector_matches("*.info", "daemon", info));
        assert!(
            !selector_matches("*.notice", "daemon", info),
            "FreeBSD's /var/log/messages line"
        );
        assert!(!selector_matches("*.info;daemon.none", "daemon", info));
        assert!(selector_matches("daemon.none;*.info", "daemon", info));
        assert!(selector_matches("mail,daemon.info", "daemon", info));
        assert!(selector_matches("daemon.*", "daemon", debug));
        assert!(!selector_matches("daemon.=debug", "daemon", info));
        assert!(selector_matches("daemon.=info", "daemon", info));
        assert!(!selector_matches("daemon.!info", "daemon", info));
        assert!(selector_matches("daemon.!notice", "daemon", info));
        assert!(selector_matches("daemon.<=info", "daemon", info));
        assert!(!selector_matches("daemon.>info", "daemon", info));
        assert!(!selector_matches("mail.info", "daemon", info));
        assert!(selector_matches(
            "daemon.warn",
            "daemon",
            level_number("err").unwrap()
        ));
    }

    fn conf(text: &str) -> SyslogConf {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("etc/rsyslog.d")).unwrap();
        std::fs::write(dir.path().join("etc/rsyslog.conf"), text).unwrap();
        std::fs::write(
            dir.path().join("etc/rsyslog.d/30-xinetd.conf"),
            ":programname, isequal, \"xinetd\" /var/log/xinetd.log\n& stop\n",
        )
        .unwrap();
        SyslogConf::load(&crate::host::RootHost::new(dir.path()))
    }

    fn files(conf: &SyslogConf) -> Vec<&str> {
        conf.files_for("daemon", "info")
            .iter()
            .map(|r| r.file.as_str())
            .collect()
    }

    #[test]
    fn rsyslog_program_filters_includes_and_stop() {
        // Included before the catch-all line, as rsyslog reads it: stop wins.
        let c =
            conf("$IncludeConfig /etc/rsyslog.d/*.conf\n*.*;auth,authpriv.none -/var/log/syslog\n");
        assert_eq!(files(&c), ["/var/log/xinetd.log"]);
        // Included after it: both files.
        let c = conf(
            "*.*;auth,authpriv.none -/var/log/syslog\ninclude(file=\"/etc/rsyslog.d/*.conf\" mode=\"optional\")\n",
        );
        assert_eq!(files(&c), ["/var/log/syslog", "/var/log/xinetd.log"]);
        let c = conf(
            "if $programname == 'xinetd' then /var/log/xi.log\nif $programname == 'sshd' then /var/log/ssh.log\n:syslogtag, startswith, \"xinetd[\" /var/log/tag.log\n",
        );
        assert_eq!(
            files(&c),
            ["/var/log/xi.log", "/var/log/tag.log", "/var/log/xinetd.log"]
        );
    }

    /// Issue 21: includes were deduplicated by path only, so links to one
    /// file (or `a/../a`) read it again for every name.
    #[test]
    fn a_file_reached_by_many_names_is_read_once() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().join("etc/rsyslog.d");
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("real.conf"), "daemon.* /var/log/d.log\n").unwrap();
        for i in 0..20 {
            std::os::unix::fs::symlink("real.conf", d.join(format!("l{i}.conf"))).unwrap();
        }
        std::fs::write(
            dir.path().join("etc/rsyslog.conf"),
            "include /etc/rsyslog.d/real.conf\ninclude /etc/rsyslog.d/../rsyslog.d/real.conf\n",
        )
        .unwrap();
        let c = SyslogConf::load(&crate::host::RootHost::new(dir.path()));
        assert_eq!(files(&c), ["/var/log/d.log"]);
        assert_eq!(c.read.len(), 2, "{:?}", c.read); // rsyslog.conf and real.conf
    }

    #[test]
    fn program_blocks() {
        assert!(program_matches("xinetd"));
        assert!(program_matches("ppp,xinetd"));
        assert!(!program_matches("ppp"));
        assert!(program_matches("-ppp"));
        assert!(!program_matches("-xinetd"));
        assert!(program_matches("*"));
    }
}
