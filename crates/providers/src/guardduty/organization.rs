//! GuardDuty run for the organization through its delegated administrator
//! (`organization.delegated_admin`), per region:
//!
//! | kind | account | what |
//! |---|---|---|
//! | `guardduty.delegated_admin` | management | trusted access for GuardDuty, the administrator enabled (`EnableOrganizationAdminAccount`) |
//! | `guardduty.organization` | administrator | auto-enable for the organization's members (`ALL` with `auto_enable`, else `NONE`) and the baseline's protection plans as organization features |
//! | `guardduty.members` | administrator | every account of the organization a member (`CreateMembers`) |
//! | `guardduty.member_plans` | administrator | each member's protection plans: those the baseline turns on, on (read with `GetMemberDetectors`, set with `UpdateMemberDetectors`): members get the organization's auto-enable settings, not every plan, and `NONE` means none |
//! | `guardduty.membership` | every other account | covered by the organization: the administrator is its GuardDuty administrator. Nothing is written in the member: the administrator's `guardduty.members` covers it |
//!
//! The administrator's own detector stays `guardduty.detector`. A member
//! that is no longer in the organization is reported (a note), never
//! removed; another administrator is refused, never replaced.

use std::collections::BTreeSet;

use aws_sdk_guardduty::types::{
    AccountDetail, AutoEnableMembers, FeatureStatus, MemberFeaturesConfiguration, OrgFeature,
    OrgFeatureStatus, OrganizationFeatureConfiguration,
};
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use baseline_engine::{
    Action, Address, Change, Desired, Observed, Ownership, Reading, ServiceError, Target,
};
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

/// Each member's protection plans, in the administrator.
pub(super) const MEMBER_PLANS: &str = "guardduty.member_plans";

/// The protection plans the baseline turns on (their API names).
fn plans_on(spec: &GuardDutySpec) -> Vec<String> {
    wanted_features(spec.features.as_ref())
        .into_iter()
        .filter(|(_, v)| *v == json!("ENABLED"))
        .filter_map(|(k, _)| k.strip_prefix(PREFIX).map(str::to_string))
        .collect()
}

