//! The attacks of issue 13 section 2 (and the edit half of section 1) on the
//! writer, played as the attacker plays them: a link planted at the backup's
//! name, a racer swapping the temporary file for a link, a full disk, a link
//! at an output file, a hard link, a jail whose links point at the host.
//! Only the public API is used, so the same file runs against older writers.
//! These tests run as root (as the tools do, and as CI does).

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use mailhost_common::atomic_write::{FailAt, create_or_replace, replace_file, replace_in_root};
use mailhost_common::root::Root;

fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

/// True (after saying so) when not root: `what` needs root.
fn skipped_unless_root(what: &str) -> bool {
    if is_root() {
        return false;
    }
    mailhost_common::testing::skip(what, "needs root");
    true
}

/// Replaces `path` with `text`, keeping the old file as `path`.bak.
fn replace_keeping_a_backup(path: &Path, text: &[u8]) {
    replace_file(path, text, Some(".bak"), None).unwrap();
}

/// A fresh directory holding the file `name` with `text`.
fn file_in_new_dir(name: &str, text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    fs::write(&path, text).unwrap();
    (dir, path)
}

#[test]
fn a_link_planted_at_the_backup_name_is_replaced_not_followed() {
    let (dir, conf) = file_in_new_dir("ntp.conf", "old\n");
    let host = tempfile::tempdir().unwrap();
    // Dangling: the writer would create a root-owned file of the attacker's
    // choosing (a cron job); existing: it would overwrite it.
    let created = host.path().join("cron.d-evil");
    symlink(&created, dir.path().join("ntp.conf.bak")).unwrap();
    replace_keeping_a_backup(&conf, b"new\n");
    assert!(
        !created.exists(),
        "the backup was written through the planted link"
    );
    let bak = dir.path().join("ntp.conf.bak");
    assert!(fs::symlink_metadata(&bak).unwrap().is_file());
    assert_eq!(fs::read(&bak).unwrap(), b"old\n");

    let victim = host.path().join("passwd");
    fs::write(&victim, "root:x:0:0\n").unwrap();
    fs::remove_file(&bak).unwrap();
    symlink(&victim, &bak).unwrap();
    replace_keeping_a_backup(&conf, b"newer\n");
    assert_eq!(fs::read(&victim).unwrap(), b"root:x:0:0\n");
    assert_eq!(fs::read(&bak).unwrap(), b"new\n");
}

#[test]
fn a_failed_backup_keeps_the_older_one() {
    let (dir, conf) = file_in_new_dir("ntp.conf", "current\n");
    fs::write(dir.path().join("ntp.conf.bak"), "older good backup\n").unwrap();
    for fail in FailAt::ALL {
        assert!(replace_file(&conf, b"new\n", Some(".bak"), Some(fail)).is_err());
        assert_eq!(fs::read(&conf).unwrap(), b"current\n", "{fail:?}");
        // Up to the backup's own rename the older backup is there; once the
        // backup is made (only the final rename failed) it is a copy of the
        // unchanged file.
        let expected: &[u8] = if fail == FailAt::Rename {
            b"current\n"
        } else {
            b"older good backup\n"
        };
        assert_eq!(
            fs::read(dir.path().join("ntp.conf.bak")).unwrap(),
            expected,
            "{fail:?}"
        );
    }
}

