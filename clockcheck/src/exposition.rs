//! Prometheus' text exposition format (version 0.0.4), as node_exporter's
//! text-file collector reads it: each metric family once, `# HELP` and
//! `# TYPE` before its samples, label values escaped (`\\`, `\"`, `\n`).

use std::fmt::Write;

#[derive(Default)]
pub struct Exposition {
    text: String,
}

impl Exposition {
    pub fn new() -> Exposition {
        Exposition::default()
    }

    /// One metric family: `samples` are (labels, value) pairs, labels as
    /// (name, value) pairs.  A family without samples is left out.
    pub fn family(
        &mut self,
        name: &str,
        help: &str,
        kind: &str,
        samples: &[(Vec<(&str, &str)>, f64)],
    ) {
        if samples.is_empty() {
            return;
        }
        let _ = writeln!(self.text, "# HELP {name} {}", escape_help(help));
        let _ = writeln!(self.text, "# TYPE {name} {kind}");
        for (labels, value) in samples {
            self.text.push_str(name);
            if !labels.is_empty() {
                self.text.push('{');
                for (i, (label, v)) in labels.iter().enumerate() {
                    if i > 0 {
                        self.text.push(',');
                    }
                    let _ = write!(self.text, "{label}=\"{}\"", escape_label(v));
                }
                self.text.push('}');
            }
            let _ = writeln!(self.text, " {}", value_text(*value));
        }
    }

    /// A gauge with one unlabelled sample.
    pub fn gauge(&mut self, name: &str, help: &str, value: f64) {
        self.family(name, help, "gauge", &[(Vec::new(), value)]);
    }

    pub fn finish(self) -> String {
        self.text
    }
}

/// A label value: backslash, double quote and newline escaped; other
/// control characters (which the format allows raw) as `\xNN` text, so the
/// file stays one sample per line for every reader.
pub fn escape_label(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => {
                let _ = write!(out, "\\\\x{:02x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

fn escape_help(help: &str) -> String {
    help.replace('\\', "\\\\").replace('\n', "\\n")
}

/// Go's float syntax as Prometheus parses it: `+Inf`, `-Inf`, `NaN`.
fn value_text(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v == f64::INFINITY {
        "+Inf".into()
    } else if v == f64::NEG_INFINITY {
        "-Inf".into()
    } else {
        // Rust's shortest round-trip decimal, never an exponent: `-0.25`, `3`.
        format!("{v}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_labels_and_values() {
        let mut e = Exposition::new();
        e.gauge("a_total", "Help with \\ and\nnewline.", 3.0);
        e.family(
            "b_seconds",
            "B.",
            "gauge",
            &[
                (vec![("server", "x\"y\\z\n")], -0.25),
                (vec![("server", "w")], f64::INFINITY),
            ],
        );
        e.family("empty", "Nothing.", "gauge", &[]);
        assert_eq!(
            e.finish(),
            "# HELP a_total Help with \\\\ and\\nnewline.\n# TYPE a_total gauge\na_total 3\n\
             # HELP b_seconds B.\n# TYPE b_seconds gauge\nb_seconds{server=\"x\\\"y\\\\z\\n\"} -0.25\n\
             b_seconds{server=\"w\"} +Inf\n"
        );
    }
}
