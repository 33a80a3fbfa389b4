//! What a file carries besides its bytes and mode, copied from the original
//! to its replacement by [`crate::atomic_write`]: extended attributes and
//! ACLs.  One that cannot be kept stops the edit: the file would lose it.
//!
//! - Linux (and macOS): every xattr, through `f{list,get,set}xattr`: `user.*`,
//!   SELinux labels (`security.selinux`), POSIX ACLs (`system.posix_acl_*`)
//!   and, when asked, file capabilities (`security.capability`).
//! - FreeBSD: the `user` and `system` extattr namespaces
//!   (`extattr_{list,get,set}_fd`), and the ACL through acl(3), which is
//!   how UFS's POSIX.1e ACLs and ZFS's NFSv4 ACLs are read and set (ZFS
//!   does not keep an ACL as an extattr at all).  FreeBSD has no file
//!   capabilities.

use std::io;
use std::os::fd::BorrowedFd;

/// Copies `from`'s extended attributes and ACL to `to`.  `capabilities`:
/// whether Linux's `security.capability` goes too (not for a backup, which
/// must not become a second privileged copy of a program).
pub(crate) fn copy(from: BorrowedFd<'_>, to: BorrowedFd<'_>, capabilities: bool) -> io::Result<()> {
    #[cfg(target_os = "freebsd")]
    {
        let _ = capabilities;
        freebsd::copy(from, to)
    }
    #[cfg(not(target_os = "freebsd"))]
    xattr::copy(from, to, capabilities)
}

/// Linux's (and macOS's) xattrs: one flat list of names.
#[cfg(not(target_os = "freebsd"))]
mod xattr {
    use std::ffi::OsStr;
    use std::io;
    use std::os::fd::BorrowedFd;
    use std::os::unix::ffi::OsStrExt;

    use rustix::io::Errno;

    pub(super) fn copy(
        from: BorrowedFd<'_>,
        to: BorrowedFd<'_>,
        capabilities: bool,
    ) -> io::Result<()> {
        let names = match read_growing(|buf| rustix::fs::flistxattr(from, buf)) {
            Ok(names) => names,
            // A file system without extended attributes: nothing to keep.
            Err(Errno::OPNOTSUPP) => return Ok(()),
            Err(e) => return Err(e.into()),
        };
        for attr in names.split(|b| *b == 0).filter(|n| !n.is_empty()) {
            let attr = OsStr::from_bytes(attr);
            if !capabilities && attr == "security.capability" {
                continue;
            }
            let value = match read_growing(|buf| rustix::fs::fgetxattr(from, attr, buf)) {
                Ok(value) => value,
                Err(Errno::NODATA) => continue, // removed meanwhile
                Err(e) => return Err(e.into()),
            };
            rustix::fs::fsetxattr(to, attr, &value, rustix::fs::XattrFlags::empty()).map_err(
                |e| {
                    let what = format!("extended attribute {}", attr.to_string_lossy());
                    super::cannot_keep(&what, e.into())
                },
            )?;
        }
        Ok(())
    }

    /// Calls a `*xattr` function with a buffer large enough for its answer
    /// (they fail with ERANGE rather than truncate).
    fn read_growing(
        mut call: impl FnMut(&mut [u8]) -> Result<usize, Errno>,
    ) -> Result<Vec<u8>, Errno> {
        let mut size = 256;
        loop {
            let mut buffer = vec![0; size];
            match call(&mut buffer) {
                Ok(n) => {
                    buffer.truncate(n);
                    return Ok(buffer);
                }
                Err(Errno::RANGE) if size < super::MAX_VALUE => size *= 4,
                Err(e) => return Err(e),
            }
        }
    }
}

/// The largest attribute list or value read (Linux allows 64 KiB per value;
/// this only stops a file system that lies about sizes).
const MAX_VALUE: usize = 1 << 24;

fn cannot_keep(what: &str, err: io::Error) -> io::Error {
    io::Error::new(err.kind(), format!("cannot keep the {what}: {err}"))
}

