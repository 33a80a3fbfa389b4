#!/bin/sh
# `make bench`: each tool against the reference tools, measured in the same
# run on the same machine, as ratios (ours / theirs: below 1.0 means we are
# faster), and docs/benchmarks.md rewritten from this run's figures (date,
# machine, load, each ratio's min/median/max over paired rounds), so the
# documented figures are never older than the code.  Not a test: it never
# fails on a number.
#
# Data is generated once into target/bench-data and reused (the first run
# spends a few minutes on it).  On a quiet 2-core machine the rest takes
# under 10 minutes.
#   BENCH_ROUNDS   paired rounds per comparison (default 5)
#   BENCH_DOC      where the report goes (default docs/benchmarks.md)
#   SHARED         the shared corpus's parent (default ../shared)
#   AUGTOOL_LIMIT  seconds for one augtool run (default 60): augtool's time
#                  grows much faster than the file.
set -eu
bin=${1:-target/release}
cd "$(dirname "$0")/.."
data=target/bench-data
mkdir -p "$data"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM
gen=${SHARED:-../shared}/corpus/logs/gen.py
rounds=${BENCH_ROUNDS:-5}
doc=${BENCH_DOC:-docs/benchmarks.md}
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
began=$(date +%s)

# Wall-clock seconds of one run of a shell command.  Output goes through a
# pipe: GNU grep stops at the first match when its stdout is /dev/null.
seconds() {
    start=$(date +%s.%N)
    sh -c "$1" 2>/dev/null | cat >/dev/null || true
    end=$(date +%s.%N)
    echo "$end - $start" | bc -l
}
ratio() { echo "scale=4; $1 / $2" | bc -l | sed 's/^\./0./'; }
min_of() { echo "$@" | tr ' ' '\n' | sed '/^$/d' | sort -g | head -1; }
# "min / median / max" of the numbers given.
spread() {
    echo "$@" | tr ' ' '\n' | sed '/^$/d' | sort -g | awk '{ v[NR] = $1 } END {
        printf "%.2f / %.2f / %.2f", v[1], v[int((NR + 1) / 2)], v[NR] }'
}
median() { echo "$@" | tr ' ' '\n' | sed '/^$/d' | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
peak_mib() { /usr/bin/time -f %M sh -c "$1" 2>&1 >/dev/null | tail -1 | awk '{printf "%.0f", $1 / 1024}'; }

# compare INPUT OURS_LABEL "OURS" REF_LABEL "REF": paired rounds, ours and
# the reference in turn (this machine's speed drifts); one table row with
# the best time of each and the spread of the paired ratios.  Sets $med.
compare() {
    ratios=""
    ours_t=""
    ref_t=""
    i=0
    while [ $i -lt "$rounds" ]; do
        a=$(seconds "$3")
        b=$(seconds "$5")
        ratios="$ratios $(ratio "$a" "$b")"
        ours_t="$ours_t $a"
        ref_t="$ref_t $b"
        i=$((i + 1))
    done
    med=$(median $ratios)
    printf '| %s | `%s` %.2f s | `%s` %.2f s | %s |\n' "$1" "$2" "$(min_of $ours_t)" "$4" "$(min_of $ref_t)" "$(spread $ratios)" >>"$work/table"
    printf '  %-40s %-30s %s\n' "$1" "$4" "ratio min/median/max $(spread $ratios)"
}

# target LABEL MEDIAN LIMIT: one line of the targets list.
target() {
    if [ "$(echo "$2 <= $3" | bc -l)" = 1 ]; then verdict=met; else verdict="NOT met"; fi
    echo "- $1: median $2 (target <= $3): $verdict" >>"$work/targets"
    echo "  target: $1: median $2 (<= $3): $verdict"
}

echo "== data (generated once into $data) =="
log=$data/maillog-256m
if [ ! -s "$log" ]; then
    echo "  generating $log (a few minutes) ..."
    python3 "$gen" --size 256M --out "$log" --incidents 100 --seed 7 >/dev/null 2>&1
    rm -f "$log.stats.json"
fi
[ -s "$data/maillog-512m" ] || cat "$log" "$log" >"$data/maillog-512m"
[ -s "$log.gz" ] || gzip -k -f "$log"
[ -s "$log.bz2" ] || bzip2 -k -f "$log"
[ -s "$log.zst" ] || zstd -q -k -f -T0 "$log" -o "$log.zst"
[ -s "$log.pzstd.zst" ] || pzstd -q -p 2 -c "$log" >"$log.pzstd.zst"
set_dir=$data/rotated-4x64m
if [ ! -s "$set_dir/maillog.7.gz" ]; then
    mkdir -p "$set_dir"
    (cd "$set_dir" && split -n l/4 -d -a 1 "../maillog-256m" part.)
    i=0
    for part in "$set_dir"/part.*; do
        bzip2 -c "$part" >"$set_dir/maillog.$i.bz2"
        gzip -c "$part" >"$set_dir/maillog.$((i + 4)).gz"
        rm -f "$part"
        i=$((i + 1))
    done
fi
rotated=$(ls "$set_dir"/maillog.* | tr '\n' ' ')
for f in "$data/maillog-512m" "$log" "$log".*; do cat "$f" >/dev/null; done  # page cache, for all alike
mg=$bin/maillog-grep
size=$(wc -c <"$log")

echo
echo "== maillog-grep -c against ripgrep (issue 24's table) =="
: >"$work/table"
: >"$work/targets"
compare "512 MiB plain maillog" "maillog-grep -c" "$mg -c $data/maillog-512m" "rg -c 'moved backwards'" "rg -c 'moved backwards' $data/maillog-512m"
compare "4 × bz2 + 4 × gz rotated copies of 64 MiB" "maillog-grep -c" "$mg -c $rotated" "rg -z -c" "rg -z -c 'moved backwards' $rotated"
target "rotated 4 × bz2 + 4 × gz vs rg -z" "$med" 0.8
compare "one 256 MiB log as one .gz" "maillog-grep -c" "$mg -c $log.gz" "rg -z -c" "rg -z -c 'moved backwards' $log.gz"
compare "the same as one .bz2" "maillog-grep -c" "$mg -c $log.bz2" "rg -z -c" "rg -z -c 'moved backwards' $log.bz2"
target "one .bz2 vs rg -z -c" "$med" 0.55
compare "the same as one .bz2" "maillog-grep -c" "$mg -c $log.bz2" "lbzip2 -dc -n 2 \\| rg -c" "lbzip2 -dc -n 2 $log.bz2 | rg -c 'moved backwards'"
target "one .bz2 vs lbzip2 -dc -n 2 | rg -c" "$med" 1.2
compare "the same as one .zst (zstd -T0 writes one frame)" "maillog-grep -c" "$mg -c $log.zst" "rg -z -c" "rg -z -c 'moved backwards' $log.zst"
compare "the same as pzstd output (33 frames, decoded frame-parallel)" "maillog-grep -c" "$mg -c $log.pzstd.zst" "rg -z -c" "rg -z -c 'moved backwards' $log.pzstd.zst"
mv "$work/table" "$work/table-rg"
echo "  counts on the .bz2: maillog-grep $("$mg" -c "$log.bz2") events (plain: $("$mg" -c "$log")), rg $(rg -z -c 'moved backwards' "$log.bz2") lines"

echo
echo "== decode speed per core (MB of output per second per core, 256 MiB log) =="
: >"$work/table"
# decode LABEL CORES "COMMAND": best of the rounds, as a table row.
decode() {
    times=""
    i=0
    while [ $i -lt "$rounds" ]; do
        times="$times $(seconds "$3")"
        i=$((i + 1))
    done
    best=$(min_of $times)
    per_core=$(echo "$size / $best / $2 / 1000000" | bc -l)
    printf '| `%s` | %s | %.2f s | %.0f MB/s |\n' "$1" "$2" "$best" "$per_core" >>"$work/table"
    printf '  %-45s %s cores %8.2f s %6.0f MB/s per core\n' "$1" "$2" "$best" "$per_core"
}
decode "maillog-grep -j 1 -c .bz2" 1 "$mg -j 1 -c $log.bz2"
decode "bzip2 -dc" 1 "bzip2 -dc $log.bz2"
decode "lbzip2 -dc -n 1" 1 "lbzip2 -dc -n 1 $log.bz2"
decode "maillog-grep -j 2 -c .bz2" 2 "$mg -j 2 -c $log.bz2"
decode "lbzip2 -dc -n 2" 2 "lbzip2 -dc -n 2 $log.bz2"
decode "maillog-grep -j 1 -c .zst" 1 "$mg -j 1 -c $log.zst"
decode "zstd -dc" 1 "zstd -dc $log.zst"
decode "maillog-grep -j 2 -c .pzstd.zst" 2 "$mg -j 2 -c $log.pzstd.zst"
decode "pzstd -dc -p 2" 2 "pzstd -q -dc -p 2 $log.pzstd.zst"
decode "maillog-grep -j 1 -c .gz" 1 "$mg -j 1 -c $log.gz"
decode "gzip -dc" 1 "gzip -dc $log.gz"
mv "$work/table" "$work/table-decode"

echo
echo "== peak memory (MiB) =="
{
    echo "| run | peak RSS |"
    echo "|---|---|"
    for run in "$mg -c $data/maillog-512m" "$mg -c $log.bz2" "$mg -j 1 -c $log.bz2" "$mg -c $rotated" \
        "$mg --all --format json $log.bz2" "$mg -c $log.pzstd.zst" "lbzip2 -dc -n 2 $log.bz2" "rg -z -c 'moved backwards' $log.bz2"; do
        shown=$(echo "$run" | sed "s|$bin/||; s|$data/||g; s|rotated-4x64m/maillog\.0\.bz2|(the rotated set)|; s|rotated-4x64m/maillog\.[0-9]*\.[a-z0-9]* *||g")
        echo "| \`$shown\` | $(peak_mib "$run") MiB |"
    done
} >"$work/table-memory"
sed 's/^/  /' "$work/table-memory"

echo
echo "== maillog-grep: 300 MB of nothing but clock events (every variant of the reference) =="
dense=$data/events-300m
if [ ! -s "$dense" ]; then
    python3 - "${SHARED:-../shared}/corpus/logs/variants.log" "$dense" <<'PY'
import sys
lines = [l for l in open(sys.argv[1], encoding="utf-8", errors="replace") if l.strip() and not l.startswith("#")]
chunk = "".join(lines).encode()
with open(sys.argv[2], "wb") as out:
    for _ in range(300_000_000 // len(chunk) + 1):
        out.write(chunk)
PY
fi
cat "$dense" >/dev/null
: >"$work/table"
compare "300 MB of nothing but clock events (every line parsed)" "maillog-grep --all -c" "$mg --all -c $dense" "rg -c backward" "rg -c backward $dense"
cat "$work/table" >>"$work/table-rg"

row() { printf '  %-52s %8.3f s\n' "$1" "$2"; }
best_of() {
    n=$1; shift
    best=""
    i=0
    while [ $i -lt "$n" ]; do
        t=$(seconds "$*")
        if [ -z "$best" ] || [ "$(echo "$t < $best" | bc -l)" = 1 ]; then best=$t; fi
        i=$((i + 1))
    done
    echo "$best"
}
: >"$work/table-other"
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
floor=$(best_of 5 "cat '$tree'/etc/xinetd.conf '$tree'/etc/xinetd.d/*")
row "xinetd-lint --root (10,000 services)" "$ours"
row "cat of the same files" "$floor"
echo "  active services: $("$bin/xinetd-lint" --services --root "$tree" | grep -c '^active')   findings: $("$bin/xinetd-lint" --root "$tree" | wc -l)"
echo "  ratio xinetd-lint/cat = $(ratio "$ours" "$floor")"
echo "| xinetd-lint --root, 10,000 service files | cat of the same files | $(ratio "$ours" "$floor") × (best of 5 each) |" >>"$work/table-other"

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
    # best_of hands its words to `sh -c` as one command line: a nested
    # `sh -c "cp ... && ..."` would run a bare `cp` (the rest became its $0
    # and $1), fail, and skip the edit, timing nothing.
    ours=$(best_of 5 "cp '$work/n$n.orig' '$work/n$n/etc/ntp.conf' && '$bin/ntpconf-edit' -i set panic=0 '$work/n$n/etc/ntp.conf'")
    # `--check` exits 1 when the edit would still change the file: after
    # the timed runs it must find tinker panic 0 already there.
    "$bin/ntpconf-edit" --check set panic=0 "$work/n$n/etc/ntp.conf" || echo "  warning: ntpconf-edit did not apply the edit"
    if ! command -v augtool >/dev/null 2>&1; then
        row "ntpconf-edit -i set panic=0 ($n lines)" "$ours"
        echo "  (augtool not installed: run scripts/install-test-deps.sh)"
        continue
    fi
    cp "$work/n$n.orig" "$work/n$n/etc/ntp.conf"
    limit=${AUGTOOL_LIMIT:-60}
    start=$(date +%s.%N)
    if timeout "$limit" augtool -r "$work/n$n" -s 'set /files/etc/ntp.conf/tinker/panic 0' >/dev/null 2>&1; then
        end=$(date +%s.%N)
        aug=$(echo "$end - $start" | bc -l)
        grep -q '^tinker panic 0' "$work/n$n/etc/ntp.conf" || echo "  warning: augtool did not apply the edit"
        row "ntpconf-edit -i set panic=0 ($n lines)" "$ours"
        row "augtool set /files/etc/ntp.conf/tinker/panic 0" "$aug"
        echo "  ratio ntpconf-edit/augtool = $(ratio "$ours" "$aug")"
        echo "| ntpconf-edit -i set panic=0, $n-line ntp.conf | augtool set (one run) | $(ratio "$ours" "$aug") × |" >>"$work/table-other"
    else
        row "ntpconf-edit -i set panic=0 ($n lines)" "$ours"
        echo "  augtool did not finish within ${limit} s: ratio below $(ratio "$ours" "$limit")"
        echo "| ntpconf-edit -i set panic=0, $n-line ntp.conf | augtool set (stopped after ${limit} s) | below $(ratio "$ours" "$limit") × |" >>"$work/table-other"
    fi
done

echo "== growth at 1x, 10x, 100x input (issue 21: every loop over input near-linear) =="
sh scripts/bench-scaling.sh "$bin" | tee "$work/scaling"

# The report: this run's figures, nothing else.
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
took=$(( $(date +%s) - began ))
cpu=$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //' || uname -m)
mem=$(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
if ! git diff --quiet HEAD -- . 2>/dev/null; then commit="$commit (with uncommitted changes)"; fi
{
    cat <<EOF
# Benchmarks

Written by \`make bench\` (\`scripts/bench.sh\`) from its own run: every figure below is
from the run described here, and the file is rewritten by each run, so it is never older
than the code it measures. Each comparison runs ours and the reference in turn for
$rounds paired rounds (this machine's speed drifts); a ratio is ours / theirs (below 1.0:
we are faster), given as min / median / max over the rounds, with the best time of each.
A timed test never proves speed; only these ratios do.

- Date: $(date -u +%Y-%m-%dT%H:%MZ), commit $commit, $took s in all
- Machine: $(uname -srm), $cpu, $(nproc) CPUs, $mem
- Load average before / after: $load_before / $load_after (a quiet machine is below 0.5;
  other work during the run makes every ratio noisier and the parallel runs slower)

## maillog-grep against ripgrep

The input is one 256 MiB log from the shared generator (\`gen.py --size 256M --seed 7\`,
100 incidents), compressed by the real tools; the plain case is it twice (512 MiB); the
rotated set is it split in four, each part as bzip2 and as gzip. Page cache warm.

| input | ours (best) | reference (best) | ratio min / median / max |
|---|---|---|---|
EOF
    cat "$work/table-rg"
    printf '\nTargets (issue 24):\n\n'
    cat "$work/targets"
    cat <<EOF

## Decoding speed per core

Decoded megabytes (10^6 bytes of the 256 MiB log) per second and per core used, best of
$rounds. maillog-grep's figure includes searching the decoded text; the others only decode
to a pipe.

| run | cores | best | per core |
|---|---|---|---|
EOF
    cat "$work/table-decode"
    printf '\n## Peak memory\n\nPeak resident set size of one run (`/usr/bin/time -f %%M`).\n\n'
    cat "$work/table-memory"
    printf '\n## xinetd-lint and ntpconf-edit\n\n| run | compared with | ratio |\n|---|---|---|\n'
    cat "$work/table-other"
    printf '\n## Growth with the input (issue 21)\n\n'
    printf 'Each input-driven path at 1x, 10x and 100x its base size (scripts/bench-scaling.sh):\n'
    printf 'the best time of a few runs at each, the empty input time taken off; linear is about\n'
    printf '10x per step, and a step over 20x is flagged SUPER-LINEAR.\n\n'
    printf '%s\n' '```'
    cat "$work/scaling"
    printf '%s\n' '```'
    printf '\nHow maillog-grep gets there: [maillog-grep-search.md](maillog-grep-search.md).\n'
} >"$doc"
echo
echo "wrote $doc ($took s)"
