//! Log lines and the scanner: parsing never panics, every hit is the line
//! at its offset, a file cut into parts gives the same hits as a whole, and
//! the default mode's probe search agrees with its definition.
#![no_main]

use libfuzzer_sys::fuzz_target;
use maillog_grep::scan::{self, Matcher, Range, scan};
use maillog_grep::{event, probe, record};

fuzz_target!(|data: &[u8]| {
    for line in data.split(|b| *b == b'\n') {
        let r = record::parse(line);
        let _ = event::classify(&r);
        let _ = event::repeat(&r);
    }
    for from in [0, data.len() / 3, data.len()] {
        assert_eq!(probe::find(data, from), probe::find_slow(data, from), "probe search agrees with its definition");
    }
    for matcher in [Matcher::new(event::ANCHORS), Matcher::backward()] {
        check_scans(data, &matcher);
    }
});

fn check_scans(data: &[u8], matcher: &Matcher) {
    let whole = scan(&mut &data[..], matcher, true, Range::WHOLE).expect("reading a slice never fails");
    for hit in &whole.hits {
        let at = hit.offset as usize;
        assert_eq!(&data[at..at + hit.line.len()], hit.line, "hit is the line at its offset");
        assert!(at == 0 || data[at - 1] == b'\n', "hit starts a line");
    }
    if data.len() > 2 {
        let cut = 1 + (data[0] as usize * 7) % (data.len() - 1);
        let first = scan(&mut &data[..], matcher, false, Range { base: 0, skip_first_line: false, stop: Some(cut as u64) }).unwrap();
        let from = cut - 1;
        let second = scan(&mut &data[from..], matcher, false, Range { base: from as u64, skip_first_line: true, stop: None }).unwrap();
        let mut parts: Vec<u64> = first.hits.iter().chain(&second.hits).map(|h| h.offset).collect();
        let all: Vec<u64> = whole.hits.iter().map(|h| h.offset).collect();
        // The second part may also keep the repeat lines that start it (the
        // line before them was in the first part); reading hits as events
        // drops them when they follow no event.
        let extra: Vec<scan::Hit> = second.hits.iter().take_while(|h| !all.contains(&h.offset)).collect();
        for hit in &extra {
            assert!(hit.line.windows(event::REPEAT_MARKER.len()).any(|w| w == event::REPEAT_MARKER), "only repeat lines are extra");
        }
        parts.retain(|o| extra.iter().all(|h| h.offset != *o));
        assert_eq!(parts, all, "parts see each line once");
    }
}
