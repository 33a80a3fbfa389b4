//! One `name op values` line of a block, checked as xinetd's parser
//! checks it, step by step, then stored in the block: the name, the
//! operator and the number of values, a second setting, `disable`, the
//! values themselves, the operators of `enabled`/`disabled`.

use std::path::Path;

use super::{Block, OpenBlock, Reader, Setting};
use crate::attrs::{self, Attr, Count, Parsed};
use crate::lex::{self, Op};
use crate::rules::Code;

/// Where an attribute line stands and what the lexer made of it.
pub(super) struct AttrAt<'l> {
    /// The file as shown in findings.
    pub shown: &'l str,
    pub line: usize,
    pub attr: &'l lex::Token,
    pub op: Op,
    pub op_column: usize,
    pub values: &'l [lex::Token],
}

impl AttrAt<'_> {
    /// The first value that starts a comment: xinetd reads it as values.
    fn comment(&self) -> Option<&lex::Token> {
        self.values.iter().find(|v| v.text.starts_with(b"#"))
    }

    /// Where a finding about the values goes: the first value, else the operator.
    fn values_column(&self) -> usize {
        self.values.first().map_or(self.op_column, |v| v.column)
    }
}

/// The words from the first that starts a comment on.
fn from_comment(words: &[String]) -> String {
    words[words.iter().position(|w| w.starts_with('#')).unwrap_or(0)..].join(" ")
}

/// What reading a block does after one of its lines.
pub(super) enum Flow {
    Continue,
    /// `disable = yes`: the rest of the block is not read.
    StopDisabled,
    /// A line xinetd cannot parse: the block is given up ([`Reader::abandon`]).
    Abandon(Code),
}

impl Block {
    pub(super) fn in_defaults(&self) -> bool {
        !matches!(self, Block::Service(_))
    }

    pub(super) fn service_name(&self) -> Option<&str> {
        match self {
            Block::Service(s) => Some(&s.name),
            _ => None,
        }
    }
}

