//! The configuration policy named after the baseline: Security Hub
//! enabled, the baseline's standards, every control enabled; baseline's
//! only with its mark.

use aws_sdk_securityhub::types::{Policy, SecurityControlsConfiguration, SecurityHubPolicy};
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use baseline_engine::{
    Action, Attrs, Change, Desired, Observed, Outputs, Ownership, Reading, ServiceError, Target,
};
use serde_json::{Value, json};

use super::{list, nothing_there, text};
use crate::error::Ctx;
use crate::securityhub::standards::{not_offered, offered_if_hub, standard_arn, standard_key};
use crate::{Account, attrs};

/// The policy named `name`, as ListConfigurationPolicies lists it.
pub(super) struct Found {
    pub id: String,
    pub arn: String,
}

/// The policy named `name`, if there is one.
pub(super) async fn find(
    client: &aws_sdk_securityhub::Client,
    ctx: &Ctx,
    name: &str,
) -> Result<Option<Found>, ServiceError> {
    let mut pages = client.list_configuration_policies().into_paginator().send();
    let mut bound = crate::pages::Bound::new(ctx, "ListConfigurationPolicies");
    while let Some(page) = pages.next().await {
        let page = match page {
            Ok(p) => p,
            Err(e) if nothing_there(e.code()) => return Ok(None),
            Err(e) => return Err(ctx.err("ListConfigurationPolicies")(e).into()),
        };
        bound.page(page.next_token())?;
        if let Some(p) = page
            .configuration_policy_summaries()
            .iter()
            .find(|p| p.name() == Some(name))
        {
            return Ok(Some(Found {
                id: p.id().unwrap_or_default().to_string(),
                arn: p.arn().unwrap_or_default().to_string(),
            }));
        }
    }
    Ok(None)
}

/// A policy's `managed-by` tag.
pub(super) async fn tag_of(
    client: &aws_sdk_securityhub::Client,
    ctx: &Ctx,
    arn: &str,
) -> Result<Option<String>, ServiceError> {
    let tags = client
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .map_err(ctx.err("ListTagsForResource"))?;
    Ok(tags
        .tags()
        .and_then(|t| t.get(crate::OWNER_TAG_KEY))
        .cloned())
}

/// Reads the policy.
pub(super) async fn read(
    client: &aws_sdk_securityhub::Client,
    ctx: &Ctx,
    account: &Account,
    target: &Target,
    d: &Desired,
    want: &Attrs,
) -> Result<Reading, ServiceError> {
    let name = want.get("name").and_then(Value::as_str).unwrap_or_default();
    let Some(found) = find(client, ctx, name).await? else {
        return Ok(Reading::default());
    };
    let got = client
        .get_configuration_policy()
        .identifier(&found.id)
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
    let tag = tag_of(client, ctx, &found.arn).await?;
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
        if ours {
            Ownership::Ours
        } else {
            Ownership::NotOurs
        },
    );
    // Apply updates, and the association associates, the policy the
    // plan read.
    o.private.insert(ID.into(), json!(found.id));
    o.private.insert(ARN.into(), json!(found.arn));
    if !ours {
        // A policy of this name that baseline did not create is never
        // changed (nor associated): only a person renames one of them.
        o.managed_by_tool(Some(match &tag {
            Some(t) => format!("the owner of the tag {}={t}", crate::OWNER_TAG_KEY),
            None => "someone else (no managed-by tag)".to_string(),
        }));
    }
    Ok(Reading {
        observed: vec![o],
        notes: unoffered(account, target, d, want).await?,
    })
}

/// The policy's standards that a linked region does not offer, where the
/// administrator's hub there can say: AWS applies the rest of the policy
/// there and reports the association FAILED.
async fn unoffered(
    account: &Account,
    target: &Target,
    d: &Desired,
    want: &Attrs,
) -> Result<Vec<String>, ServiceError> {
    let wanted: Vec<String> = want
        .get("standards")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    let linked: Vec<String> = d
        .private
        .get("linked")
        .and_then(|v| serde_json::from_value(v.clone()).ok())
        .unwrap_or_default();
    let mut notes = Vec::new();
    for region in linked {
        let mut there = target.clone();
        there.region = region.clone();
        let ctx = Ctx::new(&there, super::SERVICE);
        let client = client!(aws_sdk_securityhub, account, &region);
        let Some(offered) = offered_if_hub(&client, &ctx, &account.partition, &region).await?
        else {
            continue;
        };
        let lacking: Vec<&String> = wanted.iter().filter(|s| !offered.contains(*s)).collect();
        if !lacking.is_empty() {
            notes.push(format!(
                "{}: Security Hub's configuration policy takes effect there without them, and AWS reports its association FAILED",
                not_offered(&lacking, &region)
            ));
        }
    }
    Ok(notes)
}

/// The policy's id: private data of the policy's change, and the output
/// of its create (the association takes it).
pub(super) const ID: &str = "id";
/// The policy's ARN, likewise (its tags are read by it).
pub(super) const ARN: &str = "arn";

/// Creates the policy (the plan found none; a precondition checks it is
/// still so), or updates the one the plan read (still baseline's and as
/// read: preconditions); a create gives its id.
pub(super) async fn apply(
    client: &aws_sdk_securityhub::Client,
    ctx: &Ctx,
    account: &Account,
    target: &Target,
    change: &Change,
    mark: &str,
) -> Result<Outputs, ServiceError> {
    let name = text(change, "name");
    let standards: Vec<String> = list(change, "standards")
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
    let planned = change.private.get(ID).and_then(Value::as_str);
    match (change.action, planned) {
        (Action::Create, _) => {
            let made = client
                .create_configuration_policy()
                .name(&name)
                .description(description)
                .configuration_policy(policy)
                .tags(crate::OWNER_TAG_KEY, mark)
                .send()
                .await
                .map_err(ctx.err("CreateConfigurationPolicy"))?;
            return Ok(Outputs::from_iter([
                (ID.to_string(), json!(made.id().unwrap_or_default())),
                (ARN.to_string(), json!(made.arn().unwrap_or_default())),
            ]));
        }
        (Action::Update, Some(id)) => {
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
        (action, _) => return Err(crate::unsupported(&change.address.kind, action)),
    }
    Ok(Outputs::new())
}
