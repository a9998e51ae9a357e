"""GuardDuty and Security Hub run for an organization through a delegated
administrator, which moto models in part (GuardDuty: a list of admin ids
per account and nothing else; Security Hub: one configuration per
organization, not per region, and an administrator replaced without a
word). State here is per organization and region, as AWS keeps it.

AWS behaviour followed:

* Trusted access (Organizations `EnableAWSServiceAccess`) for the
  service's principal comes first: EnableOrganizationAdminAccount and
  Organizations' RegisterDelegatedAdministrator without it are refused
  (AWS's guides enable it first; that the API refuses is the stricter
  reading).
* EnableOrganizationAdminAccount: "Only the organization's management
  account can run this API operation" (GuardDuty and Security Hub API
  references); the account must be in the organization; it is registered
  as the service's delegated administrator in Organizations
  (`ListDelegatedAdministrators` lists it). An organization has one
  administrator per service: naming another while one is enabled is
  refused (BadRequestException / InvalidInputException) — the other must
  be disabled first. ListOrganizationAdminAccounts: the management account
  only.
* Organization configuration (GuardDuty `DescribeOrganizationConfiguration`
  / `UpdateOrganizationConfiguration` on the administrator's detector;
  Security Hub's `/organization/configuration`): the administrator only.
  GuardDuty's `autoEnableOrganizationMembers` is NEW, ALL or NONE; the
  protection plans (`features`) each NEW, ALL or NONE.
* Designating the administrator turns the service on there, in that
  region: GuardDuty's "EnableOrganizationAdminAccount ... GuardDuty gets
  enabled automatically in the designated Region" ("Managing GuardDuty
  accounts with AWS Organizations": a detector, no protection plan named),
  Security Hub's "also enables Security Hub CSPM in the current AWS Region
  for the delegated administrator account" ("Integrating Security Hub
  CSPM with AWS Organizations"; with the default standards, as
  EnableSecurityHub: the guide does not say, so the stricter reading).
  Neither carries a tag.
* The organization's management account is no ordinary member: Security
  Hub "cannot be enabled automatically for the organization management
  account. The organization management account must enable Security Hub
  CSPM before the administrator account enables it as a member account"
  (CreateMembers, botocore's model); GuardDuty's management account must
  have GuardDuty's service-linked role first ("Managing GuardDuty accounts
  with AWS Organizations"), which enabling GuardDuty makes: the stricter
  reading asks for its detector in that region. Otherwise CreateMembers
  returns it in UnprocessedAccounts and enables nothing there.
* UpdateOrganizationConfiguration naming a protection plan the region
  does not offer is BadRequestException, as CreateDetector and
  UpdateDetector naming one are (guardduty.py; the stricter reading).
* A member's protection plans follow the organization configuration when
  CreateMembers (or auto-enable) turns GuardDuty on in it: ALL or NEW on,
  NONE off ("GuardDuty applies your organization's auto-enable settings to
  the member accounts in this request"; `ALL` "may take up to 24 hours":
  at once here). GetMemberDetectors / UpdateMemberDetectors (the
  administrator, for its members, at most 50 a call) read and set them;
  UpdateMemberDetectors naming a plan the region does not offer is
  BadRequestException (as UpdateDetector's).
* CreateMembers takes at most 50 accounts (`AccountDetails`, max 50 in
  both models; the Rust SDK does not check it, AWS refuses more).
* CreateMembers by the administrator, for accounts of the organization:
  the service is enabled in the member (GuardDuty: "When you add an
  organization account as a member, GuardDuty is enabled for it";
  Security Hub: CreateMembers "enables Security Hub" for an organization
  account that does not have it, with the default standards when
  AutoEnableStandards is DEFAULT). An account outside the organization
  comes back in `UnprocessedAccounts` (it would need an invitation).
* GetAdministratorAccount (member side): the administrator only for an
  account that is a member (moto named it for every account of the
  organization).
* An account that joins the organization (Organizations `CreateAccount`)
  while auto-enable is NEW or ALL (GuardDuty) or AutoEnable is true
  (Security Hub) in a region is a member there at once, with the service
  enabled. AWS does it within minutes to hours; at once is what a test can
  observe. ALL's turning on of the accounts already there (asynchronous on
  AWS) is not modelled: baseline adds them with CreateMembers.
* A delegation takes time to take effect: for ``--settle-ms`` after the
  administrator is designated (EnableOrganizationAdminAccount) or
  registered (Organizations RegisterDelegatedAdministrator, AWS Config),
  its organization calls are refused as they are for an account that is
  not the administrator. AWS documents no delay, but its answers to a
  just-designated administrator are seen by Terraform's and SRA's users
  (GuardDuty BadRequestException "you do not have required AWS
  Organization master permission", aws-samples SRA issue 141; Security Hub
  InvalidAccessException "Account … is not an administrator for this
  organization", 401, terraform-provider-aws issue 23079): the stricter
  reading, as for IAM's eventual consistency (settle.py).
* AWS Config's organization aggregator (PutConfigurationAggregator with an
  OrganizationAggregationSource): from the management account or AWS
  Config's registered delegated administrator (`config.amazonaws.com`)
  only (OrganizationAccessDeniedException), with a role of the caller's
  account that trusts AWS Config and has `AWSConfigRoleForOrganizations`
  attached (InvalidRoleException) — the role the Developer Guide has one
  create.

Sources (AWS's documentation):
* https://docs.aws.amazon.com/guardduty/latest/APIReference/API_EnableOrganizationAdminAccount.html
* https://docs.aws.amazon.com/guardduty/latest/APIReference/API_UpdateOrganizationConfiguration.html
* https://docs.aws.amazon.com/guardduty/latest/APIReference/API_CreateMembers.html
* https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_organizations.html
* https://docs.aws.amazon.com/securityhub/latest/userguide/designate-orgs-admin-account.html
* https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_EnableOrganizationAdminAccount.html
* https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_CreateMembers.html
* https://docs.aws.amazon.com/securityhub/latest/userguide/designate-orgs-admin-account.html
* https://docs.aws.amazon.com/config/latest/developerguide/set-up-aggregator-cli.html
* https://docs.aws.amazon.com/config/latest/APIReference/API_PutConfigurationAggregator.html
"""