/// A small tmpfs, filled so that the new file fits but its backup does not.
#[test]
fn a_full_disk_during_the_backup_keeps_the_older_backup_and_the_file() {
    if skipped_unless_root("mounting a small tmpfs needs root") {
        return;
    }
    let mount = tempfile::tempdir().unwrap();
    let status = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=1m", "tmpfs"])
        .arg(mount.path())
        .status()
        .unwrap();
    assert!(status.success(), "mount -t tmpfs failed");
    struct Unmount<'a>(&'a Path);
    impl Drop for Unmount<'_> {
        fn drop(&mut self) {
            let _ = std::process::Command::new("umount").arg(self.0).status();
        }
    }
    let _unmount = Unmount(mount.path());
    let dir = mount.path();
    let conf = dir.join("big.conf");
    fs::write(&conf, vec![b'c'; 300 * 1024]).unwrap();
    // An older, smaller backup: a writer that truncates it first frees its
    // space and still runs out (the "not changed", backup lost).
    fs::write(dir.join("big.conf.bak"), vec![b'o'; 100 * 1024]).unwrap();
    // Fill the rest but for room for one more copy.
    let free = rustix::fs::statvfs(dir).unwrap();
    let room = free.f_bavail * free.f_frsize;
    fs::write(dir.join("filler"), vec![0; (room - 350 * 1024) as usize]).unwrap();

    let err = replace_file(&conf, &vec![b'n'; 300 * 1024], Some(".bak"), None).unwrap_err();
    assert!(err.to_string().contains("space"), "{err}");
    assert!(
        fs::read(&conf).unwrap() == vec![b'c'; 300 * 1024],
        "the file changed"
    );
    let backup = fs::read(dir.join("big.conf.bak")).unwrap();
    assert!(
        backup == vec![b'o'; 100 * 1024],
        "the older backup was lost ({} bytes left)",
        backup.len()
    );
    let mut names: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["big.conf", "big.conf.bak", "filler"]);

    // No room even for the new file: the same.
    fs::remove_file(dir.join("filler")).unwrap();
    let free = rustix::fs::statvfs(dir).unwrap();
    let room = free.f_bavail * free.f_frsize;
    fs::write(dir.join("filler"), vec![0; (room - 100 * 1024) as usize]).unwrap();
    assert!(replace_file(&conf, &vec![b'n'; 300 * 1024], Some(".bak"), None).is_err());
    assert!(
        fs::read(&conf).unwrap() == vec![b'c'; 300 * 1024],
        "the file changed"
    );
    let backup = fs::read(dir.join("big.conf.bak")).unwrap();
    assert!(
        backup == vec![b'o'; 100 * 1024],
        "the older backup was lost ({} bytes left)",
        backup.len()
    );
}

/// The attacker can write the directory (a group-writable collector
/// directory, a jail): while root edits a file he owns, he keeps replacing
/// every temporary file by a link to a root-owned file.  Root must never
/// hand that file to him.
#[test]
fn a_racer_swapping_the_temporary_file_cannot_get_another_file_chowned() {
    if skipped_unless_root("giving a file to another owner needs root") {
        return;
    }
    let (dir, conf) = file_in_new_dir("conf", "mine\n");
    let host = tempfile::tempdir().unwrap();
    std::os::unix::fs::chown(&conf, Some(4242), Some(4242)).unwrap();
    let victim = host.path().join("shadow");
    fs::write(&victim, "root:secret\n").unwrap();
    fs::set_permissions(&victim, fs::Permissions::from_mode(0o600)).unwrap();

    let stop = Arc::new(AtomicBool::new(false));
    let swaps = Arc::new(AtomicU32::new(0));
    let racer = {
        let (dir, victim, stop, swaps) = (
            dir.path().to_path_buf(),
            victim.clone(),
            stop.clone(),
            swaps.clone(),
        );
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let Ok(entries) = fs::read_dir(&dir) else {
                    continue;
                };
                for entry in entries.flatten() {
                    let name = entry.file_name();
                    let name = name.to_string_lossy();
                    if name.starts_with(".conf.") && name.ends_with(".tmp") {
                        let path = entry.path();
                        if fs::remove_file(&path).is_ok() && symlink(&victim, &path).is_ok() {
                            swaps.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
            }
        })
    };
    let started = std::time::Instant::now();
    for i in 0.. {
        let raced = swaps.load(Ordering::Relaxed) > 0;
        if (i >= 3000 && raced) || started.elapsed().as_secs() > 60 {
            break;
        }
        let _ = replace_file(&conf, format!("edit {i}\n").as_bytes(), None, None);
        let meta = fs::metadata(&victim).unwrap();
        if meta.uid() != 0 {
            break;
        }
        // The racer's link may have been renamed over conf: put it back.
        if fs::symlink_metadata(&conf)
            .unwrap()
            .file_type()
            .is_symlink()
        {
            fs::remove_file(&conf).unwrap();
            fs::write(&conf, "mine\n").unwrap();
            std::os::unix::fs::chown(&conf, Some(4242), Some(4242)).unwrap();
        }
    }
    stop.store(true, Ordering::Relaxed);
    racer.join().unwrap();
    let meta = fs::metadata(&victim).unwrap();
    assert_eq!(
        (meta.uid(), meta.gid()),
        (0, 0),
        "root gave the victim file away"
    );
    assert_eq!(fs::read(&victim).unwrap(), b"root:secret\n");
    assert!(
        swaps.load(Ordering::Relaxed) > 0,
        "the racer never got in: no race was run"
    );
}

