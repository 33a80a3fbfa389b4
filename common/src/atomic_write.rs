//! Replacing a file so that it is never lost, and so that nobody who can
//! write its directory can turn the edit against another file.
//!
//! The steps: find the file (a symlink is followed, inside the `--root`
//! when there is one, and stays a symlink; the file edited is its final
//! target); hold its directory open; from then on work only by name in that
//! directory, never by path: a new temporary file (`O_EXCL`, `O_NOFOLLOW`)
//! gets the original's owner, group and mode through its descriptor
//! (`fchown`, then `fchmod`, as chown clears set-id bits), the new contents,
//! the original's extended attributes and ACL (`crate::xattrs`; after the
//! write, which drops Linux's `security.capability`), fsync; the backup
//! (`--backup`) is made the same way from the original's open descriptor and
//! renamed over `NAME.bak` (a link planted there is replaced, never
//! followed, and an older backup survives any failure); then the rename
//! over the original and an fsync of the directory.  Any failure leaves the
//! original as it was and no temporary file behind.
//!
//! A file with more than one hard link is refused: a rename would split it
//! (the other names keep the old text), and writing in place would write
//! through to the other names, which may be outside the root.
//!
//! Each step can be made to fail on purpose (`FailAt`), so tests can prove the
//! promise step by step.  The binaries read `TOOLKIT_FAIL_AT` for their CLI
//! tests, and `TOOLKIT_PAUSE_AT` (a step's name: the writer sleeps there a
//! minute) for the tests that kill a writer mid-write; nothing else sets them.
//! `TOOLKIT_NAMED_TEMP=1` makes the writer take the named temporary file
//! even where `O_TMPFILE` works, as it must on FreeBSD, so that path (and its
//! removal on SIGTERM, `crate::temp_cleanup`) is tested on Linux too.
#![allow(dead_code)]

use std::ffi::{OsStr, OsString};
use std::fs;
use std::io::{self, Write};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use rustix::fs::{AtFlags, FileType, Mode, OFlags};
use rustix::io::Errno;

use crate::root::Root;

/// A step of the replacement that a test may make fail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailAt {
    Create,
    Write,
    Fsync,
    Backup,
    Rename,
}

impl FailAt {
    pub const ALL: [FailAt; 5] = [
        FailAt::Create,
        FailAt::Write,
        FailAt::Fsync,
        FailAt::Backup,
        FailAt::Rename,
    ];

    /// Reads the test hook from the environment variable `TOOLKIT_FAIL_AT`.
    pub fn from_env() -> Option<FailAt> {
        match std::env::var("TOOLKIT_FAIL_AT").ok()?.as_str() {
            "create" => Some(FailAt::Create),
            "write" => Some(FailAt::Write),
            "fsync" => Some(FailAt::Fsync),
            "backup" => Some(FailAt::Backup),
            "rename" => Some(FailAt::Rename),
            _ => None,
        }
    }
}

fn step(fail_at: Option<FailAt>, this: FailAt) -> io::Result<()> {
    // Test hook: `TOOLKIT_PAUSE_AT=write` holds the writer there for a
    // minute, so a test can send it a signal mid-write.
    if std::env::var("TOOLKIT_PAUSE_AT")
        .is_ok_and(|at| at.eq_ignore_ascii_case(&format!("{this:?}")))
    {
        std::thread::sleep(std::time::Duration::from_secs(60));
    }
    if fail_at == Some(this) {
        return Err(io::Error::other(format!(
            "injected failure at {this:?} (TOOLKIT_FAIL_AT)"
        )));
    }
    Ok(())
}

/// Replaces the contents of `path` with `contents`.  With `backup_suffix`,
/// the original is first kept as the target's name plus that suffix.
/// Returns the path that was really written (the symlink's target).  A
/// missing file is an error: an editor replaces, it does not create.
pub fn replace_file(
    path: &Path,
    contents: &[u8],
    backup_suffix: Option<&str>,
    fail_at: Option<FailAt>,
) -> io::Result<PathBuf> {
    replace_located(&Root::host(), path, contents, backup_suffix, fail_at)
}

