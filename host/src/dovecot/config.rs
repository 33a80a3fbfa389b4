//! What dovecot.conf says: listeners, `protocols`, where dovecot logs,
//! `instance_name`, and the shape that tells 1.x from 2.x.  Both grammars
//! are `key = value` lines and `name [arg] {` ... `}` sections; 2.x adds
//! `!include` and `!include_try` (globs), which are followed through `Root`.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use mailhost_common::root::Root;

use super::version::Generation;

/// A value as written, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Setting {
    pub value: String,
    /// file:line, as the root shows the file.
    pub at: String,
}

/// Where dovecot sends a class of its log lines.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LogTarget {
    /// syslog(3) with this facility (`syslog_facility`, default `mail`).
    Syslog { facility: String },
    /// A file dovecot writes itself (a jail path).
    File(String),
}

impl LogTarget {
    /// Dovecot's default: syslog, facility mail (every version).
    pub fn default_syslog() -> LogTarget {
        LogTarget::Syslog {
            facility: "mail".into(),
        }
    }

    /// The words every tool prints.
    pub fn describe(&self) -> String {
        match self {
            LogTarget::Syslog { facility } => format!("syslog, facility {facility}"),
            LogTarget::File(path) => format!("the file {path}"),
        }
    }
}

/// What one dovecot.conf (and what it includes) says.
#[derive(Clone, Debug, Default)]
pub struct Config {
    /// The main file, as the root shows it.
    pub file: String,
    /// Every file read, as the root shows them.
    pub files: Vec<String>,
    pub protocols: Option<Setting>,
    pub log_path: Option<Setting>,
    pub info_log_path: Option<Setting>,
    pub syslog_facility: Option<Setting>,
    /// Top-level `instance_name` values, each once, in order.
    pub instance_names: Vec<String>,
    /// 2.x: (login service, listener name) -> port as written (`None`: no
    /// port line, the listener's default).
    pub listeners: BTreeMap<(String, String), Option<String>>,
    /// 1.x: `listen`/`ssl_listen` per protocol (`""` for the top level).
    pub listen: BTreeMap<(String, &'static str), String>,
    /// The first line whose shape only one generation accepts, if any.
    pub shape: Option<(Generation, String)>,
}

/// dovecot's built-in 2.x listeners: login service, listener, port.
const LISTENERS_2X: &[(&str, &str, u16)] = &[
    ("imap-login", "imap", 143),
    ("imap-login", "imaps", 993),
    ("pop3-login", "pop3", 110),
    ("pop3-login", "pop3s", 995),
];

/// 1.x protocols and their ports (imaps and pop3s are protocols there).
const PROTOCOLS_1X: &[(&str, u16)] =
    &[("imap", 143), ("imaps", 993), ("pop3", 110), ("pop3s", 995)];

/// Files read at most, against include bombs.
const MAX_FILES: usize = 1000;
/// Include depth at most.
const MAX_DEPTH: usize = 16;

/// The ports a dovecot without dovecot.conf listens on.
pub fn default_ports(generation: Generation) -> Vec<(u16, String)> {
    Config::default().ports(generation)
}

impl Config {
    /// The listed protocols (each generation's default when not set).
    pub fn protocol_list(&self, generation: Generation) -> Vec<String> {
        match &self.protocols {
            Some(s) => s.value.split_whitespace().map(str::to_string).collect(),
            None if generation == Generation::V1 => vec!["imap".into(), "imaps".into()],
            None => vec!["imap".into(), "pop3".into(), "lmtp".into()],
        }
    }

    /// Where error lines go: `log_path` (`syslog` or empty: syslog).
    pub fn error_log(&self) -> LogTarget {
        self.target(self.log_path.as_ref())
    }

    /// Where info lines go: `info_log_path`, empty meaning as `log_path`.
    pub fn info_log(&self) -> LogTarget {
        match &self.info_log_path {
            Some(s) if !s.value.is_empty() => self.target(Some(s)),
            _ => self.error_log(),
        }
    }

    fn target(&self, setting: Option<&Setting>) -> LogTarget {
        match setting.map(|s| s.value.as_str()) {
            None | Some("") | Some("syslog") => LogTarget::Syslog {
                facility: self
                    .syslog_facility
                    .as_ref()
                    .map_or_else(|| "mail".to_string(), |s| s.value.clone()),
            },
            Some(path) => LogTarget::File(path.to_string()),
        }
    }