#[test]
fn owner_group_and_set_id_bits_are_kept() {
    if skipped_unless_root("needs root") {
        return;
    }
    let (dir, path) = file_in_new_dir("helper", "#!/bin/sh\n");
    std::os::unix::fs::chown(&path, Some(1000), Some(1000)).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o6750)).unwrap();
    replace_keeping_a_backup(&path, b"#!/bin/sh\nexit 0\n");
    let meta = fs::metadata(&path).unwrap();
    assert_eq!((meta.uid(), meta.gid()), (1000, 1000));
    assert_eq!(meta.mode() & 0o7777, 0o6750);
    // The backup keeps owner and permissions, not the set-id bits.
    let bak = fs::metadata(dir.path().join("helper.bak")).unwrap();
    assert_eq!(
        (bak.uid(), bak.gid(), bak.mode() & 0o7777),
        (1000, 1000, 0o750)
    );
}

/// A POSIX ACL in its kernel form: user::rw- user:1000:r-- group::r--
/// mask::r-- other::---.
// Linux xattr names and formats (FreeBSD is covered by the unit tests of
// `xattrs`, against a stand-in for extattr(2) and acl(3)).
#[cfg(target_os = "linux")]
fn acl() -> Vec<u8> {
    let mut value = 2u32.to_le_bytes().to_vec();
    for (tag, perm, id) in [
        (0x01u16, 6u16, u32::MAX),
        (0x02, 4, 1000),
        (0x04, 4, u32::MAX),
        (0x10, 4, u32::MAX),
        (0x20, 0, u32::MAX),
    ] {
        value.extend(tag.to_le_bytes());
        value.extend(perm.to_le_bytes());
        value.extend(id.to_le_bytes());
    }
    value
}

#[cfg(target_os = "linux")]
fn xattr(path: &Path, name: &str) -> Option<Vec<u8>> {
    let mut buffer = vec![0; 4096];
    let n = rustix::fs::getxattr(path, name, &mut buffer).ok()?;
    buffer.truncate(n);
    Some(buffer)
}

#[test]
#[cfg(target_os = "linux")]
fn extended_attributes_and_acls_are_kept() {
    // The temporary directory's file system (ext4 here) has user.* and ACLs.
    let (dir, path) = file_in_new_dir("conf", "old\n");
    let flags = rustix::fs::XattrFlags::empty();
    rustix::fs::setxattr(&path, "user.origin", b"puppet", flags).unwrap();
    rustix::fs::setxattr(&path, "user.empty", b"", flags).unwrap();
    rustix::fs::setxattr(&path, "system.posix_acl_access", &acl(), flags).unwrap();
    let mode = fs::metadata(&path).unwrap().mode() & 0o777;
    let acl_before = xattr(&path, "system.posix_acl_access").unwrap();

    replace_keeping_a_backup(&path, b"new\n");
    assert_eq!(fs::read(&path).unwrap(), b"new\n");
    for file in [path.clone(), dir.path().join("conf.bak")] {
        assert_eq!(
            xattr(&file, "user.origin").as_deref(),
            Some(&b"puppet"[..]),
            "{file:?}"
        );
        assert_eq!(
            xattr(&file, "user.empty").as_deref(),
            Some(&b""[..]),
            "{file:?}"
        );
        assert_eq!(
            xattr(&file, "system.posix_acl_access"),
            Some(acl_before.clone()),
            "{file:?}"
        );
        assert_eq!(
            fs::metadata(&file).unwrap().mode() & 0o777,
            mode,
            "{file:?}"
        );
    }
}

