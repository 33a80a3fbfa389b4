//! The kernel's own answers on FreeBSD: sysctl values and the process table.
//!
//! FreeBSD has no /proc by default, and a user crontab's `PATH` has no
//! `/sbin`, so nothing here runs `sysctl` or `ps`: the live system is asked
//! through `sysctlbyname(3)` (values) and `kern.proc.all` (processes).  A
//! copied tree (`--root`) answers from a saved `sysctl -a` in
//! `$ROOT/sysctl.out`.  Everything behind the [`Kernel`] trait, so the code
//! that uses the answers is built and tested on Linux too; only
//! [`freebsd::LiveKernel`] is FreeBSD-only, and it is kept to the two calls.

/// What the advice needs from the kernel.
pub trait Kernel {
    /// A value as `sysctl -n NAME` prints it; `None` when there is no such
    /// name (or no FreeBSD kernel to ask).
    fn sysctl(&self, name: &str) -> Option<String>;
    /// The command names of the running processes; `None` when unknown.
    fn processes(&self) -> Option<Vec<String>>;
}

/// No FreeBSD kernel to ask (a Linux host, a tree without `sysctl.out`).
pub struct NoKernel;

impl Kernel for NoKernel {
    fn sysctl(&self, _name: &str) -> Option<String> {
        None
    }
    fn processes(&self) -> Option<Vec<String>> {
        None
    }
}

/// A saved `sysctl -a` (`name: value` lines), standing in for the kernel of
/// a copied tree.  It has no process table.
pub struct SavedSysctl {
    text: String,
}

impl SavedSysctl {
    pub fn new(text: String) -> SavedSysctl {
        SavedSysctl { text }
    }
}

impl Kernel for SavedSysctl {
    fn sysctl(&self, name: &str) -> Option<String> {
        // The last line wins, as it would if the output were concatenated.
        self.text
            .lines()
            .filter_map(|line| line.strip_prefix(name)?.strip_prefix(':'))
            .map(|value| value.trim().to_string())
            .next_back()
    }
    fn processes(&self) -> Option<Vec<String>> {
        None
    }
}

/// How a sysctl's bytes are to be read: `sysctlbyname` returns raw bytes and
/// the type is not part of the answer, so the names we ask for are listed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueKind {
    /// A NUL-terminated string (`kern.vm_guest`, `kern.timecounter.hardware`).
    Text,
    /// A C `int` in the machine's byte order (`hw.hvtimesync.*`).
    Int,
}

/// The sysctls `clockcheck env` reads, and how.
pub const KNOWN_SYSCTLS: &[(&str, ValueKind)] = &[
    ("kern.ostype", ValueKind::Text),
    ("kern.vm_guest", ValueKind::Text),
    ("kern.timecounter.hardware", ValueKind::Text),
    ("hw.hvtimesync.ignore_sync", ValueKind::Int),
    ("hw.hvtimesync.sample_thresh", ValueKind::Int),
];

/// The bytes of a sysctl value as `sysctl -n` would print them.
pub fn decode_value(kind: ValueKind, bytes: &[u8]) -> Option<String> {
    match kind {
        ValueKind::Text => {
            let end = bytes.iter().position(|b| *b == 0).unwrap_or(bytes.len());
            Some(String::from_utf8_lossy(&bytes[..end]).trim().to_string())
        }
        ValueKind::Int => {
            let raw: [u8; 4] = bytes.get(..4)?.try_into().ok()?;
            Some(i32::from_ne_bytes(raw).to_string())
        }
    }
}

/// The command names in a `kern.proc.all` answer: records of `record_size`
/// bytes (the kernel's `ki_structsize`), each with its NUL-terminated
/// command name at `comm_offset`.  A short or odd-sized answer yields what
/// it holds completely, never a read past the end.
pub fn process_names(
    table: &[u8],
    record_size: usize,
    comm_offset: usize,
    comm_len: usize,
) -> Vec<String> {
    if record_size == 0 || comm_offset + comm_len > record_size {
        return Vec::new();
    }
    let mut names: Vec<String> = table
        .chunks_exact(record_size)
        .map(|record| {
            let comm = &record[comm_offset..comm_offset + comm_len];
            decode_value(ValueKind::Text, comm).unwrap_or_default()
        })
        .filter(|name| !name.is_empty())
        .collect();
    names.sort();
    names.dedup();
    names
}

/// The running FreeBSD kernel.  Only this module is platform code; what it
/// returns is decoded by the functions above, which the tests cover.
#[cfg(target_os = "freebsd")]
pub mod freebsd {
    use super::{KNOWN_SYSCTLS, Kernel, decode_value, process_names};

