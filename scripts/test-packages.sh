#!/bin/sh
# Checks that every crate can be published and installed on its own:
# `cargo package --workspace --locked` packages all six (the tools depend on
# mailhost-common, and three of them on the host model mailhost-host, by path
# and version), each package holds its sources and
# README, and `cargo install --path` builds a binary that runs.
#
# Kept quick for `make test`: --no-verify (verifying builds every crate again
# from its tarball, minutes on two cores), and one tool installed rather than
# four (they share the same manifest shape; one install proves the path+version
# dependency on mailhost-common resolves). It reuses target/ and builds offline.
set -eu
cd "$(dirname "$0")/.."

TEST_NAME=test-packages
. scripts/test-lib.sh
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM

cargo package --workspace --locked --no-verify --allow-dirty --quiet 2>"$work/package.log" ||
    { cat "$work/package.log" >&2; fail "cargo package --workspace failed"; }
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
for crate in mailhost-common mailhost-host xinetd-lint ntpconf-edit maillog-grep clockcheck; do
    file=target/package/$crate-$version.crate
    [ -s "$file" ] || fail "no package $file"
    listing=$(tar -tzf "$file")
    for member in Cargo.toml Cargo.toml.orig README.md src/lib.rs; do
        echo "$listing" | grep -qx "$crate-$version/$member" || fail "$file lacks $member"
    done
    # The manifest a registry sees: no placeholder URL, the page's metadata present.
    tar -xzf "$file" -C "$work" "$crate-$version/Cargo.toml"
    manifest=$work/$crate-$version/Cargo.toml
    for field in description readme keywords categories license; do
        grep -q "^$field = " "$manifest" || fail "$crate: no $field in its packaged manifest"
    done
    if grep -qi 'example\.\(invalid\|com\|org\)' "$manifest"; then fail "$crate: placeholder URL in its manifest"; fi
    case $crate in
        mailhost-common) ;;
        *) grep -q '^\[dependencies.mailhost-common\]' "$manifest" || fail "$crate: no registry dependency on mailhost-common" ;;
    esac
    case $crate in
        xinetd-lint|maillog-grep|clockcheck)
            grep -q '^\[dependencies.mailhost-host\]' "$manifest" || fail "$crate: no registry dependency on mailhost-host" ;;
    esac
done

tool=xinetd-lint
cargo install --quiet --offline --locked --debug --target-dir target --path "$tool" --root "$work/root" 2>"$work/install.log" ||
    { cat "$work/install.log" >&2; fail "cargo install --path $tool failed"; }
"$work/root/bin/$tool" --version | grep -qx "$tool $version" || fail "installed $tool does not run"
printf 'service x\n{\n}\n' > "$work/x.conf"
status=0; "$work/root/bin/$tool" "$work/x.conf" >/dev/null 2>&1 || status=$?
[ "$status" -eq 1 ] || fail "installed $tool: a service without attributes gave exit $status, not 1"
echo "test-packages: cargo package: 6 crates; cargo install --path $tool: runs"
