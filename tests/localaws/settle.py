"""Eventual consistency: a bucket policy or a KMS key policy that was just
written is not yet what the services that read it see.

AWS behaviour followed:
* IAM User Guide, "Troubleshoot IAM" / "Changes that I make are not always
  immediately visible": IAM and the policies services evaluate are
  eventually consistent; a change can take time to take effect.
* KMS Developer Guide, "Eventual consistency" (AWS KMS API reference):
  a key just created, or its key policy just changed, may not yet be what
  a following request sees.

Here each write of a bucket policy (PutBucketPolicy, DeleteBucketPolicy)
and of a key policy (CreateKey, PutKeyPolicy) is stamped, and what the
service checks (cloudtrail.py, config.py) see is the value written at
least ``SETTLE`` seconds ago (``--settle-ms``; 0, the default, puts every
write into effect at once). A key created less than ``SETTLE`` ago has no
policy in effect yet. moto's own state is unchanged: reads answer the
newest value, as AWS's reads do.
"""

import threading
import time

from moto.kms import models as kms_models
from moto.s3 import models as s3_models

SETTLE = 0.0
# A resource created within the window: nothing of it is in effect yet.
MISSING = object()
_lock = threading.Lock()


def _stamp(obj, attr, before, created=False):
    """Records that `obj.attr` changed just now (from `before`)."""
    with _lock:
        history = obj.__dict__.setdefault("_baseline_history", {}).setdefault(attr, [])
        if not history and not created:
            history.append((float("-inf"), before))
        history.append((time.monotonic(), getattr(obj, attr)))
        # Only the newest value older than the window still matters.
        cutoff = time.monotonic() - SETTLE
        while len(history) > 1 and history[1][0] <= cutoff:
            history.pop(0)


def effective(obj, attr):
    """The value of `obj.attr` the services see now: the newest one written
    at least SETTLE seconds ago, or MISSING when `obj` is newer than that."""
    with _lock:
        history = obj.__dict__.get("_baseline_history", {}).get(attr)
        if not SETTLE or not history:
            return getattr(obj, attr)
        cutoff = time.monotonic() - SETTLE
        seen = [value for stamp, value in history if stamp <= cutoff]
        return seen[-1] if seen else MISSING


def install():
    put_policy = s3_models.S3Backend.put_bucket_policy
    delete_policy = s3_models.S3Backend.delete_bucket_policy
    create_key = kms_models.KmsBackend.create_key
    put_key_policy = kms_models.KmsBackend.put_key_policy

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
        return key

    def put_key_policy_settling(self, key_id, policy):
        key = self.keys[self.get_key_id(key_id)]
        before = key.policy
        put_key_policy(self, key_id, policy)
        _stamp(key, "policy", before)

    s3_models.S3Backend.put_bucket_policy = put_bucket_policy
    s3_models.S3Backend.delete_bucket_policy = delete_bucket_policy
    kms_models.KmsBackend.create_key = create_key_settling
    kms_models.KmsBackend.put_key_policy = put_key_policy_settling
