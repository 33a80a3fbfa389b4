#!/bin/sh
# `make bench`: each tool against the reference tools, measured in the same
# run on the same machine, printed as ratios.  Not a test: it never fails on
# a number.
set -eu
bin=${1:-target/release}
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM

# Best wall-clock seconds of N runs of a command.
best_of() {
    n=$1; shift
    best=""
    i=0
    while [ $i -lt "$n" ]; do
        start=$(date +%s.%N)
        "$@" >/dev/null 2>&1 || true
        end=$(date +%s.%N)
        t=$(echo "$end - $start" | bc -l)
        if [ -z "$best" ] || [ "$(echo "$t < $best" | bc -l)" = 1 ]; then best=$t; fi
        i=$((i + 1))
    done
    echo "$best"
}
ratio() { echo "scale=3; $1 / $2" | bc -l; }

echo "== ntpconf-edit: set panic=0 on a 100,000-line ntp.conf =="
# A file augtool's Ntp lens can parse: column-0 lines it knows, one tinker line.
python3 - "$work/etc/ntp.conf" <<'PY'
import os, sys
path = sys.argv[1]
os.makedirs(os.path.dirname(path), exist_ok=True)
with open(path, "w") as f:
    f.write("# generated for the benchmark\ntinker panic 5\n")
    for i in range(99_998):
        if i % 3 == 0:
            f.write(f"# comment {i}\n")
        elif i % 3 == 1:
            f.write(f"server 10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256} iburst\n")
        else:
            f.write(f"restrict 10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256} nomodify notrap\n")
PY
cp "$work/etc/ntp.conf" "$work/ntp.conf.orig"
ours=$(best_of 5 sh -c "cp '$work/ntp.conf.orig' '$work/etc/ntp.conf' && '$bin/ntpconf-edit' -i set panic=0 '$work/etc/ntp.conf'")
"$bin/ntpconf-edit" show "$work/etc/ntp.conf"
if command -v augtool >/dev/null 2>&1; then
    aug=$(best_of 3 sh -c "cp '$work/ntp.conf.orig' '$work/etc/ntp.conf' && augtool -r '$work' -s 'set /files/etc/ntp.conf/tinker/panic 0'")
    grep -c '^tinker panic 0' "$work/etc/ntp.conf" >/dev/null || echo "warning: augtool did not apply the edit"
    printf 'ntpconf-edit %.3fs   augtool %.3fs   ratio ntpconf-edit/augtool = %s\n' "$ours" "$aug" "$(ratio "$ours" "$aug")"
else
    printf 'ntpconf-edit %.3fs   (augtool not installed: run scripts/install-test-deps.sh)\n' "$ours"
fi
