#!/usr/bin/env bash
# The main job against a local AWS: starts the moto emulator, makes the
# emulated account drift (an old Config recorder that records only buckets,
# a console user without MFA, nothing else set up), then shows
#   baseline plan  →  baseline apply  →  baseline plan (only the manual
#   MFA actions remain: a person must do those)
# with examples/demo.yaml. Nothing leaves this machine.
set -euo pipefail
cd "$(dirname "$0")/.."
source tests/moto-env.sh

echo "Building baseline ..." >&2
cargo build --locked --quiet --bin baseline
BASELINE="$CARGO_TARGET_DIR/debug/baseline"

PORT=$("$MOTO_PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$MOTO_PYTHON" -m moto.server -H 127.0.0.1 -p "$PORT" >/dev/null 2>&1 &
MOTO_PID=$!
trap 'kill $MOTO_PID 2>/dev/null || true' EXIT

export AWS_ENDPOINT_URL="http://127.0.0.1:$PORT" AWS_ACCESS_KEY_ID=demo AWS_SECRET_ACCESS_KEY=demo \
       AWS_REGION=ap-northeast-1 AWS_MAX_ATTEMPTS=2 AWS_EC2_METADATA_DISABLED=true
for _ in $(seq 100); do
  "$MOTO_PYTHON" -c "import socket; socket.create_connection(('127.0.0.1', $PORT), 0.2)" 2>/dev/null && break
  sleep 0.1
done

"$MOTO_PYTHON" - <<'PY'
import boto3
iam = boto3.client("iam", region_name="ap-northeast-1")
iam.create_user(UserName="alice")
iam.create_login_profile(UserName="alice", Password="Secr3t-Passw0rd!")
config = boto3.client("config", region_name="ap-northeast-1")
config.put_configuration_recorder(ConfigurationRecorder={
    "name": "legacy", "roleARN": "arn:aws:iam::123456789012:role/old-config-role",
    "recordingGroup": {"allSupported": False, "resourceTypes": ["AWS::S3::Bucket"]}})
PY

run() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }
run "$BASELINE" validate -f examples/demo.yaml
set +e
run "$BASELINE" plan -f examples/demo.yaml --detailed-exitcode
echo "(exit code $?: 2 means drift)"
set -e
run "$BASELINE" apply -f examples/demo.yaml --auto-approve
set +e
run "$BASELINE" plan -f examples/demo.yaml --detailed-exitcode
code=$?
set -e
echo "(exit code $code: 3 means only manual actions remain)"
[ "$code" = 3 ]
