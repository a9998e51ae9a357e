"""IAM Access Analyzer (REST-JSON, signing name `access-analyzer`), which
moto lacks. State per account and region in a moto `BackendDict`.

AWS behaviour followed (API reference, 2019-11-01):
* CreateAnalyzer `PUT /analyzer`: one analyzer per type per account and
  region (a second of the same type is ServiceQuotaExceededException); a
  taken name is ConflictException, unless the request carries the
  `clientToken` the analyzer was made with (a client retrying an attempt
  that timed out after AWS acted: "idempotency of the request"): then the
  answer is that analyzer; the answer is `{"arn"}`.
* GetAnalyzer / DeleteAnalyzer `/analyzer/{name}`: ResourceNotFoundException
  for an unknown name.
* ListAnalyzers `GET /analyzer?type=`: summaries without `configuration`.
* An analyzer whose zone of trust is the organization (`ORGANIZATION`,
  `ORGANIZATION_UNUSED_ACCESS`, `ORGANIZATION_INTERNAL_ACCESS`) is created
  only in the organization's management account or in the account
  registered as Access Analyzer's delegated administrator
  (`access-analyzer.amazonaws.com`): elsewhere AccessDeniedException
  ("Enabling Access Analyzer with the organization as the zone of trust":
  "you must be signed in to the management account or a delegated
  administrator account"); an account registered less than
  ``--settle-ms`` ago is not one yet (organization.py).
* ... and only while trusted access for `access-analyzer.amazonaws.com` is
  on in the organization: else ValidationException "Service not enabled
  for AWS Organizations" (reason FIELD_VALIDATION_FAILED, as AWS answered
  in nozaq/terraform-aws-secure-baseline issues 166, 184 and 258; IAM User
  Guide, "Enabling IAM Access Analyzer": "you must first enable trusted
  access"). A delegated administrator implies it (Organizations registers
  one only for a trusted service, organization.py).
* TagResource / UntagResource / ListTagsForResource `/tags/{arn}`.

Sources (AWS's documentation):
* https://docs.aws.amazon.com/access-analyzer/latest/APIReference/API_CreateAnalyzer.html
* https://docs.aws.amazon.com/access-analyzer/latest/APIReference/API_ListAnalyzers.html
* https://docs.aws.amazon.com/access-analyzer/latest/APIReference/API_TagResource.html
* https://docs.aws.amazon.com/IAM/latest/UserGuide/access-analyzer-settings.html
"""

import datetime
import re

from moto.core.base_backend import BackendDict, BaseBackend

from .common import ServiceError, json_answer, partition

TYPES = {"ACCOUNT", "ORGANIZATION", "ACCOUNT_UNUSED_ACCESS", "ORGANIZATION_UNUSED_ACCESS",
         "ACCOUNT_INTERNAL_ACCESS", "ORGANIZATION_INTERNAL_ACCESS"}
ANALYZER_PRINCIPAL = "access-analyzer.amazonaws.com"
NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,254}$")


class Analyzer:
    def __init__(self, account, region, name, kind, tags, configuration):
        self.arn = f"arn:{partition(region)}:access-analyzer:{region}:{account}:analyzer/{name}"
        self.name, self.type, self.tags = name, kind, dict(tags or {})
        self.configuration = configuration
        self.created = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

    def summary(self, with_configuration):
        s = {"arn": self.arn, "name": self.name, "type": self.type, "createdAt": self.created,
             "status": "ACTIVE", "tags": self.tags}
        if with_configuration and self.configuration:
            s["configuration"] = self.configuration
        return s


class AccessAnalyzerBackend(BaseBackend):
    def __init__(self, region_name, account_id):
        super().__init__(region_name, account_id)
        self.analyzers = {}

    def create(self, name, kind, tags, configuration, token=None):
        if kind not in TYPES:
            raise ServiceError("ValidationException", f"Invalid type: {kind}")
        if not name or not NAME.match(name):
            raise ServiceError("ValidationException", f"Invalid analyzer name: {name}")
        if name in self.analyzers and token and self.analyzers[name].token == token:
            return self.analyzers[name]
        if name in self.analyzers:
            raise ServiceError("ConflictException", f"An analyzer named {name} already exists", 409)
        if any(a.type == kind for a in self.analyzers.values()):
            raise ServiceError("ServiceQuotaExceededException",
                               f"An analyzer of type {kind} already exists in {self.region_name}", 402)
        a = Analyzer(self.account_id, self.region_name, name, kind, tags, configuration)
        a.token = token
        self.analyzers[name] = a
        return a

    def get(self, name):
        if name not in self.analyzers:
            raise ServiceError("ResourceNotFoundException", f"Analyzer {name} not found", 404)
        return self.analyzers[name]

    def by_arn(self, arn):
        for a in self.analyzers.values():
            if a.arn == arn:
                return a
        raise ServiceError("ResourceNotFoundException", f"Resource {arn} not found", 404)


backends = BackendDict(AccessAnalyzerBackend, "accessanalyzer")


def handle(req):
    if req.service != "access-analyzer":
        return None
    b = backends[req.account][req.region]
    parts = [p for p in req.path.split("/") if p]
    if parts == ["analyzer"] and req.method == "PUT":
        body = req.json()
        if (body.get("type") or "").startswith("ORGANIZATION"):
            from . import organization
            org = organization.org_backend(req.account)
            delegated = org is not None and any(
                a.account.id == req.account and ANALYZER_PRINCIPAL in a.services for a in org.admins)
            # A registration of moments ago is not in effect yet (organization.py).
            delegated = delegated and not organization.settling(org, ANALYZER_PRINCIPAL, None)
            if org is None or (org.account_id != req.account and not delegated):
                raise ServiceError("AccessDeniedException",
                                   f"Account {req.account} is neither the management account of its organization "
                                   "nor a delegated administrator for Access Analyzer.", 403)
            if not organization.trusted(org, ANALYZER_PRINCIPAL):
                raise ServiceError("ValidationException", "Service not enabled for AWS Organizations",
                                   fields={"reason": "fieldValidationFailed"})
        a = b.create(body.get("analyzerName"), body.get("type"), body.get("tags"), body.get("configuration"),
                     body.get("clientToken"))
        return json_answer({"arn": a.arn})
    if parts == ["analyzer"] and req.method == "GET":
        kind = (req.query.get("type") or [None])[0]
        return json_answer({"analyzers": [a.summary(False) for a in b.analyzers.values()
                                          if kind is None or a.type == kind]})
    if len(parts) == 2 and parts[0] == "analyzer":
        if req.method == "GET":
            return json_answer({"analyzer": b.get(parts[1]).summary(True)})
        if req.method == "DELETE":
            del b.analyzers[b.get(parts[1]).name]
            return json_answer({})
    if len(parts) >= 2 and parts[0] == "tags":
        a = b.by_arn("/".join(parts[1:]))
        if req.method == "GET":
            return json_answer({"tags": a.tags})
        if req.method == "POST":
            a.tags.update(req.json().get("tags") or {})
            return json_answer({})
        if req.method == "DELETE":
            for k in req.query.get("tagKeys", []):
                a.tags.pop(k, None)
            return json_answer({})
    raise ServiceError("ValidationException", f"{req.method} {req.path} is not served by this local AWS")
