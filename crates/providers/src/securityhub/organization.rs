//! Security Hub run for the organization through its delegated
//! administrator (`organization.delegated_admin`), per region:
//!
//! | kind | account | what |
//! |---|---|---|
//! | `securityhub.delegated_admin` | management | trusted access for Security Hub, the administrator enabled (`EnableOrganizationAdminAccount`) |
//! | `securityhub.organization` | administrator | central configuration (the default): `ConfigurationType` `CENTRAL`, in the home region only (`central/` has the rest). `securityhub_configuration: local`: `auto_enable` for accounts that join, and `auto_enable_standards`: `NONE` when the baseline lists its standards (each account's `securityhub.standards` sets them), else `DEFAULT` |
//! | `securityhub.members` | administrator | every account of the organization a member (`CreateMembers`, which enables Security Hub in it) |
//! | `securityhub.membership` | every other account | covered by the organization: the administrator is its Security Hub administrator. Nothing is written in the member |
//!
//! The administrator's own hub stays `securityhub.hub`. With local
//! configuration, every account's standards stay `securityhub.standards`,
//! after its coverage; with central configuration the policy sets them.

use std::collections::BTreeSet;

use aws_sdk_securityhub::types::{AccountDetails, AutoEnableStandards};
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use baseline_engine::{
    Action, Address, Change, Desired, Observed, Ownership, Reading, ServiceError, Target,
};
use baseline_spec::Baseline;
use serde_json::{Value, json};

use super::{SERVICE, central};
use crate::error::Ctx;
use crate::organization::{self as org_, Kinds, Organization, SECURITYHUB_PRINCIPAL};
use crate::{Account, attrs};

/// Security Hub's organization kinds.
pub(super) const KINDS: Kinds = Kinds {
    service: "Security Hub",
    admin: "securityhub.delegated_admin",
    config: "securityhub.organization",
    members: "securityhub.members",
    membership: "securityhub.membership",
    controls: &[],
};

/// Whether a kind is one of the organization's.
pub(super) fn is_org_kind(kind: &str) -> bool {
    [KINDS.admin, KINDS.config, KINDS.members, KINDS.membership].contains(&kind)
        || central::is_kind(kind)
}

/// The organization's resources in `target` (its own hub aside). With
/// central configuration, the administrator's configuration is in the
/// home region only (AWS carries it to the linked regions), with the
/// aggregator, policy and association; its members in every region come
/// after it.
pub(super) fn desired(
    org: &Organization,
    baseline: &Baseline,
    policy_name: &str,
    mark: &str,
    target: &Target,
    hub: Address,
) -> Vec<Desired> {
    let central = baseline
        .organization
        .as_ref()
        .is_some_and(|o| o.securityhub_central());
    let config = if central {
        central::configuration()
    } else {
        let listed = baseline
            .securityhub
            .as_ref()
            .is_some_and(|s| s.standards.is_some());
        attrs(&[
            ("auto_enable", json!(org.auto_enable)),
            (
                "auto_enable_standards",
                json!(if listed { "NONE" } else { "DEFAULT" }),
            ),
        ])
    };
    let mut out = org_::desired(org, &KINDS, target, config, hub.clone());
    if !central || target.account_id != org.admin {
        return out;
    }
    let home = &baseline.home_region;
    let configured = org_::address(&org.admin, home, KINDS.config);
    if &target.region == home {
        let registered = org_::address(&org.management, home, KINDS.admin);
        for d in out.iter_mut().filter(|d| d.address.kind == KINDS.config) {
            d.depends_on
                .push(org_::address(&org.admin, home, central::AGGREGATOR));
        }
        out.extend(central::desired(
            org,
            baseline,
            policy_name,
            mark,
            target,
            &registered,
            &hub,
        ));
    } else {
        out.retain(|d| d.address.kind != KINDS.config);
    }
    for d in out.iter_mut().filter(|d| d.address.kind == KINDS.members) {
        d.depends_on.retain(|a| a.kind != KINDS.config);
        d.depends_on.push(configured.clone());
    }
    out
}

