//! xinetd running dovecot's login processes: the errata's recipe on
//! dovecot 1.x, impossible on 2.x (the host model's verdict).

use mailhost_host::dovecot::xinetd::{self, Works};

use super::{AppliesTo, Item, Level, Situation, unit_enabled};

/// xinetd runs dovecot's login processes: what that means on the installed
/// dovecot, in the words xinetd-lint prints (the host model's verdict).
/// 1.x: the errata's recipe, with the standalone dovecot off.  2.x: it cannot
/// work; keep the standalone dovecot and move the xinetd services aside.
/// Unknown: say so, and that only 1.x can run this way.
pub(super) fn under_xinetd(s: &Situation) -> Option<Item> {
    let (facts, freebsd) = (s.facts, s.freebsd);
    let xinetd_runs = match &facts.rc {
        Some(rc) => rc.xinetd_enable,
        None => unit_enabled(facts, super::super::facts::XINETD_UNIT),
    };
    if !xinetd_runs || facts.xinetd_logins.is_empty() {
        return None;
    }
    let dovecot_runs = facts.dovecot_enabled.is_some();
    let dovecot = facts.dovecot.as_ref()?;
    let verdict = xinetd::verdict(dovecot);
    let services = facts.xinetd_logins.join(", ");
    // `sysrc -f` where a later file of the chain holds the setting.
    let sysrc = |value: &str| match &facts.rc {
        Some(rc) => rc
            .chain
            .sysrc_commands(&[("dovecot_enable", value)])
            .concat(),
        None => format!("sysrc dovecot_enable={value}"),
    };
    match verdict.works {
        Works::Yes if dovecot_runs => Some(Item {
            id: "dovecot-standalone-and-xinetd",
            applies_to: AppliesTo::Guest,
            level: Level::Warning,
            problem: format!(
                "the standalone dovecot is enabled while xinetd runs its login processes ({services})"
            ),
            why: format!(
                "Both want the same ports (imap 143, imaps 993, pop3 110, pop3s 995): whichever starts second \
                 cannot bind them, and nothing says so. {}.",
                verdict.conclusion
            ),
            commands: if facts.rc.is_some() {
                vec![
                    "service dovecot stop".into(),
                    sysrc("NO"),
                    "service xinetd restart".into(),
                ]
            } else {
                let units: Vec<&str> = super::super::facts::DOVECOT_UNITS
                    .into_iter()
                    .rev()
                    .filter(|u| unit_enabled(facts, u))
                    .collect();
                vec![
                    format!("systemctl disable --now {}", units.join(" ")),
                    "systemctl restart xinetd.service".into(),
                ]
            },
        }),
        Works::Yes => None,
        Works::No => {
            let files: Vec<String> = facts
                .xinetd_logins
                .iter()
                .filter_map(|l| l.split_once(": ").map(|(file, _)| file.to_string()))
                .fold(Vec::new(), |mut files, f| {
                    if !files.contains(&f) {
                        files.push(f);
                    }
                    files
                });
            // FreeBSD: sysrc edits the file of the chain that holds the setting.
            let enable = freebsd.then(|| sysrc("YES"));
            let commands = xinetd::commands_2x(&files, enable.as_deref());
            Some(Item {
                id: "dovecot-2-under-xinetd",
                applies_to: AppliesTo::Guest,
                level: Level::Warning,
                problem: format!(
                    "xinetd runs dovecot's login processes ({services}), which {} cannot do",
                    dovecot.identity.name()
                ),
                why: format!("{}. Fix: {}.", verdict.conclusion, verdict.fix),
                commands,
            })
        }
        Works::Unknown => Some(Item {
            id: "dovecot-generation-unknown",
            applies_to: AppliesTo::Guest,
            level: Level::Warning,
            problem: format!(
                "xinetd runs dovecot's login processes ({services}), and which dovecot is installed is unknown"
            ),
            why: format!("{}. {}.", verdict.conclusion, capitalized(&verdict.fix)),
            commands: vec!["dovecot --version".into()],
        }),
    }
}

fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
