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
    OrganizationConfigurationStatus,
};
use baseline_engine::{Address, Change, Desired, Reading, ServiceError, Target, Want};
use baseline_spec::{Baseline, Regions};
use serde_json::{Value, json};

use super::SERVICE;
use crate::error::Ctx;
use crate::organization::{Organization, address};
use crate::{Account, attrs};

mod aggregator;
mod association;
mod policy;

/// The home region's finding aggregator.
pub(super) const AGGREGATOR: &str = "securityhub.aggregator";
/// The configuration policy.
pub(super) const POLICY: &str = "securityhub.policy";
/// The policy's association with the root (and the excluded accounts'
/// self-managed behaviour).
pub(super) const ASSOCIATION: &str = "securityhub.association";
/// AWS's name for an account's own configuration, as an association.
pub(super) const SELF_MANAGED: &str = "SELF_MANAGED_SECURITY_HUB";

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
    // The management account's own hubs come first: the policy's
    // association enables Security Hub in the accounts under the root,
    // and a hub made by it meanwhile leaves the management account's
    // planned create stale. (With `regions: all` the linked regions are
    // not known here: only the home region's hub is ordered.)
    let management_hubs = std::iter::once(&baseline.home_region)
        .chain(regions.iter())
        .map(|region| Address {
            account: org.management.clone(),
            region: region.clone(),
            kind: "securityhub.hub".into(),
            name: "hub".into(),
        });
    let mut standards: Vec<&str> = spec.standards.iter().flatten().map(|s| s.key()).collect();
    standards.sort_unstable();
    vec![
        one(
            AGGREGATOR,
            attrs(&[("linking", json!(mode)), ("regions", json!(regions))]),
            vec![registered.clone(), own.clone()],
        ),
        Desired {
            // The linked regions, whose offer of standards the read checks
            // (`regions: all`: the ones AWS links are not known here).
            private: attrs(&[("linked", json!(regions))]),
            ..one(
                POLICY,
                attrs(&[
                    ("name", json!(policy_name)),
                    ("service_enabled", json!(true)),
                    ("standards", json!(standards)),
                    ("managed_by", json!(mark)),
                ]),
                vec![at(super::organization::KINDS.config)],
            )
        },
        one(
            ASSOCIATION,
            attrs(&[
                ("policy", json!(policy_name)),
                ("root", json!(org.root)),
                ("self_managed", json!(org.excluded)),
            ]),
            std::iter::once(at(POLICY)).chain(management_hubs).collect(),
        ),
    ]
}

/// The organization's configuration central configuration wants.
pub(super) fn configuration() -> baseline_engine::Attrs {
    attrs(&[("configuration_type", json!("CENTRAL"))])
}

/// Not (yet) the administrator, no hub, or not (yet) central: AWS's
/// answers when there is nothing to read.
pub(super) fn nothing_there(code: Option<&str>) -> bool {
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

/// Reads one of central configuration's resources.
pub(super) async fn read(
    client: &aws_sdk_securityhub::Client,
    account: &Account,
    org: &Organization,
    target: &Target,
    d: &Desired,
) -> Result<Reading, ServiceError> {
    let ctx = Ctx::new(target, SERVICE);
    let Want::Present(want) = &d.want else {
        return Ok(Reading::default());
    };
    match d.address.kind.as_str() {
        AGGREGATOR => aggregator::read(client, &ctx, target, d).await,
        POLICY => policy::read(client, &ctx, account, target, d, want).await,
        _ => association::read(client, &ctx, org, target, d, want).await,
    }
}

/// What a change of central configuration declares: the usual
/// preconditions (the policy, updated, still baseline's); the association
/// takes the policy's id and ARN from the policy's change, and is read
/// again only when the plan could read it.
pub(super) fn declare(change: &Change) -> baseline_engine::Declared {
    use baseline_engine::{Action, Precondition, Reference};
    let mut d = crate::usual(change);
    match change.address.kind.as_str() {
        POLICY if change.action == Action::Update => {
            d.preconditions.push(Precondition::Unchanged {
                attr: "managed_by".into(),
            })
        }
        ASSOCIATION => {
            if change.action == Action::Create {
                d.preconditions.clear();
            }
            let from = Address {
                kind: POLICY.into(),
                ..change.address.clone()
            };
            for (into, output) in [
                (association::POLICY_ID, policy::ID),
                (association::POLICY_ARN, policy::ARN),
            ] {
                d.references.push(Reference {
                    into: into.into(),
                    from: from.clone(),
                    output: output.into(),
                });
            }
        }
        _ => {}
    }
    d
}

/// Carries out one change of central configuration.
pub(super) async fn apply(
    client: &aws_sdk_securityhub::Client,
    account: &Account,
    target: &Target,
    change: &Change,
    mark: &str,
) -> Result<baseline_engine::Outputs, ServiceError> {
    let ctx = Ctx::new(target, SERVICE);
    match change.address.kind.as_str() {
        AGGREGATOR => aggregator::apply(client, &ctx, change).await?,
        POLICY => return policy::apply(client, &ctx, account, target, change, mark).await,
        _ => association::apply(client, &ctx, target, change, mark).await?,
    }
    Ok(baseline_engine::Outputs::new())
}

/// A planned text attribute.
fn text(change: &Change, key: &str) -> String {
    change.planned(key).as_str().unwrap_or_default().to_string()
}

/// A planned list attribute.
fn list(change: &Change, key: &str) -> Vec<String> {
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
}

/// Central configuration turned on: `ConfigurationType` `CENTRAL` (member
/// auto-enable off, default standards `NONE`, as AWS requires) unless the
/// plan read it PENDING already (`pending`), then waited for until AWS
/// says `ENABLED`, within `settle` (`--settle-timeout`).
pub(super) async fn turn_on(
    client: &aws_sdk_securityhub::Client,
    target: &Target,
    settle: std::time::Duration,
    pending: bool,
) -> Result<(), ServiceError> {
    let ctx = Ctx::new(target, SERVICE);
    if !pending {
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