/// `replace_file` for a file named by its jail path inside `root`: the file
/// (or the symlink's final target, resolved inside the root) is replaced
/// through its directory, opened inside the root, and nothing outside the
/// root is ever written, even when a directory on the way is swapped for a
/// link during the edit.  Returns the path written, as shown in messages.
pub fn replace_in_root(
    root: &Root,
    jail: &Path,
    contents: &[u8],
    backup_suffix: Option<&str>,
    fail_at: Option<FailAt>,
) -> io::Result<PathBuf> {
    replace_located(root, jail, contents, backup_suffix, fail_at)
}

fn replace_located(
    root: &Root,
    path: &Path,
    contents: &[u8],
    backup_suffix: Option<&str>,
    fail_at: Option<FailAt>,
) -> io::Result<PathBuf> {
    root.locate(path, true, |found| {
        let Some(name) = found.name.clone() else {
            return Err(io::Error::other("is a directory"));
        };
        found.stat.map_err(io::Error::from)?;
        let original = Original::open(found.dir(), &name)?;
        write_in_dir(
            found.dir(),
            &name,
            Some(&original),
            contents,
            backup_suffix,
            fail_at,
        )?;
        let jail = found.jail_path();
        Ok(if root.is_host() {
            jail
        } else {
            root.display_path(&jail)
        })
    })
}

/// Writes `contents` to `path`, replacing the file or creating it with mode
/// 0644 when it does not exist yet (an output file such as a node_exporter
/// collector, in a directory others may write).  `path`'s directory is
/// taken as given; the file is the last name in it and nothing else: a
/// symlink there is replaced by the new file, its target never written, so
/// no file outside that directory can be reached.
pub fn create_or_replace(
    path: &Path,
    contents: &[u8],
    fail_at: Option<FailAt>,
) -> io::Result<PathBuf> {
    let Some(name) = path.file_name() else {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not the name of a file in a directory",
        ));
    };
    let dir_path = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let dir = rustix::fs::open(
        dir_path,
        OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    let original = match rustix::fs::statat(&dir, name, AtFlags::SYMLINK_NOFOLLOW) {
        Err(Errno::NOENT) => None,
        Err(e) => return Err(e.into()),
        // A link planted at the name: replaced, never followed.
        Ok(st) if FileType::from_raw_mode(st.st_mode) == FileType::Symlink => None,
        Ok(_) => Some(Original::open(dir.as_fd(), name)?),
    };
    write_in_dir(
        dir.as_fd(),
        name,
        original.as_ref(),
        contents,
        None,
        fail_at,
    )?;
    Ok(dir_path.join(name))
}

/// The file being replaced, open, with what it carries.
struct Original {
    file: fs::File,
    stat: rustix::fs::Stat,
}

impl Original {
    /// Opens `name` in `dir` without following a link (the walk already
    /// followed links; one there now was swapped in during the edit) and
    /// without blocking on a FIFO; only a regular file with one link is
    /// accepted.
    fn open(dir: BorrowedFd<'_>, name: &OsStr) -> io::Result<Original> {
        let fd = rustix::fs::openat(
            dir,
            name,
            OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::NOCTTY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| match e {
            Errno::LOOP | Errno::MLINK => {
                io::Error::other("became a symlink during the edit; not changed")
            }
            e => e.into(),
        })?;
        let stat = rustix::fs::fstat(&fd)?;
        if FileType::from_raw_mode(stat.st_mode) != FileType::RegularFile {
            return Err(io::Error::other("not a regular file"));
        }
        if stat.st_nlink > 1 {
            return Err(io::Error::other(format!(
                "has {} hard links: replacing it would split them (the other names keep \
                 the old text) and writing in place would change the other names too; \
                 make it a file of its own first",
                stat.st_nlink
            )));
        }
        Ok(Original {
            file: fs::File::from(fd),
            stat,
        })
    }
}

