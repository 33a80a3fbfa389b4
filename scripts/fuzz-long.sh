#!/bin/sh
# `make fuzz-long FUZZ_TARGETS="a b" FUZZ_SECONDS=3600`: the long runs that
# grow fuzz/seeds/ (issue 13 asks for an hour per target).  `make fuzz` is
# the short run CI does; this one is run by hand, a few targets at a time.
#
# The targets given run side by side, each for SECONDS of wall-clock time,
# from a copy of its binary (so a rebuild meanwhile cannot swap it), built
# with overflow checks on (-a): an arithmetic overflow is a finding here
# even though the release build would wrap.  Afterwards what reached new
# code is merged into fuzz/seeds/TARGET, and one line of figures per target
# is printed: runs, CPU seconds, coverage at start and end, seeds added.
# The merge is a set cover on edges alone (-set_cover_merge=1
# -use_counters=0), counting the test fixtures as already there: it keeps
# every edge the run reached in a few inputs (the hit-count features would
# keep thousands, tens of MB, for little).
# FUZZ_MERGE_ONLY=1: only the merge, from the corpus an earlier run left.
# Exit 1 when a target found a crash, a timeout or an out-of-memory input
# (FUZZ_LIMITS, scripts/fuzz-targets.sh; kept in fuzz/artifacts/TARGET/).
set -eu
seconds=${FUZZ_SECONDS:-3600}
cd "$(dirname "$0")/../fuzz"
. ../scripts/fuzz-targets.sh
targets=${FUZZ_TARGETS:-$FUZZ_ALL_TARGETS}
command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked
cargo fuzz build -s none -O -a
release=target/x86_64-unknown-linux-gnu/release
work=long-runs
mkdir -p "$work/bin"

for target in $targets; do
    [ -n "${FUZZ_MERGE_ONLY:-}" ] && break
    [ -x "$release/$target" ] || { echo "fuzz-long: no such target: $target" >&2; exit 2; }
    cp "$release/$target" "$work/bin/$target"
    mkdir -p "corpus/$target" "seeds/$target" "artifacts/$target"
    # shellcheck disable=SC2046,SC2086
    /usr/bin/time -f '%U %S' -o "$work/$target.cpu" \
        "$work/bin/$target" "corpus/$target" "seeds/$target" $(fixtures_of "$target") \
        -max_total_time="$seconds" -max_len=65536 -print_final_stats=1 $FUZZ_LIMITS \
        -artifact_prefix="artifacts/$target/" > "$work/$target.log" 2>&1 &
    echo $! > "$work/$target.pid"
done

status=0
for target in $targets; do
    [ -n "${FUZZ_MERGE_ONLY:-}" ] && break
    if ! wait "$(cat "$work/$target.pid")"; then
        echo "fuzz-long: $target: FOUND A CRASH (see fuzz/$work/$target.log, fuzz/artifacts/$target/)" >&2
        grep -E 'panicked|ERROR: libFuzzer|SUMMARY|Test unit written' "$work/$target.log" >&2 || true
        status=1
    fi
done

for target in $targets; do
    before=$(find "seeds/$target" -type f | wc -l)
    merged=$(mktemp -d)
    cp "seeds/$target"/* "$merged"/ 2>/dev/null || true
    fixtures=$(fixtures_of "$target")
    n=0
    # shellcheck disable=SC2086
    for f in $([ -z "$fixtures" ] || find $fixtures -type f); do
        n=$((n + 1))
        cp "$f" "$merged/fixture-$n"
    done
    # shellcheck disable=SC2086
    "$work/bin/$target" -set_cover_merge=1 -use_counters=0 $FUZZ_LIMITS "$merged" "corpus/$target" \
        > "$work/$target.merge.log" 2>&1
    rm -f "$merged"/fixture-*
    cp -n "$merged"/* "seeds/$target"/ 2>/dev/null || true
    rm -rf "$merged"
    after=$(find "seeds/$target" -type f | wc -l)
    runs=$(grep -o 'Done [0-9]* runs in [0-9]* second' "$work/$target.log" | tail -1)
    first=$(grep -o 'INITED cov: [0-9]* ft: [0-9]*' "$work/$target.log" | head -1)
    last=$(grep -o 'cov: [0-9]* ft: [0-9]* corp: [0-9]*' "$work/$target.log" | tail -1)
    cpu=$(awk '{ printf "%.0f", $1 + $2 }' "$work/$target.cpu" 2>/dev/null || echo "?")
    echo "fuzz-long: $target: ${runs}s, ${cpu} s CPU; at start: ${first#INITED }; at end: $last; seeds $before -> $after"
done
exit $status