/// Whether a configuration wanted is central configuration's.
fn is_central(want: &baseline_engine::Want) -> bool {
    matches!(want, baseline_engine::Want::Present(a) if a.contains_key("configuration_type"))
}

/// Not (yet) the administrator, or no hub: AWS's answers when there is
/// nothing to read.
fn nothing_there(code: Option<&str>) -> bool {
    matches!(
        code,
        Some("AccessDeniedException" | "InvalidAccessException" | "ResourceNotFoundException")
    )
}

/// Reads one of the organization's resources.
pub(super) async fn read(
    client: &aws_sdk_securityhub::Client,
    account: &Account,
    org: &Organization,
    target: &Target,
    d: &Desired,
) -> Result<Reading, ServiceError> {
    let ctx = Ctx::new(target, SERVICE);
    let kind = d.address.kind.as_str();
    if kind == KINDS.admin {
        let listed = client
            .list_organization_admin_accounts()
            .send()
            .await
            .map_err(ctx.err("ListOrganizationAdminAccounts"))?;
        let admins: Vec<&str> = listed
            .admin_accounts()
            .iter()
            .filter_map(|a| a.account_id())
            .collect();
        return org_::registration(org, KINDS.service, target, d, &admins);
    }
    if kind == KINDS.membership {
        let administrator = administrator_of(client, &ctx).await?;
        return Ok(org_::membership(org, &KINDS, target, d, administrator));
    }
    if central::is_kind(kind) {
        return central::read(client, account, org, target, d).await;
    }
    if kind == KINDS.config {
        let conf = match client.describe_organization_configuration().send().await {
            Ok(c) => c,
            Err(e) if nothing_there(e.code()) => return Ok(Reading::default()),
            Err(e) => return Err(ctx.err("DescribeOrganizationConfiguration")(e).into()),
        };
        if is_central(&d.want) {
            let a = attrs(&[(
                "configuration_type",
                json!(central::configuration_type(
                    conf.organization_configuration()
                )),
            )]);
            return Ok(vec![Observed::new(d.address.clone(), a, Ownership::Ours)].into());
        }
        let a = attrs(&[
            ("auto_enable", json!(conf.auto_enable())),
            (
                "auto_enable_standards",
                json!(
                    conf.auto_enable_standards()
                        .map_or("DEFAULT", |s| s.as_str())
                ),
            ),
        ]);
        return Ok(vec![Observed::new(d.address.clone(), a, Ownership::Ours)].into());
    }
    let mut members = BTreeSet::new();
    let mut pages = client
        .list_members()
        .only_associated(false)
        .into_paginator()
        .send();
    let mut bound = crate::pages::Bound::new(&ctx, "ListMembers");
    while let Some(page) = pages.next().await {
        let page = match page {
            Ok(p) => p,
            Err(e) if nothing_there(e.code()) => return Ok(Reading::default()),
            Err(e) => return Err(ctx.err("ListMembers")(e).into()),
        };
        bound.page(page.next_token())?;
        for m in page.members() {
            let enabled = m
                .member_status()
                .is_some_and(|s| s.eq_ignore_ascii_case("enabled"));
            if let (true, Some(id)) = (enabled, m.account_id()) {
                members.insert(id.to_string());
            }
        }
    }
    Ok(org_::members(org, &KINDS, target, d, members))
}

/// The account's Security Hub administrator in the region (an enabled
/// membership), if it has a hub and one.
async fn administrator_of(
    client: &aws_sdk_securityhub::Client,
    ctx: &Ctx,
) -> Result<Option<String>, ServiceError> {
    let answer = match client.get_administrator_account().send().await {
        Ok(a) => a,
        Err(e) if nothing_there(e.code()) => return Ok(None),
        Err(e) => return Err(ctx.err("GetAdministratorAccount")(e).into()),
    };
    Ok(answer
        .administrator()
        .filter(|a| {
            a.member_status()
                .is_some_and(|s| s.eq_ignore_ascii_case("enabled"))
        })
        .and_then(|a| a.account_id())
        .map(str::to_string))
}

