//! Security Hub: the hub per region, and (when the baseline lists them) its
//! standards. The hub needs AWS Config recording first; it is enabled
//! without the default standards, so that the standards are the
//! baseline's, and disabled before Config stops on teardown — only when it
//! carries baseline's tag (set when baseline enables it, or adopts it with
//! `securityhub.adopt`). Standards the baseline does not list stay enabled
//! unless `exclusive_standards` says otherwise.
//!
//! Not every region offers every standard (Security Hub "Regional
//! limits"): each region's offer is read with DescribeStandards. A listed
//! standard the region lacks is left out there, with a note (never drift);
//! when the hub is new (its offer unread by the plan), apply changes no
//! standard there and fails naming the ones the region lacks.

use std::collections::BTreeSet;

use async_trait::async_trait;
use aws_sdk_securityhub::types::{
    StandardsStatus, StandardsSubscription, StandardsSubscriptionRequest,
};
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use baseline_engine::{
    Action, Address, Attrs, Change, Desired, Mode, Observed, Reading, Service, ServiceError,
    Target, Want,
};
use baseline_spec::{Baseline, Standard};
use serde_json::{Value, json};

use crate::error::Ctx;
use crate::{OWNER_TAG_KEY, account_of};

const SERVICE: &str = "securityhub";

service_type!(
    /// Security Hub.
    SecurityHubService
);

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
fn standard_key(arn: &str, partition: &str, region: &str) -> String {
    Standard::ALL
        .iter()
        .find(|s| arn_of(**s, partition, region) == arn)
        .map(|s| s.key().to_string())
        .unwrap_or_else(|| arn.to_string())
}

fn standard_arn(key: &str, partition: &str, region: &str) -> String {
    Standard::ALL
        .iter()
        .find(|s| s.key() == key)
        .map(|s| arn_of(*s, partition, region))
        .unwrap_or_else(|| key.to_string())
}

