"""Security Hub's central configuration and cross-Region aggregation, which
moto lacks: finding aggregators, the organization's configuration type,
configuration policies and their associations. State per organization (the
configuration, policies, associations) and per account (its one
aggregator).

AWS behaviour followed:

* A finding aggregator makes its region the aggregation (home) Region;
  an account has one (another CreateFindingAggregator is refused). It
  needs Security Hub enabled in the account and region. `RegionLinkingMode`
  is ALL_REGIONS, ALL_REGIONS_EXCEPT_SPECIFIED, SPECIFIED_REGIONS or
  NO_REGIONS; `Regions` is given exactly with the two that use it, and
  never holds the aggregation region. UpdateFindingAggregator only from
  the aggregation region.
* Central configuration (UpdateOrganizationConfiguration with
  `OrganizationConfiguration.ConfigurationType` CENTRAL): only the
  delegated administrator, never the management account, and only from
  its aggregation Region (the home Region: "The same Region must serve as
  the home Region for purposes of central configuration and as the
  aggregation Region"). `AutoEnable` must be false and
  `AutoEnableStandards` NONE ("set to false and can't be changed in the
  home Region and linked Regions"). Its `Status` is PENDING, then ENABLED
  once the settle delay (settle.py, ``--settle-ms``) has passed.
  DescribeOrganizationConfiguration in the home and linked regions
  answers CENTRAL.
* An administrator designated less than the settle delay ago is refused
  here as elsewhere (organization.py: InvalidAccessException "is not an
  administrator for this organization").
* Configuration policies and associations: the administrator only, from
  the home Region only, once central configuration is ENABLED (the
  stricter reading of "Only the delegated administrator can invoke this
  operation from the home Region"). A policy's name is unique; with
  `ServiceEnabled` true, `EnabledStandardIdentifiers` and
  `SecurityControlsConfiguration` are both required (the console and
  every AWS example give both; the stricter reading), and each standard
  must be one the home Region offers.
* StartConfigurationPolicyAssociation: a policy (id or ARN) or
  SELF_MANAGED_SECURITY_HUB with the root, or an account, of the
  organization. Its status is PENDING (AWS: up to 24 hours), SUCCESS once
  the settle delay has passed; the settings take effect at once here (what
  a test can observe). GetConfigurationPolicyAssociation: APPLIED for the
  target's own association, else INHERITED from the root.
  ListConfigurationPolicyAssociations lists both (filters, at most 100 a
  page). StartConfigurationPolicyDisassociation removes a target's own
  association (with the policy it names): the account inherits again.
* A standard of the policy that a linked region does not offer
  (``/_baseline/unoffered``, securityhub.py): the rest of the policy takes
  effect and the association is FAILED, with the reason in
  `AssociationStatusMessage`; the root's is FAILED when an account that
  inherits it failed ("Reviewing configuration policy status and
  details": a parent's status depends on its children's).
* A policy in effect for an account, in the home Region and every linked
  Region: Security Hub enabled, the account a member of the administrator,
  exactly the policy's standards enabled. An account created while the
  root has a policy inherits it at once. A centrally managed account
  cannot change its standards (BatchEnableStandards /
  BatchDisableStandards answer AccessDeniedException).

Sources (AWS's documentation):
* https://docs.aws.amazon.com/securityhub/latest/userguide/start-central-configuration.html
* https://docs.aws.amazon.com/securityhub/latest/userguide/aggregation-central-configuration.html
* https://docs.aws.amazon.com/securityhub/latest/userguide/view-policy.html
* https://docs.aws.amazon.com/securityhub/latest/userguide/accounts-orgs-auto-enable.html
* https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_CreateFindingAggregator.html
* https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_UpdateOrganizationConfiguration.html
* https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_CreateConfigurationPolicy.html
* https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_StartConfigurationPolicyAssociation.html
"""

import time
import uuid

import botocore.session
from moto.organizations import models as org_models
from moto.organizations.models import FakeRoot
from moto.securityhub.models import securityhub_backends

