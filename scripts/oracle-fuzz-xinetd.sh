#!/bin/sh
# `make oracle-fuzz-xinetd SEED=14 COUNT=2000`: the differential fuzzer of
# xinetd-lint against Debian's real xinetd (scripts/oracle_fuzz_xinetd.py).
# Generated configuration trees with a fixed seed, each read by the real
# xinetd (debug log, private network namespace) and by xinetd-lint
# (--services --format json); per-service verdicts compared, every
# disagreement minimised and checked against
# scripts/oracle-fuzz-xinetd.explained.  Exit 1 on a disagreement that is not
# explained there, 2 when it cannot run (needs root, xinetd, script, ip).
#
# usage: oracle-fuzz-xinetd.sh [SEED [COUNT [FIRST]]]   (env: JOBS, OUT, NICE)
set -eu
seed=${1:-14}
count=${2:-200}
first=${3:-0}
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/.."
cargo build -p xinetd-lint --locked --quiet
lint=${CARGO_TARGET_DIR:-target}/debug/xinetd-lint
set -- --lint "$lint" --seed "$seed" --count "$count" --first "$first" \
    --jobs "${JOBS:-4}" --explained "$here/oracle-fuzz-xinetd.explained"
if [ -n "${OUT:-}" ]; then
    set -- "$@" --out "$OUT"
fi
exec nice -n "${NICE:-0}" python3 "$here/oracle_fuzz_xinetd.py" "$@"
