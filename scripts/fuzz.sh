#!/bin/sh
# `make fuzz`: every fuzz target for SECONDS seconds (default 15), seeded
# with the corpora the tests use and fuzz/seeds/TARGET (what earlier runs
# found, kept in the repository; fuzz/corpus/ is each machine's own).
# Installs cargo-fuzz from crates.io when it is missing.  Runs on the stable
# toolchain (no sanitizer: -s none).
# Fails when a target finds a crash, a timeout or an out-of-memory input
# (FUZZ_LIMITS, scripts/fuzz-targets.sh); the input is kept in fuzz/artifacts.
# FUZZ_SEED (default 1) is libFuzzer's -seed: the same seed on the same code
# makes nearly the same inputs, so a failed CI run can be repeated; 0 draws
# a random one, printed on failure.
set -eu
seconds=${1:-15}
seed=${FUZZ_SEED:-1}
cd "$(dirname "$0")/../fuzz"
. ../scripts/fuzz-targets.sh
command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked
cargo fuzz build -s none -O
status=0
for target in $FUZZ_ALL_TARGETS; do
    seeds=$(fixtures_of "$target")
    if [ -d "seeds/$target" ]; then seeds="$seeds seeds/$target"; fi
    mkdir -p "corpus/$target"
    log=$(mktemp)
    # shellcheck disable=SC2086
    if cargo fuzz run -s none -O "$target" "corpus/$target" $seeds -- \
        -seed="$seed" -max_total_time="$seconds" -max_len=65536 -print_final_stats=1 \
        $FUZZ_LIMITS > "$log" 2>&1; then
        runs=$(grep -o 'Done [0-9]* runs in [0-9]* second' "$log" | tail -1)
        cov=$(grep -o 'cov: [0-9]* ft: [0-9]* corp: [0-9]*' "$log" | tail -1)
        echo "fuzz: $target: no crash ($runs(s); $cov)"
    else
        echo "fuzz: $target: FOUND A CRASH" >&2
        grep -E 'INFO: Seed:|panicked|ERROR: libFuzzer|SUMMARY|Test unit written' "$log" >&2 ||
            tail -20 "$log" >&2
        # The input itself, so that a CI log alone reproduces the failure.
        for unit in $(grep -o 'Test unit written to [^ ]*' "$log" | sed 's/.* //'); do
            echo "fuzz: $target: the input, base64: $(base64 -w0 "$unit")" >&2
        done
        status=1
    fi
    rm -f "$log"
done
exit $status