impl Reader<'_> {
    pub(super) fn attribute(&mut self, open: &mut OpenBlock, a: &AttrAt) -> Flow {
        let Some(spec) = self.known_attribute(&open.block, a) else {
            return Flow::Continue;
        };
        let words: Vec<String> = a.values.iter().map(|v| v.as_str().into_owned()).collect();
        if !self.operator_and_count_fit(&open.block, a, spec, &words)
            || self.set_already(&open.block, a, spec)
        {
            return Flow::Continue;
        }
        if attrs::canonical(spec.name) == "disable" && !open.block.in_defaults() {
            if words[0].eq_ignore_ascii_case("yes") {
                return Flow::StopDisabled;
            }
            if words[0].eq_ignore_ascii_case("no")
                && let Some((bad, _)) = open.value_error
            {
                self.diag(a.shown, a.line, a.attr.column, Code::XL018, open.block.service_name(), format!(
                    "`disable = no` re-enables this service after the value rejected on line {bad}: it runs without that setting"));
                open.value_error = None;
            }
        }
        // What the service means to start, kept even when xinetd rejects the
        // value (a tree copied without the binary): the first one wins.
        if spec.name == "server"
            && let Block::Service(s) = &mut open.block
            && s.server_written.is_none()
        {
            s.server_written = words.first().map(|w| w.to_string());
        }
        if let Err(code) = self.values(&open.block, a, spec, &words) {
            if !open.block.in_defaults() && open.value_error.is_none() {
                open.value_error = Some((a.line, code));
            }
            return Flow::Continue;
        }
        self.id_list_operator(a, spec, &words);
        self.store(&mut open.block, a, spec, words);
        Flow::Continue
    }

    /// The attribute's spec, if xinetd knows it where it is written.
    fn known_attribute(&mut self, block: &Block, a: &AttrAt) -> Option<&'static Attr> {
        let in_defaults = block.in_defaults();
        let raw_name = a.attr.as_str().into_owned();
        let spec = attrs::lookup(&raw_name).filter(|spec| {
            if in_defaults {
                spec.in_defaults
            } else {
                spec.in_service
            }
        });
        if spec.is_none() {
            let (code, message) = if raw_name.eq_ignore_ascii_case("mdns") {
                (
                    Code::XL023,
                    "bad service attribute: mdns (not compiled into this xinetd)".to_string(),
                )
            } else if in_defaults {
                (
                    Code::XL012,
                    format!("attribute: {raw_name} should not be in default section"),
                )
            } else {
                (Code::XL011, format!("bad service attribute: {raw_name}"))
            };
            let sname = block.service_name();
            self.diag(a.shown, a.line, a.attr.column, code, sname, message);
        }
        spec
    }

    /// `+=` and `-=` only on lists, and as many values as the attribute
    /// takes (a trailing comment counts as values); else the line is ignored.
    fn operator_and_count_fit(
        &mut self,
        block: &Block,
        a: &AttrAt,
        spec: &Attr,
        words: &[String],
    ) -> bool {
        let sname = block.service_name();
        if a.op != Op::Set && spec.count != Count::List {
            self.diag(
                a.shown,
                a.line,
                a.op_column,
                Code::XL014,
                sname,
                format!(
                    "Service {}: operator '{}' cannot be used for attribute '{}'",
                    sname.unwrap_or("(null)"),
                    a.op.as_str(),
                    spec.name
                ),
            );
            return false;
        }
        let expected = match spec.count {
            Count::One => Some(1),
            Count::Two => Some(2),
            _ => None,
        };
        let Some(n) = expected.filter(|n| words.len() != *n) else {
            return true;
        };
        match a.comment() {
            Some(c) => self.diag(a.shown, a.line, c.column, Code::XL016, sname, format!(
                "trailing comment: xinetd reads `{}` as {} more values, so this {} line is ignored (attribute {} expects {n} values and {} values were specified)",
                from_comment(words),
                words.len() - n.min(words.len()), spec.name, spec.name, words.len())),
            None => self.diag(a.shown, a.line, a.attr.column, Code::XL015, sname, format!(
                "attribute {} expects {n} values and {} values were specified; the line is ignored", spec.name, words.len())),
        }
        false
    }

    /// A single-valued attribute set a second time: the first value is kept.
    fn set_already(&mut self, block: &Block, a: &AttrAt, spec: &Attr) -> bool {
        let key = attrs::canonical(spec.name);
        let already = match block {
            Block::Service(s) => {
                s.attrs.contains_key(key) && spec.count != Count::List && s.written.contains(key)
            }
            Block::Defaults => {
                self.model.defaults.attrs.contains_key(key) && spec.count != Count::List
            }
            Block::Ignored => false,
        };
        if !already {
            return false;
        }
        let sname = block.service_name();
        if block.in_defaults() && key == "log_type" {
            self.diag(a.shown, a.line, a.attr.column, Code::XL017, None,
                "Cannot set more than one log_type attribute (in defaults this stops the whole daemon in production)".into());
        } else {
            self.diag(
                a.shown,
                a.line,
                a.attr.column,
                Code::XL013,
                sname,
                format!(
                    "Service {}: attribute already set: {} (the first value is kept)",
                    sname.unwrap_or("(null)"),
                    spec.name
                ),
            );
        }
        true
    }

    /// The values, parsed as xinetd parses them.  `Err(code)`: xinetd
    /// rejects the line (and disables the service).
    fn values(
        &mut self,
        block: &Block,
        a: &AttrAt,
        spec: &Attr,
        words: &[String],
    ) -> Result<(), Code> {
        match attrs::parse_values(spec.name, a.op == Op::Remove, words, self.host) {
            Parsed::Error(message) => {
                let code = if spec.name == "access_times" {
                    Code::XL021
                } else {
                    Code::XL017
                };
                let message = if block.in_defaults() {
                    format!(
                        "{message} (in defaults: xinetd exits in production, `A fatal error was encountered while parsing the default section`)"
                    )
                } else {
                    format!(
                        "{message}; Error parsing attribute {} - DISABLING SERVICE",
                        spec.name
                    )
                };
                let sname = block.service_name();
                self.diag(a.shown, a.line, a.values_column(), code, sname, message);
                Err(code)
            }
            Parsed::Addresses(list) => {
                self.dropped_addresses(block, a, spec, words, &list.dropped);
                Ok(())
            }
            Parsed::Ok => {
                self.accepted_but_odd(block, a, spec, words);
                Ok(())
            }
        }
    }

    /// Addresses xinetd drops from a list (the words of a trailing comment
    /// among them: one finding for those).
    fn dropped_addresses(
        &mut self,
        block: &Block,
        a: &AttrAt,
        spec: &Attr,
        words: &[String],
        dropped: &[String],
    ) {
        let sname = block.service_name();
        let comment_at = a.comment();
        let mut commented = false;
        for token in dropped {
            let column = a
                .values
                .iter()
                .find(|v| v.as_str() == token.as_str())
                .map_or(a.op_column, |v| v.column);
            if comment_at.is_some_and(|c| column >= c.column) {
                if !commented {
                    self.diag(a.shown, a.line, column, Code::XL016, sname, format!(
                        "trailing comment: xinetd reads `{}` as addresses and drops them (failed to parse)", from_comment(words)));
                    commented = true;
                }
            } else {
                self.diag(
                    a.shown,
                    a.line,
                    column,
                    Code::XL020,
                    sname,
                    format!(
                        "failed to parse {token}: the address is dropped from {}",
                        spec.name
                    ),
                );
            }
        }
    }

    /// Values xinetd accepts that do not do what they say.
    fn accepted_but_odd(&mut self, block: &Block, a: &AttrAt, spec: &Attr, words: &[String]) {
        let sname = block.service_name();
        if attrs::wraps_negative(spec.name, words) {
            self.diag(a.shown, a.line, a.values_column(), Code::XL072, sname, format!(
                "{} = {}: xinetd reads a negative number with strtoull and wraps it to a huge value, so the limit does not apply",
                spec.name, words.join(" ")));
        }
        if spec.name == "server"
            // Through the root, as xinetd's stat() sees it: a link in the
            // tree resolves inside the tree, never on the host.
            && self
                .host
                .metadata(Path::new(&words[0]))
                .is_ok_and(|m| m.is_dir())
        {
            self.diag(a.shown, a.line, a.values_column(), Code::XL071, sname, format!(
                "server {} is a directory: xinetd accepts it (access and stat pass) and starts the service, but every connection fails to exec it",
                words[0]));
        }
    }

    /// enabled/disabled ignore the operator: `-=` adds, and an empty
    /// `enabled` still disables every service it does not name.
    fn id_list_operator(&mut self, a: &AttrAt, spec: &Attr, words: &[String]) {
        let key = attrs::canonical(spec.name);
        if key != "enabled" && key != "disabled" {
            return;
        }
        if a.op == Op::Remove {
            self.diag(a.shown, a.line, a.op_column, Code::XL073, None, format!(
                "`{} -= ...` adds to the list: xinetd ignores the operator of enabled/disabled, so this {}",
                spec.name,
                if key == "enabled" { "enables only the ids named (and those of other enabled lines)" } else { "disables the ids named" }));
        } else if key == "enabled" && words.is_empty() {
            self.diag(
                a.shown,
                a.line,
                a.op_column,
                Code::XL073,
                None,
                "`enabled` with no ids still counts as given: xinetd disables every service".into(),
            );
        }
    }

    /// Records the setting in the block (a second `defaults` keeps nothing).
    fn store(&mut self, block: &mut Block, a: &AttrAt, spec: &Attr, words: Vec<String>) {
        let key = attrs::canonical(spec.name);
        // In defaults `=` on a list adds (cumulative); in a service it replaces.
        let replace = a.op == Op::Set && !block.in_defaults();
        let target = match block {
            Block::Service(s) => {
                s.written.insert(key);
                &mut s.attrs
            }
            Block::Defaults => &mut self.model.defaults.attrs,
            Block::Ignored => return,
        };
        let setting = Setting {
            values: words,
            line: a.line,
            column: a.attr.column,
        };
        if spec.count != Count::List {
            target.insert(key, setting);
            return;
        }
        // enabled/disabled ignore the operator: every form adds (parsers.c).
        let id_list = key == "enabled" || key == "disabled";
        let entry = target.entry(key).or_insert_with(|| Setting {
            values: Vec::new(),
            line: a.line,
            column: a.attr.column,
        });
        match a.op {
            Op::Set if replace => entry.values = setting.values,
            Op::Set | Op::Add => entry.values.extend(setting.values),
            Op::Remove if id_list => entry.values.extend(setting.values),
            Op::Remove => entry.values.retain(|v| !setting.values.contains(v)),
        }
        entry.line = a.line;
        entry.column = a.attr.column;
    }
}
