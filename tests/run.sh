#!/usr/bin/env bash
# Runs every test of the workspace: unit tests, the spec corpus, the
# aws-smithy-mocks tests, and the end-to-end tests against the moto
# emulator (which the tests start themselves). Installs moto when missing.
# Extra arguments go to `cargo test` (e.g. `tests/run.sh -p baseline-engine`).
set -euo pipefail
cd "$(dirname "$0")/.."
source tests/moto-env.sh
cargo test --workspace --locked "$@"
