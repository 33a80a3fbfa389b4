//! What the verdict depends on besides the files: /etc/services,
//! /etc/protocols, /etc/rpc, /etc/networks, accounts, executables and name
//! resolution.  `RootHost` answers from a root directory (`--root`), so a
//! jail, a ports STAGEDIR or a mounted image is checked as it is.

use std::cell::OnceCell;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::conventions::under_root;

pub trait Host {
    fn has_protocol(&self, name: &str) -> bool;
    fn has_user(&self, name: &str) -> bool;
    fn has_group(&self, name: &str) -> bool;
    /// `Ok` when xinetd's `access(X_OK)` and `stat()` would pass.
    fn executable(&self, path: &str) -> Result<(), String>;
    /// getservbyname(name, proto): names and aliases, case-sensitive.
    fn service_port(&self, name: &str, protocol: &str) -> Option<u16>;
    fn has_rpc(&self, name: &str) -> bool;
    fn network(&self, name: &str) -> bool;
    fn resolves(&self, name: &str) -> bool;
    /// A file under the root (for rc.conf, systemd units and the like).
    fn path(&self, absolute: &str) -> PathBuf;
    /// True when an RPC portmapper (rpcbind, portmap) is enabled.
    fn portmapper(&self) -> bool;
    /// False when `address` is certainly not an address of the host xinetd
    /// runs on (only knowable for the live system).
    fn local_address(&self, address: &str) -> bool;
}

/// One line of a services-style table: name, number field, aliases.
struct Entry {
    names: Vec<String>,
    field: String,
}

fn table(text: &str) -> Vec<Entry> {
    text.lines()
        .filter_map(|line| {
            let line = line.split('#').next().unwrap_or("");
            let mut words = line.split_whitespace();
            let name = words.next()?;
            let field = words.next()?.to_string();
            let mut names = vec![name.to_string()];
            names.extend(words.map(String::from));
            Some(Entry { names, field })
        })
        .collect()
}

pub struct RootHost {
    root: PathBuf,
    /// (name or alias, protocol) -> port; the first entry wins, as in getservbyname.
    services: OnceCell<std::collections::HashMap<(String, String), u16>>,
    protocols: OnceCell<Vec<Entry>>,
    rpc: OnceCell<Vec<Entry>>,
    networks: OnceCell<Vec<Entry>>,
    passwd: OnceCell<Vec<String>>,
    group: OnceCell<Vec<String>>,
}

impl RootHost {
    pub fn new(root: &Path) -> RootHost {
        RootHost {
            root: root.to_path_buf(),
            services: OnceCell::new(),
            protocols: OnceCell::new(),
            rpc: OnceCell::new(),
            networks: OnceCell::new(),
            passwd: OnceCell::new(),
            group: OnceCell::new(),
        }
    }

    fn read(&self, path: &str) -> String {
        std::fs::read(under_root(&self.root, Path::new(path)))
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    }

    fn accounts(&self, cell: &OnceCell<Vec<String>>, path: &str) -> Vec<String> {
        cell.get_or_init(|| {
            self.read(path)
                .lines()
                .filter_map(|l| l.split(':').next())
                .map(String::from)
                .collect()
        })
        .clone()
    }
}

