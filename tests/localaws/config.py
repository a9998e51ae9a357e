"""AWS Config: the recorder's `recordingMode` and `arn`, which moto accepts
but does not return. Patched into moto's own Config model, so the state
stays moto's (per account and region).

AWS behaviour followed (Config API reference):
* PutConfigurationRecorder keeps `recordingMode` as given; a recorder put
  without one records continuously, and DescribeConfigurationRecorders
  returns `recordingMode: {recordingFrequency: CONTINUOUS}` for it.
* The recorder has an ARN `arn:aws:config:REGION:ACCOUNT:configuration-recorder/NAME/ID`
  and tags: PutConfigurationRecorder `Tags`, and TagResource /
  UntagResource / ListTagsForResource on that ARN (ConfigurationRecorder is
  one of the resources those operations take).

And a check moto does not make (AWS Config Developer Guide, "Permissions
for the Amazon S3 bucket for the AWS Config delivery channel"; API
reference, PutDeliveryChannel: `InsufficientDeliveryPolicyException`,
"Your Amazon S3 bucket policy does not allow AWS Config to write to it"):
PutDeliveryChannel is refused unless the bucket's policy, as in effect now
(`settle.py`), lets the service principal `config.amazonaws.com` call
`s3:GetBucketAcl` on the bucket and `s3:PutObject` on
`bucket/[prefix/]AWSLogs/ACCOUNT/Config/*` with the ACL
`bucket-owner-full-control` (Config writes a `ConfigWritabilityCheckFile`
there). Where AWS's page is unclear (a bucket of the same account, with
the service-linked role) the rule is the stricter one: the policy is
always required. (moto itself refuses DeleteDeliveryChannel while the
recorder runs: `LastDeliveryChannelDeleteFailedException`.)

And PutConfigurationRecorder is refused with `InvalidRoleException` while
its role was made less than the settle delay ago (`settle.py`; IAM User
Guide, "Changes that I make are not always immediately visible": a new
role may not yet be usable by the service that assumes it; the API
reference names InvalidRoleException for a role Config cannot use). A
role this IAM does not hold is accepted, as before: tests seed recorders
with other teams' roles that exist only by name.

Sources (AWS's documentation):
* https://docs.aws.amazon.com/config/latest/developerguide/s3-bucket-policy.html
* https://docs.aws.amazon.com/config/latest/APIReference/API_PutDeliveryChannel.html
* https://docs.aws.amazon.com/config/latest/APIReference/API_PutConfigurationRecorder.html
* https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_general.html#troubleshoot_general_eventual-consistency
* https://docs.aws.amazon.com/config/latest/APIReference/API_RecordingMode.html
* https://docs.aws.amazon.com/config/latest/APIReference/API_TagResource.html
"""

import json
import uuid

from moto.config import models, responses
from moto.iam import models as iam_models
from moto.utilities.utils import get_partition

from . import authz, settle
from .common import ServiceError

PRINCIPAL = "config.amazonaws.com"


def handle(req):
    """PutDeliveryChannel: refused when Config may not write to the bucket;
    PutConfigurationRecorder: refused while its role is too new to use."""
    if req.service == "config" and req.action == "PutConfigurationRecorder":
        return _young_role(req)
    if req.service != "config" or req.action != "PutDeliveryChannel":
        return None
    channel = req.json().get("DeliveryChannel") or {}
    bucket, prefix = channel.get("s3BucketName"), channel.get("s3KeyPrefix")
    partition = get_partition(req.region)
    policy, exists = settle.bucket_policy(req.account, partition, bucket)
    if not exists:
        return None  # moto's own answer
    key = "/".join(p for p in [prefix, f"AWSLogs/{req.account}/Config/ConfigWritabilityCheckFile"] if p)
    context = {"aws:SourceAccount": req.account, "s3:x-amz-acl": "bucket-owner-full-control",
               "aws:SecureTransport": "true"}
    refused = authz.delivery_refused(policy, PRINCIPAL, f"arn:{partition}:s3:::{bucket}", key, context)
    if refused:
        raise ServiceError("InsufficientDeliveryPolicyException",
                           f"Insufficient delivery policy to s3 bucket: {bucket}, unable to write to bucket, "
                           f"provided s3 key prefix is '{prefix or 'null'}' ({refused} for {PRINCIPAL})")
    return None


def _young_role(req):
    role_arn = (req.json().get("ConfigurationRecorder") or {}).get("roleARN") or ""
    iam = iam_models.iam_backends[req.account][get_partition(req.region)]
    role = next((r for r in iam.get_roles() if r.arn == role_arn), None)
    if role is not None and settle.young(role):
        raise ServiceError("InvalidRoleException",
                           f"AWS Config cannot assume role {role_arn} yet: the role was made moments ago")
    return None


class RecorderTags:
    """What moto's tag operations look for: an object with `tags`."""

    def __init__(self, recorder):
        self.tags = recorder._tags


def install():
    put = models.ConfigBackend.put_configuration_recorder
    to_dict = models.ConfigRecorder.to_dict

    def put_configuration_recorder(self, config_recorder):
        old = self.recorders.get(config_recorder.get("name"))
        old_arn = getattr(old, "_arn", None)
        # moto makes a new recorder object on every put: keep the tags.
        old_tags = getattr(old, "_tags", {})
        put(self, config_recorder)
        rec = self.recorders[config_recorder["name"]]
        rec._tags = old_tags
        # Private names: moto serializes every public attribute.
        rec._recording_mode = config_recorder.get("recordingMode") or {"recordingFrequency": "CONTINUOUS"}
        rec._recording_mode.setdefault("recordingModeOverrides", [])
        if old_arn:
            rec._arn = old_arn
        else:
            rec._arn = (f"arn:{get_partition(self.region_name)}:config:{self.region_name}:{self.account_id}:"
                        f"configuration-recorder/{rec.name}/{uuid.uuid4().hex[:16]}")

    def recorder_to_dict(self):
        d = to_dict(self)
        # moto adds the recorder's status, which AWS answers elsewhere
        # (DescribeConfigurationRecorderStatus).
        d.pop("status", None)
        d["recordingMode"] = getattr(self, "_recording_mode", {"recordingFrequency": "CONTINUOUS",
                                                              "recordingModeOverrides": []})
        if getattr(self, "_arn", None):
            d["arn"] = self._arn
        return d

    match_arn = models.ConfigBackend._match_arn

    def _match_arn(self, resource_arn):
        for rec in self.recorders.values():
            if getattr(rec, "_arn", None) == resource_arn:
                return RecorderTags(rec)
        return match_arn(self, resource_arn)

    def put_configuration_recorder_response(self):
        body = json.loads(self.body or "{}")
        self.config_backend.put_configuration_recorder(body["ConfigurationRecorder"])
        rec = self.config_backend.recorders[body["ConfigurationRecorder"]["name"]]
        if not hasattr(rec, "_tags"):
            rec._tags = {}
        rec._tags.update(models.validate_tags(body.get("Tags") or []))
        return ""

    models.ConfigBackend.put_configuration_recorder = put_configuration_recorder
    models.ConfigBackend._match_arn = _match_arn
    models.ConfigRecorder.to_dict = recorder_to_dict
    responses.ConfigResponse.put_configuration_recorder = put_configuration_recorder_response