/// Temporary file beside the target in `dir`, owner and mode from
/// `original` (or 0644), contents, extended attributes, fsync, optional
/// backup, rename, fsync the directory.
fn write_in_dir(
    dir: BorrowedFd<'_>,
    name: &OsStr,
    original: Option<&Original>,
    contents: &[u8],
    backup_suffix: Option<&str>,
    fail_at: Option<FailAt>,
) -> io::Result<()> {
    step(fail_at, FailAt::Create)?;
    let temp = TempFile::create(dir, name)?;
    match original {
        Some(original) => keep_owner_and_mode(temp.fd(), &original.stat, true)?,
        None => rustix::fs::fchmod(temp.fd(), Mode::from_raw_mode(0o644))?,
    }

    step(fail_at, FailAt::Write)?;
    temp.file().write_all(contents)?;
    if let Some(original) = original {
        crate::xattrs::copy(original.file.as_fd(), temp.fd(), true)?;
    }

    step(fail_at, FailAt::Fsync)?;
    temp.file().sync_all()?;

    if let (Some(suffix), Some(original)) = (backup_suffix, original) {
        step(fail_at, FailAt::Backup)?;
        let mut backup_name = name.to_os_string();
        backup_name.push(suffix);
        write_backup(dir, &backup_name, original)?;
    }

    step(fail_at, FailAt::Rename)?;
    temp.rename_to(name)?;
    // The rename is durable only once the directory is synced; a failure
    // here cannot undo anything, so it is not reported.
    if let Ok(d) = rustix::fs::openat(
        dir,
        ".",
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    ) {
        let _ = rustix::fs::fsync(d);
    }
    Ok(())
}

/// The backup: a copy of the original made as a new file and renamed over
/// `backup_name`, so whatever was there (an older backup, a planted link)
/// is replaced whole or not at all.  It keeps owner, group, permissions and
/// extended attributes, but not set-id bits or file capabilities: an old
/// copy of a set-id program would be a second, unpatched one.
fn write_backup(dir: BorrowedFd<'_>, backup_name: &OsStr, original: &Original) -> io::Result<()> {
    let temp = TempFile::create(dir, backup_name)?;
    keep_owner_and_mode(temp.fd(), &original.stat, false)?;
    let mut buffer = vec![0; 64 * 1024];
    let mut offset = 0u64;
    loop {
        let n = original.file.read_at(&mut buffer, offset)?;
        if n == 0 {
            break;
        }
        temp.file().write_all(&buffer[..n])?;
        offset += n as u64;
    }
    crate::xattrs::copy(original.file.as_fd(), temp.fd(), false)?;
    temp.file().sync_all()?;
    temp.rename_to(backup_name)
}

/// Owner and group first (only root can give a file away; a user editing a
/// file of their own already has the right owner, so only a real change
/// fails), then the mode, as chown clears set-id bits.
fn keep_owner_and_mode(
    fd: BorrowedFd<'_>,
    stat: &rustix::fs::Stat,
    set_id: bool,
) -> io::Result<()> {
    let uid = rustix::fs::Uid::from_raw(stat.st_uid);
    let gid = rustix::fs::Gid::from_raw(stat.st_gid);
    if let Err(err) = rustix::fs::fchown(fd, Some(uid), Some(gid)) {
        let now = rustix::fs::fstat(fd)?;
        if now.st_uid != stat.st_uid || now.st_gid != stat.st_gid {
            return Err(err.into());
        }
    }
    let keep = if set_id { 0o7777 } else { 0o1777 };
    rustix::fs::fchmod(
        fd,
        Mode::from_raw_mode(stat.st_mode as rustix::fs::RawMode & keep),
    )?;
    Ok(())
}

/// A new file `.NAME.XXXXXXXX.tmp` in `dir`, created with `O_EXCL` (never
/// an existing file, never through a link) and removed again unless it was
/// renamed into place.
struct TempFile<'d> {
    dir: BorrowedFd<'d>,
    /// The temporary name; `None` while the file is unnamed (`O_TMPFILE`).
    name: Option<OsString>,
    file: fs::File,
    renamed: bool,
    /// While the file has a name: removed by a stopping signal.
    on_signal: Option<crate::temp_cleanup::Registration>,
}

