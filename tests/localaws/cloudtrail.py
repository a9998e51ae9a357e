"""CloudTrail checks, before it takes a trail, that it may deliver to the
trail's bucket and encrypt with the trail's key, which moto does not.

AWS behaviour followed:
* CloudTrail User Guide, "Amazon S3 bucket policy for CloudTrail": the
  bucket policy must let the service principal `cloudtrail.amazonaws.com`
  call `s3:GetBucketAcl` on the bucket and `s3:PutObject` on
  `bucket/[prefix/]AWSLogs/ACCOUNT/*` with the ACL
  `bucket-owner-full-control` (and, when the policy names it, the trail's
  `aws:SourceArn`); else CreateTrail and UpdateTrail answer
  `InsufficientS3BucketPolicyException`.
* CloudTrail User Guide, "Configure AWS KMS key policies for CloudTrail":
  the key policy must let CloudTrail call `kms:GenerateDataKey*` with the
  encryption context `aws:cloudtrail:arn` (the trail's ARN) and
  `kms:DescribeKey`; else `InsufficientEncryptionPolicyException`. A key
  that does not exist is `KmsKeyNotFoundException`.
* CloudTrail API Reference, CreateTrail and UpdateTrail: these errors are
  declared by both operations; UpdateTrail checks what it is given (a new
  bucket, prefix or key).

The policies are evaluated with the local IAM evaluator
(`authz.service_allowed`) as they are in effect now (`settle.py`: a policy
written less than `--settle-ms` ago is not yet seen).

Sources (AWS's documentation):
* https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-s3-bucket-policy-for-cloudtrail.html
* https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-kms-key-policy-for-cloudtrail.html
* https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_CreateTrail.html
* https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_UpdateTrail.html
"""

from moto.cloudtrail.models import cloudtrail_backends
from moto.kms.models import kms_backends
from moto.utilities.utils import get_partition

from . import authz, settle
from .common import ServiceError

PRINCIPAL = "cloudtrail.amazonaws.com"


def bucket_problem(account, partition, bucket, prefix, trail_arn):
    """Why CloudTrail may not deliver `trail_arn`'s logs to `bucket`, or None."""
    policy, exists = settle.bucket_policy(account, partition, bucket)
    if not exists:
        return None  # moto answers S3BucketDoesNotExistException itself
    key = "/".join(p for p in [prefix, f"AWSLogs/{account}/CloudTrail/probe.json.gz"] if p)
    context = {"aws:SourceArn": trail_arn, "aws:SourceAccount": account,
               "s3:x-amz-acl": "bucket-owner-full-control", "aws:SecureTransport": "true"}
    refused = authz.delivery_refused(policy, PRINCIPAL, f"arn:{partition}:s3:::{bucket}", key, context)
    if refused:
        return f"Incorrect S3 bucket policy is detected for bucket: {bucket} ({refused} for {PRINCIPAL})"
    return None


def key_problem(account, region, key_id, trail_arn):
    """(error code, message) when CloudTrail may not encrypt with the key, or None."""
    backend = kms_backends[account][region]
    try:
        key = backend.keys.get(backend.any_id_to_key_id(key_id))
    except Exception:  # an alias that names no key
        key = None
    if key is None:
        return "KmsKeyNotFoundException", f"KMS key {key_id} does not exist in {region}"
    policy = settle.policy_document(settle.effective(key, "policy"))
    context = {"aws:SourceArn": trail_arn, "aws:SourceAccount": account,
               "kms:EncryptionContext:aws:cloudtrail:arn": trail_arn}
    for action in ("kms:GenerateDataKey", "kms:DescribeKey"):
        if not authz.service_allowed(policy, PRINCIPAL, action, key.arn, context):
            return ("InsufficientEncryptionPolicyException",
                    f"Insufficient permissions to access S3 bucket or KMS key {key_id} ({action} for {PRINCIPAL})")
    return None


def handle(req):
    if req.service != "cloudtrail" or req.action not in ("CreateTrail", "UpdateTrail"):
        return None
    body = req.json()
    name = body.get("Name", "")
    partition = get_partition(req.region)
    bucket, prefix, key = body.get("S3BucketName"), body.get("S3KeyPrefix"), body.get("KmsKeyId")
    if req.action == "UpdateTrail":
        given = {k for k in ("S3BucketName", "S3KeyPrefix", "KmsKeyId") if k in body}
        if not given:
            return None
        try:
            trail = cloudtrail_backends[req.account][req.region].get_trail(name)
        except Exception:
            return None  # moto answers TrailNotFoundException
        if trail is None:
            return None
        name = trail.trail_name
        bucket = bucket if "S3BucketName" in body else trail.bucket_name
        prefix = prefix if "S3KeyPrefix" in body else trail.s3_key_prefix
        key = key if "KmsKeyId" in body else trail.kms_key_id
    name = name.split("/")[-1]
    trail_arn = f"arn:{partition}:cloudtrail:{req.region}:{req.account}:trail/{name}"
    if bucket:
        problem = bucket_problem(req.account, partition, bucket, prefix, trail_arn)
        if problem:
            raise ServiceError("InsufficientS3BucketPolicyException", problem)
    if key:
        problem = key_problem(req.account, req.region, key, trail_arn)
        if problem:
            raise ServiceError(*problem)
    return None