from . import regions, settle
from .common import ServiceError, json_answer, partition
from .organization import active_accounts, now, org_backend, sh_refuse_while_settling

SELF_MANAGED = "SELF_MANAGED_SECURITY_HUB"
LINKING = {"ALL_REGIONS", "ALL_REGIONS_EXCEPT_SPECIFIED", "SPECIFIED_REGIONS", "NO_REGIONS"}
_REGIONS = botocore.session.get_session().get_available_regions("securityhub")

# account -> {"arn", "region", "mode", "regions"}
AGGREGATORS = {}
# organization id -> {"home", "since", "policies": {id: policy}, "associations": {target: {...}}}
CENTRAL = {}


def invalid(message):
    return ServiceError("InvalidInputException", message)


def settled(since):
    return time.monotonic() - since >= settle.SETTLE


def linked(admin, home):
    """The home Region and the regions its aggregator links."""
    agg = AGGREGATORS.get(admin)
    if not agg or agg["region"] != home:
        return [home]
    mode, listed = agg["mode"], set(agg["regions"])
    others = {"ALL_REGIONS": set(_REGIONS), "ALL_REGIONS_EXCEPT_SPECIFIED": set(_REGIONS) - listed,
              "SPECIFIED_REGIONS": listed, "NO_REGIONS": set()}[mode]
    return [home] + sorted(others - {home})


def admin_of(org, region):
    return securityhub_backends[org.account_id][region]._get_org_config()["admin_account_id"]


def central_of(req):
    """The organization's central configuration in the request's region
    (home or linked), if any."""
    org = org_backend(req.account)
    if org is None:
        return None, None
    state = CENTRAL.get(org.org.id)
    if state and req.region in linked(admin_of(org, state["home"]), state["home"]):
        return org, state
    return org, None


def require_admin(req, org):
    if org is None or admin_of(org, req.region) != req.account:
        raise ServiceError("AccessDeniedException",
                           "Only the Security Hub delegated administrator can run this operation.", 403)
    sh_refuse_while_settling(req, org)


def require_home(req):
    """The administrator, in the home Region, with central configuration ENABLED."""
    org, state = central_of(req)
    require_admin(req, org)
    if state is None or state["home"] != req.region:
        raise invalid(f"Central configuration is not enabled with {req.region} as its home Region.")
    if not settled(state["since"]):
        raise invalid("Central configuration is PENDING: try again when it is ENABLED.")
    return org, state


# ------------------------------------------------------------ aggregators

def aggregator_view(agg):
    return {"FindingAggregatorArn": agg["arn"], "FindingAggregationRegion": agg["region"],
            "RegionLinkingMode": agg["mode"], "Regions": agg["regions"]}


def check_linking(req, body):
    mode, regions = body.get("RegionLinkingMode"), body.get("Regions") or []
    if mode not in LINKING:
        raise invalid(f"Invalid RegionLinkingMode: {mode}")
    if mode in ("SPECIFIED_REGIONS", "ALL_REGIONS_EXCEPT_SPECIFIED") and not regions:
        raise invalid(f"{mode} needs Regions.")
    if mode in ("ALL_REGIONS", "NO_REGIONS") and regions:
        raise invalid(f"{mode} takes no Regions.")
    if req.region in regions:
        raise invalid(f"The aggregation Region {req.region} cannot be a linked Region.")
    return mode, sorted(regions)


