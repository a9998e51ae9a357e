//! Security Hub's central configuration (`organization.securityhub_configuration:
//! central`, the default with a delegated administrator): the
//! administrator configures every account from the home region with one
//! configuration policy, associated with the organization's root.
//!
//! | kind | account · region | what |
//! |---|---|---|
//! | `securityhub.aggregator` | administrator · home | the cross-Region finding aggregator that makes the home region Security Hub's home Region, linking the baseline's other regions (`SPECIFIED_REGIONS`; `ALL_REGIONS` with `regions: all`; `NO_REGIONS` with one region) |
//! | `securityhub.organization` | administrator · home | `ConfigurationType` `CENTRAL` (AWS turns member auto-enable off; the policy covers accounts that join) |
//! | `securityhub.policy` | administrator · home | the configuration policy named after the baseline (`baseline`, or `baseline-<name>`): Security Hub enabled, the baseline's standards (the whole list: AWS disables the others), every control enabled |
//! | `securityhub.association` | administrator · home | the policy associated with the root; each ACTIVE account `exclude` leaves out associated with self-managed behaviour (`SELF_MANAGED_SECURITY_HUB`) first, so the root's policy does not reach it; an account no longer excluded disassociated last. Read from one list of the direct associations; other policies' are a note |
//!
//! The policy is baseline's only with its mark (`managed-by`): one of the
//! same name without it is held, and never associated with the root.
//!
//! The administrator's members (`securityhub.members`, every region) and
//! each member's coverage (`securityhub.membership`) stay as with local
//! configuration: members are added at once, where the policy's
//! association may take AWS hours ("Reviewing configuration policy status
//! and details": up to 24 hours from `PENDING`). No account's standards
//! are set in the account: centrally managed accounts cannot change them.

use aws_sdk_securityhub::types::{
    OrganizationConfiguration, OrganizationConfigurationConfigurationType,
    OrganizationConfigurationStatus, Policy, SecurityControlsConfiguration, SecurityHubPolicy,
};
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use baseline_engine::{Address, Change, Desired, Observed, Reading, ServiceError, Target, Want};
use baseline_spec::{Baseline, Regions};
use serde_json::{Value, json};

use super::SERVICE;
use super::standards::{standard_arn, standard_key};
use crate::error::Ctx;
use crate::organization::{Organization, address};
use crate::{Account, attrs};

/// The home region's finding aggregator.
pub(super) const AGGREGATOR: &str = "securityhub.aggregator";
/// The configuration policy.
pub(super) const POLICY: &str = "securityhub.policy";
/// The policy's association with the root (and the excluded accounts'
/// self-managed behaviour).
pub(super) const ASSOCIATION: &str = "securityhub.association";
/// AWS's name for an account's own configuration, as an association.
const SELF_MANAGED: &str = "SELF_MANAGED_SECURITY_HUB";

/// Whether a kind is one of central configuration's own.
pub(super) fn is_kind(kind: &str) -> bool {
    [AGGREGATOR, POLICY, ASSOCIATION].contains(&kind)
}

/// How the home region's aggregator links the baseline's other regions.
fn linking(baseline: &Baseline) -> (&'static str, Vec<String>) {
    match &baseline.regions {
        Regions::All(_) => ("ALL_REGIONS", Vec::new()),
        Regions::List(list) => {
            let others: Vec<String> = list
                .iter()
                .filter(|r| **r != baseline.home_region)
                .cloned()
                .collect();
            if others.is_empty() {
                ("NO_REGIONS", others)
            } else {
                ("SPECIFIED_REGIONS", others)
            }
        }
    }
}