#[async_trait]
impl Service for SecurityHubService {
    fn name(&self) -> &'static str {
        SERVICE
    }

    fn desired(&self, baseline: &Baseline, target: &Target, mode: Mode) -> Vec<Desired> {
        let Some(spec) = &baseline.securityhub else {
            return Vec::new();
        };
        let on = spec.enabled && mode == Mode::Apply;
        let hub = Address::new(target, "securityhub.hub", "hub");
        // Only when this baseline manages Config: otherwise the dependency
        // is not in the plan and is ignored.
        let recording = Address::new(target, "config.recording", "recorder");
        let mut out = vec![Desired {
            address: hub.clone(),
            controls: Vec::new(),
            want: if on {
                let mut a = Attrs::new();
                a.insert("enabled".into(), json!(true));
                if spec.adopt {
                    a.insert("managed_by".into(), json!(self.aws.owner.mark()));
                }
                Want::Present(a)
            } else {
                Want::Absent
            },
            depends_on: vec![recording],
            private: baseline_engine::Attrs::new(),
        }];
        if let (true, Some(standards)) = (on, &spec.standards) {
            let keys: BTreeSet<&str> = standards.iter().map(|s| s.key()).collect();
            let mut a = Attrs::new();
            a.insert("enabled".into(), json!(keys));
            a.insert("exclusive".into(), json!(spec.exclusive_standards));
            out.push(Desired {
                address: Address::new(target, "securityhub.standards", "hub"),
                controls: Vec::new(),
                want: Want::Present(a),
                depends_on: vec![hub],
                private: baseline_engine::Attrs::new(),
            });
        }
        out
    }

    async fn read(&self, target: &Target, desired: &[Desired]) -> Result<Reading, ServiceError> {
        let account = account_of(&self.aws, target)?;
        let account = &*account;
        let ctx = Ctx::new(target, SERVICE);
        let client = client!(aws_sdk_securityhub, account, &target.region);
        let mut out = Vec::new();
        let mut notes = Vec::new();
        let hub_arn = match client.describe_hub().send().await {
            Ok(h) => Some(h.hub_arn().unwrap_or_default().to_string()),
            Err(e)
                if matches!(
                    e.code(),
                    Some("InvalidAccessException" | "ResourceNotFoundException")
                ) =>
            {
                None
            }
            Err(e) => return Err(Box::new(ctx.err("DescribeHub")(e))),
        };
        let Some(hub_arn) = hub_arn else {
            return Ok(out.into());
        };
        let tags = client
            .list_tags_for_resource()
            .resource_arn(&hub_arn)
            .send()
            .await
            .map_err(ctx.err("ListTagsForResource"))?;
        let owner = &self.aws.owner;
        let mark = owner.classify(
            tags.tags()
                .and_then(|t| t.get(OWNER_TAG_KEY))
                .map(String::as_str),
        );
        let owned = mark.ours();
        for d in desired {
            match d.address.kind.as_str() {
                "securityhub.hub" => {
                    let mut a = Attrs::new();
                    a.insert("enabled".into(), json!(true));
                    a.insert("hub_arn".into(), json!(hub_arn));
                    a.insert(
                        "managed_by".into(),
                        if owned {
                            json!(owner.mark())
                        } else {
                            Value::Null
                        },
                    );
                    let mut o = Observed::new(d.address.clone(), a, owned);
                    o.managed_by_tool(mark.elsewhere());
                    out.push(o);
                }
                "securityhub.standards" => {
                    let (subscriptions, offered) = futures::try_join!(
                        enabled_standards(&client, &ctx),
                        offered_standards(&client, &ctx, &account.partition, &target.region),
                    )?;
                    let have: BTreeSet<String> = subscriptions
                        .iter()
                        .map(|(arn, _)| standard_key(arn, &account.partition, &target.region))
                        .collect();
                    let want = want_standards(&d.want);
                    let exclusive = match &d.want {
                        Want::Present(a) => a.get("exclusive") == Some(&json!(true)),
                        _ => false,
                    };
                    // Not exclusive: the standards the baseline does not
                    // list are not its business (shown as a note).
                    let others: Vec<&String> = have.difference(&want).collect();
                    let seen: BTreeSet<&String> = if exclusive {
                        have.iter().collect()
                    } else {
                        have.intersection(&want).collect()
                    };
                    let mut a = Attrs::new();
                    a.insert("enabled".into(), json!(seen));
                    a.insert("exclusive".into(), json!(exclusive));
                    let mut o = Observed::new(d.address.clone(), a, owned);
                    // A listed standard the region does not offer is
                    // wanted as it is there: left out.
                    let lacking: Vec<&String> = want.difference(&offered).collect();
                    if !lacking.is_empty() {
                        let kept: BTreeSet<&String> = want.intersection(&offered).collect();
                        o.resolved.insert("enabled".into(), json!(kept));
                        notes.push(format!(
                            "{}: left out there (not drift)",
                            not_offered(&lacking, &target.region)
                        ));
                    }
                    // The standards belong to the hub, and so to its owner.
                    o.managed_by_tool(mark.elsewhere());
                    // What a disable is written to: each enabled
                    // standard's subscription.
                    o.private.insert(
                        "subscriptions".into(),
                        Value::Object(
                            subscriptions
                                .iter()
                                .map(|(arn, sub)| {
                                    (
                                        standard_key(arn, &account.partition, &target.region),
                                        json!(sub),
                                    )
                                })
                                .collect(),
                        ),
                    );
                    if !exclusive && !others.is_empty() {
                        o.note = Some(format!(
                            "also enabled, and left so (the baseline does not list them; `exclusive_standards: true` would disable them): {}",
                            others
                                .iter()
                                .map(|s| s.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ));
                    }
                    out.push(o);
                }
                _ => {}
            }
        }
        Ok(Reading {
            observed: out,
            notes,
        })
    }

    async fn apply(&self, target: &Target, change: &Change) -> Result<(), ServiceError> {
        let account = account_of(&self.aws, target)?;
        let account = &*account;
        let ctx = Ctx::new(target, SERVICE);
        let client = client!(aws_sdk_securityhub, account, &target.region);
        match (change.address.kind.as_str(), change.action) {
            ("securityhub.hub", Action::Update) => {
                // An existing hub: only adoption changes it.
                let arn = change
                    .before
                    .as_ref()
                    .and_then(|b| b.get("hub_arn"))
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                client
                    .tag_resource()
                    .resource_arn(arn)
                    .tags(OWNER_TAG_KEY, self.aws.owner.mark())
                    .send()
                    .await
                    .map_err(ctx.err("TagResource"))?;
            }
            ("securityhub.hub", Action::Create) => {
                client
                    .enable_security_hub()
                    // Real AWS enables its default standards unless told
                    // not to; the baseline's list decides instead.
                    .enable_default_standards(false)
                    .tags(OWNER_TAG_KEY, self.aws.owner.mark())
                    .send()
                    .await
                    .map_err(ctx.err("EnableSecurityHub"))?;
            }
            ("securityhub.hub", Action::Delete) => {
                client
                    .disable_security_hub()
                    .send()
                    .await
                    .map_err(ctx.err("DisableSecurityHub"))?;
            }
            ("securityhub.standards", action @ (Action::Create | Action::Update)) => {
                let (enable, disable) = standards_writes(change)?;
                // Created: the hub is this apply's, so the plan did not
                // read its region's offer (an update's plan did, and left
                // out what the region lacks). What the plan shows, or
                // nothing.
                if action == Action::Create {
                    let offered =
                        offered_standards(&client, &ctx, &account.partition, &target.region)
                            .await?;
                    let lacking: Vec<&String> = enable.difference(&offered).collect();
                    if !lacking.is_empty() {
                        return Err(Box::new(baseline_engine::Failure {
                            kind: baseline_engine::ErrorKind::Invalid,
                            message: format!(
                                "{}: no standard was changed there; the next plan leaves it out there",
                                not_offered(&lacking, &target.region)
                            ),
                        }));
                    }
                }
                write_standards(
                    &client,
                    target,
                    &account.partition,
                    &enable,
                    &disable,
                    self.aws.settle,
                )
                .await?;
            }
            (kind, action) => return Err(crate::unsupported(kind, action)),
        }
        Ok(())
    }
}

