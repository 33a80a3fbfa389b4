#!/bin/sh
# Writes the port's CARGO_CRATES list from Cargo.lock: every crate that
# comes from crates.io, as NAME-VERSION, in Cargo.lock's order (sorted by
# name), the form the ports framework's `make cargo-crates` prints.
#
#   packaging/freebsd/cargo-crates.sh [Cargo.lock] > packaging/freebsd/sysutils/mailhost-toolkit/Makefile.crates
set -eu
lock=${1:-$(dirname "$0")/../../Cargo.lock}
awk '
    function flush() {
        if (name != "" && source ~ /^"registry\+https:\/\/github\.com\/rust-lang\/crates\.io-index"$/)
            crates[n++] = name "-" version
        name = ""; version = ""; source = ""
    }
    /^\[\[package\]\]/ { flush(); next }
    /^name = /    { name = $3; gsub(/"/, "", name) }
    /^version = / { version = $3; gsub(/"/, "", version) }
    /^source = /  { source = $3 }
    END {
        flush()
        print "# Generated from Cargo.lock by packaging/freebsd/cargo-crates.sh: do not edit."
        for (i = 0; i < n; i++)
            printf "%s%s%s\n", (i == 0 ? "CARGO_CRATES=\t" : "\t\t"), crates[i], (i < n - 1 ? " \\" : "")
    }
' "$lock"
