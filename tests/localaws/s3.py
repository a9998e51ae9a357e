"""S3 CreateBucket with `Tags` in its CreateBucketConfiguration, which moto
accepts and ignores; and the 409 S3 answers to overlapping configuration
of one bucket, which moto never gives.

AWS behaviour followed (S3 API reference, CreateBucket): a general purpose
bucket may be created with tags (`CreateBucketConfiguration/Tags/Tag`),
set in the same call. Applied after moto created the bucket, to moto's own
bucket tags (per account).

AWS behaviour followed (S3 API reference, "Error responses":
OperationAborted, 409 Conflict, "A conflicting conditional operation is
currently in progress against this resource. Try again."): S3 applies a
bucket's configuration (policy, encryption, Block Public Access, tags, ...)
one change at a time; a second one sent while the first is still being
applied is refused. Here each such request holds its bucket for
`CONFLICT_HOLD` seconds (`--s3-conflict-ms`, 50 ms unless told; 0 turns
the rule off), and a second one in that time is answered 409. A test
marks a bucket busy with someone else's change for a while
(``POST /_baseline/s3-busy`` ``{"account", "bucket", "ms"}``).

Sources (AWS's documentation):
* https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateBucket.html
* https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html
"""

import threading
import time

import xmltodict
from moto.s3.models import s3_backends

from .common import Answer, partition

# The sub-resources of a bucket's configuration (`PUT /bucket?policy`, ...).
CONFIGURATION = {"policy", "encryption", "publicAccessBlock", "tagging", "versioning", "lifecycle",
                 "acl", "ownershipControls", "logging", "replication", "cors", "website", "notification"}
CONFLICT_HOLD = 0.05
_held = set()
_held_lock = threading.Lock()
# Buckets someone else is changing (`POST /_baseline/s3-busy`): until when.
_busy = {}


def busy(account, bucket, seconds):
    """Another client's change of `bucket` under way for `seconds`: every
    configuration change meanwhile is answered 409, as S3 does."""
    with _held_lock:
        _busy[(account, bucket)] = time.monotonic() + seconds


def hold(req):
    """For a request that changes a bucket's configuration: (the bucket it
    now holds, None), or (None, the 409 answer) while another holds it.
    (None, None) for every other request."""
    if req.service != "s3" or req.method not in ("PUT", "DELETE") or not (CONFLICT_HOLD or _busy):
        return None, None
    parts = [p for p in req.path.split("/") if p]
    if len(parts) != 1 or not CONFIGURATION & set(req.query):
        return None, None
    bucket = (req.account, parts[0])
    with _held_lock:
        if bucket in _held or _busy.get(bucket, 0) > time.monotonic():
            xml = ("<Error><Code>OperationAborted</Code><Message>A conflicting conditional operation is "
                   "currently in progress against this resource. Try again.</Message>"
                   f"<BucketName>{parts[0]}</BucketName><RequestId>conflict</RequestId></Error>")
            return None, Answer(409, [("Content-Type", "application/xml")], xml.encode())
        if not CONFLICT_HOLD:
            return None, None
        _held.add(bucket)
    time.sleep(CONFLICT_HOLD)
    return bucket, None


def release(bucket):
    if bucket is not None:
        with _held_lock:
            _held.discard(bucket)


def after(req, status):
    """Called with moto's answer to each request."""
    if req.service != "s3" or req.method != "PUT" or status != 200 or req.query or not req.body:
        return
    parts = [p for p in req.path.split("/") if p]
    if len(parts) != 1 or b"CreateBucketConfiguration" not in req.body:
        return
    conf = (xmltodict.parse(req.body) or {}).get("CreateBucketConfiguration") or {}
    tags = ((conf.get("Tags") or {}).get("Tag")) or []
    if isinstance(tags, dict):
        tags = [tags]
    if tags:
        s3_backends[req.account][partition(req.region)].put_bucket_tagging(
            parts[0], {t["Key"]: t.get("Value") or "" for t in tags})
