//! The installed dovecot, one model for every tool.
//!
//! - [`version`]: which dovecot this is (generation and version), with the
//!   evidence: the package database, the package's files, the binaries'
//!   version strings, the shape of dovecot.conf.
//! - [`config`]: what dovecot.conf says (listeners, `protocols`, where it
//!   logs, `instance_name`).
//! - [`standalone`]: is the standalone dovecot enabled at boot, where is
//!   that said, and on which ports: [`standalone::standalone`].
//! - [`xinetd`]: the conclusion about running dovecot from xinetd on that
//!   generation, and the fix, in the words every tool prints.

pub mod config;
pub mod standalone;
pub mod version;
pub mod xinetd;

use mailhost_common::root::Root;

pub use config::{Config, LogTarget};
pub use version::{Generation, Identity};

/// Where dovecot.conf lives, in the order looked for: FreeBSD's port (2.x,
/// then 1.x, which kept it directly in /usr/local/etc), then Linux packages
/// (Debian both generations, RHEL 5's 1.0 in /etc).
pub const CONFIG_FILES: &[&str] = &[
    "/usr/local/etc/dovecot/dovecot.conf",
    "/usr/local/etc/dovecot.conf",
    "/etc/dovecot/dovecot.conf",
    "/etc/dovecot.conf",
];

/// Everything known about the installed dovecot.
#[derive(Clone, Debug)]
pub struct Dovecot {
    /// Which dovecot this is, and how that was found out.
    pub identity: Identity,
    /// dovecot.conf, when one was found.
    pub config: Option<Config>,
}

impl Dovecot {
    /// Reads the dovecot under `root`.  Never fails: what cannot be read is
    /// part of the answer (`Generation::Unknown` with what was looked for).
    pub fn read(root: &Root) -> Dovecot {
        let config = config::read(root);
        let identity = version::identify(root, config.as_ref());
        Dovecot { identity, config }
    }

    pub fn generation(&self) -> Generation {
        self.identity.generation
    }

    /// The names dovecot logs under besides its defaults (`instance_name`,
    /// since 2.3.8 its syslog ident), each once.
    pub fn instance_names(&self) -> &[String] {
        self.config
            .as_ref()
            .map_or(&[][..], |c| c.instance_names.as_slice())
    }

    /// Where its error lines (Fatal included) go.
    pub fn error_log(&self) -> LogTarget {
        self.config
            .as_ref()
            .map_or_else(LogTarget::default_syslog, Config::error_log)
    }

    /// Where its info lines go.
    pub fn info_log(&self) -> LogTarget {
        self.config
            .as_ref()
            .map_or_else(LogTarget::default_syslog, Config::info_log)
    }

    /// The TCP ports its own listeners take, each with the listener that
    /// takes it (dovecot's defaults when no dovecot.conf was found).
    pub fn ports(&self) -> Vec<(u16, String)> {
        match &self.config {
            Some(config) => config.ports(self.generation()),
            None => config::default_ports(self.generation()),
        }
    }
}
