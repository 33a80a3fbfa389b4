#!/bin/sh
# The short fixed-seed slices of the differential fuzzers that `make test`
# runs (the long runs: `make oracle-fuzz`).  Each fails on a disagreement
# with the real program that is not listed as explained.
set -eu
cd "$(dirname "$0")/.."
mkdir -p target
out=target/oracle-fuzz-xinetd-slice.txt
JOBS=2 OUT= sh scripts/oracle-fuzz-xinetd.sh 14 300 > $out || { tail -40 $out; exit 1; }
grep '^oracle-fuzz-xinetd: seed' $out
