//! Which files to read, in which order: the default maillog, walked
//! directories, and with `--rotated` each log's rotated siblings, oldest
//! first (newsyslog `maillog.6.bz2` … `maillog.0.bz2`, logrotate
//! `mail.log.4.gz` … `mail.log.1`, dateext `maillog-20250921`, and
//! `newsyslog -t` names `maillog.20250921T000000.bz2`).

use std::path::{Path, PathBuf};

use mailhost_common::root::Root;

/// What the name of a rotated sibling says about its age.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Age {
    /// `.N`: larger is older.
    Index(u64),
    /// A date or date-time in the name: smaller is older.
    Date(String),
}

const COMPRESSED_SUFFIXES: &[&str] = &[".gz", ".bz2", ".xz", ".zst", ".zstd"];

/// If `name` is a rotated copy of `base`, how old it is.
fn rotation_age(base: &str, name: &str) -> Option<Age> {
    let rest = name.strip_prefix(base)?;
    let rest = COMPRESSED_SUFFIXES
        .iter()
        .find_map(|s| rest.strip_suffix(s))
        .unwrap_or(rest);
    let tag = rest.strip_prefix('.').or_else(|| rest.strip_prefix('-'))?;
    if tag.is_empty() {
        return None;
    }
    if tag.len() <= 4 && tag.bytes().all(|b| b.is_ascii_digit()) {
        return tag.parse().ok().map(Age::Index);
    }
    // 20250921, 20250921T000000, 2025-09-21, 20250921.1 and the like.
    let date_like = tag.len() >= 8
        && tag
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'T' | b'-' | b'_' | b'.'));
    date_like.then(|| Age::Date(tag.to_string()))
}

/// Rotated siblings of `log` in its directory, oldest first, then `log`.
/// The directory is listed through `root`, so neither it nor a sibling can
/// lead out of it (the host is `Root::host()`).
pub fn with_rotated_in(root: &Root, log: &Path) -> Vec<PathBuf> {
    let dir = log
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let Some(base) = log.file_name().and_then(|n| n.to_str()) else {
        return vec![log.to_path_buf()];
    };
    let mut siblings: Vec<(Age, PathBuf)> = root
        .read_dir(dir)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|name| {
            let age = rotation_age(base, name.to_str()?)?;
            let path = if log.parent().is_some_and(|p| p.as_os_str().is_empty()) {
                PathBuf::from(&name)
            } else {
                dir.join(&name)
            };
            Some((age, path))
        })
        .collect();
    // Oldest first: dates ascending, then indexes descending (an index-named
    // copy is never older than a dated one in practice; keep them apart).
    siblings.sort_by(|(a, pa), (b, pb)| match (a, b) {
        (Age::Index(x), Age::Index(y)) => y.cmp(x).then(pa.cmp(pb)),
        (Age::Date(x), Age::Date(y)) => x.cmp(y).then(pa.cmp(pb)),
        (Age::Date(_), Age::Index(_)) => std::cmp::Ordering::Less,
        (Age::Index(_), Age::Date(_)) => std::cmp::Ordering::Greater,
    });
    let mut out: Vec<PathBuf> = siblings.into_iter().map(|(_, p)| p).collect();
    out.push(log.to_path_buf());
    out
}

/// How deep `walk_in` goes (links inside the root are followed, so a loop
/// must end).
const MAX_WALK_DEPTH: usize = 32;

/// The regular files under a jail directory, in name order, looked up
/// through `root`: links are followed inside the root only, each directory
/// is read once (a link loop ends), and FIFOs, devices and sockets are
/// left out (they would hang or never end).
pub fn walk_in(root: &Root, dir: &Path) -> Vec<Result<PathBuf, String>> {
    use std::os::unix::fs::MetadataExt;
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut stack = vec![(dir.to_path_buf(), 0usize)];
    // Depth first, names in order: push the entries in reverse.
    while let Some((path, depth)) = stack.pop() {
        let meta = match root.metadata(&path) {
            Ok(m) => m,
            Err(e) => {
                out.push(Err(e.to_string()));
                continue;
            }
        };
        if meta.is_file() {
            out.push(Ok(path));
            continue;
        }
        if !meta.is_dir() || depth > MAX_WALK_DEPTH || !seen.insert((meta.dev(), meta.ino())) {
            continue;
        }
        match root.read_dir(&path) {
            Ok(names) => {
                for name in names.into_iter().rev() {
                    stack.push((path.join(name), depth + 1));
                }
            }
            Err(e) => out.push(Err(e.to_string())),
        }
    }
    out
}

/// The files under a directory, in name order (what `-r` in grep would read).
pub fn walk(dir: &Path) -> Vec<Result<PathBuf, String>> {
    walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .follow_links(false)
        .into_iter()
        .filter_map(|entry| match entry {
            Ok(e) if e.file_type().is_file() => Some(Ok(e.into_path())),
            Ok(_) => None,
            Err(err) => Some(Err(err.to_string())),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_rotation_schemes() {
        assert_eq!(
            rotation_age("maillog", "maillog.0.bz2"),
            Some(Age::Index(0))
        );
        assert_eq!(rotation_age("mail.log", "mail.log.1"), Some(Age::Index(1)));
        assert_eq!(
            rotation_age("mail.log", "mail.log.4.gz"),
            Some(Age::Index(4))
        );
        assert_eq!(
            rotation_age("maillog", "maillog-20250921"),
            Some(Age::Date("20250921".into()))
        );
        assert_eq!(
            rotation_age("maillog", "maillog.20250921T000000.bz2"),
            Some(Age::Date("20250921T000000".into()))
        );
        assert_eq!(rotation_age("maillog", "maillog.zst"), None);
        assert_eq!(rotation_age("mail.log", "mail.log"), None);
        assert_eq!(rotation_age("mail", "mail.log.1"), None);
        assert_eq!(rotation_age("maillog", "maillog.bak"), None);
    }

    #[test]
    fn orders_oldest_first() {
        let dir = tempfile::tempdir().unwrap();
        for name in [
            "maillog",
            "maillog.0.bz2",
            "maillog.1.bz2",
            "maillog.10.bz2",
            "maillog.2.gz",
            "other.0",
            "maillog.bak",
        ] {
            std::fs::write(dir.path().join(name), b"").unwrap();
        }
        let names: Vec<String> = with_rotated_in(&Root::host(), &dir.path().join("maillog"))
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            names,
            [
                "maillog.10.bz2",
                "maillog.2.gz",
                "maillog.1.bz2",
                "maillog.0.bz2",
                "maillog"
            ]
        );
    }
}
