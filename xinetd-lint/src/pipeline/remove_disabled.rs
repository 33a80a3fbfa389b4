//! Before any check (remove_disabled_services): services dropped while
//! reading, `disable = yes`, the defaults' `enabled` and `disabled` lists,
//! and a value error (`DISABLING SERVICE`) that `enabled` may undo.

use super::{Entry, Status};
use crate::config::Defaults;
use crate::rules::Code;

/// The defaults' `enabled` and `disabled` ids, in lower case.
pub(super) struct IdLists {
    enabled: Vec<String>,
    disabled: Vec<String>,
    /// `enabled` given at all, even empty, disables every service it does
    /// not name.
    enabled_given: bool,
}

impl IdLists {
    pub(super) fn of(defaults: &Defaults) -> IdLists {
        let list = |name: &str| -> Vec<String> {
            defaults
                .attrs
                .get(name)
                .map(|s| s.values.iter().map(|v| v.to_ascii_lowercase()).collect())
                .unwrap_or_default()
        };
        IdLists {
            enabled: list("enabled"),
            disabled: list("disabled"),
            enabled_given: defaults.attrs.contains_key("enabled"),
        }
    }

    fn names(&self, id_lower: &str) -> bool {
        self.enabled_given && self.enabled.iter().any(|e| e == id_lower)
    }
}

/// The service's status when xinetd removes it here, else `None`: it goes
/// on to service_fill.
pub(super) fn removed(e: &mut Entry, lists: &IdLists) -> Option<Status> {
    let s = e.s;
    let id_lower = e.id.to_ascii_lowercase();
    if let Some(code) = s.dropped {
        e.reasons.push(code);
        return Some(Status::Rejected);
    }
    if s.disabled {
        e.report(
            Code::XL027,
            format!(
                "service {} is disabled (`disable = yes`): xinetd does not start it and logs nothing",
                s.name
            ),
        );
        return Some(Status::Disabled);
    }
    if lists.disabled.contains(&id_lower)
        || (lists.enabled_given && !lists.enabled.contains(&id_lower))
    {
        e.report(
            Code::XL027,
            format!(
                "service {} (id {}) is disabled by the `enabled`/`disabled` lists of defaults",
                s.name, e.id
            ),
        );
        return Some(Status::Disabled);
    }
    if let Some((line, code)) = s.value_error {
        if !lists.names(&id_lower) {
            e.reasons.push(code);
            return Some(Status::Rejected);
        }
        // remove_disabled_services marks every service disabled and then
        // enables the ids of `enabled`: the value error's DISABLING is
        // undone like a later `disable = no`.
        let id = e.id.clone();
        e.note(
            line,
            1,
            Code::XL018,
            format!(
                "defaults' `enabled` names {id}, which re-enables it after the value rejected here: it runs without that setting"
            ),
        );
    }
    None
}