import datetime
import re

import botocore.session
from moto.guardduty.models import guardduty_backends
from moto.organizations import models as org_models
from moto.organizations.models import organizations_backends
from moto.securityhub.models import SecurityHubBackend, securityhub_backends

from . import settle
from .common import ServiceError, json_answer

GD_PRINCIPAL = "guardduty.amazonaws.com"
SH_PRINCIPAL = "securityhub.amazonaws.com"
_GD_MODEL = botocore.session.get_session().get_service_model("guardduty")
AUTO_ENABLE = set(_GD_MODEL.shape_for("AutoEnableMembers").enum)
ORG_FEATURES = set(_GD_MODEL.shape_for("OrgFeature").enum)
ORG_FEATURE_STATUS = set(_GD_MODEL.shape_for("OrgFeatureStatus").enum)

# CreateMembers' `AccountDetails`: at most 50 items (both services' models).
MAX_MEMBERS = 50
# (organization id, region) -> {"admin", "auto", "features": {name: status}, "members": {account: email}}
GUARDDUTY = {}


def now():
    return datetime.datetime.now(datetime.timezone.utc).isoformat()


def org_backend(account):
    """The Organizations backend of the management account of `account`'s
    organization, or None outside any organization."""
    own = organizations_backends[account]["aws"]
    if own.org is not None:
        return own
    master = organizations_backends.master_accounts.get(account)
    if master:
        backend = organizations_backends[master[0]][master[1]]
        if backend.org is not None:
            return backend
    return None


def active_accounts(org):
    return {a.id for a in org.accounts if getattr(a, "status", "ACTIVE") == "ACTIVE"}


def trusted(org, principal):
    return any(s.get("ServicePrincipal") == principal for s in org.services)


def register(org, principal, admin):
    """The administrator as Organizations lists it."""
    existing = next((a for a in org.admins if a.account.id == admin), None)
    if existing is not None and principal in existing.services:
        return
    org.register_delegated_administrator(AccountId=admin, ServicePrincipal=principal)


class Designation:
    """When an administrator was designated (settle.py stamps it)."""


# (organization id, service principal, region or None) -> Designation
DESIGNATIONS = {}


def designated_now(org, principal, region):
    settle.made(DESIGNATIONS.setdefault((org.org.id, principal, region), Designation()))


def settling(org, principal, region):
    """Whether the designation for `principal` in `region` (None: the
    organization's registration) was made less than the settle delay ago."""
    d = DESIGNATIONS.get((org.org.id, principal, region))
    return d is not None and settle.young(d)


