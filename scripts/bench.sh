#!/bin/sh
# `make bench`: each tool against the reference tools, measured in the same
# run on the same machine, printed as ratios (ours / theirs: below 1.0 means
# we are faster).  Not a test: it never fails on a number.
#
# Data is generated once into target/bench-data and reused.
# AUGTOOL_LIMIT (seconds, default 1200) bounds the one augtool run on the
# 100,000-line file: augtool's time grows much faster than the file.
set -eu
bin=${1:-target/release}
cd "$(dirname "$0")/.."
data=target/bench-data
mkdir -p "$data"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM
gen=../shared/corpus/logs/gen.py

# Best wall-clock seconds of N runs.  Output goes through a pipe: GNU grep
# stops at the first match when its stdout is /dev/null.
best_of() {
    n=$1; shift
    best=""
    i=0
    while [ $i -lt "$n" ]; do
        start=$(date +%s.%N)
        "$@" 2>/dev/null | cat >/dev/null || true
        end=$(date +%s.%N)
        t=$(echo "$end - $start" | bc -l)
        if [ -z "$best" ] || [ "$(echo "$t < $best" | bc -l)" = 1 ]; then best=$t; fi
        i=$((i + 1))
    done
    echo "$best"
}
ratio() { echo "scale=6; $1 / $2" | bc -l | sed 's/^\./0./'; }
peak_mib() { /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1 | awk '{printf "%.1f", $1 / 1024}'; }
row() { printf '  %-52s %8.3f s\n' "$1" "$2"; }

echo "== maillog-grep: 1 GiB synthetic maillog (shared generator, 300 incidents) =="
big=$data/maillog-1g
if [ ! -s "$big" ]; then
    echo "  generating $big (about a minute) ..."
    python3 "$gen" --size 1G --out "$big" --incidents 300 --seed 1 >/dev/null 2>&1
fi
cat "$big" >/dev/null   # page cache, for every tool alike
# This machine's speed drifts between runs, so the two are timed in turn,
# round after round: the best of each, and the median of the paired ratios.
rounds=9
pairs=""
ours=""
rg_t=""
i=0
while [ $i -lt $rounds ]; do
    a=$(best_of 1 "$bin/maillog-grep" -c "$big")
    b=$(best_of 1 rg -c 'moved backwards' "$big")
    pairs="$pairs $(ratio "$a" "$b")"
    if [ -z "$ours" ] || [ "$(echo "$a < $ours" | bc -l)" = 1 ]; then ours=$a; fi
    if [ -z "$rg_t" ] || [ "$(echo "$b < $rg_t" | bc -l)" = 1 ]; then rg_t=$b; fi
    i=$((i + 1))
done
median=$(echo $pairs | tr ' ' '\n' | sort -n | sed -n "$(( (rounds + 1) / 2 ))p")
grep_t=$(best_of 3 env LC_ALL=C grep -c -F 'moved backwards' "$big")
row "maillog-grep -c (parses each event, both cores)" "$ours"
row "rg -c 'moved backwards'" "$rg_t"
row "LC_ALL=C grep -c -F 'moved backwards'" "$grep_t"
echo "  counts: maillog-grep $("$bin/maillog-grep" -c "$big"), rg $(rg -c 'moved backwards' "$big") lines, grep $(LC_ALL=C grep -c -F 'moved backwards' "$big") lines"
echo "  ratio maillog-grep/rg = $(ratio "$ours" "$rg_t") (best of $rounds each), median of $rounds paired rounds = $median   maillog-grep/grep = $(ratio "$ours" "$grep_t")"
echo "  paired rounds:$pairs"
one=$(best_of 3 "$bin/maillog-grep" -j 1 -c "$big")
row "maillog-grep -j 1 -c (one core)" "$one"
echo "  ratio maillog-grep -j1/rg = $(ratio "$one" "$rg_t")"
json=$(best_of 3 "$bin/maillog-grep" --all --format json "$big")
row "maillog-grep --all --format json (counts lines, both cores)" "$json"
echo "  peak memory: maillog-grep -c $(peak_mib "$bin/maillog-grep" -c "$big") MiB, --all --format json $(peak_mib "$bin/maillog-grep" --all --format json "$big") MiB"

echo
echo "== maillog-grep: 300 MB of nothing but clock events (every variant of the reference) =="
dense=$data/events-300m
if [ ! -s "$dense" ]; then
    python3 - ../shared/corpus/logs/variants.log "$dense" <<'PY'