def aggregators(req):
    path = req.path.rstrip("/")
    mine = AGGREGATORS.get(req.account)
    if path == "/findingAggregator/create" and req.method == "POST":
        if not securityhub_backends[req.account][req.region].enabled:
            raise ServiceError("InvalidAccessException",
                               f"Account {req.account} is not subscribed to AWS Security Hub", 401)
        if mine:
            raise invalid(f"The account already has a finding aggregator, in {mine['region']}.")
        mode, regions = check_linking(req, req.json())
        AGGREGATORS[req.account] = mine = {
            "arn": f"arn:{partition(req.region)}:securityhub:{req.region}:{req.account}:"
                   f"finding-aggregator/{uuid.uuid4()}",
            "region": req.region, "mode": mode, "regions": regions}
        return json_answer(aggregator_view(mine))
    if path == "/findingAggregator/list" and req.method == "GET":
        return json_answer({"FindingAggregators": [{"FindingAggregatorArn": mine["arn"]}] if mine else []})
    if path.startswith("/findingAggregator/get/") and req.method == "GET":
        if not mine or path[len("/findingAggregator/get/"):] != mine["arn"]:
            raise ServiceError("ResourceNotFoundException", "No finding aggregator with that ARN.", 404)
        return json_answer(aggregator_view(mine))
    if path == "/findingAggregator/update" and req.method == "PATCH":
        body = req.json()
        if not mine or body.get("FindingAggregatorArn") != mine["arn"]:
            raise ServiceError("ResourceNotFoundException", "No finding aggregator with that ARN.", 404)
        if mine["region"] != req.region:
            raise invalid(f"Update the finding aggregator from its aggregation Region, {mine['region']}.")
        mine["mode"], mine["regions"] = check_linking(req, body)
        return json_answer(aggregator_view(mine))
    return None


# ------------------------------------------------------ configuration type

def organization_configuration(req):
    org, state = central_of(req)
    if org is not None and admin_of(org, req.region) == req.account:
        sh_refuse_while_settling(req, org)
    if req.method == "GET":
        if state is None:
            return None  # moto's (LOCAL)
        require_admin(req, org)
        status = "ENABLED" if settled(state["since"]) else "PENDING"
        return json_answer({"AutoEnable": False, "AutoEnableStandards": "NONE", "MemberAccountLimitReached": False,
                            "OrganizationConfiguration": {"ConfigurationType": "CENTRAL", "Status": status}})
    body = req.json()
    wanted = (body.get("OrganizationConfiguration") or {}).get("ConfigurationType")
    if wanted != "CENTRAL" and state is None:
        return None  # moto's
    require_admin(req, org)
    if wanted == "LOCAL":
        CENTRAL.pop(org.org.id, None)
        return None
    if body.get("AutoEnable") or body.get("AutoEnableStandards", "DEFAULT") != "NONE":
        raise invalid("With central configuration, AutoEnable is false and AutoEnableStandards NONE: "
                      "configuration policies enable Security Hub and standards.")
    if state is not None:
        return json_answer({})
    if org.account_id == req.account:
        raise invalid("The organization's management account cannot use central configuration.")
    agg = AGGREGATORS.get(req.account)
    if not agg or agg["region"] != req.region:
        raise invalid(f"Central configuration needs {req.region} as the home Region: create a finding "
                      "aggregator there first (cross-Region aggregation).")
    CENTRAL[org.org.id] = {"home": req.region, "since": time.monotonic(), "policies": {}, "associations": {}}
    # "the same delegated administrator is automatically set in all linked
    # Regions as well"
    for region in linked(req.account, req.region):
        config = securityhub_backends[org.account_id][region]._get_org_config()
        config["admin_account_id"] = req.account
        config["auto_enable"], config["auto_enable_standards"] = False, "NONE"
    return json_answer({})


# ---------------------------------------------------------------- policies

def policy_view(p):
    return {k: p[k] for k in ("Arn", "Id", "Name", "Description", "CreatedAt", "UpdatedAt",
                              "ConfigurationPolicy") if k in p}


def check_policy(req, policy):
    hub = (policy or {}).get("SecurityHub")
    if hub is None:
        raise invalid("ConfigurationPolicy needs SecurityHub.")
    if hub.get("ServiceEnabled"):
        if "EnabledStandardIdentifiers" not in hub or "SecurityControlsConfiguration" not in hub:
            raise invalid("A policy that enables Security Hub gives EnabledStandardIdentifiers and "
                          "SecurityControlsConfiguration.")
        from . import securityhub as hub_model
        catalog = hub_model.backends[req.account][req.region].catalog()
        for arn in hub["EnabledStandardIdentifiers"]:
            if arn not in catalog:
                raise invalid(f"Invalid standard ARN: {arn}")