    /// The TCP ports dovecot's own listeners take, with the listener.
    pub fn ports(&self, generation: Generation) -> Vec<(u16, String)> {
        let protocols = self.protocol_list(generation);
        let mut out = if generation == Generation::V1 {
            self.ports_1x(&protocols)
        } else {
            self.ports_2x(&protocols)
        };
        out.sort();
        out.dedup_by_key(|(p, _)| *p);
        out
    }

    fn ports_2x(&self, protocols: &[String]) -> Vec<(u16, String)> {
        let mut listeners: BTreeMap<(String, String), Option<u16>> = LISTENERS_2X
            .iter()
            .map(|(s, l, p)| ((s.to_string(), l.to_string()), Some(*p)))
            .collect();
        for (key, port) in &self.listeners {
            let default = listeners.get(key).copied().flatten();
            let port = match port {
                Some(p) => p.trim().parse::<u16>().ok(),
                None => default,
            };
            listeners.insert(key.clone(), port);
        }
        let mut out = Vec::new();
        for ((service, name), port) in listeners {
            let protocol = service.trim_end_matches("-login");
            if !protocols.iter().any(|p| p == protocol) {
                continue;
            }
            if let Some(p) = port.filter(|p| *p != 0) {
                out.push((p, format!("{service} inet_listener {name}")));
            }
        }
        out
    }

    fn ports_1x(&self, protocols: &[String]) -> Vec<(u16, String)> {
        let mut out = Vec::new();
        for (protocol, default) in PROTOCOLS_1X {
            if !protocols.iter().any(|p| p == protocol) {
                continue;
            }
            // imaps and pop3s listen on `ssl_listen` of their plain protocol.
            let (block, key) = match protocol.strip_suffix('s') {
                Some(plain) => (plain, "ssl_listen"),
                None => (*protocol, "listen"),
            };
            let listen = self
                .listen
                .get(&(block.to_string(), key))
                .or_else(|| self.listen.get(&(String::new(), key)));
            let port = listen.and_then(|l| port_of(l)).unwrap_or(*default);
            out.push((port, format!("protocol {protocol} ({key})")));
        }
        out
    }
}

/// The port of a 1.x `listen` value (`*:10143`, `[::]:143`; `*` has none).
fn port_of(listen: &str) -> Option<u16> {
    let first = listen.split([',', ' ']).next()?;
    if first.ends_with(']') {
        return None;
    }
    first.rsplit_once(':')?.1.parse().ok()
}

/// Reads the first dovecot.conf found under `root`, if any.
pub fn read(root: &Root) -> Option<Config> {
    let main = super::CONFIG_FILES
        .iter()
        .map(PathBuf::from)
        .find(|jail| root.metadata(jail).is_ok_and(|m| m.is_file()))?;
    let mut config = Config {
        file: root.display_path(&main).display().to_string(),
        ..Config::default()
    };
    let mut reader = Reader {
        root,
        config: &mut config,
        sections: Vec::new(),
        files: 0,
        seen_names: HashSet::new(),
    };
    reader.read(&main, &mut Vec::new());
    Some(config)
}

/// 1.x-only settings (gone in 2.0, where dovecot refuses them).
const ONLY_1X_KEYS: &[&str] = &[
    "login_dir",
    "login_executable",
    "login_processes_count",
    "login_process_per_connection",
    "login_max_processes_count",
    "ssl_cert_file",
    "ssl_key_file",
    "ssl_listen",
];

struct Reader<'a> {
    root: &'a Root,
    config: &'a mut Config,
    /// Open sections: (kind, name), e.g. ("service", "imap-login").
    sections: Vec<(String, String)>,
    files: usize,
    /// instance_name values already kept: a set, so that 100,000 of them
    /// cost linear time (issue 21), not a scan of the list per line.
    seen_names: HashSet<String>,
}

