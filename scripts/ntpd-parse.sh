#!/bin/sh
# Runs a real ntpd parse-only on one ntp.conf and prints what it applied, in
# a form both dialects share:
#   error LINE COL        a syntax error ntpd reported (file order)
#   item KEY VALUE        a loop_config call (tinker), in the order applied
#   exit                  ntpd exited at start-up: while parsing, or applying
#                         the configuration (it never created its sockets)
#   why TEXT              before `exit`: ntpd's last message, its reason
#                         (`Double too large to represent: 1e-400`)
#   parsed                ntpd finished parsing and went on to start
# Usage: ntpd-parse.sh classic|ntpsec CONF [TOOLS_DIR]
# ntpd runs in NTPD_CWD (default /, as rc starts it): classic ntpd opens a
# relative includefile from there.
# The daemon runs in a private network and mount namespace (tmpfs over /var)
# without CAP_SYS_TIME, so it can never touch the clock; it is stopped by its
# PID as soon as it has printed its configuration (reference A1.4).
set -eu
dialect=$1
conf=$2
tools=${3:-$(cd "$(dirname "$0")/.." && pwd)/target/test-tools}
case $dialect in
    classic)
        ntpd=$tools/ntp-classic/usr/sbin/ntpd
        LD_LIBRARY_PATH=$(echo "$tools"/ntp-classic/usr/lib/*-linux-gnu*)
        export LD_LIBRARY_PATH ;;
    ntpsec) ntpd=$tools/ntpsec/usr/sbin/ntpd ;;
    *) echo "ntpd-parse: dialect is classic or ntpsec" >&2; exit 2 ;;
esac
[ -x "$ntpd" ] || { echo "ntpd-parse: $ntpd missing: run scripts/install-test-deps.sh" >&2; exit 2; }
out=$(mktemp)
trap 'rm -f "$out"' EXIT
script='mount -t tmpfs tmpfs /var && cd "${NTPD_CWD:-/}" && exec setpriv --bounding-set=-sys_time --inh-caps=-sys_time "$0" -n -D 2 -c "$1" >"$2" 2>&1'
unshare -n -m --propagation private sh -c "$script" "$ntpd" "$conf" "$out" &
pid=$!
# Wait until the configuration is applied (sockets are next), ntpd exits, or 10 s.
i=0
while [ $i -lt 200 ]; do
    if grep -q '^create_sockets' "$out" 2>/dev/null; then break; fi
    kill -0 $pid 2>/dev/null || break
    sleep 0.05
    i=$((i + 1))
done
kill $pid 2>/dev/null || true
wait $pid 2>/dev/null || true
awk '
/syntax error in .* line [0-9]+, column [0-9]+/ {
    s = $0; sub(/.* line /, "", s); split(s, a, /, column /); print "error", a[1] + 0, a[2] + 0; next }
/^Finished Parsing/ { parsed = 1; next }
/^loop_config: item / {
    k = $3
    n = (k == 3) ? "step" : (k == 4) ? "stepback" : (k == 5) ? "stepfwd" : (k == 6) ? "panic" : \
        (k == 7) ? "dispersion" : (k == 8) ? "stepout" : (k == 10) ? "allan" : (k == 11) ? "huffpuff" : \
        (k == 12) ? "freq" : (k == 14 || k == 15) ? "tick" : "item" k
    if (k != 1) print "item", n, $5
    next }
/^create_sockets/ { sockets = 1 }
NF { last = $0 }
END {
    if (parsed && sockets) { print "parsed"; exit }
    # Drop the syslog-style stamp and "ntpd[PID]: " (and NTPsec'"'"'s "CONFIG: ").
    sub(/^.*ntpd\[[0-9]+\]: /, "", last); sub(/^[A-Z]+: /, "", last)
    print "why", last
    print "exit"
}
' "$out"
