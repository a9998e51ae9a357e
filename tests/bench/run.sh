#!/usr/bin/env bash
# The benchmark of docs/performance.md: builds the release binary, installs
# the pinned moto, and runs tests/bench/bench.py with the arguments given
# (default: 1 account × all regions, 50 ms per request).
#   tests/bench/run.sh --accounts 20 --regions all --latency-ms 50
set -euo pipefail
cd "$(dirname "$0")/../.."
source tests/moto-env.sh
PROFILE=${BENCH_PROFILE:-release}
# A debug build with the tests' features shares their compiled SDK crates.
FEATURES=()
[ "$PROFILE" = dev ] && FEATURES=(--features baseline-providers/test-util)
cargo build --locked --quiet --profile "$PROFILE" --bin baseline "${FEATURES[@]}"
DIR=$PROFILE; [ "$PROFILE" = dev ] && DIR=debug
exec "$MOTO_PYTHON" tests/bench/bench.py --binary "$CARGO_TARGET_DIR/$DIR/baseline" "$@"
