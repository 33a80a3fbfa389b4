//! `set` and `unset`: change tinker pairs where ntpd reads them, and touch no
//! other byte of the file.
//!
//! ntpd applies tinker pairs in file order and the last of each key wins, so
//! `set` edits the winning pair in place and removes earlier ones; a line
//! left with no pair is deleted (a bare `tinker` is a syntax error).

use crate::doc::{Document, Line, is_space};
use crate::tinker::{Tinker, classify, is_end};

/// Something the edit did not do, for the user to read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notice {
    /// 1-based line in the input file.
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// Lines of the main file that stop ntpd's reading besides `end`: an
/// `includefile` whose target reached an `end` (the text of that line).
pub type Stops = [Vec<u8>];

/// Where ntpd stops reading: the index of the first `end` line (or of an
/// include that ended the reading).
fn read_limit(doc: &Document, stops: &Stops) -> usize {
    doc.lines
        .iter()
        .position(|(text, _)| is_end(text) || stops.iter().any(|stop| stop[..] == *text))
        .unwrap_or(doc.lines.len())
}

/// Reports tinker lines the edit leaves alone: dropped by ntpd, or after `end`.
/// Called before editing, so line numbers are those of the input.
pub fn untouchable_lines(doc: &Document, keys: &[&str], stops: &Stops) -> Vec<Notice> {
    let limit = read_limit(doc, stops);
    let mut out = Vec::new();
    // Only tinker lines make notices, and those are all held apart.
    for (index, text) in doc.lines.held() {
        let mentions = |text: &[u8]| {
            let text = String::from_utf8_lossy(text);
            keys.iter().any(|k| {
                text.split(|c: char| !c.is_ascii_alphanumeric())
                    .any(|w| w == *k)
            })
        };
        match classify(text) {
            Tinker::Dropped { reason, column } if index < limit => out.push(Notice {
                line: index + 1,
                column: column + 1,
                message: format!("ntpd drops this whole tinker line ({reason}); left as it is"),
            }),
            Tinker::Applied {
                error: Some(error), ..
            } if index < limit && !error.semicolon && mentions(text) => out.push(Notice {
                line: index + 1,
                column: error.column + 1,
                message: format!(
                    "ntpd stops this tinker line at a syntax error ({}); what follows is left as it is",
                    error.reason
                ),
            }),
            Tinker::Applied { .. } | Tinker::Dropped { .. }
                if index > limit && mentions(text) =>
            {
                out.push(Notice {
                    line: index + 1,
                    column: 1,
                    message: "tinker line after `end` is never read by ntpd; left as it is".into(),
                })
            }
            _ => {}
        }
    }
    out
}

/// Sets each `(key, value)`, in order.  Keys and values must be valid already.
pub fn set(doc: &mut Document, assignments: &[(String, String)], stops: &Stops) {
    // stepback and stepfwd last: `step` resets them, so they must come after
    // it to win (and a second run must find nothing to move).  The rest keep
    // the order they were asked in.
    let mut ordered: Vec<&(String, String)> = assignments.iter().collect();
    ordered.sort_by_key(|(key, _)| matches!(key.as_str(), "stepback" | "stepfwd"));
    for (key, value) in ordered {
        set_one(doc, key, value, stops);
    }
}

/// Removes every occurrence of each key ntpd would read.
pub fn unset(doc: &mut Document, keys: &[String], stops: &Stops) {
    for key in keys {
        let occurrences = occurrences(doc, key, stops);
        remove_pairs(doc, &occurrences);
    }
}

/// `(line index, pair index)` of every applied `key`, in reading order.
fn occurrences(doc: &Document, key: &str, stops: &Stops) -> Vec<(usize, usize)> {
    let limit = read_limit(doc, stops);
    let mut out = Vec::new();
    for (index, text) in doc.lines.held().take_while(|(index, _)| *index < limit) {
        if let Tinker::Applied { pairs, .. } = classify(text) {
            for (pair_index, pair) in pairs.iter().enumerate() {
                if pair.key == key {
                    out.push((index, pair_index));
                }
            }
        }
    }
    out
}