/// FreeBSD's extattrs and ACLs.  Linux test builds compile this module too,
/// against a stand-in for the C functions it calls (`tests::mock_sys`, with
/// FreeBSD's signatures and semantics: truncating reads, length-prefixed
/// name lists), so it is type-checked and tested where no FreeBSD target
/// can be built.
#[cfg(any(target_os = "freebsd", test))]
mod freebsd {
    use std::ffi::{CString, c_int, c_void};
    use std::io;
    use std::os::fd::{AsRawFd, BorrowedFd};

    #[cfg(all(test, not(target_os = "freebsd")))]
    use super::tests::mock_sys as sys;

    /// The C functions used: extattr(2) from the libc crate, and acl(3)
    /// (in FreeBSD's libc, not bound by the crate) declared here.
    #[cfg(target_os = "freebsd")]
    #[allow(unsafe_code)]
    mod sys {
        pub use libc::{
            _PC_ACL_EXTENDED, _PC_ACL_NFS4, ENOATTR, EOPNOTSUPP, EPERM, EXTATTR_NAMESPACE_SYSTEM,
            EXTATTR_NAMESPACE_USER, extattr_get_fd, extattr_list_fd, extattr_set_fd, fpathconf,
        };
        use std::ffi::{c_int, c_void};
        /// `<sys/acl.h>`: `acl_type_t` values.
        pub const ACL_TYPE_ACCESS: c_int = 2;
        pub const ACL_TYPE_NFS4: c_int = 4;
        unsafe extern "C" {
            pub fn acl_get_fd_np(fd: c_int, kind: c_int) -> *mut c_void;
            pub fn acl_set_fd_np(fd: c_int, acl: *mut c_void, kind: c_int) -> c_int;
            pub fn acl_free(obj: *mut c_void) -> c_int;
        }
    }

    /// The system-namespace names under which UFS stores ACLs; they are
    /// copied through acl(3) instead, which keeps the kernel's view whole.
    fn is_acl_storage(name: &[u8]) -> bool {
        name.starts_with(b"posix1e.acl_") || name == b"nfs4.acl"
    }

