//! ntp.conf: parse(x).to_bytes() == x, and `set` touches only tinker lines,
//! is idempotent, and leaves ntpd with the asked values.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ntpconf_edit::doc::Document;
use ntpconf_edit::edit;
use ntpconf_edit::tinker::{Tinker, classify};

fuzz_target!(|data: &[u8]| {
    let doc = Document::parse(data);
    assert_eq!(doc.to_bytes(), data, "round trip");
    let others = |d: &Document| -> Vec<Vec<u8>> {
        d.lines.iter().filter(|(text, _)| matches!(classify(text), Tinker::Other)).map(|(text, _)| text.to_vec()).collect()
    };
    let asked = [("panic".to_string(), "0".to_string()), ("stepback".to_string(), "0".to_string())];
    let mut edited = doc.clone();
    edit::set(&mut edited, &asked, &[]);
    assert_eq!(others(&doc), others(&edited), "only tinker lines change");
    let once = edited.to_bytes();
    let mut twice = Document::parse(&once);
    edit::set(&mut twice, &asked, &[]);
    assert_eq!(twice.to_bytes(), once, "set is idempotent");
    let mut removed = edited.clone();
    edit::unset(&mut removed, &["panic".to_string()], &[]);
    assert_eq!(others(&doc), others(&removed), "unset touches only tinker lines");
});
