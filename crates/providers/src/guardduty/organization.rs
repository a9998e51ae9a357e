//! GuardDuty run for the organization through its delegated administrator
//! (`organization.delegated_admin`), per region:
//!
//! | kind | account | what |
//! |---|---|---|
//! | `guardduty.delegated_admin` | management | trusted access for GuardDuty, the administrator enabled (`EnableOrganizationAdminAccount`) |
//! | `guardduty.organization` | administrator | auto-enable for the organization's members (`ALL` with `auto_enable`, else `NONE`) and the baseline's protection plans as organization features |
//! | `guardduty.members` | administrator | every account of the organization a member (`CreateMembers`) |
//! | `guardduty.membership` | every other account | covered by the organization: the administrator is its GuardDuty administrator. Nothing is written in the member: the administrator's `guardduty.members` covers it |
//!
//! The administrator's own detector stays `guardduty.detector`. A member
//! that is no longer in the organization is reported (a note), never
//! removed; another administrator is refused, never replaced.

use std::collections::BTreeSet;

use aws_sdk_guardduty::types::{
    AccountDetail, AutoEnableMembers, OrgFeature, OrgFeatureStatus,
    OrganizationFeatureConfiguration,
};
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use baseline_engine::{Action, Address, Change, Desired, Observed, Reading, ServiceError, Target};
use baseline_spec::GuardDutySpec;
use serde_json::json;

use super::{FEATURES, PREFIX, SERVICE, detector_id, wanted_features};
use crate::error::Ctx;
use crate::organization::{self as org_, GUARDDUTY_PRINCIPAL, Kinds, Organization};
use crate::{Account, attrs};

/// GuardDuty's organization kinds.
pub(super) const KINDS: Kinds = Kinds {
    service: "GuardDuty",
    admin: "guardduty.delegated_admin",
    config: "guardduty.organization",
    members: "guardduty.members",
    membership: "guardduty.membership",
    controls: &["GuardDuty.1"],
};

/// The organization's resources in `target` (its own detector aside).
pub(super) fn desired(org: &Organization, spec: &GuardDutySpec, target: &Target) -> Vec<Desired> {
    let auto = if org.auto_enable { "ALL" } else { "NONE" };
    let mut config = attrs(&[("auto_enable_members", json!(auto))]);
    for (k, v) in wanted_features(spec.features.as_ref()) {
        let on = v == json!("ENABLED");
        config.insert(k, json!(if on { auto } else { "NONE" }));
    }
    let own = Address::new(target, super::KIND, "detector");
    org_::desired(org, &KINDS, target, config, own)
}

/// Reads one of the organization's resources.
pub(super) async fn read(
    client: &aws_sdk_guardduty::Client,
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
            .filter_map(|a| a.admin_account_id())
            .collect();
        return org_::registration(org, KINDS.service, target, d, &admins);
    }
    if kind == KINDS.membership {
        let administrator = administrator_of(client, &ctx).await?;
        return Ok(org_::membership(org, &KINDS, target, d, administrator));
    }
    let Some(id) = detector_id(client, &ctx).await? else {
        return Ok(Reading::default());
    };
    if kind == KINDS.config {
        let conf = match client
            .describe_organization_configuration()
            .detector_id(&id)
            .send()
            .await
        {
            Ok(c) => c,
            // Not (yet) the administrator: nothing configured.
            Err(e) if e.code() == Some("BadRequestException") => return Ok(Reading::default()),
            Err(e) => return Err(ctx.err("DescribeOrganizationConfiguration")(e).into()),
        };
        let mut a = attrs(&[(
            "auto_enable_members",
            json!(
                conf.auto_enable_organization_members()
                    .map_or("NONE", |m| m.as_str())
            ),
        )]);
        for (_, name) in FEATURES {
            let status = conf
                .features()
                .iter()
                .find(|f| f.name().map(|n| n.as_str()) == Some(name))
                .and_then(|f| f.auto_enable())
                .map_or("NONE", |s| s.as_str());
            a.insert(format!("{PREFIX}{name}"), json!(status));
        }
        return Ok(vec![Observed::new(d.address.clone(), a, true)].into());
    }
    let mut members = BTreeSet::new();
    let mut pages = client
        .list_members()
        .detector_id(&id)
        .only_associated("false")
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = match page {
            Ok(p) => p,
            // Not (yet) the administrator: no members.
            Err(e) if e.code() == Some("BadRequestException") => return Ok(Reading::default()),
            Err(e) => return Err(ctx.err("ListMembers")(e).into()),
        };
        for m in page.members() {
            let enabled = m
                .relationship_status()
                .is_some_and(|s| s.eq_ignore_ascii_case("enabled"));
            if let (true, Some(id)) = (enabled, m.account_id()) {
                members.insert(id.to_string());
            }
        }
    }
    Ok(org_::members(org, &KINDS, target, d, members))
}

