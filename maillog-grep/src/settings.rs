//! What a search is asked for, apart from how it was asked: the binary turns
//! its command line (`src/cli.rs`, clap) into one `Settings`, and the
//! library reads only this.  Flags that exclude each other (`-q`,
//! `--summary`, `-l`, `-c`, the lines) are one [`Output`], chosen once.

use std::path::PathBuf;

use crate::context::Around;
use crate::conventions::Format;
use crate::input::Limits;

/// One run of `maillog-grep`.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Logs to search: files, directories, `-` for standard input.  Empty:
    /// the default log under `root`.
    pub paths: Vec<PathBuf>,
    /// Also read each named log's rotated siblings.
    pub rotated: bool,
    /// Every path is looked up under this directory.
    pub root: PathBuf,
    /// The year of the last year-less timestamp of each input (default:
    /// from the file's modification time).
    pub year: Option<i32>,
    /// Which events are wanted.
    pub events: Events,
    /// `--since` and `--until` as written: relative ages are read against
    /// the clock the run is given.
    pub since: Option<String>,
    pub until: Option<String>,
    /// Idents dovecot logs under besides the default ones.
    pub dovecot_idents: Vec<String>,
    pub output: Output,
    /// Text, or JSON Lines (events and summaries; `-c` and `-l` print text
    /// either way, with the names unescaped in JSON mode, as before).
    pub format: Format,
    /// Prefix each printed line with its line number.
    pub line_number: bool,
    pub file_names: FileNames,
    /// Worker threads; `None`: one per CPU.
    pub threads: Option<usize>,
    /// What a compressed input may decode to.
    pub limits: Limits,
}

/// Which events are wanted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Events {
    /// Every clock event, not only backward jumps.
    pub all: bool,
    /// `--summary`'s events (even under `-q`, which prints no summary):
    /// xinetd's dovecot login deaths count, and steps in every direction
    /// are searched for as candidate causes.
    pub summary: bool,
}

/// What is printed: one form, chosen by the flags in this order of
/// precedence (`-q` over `--summary` over `-l` over `-c` over lines).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Output {
    /// Each event: its line as grep prints it (with `context` lines around
    /// it), or a JSON object with `--format json` (no context lines).
    Lines { context: Around },
    /// `-c`: the number of events per file.
    Count,
    /// `-l`: the names of files with events.
    FilesWithMatches,
    /// `-q`: nothing; the exit status answers.
    Quiet,
    /// `--summary`: per host, with the step behind each dovecot event
    /// (`window` seconds before it at most).
    Summary { window: f64 },
}

/// Whether printed lines start with their file's name.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FileNames {
    /// With several inputs.
    #[default]
    Auto,
    Always,
    Never,
}

impl FileNames {
    /// Whether names are printed when there are `inputs` inputs.
    pub fn shown(self, inputs: usize) -> bool {
        match self {
            FileNames::Auto => inputs > 1,
            FileNames::Always => true,
            FileNames::Never => false,
        }
    }
}

impl Default for Settings {
    /// The default log, backward jumps only, printed as lines.
    fn default() -> Settings {
        Settings {
            paths: Vec::new(),
            rotated: false,
            root: PathBuf::from("/"),
            year: None,
            events: Events::default(),
            since: None,
            until: None,
            dovecot_idents: Vec::new(),
            output: Output::Lines {
                context: Around::default(),
            },
            format: Format::Text,
            line_number: false,
            file_names: FileNames::Auto,
            threads: None,
            limits: Limits::default(),
        }
    }
}
