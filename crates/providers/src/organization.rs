//! An organization whose security services run through a delegated
//! administrator (`organization.delegated_admin`): what the GuardDuty,
//! Security Hub, Config and Access Analyzer providers need to know of it
//! (who the management account and the administrator are, which accounts
//! are members), found once when the organization is listed; the check
//! made before any account is read (the administrator is an account of the
//! organization, and no other account is already the registered
//! administrator of a service the baseline runs through it: a refusal
//! naming both, never a switch); and what the services' organization
//! resources share (their addresses, the registration, the members, a
//! member's coverage).

use std::collections::{BTreeMap, BTreeSet};

use aws_config::SdkConfig;
use baseline_engine::{
    Action, Address, Attrs, Change, Desired, Observed, Ownership, Reading, ServiceError, Target,
    Want,
};
use baseline_spec::Baseline;
use serde_json::{Value, json};

use crate::error::{Ctx, Refusal};

/// GuardDuty's service principal (trusted access, delegated administrator).
pub(crate) const GUARDDUTY_PRINCIPAL: &str = "guardduty.amazonaws.com";
/// Security Hub's service principal.
pub(crate) const SECURITYHUB_PRINCIPAL: &str = "securityhub.amazonaws.com";
/// AWS Config's service principal (its organization aggregator).
pub(crate) const CONFIG_PRINCIPAL: &str = "config.amazonaws.com";
/// IAM Access Analyzer's service principal.
pub(crate) const ANALYZER_PRINCIPAL: &str = "access-analyzer.amazonaws.com";

/// The organization, as the services run through its delegated
/// administrator see it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Organization {
    /// The management account: it registers the administrator.
    pub management: String,
    /// The delegated administrator (the security-tooling account).
    pub admin: String,
    /// Whether AWS itself covers the accounts that join later.
    pub auto_enable: bool,
    /// Every ACTIVE account of the organization less the excluded ones, with
    /// its email (GuardDuty's CreateMembers asks for it).
    pub accounts: BTreeMap<String, String>,
    /// The ACTIVE accounts of the organization that `exclude` leaves out.
    pub excluded: BTreeSet<String>,
    /// The organization's root (`r-…`), read when Security Hub runs with
    /// central configuration (its policy is associated with the root).
    pub root: Option<String>,
}

impl Organization {
    /// The accounts the administrator makes members: every account but itself.
    pub fn members(&self) -> impl Iterator<Item = (&String, &String)> {
        self.accounts.iter().filter(|(id, _)| **id != self.admin)
    }

    /// Whether `account` is covered through the administrator (a member).
    pub fn is_member(&self, account: &str) -> bool {
        account != self.admin && self.accounts.contains_key(account)
    }
}

