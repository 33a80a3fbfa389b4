#!/bin/sh
# `make freebsd-check`: the workspace type-checked, linted and linked for
# x86_64-unknown-freebsd on a Debian machine, with nothing installed
# system-wide (docs/packaging.md, "The FreeBSD build").
#
#   1. Debian 12's Rust 1.96 (rustc-web, cargo-web, rust-web-src,
#      rust-web-clippy from bookworm-security) and the libraries they need
#      that the host lacks: downloaded with apt-get download and unpacked with
#      dpkg-deb -x under target/freebsd-toolchain/root.  Its std source is
#      what -Zbuild-std (RUSTC_BOOTSTRAP=1) builds std from: there is no
#      prebuilt std for FreeBSD without rustup, and rustup's own toolchains
#      are not used here.
#   2. PyPI's ziglang (a C compiler and linker with FreeBSD's libc stubs; the
#      C in zstd-sys and liblzma-sys needs it even to type-check) and
#      cargo-zigbuild, pinned, in a venv under target/freebsd-toolchain/venv.
#   3. Its own CARGO_HOME (target/freebsd-toolchain/cargo-home), seeded with
#      the caller's downloaded crates: ~/.cargo/bin holds rustup's
#      cargo-clippy, which cargo would run instead of Debian's.
#   4. cargo check and cargo clippy -D warnings (--workspace --all-targets)
#      and the release link, for the FreeBSD target; then the FreeBSD port's
#      do-install stages the linked binaries and its pkg-plist is compared
#      with that staging (scripts/test-freebsd-port.sh).
#
# Idempotent: a second run reuses the toolchain, the venv and the build in
# target/freebsd (unpacked again only when apt's candidate rustc-web
# changes).  Exits non-zero on any failure.  NICE=10 runs cargo niced.
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)

TARGET=x86_64-unknown-freebsd
# Pinned: the versions the check was last run with (docs/packaging.md).
ZIGLANG_VERSION=0.17.1
CARGO_ZIGBUILD_VERSION=0.24.1
# Debian's Rust, from bookworm-security; the minimum is the workspace's
# rust-version.
RUST_DEBS="rustc-web cargo-web rust-web-src rust-web-clippy"
RUST_MIN=1.88
NICE=${NICE:-0}

dir=$top/target/freebsd-toolchain
root=$dir/root
venv=$dir/venv
export CARGO_TARGET_DIR=$top/target/freebsd
log() { echo "freebsd-check: $*" >&2; }
fail() { log "FAIL: $*"; exit 1; }
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)
started=$(date +%s)

# The caller's PATH and CARGO_HOME (rustup's cargo): the host build that
# writes the port staging's man pages and completions uses them, and the
# FreeBSD build's CARGO_HOME is seeded from the caller's registry.
caller_path=$PATH
caller_cargo_home=${CARGO_HOME:-$HOME/.cargo}

# --- 1. Debian's Rust ------------------------------------------------------

candidate() {
    LC_ALL=C apt-cache policy "$1" 2>/dev/null | awk '$1 == "Candidate:" { print $2 }'
}

# The packages to unpack: the Rust packages of version $1 (even if some are
# installed system-wide: the unpacked rustc finds std next to itself), and
# every library of theirs that apt would install (on a fresh machine more
# than here: libgit2, libllvm22, ...).  Compilers and -dev packages apt would
# add (gcc, libc6-dev) are what rustup already needs, so they are not
# unpacked.
unpack_plan() {
    series=$(echo "$1" | sed 's/^\([0-9]*\.[0-9]*\).*/\1/')
    echo $RUST_DEBS libstd-rust-web-dev "libstd-rust-web-$series"
    # shellcheck disable=SC2086
    LC_ALL=C apt-get -s install --no-install-recommends $RUST_DEBS |
        awk '$1 == "Inst" && $3 !~ /^\[/ && $2 ~ /^lib/ && $2 !~ /-dev$/ &&
             $2 !~ /^libstd-rust-web-/ { print $2 }'
}