def sh_refuse_while_settling(req, org):
    """Security Hub's answer to an administrator whose designation is
    not in effect yet."""
    if org is not None and settling(org, SH_PRINCIPAL, req.region):
        raise ServiceError("InvalidAccessException",
                           f"Account {req.account} is not an administrator for this organization", 401)


def require_management(req, service):
    org = org_backend(req.account)
    if org is None or org.account_id != req.account:
        code = "BadRequestException" if service == "guardduty" else "AccessDeniedException"
        raise ServiceError(code, "Only the organization's management account can run this API operation.",
                           400 if service == "guardduty" else 403)
    return org


def designate(req, org, principal, admin, current, code):
    """The checks both services make before an administrator is enabled."""
    if not trusted(org, principal):
        raise ServiceError(code, f"Trusted access for {principal} is not enabled in organization {org.org.id}: "
                                 "enable it first (Organizations EnableAWSServiceAccess).")
    if admin not in active_accounts(org):
        raise ServiceError(code, f"The account {admin} is not a member of organization {org.org.id}.")
    if current and current != admin:
        raise ServiceError(code, f"The organization already has a delegated administrator in {req.region}: "
                                 f"{current}. Disable it before enabling another.")
    if current != admin:
        designated_now(org, principal, req.region)
    register(org, principal, admin)


# ---------------------------------------------------------------- GuardDuty

def gd_state(org, region):
    return GUARDDUTY.setdefault((org.org.id, region), {"admin": None, "auto": "NONE", "features": {},
                                                       "members": {}})


def gd_detector(account, region, create=False):
    backend = guardduty_backends[account][region]
    if backend.detectors:
        return next(iter(backend.detectors))
    if not create:
        return None
    return backend.create_detector(True, None, None, {}, None)


def gd_member_side(req, detector_id):
    org = org_backend(req.account)
    state = gd_state(org, req.region) if org else None
    if detector_id not in guardduty_backends[req.account][req.region].detectors:
        raise ServiceError("BadRequestException",
                           "The request is rejected because the input detectorId is not owned by the current account.")
    if not state or req.account not in state["members"]:
        return json_answer({})
    return json_answer({"administrator": {"accountId": state["admin"], "relationshipStatus": "Enabled",
                                          "invitationId": f"invitation-{state['admin']}", "invitedAt": now()}})


def gd_admin_side(req, detector_id):
    """The state the administrator's call acts on."""
    if detector_id not in guardduty_backends[req.account][req.region].detectors:
        raise ServiceError("BadRequestException",
                           "The request is rejected because the input detectorId is not owned by the current account.")
    org = org_backend(req.account)
    state = gd_state(org, req.region) if org else None
    if not state or state["admin"] != req.account:
        raise ServiceError("BadRequestException",
                           "The request is rejected because the current account is not the GuardDuty delegated "
                           f"administrator of its organization in {req.region}.")
    if settling(org, GD_PRINCIPAL, req.region):
        raise ServiceError("BadRequestException",
                           "The request failed because you do not have required AWS Organization master permission.")
    return org, state


def gd_add_member(org, region, state, account, email=""):
    """A member, GuardDuty enabled in it with the organization's
    protection plans: a plan whose organization setting is ALL or NEW is
    on, one that is NONE (or never set) is off ("GuardDuty applies your
    organization's auto-enable settings to the member accounts in this
    request", CreateMembers)."""
    state["members"][account] = email
    if gd_detector(account, region) is None:
        plans = [{"name": n, "status": "ENABLED" if state["features"].get(n) in ("ALL", "NEW") else "DISABLED"}
                 for n in sorted(ORG_FEATURES)]
        guardduty_backends[account][region].create_detector(True, None, None, {}, plans)


