#!/usr/bin/env bash
# Runs every test of the workspace: the local AWS's answers against the AWS
# service models, unit tests, the spec corpus, the aws-smithy-mocks tests,
# the end-to-end tests against the local AWS (tests/local-aws.sh, which the
# tests start themselves), and the benchmark at a small size.
# Installs moto when missing. Extra arguments go to `cargo test`
# (e.g. `tests/run.sh -p baseline-engine`).
set -euo pipefail
cd "$(dirname "$0")/.."
source tests/moto-env.sh
# The fault injector of tests/e2e/faults.rs, installed once before the
# tests start (they run in parallel).
bash tests/fault-proxy.sh --install
# The browser of tests/e2e/report.rs (Debian's chromium), installed when missing.
bash tests/chromium.sh >/dev/null

# The benchmark at a small size, so that it cannot rot: it fails on a
# failed run or on a plan that asks AWS for the same fact twice, and
# asserts no timing (docs/performance.md has the measured figures).
# The tests' features, so that `cargo test` below reuses this build.
cargo build --locked --quiet --bin baseline --features baseline-providers/test-util
echo "Benchmark (small, debug build; timings are not asserted):"
"$MOTO_PYTHON" tests/bench/bench.py --binary "$CARGO_TARGET_DIR/debug/baseline" \
  --accounts 2 --regions 2 --latency-ms 10

# validate grows with the overrides, not with their square (a ratio, no
# timing asserted: tests/bench/validate.py).
echo "validate and overrides (debug build):"
"$MOTO_PYTHON" tests/bench/validate.py --binary "$CARGO_TARGET_DIR/debug/baseline" \
  --accounts 1000 --overrides 2500 10000 --check-linear

# The scale stand-in at a small size (record a converged account, replay
# it for 3 accounts × 17 regions over HTTPS, with one token in each quota
# bucket so that calls are throttled and retried): fails on a missing
# answer, a fact asked twice, an answer that does not parse against the
# AWS models, a throttled run that does not finish, or one not throttled.
echo "Scale stand-in (small, debug build; timings are not asserted):"
BENCH_PROFILE=dev bash tests/bench/scale.sh --accounts 3 --latency-ms 5 --tight-quotas

# The CI examples against the workflow schemas (examples/ci/, docs/ci.md).
bash tests/lint-ci.sh

# The release path for this machine's target (scripts/package.sh, what the
# release workflow runs per target): archive, checksums, SBOM.
bash tests/package.sh

# The printed IAM policy, every variant, through parliament and
# cloudsplaining against the reviewed allow-list (tests/policy-audit-allow.json).
bash tests/policy-audit.sh "$CARGO_TARGET_DIR/debug/baseline"

# The closing line sums every test binary's result and the local AWS's
# tests (cargo's own last line is that of the last binary, often one
# without tests).
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
echo "The local AWS's answers against the AWS service models, and its IAM evaluator (tests/localaws/test_model.py, test_authz.py):"
PYTHONPATH=tests "$MOTO_PYTHON" -m unittest localaws.test_model localaws.test_authz 2>&1 | tee -a "$log" || status=$?
# --no-fail-fast: every test binary runs even after one fails, so a
# failure shows everything at once.
cargo test --workspace --locked --no-fail-fast "$@" 2>&1 | tee -a "$log" || status=$?
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     /^Ran [0-9]+ tests? in/ { ran = $2 }
     /^FAILED \(/ { if (match($0, /failures=[0-9]+/)) uf += substr($0, RSTART + 9, RLENGTH - 9);
                    if (match($0, /errors=[0-9]+/)) uf += substr($0, RSTART + 7, RLENGTH - 7) }
     END { printf "tests: %d passed, %d failed\n", p + ran - uf, f + uf }' "$log"
exit "$status"
