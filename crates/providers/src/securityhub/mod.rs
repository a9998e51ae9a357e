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
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use baseline_engine::{
    Action, Address, Attrs, Change, Declared, Desired, Mode, Observed, Outputs, Precondition,
    Reading, Service, ServiceError, Target, Wait, Want,
};
use baseline_spec::Baseline;
use serde_json::{Value, json};

use crate::error::Ctx;
use crate::{OWNER_TAG_KEY, account_of};

mod central;
mod organization;
mod standards;

pub use standards::{arn_of, read_standards, standards_writes, write_standards};
use standards::{enabled_standards, not_offered, offered_standards, standard_key, want_standards};

const SERVICE: &str = "securityhub";

service_type!(
    /// Security Hub.
    SecurityHubService
);

/// The region's hub's ARN, or `None` when Security Hub is not enabled.
async fn hub_arn(
    client: &aws_sdk_securityhub::Client,
    ctx: &Ctx,
) -> Result<Option<String>, ServiceError> {
    match client.describe_hub().send().await {
        Ok(h) => Ok(Some(h.hub_arn().unwrap_or_default().to_string())),
        Err(e)
            if matches!(
                e.code(),
                Some("InvalidAccessException" | "ResourceNotFoundException")
            ) =>
        {
            Ok(None)
        }
        Err(e) => Err(Box::new(ctx.err("DescribeHub")(e))),
    }
}

#[async_trait]
impl Service for SecurityHubService {
    fn name(&self) -> &'static str {
        SERVICE
    }

    fn scopes(&self) -> (&'static [&'static str], &'static [&'static str]) {
        (
            &[
                organization::KINDS.admin,
                organization::KINDS.config,
                organization::KINDS.members,
                central::AGGREGATOR,
                central::POLICY,
                central::ASSOCIATION,
            ],
            &[organization::KINDS.membership],
        )
    }

    fn desired(&self, baseline: &Baseline, target: &Target, mode: Mode) -> Vec<Desired> {
        let Some(spec) = &baseline.securityhub else {
            return Vec::new();
        };
        let on = spec.enabled && mode == Mode::Apply;
        let hub = Address::new(target, "securityhub.hub", "hub");
        if let Some(org) = &self.aws.organization {
            // Through the delegated administrator: members are covered by
            // the organization, their standards stay per account;
            // `destroy` and `enabled: false` leave the organization's
            // Security Hub as it is (docs/safety.md).
            if !on {
                return Vec::new();
            }
            let policy = self.aws.owner.default_of("baseline");
            let mark = self.aws.owner.mark();
            let mut out = organization::desired(org, baseline, &policy, mark, target, hub.clone());
            // With central configuration, the policy carries every
            // account's standards (the administrator's too).
            let central = baseline
                .organization
                .as_ref()
                .is_some_and(|o| o.securityhub_central());
            if target.account_id == org.admin {
                out.extend(
                    self.hub(spec, target, on, hub)
                        .into_iter()
                        .filter(|d| !central || d.address.kind != "securityhub.standards")
                        .map(|d| {
                            if d.address.kind == "securityhub.hub" {
                                crate::organization::designated(
                                    d,
                                    org,
                                    &organization::KINDS,
                                    target,
                                )
                            } else {
                                d
                            }
                        }),
                );
            } else if target.account_id == org.management {
                // Security Hub "cannot be enabled automatically for the
                // organization management account" (CreateMembers): its
                // own hub, in every region, before the administrator's
                // members; its standards as the others'.
                out.extend(
                    self.hub(spec, target, on, hub)
                        .into_iter()
                        .filter(|d| !central || d.address.kind != "securityhub.standards"),
                );
            } else if let Some(standards) = standards(spec, target, on && !central, {
                crate::organization::address(
                    &target.account_id,
                    &target.region,
                    organization::KINDS.membership,
                )
            }) {
                out.push(standards);
            }
            return out;
        }
        self.hub(spec, target, on, hub)
    }

    async fn read(&self, target: &Target, desired: &[Desired]) -> Result<Reading, ServiceError> {
        crate::organization::read_split(
            desired,
            organization::is_org_kind,
            |own| async move { self.read_hub(target, &own).await },
            |d| async move {
                let account = account_of(&self.aws, target)?;
                let client = client!(aws_sdk_securityhub, account, &target.region);
                let org = crate::organization::of(&self.aws)?;
                organization::read(&client, &account, org, target, &d).await
            },
        )
        .await
    }

    /// The administrator's hub the designation enables is waited for and
    /// marked; standards wait until none is PENDING; central
    /// configuration until it is ENABLED; the association takes the
    /// policy's id from the policy's change.
    fn declare(&self, change: &Change) -> Declared {
        let kind = change.address.kind.as_str();
        let mut d = if organization::is_org_kind(kind) {
            if central::is_kind(kind) {
                central::declare(change)
            } else {
                crate::organization::declare(&organization::KINDS, change)
            }
        } else {
            crate::usual(change)
        };
        match (kind, change.action) {
            ("securityhub.hub", Action::Create)
                if crate::organization::made_by_designation(change) =>
            {
                d.preconditions.clear();
                d.waits.push(Wait::Designated);
            }
            ("securityhub.standards", action) => {
                // A new hub's standards are read again only when the plan
                // could read them (the hub the designation enables has
                // its default standards).
                if action == Action::Create {
                    d.preconditions.clear();
                }
                d.waits.push(Wait::StandardsReady);
            }
            (k, _)
                if k == organization::KINDS.config
                    && change.planned("configuration_type") != &Value::Null =>
            {
                // Read PENDING, it may be ENABLED by apply: either is
                // what the step then waits for.
                d.preconditions.retain(|p| {
                    !matches!(p, Precondition::Unchanged { attr } if attr == "configuration_type")
                });
                d.waits.push(Wait::CentralConfiguration);
            }
            _ => {}
        }
        d
    }

    async fn apply(&self, target: &Target, change: &Change) -> Result<Outputs, ServiceError> {
        if organization::is_org_kind(&change.address.kind) {
            let account = account_of(&self.aws, target)?;
            let account = &*account;
            let client = client!(aws_sdk_securityhub, account, &target.region);
            return organization::apply(
                &client,
                account,
                target,
                change,
                self.aws.settle,
                self.aws.owner.mark(),
            )
            .await;
        }
        self.apply_hub(target, change).await?;
        Ok(Outputs::new())
    }
}

