//! The TCP ports running dovecot processes listen on, on the live system:
//! the listening sockets of /proc/net/tcp and tcp6, matched to
//! /proc/PID/fd.  (What dovecot.conf configures is the host model's:
//! `mailhost_host::dovecot`.)  XL043 calls xinetd's bind a failure only for
//! the ports dovecot really takes, not for every mail port as soon as
//! dovecot is enabled.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::host::Host;

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
