#!/bin/sh
# Install the programs the test suite and the benchmark use as oracles and
# inputs, on a Debian machine.  Idempotent: when everything is present it
# only checks and returns in well under a second.
#
# Daemons are installed but never started: a policy-rc.d that refuses every
# start is in place while apt runs (chronyd or ntpd started by a package's
# postinst could try to set the clock, and xinetd would take real ports).
#
# Safe on a real host: it never removes a package and never installs,
# upgrades or replaces a time daemon or a mail server; it may upgrade other
# installed packages that a new one needs in a newer version (a machine image
# is older than the archive) and lists them (scripts/apt-plan-verdict.sh
# holds the rule).  Time daemons conflict with each other as Debian packages
# (installing chrony removes systemd-timesyncd, ntp or ntpsec), so chrony and
# NTPsec are only unpacked, with dpkg-deb -x, under $TOOLS_DIR; the tests run
# chronyd (on 127.0.0.1, -x) and ntpd (parse-only) from there, without
# CAP_SYS_TIME.  Everything else is installed with --no-remove, after a dry
# run (apt-get -s) that apt-plan-verdict.sh accepts.
#
# The SARIF validator (npm's @microsoft/sarif-multitool) goes under
# $TOOLS_DIR/sarif.
set -eu

TOOLS_DIR=${TOOLS_DIR:-$(cd "$(dirname "$0")/.." && pwd)/target/test-tools}

# Debian package name -> a file that proves it is installed.
PACKAGES="
xinetd:/usr/sbin/xinetd
libfaketime:/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1
faketime:/usr/bin/faketime
gzip:/bin/gzip
bzip2:/bin/bzip2
pbzip2:/usr/bin/pbzip2
lbzip2:/usr/bin/lbzip2
xz-utils:/usr/bin/xz
zstd:/usr/bin/zstd
bmake:/usr/bin/bmake
monitoring-plugins-basic:/usr/lib/nagios/plugins/check_ntp_time
ripgrep:/usr/bin/rg
jq:/usr/bin/jq
augeas-tools:/usr/bin/augtool
man-db:/usr/bin/man
util-linux:/usr/bin/unshare
iproute2:/usr/sbin/ip
time:/usr/bin/time
bsdutils:/usr/bin/script
bc:/usr/bin/bc
python3:/usr/bin/python3
acl:/usr/bin/setfacl
libssl3:/usr/share/doc/libssl3
libbsd0:/usr/share/doc/libbsd0
libcap2:/usr/share/doc/libcap2
libedit2:/usr/share/doc/libedit2
libgnutls30:/usr/share/doc/libgnutls30
libnettle8:/usr/share/doc/libnettle8
libseccomp2:/usr/share/doc/libseccomp2
libicu72:/usr/share/doc/libicu72
dpkg-dev:/usr/bin/dpkg-buildpackage
debhelper:/usr/bin/dh
fakeroot:/usr/bin/fakeroot
lintian:/usr/bin/lintian
npm:/usr/bin/npm
python3-venv:/usr/share/doc/python3-venv
libapparmor1:/usr/share/doc/libapparmor1
libexttextcat-2.0-0:/usr/share/doc/libexttextcat-2.0-0
liblua5.4-0:/usr/share/doc/liblua5.4-0
liblz4-1:/usr/share/doc/liblz4-1
libsodium23:/usr/share/doc/libsodium23
libstemmer0d:/usr/share/doc/libstemmer0d
libtirpc3:/usr/share/doc/libtirpc3
libunwind8:/usr/share/doc/libunwind8
libwrap0:/usr/share/doc/libwrap0
"

# Time daemons and dovecot: unpacked under $TOOLS_DIR/NAME, never installed.
# Debian package -> the program the tests run from the unpacked tree.
UNPACKED="
ntpsec:usr/sbin/ntpd
chrony:usr/sbin/chronyd
dovecot-core:usr/sbin/dovecot
dovecot-imapd:usr/lib/dovecot/imap-login
dovecot-pop3d:usr/lib/dovecot/pop3-login
"
SARIF_VERSION=5.7.0
SARIF_TOOL=$TOOLS_DIR/sarif/node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool

