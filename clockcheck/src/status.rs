//! clockcheck's one exit-status type, the Nagios plugin statuses: what
//! every command returns, what the metrics' `*_status` gauges hold, and the
//! man page's EXIT STATUS table (generated from the same lines).

use serde::Serialize;

mailhost_common::exit_statuses! {
    /// A Nagios plugin status, worst last (`Ord`: a verdict takes the max).
    #[derive(PartialOrd, Ord, Serialize)]
    #[serde(rename_all = "UPPERCASE")]
    pub enum Status {
        Ok = 0 => "OK: the offset is within -w; no clock jump; nothing to change.",
        Warning = 1 => "WARNING: the offset is over -w; a small or forward clock jump; conflicting time sources.",
        Critical = 2 => "CRITICAL: the offset is over -c; no usable reply; a backward jump over 5 s.",
        Unknown = 3 => "UNKNOWN: bad arguments (never 2, which would read as CRITICAL), no server to ask, or with -q no usable reply.",
    }
}

impl Status {
    /// The word of the status line (`CLOCK OK: ...`) and of the JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "OK",
            Status::Warning => "WARNING",
            Status::Critical => "CRITICAL",
            Status::Unknown => "UNKNOWN",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_nagios_and_worse_is_greater() {
        let all = [
            Status::Ok,
            Status::Warning,
            Status::Critical,
            Status::Unknown,
        ];
        assert_eq!(all.map(Status::code), [0, 1, 2, 3]);
        assert!(all.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(
            Status::TABLE
                .iter()
                .map(|(code, _)| *code)
                .collect::<Vec<_>>(),
            ["0", "1", "2", "3"]
        );
        for (status, (_, meaning)) in all.iter().zip(Status::TABLE) {
            assert!(meaning.starts_with(status.as_str()), "{meaning}");
        }
    }
}
