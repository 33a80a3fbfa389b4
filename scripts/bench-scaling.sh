#!/bin/sh
# Scaling bench (issue 21, "every loop over input is near-linear"): each
# input-driven path at 1x, 10x and 100x its base size, the best time of a
# few runs at each, and the growth per 10x.  The time of a run on the
# empty input (start-up, the fixed work) is taken off first, so the
# growth is the input's own.  Linear growth is about 10 per step; a step
# over SUPERLINEAR (default 20) is flagged SUPER-LINEAR.  A
# run over CAP seconds (default 120) is stopped and flagged too.  Not a
# test: it never fails on a number.  `make bench` runs it (bench.sh calls
# it); alone: sh scripts/bench-scaling.sh [BINDIR] [CASE...].
#
# Cases (inputs generated once into target/bench-data/scaling and reused):
#   passwd    xinetd-lint: S services, each with user= and group=, against
#             /etc/passwd and /etc/group of A accounts (both grow): the
#             look-ups of every service in tables that grow with it, and
#             xinetd's duplicate and bind checks of each service against
#             the earlier ones.  Up to 1000x: at 100x the step from 10x is
#             too short to judge, and a quadratic check (fixed: 30,000
#             services took 3.1 s) only shows from 100x to 1000x.
#   summary   maillog-grep --summary: E dovecot backward events and E clock
#             steps on one host: pairing each event with its step.
#   instance  maillog-grep: a dovecot.conf of N instance_name lines under
#             --root (each a dovecot ident), and a one-line log.
# To add a case: a function make_CASE F DIR that writes the input of
# scale F into DIR, and run_CASE DIR that runs the tool on it (through
# `capped`).
set -eu
bin=${1:-target/release}
[ $# -gt 0 ] && shift
cases=${*:-passwd summary instance}
cd "$(dirname "$0")/.."
data=target/bench-data/scaling-v2
mkdir -p "$data"
cap=${CAP:-120}
superlinear=${SUPERLINEAR:-20}

# A tool's run, stopped after $cap seconds (exit 124).
capped() { timeout "$cap" "$@"; }

# Best wall-clock seconds of N runs of a command (a run_CASE function,
# which runs its tool through `capped`), or "cap" when one was stopped.
best_of() {
    n=$1; shift
    best=""
    i=0
    while [ $i -lt "$n" ]; do
        start=$(date +%s.%N)
        status=0
        "$@" >/dev/null 2>&1 || status=$?
        end=$(date +%s.%N)
        [ "$status" = 124 ] && { echo cap; return; }
        t=$(echo "$end - $start" | bc -l)
        if [ -z "$best" ] || [ "$(echo "$t < $best" | bc -l)" = 1 ]; then best=$t; fi
        i=$((i + 1))
    done
    echo "$best"
}

# The growth from one scale to the next, flagged when super-linear.
growth() {
    if [ "$1" = cap ] || [ "$2" = cap ]; then
        [ "$2" = cap ] && echo "over ${cap} s  SUPER-LINEAR (or hung)" || echo "-"
        return
    fi
    g=$(echo "scale=2; $2 / $1" | bc -l | sed 's/^\./0./')
    # Under 50 ms the machine's noise is as large as the work.
    if [ "$(echo "$1 < 0.05" | bc -l)" = 1 ]; then
        echo "x$g  (too short to judge)"
    elif [ "$(echo "$g > $superlinear" | bc -l)" = 1 ]; then
        echo "x$g  SUPER-LINEAR"
    else
        echo "x$g"
    fi
}

# The scales a case runs at (0: the empty input).
scales_of() {
    case $1 in
    passwd) echo 0 1 10 100 1000 ;;
    *) echo 0 1 10 100 ;;
    esac
}

# scale CASE UNIT: generates the inputs at 0x (empty), 1x, 10x, 100x
# (once), times each, prints one row per scale with the growth from the
# previous one, the empty run's time taken off both.
scale() {
    name=$1 unit=$2
    echo "== $name: $unit"
    prev=""
    empty=0
    for f in $(scales_of "$name"); do
        dir=$data/$name-x$f
        if [ ! -e "$dir/.done" ]; then
            rm -rf "$dir"
            mkdir -p "$dir"
            "make_$name" "$f" "$dir"
            touch "$dir/.done"
        fi
        # More runs where a run is short and the machine's noise large.
        case $f in 0 | 1) runs=7 ;; 10 | 100) runs=3 ;; *) runs=1 ;; esac
        t=$(best_of $runs "run_$name" "$dir")
        if [ $f = 0 ]; then
            [ "$t" = cap ] && { echo "  the empty input took over ${cap} s"; return; }
            empty=$t
            printf '  %4sx  %8.3f s   (empty input: start-up, taken off below)\n' "$f" "$t"
            continue
        fi
        [ "$t" = cap ] || t=$(echo "t = $t - $empty; if (t < 0.0005) t = 0.0005; t" | bc -l)
        if [ -z "$prev" ]; then
            g="(base)"
        else
            g=$(growth "$prev" "$t")
        fi
        if [ "$t" = cap ]; then
            printf '  %4sx  %10s   %s\n' "$f" "> ${cap} s" "$g"
        else
            printf '  %4sx  %8.3f s   %s\n' "$f" "$t" "$g"
        fi
        prev=$t
        # A capped step makes the next one pointless.
        if [ "$t" = cap ]; then break; fi
    done
}