    pub(super) fn copy(from: BorrowedFd<'_>, to: BorrowedFd<'_>) -> io::Result<()> {
        copy_acl(from, to)?;
        for (namespace, prefix) in [
            (sys::EXTATTR_NAMESPACE_USER, "user"),
            (sys::EXTATTR_NAMESPACE_SYSTEM, "system"),
        ] {
            let list = match read_sized(|data, size| list(from, namespace, data, size)) {
                Ok(list) => list,
                Err(e) if e.raw_os_error() == Some(sys::EOPNOTSUPP) => return Ok(()),
                // The system namespace is root's; a user cannot see it, as
                // on Linux a user does not see `trusted.*`.
                Err(e) if e.raw_os_error() == Some(sys::EPERM) => continue,
                Err(e) => return Err(e),
            };
            for name in names(&list) {
                if namespace == sys::EXTATTR_NAMESPACE_SYSTEM && is_acl_storage(name) {
                    continue;
                }
                let what = format!(
                    "extended attribute {prefix}.{}",
                    String::from_utf8_lossy(name)
                );
                let c_name = CString::new(name).map_err(|_| {
                    io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!("cannot keep the {what}: NUL in its name"),
                    )
                })?;
                let value = match read_sized(|data, size| get(from, namespace, &c_name, data, size))
                {
                    Ok(value) => value,
                    // Removed since the list was read: nothing to keep.
                    Err(e) if e.raw_os_error() == Some(sys::ENOATTR) => continue,
                    Err(e) => return Err(super::cannot_keep(&what, e)),
                };
                set(to, namespace, &c_name, &value).map_err(|e| super::cannot_keep(&what, e))?;
            }
        }
        Ok(())
    }

    /// The records of an `extattr_list_fd` answer: a length byte, then that
    /// many bytes of name (no NUL).  A record cut short ends the list.
    pub(super) fn names(list: &[u8]) -> impl Iterator<Item = &[u8]> {
        let mut rest = list;
        std::iter::from_fn(move || {
            let (&len, tail) = rest.split_first()?;
            let name = tail.get(..usize::from(len))?;
            rest = &tail[usize::from(len)..];
            Some(name)
        })
        .filter(|name| !name.is_empty())
    }

    /// Reads an answer whose size is asked first (a null buffer), with room
    /// to spare: extattr(2) truncates silently, so an answer that fills the
    /// buffer may have grown meanwhile and is read again, larger.
    pub(super) fn read_sized(
        mut call: impl FnMut(*mut c_void, usize) -> isize,
    ) -> io::Result<Vec<u8>> {
        let mut size = usize::try_from(call(std::ptr::null_mut(), 0))
            .map_err(|_| io::Error::last_os_error())?;
        while size < super::MAX_VALUE {
            let room = size + 256;
            let mut buffer = vec![0u8; room];
            let n = usize::try_from(call(buffer.as_mut_ptr().cast(), room))
                .map_err(|_| io::Error::last_os_error())?;
            if n < room {
                buffer.truncate(n);
                return Ok(buffer);
            }
            size = room * 4;
        }
        Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "an extended attribute larger than 16 MiB",
        ))
    }

    // extattr(2) and acl(3) are C calls: each buffer is ours, its length is
    // passed with it, and each name is a NUL-terminated CString.
    #[allow(unsafe_code)]
    fn list(fd: BorrowedFd<'_>, namespace: c_int, data: *mut c_void, size: usize) -> isize {
        unsafe { sys::extattr_list_fd(fd.as_raw_fd(), namespace, data, size) }
    }

    #[allow(unsafe_code)]
    fn get(
        fd: BorrowedFd<'_>,
        namespace: c_int,
        name: &CString,
        data: *mut c_void,
        size: usize,
    ) -> isize {
        unsafe { sys::extattr_get_fd(fd.as_raw_fd(), namespace, name.as_ptr(), data, size) }
    }

    #[allow(unsafe_code)]
    fn set(fd: BorrowedFd<'_>, namespace: c_int, name: &CString, value: &[u8]) -> io::Result<()> {
        let n = unsafe {
            sys::extattr_set_fd(
                fd.as_raw_fd(),
                namespace,
                name.as_ptr(),
                value.as_ptr().cast(),
                value.len(),
            )
        };
        if usize::try_from(n).ok() == Some(value.len()) {
            Ok(())
        } else if n < 0 {
            Err(io::Error::last_os_error())
        } else {
            Err(io::Error::new(io::ErrorKind::WriteZero, "written in part"))
        }
    }

    /// The ACL of the kind the file system keeps (NFSv4 on ZFS and UFS with
    /// `nfsv4acls`, POSIX.1e on UFS with `acls`), if any.
    #[allow(unsafe_code)]
    fn copy_acl(from: BorrowedFd<'_>, to: BorrowedFd<'_>) -> io::Result<()> {
        let supports = |name| unsafe { sys::fpathconf(from.as_raw_fd(), name) } > 0;
        let kind = if supports(sys::_PC_ACL_NFS4) {
            sys::ACL_TYPE_NFS4
        } else if supports(sys::_PC_ACL_EXTENDED) {
            sys::ACL_TYPE_ACCESS
        } else {
            return Ok(());
        };
        let acl = unsafe { sys::acl_get_fd_np(from.as_raw_fd(), kind) };
        if acl.is_null() {
            return Err(super::cannot_keep("ACL", io::Error::last_os_error()));
        }
        let rc = unsafe { sys::acl_set_fd_np(to.as_raw_fd(), acl, kind) };
        let err = io::Error::last_os_error();
        unsafe { sys::acl_free(acl) };
        if rc != 0 {
            return Err(super::cannot_keep("ACL", err));
        }
        Ok(())
    }
}