/// Central configuration's resources in the administrator's home region
/// (`registered`: the management account's registration; `own`: the
/// administrator's hub). `configured` is the organization's
/// configuration, which the caller plans.
pub(super) fn desired(
    org: &Organization,
    baseline: &Baseline,
    policy_name: &str,
    mark: &str,
    target: &Target,
    registered: &Address,
    own: &Address,
) -> Vec<Desired> {
    let Some(spec) = &baseline.securityhub else {
        return Vec::new();
    };
    if target.account_id != org.admin || target.region != baseline.home_region {
        return Vec::new();
    }
    let at = |kind: &str| address(&org.admin, &target.region, kind);
    let one = |kind: &str, want: baseline_engine::Attrs, depends_on: Vec<Address>| Desired {
        address: at(kind),
        controls: Vec::new(),
        want: Want::Present(want),
        depends_on,
        private: baseline_engine::Attrs::new(),
    };
    let (mode, regions) = linking(baseline);
    let mut standards: Vec<&str> = spec.standards.iter().flatten().map(|s| s.key()).collect();
    standards.sort_unstable();
    vec![
        one(
            AGGREGATOR,
            attrs(&[("linking", json!(mode)), ("regions", json!(regions))]),
            vec![registered.clone(), own.clone()],
        ),
        one(
            POLICY,
            attrs(&[
                ("name", json!(policy_name)),
                ("service_enabled", json!(true)),
                ("standards", json!(standards)),
                ("managed_by", json!(mark)),
            ]),
            vec![at(super::organization::KINDS.config)],
        ),
        one(
            ASSOCIATION,
            attrs(&[
                ("policy", json!(policy_name)),
                ("root", json!(org.root)),
                ("self_managed", json!(org.excluded)),
            ]),
            vec![at(POLICY)],
        ),
    ]
}

/// The organization's configuration central configuration wants.
pub(super) fn configuration() -> baseline_engine::Attrs {
    attrs(&[("configuration_type", json!("CENTRAL"))])
}

/// Not (yet) the administrator, no hub, or not (yet) central: AWS's
/// answers when there is nothing to read.
fn nothing_there(code: Option<&str>) -> bool {
    matches!(
        code,
        Some(
            "AccessDeniedException"
                | "InvalidAccessException"
                | "ResourceNotFoundException"
                | "InvalidInputException"
        )
    )
}

/// The configuration type as observed: `CENTRAL` once AWS has it
/// ENABLED; while it is PENDING (no policy can be made yet) or when it
/// FAILED (with AWS's reason), said so: apply then waits for it, or asks
/// again.
pub(super) fn configuration_type(conf: Option<&OrganizationConfiguration>) -> String {
    let kind = conf
        .and_then(|c| c.configuration_type())
        .map_or("LOCAL", |t| t.as_str());
    match conf.and_then(|c| c.status()) {
        Some(OrganizationConfigurationStatus::Failed) => format!(
            "{kind} (FAILED: {})",
            conf.and_then(|c| c.status_message()).unwrap_or_default()
        ),
        Some(OrganizationConfigurationStatus::Pending) => format!("{kind} (PENDING)"),
        _ => kind.to_string(),
    }
}

/// The policy named `name`: its id, if there is one.
async fn policy_id(
    client: &aws_sdk_securityhub::Client,
    ctx: &Ctx,
    name: &str,
) -> Result<Option<String>, ServiceError> {
    let mut pages = client.list_configuration_policies().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = match page {
            Ok(p) => p,
            Err(e) if nothing_there(e.code()) => return Ok(None),
            Err(e) => return Err(ctx.err("ListConfigurationPolicies")(e).into()),
        };
        if let Some(p) = page
            .configuration_policy_summaries()
            .iter()
            .find(|p| p.name() == Some(name))
        {
            return Ok(p.id().map(str::to_string));
        }
    }
    Ok(None)
}

/// The aggregator's ARN, if the account has one (one per account).
async fn aggregator_arn(
    client: &aws_sdk_securityhub::Client,
    ctx: &Ctx,
) -> Result<Option<String>, ServiceError> {
    match client.list_finding_aggregators().send().await {
        Ok(l) => Ok(l
            .finding_aggregators()
            .first()
            .and_then(|a| a.finding_aggregator_arn())
            .map(str::to_string)),
        Err(e) if nothing_there(e.code()) => Ok(None),
        Err(e) => Err(ctx.err("ListFindingAggregators")(e).into()),
    }
}

