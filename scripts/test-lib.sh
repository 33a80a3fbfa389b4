# Sourced by the test scripts (from the top of the tree), after they set
# TEST_NAME: how a test fails, and how it skips when a program it needs is
# missing (a failure under CI, which must run every test; else noted in
# the log `make test` sums up at its end, scripts/report-skips.sh).

fail() { echo "$TEST_NAME: FAIL: $*" >&2; exit 1; }

# skip WHY: the test does not run, because of WHY.
skip() {
    [ -z "${CI:-}" ] || fail "$*"
    echo "$TEST_NAME: SKIPPED: $*" >&2
    if [ -n "${MAILHOST_TEST_SKIPS:-}" ]; then echo "SKIPPED $TEST_NAME: $*" >> "$MAILHOST_TEST_SKIPS"; fi
    exit 0
}
