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