/// Reads one of central configuration's resources.
pub(super) async fn read(
    client: &aws_sdk_securityhub::Client,
    account: &Account,
    org: &Organization,
    target: &Target,
    d: &Desired,
) -> Result<Reading, ServiceError> {
    let ctx = Ctx::new(target, SERVICE);
    let kind = d.address.kind.as_str();
    if kind == AGGREGATOR {
        let Some(arn) = aggregator_arn(client, &ctx).await? else {
            return Ok(Reading::default());
        };
        let got = client
            .get_finding_aggregator()
            .finding_aggregator_arn(&arn)
            .send()
            .await
            .map_err(ctx.err("GetFindingAggregator"))?;
        let mut regions = got.regions().to_vec();
        regions.sort();
        let mut reading: Reading = vec![Observed::new(
            d.address.clone(),
            attrs(&[
                ("linking", json!(got.region_linking_mode())),
                ("regions", json!(regions)),
            ]),
            true,
        )]
        .into();
        if got.finding_aggregation_region() != Some(target.region.as_str()) {
            reading.notes.push(format!(
                "Security Hub in account {}: the finding aggregator is in {}, not the home region {}; changing the home Region of central configuration deletes its policies (AWS), so baseline leaves it: delete it first",
                target.account_id,
                got.finding_aggregation_region().unwrap_or_default(),
                target.region
            ));
        }
        return Ok(reading);
    }
    let want = match &d.want {
        Want::Present(a) => a,
        _ => return Ok(Reading::default()),
    };
    let name = want
        .get(if kind == POLICY { "name" } else { "policy" })
        .and_then(Value::as_str)
        .unwrap_or_default();
    if kind == POLICY {
        let Some(id) = policy_id(client, &ctx, name).await? else {
            return Ok(Reading::default());
        };
        let got = client
            .get_configuration_policy()
            .identifier(&id)
            .send()
            .await
            .map_err(ctx.err("GetConfigurationPolicy"))?;
        let hub = got
            .configuration_policy()
            .and_then(|p| p.as_security_hub().ok());
        let mut standards: Vec<String> = hub
            .map(|h| h.enabled_standard_identifiers())
            .unwrap_or_default()
            .iter()
            .map(|arn| standard_key(arn, &account.partition, &target.region))
            .collect();
        standards.sort();
        let tags = client
            .list_tags_for_resource()
            .resource_arn(got.arn().unwrap_or_default())
            .send()
            .await
            .map_err(ctx.err("ListTagsForResource"))?;
        let tag = tags
            .tags()
            .and_then(|t| t.get(crate::OWNER_TAG_KEY))
            .cloned();
        let mark = want.get("managed_by").and_then(Value::as_str);
        let ours = tag.as_deref() == mark;
        let mut o = Observed::new(
            d.address.clone(),
            attrs(&[
                ("name", json!(name)),
                (
                    "service_enabled",
                    json!(hub.and_then(|h| h.service_enabled()).unwrap_or(false)),
                ),
                ("standards", json!(standards)),
                ("managed_by", json!(tag)),
            ]),
            ours,
        );
        if !ours {
            // A policy of this name that baseline did not create is never
            // changed (nor associated): only a person renames one of them.
            o.managed_by_tool(Some(match &tag {
                Some(t) => format!("the owner of the tag {}={t}", crate::OWNER_TAG_KEY),
                None => "someone else (no managed-by tag)".to_string(),
            }));
        }
        return Ok(vec![o].into());
    }
    // The association: the root's policy, by name; the accounts associated
    // with self-managed behaviour (one list of every direct association).
    let Some(root) = &org.root else {
        return Ok(Reading::default());
    };
    let Some(applied) = direct_associations(client, &ctx).await? else {
        return Ok(Reading::default());
    };
    let policy = policy_id(client, &ctx, name).await?;
    let policy_name = |id: &str| {
        if policy.as_deref() == Some(id) {
            name.to_string()
        } else {
            id.to_string()
        }
    };
    let mut notes = Vec::new();
    let mut root_policy = None;
    let mut self_managed = Vec::new();
    for a in applied {
        match a.target_type.as_str() {
            "ROOT" if a.failed.is_some() => notes.push(format!(
                "Security Hub's configuration policy {} failed to take effect at the root {root}: {} (associated again by the next apply)",
                policy_name(&a.policy),
                a.failed.as_deref().unwrap_or_default()
            )),
            "ROOT" => root_policy = Some(policy_name(&a.policy)),
            "ACCOUNT" if a.policy == SELF_MANAGED => {
                // Accounts the baseline covers or leaves out; others (no
                // longer ACTIVE) are not its business.
                if org.accounts.contains_key(&a.target) || org.excluded.contains(&a.target) {
                    self_managed.push(a.target);
                }
            }
            kind => notes.push(format!(
                "Security Hub in account {}: the {} {} has the configuration policy {} of its own, so the baseline's does not reach it; left as it is",
                target.account_id,
                if kind == "ACCOUNT" { "account" } else { "organizational unit" },
                a.target,
                policy_name(&a.policy)
            )),
        }
    }
    self_managed.sort();
    Ok(Reading {
        observed: vec![Observed::new(
            d.address.clone(),
            attrs(&[
                ("policy", json!(root_policy)),
                ("root", json!(root)),
                ("self_managed", json!(self_managed)),
            ]),
            true,
        )],
        notes,
    })
}

