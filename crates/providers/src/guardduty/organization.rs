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
use baseline_engine::{
    Action, Address, Attrs, Change, Desired, Observed, Reading, ServiceError, Target, Want,
};
use baseline_spec::GuardDutySpec;
use serde_json::{Value, json};

use super::{FEATURES, PREFIX, SERVICE, wanted_features};
use crate::error::Ctx;
use crate::organization::{GUARDDUTY_PRINCIPAL, Organization};
use crate::{Account, attrs, controls};

/// The management account's registration of the administrator.
pub(super) const ADMIN: &str = "guardduty.delegated_admin";
/// The administrator's organization configuration.
pub(super) const CONFIG: &str = "guardduty.organization";
/// The administrator's members.
pub(super) const MEMBERS: &str = "guardduty.members";
/// A member covered by the organization.
pub(super) const MEMBERSHIP: &str = "guardduty.membership";
/// The one resource of each kind per account and region.
const NAME: &str = "organization";

fn address(account: &str, region: &str, kind: &str) -> Address {
    Address {
        account: account.to_string(),
        region: region.to_string(),
        kind: kind.to_string(),
        name: NAME.to_string(),
    }
}

/// The organization's resources in `target` (its own detector aside).
pub(super) fn desired(org: &Organization, spec: &GuardDutySpec, target: &Target) -> Vec<Desired> {
    let (account, region) = (target.account_id.as_str(), target.region.as_str());
    let registered = address(&org.management, region, ADMIN);
    let mut out = Vec::new();
    let one = |kind: &str, want: Attrs, depends_on: Vec<Address>, private: Attrs| Desired {
        address: address(account, region, kind),
        controls: if kind == MEMBERSHIP {
            controls(&["GuardDuty.1"])
        } else {
            Vec::new()
        },
        want: Want::Present(want),
        depends_on,
        private,
    };
    if account == org.management {
        out.push(one(
            ADMIN,
            attrs(&[("admin_account", json!(org.admin))]),
            Vec::new(),
            Attrs::new(),
        ));
    }
    if account == org.admin {
        let auto = if org.auto_enable { "ALL" } else { "NONE" };
        let mut config = attrs(&[("auto_enable_members", json!(auto))]);
        for (k, v) in wanted_features(spec.features.as_ref()) {
            let on = v == json!("ENABLED");
            config.insert(k, json!(if on { auto } else { "NONE" }));
        }
        let own = address(account, region, super::KIND);
        let own = Address {
            name: "detector".into(),
            ..own
        };
        out.push(one(
            CONFIG,
            config,
            vec![registered.clone(), own.clone()],
            Attrs::new(),
        ));
        let ids: Vec<&String> = org.members().map(|(id, _)| id).collect();
        let emails: serde_json::Map<String, Value> = org
            .members()
            .map(|(id, email)| (id.clone(), json!(email)))
            .collect();
        out.push(one(
            MEMBERS,
            attrs(&[("accounts", json!(ids))]),
            vec![registered, own],
            attrs(&[("emails", Value::Object(emails))]),
        ));
    }
    if org.is_member(account) {
        out.push(one(
            MEMBERSHIP,
            attrs(&[("administrator", json!(org.admin))]),
            vec![address(&org.admin, region, MEMBERS)],
            Attrs::new(),
        ));
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
    let observed = |a: Attrs| Observed::new(d.address.clone(), a, true);
    match d.address.kind.as_str() {
        ADMIN => {
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
            if let Some(other) = admins.iter().find(|a| **a != org.admin) {
                return Err(crate::refusal(format!(
                    "GuardDuty's delegated administrator in {} is account {other}, and the baseline names {}: refused (baseline never moves an administrator; deregister {other} first, or name it in organization.delegated_admin)",
                    target.region, org.admin
                )));
            }
            Ok(if admins.is_empty() {
                Reading::default()
            } else {
                vec![observed(attrs(&[("admin_account", json!(org.admin))]))].into()
            })
        }
        CONFIG => {
            let Some(id) = detector_id(client, &ctx).await? else {
                return Ok(Reading::default());
            };
            let conf = match client
                .describe_organization_configuration()
                .detector_id(&id)
                .send()
                .await
            {
                Ok(c) => c,
                // Not (yet) the administrator: nothing configured.
                Err(e) if e.code() == Some("BadRequestException") => {
                    return Ok(Reading::default());
                }
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
            Ok(vec![observed(a)].into())
        }
        MEMBERS => {
            let Some(id) = detector_id(client, &ctx).await? else {
                return Ok(Reading::default());
            };
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
                    Err(e) if e.code() == Some("BadRequestException") => {
                        return Ok(Reading::default());
                    }
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
            let wanted: BTreeSet<String> = org.members().map(|(id, _)| id.clone()).collect();
            let gone: Vec<&String> = members.difference(&wanted).collect();
            let mut notes = Vec::new();
            if !gone.is_empty() {
                notes.push(format!(
                    "GuardDuty in {}: members that are not (or no longer) accounts of the organization the baseline covers, left as they are: {}",
                    target.region,
                    gone.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
                ));
            }
            let covered: Vec<&String> = members.intersection(&wanted).collect();
            Ok(Reading {
                observed: vec![observed(attrs(&[("accounts", json!(covered))]))],
                notes,
            })
        }
        MEMBERSHIP => {
            let administrator = administrator_of(client, &ctx).await?;
            let mut notes = Vec::new();
            if administrator.as_deref() != Some(org.admin.as_str()) {
                notes.push(format!(
                    "GuardDuty in account {}, {}: not yet covered by the organization ({}); guardduty.members in account {} adds it, nothing is written here",
                    target.account_id,
                    target.region,
                    match &administrator {
                        None => "no GuardDuty administrator yet".to_string(),
                        Some(other) => format!("its administrator is account {other}"),
                    },
                    org.admin
                ));
            }
            let observed = administrator
                .map(|a| observed(attrs(&[("administrator", json!(a))])))
                .into_iter()
                .collect();
            Ok(Reading { observed, notes })
        }
        _ => Ok(Reading::default()),
    }
}

/// The region's detector id, if there is one.
async fn detector_id(
    client: &aws_sdk_guardduty::Client,
    ctx: &Ctx,
) -> Result<Option<String>, ServiceError> {
    let ids = client
        .list_detectors()
        .send()
        .await
        .map_err(ctx.err("ListDetectors"))?;
    let Some(id) = ids.detector_ids().first() else {
        return Ok(None);
    };
    let id = super::checked_detector_id(id).map_err(|why| {
        ctx.err("ListDetectors")(crate::error::SdkMessage(format!(
            "the answer is not AWS's: {why}"
        )))
    })?;
    Ok(Some(id.to_string()))
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
) -> Result<(), ServiceError> {
    let ctx = Ctx::new(target, SERVICE);
    if !matches!(change.action, Action::Create | Action::Update) {
        return Err(crate::unsupported(&change.address.kind, change.action));
    }
    let planned = |k: &str| change.planned(k).as_str().unwrap_or_default().to_string();
    match change.address.kind.as_str() {
        ADMIN => {
            // Trusted access first (Organizations), then the administrator.
            aws_sdk_organizations::Client::new(&account.sdk)
                .enable_aws_service_access()
                .service_principal(GUARDDUTY_PRINCIPAL)
                .send()
                .await
                .map_err(
                    Ctx {
                        service: "organizations",
                        ..ctx.clone()
                    }
                    .err("EnableAWSServiceAccess"),
                )?;
            client
                .enable_organization_admin_account()
                .admin_account_id(planned("admin_account"))
                .send()
                .await
                .map_err(ctx.err("EnableOrganizationAdminAccount"))?;
        }
        CONFIG => {
            let id = detector_id(client, &ctx).await?.ok_or_else(|| {
                crate::refusal(format!(
                    "the administrator has no GuardDuty detector in {}",
                    target.region
                ))
            })?;
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
        }
        MEMBERS => {
            let id = detector_id(client, &ctx).await?.ok_or_else(|| {
                crate::refusal(format!(
                    "the administrator has no GuardDuty detector in {}",
                    target.region
                ))
            })?;
            let before: BTreeSet<&str> = list(change.before.as_ref());
            let emails = change.private.get("emails").cloned().unwrap_or_default();
            let details: Vec<AccountDetail> = list(change.after.as_ref())
                .difference(&before)
                .map(|a| {
                    AccountDetail::builder()
                        .account_id(*a)
                        .email(emails[*a].as_str().unwrap_or_default())
                        .build()
                })
                .collect();
            if details.is_empty() {
                return Ok(());
            }
            let answer = client
                .create_members()
                .detector_id(id)
                .set_account_details(Some(details))
                .send()
                .await
                .map_err(ctx.err("CreateMembers"))?;
            let refused: Vec<String> = answer
                .unprocessed_accounts()
                .iter()
                .map(|u| {
                    format!(
                        "{} ({})",
                        u.account_id().unwrap_or_default(),
                        u.result().unwrap_or_default()
                    )
                })
                .collect();
            if !refused.is_empty() {
                return Err(crate::refusal(format!(
                    "GuardDuty did not add these members: {}",
                    refused.join("; ")
                )));
            }
        }
        MEMBERSHIP => {
            // Nothing is written here: the administrator's members did it.
            let now = administrator_of(client, &ctx).await?;
            let wanted = planned("administrator");
            if now.as_deref() != Some(wanted.as_str()) {
                return Err(crate::refusal(format!(
                    "GuardDuty in account {}, {} is not covered by the organization after guardduty.members ran: its administrator is {}",
                    target.account_id,
                    target.region,
                    now.as_deref().unwrap_or("none")
                )));
            }
        }
        other => return Err(crate::unsupported(other, change.action)),
    }
    Ok(())
}

/// The account ids of a `guardduty.members` state.
fn list(state: Option<&Attrs>) -> BTreeSet<&str> {
    state
        .and_then(|s| s.get("accounts"))
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}
