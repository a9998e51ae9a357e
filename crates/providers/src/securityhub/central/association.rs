//! The policy's association with the root, and the excluded accounts'
//! self-managed behaviour.

use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use baseline_engine::{Attrs, Change, Desired, Observed, Ownership, Reading, ServiceError, Target};
use serde_json::{Value, json};

use super::policy::{find, tag_of};

/// The policy's id and ARN in the association's private data, from the
/// policy's change (known after apply when the plan creates it).
pub(super) const POLICY_ID: &str = "policy_id";
/// See [`POLICY_ID`].
pub(super) const POLICY_ARN: &str = "policy_arn";
use super::{SELF_MANAGED, list, nothing_there, text};
use crate::attrs;
use crate::error::Ctx;
use crate::organization::Organization;

/// Reads the association.
pub(super) async fn read(
    client: &aws_sdk_securityhub::Client,
    ctx: &Ctx,
    org: &Organization,
    target: &Target,
    d: &Desired,
    want: &Attrs,
) -> Result<Reading, ServiceError> {
    let name = want
        .get("policy")
        .and_then(Value::as_str)
        .unwrap_or_default();
    // The association: the root's policy, by name; the accounts associated
    // with self-managed behaviour (one list of every direct association).
    let Some(root) = &org.root else {
        return Ok(Reading::default());
    };
    let Some(applied) = direct_associations(client, ctx).await? else {
        return Ok(Reading::default());
    };
    let policy = find(client, ctx, name).await?.map(|p| p.id);
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
            "ROOT" => {
                // FAILED (a standard a linked region lacks, say): AWS
                // applied the rest; associating again would not remove
                // the cause, so it is a note, not a change.
                if let Some(why) = &a.failed {
                    notes.push(format!(
                        "Security Hub's configuration policy {} is associated with the root {root} but FAILED in some accounts (AWS): {why}",
                        policy_name(&a.policy)
                    ));
                }
                root_policy = Some(policy_name(&a.policy));
            }
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
            Ownership::Ours,
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
    let mut bound = crate::pages::Bound::new(ctx, "ListConfigurationPolicyAssociations");
    while let Some(page) = pages.next().await {
        let page = match page {
            Ok(p) => p,
            Err(e) if nothing_there(e.code()) => return Ok(None),
            Err(e) => return Err(ctx.err("ListConfigurationPolicyAssociations")(e).into()),
        };
        bound.page(page.next_token())?;
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

/// Associates and disassociates as the change says.
pub(super) async fn apply(
    client: &aws_sdk_securityhub::Client,
    ctx: &Ctx,
    target: &Target,
    change: &Change,
    mark: &str,
) -> Result<(), ServiceError> {
    // The association. The excluded accounts first: associated with the
    // root first, the policy would reach them before they are left out.
    let before = |key: &str| change.before.as_ref().and_then(|b| b.get(key)).cloned();
    let done: Vec<String> = before("self_managed")
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default();
    for id in list(change, "self_managed")
        .iter()
        .filter(|id| !done.contains(id))
    {
        client
            .start_configuration_policy_association()
            .configuration_policy_identifier(SELF_MANAGED)
            .target(Scope::Account(id).sdk())
            .send()
            .await
            .map_err(ctx.err("StartConfigurationPolicyAssociation"))?;
    }
    let policy = text(change, "policy");
    if before("policy") != Some(json!(policy))
        || before("root") != Some(change.planned("root").clone())
    {
        // The policy the plan read, or the one its create gave (known
        // after apply).
        let id = change
            .private
            .get(POLICY_ID)
            .and_then(Value::as_str)
            .ok_or_else(|| {
                crate::refusal(format!(
                    "Security Hub's configuration policy {policy} is not there to associate with the root"
                ))
            })?;
        // Only the baseline's own policy goes to the root: one of that
        // name someone else made (held in the plan) does not. The mark of
        // the policy it associates, another resource than this change's,
        // is read here (docs/decisions.md).
        let arn = change
            .private
            .get(POLICY_ARN)
            .and_then(Value::as_str)
            .unwrap_or_default();
        if tag_of(client, ctx, arn).await?.as_deref() != Some(mark) {
            return Err(crate::refusal(format!(
                "Security Hub's configuration policy {policy} in account {} was not made by this baseline ({}={mark} is not among its tags): it is not associated with the root",
                target.account_id,
                crate::OWNER_TAG_KEY
            )));
        }
        client
            .start_configuration_policy_association()
            .configuration_policy_identifier(id)
            .target(Scope::Root(&text(change, "root")).sdk())
            .send()
            .await
            .map_err(ctx.err("StartConfigurationPolicyAssociation"))?;
    }
    // Accounts no longer excluded: their self-managed association removed
    // last, so that they inherit the root's policy.
    let wanted = list(change, "self_managed");
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