make_passwd() {
    python3 - "$1" "$2" <<'PY'
import os, sys
f, d = int(sys.argv[1]), sys.argv[2]
services, accounts = 100 * f, 200 * f
os.makedirs(f"{d}/etc", exist_ok=True)
os.makedirs(f"{d}/bin", exist_ok=True)
with open(f"{d}/etc/passwd", "w") as p, open(f"{d}/etc/group", "w") as g:
    for n in range(accounts):
        p.write(f"user{n}:*:{n}:{n}::/nonexistent:/usr/sbin/nologin\n")
        g.write(f"group{n}:*:{n}:\n")
with open(f"{d}/etc/services", "w") as s, open(f"{d}/etc/xinetd.conf", "w") as c:
    c.write("defaults\n{\n}\n")
    for n in range(services):
        u = accounts - 1 - n % 100  # the end of the table: a scan reads it all
        # Ports wrap past 60,000 services: the later ones then share a
        # port with an earlier one, as duplicates do.
        s.write(f"svc{n} {1024 + n % 60000}/tcp\n")
        c.write(f"service svc{n}\n{{\n\tsocket_type = stream\n\twait = no\n"
                f"\tuser = user{u}\n\tgroup = group{u}\n\tserver = /bin/true\n}}\n")
with open(f"{d}/etc/protocols", "w") as pr:
    pr.write("tcp 6 TCP\n")
with open(f"{d}/bin/true", "w") as t:
    t.write("#!/bin/sh\n")
os.chmod(f"{d}/bin/true", 0o755)
PY
}
run_passwd() { capped "$bin/xinetd-lint" --root "$1"; }

make_summary() {
    python3 - "$1" "$2" <<'PY'
import sys
f, d = int(sys.argv[1]), sys.argv[2]
events = 1000 * f
with open(f"{d}/maillog", "w") as log:
    for n in range(events):
        t = n * 30  # one step and one death every 30 s, within a year
        day, s = divmod(t, 86400)
        month, day = divmod(day, 28)
        stamp = lambda sec: "%s %2d %02d:%02d:%02d" % (
            ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"][month % 12],
            day + 1, sec // 3600, sec // 60 % 60, sec % 60)
        log.write(f"{stamp(s)} mx1 ntpd[76]: 0.0.0.0 c61c 0c clock_step -4.100000 s\n")
        log.write(f"{stamp(min(s + 4, 86399))} mx1 dovecot: imap(4711): Fatal: Time just moved "
                  "backwards by 4.100000 seconds. This might cause a lot of problems, "
                  "so I'll just kill myself now.\n")
PY
}
run_summary() { capped "$bin/maillog-grep" --summary --year 2026 "$1/maillog"; }

make_instance() {
    python3 - "$1" "$2" <<'PY'
import os, sys
f, d = int(sys.argv[1]), sys.argv[2]
os.makedirs(f"{d}/etc/dovecot", exist_ok=True)
os.makedirs(f"{d}/var/log", exist_ok=True)
with open(f"{d}/etc/dovecot/dovecot.conf", "w") as c:
    for n in range(1000 * f):
        c.write(f"instance_name = dovecot-{n}\n")
with open(f"{d}/var/log/maillog", "w") as log:
    log.write("Mar  4 14:34:09 mx1 dovecot-7: imap(4711): Fatal: Time just moved backwards "
              "by 40.100000 seconds. This might cause a lot of problems, so I'll just kill myself now.\n")
PY
}
run_instance() { capped "$bin/maillog-grep" --root "$1" --year 2026; }

echo "Scaling: best wall-clock time at 1x, 10x, 100x (and 1000x) input (growth per 10x; linear is about x10)"
for c in $cases; do
    scale "$c" "$(case $c in
        passwd) echo "xinetd-lint, 100/1,000/10,000/100,000 services x 200/2,000/20,000/200,000 accounts" ;;
        summary) echo "maillog-grep --summary, 1,000/10,000/100,000 dovecot events and as many clock steps" ;;
        instance) echo "maillog-grep --root, dovecot.conf of 1,000/10,000/100,000 instance_name lines" ;;
        *) echo "$c" ;;
    esac)"
done