def guardduty(req):
    path = req.path.rstrip("/")
    if path == "/admin/enable" and req.method == "POST":
        org = require_management(req, "guardduty")
        admin = req.json().get("adminAccountId")
        state = gd_state(org, req.region)
        designate(req, org, GD_PRINCIPAL, admin, state["admin"], "BadRequestException")
        state["admin"] = admin
        # Designation enables GuardDuty in the administrator, in this
        # region (a detector without protection plans, untagged).
        gd_detector(admin, req.region, create=True)
        return json_answer({})
    if path == "/admin" and req.method == "GET":
        org = require_management(req, "guardduty")
        admin = gd_state(org, req.region)["admin"]
        return json_answer({"adminAccounts": [{"adminAccountId": admin, "adminStatus": "ENABLED"}] if admin else []})
    m = re.match(r"^/detector/([^/]+)/member/detector/(get|update)$", path)
    if m and req.method == "POST":
        return gd_member_detectors(req, m.group(1), m.group(2))
    m = re.match(r"^/detector/([^/]+)/(admin|member|administrator)$", path)
    if not m:
        return None
    detector_id, what = m.group(1), m.group(2)
    if what == "administrator" and req.method == "GET":
        return gd_member_side(req, detector_id)
    org, state = gd_admin_side(req, detector_id)
    if what == "admin" and req.method == "GET":
        return json_answer({"autoEnable": state["auto"] != "NONE", "autoEnableOrganizationMembers": state["auto"],
                            "memberAccountLimitReached": False,
                            "features": [{"name": n, "autoEnable": s} for n, s in sorted(state["features"].items())]})
    if what == "admin" and req.method == "POST":
        body = req.json()
        auto = body.get("autoEnableOrganizationMembers")
        if auto is not None and auto not in AUTO_ENABLE:
            raise ServiceError("BadRequestException", f"Invalid autoEnableOrganizationMembers: {auto}")
        from .guardduty import UNOFFERED
        for f in body.get("features") or []:
            if f.get("name") not in ORG_FEATURES or f.get("autoEnable") not in ORG_FEATURE_STATUS:
                raise ServiceError("BadRequestException", f"Invalid organization feature: {f}")
            if f.get("name") in UNOFFERED.get(req.region, set()):
                raise ServiceError("BadRequestException",
                                   "The request is rejected because an invalid or out-of-range value is specified "
                                   f"as an input parameter. ({f.get('name')} is not offered in {req.region})")
        if auto is not None:
            state["auto"] = auto
        for f in body.get("features") or []:
            state["features"][f["name"]] = f["autoEnable"]
        return json_answer({})
    if what == "member" and req.method == "POST":
        if len(req.json().get("accountDetails") or []) > MAX_MEMBERS:
            raise ServiceError("BadRequestException",
                               f"accountDetails has more than {MAX_MEMBERS} items.")
        unprocessed = []
        accounts = active_accounts(org)
        for d in req.json().get("accountDetails") or []:
            account = d.get("accountId")
            if account not in accounts or account == state["admin"]:
                unprocessed.append({"accountId": account,
                                    "result": "The account is not an account of the organization (it needs an invitation)."})
                continue
            if account == org.account_id and gd_detector(account, req.region) is None:
                unprocessed.append({"accountId": account,
                                    "result": "The organization management account must enable GuardDuty (which "
                                              "creates its service-linked role) before it can be added as a member."})
                continue
            gd_add_member(org, req.region, state, account, d.get("email") or "")
        return json_answer({"unprocessedAccounts": unprocessed})
    if what == "member" and req.method == "GET":
        members = [{"accountId": a, "detectorId": gd_detector(a, req.region) or "", "masterId": state["admin"],
                    "administratorId": state["admin"], "email": e, "relationshipStatus": "Enabled",
                    "updatedAt": now()} for a, e in sorted(state["members"].items())]
        return json_answer({"members": members})
    return None


def gd_member_detectors(req, detector_id, what):
    """GetMemberDetectors / UpdateMemberDetectors: the administrator reads
    or sets its members' protection plans (an account that is not its
    member is unprocessed)."""
    org, state = gd_admin_side(req, detector_id)
    body = req.json()
    accounts = body.get("accountIds") or []
    if not 1 <= len(accounts) <= MAX_MEMBERS:
        raise ServiceError("BadRequestException", f"accountIds must have 1 to {MAX_MEMBERS} items.")
    unprocessed, done = [], []
    for account in accounts:
        member = gd_detector(account, req.region) if account in state["members"] else None
        if member is None:
            unprocessed.append({"accountId": account, "result": "The account is not a member of this administrator."})
        else:
            done.append((account, guardduty_backends[account][req.region].detectors[member]))
    if what == "get":
        return json_answer({"members": [
            {"accountId": a, "dataSources": d.to_json().get("dataSources") or {},
             "features": [{"name": f["name"], "status": f["status"]} for f in (d.to_json().get("features") or [])
                          if f["name"] in ORG_FEATURES]}
            for a, d in done], "unprocessedAccounts": unprocessed})
    features = body.get("features") or []
    from .guardduty import UNOFFERED
    for f in features:
        if f.get("name") not in ORG_FEATURES or f.get("status") not in ("ENABLED", "DISABLED"):
            raise ServiceError("BadRequestException", f"Invalid member feature: {f}")
        if f.get("name") in UNOFFERED.get(req.region, set()):
            raise ServiceError("BadRequestException",
                               "The request is rejected because an invalid or out-of-range value is specified "
                               f"as an input parameter. ({f.get('name')} is not offered in {req.region})")
    for _, d in done:
        d.update(None, None, None, [{"name": f["name"], "status": f["status"]} for f in features])
    return json_answer({"unprocessedAccounts": unprocessed})


