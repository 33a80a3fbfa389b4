//! `--root DIR`: a directory tree (a jail, a mounted guest image, a ports
//! STAGEDIR) in which every path a tool opens is looked up, and which no path
//! can leave: not by `..`, not by a symlink, absolute or relative.
//!
//! Paths given to a [`Root`] are *jail paths*: `/etc/ntp.conf` means the file
//! the jail itself would call `/etc/ntp.conf`.  A relative jail path is taken
//! relative to the root's top (for the host, relative to the working
//! directory, as any program would).  Every component is resolved inside the
//! root, an absolute symlink target is taken as root-relative, and `..` at the
//! top stays at the top, exactly as the kernel does for a process chrooted
//! there.  On Linux this is `openat2(2)` with `RESOLVE_IN_ROOT`; where that is
//! missing, a walk with `openat(O_NOFOLLOW)` that does the same.
//!
//! The host (`--root /`, the default) is not contained: paths resolve as they
//! do for every other program on the machine.
//!
//! Reads through a `Root` accept only what the caller asked for: a
//! configuration file must be a regular file (a FIFO or a device would hang
//! or never end) and is read with a size limit.
#![allow(dead_code)] // Not every tool uses every look-up.

use std::ffi::OsString;
use std::fs::{self, File};
use std::io::{self, Read};
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use crate::budget::{Budget, FileId, SeenFiles};
use crate::conventions::MAX_CONFIG_BYTES;

/// The tree every path is looked up in.
#[derive(Debug)]
pub struct Root {
    /// As given on the command line, for messages.
    path: PathBuf,
    /// The open top directory; `None` for the host, which is not contained.
    dir: Option<OwnedFd>,
    /// How paths are looked up in it.
    resolver: Resolver,
    /// What every read through this root draws from (the run's budget).
    budget: Arc<Budget>,
}

/// How a contained root looks paths up.  Both keep every path inside the
/// root; the choice exists so the portable walk is tested (and fuzzed) on
/// Linux too, against the kernel's answer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Resolver {
    /// `openat2(RESOLVE_IN_ROOT)` where the kernel has it (Linux 5.6+), the
    /// portable walk elsewhere.
    #[default]
    Kernel,
    /// Always the portable walk ([`walk`]), as on FreeBSD.
    Walk,
}

/// What a caller accepts at the end of a path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expect {
    /// A regular file only (configuration files, rotated logs, /sys files).
    Regular,
    /// A regular file, a FIFO or a character device: what grep would read
    /// when named explicitly (`maillog-grep /dev/stdin`, a named pipe).
    Stream,
    /// A regular file that may live on procfs or sysfs: only for the reads
    /// that mean to look at `/proc` or `/sys` (a process's `comm`, a clock
    /// source).  Everywhere else such a file is refused (see [`pseudo_fs`]).
    Pseudo,
}

impl Root {
    /// The host itself: no containment (the default when `--root` is not given
    /// or is `/`).
    pub fn host() -> Root {
        Root {
            path: PathBuf::from("/"),
            dir: None,
            resolver: Resolver::Kernel,
            budget: Budget::run(),
        }
    }

    /// Opens `path` as the root.  `/` gives [`Root::host`].
    pub fn new(path: &Path) -> io::Result<Root> {
        if is_slash(path) {
            return Ok(Root::host());
        }
        let dir = rustix::fs::open(
            path,
            rustix::fs::OFlags::PATH | rustix::fs::OFlags::DIRECTORY | rustix::fs::OFlags::CLOEXEC,
            rustix::fs::Mode::empty(),
        )
        .map_err(|e| with_path(io::Error::from(e), path))?;
        Ok(Root {
            path: path.to_path_buf(),
            dir: Some(dir),
            resolver: Resolver::Kernel,
            budget: Budget::run(),
        })
    }

    /// A second handle on the same tree (the top directory's descriptor
    /// duplicated, the same budget), for a library that keeps its own
    /// `Root` while the caller keeps this one.
    pub fn try_clone(&self) -> io::Result<Root> {
        Ok(Root {
            path: self.path.clone(),
            dir: self.dir.as_ref().map(OwnedFd::try_clone).transpose()?,
            resolver: self.resolver,
            budget: Arc::clone(&self.budget),
        })
    }

    /// The same root, drawing from `budget` instead of the run's (tests).
    pub fn with_budget(mut self, budget: Arc<Budget>) -> Root {
        self.budget = budget;
        self
    }

    /// The budget every read through this root draws from.
    pub fn budget(&self) -> &Budget {
        &self.budget
    }

    /// The same root, looking paths up with `resolver`.
    pub fn with_resolver(mut self, resolver: Resolver) -> Root {
        self.resolver = resolver;
        self
    }

    /// The root as given.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// True for the host (`/`), where nothing is contained.
    pub fn is_host(&self) -> bool {
        self.dir.is_none()
    }

    /// The name to show for a jail path in messages: `ROOT/etc/ntp.conf`
    /// (`..` cleaned, so the name never points outside the root).
    pub fn display_path(&self, jail: &Path) -> PathBuf {
        if self.is_host() {
            return jail.to_path_buf();
        }
        crate::conventions::under_root(&self.path, jail)
    }

