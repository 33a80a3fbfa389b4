//! The clap side of the command-line conventions: `--generate` (man page and
//! shell completions rendered from a tool's clap definition), and the value
//! parser that offers completions without restricting values.
//!
//! Only the tools' binaries use this module (behind the `cli` feature): the
//! libraries take plain settings and never see a clap type.

use std::io::{self, Write};

use crate::conventions::{ManPage, finish};

/// What `--generate` writes to stdout: a man page or a shell completion.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Generate {
    Man,
    Bash,
    Zsh,
    Fish,
}

/// A value parser that offers `values` to shell completion (rule codes after
/// `--explain`, tinker keys after `set`) but accepts whatever `inner`
/// accepts: the tool itself says what is wrong with a value, as before.
/// Pair it with `hide_possible_values = true` to keep `--help` short.
#[derive(Clone)]
pub struct Suggest<P> {
    inner: P,
    values: Vec<(&'static str, &'static str)>,
}

/// `(value, help)` pairs offered for completion; see [`Suggest`].
pub fn suggest<P>(
    inner: P,
    values: impl IntoIterator<Item = (&'static str, &'static str)>,
) -> Suggest<P> {
    Suggest {
        inner,
        values: values.into_iter().collect(),
    }
}

impl<P: clap::builder::TypedValueParser> clap::builder::TypedValueParser for Suggest<P> {
    type Value = P::Value;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<Self::Value, clap::Error> {
        self.inner.parse_ref(cmd, arg, value)
    }

    fn possible_values(
        &self,
    ) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        Some(Box::new(self.values.iter().map(|&(value, help)| {
            clap::builder::PossibleValue::new(value).help(help)
        })))
    }
}

/// Writes a section-8 man page or a shell completion script for `cmd`.
pub fn generate(
    kind: Generate,
    mut cmd: clap::Command,
    page: &ManPage<'_>,
    out: &mut dyn Write,
) -> io::Result<()> {
    let name = cmd.get_name().to_string();
    let shell = match kind {
        Generate::Man => return render_man(cmd, page, out),
        Generate::Bash => clap_complete::Shell::Bash,
        Generate::Zsh => clap_complete::Shell::Zsh,
        Generate::Fish => clap_complete::Shell::Fish,
    };
    clap_complete::generate(shell, &mut cmd, name, out);
    Ok(())
}

fn render_man(mut cmd: clap::Command, page: &ManPage<'_>, out: &mut dyn Write) -> io::Result<()> {
    use roff::{Roff, bold, roman};
    // Built, clap fills in what the page needs: value counts, propagated
    // global options, the version of subcommands.
    cmd.build();
    let man = clap_mangen::Man::new(cmd.clone()).section("8");
    man.render_title(out)?;
    man.render_name_section(out)?;
    let mut synopsis = Roff::new();
    synopsis.control("SH", ["SYNOPSIS"]);
    synopsis.text(usage(&cmd, None));
    for sub in subcommands(&cmd) {
        synopsis.control("br", []);
        synopsis.text(usage(sub, Some(&cmd)));
    }
    synopsis.to_writer(out)?;
    man.render_description_section(out)?;
    man.render_options_section(out)?;
    // Each subcommand described here, not on a page of its own (no
    // ntpconf-edit-show(8) is installed).
    let mut roff = Roff::new();
    if cmd.has_subcommands() {
        roff.control("SH", ["SUBCOMMANDS"]);
        for sub in subcommands(&cmd) {
            let title = format!("{} {}", cmd.get_name(), sub.get_name());
            roff.control("SS", [title.as_str()]);
            roff.text(usage(sub, Some(&cmd)));
            if let Some(about) = sub.get_long_about().or(sub.get_about()) {
                roff.control("PP", []);
                roff.text([roman(about.to_string())]);
            }
            for arg in own_args(sub) {
                roff.control("TP", []);
                roff.text(arg_usage(arg, false));
                if let Some(help) = arg.get_long_help().or(arg.get_help()) {
                    roff.text([roman(help.to_string())]);
                }
                let values = listed_values(arg);
                if !values.is_empty() {
                    roff.control("br", []);
                    roff.text([roman(format!("Values: {}", values.join(", ")))]);
                }
            }
        }
    }
    let mut table = |title: &str, rows: &[(&str, &str)]| {
        if rows.is_empty() {
            return;
        }
        roff.control("SH", [title]);
        for (term, text) in rows {
            roff.control("TP", []);
            roff.text([bold(*term)]);
            roff.text([roman(*text)]);
        }
    };
    table("EXIT STATUS", page.exit_status);
    table("EXAMPLES", page.examples);
    table("FILES", page.files);
    if !page.see_also.is_empty() {
        roff.control("SH", ["SEE ALSO"]);
        roff.text([roman(page.see_also)]);
    }
    roff.to_writer(out)?;
    man.render_version_section(out)?;
    Ok(())
}

/// The subcommands a user can run (not clap's `help`).
fn subcommands(cmd: &clap::Command) -> impl Iterator<Item = &clap::Command> {
    cmd.get_subcommands()
        .filter(|sub| !sub.is_hide_set() && sub.get_name() != "help")
}