/// The organization's facts for `delegated_admin`, checked: `Ok(None)`
/// when the baseline names no administrator. `emails`: every ACTIVE
/// account of the organization less `exclude`, with its email;
/// `excluded`: the ACTIVE accounts `exclude` leaves out.
pub(crate) async fn delegation(
    base: &SdkConfig,
    baseline: &Baseline,
    emails: BTreeMap<String, String>,
    excluded: BTreeSet<String>,
) -> Result<Option<Organization>, ServiceError> {
    let Some(spec) = &baseline.organization else {
        return Ok(None);
    };
    let Some(admin) = spec.admin() else {
        return Ok(None);
    };
    let ctx = Ctx {
        account: "organization".into(),
        region: baseline.home_region.clone(),
        service: "organizations",
    };
    let client = aws_sdk_organizations::Client::new(base);
    let described = client
        .describe_organization()
        .send()
        .await
        .map_err(ctx.err("DescribeOrganization"))?;
    let management = described
        .organization()
        .and_then(|o| o.master_account_id())
        .unwrap_or_default()
        .to_string();
    if !emails.contains_key(admin) {
        return Err(Box::new(Refusal {
            message: format!(
                "organization.delegated_admin {admin} is not an ACTIVE account of the organization (less `exclude`): nothing is changed"
            ),
        }));
    }
    if admin == management {
        return Err(Box::new(Refusal {
            message: format!(
                "organization.delegated_admin {admin} is the management account: AWS recommends, and Organizations requires, another account (a security-tooling account)"
            ),
        }));
    }
    let principals = [
        (
            "GuardDuty",
            GUARDDUTY_PRINCIPAL,
            baseline.guardduty.as_ref().is_some_and(|g| g.enabled),
        ),
        (
            "Security Hub",
            SECURITYHUB_PRINCIPAL,
            baseline.securityhub.as_ref().is_some_and(|s| s.enabled),
        ),
        (
            "AWS Config",
            CONFIG_PRINCIPAL,
            baseline.config.as_ref().is_some_and(|c| c.enabled),
        ),
        (
            "IAM Access Analyzer",
            ANALYZER_PRINCIPAL,
            baseline
                .access_analyzer
                .as_ref()
                .is_some_and(|a| a.enabled && a.zone == Some(baseline_spec::Zone::Organization)),
        ),
    ];
    for (name, principal, used) in principals {
        if !used {
            continue;
        }
        let registered = client
            .list_delegated_administrators()
            .service_principal(principal)
            .send()
            .await
            .map_err(ctx.err("ListDelegatedAdministrators"))?;
        let others: Vec<&str> = registered
            .delegated_administrators()
            .iter()
            .filter_map(|a| a.id())
            .filter(|id| *id != admin)
            .collect();
        if let Some(other) = others.first() {
            return Err(Box::new(Refusal {
                message: format!(
                    "{name}'s delegated administrator is account {other}, and the baseline names {admin}: refused, nothing is changed. baseline never moves an administrator: deregister {other} first ({name}'s DisableOrganizationAdminAccount from the management account, in every region), or name {other} in organization.delegated_admin"
                ),
            }));
        }
    }
    // Security Hub's central configuration associates its policy with the
    // root (Organizations ListRoots: the management account).
    let root =
        if spec.securityhub_central() && baseline.securityhub.as_ref().is_some_and(|s| s.enabled) {
            let roots = client
                .list_roots()
                .send()
                .await
                .map_err(ctx.err("ListRoots"))?;
            roots
                .roots()
                .first()
                .and_then(|r| r.id())
                .map(str::to_string)
        } else {
            None
        };
    Ok(Some(Organization {
        management,
        admin: admin.to_string(),
        auto_enable: spec.auto_enables(),
        accounts: emails,
        excluded,
        root,
    }))
}

/// The most accounts one CreateMembers takes (GuardDuty and Security Hub
/// API references: `AccountDetails`, at most 50 items).
pub(crate) const MEMBERS_PER_CALL: usize = 50;

/// The kinds of one service's organization resources.
pub(crate) struct Kinds {
    /// The service's name in notes (`GuardDuty`).
    pub service: &'static str,
    /// The management account's registration of the administrator.
    pub admin: &'static str,
    /// The administrator's organization configuration.
    pub config: &'static str,
    /// The administrator's members.
    pub members: &'static str,
    /// A member covered by the organization.
    pub membership: &'static str,
    /// The controls a member's coverage clears.
    pub controls: &'static [&'static str],
}

/// The one resource of each organization kind per account and region.
const NAME: &str = "organization";

/// The address of an organization resource.
pub(crate) fn address(account: &str, region: &str, kind: &str) -> Address {
    Address {
        account: account.to_string(),
        region: region.to_string(),
        kind: kind.to_string(),
        name: NAME.to_string(),
    }
}