#[test]
fn a_hard_linked_file_is_refused_and_both_names_stay_one_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("conf");
    let other = dir.path().join("other-name");
    fs::write(&path, "old\n").unwrap();
    fs::hard_link(&path, &other).unwrap();
    let err = replace_file(&path, b"new\n", None, None).unwrap_err();
    assert!(err.to_string().contains("hard links"), "{err}");
    assert_eq!(fs::read(&path).unwrap(), b"old\n");
    assert_eq!(
        fs::metadata(&path).unwrap().ino(),
        fs::metadata(&other).unwrap().ino()
    );
}

#[test]
fn an_output_file_link_is_replaced_never_its_target() {
    // clockcheck --output DIR/clock.prom: DIR is group-writable.
    let dir = tempfile::tempdir().unwrap();
    let host = tempfile::tempdir().unwrap();
    let victim = host.path().join("passwd");
    fs::write(&victim, "root:x:0:0\n").unwrap();
    let output = dir.path().join("clock.prom");
    symlink(&victim, &output).unwrap();
    create_or_replace(&output, b"clock_ok 1\n", None).unwrap();
    assert_eq!(fs::read(&victim).unwrap(), b"root:x:0:0\n");
    assert!(fs::symlink_metadata(&output).unwrap().is_file());
    assert_eq!(fs::read(&output).unwrap(), b"clock_ok 1\n");
    assert_eq!(fs::metadata(&output).unwrap().mode() & 0o7777, 0o644);
    // A dangling link (to a file the attacker wants created) too.
    let created = host.path().join("created");
    fs::remove_file(&output).unwrap();
    symlink(&created, &output).unwrap();
    create_or_replace(&output, b"clock_ok 2\n", None).unwrap();
    assert!(!created.exists());
    assert_eq!(fs::read(&output).unwrap(), b"clock_ok 2\n");
}

