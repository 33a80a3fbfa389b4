//! The census of clock messages (docs/clock-messages.md, sample lines in
//! tests/data/clock-census.tsv): every entry, in every line format the
//! tool reads, is classified as the census says (source, direction, size,
//! death), is reported by default exactly when the census says so, and
//! the non-events stay silent.  The docs and the data list the same entries.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::*;

struct Entry {
    id: String,
    tag: String,
    source: String,
    kind: String,
    seconds: Option<f64>,
    fatal: bool,
    default: bool,
    message: String,
}

fn census() -> Vec<Entry> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/clock-census.tsv");
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            assert_eq!(f.len(), 8, "bad census row: {l}");
            Entry {
                id: f[0].into(),
                tag: f[1].into(),
                source: f[2].into(),
                kind: f[3].into(),
                seconds: (f[4] != "-").then(|| f[4].parse().unwrap()),
                fatal: f[5] == "yes",
                default: f[6] == "yes",
                message: f[7].into(),
            }
        })
        .collect()
}

/// One entry as a line in each format a mail host writes.
fn formats(e: &Entry) -> Vec<(&'static str, String)> {
    let (app, pid) = match e.tag.split_once('[') {
        Some((a, rest)) => (a.to_string(), rest.trim_end_matches(']').to_string()),
        None => (e.tag.clone(), "-".to_string()),
    };
    let (tag, msg) = (&e.tag, &e.message);
    vec![
        ("bsd", format!("Mar  4 14:34:09 mx1 {tag}: {msg}")),
        (
            "bsd -v",
            format!("Mar  4 14:34:09 <mail.crit> mx1 {tag}: {msg}"),
        ),
        (
            "rfc5424",
            format!("<18>1 2025-03-04T14:34:09.123456+09:00 mx1.example {app} {pid} - - {msg}"),
        ),
        (
            "rfc3339",
            format!("2025-03-04T14:34:09.123456+09:00 mx1 {tag}: {msg}"),
        ),
        ("journal short", format!("Mar 04 14:34:09 mx1 {tag}: {msg}")),
        (
            "journal short-iso",
            format!("2025-03-04T14:34:09+0900 mx1 {tag}: {msg}"),
        ),
        (
            "journal short-precise",
            format!("Mar 04 14:34:09.654321 mx1 {tag}: {msg}"),
        ),
        (
            "journal short-full",
            format!("Tue 2025-03-04 14:34:09 JST mx1 {tag}: {msg}"),
        ),
        (
            "journal short-unix",
            format!("1741066449.123456 mx1 {tag}: {msg}"),
        ),
    ]
}

/// Runs the tool over one stream, one entry per line; returns the events
/// by line number.
fn events(args: &[&str], text: &str) -> BTreeMap<u64, Vec<serde_json::Value>> {
    let out = cmd()
        .args(args)
        .args(["--format", "json", "--year", "2025", "-"])
        .write_stdin(text.to_string())
        .output()
        .unwrap();
    assert!(out.status.code() == Some(0), "{args:?}: {:?}", out);
    let mut by_line: BTreeMap<u64, Vec<serde_json::Value>> = BTreeMap::new();
    for o in json_lines(&out.stdout) {
        by_line
            .entry(o["line"].as_u64().unwrap())
            .or_default()
            .push(o);
    }
    by_line
}

#[test]
fn every_census_entry_in_every_line_format() {
    let entries = census();
    assert!(
        entries.len() >= 90,
        "the census shrank to {}",
        entries.len()
    );
    let rendered: Vec<Vec<(&str, String)>> = entries.iter().map(formats).collect();
    for f in 0..rendered[0].len() {
        let name = rendered[0][f].0;
        let text: String = rendered.iter().map(|r| format!("{}\n", r[f].1)).collect();
        let all = events(&["--all"], &text);
        let default = events(&[], &text);
        for (i, e) in entries.iter().enumerate() {
            let line = i as u64 + 1;
            let found = all.get(&line).map(Vec::as_slice).unwrap_or_default();
            if e.kind == "none" {
                assert!(found.is_empty(), "{name} {}: not an event: {found:?}", e.id);
                continue;
            }
            assert_eq!(found.len(), 1, "{name} {}: {:?}", e.id, rendered[i][f].1);
            let o = &found[0];
            let what = format!("{name} {}: {o}", e.id);
            assert_eq!(o["source"], e.source.as_str(), "{what}");
            assert_eq!(o["kind"], e.kind.as_str(), "{what}");
            assert_eq!(o["fatal"], e.fatal, "{what}");
            match e.seconds {
                Some(want) => {
                    let got = o["seconds"].as_f64().unwrap_or(f64::NAN);
                    assert!(
                        (got - want).abs() < 1e-6,
                        "{what}: seconds {got}, want {want}"
                    );
                }
                None => assert!(o["seconds"].is_null(), "{what}"),
            }
            assert!(o["timestamp"].is_string(), "{what}");
            let shown = default.contains_key(&line);
            assert_eq!(shown, e.default, "{what}: reported by default?");
        }
    }
}

#[test]
fn the_docs_list_the_census_entries() {
    let docs = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../docs/clock-messages.md"
    ))
    .unwrap();
    let is_id = |s: &str| {
        let s = s.trim();
        s.len() >= 2
            && s.len() <= 5
            && s.starts_with(|c: char| c.is_ascii_uppercase())
            && s.chars().any(|c| c.is_ascii_digit())
            && s.chars().all(|c| c.is_ascii_alphanumeric())
    };
    let in_docs: BTreeSet<String> = docs
        .lines()
        .filter_map(|l| l.strip_prefix("| "))
        .filter_map(|l| l.split('|').next())
        .filter(|c| is_id(c))
        .map(|c| c.trim().to_string())
        .collect();
    let in_data: BTreeSet<String> = census().into_iter().map(|e| e.id).collect();
    assert_eq!(in_docs, in_data);
}