// The stand-in is Linux's (its errno is `__errno_location`); a FreeBSD test
// build has the real calls and no stand-in.
#[cfg(all(test, not(target_os = "freebsd")))]
mod tests {
    use super::freebsd;
    use std::fs::File;
    use std::os::fd::{AsFd, AsRawFd};

    /// FreeBSD's extattr(2), fpathconf(2) and acl(3) as the FreeBSD module
    /// calls them, answering from per-descriptor tables: reads truncate to
    /// the buffer given and return the full size for a null buffer, as the
    /// kernel does; an attribute can be made to grow after the size query.
    #[allow(non_camel_case_types, unsafe_code, dead_code, non_upper_case_globals)]
    pub mod mock_sys {
        use std::cell::RefCell;
        use std::collections::BTreeMap;
        use std::ffi::{CStr, c_char, c_int, c_long, c_void};

        pub const EXTATTR_NAMESPACE_USER: c_int = 1;
        pub const EXTATTR_NAMESPACE_SYSTEM: c_int = 2;
        pub const EOPNOTSUPP: c_int = 45;
        pub const EPERM: c_int = 1;
        pub const ENOATTR: c_int = 87;
        pub const _PC_ACL_EXTENDED: c_int = 59;
        pub const _PC_ACL_NFS4: c_int = 64;
        pub const ACL_TYPE_ACCESS: c_int = 2;
        pub const ACL_TYPE_NFS4: c_int = 4;

        /// One descriptor's view: attributes by (namespace, name), the ACL
        /// kind it supports and its ACL, errors to give per namespace.
        #[derive(Default, Clone)]
        pub struct FileState {
            pub attrs: BTreeMap<(c_int, Vec<u8>), Vec<u8>>,
            pub acl_kind: Option<c_int>,
            pub acl: Option<Vec<u8>>,
            pub list_error: BTreeMap<c_int, c_int>,
            /// Bytes appended to every value after its size was asked once.
            pub grow_after_size_query: usize,
            /// Reads of these names fail with the errno given.
            pub get_error: BTreeMap<Vec<u8>, c_int>,
        }

        thread_local! {
            pub static FILES: RefCell<BTreeMap<c_int, FileState>> = const { RefCell::new(BTreeMap::new()) };
        }

        fn set_errno(code: c_int) {
            unsafe extern "C" {
                fn __errno_location() -> *mut c_int;
            }
            unsafe { *__errno_location() = code };
        }

        fn answer(value: &[u8], data: *mut c_void, nbytes: usize) -> isize {
            if data.is_null() {
                return value.len() as isize;
            }
            let n = value.len().min(nbytes);
            unsafe { std::ptr::copy_nonoverlapping(value.as_ptr(), data.cast(), n) };
            n as isize
        }

        pub unsafe fn extattr_list_fd(
            fd: c_int,
            ns: c_int,
            data: *mut c_void,
            nbytes: usize,
        ) -> isize {
            FILES.with(|files| {
                let files = files.borrow();
                let file = files.get(&fd).cloned().unwrap_or_default();
                if let Some(&code) = file.list_error.get(&ns) {
                    set_errno(code);
                    return -1;
                }
                let mut list = Vec::new();
                for (_, name) in file.attrs.keys().filter(|(n, _)| *n == ns) {
                    list.push(name.len() as u8);
                    list.extend_from_slice(name);
                }
                answer(&list, data, nbytes)
            })
        }

        pub unsafe fn extattr_get_fd(
            fd: c_int,
            ns: c_int,
            name: *const c_char,
            data: *mut c_void,
            nbytes: usize,
        ) -> isize {
            let name = unsafe { CStr::from_ptr(name) }.to_bytes().to_vec();
            FILES.with(|files| {
                let mut files = files.borrow_mut();
                let file = files.entry(fd).or_default();
                let grow = file.grow_after_size_query;
                if let Some(&code) = file.get_error.get(&name) {
                    set_errno(code);
                    return -1;
                }
                let Some(value) = file.attrs.get_mut(&(ns, name)) else {
                    set_errno(ENOATTR);
                    return -1;
                };
                let n = answer(value, data, nbytes);
                if data.is_null() {
                    value.extend(std::iter::repeat_n(b'+', grow));
                }
                n
            })
        }

