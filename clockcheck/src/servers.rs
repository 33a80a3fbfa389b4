//! The servers a check asks: `-H`, `--conf`, or those of whatever keeps
//! the time on the tree (ntp.conf, chrony.conf, timesyncd.conf), each as
//! the association ntpd would make of it.

use std::path::Path;

use mailhost_common::chrony::ChronyConf;
use mailhost_common::conventions::{self, escape_path};
use mailhost_common::rcconf::RcConf;
use mailhost_common::root::Root;
use mailhost_common::timesyncd::TimesyncdConf;
use ntpconf_edit::timekeepers::Keeper;

use crate::resolve;
use crate::settings::CheckSettings;

/// The most servers one check asks (`-H`, or server/peer/pool lines).
/// ntpd sets no limit on lines, but selects among at most `tos maxclock`
/// (10) survivors, and its documentation advises four to seven servers:
/// more than 64 is a mistake or an attack (a jail's ntp.conf of a million
/// lines), and the check says so (UNKNOWN) instead of asking them all.
pub const MAX_ASSOCIATIONS: usize = 64;

/// One association (`-H` or an ntp.conf line): its host and port.
fn association(spec: &str, default_port: u16, kind: resolve::Kind) -> resolve::Association {
    let (host, port) = host_port(spec, default_port);
    resolve::Association { host, port, kind }
}

/// Splits `host`, `host:port`, `[v6]:port` and bare IPv6 addresses.
fn host_port(spec: &str, default_port: u16) -> (String, u16) {
    if let Some(rest) = spec.strip_prefix('[')
        && let Some((host, port)) = rest.split_once(']')
    {
        let port = port
            .strip_prefix(':')
            .and_then(|p| p.parse().ok())
            .unwrap_or(default_port);
        return (host.to_string(), port);
    }
    match spec.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') => match port.parse() {
            Ok(p) => (host.to_string(), p),
            Err(_) => (spec.to_string(), default_port),
        },
        _ => (spec.to_string(), default_port),
    }
}

/// `-H`'s or the configuration's servers is more than a check asks.
fn too_many(from: &str) -> String {
    format!(
        "{from} names more than {MAX_ASSOCIATIONS} servers; at most {MAX_ASSOCIATIONS} are checked (ntpd selects among 10)"
    )
}

/// The servers to ask: `-H`, `--conf`, or those of whatever keeps the time
/// on the tree: ntp.conf where ntpd's is (ntpconf_edit::locate_ntp_conf),
/// else chrony.conf's sources, else systemd-timesyncd's NTP= (read through
/// the root: regular files only, so a FIFO planted there cannot hang the
/// plugin); at most [`MAX_ASSOCIATIONS`].
pub fn servers_to_ask(
    check: &CheckSettings,
    root: &Root,
) -> Result<Vec<resolve::Association>, String> {
    let port = check.port;
    if !check.hosts.is_empty() {
        if check.hosts.len() > MAX_ASSOCIATIONS {
            return Err(too_many("-H"));
        }
        return Ok(check
            .hosts
            .iter()
            .map(|h| association(h, port, resolve::Kind::Server))
            .collect());
    }
    if let Some(conf) = &check.conf {
        return match conf.file_name().and_then(|n| n.to_str()) {
            Some("chrony.conf") => from_chrony_conf(root, conf, port),
            _ => from_ntp_conf(root, conf, port),
        };
    }
    // Whatever keeps the time here, found by the rule ntpconf-edit check uses.
    let rc = RcConf::load(root).map_err(|e| {
        format!(
            "reading rc.conf: {}",
            conventions::escape_text(&e.to_string())
        )
    })?;
    let (keeper, ntp_conf) = ntpconf_edit::time_keeper(root, &rc);
    match keeper {
        Keeper::Chrony(conf) => from_chrony_conf(root, &conf, port),
        Keeper::Timesyncd(_) => from_timesyncd_conf(root, port),
        Keeper::Ntpd => match ntp_conf {
            Some(conf) => from_ntp_conf(root, &conf, port),
            None => Err(format!(
                "no server given (-H), and no ntp.conf ({}), chrony.conf ({}) or systemd-timesyncd",
                ntpconf_edit::DEFAULT_CONFS.join(", "),
                mailhost_common::chrony::CHRONY_CONFS.join(", ")
            )),
        },
    }
}

