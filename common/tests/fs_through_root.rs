//! Every open and stat of a path under `--root` goes through
//! `mailhost_common::Root` (symlink-safe): a path-taking `std::fs` call in
//! a library's sources is allowed only in the files listed here, each with
//! why it does not touch the tree.  Calls on an open handle
//! (`file.metadata()`) are not path look-ups and are not counted; nor is
//! test code (a file's `#[cfg(test)]` tail).

use std::path::{Path, PathBuf};

/// The calls that look a path up on the host.
const PATH_CALLS: &[&str] = &[
    "fs::metadata(",
    "fs::symlink_metadata(",
    "fs::read(",
    "fs::read_to_string(",
    "fs::read_dir(",
    "fs::read_link(",
    "fs::canonicalize(",
    "fs::write(",
    "File::open(",
    "File::create(",
    "OpenOptions::new(",
];

/// (file, why its path calls are not under `--root`).
const ALLOWED: &[(&str, &str)] = &[
    (
        "common/src/testing.rs",
        "a test's skip report, written where `make test` reads it",
    ),
    (
        "common/src/temp_cleanup.rs",
        "the tool's own /proc/self/status (which stop signals it was started with ignored), never a tree's path",
    ),
    (
        "xinetd-lint/src/dovecot_listeners.rs",
        "the live system's /proc, read only when --root is / (checked first)",
    ),
];

/// The crates whose library code reads trees.
const CRATES: &[&str] = &[
    "common",
    "host",
    "xinetd-lint",
    "ntpconf-edit",
    "maillog-grep",
    "clockcheck",
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `line` calls `call` itself (`File::open(`, not `TempFile::open(`).
fn calls(line: &str, call: &str) -> bool {
    line.match_indices(call).any(|(at, _)| {
        !line[..at]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() || c == '_')
    })
}

/// `path:line: text` for each path call outside tests and comments.
fn path_calls(file: &Path, shown: &str) -> Vec<String> {
    let text = std::fs::read_to_string(file).unwrap();
    text.lines()
        .enumerate()
        .take_while(|(_, line)| !line.starts_with("#[cfg(test)]"))
        .filter(|(_, line)| !line.trim_start().starts_with("//"))
        .filter(|(_, line)| PATH_CALLS.iter().any(|call| calls(line, call)))
        .map(|(n, line)| format!("{shown}:{}: {}", n + 1, line.trim()))
        .collect()
}

#[test]
fn no_path_lookup_outside_root_in_library_code() {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let mut found = Vec::new();
    let mut scanned = 0;
    for krate in CRATES {
        let mut files = Vec::new();
        rust_files(&workspace.join(krate).join("src"), &mut files);
        for file in files {
            let shown = file.strip_prefix(workspace).unwrap().display().to_string();
            scanned += 1;
            if ALLOWED.iter().any(|(allowed, _)| *allowed == shown) {
                continue;
            }
            found.extend(path_calls(&file, &shown));
        }
    }
    assert!(
        scanned > 50,
        "only {scanned} source files found: wrong directory?"
    );
    assert!(
        found.is_empty(),
        "open or stat a tree's path through Root, or add the file to ALLOWED with why:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_scan_sees_a_path_call() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("x.rs");
    std::fs::write(
        &file,
        "fn f() {\n    // std::fs::metadata(p) in a comment\n    let m = std::fs::metadata(p);\n    TempFile::create(d)?;\n}\n#[cfg(test)]\nmod tests { fn t() { std::fs::read(p); } }\n",
    )
    .unwrap();
    assert_eq!(
        path_calls(&file, "x.rs"),
        ["x.rs:3: let m = std::fs::metadata(p);"]
    );
}
