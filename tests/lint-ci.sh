#!/usr/bin/env bash
# Checks the CI examples (examples/ci/) and the release workflow
# (.github/workflows/release.yml) against the GitHub Actions workflow and
# GitLab CI schemas (SchemaStore's, vendored by check-jsonschema, pinned;
# installed here when missing), and the GitHub workflows with zizmor (the
# GitHub Actions security linter, pinned, offline: unpinned actions,
# template injection, broad permissions, persisted credentials).
# tests/run.sh runs it.
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=0.39.0
ZIZMOR=1.33.1
VENV=${BASELINE_LINT_VENV:-/var/tmp/baseline-lint-venv}
if ! "$VENV/bin/check-jsonschema" --version 2>/dev/null | grep -q "$VERSION" \
  || ! "$VENV/bin/zizmor" --version 2>/dev/null | grep -q "$ZIZMOR"; then
  echo "Installing check-jsonschema==$VERSION and zizmor==$ZIZMOR into $VENV ..." >&2
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "check-jsonschema==$VERSION" "zizmor==$ZIZMOR"
fi
"$VENV/bin/check-jsonschema" --builtin-schema vendor.github-workflows examples/ci/github-baseline.yml \
  .github/workflows/release.yml
"$VENV/bin/check-jsonschema" --builtin-schema vendor.gitlab-ci examples/ci/gitlab-ci.yml
# The check must be able to fail: a misspelt key is refused.
broken=$(mktemp --suffix=.yml)
trap 'rm -f "$broken"' EXIT
sed 's/runs-on:/runs_on:/' examples/ci/github-baseline.yml > "$broken"
if "$VENV/bin/check-jsonschema" --builtin-schema vendor.github-workflows "$broken" >/dev/null 2>&1; then
  echo "the workflow schema check accepted a broken workflow" >&2
  exit 1
fi
# zizmor, offline (no GitHub API): no finding at all, every severity.
WORKFLOWS=(.github/ examples/ci/github-baseline.yml)   # every workflow under .github/, and the recipe
"$VENV/bin/zizmor" --offline --no-progress "${WORKFLOWS[@]}"
# ... and it must be able to fail: an action by a movable tag is refused.
sed -E 's#(actions/checkout)@[0-9a-f]{40}.*#\1@v4#' examples/ci/github-baseline.yml > "$broken"
if "$VENV/bin/zizmor" --offline --no-progress "$broken" >/dev/null 2>&1; then
  echo "zizmor accepted an action referenced by a movable tag" >&2
  exit 1
fi
echo "CI files: 3 checked, a broken one refused; 2 workflows pass zizmor, an unpinned one refused"
