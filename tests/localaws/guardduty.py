"""GuardDuty: TagResource / UntagResource / ListTagsForResource on a
detector's ARN, which moto lacks (it keeps the tags CreateDetector is
given, in its own detector: these read and change those); and
UpdateDetector's `features`, which moto replaces as a whole.

AWS behaviour followed (GuardDuty API reference): UpdateDetector changes
the protection plans it names and leaves the others as they are.

Publishing destinations (the findings export: a bucket and a KMS key),
which moto lacks: Create/List/Describe/DeletePublishingDestination under
`/detector/{detectorId}/publishingDestination`, kept per detector. AWS
behaviour followed (GuardDuty API reference,
CreatePublishingDestination): the destination type is `S3`, its
properties name the bucket ARN (optionally with a prefix) and the KMS key
ARN; an unknown detector or destination is BadRequestException. Not
modelled: AWS checks that GuardDuty may write to the bucket and use the
key (status PUBLISHING_FAILED otherwise); here every destination is
PUBLISHING.

AWS behaviour followed (GuardDuty API reference): `/tags/{resourceArn}`,
the detector ARN `arn:aws:guardduty:REGION:ACCOUNT:detector/ID`; an
unknown ARN is BadRequestException (GuardDuty answers that, not
ResourceNotFound).

Sources (AWS's documentation):
* https://docs.aws.amazon.com/guardduty/latest/APIReference/API_UpdateDetector.html
* https://docs.aws.amazon.com/guardduty/latest/APIReference/API_TagResource.html
* https://docs.aws.amazon.com/guardduty/latest/APIReference/API_CreatePublishingDestination.html
* https://docs.aws.amazon.com/guardduty/latest/APIReference/API_DescribePublishingDestination.html
"""

import re
import uuid

from moto.guardduty import models
from moto.guardduty.models import guardduty_backends

from .common import ServiceError, json_answer

ARN = re.compile(r"^arn:aws:guardduty:([^:]+):(\d{12}):detector/(.+)$")


DESTINATIONS = re.compile(r"^/detector/([^/]+)/publishingDestination(?:/([^/]+))?$")


def destinations(req):
    m = DESTINATIONS.match(req.path)
    if not m:
        return None
    detector_id, destination_id = m.group(1), m.group(2)
    detector = guardduty_backends[req.account][req.region].detectors.get(detector_id)
    if detector is None:
        raise ServiceError("BadRequestException",
                           "The request is rejected because the input detectorId is not owned by the current account.")
    kept = detector.__dict__.setdefault("publishing_destinations", {})
    if destination_id is None and req.method == "POST":
        body = req.json()
        props = body.get("destinationProperties") or {}
        if body.get("destinationType") != "S3" or not props.get("destinationArn") or not props.get("kmsKeyArn"):
            raise ServiceError("BadRequestException",
                               "The request is rejected because an invalid or out-of-range value is specified as an input parameter.")
        new_id = uuid.uuid4().hex
        kept[new_id] = {"destinationArn": props["destinationArn"], "kmsKeyArn": props["kmsKeyArn"]}
        return json_answer({"destinationId": new_id})
    if destination_id is None and req.method == "GET":
        return json_answer({"destinations": [
            {"destinationId": d, "destinationType": "S3", "status": "PUBLISHING"} for d in kept]})
    if destination_id not in kept:
        raise ServiceError("BadRequestException",
                           "The request is rejected because the one or more input parameters have an invalid value.")
    if req.method == "GET":
        return json_answer({"destinationId": destination_id, "destinationType": "S3", "status": "PUBLISHING",
                            "publishingFailureStartTimestamp": 0,
                            "destinationProperties": kept[destination_id]})
    if req.method == "DELETE":
        del kept[destination_id]
        return json_answer({})
    return None


def handle(req):
    if req.service != "guardduty":
        return None
    if req.path.startswith("/detector/"):
        return destinations(req)
    if not req.path.startswith("/tags/"):
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