/// The organization's resources of one service in `target`: the
/// registration in the management account; the configuration (`config`)
/// and members in the administrator (both after `own`, the
/// administrator's own detector or hub); the coverage of every member.
pub(crate) fn desired(
    org: &Organization,
    kinds: &Kinds,
    target: &Target,
    config: Attrs,
    own: Address,
) -> Vec<Desired> {
    let (account, region) = (target.account_id.as_str(), target.region.as_str());
    let registered = address(&org.management, region, kinds.admin);
    let one = |kind: &str, want: Attrs, depends_on: Vec<Address>, private: Attrs| Desired {
        address: address(account, region, kind),
        controls: if kind == kinds.membership {
            crate::controls(kinds.controls)
        } else {
            Vec::new()
        },
        want: Want::Present(want),
        depends_on,
        private,
    };
    let mut out = Vec::new();
    if account == org.management {
        out.push(one(
            kinds.admin,
            crate::attrs(&[("admin_account", json!(org.admin))]),
            Vec::new(),
            Attrs::new(),
        ));
    }
    if account == org.admin {
        let configured = address(account, region, kinds.config);
        out.push(one(
            kinds.config,
            config,
            vec![registered.clone(), own.clone()],
            Attrs::new(),
        ));
        let ids: Vec<&String> = org.members().map(|(id, _)| id).collect();
        let emails: serde_json::Map<String, Value> = org
            .members()
            .map(|(id, email)| (id.clone(), json!(email)))
            .collect();
        // After the configuration: what it says of new members (their
        // standards) holds for the ones added here too; and after the
        // management account's own detector or hub, which AWS requires
        // before it can be a member (`management_own`).
        let management_own = Address {
            account: org.management.clone(),
            ..own.clone()
        };
        out.push(one(
            kinds.members,
            crate::attrs(&[("accounts", json!(ids))]),
            vec![registered, own, configured, management_own],
            crate::attrs(&[("emails", Value::Object(emails))]),
        ));
    }
    if org.is_member(account) {
        out.push(one(
            kinds.membership,
            crate::attrs(&[("administrator", json!(org.admin))]),
            vec![address(&org.admin, region, kinds.members)],
            Attrs::new(),
        ));
    }
    out
}

/// What `destroy` leaves of an organization run through a delegated
/// administrator, said in its plan (docs/safety.md): the organization's
/// services are never stopped, deregistered or emptied of members by a
/// teardown. `None` without a delegated administrator.
pub fn left_by_destroy(baseline: &Baseline) -> Option<String> {
    let admin = baseline.organization.as_ref()?.admin()?;
    let on = |enabled: Option<bool>| enabled.unwrap_or(false);
    let mut kept = Vec::new();
    if on(baseline.guardduty.as_ref().map(|g| g.enabled)) {
        kept.push("GuardDuty (the administrator's registration, organization configuration, members and protection plans; the detectors of the administrator and the management account)");
    }
    if on(baseline.securityhub.as_ref().map(|s| s.enabled)) {
        kept.push("Security Hub (the administrator's registration, organization configuration, members, central configuration policy and aggregator; the hubs of the administrator and the management account)");
    }
    if on(baseline.config.as_ref().map(|c| c.enabled)) {
        kept.push("AWS Config's registration and organization aggregator (each account's own recorder is torn down)");
    }
    if baseline
        .access_analyzer
        .as_ref()
        .is_some_and(|a| a.enabled && a.zone == Some(baseline_spec::Zone::Organization))
    {
        kept.push("IAM Access Analyzer's registration and organization analyzer");
    }
    if kept.is_empty() {
        return None;
    }
    Some(format!(
        "organization mode: destroy leaves, in every region, {} with delegated administrator {admin}: it never deregisters an administrator, removes members or turns organization configuration off. Stop them from the administrator and the management account if that is what you want.",
        kept.join("; ")
    ))
}

/// The delegated administrator's own detector or hub (`d`): its
/// designation enables the service there ("Managing GuardDuty accounts with
/// AWS Organizations"; Security Hub's "Integrating Security Hub CSPM with
/// AWS Organizations"), so it comes after the registration, and a create
/// takes what the designation made (marking it as the baseline's, whose
/// registration made it) instead of making a second.
pub(crate) fn designated(
    mut d: Desired,
    org: &Organization,
    kinds: &Kinds,
    target: &Target,
) -> Desired {
    d.depends_on
        .push(address(&org.management, &target.region, kinds.admin));
    d.private
        .insert(MADE_BY_DESIGNATION.into(), json!(org.admin));
    d
}