    /// Opens a file for reading, resolved inside the root, accepting only
    /// what `expect` allows.  `Expect::Regular` opens non-blocking, so a FIFO
    /// planted where a file belongs cannot hang the open; `Expect::Stream`
    /// opens as grep does (a FIFO waits for its writer).
    pub fn open(&self, jail: &Path, expect: Expect) -> io::Result<File> {
        let mut flags =
            rustix::fs::OFlags::RDONLY | rustix::fs::OFlags::CLOEXEC | rustix::fs::OFlags::NOCTTY;
        if expect != Expect::Stream {
            flags |= rustix::fs::OFlags::NONBLOCK;
        }
        let fd = self
            .open_fd(jail, flags)
            .map_err(|e| with_path(e, &self.display_path(jail)))?;
        let file = File::from(fd);
        let kind = file.metadata()?.file_type();
        use std::os::unix::fs::FileTypeExt;
        let accepted = match expect {
            Expect::Regular | Expect::Pseudo => kind.is_file(),
            Expect::Stream => kind.is_file() || kind.is_fifo() || kind.is_char_device(),
        };
        if !accepted {
            return Err(with_path(
                io::Error::other(format!("not a regular file ({})", describe_kind(kind))),
                &self.display_path(jail),
            ));
        }
        if expect == Expect::Regular
            && let Some(fs) = pseudo_fs(&file)
        {
            // A link to /proc/PID/environ or /proc/kallsyms planted in a
            // jail: root would read (and quote) what the jail owner may not.
            return Err(with_path(
                io::Error::new(
                    io::ErrorKind::PermissionDenied,
                    format!("on {fs}, not a regular filesystem: refused as a configuration file"),
                ),
                &self.display_path(jail),
            ));
        }
        if expect != Expect::Stream {
            // A regular file never blocks; clear the flag for plain reads.
            let mut status = rustix::fs::fcntl_getfl(&file)?;
            status.remove(rustix::fs::OFlags::NONBLOCK);
            rustix::fs::fcntl_setfl(&file, status)?;
        }
        Ok(file)
    }

    /// Reads a configuration file: a regular file of at most
    /// [`MAX_CONFIG_BYTES`].
    pub fn read_config(&self, jail: &Path) -> io::Result<Vec<u8>> {
        self.read_limited(jail, MAX_CONFIG_BYTES)
    }

    /// Reads a configuration file and says which file it was (device,
    /// inode), so a reader that meets it again by another name or include
    /// can skip it.
    pub fn read_config_id(&self, jail: &Path) -> io::Result<(FileId, Vec<u8>)> {
        self.read_identified(jail, MAX_CONFIG_BYTES, Expect::Regular, None)
            .map(|read| read.expect("read when nothing is seen"))
    }

    /// Reads a configuration file unless it (device, inode) is in `seen`
    /// already: `None` then, and neither the file nor its bytes are drawn
    /// from the budget.  For readers that follow includes and links.
    pub fn read_config_once(
        &self,
        jail: &Path,
        seen: &mut SeenFiles,
    ) -> io::Result<Option<(FileId, Vec<u8>)>> {
        self.read_identified(jail, MAX_CONFIG_BYTES, Expect::Regular, Some(seen))
    }

    /// Reads a regular file of at most `limit` bytes (a /sys or /proc file
    /// that is really a link to /dev/zero must not eat the memory).
    pub fn read_limited(&self, jail: &Path, limit: u64) -> io::Result<Vec<u8>> {
        self.read_config_like(jail, limit, Expect::Regular)
    }

    /// Reads a file under `/proc` or `/sys` on purpose (at most `limit`
    /// bytes): the one read that accepts a pseudo-filesystem.
    pub fn read_pseudo(&self, jail: &Path, limit: u64) -> io::Result<Vec<u8>> {
        self.read_config_like(jail, limit, Expect::Pseudo)
    }

    /// [`read_pseudo`](Root::read_pseudo), once per file (device, inode):
    /// `None` for a file in `seen` already (a walk of `/proc/N/comm` in a
    /// tree whose entries all link to one large file reads it once).
    pub fn read_pseudo_once(
        &self,
        jail: &Path,
        limit: u64,
        seen: &mut SeenFiles,
    ) -> io::Result<Option<Vec<u8>>> {
        let read = self.read_identified(jail, limit, Expect::Pseudo, Some(seen))?;
        Ok(read.map(|(_, bytes)| bytes))
    }

    fn read_config_like(&self, jail: &Path, limit: u64, expect: Expect) -> io::Result<Vec<u8>> {
        let read = self.read_identified(jail, limit, expect, None)?;
        Ok(read.expect("read when nothing is seen").1)
    }

    /// Every whole-file read: drawn from the budget (one file, its bytes).
    /// With `seen`, a file read before (by any name) is not read again.
    fn read_identified(
        &self,
        jail: &Path,
        limit: u64,
        expect: Expect,
        seen: Option<&mut SeenFiles>,
    ) -> io::Result<Option<(FileId, Vec<u8>)>> {
        let shown = || self.display_path(jail);
        let file = self.open(jail, expect)?;
        let meta = file.metadata()?;
        let id = FileId::of(&meta);
        if let Some(seen) = seen
            && !seen.first_time(id)
        {
            return Ok(None);
        }
        self.budget
            .open_file()
            .map_err(|e| with_path(e, &shown()))?;
        // Read no further than the budget allows: a file that runs past
        // what is left is the budget's overrun, not the file's.
        let cap = limit.min(self.budget.bytes_left());
        let bytes = match read_at_most(file, cap) {
            Ok(bytes) => bytes,
            Err(e) if cap < limit && e.kind() == io::ErrorKind::FileTooLarge => {
                let overrun = self.budget.read_bytes(cap + 1).unwrap_err();
                return Err(with_path(overrun, &shown()));
            }
            Err(e) => return Err(with_path(e, &shown())),
        };
        self.budget
            .read_bytes(bytes.len() as u64)
            .map_err(|e| with_path(e, &shown()))?;
        Ok(Some((id, bytes)))
    }

