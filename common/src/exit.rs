//! A tool's exit statuses as one type.  Each tool declares its statuses
//! once with [`exit_statuses!`](crate::exit_statuses): the enum its `run`
//! returns, and the EXIT STATUS table of its man page, written from the
//! same lines so the page cannot drift from the code (ruff's `ExitStatus`).

/// Declares `enum NAME { Variant = CODE => "meaning", ... }`: the enum,
/// `code()`, and `TABLE`, the man page's `(code, meaning)` rows in order.
///
/// ```
/// mailhost_common::exit_statuses! {
///     /// How the example exits.
///     pub enum Exit {
///         Clean = 0 => "Nothing found.",
///         Findings = 1 => "Something found.",
///     }
/// }
/// assert_eq!(Exit::Findings.code(), 1);
/// assert_eq!(Exit::TABLE, &[("0", "Nothing found."), ("1", "Something found.")]);
/// ```
#[macro_export]
macro_rules! exit_statuses {
    (
        $(#[$meta:meta])*
        $vis:vis enum $Exit:ident {
            $($(#[$vmeta:meta])* $variant:ident = $code:literal => $meaning:expr),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        $vis enum $Exit {
            $($(#[$vmeta])* $variant),+
        }

        impl $Exit {
            /// The `(code, meaning)` rows of the man page's EXIT STATUS section.
            pub const TABLE: &'static [(&'static str, &'static str)] =
                &[$((stringify!($code), $meaning)),+];

            /// The process exit code.
            pub const fn code(self) -> u8 {
                match self {
                    $($Exit::$variant => $code),+
                }
            }
        }

        impl From<$Exit> for u8 {
            fn from(status: $Exit) -> u8 {
                status.code()
            }
        }

        impl From<$Exit> for ::std::process::ExitCode {
            fn from(status: $Exit) -> Self {
                ::std::process::ExitCode::from(status.code())
            }
        }
    };
}

/// How a tool writes its standard output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stdout {
    /// Through a buffer (many short lines: findings, services), flushed by
    /// the tool and at exit.
    Buffered,
    /// Straight to the stream (what a tool writes is one piece, or must
    /// stay in order with what it writes to standard error).
    Direct,
}

/// A tool's `main` after its flags are parsed: `run` on the process's
/// standard streams (`--color` decided for standard output, a test's
/// `FailAt` from the environment), its result turned into the exit status
/// by [`finish`](crate::conventions::finish), `error` when it failed.
pub fn run_on_stdio<S: Into<u8>>(
    tool: &str,
    color: crate::conventions::ColorChoice,
    stdout: Stdout,
    error: S,
    run: impl FnOnce(&mut crate::conventions::Io<'_>) -> anyhow::Result<S>,
) -> std::process::ExitCode {
    use crate::conventions::{Io, finish, use_color_for};
    let color = use_color_for(color, &std::io::stdout());
    let mut direct = std::io::stdout().lock();
    let mut buffered;
    let out: &mut dyn std::io::Write = match stdout {
        Stdout::Direct => &mut direct,
        Stdout::Buffered => {
            buffered = std::io::BufWriter::new(direct);
            &mut buffered
        }
    };
    let mut io = Io {
        stdin: &mut std::io::stdin().lock(),
        stdout: out,
        stderr: &mut std::io::stderr().lock(),
        color,
        fail_at: crate::atomic_write::FailAt::from_env(),
    };
    finish(tool, run(&mut io), error)
}
