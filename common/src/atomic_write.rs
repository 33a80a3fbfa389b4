//! Replacing a file so that it is never lost: temporary file in the same
//! directory, write, fsync, rename over the original, fsync the directory.
//! Mode, owner and group are kept; a symlink edits its target and stays a
//! symlink.  Any failure leaves the original as it was and no temporary file
//! behind (the temporary file removes itself unless it was renamed).
//!
//! Each step can be made to fail on purpose (`FailAt`), so tests can prove the
//! promise step by step.  The binaries read `TOOLKIT_FAIL_AT` for their CLI
//! tests; nothing else sets it.
#![allow(dead_code)]

use std::ffi::OsString;
use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

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
    if fail_at == Some(this) {
        return Err(io::Error::other(format!(
            "injected failure at {this:?} (TOOLKIT_FAIL_AT)"
        )));
    }
    Ok(())
}

/// Replaces the contents of `path` with `contents`.  With `backup_suffix`,
/// the original is first copied to the target's name plus that suffix.
/// Returns the path that was really written (the symlink's target).  A
/// missing file is an error: an editor replaces, it does not create.
pub fn replace_file(
    path: &Path,
    contents: &[u8],
    backup_suffix: Option<&str>,
    fail_at: Option<FailAt>,
) -> io::Result<PathBuf> {
    let target = fs::canonicalize(path)?;
    let meta = fs::metadata(&target)?;
    write_via_temp(&target, Some(&meta), contents, backup_suffix, fail_at)?;
    Ok(target)
}

/// `replace_file` for a file named by its jail path inside `root`: the file
/// (or the symlink's target, resolved inside the root) is replaced, and
/// nothing outside the root is ever written.  Returns the path written, as
/// shown in messages.
pub fn replace_in_root(
    root: &crate::root::Root,
    jail: &Path,
    contents: &[u8],
    backup_suffix: Option<&str>,
    fail_at: Option<FailAt>,
) -> io::Result<PathBuf> {
    // The file must resolve inside the root before anything is written.
    root.metadata(jail)?;
    replace_file(&root.display_path(jail), contents, backup_suffix, fail_at)
}

/// Writes `contents` to `path`, replacing the file (or a symlink's target)
/// as `replace_file` does, or creating it with mode 0644 when it does not
/// exist yet (an output file such as a node_exporter collector).
pub fn create_or_replace(
    path: &Path,
    contents: &[u8],
    fail_at: Option<FailAt>,
) -> io::Result<PathBuf> {
    match fs::canonicalize(path) {
        Ok(target) => {
            let meta = fs::metadata(&target)?;
            write_via_temp(&target, Some(&meta), contents, None, fail_at)?;
            Ok(target)
        }
        // Not a dangling symlink: nothing there yet.
        Err(e) if e.kind() == io::ErrorKind::NotFound && fs::symlink_metadata(path).is_err() => {
            write_via_temp(path, None, contents, None, fail_at)?;
            Ok(path.to_path_buf())
        }
        Err(e) => Err(e),
    }
}

/// Temporary file beside `target`, write, keep `meta`'s mode and owner (or
/// 0644 for a new file), fsync, optional backup, rename, fsync the directory.
fn write_via_temp(
    target: &Path,
    meta: Option<&fs::Metadata>,
    contents: &[u8],
    backup_suffix: Option<&str>,
    fail_at: Option<FailAt>,
) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let dir = match target.parent() {
        Some(d) if d.as_os_str().is_empty() => Path::new("."),
        Some(d) => d,
        None => Path::new("/"),
    };
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();

    step(fail_at, FailAt::Create)?;
    let mut temp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".tmp")
        .tempfile_in(dir)?;

    step(fail_at, FailAt::Write)?;
    temp.write_all(contents)?;
    match meta {
        Some(meta) => {
            temp.as_file().set_permissions(meta.permissions())?;
            if let Err(err) =
                std::os::unix::fs::chown(temp.path(), Some(meta.uid()), Some(meta.gid()))
            {
                // Only root can give a file away; a user editing their own file
                // already has the right owner, so only a real change fails here.
                let temp_meta = temp.as_file().metadata()?;
                if temp_meta.uid() != meta.uid() || temp_meta.gid() != meta.gid() {
                    return Err(err);
                }
            }
        }
        None => temp
            .as_file()
            .set_permissions(fs::Permissions::from_mode(0o644))?,
    }

    step(fail_at, FailAt::Fsync)?;
    temp.as_file().sync_all()?;

    if let (Some(suffix), Some(_)) = (backup_suffix, meta) {
        step(fail_at, FailAt::Backup)?;
        let mut backup = OsString::from(target.as_os_str());
        backup.push(suffix);
        fs::copy(target, &backup)?;
    }

    step(fail_at, FailAt::Rename)?;
    temp.persist(target).map_err(|e| e.error)?;
    // The rename is durable only once the directory is synced; a failure
    // here cannot undo anything, so it is not reported.
    if let Ok(dir) = fs::File::open(dir) {
        let _ = dir.sync_all();
    }
    Ok(())
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