impl Host for RootHost {
    fn has_protocol(&self, name: &str) -> bool {
        self.protocols
            .get_or_init(|| table(&self.read("/etc/protocols")))
            .iter()
            .any(|e| e.names.iter().any(|n| n == name))
    }
    fn has_user(&self, name: &str) -> bool {
        self.accounts(&self.passwd, "/etc/passwd")
            .iter()
            .any(|n| n == name)
    }
    fn has_group(&self, name: &str) -> bool {
        self.accounts(&self.group, "/etc/group")
            .iter()
            .any(|n| n == name)
    }
    fn executable(&self, path: &str) -> Result<(), String> {
        if !path.starts_with('/') {
            // xinetd resolves it against its start-up directory: a bare
            // name like `cat` is not looked up in PATH.
            return Err(format!(
                "Unable to stat: {path}. (a relative server path is not looked up in PATH)"
            ));
        }
        let real = under_root(&self.root, Path::new(path));
        match std::fs::metadata(&real) {
            Err(_) => Err(format!("Unable to stat: {path}.")),
            // access(X_OK) as root: any execute bit, a directory's too.
            Ok(m) if m.permissions().mode() & 0o111 == 0 => {
                Err(format!("Server {path} is not executable"))
            }
            Ok(_) => Ok(()),
        }
    }
    fn service_port(&self, name: &str, protocol: &str) -> Option<u16> {
        let index = self.services.get_or_init(|| {
            let mut index = std::collections::HashMap::new();
            for e in table(&self.read("/etc/services")) {
                let Some((port, proto)) = e.field.split_once('/') else {
                    continue;
                };
                let Ok(port) = port.parse::<u16>() else {
                    continue;
                };
                for n in &e.names {
                    index.entry((n.clone(), proto.to_string())).or_insert(port);
                }
            }
            index
        });
        index
            .get(&(name.to_string(), protocol.to_string()))
            .copied()
    }
    fn has_rpc(&self, name: &str) -> bool {
        self.rpc
            .get_or_init(|| table(&self.read("/etc/rpc")))
            .iter()
            .any(|e| e.names.iter().any(|n| n == name))
    }
    fn network(&self, name: &str) -> bool {
        self.networks
            .get_or_init(|| table(&self.read("/etc/networks")))
            .iter()
            .any(|e| e.names.iter().any(|n| n == name))
    }
    fn resolves(&self, name: &str) -> bool {
        // Only plausible host names are looked up (xinetd does the same
        // lookup when it starts, on the machine it runs on).
        let plausible = !name.is_empty()
            && name.len() < 254
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-');
        plausible
            && std::net::ToSocketAddrs::to_socket_addrs(&(name, 0))
                .is_ok_and(|mut a| a.next().is_some())
    }
    fn path(&self, absolute: &str) -> PathBuf {
        under_root(&self.root, Path::new(absolute))
    }
    fn portmapper(&self) -> bool {
        let rc = ["/etc/rc.conf", "/etc/rc.conf.local"].iter().any(|f| {
            self.read(f).lines().any(|l| {
                let l = l.split('#').next().unwrap_or("").trim();
                l.strip_prefix("rpcbind_enable=")
                    .is_some_and(|v| v.trim_matches('"').eq_ignore_ascii_case("yes"))
            })
        });
        let units = std::fs::read_dir(self.path("/etc/systemd/system"))
            .into_iter()
            .flatten()
            .flatten()
            .any(|wants| {
                ["rpcbind.service", "rpcbind.socket", "portmap.service"]
                    .iter()
                    .any(|u| std::fs::symlink_metadata(wants.path().join(u)).is_ok())
            });
        rc || units
    }
    fn local_address(&self, address: &str) -> bool {
        if self.root != Path::new("/") {
            return true; // another system's interfaces cannot be known here
        }
        match address.parse::<std::net::IpAddr>() {
            // Binding port 0 of a UDP socket asks the kernel without using it.
            Ok(ip) => std::net::UdpSocket::bind((ip, 0)).map_or_else(
                |e| e.kind() != std::io::ErrorKind::AddrNotAvailable,
                |_| true,
            ),
            Err(_) => true,
        }
    }
}

#[cfg(test)]
pub mod tests {
    use super::*;

    /// A host for unit tests: Debian-like tables, nothing resolves.
    #[derive(Default)]
    pub struct FakeHost;

    impl Host for FakeHost {
        fn has_protocol(&self, name: &str) -> bool {
            matches!(name, "tcp" | "TCP" | "udp" | "UDP")
        }
        fn has_user(&self, name: &str) -> bool {
            matches!(name, "root" | "nobody")
        }
        fn has_group(&self, name: &str) -> bool {
            matches!(name, "root" | "nogroup")
        }
        fn executable(&self, path: &str) -> Result<(), String> {
            if path.starts_with("/bin/") {
                Ok(())
            } else {
                Err(format!("Unable to stat: {path}."))
            }
        }
        fn service_port(&self, name: &str, protocol: &str) -> Option<u16> {
            match (name, protocol) {
                ("imap" | "imap2", "tcp") => Some(143),
                ("pop3", "tcp") => Some(110),
                ("echo", "tcp" | "udp") => Some(7),
                ("rsync", "tcp") => Some(873),
                _ => None,
            }
        }
        fn has_rpc(&self, name: &str) -> bool {
            name == "rstatd"
        }
        fn network(&self, _: &str) -> bool {
            false
        }
        fn resolves(&self, name: &str) -> bool {
            name == "localhost"
        }
        fn path(&self, absolute: &str) -> PathBuf {
            PathBuf::from(absolute)
        }
        fn portmapper(&self) -> bool {
            false
        }
        fn local_address(&self, address: &str) -> bool {
            address == "127.0.0.1"
        }
    }

    #[test]
    fn tables_from_a_root() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("etc")).unwrap();
        std::fs::write(
            dir.path().join("etc/services"),
            "imap2\t143/tcp\timap # comment\npop3 110/tcp\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("etc/protocols"), "tcp 6 TCP\nudp 17 UDP\n").unwrap();
        std::fs::write(dir.path().join("etc/passwd"), "root:*:0:0::/root:/bin/sh\n").unwrap();
        let host = RootHost::new(dir.path());
        assert_eq!(host.service_port("imap", "tcp"), Some(143));
        assert_eq!(
            host.service_port("imap", "TCP"),
            None,
            "the protocol string is compared as written"
        );
        assert!(host.has_protocol("TCP"));
        assert!(!host.has_protocol("sctp"));
        assert!(host.has_user("root"));
        assert!(host.executable("cat").is_err());
        assert!(
            host.executable("/nonexistent")
                .unwrap_err()
                .starts_with("Unable to stat")
        );
    }
}