    /// The metadata of what `jail` names, symlinks followed inside the root.
    pub fn metadata(&self, jail: &Path) -> io::Result<fs::Metadata> {
        let fd = self
            .open_fd(jail, rustix::fs::OFlags::PATH | rustix::fs::OFlags::CLOEXEC)
            .map_err(|e| with_path(e, &self.display_path(jail)))?;
        File::from(fd).metadata()
    }

    /// The names in a directory (not `.` and `..`), sorted bytewise.
    pub fn read_dir(&self, jail: &Path) -> io::Result<Vec<OsString>> {
        let fd = self
            .open_fd(
                jail,
                rustix::fs::OFlags::RDONLY
                    | rustix::fs::OFlags::DIRECTORY
                    | rustix::fs::OFlags::CLOEXEC,
            )
            .map_err(|e| with_path(e, &self.display_path(jail)))?;
        let mut names = Vec::new();
        let mut dir = rustix::fs::Dir::read_from(&fd)?;
        while let Some(entry) = dir.read() {
            let entry = entry?;
            self.budget
                .list_entries(1)
                .map_err(|e| with_path(e, &self.display_path(jail)))?;
            let name = entry.file_name().to_bytes();
            if name == b"." || name == b".." {
                continue;
            }
            use std::os::unix::ffi::OsStrExt;
            names.push(std::ffi::OsStr::from_bytes(name).to_os_string());
        }
        names.sort();
        Ok(names)
    }

    /// The jail path of what `jail` names, every symlink followed inside the
    /// root (as `realpath` would inside the jail).  For the host, the real
    /// path.  The target must exist.
    pub fn resolve(&self, jail: &Path) -> io::Result<PathBuf> {
        self.locate(jail, true, |found| match &found.stat {
            Ok(_) => Ok(found.jail_path()),
            Err(e) => Err(io::Error::from(*e)),
        })
        .map_err(|e| with_path(e, &self.display_path(jail)))
    }

    /// Walks to the directory holding `jail`'s last name (every link on the
    /// way followed inside the root, the last one too when `follow_last`) and
    /// hands that directory, held open, to `then`.  Writers work in that
    /// directory only, by name, so nothing swapped in the tree afterwards
    /// can send them elsewhere.  On the host, relative paths start at the
    /// working directory and the walk starts at `/`.
    pub fn locate<T>(
        &self,
        jail: &Path,
        follow_last: bool,
        then: impl FnOnce(walk::Located<'_>) -> io::Result<T>,
    ) -> io::Result<T> {
        match &self.dir {
            Some(dir) => then(walk::locate(
                dir.as_fd(),
                &root_relative(jail),
                follow_last,
            )?),
            None => {
                let slash = rustix::fs::open(
                    "/",
                    rustix::fs::OFlags::PATH
                        | rustix::fs::OFlags::DIRECTORY
                        | rustix::fs::OFlags::CLOEXEC,
                    rustix::fs::Mode::empty(),
                )?;
                let absolute = if jail.is_absolute() {
                    jail.to_path_buf()
                } else {
                    std::env::current_dir()?.join(jail)
                };
                then(walk::locate(
                    slash.as_fd(),
                    &root_relative(&absolute),
                    follow_last,
                )?)
            }
        }
    }

    /// Opens `jail` with `flags`, every component resolved inside the root.
    fn open_fd(&self, jail: &Path, flags: rustix::fs::OFlags) -> io::Result<OwnedFd> {
        let Some(dir) = &self.dir else {
            return Ok(rustix::fs::open(jail, flags, rustix::fs::Mode::empty())?);
        };
        let relative = root_relative(jail);
        #[cfg(any(target_os = "linux", target_os = "android"))]
        if self.resolver == Resolver::Kernel {
            match kernel_open(dir.as_fd(), &relative, flags) {
                // ENOSYS: a kernel before 5.6 (or a filter that hides the
                // call); EAGAIN twice: renames the kernel keeps seeing.  The
                // walk answers both.
                Err(rustix::io::Errno::NOSYS | rustix::io::Errno::AGAIN) => {}
                other => return Ok(other?),
            }
        }
        walk::open_in_root(dir.as_fd(), &relative, flags)
    }
}

/// `openat2(RESOLVE_IN_ROOT)`, tried again once when the kernel saw a rename
/// race inside the root (EAGAIN).
#[cfg(any(target_os = "linux", target_os = "android"))]
fn kernel_open(
    dir: std::os::fd::BorrowedFd<'_>,
    relative: &Path,
    flags: rustix::fs::OFlags,
) -> rustix::io::Result<OwnedFd> {
    let open = || {
        rustix::fs::openat2(
            dir,
            relative,
            flags,
            rustix::fs::Mode::empty(),
            rustix::fs::ResolveFlags::IN_ROOT | rustix::fs::ResolveFlags::NO_MAGICLINKS,
        )
    };
    match open() {
        Err(rustix::io::Errno::AGAIN) => open(),
        other => other,
    }
}

/// The jail path without its leading `/`, `.` parts dropped; `..` is left to
/// the resolver (it stays at the root's top).
fn root_relative(jail: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in jail.components() {
        match part {
            Component::Normal(name) => out.push(name),
            Component::ParentDir => out.push(".."),
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
        }
    }
    if out.as_os_str().is_empty() {
        out.push(".");
    }
    out
}

fn is_slash(path: &Path) -> bool {
    path.components().all(|c| matches!(c, Component::RootDir)) && path.has_root()
}

/// Reads at most `limit` bytes; more is an error, not a silent cut.
pub fn read_at_most(file: impl Read, limit: u64) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    file.take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(io::Error::new(
            io::ErrorKind::FileTooLarge,
            format!("more than {limit} bytes: too large for a configuration file"),
        ));
    }
    Ok(bytes)
}

