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

Sources (AWS's documentation):
* https://docs.aws.amazon.com/config/latest/APIReference/API_PutConfigurationRecorder.html
* https://docs.aws.amazon.com/config/latest/APIReference/API_RecordingMode.html
* https://docs.aws.amazon.com/config/latest/APIReference/API_TagResource.html
"""

import json
import uuid

from moto.config import models, responses


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
            rec._arn = (f"arn:aws:config:{self.region_name}:{self.account_id}:"
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