# ------------------------------------------------------------- Security Hub

def sh_admin(req):
    org = org_backend(req.account)
    if org is None:
        return None, None
    return org, securityhub_backends[req.account][req.region]._get_org_config()


def securityhub(req):
    path = req.path.rstrip("/")
    if path == "/organization/admin/enable" and req.method == "POST":
        org = require_management(req, "securityhub")
        admin = req.json().get("AdminAccountId")
        config = securityhub_backends[req.account][req.region]._get_org_config()
        designate(req, org, SH_PRINCIPAL, admin, config["admin_account_id"], "InvalidInputException")
        config["admin_account_id"] = admin
        # Designation enables Security Hub in the administrator, in this
        # region, with the default standards (what EnableSecurityHub does
        # unless told otherwise; the guide does not say which, so the
        # stricter reading: the administrator may hold more than it asked).
        from . import securityhub as hub
        if not securityhub_backends[admin][req.region].enabled:
            hub.enable_hub(admin, req.region, True, {})
        return json_answer({"AdminAccountId": admin})
    if path == "/organization/admin" and req.method == "GET":
        org = require_management(req, "securityhub")
        admin = securityhub_backends[req.account][req.region]._get_org_config()["admin_account_id"]
        return json_answer({"AdminAccounts": [{"AccountId": admin, "Status": "ENABLED"}] if admin else []})
    if path == "/members" and req.method == "GET":
        org, config = sh_admin(req)
        if config and config["admin_account_id"] == req.account:
            sh_refuse_while_settling(req, org)
        return None  # moto's
    if path == "/members" and req.method == "POST":
        org, config = sh_admin(req)
        if not config or config["admin_account_id"] != req.account:
            raise ServiceError("AccessDeniedException",
                               "Only the Security Hub administrator account can add members.", 403)
        sh_refuse_while_settling(req, org)
        if len(req.json().get("AccountDetails") or []) > MAX_MEMBERS:
            raise ServiceError("InvalidInputException", f"AccountDetails has more than {MAX_MEMBERS} items.")
        from . import securityhub as hub
        accounts = active_accounts(org)
        unprocessed = []
        for d in req.json().get("AccountDetails") or []:
            account = d.get("AccountId")
            if account not in accounts or account == req.account:
                unprocessed.append({"AccountId": account,
                                    "ProcessingResult": "Not an account of the organization (it needs an invitation)."})
                continue
            if account == org.account_id and not securityhub_backends[account][req.region].enabled:
                unprocessed.append({"AccountId": account,
                                    "ProcessingResult": "Security Hub cannot be enabled automatically for the "
                                                        "organization management account: it must enable Security "
                                                        "Hub before the administrator enables it as a member."})
                continue
            sh_add_member(account, req.region, req.account, config, hub, d.get("Email") or "")
        return json_answer({"UnprocessedAccounts": unprocessed})
    return None


def sh_add_member(account, region, admin, config, hub, email=""):
    members = securityhub_backends[admin][region].members
    members.setdefault(account, {"AccountId": account, "Email": email, "MemberStatus": "ENABLED",
                                 "InvitedAt": now(), "UpdatedAt": now()})
    if not securityhub_backends[account][region].enabled:
        hub.enable_hub(account, region, config.get("auto_enable_standards", "DEFAULT") == "DEFAULT", {})


# ------------------------------------------------------------ AWS Config

CONFIG_PRINCIPAL = "config.amazonaws.com"
ORGANIZATIONS_POLICY = "AWSConfigRoleForOrganizations"


