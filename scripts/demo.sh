#!/bin/sh
# `make demo`: runs each tool on the bundled example host (a FreeBSD guest on
# Hyper-V running dovecot's login processes under xinetd) and prints what an
# admin needs to read.  Tools exit non-zero when they find something; that is
# the point of the demo, so the exit codes are shown, not treated as failure.
set -u
bin=${1:-target/release}
root=${2:-examples/host}

run() {
    printf '\n$ %s\n' "$*"
    "$@"
    printf '[exit %s]\n' "$?"
}

echo "== The example host: $root =="
echo "A FreeBSD guest on Hyper-V; dovecot's imap-login/pop3-login run from xinetd;"
echo "dovecot died of 'Time just moved backwards' several times in the last three days."

echo
echo "== ntpconf-edit: what ntpd really does with tinker =="
run "$bin/ntpconf-edit" check --root "$root"
run "$bin/ntpconf-edit" show --root "$root"
run "$bin/ntpconf-edit" --diff set --preset dovecot --preset vm --root "$root"
echo "(apply it with: ntpconf-edit -i set --preset dovecot --preset vm)"
exit 0
