#!/bin/sh
# Differential fuzzer of ntpconf-edit against both real ntpd dialects
# (classic ntp.org 4.2.8p15 and NTPsec, run parse-only by ntpd-parse.sh):
# generated tinker-heavy ntp.conf files with a fixed seed (and lines ntpd
# may refuse to start with: unrepresentable numbers in every position,
# lexemes over 1024 bytes), compared with each ntpd three ways: whether it
# starts (`check`'s NE012), what it applies (`show`), and `set panic=0
# stepback=0`; each disagreement minimised and kept, then a summary of
# agreement per dialect.
# Usage: oracle-fuzz-ntp.sh [CASES [SEED]]   (default 500 files, seed 20261201)
# `make test` runs a 20-file slice of the same test.
set -eu
cd "$(dirname "$0")/.."
sh scripts/install-test-deps.sh
NTPCONF_FUZZ_CASES=${1:-500}
NTPCONF_FUZZ_SEED=${2:-20261201}
NTPCONF_FUZZ_OUT=${NTPCONF_FUZZ_OUT:-target/oracle-fuzz-ntp}
export NTPCONF_FUZZ_CASES NTPCONF_FUZZ_SEED NTPCONF_FUZZ_OUT
echo "oracle-fuzz-ntp: $NTPCONF_FUZZ_CASES files, seed $NTPCONF_FUZZ_SEED; minimised disagreements in $NTPCONF_FUZZ_OUT" >&2
exec ${CARGO:-cargo} test -p ntpconf-edit --locked --test oracle_fuzz -- --nocapture --test-threads 1
