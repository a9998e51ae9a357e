//! AWS Config for the organization through its delegated administrator
//! (`organization.delegated_admin`): one aggregator of every account and
//! region, in the administrator's home region.
//!
//! | kind | account | what |
//! |---|---|---|
//! | `config.delegated_admin` | management, home region | trusted access for `config.amazonaws.com`, the administrator registered for it (Organizations) |
//! | `config.aggregator_role` | administrator, home region | the role the aggregator reads the organization with: trusts AWS Config, has `AWSConfigRoleForOrganizations` attached, tagged with the baseline's mark |
//! | `config.aggregator` | administrator, home region | `baseline-organization`: every account of the organization, every region (`AllAwsRegions`) |
//!
//! Each account's own recorder, channel and recording stay as they are
//! planned per account. `destroy` leaves all three (docs/safety.md).

use aws_sdk_config::types::OrganizationAggregationSource;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use baseline_engine::{
    Action, Address, Change, Desired, Observed, Ownership, Reading, ServiceError, Target, Want,
};
use serde_json::json;

use super::SERVICE;
use crate::error::Ctx;
use crate::organization::{self, Organization};
use crate::{Account, OWNER_TAG_KEY, attrs};

/// The management account's registration of the administrator.
pub(super) const ADMIN: &str = "config.delegated_admin";
/// The aggregator's role.
pub(super) const ROLE: &str = "config.aggregator_role";
/// The organization's aggregator.
pub(super) const AGGREGATOR: &str = "config.aggregator";
/// The aggregator's role (`baseline policy` scopes its IAM actions to it).
pub(crate) const ROLE_NAME: &str = "baseline-config-aggregator";
const AGGREGATOR_NAME: &str = "baseline-organization";
const PRINCIPAL: &str = organization::CONFIG_PRINCIPAL;

/// Whether a kind is one of the organization's.
pub(super) fn is_org_kind(kind: &str) -> bool {
    [ADMIN, ROLE, AGGREGATOR].contains(&kind)
}

/// The managed policy attached to it (`baseline policy` allows only it).
pub(crate) fn policy_arn(partition: &str) -> String {
    format!("arn:{partition}:iam::aws:policy/service-role/AWSConfigRoleForOrganizations")
}

/// The organization's Config resources in `target` (home region only).
pub(super) fn desired(org: &Organization, target: &Target, home: &str, mark: &str) -> Vec<Desired> {
    if !target.home {
        return Vec::new();
    }
    let registered = organization::address(&org.management, home, ADMIN);
    let one = |address: Address, want, depends_on| Desired {
        address,
        controls: Vec::new(),
        want: Want::Present(want),
        depends_on,
        private: baseline_engine::Attrs::new(),
    };
    let mut out = Vec::new();
    if target.account_id == org.management {
        out.push(one(
            registered.clone(),
            attrs(&[("admin_account", json!(org.admin))]),
            Vec::new(),
        ));
    }
    if target.account_id == org.admin {
        let role = Address::new(target, ROLE, ROLE_NAME);
        out.push(one(
            role.clone(),
            attrs(&[
                ("trusts", json!(PRINCIPAL)),
                ("policy", json!("AWSConfigRoleForOrganizations")),
                ("managed_by", json!(mark)),
            ]),
            Vec::new(),
        ));
        out.push(one(
            Address::new(target, AGGREGATOR, AGGREGATOR_NAME),
            attrs(&[("all_regions", json!(true)), ("role", json!(ROLE_NAME))]),
            vec![role, registered],
        ));
    }
    out
}

/// Reads one of the organization's Config resources.
pub(super) async fn read(
    account: &Account,
    org: &Organization,
    target: &Target,
    d: &Desired,
    mark: &str,
) -> Result<Reading, ServiceError> {
    let ctx = Ctx::new(target, SERVICE);
    match d.address.kind.as_str() {
        ADMIN => {
            organization::organizations_registration(
                account,
                org,
                "AWS Config",
                PRINCIPAL,
                target,
                d,
            )
            .await
        }
        ROLE => {
            let iam = client!(aws_sdk_iam, account, &target.region);
            let role = match iam.get_role().role_name(ROLE_NAME).send().await {
                Ok(r) => r,
                Err(e) if e.code() == Some("NoSuchEntity") => return Ok(Reading::default()),
                Err(e) => return Err(Ctx::new(target, "iam").err("GetRole")(e).into()),
            };
            let role = role.role();
            // Percent-encoded as IAM answers it: the principal's name reads
            // the same.
            let trust = role
                .and_then(|r| r.assume_role_policy_document())
                .unwrap_or_default();
            let attached = iam
                .list_attached_role_policies()
                .role_name(ROLE_NAME)
                .send()
                .await
                .map_err(Ctx::new(target, "iam").err("ListAttachedRolePolicies"))?;
            let has_policy = attached
                .attached_policies()
                .iter()
                .any(|p| p.policy_arn() == Some(policy_arn(&account.partition).as_str()));
            let tag = role
                .map(|r| r.tags())
                .unwrap_or_default()
                .iter()
                .find(|t| t.key() == OWNER_TAG_KEY)
                .map(|t| t.value().to_string());
            let ours = tag.as_deref() == Some(mark);
            let mut o = Observed::new(
                d.address.clone(),
                attrs(&[
                    (
                        "trusts",
                        json!(if trust.contains(PRINCIPAL) {
                            PRINCIPAL
                        } else {
                            "another principal"
                        }),
                    ),
                    (
                        "policy",
                        if has_policy {
                            json!("AWSConfigRoleForOrganizations")
                        } else {
                            json!(null)
                        },
                    ),
                    ("managed_by", json!(tag)),
                ]),
                if ours {
                    Ownership::Ours
                } else {
                    Ownership::NotOurs
                },
            );
            if !ours {
                // A role of this name that is not baseline's is never
                // changed: only a person can make it what AWS Config needs.
                o.managed_by_tool(Some(match tag {
                    Some(t) => format!("the owner of the tag {OWNER_TAG_KEY}={t}"),
                    None => "someone else (no managed-by tag)".to_string(),
                }));
            }
            Ok(vec![o].into())
        }
        _ => {
            let client = client!(aws_sdk_config, account, &target.region);
            let found = match client
                .describe_configuration_aggregators()
                .configuration_aggregator_names(AGGREGATOR_NAME)
                .send()
                .await
            {
                Ok(f) => f,
                Err(e) if e.code() == Some("NoSuchConfigurationAggregatorException") => {
                    return Ok(Reading::default());
                }
                Err(e) => return Err(ctx.err("DescribeConfigurationAggregators")(e).into()),
            };
            let Some(source) = found
                .configuration_aggregators()
                .first()
                .and_then(|a| a.organization_aggregation_source())
            else {
                return Ok(Reading::default());
            };
            let role = source.role_arn().rsplit('/').next().unwrap_or_default();
            Ok(vec![Observed::new(
                d.address.clone(),
                attrs(&[
                    ("all_regions", json!(source.all_aws_regions())),
                    ("role", json!(role)),
                ]),
                Ownership::Ours,
            )]
            .into())
        }
    }
}

