#!/bin/sh
# `make demo`: runs each tool on the bundled example host and prints what
# an admin needs to read.  The host: a FreeBSD guest on Hyper-V running
# dovecot's imap-login and pop3-login from xinetd; dovecot died of "Time
# just moved backwards" several times in three days.
#
# The tools exit non-zero when they find something, which is the point of
# the demo: exit codes are shown, not treated as failures.  The demo works on
# a copy, so the bundled example is never edited.
set -u
bin=${1:-target/release}
root=${2:-examples/host}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM
cp -Rp "$root" "$work/host"
# A checkout does not keep modification times: give the logs theirs, so the
# year of their BSD timestamps comes out right (maillog.1 is the oldest).
touch -d '2026-11-26 23:59:59' "$work/host/var/log/maillog.1.bz2"
touch -d '2026-11-27 23:59:59' "$work/host/var/log/maillog.0.bz2"
touch -d '2026-11-28 23:59:59' "$work/host/var/log/maillog"
host="$work/host"

run() {
    printf '\n$ %s\n' "$*" | sed "s|$work/||g"
    "$@" > "$work/out" 2>&1
    rc=$?
    sed "s|$work/||g" "$work/out"
    printf '[exit %s]\n' "$rc"
}

echo "== The example host (examples/host): FreeBSD on Hyper-V, dovecot under xinetd =="

echo
echo "== 1. xinetd-lint: what xinetd will really do with imap, imaps, pop3, pop3s =="
run "$bin/xinetd-lint" --root "$host" --services
run "$bin/xinetd-lint" --root "$host"
run "$bin/xinetd-lint" --root "$host" --diff
run "$bin/xinetd-lint" --explain XL043

echo
echo "== 2. maillog-grep: every time dovecot saw time go backwards, and why =="
run "$bin/maillog-grep" --root "$host" --rotated -c
run "$bin/maillog-grep" --root "$host" --rotated --summary

echo
echo "== 3. ntpconf-edit: what ntpd does with tinker, and the fix =="
run "$bin/ntpconf-edit" check --root "$host"
run "$bin/ntpconf-edit" --diff set --preset dovecot --preset vm --root "$host"
run "$bin/ntpconf-edit" -i set --preset dovecot --preset vm --root "$host"
run "$bin/ntpconf-edit" show --root "$host"
run "$bin/ntpconf-edit" --check set --preset dovecot --root "$host"

echo
echo "== 4. clockcheck: the clock itself (on this machine) =="
run "$bin/clockcheck" env --root "$host"
run "$bin/clockcheck" watch --interval 200ms --duration 1s
echo "(clockcheck -H SERVER is the Nagios check; the tests run it against a real chronyd.)"
exit 0
