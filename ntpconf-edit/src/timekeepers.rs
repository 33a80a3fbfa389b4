//! `check` on hosts where ntpd does not keep the time: what chrony's
//! `makestep` (the counterpart of `tinker step`) and systemd-timesyncd's
//! fixed rule do when the clock is off, with the same codes and exit status
//! as the ntp.conf checks, so a Makefile's `ntpconf-edit check` fails on a
//! chrony host for the right reason, not for a missing ntp.conf.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use mailhost_common::chrony::{CHRONY_CONFS, ChronyConf};
use mailhost_common::root::Root;

use crate::check::{Code, Diagnostic, diag, human_duration};

/// What keeps the time on a tree, as far as `check` needs to know.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Keeper {
    /// ntpd (classic or NTPsec): the ntp.conf checks.
    Ntpd,
    Chrony(PathBuf),
    /// systemd-timesyncd, with the file that shows it (its config or unit).
    Timesyncd(PathBuf),
}

impl Keeper {
    /// The daemon's program name, as every tool prints it.
    pub fn name(&self) -> &'static str {
        match self {
            Keeper::Ntpd => "ntpd",
            Keeper::Chrony(_) => "chronyd",
            Keeper::Timesyncd(_) => "systemd-timesyncd",
        }
    }
}

/// Files that show systemd-timesyncd is installed.
pub const TIMESYNCD_MARKS: [&str; 3] = [
    "/etc/systemd/timesyncd.conf",
    "/lib/systemd/system/systemd-timesyncd.service",
    "/usr/lib/systemd/system/systemd-timesyncd.service",
];

/// The daemon whose configuration `check` reads: an explicit file by its
/// name (`chrony.conf`, `timesyncd.conf`, else ntp.conf); without one, ntpd
/// where an ntp.conf is (or rc.conf names one), else chrony, else
/// systemd-timesyncd, else ntpd (whose missing file is then the error).
pub fn which(root: &Root, explicit: Option<&OsStr>, ntp_conf_present: bool) -> Keeper {
    if let Some(file) = explicit {
        let path = Path::new(file);
        return match path.file_name().and_then(OsStr::to_str) {
            Some("chrony.conf") => Keeper::Chrony(path.to_path_buf()),
            Some("timesyncd.conf") => Keeper::Timesyncd(path.to_path_buf()),
            _ => Keeper::Ntpd,
        };
    }
    if ntp_conf_present {
        return Keeper::Ntpd;
    }
    if let Some(conf) = ChronyConf::find(root) {
        return Keeper::Chrony(conf);
    }
    TIMESYNCD_MARKS
        .iter()
        .map(PathBuf::from)
        .find(|p| root.metadata(p).is_ok())
        .map_or(Keeper::Ntpd, Keeper::Timesyncd)
}

/// chrony.conf's stepping, read as chronyd reads it.  `offset` is the
/// offset whose slew time NE016 states; `freebsd` selects the slew limit.
pub fn check_chrony(root: &Root, conf: &ChronyConf, freebsd: bool, offset: f64) -> Vec<Diagnostic> {
    let shown = |file: &Path| root.display_path(file);
    let mut out: Vec<Diagnostic> = conf
        .fatal
        .iter()
        .map(|f| {
            diag(
                &shown(&f.at.file),
                f.at.line,
                f.at.column,
                Code::NE013,
                format!("chronyd exits at start: {}", f.message),
            )
        })
        .collect();
    let slew = |ppm: f64| human_duration(offset.abs() / (ppm * 1e-6));
    match &conf.makestep {
        Some(step) if step.at_any_time() => out.push(diag(
            &shown(&step.at.file),
            step.at.line,
            step.at.column,
            Code::NE014,
            format!(
                "chrony steps the clock at any time it is more than {} s off (`makestep {} {}`), \
                 backwards too, and dovecot dies of a step back; step only at start: `makestep 1 3`",
                step.threshold, step.threshold, step.limit
            ),
        )),
        Some(step) if step.limit > 0 => out.push(diag(
            &shown(&step.at.file),
            step.at.line,
            step.at.column,
            Code::NE015,
            format!(
                "chrony keeps the time here: it steps an offset over {} s only in its first {} clock \
                 updates (at start, before dovecot), then slews",
                step.threshold, step.limit
            ),
        )),
        _ => {
            let ppm = conf.effective_slew_ppm(freebsd);
            let at = conf.makestep.as_ref().map(|s| &s.at);
            out.push(diag(
                &shown(at.map_or(&conf.file, |a| &a.file)),
                at.map_or(1, |a| a.line),
                at.map_or(1, |a| a.column),
                Code::NE016,
                format!(
                    "chrony keeps the time here and never steps (no `makestep`): at start a {offset} s \
                     offset is slewed at {ppm} ppm, taking {}, with dovecot running; `makestep 1 3` \
                     steps at start",
                    slew(ppm)
                ),
            ));
        }
    }
    out
}

