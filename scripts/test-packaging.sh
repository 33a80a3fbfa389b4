#!/bin/sh
# The packaging checks `make test` runs after the cargo tests: crates,
# the Debian package, the FreeBSD port, SARIF output against the validator.
set -eu
cd "$(dirname "$0")/.."
sh scripts/test-packages.sh
sh scripts/test-deb.sh
sh scripts/test-freebsd-port.sh
sh scripts/test-sarif.sh