    pub struct LiveKernel;

    /// One `sysctlbyname(3)` read: the size first, then the value (grown
    /// and retried when it changed in between, as the process table does).
    // sysctlbyname is a C call: the buffer is ours and its length is passed
    // with it, so the kernel never writes past it.
    #[allow(unsafe_code)]
    fn read_raw(name: &str) -> Option<Vec<u8>> {
        let name = std::ffi::CString::new(name).ok()?;
        for _ in 0..5 {
            let mut len: libc::size_t = 0;
            let rc = unsafe {
                libc::sysctlbyname(
                    name.as_ptr(),
                    std::ptr::null_mut(),
                    &mut len,
                    std::ptr::null(),
                    0,
                )
            };
            if rc != 0 {
                return None;
            }
            len += len / 8 + 64;
            let mut buf = vec![0u8; len];
            let rc = unsafe {
                libc::sysctlbyname(
                    name.as_ptr(),
                    buf.as_mut_ptr().cast(),
                    &mut len,
                    std::ptr::null(),
                    0,
                )
            };
            if rc == 0 {
                buf.truncate(len);
                return Some(buf);
            }
            if std::io::Error::last_os_error().raw_os_error() != Some(libc::ENOMEM) {
                return None;
            }
        }
        None
    }

    impl Kernel for LiveKernel {
        fn sysctl(&self, name: &str) -> Option<String> {
            let kind = KNOWN_SYSCTLS.iter().find(|(n, _)| *n == name)?.1;
            decode_value(kind, &read_raw(name)?)
        }
        fn processes(&self) -> Option<Vec<String>> {
            let table = read_raw("kern.proc.all")?;
            let size_field: [u8; 4] = table.get(..4)?.try_into().ok()?;
            let record_size = usize::try_from(i32::from_ne_bytes(size_field)).ok()?;
            let comm_offset = std::mem::offset_of!(libc::kinfo_proc, ki_comm);
            Some(process_names(
                &table,
                record_size,
                comm_offset,
                libc::COMMLEN + 1,
            ))
        }
    }
}

/// The kernel of the system we run on: FreeBSD's own, or none.
pub fn live() -> Box<dyn Kernel> {
    #[cfg(target_os = "freebsd")]
    return Box::new(freebsd::LiveKernel);
    #[cfg(not(target_os = "freebsd"))]
    Box::new(NoKernel)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// The test double: a kernel that answers from a table.
    #[derive(Default)]
    pub struct FakeKernel {
        pub values: BTreeMap<String, String>,
        pub processes: Option<Vec<String>>,
    }

    impl Kernel for FakeKernel {
        fn sysctl(&self, name: &str) -> Option<String> {
            self.values.get(name).cloned()
        }
        fn processes(&self) -> Option<Vec<String>> {
            self.processes.clone()
        }
    }

    #[test]
    fn saved_sysctl_output_is_read_by_exact_name() {
        let saved = SavedSysctl::new(
            "kern.vm_guest: hv\nhw.hvtimesync.ignore_sync: 0\nhw.hvtimesync.ignore_sync_x: 9\n"
                .into(),
        );
        assert_eq!(saved.sysctl("kern.vm_guest").as_deref(), Some("hv"));
        assert_eq!(
            saved.sysctl("hw.hvtimesync.ignore_sync").as_deref(),
            Some("0")
        );
        assert_eq!(saved.sysctl("hw.hvtimesync"), None);
        assert_eq!(saved.processes(), None);
    }

    #[test]
    fn values_decode_as_sysctl_prints_them() {
        assert_eq!(
            decode_value(ValueKind::Text, b"hv\0junk").as_deref(),
            Some("hv")
        );
        assert_eq!(
            decode_value(ValueKind::Int, &(-1i32).to_ne_bytes()).as_deref(),
            Some("-1")
        );
        assert_eq!(decode_value(ValueKind::Int, b"\x01"), None);
    }

    #[test]
    fn the_process_table_yields_whole_records_only() {
        let mut table = Vec::new();
        for name in ["ntpd", "dovecot", "ntpd"] {
            let mut record = vec![0u8; 32];
            record[8..8 + name.len()].copy_from_slice(name.as_bytes());
            table.extend(record);
        }
        table.extend([b'x'; 10]); // a torn last record
        assert_eq!(process_names(&table, 32, 8, 20), ["dovecot", "ntpd"]);
        assert!(process_names(&table, 0, 8, 20).is_empty());
        assert!(process_names(&table, 16, 8, 20).is_empty());
    }
}