/// A jail whose /etc/ntp.conf is a symlink, absolute or climbing with `..`,
/// to a path that exists both in the jail and on the host: the edit must
/// change the jail's file, never the host's, and the link stays a link.
#[test]
fn an_edit_under_root_follows_links_inside_the_root_only() {
    let jail = tempfile::tempdir().unwrap();
    let host = tempfile::tempdir().unwrap();
    let host_file = host.path().join("ntp.conf");
    fs::write(&host_file, "host\n").unwrap();
    // The same path inside the jail, so the look-up inside the root succeeds.
    let inside = jail.path().join(host_file.strip_prefix("/").unwrap());
    fs::create_dir_all(inside.parent().unwrap()).unwrap();
    fs::create_dir_all(jail.path().join("etc")).unwrap();
    let depth = jail.path().components().count();
    let climb = format!(
        "{}{}",
        "../".repeat(depth + 2),
        host_file.strip_prefix("/").unwrap().display()
    );
    let root = Root::new(jail.path()).unwrap();
    for target in [host_file.display().to_string(), climb] {
        fs::write(&inside, "jail\n").unwrap();
        let link = jail.path().join("etc/ntp.conf");
        let _ = fs::remove_file(&link);
        symlink(&target, &link).unwrap();
        let written = replace_in_root(
            &root,
            Path::new("/etc/ntp.conf"),
            b"edited\n",
            Some(".bak"),
            None,
        )
        .unwrap();
        assert_eq!(
            fs::read(&host_file).unwrap(),
            b"host\n",
            "the host's file was edited via {target}"
        );
        assert_eq!(fs::read(&inside).unwrap(), b"edited\n", "{target}");
        assert_eq!(written, inside);
        assert!(
            fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        let bak = jail.path().join(format!(
            "{}.bak",
            host_file.strip_prefix("/").unwrap().display()
        ));
        assert_eq!(fs::read(&bak).unwrap(), b"jail\n");
        let host_bak = host.path().join("ntp.conf.bak");
        assert!(!host_bak.exists(), "a backup was written on the host");
    }
}

/// The jail owner keeps swapping the jail's /etc for a link to a host
/// directory while root edits /etc/conf under --root: the host's file is
/// never written.
#[test]
fn an_edit_under_root_never_leaves_it_while_a_directory_is_swapped() {
    let jail = tempfile::tempdir().unwrap();
    let host = tempfile::tempdir().unwrap();
    let j = jail.path().to_path_buf();
    fs::create_dir(j.join("etc")).unwrap();
    fs::write(j.join("etc/conf"), "jail\n").unwrap();
    fs::write(host.path().join("conf"), "host\n").unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let swaps = Arc::new(AtomicU32::new(0));
    let swapper = {
        let (j, host, stop, swaps) = (
            j.clone(),
            host.path().to_path_buf(),
            stop.clone(),
            swaps.clone(),
        );
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
    let root = Root::new(&j).unwrap();
    let mut edits = 0;
    // 3000 edits at least, and on until the race really ran (a loaded
    // machine may starve the swapper), for at most a minute.
    let started = std::time::Instant::now();
    for i in 0.. {
        let raced = swaps.load(Ordering::Relaxed) > 100 && edits > 0;
        if (i >= 3000 && raced) || started.elapsed().as_secs() > 60 {
            break;
        }
        if replace_in_root(
            &root,
            Path::new("/etc/conf"),
            format!("edit {i}\n").as_bytes(),
            None,
            None,
        )
        .is_ok()
        {
            edits += 1;
        }
        if fs::read(host.path().join("conf")).unwrap() != b"host\n" {
            break;
        }
    }
    stop.store(true, Ordering::Relaxed);
    swapper.join().unwrap();
    let swaps = swaps.load(Ordering::Relaxed);
    assert_eq!(
        fs::read(host.path().join("conf")).unwrap(),
        b"host\n",
        "the host's file was written"
    );
    let names: Vec<_> = fs::read_dir(host.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["conf"], "files were created on the host");
    assert!(
        swaps > 100 && edits > 0,
        "no race happened: {swaps} swaps, {edits} edits"
    );
}

/// `security.*` attributes (an SELinux label stand-in) and file
/// capabilities are kept.  A write drops `security.capability` even for
/// root, so the writer must copy attributes after writing; the backup keeps
/// the label but not the capability (an old copy of a privileged program).
#[test]
#[cfg(target_os = "linux")]
fn security_attributes_and_file_capabilities_are_kept() {
    if skipped_unless_root("security.* attributes need root") {
        return;
    }
    let (dir, path) = file_in_new_dir("helper", "old\n");
    let flags = rustix::fs::XattrFlags::empty();
    // VFS_CAP_REVISION_2, effective; permitted: CAP_NET_BIND_SERVICE.
    let mut capability = 0x0200_0001u32.to_le_bytes().to_vec();
    for word in [1u32 << 10, 0, 0, 0] {
        capability.extend(word.to_le_bytes());
    }
    rustix::fs::setxattr(&path, "security.label", b"system_u:object_r:etc_t", flags).unwrap();
    rustix::fs::setxattr(&path, "security.capability", &capability, flags).unwrap();

    replace_keeping_a_backup(&path, b"new\n");
    assert_eq!(fs::read(&path).unwrap(), b"new\n");
    assert_eq!(
        xattr(&path, "security.label").as_deref(),
        Some(&b"system_u:object_r:etc_t"[..])
    );
    assert_eq!(xattr(&path, "security.capability"), Some(capability));
    let bak = dir.path().join("helper.bak");
    assert_eq!(
        xattr(&bak, "security.label").as_deref(),
        Some(&b"system_u:object_r:etc_t"[..])
    );
    assert_eq!(xattr(&bak, "security.capability"), None);
}