/// The organization's resources in `target` (its own detector aside).
pub(super) fn desired(org: &Organization, spec: &GuardDutySpec, target: &Target) -> Vec<Desired> {
    let auto = if org.auto_enable { "ALL" } else { "NONE" };
    let mut config = attrs(&[("auto_enable_members", json!(auto))]);
    for (k, v) in wanted_features(spec.features.as_ref()) {
        let on = v == json!("ENABLED");
        config.insert(k, json!(if on { auto } else { "NONE" }));
    }
    let own = Address::new(target, super::KIND, "detector");
    let mut out = org_::desired(org, &KINDS, target, config, own);
    if target.account_id == org.admin {
        // Members get the organization's auto-enable settings (with
        // `auto_enable: false`, none): each member's plans are the
        // baseline's too, after the members are added.
        let on = json!(plans_on(spec));
        let plans: baseline_engine::Attrs = org
            .members()
            .map(|(id, _)| (id.clone(), on.clone()))
            .collect();
        out.push(Desired {
            address: org_::address(&target.account_id, &target.region, MEMBER_PLANS),
            controls: Vec::new(),
            want: baseline_engine::Want::Present(plans),
            depends_on: vec![org_::address(
                &target.account_id,
                &target.region,
                KINDS.members,
            )],
            private: baseline_engine::Attrs::new(),
        });
    }
    out
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
    if kind == MEMBER_PLANS {
        return read_member_plans(client, &ctx, &id, d).await;
    }
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
        // A plan the region does not offer (the administrator's own
        // detector does not list it) is wanted as it is there: a note,
        // never drift, never sent.
        let offered = offered_plans(client, &ctx, &id).await?;
        let mut o = Observed::new(d.address.clone(), Default::default(), Ownership::Ours);
        let mut lacking = Vec::new();
        for (_, name) in FEATURES {
            let key = format!("{PREFIX}{name}");
            if !offered.contains(name) {
                a.insert(key.clone(), json!(super::UNAVAILABLE));
                o.resolved.insert(key, json!(super::UNAVAILABLE));
                lacking.push(name);
                continue;
            }
            let status = conf
                .features()
                .iter()
                .find(|f| f.name().map(|n| n.as_str()) == Some(name))
                .and_then(|f| f.auto_enable())
                .map_or("NONE", |s| s.as_str());
            a.insert(key, json!(status));
        }
        o.attrs = a;
        let notes = if lacking.is_empty() {
            Vec::new()
        } else {
            vec![format!(
                "GuardDuty does not offer {} in {}: left out of the organization configuration there (not drift)",
                lacking.join(", "),
                target.region
            )]
        };
        return Ok(Reading {
            observed: vec![o],
            notes,
        });
    }
    let mut members = BTreeSet::new();
    let mut pages = client
        .list_members()
        .detector_id(&id)
        .only_associated("false")
        .into_paginator()
        .send();
    let mut bound = crate::pages::Bound::new(&ctx, "ListMembers");
    while let Some(page) = pages.next().await {
        let page = match page {
            Ok(p) => p,
            // Not (yet) the administrator: no members.
            Err(e) if e.code() == Some("BadRequestException") => return Ok(Reading::default()),
            Err(e) => return Err(ctx.err("ListMembers")(e).into()),
        };
        bound.page(page.next_token())?;
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

/// Each member's plans that the baseline turns on and that are on, from
/// the administrator (GetMemberDetectors, 50 a call); a member not yet
/// added is left out (the members step adds it first). A plan the region
/// does not offer (the administrator's own detector does not list it) is
/// left out of what is wanted there, with a note, never drift.
async fn read_member_plans(
    client: &aws_sdk_guardduty::Client,
    ctx: &Ctx,
    detector: &str,
    d: &Desired,
) -> Result<Reading, ServiceError> {
    let baseline_engine::Want::Present(want) = &d.want else {
        return Ok(Reading::default());
    };
    let offered = offered_plans(client, ctx, detector).await?;
    let ids: Vec<String> = want.keys().cloned().collect();
    let mut observed = baseline_engine::Attrs::new();
    let mut resolved = baseline_engine::Attrs::new();
    let mut lacking = BTreeSet::new();
    for (id, plans) in want {
        let kept: Vec<&str> = plans
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| p.as_str())
            .filter(|p| {
                let here = offered.contains(*p);
                if !here {
                    lacking.insert(p.to_string());
                }
                here
            })
            .collect();
        resolved.insert(id.clone(), json!(kept));
    }
    for batch in ids.chunks(org_::MEMBERS_PER_CALL) {
        let answer = match client
            .get_member_detectors()
            .detector_id(detector)
            .set_account_ids(Some(batch.to_vec()))
            .send()
            .await
        {
            Ok(a) => a,
            // Not (yet) the administrator: no member's plans to read.
            Err(e) if e.code() == Some("BadRequestException") => return Ok(Reading::default()),
            Err(e) => return Err(ctx.err("GetMemberDetectors")(e).into()),
        };
        for m in answer.member_data_source_configurations() {
            let Some(account) = m.account_id() else {
                continue;
            };
            let on: BTreeSet<&str> = m
                .features()
                .iter()
                .filter(|f| f.status() == Some(&FeatureStatus::Enabled))
                .filter_map(|f| f.name().map(|n| n.as_str()))
                .collect();
            let wanted = resolved.get(account).cloned().unwrap_or_default();
            let have: Vec<&str> = wanted
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|p| p.as_str())
                .filter(|p| on.contains(p))
                .collect();
            observed.insert(account.to_string(), json!(have));
        }
    }
    let mut o = Observed::new(d.address.clone(), observed, Ownership::Ours);
    o.resolved = resolved;
    let notes = if lacking.is_empty() {
        Vec::new()
    } else {
        vec![format!(
            "GuardDuty does not offer {} in {}: left out of the members' plans there (not drift)",
            lacking.into_iter().collect::<Vec<_>>().join(", "),
            ctx.region
        )]
    };
    Ok(Reading {
        observed: vec![o],
        notes,
    })
}

