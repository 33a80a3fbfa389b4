#!/bin/sh
# Install the programs the test suite and the benchmark use as oracles and
# inputs, on a Debian machine.  Idempotent: when everything is present it
# only checks and returns in well under a second.
#
# Daemons are installed but never started: a policy-rc.d that refuses every
# start is in place while apt runs (chronyd or ntpd started by a package's
# postinst could try to set the clock, and xinetd would take real ports).
#
# NTPsec and chrony conflict as Debian packages (both provide time-daemon),
# so NTPsec is only unpacked, with dpkg-deb -x, under $TOOLS_DIR; the tests
# run its ntpd from there, parse-only and without CAP_SYS_TIME.
set -eu

TOOLS_DIR=${TOOLS_DIR:-$(cd "$(dirname "$0")/.." && pwd)/target/test-tools}

# Debian package name -> a file that proves it is installed.
PACKAGES="
xinetd:/usr/sbin/xinetd
chrony:/usr/sbin/chronyd
libfaketime:/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1
faketime:/usr/bin/faketime
gzip:/bin/gzip
bzip2:/bin/bzip2
xz-utils:/usr/bin/xz
zstd:/usr/bin/zstd
bmake:/usr/bin/bmake
monitoring-plugins-basic:/usr/lib/nagios/plugins/check_ntp_time
ripgrep:/usr/bin/rg
augeas-tools:/usr/bin/augtool
man-db:/usr/bin/man
util-linux:/usr/bin/unshare
iproute2:/usr/sbin/ip
time:/usr/bin/time
bsdutils:/usr/bin/script
bc:/usr/bin/bc
python3:/usr/bin/python3
libssl3:/usr/share/doc/libssl3
libbsd0:/usr/share/doc/libbsd0
libcap2:/usr/share/doc/libcap2
"

missing=""
for entry in $PACKAGES; do
    pkg=${entry%%:*}
    probe=${entry#*:}
    case $probe in
        */lib/x86_64-linux-gnu/*) probe=$(echo "$probe" | sed "s|x86_64-linux-gnu|$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)|") ;;
    esac
    [ -e "$probe" ] || missing="$missing $pkg"
done

need_ntpsec=no
[ -x "$TOOLS_DIR/ntpsec/usr/sbin/ntpd" ] || need_ntpsec=yes

if [ -z "$missing" ] && [ $need_ntpsec = no ]; then
    exit 0
fi

if [ "$(id -u)" != 0 ]; then
    echo "install-test-deps: missing:$missing$( [ $need_ntpsec = yes ] && echo ' ntpsec(unpacked)'); run as root to install them" >&2
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
    echo "install-test-deps: installing:$missing" >&2
    apt_update_once
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

if [ $need_ntpsec = yes ]; then
    echo "install-test-deps: unpacking ntpsec into $TOOLS_DIR/ntpsec" >&2
    apt_update_once
    workdir=$(mktemp -d)
    (cd "$workdir" && apt-get download -qq ntpsec >/dev/null)
    mkdir -p "$TOOLS_DIR/ntpsec"
    dpkg-deb -x "$workdir"/ntpsec_*.deb "$TOOLS_DIR/ntpsec"
    rm -rf "$workdir"
fi
