"""Eventual consistency: a bucket policy, a KMS key policy or a KMS key's
tags just written are not yet what the services that read them see.

AWS behaviour followed:
* IAM User Guide, "Troubleshoot IAM" / "Changes that I make are not always
  immediately visible": IAM and the policies services evaluate are
  eventually consistent; a change can take time to take effect.
* KMS Developer Guide, "Eventual consistency" (AWS KMS API reference):
  a key just created, or its key policy just changed, may not yet be what
  a following request sees; "ABAC for AWS KMS": a change of a key's tags
  can take up to five minutes to affect authorization.

Here each write of a bucket policy (PutBucketPolicy, DeleteBucketPolicy)
of a key policy (CreateKey, PutKeyPolicy) and of a key's tags (CreateKey,
TagResource, UntagResource) is stamped, and what the service checks
(cloudtrail.py, config.py) and the IAM evaluator's `aws:ResourceTag/...`
(authz.py) see is the value written at least ``SETTLE`` seconds ago (``--settle-ms``; 0, the default, puts every
write into effect at once). A key created less than ``SETTLE`` ago has no
policy in effect yet. moto's own state is unchanged: reads answer the
newest value, as AWS's reads do.

Sources (AWS's documentation):
* https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_general.html#troubleshoot_general_eventual-consistency
* https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateKey.html (eventual consistency)
* https://docs.aws.amazon.com/kms/latest/developerguide/abac.html
"""

import json
import threading
import time

from moto.kms import models as kms_models
from moto.s3 import models as s3_models

SETTLE = 0.0
# A resource created within the window: nothing of it is in effect yet.
MISSING = object()
_lock = threading.Lock()


def _stamp(obj, attr, before, created=False, after=MISSING):
    """Records that `obj.attr` (or the value `name` of it: `after`) changed
    just now (from `before`)."""
    with _lock:
        history = obj.__dict__.setdefault("_baseline_history", {}).setdefault(attr, [])
        if not history and not created:
            history.append((float("-inf"), before))
        history.append((time.monotonic(), getattr(obj, attr) if after is MISSING else after))
        # Only the newest value older than the window still matters.
        cutoff = time.monotonic() - SETTLE
        while len(history) > 1 and history[1][0] <= cutoff:
            history.pop(0)


def effective(obj, attr, current=MISSING):
    """The value of `obj.attr` (or, given `current`, of the value it names)
    the services see now: the newest one written at least SETTLE seconds
    ago, or MISSING when `obj` is newer than that."""
    with _lock:
        history = obj.__dict__.get("_baseline_history", {}).get(attr)
        if not SETTLE or not history:
            return getattr(obj, attr) if current is MISSING else current
        cutoff = time.monotonic() - SETTLE
        seen = [value for stamp, value in history if stamp <= cutoff]
        return seen[-1] if seen else MISSING


def policy_document(value):
    """A policy as in effect (`effective`), parsed; None when there is
    none, it is not in effect yet, or it is not JSON."""
    if value is MISSING or not value:
        return None
    if isinstance(value, bytes):
        value = value.decode()
    try:
        return json.loads(value)
    except ValueError:
        return None


def bucket_policy(account, partition, name):
    """(the bucket's policy as in effect, whether the bucket exists)."""
    try:
        bucket = s3_models.s3_backends[account][partition].get_bucket(name)
    except Exception:
        return None, False
    return policy_document(effective(bucket, "policy")), True


def install():
    put_policy = s3_models.S3Backend.put_bucket_policy
    delete_policy = s3_models.S3Backend.delete_bucket_policy
    create_key = kms_models.KmsBackend.create_key
    put_key_policy = kms_models.KmsBackend.put_key_policy
    tag_resource = kms_models.KmsBackend.tag_resource
    untag_resource = kms_models.KmsBackend.untag_resource

    def tags_of(backend, key_id):
        return dict(backend.tagger.get_tag_dict_for_resource(key_id))

    def put_bucket_policy(self, bucket_name, policy):
        bucket = self.get_bucket(bucket_name)
        before = bucket.policy
        put_policy(self, bucket_name, policy)
        _stamp(bucket, "policy", before)

    def delete_bucket_policy(self, bucket_name):
        bucket = self.get_bucket(bucket_name)
        before = bucket.policy
        delete_policy(self, bucket_name)
        _stamp(bucket, "policy", before)

    def create_key_settling(self, *args, **kwargs):
        key = create_key(self, *args, **kwargs)
        _stamp(key, "policy", None, created=True)
        _stamp(key, "tags", None, created=True, after=tags_of(self, key.id))
        return key

    def retag(change):
        def settling(self, arn, tags):
            key = self.keys.get(self.get_key_id(arn))
            before = tags_of(self, key.id) if key else None
            change(self, arn, tags)
            if key is not None:
                _stamp(key, "tags", before, after=tags_of(self, key.id))
        return settling

    def put_key_policy_settling(self, key_id, policy):
        key = self.keys[self.get_key_id(key_id)]
        before = key.policy
        put_key_policy(self, key_id, policy)
        _stamp(key, "policy", before)

    s3_models.S3Backend.put_bucket_policy = put_bucket_policy
    s3_models.S3Backend.delete_bucket_policy = delete_bucket_policy
    kms_models.KmsBackend.create_key = create_key_settling
    kms_models.KmsBackend.put_key_policy = put_key_policy_settling
    kms_models.KmsBackend.tag_resource = retag(tag_resource)
    kms_models.KmsBackend.untag_resource = retag(untag_resource)
