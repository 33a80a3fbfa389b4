//! One sink per output form, each an [`EventSink`]: the lines as grep
//! prints them ([`standard`], with `-A/-B/-C`), JSON Lines ([`json`]),
//! `-c`, `-l` and `-q` ([`tally`]), and `--summary` ([`host_summary`]).
//! [`for_settings`] chooses one, once, from the settings.

pub mod host_summary;
pub mod json;
pub mod standard;
pub mod tally;

use crate::conventions::Format;
use crate::output::{EventSink, Names};
use crate::settings::{Output, Settings};

/// The sink for the output the settings ask for.  `summary` is what
/// `--summary` needs besides (unused by the other forms).
pub fn for_settings<'n>(
    settings: &Settings,
    names: &'n Names,
    summary: host_summary::Facts,
) -> Box<dyn EventSink + 'n> {
    match (settings.output, settings.format) {
        (Output::Lines { .. }, Format::Json) => Box::new(json::Json::new(names)),
        (Output::Lines { context }, Format::Text) => Box::new(standard::Standard::new(
            names,
            settings.line_number,
            context,
            settings.limits,
        )),
        (Output::Count, _) => Box::new(tally::Count::new(names)),
        (Output::FilesWithMatches, _) => Box::new(tally::FilesWithMatches::new(names)),
        (Output::Quiet, _) => Box::new(tally::Quiet),
        (Output::Summary { window }, format) => Box::new(host_summary::HostSummary::new(
            names, window, format, summary,
        )),
    }
}
