"""S3 CreateBucket with `Tags` in its CreateBucketConfiguration, which moto
accepts and ignores.

AWS behaviour followed (S3 API reference, CreateBucket): a general purpose
bucket may be created with tags (`CreateBucketConfiguration/Tags/Tag`),
set in the same call. Applied after moto created the bucket, to moto's own
bucket tags (per account).
"""

import xmltodict
from moto.s3.models import s3_backends


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
        s3_backends[req.account]["aws"].put_bucket_tagging(
            parts[0], {t["Key"]: t.get("Value") or "" for t in tags})