/// systemd-timesyncd has no setting for stepping: report what it does.
pub fn check_timesyncd(root: &Root, marker: &Path) -> Vec<Diagnostic> {
    vec![diag(
        &root.display_path(marker),
        1,
        1,
        Code::NE017,
        "systemd-timesyncd keeps the time here: it steps the clock whenever it is more than 0.4 s \
         off, backwards too, and no setting stops it; on a mail host use chrony with `makestep 1 3`"
            .into(),
    )]
}

/// Where chrony.conf may be, for messages.
pub fn chrony_places() -> String {
    CHRONY_CONFS.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root_with(files: &[(&str, &str)]) -> (tempfile::TempDir, Root) {
        let dir = mailhost_common::testing::tree(files);
        let root = Root::new(dir.path()).unwrap();
        (dir, root)
    }

    fn codes(root: &Root) -> Vec<Code> {
        let Keeper::Chrony(file) = which(root, None, false) else {
            panic!("not chrony")
        };
        let conf = ChronyConf::read(root, &file).unwrap();
        check_chrony(root, &conf, false, 40.0)
            .iter()
            .map(|d| d.code)
            .collect()
    }

    #[test]
    fn makestep_forms() {
        let (_d, root) = root_with(&[("etc/chrony/chrony.conf", "makestep 1 3\n")]);
        assert_eq!(codes(&root), [Code::NE015]);
        let (_d, root) = root_with(&[("etc/chrony/chrony.conf", "makestep 1 -1\n")]);
        assert_eq!(codes(&root), [Code::NE014]);
        let (_d, root) = root_with(&[("etc/chrony.conf", "pool x\n")]);
        assert_eq!(codes(&root), [Code::NE016]);
        let (_d, root) = root_with(&[("etc/chrony.conf", "makestep 1 0\n")]);
        assert_eq!(codes(&root), [Code::NE016]);
        let (_d, root) = root_with(&[("etc/chrony.conf", "makestep 1\n")]);
        assert_eq!(codes(&root), [Code::NE013, Code::NE016]);
    }

    #[test]
    fn ntp_conf_first_then_chrony_then_timesyncd() {
        let (_d, root) = root_with(&[
            ("etc/chrony/chrony.conf", ""),
            ("lib/systemd/system/systemd-timesyncd.service", ""),
        ]);
        assert_eq!(which(&root, None, true), Keeper::Ntpd);
        assert!(matches!(which(&root, None, false), Keeper::Chrony(_)));
        let (_d, root) = root_with(&[("lib/systemd/system/systemd-timesyncd.service", "")]);
        assert!(matches!(which(&root, None, false), Keeper::Timesyncd(_)));
        assert_eq!(
            which(&root, Some(OsStr::new("/srv/chrony.conf")), true),
            Keeper::Chrony("/srv/chrony.conf".into())
        );
    }

    #[test]
    fn the_slew_time_follows_the_system() {
        let (_d, root) = root_with(&[("etc/chrony.conf", "pool x\n")]);
        let conf = ChronyConf::read(&root, Path::new("/etc/chrony.conf")).unwrap();
        let linux = check_chrony(&root, &conf, false, 40.0);
        assert!(
            linux[0].message.contains("taking 8 min"),
            "{}",
            linux[0].message
        );
        let freebsd = check_chrony(&root, &conf, true, 40.0);
        assert!(
            freebsd[0].message.contains("taking 22.2 h"),
            "{}",
            freebsd[0].message
        );
    }
}
