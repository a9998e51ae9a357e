"""Security Hub standards, and the hub's tags, which moto lacks; the hub
itself (enabled or not) stays moto's. State per account and region.

AWS behaviour followed (API reference, 2018-10-26):
* EnableSecurityHub `POST /accounts`: enables the default standards (AWS
  Foundational Security Best Practices and CIS 1.2.0) unless
  `EnableDefaultStandards` is false; an enabled hub answers
  ResourceConflictException. DisableSecurityHub `DELETE /accounts` drops
  every subscription.
* Every standards call on an account without the hub is
  InvalidAccessException (401).
* BatchEnableStandards `POST /standards/register`: a subscription starts
  PENDING and is READY when next read once the settle delay has passed
  since (``--settle-ms``, settle.py: minutes, on AWS); an unknown standard
  ARN is InvalidInputException. BatchDisableStandards
  `POST /standards/deregister`: the subscription answers DELETING and is
  gone when next read.
* While a subscription is PENDING within the settle delay, both batch
  calls answer InvalidInputException ("StandardsSubscription(s) in state
  PENDING, please try later", what Security Hub answers for a pending
  subscription; that it holds for a change of another standard too is the
  stricter reading).
* GetEnabledStandards `POST /standards/get`, DescribeStandards
  `GET /standards`.
* TagResource / ListTagsForResource `/tags/{arn}` on the hub's ARN.
* Every ARN in the region's partition (`arn:aws-cn:...` in China), the
  hub's that moto's DescribeHub answers included ("Amazon Resource
  Names").
* Not every region offers every standard ("Regional limits"): a test
  says which standards a region lacks (``POST /_baseline/unoffered``
  ``{"service": "securityhub", "region", "names"}``, names as the ARN's
  path, e.g. ``nist-800-53/v/5.0.0``). DescribeStandards there does not
  list them and BatchEnableStandards answers InvalidInputException, as for
  any standard ARN the region does not know. DescribeStandards needs the
  hub (InvalidAccessException without it: the stricter reading).

Sources (AWS's documentation):
* https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_EnableSecurityHub.html
* https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_BatchEnableStandards.html
* https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_BatchDisableStandards.html
"""

import json
import time

from moto.core.base_backend import BackendDict, BaseBackend
from moto.securityhub.exceptions import SecurityHubClientError
from moto.securityhub.models import SecurityHubBackend, securityhub_backends

from . import settle
from .common import ServiceError, json_answer, partition

# (path, name, enabled by default). CIS 1.2.0 has a global ARN of its own.
CATALOG = [
    ("aws-foundational-security-best-practices/v/1.0.0", "AWS Foundational Security Best Practices v1.0.0", True),
    ("cis-aws-foundations-benchmark/v/1.2.0", "CIS AWS Foundations Benchmark v1.2.0", True),
    ("cis-aws-foundations-benchmark/v/1.4.0", "CIS AWS Foundations Benchmark v1.4.0", False),
    ("cis-aws-foundations-benchmark/v/3.0.0", "CIS AWS Foundations Benchmark v3.0.0", False),
    ("nist-800-53/v/5.0.0", "NIST Special Publication 800-53 Revision 5", False),
    ("pci-dss/v/3.2.1", "PCI DSS v3.2.1", False),
]


def standard_arn(path, region):
    if path == "cis-aws-foundations-benchmark/v/1.2.0":
        return f"arn:{partition(region)}:securityhub:::ruleset/" + path
    return f"arn:{partition(region)}:securityhub:{region}::standards/{path}"


# region -> the standards (ARN paths) it does not offer (set by a test).
UNOFFERED = {}


class StandardsBackend(BaseBackend):
    def __init__(self, region_name, account_id):
        super().__init__(region_name, account_id)
        # standard ARN -> [subscription ARN, status, when enabled]
        self.subscriptions = {}

    def catalog(self):
        lacking = UNOFFERED.get(self.region_name, set())
        return {standard_arn(p, self.region_name): (p, n, d) for p, n, d in CATALOG if p not in lacking}

    def hub(self):
        return securityhub_backends[self.account_id][self.region_name]

    def require_hub(self):
        if not self.hub().enabled:
            raise ServiceError("InvalidAccessException",
                               f"Account {self.account_id} is not subscribed to AWS Security Hub", 401)

    def enable(self, arn):
        cat = self.catalog()
        if arn not in cat:
            raise ServiceError("InvalidInputException", f"Invalid standards ARN: {arn}")
        sub = self.subscriptions.get(arn)
        if sub is None or sub[1] == "DELETING":
            sub_arn = (f"arn:{partition(self.region_name)}:securityhub:{self.region_name}:{self.account_id}:"
                       f"subscription/{cat[arn][0]}")
            self.subscriptions[arn] = sub = [sub_arn, "PENDING", time.monotonic()]
        return self.view(arn, sub)

    def refuse_while_pending(self):
        """Security Hub refuses a change of standards while one is pending."""
        pending = [sub[0] for sub in self.subscriptions.values()
                   if sub[1] == "PENDING" and time.monotonic() - sub[2] < settle.SETTLE]
        if pending:
            raise ServiceError("InvalidInputException",
                               f"StandardsSubscription(s) in state PENDING, please try later: {json.dumps(pending)}")

    def disable(self, sub_arn):
        for arn, sub in self.subscriptions.items():
            if sub[0] == sub_arn:
                sub[1] = "DELETING"
                return self.view(arn, sub)
        raise ServiceError("InvalidInputException", f"Invalid subscription ARN: {sub_arn}")

    def read(self):
        """What GetEnabledStandards shows; then time passes: PENDING becomes
        READY and DELETING is gone."""
        out = [self.view(arn, sub) for arn, sub in self.subscriptions.items()]
        for arn, sub in list(self.subscriptions.items()):
            if sub[1] == "DELETING":
                del self.subscriptions[arn]
            elif sub[1] == "PENDING" and time.monotonic() - sub[2] >= settle.SETTLE:
                sub[1] = "READY"
        return out

    @staticmethod
    def view(arn, sub):
        return {"StandardsSubscriptionArn": sub[0], "StandardsArn": arn, "StandardsInput": {},
                "StandardsStatus": sub[1]}


