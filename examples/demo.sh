#!/usr/bin/env bash
# The main job against a local AWS (tests/local-aws.sh: moto plus the
# operations it lacks), with the source document's own baseline,
# examples/tokyo.yaml, unchanged. The emulated account drifts (a console
# user without MFA, a customer key as the EBS default key, a bucket made
# public on purpose, nothing else set up), then:
#   baseline plan     →  changes (exit 2)
#   baseline apply    →  converges every setting
#   baseline plan     →  only the manual MFA actions remain (exit 3)
#   baseline destroy  →  the paid services stop; the free settings stay
# Nothing leaves this machine.
set -euo pipefail
cd "$(dirname "$0")/.."
source tests/moto-env.sh
BASELINE_FILE=examples/tokyo.yaml

echo "Building baseline ..." >&2
# With the tests' features (the SDK's test utilities), so that tests/run.sh
# afterwards reuses this build of the SDK crates instead of compiling them
# again; a release build (`cargo install`) carries none of it.
cargo build --locked --quiet --bin baseline --features baseline-providers/test-util
BASELINE="$CARGO_TARGET_DIR/debug/baseline"

PORT=$("$MOTO_PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
tests/local-aws.sh "$PORT" >/dev/null 2>&1 &
SERVER_PID=$!
trap 'kill $SERVER_PID 2>/dev/null || true' EXIT

export AWS_ENDPOINT_URL="http://127.0.0.1:$PORT" AWS_ACCESS_KEY_ID=demo AWS_SECRET_ACCESS_KEY=demo \
       AWS_REGION=ap-northeast-1 AWS_MAX_ATTEMPTS=2 AWS_EC2_METADATA_DISABLED=true
for _ in $(seq 300); do
  "$MOTO_PYTHON" -c "import socket; socket.create_connection(('127.0.0.1', $PORT), 0.2)" 2>/dev/null && break
  sleep 0.1
done

"$MOTO_PYTHON" - <<'PY'
import boto3
iam = boto3.client("iam", region_name="ap-northeast-1")
iam.create_user(UserName="alice")
iam.create_login_profile(UserName="alice", Password="Secr3t-Passw0rd!")
s3 = boto3.client("s3", region_name="ap-northeast-1")
s3.create_bucket(Bucket="public-assets", CreateBucketConfiguration={"LocationConstraint": "ap-northeast-1"})
s3.put_bucket_policy(Bucket="public-assets", Policy='{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", '
                     '"Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::public-assets/*"}]}')
key = boto3.client("kms", region_name="ap-northeast-1").create_key(Description="someone's EBS key")
boto3.client("ec2", region_name="ap-northeast-1").modify_ebs_default_kms_key_id(KmsKeyId=key["KeyMetadata"]["Arn"])
PY

run() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }
expect() { local want=$1; shift; set +e; run "$@"; local code=$?; set -e
  echo "(exit code $code)"; [ "$code" = "$want" ] || { echo "expected exit code $want" >&2; exit 1; }; }

run "$BASELINE" validate -f "$BASELINE_FILE"
expect 2 "$BASELINE" plan -f "$BASELINE_FILE" --detailed-exitcode      # 2: drift
run "$BASELINE" apply -f "$BASELINE_FILE" --auto-approve
expect 3 "$BASELINE" plan -f "$BASELINE_FILE" --detailed-exitcode      # 3: only manual actions remain
run "$BASELINE" destroy -f "$BASELINE_FILE" --auto-approve

printf '\n\033[1mAfter destroy, as the local AWS sees it:\033[0m\n'
"$MOTO_PYTHON" - <<'PY'
import boto3
r = "ap-northeast-1"
config = boto3.client("config", region_name=r)
status = config.describe_configuration_recorder_status()["ConfigurationRecordersStatus"]
trails = boto3.client("cloudtrail", region_name=r).describe_trails()["trailList"]
detectors = boto3.client("guardduty", region_name=r).list_detectors()["DetectorIds"]
try:
    boto3.client("securityhub", region_name=r).describe_hub()
    hub = "enabled"
except Exception:
    hub = "disabled"
analyzers = boto3.client("accessanalyzer", region_name=r).list_analyzers(type="ACCOUNT")["analyzers"]
ec2 = boto3.client("ec2", region_name=r)
paid = {
    "config recording": any(s.get("recording") for s in status),
    "cloudtrail trails": len(trails),
    "guardduty detectors": len(detectors),
    "security hub": hub,
}
free = {
    "access analyzer": [a["status"] for a in analyzers],
    "ebs encryption by default": ec2.get_ebs_encryption_by_default()["EbsEncryptionByDefault"],
    "ebs default key": ec2.get_ebs_default_kms_key_id()["KmsKeyId"],
    "snapshot public access": ec2.get_snapshot_block_public_access_state()["State"],
    "imds tokens": ec2.get_instance_metadata_defaults()["AccountLevel"].get("HttpTokens"),
}
print("  paid services:", paid)
print("  free settings:", free)
assert paid == {"config recording": False, "cloudtrail trails": 0, "guardduty detectors": 0,
                "security hub": "disabled"}, paid
assert free["access analyzer"] == ["ACTIVE"] and free["ebs encryption by default"] \
    and free["ebs default key"] == "alias/aws/ebs" \
    and free["snapshot public access"] == "block-all-sharing" and free["imds tokens"] == "required", free
PY
