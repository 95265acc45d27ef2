#!/usr/bin/env bash
# Run every cargo-fuzz target for N seconds each (default 60; the first argument
# overrides), starting from the committed seed corpus plus the regression inputs.
# Exits non-zero if any target crashes, panics, leaks past -rss_limit_mb or times out.
#
# The corpus is copied to a temporary directory first, so a run never grows the
# committed fuzz/corpus. Crash inputs land in fuzz/artifacts/<target>/ (git-ignored).
#
#   fuzz/run-all.sh          # 60 s per target
#   fuzz/run-all.sh 600      # 10 min per target
#
# Needs: rustup's nightly toolchain and cargo-fuzz (cargo install cargo-fuzz).
# Works from any directory.
set -euo pipefail

secs="${1:-60}"
case "$secs" in
'' | *[!0-9]*)
    echo "usage: $0 [seconds-per-target]" >&2
    exit 2
    ;;
esac

fuzz_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$fuzz_dir/.." # the crate root: cargo fuzz finds ./fuzz from here

work="$(mktemp -d "${TMPDIR:-/tmp}/mcp-acp-fuzz.XXXXXX")"
trap 'rm -rf "$work"' EXIT

cargo +nightly fuzz build
mapfile -t targets < <(cargo +nightly fuzz list)

failed=()
for t in "${targets[@]}"; do
    printf '\n==== fuzz %s for %ss\n' "$t" "$secs"
    corpus="$work/$t"
    mkdir -p "$corpus"
    cp -R "fuzz/corpus/$t/." "$corpus/"
    # Known crashers (see fuzz/README.md): every run re-checks them first.
    if [ -d "fuzz/regressions/$t" ]; then
        cp -R "fuzz/regressions/$t/." "$corpus/"
    fi
    if ! cargo +nightly fuzz run "$t" "$corpus" -- \
        -max_total_time="$secs" -rss_limit_mb=2048 -print_final_stats=1; then
        failed+=("$t")
    fi
done

if [ "${#failed[@]}" -gt 0 ]; then
    printf '\n==== FAILED: %s (inputs in fuzz/artifacts/)\n' "${failed[*]}" >&2
    exit 1
fi
printf '\n==== all %d fuzz targets ran %ss without a crash\n' "${#targets[@]}" "$secs"
