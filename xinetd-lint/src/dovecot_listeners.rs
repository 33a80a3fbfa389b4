//! The TCP ports a standalone dovecot really takes: from its configuration
//! (`protocols` and the `inet_listener` blocks of `service imap-login` and
//! `service pop3-login`, following `!include` and `!include_try`), and on
//! the live system from the listening sockets of running dovecot processes
//! (/proc/net/tcp and tcp6, matched to /proc/PID/fd).  XL043 calls xinetd's
//! bind a failure only for these ports, not for every mail port as soon as
//! dovecot is enabled.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use mailhost_common::root::Root;

use crate::host::Host;

/// Where dovecot.conf lives: FreeBSD ports, then Linux packages.
pub const CONFIG_FILES: &[&str] = &[
    "/usr/local/etc/dovecot/dovecot.conf",
    "/etc/dovecot/dovecot.conf",
];

/// dovecot's built-in listeners (2.3): name -> default port.
const DEFAULT_LISTENERS: &[(&str, &str, u16)] = &[
    ("imap-login", "imap", 143),
    ("imap-login", "imaps", 993),
    ("pop3-login", "pop3", 110),
    ("pop3-login", "pop3s", 995),
];

/// What dovecot.conf says, as far as ports go.
#[derive(Debug, Default)]
pub struct DovecotConfig {
    /// The file read (as the host shows it).
    pub file: String,
    pub protocols: Option<Vec<String>>,
    /// (login service, listener name) -> port as written (`None`: no port line).
    listeners: BTreeMap<(String, String), Option<String>>,
}

impl DovecotConfig {
    /// The ports of the enabled login services, with the listener for each.
    pub fn ports(&self) -> Vec<(u16, String)> {
        let protocols: Vec<String> = self
            .protocols
            .clone()
            .unwrap_or_else(|| vec!["imap".into(), "pop3".into(), "lmtp".into()]);
        let mut listeners: BTreeMap<(String, String), Option<u16>> = DEFAULT_LISTENERS
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
        out.sort();
        out.dedup_by_key(|(p, _)| *p);
        out
    }
}

/// Reads dovecot.conf under the host's root, if there is one.  Every file
/// is opened through `Root` (symlinks resolve inside the root).
pub fn read_config(host: &dyn Host) -> Option<DovecotConfig> {
    let root = Root::new(&host.path("/")).ok()?;
    let main = CONFIG_FILES
        .iter()
        .map(PathBuf::from)
        .find(|jail| root.metadata(jail).is_ok_and(|m| m.is_file()))?;
    let mut config = DovecotConfig {
        file: root.display_path(&main).display().to_string(),
        ..DovecotConfig::default()
    };
    let mut stack = Vec::new();
    let mut reader = Reader {
        root: &root,
        config: &mut config,
        sections: Vec::new(),
        files: 0,
    };
    reader.read(&main, &mut stack);
    Some(config)
}

struct Reader<'a> {
    root: &'a Root,
    config: &'a mut DovecotConfig,
    /// Open sections: (kind, name), e.g. ("service", "imap-login").
    sections: Vec<(String, String)>,
    /// Files read, against include bombs.
    files: usize,
}

impl Reader<'_> {
    fn read(&mut self, path: &Path, stack: &mut Vec<PathBuf>) {
        self.files += 1;
        if stack.len() > 16 || self.files > 1000 || stack.iter().any(|p| p == path) {
            return;
        }
        let Ok(bytes) = self.root.read_config(path) else {
            return;
        };
        stack.push(path.to_path_buf());
        let text = String::from_utf8_lossy(&bytes).into_owned();
        for raw in text.lines() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if let Some(rest) = line
                .strip_prefix("!include_try")
                .or_else(|| line.strip_prefix("!include"))
            {
                for file in self.expand(path, rest.trim()) {
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
                self.sections.push((kind, name));
                continue;
            }
            let Some((key, value)) = line.split_once('=') else {
                continue;
            };
            let (key, value) = (key.trim(), value.split('#').next().unwrap_or("").trim());
            self.setting(key, value);
        }
        stack.pop();
    }

    fn setting(&mut self, key: &str, value: &str) {
        let kinds: Vec<&str> = self.sections.iter().map(|(k, _)| k.as_str()).collect();
        match kinds.as_slice() {
            [] if key == "protocols" => {
                let before = self.config.protocols.clone().unwrap_or_default();
                let mut list = Vec::new();
                for word in value.split_whitespace() {
                    if word == "$protocols" {
                        list.extend(before.iter().cloned());
                    } else {
                        list.push(word.to_string());
                    }
                }
                self.config.protocols = Some(list);
            }
            ["service", "inet_listener"] if key == "port" => {
                let service = self.sections[0].1.clone();
                let listener = self.sections[1].1.clone();
                self.config
                    .listeners
                    .insert((service, listener), Some(value.to_string()));
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

/// On the live system: the TCP ports running dovecot processes listen on,
/// each with the PID.  None when /proc cannot tell (not Linux, not allowed).
pub fn live_ports(host: &dyn Host) -> Option<Vec<(u16, u32)>> {
    if host.path("/proc/net/tcp") != Path::new("/proc/net/tcp") {
        return None; // another system's root: its sockets are not ours to see
    }
    let mut listening: BTreeMap<u64, u16> = BTreeMap::new();
    let mut any = false;
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = std::fs::read_to_string(table) else {
            continue;
        };
        any = true;
        listening.extend(parse_proc_net_tcp(&text));
    }
    if !any {
        return None;
    }
    let mut found = BTreeSet::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let comm = std::fs::read_to_string(entry.path().join("comm")).unwrap_or_default();
        if comm.trim() != "dovecot" {
            continue;
        }
        for fd in std::fs::read_dir(entry.path().join("fd"))
            .into_iter()
            .flatten()
            .flatten()
        {
            let Ok(target) = std::fs::read_link(fd.path()) else {
                continue;
            };
            let target = target.to_string_lossy().into_owned();
            if let Some(inode) = target
                .strip_prefix("socket:[")
                .and_then(|t| t.strip_suffix(']'))
                .and_then(|t| t.parse::<u64>().ok())
                && let Some(port) = listening.get(&inode)
            {
                found.insert((*port, pid));
            }
        }
    }
    Some(found.into_iter().collect())
}

/// inode -> local port of every LISTEN socket in a /proc/net/tcp table.
pub fn parse_proc_net_tcp(text: &str) -> BTreeMap<u64, u16> {
    let mut out = BTreeMap::new();
    for line in text.lines().skip(1) {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.len() < 10 || fields[3] != "0A" {
            continue;
        }
        let Some(port) = fields[1]
            .rsplit(':')
            .next()
            .and_then(|p| u16::from_str_radix(p, 16).ok())
        else {
            continue;
        };
        if let Ok(inode) = fields[9].parse::<u64>() {
            out.insert(inode, port);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_net_tcp_listeners() {
        let text = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n\
   0: 00000000:008F 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4242 1 0000000000000000 100 0 0 10 0\n\
   1: 0100007F:0016 0100007F:9C40 01 00000000:00000000 00:00000000 00000000     0        0 4343 1 0000000000000000 100 0 0 10 0\n";
        let map = parse_proc_net_tcp(text);
        assert_eq!(map.get(&4242), Some(&143));
        assert!(
            !map.contains_key(&4343),
            "an established connection is not a listener"
        );
    }
}