impl<'d> TempFile<'d> {
    /// A new file beside `target`: unnamed (Linux `O_TMPFILE`) where the
    /// file system allows, so a SIGTERM or SIGKILL during the write leaves
    /// nothing behind; else `.NAME.XXXX.tmp`, created exclusively.  Either
    /// way without the directory's default ACL (see [`drop_inherited_acl`]).
    fn create(dir: BorrowedFd<'d>, target: &OsStr) -> io::Result<TempFile<'d>> {
        let named_only = std::env::var_os("TOOLKIT_NAMED_TEMP").is_some_and(|v| v == "1");
        let unnamed = if named_only {
            None
        } else {
            Self::create_unnamed(dir)
        };
        let temp = match unnamed {
            Some(temp) => temp,
            None => Self::create_named(dir, target)?,
        };
        drop_inherited_acl(temp.fd())?;
        Ok(temp)
    }

    #[cfg(any(target_os = "linux", target_os = "android"))]
    fn create_unnamed(dir: BorrowedFd<'d>) -> Option<TempFile<'d>> {
        let fd = rustix::fs::openat(
            dir,
            ".",
            OFlags::WRONLY | OFlags::TMPFILE | OFlags::CLOEXEC,
            Mode::from_raw_mode(0o600),
        )
        .ok()?; // EOPNOTSUPP, EISDIR (an old kernel): the named way.
        Some(TempFile {
            dir,
            name: None,
            file: fs::File::from(fd),
            renamed: false,
            on_signal: None,
        })
    }

    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    fn create_unnamed(_dir: BorrowedFd<'d>) -> Option<TempFile<'d>> {
        None
    }

    fn create_named(dir: BorrowedFd<'d>, target: &OsStr) -> io::Result<TempFile<'d>> {
        let mut last = Errno::EXIST;
        for _ in 0..100 {
            let name = temp_name(target);
            // From its creation until the rename a signal must remove it.
            let created = crate::temp_cleanup::create_registered(dir, &name, || {
                rustix::fs::openat(
                    dir,
                    name.as_os_str(),
                    OFlags::WRONLY
                        | OFlags::CREATE
                        | OFlags::EXCL
                        | OFlags::NOFOLLOW
                        | OFlags::CLOEXEC,
                    Mode::from_raw_mode(0o600),
                )
            });
            match created {
                Ok((fd, on_signal)) => {
                    return Ok(TempFile {
                        dir,
                        name: Some(name),
                        file: fs::File::from(fd),
                        renamed: false,
                        on_signal,
                    });
                }
                Err(Errno::EXIST) => last = Errno::EXIST,
                Err(e) => return Err(e.into()),
            }
        }
        Err(last.into())
    }

    fn fd(&self) -> BorrowedFd<'_> {
        self.file.as_fd()
    }

    fn file(&self) -> &fs::File {
        &self.file
    }

    /// Gives an unnamed file a temporary name (`linkat`), at the last
    /// moment: only between this and the rename can a signal leave it.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    fn link_unnamed(&mut self, target: &OsStr) -> io::Result<()> {
        let mut last = Errno::EXIST;
        for _ in 0..100 {
            let name = temp_name(target);
            let linked =
                crate::temp_cleanup::create_registered(self.dir, &name, || self.link_as(&name));
            match linked {
                Ok(((), on_signal)) => {
                    self.on_signal = on_signal;
                    self.name = Some(name);
                    return Ok(());
                }
                Err(Errno::EXIST) => last = Errno::EXIST,
                Err(e) => return Err(e.into()),
            }
        }
        Err(last.into())
    }

    /// `linkat` of the unnamed file to `name`.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    fn link_as(&self, name: &OsStr) -> Result<(), Errno> {
        // AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH (root has it); the
        // /proc/self/fd link works for everyone where /proc is mounted.
        rustix::fs::linkat(self.fd(), "", self.dir, name, AtFlags::EMPTY_PATH).or_else(|_| {
            use std::os::fd::AsRawFd;
            let proc_path = format!("/proc/self/fd/{}", self.file.as_raw_fd());
            rustix::fs::linkat(
                rustix::fs::CWD,
                proc_path.as_str(),
                self.dir,
                name,
                AtFlags::SYMLINK_FOLLOW,
            )
        })
    }

    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    fn link_unnamed(&mut self, _target: &OsStr) -> io::Result<()> {
        Err(io::Error::other("no unnamed temporary files here"))
    }

    /// Renames the file over `target` in the same directory, then checks
    /// that what now carries the name is this file: whoever can write the
    /// directory could have put something else at the temporary name.
    fn rename_to(mut self, target: &OsStr) -> io::Result<()> {
        if self.name.is_none() {
            self.link_unnamed(target)?;
        }
        let name = self.name.clone().expect("named above");
        // A stopping signal now either removes the name first or waits
        // for the rename to be done.
        crate::temp_cleanup::without_cleanup(|| {
            rustix::fs::renameat(self.dir, name.as_os_str(), self.dir, target)
        })?;
        self.renamed = true;
        self.on_signal = None;
        let mine = rustix::fs::fstat(&self.file)?;
        let there = rustix::fs::statat(self.dir, target, AtFlags::SYMLINK_NOFOLLOW)?;
        if (there.st_dev, there.st_ino) != (mine.st_dev, mine.st_ino) {
            return Err(io::Error::other(format!(
                "{}: the directory was changed during the edit (another file was put in place)",
                Path::new(target).display()
            )));
        }
        Ok(())
    }
}

/// `.NAME.XXXXXXXXXXXXXXXX.tmp`, unpredictable.
fn temp_name(target: &OsStr) -> OsString {
    use std::hash::{BuildHasher, Hasher};
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u32(std::process::id());
    hasher.write_u64(COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
    let mut name = OsString::from(".");
    name.push(target);
    name.push(format!(".{:016x}.tmp", hasher.finish()));
    name
}

/// A file created in a directory with a default ACL inherits it (a root
/// 0640 file would become readable by whoever the default names).  The new
/// file must carry exactly the old file's ACL, which `xattrs::copy` gives
/// it, or none: so what was inherited goes first.  (FreeBSD: `xattrs::copy`
/// sets the old file's ACL over the inherited one.)
#[cfg(any(target_os = "linux", target_os = "android"))]
fn drop_inherited_acl(fd: BorrowedFd<'_>) -> io::Result<()> {
    match rustix::fs::fremovexattr(fd, "system.posix_acl_access") {
        Ok(()) | Err(Errno::NODATA) | Err(Errno::OPNOTSUPP) => Ok(()),
        Err(e) => Err(io::Error::other(format!(
            "cannot drop the ACL inherited from the directory: {e}"
        ))),
    }
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn drop_inherited_acl(_fd: BorrowedFd<'_>) -> io::Result<()> {
    Ok(())
}

impl Drop for TempFile<'_> {
    fn drop(&mut self) {
        // An unnamed file needs nothing: closing it frees it.
        if let (false, Some(name)) = (self.renamed, &self.name) {
            let _ = rustix::fs::unlinkat(self.dir, name.as_os_str(), AtFlags::empty());
        }
    }
}

#[cfg(test)]
mod atomic_write_tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn files_in(dir: &Path) -> Vec<String> {
        let mut names: Vec<_> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    /// `getfacl` of a file, without the header; `None` when the acl tools
    /// are missing (the test then skips).
    fn acl_of(path: &Path) -> Option<String> {
        let out = std::process::Command::new("getfacl")
            .args(["--omit-header", "--numeric"])
            .arg(path)
            .output()
            .ok()?;
        assert!(out.status.success(), "getfacl {}", path.display());
        Some(String::from_utf8(out.stdout).unwrap())
    }

    fn setfacl(args: &[&str], path: &Path) -> bool {
        std::process::Command::new("setfacl")
            .args(args)
            .arg(path)
            .status()
            .is_ok_and(|s| s.success())
    }

    /// Issue 21: the replaced file took the directory's default ACL, so a
    /// root 0640 file became readable by `nobody`.  It must carry exactly
    /// the old file's ACL, or none.
    #[test]
    fn the_new_file_carries_the_old_acl_not_the_directorys_default() {
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("plain");
        let with_acl = dir.path().join("with_acl");
        fs::write(&plain, b"old\n").unwrap();
        fs::write(&with_acl, b"old\n").unwrap();
        fs::set_permissions(&plain, fs::Permissions::from_mode(0o640)).unwrap();
        fs::set_permissions(&with_acl, fs::Permissions::from_mode(0o640)).unwrap();
        if acl_of(&plain).is_none()
            || !setfacl(&["-m", "u:1:r"], &with_acl)
            || !setfacl(&["-d", "-m", "u:65534:rw"], dir.path())
        {
            crate::testing::skip(
                "ACL test",
                "setfacl/getfacl missing or ACLs unsupported here",
            );
            return;
        }
        let before_plain = acl_of(&plain).unwrap();
        let before_acl = acl_of(&with_acl).unwrap();
        assert!(before_acl.contains("user:1:r--"), "{before_acl}");
        for (path, before) in [(&plain, &before_plain), (&with_acl, &before_acl)] {
            replace_file(path, b"new\n", Some(".bak"), None).unwrap();
            let after = acl_of(path).unwrap();
            assert!(!after.contains("65534"), "inherited: {after}");
            assert_eq!(&after, before, "{}", path.display());
            let backup = acl_of(&dir.path().join(format!(
                "{}.bak",
                path.file_name().unwrap().to_string_lossy()
            )))
            .unwrap();
            assert_eq!(&backup, before, "backup of {}", path.display());
        }
        let mode = fs::metadata(&plain).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o640);
    }

    #[test]
    fn every_failing_step_leaves_the_original_and_no_temp_file() {
        for fail in FailAt::ALL {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("conf");
            fs::write(&path, b"original\n").unwrap();
            let err = replace_file(&path, b"new\n", Some(".bak"), Some(fail)).unwrap_err();
            assert!(err.to_string().contains("injected"), "{fail:?}: {err}");
            assert_eq!(fs::read(&path).unwrap(), b"original\n", "{fail:?}");
            let left: Vec<_> = files_in(dir.path())
                .into_iter()
                .filter(|n| n != "conf.bak")
                .collect();
            assert_eq!(left, ["conf"], "{fail:?}");
        }
    }

    #[test]
    fn keeps_mode_follows_symlinks_and_backs_up() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.conf");
        fs::write(&real, b"old").unwrap();
        fs::set_permissions(&real, fs::Permissions::from_mode(0o640)).unwrap();
        let link = dir.path().join("link.conf");
        std::os::unix::fs::symlink("real.conf", &link).unwrap();

        let written = replace_file(&link, b"new", Some(".orig"), None).unwrap();
        assert_eq!(written, fs::canonicalize(&real).unwrap());
        assert!(
            fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(fs::read(&real).unwrap(), b"new");
        assert_eq!(fs::read(dir.path().join("real.conf.orig")).unwrap(), b"old");
        assert_eq!(
            fs::metadata(&real).unwrap().permissions().mode() & 0o7777,
            0o640
        );
    }

    #[test]
    fn create_or_replace_creates_then_replaces() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("new.prom");
        create_or_replace(&path, b"one", None).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"one");
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o644
        );
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        create_or_replace(&path, b"two", None).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        // Every step but Backup (no backup is made here) fails cleanly.
        for fail in FailAt::ALL.into_iter().filter(|f| *f != FailAt::Backup) {
            let err = create_or_replace(&dir.path().join("never.prom"), b"x", Some(fail));
            assert!(err.is_err(), "{fail:?}");
        }
        let left: Vec<_> = files_in(dir.path());
        assert_eq!(left, ["new.prom"]);
    }

    #[test]
    fn a_missing_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        assert!(replace_file(&dir.path().join("nope"), b"x", None, None).is_err());
    }
}