/// The kind of pseudo-filesystem `file` is on (procfs, sysfs, ...), or
/// `None` for a filesystem that holds files people write.
#[cfg(any(target_os = "linux", target_os = "android"))]
pub fn pseudo_fs(file: &File) -> Option<&'static str> {
    // statfs(2) f_type magic numbers (linux/magic.h).
    const PSEUDO: [(i64, &str); 15] = [
        (0x9fa0, "procfs"),
        (0x6265_6572, "sysfs"),
        (0x6462_6720, "debugfs"),
        (0x7472_6163, "tracefs"),
        (0x1cd1, "devpts"),
        (0x7363_6673, "securityfs"),
        (0x0027_e0eb, "cgroupfs"),
        (0x6367_7270, "cgroup2fs"),
        (0xcafe_4a11, "bpffs"),
        (0x6265_6570, "configfs"),
        (0xde5e_81e4, "efivarfs"),
        (0x6165_676c, "pstorefs"),
        (0xf97c_ff8c, "selinuxfs"),
        (0x4249_4e4d, "binfmt_misc"),
        (0x6573_5543, "fusectl"),
    ];
    let magic = rustix::fs::fstatfs(file).ok()?.f_type as i64;
    PSEUDO
        .iter()
        .find(|(known, _)| *known == magic)
        .map(|(_, name)| *name)
}

/// The kind of pseudo-filesystem `file` is on (procfs, devfs, ...), by
/// `f_fstypename`, or `None` for a filesystem that holds files people write.
#[cfg(target_os = "freebsd")]
pub fn pseudo_fs(file: &File) -> Option<&'static str> {
    const PSEUDO: [&str; 6] = [
        "procfs",
        "linprocfs",
        "linsysfs",
        "devfs",
        "fdescfs",
        "mqueuefs",
    ];
    let stat = rustix::fs::fstatfs(file).ok()?;
    let name: Vec<u8> = stat
        .f_fstypename
        .iter()
        .take_while(|&&c| c != 0)
        .map(|&c| c as u8)
        .collect();
    PSEUDO
        .iter()
        .find(|known| known.as_bytes() == name)
        .copied()
}

#[cfg(not(any(target_os = "linux", target_os = "android", target_os = "freebsd")))]
pub fn pseudo_fs(_file: &File) -> Option<&'static str> {
    None
}

fn describe_kind(kind: fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if kind.is_dir() {
        "a directory"
    } else if kind.is_fifo() {
        "a FIFO"
    } else if kind.is_char_device() {
        "a character device"
    } else if kind.is_block_device() {
        "a block device"
    } else if kind.is_socket() {
        "a socket"
    } else {
        "not a file"
    }
}

/// An error that names the path it happened on, as `PATH: message`.
fn with_path(err: io::Error, path: &Path) -> io::Error {
    io::Error::new(err.kind(), format!("{}: {err}", path.display()))
}

/// The portable resolver: one component at a time with `openat(O_NOFOLLOW)`,
/// symlinks read and followed by hand inside the root.
///
/// It never asks the kernel to look up more than one name, and never opens
/// `..`: the walk keeps the stack of directories it went through, so `..`
/// goes back to the one before (and at the top stays there), whatever was
/// renamed in the meantime.  A symlink's target is read with `readlinkat`
/// and its components are walked in its place, an absolute target from the
/// top of the root.  It gives the errors `openat2(RESOLVE_IN_ROOT)` gives:
/// `ENOENT`, `ENOTDIR`, `ELOOP` after [`MAX_LINK_HOPS`](walk::MAX_LINK_HOPS)
/// links, and `EACCES` where a directory may not be searched.
pub mod walk {
    use super::*;
    use rustix::fs::{AtFlags, FileType, Mode, OFlags};
    use rustix::io::Errno;
    use std::collections::VecDeque;
    use std::ffi::OsStr;
    use std::os::fd::BorrowedFd;
    use std::os::unix::ffi::OsStrExt;

    /// The kernel's limit (`MAXSYMLINKS`): on Linux the 41st link of one
    /// look-up is `ELOOP`, on FreeBSD the 33rd.
    #[cfg(not(target_os = "freebsd"))]
    pub const MAX_LINK_HOPS: usize = 40;
    #[cfg(target_os = "freebsd")]
    pub const MAX_LINK_HOPS: usize = 32;

    /// How a directory on the way is held: only to look names up in it
    /// (`O_PATH`, so search permission is enough, as for the kernel's own
    /// look-up; FreeBSD has it since 14.0).
    #[cfg(any(target_os = "linux", target_os = "android", target_os = "freebsd"))]
    const DIR_FLAGS: OFlags = OFlags::PATH
        .union(OFlags::DIRECTORY)
        .union(OFlags::NOFOLLOW)
        .union(OFlags::CLOEXEC);
    #[cfg(not(any(target_os = "linux", target_os = "android", target_os = "freebsd")))]
    const DIR_FLAGS: OFlags = OFlags::RDONLY
        .union(OFlags::DIRECTORY)
        .union(OFlags::NOFOLLOW)
        .union(OFlags::CLOEXEC);