/// What a change of an organization's kind declares (`kinds`): the
/// administrator's organization configuration and members, made right
/// after its designation, wait for the delegation to hold and are read
/// again only when the plan could read them (an update); an account's
/// coverage writes nothing and waits until the administrator covers it.
pub(crate) fn declare(kinds: &Kinds, change: &Change) -> baseline_engine::Declared {
    use baseline_engine::{Declared, Wait};
    let kind = change.address.kind.as_str();
    if kind == kinds.membership {
        return Declared {
            waits: vec![Wait::Coverage],
            ..Declared::default()
        };
    }
    let mut d = crate::usual(change);
    if kind == kinds.admin {
        return d;
    }
    if change.action == Action::Create {
        d.preconditions.clear();
        d.waits.push(Wait::Delegation);
    } else if kind == kinds.members {
        // Adding members is additive (nothing read is overwritten), and
        // auto-enable may add some while the plan waits.
        d.preconditions.clear();
    } else {
        // An account the plan did not read (not a member yet) is one an
        // earlier step of this apply adds: only what the plan read is
        // expected unchanged.
        d.preconditions.retain(|p| match p {
            baseline_engine::Precondition::Unchanged { attr } => {
                change.before.as_ref().is_some_and(|b| b.contains_key(attr))
            }
            _ => true,
        });
    }
    d
}

/// [`Change::private`] of a create that takes what the designation of
/// this administrator made.
const MADE_BY_DESIGNATION: &str = "made_by_designation_of";

/// Whether a create is the delegated administrator's own detector or hub
/// (see [`designated`]).
pub(crate) fn made_by_designation(change: &Change) -> bool {
    change.private.contains_key(MADE_BY_DESIGNATION)
}

/// The plan's word for the administrator's own detector or hub (`what`)
/// that is not there yet: its designation will make it, and apply takes
/// it (see [`designated`]).
pub(crate) fn designation_note(d: &Desired, what: &str, target: &Target) -> Option<String> {
    let admin = d.private.get(MADE_BY_DESIGNATION)?.as_str()?;
    Some(format!(
        "{what} of delegated administrator {admin} in {}: its designation enables it; apply takes that one and marks it as the baseline's (it creates one only if none comes within --settle-timeout)",
        target.region
    ))
}

/// A refusal when the region's registered administrator (`registered`)
/// is not the baseline's; the registration as observed otherwise.
pub(crate) fn registration(
    org: &Organization,
    service: &str,
    target: &Target,
    d: &Desired,
    registered: &[&str],
) -> Result<Reading, ServiceError> {
    if let Some(other) = registered.iter().find(|a| **a != org.admin) {
        return Err(crate::refusal(format!(
            "{service}'s delegated administrator in {} is account {other}, and the baseline names {}: refused (baseline never moves an administrator; deregister {other} first, or name it in organization.delegated_admin)",
            target.region, org.admin
        )));
    }
    Ok(if registered.is_empty() {
        Reading::default()
    } else {
        vec![Observed::new(
            d.address.clone(),
            crate::attrs(&[("admin_account", json!(org.admin))]),
            Ownership::Ours,
        )]
        .into()
    })
}

/// The management account's registration of the administrator for
/// `principal` in Organizations (global), read now: after an apply it
/// must show what the apply did.
pub(crate) async fn organizations_registration(
    account: &crate::Account,
    org: &Organization,
    service: &str,
    principal: &str,
    target: &Target,
    d: &Desired,
) -> Result<Reading, ServiceError> {
    let listed = client!(aws_sdk_organizations, account, &target.region)
        .list_delegated_administrators()
        .service_principal(principal)
        .send()
        .await
        .map_err(Ctx::new(target, "organizations").err("ListDelegatedAdministrators"))?;
    let ids: Vec<&str> = listed
        .delegated_administrators()
        .iter()
        .filter_map(|a| a.id())
        .collect();
    registration(org, service, target, d, &ids)
}

