#!/bin/sh
# `--format sarif` of the two linters, checked by the real SARIF validator
# (npm's @microsoft/sarif-multitool, unpacked by install-test-deps.sh under
# target/test-tools/sarif): xinetd-lint and `ntpconf-edit check` on the
# example host, each with findings, must give logs with no validation error.
# The validator exits 0 even on errors, so its messages are read; and a log
# broken on purpose must be caught, so a validator that checks nothing fails.
set -eu
cd "$(dirname "$0")/.."

validator=target/test-tools/sarif/node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool
bin=${BUILDDIR:-target/debug}
TEST_NAME=test-sarif
. scripts/test-lib.sh
if [ ! -x "$validator" ] || ! command -v node >/dev/null 2>&1; then
    skip "the SARIF multitool is not installed (run scripts/install-test-deps.sh)"
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM

# Prints the validator's error lines for $1; fails if it did not run.
validate() {
    DOTNET_CLI_TELEMETRY_OPTOUT=1 "$validator" validate "$1" > "$work/validate.log" 2>&1 || true
    grep -q 'Done. 1 files scanned' "$work/validate.log" ||
        { cat "$work/validate.log" >&2; fail "the validator did not run on $1"; }
    grep -E ': error [A-Z]+[0-9]+:' "$work/validate.log" || true
}

status=0
"$bin/xinetd-lint" --root examples/host --format sarif > "$work/xinetd-lint.sarif" || status=$?
[ $status -eq 1 ] || fail "xinetd-lint --format sarif on the example host: exit $status, not 1"
status=0
"$bin/ntpconf-edit" --format sarif check examples/host/etc/ntp.conf > "$work/ntpconf-edit.sarif" || status=$?
[ $status -le 1 ] || fail "ntpconf-edit --format sarif check: exit $status"

for log in xinetd-lint ntpconf-edit; do
    file=$work/$log.sarif
    grep -q '"ruleId"' "$file" || fail "$log: the log has no result"
    grep -q '"defaultConfiguration"' "$file" || fail "$log: the log has no rule registry"
    errors=$(validate "$file")
    [ -z "$errors" ] || { echo "$errors" >&2; fail "$log: the SARIF validator reports errors"; }
done

# The same log with a result's message (required) removed.
node -e '
    const fs = require("fs");
    const log = JSON.parse(fs.readFileSync(process.argv[1]));
    delete log.runs[0].results[0].message;
    fs.writeFileSync(process.argv[2], JSON.stringify(log));
' "$work/xinetd-lint.sarif" "$work/broken.sarif"
[ -n "$(validate "$work/broken.sarif")" ] || fail "the validator accepts a broken log"
echo "test-sarif: xinetd-lint and ntpconf-edit check: SARIF 2.1.0 logs valid (and a broken one caught)"