/// Carries out one change of the organization's resources.
pub(super) async fn apply(
    client: &aws_sdk_securityhub::Client,
    account: &Account,
    target: &Target,
    change: &Change,
    settle: std::time::Duration,
    mark: &str,
) -> Result<baseline_engine::Outputs, ServiceError> {
    let ctx = Ctx::new(target, SERVICE);
    if !matches!(change.action, Action::Create | Action::Update) {
        return Err(crate::unsupported(&change.address.kind, change.action));
    }
    let kind = change.address.kind.as_str();
    if kind == KINDS.admin {
        org_::trust(account, target, SECURITYHUB_PRINCIPAL).await?;
        client
            .enable_organization_admin_account()
            .admin_account_id(change.planned("admin_account").as_str().unwrap_or_default())
            .send()
            .await
            .map_err(ctx.err("EnableOrganizationAdminAccount"))?;
    } else if kind == KINDS.membership {
        org_::covered(&KINDS, target, change, settle, || {
            administrator_of(client, &ctx)
        })
        .await?;
    } else if central::is_kind(kind) {
        return central::apply(client, account, target, change, mark).await;
    } else {
        // Designated moments ago (this run's registration, or another's):
        // AWS refuses the administrator's calls until the delegation
        // holds. A change of what the plan read follows a delegation that
        // held: no wait.
        if change.action == Action::Create {
            org_::delegation_in_effect(
                settle,
                target,
                SERVICE,
                "DescribeOrganizationConfiguration",
                "InvalidAccessException",
                || client.describe_organization_configuration().send(),
            )
            .await?;
        }
        apply_administrator(client, target, change, settle).await?;
    }
    Ok(baseline_engine::Outputs::new())
}

/// The administrator's own organization steps: the configuration and the
/// members.
async fn apply_administrator(
    client: &aws_sdk_securityhub::Client,
    target: &Target,
    change: &Change,
    settle: std::time::Duration,
) -> Result<(), ServiceError> {
    let ctx = Ctx::new(target, SERVICE);
    let kind = change.address.kind.as_str();
    if kind == KINDS.config && change.planned("configuration_type") != &Value::Null {
        // Asked for already, as the plan read it (a run that stopped
        // while waiting): waited for, not asked again.
        let pending = change
            .before
            .as_ref()
            .and_then(|b| b.get("configuration_type"))
            .and_then(Value::as_str)
            == Some("CENTRAL (PENDING)");
        central::turn_on(client, target, settle, pending).await?;
    } else if kind == KINDS.config {
        client
            .update_organization_configuration()
            .auto_enable(change.planned("auto_enable") == &Value::Bool(true))
            .auto_enable_standards(AutoEnableStandards::from(
                change
                    .planned("auto_enable_standards")
                    .as_str()
                    .unwrap_or("NONE"),
            ))
            .send()
            .await
            .map_err(ctx.err("UpdateOrganizationConfiguration"))?;
    } else {
        let details: Vec<AccountDetails> = org_::to_add(change)
            .into_iter()
            .map(|(id, email)| {
                AccountDetails::builder()
                    .account_id(id)
                    .email(email)
                    .build()
            })
            .collect();
        if details.is_empty() {
            return Ok(());
        }
        for batch in details.chunks(org_::MEMBERS_PER_CALL) {
            let answer = client
                .create_members()
                .set_account_details(Some(batch.to_vec()))
                .send()
                .await
                .map_err(ctx.err("CreateMembers"))?;
            org_::unprocessed(
                &KINDS,
                answer
                    .unprocessed_accounts()
                    .iter()
                    .map(|u| (u.account_id(), u.processing_result())),
            )?;
        }
    }
    Ok(())
}