/// The administrator's members as observed: the organization's accounts
/// among `members` (the service's enabled members); the others are a
/// note, left as they are.
pub(crate) fn members(
    org: &Organization,
    kinds: &Kinds,
    target: &Target,
    d: &Desired,
    members: BTreeSet<String>,
) -> Reading {
    let wanted: BTreeSet<String> = org.members().map(|(id, _)| id.clone()).collect();
    // No member yet (Security Hub lists none for an account that is not
    // yet the administrator): the members are to be created.
    if members.is_empty() && !wanted.is_empty() {
        return Reading::default();
    }
    let gone: Vec<&str> = members.difference(&wanted).map(String::as_str).collect();
    let mut notes = Vec::new();
    if !gone.is_empty() {
        notes.push(format!(
            "{} in {}: members that are not (or no longer) accounts of the organization the baseline covers, left as they are: {}",
            kinds.service,
            target.region,
            gone.join(", ")
        ));
    }
    let covered: Vec<&String> = members.intersection(&wanted).collect();
    Reading {
        observed: vec![Observed::new(
            d.address.clone(),
            crate::attrs(&[("accounts", json!(covered))]),
            Ownership::Ours,
        )],
        notes,
    }
}

/// A member's coverage as observed, from its administrator in the region;
/// a note says why it is not yet covered.
pub(crate) fn membership(
    org: &Organization,
    kinds: &Kinds,
    target: &Target,
    d: &Desired,
    administrator: Option<String>,
) -> Reading {
    let mut notes = Vec::new();
    if administrator.as_deref() != Some(org.admin.as_str()) {
        notes.push(format!(
            "{} in account {}, {}: not yet covered by the organization ({}); {} in account {} adds it, nothing is written here",
            kinds.service,
            target.account_id,
            target.region,
            match &administrator {
                None => "it has no administrator yet".to_string(),
                Some(other) => format!("its administrator is account {other}"),
            },
            kinds.members,
            org.admin
        ));
    }
    let observed = administrator
        .map(|a| {
            Observed::new(
                d.address.clone(),
                crate::attrs(&[("administrator", json!(a))]),
                Ownership::Ours,
            )
        })
        .into_iter()
        .collect();
    Reading { observed, notes }
}