/// The protection plans the region offers: those the administrator's own
/// detector lists (GetDetector).
async fn offered_plans(
    client: &aws_sdk_guardduty::Client,
    ctx: &Ctx,
    detector: &str,
) -> Result<BTreeSet<String>, ServiceError> {
    Ok(client
        .get_detector()
        .detector_id(detector)
        .send()
        .await
        .map_err(ctx.err("GetDetector"))?
        .features()
        .iter()
        .filter_map(|f| f.name().map(|n| n.as_str().to_string()))
        .collect())
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
    // The administrator's detector: the one the plan read, or the one
    // its create gave (known after apply).
    let id = change
        .private
        .get(super::DETECTOR_ID)
        .and_then(serde_json::Value::as_str)
        .ok_or_else(|| {
            crate::refusal(format!(
                "the plan does not name the administrator's GuardDuty detector in {}; make the plan again",
                target.region
            ))
        })?;
    let id = super::checked_detector_id(id)
        .map_err(crate::refusal)?
        .to_string();
    // Designated moments ago (this run's registration, or another's):
    // AWS refuses the administrator's calls until the delegation holds.
    // A change of what the plan read follows a delegation that held.
    if change.action == Action::Create {
        org_::delegation_in_effect(
            settle,
            target,
            SERVICE,
            "DescribeOrganizationConfiguration",
            "BadRequestException",
            || {
                client
                    .describe_organization_configuration()
                    .detector_id(&id)
                    .send()
            },
        )
        .await?;
    }
    if kind == MEMBER_PLANS {
        return update_member_plans(client, &ctx, &id, change).await;
    }
    if kind == KINDS.config {
        // Only the plans the region offers: a configuration naming
        // another is refused whole. An update's plan read them (a plan
        // not offered is planned UNAVAILABLE); a create's could not (the
        // administrator was not designated yet): its detector says.
        let offered = offered_if_created(client, &ctx, &id, change).await?;
        let features: Vec<OrganizationFeatureConfiguration> = FEATURES
            .iter()
            .filter(|(_, name)| offered.as_ref().is_none_or(|o| o.contains(*name)))
            .filter(|(_, name)| planned(&format!("{PREFIX}{name}")) != super::UNAVAILABLE)
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

/// The plans the region offers, for a create only: its plan could not
/// read the administrator's detector (not designated yet), so the
/// detector this apply made or took says (a documented read of apply:
/// docs/decisions.md). An update's plan read them: `None`.
async fn offered_if_created(
    client: &aws_sdk_guardduty::Client,
    ctx: &Ctx,
    detector: &str,
    change: &Change,
) -> Result<Option<BTreeSet<String>>, ServiceError> {
    if change.action != Action::Create {
        return Ok(None);
    }
    offered_plans(client, ctx, detector).await.map(Some)
}

/// Turns on, in each member whose plans the change names, the plans the
/// plan shows for it (UpdateMemberDetectors from the administrator, the
/// members with the same plans together, 50 a call); a plan it does not
/// show is left as it is.
async fn update_member_plans(
    client: &aws_sdk_guardduty::Client,
    ctx: &Ctx,
    detector: &str,
    change: &Change,
) -> Result<(), ServiceError> {
    // Only the plans the region offers (a create's plan could not read
    // them: the administrator was not designated yet).
    let offered = offered_if_created(client, ctx, detector, change).await?;
    let mut groups: std::collections::BTreeMap<Vec<String>, Vec<String>> = Default::default();
    for id in &change.changed {
        let plans: Vec<String> = change
            .planned(id)
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| p.as_str().map(str::to_string))
            .filter(|p| offered.as_ref().is_none_or(|o| o.contains(p)))
            .collect();
        if !plans.is_empty() {
            groups.entry(plans).or_default().push(id.clone());
        }
    }
    for (plans, accounts) in groups {
        let features: Vec<MemberFeaturesConfiguration> = plans
            .iter()
            .map(|p| {
                MemberFeaturesConfiguration::builder()
                    .name(OrgFeature::from(p.as_str()))
                    .status(FeatureStatus::Enabled)
                    .build()
            })
            .collect();
        for batch in accounts.chunks(org_::MEMBERS_PER_CALL) {
            let answer = client
                .update_member_detectors()
                .detector_id(detector)
                .set_account_ids(Some(batch.to_vec()))
                .set_features(Some(features.clone()))
                .send()
                .await
                .map_err(ctx.err("UpdateMemberDetectors"))?;
            org_::unprocessed(
                &KINDS,
                answer
                    .unprocessed_accounts()
                    .iter()
                    .map(|u| (u.account_id(), u.result())),
            )?;
        }
    }
    Ok(())
}
