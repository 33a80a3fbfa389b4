#!/bin/sh
# The Debian package as an admin gets it: `make deb` builds it (from the
# dev-profile build `make test` already has: DEB_BUILD_OPTIONS=noopt),
# lintian reports no error, `dpkg -i` installs it, each tool runs and has its
# man page and completions in Debian's places, `dpkg -r` removes it all.
#
# It never replaces what the host has: when the package, or any file it
# would install, is already there, the test skips (CI fails) instead.
set -eu
cd "$(dirname "$0")/.."

TOOLS="xinetd-lint ntpconf-edit maillog-grep clockcheck"
TEST_NAME=test-deb
. scripts/test-lib.sh

for program in dpkg-buildpackage dh lintian man; do
    command -v $program >/dev/null 2>&1 || skip "$program is not installed (run scripts/install-test-deps.sh)"
done
[ "$(id -u)" = 0 ] || skip "dpkg -i needs root"
if dpkg-query -W -f '${Status}' mailhost-toolkit 2>/dev/null | grep -q 'installed'; then
    skip "mailhost-toolkit is installed on this host; the test will not replace it"
fi
for tool in $TOOLS; do
    [ ! -e /usr/bin/$tool ] || skip "/usr/bin/$tool exists; the test will not overwrite it"
done

work=$(mktemp -d)
installed=no
cleanup() {
    if [ $installed = yes ]; then dpkg -r mailhost-toolkit >/dev/null 2>&1 || true; fi
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

rm -f target/debian/mailhost-toolkit_*.deb
DEB_BUILD_OPTIONS="noopt noddebs nocheck" make -s deb >"$work/build.log" 2>&1 ||
    { tail -n 40 "$work/build.log" >&2; fail "make deb failed"; }
deb=$(ls target/debian/mailhost-toolkit_*.deb)

dpkg-deb -c "$deb" | awk '{print $6}' | sed 's|^\./|/|' > "$work/contents"
for tool in $TOOLS; do
    for path in /usr/bin/$tool /usr/share/man/man8/$tool.8.gz \
                /usr/share/bash-completion/completions/$tool \
                /usr/share/zsh/vendor-completions/_$tool \
                /usr/share/fish/vendor_completions.d/$tool.fish; do
        grep -qx "$path" "$work/contents" || fail "$deb lacks $path"
    done
done

# lintian exits non-zero on any error tag; warnings are shown, not fatal.
lintian --tag-display-limit 0 "$deb" >"$work/lintian.log" 2>&1 ||
    { cat "$work/lintian.log" >&2; fail "lintian reports errors"; }
grep -E '^[EW]: ' "$work/lintian.log" >&2 || true

dpkg -i "$deb" >"$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log" >&2; fail "dpkg -i failed"; }
installed=yes
version=$(dpkg-deb -f "$deb" Version)
for tool in $TOOLS; do
    out=$(/usr/bin/$tool --version) || fail "$tool --version failed"
    [ "$out" = "$tool ${version%%-*}" ] || fail "$tool --version says '$out'"
    page=$(MANPAGER=cat MANWIDTH=80 man $tool 2>&1) || fail "man $tool: $page"
    echo "$page" | grep -q "^NAME" || fail "man $tool shows no NAME section"
    echo "$page" | grep -q "$tool" || fail "man $tool does not name $tool"
done
dpkg -r mailhost-toolkit >"$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log" >&2; fail "dpkg -r failed"; }
installed=no
for tool in $TOOLS; do
    [ ! -e /usr/bin/$tool ] || fail "dpkg -r left /usr/bin/$tool"
    [ ! -e /usr/share/man/man8/$tool.8.gz ] || fail "dpkg -r left the man page of $tool"
done
echo "test-deb: $(basename "$deb"): $(grep -c . "$work/contents") paths, lintian: no error, dpkg -i, --version, man, dpkg -r: ok"
