//! How a reader reaches the files of a tree: the one file-access trait
//! ([`Files`]) every tool's model reads through, and the one file identity
//! ([`FileId`]).
//!
//! The trait is implemented once for [`Root`] (a `--root` tree, every open
//! and stat symlink-safe) and once for [`MemoryFiles`], a map of jail paths
//! to bytes for tests.  A tool's own host model (xinetd-lint's `Host`)
//! takes it as its file part and adds what is not a file (name services).

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fs::{File, Metadata};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::budget::Budget;
use crate::root::{Expect, Root};

/// Identifies a file on disk: its device and inode.  Readers that follow
/// links or includes remember these, so one file reached by many names is
/// read (and counted) once.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileId {
    pub dev: u64,
    pub ino: u64,
}

impl FileId {
    /// The identity of the file `meta` was taken from (an open handle's).
    pub fn of(meta: &Metadata) -> FileId {
        use std::os::unix::fs::MetadataExt;
        FileId {
            dev: meta.dev(),
            ino: meta.ino(),
        }
    }
}

/// Files by their jail path (absolute, as a program inside the tree sees
/// it).  Every method but [`tree`](Files::tree) has a default that goes
/// through the tree's [`Root`]; an implementation without a tree (a map in
/// memory) overrides the reads it serves.
pub trait Files {
    /// The tree files are read from; an error when it could not be opened
    /// (then no file exists) or when there is none.
    fn tree(&self) -> io::Result<&Root>;

    /// The tree, `None` when there is none to read from.
    fn root(&self) -> Option<&Root> {
        self.tree().ok()
    }
    /// Opens a configuration file: a regular file only (a FIFO or a device
    /// is refused without blocking).
    fn open_config(&self, jail: &Path) -> io::Result<File> {
        self.tree()?.open(jail, Expect::Regular)
    }
    /// A configuration file's identity and bytes, within the size limit
    /// and drawn from the run's budget.
    fn read_config(&self, jail: &Path) -> io::Result<(FileId, Vec<u8>)> {
        self.tree()?.read_config_id(jail)
    }
    /// The names in a directory, sorted bytewise (strcmp order).
    fn read_dir(&self, jail: &Path) -> io::Result<Vec<OsString>> {
        self.tree()?.read_dir(jail)
    }
    /// What a jail path names, links followed inside the tree.
    fn metadata(&self, jail: &Path) -> io::Result<Metadata> {
        self.tree()?.metadata(jail)
    }
    /// True when `jail` names a directory (links followed inside the tree).
    fn is_dir(&self, jail: &Path) -> bool {
        self.metadata(jail).is_ok_and(|m| m.is_dir())
    }
    /// The name to show for a jail path (`ROOT/etc/x`).
    fn display(&self, jail: &Path) -> PathBuf {
        match self.tree() {
            Ok(root) => root.display_path(jail),
            Err(_) => jail.to_path_buf(),
        }
    }
    /// Draws `bytes` of memory held (what a reader keeps) from the run's
    /// budget.
    fn hold(&self, bytes: u64) -> io::Result<()> {
        match self.tree() {
            Ok(root) => root.budget().hold(bytes),
            Err(_) => Budget::run().hold(bytes),
        }
    }
}

impl Files for Root {
    fn tree(&self) -> io::Result<&Root> {
        Ok(self)
    }
}

/// Files kept in memory, by jail path: for tests of a reader.  Reads and
/// directory listings are served from the map (a directory is any parent
/// of a path in it); there is no tree, so opening a handle or a stat is
/// `NotFound`.
#[derive(Clone, Debug, Default)]
pub struct MemoryFiles {
    files: BTreeMap<PathBuf, Vec<u8>>,
    budget: Option<Arc<Budget>>,
}

impl MemoryFiles {
    pub fn new(files: impl IntoIterator<Item = (PathBuf, Vec<u8>)>) -> MemoryFiles {
        MemoryFiles {
            files: files.into_iter().collect(),
            budget: None,
        }
    }

    /// The memory held is drawn from `budget` instead of the run's.
    pub fn with_budget(mut self, budget: Arc<Budget>) -> MemoryFiles {
        self.budget = Some(budget);
        self
    }

