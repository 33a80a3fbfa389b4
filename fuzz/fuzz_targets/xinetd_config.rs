//! xinetd configuration: no diagnostic without a valid position (a line of
//! the input, a column of at least 1), and the pipeline never panics.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use mailhost_common::files::Files;
use mailhost_common::root::Root;
use xinetd_lint::config::Reader;
use xinetd_lint::host::{Host, RootHost};

/// The real tables, but no network: a fuzzed host name must not become a
/// DNS query (slow, and not what is being tested here).
struct Offline(RootHost);

// Its files are RootHost's (the shared file-access trait).
impl Files for Offline {
    fn tree(&self) -> std::io::Result<&Root> { self.0.tree() }
    fn display(&self, jail: &Path) -> std::path::PathBuf { self.0.display(jail) }
}

impl Host for Offline {
    fn has_protocol(&self, n: &str) -> bool { self.0.has_protocol(n) }
    fn has_user(&self, n: &str) -> bool { self.0.has_user(n) }
    fn has_group(&self, n: &str) -> bool { self.0.has_group(n) }
    fn executable(&self, p: &str) -> Result<(), String> { self.0.executable(p) }
    fn service_port(&self, n: &str, p: &str) -> Option<u16> { self.0.service_port(n, p) }
    fn has_rpc(&self, n: &str) -> bool { self.0.has_rpc(n) }
    fn network(&self, n: &str) -> bool { self.0.network(n) }
    fn resolves(&self, _: &str) -> bool { false }
    fn path(&self, a: &str) -> std::path::PathBuf { self.0.path(a) }
    fn portmapper(&self) -> bool { false }
    fn local_address(&self, _: &str) -> bool { true }
}

fuzz_target!(|data: &[u8]| {
    let host = Offline(RootHost::new(Path::new("/")));
    let mut reader = Reader::new(&host);
    reader.read_bytes(data, "input", Path::new("input"), false);
    let model = reader.model;
    let mut diagnostics = model.diagnostics.clone();
    let _ = xinetd_lint::pipeline::verdicts(&model, &host, &[], &mut diagnostics);
    let lines = data.split(|b| *b == b'\n').count().max(1);
    for d in diagnostics.iter().filter(|d| d.file == Path::new("input")) {
        assert!(d.line >= 1 && d.line <= lines, "line {} of {lines}: {d:?}", d.line);
        assert!(d.column >= 1, "{d:?}");
    }
    let fixed = xinetd_lint::fix::fix(data);
    let again = xinetd_lint::fix::fix(&fixed);
    assert!(again == fixed, "--fix is not idempotent: {} bytes, then {} bytes", fixed.len(), again.len());
});
