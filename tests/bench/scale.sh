#!/usr/bin/env bash
# The scale benchmark of docs/performance.md ("Organization scale"):
# builds the release binary (BENCH_PROFILE=dev for the debug one), installs
# the pinned moto and aiohttp, records a converged account from the local
# AWS and replays it for many accounts × 17 regions (tests/bench/standin.py),
# and prints the table. Arguments go to tests/bench/scale.py:
#   tests/bench/scale.sh                                   # 20, 200, 1,000 accounts at --concurrency 64
#   tests/bench/scale.sh --accounts 20 --curve-accounts 1000   # and the concurrency curve
set -euo pipefail
cd "$(dirname "$0")/../.."
source tests/moto-env.sh
AIOHTTP_VERSION=3.12.15
"$MOTO_PYTHON" -c "import aiohttp; assert aiohttp.__version__ == '$AIOHTTP_VERSION'" 2>/dev/null ||
  "$MOTO_PYTHON" -m pip install --quiet --disable-pip-version-check "aiohttp==$AIOHTTP_VERSION"
PROFILE=${BENCH_PROFILE:-release}
# A debug build with the tests' features shares their compiled SDK crates.
FEATURES=()
[ "$PROFILE" = dev ] && FEATURES=(--features baseline-providers/test-util)
cargo build --locked --quiet --profile "$PROFILE" --bin baseline "${FEATURES[@]}"
DIR=$PROFILE; [ "$PROFILE" = dev ] && DIR=debug
exec "$MOTO_PYTHON" tests/bench/scale.py --binary "$CARGO_TARGET_DIR/$DIR/baseline" --python "$MOTO_PYTHON" "$@"
