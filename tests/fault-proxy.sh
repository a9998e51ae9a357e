#!/usr/bin/env bash
# The fault injector between baseline and the local AWS: microburst (PyPI,
# pinned), an AWS-protocol-aware proxy that answers with the errors,
# resets and delays its rules say, in each service's own wire format.
# Installs it into its own virtual environment when missing, then serves in
# the foreground until killed; ready when a TCP connection succeeds.
#
#   tests/fault-proxy.sh PORT UPSTREAM_URL RULES.yaml
#   tests/fault-proxy.sh --install        (install only)
set -euo pipefail
MICROBURST_VERSION=0.10.0
VENV=${BASELINE_FAULT_VENV:-/var/tmp/baseline-microburst-venv}
if ! "$VENV/bin/python" -c "import importlib.metadata as m; assert m.version('microburst') == '$MICROBURST_VERSION'" 2>/dev/null; then
  echo "Installing the fault injector microburst==$MICROBURST_VERSION into $VENV ..." >&2
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "microburst==$MICROBURST_VERSION"
fi
[ "${1:-}" = --install ] && exit 0
if [ $# -ne 3 ]; then
  echo "usage: tests/fault-proxy.sh PORT UPSTREAM_URL RULES.yaml | --install" >&2
  exit 2
fi
# The local AWS does not check signatures: requests are forwarded as signed.
exec "$VENV/bin/microburst" --host 127.0.0.1 --port "$1" --upstream "$2" --config "$3" --no-resign
