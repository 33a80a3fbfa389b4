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

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

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
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RcConf {
    vars: BTreeMap<String, Assignment>,
    files: Vec<PathBuf>,
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
        for file in CHAIN {
            conf.read_file(root, Path::new(file))?;
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
                            conf.read_file(root, &entry.join(inner))?;
                        }
                    }
                    Ok(_) => conf.read_file(root, &entry)?,
                    Err(e) if is_missing(&e) => {}
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(conf)
    }

    fn read_file(&mut self, root: &Root, file: &Path) -> io::Result<()> {
        match root.read_config(file) {
            Ok(bytes) => {
                self.parse(file, &String::from_utf8_lossy(&bytes));
                Ok(())
            }
            Err(e) if is_missing(&e) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Adds the assignments of one file's text (`file` is its jail path).
    pub fn parse(&mut self, file: &Path, text: &str) {
        self.files.push(file.to_path_buf());
        for (index, line) in text.lines().enumerate() {
            if let Some((name, value)) = self.assignment_of(line) {
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

    /// `name=value` at the start of a line (after blanks), or `None`.
    fn assignment_of(&self, line: &str) -> Option<(String, String)> {
        let line = line.trim_start();
        let eq = line.find('=')?;
        let name = &line[..eq];
        let valid_name = !name.is_empty()
            && !name.starts_with(|c: char| c.is_ascii_digit())
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid_name {
            return None;
        }
        self.word(&line[eq + 1..])
            .map(|value| (name.to_string(), value))
    }

    /// One shell word: quotes removed, escapes and expansions done.  `None`
    /// for what a plain assignment cannot be (`$(...)`, backquotes, an
    /// unterminated quote).
    fn word(&self, text: &str) -> Option<String> {
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
                (_, '`') => return None,
                (_, '$') => match chars.peek() {
                    Some('(') => return None,
                    Some('{') => {
                        chars.next();
                        let name: String = chars.by_ref().take_while(|&c| c != '}').collect();
                        // ${name:-default} and friends: take the name part.
                        let name = name.split([':', '-', '=', '+', '?']).next().unwrap_or("");
                        out.push_str(self.get(name).unwrap_or(""));
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
                        out.push_str(self.get(&name).unwrap_or(""));
                    }
                    _ => out.push('$'),
                },
                (_, c) => out.push(c),
            }
        }
        if quote.is_some() {
            return None;
        }
        Some(out)
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
            let word = format!("{name}={}", sh_quote(value));
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
                    sh_quote(&file.to_string_lossy()),
                    words.join(" ")
                ),
                None => format!("sysrc {}", words.join(" ")),
            })
            .collect()
    }
}

/// `text` as one sh word (quoted only when it needs to be).
fn sh_quote(text: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_./=:,+-@%".contains(c);
    if !text.is_empty() && text.chars().all(plain) {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sysrc_edits_the_file_that_holds_the_setting() {
        let mut rc = RcConf::default();
        rc.parse(Path::new("/etc/defaults/rc.conf"), "ntpd_enable=\"NO\"\n");
        rc.parse(Path::new("/etc/rc.conf"), "ntpdate_enable=\"NO\"\n");
        rc.parse(Path::new("/etc/rc.conf.local"), "ntpdate_flags=\"-B\"\n");
        rc.parse(
            Path::new("/etc/rc.conf.d/dovecot"),
            "dovecot_enable=\"YES\"\n",
        );
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
        conf.parse(Path::new("/etc/rc.conf"), text);
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
}