backends = BackendDict(StandardsBackend, "securityhub")


def enable_hub(account, region, default_standards, tags):
    """The hub enabled, with the default standards unless told otherwise
    (EnableSecurityHub; also what an organization's administrator adding a
    member does, organization.py)."""
    b = backends[account][region]
    b.hub().enable_security_hub(tags=tags)
    b.subscriptions.clear()
    if default_standards:
        for p, _, default in CATALOG:
            if default and p not in UNOFFERED.get(region, set()):
                b.enable(standard_arn(p, region))


def handle(req):
    if req.service != "securityhub":
        return None
    b = backends[req.account][req.region]
    hub = b.hub()
    hub_arn = f"arn:{partition(req.region)}:securityhub:{req.region}:{req.account}:hub/default"
    path = req.path.rstrip("/")
    if path == "/accounts" and req.method == "POST":
        if hub.enabled:
            raise ServiceError("ResourceConflictException", "Account is already subscribed to Security Hub", 409)
        body = req.json()
        enable_hub(req.account, req.region, body.get("EnableDefaultStandards", True), body.get("Tags") or {})
        return json_answer({})
    if path == "/accounts" and req.method == "DELETE":
        b.require_hub()
        hub.disable_security_hub()
        hub.tags = {}
        b.subscriptions.clear()
        return json_answer({})
    if path == "/standards" and req.method == "GET":
        b.require_hub()
        return json_answer({"Standards": [
            {"StandardsArn": arn, "Name": n, "Description": n, "EnabledByDefault": d,
             "StandardsManagedBy": {"Company": "AWS", "Product": "Security Hub"}}
            for arn, (_, n, d) in b.catalog().items()]})
    if path == "/standards/get" and req.method == "POST":
        b.require_hub()
        wanted = set(req.json().get("StandardsSubscriptionArns") or [])
        subs = [s for s in b.read() if not wanted or s["StandardsSubscriptionArn"] in wanted]
        return json_answer({"StandardsSubscriptions": subs})
    if path == "/standards/register" and req.method == "POST":
        b.require_hub()
        reqs = req.json().get("StandardsSubscriptionRequests") or []
        b.refuse_while_pending()
        return json_answer({"StandardsSubscriptions": [b.enable(r["StandardsArn"]) for r in reqs]})
    if path == "/standards/deregister" and req.method == "POST":
        b.require_hub()
        arns = req.json().get("StandardsSubscriptionArns") or []
        b.refuse_while_pending()
        return json_answer({"StandardsSubscriptions": [b.disable(a) for a in arns]})
    if path.startswith("/tags/"):
        arn = path[len("/tags/"):]
        if arn != hub_arn or not hub.enabled:
            raise ServiceError("ResourceNotFoundException", f"Resource {arn} not found", 404)
        if req.method == "GET":
            return json_answer({"Tags": hub.tags})
        if req.method == "POST":
            hub.tags.update(req.json().get("Tags") or {})
            return json_answer({})
        if req.method == "DELETE":
            for k in req.query.get("tagKeys", []):
                hub.tags.pop(k, None)
            return json_answer({})
    # Everything else (DescribeHub, findings, members ...) is moto's.
    return None


def install():
    describe = SecurityHubBackend.describe_hub

    def describe_hub(self, hub_arn=None):
        arn = f"arn:{partition(self.region_name)}:securityhub:{self.region_name}:{self.account_id}:hub/default"
        if hub_arn and hub_arn != arn:
            raise SecurityHubClientError("ResourceNotFoundException",
                            f"The request was rejected because no hub was found with ARN {hub_arn}.")
        answer = describe(self)
        answer["HubArn"] = arn
        return answer

    SecurityHubBackend.describe_hub = describe_hub