    /// Adds (or replaces) a file.
    pub fn insert(&mut self, jail: impl Into<PathBuf>, bytes: impl Into<Vec<u8>>) {
        self.files.insert(jail.into(), bytes.into());
    }

    /// The paths right under `dir`.
    fn children<'a>(&'a self, dir: &'a Path) -> impl Iterator<Item = OsString> + 'a {
        self.files.keys().filter_map(move |path| {
            let rest = path.strip_prefix(dir).ok()?;
            Some(rest.components().next()?.as_os_str().to_os_string())
        })
    }
}

impl Files for MemoryFiles {
    fn tree(&self) -> io::Result<&Root> {
        Err(io::Error::new(
            io::ErrorKind::NotFound,
            "files kept in memory have no tree",
        ))
    }
    fn read_config(&self, jail: &Path) -> io::Result<(FileId, Vec<u8>)> {
        let (index, (_, bytes)) = self
            .files
            .iter()
            .enumerate()
            .find(|(_, (path, _))| *path == jail)
            .ok_or_else(|| io::Error::from(io::ErrorKind::NotFound))?;
        let id = FileId {
            dev: 0,
            ino: index as u64 + 1,
        };
        Ok((id, bytes.clone()))
    }
    fn read_dir(&self, jail: &Path) -> io::Result<Vec<OsString>> {
        if !self.is_dir(jail) {
            return Err(io::ErrorKind::NotFound.into());
        }
        let mut names: Vec<OsString> = self.children(jail).collect();
        names.sort();
        names.dedup();
        Ok(names)
    }
    fn is_dir(&self, jail: &Path) -> bool {
        self.children(jail).next().is_some()
    }
    fn hold(&self, bytes: u64) -> io::Result<()> {
        match &self.budget {
            Some(budget) => budget.hold(bytes),
            None => Budget::run().hold(bytes),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_files_read_list_and_show_by_jail_path() {
        let files = MemoryFiles::new([
            (PathBuf::from("/etc/ntp.conf"), b"server a\n".to_vec()),
            (PathBuf::from("/etc/ntp.d/b.conf"), b"b".to_vec()),
            (PathBuf::from("/etc/ntp.d/a.conf"), b"a".to_vec()),
        ]);
        let (id, bytes) = files.read_config(Path::new("/etc/ntp.conf")).unwrap();
        assert_eq!(bytes, b"server a\n");
        let (other, _) = files.read_config(Path::new("/etc/ntp.d/a.conf")).unwrap();
        assert_ne!(id, other);
        assert_eq!(
            files
                .read_config(Path::new("/etc/none"))
                .unwrap_err()
                .kind(),
            io::ErrorKind::NotFound
        );
        assert!(files.is_dir(Path::new("/etc/ntp.d")));
        assert!(!files.is_dir(Path::new("/etc/ntp.conf")));
        assert_eq!(
            files.read_dir(Path::new("/etc")).unwrap(),
            [OsString::from("ntp.conf"), OsString::from("ntp.d")]
        );
        assert_eq!(
            files.display(Path::new("/etc/ntp.conf")),
            Path::new("/etc/ntp.conf")
        );
        assert!(files.open_config(Path::new("/etc/ntp.conf")).is_err());
        assert!(files.root().is_none());
    }

    #[test]
    fn memory_files_hold_from_their_own_budget() {
        let budget = Budget::new(crate::budget::Limits {
            bytes_held: 10,
            ..Default::default()
        });
        let files = MemoryFiles::default().with_budget(budget);
        files.hold(10).unwrap();
        assert!(files.hold(1).is_err());
    }

    #[test]
    fn a_root_reads_through_itself() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("etc")).unwrap();
        std::fs::write(dir.path().join("etc/x"), b"x\n").unwrap();
        std::os::unix::fs::symlink("/etc/x", dir.path().join("etc/link")).unwrap();
        let root = Root::new(dir.path()).unwrap();
        let files: &dyn Files = &root;
        let (id, bytes) = files.read_config(Path::new("/etc/link")).unwrap();
        assert_eq!(bytes, b"x\n");
        let meta = std::fs::metadata(dir.path().join("etc/x")).unwrap();
        assert_eq!(id, FileId::of(&meta));
        assert!(files.is_dir(Path::new("/etc")));
        assert_eq!(files.display(Path::new("/etc/x")), dir.path().join("etc/x"));
    }
}
