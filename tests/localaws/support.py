"""Trusted Advisor through the Support API (JSON 1.1, target prefix
`AWSSupport_20130415`), whose answers depend on the account's support plan.

AWS behaviour followed (Support API reference):
* An account on the Basic or Developer support plan gets
  SubscriptionRequiredException for every Support API call; a new account
  is on Basic. Business and higher get answers.
* DescribeTrustedAdvisorChecks: moto's catalogue of real checks.
* DescribeTrustedAdvisorCheckSummaries (moto lacks it): one summary per
  check id asked. The status follows the account where this local AWS
  knows the facts: "MFA on Root Account" is `error` while the root user has
  no MFA; other checks are `ok` with nothing flagged.

Control: `POST /_baseline/support-plan` with `{"account": ID, "plan":
"basic"|"business"}`.

Sources (AWS's documentation):
* https://docs.aws.amazon.com/awssupport/latest/user/about-support-api.html
* https://docs.aws.amazon.com/awssupport/latest/APIReference/API_DescribeTrustedAdvisorCheckSummaries.html
"""

import datetime

from moto.iam import models as iam_models
from moto.support.models import ADVISOR_CHECKS

from .common import ServiceError, json_answer

plans = {}
ROOT_MFA_CHECK = "MFA on Root Account"


def handle(req):
    if req.service != "support":
        return None
    if plans.get(req.account, "basic") not in ("business", "enterprise"):
        raise ServiceError("SubscriptionRequiredException",
                           "AWS Premium Support Subscription is required to use this service.")
    if req.action != "DescribeTrustedAdvisorCheckSummaries":
        return None
    by_id = {c["id"]: c for c in ADVISOR_CHECKS["checks"]}
    root_mfa = iam_models.iam_backends[req.account]["global"].account_summary._account_mfa_enabled
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    out = []
    for check_id in req.json().get("checkIds") or []:
        if check_id not in by_id:
            raise ServiceError("InvalidParameterValueException", f"Check {check_id} does not exist")
        flagged = 1 if by_id[check_id]["name"] == ROOT_MFA_CHECK and not root_mfa else 0
        out.append({
            "checkId": check_id, "timestamp": now, "status": "error" if flagged else "ok",
            "hasFlaggedResources": bool(flagged),
            "resourcesSummary": {"resourcesProcessed": 1, "resourcesFlagged": flagged,
                                 "resourcesIgnored": 0, "resourcesSuppressed": 0},
            "categorySpecificSummary": {},
        })
    return json_answer({"summaries": out}, content_type="application/x-amz-json-1.1")
