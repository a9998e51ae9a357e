"""AWS Config: the recorder's `recordingMode` and `arn`, which moto accepts
but does not return. Patched into moto's own Config model, so the state
stays moto's (per account and region).

AWS behaviour followed (Config API reference):
* PutConfigurationRecorder keeps `recordingMode` as given; a recorder put
  without one records continuously, and DescribeConfigurationRecorders
  returns `recordingMode: {recordingFrequency: CONTINUOUS}` for it.
* The recorder has an ARN `arn:aws:config:REGION:ACCOUNT:configuration-recorder/NAME/ID`.
"""

import uuid

from moto.config import models


def install():
    put = models.ConfigBackend.put_configuration_recorder
    to_dict = models.ConfigRecorder.to_dict

    def put_configuration_recorder(self, config_recorder):
        old = self.recorders.get(config_recorder.get("name"))
        old_arn = getattr(old, "_arn", None)
        put(self, config_recorder)
        rec = self.recorders[config_recorder["name"]]
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

    models.ConfigBackend.put_configuration_recorder = put_configuration_recorder
    models.ConfigRecorder.to_dict = recorder_to_dict