    /// Where a walk ended: the directory the last name is in (held open,
    /// with the stack of directories above it) and that name.
    pub struct Located<'r> {
        top: BorrowedFd<'r>,
        /// The directories below the top, outermost first, with their names.
        stack: Vec<(OwnedFd, OsString)>,
        /// The last name; `None` when the path ends at a directory (the top,
        /// `.` or `..`).
        pub name: Option<OsString>,
        /// What the last name is (never a symlink when links are followed),
        /// or the error looking it up gave (`ENOENT` when nothing is there).
        pub stat: Result<rustix::fs::Stat, Errno>,
    }

    impl Located<'_> {
        /// The directory the last name is in.
        pub fn dir(&self) -> BorrowedFd<'_> {
            match self.stack.last() {
                Some((fd, _)) => fd.as_fd(),
                None => self.top,
            }
        }

        /// That directory's path as the jail sees it (`/`, `/etc`).
        pub fn dir_jail_path(&self) -> PathBuf {
            let mut path = PathBuf::from("/");
            for (_, name) in &self.stack {
                path.push(name);
            }
            path
        }

        /// The jail path of what the walk ended at, every link resolved.
        pub fn jail_path(&self) -> PathBuf {
            let mut path = self.dir_jail_path();
            if let Some(name) = &self.name {
                path.push(name);
            }
            path
        }
    }

    /// Opens `relative` under `root` as `openat2(root, relative, flags,
    /// RESOLVE_IN_ROOT)` would.
    pub fn open_in_root(
        root: BorrowedFd<'_>,
        relative: &Path,
        flags: OFlags,
    ) -> io::Result<OwnedFd> {
        let follow_last =
            !flags.contains(OFlags::NOFOLLOW) && !flags.contains(OFlags::CREATE | OFlags::EXCL);
        let mut hops = 0;
        loop {
            let found = locate_counting(root, relative.as_os_str(), follow_last, &mut hops)?;
            let Some(name) = &found.name else {
                return Ok(rustix::fs::openat(
                    found.dir(),
                    ".",
                    flags | OFlags::CLOEXEC,
                    Mode::empty(),
                )?);
            };
            match &found.stat {
                Ok(_) => {}
                Err(Errno::NOENT) if flags.contains(OFlags::CREATE) => {}
                Err(e) => return Err((*e).into()),
            }
            let opened = rustix::fs::openat(
                found.dir(),
                name.as_os_str(),
                flags | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::from_raw_mode(0o600),
            );
            // The name became a symlink after it was looked at: a rename
            // race in the tree.  Walk again (it counts as a link, so a racer
            // cannot keep the walk going for ever).
            let raced = match &opened {
                Err(Errno::LOOP) | Err(Errno::MLINK) => follow_last,
                Ok(fd) if flags.contains(OFlags::PATH) && follow_last => {
                    FileType::from_raw_mode(rustix::fs::fstat(fd)?.st_mode) == FileType::Symlink
                }
                _ => false,
            };
            if !raced {
                // FreeBSD says EMLINK where Linux says ELOOP for a final
                // symlink under O_NOFOLLOW: one error for one cause.
                return match opened {
                    Err(Errno::MLINK) => Err(Errno::LOOP.into()),
                    other => Ok(other?),
                };
            }
            hops += 1;
            if hops > MAX_LINK_HOPS {
                return Err(Errno::LOOP.into());
            }
        }
    }

    /// Walks `relative` inside `root` up to its last name, following every
    /// symlink on the way (and the last one too when `follow_last`).
    pub fn locate<'r>(
        root: BorrowedFd<'r>,
        relative: &Path,
        follow_last: bool,
    ) -> io::Result<Located<'r>> {
        let mut hops = 0;
        Ok(locate_counting(
            root,
            relative.as_os_str(),
            follow_last,
            &mut hops,
        )?)
    }

    fn locate_counting<'r>(
        root: BorrowedFd<'r>,
        relative: &OsStr,
        follow_last: bool,
        hops: &mut usize,
    ) -> Result<Located<'r>, Errno> {
        let mut at = Located {
            top: root,
            stack: Vec::new(),
            name: None,
            stat: Err(Errno::NOENT),
        };
        if relative.is_empty() {
            return Err(Errno::NOENT);
        }
        let mut pending = VecDeque::new();
        push_components(&mut pending, relative.as_bytes());
        while let Some(part) = pending.pop_front() {
            match part.as_slice() {
                b"." => {}
                // The walk's own stack, never the directory's `..` entry: at
                // the top it stays at the top.
                b".." => {
                    at.stack.pop();
                }
                name => {
                    let name = OsStr::from_bytes(name);
                    let is_last = pending.is_empty();
                    let stat = rustix::fs::statat(at.dir(), name, AtFlags::SYMLINK_NOFOLLOW);
                    let kind = stat.as_ref().map(|s| FileType::from_raw_mode(s.st_mode));
                    match kind {
                        Ok(FileType::Symlink) if !is_last || follow_last => {
                            *hops += 1;
                            if *hops > MAX_LINK_HOPS {
                                return Err(Errno::LOOP);
                            }
                            let target = match rustix::fs::readlinkat(at.dir(), name, Vec::new()) {
                                Ok(target) => target.into_bytes(),
                                // No longer a link (a rename race): look again.
                                Err(Errno::INVAL) => {
                                    pending.push_front(name.as_bytes().to_vec());
                                    continue;
                                }
                                Err(e) => return Err(e),
                            };
                            if target.is_empty() {
                                return Err(Errno::NOENT);
                            }
                            if target[0] == b'/' {
                                at.stack.clear();
                            }
                            let mut expanded = VecDeque::new();
                            push_components(&mut expanded, &target);
                            while let Some(p) = expanded.pop_back() {
                                pending.push_front(p);
                            }
                        }
                        _ if is_last => {
                            at.name = Some(name.to_os_string());
                            at.stat = stat;
                        }
                        Ok(FileType::Directory) => {
                            match rustix::fs::openat(at.dir(), name, DIR_FLAGS, Mode::empty()) {
                                Ok(fd) => at.stack.push((fd, name.to_os_string())),
                                // Swapped for a link or a file since the stat:
                                // look again (bounded as a link hop).
                                Err(Errno::NOTDIR | Errno::LOOP | Errno::MLINK) => {
                                    *hops += 1;
                                    if *hops > MAX_LINK_HOPS {
                                        return Err(Errno::LOOP);
                                    }
                                    pending.push_front(name.as_bytes().to_vec());
                                }
                                Err(e) => return Err(e),
                            }
                        }
                        Ok(_) => return Err(Errno::NOTDIR),
                        Err(e) => return Err(*e),
                    }
                }
            }
        }
        if at.name.is_none() {
            at.stat = rustix::fs::fstat(at.dir());
        }
        Ok(at)
    }

    /// The components of a path, in order.  A trailing `/` becomes a last
    /// `.`, so the name before it must be a directory (`file/` is
    /// `ENOTDIR`, `link/` follows the link), as the kernel has it.
    fn push_components(out: &mut VecDeque<Vec<u8>>, path: &[u8]) {
        for part in path.split(|b| *b == b'/') {
            if !part.is_empty() {
                out.push_back(part.to_vec());
            }
        }
        if path.ends_with(b"/") {
            out.push_back(b".".to_vec());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{MetadataExt, symlink};

    /// The root with each resolver: every containment test runs on both.
    fn both(path: &Path) -> [Root; 2] {
        [
            Root::new(path).unwrap(),
            Root::new(path).unwrap().with_resolver(Resolver::Walk),
        ]
    }

    fn tree() -> (tempfile::TempDir, tempfile::TempDir) {
        let jail = tempfile::tempdir().unwrap();
        let host = tempfile::tempdir().unwrap();
        fs::create_dir_all(jail.path().join("etc")).unwrap();
        fs::write(jail.path().join("etc/ntp.conf"), "server a\n").unwrap();
        fs::write(host.path().join("secret"), "host secret\n").unwrap();
        (jail, host)
    }

    #[test]
    fn absolute_symlink_is_taken_inside_the_root() {
        let (jail, host) = tree();
        // A link to the host's file: inside the root it names ROOT/<host path>,
        // which does not exist, so the read fails and never shows the secret.
        symlink(host.path().join("secret"), jail.path().join("etc/evil")).unwrap();
        symlink("/etc/ntp.conf", jail.path().join("etc/link")).unwrap();
        for root in both(jail.path()) {
            let err = root.read_config(Path::new("/etc/evil")).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::NotFound, "{err}");
            // An absolute link to a jail path works as it does inside the jail.
            assert_eq!(
                root.read_config(Path::new("/etc/link")).unwrap(),
                b"server a\n"
            );
        }
    }

    #[test]
    fn dot_dot_stays_at_the_top() {
        let (jail, _host) = tree();
        symlink("../../../../../../etc/ntp.conf", jail.path().join("etc/up")).unwrap();
        for root in both(jail.path()) {
            let deep = Path::new("/../../../../etc/ntp.conf");
            assert_eq!(root.read_config(deep).unwrap(), b"server a\n");
            assert_eq!(
                root.read_config(Path::new("/etc/up")).unwrap(),
                b"server a\n"
            );
        }
    }

    #[test]
    fn a_fifo_is_refused_without_hanging() {
        let (jail, _host) = tree();
        crate::testing::make_fifo(&jail.path().join("etc/fifo"));
        let root = Root::new(jail.path()).unwrap();
        let err = root.read_config(Path::new("/etc/fifo")).unwrap_err();
        assert!(err.to_string().contains("FIFO"), "{err}");
        // Named explicitly as a stream input it opens once a writer comes.
        let path = jail.path().join("etc/fifo");
        let writer = std::thread::spawn(move || fs::write(path, "line\n").unwrap());
        let mut text = String::new();
        root.open(Path::new("/etc/fifo"), Expect::Stream)
            .unwrap()
            .read_to_string(&mut text)
            .unwrap();
        writer.join().unwrap();
        assert_eq!(text, "line\n");
    }

    #[test]
    fn a_large_file_is_refused() {
        let (jail, _host) = tree();
        fs::write(jail.path().join("etc/big"), vec![b'x'; 100]).unwrap();
        let root = Root::new(jail.path()).unwrap();
        assert!(root.read_limited(Path::new("/etc/big"), 99).is_err());
        assert_eq!(
            root.read_limited(Path::new("/etc/big"), 100).unwrap().len(),
            100
        );
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_file_on_procfs_is_refused_except_where_proc_is_read_on_purpose() {
        // /proc/self/environ holds secrets of the process; as a
        // configuration file it would be quoted in a diagnostic.
        let host = Root::host();
        let err = host
            .read_config(Path::new("/proc/self/environ"))
            .unwrap_err();
        assert!(err.to_string().contains("procfs"), "{err}");
        assert_eq!(err.kind(), io::ErrorKind::PermissionDenied);
        // Inside a tree with procfs reachable through a directory link
        // (a jail's own /proc): refused the same way.
        let jail = tempfile::tempdir().unwrap();
        symlink("/proc/self", jail.path().join("self")).unwrap();
        let root = Root::new(Path::new("/")).unwrap();
        let linked = jail.path().join("self/environ");
        assert!(root.read_config(&linked).is_err());
        // The reads that mean /proc get it.
        assert!(
            !host
                .read_pseudo(Path::new("/proc/self/comm"), 4096)
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn every_read_draws_from_the_roots_budget() {
        let (jail, _host) = tree();
        let budget = crate::budget::Budget::new(crate::budget::Limits {
            bytes_read: 20,
            entries: 3,
            ..crate::budget::Limits::DEFAULT
        });
        let root = Root::new(jail.path()).unwrap().with_budget(budget.clone());
        // 9 bytes each: the third read would pass 20.
        root.read_config(Path::new("/etc/ntp.conf")).unwrap();
        root.read_config(Path::new("/etc/ntp.conf")).unwrap();
        let err = root.read_config(Path::new("/etc/ntp.conf")).unwrap_err();
        assert!(crate::budget::is_over_budget(&err), "{err}");
        assert!(err.to_string().contains("bytes read"), "{err}");
        assert!(budget.exhausted());
        // Read once per (device, inode), however many names reach it.
        let fresh = Root::new(jail.path())
            .unwrap()
            .with_budget(crate::budget::Budget::new(crate::budget::Limits::DEFAULT));
        symlink("ntp.conf", jail.path().join("etc/again")).unwrap();
        let mut seen = crate::budget::SeenFiles::default();
        assert!(
            fresh
                .read_config_once(Path::new("/etc/ntp.conf"), &mut seen)
                .unwrap()
                .is_some()
        );
        assert!(
            fresh
                .read_config_once(Path::new("/etc/again"), &mut seen)
                .unwrap()
                .is_none()
        );
        // Directory entries too.
        for i in 0..4 {
            fs::write(jail.path().join(format!("etc/f{i}")), "").unwrap();
        }
        let listing = Root::new(jail.path())
            .unwrap()
            .with_budget(budget_of_entries(3));
        assert!(listing.read_dir(Path::new("/etc")).is_err());
    }

    fn budget_of_entries(entries: u64) -> Arc<crate::budget::Budget> {
        crate::budget::Budget::new(crate::budget::Limits {
            entries,
            ..crate::budget::Limits::DEFAULT
        })
    }

    #[test]
    fn directories_list_inside_the_root() {
        let (jail, host) = tree();
        symlink(host.path(), jail.path().join("hostdir")).unwrap();
        for root in both(jail.path()) {
            assert_eq!(
                root.read_dir(Path::new("/etc")).unwrap(),
                vec![OsString::from("ntp.conf")]
            );
            assert!(root.read_dir(Path::new("/hostdir")).is_err());
        }
    }

    #[test]
    fn the_host_root_is_plain() {
        let root = Root::new(Path::new("/")).unwrap();
        assert!(root.is_host());
        assert_eq!(root.display_path(Path::new("/etc/x")), Path::new("/etc/x"));
    }

    #[test]
    fn the_walk_follows_links_inside_the_root_and_names_the_target() {
        let (jail, host) = tree();
        let j = jail.path();
        fs::create_dir_all(j.join("usr/local/etc")).unwrap();
        fs::write(j.join("usr/local/etc/real.conf"), "real\n").unwrap();
        symlink("/usr/local/etc", j.join("etc/local")).unwrap(); // absolute dir link
        symlink("local/real.conf", j.join("etc/rel")).unwrap(); // relative, through it
        symlink(
            "../../../../../../usr/local/etc/real.conf",
            j.join("etc/climb"),
        )
        .unwrap();
        symlink(host.path().join("secret"), j.join("etc/out")).unwrap();
        for root in both(j) {
            assert_eq!(root.read_config(Path::new("/etc/rel")).unwrap(), b"real\n");
            assert_eq!(root.read_config(Path::new("etc/climb")).unwrap(), b"real\n");
            assert_eq!(
                root.resolve(Path::new("/etc/rel")).unwrap(),
                Path::new("/usr/local/etc/real.conf")
            );
            assert_eq!(
                root.resolve(Path::new("/etc/local/../../..")).unwrap(),
                Path::new("/")
            );
            assert!(root.resolve(Path::new("/etc/out")).is_err());
            let meta = root.metadata(Path::new("/etc/local/..")).unwrap();
            assert_eq!(meta.ino(), fs::metadata(j.join("usr/local")).unwrap().ino());
        }
    }

    #[test]
    fn forty_links_resolve_and_the_forty_first_is_a_loop() {
        let (jail, _host) = tree();
        let j = jail.path();
        // l0 -> l1 -> ... -> l40 -> etc/ntp.conf: 41 links from l0, 40 from l1.
        for i in 0..=40 {
            let target = if i == 40 {
                "etc/ntp.conf".to_string()
            } else {
                format!("l{}", i + 1)
            };
            symlink(target, j.join(format!("l{i}"))).unwrap();
        }
        for root in both(j) {
            assert_eq!(root.read_config(Path::new("/l1")).unwrap(), b"server a\n");
            let err = root.read_config(Path::new("/l0")).unwrap_err();
            assert!(err.to_string().contains("symbolic links"), "{err}");
        }
    }

    #[test]
    fn the_walk_never_leaves_the_root_while_a_directory_is_swapped_for_a_link() {
        // The attacker owns the jail: he keeps replacing /etc by a symlink
        // to the host directory holding the secret (and back) while root reads
        // /etc/secret through the walk.  No read may ever return the secret.
        let (jail, host) = tree();
        let j = jail.path().to_path_buf();
        fs::write(j.join("etc/secret"), "jail copy\n").unwrap();
        use std::sync::Arc;
        use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
        let stop = Arc::new(AtomicBool::new(false));
        let swaps = Arc::new(AtomicU32::new(0));
        let swapper = {
            let (j, host) = (j.clone(), host.path().to_path_buf());
            let (stop, swaps) = (stop.clone(), swaps.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    fs::rename(j.join("etc"), j.join("etc.real")).unwrap();
                    symlink(&host, j.join("etc")).unwrap();
                    fs::remove_file(j.join("etc")).unwrap();
                    fs::rename(j.join("etc.real"), j.join("etc")).unwrap();
                    swaps.fetch_add(1, Ordering::Relaxed);
                }
            })
        };
        let root = Root::new(&j).unwrap().with_resolver(Resolver::Walk);
        let mut read = 0;
        // 20,000 reads at least, on until the race ran, at most a minute.
        let started = std::time::Instant::now();
        for i in 0.. {
            let raced = swaps.load(Ordering::Relaxed) > 100 && read > 0;
            if (i >= 20_000 && raced) || started.elapsed().as_secs() > 60 {
                break;
            }
            if let Ok(bytes) = root.read_config(Path::new("/etc/secret")) {
                assert_eq!(bytes, b"jail copy\n", "read outside the root");
                read += 1;
            }
        }
        stop.store(true, Ordering::Relaxed);
        swapper.join().unwrap();
        let swaps = swaps.load(Ordering::Relaxed);
        assert!(
            swaps > 100 && read > 0,
            "no race happened: {swaps} swaps, {read} reads"
        );
    }

    // openat2 is Linux's: the walk is compared with it there.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    mod versus_openat2 {
        //! The portable walk against the kernel: on random trees of files,
        //! directories and links (relative, absolute, with `..`), every look-up
        //! gives the same file or the same error, and never a file outside.
        use super::super::walk;
        use crate::testing::versus_openat2::{answer, inodes, kernel_open};
        use proptest::prelude::*;
        use rustix::fs::OFlags;
        use std::os::fd::AsFd;
        use std::os::unix::fs::symlink;
        use std::path::{Path, PathBuf};

        #[derive(Clone, Debug)]
        enum Entry {
            Dir,
            File,
            Link(String),
        }

        fn link_path() -> impl Strategy<Value = String> {
            (
                any::<bool>(),
                prop::collection::vec(prop::sample::select(vec!["a", "b", "c", "..", "."]), 1..5),
                any::<bool>(),
            )
                .prop_map(|(absolute, parts, slash)| {
                    let mut text = if absolute {
                        "/".to_string()
                    } else {
                        String::new()
                    };
                    text.push_str(&parts.join("/"));
                    if slash {
                        text.push('/');
                    }
                    text
                })
        }

        fn entry() -> impl Strategy<Value = (Vec<&'static str>, Entry)> {
            (
                prop::collection::vec(prop::sample::select(vec!["a", "b", "c"]), 1..4),
                prop_oneof![
                    2 => Just(Entry::Dir),
                    1 => Just(Entry::File),
                    3 => link_path().prop_map(Entry::Link),
                ],
            )
        }

        const FLAGS: [OFlags; 6] = [
            OFlags::PATH,
            OFlags::PATH.union(OFlags::NOFOLLOW),
            OFlags::RDONLY,
            OFlags::RDONLY.union(OFlags::DIRECTORY),
            OFlags::PATH.union(OFlags::DIRECTORY),
            OFlags::RDONLY.union(OFlags::NOFOLLOW),
        ];

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(300))]
            #[test]
            fn walk_and_openat2_agree(
                entries in prop::collection::vec(entry(), 1..14),
                queries in prop::collection::vec((link_path(), 0..FLAGS.len()), 1..10),
            ) {
                let outer = tempfile::tempdir().unwrap();
                let jail = outer.path().join("jail");
                std::fs::create_dir(&jail).unwrap();
                // The same names outside the root: a walk that escaped would
                // find them and answer differently.
                for name in ["a", "b", "c"] {
                    std::fs::create_dir_all(outer.path().join(name).join(name)).unwrap();
                }
                for (parts, kind) in &entries {
                    let path: PathBuf = parts.iter().collect();
                    let path = jail.join(path);
                    let _ = match kind {
                        Entry::Dir => std::fs::create_dir(&path),
                        Entry::File => std::fs::write(&path, "x"),
                        Entry::Link(target) => symlink(target, &path),
                    };
                }
                let inside = inodes(&jail);
                let top = rustix::fs::open(&jail, OFlags::PATH | OFlags::DIRECTORY, rustix::fs::Mode::empty()).unwrap();
                for (query, flags) in &queries {
                    let mut flags = FLAGS[*flags] | OFlags::CLOEXEC;
                    if !flags.contains(OFlags::PATH) {
                        flags |= OFlags::NONBLOCK; // (openat2 refuses it with O_PATH)
                    }
                    let relative = query.trim_start_matches('/');
                    let relative = if relative.is_empty() { "." } else { relative };
                    let kernel = answer(kernel_open(top.as_fd(), relative, flags).map_err(Into::into));
                    let walked = answer(walk::open_in_root(top.as_fd(), Path::new(relative), flags));
                    prop_assert_eq!(walked, kernel, "{} with {:?}", query, flags);
                    if let Ok(inode) = walked {
                        prop_assert!(inside.contains(&inode), "{} opened a file outside the root", query);
                    }
                }
            }
        }
    }
}
