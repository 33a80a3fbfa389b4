//! FreeBSD's rc.conf chain, read as `sh` reads it for rc.d scripts.
//!
//! `/etc/rc` sources `/etc/defaults/rc.conf`, whose `source_rc_confs` then
//! sources each of `rc_conf_files` (`/etc/rc.conf /etc/rc.conf.local`); each
//! script's `load_rc_config NAME` adds `/etc/rc.conf.d/NAME` and
//! `/usr/local/etc/rc.conf.d/NAME` (a file, or a directory of files).  The last
//! assignment wins.  We read plain assignments (`name=value`, with `'...'`,
//! `"..."`, `\` escapes and `$name`/`${name}` expansion of what was set
//! before) and skip every other line (an `if`, a function), as a shell reads
//! assignments in sequence.  Used by xinetd-lint (`xinetd_flags`),
//! ntpconf-edit (how the boot-time sync reads ntp.conf) and clockcheck env.
//!
//! Reading is bounded by the run's [`Budget`]: every file, every value kept
//! and every expanded value's size is drawn from it (a 429-byte file of
//! `a="$a$a"` lines would otherwise ask for 64 TiB), and a file reached
//! twice (rc.conf.d entries linked to one file) is read once.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::budget::{Budget, SeenFiles};
use crate::conventions::shell_quote;
use crate::root::Root;

/// Where a variable got its value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Assignment {
    pub value: String,
    /// The jail path of the file that set it last.
    pub file: PathBuf,
    pub line: usize,
}

/// The variables of the rc.conf chain, last assignment winning.
#[derive(Clone, Debug)]
pub struct RcConf {
    vars: BTreeMap<String, Assignment>,
    files: Vec<PathBuf>,
    /// What the values drawn from the files are charged to.
    budget: Arc<Budget>,
}

/// Two chains are equal when they read the same files to the same values
/// (whatever budget they were charged to).
impl PartialEq for RcConf {
    fn eq(&self, other: &RcConf) -> bool {
        self.vars == other.vars && self.files == other.files
    }
}

impl Eq for RcConf {}

impl Default for RcConf {
    fn default() -> RcConf {
        RcConf::with_budget(Budget::run())
    }
}

/// The files of the chain, in the order rc reads them (`rc.conf.d` entries
/// are added for every service directory found).
pub const CHAIN: [&str; 3] = [
    "/etc/defaults/rc.conf",
    "/etc/rc.conf",
    "/etc/rc.conf.local",
];
pub const SERVICE_DIRS: [&str; 2] = ["/etc/rc.conf.d", "/usr/local/etc/rc.conf.d"];

