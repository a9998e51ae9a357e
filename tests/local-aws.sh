#!/usr/bin/env bash
# The tests' local AWS: moto plus the operations baseline calls that moto
# lacks (tests/localaws/). Installs the pinned moto when missing (like
# tests/run.sh), then serves on 127.0.0.1:PORT in the foreground until
# killed; it is ready when a TCP connection to the port succeeds.
#
#   tests/local-aws.sh PORT [--latency-ms N] [--deny-role ARN] [--deny SERVICE:REGION] [--s3-conflict-ms N] [--settle-ms N] [--enforce-iam]
set -euo pipefail
if [ $# -lt 1 ] || ! [[ $1 =~ ^[0-9]+$ ]]; then
  echo "usage: tests/local-aws.sh PORT [--latency-ms N] [--deny-role ARN] [--deny SERVICE:REGION]" >&2
  exit 2
fi
port=$1
shift
cd "$(dirname "$0")/.."
source tests/moto-env.sh
PYTHONPATH="$PWD/tests${PYTHONPATH:+:$PYTHONPATH}" exec "$MOTO_PYTHON" -m localaws.server --port "$port" "$@"
