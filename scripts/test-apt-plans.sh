#!/bin/sh
# The install rule of install-test-deps.sh, tested on `apt-get -s` plans
# recorded on real Debian 12 machines (tests/fixtures/apt-plans/), so that CI
# on a machine that already has every package still checks the decision a
# fresh machine meets.
set -eu
cd "$(dirname "$0")/.."
plans=tests/fixtures/apt-plans
verdict=scripts/apt-plan-verdict.sh
failures=0

# expect PLAN STATUS TEXT: the verdict on PLAN exits STATUS and says TEXT.
expect() {
    status=0
    said=$(sh $verdict < "$plans/$1" 2>&1) || status=$?
    if [ "$status" != "$2" ]; then
        echo "test-apt-plans: $1: exit $status, expected $2:" >&2
        echo "$said" | sed 's/^/  /' >&2
        failures=$((failures + 1))
    elif ! printf '%s\n' "$said" | grep -qF -- "$3"; then
        echo "test-apt-plans: $1: expected to say: $3; said:" >&2
        echo "$said" | sed 's/^/  /' >&2
        failures=$((failures + 1))
    fi
}

# A fresh image: the new packages need newer perl, dpkg, libssl3...: allowed, listed.
expect fresh-bookworm-upgrades.txt 0 "perl 5.36.0-7+deb12u2 -> 5.36.0-7+deb12u4"
expect fresh-bookworm-upgrades.txt 0 "new packages: iputils-ping augeas-lenses libaugeas0"
# Removing anything is refused, naming the package.
expect removal.txt 1 "libssl-dev (would be removed)"
# A time daemon: chrony would replace systemd-timesyncd.
expect time-daemon.txt 1 "chrony 4.3-2+deb12u3 (a time daemon or mail server would be installed)"
expect time-daemon.txt 1 "systemd-timesyncd (would be removed)"
# An upgrade that drags a time daemon along (systemd upgrades systemd-timesyncd).
expect time-daemon-upgrade.txt 1 "systemd-timesyncd 252.38-1~deb12u1 (a time daemon or mail server would be replaced)"
# A mail server is never installed (dovecot is unpacked under target/test-tools).
expect mail-server.txt 1 "dovecot-core 1:2.3.19.1+dfsg1-2.1+deb12u7 (a time daemon or mail server would be installed)"

if [ $failures -ne 0 ]; then
    echo "test-apt-plans: $failures failed" >&2
    exit 1
fi
echo "test-apt-plans: 7 passed, 0 failed"