missing=""
for entry in $PACKAGES; do
    pkg=${entry%%:*}
    probe=${entry#*:}
    case $probe in
        */lib/x86_64-linux-gnu/*) probe=$(echo "$probe" | sed "s|x86_64-linux-gnu|$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)|") ;;
    esac
    [ -e "$probe" ] || missing="$missing $pkg"
done

to_unpack=""
for entry in $UNPACKED; do
    [ -x "$TOOLS_DIR/${entry%%:*}/${entry#*:}" ] || to_unpack="$to_unpack ${entry%%:*}"
done
need_sarif=no
[ -x "$SARIF_TOOL" ] || need_sarif=yes

# ntp.org's classic ntpd 4.2.8p15, ntpconf-edit's second oracle: unpacked
# from bullseye through a private apt state (idempotent, its own script).
TOOLS_DIR=$TOOLS_DIR sh "$(dirname "$0")/install-ntp-classic.sh"

if [ -z "$missing" ] && [ -z "$to_unpack" ] && [ $need_sarif = no ]; then
    exit 0
fi

if [ -n "$missing$to_unpack" ] && [ "$(id -u)" != 0 ]; then
    echo "install-test-deps: missing:$missing${to_unpack:+ (to unpack:$to_unpack)}; run as root to install them" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
policy=/usr/sbin/policy-rc.d
saved_policy=""
if [ -e $policy ]; then
    saved_policy=$(mktemp)
    cp -p $policy "$saved_policy"
fi
restore_policy() {
    if [ -n "$saved_policy" ]; then mv "$saved_policy" $policy; else rm -f $policy; fi
}
trap restore_policy EXIT INT TERM
printf '#!/bin/sh\nexit 101\n' > $policy
chmod 755 $policy

apt_updated=no
apt_update_once() {
    if [ $apt_updated = no ]; then
        apt-get update -qq
        apt_updated=yes
    fi
}

if [ -n "$missing" ]; then
    apt_update_once
    # The dry run first; scripts/apt-plan-verdict.sh decides (and lists the
    # upgrades it allows): no removal, no time daemon or mail server.
    # shellcheck disable=SC2086
    plan=$(apt-get -s install --no-install-recommends --no-remove $missing 2>&1) ||
        { echo "$plan" >&2; echo "install-test-deps: apt-get cannot install:$missing without removing a package; nothing was changed" >&2; exit 1; }
    echo "$plan" | sh "$(dirname "$0")/apt-plan-verdict.sh" ||
        { echo "install-test-deps: nothing was changed; install:$missing yourself if that is what you want" >&2; exit 1; }
    echo "install-test-deps: installing:$missing" >&2
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends --no-remove $missing >/dev/null
fi

for pkg in $to_unpack; do
    echo "install-test-deps: unpacking $pkg into $TOOLS_DIR/$pkg (not installed)" >&2
    apt_update_once
    workdir=$(mktemp -d)
    chmod 755 "$workdir"
    chown _apt "$workdir" 2>/dev/null || true # apt downloads as _apt
    (cd "$workdir" && apt-get download -qq "$pkg" >/dev/null)
    mkdir -p "$TOOLS_DIR/$pkg"
    dpkg-deb -x "$workdir/${pkg}"_*.deb "$TOOLS_DIR/$pkg"
    rm -rf "$workdir"
done

if [ $need_sarif = yes ]; then
    echo "install-test-deps: npm: @microsoft/sarif-multitool@$SARIF_VERSION into $TOOLS_DIR/sarif" >&2
    mkdir -p "$TOOLS_DIR/sarif"
    npm install --silent --no-audit --no-fund --prefix "$TOOLS_DIR/sarif" \
        "@microsoft/sarif-multitool@$SARIF_VERSION" >/dev/null
    # Its postinstall only sets this bit; newer npm versions skip install scripts.
    chmod u+x "$SARIF_TOOL"
fi
