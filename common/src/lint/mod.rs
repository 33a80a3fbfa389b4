//! The linter framework both linters share (`xinetd-lint` and
//! `ntpconf-edit check`): a registry of typed rule codes, one
//! [`Diagnostic`], the filters and suppression comments, `--explain`,
//! `--list-rules`, the text/JSON/SARIF writers and the exit rule.
//!
//! A tool declares its codes once with [`rule_registry!`] (as ruff's
//! `codes.rs` and rustc's `error_codes!` do): each code becomes a variant of
//! the tool's `Code` enum, so a misspelt code is a compile error, and text
//! from the command line or a comment becomes a code only through
//! [`find`], which fails on an unknown one.
//!
//! - [`registry`]: [`Rule`], [`RuleCode`], [`find`], the explanation.
//! - [`diagnostic`]: [`Diagnostic`], [`Filter`], [`Suppressions`].
//! - [`report`]: [`Linter`] (what differs per tool), the writers and [`ExitRule`].

pub mod diagnostic;
pub mod registry;
pub mod report;

pub use diagnostic::{Diagnostic, Filter, Suppressions, suppressed_codes};
pub use registry::{Rule, RuleCode, explanation, find, list_rules};
pub use report::{ExitRule, Linter, Outcome, SarifHelp};

/// Declares a tool's rule codes: an enum with one variant per code, in
/// registry order, and its [`RuleCode`] impl.  Codes are never renumbered
/// or reused (a retired code keeps its entry).
///
/// ```
/// use mailhost_common::conventions::Severity::*;
/// use mailhost_common::lint::{Rule, RuleCode};
/// mailhost_common::rule_registry! {
///     /// The example's codes.
///     pub enum Code {
///         EX001 => Rule::named("first-rule", Error, "What it checks. Why."),
///     }
///     renamed { "old-name" => EX001 }
/// }
/// assert_eq!(Code::EX001.rule().code, "EX001");
/// assert_eq!(mailhost_common::lint::find::<Code>("old-name"), Some(Code::EX001));
/// ```
#[macro_export]
macro_rules! rule_registry {
    (
        $(#[$meta:meta])*
        $vis:vis enum $Code:ident {
            $($variant:ident => $rule:expr),+ $(,)?
        }
        $(renamed { $($old:literal => $new:ident),* $(,)? })?
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        $vis enum $Code {
            $($variant),+
        }

        impl $crate::lint::RuleCode for $Code {
            const ALL: &'static [Self] = &[$($Code::$variant),+];
            const RENAMED: &'static [(&'static str, Self)] = &[$($(($old, $Code::$new)),*)?];

            fn rule(self) -> &'static $crate::lint::Rule {
                match self {
                    $($Code::$variant => {
                        const RULE: $crate::lint::Rule =
                            $crate::lint::Rule { code: stringify!($variant), ..$rule };
                        &RULE
                    })+
                }
            }
        }

        impl ::std::fmt::Display for $Code {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str($crate::lint::RuleCode::as_str(*self))
            }
        }

        impl $crate::serde::Serialize for $Code {
            fn serialize<S: $crate::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str($crate::lint::RuleCode::as_str(*self))
            }
        }
    };
}