impl RcConf {
    /// Reads the whole chain under `root`.  Missing files are skipped (a
    /// Linux tree has none); any other read error is returned.
    pub fn load(root: &Root) -> io::Result<RcConf> {
        let mut conf = RcConf::default();
        let mut seen = SeenFiles::default();
        for file in CHAIN {
            conf.read_file(root, Path::new(file), &mut seen)?;
        }
        for dir in SERVICE_DIRS {
            let names = match root.read_dir(Path::new(dir)) {
                Ok(names) => names,
                Err(e) if is_missing(&e) => continue,
                Err(e) => return Err(e),
            };
            for name in names {
                let entry = Path::new(dir).join(&name);
                match root.metadata(&entry) {
                    Ok(meta) if meta.is_dir() => {
                        for inner in root.read_dir(&entry)? {
                            conf.read_file(root, &entry.join(inner), &mut seen)?;
                        }
                    }
                    Ok(_) => conf.read_file(root, &entry, &mut seen)?,
                    Err(e) if is_missing(&e) => {}
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(conf)
    }

    /// An empty chain whose values are charged to `budget`.
    pub fn with_budget(budget: Arc<Budget>) -> RcConf {
        RcConf {
            vars: BTreeMap::new(),
            files: Vec::new(),
            budget,
        }
    }

    /// Reads one file of the chain, unless the same file (device, inode)
    /// was read already under another name: sourcing it again would set the
    /// same values again.
    fn read_file(&mut self, root: &Root, file: &Path, seen: &mut SeenFiles) -> io::Result<()> {
        match root.read_config_once(file, seen) {
            Ok(Some((_, bytes))) => {
                self.parse(file, &String::from_utf8_lossy(&bytes))
                    .map_err(|e| {
                        let shown = root.display_path(file);
                        io::Error::new(e.kind(), format!("{}: {e}", shown.display()))
                    })
            }
            Ok(None) => Ok(()),
            Err(e) if is_missing(&e) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Adds the assignments of one file's text (`file` is its jail path).
    /// Fails when the values would go over the budget.
    pub fn parse(&mut self, file: &Path, text: &str) -> io::Result<()> {
        self.files.push(file.to_path_buf());
        for (index, line) in text.lines().enumerate() {
            let assignment = self
                .assignment_of(line)
                .map_err(|e| io::Error::new(e.kind(), format!("line {}: {e}", index + 1)))?;
            if let Some((name, value)) = assignment {
                // Every value kept is charged, so a run of lines that each
                // stay under the expansion limit still has an end.
                self.budget.hold((name.len() + value.len()) as u64)?;
                self.vars.insert(
                    name,
                    Assignment {
                        value,
                        file: file.to_path_buf(),
                        line: index + 1,
                    },
                );
            }
        }
        Ok(())
    }

    /// The value of `name`, if any file of the chain set it.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(|a| a.value.as_str())
    }

    /// Where `name` was set last.
    pub fn assignment(&self, name: &str) -> Option<&Assignment> {
        self.vars.get(name)
    }

    /// rc.subr's `checkyesno`: YES, TRUE, ON or 1, in any case.
    pub fn is_yes(&self, name: &str) -> bool {
        self.get(name).is_some_and(is_yes)
    }

    /// The files that were read, in order.
    pub fn files(&self) -> &[PathBuf] {
        &self.files
    }

    /// `name=value` at the start of a line (after blanks), or `None`; an
    /// error when its value would grow beyond the budget's expansion limit.
    fn assignment_of(&self, line: &str) -> io::Result<Option<(String, String)>> {
        let line = line.trim_start();
        let Some(eq) = line.find('=') else {
            return Ok(None);
        };
        let name = &line[..eq];
        let valid_name = !name.is_empty()
            && !name.starts_with(|c: char| c.is_ascii_digit())
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid_name {
            return Ok(None);
        }
        Ok(self
            .word(&line[eq + 1..])?
            .map(|value| (name.to_string(), value)))
    }

    /// Appends an expansion to a value being built, within the budget:
    /// checked before the copy, so nothing larger is ever allocated.
    fn push_expansion(&self, out: &mut String, value: &str) -> io::Result<()> {
        self.budget.expand(out.len().saturating_add(value.len()))?;
        out.push_str(value);
        Ok(())
    }

    /// One shell word: quotes removed, escapes and expansions done.  `None`
    /// for what a plain assignment cannot be (`$(...)`, backquotes, an
    /// unterminated quote).
    fn word(&self, text: &str) -> io::Result<Option<String>> {
        let mut out = String::new();
        let mut chars = text.chars().peekable();
        let mut quote: Option<char> = None;
        while let Some(c) = chars.next() {
            match (quote, c) {
                (None, ' ' | '\t' | ';') => break,
                (None, '#') if out.is_empty() => break,
                (None, '\'' | '"') => quote = Some(c),
                (Some(q), c) if c == q => quote = None,
                (Some('\''), c) => out.push(c),
                (_, '\\') => match chars.next() {
                    Some('\n') | None => {}
                    Some(next) if quote.is_none() || "$`\"\\".contains(next) => out.push(next),
                    Some(next) => {
                        out.push('\\');
                        out.push(next);
                    }
                },
                (_, '`') => return Ok(None),
                (_, '$') => match chars.peek() {
                    Some('(') => return Ok(None),
                    Some('{') => {
                        chars.next();
                        let name: String = chars.by_ref().take_while(|&c| c != '}').collect();
                        // ${name:-default} and friends: take the name part.
                        let name = name.split([':', '-', '=', '+', '?']).next().unwrap_or("");
                        self.push_expansion(&mut out, self.get(name).unwrap_or(""))?;
                    }
                    Some(&n) if n.is_ascii_alphabetic() || n == '_' => {
                        let mut name = String::new();
                        while let Some(&n) = chars.peek() {
                            if !(n.is_ascii_alphanumeric() || n == '_') {
                                break;
                            }
                            name.push(n);
                            chars.next();
                        }
                        self.push_expansion(&mut out, self.get(&name).unwrap_or(""))?;
                    }
                    _ => out.push('$'),
                },
                (_, c) => out.push(c),
            }
        }
        if quote.is_some() {
            return Ok(None);
        }
        Ok(Some(out))
    }
}

/// rc.subr's `checkyesno` on a value.
pub fn is_yes(value: &str) -> bool {
    ["yes", "true", "on", "1"]
        .iter()
        .any(|word| value.eq_ignore_ascii_case(word))
}

fn is_missing(err: &io::Error) -> bool {
    err.kind() == io::ErrorKind::NotFound
}

impl RcConf {
    /// The sysrc(8) commands that give each `(name, value)` effect: a
    /// variable is written where its last assignment is, since a later file
    /// of the chain wins over rc.conf, and plain `sysrc` edits only the
    /// rc_conf_files (rc.conf, rc.conf.local), never rc.conf.d (sysrc(8),
    /// LIMITATIONS).  One command per file, in the order the names are given;
    /// a variable set nowhere, or only in /etc/defaults/rc.conf (which sysrc
    /// never edits), goes to rc.conf.
    pub fn sysrc_commands(&self, settings: &[(&str, &str)]) -> Vec<String> {
        let mut by_file: Vec<(Option<PathBuf>, Vec<String>)> = Vec::new();
        for (name, value) in settings {
            let file = self
                .assignment(name)
                .map(|a| a.file.clone())
                .filter(|f| f != Path::new("/etc/rc.conf") && f != Path::new(CHAIN[0]));
            let word = format!("{name}={}", shell_quote(value));
            match by_file.iter_mut().find(|(f, _)| *f == file) {
                Some((_, words)) => words.push(word),
                None => by_file.push((file, vec![word])),
            }
        }
        by_file
            .into_iter()
            .map(|(file, words)| match file {
                Some(file) => format!(
                    "sysrc -f {} {}",
                    shell_quote(&file.to_string_lossy()),
                    words.join(" ")
                ),
                None => format!("sysrc {}", words.join(" ")),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sysrc_edits_the_file_that_holds_the_setting() {
        let mut rc = RcConf::default();
        rc.parse(Path::new("/etc/defaults/rc.conf"), "ntpd_enable=\"NO\"\n")
            .unwrap();
        rc.parse(Path::new("/etc/rc.conf"), "ntpdate_enable=\"NO\"\n")
            .unwrap();
        rc.parse(Path::new("/etc/rc.conf.local"), "ntpdate_flags=\"-B\"\n")
            .unwrap();
        rc.parse(
            Path::new("/etc/rc.conf.d/dovecot"),
            "dovecot_enable=\"YES\"\n",
        )
        .unwrap();
        assert_eq!(
            rc.sysrc_commands(&[("dovecot_enable", "NO")]),
            ["sysrc -f /etc/rc.conf.d/dovecot dovecot_enable=NO"]
        );
        assert_eq!(
            rc.sysrc_commands(&[
                ("ntpdate_enable", "YES"),
                ("ntpdate_flags", "-b"),
                ("ntpd_enable", "YES"),
                ("ntpd_flags", "-p /var/run/ntpd.pid")
            ]),
            [
                "sysrc ntpdate_enable=YES ntpd_enable=YES ntpd_flags='-p /var/run/ntpd.pid'",
                "sysrc -f /etc/rc.conf.local ntpdate_flags=-b",
            ]
        );
    }

    fn parsed(text: &str) -> RcConf {
        let mut conf = RcConf::default();
        conf.parse(Path::new("/etc/rc.conf"), text).unwrap();
        conf
    }

    #[test]
    fn last_assignment_wins_and_quotes_go() {
        let conf = parsed(
            "# comment\nntpd_enable=\"NO\"\nntpd_enable=\"YES\" # on\nntpdate_flags='-b'\n\
             ntpd_flags=-g\n",
        );
        assert_eq!(conf.get("ntpd_enable"), Some("YES"));
        assert_eq!(conf.assignment("ntpd_enable").unwrap().line, 3);
        assert_eq!(conf.get("ntpdate_flags"), Some("-b"));
        assert_eq!(conf.get("ntpd_flags"), Some("-g"));
        assert!(conf.is_yes("ntpd_enable"));
        assert!(!conf.is_yes("dovecot_enable"));
    }

    #[test]
    fn expansions_use_what_was_set_before() {
        let conf = parsed("base=\"-p /var/run/ntpd.pid\"\nntpd_flags=\"${base} -g\"\nx=$base\n");
        assert_eq!(conf.get("ntpd_flags"), Some("-p /var/run/ntpd.pid -g"));
        // An assignment is not split into fields: x gets the whole value.
        assert_eq!(conf.get("x"), Some("-p /var/run/ntpd.pid"));
    }

    #[test]
    fn what_is_not_an_assignment_is_skipped() {
        let conf = parsed("if [ -x /x ]; then\n  y=1\nfi\nz=$(hostname)\n2x=1\nntpd_enable=YES\n");
        // `y=1` inside an if is still an assignment in sequence, as sh would run it.
        assert_eq!(conf.get("y"), Some("1"));
        assert_eq!(conf.get("z"), None);
        assert_eq!(conf.get("2x"), None);
        assert_eq!(conf.get("ntpd_enable"), Some("YES"));
    }

    #[test]
    fn the_chain_is_read_in_rc_order_under_the_root() {
        let jail = tempfile::tempdir().unwrap();
        let etc = jail.path().join("etc");
        std::fs::create_dir_all(etc.join("defaults")).unwrap();
        std::fs::create_dir_all(etc.join("rc.conf.d")).unwrap();
        std::fs::write(
            etc.join("defaults/rc.conf"),
            "ntpd_enable=\"NO\"\nntpdate_enable=\"NO\"\n",
        )
        .unwrap();
        std::fs::write(etc.join("rc.conf"), "ntpd_enable=\"YES\"\n").unwrap();
        std::fs::write(etc.join("rc.conf.local"), "ntpdate_enable=\"YES\"\n").unwrap();
        std::fs::write(etc.join("rc.conf.d/ntpd"), "ntpd_flags=\"-g\"\n").unwrap();
        let conf = RcConf::load(&Root::new(jail.path()).unwrap()).unwrap();
        assert!(conf.is_yes("ntpd_enable"));
        assert!(conf.is_yes("ntpdate_enable"));
        assert_eq!(conf.get("ntpd_flags"), Some("-g"));
        assert_eq!(conf.files().len(), 4);
    }

    /// The attack of issue 21: each line doubles `a`; 429 bytes ask for
    /// 64 TiB.  The expansion limit stops it with an error, at once.
    #[test]
    fn doubling_expansions_end_in_an_error_not_an_abort() {
        let text = "a=xxxxxxxxxxxxxxxx\n".to_string() + &"a=\"$a$a\"\n".repeat(42);
        assert!(text.len() < 430);
        let budget = Budget::new(crate::budget::Limits::DEFAULT);
        let mut conf = RcConf::with_budget(budget.clone());
        let err = conf.parse(Path::new("/etc/rc.conf"), &text).unwrap_err();
        assert!(crate::budget::is_over_budget(&err), "{err}");
        assert!(err.to_string().contains("expansion"), "{err}");
        assert!(budget.exhausted());
        // Values below the limit are still read as sh reads them.
        assert_eq!(conf.get("a").map(str::len), Some(16 << 16));
    }

    /// Many lines that each stay under the expansion limit still end: every
    /// kept value is charged to the bytes held.
    #[test]
    fn kept_values_are_charged_to_the_budget() {
        let big = "b=".to_string() + &"y".repeat(1000) + "\n";
        let text = big + &"c=\"$b\"\n".repeat(200);
        let budget = Budget::new(crate::budget::Limits {
            bytes_held: 100_000,
            ..crate::budget::Limits::DEFAULT
        });
        let mut conf = RcConf::with_budget(budget);
        let err = conf.parse(Path::new("/etc/rc.conf"), &text).unwrap_err();
        assert!(err.to_string().contains("bytes held"), "{err}");
    }

    /// rc.conf.d entries linked to one file: read once (by inode), so the
    /// files and bytes drawn do not grow with the number of links.
    #[test]
    fn links_to_one_file_are_read_once() {
        let jail = tempfile::tempdir().unwrap();
        let etc = jail.path().join("etc");
        std::fs::create_dir_all(etc.join("rc.conf.d")).unwrap();
        std::fs::write(etc.join("big.conf"), "x_enable=YES\n".repeat(1000)).unwrap();
        for i in 0..50 {
            std::os::unix::fs::symlink("/etc/big.conf", etc.join(format!("rc.conf.d/s{i}")))
                .unwrap();
        }
        let budget = Budget::new(crate::budget::Limits {
            bytes_read: 20_000,
            ..crate::budget::Limits::DEFAULT
        });
        let root = Root::new(jail.path()).unwrap().with_budget(budget.clone());
        let conf = RcConf::load(&root).unwrap();
        assert!(conf.is_yes("x_enable"));
        assert_eq!(conf.files().len(), 1);
        assert!(!budget.exhausted());
    }
}
