//! Security Hub's standards: their ARNs by region, which are enabled, what
//! a change of them writes, and the writes themselves (which wait out a
//! pending subscription).

use std::collections::BTreeSet;

use aws_sdk_securityhub::types::{
    StandardsStatus, StandardsSubscription, StandardsSubscriptionRequest,
};
use baseline_engine::{Attrs, Change, ServiceError, Target, Want};
use baseline_spec::Standard;
use serde_json::Value;

use super::SERVICE;
use crate::error::Ctx;

/// A standard's ARN in a region (the spec knows standards by the names
/// users write, not AWS's ARNs). The CIS v1.2.0 ARN is global (it
/// predates regional standard ARNs); the others are regional.
pub fn arn_of(standard: Standard, partition: &str, region: &str) -> String {
    let path = match standard {
        Standard::CisV120 => {
            return format!(
                "arn:{partition}:securityhub:::ruleset/cis-aws-foundations-benchmark/v/1.2.0"
            );
        }
        Standard::AwsFoundationalSecurityBestPractices => {
            "aws-foundational-security-best-practices/v/1.0.0"
        }
        Standard::CisV140 => "cis-aws-foundations-benchmark/v/1.4.0",
        Standard::CisV300 => "cis-aws-foundations-benchmark/v/3.0.0",
        Standard::Nist80053 => "nist-800-53/v/5.0.0",
        Standard::PciDss321 => "pci-dss/v/3.2.1",
    };
    format!("arn:{partition}:securityhub:{region}::standards/{path}")
}

/// The name users write for a standard ARN, or the ARN itself.
pub(super) fn standard_key(arn: &str, partition: &str, region: &str) -> String {
    Standard::ALL
        .iter()
        .find(|s| arn_of(**s, partition, region) == arn)
        .map(|s| s.key().to_string())
        .unwrap_or_else(|| arn.to_string())
}

pub(super) fn standard_arn(key: &str, partition: &str, region: &str) -> String {
    Standard::ALL
        .iter()
        .find(|s| s.key() == key)
        .map(|s| arn_of(*s, partition, region))
        .unwrap_or_else(|| key.to_string())
}

/// The standards a want lists, by the names users write.
pub(super) fn want_standards(want: &Want) -> BTreeSet<String> {
    match want {
        Want::Present(a) => a
            .get("enabled")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        _ => BTreeSet::new(),
    }
}

/// The enabled standards of the target's region, by the names users write
/// (an ARN baseline does not know is kept as the ARN).
pub async fn read_standards(
    client: &aws_sdk_securityhub::Client,
    target: &Target,
    partition: &str,
) -> Result<BTreeSet<String>, ServiceError> {
    let ctx = Ctx::new(target, SERVICE);
    Ok(enabled_standards(client, &ctx)
        .await?
        .into_iter()
        .map(|(arn, _)| standard_key(&arn, partition, &target.region))
        .collect())
}

/// What a standards change writes, from its planned sets alone: the
/// standards to enable (in `after`, not in `before`; names as users write
/// them) and the subscriptions to disable (in `before`, not in `after`:
/// only an `exclusive_standards` plan has any), by the subscription ARNs
/// the plan read (`private.subscriptions`).
pub fn standards_writes(change: &Change) -> Result<(BTreeSet<String>, Vec<String>), ServiceError> {
    let set = |side: &Option<Attrs>| {
        want_standards(&side.clone().map(Want::Present).unwrap_or(Want::Absent))
    };
    let (before, after) = (set(&change.before), set(&change.after));
    let enable = after.difference(&before).cloned().collect();
    let disable = before
        .difference(&after)
        .map(|k| {
            change
                .private
                .get("subscriptions")
                .and_then(|s| s.get(k))
                .and_then(Value::as_str)
                .map(str::to_string)
                .ok_or_else(|| {
                    crate::refusal(format!(
                        "the plan has no subscription of standard {k} to disable; make the plan again"
                    ))
                })
        })
        .collect::<Result<_, _>>()?;
    Ok((enable, disable))
}