/// The standards a want lists, by the names users write.
fn want_standards(want: &Want) -> BTreeSet<String> {
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
fn not_offered(lacking: &[&String], region: &str) -> String {
    let names: Vec<&str> = lacking.iter().map(|s| s.as_str()).collect();
    format!(
        "Security Hub does not offer {} in {region} (DescribeStandards)",
        names.join(", ")
    )
}

/// The standards the region offers (DescribeStandards), by the names users
/// write.
async fn offered_standards(
    client: &aws_sdk_securityhub::Client,
    ctx: &Ctx,
    partition: &str,
    region: &str,
) -> Result<BTreeSet<String>, ServiceError> {
    let mut out = BTreeSet::new();
    let mut pages = client.describe_standards().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(ctx.err("DescribeStandards"))?;
        out.extend(
            page.standards()
                .iter()
                .filter_map(|s| s.standards_arn())
                .map(|arn| standard_key(arn, partition, region)),
        );
    }
    Ok(out)
}

/// Every standards subscription of the hub (GetEnabledStandards).
async fn subscriptions(
    client: &aws_sdk_securityhub::Client,
    ctx: &Ctx,
) -> Result<Vec<StandardsSubscription>, ServiceError> {
    let mut out = Vec::new();
    let mut pages = client.get_enabled_standards().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(ctx.err("GetEnabledStandards"))?;
        out.extend(page.standards_subscriptions().iter().cloned());
    }
    Ok(out)
}

/// `(standard ARN, subscription ARN)` of every standard that is enabled or
/// on its way (a failed or deleting subscription is not enabled).
async fn enabled_standards(
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
