//! The kernel's own answers on FreeBSD: sysctl values and the process table.
//! (Moved from clockcheck's `envinfo/kernel.rs`, issue 20.)
//!
//! FreeBSD has no /proc by default, and a user crontab's `PATH` has no
//! `/sbin`, so nothing here runs `sysctl` or `ps`: the live system is asked
//! through `sysctlbyname(3)` (values) and `kern.proc.all` (processes).  A
//! copied tree (`--root`) answers from a saved `sysctl -a` in
//! `$ROOT/sysctl.out`.  Everything behind the [`Kernel`] trait, so the code
//! that uses the answers is built and tested on Linux too; only
//! [`freebsd::LiveKernel`] is FreeBSD-only, and it is kept to the two calls.

use std::io;
use std::path::Path;

use mailhost_common::root::Root;

/// A saved `sysctl -a` is about a megabyte on a busy machine.
pub const MAX_SYSCTL_OUT_BYTES: u64 = 16 * 1024 * 1024;

/// What the host model needs from the kernel.
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

    /// A saved `sysctl -a` (`name: value`) or `sysctl -ae` (`name=value`);
    /// text with no line of either form is not a sysctl listing, and saying
    /// "no hypervisor" from it would be a guess.
    pub fn parse(text: String) -> Result<SavedSysctl, &'static str> {
        let listing = text.lines().any(|line| {
            let name_end = line
                .find(|c: char| !(c.is_ascii_alphanumeric() || "_.%-".contains(c)))
                .unwrap_or(line.len());
            name_end > 0 && matches!(line[name_end..].chars().next(), Some(':' | '='))
        });
        if listing {
            Ok(SavedSysctl { text })
        } else {
            Err(
                "not the output of `sysctl -a` or `sysctl -ae` (no `name: value` or `name=value` line)",
            )
        }
    }
}

