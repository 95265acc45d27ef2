#!/usr/bin/env bash
# Build a fully static release binary of mcp-acp (x86_64-unknown-linux-musl) and check it.
#
#   scripts/build-static.sh
#
# Installs what it needs (musl-tools, file, the musl Rust target) when missing, builds
# `cargo build --release --target x86_64-unknown-linux-musl` from the repository root,
# then checks that the result is statically linked and at most 3 MiB. Prints the path and
# the size; exits non-zero if the build or any check fails. Works from any directory.
set -euo pipefail

TARGET=x86_64-unknown-linux-musl
MAX_BYTES=$((3 * 1024 * 1024))
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
case "$TARGET_DIR" in /*) ;; *) TARGET_DIR="$ROOT/$TARGET_DIR" ;; esac
BIN="$TARGET_DIR/$TARGET/release/mcp-acp"

say() { printf '[build-static] %s\n' "$*" >&2; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
        say "need root to run: $*"; return 1
    fi
}

apt_updated=0
apt_install() {
    if [ "$apt_updated" -eq 0 ]; then
        say "apt-get update"
        as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
        apt_updated=1
    fi
    say "apt-get install $*"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >&2
}

# 1. Tools. ring compiles C and assembly for the target, which needs musl-gcc.
command -v musl-gcc >/dev/null || apt_install musl-tools
command -v file >/dev/null || apt_install file
if ! rustup target list --installed | grep -qx "$TARGET"; then
    say "rustup target add $TARGET"
    rustup target add "$TARGET" >&2
fi

# 2. Build.
say "cargo build --release --target $TARGET"
(cd "$ROOT" && cargo build --release --locked --target "$TARGET")

# 3. Checks.
fail=0
[ -x "$BIN" ] || { say "FAIL: no binary at $BIN"; exit 1; }

file_out="$(file -b "$BIN")"
if grep -q "statically linked\|static-pie linked" <<<"$file_out"; then
    say "ok: file: $file_out"
else
    say "FAIL: file does not say statically linked: $file_out"; fail=1
fi

ldd_out="$(ldd "$BIN" 2>&1 || true)"
if grep -q "not a dynamic executable\|statically linked" <<<"$ldd_out"; then
    say "ok: ldd: $(head -n1 <<<"$ldd_out" | sed 's/^[[:space:]]*//')"
else
    say "FAIL: ldd lists dynamic dependencies:"; printf '%s\n' "$ldd_out" >&2; fail=1
fi

size=$(stat -c %s "$BIN")
if [ "$size" -le "$MAX_BYTES" ]; then
    say "ok: size $size bytes <= $MAX_BYTES"
else
    say "FAIL: size $size bytes > $MAX_BYTES (the 3 MiB budget)"; fail=1
fi

# It must run: --version exercises start-up without needing a configuration.
if version="$("$BIN" --version 2>&1)"; then
    say "ok: runs: $version"
else
    say "FAIL: $BIN --version failed: $version"; fail=1
fi

printf '%s\t%d bytes (%.2f MiB)\n' "$BIN" "$size" "$(awk -v s="$size" 'BEGIN{print s/1048576}')"
exit "$fail"