        pub unsafe fn extattr_set_fd(
            fd: c_int,
            ns: c_int,
            name: *const c_char,
            data: *const c_void,
            nbytes: usize,
        ) -> isize {
            let name = unsafe { CStr::from_ptr(name) }.to_bytes().to_vec();
            let value = unsafe { std::slice::from_raw_parts(data.cast::<u8>(), nbytes) }.to_vec();
            FILES.with(|files| {
                files
                    .borrow_mut()
                    .entry(fd)
                    .or_default()
                    .attrs
                    .insert((ns, name), value)
            });
            nbytes as isize
        }

        pub unsafe fn fpathconf(fd: c_int, name: c_int) -> c_long {
            FILES.with(|files| {
                let kind = files.borrow().get(&fd).and_then(|f| f.acl_kind);
                let supported = matches!(
                    (name, kind),
                    (_PC_ACL_NFS4, Some(ACL_TYPE_NFS4)) | (_PC_ACL_EXTENDED, Some(ACL_TYPE_ACCESS))
                );
                c_long::from(supported)
            })
        }

        /// An `acl_t` here is a boxed (kind, bytes).
        pub unsafe fn acl_get_fd_np(fd: c_int, kind: c_int) -> *mut c_void {
            FILES.with(|files| {
                let files = files.borrow();
                match files.get(&fd) {
                    Some(file) if file.acl_kind == Some(kind) => {
                        let acl = file.acl.clone().unwrap_or_default();
                        Box::into_raw(Box::new((kind, acl))).cast()
                    }
                    _ => {
                        set_errno(22);
                        std::ptr::null_mut()
                    }
                }
            })
        }

        pub unsafe fn acl_set_fd_np(fd: c_int, acl: *mut c_void, kind: c_int) -> c_int {
            let (acl_kind, bytes) = unsafe { &*acl.cast::<(c_int, Vec<u8>)>() }.clone();
            assert_eq!(
                acl_kind, kind,
                "an ACL set as another kind than it was read"
            );
            FILES.with(|files| {
                let mut files = files.borrow_mut();
                let file = files.entry(fd).or_default();
                file.acl_kind = Some(kind);
                file.acl = Some(bytes);
            });
            0
        }

        pub unsafe fn acl_free(obj: *mut c_void) -> c_int {
            drop(unsafe { Box::from_raw(obj.cast::<(c_int, Vec<u8>)>()) });
            0
        }
    }

    use mock_sys::{
        ACL_TYPE_NFS4, EXTATTR_NAMESPACE_SYSTEM as SYSTEM, EXTATTR_NAMESPACE_USER as USER, FILES,
        FileState,
    };

    /// A stand-in file with these (namespace, name, value) attributes.
    fn file_with(attrs: &[(std::ffi::c_int, &[u8], &[u8])]) -> FileState {
        let mut state = FileState::default();
        for (namespace, name, value) in attrs {
            state
                .attrs
                .insert((*namespace, name.to_vec()), value.to_vec());
        }
        state
    }

    fn two_files() -> (File, File) {
        (tempfile::tempfile().unwrap(), tempfile::tempfile().unwrap())
    }

    fn state(file: &File) -> FileState {
        FILES.with(|f| {
            f.borrow()
                .get(&file.as_raw_fd())
                .cloned()
                .unwrap_or_default()
        })
    }

    fn set_state(file: &File, state: FileState) {
        FILES.with(|f| f.borrow_mut().insert(file.as_raw_fd(), state));
    }

    #[test]
    fn names_reads_length_prefixed_records_and_stops_at_a_cut_one() {
        let list = b"\x06origin\x05label\x09cut";
        let names: Vec<&[u8]> = freebsd::names(list).collect();
        assert_eq!(names, [&b"origin"[..], b"label"]);
        assert_eq!(freebsd::names(b"").count(), 0);
        assert_eq!(freebsd::names(b"\x00\x01a").collect::<Vec<_>>(), [b"a"]);
    }

