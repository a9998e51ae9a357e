"""GuardDuty: TagResource / UntagResource / ListTagsForResource on a
detector's ARN, which moto lacks (it keeps the tags CreateDetector is
given, in its own detector: these read and change those); and
UpdateDetector's `features`, which moto replaces as a whole.

AWS behaviour followed (GuardDuty API reference): UpdateDetector changes
the protection plans it names and leaves the others as they are.

AWS behaviour followed (GuardDuty API reference): `/tags/{resourceArn}`,
the detector ARN `arn:aws:guardduty:REGION:ACCOUNT:detector/ID`; an
unknown ARN is BadRequestException (GuardDuty answers that, not
ResourceNotFound).
"""

import re

from moto.guardduty import models
from moto.guardduty.models import guardduty_backends

from .common import ServiceError, json_answer

ARN = re.compile(r"^arn:aws:guardduty:([^:]+):(\d{12}):detector/(.+)$")


def handle(req):
    if req.service != "guardduty" or not req.path.startswith("/tags/"):
        return None
    arn = req.path[len("/tags/"):]
    m = ARN.match(arn)
    detectors = guardduty_backends[req.account][req.region].detectors if m else {}
    if not m or m.group(1) != req.region or m.group(2) != req.account or m.group(3) not in detectors:
        raise ServiceError("BadRequestException", f"The request is rejected because the resource {arn} is not valid.")
    detector = detectors[m.group(3)]
    if req.method == "GET":
        return json_answer({"tags": detector.tags})
    if req.method == "POST":
        detector.tags.update(req.json().get("tags") or {})
        return json_answer({})
    if req.method == "DELETE":
        for k in req.query.get("tagKeys", []):
            detector.tags.pop(k, None)
        return json_answer({})
    return None


def install():
    update = models.Detector.update

    def update_named_features(self, enable, finding_publishing_frequency, data_sources, features):
        if features is not None:
            merged = {f.get("name"): dict(f) for f in (self.features or [])}
            for f in features:
                merged.setdefault(f.get("name"), {}).update(f)
            features = list(merged.values())
        update(self, enable, finding_publishing_frequency, data_sources, features)

    models.Detector.update = update_named_features
