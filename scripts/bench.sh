#!/usr/bin/env bash
# Benchmark mcp-acp: cold start, tools/list, acp_list_sessions (20 / 1 000 / 10 000 sessions)
# against a stub gateway, peak RSS and CPU per call, each beside a floor measured the
# same way in the same run. Prints a plain-text table; also saved under bench/out/.
#
#   scripts/bench.sh                      build target/release/mcp-acp and measure it
#   scripts/bench.sh --static             build the static musl binary (scripts/build-static.sh) and measure it
#   scripts/bench.sh --both               both of the above, one after the other
#   scripts/bench.sh PATH [PATH…]         measure these server binaries (nothing of the server is built)
#
# Options: --quick (about 5× fewer iterations, a smoke test), --strict (exit 1 when a target
# is missed; by default a miss is reported and the exit status is 0), --framing length
# (stub answers with Content-Length only; default: like Go, chunked above 2 KiB).
# Takes 20-40 s per binary on 2 cores, plus the builds the first time (about 2 minutes).
# What is measured and how to read the table: bench/README.md.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
case "$TARGET_DIR" in /*) ;; *) TARGET_DIR="$ROOT/$TARGET_DIR" ;; esac
MUSL=x86_64-unknown-linux-musl
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

say() { printf '[bench] %s\n' "$*" >&2; }

servers=() bench_args=() want_release=0 want_static=0 strict=0
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) bench_args+=(--quick) ;;
        --strict) strict=1 ;;
        --framing) bench_args+=(--framing "$2"); shift ;;
        --static) want_static=1 ;;
        --both) want_release=1; want_static=1 ;;
        -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        -*) say "unknown option $1 (try --help)"; exit 2 ;;
        *) servers+=("$(cd "$(dirname "$1")" && pwd)/$(basename "$1")") ;;
    esac
    shift
done
if [ ${#servers[@]} -eq 0 ] && [ $want_static -eq 0 ]; then want_release=1; fi

if [ $want_release -eq 1 ]; then
    say "cargo build --release (the server)"
    (cd "$ROOT" && cargo build --release --locked)
    servers+=("$TARGET_DIR/release/mcp-acp")
fi
if [ $want_static -eq 1 ]; then
    "$ROOT/scripts/build-static.sh" >&2
    servers+=("$TARGET_DIR/$MUSL/release/mcp-acp")
fi

say "cargo build --release (the bench and its floor program)"
cargo build --release --locked --manifest-path "$ROOT/bench/Cargo.toml"
cargo build --release --locked --manifest-path "$ROOT/bench/floor/Cargo.toml"
BENCH_TARGET="${CARGO_TARGET_DIR:+$TARGET_DIR}"
bench_bin="${BENCH_TARGET:-$ROOT/bench/target}/release/mcp-acp-bench"
floor_bin="${BENCH_TARGET:-$ROOT/bench/floor/target}/release/mcp-acp-bench-floor"
floor_args=(--floor "$floor_bin")
# The static floor (pure Rust, no C) needs only the musl target's standard library.
if rustup target list --installed 2>/dev/null | grep -qx "$MUSL" || rustup target add "$MUSL" >/dev/null 2>&1; then
    if cargo build --release --locked --manifest-path "$ROOT/bench/floor/Cargo.toml" --target "$MUSL"; then
        floor_args+=(--floor-static "${BENCH_TARGET:-$ROOT/bench/floor/target}/$MUSL/release/mcp-acp-bench-floor")
    fi
fi
[ -n "${floor_args[2]:-}" ] || say "no static floor (the $MUSL target is not installable): static binaries are held to the dynamic floor"

server_args=()
for s in "${servers[@]}"; do
    [ -x "$s" ] || { say "no server binary at $s"; exit 2; }
    server_args+=(--server "$s")
done

mkdir -p "$ROOT/bench/out"
out="$ROOT/bench/out/bench-$(date -u +%Y%m%dT%H%M%SZ).txt"
rev="$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
dirty="$(git -C "$ROOT" status --porcelain -- src Cargo.toml Cargo.lock 2>/dev/null | wc -l)"
set +e
{
    printf 'source: %s%s; %s\n' "$rev" "$([ "$dirty" -gt 0 ] && echo " + uncommitted changes in src/")" "$(rustc --version)"
    "$bench_bin" "${server_args[@]}" "${floor_args[@]}" "${bench_args[@]}"
} | tee "$out"
status=${PIPESTATUS[0]}
# (PIPESTATUS[0] is the { … } group, whose status is the bench's.)
set -e
cp "$out" "$ROOT/bench/out/latest.txt"
say "saved to $out"
case $status in
    0) exit 0 ;;
    1) say "some targets were missed (see 'targets:' above)"; [ $strict -eq 1 ] && exit 1; exit 0 ;;
    *) exit "$status" ;;
esac
