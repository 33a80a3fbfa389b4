//! `mailhost-host`: what is installed on a mail host, read once from a root
//! (`--root DIR`, or `/`) through [`mailhost_common::root::Root`], so that
//! every tool of the toolkit reasons from the same facts and prints the same
//! conclusion.
//!
//! - [`dovecot`]: the installed dovecot (generation, version, listeners,
//!   protocols, log destinations, instance names) and what that means for
//!   running it from xinetd; [`dovecot::standalone`]: is the standalone
//!   dovecot enabled (rc.conf chain, systemd units) and on which ports.
//! - [`systemd`]: a unit's state (enabled, masked, disabled) from its links.
//!
//! Unknown is a value here, never a silent default: a fact that could not be
//! established says what was looked for.

pub mod dovecot;
pub mod systemd;
