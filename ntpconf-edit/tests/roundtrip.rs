//! Every corpus file survives untouched when nothing changes, `set` changes
//! only tinker lines, and the same holds for generated files (proptest).

use std::path::{Path, PathBuf};

use mailhost_common::files::MemoryFiles;
use ntpconf_edit::doc::Document;
use ntpconf_edit::edit;
use ntpconf_edit::model;
use ntpconf_edit::tinker::{Dialect, Tinker, classify};
use proptest::prelude::*;

fn corpus() -> Vec<(PathBuf, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/ntp.conf");
    let mut out: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".conf"))
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            (p, bytes)
        })
        .collect();
    out.sort();
    assert!(out.len() >= 50);
    out
}

fn read(path: &Path, bytes: &[u8]) -> model::Reading {
    model::read(path, bytes, &MemoryFiles::default(), Dialect::Classic).unwrap()
}

fn is_tinker_line(text: &[u8]) -> bool {
    !matches!(classify(text), Tinker::Other)
}

/// The non-tinker lines, with their endings, in order.
fn other_lines(bytes: &[u8]) -> Vec<(Vec<u8>, Vec<u8>)> {
    Document::parse(bytes)
        .lines
        .into_iter()
        .filter(|l| !is_tinker_line(&l.text))
        .map(|l| (l.text, l.ending.to_vec()))
        .collect()
}

fn set(bytes: &[u8], pairs: &[(&str, &str)]) -> Vec<u8> {
    let mut doc = Document::parse(bytes);
    let pairs: Vec<_> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    edit::set(&mut doc, &pairs, &[]);
    doc.to_bytes()
}

/// The edit kept every other line; only a missing final newline may move
/// to the new last line.
fn assert_only_tinker_lines_changed(before: &[u8], after: &[u8], what: &str) {
    let strip = |v: Vec<(Vec<u8>, Vec<u8>)>| v.into_iter().map(|(t, _)| t).collect::<Vec<_>>();
    assert_eq!(
        strip(other_lines(before)),
        strip(other_lines(after)),
        "{what}"
    );
    let endings_before: Vec<_> = other_lines(before).into_iter().map(|(_, e)| e).collect();
    let endings_after: Vec<_> = other_lines(after).into_iter().map(|(_, e)| e).collect();
    let n = endings_before.len();
    if n > 0 {
        assert_eq!(endings_before[..n - 1], endings_after[..n - 1], "{what}");
    }
}

#[test]
fn no_op_output_is_byte_identical_for_the_corpus() {
    for (path, bytes) in corpus() {
        let doc = Document::parse(&bytes);
        assert_eq!(doc.to_bytes(), bytes, "{}", path.display());
        let mut unset = doc.clone();
        edit::unset(&mut unset, &["stepfwd".into(), "huffpuff".into()], &[]);
        assert_eq!(unset.to_bytes(), bytes, "{}", path.display());
        // Setting what is already there changes nothing either.
        let settings = model::effective(&read(&path, &bytes));
        let same: Vec<(&str, &str)> = settings
            .values()
            .map(|s| (s.key.as_str(), s.written.as_str()))
            .collect();
        if settings.values().all(|s| s.file == path) && !same.is_empty() {
            let before_dups = bytes.clone();
            let after = set(&bytes, &same);
            // Only removal of overridden duplicates may happen.
            assert_only_tinker_lines_changed(&before_dups, &after, &path.display().to_string());
        }
    }
}

#[test]
fn set_changes_only_tinker_lines_in_the_corpus() {
    for (path, bytes) in corpus() {
        let after = set(&bytes, &[("panic", "0"), ("stepback", "0")]);
        assert_only_tinker_lines_changed(&bytes, &after, &path.display().to_string());
        let settings = model::effective(&read(&path, &after));
        assert_eq!(settings["panic"].applied, 0.0, "{}", path.display());
        assert_eq!(settings["stepback"].applied, 0.0, "{}", path.display());
        assert_eq!(
            set(&after, &[("panic", "0"), ("stepback", "0")]),
            after,
            "idempotent: {}",
            path.display()
        );
    }
}

fn line_strategy() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("# comment".to_string()),
        Just(String::new()),
        Just("server 0.pool.ntp.org iburst".to_string()),
        Just("  restrict default kod nomodify".to_string()),
        Just("end".to_string()),
        Just("junk line {{ template }}".to_string()),
        Just("TINKER panic 1".to_string()),
        Just("tinker panic 0 step".to_string()),
        Just("tinker panic 0;".to_string()),
        (
            prop::sample::select(vec![
                "panic", "step", "stepback", "stepfwd", "stepout", "freq", "allan"
            ]),
            prop::sample::select(vec!["0", "1", "-3", "0.5", "1e3"]),
            prop::sample::select(vec!["", "   # trailing", "\t"]),
            prop::sample::select(vec!["", "\t", "  "]),
        )
            .prop_map(|(k, v, tail, lead)| format!("{lead}tinker {k} {v}{tail}")),
        (
            prop::sample::select(vec!["panic", "step", "stepback"]),
            prop::sample::select(vec!["panic", "stepout", "stepfwd"]),
        )
            .prop_map(|(a, b)| format!("tinker {a} 1 {b} 2")),
    ]
}

fn file_strategy() -> impl Strategy<Value = Vec<u8>> {
    (
        prop::collection::vec(
            (line_strategy(), prop::sample::select(vec!["\n", "\r\n"])),
            0..12,
        ),
        any::<bool>(),
    )
        .prop_map(|(lines, final_newline)| {
            let mut out = String::new();
            let n = lines.len();
            for (i, (text, ending)) in lines.into_iter().enumerate() {
                out.push_str(&text);
                if i + 1 < n || final_newline {
                    out.push_str(ending);
                }
            }
            out.into_bytes()
        })
}

proptest! {
    #[test]
    fn generated_files_round_trip_and_edits_touch_only_tinker(
        bytes in file_strategy(),
        keys in prop::collection::vec(
            (prop::sample::select(vec!["panic", "step", "stepback", "stepout"]), prop::sample::select(vec!["0", "7", "0.25"])),
            1..4),
    ) {
        let doc = Document::parse(&bytes);
        prop_assert_eq!(doc.to_bytes(), bytes.clone());
        let pairs: Vec<(&str, &str)> = keys.clone();
        let after = set(&bytes, &pairs);
        assert_only_tinker_lines_changed(&bytes, &after, &String::from_utf8_lossy(&bytes));
        // Idempotent, and ntpd ends up with what was asked.
        prop_assert_eq!(set(&after, &pairs), after.clone());
        let settings = model::effective(&read(Path::new("f"), &after));
        let mut wanted = std::collections::BTreeMap::new();
        for (k, v) in &pairs { wanted.insert(*k, *v); }
        for (k, v) in wanted {
            let applied = ntpconf_edit::tinker::applied_value(k, v.parse().unwrap());
            let ok = settings.get(k).is_some_and(|s| s.applied == applied)
                // A later stepback/stepfwd was not asked for, but `step` asked:
                || (k == "step" && settings.get(k).is_some_and(|s| s.applied == applied));
            prop_assert!(ok, "{} not {} in {:?}", k, v, String::from_utf8_lossy(&after));
        }
        let mut unset = Document::parse(&after);
        edit::unset(&mut unset, &pairs.iter().map(|(k, _)| k.to_string()).collect::<Vec<_>>(), &[]);
        let unset = unset.to_bytes();
        let left = model::effective(&read(Path::new("f"), &unset));
        for (k, _) in &pairs { prop_assert!(!left.contains_key(*k) || *k == "stepback" && left.contains_key("step")); }
    }
}
