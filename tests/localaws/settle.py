"""Eventual consistency: a bucket policy, a KMS key policy or a KMS key's
tags just written are not yet what the services that read them see; a KMS
alias or an IAM role just made cannot be used yet.

AWS behaviour followed:
* IAM User Guide, "Troubleshoot IAM" / "Changes that I make are not always
  immediately visible": IAM and the policies services evaluate are
  eventually consistent; a change can take time to take effect.
* KMS Developer Guide, "Eventual consistency" (AWS KMS API reference):
  a key just created, or its key policy just changed, may not yet be what
  a following request sees, and a request can meet `NotFoundException`
  meanwhile (CreateAlias: "The KMS API follows an eventual consistency
  model"); "ABAC for AWS KMS": a change of a key's tags can take up to
  five minutes to affect authorization.
* IAM User Guide, same page: a role just created may not yet be usable by
  the service that assumes it (here: AWS Config's recorder role,
  `config.py`).

Here each write of a bucket policy (PutBucketPolicy, DeleteBucketPolicy)
of a key policy (CreateKey, PutKeyPolicy) and of a key's tags (CreateKey,
TagResource, UntagResource) is stamped, and what the service checks
(cloudtrail.py, config.py) and the IAM evaluator's `aws:ResourceTag/...`
(authz.py) see is the value written at least ``SETTLE`` seconds ago (``--settle-ms``; 0, the default, puts every
write into effect at once). A key created less than ``SETTLE`` ago has no
policy in effect yet. moto's own state is unchanged: reads answer the
newest value, as AWS's reads do; but a key named by an alias made less
than ``SETTLE`` ago is not found (NotFoundException), in any KMS call that
takes a `KeyId`, DescribeKey included (ListAliases lists it), and a role
made less than ``SETTLE`` ago is `young` (config.py refuses it).

Sources (AWS's documentation):
* https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_general.html#troubleshoot_general_eventual-consistency
* https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateKey.html (eventual consistency)
* https://docs.aws.amazon.com/kms/latest/developerguide/abac.html
* https://docs.aws.amazon.com/kms/latest/developerguide/programming-eventual-consistency.html
* https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateAlias.html
"""

import json
import threading
import time

from moto.iam import models as iam_models
from moto.kms import models as kms_models
from moto.s3 import models as s3_models

SETTLE = 0.0
# Everything written before this moment is in effect (`settle_now`).
_settled_before = float("-inf")
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
        cutoff = max(time.monotonic() - SETTLE, _settled_before)
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
        cutoff = max(time.monotonic() - SETTLE, _settled_before)
        seen = [value for stamp, value in history if stamp <= cutoff]
        return seen[-1] if seen else MISSING


def settle_now():
    """Puts into effect everything written so far: what a test seeds is
    as old as it would be in an account set up long ago."""
    global _settled_before
    with _lock:
        _settled_before = time.monotonic()


def made(obj):
    """Records that `obj` (an alias, a role) was made just now."""
    _stamp(obj, "_baseline_made", None, created=True, after=True)


def young(obj):
    """Whether `obj` was made less than SETTLE ago (so not usable yet)."""
    return effective(obj, "_baseline_made", True) is MISSING


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

    create_alias = kms_models.KmsBackend.create_alias
    alias_target = kms_models.KmsBackend.get_key_id_from_alias
    create_role = iam_models.IAMBackend.create_role

    def create_alias_settling(self, target_key_id, alias_name):
        alias = create_alias(self, target_key_id, alias_name)
        made(alias)
        return alias

    def get_key_id_from_alias(self, alias_name):
        for key in self.keys.values():
            alias = key.aliases.get(alias_name)
            if alias is not None and young(alias):
                return None
        return alias_target(self, alias_name)

    def create_role_settling(self, *args, **kwargs):
        role = create_role(self, *args, **kwargs)
        made(role)
        return role

    kms_models.KmsBackend.create_alias = create_alias_settling
    kms_models.KmsBackend.get_key_id_from_alias = get_key_id_from_alias
    iam_models.IAMBackend.create_role = create_role_settling
    s3_models.S3Backend.put_bucket_policy = put_bucket_policy
    s3_models.S3Backend.delete_bucket_policy = delete_bucket_policy
    kms_models.KmsBackend.create_key = create_key_settling
    kms_models.KmsBackend.put_key_policy = put_key_policy_settling
    kms_models.KmsBackend.tag_resource = retag(tag_resource)
    kms_models.KmsBackend.untag_resource = retag(untag_resource)