/// The account's GuardDuty administrator in the region (an enabled
/// relationship), if it has a detector and one.
async fn administrator_of(
    client: &aws_sdk_guardduty::Client,
    ctx: &Ctx,
) -> Result<Option<String>, ServiceError> {
    let Some(id) = detector_id(client, ctx).await? else {
        return Ok(None);
    };
    let answer = client
        .get_administrator_account()
        .detector_id(&id)
        .send()
        .await
        .map_err(ctx.err("GetAdministratorAccount"))?;
    Ok(answer
        .administrator()
        .filter(|a| {
            a.relationship_status()
                .is_some_and(|s| s.eq_ignore_ascii_case("enabled"))
        })
        .and_then(|a| a.account_id())
        .map(str::to_string))
}

/// Carries out one change of the organization's resources.
pub(super) async fn apply(
    client: &aws_sdk_guardduty::Client,
    account: &Account,
    target: &Target,
    change: &Change,
    settle: std::time::Duration,
) -> Result<(), ServiceError> {
    let ctx = Ctx::new(target, SERVICE);
    if !matches!(change.action, Action::Create | Action::Update) {
        return Err(crate::unsupported(&change.address.kind, change.action));
    }
    let planned = |k: &str| change.planned(k).as_str().unwrap_or_default().to_string();
    let kind = change.address.kind.as_str();
    if kind == KINDS.admin {
        org_::trust(account, target, GUARDDUTY_PRINCIPAL).await?;
        client
            .enable_organization_admin_account()
            .admin_account_id(planned("admin_account"))
            .send()
            .await
            .map_err(ctx.err("EnableOrganizationAdminAccount"))?;
        return Ok(());
    }
    if kind == KINDS.membership {
        return org_::covered(&KINDS, target, change, settle, || {
            administrator_of(client, &ctx)
        })
        .await;
    }
    let id = detector_id(client, &ctx).await?.ok_or_else(|| {
        crate::refusal(format!(
            "the administrator has no GuardDuty detector in {}",
            target.region
        ))
    })?;
    if kind == KINDS.config {
        let features: Vec<OrganizationFeatureConfiguration> = FEATURES
            .iter()
            .map(|(_, name)| {
                OrganizationFeatureConfiguration::builder()
                    .name(OrgFeature::from(*name))
                    .auto_enable(OrgFeatureStatus::from(
                        planned(&format!("{PREFIX}{name}")).as_str(),
                    ))
                    .build()
            })
            .collect();
        client
            .update_organization_configuration()
            .detector_id(id)
            .auto_enable_organization_members(AutoEnableMembers::from(
                planned("auto_enable_members").as_str(),
            ))
            .set_features(Some(features))
            .send()
            .await
            .map_err(ctx.err("UpdateOrganizationConfiguration"))?;
        return Ok(());
    }
    let details: Vec<AccountDetail> = org_::to_add(change)
        .into_iter()
        .map(|(id, email)| AccountDetail::builder().account_id(id).email(email).build())
        .collect();
    if details.is_empty() {
        return Ok(());
    }
    for batch in details.chunks(org_::MEMBERS_PER_CALL) {
        let answer = client
            .create_members()
            .detector_id(&id)
            .set_account_details(Some(batch.to_vec()))
            .send()
            .await
            .map_err(ctx.err("CreateMembers"))?;
        org_::unprocessed(
            &KINDS,
            answer
                .unprocessed_accounts()
                .iter()
                .map(|u| (u.account_id(), u.result())),
        )?;
    }
    Ok(())
}