    #[test]
    fn freebsd_copy_keeps_user_and_system_attributes_and_the_nfsv4_acl() {
        let (from, to) = two_files();
        let mut original = file_with(&[
            (USER, b"origin", b"puppet"),
            (USER, b"empty", b""),
            (SYSTEM, b"mac_label", &[0, 1, 2, 255]),
            // Where UFS keeps an ACL: copied by acl(3), not as raw bytes.
            (SYSTEM, b"nfs4.acl", b"raw"),
        ]);
        original.acl_kind = Some(ACL_TYPE_NFS4);
        original.acl = Some(b"owner@:rw-p--aARWcCos:-------:allow".to_vec());
        set_state(&from, original.clone());

        freebsd::copy(from.as_fd(), to.as_fd()).unwrap();

        let copied = state(&to);
        let mut expected = original.attrs.clone();
        expected.remove(&(SYSTEM, b"nfs4.acl".to_vec()));
        assert_eq!(copied.attrs, expected);
        assert_eq!(copied.acl_kind, Some(ACL_TYPE_NFS4));
        assert_eq!(copied.acl, original.acl);
    }

    #[test]
    fn freebsd_copy_rereads_a_value_that_grew_after_its_size_was_asked() {
        let (from, to) = two_files();
        let mut original = file_with(&[(USER, b"note", &b"x".repeat(100))]);
        original.grow_after_size_query = 1000;
        set_state(&from, original);

        freebsd::copy(from.as_fd(), to.as_fd()).unwrap();

        // Not cut at the size first asked: the whole current value.
        let value = state(&to).attrs[&(USER, b"note".to_vec())].clone();
        assert!(value.len() >= 1100, "got {} bytes", value.len());
        assert_eq!(value, state(&from).attrs[&(USER, b"note".to_vec())]);
    }

    #[test]
    fn freebsd_copy_skips_a_namespace_it_may_not_see_and_a_file_system_without_any() {
        let (from, to) = two_files();
        let mut user_only = file_with(&[(USER, b"a", b"1"), (SYSTEM, b"b", b"2")]);
        user_only.list_error.insert(SYSTEM, mock_sys::EPERM);
        set_state(&from, user_only);
        freebsd::copy(from.as_fd(), to.as_fd()).unwrap();
        assert_eq!(state(&to).attrs.len(), 1);

        let (from, to) = two_files();
        let mut none = FileState::default();
        none.list_error.insert(USER, mock_sys::EOPNOTSUPP);
        set_state(&from, none);
        freebsd::copy(from.as_fd(), to.as_fd()).unwrap();
        assert!(state(&to).attrs.is_empty());
    }

    #[test]
    fn freebsd_copy_passes_over_an_attribute_removed_after_the_list_was_read() {
        let (from, to) = two_files();
        let mut original = file_with(&[(USER, b"gone", b"1"), (USER, b"kept", b"2")]);
        original
            .get_error
            .insert(b"gone".to_vec(), mock_sys::ENOATTR);
        set_state(&from, original);

        freebsd::copy(from.as_fd(), to.as_fd()).unwrap();
        let copied = state(&to).attrs;
        assert_eq!(
            copied.keys().collect::<Vec<_>>(),
            [&(USER, b"kept".to_vec())]
        );
    }

    #[test]
    fn freebsd_copy_fails_naming_the_attribute_it_cannot_keep() {
        let (from, to) = two_files();
        let mut original = file_with(&[(USER, b"origin", b"puppet")]);
        original.get_error.insert(b"origin".to_vec(), 5); // EIO
        set_state(&from, original);

        let err = freebsd::copy(from.as_fd(), to.as_fd()).unwrap_err();
        assert!(err.to_string().contains("user.origin"), "{err}");
        assert_eq!(
            err.raw_os_error(),
            None,
            "a message, not a bare errno: {err}"
        );
    }
}
