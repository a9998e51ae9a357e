#!/usr/bin/env bash
# Runs every test of the workspace: unit tests, the spec corpus, the
# aws-smithy-mocks tests, the end-to-end tests against the moto emulator
# (which the tests start themselves), and the benchmark at a small size.
# Installs moto when missing. Extra arguments go to `cargo test`
# (e.g. `tests/run.sh -p baseline-engine`).
set -euo pipefail
cd "$(dirname "$0")/.."
source tests/moto-env.sh

# The benchmark at a small size, so that it cannot rot: it fails on a
# failed run or on a plan that asks AWS for the same fact twice, and
# asserts no timing (docs/performance.md has the measured figures).
cargo build --locked --quiet --bin baseline
echo "Benchmark (small, debug build; timings are not asserted):"
"$MOTO_PYTHON" tests/bench/bench.py --binary "$CARGO_TARGET_DIR/debug/baseline" --python "$MOTO_PYTHON" \
  --accounts 2 --regions 2 --latency-ms 10

# The closing line sums every test binary's result (cargo's own last line
# is that of the last binary, often one without tests).
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
cargo test --workspace --locked "$@" 2>&1 | tee "$log" || status=$?
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     END { printf "tests: %d passed, %d failed\n", p, f }' "$log"
exit "$status"