/// What an association is made with: the root, or one account.
enum Scope<'a> {
    Root(&'a str),
    Account(&'a str),
}

impl Scope<'_> {
    fn sdk(&self) -> aws_sdk_securityhub::types::Target {
        match self {
            Self::Root(id) => aws_sdk_securityhub::types::Target::RootId(id.to_string()),
            Self::Account(id) => aws_sdk_securityhub::types::Target::AccountId(id.to_string()),
        }
    }
}

/// A direct (APPLIED) association as listed.
struct Applied {
    policy: String,
    target: String,
    /// `ROOT`, `ACCOUNT` or `ORGANIZATIONAL_UNIT`.
    target_type: String,
    /// AWS's reason when it failed.
    failed: Option<String>,
}

/// Every direct association of the organization, or `None` while central
/// configuration is not (yet) there.
async fn direct_associations(
    client: &aws_sdk_securityhub::Client,
    ctx: &Ctx,
) -> Result<Option<Vec<Applied>>, ServiceError> {
    use aws_sdk_securityhub::types::{
        AssociationFilters, AssociationType, ConfigurationPolicyAssociationStatus,
    };
    let mut out = Vec::new();
    let mut pages = client
        .list_configuration_policy_associations()
        .filters(
            AssociationFilters::builder()
                .association_type(AssociationType::Applied)
                .build(),
        )
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = match page {
            Ok(p) => p,
            Err(e) if nothing_there(e.code()) => return Ok(None),
            Err(e) => return Err(ctx.err("ListConfigurationPolicyAssociations")(e).into()),
        };
        for a in page.configuration_policy_association_summaries() {
            out.push(Applied {
                policy: a.configuration_policy_id().unwrap_or_default().to_string(),
                target: a.target_id().unwrap_or_default().to_string(),
                target_type: a.target_type().map_or("", |t| t.as_str()).to_string(),
                failed: (a.association_status()
                    == Some(&ConfigurationPolicyAssociationStatus::Failed))
                .then(|| a.association_status_message().unwrap_or("").to_string()),
            });
        }
    }
    Ok(Some(out))
}

