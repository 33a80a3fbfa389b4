//! Whatever the bytes, xinetd-lint's reader and checks never panic, and
//! every diagnostic points at a real place in the input.

use std::path::Path;

use proptest::prelude::*;
use xinetd_lint::config::Reader;
use xinetd_lint::host::RootHost;

fn line() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        Just(b"service rsync".to_vec()),
        Just(b"defaults".to_vec()),
        Just(b"{".to_vec()),
        Just(b"}".to_vec()),
        Just(b"} # end".to_vec()),
        Just(b"\tsocket_type = stream".to_vec()),
        Just(b"\twait=no".to_vec()),
        Just(b"\tonly_from = 10.0.0.1 # x".to_vec()),
        Just(b"\tdisable = yes".to_vec()),
        Just(b"\tdisable = no".to_vec()),
        Just(b"include /nonexistent".to_vec()),
        Just(b"# comment".to_vec()),
        prop::collection::vec(any::<u8>(), 0..40),
    ]
}

proptest! {
    #[test]
    fn never_panics_and_positions_are_real(lines in prop::collection::vec(line(), 0..30), crlf in any::<bool>()) {
        let sep: &[u8] = if crlf { b"\r\n" } else { b"\n" };
        let text = lines.join(sep);
        let line_count = text.split(|b| *b == b'\n').count().max(1);
        let host = RootHost::new(Path::new("/nonexistent-root"));
        let mut reader = Reader::new(&host);
        reader.read_bytes(&text, "f", Path::new("f"), false);
        let model = reader.model;
        let mut diagnostics = model.diagnostics.clone();
        let _ = xinetd_lint::pipeline::verdicts(&model, &host, &[], &mut diagnostics);
        for d in diagnostics.iter().filter(|d| d.file == std::path::Path::new("f")) {
            prop_assert!(d.line >= 1 && d.line <= line_count, "{:?} in {} lines", d, line_count);
            prop_assert!(d.column >= 1, "{:?}", d);
        }
    }
}