/// A subcommand's own arguments: not hidden, not the parent's global ones,
/// not `--help` (every command has it; the main synopsis shows it).
fn own_args(cmd: &clap::Command) -> impl Iterator<Item = &clap::Arg> {
    use clap::ArgAction::{Help, HelpLong, HelpShort, Version};
    cmd.get_arguments().filter(|arg| {
        !arg.is_hide_set()
            && !arg.is_global_set()
            && !matches!(arg.get_action(), Help | HelpShort | HelpLong | Version)
            && arg.get_id() != "help"
    })
}

/// The possible values of an option that takes a value, by name.
fn listed_values(arg: &clap::Arg) -> Vec<String> {
    if !arg.get_action().takes_values() || arg.is_hide_possible_values_set() {
        return Vec::new();
    }
    arg.get_possible_values()
        .iter()
        .filter(|v| !v.is_hide_set())
        .map(|v| v.get_name().to_string())
        .collect()
}

/// One SYNOPSIS line: `tool [-i|--in-place] [--preset NAME] [FILE] COMMAND`, or
/// for a subcommand `tool [OPTIONS] set [KEY=VALUE...]`, option arguments kept.
fn usage(cmd: &clap::Command, parent: Option<&clap::Command>) -> Vec<roff::Inline> {
    use roff::{bold, italic, roman};
    let mut line = Vec::new();
    if let Some(parent) = parent {
        line.push(bold(parent.get_name().to_string()));
        line.push(roman(" ["));
        line.push(italic("OPTIONS"));
        line.push(roman("] "));
    }
    line.push(bold(cmd.get_name().to_string()));
    let args: Vec<&clap::Arg> = if parent.is_some() {
        own_args(cmd).collect()
    } else {
        cmd.get_arguments().filter(|a| !a.is_hide_set()).collect()
    };
    for arg in args {
        line.push(roman(" "));
        line.extend(arg_usage(arg, true));
    }
    if parent.is_none() && subcommands(cmd).next().is_some() {
        let (open, close) = if cmd.is_subcommand_required_set() {
            ("", "")
        } else {
            ("[", "]")
        };
        line.push(roman(format!(" {open}")));
        line.push(italic("COMMAND"));
        line.push(roman(close));
    }
    line
}

/// How one argument is written: `-i|--in-place`, `--preset NAME`,
/// `--backup[=SUFFIX]`, `FILE...`; in brackets when optional and `bracket`.
fn arg_usage(arg: &clap::Arg, bracket: bool) -> Vec<roff::Inline> {
    use roff::{bold, italic, roman};
    let mut parts = Vec::new();
    let value_name = arg
        .get_value_names()
        .map(|names| {
            names
                .iter()
                .map(|n| n.to_string())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_else(|| arg.get_id().to_string().to_uppercase());
    let range = arg.get_num_args().unwrap_or_default();
    let repeats = range.max_values() > 1
        || matches!(
            arg.get_action(),
            clap::ArgAction::Append | clap::ArgAction::Count
        );
    if arg.is_positional() {
        // A name such as `KEY=VALUE... [FILE]` already says it repeats.
        let says_it = value_name.contains("...");
        parts.push(italic(value_name));
        if range.max_values() > 1 && !says_it {
            parts.push(roman("..."));
        }
    } else {
        match (arg.get_short(), arg.get_long()) {
            (Some(short), Some(long)) => {
                parts.push(bold(format!("-{short}")));
                parts.push(roman("|"));
                parts.push(bold(format!("--{long}")));
            }
            (Some(short), None) => parts.push(bold(format!("-{short}"))),
            (None, Some(long)) => parts.push(bold(format!("--{long}"))),
            (None, None) => {}
        }
        if arg.get_action().takes_values() {
            if range.min_values() == 0 {
                parts.push(roman("[="));
                parts.push(italic(value_name));
                parts.push(roman("]"));
            } else {
                parts.push(roman(" "));
                parts.push(italic(value_name));
            }
        }
        if repeats && arg.get_action().takes_values() {
            parts.push(roman("..."));
        }
    }
    if bracket && !arg.is_required_set() {
        parts.insert(0, roman("["));
        parts.push(roman("]"));
    }
    parts
}

/// `--generate KIND`: the man page or a completion script on standard
/// output, then the exit status (`error_code` when it cannot be written).
pub fn finish_generate(
    kind: Generate,
    cmd: clap::Command,
    page: &ManPage<'_>,
    error_code: u8,
) -> std::process::ExitCode {
    let tool = cmd.get_name().to_string();
    let result = generate(kind, cmd, page, &mut io::stdout().lock());
    finish(&tool, result.map(|()| 0).map_err(Into::into), error_code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggested_values_complete_but_do_not_restrict() {
        use clap::builder::TypedValueParser;
        let parser = suggest(
            clap::builder::StringValueParser::new(),
            [("XL016", "trailing-comment")],
        );
        let offered: Vec<String> = parser
            .possible_values()
            .unwrap()
            .map(|v| v.get_name().to_string())
            .collect();
        assert_eq!(offered, ["XL016"]);
        let cmd = clap::Command::new("t");
        let parsed = parser.parse_ref(&cmd, None, std::ffi::OsStr::new("XL999"));
        assert_eq!(parsed.unwrap(), "XL999");
        let mut cmd = clap::Command::new("t").arg(
            clap::Arg::new("explain")
                .long("explain")
                .value_parser(parser)
                .hide_possible_values(true),
        );
        let mut script = Vec::new();
        clap_complete::generate(clap_complete::Shell::Bash, &mut cmd, "t", &mut script);
        assert!(String::from_utf8(script).unwrap().contains("XL016"));
    }
}
