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

Protection plans by region, which moto does not model. AWS behaviour
followed (GuardDuty API reference, CreateDetector): a plan CreateDetector
does not name is enabled, except RUNTIME_MONITORING (the plans are the
`DetectorFeature` values of botocore's model). CreateDetector, GetDetector
and UpdateDetector: "There might be regional differences because some
data sources might not be available in all the AWS Regions where GuardDuty
is presently supported" (GuardDuty "Regions and endpoints"). AWS's page
gives that table in prose that changes often; here a test says which
plans a region does not offer (``POST /_baseline/unoffered``
``{"service": "guardduty", "region", "names"}``): GetDetector does not list them, and a
CreateDetector or UpdateDetector naming one is BadRequestException (the
stricter reading: AWS's answer there is not documented).

One detector per account and region, which moto does not enforce. AWS
behaviour followed (GuardDuty API reference, CreateDetector: "You can
have only one detector per account per Region"; `clientToken`, "the
idempotency token for the create request"): a second CreateDetector is
BadRequestException, unless it carries the token the first one did (a
client retrying an attempt that timed out after GuardDuty acted): then
the answer is the detector that one made.

Sources (AWS's documentation):
* https://docs.aws.amazon.com/guardduty/latest/APIReference/API_CreateDetector.html
* https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_regions.html
* https://docs.aws.amazon.com/guardduty/latest/APIReference/API_UpdateDetector.html
* https://docs.aws.amazon.com/guardduty/latest/APIReference/API_TagResource.html
* https://docs.aws.amazon.com/guardduty/latest/APIReference/API_CreatePublishingDestination.html
* https://docs.aws.amazon.com/guardduty/latest/APIReference/API_DescribePublishingDestination.html
"""

import re
import uuid

import botocore.session
from moto.guardduty import models
from moto.guardduty.models import guardduty_backends

from .common import ServiceError, json_answer

ARN = re.compile(r"^arn:aws[a-z-]*:guardduty:([^:]+):(\d{12}):detector/(.+)$")
# Every protection plan, from AWS's model.
PLANS = botocore.session.get_session().get_service_model("guardduty").shape_for("DetectorFeature").enum
# region -> the plans it does not offer (set by a test).
UNOFFERED = {}


def _check_offered(req):
    """CreateDetector / UpdateDetector naming a plan the region lacks."""
    if req.method != "POST" or not re.match(r"^/detector(/[^/]+)?$", req.path):
        return
    lacking = UNOFFERED.get(req.region, set())
    for f in req.json().get("features") or []:
        if f.get("name") in lacking:
            raise ServiceError("BadRequestException",
                               "The request is rejected because an invalid or out-of-range value is specified "
                               f"as an input parameter. ({f.get('name')} is not offered in {req.region})")


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


def create_detector(req):
    """CreateDetector: one per account and region; the same token again
    answers the detector it made."""
    backend = guardduty_backends[req.account][req.region]
    body = req.json()
    token = body.get("clientToken")
    for detector_id, detector in backend.detectors.items():
        if token and getattr(detector, "_token", None) == token:
            return json_answer({"detectorId": detector_id})
    if backend.detectors:
        raise ServiceError("BadRequestException",
                           "The request is rejected because a detector already exists for the current account.")
    detector_id = backend.create_detector(body.get("enable"), body.get("findingPublishingFrequency"),
                                          body.get("dataSources"), body.get("tags"), body.get("features"))
    # Private: moto serializes every public attribute.
    backend.detectors[detector_id]._token = token
    return json_answer({"detectorId": detector_id})


def handle(req):
    if req.service != "guardduty":
        return None
    _check_offered(req)
    if req.method == "POST" and req.path.rstrip("/") == "/detector":
        return create_detector(req)
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

    create = models.GuardDutyBackend.create_detector

    def create_with_default_plans(self, enable, finding_publishing_frequency, data_sources, tags, features):
        named = {f.get("name"): dict(f) for f in (features or [])}
        plans = [named.get(p) or {"name": p, "status": "DISABLED" if p == "RUNTIME_MONITORING" else "ENABLED"}
                 for p in PLANS if p not in UNOFFERED.get(self.region_name, set())]
        detector_id = create(self, enable, finding_publishing_frequency, data_sources, tags, plans)
        # Private: moto serializes every public attribute.
        self.detectors[detector_id]._region = self.region_name
        return detector_id

    models.GuardDutyBackend.create_detector = create_with_default_plans

    to_json = models.Detector.to_json

    def offered_only(self):
        d = to_json(self)
        lacking = UNOFFERED.get(getattr(self, "_region", None), set())
        d["features"] = [f for f in d.get("features") or [] if f.get("name") not in lacking]
        return d

    models.Detector.to_json = offered_only