def find_policy(state, ident):
    p = next((p for p in state["policies"].values() if ident in (p["Id"], p["Arn"])), None)
    if p is None:
        raise ServiceError("ResourceNotFoundException", f"No configuration policy {ident}.", 404)
    return p


def policies(req):
    path = req.path.rstrip("/")
    if path == "/configurationPolicy/create" and req.method == "POST":
        org, state = require_home(req)
        body = req.json()
        name = body.get("Name") or ""
        if any(p["Name"] == name for p in state["policies"].values()):
            raise ServiceError("ResourceConflictException", f"A configuration policy named {name} exists.", 409)
        check_policy(req, body.get("ConfigurationPolicy"))
        pid = str(uuid.uuid4())
        state["policies"][pid] = p = {
            "Arn": f"arn:{partition(req.region)}:securityhub:{req.region}:{req.account}:configuration-policy/{pid}",
            "Id": pid, "Name": name, "Description": body.get("Description") or "", "CreatedAt": now(),
            "UpdatedAt": now(), "ConfigurationPolicy": body["ConfigurationPolicy"], "Tags": body.get("Tags") or {}}
        return json_answer(policy_view(p))
    if path == "/configurationPolicy/list" and req.method == "GET":
        org, state = require_home(req)
        return json_answer({"ConfigurationPolicySummaries": [
            {"Arn": p["Arn"], "Id": p["Id"], "Name": p["Name"], "Description": p["Description"],
             "UpdatedAt": p["UpdatedAt"],
             "ServiceEnabled": bool(p["ConfigurationPolicy"]["SecurityHub"].get("ServiceEnabled"))}
            for p in state["policies"].values()]})
    if path.startswith("/configurationPolicy/get/") and req.method == "GET":
        org, state = require_home(req)
        return json_answer(policy_view(find_policy(state, path[len("/configurationPolicy/get/"):])))
    if path.startswith("/configurationPolicy/") and req.method == "PATCH":
        org, state = require_home(req)
        p = find_policy(state, path[len("/configurationPolicy/"):])
        body = req.json()
        if "ConfigurationPolicy" in body:
            check_policy(req, body["ConfigurationPolicy"])
            p["ConfigurationPolicy"] = body["ConfigurationPolicy"]
        for key in ("Name", "Description"):
            if key in body:
                p[key] = body[key]
        p["UpdatedAt"] = now()
        take_effect(org, state)
        return json_answer(policy_view(p))
    return None


# ------------------------------------------------------------ associations

def root_of(org):
    return next(ou.id for ou in org.ou if isinstance(ou, FakeRoot))


def target_of(org, target):
    given = [k for k in ("AccountId", "OrganizationalUnitId", "RootId") if (target or {}).get(k)]
    if len(given) != 1:
        raise invalid("Target takes exactly one of AccountId, OrganizationalUnitId, RootId.")
    kind, ident = given[0], target[given[0]]
    if kind == "RootId" and ident != root_of(org):
        raise invalid(f"{ident} is not the root of organization {org.org.id}.")
    if kind == "AccountId" and ident not in active_accounts(org):
        raise invalid(f"{ident} is not an account of organization {org.org.id}.")
    if kind == "OrganizationalUnitId" and not any(ou.id == ident for ou in org.ou):
        raise invalid(f"{ident} is not an organizational unit of organization {org.org.id}.")
    return {"AccountId": "ACCOUNT", "OrganizationalUnitId": "ORGANIZATIONAL_UNIT", "RootId": "ROOT"}[kind], ident


def failure_of(org, state, target_id, target_type):
    """Why the association in effect failed: for an account, its own
    failure; for the root, the first of the accounts that inherit it ("The
    association status of a parent OU or the root depends on the status of
    its children")."""
    failed = state.setdefault("failed", {})
    if target_type == "ROOT":
        return next((m for account, m in sorted(failed.items()) if account not in state["associations"]), None)
    return failed.get(target_id)


