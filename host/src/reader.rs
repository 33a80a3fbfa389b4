//! Reading a tree's small files through [`Root`]: /sys and /proc values with
//! a small limit, each file once (a `sys_vendor` that is a link to /dev/zero
//! is an error, not a read without end; a file with many names is read under
//! one), and config files such as os-release.  A missing file is `None`;
//! any other failure is noted as `path: error`, never fatal.

use std::io;
use std::path::Path;

use mailhost_common::budget::SeenFiles;
use mailhost_common::root::Root;

/// A /sys or /proc file is a few bytes; a larger one is not what we expect.
pub const MAX_PSEUDO_FILE_BYTES: u64 = 64 * 1024;

/// One reading of a tree: the files it read, so each is read once.
pub struct TreeReader<'a> {
    root: &'a Root,
    /// Files read so far (/sys values, /proc/N/comm): each once, by
    /// (device, inode), however many names a tree gives it.
    seen: std::cell::RefCell<SeenFiles>,
}

impl<'a> TreeReader<'a> {
    pub fn new(root: &'a Root) -> TreeReader<'a> {
        TreeReader {
            root,
            seen: Default::default(),
        }
    }

    pub fn root(&self) -> &'a Root {
        self.root
    }

    pub fn exists(&self, path: &str) -> bool {
        self.root.metadata(Path::new(path)).is_ok()
    }

    /// A /sys or /proc value, trimmed; a missing file is `None`, any other
    /// failure is noted.
    pub fn pseudo(&self, path: &str, unreadable: &mut Vec<String>) -> Option<String> {
        match self.root.read_pseudo_once(
            Path::new(path),
            MAX_PSEUDO_FILE_BYTES,
            &mut self.seen.borrow_mut(),
        ) {
            Ok(Some(bytes)) => Some(String::from_utf8_lossy(&bytes).trim().to_string()),
            Ok(None) => None,
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => {
                unreadable.push(e.to_string());
                None
            }
        }
    }

    /// A config file's text; a missing file is `None`, any other failure is
    /// noted.
    pub fn config(&self, path: &str, unreadable: &mut Vec<String>) -> Option<String> {
        match self.root.read_config(Path::new(path)) {
            Ok(bytes) => Some(String::from_utf8_lossy(&bytes).into_owned()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => {
                unreadable.push(e.to_string());
                None
            }
        }
    }

    /// The names in `dir`; none when it cannot be listed.
    pub fn list(&self, dir: &str) -> Vec<String> {
        self.root
            .read_dir(Path::new(dir))
            .unwrap_or_default()
            .into_iter()
            .map(|n| n.to_string_lossy().into_owned())
            .collect()
    }
}