/// Carries out one change of central configuration.
pub(super) async fn apply(
    client: &aws_sdk_securityhub::Client,
    account: &Account,
    target: &Target,
    change: &Change,
    mark: &str,
) -> Result<(), ServiceError> {
    let ctx = Ctx::new(target, SERVICE);
    let kind = change.address.kind.as_str();
    let text = |key: &str| change.planned(key).as_str().unwrap_or_default().to_string();
    let list = |key: &str| -> Vec<String> {
        change
            .planned(key)
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    };
    if kind == AGGREGATOR {
        let regions = list("regions");
        let regions = (!regions.is_empty()).then_some(regions);
        match aggregator_arn(client, &ctx).await? {
            None => {
                client
                    .create_finding_aggregator()
                    .region_linking_mode(text("linking"))
                    .set_regions(regions)
                    .send()
                    .await
                    .map_err(ctx.err("CreateFindingAggregator"))?;
            }
            Some(arn) => {
                client
                    .update_finding_aggregator()
                    .finding_aggregator_arn(arn)
                    .region_linking_mode(text("linking"))
                    .set_regions(regions)
                    .send()
                    .await
                    .map_err(ctx.err("UpdateFindingAggregator"))?;
            }
        }
        return Ok(());
    }
    if kind == POLICY {
        let name = text("name");
        let standards: Vec<String> = list("standards")
            .iter()
            .map(|k| standard_arn(k, &account.partition, &target.region))
            .collect();
        let policy = Policy::SecurityHub(
            SecurityHubPolicy::builder()
                .service_enabled(true)
                .set_enabled_standard_identifiers(Some(standards))
                // No control disabled: every control of the enabled
                // standards, and the ones AWS adds later, enabled.
                .security_controls_configuration(
                    SecurityControlsConfiguration::builder()
                        .set_disabled_security_control_identifiers(Some(Vec::new()))
                        .build(),
                )
                .build(),
        );
        let description = format!("Security Hub for the organization, from {mark}");
        match policy_id(client, &ctx, &name).await? {
            None => {
                client
                    .create_configuration_policy()
                    .name(&name)
                    .description(description)
                    .configuration_policy(policy)
                    .tags(crate::OWNER_TAG_KEY, mark)
                    .send()
                    .await
                    .map_err(ctx.err("CreateConfigurationPolicy"))?;
            }
            Some(id) => {
                client
                    .update_configuration_policy()
                    .identifier(id)
                    .description(description)
                    .updated_reason(format!("{mark} apply"))
                    .configuration_policy(policy)
                    .send()
                    .await
                    .map_err(ctx.err("UpdateConfigurationPolicy"))?;
            }
        }
        return Ok(());
    }
    // The association. The excluded accounts first: associated with the
    // root first, the policy would reach them before they are left out.
    let before = |key: &str| change.before.as_ref().and_then(|b| b.get(key)).cloned();
    let done: Vec<String> = before("self_managed")
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default();
    for id in list("self_managed").iter().filter(|id| !done.contains(id)) {
        client
            .start_configuration_policy_association()
            .configuration_policy_identifier(SELF_MANAGED)
            .target(Scope::Account(id).sdk())
            .send()
            .await
            .map_err(ctx.err("StartConfigurationPolicyAssociation"))?;
    }
    let policy = text("policy");
    if before("policy") != Some(json!(policy))
        || before("root") != Some(change.planned("root").clone())
    {
        let id = policy_id(client, &ctx, &policy).await?.ok_or_else(|| {
            crate::refusal(format!(
                "Security Hub's configuration policy {policy} is not there to associate with the root"
            ))
        })?;
        // Only the baseline's own policy goes to the root: one of that
        // name someone else made (held in the plan) does not.
        let arn = client
            .get_configuration_policy()
            .identifier(&id)
            .send()
            .await
            .map_err(ctx.err("GetConfigurationPolicy"))?
            .arn()
            .unwrap_or_default()
            .to_string();
        let tags = client
            .list_tags_for_resource()
            .resource_arn(&arn)
            .send()
            .await
            .map_err(ctx.err("ListTagsForResource"))?;
        if tags
            .tags()
            .and_then(|t| t.get(crate::OWNER_TAG_KEY))
            .map(String::as_str)
            != Some(mark)
        {
            return Err(crate::refusal(format!(
                "Security Hub's configuration policy {policy} in account {} was not made by this baseline ({}={mark} is not among its tags): it is not associated with the root",
                target.account_id,
                crate::OWNER_TAG_KEY
            )));
        }
        client
            .start_configuration_policy_association()
            .configuration_policy_identifier(id)
            .target(Scope::Root(&text("root")).sdk())
            .send()
            .await
            .map_err(ctx.err("StartConfigurationPolicyAssociation"))?;
    }
    // Accounts no longer excluded: their self-managed association removed
    // last, so that they inherit the root's policy.
    let wanted = list("self_managed");
    for id in done.iter().filter(|id| !wanted.contains(id)) {
        client
            .start_configuration_policy_disassociation()
            .configuration_policy_identifier(SELF_MANAGED)
            .target(Scope::Account(id).sdk())
            .send()
            .await
            .map_err(ctx.err("StartConfigurationPolicyDisassociation"))?;
    }
    Ok(())
}

