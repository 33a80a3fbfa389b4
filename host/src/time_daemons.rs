//! The daemons that set the clock, as a host shows them: by process name
//! (FreeBSD and Linux) and by systemd unit (Linux).  Their units' states are
//! read with [`crate::systemd::unit_states`].

/// Daemons that set the clock, by process name (FreeBSD and Linux).
pub const TIME_DAEMONS: &[&str] = &["ntpd", "chronyd", "systemd-timesyn", "openntpd", "ntpdate"];

/// Linux units of the time daemons.
pub const TIME_UNITS: &[&str] = &[
    "chrony.service",
    "chronyd.service",
    "ntpsec.service",
    "ntp.service",
    "ntpd.service",
    "openntpd.service",
    "systemd-timesyncd.service",
];
