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
//! - [`kernel`]: the kernel's answers (sysctl values, the process table):
//!   FreeBSD's own, or a saved `sysctl -a`/`sysctl -ae` (`$ROOT/sysctl.out`)
//!   for a copied tree.
//! - [`os`]: which OS the tree is the root of (or that it is none), and a
//!   Linux tree's os-release IDs.
//! - [`hypervisor`]: the hypervisor and how it sets the guest's clock
//!   (Hyper-V's TimeSync, VMware tools, QEMU's guest agent).
//! - [`time_daemons`]: the time daemons by process name and systemd unit.
//! - [`reader`]: a tree's /sys, /proc and small config files, each read once.
//!
//! Unknown is a value here, never a silent default: a fact that could not be
//! established says what was looked for.

pub mod dovecot;
pub mod hypervisor;
pub mod kernel;
pub mod os;
pub mod reader;
pub mod systemd;
pub mod time_daemons;
