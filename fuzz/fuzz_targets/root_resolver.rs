//! The `--root` resolver: on a random tree of directories, files and links
//! (relative, absolute, with `..`, loops) built from the input, whatever the
//! portable walk opens is inside the root (its (device, inode) is one of the
//! tree's, never one of the files beside it), and it is what the kernel's
//! `openat2(RESOLVE_IN_ROOT)` opens, or the same error.
#![no_main]

use std::os::fd::AsFd;
use std::os::unix::fs::{MetadataExt, symlink};
use std::path::{Path, PathBuf};

use libfuzzer_sys::fuzz_target;
use mailhost_common::root::{Resolver, Root, walk};
use mailhost_common::testing::versus_openat2::{answer, inodes, kernel_open};
use rustix::fs::{Mode, OFlags};

const NAMES: [&str; 4] = ["a", "b", "c", "etc"];
const TOKENS: [&str; 8] = ["a", "b", "c", "etc", "..", ".", "/", "//"];
const FLAGS: [OFlags; 5] = [
    OFlags::PATH,
    OFlags::PATH.union(OFlags::NOFOLLOW),
    OFlags::RDONLY.union(OFlags::NONBLOCK),
    OFlags::RDONLY.union(OFlags::DIRECTORY),
    OFlags::PATH.union(OFlags::DIRECTORY),
];

/// Reads the input a byte at a time; past its end, zeros.
struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn next(&mut self) -> u8 {
        let (first, rest) = self.0.split_first().unwrap_or((&0, &[]));
        self.0 = rest;
        *first
    }

    /// A path of up to 7 tokens: names, `..`, `.` and slashes (a leading
    /// slash makes a link absolute).
    fn path(&mut self) -> String {
        let length = self.next() % 8;
        let mut text = String::new();
        for _ in 0..length {
            let token = TOKENS[usize::from(self.next()) % TOKENS.len()];
            if !text.is_empty() && !text.ends_with('/') && !token.starts_with('/') {
                text.push('/');
            }
            text.push_str(token);
        }
        if text.is_empty() { ".".into() } else { text }
    }

    /// Where an entry goes: 1 to 3 names deep.
    fn place(&mut self) -> PathBuf {
        let depth = 1 + self.next() % 3;
        (0..depth)
            .map(|_| NAMES[usize::from(self.next()) % NAMES.len()])
            .collect()
    }
}

fuzz_target!(|data: &[u8]| {
    let mut input = Bytes(data);
    // On a tmpfs when there is one: a disk file system makes each run
    // (a few dozen directory operations) thirty times slower.
    let outer = match std::path::Path::new("/dev/shm").is_dir() {
        true => tempfile::tempdir_in("/dev/shm").unwrap(),
        false => tempfile::tempdir().unwrap(),
    };
    let jail = outer.path().join("jail");
    std::fs::create_dir(&jail).unwrap();
    // The host beside the root has the same names: an escape finds them.
    for name in NAMES {
        std::fs::create_dir_all(outer.path().join(name).join(name)).unwrap();
        std::fs::write(outer.path().join(name).join("secret"), "host").unwrap();
    }
    let entries = input.next() % 16;
    for _ in 0..entries {
        let kind = input.next() % 4;
        let place = jail.join(input.place());
        let _ = match kind {
            0 => std::fs::create_dir(&place),
            1 => std::fs::write(&place, "jail"),
            _ => symlink(input.path(), &place),
        };
    }
    let inside = inodes(&jail);
    let top = rustix::fs::open(&jail, OFlags::PATH | OFlags::DIRECTORY, Mode::empty()).unwrap();
    let walking = Root::new(&jail).unwrap().with_resolver(Resolver::Walk);
    let queries = 1 + input.next() % 8;
    for _ in 0..queries {
        let query = input.path();
        let flags = FLAGS[usize::from(input.next()) % FLAGS.len()] | OFlags::CLOEXEC;
        let relative = query.trim_start_matches('/');
        let relative = if relative.is_empty() { "." } else { relative };
        let walked = answer(walk::open_in_root(top.as_fd(), Path::new(relative), flags));
        if let Ok(inode) = walked {
            assert!(
                inside.contains(&inode),
                "{query:?} opened {inode:?}, outside the root"
            );
        }
        let kernel = answer(kernel_open(top.as_fd(), relative, flags).map_err(Into::into));
        assert_eq!(
            walked, kernel,
            "{query:?} with {flags:?}: walk and openat2 differ"
        );
        // The name the walk gives for the target is inside the root too, and
        // names the same file.
        if let Ok(resolved) = walking.resolve(Path::new(&query)) {
            let again = walking.metadata(&resolved).unwrap();
            let first = walking.metadata(Path::new(&query)).unwrap();
            assert_eq!(
                (again.dev(), again.ino()),
                (first.dev(), first.ino()),
                "{query:?}"
            );
            assert!(inside.contains(&(first.dev(), first.ino())));
        }
    }
});