def config_aggregator(req):
    """PutConfigurationAggregator with an OrganizationAggregationSource:
    only from the management account or the account registered as AWS
    Config's delegated administrator (OrganizationAccessDeniedException),
    with a role of the caller's account that AWS Config may assume and that
    has AWSConfigRoleForOrganizations attached (InvalidRoleException)."""
    source = req.json().get("OrganizationAggregationSource")
    if not source:
        return None
    org = org_backend(req.account)
    if org is None:
        raise ServiceError("NoAvailableOrganizationException", "The account is not in an organization.")
    delegated = any(a.account.id == req.account and CONFIG_PRINCIPAL in a.services for a in org.admins)
    if delegated and settling(org, CONFIG_PRINCIPAL, None):
        delegated = False
    if org.account_id != req.account and not delegated:
        raise ServiceError("OrganizationAccessDeniedException",
                           f"Account {req.account} is neither the management account nor AWS Config's delegated "
                           "administrator.")
    from moto.iam.models import iam_backends
    name = (source.get("RoleArn") or "").rsplit("/", 1)[-1]
    iam = iam_backends[req.account]["aws"]
    role = next((r for r in iam.roles.values() if r.name == name), None)
    policies = [p.arn.rsplit("/", 1)[-1] for p in role.managed_policies.values()] if role else []
    trusted_by_config = role is not None and CONFIG_PRINCIPAL in (role.assume_role_policy_document or "")
    if not trusted_by_config or ORGANIZATIONS_POLICY not in policies:
        raise ServiceError("InvalidRoleException",
                           f"The role {source.get('RoleArn')} does not exist, does not trust {CONFIG_PRINCIPAL} or "
                           f"lacks {ORGANIZATIONS_POLICY}.")
    return None  # moto's own answer


def handle(req):
    if req.service == "config" and req.action == "PutConfigurationAggregator":
        return config_aggregator(req)
    if req.service == "guardduty":
        return guardduty(req)
    if req.service == "securityhub":
        return securityhub(req)
    return None


def install():
    # Security Hub's configuration per organization and region.
    def org_config(self):
        from moto.organizations.exceptions import AWSOrganizationsNotInUseException
        org = org_backend(self.account_id)
        if org is None:
            raise AWSOrganizationsNotInUseException()
        key = f"{org.org.id}/{self.region_name}"
        return SecurityHubBackend._org_configs.setdefault(key, {
            "admin_account_id": None, "auto_enable": False, "auto_enable_standards": "DEFAULT",
            "configuration": {"ConfigurationType": "LOCAL", "Status": "ENABLED", "StatusMessage": ""}})

    SecurityHubBackend._get_org_config = org_config

    def administrator(self):
        org = org_backend(self.account_id)
        if org is None:
            return {}
        admin = self._get_org_config()["admin_account_id"]
        if not admin or self.account_id not in securityhub_backends[admin][self.region_name].members:
            return {}
        return {"Administrator": {"AccountId": admin, "MemberStatus": "ENABLED",
                                  "InvitationId": f"invitation-{admin}", "InvitedAt": now()}}

    SecurityHubBackend.get_administrator_account = administrator

    for principal in (SH_PRINCIPAL, CONFIG_PRINCIPAL):
        if principal not in org_models.FakeDelegatedAdministrator.SUPPORTED_SERVICES:
            org_models.FakeDelegatedAdministrator.SUPPORTED_SERVICES.append(principal)

    # Organizations RegisterDelegatedAdministrator: after trusted access for
    # the principal (the services' guides enable it first; that
    # Organizations refuses otherwise is the stricter reading).
    register_admin = org_models.OrganizationsBackend.register_delegated_administrator

    def register_after_trust(self, **kwargs):
        from moto.organizations.exceptions import ConstraintViolationException
        principal = kwargs.get("ServicePrincipal")
        if self.org is not None and not trusted(self, principal):
            raise ConstraintViolationException(
                f"Trusted access for {principal} is not enabled: enable it first (EnableAWSServiceAccess).")
        out = register_admin(self, **kwargs)
        if self.org is not None:
            designated_now(self, principal, None)
        return out

    org_models.OrganizationsBackend.register_delegated_administrator = register_after_trust

    create_account = org_models.OrganizationsBackend.create_account

    def create_account_auto_enabled(self, **kwargs):
        status = create_account(self, **kwargs)
        account = self.accounts[-1].id
        for (org_id, region), state in list(GUARDDUTY.items()):
            if org_id == self.org.id and state["admin"] and state["auto"] in ("NEW", "ALL"):
                gd_add_member(self, region, state, account)
        from . import securityhub as hub
        for key, config in list(SecurityHubBackend._org_configs.items()):
            org_id, _, region = key.partition("/")
            if org_id == self.org.id and region and config["admin_account_id"] and config["auto_enable"]:
                sh_add_member(account, region, config["admin_account_id"], config, hub)
        return status

    org_models.OrganizationsBackend.create_account = create_account_auto_enabled