/// The associations of one configuration file (`shown`): more than
/// [`MAX_ASSOCIATIONS`] is refused with `too_many_message`, none is no check.
fn from_file_lines(
    shown: &str,
    too_many_message: String,
    lines: Vec<(&str, resolve::Kind)>,
    port: u16,
) -> Result<Vec<resolve::Association>, String> {
    if lines.len() > MAX_ASSOCIATIONS {
        return Err(too_many_message);
    }
    if lines.is_empty() {
        return Err(format!(
            "no server given (-H) and no server/pool/peer line in {shown}"
        ));
    }
    Ok(lines
        .into_iter()
        .map(|(host, kind)| association(host, port, kind))
        .collect())
}

/// The server, pool and peer lines of ntp.conf, as ntpd reads them.
fn from_ntp_conf(root: &Root, jail: &Path, port: u16) -> Result<Vec<resolve::Association>, String> {
    let shown = escape_path(&root.display_path(jail));
    // ntpd's own reading (includefile followed, `end` honoured): the
    // one model of ntp.conf, in ntpconf-edit.
    let read = ntpconf_edit::ntp_associations(root, Some(jail), None, Some(MAX_ASSOCIATIONS))
        .map_err(|e| {
            // Root's errors name the path already (ROOT/etc/ntp.conf: ...).
            let why = format!("{e:#}");
            let why = if why.contains(&*root.display_path(jail).to_string_lossy()) {
                conventions::escape_text(&why).into_owned()
            } else {
                format!("{shown}: {}", conventions::escape_text(&why))
            };
            format!("no server given (-H), and cannot read {why}")
        })?;
    let lines = read
        .associations
        .iter()
        .map(|a| (a.host.as_str(), resolve_kind(a.kind)))
        .collect();
    from_file_lines(&shown, too_many(&shown), lines, port)
}

/// systemd-timesyncd's NTP= (else FallbackNTP=) servers.
fn from_timesyncd_conf(root: &Root, port: u16) -> Result<Vec<resolve::Association>, String> {
    let conf = TimesyncdConf::read(root);
    let servers = conf.servers();
    if servers.is_empty() {
        return Err(
            "no server given (-H), and systemd-timesyncd's configuration names none \
             (NTP=, FallbackNTP=): it uses its compiled-in servers"
                .into(),
        );
    }
    if servers.len() > MAX_ASSOCIATIONS {
        return Err(too_many("timesyncd.conf"));
    }
    Ok(servers
        .iter()
        .map(|h| association(h, port, resolve::Kind::Server))
        .collect())
}

/// How clockcheck asks an association ntpd would make: a pool may add
/// several voters, a server or peer one.
fn resolve_kind(kind: ntpconf_edit::associations::Kind) -> resolve::Kind {
    match kind {
        ntpconf_edit::associations::Kind::Pool => resolve::Kind::Pool,
        ntpconf_edit::associations::Kind::Server | ntpconf_edit::associations::Kind::Peer => {
            resolve::Kind::Server
        }
    }
}

/// The sources of chrony.conf (its includes, confdir and sourcedir
/// followed): a `pool` may add several voters, a `server` or `peer` one.
fn from_chrony_conf(
    root: &Root,
    conf: &Path,
    port: u16,
) -> Result<Vec<resolve::Association>, String> {
    let shown = escape_path(&root.display_path(conf));
    let chrony = ChronyConf::read(root, conf).map_err(|e| {
        format!(
            "no server given (-H), and cannot read {}",
            conventions::escape_text(&e.to_string())
        )
    })?;
    let lines = chrony
        .sources
        .iter()
        .map(|s| {
            let kind = if s.kind == "pool" {
                resolve::Kind::Pool
            } else {
                resolve::Kind::Server
            };
            (s.host.as_str(), kind)
        })
        .collect();
    // (Unlike ntp.conf's, this message has never named ntpd's 10.)
    let too_many_message = format!(
        "{shown} names more than {MAX_ASSOCIATIONS} servers; at most {MAX_ASSOCIATIONS} are checked"
    );
    from_file_lines(&shown, too_many_message, lines, port)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_and_port_forms() {
        assert_eq!(
            host_port("127.0.0.1:11123", 123),
            ("127.0.0.1".into(), 11123)
        );
        assert_eq!(host_port("pool.ntp.org", 123), ("pool.ntp.org".into(), 123));
        assert_eq!(host_port("[::1]:1234", 123), ("::1".into(), 1234));
        assert_eq!(host_port("::1", 123), ("::1".into(), 123));
    }
}