def association_view(a, target_id, target_type, kind, failed=None):
    view = {"ConfigurationPolicyId": a["policy"], "TargetId": target_id, "TargetType": target_type,
            "AssociationType": kind, "UpdatedAt": a["at"],
            "AssociationStatus": "SUCCESS" if settled(a["since"]) else "PENDING"}
    if failed:
        view["AssociationStatus"], view["AssociationStatusMessage"] = "FAILED", failed
    return view


def associations(req):
    path = req.path.rstrip("/")
    if path == "/configurationPolicyAssociation/associate" and req.method == "POST":
        org, state = require_home(req)
        body = req.json()
        ident = body.get("ConfigurationPolicyIdentifier") or ""
        policy = ident if ident == SELF_MANAGED else find_policy(state, ident)["Id"]
        target_type, target_id = target_of(org, body.get("Target"))
        state["associations"][target_id] = a = {"policy": policy, "type": target_type, "since": time.monotonic(),
                                                "at": now()}
        take_effect(org, state)
        return json_answer(association_view(a, target_id, target_type, "APPLIED"))
    if path == "/configurationPolicyAssociation/list" and req.method == "POST":
        org, state = require_home(req)
        body = req.json()
        filters = body.get("Filters") or {}
        root = root_of(org)
        rows = [association_view(a, target, a["type"], "APPLIED", failure_of(org, state, target, a["type"]))
                for target, a in state["associations"].items()]
        if root in state["associations"]:
            rows += [association_view(state["associations"][root], account, "ACCOUNT", "INHERITED",
                                      failure_of(org, state, account, "ACCOUNT"))
                     for account in sorted(active_accounts(org)) if account not in state["associations"]]
        for key in ("ConfigurationPolicyId", "AssociationType", "AssociationStatus"):
            if key in filters:
                rows = [r for r in rows if r[key] == filters[key]]
        size = body.get("MaxResults") or 100
        if not 1 <= size <= 100:
            raise invalid("MaxResults is 1 to 100.")
        start = int(body.get("NextToken") or 0)
        page = {"ConfigurationPolicyAssociationSummaries": rows[start:start + size]}
        if start + size < len(rows):
            page["NextToken"] = str(start + size)
        return json_answer(page)
    if path == "/configurationPolicyAssociation/disassociate" and req.method == "POST":
        org, state = require_home(req)
        body = req.json()
        target_type, target_id = target_of(org, body.get("Target"))
        own = state["associations"].get(target_id)
        ident = body.get("ConfigurationPolicyIdentifier") or ""
        named = ident if ident == SELF_MANAGED else find_policy(state, ident)["Id"]
        if own is None or own["policy"] != named:
            raise invalid(f"{target_id} is not associated with {ident}.")
        del state["associations"][target_id]
        take_effect(org, state)
        return json_answer({})
    if path == "/configurationPolicyAssociation/get" and req.method == "POST":
        org, state = require_home(req)
        target_type, target_id = target_of(org, req.json().get("Target"))
        own = state["associations"].get(target_id)
        failed = failure_of(org, state, target_id, target_type)
        if own is not None:
            return json_answer(association_view(own, target_id, target_type, "APPLIED", failed))
        root = state["associations"].get(root_of(org))
        if target_type == "ROOT" or root is None:
            return json_answer({"ConfigurationPolicyId": SELF_MANAGED, "TargetId": target_id,
                                "TargetType": target_type, "AssociationType": "INHERITED",
                                "AssociationStatus": "SUCCESS", "UpdatedAt": now()})
        return json_answer(association_view(root, target_id, target_type, "INHERITED", failed))
    return None


def policy_for(org, state, account):
    """The policy in effect for an account: its own association, else the
    root's; None when self-managed."""
    own = state["associations"].get(account) or state["associations"].get(root_of(org))
    if own is None or own["policy"] == SELF_MANAGED:
        return None
    return state["policies"].get(own["policy"])


