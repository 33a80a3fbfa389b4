//! systemd-timesyncd's servers, read as timesyncd reads timesyncd.conf(5):
//! the main file, then the drop-ins of every `timesyncd.conf.d` in name
//! order (a later file overriding an earlier one); in `[Time]`, `NTP=` and
//! `FallbackNTP=` are space-separated lists, and an empty assignment resets
//! the list.  `FallbackNTP=` is used only when no `NTP=` server is set (and
//! no DHCP server is known, which a tree cannot tell).

use std::path::{Path, PathBuf};

use crate::root::Root;

pub const MAIN_FILE: &str = "/etc/systemd/timesyncd.conf";
/// Drop-in directories, in the order systemd reads them (a same-named file
/// in an earlier one hides a later one).
pub const DROP_IN_DIRS: [&str; 3] = [
    "/etc/systemd/timesyncd.conf.d",
    "/run/systemd/timesyncd.conf.d",
    "/usr/lib/systemd/timesyncd.conf.d",
];

/// The servers a tree's timesyncd configuration names.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TimesyncdConf {
    pub ntp: Vec<String>,
    pub fallback: Vec<String>,
    /// The files that were read, in order (jail paths).
    pub files: Vec<PathBuf>,
}

impl TimesyncdConf {
    /// Reads the main file and the drop-ins; files that are missing or
    /// unreadable are skipped (timesyncd starts without them too).
    pub fn read(root: &Root) -> TimesyncdConf {
        let mut conf = TimesyncdConf::default();
        let mut files = vec![PathBuf::from(MAIN_FILE)];
        let mut names: Vec<(String, PathBuf)> = Vec::new();
        for dir in DROP_IN_DIRS {
            for name in root.read_dir(Path::new(dir)).unwrap_or_default() {
                let name = name.to_string_lossy().into_owned();
                if name.ends_with(".conf") && !names.iter().any(|(n, _)| *n == name) {
                    names.push((name.clone(), Path::new(dir).join(&name)));
                }
            }
        }
        names.sort();
        files.extend(names.into_iter().map(|(_, path)| path));
        for file in files {
            if let Ok(bytes) = root.read_config(&file) {
                conf.parse(&String::from_utf8_lossy(&bytes));
                conf.files.push(file);
            }
        }
        conf
    }

    /// The servers timesyncd asks: `NTP=`, else `FallbackNTP=`.
    pub fn servers(&self) -> &[String] {
        if self.ntp.is_empty() {
            &self.fallback
        } else {
            &self.ntp
        }
    }

    fn parse(&mut self, text: &str) {
        let mut in_time = false;
        for line in text.lines() {
            let line = line.trim();
            if line.starts_with(['#', ';']) || line.is_empty() {
                continue;
            }
            if line.starts_with('[') {
                in_time = line == "[Time]";
                continue;
            }
            let Some((key, value)) = line.split_once('=') else {
                continue;
            };
            let list = match key.trim() {
                "NTP" if in_time => &mut self.ntp,
                "FallbackNTP" if in_time => &mut self.fallback,
                _ => continue,
            };
            let words: Vec<String> = value.split_whitespace().map(str::to_string).collect();
            if words.is_empty() {
                list.clear();
            } else {
                list.extend(words);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::tree;

    #[test]
    fn drop_ins_add_and_an_empty_assignment_resets() {
        let dir = tree(&[
            (
                "etc/systemd/timesyncd.conf",
                "[Time]\n#NTP=\nNTP=a.example b.example\nFallbackNTP=f.example\n",
            ),
            (
                "etc/systemd/timesyncd.conf.d/10-site.conf",
                "[Time]\nNTP=\nNTP=c.example\n",
            ),
            (
                "usr/lib/systemd/timesyncd.conf.d/10-site.conf",
                "[Time]\nNTP=hidden.example\n",
            ),
            (
                "usr/lib/systemd/timesyncd.conf.d/20-more.conf",
                "[Other]\nNTP=other.example\n",
            ),
        ]);
        let root = Root::new(dir.path()).unwrap();
        let conf = TimesyncdConf::read(&root);
        assert_eq!(conf.servers(), ["c.example"]);
        assert_eq!(conf.fallback, ["f.example"]);
        assert_eq!(conf.files.len(), 3);
    }

    #[test]
    fn fallback_only_when_no_ntp() {
        let dir = tree(&[(
            "etc/systemd/timesyncd.conf",
            "[Time]\nFallbackNTP=f.example g.example\n",
        )]);
        let root = Root::new(dir.path()).unwrap();
        assert_eq!(
            TimesyncdConf::read(&root).servers(),
            ["f.example", "g.example"]
        );
    }
}