/// Enables the standards `enable` (names as users write them) and
/// disables the subscriptions `disable`; nothing is sent for an empty one.
/// Security Hub refuses a change of standards while a subscription is
/// PENDING ("StandardsSubscription(s) in state PENDING, please try
/// later"): first it waits, up to `settle`, until none is; then it
/// disables before it enables, so what it enables (PENDING for a while)
/// never holds up the rest.
pub async fn write_standards(
    client: &aws_sdk_securityhub::Client,
    target: &Target,
    partition: &str,
    enable: &BTreeSet<String>,
    disable: &[String],
    settle: std::time::Duration,
) -> Result<(), ServiceError> {
    let ctx = Ctx::new(target, SERVICE);
    let to_enable: Vec<StandardsSubscriptionRequest> = enable
        .iter()
        .map(|k| {
            StandardsSubscriptionRequest::builder()
                .standards_arn(standard_arn(k, partition, &target.region))
                .build()
        })
        .collect();
    if to_enable.is_empty() && disable.is_empty() {
        return Ok(());
    }
    crate::settle::until_found(
        settle,
        "the hub's pending standards to be ready",
        || async {
            let subscriptions = subscriptions(client, &ctx).await?;
            let pending = subscriptions
                .iter()
                .any(|s| s.standards_status() == Some(&StandardsStatus::Pending));
            Ok::<_, ServiceError>((!pending).then_some(()))
        },
    )
    .await?;
    if !disable.is_empty() {
        client
            .batch_disable_standards()
            .set_standards_subscription_arns(Some(disable.to_vec()))
            .send()
            .await
            .map_err(ctx.err("BatchDisableStandards"))?;
    }
    if !to_enable.is_empty() {
        client
            .batch_enable_standards()
            .set_standards_subscription_requests(Some(to_enable))
            .send()
            .await
            .map_err(ctx.err("BatchEnableStandards"))?;
    }
    Ok(())
}

/// "Security Hub does not offer X, Y in REGION (DescribeStandards)".
pub(super) fn not_offered(lacking: &[&String], region: &str) -> String {
    let names: Vec<&str> = lacking.iter().map(|s| s.as_str()).collect();
    format!(
        "Security Hub does not offer {} in {region} (DescribeStandards)",
        names.join(", ")
    )
}

/// The standards the region offers (DescribeStandards), by the names users
/// write.
pub(super) async fn offered_standards(
    client: &aws_sdk_securityhub::Client,
    ctx: &Ctx,
    partition: &str,
    region: &str,
) -> Result<BTreeSet<String>, ServiceError> {
    offered(client, ctx, partition, region, false)
        .await
        .map(Option::unwrap_or_default)
}

/// The same, or `None` where the account has no hub in the region
/// (DescribeStandards needs one).
pub(super) async fn offered_if_hub(
    client: &aws_sdk_securityhub::Client,
    ctx: &Ctx,
    partition: &str,
    region: &str,
) -> Result<Option<BTreeSet<String>>, ServiceError> {
    offered(client, ctx, partition, region, true).await
}

async fn offered(
    client: &aws_sdk_securityhub::Client,
    ctx: &Ctx,
    partition: &str,
    region: &str,
    hub_may_lack: bool,
) -> Result<Option<BTreeSet<String>>, ServiceError> {
    use aws_smithy_types::error::metadata::ProvideErrorMetadata;
    let mut out = BTreeSet::new();
    let mut pages = client.describe_standards().into_paginator().send();
    let mut bound = crate::pages::Bound::new(ctx, "DescribeStandards");
    while let Some(page) = pages.next().await {
        let page = match page {
            Ok(p) => p,
            Err(e) if hub_may_lack && e.code() == Some("InvalidAccessException") => {
                return Ok(None);
            }
            Err(e) => return Err(ctx.err("DescribeStandards")(e).into()),
        };
        bound.page(page.next_token())?;
        out.extend(
            page.standards()
                .iter()
                .filter_map(|s| s.standards_arn())
                .map(|arn| standard_key(arn, partition, region)),
        );
    }
    Ok(Some(out))
}

/// Every standards subscription of the hub (GetEnabledStandards).
async fn subscriptions(
    client: &aws_sdk_securityhub::Client,
    ctx: &Ctx,
) -> Result<Vec<StandardsSubscription>, ServiceError> {
    let mut out = Vec::new();
    let mut pages = client.get_enabled_standards().into_paginator().send();
    let mut bound = crate::pages::Bound::new(ctx, "GetEnabledStandards");
    while let Some(page) = pages.next().await {
        let page = page.map_err(ctx.err("GetEnabledStandards"))?;
        bound.page(page.next_token())?;
        out.extend(page.standards_subscriptions().iter().cloned());
    }
    Ok(out)
}

/// `(standard ARN, subscription ARN)` of every standard that is enabled or
/// on its way (a failed or deleting subscription is not enabled).
pub(super) async fn enabled_standards(
    client: &aws_sdk_securityhub::Client,
    ctx: &Ctx,
) -> Result<Vec<(String, String)>, ServiceError> {
    Ok(subscriptions(client, ctx)
        .await?
        .iter()
        .filter(|s| {
            matches!(
                s.standards_status(),
                Some(
                    StandardsStatus::Ready | StandardsStatus::Pending | StandardsStatus::Incomplete
                )
            )
        })
        .map(|s| {
            (
                s.standards_arn().unwrap_or_default().to_string(),
                s.standards_subscription_arn()
                    .unwrap_or_default()
                    .to_string(),
            )
        })
        .collect())
}