impl Kernel for SavedSysctl {
    fn sysctl(&self, name: &str) -> Option<String> {
        // The last line wins, as it would if the output were concatenated.
        self.text
            .lines()
            .filter_map(|line| {
                let rest = line.strip_prefix(name)?;
                rest.strip_prefix(':').or_else(|| rest.strip_prefix('='))
            })
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

/// The sysctls the host model reads (the OS, the hypervisor and its time
/// sync, the clocksource), and how.
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
/// returns is decoded by the functions above.  Linux test builds compile it
/// too, against a stand-in for the three libc items it uses
/// (`tests::mock_libc`), so it is type-checked and its retry logic tested
/// where no FreeBSD target can be built.
#[cfg(any(target_os = "freebsd", test))]
pub mod freebsd {
    #[cfg(all(test, not(target_os = "freebsd")))]
    use super::tests::mock_libc as libc;
    use super::{KNOWN_SYSCTLS, Kernel, decode_value, process_names};

    /// FreeBSD's `struct kinfo_proc` on amd64 (`KINFO_PROC_SIZE` in
    /// <sys/user.h>, the same from FreeBSD 12 to 15), the records of
    /// `kern.proc.all`: its size and where the command name starts.  The
    /// Linux test stand-in (`tests::mock_libc::kinfo_proc`) must have them
    /// (a test says so); the FreeBSD build asserts that the libc crate's
    /// definition has them, so neither can drift unseen.
    pub const KINFO_PROC_SIZE: usize = 1088;
    pub const KI_COMM_OFFSET: usize = 447;
    /// The command name's length without its NUL (`COMMLEN`).
    pub const COMMLEN: usize = 19;

    // Checked by `make freebsd-check` (scripts/freebsd-check.sh), which
    // builds for x86_64-unknown-freebsd.
    #[cfg(all(target_os = "freebsd", target_arch = "x86_64"))]
    const _: () = {
        assert!(
            std::mem::size_of::<libc::kinfo_proc>() == KINFO_PROC_SIZE,
            "libc::kinfo_proc is not KINFO_PROC_SIZE bytes"
        );
        assert!(
            std::mem::offset_of!(libc::kinfo_proc, ki_comm) == KI_COMM_OFFSET,
            "libc::kinfo_proc's ki_comm is not at KI_COMM_OFFSET"
        );
        assert!(libc::COMMLEN == COMMLEN, "libc::COMMLEN is not COMMLEN");
    };

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

/// The kernel to ask for `root`: the live one for the host, a saved
/// `sysctl -a` for a copied tree (`$ROOT/sysctl.out`), else none.  A
/// `sysctl.out` that is no sysctl listing is an error naming the file.
pub fn for_root(root: &Root) -> io::Result<Box<dyn Kernel>> {
    if root.is_host() {
        return Ok(live());
    }
    match root.read_limited(Path::new("/sysctl.out"), MAX_SYSCTL_OUT_BYTES) {
        Ok(bytes) => SavedSysctl::parse(String::from_utf8_lossy(&bytes).into_owned())
            .map(|saved| Box::new(saved) as Box<dyn Kernel>)
            .map_err(|why| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "{}: {why}",
                        root.display_path(Path::new("/sysctl.out")).display()
                    ),
                )
            }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Box::new(NoKernel)),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The libc items `freebsd::LiveKernel` uses, with FreeBSD's shapes, and a
    /// `sysctlbyname` that answers from a table and grows the process table
    /// between the size query and the read (as a busy system does).
    // Linux's errno location; a FreeBSD build uses the real libc instead.
    #[cfg(not(target_os = "freebsd"))]
    #[allow(non_camel_case_types, unsafe_code, dead_code)]
    pub mod mock_libc {
        use std::cell::RefCell;
        pub type c_char = std::ffi::c_char;
        pub type c_int = std::ffi::c_int;
        pub type c_void = std::ffi::c_void;
        pub type size_t = usize;
        pub const ENOMEM: c_int = 12;
        pub const COMMLEN: usize = 19;

        /// FreeBSD's on amd64, with the fields the code does not read as
        /// bytes (written out, not computed from `freebsd::KI_COMM_OFFSET`,
        /// so that the test below compares two things).
        #[repr(C, align(8))]
        pub struct kinfo_proc {
            pub ki_structsize: c_int,
            pub ki_layout: c_int,
            pub ki_before_comm: [u8; 439],
            pub ki_comm: [c_char; COMMLEN + 1],
            pub ki_after_comm: [u8; 621],
        }

        thread_local! {
            pub static VALUES: RefCell<Vec<(String, Vec<u8>)>> = const { RefCell::new(Vec::new()) };
            /// Grow the answer by this many bytes after each size query.
            pub static GROW: RefCell<usize> = const { RefCell::new(0) };
        }

        unsafe extern "C" {
            fn __errno_location() -> *mut c_int;
        }

        /// # Safety
        /// As sysctlbyname(3): `oldp` has `*oldlenp` writable bytes.
        pub unsafe fn sysctlbyname(
            name: *const c_char,
            oldp: *mut c_void,
            oldlenp: *mut size_t,
            _newp: *const c_void,
            _newlen: size_t,
        ) -> c_int {
            let name = unsafe { std::ffi::CStr::from_ptr(name) }
                .to_string_lossy()
                .into_owned();
            let Some(value) = VALUES.with(|v| {
                v.borrow()
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, b)| b.clone())
            }) else {
                unsafe { *__errno_location() = 2 };
                return -1;
            };
            if oldp.is_null() {
                unsafe { *oldlenp = value.len() };
                // The table grows before the caller reads it.
                let table = name == "kern.proc.all";
                let grow = GROW.with(|g| {
                    if table {
                        std::mem::take(&mut *g.borrow_mut())
                    } else {
                        0
                    }
                });
                if grow > 0 {
                    VALUES.with(|v| {
                        for (n, b) in v.borrow_mut().iter_mut() {
                            if *n == name {
                                let record = b[..grow].to_vec();
                                b.extend(record);
                            }
                        }
                    });
                }
                return 0;
            }
            if unsafe { *oldlenp } < value.len() {
                unsafe { *__errno_location() = ENOMEM };
                return -1;
            }
            unsafe {
                std::ptr::copy_nonoverlapping(value.as_ptr(), oldp.cast::<u8>(), value.len());
                *oldlenp = value.len();
            }
            0
        }
    }

    #[cfg(not(target_os = "freebsd"))]
    fn record(name: &str) -> Vec<u8> {
        let size = std::mem::size_of::<mock_libc::kinfo_proc>();
        let mut record = vec![0u8; size];
        record[..4].copy_from_slice(&(size as i32).to_ne_bytes());
        let at = std::mem::offset_of!(mock_libc::kinfo_proc, ki_comm);
        record[at..at + name.len()].copy_from_slice(name.as_bytes());
        record
    }

    #[test]
    #[cfg(not(target_os = "freebsd"))]
    fn the_live_kernel_code_reads_values_and_a_growing_process_table() {
        let kernel = freebsd::LiveKernel;
        let mut table = Vec::new();
        // Many processes, so the 1/8 slack is less than what appears.
        for i in 0..64 {
            table.extend(record(if i == 7 { "ntpd" } else { "sh" }));
        }
        table.extend(record("dovecot"));
        let one = record("xinetd").len();
        mock_libc::VALUES.with(|v| {
            *v.borrow_mut() = vec![
                ("kern.vm_guest".into(), b"hv\0".to_vec()),
                (
                    "hw.hvtimesync.sample_thresh".into(),
                    100i32.to_ne_bytes().to_vec(),
                ),
                ("kern.proc.all".into(), table),
            ]
        });
        mock_libc::GROW.with(|g| *g.borrow_mut() = one * 40);
        assert_eq!(kernel.sysctl("kern.vm_guest").as_deref(), Some("hv"));
        assert_eq!(
            kernel.sysctl("hw.hvtimesync.sample_thresh").as_deref(),
            Some("100")
        );
        assert_eq!(kernel.sysctl("hw.hvtimesync.ignore_sync"), None);
        assert_eq!(kernel.sysctl("kern.not_listed"), None);
        assert_eq!(
            kernel.processes().unwrap(),
            ["dovecot", "ntpd", "sh"],
            "read again after the table grew"
        );
    }

    #[test]
    #[cfg(not(target_os = "freebsd"))]
    fn the_stand_in_kinfo_proc_has_freebsds_layout() {
        use std::mem::{align_of, offset_of, size_of};
        // What the FreeBSD build asserts of libc::kinfo_proc.
        assert_eq!(size_of::<mock_libc::kinfo_proc>(), freebsd::KINFO_PROC_SIZE);
        assert_eq!(
            offset_of!(mock_libc::kinfo_proc, ki_comm),
            freebsd::KI_COMM_OFFSET
        );
        assert_eq!(mock_libc::COMMLEN, freebsd::COMMLEN);
        // Pointers and longs make the real one 8-aligned.
        assert_eq!(align_of::<mock_libc::kinfo_proc>(), 8);
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
    fn a_copied_trees_kernel_is_its_sysctl_out() {
        let dir = tempfile::tempdir().unwrap();
        let root = Root::new(dir.path()).unwrap();
        assert_eq!(for_root(&root).unwrap().sysctl("kern.vm_guest"), None);
        std::fs::write(dir.path().join("sysctl.out"), "kern.vm_guest: hv\n").unwrap();
        assert_eq!(
            for_root(&root).unwrap().sysctl("kern.vm_guest").as_deref(),
            Some("hv")
        );
        std::fs::write(dir.path().join("sysctl.out"), "hello\n").unwrap();
        let error = for_root(&root).err().unwrap();
        assert_eq!(error.kind(), io::ErrorKind::InvalidData);
        assert!(
            error.to_string().contains("sysctl.out: not the output"),
            "{error}"
        );
    }

    #[test]
    fn sysctl_ae_form_reads_like_sysctl_a() {
        let saved =
            SavedSysctl::parse("kern.vm_guest=hv\nhw.hvtimesync.ignore_sync=0\n".into()).unwrap();
        assert_eq!(saved.sysctl("kern.vm_guest").as_deref(), Some("hv"));
        assert_eq!(
            saved.sysctl("hw.hvtimesync.ignore_sync").as_deref(),
            Some("0")
        );
    }

    #[test]
    fn text_that_is_no_sysctl_listing_is_refused() {
        assert!(SavedSysctl::parse("".into()).is_err());
        assert!(SavedSysctl::parse("hello world\n\u{1b}[2J\n".into()).is_err());
        assert!(SavedSysctl::parse(": no name\n".into()).is_err());
        assert!(SavedSysctl::parse("kern.ostype: FreeBSD\n".into()).is_ok());
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