/// Carries out one change of the organization's Config resources.
pub(super) async fn apply(
    account: &Account,
    target: &Target,
    change: &Change,
    mark: &str,
    settle: std::time::Duration,
) -> Result<(), ServiceError> {
    if !matches!(change.action, Action::Create | Action::Update) {
        return Err(crate::unsupported(&change.address.kind, change.action));
    }
    let iam_ctx = Ctx::new(target, "iam");
    match change.address.kind.as_str() {
        ADMIN => {
            organization::trust(account, target, PRINCIPAL).await?;
            client!(aws_sdk_organizations, account, &target.region)
                .register_delegated_administrator()
                .account_id(change.planned("admin_account").as_str().unwrap_or_default())
                .service_principal(PRINCIPAL)
                .send()
                .await
                .map_err(Ctx::new(target, "organizations").err("RegisterDelegatedAdministrator"))?;
        }
        ROLE => {
            let iam = client!(aws_sdk_iam, account, &target.region);
            if change.action == Action::Create {
                let trust = json!({
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Principal": {"Service": PRINCIPAL},
                                   "Action": "sts:AssumeRole"}]
                });
                iam.create_role()
                    .role_name(ROLE_NAME)
                    .assume_role_policy_document(trust.to_string())
                    .description("AWS Config's organization aggregator reads the organization with it (baseline)")
                    .tags(
                        aws_sdk_iam::types::Tag::builder()
                            .key(OWNER_TAG_KEY)
                            .value(mark)
                            .build()
                            .map_err(|e| crate::refusal(e.to_string()))?,
                    )
                    .send()
                    .await
                    .map_err(iam_ctx.err("CreateRole"))?;
            }
            if change.action == Action::Create || change.changed.iter().any(|k| k == "policy") {
                iam.attach_role_policy()
                    .role_name(ROLE_NAME)
                    .policy_arn(policy_arn(&account.partition))
                    .send()
                    .await
                    .map_err(iam_ctx.err("AttachRolePolicy"))?;
            }
        }
        _ => {
            let client = client!(aws_sdk_config, account, &target.region);
            let source = OrganizationAggregationSource::builder()
                .role_arn(format!(
                    "arn:{}:iam::{}:role/{ROLE_NAME}",
                    account.partition, account.id
                ))
                .all_aws_regions(true)
                .build()
                .map_err(|e| crate::refusal(e.to_string()))?;
            let put = client
                .put_configuration_aggregator()
                .configuration_aggregator_name(AGGREGATOR_NAME)
                .organization_aggregation_source(source);
            // The role may have been made moments ago: AWS Config cannot
            // assume it until IAM puts it into effect (InvalidRoleException).
            // And the account may have been registered moments ago: AWS
            // Config refuses its organization aggregator until the
            // delegation holds (OrganizationAccessDeniedException). One
            // wait for both, within the settle budget.
            const NOT_YET: &str = "OrganizationAccessDeniedException";
            let budget = if change.action == Action::Create {
                settle
            } else {
                std::time::Duration::ZERO
            };
            let ctx = Ctx::new(target, SERVICE);
            let waits_for = format!(
                "account {} to be config's delegated administrator in {} (and the aggregator's role usable by AWS Config)",
                target.account_id, target.region
            );
            crate::settle::retry_codes(
                budget,
                &waits_for,
                &["InvalidRoleException", NOT_YET],
                || put.clone().send(),
            )
            .await
            .map_err(|e| {
                if e.code() == Some(NOT_YET) {
                    ctx.err_waited(
                        "PutConfigurationAggregator",
                        "the account's designation as delegated administrator",
                    )(e)
                } else {
                    ctx.err("PutConfigurationAggregator")(e)
                }
            })?;
        }
    }
    Ok(())
}