/// The standards of `target`, after `after` (the hub, or a member's
/// coverage by the organization), when the baseline lists them.
fn standards(
    spec: &baseline_spec::SecurityHubSpec,
    target: &Target,
    on: bool,
    after: Address,
) -> Option<Desired> {
    let (true, Some(standards)) = (on, &spec.standards) else {
        return None;
    };
    let keys: BTreeSet<&str> = standards.iter().map(|s| s.key()).collect();
    let mut a = Attrs::new();
    a.insert("enabled".into(), json!(keys));
    a.insert("exclusive".into(), json!(spec.exclusive_standards));
    Some(Desired {
        address: Address::new(target, "securityhub.standards", "hub"),
        controls: Vec::new(),
        want: Want::Present(a),
        depends_on: vec![after],
        private: baseline_engine::Attrs::new(),
    })
}

impl SecurityHubService {
    /// Tags hub `arn` with the baseline's mark (adoption, or the one the
    /// administrator's designation enabled).
    async fn mark_hub(
        &self,
        client: &aws_sdk_securityhub::Client,
        ctx: &Ctx,
        arn: &str,
    ) -> Result<(), ServiceError> {
        client
            .tag_resource()
            .resource_arn(arn)
            .tags(OWNER_TAG_KEY, self.aws.owner.mark())
            .send()
            .await
            .map_err(ctx.err("TagResource"))?;
        Ok(())
    }

    /// The account's own hub, and its standards.
    fn hub(
        &self,
        spec: &baseline_spec::SecurityHubSpec,
        target: &Target,
        on: bool,
        hub: Address,
    ) -> Vec<Desired> {
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
        out.extend(standards(spec, target, on, hub));
        out
    }

    async fn read_hub(
        &self,
        target: &Target,
        desired: &[Desired],
    ) -> Result<Reading, ServiceError> {
        let account = account_of(&self.aws, target)?;
        let account = &*account;
        let ctx = Ctx::new(target, SERVICE);
        let client = client!(aws_sdk_securityhub, account, &target.region);
        let mut out = Vec::new();
        let mut notes = Vec::new();
        let Some(hub_arn) = hub_arn(&client, &ctx).await? else {
            notes.extend(desired.iter().find_map(|d| {
                crate::organization::designation_note(d, "The Security Hub hub", target)
            }));
            return Ok(Reading {
                observed: out,
                notes,
            });
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
                    out.push(Observed::new(d.address.clone(), a, mark.clone()));
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
                    // The standards belong to the hub, and so to its owner.
                    let mut o = Observed::new(d.address.clone(), a, mark.clone());
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

    async fn apply_hub(&self, target: &Target, change: &Change) -> Result<(), ServiceError> {
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
                self.mark_hub(&client, &ctx, arn).await?;
            }
            ("securityhub.hub", Action::Create) => {
                // The delegated administrator's hub, which its designation
                // (ordered before) enabled, is taken and marked, never
                // enabled twice; it may take a moment to show (waited for
                // within the settle budget, then enabled if it never came).
                if crate::organization::made_by_designation(change)
                    && let Some(arn) = crate::settle::until_found(
                        self.aws.settle,
                        "the hub the designation of the administrator enables",
                        || hub_arn(&client, &ctx),
                    )
                    .await?
                {
                    self.mark_hub(&client, &ctx, &arn).await?;
                    return Ok(());
                }
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
