#!/bin/sh
# Prints, at the end of `make test`, every test that skipped because a
# program it runs was missing (tests append to the log; cargo's harness
# hides what a passing test printed).  With CI set a skip is a failure.
set -eu
log=$1
if [ -s "$log" ]; then
    echo "make test: $(wc -l < "$log") skipped (install what they need: scripts/install-test-deps.sh as root):"
    sed 's/^/  /' "$log"
    if [ -n "${CI:-}" ]; then
        echo "make test: FAIL: CI must run every test" >&2
        exit 1
    fi
else
    echo "make test: no test skipped"
fi