impl Reader<'_> {
    fn read(&mut self, path: &Path, stack: &mut Vec<PathBuf>) {
        self.files += 1;
        if stack.len() > MAX_DEPTH || self.files > MAX_FILES || stack.iter().any(|p| p == path) {
            return;
        }
        let Ok(bytes) = self.root.read_config(path) else {
            return;
        };
        let shown = self.root.display_path(path).display().to_string();
        self.config.files.push(shown.clone());
        stack.push(path.to_path_buf());
        let text = String::from_utf8_lossy(&bytes).into_owned();
        for (number, raw) in text.lines().enumerate() {
            let at = format!("{shown}:{}", number + 1);
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if let Some(rest) = line
                .strip_prefix("!include_try")
                .or_else(|| line.strip_prefix("!include"))
            {
                let pattern = rest.trim();
                if pattern.starts_with("conf.d/") || pattern.contains("/conf.d/") {
                    self.shape(Generation::V2, format!("`!include {pattern}` at {at}"));
                }
                for file in self.expand(path, pattern) {
                    self.read(&file, stack);
                }
                continue;
            }
            if line == "}" {
                self.sections.pop();
                continue;
            }
            if let Some(head) = line.strip_suffix('{') {
                let mut words = head.split_whitespace();
                let kind = words.next().unwrap_or("").to_string();
                let name = words.next().unwrap_or("").to_string();
                if self.sections.is_empty() {
                    match kind.as_str() {
                        "service" => {
                            self.shape(Generation::V2, format!("`service {name} {{` at {at}"))
                        }
                        "passdb" | "userdb" => {
                            self.shape(Generation::V2, format!("top-level `{kind} {{` at {at}"))
                        }
                        "auth" => self.shape(Generation::V1, format!("`auth {name} {{` at {at}")),
                        _ => {}
                    }
                }
                self.sections.push((kind, name));
                continue;
            }
            let Some((key, value)) = line.split_once('=') else {
                continue;
            };
            let value = value.split(" #").next().unwrap_or("").trim();
            let value = value.trim_matches('"').trim().to_string();
            self.setting(key.trim(), value, at);
        }
        stack.pop();
    }

    fn shape(&mut self, generation: Generation, why: String) {
        if self.config.shape.is_none() {
            self.config.shape = Some((generation, why));
        }
    }

    fn setting(&mut self, key: &str, value: String, at: String) {
        let top = self.sections.is_empty();
        if top && ONLY_1X_KEYS.contains(&key) {
            self.shape(Generation::V1, format!("`{key}` (a 1.x setting) at {at}"));
        }
        if top && key == "ssl_cert" {
            self.shape(
                Generation::V2,
                format!("`ssl_cert` (2.x; 1.x has ssl_cert_file) at {at}"),
            );
        }
        let kinds: Vec<&str> = self.sections.iter().map(|(k, _)| k.as_str()).collect();
        match (kinds.as_slice(), key) {
            ([], "protocols") => {
                let before = self.config.protocols.as_ref().map(|s| s.value.clone());
                let value = value.replace("$protocols", before.as_deref().unwrap_or(""));
                let value = value.split_whitespace().collect::<Vec<_>>().join(" ");
                if value
                    .split_whitespace()
                    .any(|p| p == "imaps" || p == "pop3s")
                {
                    self.shape(
                        Generation::V1,
                        format!("`protocols` lists imaps or pop3s (1.x only) at {at}"),
                    );
                }
                self.config.protocols = Some(Setting { value, at });
            }
            ([], "log_path") => self.config.log_path = Some(Setting { value, at }),
            ([], "info_log_path") => self.config.info_log_path = Some(Setting { value, at }),
            ([], "syslog_facility") => self.config.syslog_facility = Some(Setting { value, at }),
            // Each name once: a set, so that 100,000 lines cost linear time.
            ([], "instance_name") if !value.is_empty() && self.seen_names.insert(value.clone()) => {
                self.config.instance_names.push(value);
            }
            ([], "listen" | "ssl_listen") | (["protocol"], "listen" | "ssl_listen") => {
                let block = self
                    .sections
                    .first()
                    .map(|(_, n)| n.clone())
                    .unwrap_or_default();
                let key = if key == "listen" {
                    "listen"
                } else {
                    "ssl_listen"
                };
                self.config.listen.insert((block, key), value);
            }
            (["service", "inet_listener"], "port") => {
                let service = self.sections[0].1.clone();
                let listener = self.sections[1].1.clone();
                self.config
                    .listeners
                    .insert((service, listener), Some(value));
            }
            _ => {}
        }
        // A listener block without a port line still exists.
        if let [(k0, service), (k1, listener)] = self.sections.as_slice()
            && k0 == "service"
            && k1 == "inet_listener"
        {
            self.config
                .listeners
                .entry((service.clone(), listener.clone()))
                .or_insert(None);
        }
    }

    /// An include's files (jail paths), relative to the including file's
    /// directory.
    fn expand(&self, from: &Path, pattern: &str) -> Vec<PathBuf> {
        let jail = if pattern.starts_with('/') {
            PathBuf::from(pattern)
        } else {
            from.parent().unwrap_or(Path::new("/")).join(pattern)
        };
        glob(self.root, &jail)
    }
}