unpack_toolchain() {
    want=$(candidate rustc-web)
    if [ -z "$want" ] || [ "$want" = "(none)" ]; then
        [ "$(id -u)" = 0 ] || fail "apt knows no rustc-web: run apt-get update as root (bookworm-security must be in the sources)"
        apt-get update -qq
        want=$(candidate rustc-web)
        [ -n "$want" ] && [ "$want" != "(none)" ] ||
            fail "apt has no rustc-web candidate (bookworm-security missing from the sources?)"
    fi
    if [ -x "$root/usr/bin/rustc" ] && [ "$(cat "$dir/rustc-web.version" 2>/dev/null)" = "$want" ]; then
        return 0
    fi
    plan=$(unpack_plan "$want" | tr '\n' ' ')
    log "unpacking under $root:" $plan
    rm -rf "$dir/debs" "$root" "$dir/rustc-web.version"
    mkdir -p "$dir/debs" "$root"
    # apt-get download writes as the _apt user.
    chown _apt "$dir/debs" 2>/dev/null || true
    # shellcheck disable=SC2086
    if ! (cd "$dir/debs" && apt-get download -qq $plan >/dev/null); then
        # Lists older than the archive name files it no longer has.
        [ "$(id -u)" = 0 ] || fail "apt-get download failed; apt-get update (as root) may help"
        apt-get update -qq
        # shellcheck disable=SC2086
        (cd "$dir/debs" && apt-get download -qq $plan >/dev/null) || fail "apt-get download failed"
    fi
    for deb in "$dir"/debs/*.deb; do
        dpkg-deb -x "$deb" "$root"
    done
    rm -rf "$dir/debs"
    echo "$want" > "$dir/rustc-web.version"
}

# --- 2. zig and cargo-zigbuild ---------------------------------------------

make_venv() {
    stamp="ziglang==$ZIGLANG_VERSION cargo-zigbuild==$CARGO_ZIGBUILD_VERSION"
    if [ -x "$venv/bin/cargo-zigbuild" ] && [ "$(cat "$venv/pinned" 2>/dev/null)" = "$stamp" ]; then
        return 0
    fi
    log "venv $venv: pip install $stamp"
    rm -rf "$venv"
    python3 -m venv "$venv" ||
        fail "python3 -m venv failed (Debian: the python3-venv package)"
    # shellcheck disable=SC2086
    "$venv/bin/pip" install -q --disable-pip-version-check $stamp
    echo "$stamp" > "$venv/pinned"
}

# --- 3. the environment cargo runs in ---------------------------------------

use_toolchain() {
    export PATH="$root/usr/bin:$venv/bin:$PATH"
    export LD_LIBRARY_PATH="$root/usr/lib/$multiarch:$root/usr/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    export RUSTC="$root/usr/bin/rustc"
    export CARGO="$root/usr/bin/cargo"
    # -Zbuild-std is unstable; Debian's rustc is a stable one.
    export RUSTC_BOOTSTRAP=1
    export CARGO_HOME="$dir/cargo-home"
    unset RUSTUP_TOOLCHAIN RUSTC_WRAPPER RUSTC_WORKSPACE_WRAPPER RUSTFLAGS \
        CARGO_BUILD_TARGET CARGO_ENCODED_RUSTFLAGS 2>/dev/null || true
    if [ ! -d "$CARGO_HOME/registry" ]; then
        mkdir -p "$CARGO_HOME/registry"
        # A copy, not a link: two cargos with different CARGO_HOMEs do not
        # lock each other out of a shared registry.  What is missing (std's
        # own dependencies) is downloaded from crates.io.
        for part in index cache; do
            if [ -d "$caller_cargo_home/registry/$part" ]; then
                cp -R "$caller_cargo_home/registry/$part" "$CARGO_HOME/registry/"
            fi
        done
    fi
    missing=$(ldd "$root/usr/bin/rustc" "$root/usr/bin/cargo" "$root/usr/bin/clippy-driver" |
        awk '/not found/ { print $1 }' | sort -u | tr '\n' ' ')
    [ -z "$missing" ] || fail "the unpacked toolchain lacks: $missing"
    rust_version=$(rustc -V | awk '{ print $2 }')
    lowest=$(printf '%s\n%s\n' "$RUST_MIN" "$rust_version" | sort -V | head -n 1)
    [ "$lowest" = "$RUST_MIN" ] || fail "Debian's rustc is $rust_version; the workspace needs $RUST_MIN"
    [ -d "$root/usr/lib/rustlib/src/rust/library/std" ] || fail "no std source (rust-web-src) in $root"
}

run() {
    log "\$ $*"
    nice -n "$NICE" "$@" || fail "$* (exit $?)"
}

unpack_toolchain
make_venv
use_toolchain

log "rustc: $(rustc -V)"
log "cargo: $(cargo -V)"
log "clippy: $(cargo clippy -V)"
log "zig: $(python-zig version) (ziglang $ZIGLANG_VERSION), $(cargo-zigbuild -V)"

# --- 4. the checks ----------------------------------------------------------

build_std="-Zbuild-std"
run cargo-zigbuild check --locked --workspace --all-targets --target $TARGET $build_std
run cargo-zigbuild clippy --locked --workspace --all-targets --target $TARGET $build_std -- -D warnings
run cargo-zigbuild zigbuild --locked --workspace --release --target $TARGET $build_std

# The linked binaries are FreeBSD's (FreeBSD's run-time linker; the
# ELF OS/ABI byte stays 0, the FreeBSD note says which release they were
# linked against), and name the libc symbol versions they need.
release=$CARGO_TARGET_DIR/$TARGET/release
tools="xinetd-lint ntpconf-edit maillog-grep clockcheck"
for tool in $tools; do
    [ -f "$release/$tool" ] || fail "no $release/$tool after the link"
    readelf -l "$release/$tool" | grep -q 'interpreter: /libexec/ld-elf.so.1' ||
        fail "$release/$tool is not a FreeBSD executable (no /libexec/ld-elf.so.1)"
done
# NT_VERSION: __FreeBSD_version, 4 bytes little-endian (1400500: 14.0).
osrel_hex=$(readelf -n "$release/clockcheck" |
    awk '/FreeBSD.*NT_VERSION/ { getline; print $6 $5 $4 $3; exit }')
osrel=$(printf '%d' "0x${osrel_hex:-0}")
libc_versions=$(readelf -W --dyn-syms "$release/clockcheck" | grep -o '@FBSD_1\.[0-9]*' | sort -t. -k2 -n -u | tr '\n' ' ')
log "linked: $tools ($release; FreeBSD executables, note __FreeBSD_version $osrel; libc symbol versions:$libc_versions; $(readelf -W --dyn-syms "$release/clockcheck" | grep -o '__libc_start1@FBSD_1\.[0-9]*'))"

# The port's do-install with these binaries; pkg-plist against the staging.
# (Man pages and completions are written by the host build of the same
# source: a FreeBSD binary cannot run here.)
for tool in $tools; do
    if [ ! -x "target/debug/$tool" ]; then
        log "host build for the man pages and completions: cargo build --workspace --bins"
        (unset RUSTC CARGO RUSTC_BOOTSTRAP CARGO_TARGET_DIR LD_LIBRARY_PATH
         export PATH="$caller_path" CARGO_HOME="$caller_cargo_home"
         nice -n "$NICE" cargo build --locked --workspace --bins) ||
            fail "host cargo build"
        break
    fi
done
FREEBSD_CARGO_TARGET_DIR=$CARGO_TARGET_DIR FREEBSD_TARGET=$TARGET sh scripts/test-freebsd-port.sh ||
    fail "the FreeBSD port's staging"

log "OK in $(($(date +%s) - started)) s: cargo check, cargo clippy -D warnings (--workspace --all-targets) and the release link for $TARGET; rustc $rust_version (Debian $(cat "$dir/rustc-web.version")), ziglang $ZIGLANG_VERSION, cargo-zigbuild $CARGO_ZIGBUILD_VERSION"