fn set_one(doc: &mut Document, key: &str, value: &str, stops: &Stops) {
    let found = occurrences(doc, key, stops);
    // `step` resets both directions, so a stepback/stepfwd that comes before
    // the last `step` does not win: move the key after it instead.
    let last_step = occurrences(doc, "step", stops).last().copied();
    let reset_by_step = matches!(key, "stepback" | "stepfwd")
        && matches!((found.last(), last_step), (Some(k), Some(s)) if *k < s);
    if reset_by_step {
        remove_pairs(doc, &found);
    } else if let Some(&(line, pair)) = found.last() {
        let Tinker::Applied { pairs, .. } = classify(doc.lines.text(line)) else {
            return;
        };
        let range = pairs[pair].value_range.clone();
        doc.lines.text_mut(line).splice(range, value.bytes());
        remove_pairs(doc, &found[..found.len() - 1]);
        return;
    }
    let limit = read_limit(doc, stops);
    // A new stepback/stepfwd must come after the last `step`, or it resets them.
    let after_step = if matches!(key, "stepback" | "stepfwd") {
        occurrences(doc, "step", stops)
            .last()
            .map(|&(line, _)| line)
    } else {
        None
    };
    // One pass forward over the tinker lines (a line looked up by index
    // costs a walk).
    let last_tinker = doc
        .lines
        .held()
        .take_while(|(index, _)| *index < limit)
        .skip_while(|(index, _)| *index < after_step.unwrap_or(0))
        // A line with `;` already makes ntpd report an error: add nothing to it.
        .filter(|(_, text)| matches!(classify(text), Tinker::Applied { error: None, .. }))
        .map(|(index, _)| index)
        .last();
    match last_tinker {
        Some(index) => {
            let Tinker::Applied { pairs, .. } = classify(doc.lines.text(index)) else {
                return;
            };
            let at = pairs.last().map_or(0, |p| p.value_range.end);
            let insert = format!(" {key} {value}");
            doc.lines.text_mut(index).splice(at..at, insert.bytes());
        }
        None => insert_new_line(
            doc,
            format!("tinker {key} {value}").into_bytes(),
            stops,
            after_step.map_or(0, |line| line + 1),
        ),
    }
}

/// Removes the given pairs (which must come from one `occurrences` call),
/// deleting lines left without any pair.
fn remove_pairs(doc: &mut Document, found: &[(usize, usize)]) {
    // Right to left, so earlier byte ranges and line indexes stay valid.
    for &(line, pair) in found.iter().rev() {
        let Tinker::Applied { pairs, error } = classify(doc.lines.text(line)) else {
            continue;
        };
        // A line with a syntax error after its pairs keeps the rest as the
        // user wrote it (ntpd drops that rest either way).
        if pairs.len() == 1 && error.is_none() {
            delete_line(doc, line);
            continue;
        }
        let text = doc.lines.text(line);
        let end = pairs[pair].value_range.end;
        // From the end of the token before the key, so the spacing and any
        // comment after the pair stay as they were.
        let mut start = pairs[pair].key_range.start;
        while start > 0 && is_space(text[start - 1]) {
            start -= 1;
        }
        doc.lines.text_mut(line).drain(start..end);
    }
}

fn delete_line(doc: &mut Document, index: usize) {
    let removed = doc.lines.remove(index);
    // Deleting a last line without newline must not add a final newline.
    if removed.ending.is_empty() && index == doc.lines.len() && index > 0 {
        doc.lines.set_ending(index - 1, crate::doc::NONE);
    }
}