/// Jail paths matching a `*` in the last component, in sorted order.
fn glob(root: &Root, path: &Path) -> Vec<PathBuf> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if !name.contains('*') {
        return vec![path.to_path_buf()];
    }
    let (prefix, suffix) = name.split_once('*').unwrap_or((&name, ""));
    let dir = path.parent().unwrap_or(Path::new("/"));
    let mut out: Vec<PathBuf> = root
        .read_dir(dir)
        .into_iter()
        .flatten()
        .map(|n| n.to_string_lossy().into_owned())
        .filter(|n| {
            n.starts_with(prefix) && n.ends_with(suffix) && n.len() >= prefix.len() + suffix.len()
        })
        .map(|n| dir.join(n))
        .collect();
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(files: &[(&str, &str)]) -> (tempfile::TempDir, Root) {
        let dir = tempfile::tempdir().unwrap();
        for (path, text) in files {
            let full = dir.path().join(path.trim_start_matches('/'));
            std::fs::create_dir_all(full.parent().unwrap()).unwrap();
            std::fs::write(full, text).unwrap();
        }
        let root = Root::new(dir.path()).unwrap();
        (dir, root)
    }

    #[test]
    fn a_2x_conf_with_conf_d() {
        let (_d, root) = tree(&[
            (
                "/etc/dovecot/dovecot.conf",
                "protocols = imap\ninstance_name = mail1\n!include conf.d/*.conf\n",
            ),
            (
                "/etc/dovecot/conf.d/10-master.conf",
                "service imap-login {\n  inet_listener imap {\n    port = 0\n  }\n  inet_listener imaps {\n  }\n}\n",
            ),
            (
                "/etc/dovecot/conf.d/10-logging.conf",
                "log_path = /var/log/dovecot.log\nsyslog_facility = local1\n",
            ),
        ]);
        let c = read(&root).unwrap();
        assert_eq!(c.shape.as_ref().unwrap().0, Generation::V2);
        assert_eq!(
            c.ports(Generation::V2),
            [(993, "imap-login inet_listener imaps".into())]
        );
        assert_eq!(
            c.error_log(),
            LogTarget::File("/var/log/dovecot.log".into())
        );
        assert_eq!(c.info_log(), LogTarget::File("/var/log/dovecot.log".into()));
        assert_eq!(c.instance_names, ["mail1"]);
        assert_eq!(c.files.len(), 3);
    }

    #[test]
    fn a_1x_conf_and_its_listen_lines() {
        let (_d, root) = tree(&[(
            "/usr/local/etc/dovecot.conf",
            "protocols = imap imaps pop3\nsyslog_facility = local2\nprotocol imap {\n  listen = *:10143\n  ssl_listen = *:10993\n}\n",
        )]);
        let c = read(&root).unwrap();
        let (generation, why) = c.shape.clone().unwrap();
        assert_eq!(generation, Generation::V1);
        assert!(why.contains("imaps or pop3s"), "{why}");
        let ports: Vec<u16> = c.ports(Generation::V1).into_iter().map(|p| p.0).collect();
        assert_eq!(ports, [110, 10143, 10993]);
        assert_eq!(
            c.error_log(),
            LogTarget::Syslog {
                facility: "local2".into()
            }
        );
    }

    #[test]
    fn instance_names_are_kept_once_each_in_order() {
        let mut text = String::new();
        for i in 0..50_000 {
            text.push_str(&format!("instance_name = n{}\n", i % 3));
        }
        text.push_str("service x {\n instance_name = inner\n}\n");
        let (_d, root) = tree(&[("/etc/dovecot/dovecot.conf", &text)]);
        assert_eq!(read(&root).unwrap().instance_names, ["n0", "n1", "n2"]);
    }

    #[test]
    fn defaults_without_a_conf() {
        assert_eq!(
            default_ports(Generation::V2)
                .iter()
                .map(|p| p.0)
                .collect::<Vec<_>>(),
            [110, 143, 993, 995]
        );
        assert_eq!(
            default_ports(Generation::V1)
                .iter()
                .map(|p| p.0)
                .collect::<Vec<_>>(),
            [143, 993]
        );
    }
}
