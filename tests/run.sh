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

cargo test --workspace --locked "$@"
