#!/bin/sh
# What can be checked of the FreeBSD port without a FreeBSD machine:
# CARGO_CRATES (Makefile.crates) is what cargo-crates.sh makes of Cargo.lock
# now, and pkg-plist lists exactly the files that the port's do-install
# (`make install DESTDIR=... PREFIX=/usr/local CARGO=:`, run by bmake as
# FreeBSD's make would) stages, man pages compressed as the ports framework
# compresses them.
#
# With FREEBSD_CARGO_TARGET_DIR and FREEBSD_TARGET set (scripts/freebsd-check.sh
# sets them after its cross build), the port's own do-install and
# post-install recipes run instead, through a stub <bsd.port.mk>, with the
# cross-built FreeBSD binaries where USES=cargo puts them
# (${CARGO_TARGET_DIR}/${CARGO_BUILD_TARGET}/release); the man pages and
# completions come from the host's target/debug build (GENDIR), since a
# FreeBSD binary cannot run here.
set -eu
cd "$(dirname "$0")/.."

port=packaging/freebsd/sysutils/mailhost-toolkit
TEST_NAME=test-freebsd-port
. scripts/test-lib.sh
command -v bmake >/dev/null 2>&1 || skip "bmake is not installed (run scripts/install-test-deps.sh)"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM

sh packaging/freebsd/cargo-crates.sh Cargo.lock > "$work/Makefile.crates"
if ! cmp -s "$work/Makefile.crates" $port/Makefile.crates; then
    diff -u $port/Makefile.crates "$work/Makefile.crates" >&2 || true
    fail "$port/Makefile.crates is out of date: run packaging/freebsd/cargo-crates.sh > $port/Makefile.crates"
fi
locked=$(grep -c '^source = "registry+' Cargo.lock)
listed=$(grep -vc '^#' $port/Makefile.crates)
[ "$locked" -eq "$listed" ] || fail "Cargo.lock has $locked crates.io packages, CARGO_CRATES $listed"
grep -q '^USES=.*cargo' $port/Makefile || fail "the port does not use USES=cargo"
grep -q 'Makefile.crates' $port/Makefile || fail "the port does not include Makefile.crates"
[ -s $port/pkg-descr ] || fail "no pkg-descr"

if [ -n "${FREEBSD_CARGO_TARGET_DIR:-}" ]; then
    # The port's recipes as FreeBSD's make would run them, the framework
    # reduced to the variables they use (empty bsd.port.mk and sys.mk).
    mkdir -p "$work/mk" && : > "$work/mk/bsd.port.mk" && : > "$work/mk/sys.mk"
    bmake -s -m "$work/mk" -C $port do-install post-install \
        WRKSRC="$(pwd)" STAGEDIR="$work/stage" PREFIX=/usr/local MAKE_CMD=bmake \
        CARGO_TARGET_DIR="$FREEBSD_CARGO_TARGET_DIR" CARGO_BUILD_TARGET="$FREEBSD_TARGET" \
        STRIP_CMD=strip GENDIR="$(pwd)/target/debug" >/dev/null ||
        fail "the port's do-install and post-install failed"
    for binary in "$work"/stage/usr/local/bin/*; do
        readelf -l "$binary" | grep -q 'interpreter: /libexec/ld-elf.so.1' ||
            fail "the port staged ${binary#"$work"/stage}, not a FreeBSD executable"
    done
else
    # The port's do-install, with the dev build `make test` already has.
    bmake -s install DESTDIR="$work/stage" PREFIX=/usr/local CARGO=: \
        PROFILE=dev BUILDDIR=target/debug >/dev/null
fi
(cd "$work/stage/usr/local" && find . -type f -o -type l) | sed 's|^\./||' |
    sed 's|^\(share/man/man[1-9]/.*\.[1-9]\)$|\1.gz|' | sort > "$work/staged"
grep -v '^@' $port/pkg-plist | sort > "$work/plist"
if ! cmp -s "$work/staged" "$work/plist"; then
    diff -u "$work/plist" "$work/staged" >&2 || true
    fail "pkg-plist (-) and the staged files (+) differ"
fi
outside=$(cd "$work/stage" && find . -type f ! -path './usr/local/*' | head -n 1)
[ -z "$outside" ] || fail "install staged $outside outside PREFIX"
echo "test-freebsd-port: CARGO_CRATES matches Cargo.lock ($listed crates); pkg-plist = the $(wc -l < "$work/plist") staged files${FREEBSD_CARGO_TARGET_DIR:+ (the port's do-install with the $FREEBSD_TARGET binaries)}"