/// Central configuration turned on: `ConfigurationType` `CENTRAL` (member
/// auto-enable off, default standards `NONE`, as AWS requires) unless it
/// is PENDING already, then waited for until AWS says `ENABLED`, within
/// `settle` (`--settle-timeout`).
pub(super) async fn turn_on(
    client: &aws_sdk_securityhub::Client,
    target: &Target,
    settle: std::time::Duration,
) -> Result<(), ServiceError> {
    let ctx = Ctx::new(target, SERVICE);
    let now = client
        .describe_organization_configuration()
        .send()
        .await
        .map_err(ctx.err("DescribeOrganizationConfiguration"))?;
    // Asked for already (a run that stopped waiting): waited for, not
    // asked again.
    if configuration_type(now.organization_configuration()) != "CENTRAL (PENDING)" {
        client
            .update_organization_configuration()
            .auto_enable(false)
            .auto_enable_standards(aws_sdk_securityhub::types::AutoEnableStandards::None)
            .organization_configuration(
                OrganizationConfiguration::builder()
                    .configuration_type(OrganizationConfigurationConfigurationType::Central)
                    .build(),
            )
            .send()
            .await
            .map_err(ctx.err("UpdateOrganizationConfiguration"))?;
    }
    let last = std::sync::Mutex::new(String::new());
    let enabled = crate::settle::until_found(
        settle,
        "Security Hub's central configuration to be ENABLED",
        || {
            let (ctx, last) = (&ctx, &last);
            async move {
                let conf = client
                    .describe_organization_configuration()
                    .send()
                    .await
                    .map_err(ctx.err("DescribeOrganizationConfiguration"))?;
                let conf = conf.organization_configuration();
                if let Some(OrganizationConfigurationStatus::Failed) = conf.and_then(|c| c.status())
                {
                    return Err::<Option<()>, ServiceError>(crate::refusal(format!(
                        "Security Hub's central configuration failed in account {}, {}: {}",
                        target.account_id,
                        target.region,
                        conf.and_then(|c| c.status_message()).unwrap_or_default()
                    )));
                }
                *last.lock().unwrap_or_else(|p| p.into_inner()) = configuration_type(conf);
                Ok(conf
                    .is_some_and(|c| {
                        c.configuration_type()
                            == Some(&OrganizationConfigurationConfigurationType::Central)
                            && c.status() == Some(&OrganizationConfigurationStatus::Enabled)
                    })
                    .then_some(()))
            }
        },
    )
    .await?;
    if enabled.is_none() {
        return Err(Box::new(baseline_engine::Failure {
            kind: baseline_engine::ErrorKind::Settling,
            message: format!(
                "Security Hub's central configuration in account {}, {} is not ENABLED within --settle-timeout (it is {})",
                target.account_id,
                target.region,
                last.into_inner().unwrap_or_else(|p| p.into_inner())
            ),
        }));
    }
    Ok(())
}
