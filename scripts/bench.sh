#!/usr/bin/env bash
# Benchmark mcp-acp: cold start, tools/list, acp_list_sessions (20 sessions on a stub public-api
# gateway, 1 000 in 10 pages on a stub ambient API server), peak RSS and CPU per call, each
# beside a floor measured the same way in the same run. Prints a plain-text table; also saved
# under bench/out/.
#
#   scripts/bench.sh                      build target/release/mcp-acp and measure it
#   scripts/bench.sh --static             build the static musl binary (scripts/build-static.sh) and measure it
#   scripts/bench.sh --both               both of the above, one after the other
#   scripts/bench.sh PATH [PATH…]         measure these server binaries (nothing of the server is built)
#   scripts/bench.sh --install-upstream   install the upstream Python original (mcp-acp 0.2.2 from PyPI,
#                                         Python >= 3.12) into target/bench-upstream/venv, then exit
#
# The upstream original is a peer in the comparison when it is installed there (or given with
# --upstream PATH to its mcp-acp script); without it that column is left out (--no-upstream
# leaves it out even when installed).
#
# Options: --quick (about 5× fewer iterations, a smoke test), --strict (exit 1 when a target
# is missed; by default a miss is reported and the exit status is 0), --framing length
# (stub answers with Content-Length only; default: like Go, chunked above 2 KiB).
# Takes about 10 s per binary on 2 cores, plus the builds the first time (about 2 minutes).
# What is measured and how to read the table: bench/README.md.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
case "$TARGET_DIR" in /*) ;; *) TARGET_DIR="$ROOT/$TARGET_DIR" ;; esac
MUSL=x86_64-unknown-linux-musl
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

say() { printf '[bench] %s\n' "$*" >&2; }

servers=() bench_args=() want_release=0 want_static=0 strict=0 upstream="" no_upstream=0 install_upstream=0
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) bench_args+=(--quick) ;;
        --strict) strict=1 ;;
        --framing) bench_args+=(--framing "$2"); shift ;;
        --static) want_static=1 ;;
        --both) want_release=1; want_static=1 ;;
        --upstream) upstream="$2"; shift ;;
        --no-upstream) no_upstream=1 ;;
        --install-upstream) install_upstream=1 ;;
        -h|--help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        -*) say "unknown option $1 (try --help)"; exit 2 ;;
        *) servers+=("$(cd "$(dirname "$1")" && pwd)/$(basename "$1")") ;;
    esac
    shift
done
UPSTREAM_VENV="$TARGET_DIR/bench-upstream/venv"
if [ $install_upstream -eq 1 ]; then
    # The original needs Python >= 3.12: the first such interpreter found.
    py=""
    for c in "${PYTHON:-}" python3.13 python3.12 python3 "$HOME"/.pyenv/versions/3.1[2-9]*/bin/python3; do
        [ -n "$c" ] && command -v "$c" >/dev/null 2>&1 || continue
        if "$c" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then py="$c"; break; fi
    done
    [ -n "$py" ] || { say "no Python >= 3.12 found (set PYTHON=...)"; exit 2; }
    say "installing mcp-acp==0.2.2 with $("$py" --version) into $UPSTREAM_VENV"
    rm -rf "$UPSTREAM_VENV"
    "$py" -m venv "$UPSTREAM_VENV"
    # mcp < 2: 0.2.2 uses the 1.x server API (Server.list_tools), which mcp 2 removed.
    "$UPSTREAM_VENV/bin/pip" install -q "mcp-acp==0.2.2" "mcp<2"
    # The 0.2.2 wheel imports utils.pylogger but does not ship it: a stand-in, structlog to stderr.
    site="$("$UPSTREAM_VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
    mkdir -p "$site/utils"
    : >"$site/utils/__init__.py"
    cat >"$site/utils/pylogger.py" <<'PY'
"""Stand-in for the upstream repository's utils/pylogger.py, which the mcp-acp 0.2.2 wheel
imports but does not ship (written by mcp-acp's scripts/bench.sh --install-upstream)."""
import sys

import structlog


def get_python_logger():
    structlog.configure(logger_factory=structlog.PrintLoggerFactory(file=sys.stderr))
    return structlog.get_logger()
PY
    say "installed: $UPSTREAM_VENV/bin/mcp-acp"
    exit 0
fi
if [ -z "$upstream" ] && [ $no_upstream -eq 0 ] && [ -x "$UPSTREAM_VENV/bin/mcp-acp" ]; then
    upstream="$UPSTREAM_VENV/bin/mcp-acp"
fi
if [ -n "$upstream" ]; then
    [ -x "$upstream" ] || { say "no upstream peer at $upstream"; exit 2; }
    say "upstream peer: $upstream"
    bench_args+=(--upstream "$upstream")
fi

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