/// Inserts a new line after the file's leading comment block (and not before
/// line index `at_least`), before `end`.
fn insert_new_line(doc: &mut Document, text: Vec<u8>, stops: &Stops, at_least: usize) {
    let is_comment = |t: &[u8]| {
        t.iter()
            .position(|&b| !is_space(b))
            .is_some_and(|i| t[i] == b'#')
    };
    let after_comments = doc
        .lines
        .iter()
        .take_while(|(text, _)| is_comment(text))
        .count();
    let at = after_comments.max(at_least).min(read_limit(doc, stops));
    let preferred = doc.preferred_ending();
    let mut ending = preferred;
    if at > 0 && doc.lines.ending(at - 1).is_empty() {
        // The new line becomes the last one: it takes over the missing
        // final newline, and the line before it gets a terminator.
        doc.lines.set_ending(at - 1, preferred);
        ending = crate::doc::NONE;
    } else if at > 0 {
        ending = doc.lines.ending(at - 1);
    }
    doc.lines.insert(at, Line { text, ending });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set_str(input: &str, pairs: &[(&str, &str)]) -> String {
        let mut doc = Document::parse(input.as_bytes());
        let pairs: Vec<_> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        set(&mut doc, &pairs, &[]);
        String::from_utf8(doc.to_bytes()).unwrap()
    }

    fn unset_str(input: &str, keys: &[&str]) -> String {
        let mut doc = Document::parse(input.as_bytes());
        let keys: Vec<_> = keys.iter().map(|k| k.to_string()).collect();
        unset(&mut doc, &keys, &[]);
        String::from_utf8(doc.to_bytes()).unwrap()
    }

    #[test]
    fn edits_the_winning_value_in_place() {
        assert_eq!(
            set_str("tinker\tpanic  5   # for VMs\r\n", &[("panic", "0")]),
            "tinker\tpanic  0   # for VMs\r\n"
        );
    }

    #[test]
    fn removes_earlier_occurrences_and_empty_lines() {
        let input = "tinker panic 5\nserver a\ntinker step 1 panic 7\n";
        assert_eq!(
            set_str(input, &[("panic", "0")]),
            "server a\ntinker step 1 panic 0\n"
        );
        let input = "tinker panic 5 step 1\ntinker panic 7\n";
        assert_eq!(
            set_str(input, &[("panic", "0")]),
            "tinker step 1\ntinker panic 0\n"
        );
    }

    #[test]
    fn adds_a_missing_key_to_the_last_valid_line() {
        let input = "tinker panic 0  # vm\nTINKER step 1\n";
        assert_eq!(
            set_str(input, &[("step", "0")]),
            "tinker panic 0 step 0  # vm\nTINKER step 1\n"
        );
    }

    #[test]
    fn inserts_after_the_leading_comments_and_before_end() {
        assert_eq!(
            set_str(
                "# header\n# more\n\nserver a\n",
                &[("panic", "0"), ("step", "0")]
            ),
            "# header\n# more\ntinker panic 0 step 0\n\nserver a\n"
        );
        assert_eq!(
            set_str("end\n# c\n", &[("panic", "0")]),
            "tinker panic 0\nend\n# c\n"
        );
        assert_eq!(set_str("", &[("panic", "0")]), "tinker panic 0\n");
        assert_eq!(
            set_str("# only", &[("panic", "0")]),
            "# only\ntinker panic 0"
        );
        assert_eq!(
            set_str("# a\r\nserver b\r\n", &[("panic", "0")]),
            "# a\r\ntinker panic 0\r\nserver b\r\n"
        );
    }

    #[test]
    fn a_direction_moves_after_the_step_that_would_reset_it() {
        let input = "tinker stepback 0\ntinker step 0.5\n";
        assert_eq!(
            set_str(input, &[("stepback", "0")]),
            "tinker step 0.5 stepback 0\n"
        );
        let input = "tinker step 0.5\ntinker stepback 1\n";
        assert_eq!(
            set_str(input, &[("stepback", "0")]),
            "tinker step 0.5\ntinker stepback 0\n"
        );
    }

    #[test]
    fn a_new_direction_goes_after_a_step_on_a_line_with_an_error() {
        // Found by the oracle fuzzer: the only tinker line has an error after
        // its pairs, so stepback got a new line at the top, before `step`.
        let input = "# c\ntinker step 1e3 maxdist 1\n";
        assert_eq!(
            set_str(input, &[("stepback", "0")]),
            "# c\ntinker step 1e3 maxdist 1\ntinker stepback 0\n"
        );
    }

    #[test]
    fn lines_after_end_are_not_edited() {
        let input = "server a\nend\ntinker panic 5\n";
        assert_eq!(
            set_str(input, &[("panic", "0")]),
            "tinker panic 0\nserver a\nend\ntinker panic 5\n"
        );
    }

    #[test]
    fn unset_removes_every_occurrence_without_a_bare_tinker() {
        let input = "tinker step 0\nx\ntinker panic 0 step 0 # c\n";
        assert_eq!(unset_str(input, &["step"]), "x\ntinker panic 0 # c\n");
        assert_eq!(unset_str("a\ntinker step 0", &["step"]), "a");
    }

    #[test]
    fn no_change_is_byte_identical() {
        let input = "tinker panic 0\n";
        assert_eq!(set_str(input, &[("panic", "0")]), input);
        assert_eq!(unset_str("server x\n", &["panic"]), "server x\n");
    }

    #[test]
    fn reports_dropped_and_after_end_lines() {
        let doc = Document::parse(b"tinker panic 0 step\nend\ntinker panic 1\n");
        let notices = untouchable_lines(&doc, &["panic"], &[]);
        assert_eq!(notices.len(), 2);
        assert_eq!(notices[0].line, 1);
        assert_eq!(notices[1].line, 3);
    }
}
