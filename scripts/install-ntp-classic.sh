#!/bin/sh
# Unpacks the classic ntp.org ntpd 4.2.8p15 (Debian bullseye's `ntp`, with
# libopts25 and libssl1.1) under $TOOLS_DIR/ntp-classic, the second oracle of
# ntpconf-edit (FreeBSD runs this ntpd, not NTPsec).  Never installed: the
# packages are downloaded through a private apt state (its own sources.list
# naming bullseye, its own Dir::State and Dir::Cache under $TOOLS_DIR), so
# the system's apt lists, cache and dpkg database are never touched, and
# unpacked with dpkg-deb -x.  Idempotent: returns at once when present.
set -eu

TOOLS_DIR=${TOOLS_DIR:-$(cd "$(dirname "$0")/.." && pwd)/target/test-tools}
DEST=$TOOLS_DIR/ntp-classic
[ -x "$DEST/usr/sbin/ntpd" ] && exit 0

MIRROR=${BULLSEYE_MIRROR:-http://deb.debian.org/debian}
state=$TOOLS_DIR/apt-bullseye
mkdir -p "$state/etc/sources.list.d" "$state/etc/preferences.d" \
    "$state/lists/partial" "$state/cache/archives/partial"
echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $MIRROR bullseye main" \
    > "$state/etc/sources.list"
: > "$state/status"
apt_private() {
    apt-get -q \
        -o Dir::Etc::SourceList="$state/etc/sources.list" \
        -o Dir::Etc::SourceParts="$state/etc/sources.list.d" \
        -o Dir::Etc::PreferencesParts="$state/etc/preferences.d" \
        -o Dir::State="$state" -o Dir::State::Lists="$state/lists" \
        -o Dir::State::status="$state/status" \
        -o Dir::Cache="$state/cache" \
        -o APT::Architecture="$(dpkg --print-architecture)" \
        -o Acquire::Languages=none \
        "$@"
}
echo "install-ntp-classic: unpacking ntp 4.2.8p15 (bullseye) into $DEST" >&2
apt_private update >/dev/null
workdir=$(mktemp -d)
chmod 755 "$workdir"
trap 'rm -rf "$workdir"' EXIT
(cd "$workdir" && apt_private download ntp libopts25 libssl1.1 >/dev/null 2>&1)
mkdir -p "$DEST"
for deb in "$workdir"/*.deb; do
    dpkg-deb -x "$deb" "$DEST"
done
"$DEST/usr/sbin/ntpd" --version >/dev/null 2>&1 ||
    LD_LIBRARY_PATH=$DEST/usr/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu) \
        "$DEST/usr/sbin/ntpd" --version >&2