/// The members a change of the administrator's members adds: in `after`,
/// not in `before`, with their emails.
pub(crate) fn to_add(change: &Change) -> Vec<(String, String)> {
    let list = |state: Option<&Attrs>| -> BTreeSet<String> {
        state
            .and_then(|s| s.get("accounts"))
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    };
    let before = list(change.before.as_ref());
    let emails = change.private.get("emails").cloned().unwrap_or_default();
    list(change.after.as_ref())
        .difference(&before)
        .map(|a| {
            (
                a.clone(),
                emails[a].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// Waits, within `settle` (`--settle-timeout`), until AWS takes the
/// account as the organization's delegated administrator of `service` in
/// the target's region: for a while after EnableOrganizationAdminAccount
/// (or RegisterDelegatedAdministrator) AWS refuses the administrator's
/// organization calls with `code` (docs/fidelity.md). `probe` is a read
/// of the administrator's that AWS refuses the same way; `operation` names
/// it. The first organization call of each of the administrator's steps
/// goes through here.
pub(crate) async fn delegation_in_effect<T, E, F, Fut>(
    settle: std::time::Duration,
    target: &Target,
    service: &'static str,
    operation: &'static str,
    code: &str,
    probe: F,
) -> Result<T, ServiceError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, E>>,
    E: std::error::Error
        + crate::error::HttpStatus
        + aws_smithy_types::error::metadata::ProvideErrorMetadata,
{
    let waits_for = format!(
        "account {} to be {service}'s delegated administrator in {}",
        target.account_id, target.region
    );
    let ctx = Ctx::new(target, service);
    match crate::settle::retry_codes(settle, &waits_for, &[code], probe).await {
        Ok(answer) => Ok(answer),
        Err(e) if e.code() == Some(code) => Err(ctx.err_waited(
            operation,
            "the account's designation as delegated administrator",
        )(e)
        .into()),
        Err(e) => Err(ctx.err(operation)(e).into()),
    }
}

/// Apply of a member's coverage: nothing is written in the member; it
/// checks, with `administrator` (the member's administrator, as read),
/// that the administrator's members covered it. The administrator's
/// `members` may be another job's (another shard's) and run a moment
/// later: the check is tried again within `settle` (`--settle-timeout`).
pub(crate) async fn covered<F, Fut>(
    kinds: &Kinds,
    target: &Target,
    change: &Change,
    settle: std::time::Duration,
    mut administrator: F,
) -> Result<(), ServiceError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<Option<String>, ServiceError>>,
{
    let wanted = change
        .planned("administrator")
        .as_str()
        .unwrap_or_default()
        .to_string();
    let last = std::sync::Mutex::new(None::<String>);
    let waits_for = format!(
        "{} in account {} to cover account {}",
        kinds.members, wanted, target.account_id
    );
    let found = crate::settle::until_found(settle, &waits_for, || {
        let now = administrator();
        let (wanted, last) = (&wanted, &last);
        async move {
            let now = now.await?;
            let covered = now.as_deref() == Some(wanted.as_str());
            *last.lock().unwrap_or_else(|p| p.into_inner()) = now;
            Ok::<_, ServiceError>(covered.then_some(()))
        }
    })
    .await?;
    if found.is_some() {
        return Ok(());
    }
    let last = last.into_inner().unwrap_or_else(|p| p.into_inner());
    Err(Box::new(baseline_engine::Failure {
        kind: baseline_engine::ErrorKind::Settling,
        message: format!(
            "{} in account {}, {} is not covered by the organization after {} ran (waited up to --settle-timeout): its administrator is {}",
            kinds.service,
            target.account_id,
            target.region,
            kinds.members,
            last.as_deref().unwrap_or("none")
        ),
    }))
}

/// Trusted access for the service's principal (Organizations), from the
/// management account: what registering an administrator needs first.
pub(crate) async fn trust(
    account: &crate::Account,
    target: &Target,
    principal: &str,
) -> Result<(), ServiceError> {
    client!(aws_sdk_organizations, account, &target.region)
        .enable_aws_service_access()
        .service_principal(principal)
        .send()
        .await
        .map_err(Ctx::new(target, "organizations").err("EnableAWSServiceAccess"))?;
    Ok(())
}

/// An error naming the accounts CreateMembers did not add.
pub(crate) fn unprocessed<'a>(
    kinds: &Kinds,
    accounts: impl Iterator<Item = (Option<&'a str>, Option<&'a str>)>,
) -> Result<(), ServiceError> {
    let refused: Vec<String> = accounts
        .map(|(id, why)| format!("{} ({})", id.unwrap_or_default(), why.unwrap_or_default()))
        .collect();
    if refused.is_empty() {
        return Ok(());
    }
    Err(crate::refusal(format!(
        "{} did not add these members: {}",
        kinds.service,
        refused.join("; ")
    )))
}

/// The organization a delegated administrator runs, or why there is none
/// (a plan of organization kinds without it cannot be made).
pub(crate) fn of(aws: &crate::Aws) -> Result<&Organization, ServiceError> {
    aws.organization
        .as_ref()
        .ok_or_else(|| crate::refusal("no organization was reached".to_string()))
}

/// A read of `desired` in which the organization's kinds (`is_org`) are
/// read one by one (`org_one`), and the account's own resources together
/// (`own`, only when there are any).
pub(crate) async fn read_split<Own, OwnFut, One, OneFut>(
    desired: &[Desired],
    is_org: fn(&str) -> bool,
    own: Own,
    mut org_one: One,
) -> Result<Reading, ServiceError>
where
    Own: FnOnce(Vec<Desired>) -> OwnFut,
    OwnFut: std::future::Future<Output = Result<Reading, ServiceError>>,
    One: FnMut(Desired) -> OneFut,
    OneFut: std::future::Future<Output = Result<Reading, ServiceError>>,
{
    let (org, mine): (Vec<Desired>, Vec<Desired>) = desired
        .iter()
        .cloned()
        .partition(|d| is_org(&d.address.kind));
    let mut reading = if mine.is_empty() {
        Reading::default()
    } else {
        own(mine).await?
    };
    for d in org {
        let one = org_one(d).await?;
        reading.observed.extend(one.observed);
        reading.notes.extend(one.notes);
    }
    Ok(reading)
}