def take_effect(org, state, accounts=None):
    """Every covered account as its policy says, in the home and linked
    regions."""
    from . import securityhub as hub_model
    admin = admin_of(org, state["home"])
    failed = state.setdefault("failed", {})
    for account in sorted(accounts or active_accounts(org)):
        failed.pop(account, None)
        policy = policy_for(org, state, account)
        if policy is None:
            continue
        conf = policy["ConfigurationPolicy"]["SecurityHub"]
        if not conf.get("ServiceEnabled"):
            continue
        paths = {arn.split("::", 1)[1].split("/", 1)[1] for arn in conf.get("EnabledStandardIdentifiers") or []}
        for region in linked(admin, state["home"]):
            if regions.status(account, region) == "not-opted-in":
                continue  # "the Region must be enabled" for a policy to take effect there
            if not securityhub_backends[account][region].enabled:
                hub_model.enable_hub(account, region, False, {})
            if account != admin:
                securityhub_backends[admin][region].members.setdefault(account, {
                    "AccountId": account, "Email": "", "MemberStatus": "ENABLED", "InvitedAt": now(),
                    "UpdatedAt": now()})
            b = hub_model.backends[account][region]
            wanted = {arn for arn, (p, _, _) in b.catalog().items() if p in paths}
            lacking = sorted(paths - {p for p, _, _ in b.catalog().values()})
            if lacking and account not in failed:
                # The rest of the policy still takes effect; the association FAILED.
                failed[account] = f"{', '.join(lacking)} is not available in {region}."
            for arn in list(b.subscriptions):
                if arn not in wanted:
                    del b.subscriptions[arn]
            for arn in wanted:
                b.enable(arn)


def centrally_managed(account, region):
    """Whether a policy configures this account in this region."""
    org = org_backend(account)
    state = CENTRAL.get(org.org.id) if org else None
    if state is None or region not in linked(admin_of(org, state["home"]), state["home"]):
        return False
    return policy_for(org, state, account) is not None


def policy_tags(req, arn):
    """ListTagsForResource / TagResource on a configuration policy's ARN."""
    org = org_backend(req.account)
    state = CENTRAL.get(org.org.id) if org else None
    policy = next((p for p in (state or {}).get("policies", {}).values() if p["Arn"] == arn), None)
    if policy is None or admin_of(org, state["home"]) != req.account:
        raise ServiceError("ResourceNotFoundException", f"Resource {arn} not found", 404)
    if req.method == "GET":
        return json_answer({"Tags": policy["Tags"]})
    if req.method == "POST":
        policy["Tags"].update(req.json().get("Tags") or {})
        return json_answer({})
    return None


def handle(req):
    if req.service != "securityhub":
        return None
    path = req.path.rstrip("/")
    if path.startswith("/findingAggregator/"):
        return aggregators(req)
    if path == "/organization/configuration":
        return organization_configuration(req)
    if path.startswith("/configurationPolicyAssociation/"):
        return associations(req)
    if path.startswith("/configurationPolicy/"):
        return policies(req)
    if path.startswith("/tags/arn:") and ":configuration-policy/" in path:
        return policy_tags(req, path[len("/tags/"):])
    if path in ("/standards/register", "/standards/deregister") and centrally_managed(req.account, req.region):
        raise ServiceError("AccessDeniedException",
                           f"Account {req.account} is centrally managed in {req.region}: its standards are its "
                           "configuration policy's.", 403)
    return None


def install():
    """An account that joins inherits the root's policy at once."""
    create_account = org_models.OrganizationsBackend.create_account

    def create_account_centrally(self, **kwargs):
        status = create_account(self, **kwargs)
        state = CENTRAL.get(self.org.id)
        if state is not None:
            take_effect(self, state, [self.accounts[-1].id])
        return status

    org_models.OrganizationsBackend.create_account = create_account_centrally
