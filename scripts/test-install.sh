#!/bin/sh
# Checks the Makefile as a packager uses it: GNU make and BSD make (bmake)
# install the same files under DESTDIR, every man page renders with man -l,
# and uninstall removes everything install put there.
set -eu
cd "$(dirname "$0")/.."

TEST_NAME=test-install
. scripts/test-lib.sh
command -v bmake >/dev/null 2>&1 || skip "bmake is not installed (run scripts/install-test-deps.sh)"

# The debug build made by `cargo test` is enough to test the install rules.
build="PROFILE=dev BUILDDIR=target/debug"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM

# shellcheck disable=SC2086
make -s install $build DESTDIR="$work/gnu" PREFIX=/usr/local >/dev/null
# shellcheck disable=SC2086
bmake -s install $build DESTDIR="$work/bsd" >/dev/null

(cd "$work/gnu" && find . | sort) > "$work/gnu.list"
(cd "$work/bsd" && find . | sort) > "$work/bsd.list"
cmp -s "$work/gnu.list" "$work/bsd.list" || { diff "$work/gnu.list" "$work/bsd.list" >&2; fail "make and bmake install different files"; }
for tool in xinetd-lint ntpconf-edit maillog-grep clockcheck; do
    for f in usr/local/bin/$tool usr/local/share/man/man8/$tool.8 \
             usr/local/share/bash-completion/completions/$tool \
             usr/local/share/zsh/site-functions/_$tool \
             usr/local/share/fish/vendor_completions.d/$tool.fish; do
        [ -s "$work/gnu/$f" ] || fail "missing or empty: $f"
    done
    page=$(MANWIDTH=80 man -l "$work/gnu/usr/local/share/man/man8/$tool.8" 2>&1)
    for section in NAME SYNOPSIS DESCRIPTION OPTIONS "EXIT STATUS" EXAMPLES; do
        echo "$page" | grep -q "^$section" || fail "man page of $tool has no $section section"
    done
    # No pointer to a page that is not installed (ntpconf-edit-show(8)): each
    # subcommand is described in the tool's own page.
    if echo "$page" | grep -q "$tool-[a-z]*(8)"; then fail "man page of $tool refers to $(echo "$page" | grep -o "$tool-[a-z]*(8)" | head -n 1), which is not installed"; fi
    "$work/gnu/usr/local/bin/$tool" --help >/dev/null 2>&1 || fail "$tool --help failed"
    for sub in $("$work/gnu/usr/local/bin/$tool" --help | sed -n '/^Commands:/,/^$/s/^  \([a-z][a-z-]*\) .*/\1/p' | grep -vx help); do
        echo "$page" | grep -q "^   $tool $sub\$" || fail "man page of $tool does not describe its subcommand $sub"
    done
    # SYNOPSIS keeps option arguments: --root DIR, not a bare --root.
    synopsis=$(echo "$page" | sed -n '/^SYNOPSIS/,/^DESCRIPTION/p' | tr -s ' \n' ' ')
    echo "$synopsis" | grep -q -- '--root DIR' || fail "SYNOPSIS of $tool lacks option arguments: $synopsis"
done
# Overrides are honoured.
# shellcheck disable=SC2086
make -s install $build DESTDIR="$work/custom" PREFIX=/opt/tk MANDIR=/opt/tk/man >/dev/null
[ -x "$work/custom/opt/tk/bin/clockcheck" ] || fail "PREFIX not honoured"
[ -s "$work/custom/opt/tk/man/man8/clockcheck.8" ] || fail "MANDIR not honoured"

# shellcheck disable=SC2086
make -s uninstall $build DESTDIR="$work/gnu" PREFIX=/usr/local
left=$(find "$work/gnu" -type f | wc -l)
[ "$left" -eq 0 ] || fail "uninstall left $left files"
# shellcheck disable=SC2086
bmake -s uninstall $build DESTDIR="$work/bsd"
left=$(find "$work/bsd" -type f | wc -l)
[ "$left" -eq 0 ] || fail "bmake uninstall left $left files"
echo "test-install: make and bmake install the same $(wc -l < "$work/gnu.list") paths; man pages render; uninstall removes all"