import sys
lines = [l for l in open(sys.argv[1], encoding="utf-8", errors="replace") if l.strip() and not l.startswith("#")]
chunk = "".join(lines).encode()
with open(sys.argv[2], "wb") as out:
    for _ in range(300_000_000 // len(chunk) + 1):
        out.write(chunk)
PY
fi
cat "$dense" >/dev/null
ours=$(best_of 3 "$bin/maillog-grep" --all -c "$dense")
rg_t=$(best_of 3 rg -c 'backward' "$dense")
row "maillog-grep --all -c (every line parsed as an event)" "$ours"
row "rg -c 'backward'" "$rg_t"
echo "  events: $("$bin/maillog-grep" --all -c "$dense")   ratio maillog-grep/rg = $(ratio "$ours" "$rg_t")"
echo "  peak memory (the file is $(( $(wc -c < "$dense") / 1048576 )) MiB): --all -c $(peak_mib "$bin/maillog-grep" --all -c "$dense") MiB," \
    "lines $(peak_mib "$bin/maillog-grep" --all "$dense") MiB, rg -c $(peak_mib rg -c 'backward' "$dense") MiB," \
    "--all --format json $(peak_mib "$bin/maillog-grep" --all --format json "$dense") MiB"

echo
echo "== maillog-grep: 7 bzip2 + 7 gzip rotated files (32 MiB each before compression) =="
set_dir=$data/rotated
if [ ! -s "$set_dir/maillog.13.gz" ]; then
    echo "  generating and compressing (about a minute) ..."
    mkdir -p "$set_dir"
    i=0
    while [ $i -lt 14 ]; do
        python3 "$gen" --size 32M --out "$set_dir/maillog.$i" --incidents 10 --seed $((100 + i)) >/dev/null 2>&1
        rm -f "$set_dir/maillog.$i.stats.json"
        if [ $i -lt 7 ]; then bzip2 -f "$set_dir/maillog.$i"; else gzip -f "$set_dir/maillog.$i"; fi
        i=$((i + 1))
    done
fi
# Space-separated lists (they are pasted into `sh -c` below).
bz=$(ls "$set_dir"/*.bz2 | tr '\n' ' ')
gz=$(ls "$set_dir"/*.gz | tr '\n' ' ')
# shellcheck disable=SC2086
ours=$(best_of 3 "$bin/maillog-grep" -c $bz $gz)
# shellcheck disable=SC2086
rg_t=$(best_of 3 rg -z -c 'moved backwards' $bz $gz)
# shellcheck disable=SC2086
zg_t=$(best_of 3 sh -c "bzgrep -c 'moved backwards' $bz; zgrep -c 'moved backwards' $gz")
row "maillog-grep -c (in-process decoders, both cores)" "$ours"
row "rg -z -c 'moved backwards'" "$rg_t"
row "bzgrep -c + zgrep -c" "$zg_t"
echo "  ratio maillog-grep/rg -z = $(ratio "$ours" "$rg_t")   maillog-grep/bzgrep+zgrep = $(ratio "$ours" "$zg_t")"
# shellcheck disable=SC2086
echo "  peak memory: maillog-grep $(peak_mib "$bin/maillog-grep" -c $bz $gz) MiB"

echo
echo "== xinetd-lint: a tree of 10,000 service files, next to cat (the I/O floor) =="
tree=$data/xinetd-10k
if [ ! -s "$tree/etc/xinetd.d/svc09999" ]; then
    python3 - "$tree" <<'PY'
import os, sys
root = sys.argv[1]
os.makedirs(f"{root}/etc/xinetd.d", exist_ok=True)
with open(f"{root}/etc/xinetd.conf", "w") as f:
    f.write("defaults\n{\n\tinstances = 60\n\tlog_type = SYSLOG daemon info\n}\nincludedir /etc/xinetd.d\n")
with open(f"{root}/etc/services", "w") as f:
    f.writelines(f"svc{i:05d} {10000 + i}/tcp\n" for i in range(10000))
with open(f"{root}/etc/protocols", "w") as f:
    f.write("tcp 6 TCP\nudp 17 UDP\n")
with open(f"{root}/etc/passwd", "w") as f:
    f.write("root:*:0:0::/root:/bin/sh\n")
os.makedirs(f"{root}/usr/sbin", exist_ok=True)
with open(f"{root}/usr/sbin/daemon", "w") as f:
    f.write("#!/bin/sh\n")
os.chmod(f"{root}/usr/sbin/daemon", 0o755)
for i in range(10000):
    mistake = "\tper_source = 5 # limit\n" if i % 10 == 0 else ""
    with open(f"{root}/etc/xinetd.d/svc{i:05d}", "w") as f:
        f.write(f"# service {i}\nservice svc{i:05d}\n{{\n\tsocket_type = stream\n\twait = no\n\tuser = root\n"
                f"\tserver = /usr/sbin/daemon\n\tserver_args = -i\n\tonly_from = 127.0.0.1 10.0.0.0/8\n{mistake}\tdisable = no\n}}\n")
PY
fi
ours=$(best_of 5 "$bin/xinetd-lint" --root "$tree")
floor=$(best_of 5 sh -c "cat '$tree'/etc/xinetd.conf '$tree'/etc/xinetd.d/*")
row "xinetd-lint --root (10,000 services)" "$ours"
row "cat of the same files" "$floor"
echo "  active services: $("$bin/xinetd-lint" --services --root "$tree" | grep -c '^active')   findings: $("$bin/xinetd-lint" --root "$tree" | wc -l)"
echo "  ratio xinetd-lint/cat = $(ratio "$ours" "$floor")"

echo "== ntpconf-edit: set panic=0 on a 100,000-line ntp.conf augtool can parse =="
mkfile() {
    python3 - "$1" "$2" <<'PY'
import os, sys
path, n = sys.argv[1], int(sys.argv[2])
os.makedirs(os.path.dirname(path), exist_ok=True)
with open(path, "w") as f:
    # Column-0 lines the augeas Ntp lens knows, one tinker line.
    f.write("# generated for the benchmark\ntinker panic 5\n")
    for i in range(n - 2):
        a, b, c = i // 65536 % 256, i // 256 % 256, i % 256
        f.write([f"# comment {i}\n", f"server 10.{a}.{b}.{c} iburst\n", f"restrict 10.{a}.{b}.{c} nomodify notrap\n"][i % 3])
PY
}
for n in 10000 100000; do
    mkfile "$work/n$n/etc/ntp.conf" $n
    cp "$work/n$n/etc/ntp.conf" "$work/n$n.orig"
    ours=$(best_of 5 sh -c "cp '$work/n$n.orig' '$work/n$n/etc/ntp.conf' && '$bin/ntpconf-edit' -i set panic=0 '$work/n$n/etc/ntp.conf'")
    "$bin/ntpconf-edit" --check set panic=0 "$work/n$n/etc/ntp.conf" || echo "  warning: ntpconf-edit did not apply the edit"
    if ! command -v augtool >/dev/null 2>&1; then
        row "ntpconf-edit -i set panic=0 ($n lines)" "$ours"
        echo "  (augtool not installed: run scripts/install-test-deps.sh)"
        continue
    fi
    cp "$work/n$n.orig" "$work/n$n/etc/ntp.conf"
    limit=${AUGTOOL_LIMIT:-1200}
    start=$(date +%s.%N)
    if timeout "$limit" augtool -r "$work/n$n" -s 'set /files/etc/ntp.conf/tinker/panic 0' >/dev/null 2>&1; then
        end=$(date +%s.%N)
        aug=$(echo "$end - $start" | bc -l)
        grep -q '^tinker panic 0' "$work/n$n/etc/ntp.conf" || echo "  warning: augtool did not apply the edit"
        row "ntpconf-edit -i set panic=0 ($n lines)" "$ours"
        row "augtool set /files/etc/ntp.conf/tinker/panic 0" "$aug"
        echo "  ratio ntpconf-edit/augtool = $(ratio "$ours" "$aug")"
    else
        row "ntpconf-edit -i set panic=0 ($n lines)" "$ours"
        echo "  augtool did not finish within ${limit} s: ratio below $(ratio "$ours" "$limit")"
    fi
done

echo "== maillog-grep --summary and dovecot.conf instance_name at 1x, 10x, 100x (issue 21: near-linear) =="
# N dovecot deaths, each a second after an ntpd step (every event is paired
# with a step), and a dovecot.conf of N distinct instance_name lines; the
# time should grow about 10x per row.  Reference: grep -c over the same log.
for n in 2000 20000 200000; do
    log=$data/summary-$n.log
    if [ ! -s "$log" ]; then
        awk -v n="$n" 'BEGIN {
            for (i = 0; i < n; i++) {
                t = i * 7; h = int(t / 3600) % 24; m = int(t / 60) % 60; s = t % 60;
                printf "Nov 26 %02d:%02d:%02d mail1 ntpd[752]: 0.0.0.0 c61c 0c clock_step -6.5 s\n", h, m, s;
                printf "Nov 26 %02d:%02d:%02d mail1 dovecot: imap(u%d)<%d><s>: Fatal: Time just moved backwards by 6.5 seconds. This might cause a lot of problems, so I%cll just kill myself now.\n", h, m, s, i, i, 39;
            } }' > "$log"
    fi
    tree=$data/instance-$n
    if [ ! -s "$tree/etc/dovecot/dovecot.conf" ]; then
        mkdir -p "$tree/etc/dovecot"
        awk -v n="$n" 'BEGIN { for (i = 0; i < n; i++) printf "instance_name = dovecot-%d\n", i }' > "$tree/etc/dovecot/dovecot.conf"
    fi
    ours=$(best_of 3 "$bin/maillog-grep" --summary --year 2026 "$log")
    ref=$(best_of 3 grep -c "moved backwards" "$log")
    conf=$(best_of 3 "$bin/maillog-grep" --root "$tree" --year 2026 /dev/null)
    row "--summary, $n events x $n steps" "$ours"
    row "grep -c of the same log" "$ref"
    row "dovecot.conf with $n instance_name lines" "$conf"
    echo "  ratio maillog-grep --summary/grep = $(ratio "$ours" "$ref")"
done
