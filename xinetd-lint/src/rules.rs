//! The rule registry: stable codes, never renumbered or reused, each with
//! what it checks, why it matters and how to fix it (`--explain`).

pub use crate::conventions::Severity;
use Severity::*;

use mailhost_common::lint::{self, Rule};

mailhost_common::rule_registry! {
    /// xinetd-lint's codes.  A new rule is one line here (code, name,
    /// severity, explanation) plus a case in `every_code_is_triggered`
    /// (tests/rule_table.rs); codes are never renumbered or reused.
    pub enum Code {
        XL001 => Rule::named(
            "missing-service-keyword",
            Error,
            "A top-level line that is not `service`, `defaults`, `include` or `includedir` (a typo such as `servce`, a stray `}`, a UTF-8 BOM). xinetd logs `missing service keyword` and skips everything up to the next line holding a lone `}`, so the whole block is lost. Fix the keyword or remove the line.",
        ),
        XL002 => Rule::named(
            "service-name-missing",
            Error,
            "`service`, `include` or `includedir` without an argument. xinetd logs `service name missing` and skips the block. Name the service (its /etc/services name) or the path.",
        ),
        XL003 => Rule::named(
            "missing-open-brace",
            Error,
            "The line after `service NAME` must hold a lone `{`. `service x {` on one line, or `{ # comment`, make xinetd log `missing '{'` and drop the service. Put `{` alone on the next line.",
        ),
        XL004 => Rule::named(
            "incomplete-entry",
            Error,
            "The file ends inside a block (no closing `}`). xinetd logs `incomplete entry` and drops the unfinished service. Close the block with `}` alone on a line.",
        ),
        XL005 => Rule::named(
            "second-defaults",
            Error,
            "A second `defaults` block in one file is ignored (`only 1 defaults entry is allowed`). Merge the two blocks.",
        ),
        XL006 => Rule::named(
            "include-unreadable",
            Error,
            "An `include` or `includedir` target cannot be read. xinetd logs it and carries on without those services. Fix the path (it is resolved against xinetd's root) or the permissions.",
        ),
        XL007 => Rule::named(
            "includedir-skipped-name",
            Warning,
            "xinetd's `includedir` silently skips every file whose name contains a `.` or ends in `~` (`dovecot.conf`, `imap.rpmsave`, `pop3~`). The services in it are never read and nothing is logged. Rename the file without a dot (`dovecot`).",
        ),
        XL008 => Rule::named(
            "not-a-regular-file",
            Error,
            "An entry of an includedir is not a regular file (a directory, a FIFO); xinetd skips it. Move it out of the directory.",
        ),
        XL009 => Rule::named(
            "no-space-before-operator",
            Error,
            "`name=value` or `name= value`: xinetd needs a space before the operator. It logs `Attribute X needs a space before operator` and drops the whole service (Debian bug 461061). `--fix` inserts the space.",
        ),
        XL010 => Rule::named(
            "bad-operator",
            Error,
            "An attribute line without `=`, `+=` or `-=` (a bare word, `} # end`, `include` inside a block). xinetd drops the service, and its recovery (skip to the next lone `}`) can swallow the following service too. Write `name = value`, and put `}` alone on its line.",
        ),
        XL011 => Rule::named(
            "unknown-attribute",
            Warning,
            "An attribute xinetd does not know (`bad service attribute`); it is ignored and the service runs without it. Check the spelling against xinetd.conf(5).",
        ),
        XL012 => Rule::named(
            "not-in-defaults",
            Warning,
            "This attribute is not allowed in `defaults` (`should not be in default section`) and is ignored. Set it in each service instead.",
        ),
        XL013 => Rule::named(
            "attribute-set-twice",
            Warning,
            "A single-valued attribute given twice (`bind` and `interface` count as one): xinetd keeps the first value and ignores this one. Remove one of the lines.",
        ),
        XL014 => Rule::named(
            "operator-not-allowed",
            Warning,
            "`+=` or `-=` on an attribute that takes one value (only log_on_success, log_on_failure, only_from, no_access, env and passenv are lists). xinetd ignores the line. Use `=`.",
        ),
        XL015 => Rule::named(
            "wrong-value-count",
            Warning,
            "The attribute takes a fixed number of values (one, or two for cps and redirect) and got another number. xinetd ignores the whole line and the setting silently does not apply.",
        ),
        XL016 => Rule::named(
            "trailing-comment",
            Warning,
            "xinetd has no trailing comments: a `#` after a value is just more values. On a one-value attribute (`per_source = 10 # limit`) the line is ignored and the limit silently disappears; on `server` the service is rejected; on only_from the words are dropped as addresses. `--fix` moves the comment to its own line.",
        ),
        XL017 => Rule::named(
            "invalid-value",
            Error,
            "xinetd's parser rejects this value (`Error parsing attribute X - DISABLING SERVICE`): the service is not started. In `defaults` such an error stops the whole daemon in production. The message says what xinetd expects.",
        ),
        XL018 => Rule::named(
            "value-error-then-enabled",
            Error,
            "A value was rejected, which disables the service, but a later `disable = no` re-enables it (an xinetd bug): the service runs WITHOUT the rejected setting. For only_from or access_times that means open to everyone, at all times. Fix the rejected value.",
        ),
        XL019 => Rule::named(
            "only-from-denies-all",
            Error,
            "only_from is empty or none of its addresses could be parsed: xinetd then denies every client, while its own debug dump says \"All sites\". Give at least one valid address (numeric, a/n, a.b.{c,d}, a host name that resolves).",
        ),
        XL020 => Rule::named(
            "address-dropped",
            Warning,
            "xinetd cannot parse this address (`failed to parse`) and drops it from the list (a truncated address such as `127.0.0.`, a host name that does not resolve when xinetd starts, a trailing comment). Clients from that address are then treated as if it were not listed.",
        ),
        XL021 => Rule::named(
            "access-times-refused",
            Error,
            "access_times takes `H:MM-H:MM` with hours 0-23 and the start before the end; xinetd refuses anything else, `24:00` included (even the man page's example `12:00-24:00`), and disables the service. Use `23:59`.",
        ),
        XL022 => Rule::named(
            "duplicate-service",
            Error,
            "Two services use the same id, or the same port and protocol, without a `bind` address. xinetd accepts both, but the second cannot bind (`Address already in use`) and is deactivated at start-up. Give each its own id and port, or remove one.",
        ),
        XL023 => Rule::named(
            "mdns-unsupported",
            Warning,
            "`mdns` is documented but not compiled into Debian's xinetd (or most builds); the line is ignored as an unknown attribute. Remove it.",
        ),
        XL024 => Rule::named(
            "defaults-in-fragment",
            Warning,
            "A `defaults` block in an included file or xinetd.d fragment is merged into the global defaults: it changes every service, and a second log_type there stops the whole daemon. Keep defaults in xinetd.conf.",
        ),
        XL025 => Rule::named(
            "crlf-line-endings",
            Error,
            "CRLF line ends (a file edited on Windows): xinetd keeps the CR on the last word of each line (`stream\\r`, `no\\r`), which breaks nearly every attribute and drops the services. `--fix` converts the file to LF.",
        ),
        XL026 => Rule::named(
            "utf8-bom",
            Error,
            "A UTF-8 byte-order mark before the first keyword: xinetd does not recognise the keyword (`missing service keyword`) and loses the first block. `--fix` removes the BOM.",
        ),
        XL027 => Rule::named(
            "service-disabled",
            Info,
            "The service is disabled (`disable = yes`, or the defaults' enabled/disabled lists). xinetd logs nothing about it. Remove the line (or set `disable = no`) to run it.",
        ),
        XL028 => Rule::named(
            "missing-server",
            Error,
            "A service that is not INTERNAL and has no `redirect` needs `server` (`Must specify a server in NAME`). Add the absolute path of the program.",
        ),
        XL029 => Rule::named(
            "unlisted-needs-port",
            Error,
            "A `type = UNLISTED` service must give `port` (`Unlisted service: NAME must have a port entry`).",
        ),
        XL030 => Rule::named(
            "not-in-services",
            Error,
            "The service name (the block name, not the id) must be in /etc/services for its protocol, unless `type = UNLISTED` (then with `port`). Otherwise xinetd rejects it (`service/protocol combination not in /etc/services`). Add the name to /etc/services, or write `type = UNLISTED` and `port`. Note that the lookup is case-sensitive, protocol included (`TCP` fails).",
        ),
        XL031 => Rule::named(
            "port-mismatch",
            Error,
            "`port` differs from /etc/services for a listed name (`Service rsync expects port 873, not 8873`): xinetd rejects it. To run on another port, add `type = UNLISTED`.",
        ),
        XL032 => Rule::named(
            "no-protocol",
            Error,
            "Neither `protocol` nor `socket_type` says which protocol to use, so xinetd cannot look the service up. Add `socket_type = stream` (tcp) or `dgram` (udp).",
        ),
        XL033 => Rule::named(
            "missing-attribute",
            Error,
            "An attribute xinetd requires is not written in the block (defaults never count): socket_type and wait always; user and server unless INTERNAL; protocol and port for UNLISTED; rpc_version for RPC. xinetd logs `Service ID missing attribute NAME - DISABLING`.",
        ),
        XL034 => Rule::named(
            "no-such-internal",
            Error,
            "`type = INTERNAL` works only for xinetd's builtins: echo, discard, time, daytime, chargen (stream and dgram) and tcpmux (stream). Debian's own `servers` and `services` files name builtins that no longer exist.",
        ),
        XL035 => Rule::named(
            "tcpmux-rules",
            Error,
            "A TCPMUX service must also be UNLISTED and use tcp.",
        ),
        XL036 => Rule::named(
            "unknown-rpc",
            Error,
            "An RPC service that is not UNLISTED must be named in /etc/rpc.",
        ),
        XL037 => Rule::named(
            "redirect-rules",
            Error,
            "A redirected service must use a stream socket, `wait = no` and no NAMEINARGS flag.",
        ),
        XL038 => Rule::named(
            "traffic-without-redirect",
            Error,
            "log_on_success TRAFFIC is only for redirected services; xinetd rejects the service otherwise.",
        ),
        XL039 => Rule::named(
            "nameinargs-rules",
            Error,
            "With `flags = NAMEINARGS`, server_args must be given (it is the whole argv), and INTERNAL services cannot use it.",
        ),
        XL040 => Rule::named(
            "dgram-nowait",
            Warning,
            "`socket_type = dgram` with `wait = no`: accepted by xinetd 2.3.15.3 but broken at run time (one process per datagram), and rejected from 2.3.15.4 on. UDP services want `wait = yes`.",
        ),
        XL041 => Rule::named(
            "dovecot-wrong-server",
            Error,
            "On dovecot 1.x (the only generation that can run from xinetd), an imap/imaps/pop3/pop3s service under xinetd runs dovecot's login process directly: `server` must be dovecot's imap-login (for imap, imaps) or pop3-login (for pop3, pop3s): /usr/local/libexec/dovecot/ on FreeBSD, /usr/lib/dovecot/ on Debian. On dovecot 2.x see XL048 instead.",
        ),
        XL042 => Rule::named(
            "dovecot-disabled",
            Warning,
            "On dovecot 1.x, a dovecot imap/pop3 service still says `disable = yes`: nothing listens on that port once the standalone dovecot is stopped. (On 2.x, XL048: these services cannot work at all.)",
        ),
        XL043 => Rule::named(
            "dovecot-standalone-conflict",
            Error,
            "The standalone dovecot is enabled too (FreeBSD `dovecot_enable=\"YES\"` in rc.conf or rc.conf.d, or an enabled systemd dovecot.service / dovecot.socket), or a running dovecot listens on the port. Both want the same port: whichever starts second fails to bind, and for xinetd that means `Service X failed to start and is deactivated`. On dovecot 1.x (the errata's recipe) disable the standalone daemon (`sysrc dovecot_enable=NO`, `systemctl disable --now dovecot`) or dovecot's listeners for these protocols. On dovecot 2.x do the opposite (XL048): keep the standalone dovecot and remove the xinetd services.",
        ),
        XL044 => Rule::named(
            "dovecot-log-files",
            Info,
            "Where to look for what dovecot logged: every dovecot process, a login process started by xinetd included, logs to dovecot's `log_path` (default syslog, facility `syslog_facility`, default mail; errors and Fatal lines at LOG_CRIT, which syslog.conf may copy to a second file such as FreeBSD's /var/log/messages), never to xinetd's log. xinetd's own log holds only its START and EXIT lines for the service, such as `EXIT: imap status=89 pid=... duration=0(sec)` when a login process died of a Fatal. `--log-files` prints both, for `maillog-grep`.",
        ),
        XL045 => Rule::named(
            "stream-wait-yes",
            Info,
            "`socket_type = stream` with `wait = yes`: right only for servers that accept() connections themselves; an ordinary server gets the listening socket and fails.",
        ),
        XL046 => Rule::named(
            "rpc-needs-portmapper",
            Error,
            "An RPC service is registered with the portmapper when xinetd starts (`pmap_set`); with no rpcbind/portmap enabled on the host it fails to start and is deactivated. Enable rpcbind (FreeBSD `rpcbind_enable=\"YES\"`, systemd rpcbind.socket), or remove the service.",
        ),
        XL047 => Rule::named(
            "bind-not-local",
            Error,
            "`bind` names an address this host does not have: xinetd cannot bind it at start-up (Cannot assign requested address) and deactivates the service. Checked only for the live system (--root /).",
        ),
        XL048 => Rule::named(
            "dovecot-2-under-xinetd",
            Error,
            "A service whose `server` is dovecot's imap-login or pop3-login, on dovecot 2.x. Inetd support was removed in dovecot 2.0: a login process that the dovecot master did not start runs standalone and never reads its standard input, so xinetd accepts the connection and no client ever gets a greeting; with no master running, the login process exits at once with status 89 (xinetd logs `EXIT: imap status=89`), having written `Fatal: ... Could not find the wanted executable from PATH` (or `Couldn't connect to anvil`) to the client. Verified with Debian's dovecot 2.3.19.1 under xinetd 2.3.15.3. Fix: keep dovecot's own listeners (the standalone dovecot, enabled and running: `sysrc dovecot_enable=YES; service dovecot start`, or `systemctl enable --now dovecot.service`) and remove these xinetd services; on Linux, use systemd socket activation (dovecot.socket) if starting dovecot on demand is the goal. `clockcheck env` gives the same conclusion with exact commands.",
        ),
        XL049 => Rule::named(
            "dovecot-generation-unknown",
            Warning,
            "A service runs dovecot's imap-login or pop3-login, and which dovecot is installed could not be found out: no dovecot package in /var/lib/dpkg/status, no /usr/local/share/licenses/dovecot-* (FreeBSD), no `Dovecot vVERSION` string in /usr/local/sbin/dovecot or /usr/sbin/dovecot, and no dovecot.conf line only one generation accepts. Only dovecot 1.x can be run from xinetd (2.0 removed inetd support). Check `dovecot --version`: on 1.x the errata's recipe holds; on 2.x see XL048.",
        ),
        XL060 => Rule::named(
            "include-loop",
            Error,
            "A file includes itself, directly or through other files or an includedir (an xinetd.d fragment saying `includedir /etc/xinetd.d`). xinetd has no loop check: it recurses until it crashes with a segmentation fault, so not one service starts (verified with Debian's xinetd 2.3.15.3). Remove the include.",
        ),
        XL061 => Rule::named(
            "include-budget",
            Error,
            "The includes fan out beyond what xinetd-lint reads in one run (100,000 files, 64 levels, 256 MiB in all); the rest is not read and the verdict is incomplete. A real configuration is nowhere near this: look for an include that multiplies.",
        ),
        XL062 => Rule::named(
            "included-twice",
            Warning,
            "The same file (device and inode: also through another name or a link) is included a second time. xinetd reads it again, and every service in it then clashes with its own first copy (a duplicate id). xinetd-lint reads each file once. Remove the second include.",
        ),
        XL063 => Rule::named(
            "resolver-timeout",
            Warning,
            "Host names in only_from, no_access, bind or redirect are looked up once each, in parallel, within 3 seconds in all; the names the resolver had not answered by then count as not resolving, so their XL019/XL020 findings may be wrong (xinetd itself waits). Check the resolver, or use addresses.",
        ),
        XL070 => Rule::named(
            "socket-refused",
            Error,
            "`socket_type` and `protocol` that the kernel will not create together (stream with udp, dgram with tcp, seqpacket with tcp or udp, seqpacket or stream with sctp where the sctp module is not loaded, dgram with icmp): the file parses, then `socket creation failed (Protocol not supported)` at start-up and xinetd deactivates the service. Write the pair that matches (stream/tcp, dgram/udp), or leave `protocol` out.",
        ),
        XL071 => Rule::named(
            "server-not-a-file",
            Warning,
            "`server` names a directory. xinetd only checks access(X_OK) and stat(), which a directory passes, so the service starts, but every connection's exec fails and the client is dropped. Name the program itself.",
        ),
        XL072 => Rule::named(
            "negative-limit",
            Warning,
            "A negative number for an rlimit_* or cps value. xinetd reads it with strtoull, which accepts a sign and wraps it: `rlimit_as = -1` is the largest limit there is (no limit at all), `cps = -1 5` allows about 4 billion connections per second. The service starts without the limit that was meant. Write a positive number (or UNLIMITED).",
        ),
        XL073 => Rule::named(
            "enabled-list-surprise",
            Warning,
            "In `defaults`, `enabled` and `disabled` ignore their operator: `-=` adds the ids like `=` and `+=` (`enabled -= ftp` enables only ftp). And `enabled =` with no id still counts as given: every service is disabled. Write `enabled = ID ...` with the ids meant to run, or remove the line.",
        ),
        XL074 => Rule::named(
            "ipv6-flag-ipv4-bind",
            Warning,
            "`flags = IPv6` with an IPv4 `bind` address. xinetd copies the IPv4 socket address into an IPv6 one and sets only the family and port, so the address it binds is made of the IPv4 bytes and uninitialised memory: usually `[::]` with a stray flow label, sometimes an address the host does not have (the bind fails and the service is deactivated). Drop `flags = IPv6`, or bind an IPv6 address.",
        ),
        XL075 => Rule::named(
            "tcpmux-without-protocol",
            Error,
            "A TCPMUX or TCPMUXPLUS client (`type = TCPMUX UNLISTED`) with neither `protocol` nor `socket_type`. xinetd's check compares its protocol name with \"tcp\" and finds a NULL pointer: the daemon dies of a segmentation fault at start-up and no service at all is started. Write `socket_type = stream` and `protocol = tcp`.",
        ),
    }
    // Renamed rules (the old name was untrue): still accepted by
    // `--explain`, `--select`, `--ignore` and ignore comments.
    renamed { "dovecot-logs-to-xinetd" => XL044 }
}

/// One finding of xinetd-lint.
pub type Diagnostic = lint::Diagnostic<Code>;

/// What xinetd-lint prints and how it exits: 1 on any finding shown
/// (`--severity` decides which are shown).
pub const LINTER: lint::Linter = lint::Linter {
    tool: "xinetd-lint",
    version: env!("CARGO_PKG_VERSION"),
    exit: lint::ExitRule::AnyShown,
    json_service: true,
    sarif_help: lint::SarifHelp::Explanation,
};

#[cfg(test)]
mod tests {
    use super::*;
    use mailhost_common::lint::RuleCode;

    #[test]
    fn codes_are_unique_and_in_order() {
        let rules: Vec<&Rule> = Code::ALL.iter().map(|c| c.rule()).collect();
        for pair in rules.windows(2) {
            assert!(
                pair[0].code < pair[1].code,
                "{} then {}",
                pair[0].code,
                pair[1].code
            );
        }
        let mut names: Vec<&str> = rules.iter().filter_map(|r| r.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), rules.len());
    }
}
