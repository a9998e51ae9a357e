//! GuardDuty: an enabled detector in every region with the chosen
//! protection plans. The region's detector is corrected in place (never a
//! second one); a suspended one is resumed; only the plans that differ are
//! sent. Teardown deletes it only when it carries baseline's tag (set when
//! baseline creates it, or adopts it with `guardduty.adopt`).
//!
//! Not every region offers every plan (GuardDuty "Regions and endpoints").
//! A region's detector lists the plans it offers: a plan it does not list
//! is `UNAVAILABLE` there, in the plan and the read alike (never drift),
//! and said in a note. A new detector is created naming no plan (AWS turns
//! on the ones the region offers, but Runtime Monitoring), then read, then
//! set to the baseline's plans among those it lists.

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use aws_sdk_guardduty::types::{
    DetectorFeature, DetectorFeatureConfiguration, DetectorStatus, FeatureStatus,
};
use baseline_engine::{
    Action, Address, Attrs, Change, Declared, Desired, Mode, Observed, Outputs, Reading, Reference,
    Service, ServiceError, Target, Wait, Want,
};
use baseline_spec::{Baseline, GuardDutyFeature, GuardDutyFeatures};
use serde_json::{Value, json};

use crate::error::Ctx;
use crate::{OWNER_TAG_KEY, Owner, account_of, attrs, controls, present_if};

mod organization;

const SERVICE: &str = "guardduty";
const KIND: &str = "guardduty.detector";
/// The detector's id: an attribute of the detector, private data of the
/// organization's changes.
const DETECTOR_ID: &str = "detector_id";
/// A plan the region's detector does not list: not offered there.
const UNAVAILABLE: &str = "UNAVAILABLE";

/// The protection plans, by their API names.
pub const FEATURES: [(GuardDutyFeature, &str); 6] = [
    (GuardDutyFeature::S3DataEvents, "S3_DATA_EVENTS"),
    (GuardDutyFeature::EksAuditLogs, "EKS_AUDIT_LOGS"),
    (
        GuardDutyFeature::EbsMalwareProtection,
        "EBS_MALWARE_PROTECTION",
    ),
    (GuardDutyFeature::RdsLoginEvents, "RDS_LOGIN_EVENTS"),
    (GuardDutyFeature::LambdaNetworkLogs, "LAMBDA_NETWORK_LOGS"),
    (GuardDutyFeature::RuntimeMonitoring, "RUNTIME_MONITORING"),
];

service_type!(
    /// GuardDuty.
    GuardDutyService
);

/// One attribute per protection plan (`feature.S3_DATA_EVENTS`), so that a
/// plan shows exactly which plan changes.
const PREFIX: &str = "feature.";

/// `feature.NAME = ENABLED|DISABLED` for every known plan.
fn wanted_features(features: Option<&GuardDutyFeatures>) -> Vec<(String, Value)> {
    let on = |f: GuardDutyFeature| match features {
        None | Some(GuardDutyFeatures::All(_)) => true,
        Some(GuardDutyFeatures::List(list)) => list.contains(&f),
    };
    FEATURES
        .iter()
        .map(|(f, name)| {
            (
                format!("{PREFIX}{name}"),
                json!(if on(*f) { "ENABLED" } else { "DISABLED" }),
            )
        })
        .collect()
}

#[async_trait]
impl Service for GuardDutyService {
    fn name(&self) -> &'static str {
        SERVICE
    }

    fn scopes(&self) -> (&'static [&'static str], &'static [&'static str]) {
        (
            &[
                organization::KINDS.admin,
                organization::KINDS.config,
                organization::KINDS.members,
                organization::MEMBER_PLANS,
            ],
            &[organization::KINDS.membership],
        )
    }

    fn desired(&self, baseline: &Baseline, target: &Target, mode: Mode) -> Vec<Desired> {
        let Some(spec) = &baseline.guardduty else {
            return Vec::new();
        };
        let on = spec.enabled && mode == Mode::Apply;
        if let Some(org) = &self.aws.organization {
            // Through the delegated administrator: members are covered by
            // the organization; `destroy` and `enabled: false` leave the
            // organization's GuardDuty as it is (docs/safety.md).
            if !on {
                return Vec::new();
            }
            let mut out = organization::desired(org, spec, target);
            if target.account_id == org.admin {
                out.push(designated(self.detector(spec, target, on), org, target));
            } else if target.account_id == org.management {
                // The management account is no ordinary member: it needs
                // GuardDuty (its service-linked role) before the
                // administrator may add it ("Managing GuardDuty accounts
                // with AWS Organizations"). Its own detector, in every
                // region, before the administrator's members; its
                // protection plans are a member's, set by the
                // administrator (`guardduty.member_plans`).
                let mut own = self.detector(spec, target, on);
                if let Want::Present(a) = &mut own.want {
                    a.retain(|k, _| !k.starts_with(PREFIX));
                }
                out.push(own);
            }
            return out;
        }
        vec![self.detector(spec, target, on)]
    }

    async fn read(&self, target: &Target, desired: &[Desired]) -> Result<Reading, ServiceError> {
        crate::organization::read_split(
            desired,
            |kind| kind != KIND,
            |own| async move { self.read_detector(target, &own[0]).await },
            |d| async move {
                let account = account_of(&self.aws, target)?;
                let client = client!(aws_sdk_guardduty, account, &target.region);
                let org = crate::organization::of(&self.aws)?;
                organization::read(&client, org, target, &d).await
            },
        )
        .await
    }

    /// The administrator's organization configuration, members and
    /// members' plans take its detector's id from the detector's change
    /// (known after apply when its designation makes it); the detector
    /// the designation makes is waited for and marked, never created
    /// twice.
    fn declare(&self, change: &Change) -> Declared {
        let kind = change.address.kind.as_str();
        if kind == KIND {
            let mut d = crate::usual(change);
            if change.action == Action::Create && crate::organization::made_by_designation(change) {
                d.preconditions.clear();
                d.waits.push(Wait::Designated);
            }
            return d;
        }
        let mut d = crate::organization::declare(&organization::KINDS, change);
        if kind != organization::KINDS.admin && kind != organization::KINDS.membership {
            d.references.push(Reference {
                into: DETECTOR_ID.into(),
                from: Address {
                    kind: KIND.into(),
                    name: "detector".into(),
                    ..change.address.clone()
                },
                output: DETECTOR_ID.into(),
            });
        }
        d
    }

    async fn apply(&self, target: &Target, change: &Change) -> Result<Outputs, ServiceError> {
        if change.address.kind == KIND {
            return self.apply_detector(target, change).await;
        }
        let account = account_of(&self.aws, target)?;
        let account = &*account;
        let client = client!(aws_sdk_guardduty, account, &target.region);
        organization::apply(&client, account, target, change, self.aws.settle).await?;
        Ok(Outputs::new())
    }
}

/// The delegated administrator's own detector: after the designation,
/// which enables GuardDuty there (`organization::designated`).
fn designated(d: Desired, org: &crate::organization::Organization, target: &Target) -> Desired {
    crate::organization::designated(d, org, &organization::KINDS, target)
}

impl GuardDutyService {
    /// The region's detector.
    fn detector(&self, spec: &baseline_spec::GuardDutySpec, target: &Target, on: bool) -> Desired {
        Desired {
            address: Address::new(target, KIND, "detector"),
            controls: controls(&["GuardDuty.1"]),
            want: present_if(on, {
                let mut a = attrs(&[("enabled", json!(true))]);
                a.extend(wanted_features(spec.features.as_ref()));
                if spec.adopt {
                    a.insert("managed_by".into(), json!(self.aws.owner.mark()));
                }
                a
            }),
            depends_on: Vec::new(),
            private: baseline_engine::Attrs::new(),
        }
    }

    async fn read_detector(&self, target: &Target, d: &Desired) -> Result<Reading, ServiceError> {
        let account = account_of(&self.aws, target)?;
        let account = &*account;
        let client = client!(aws_sdk_guardduty, account, &target.region);
        let Some(mut o) = read_detector(&client, target, &d.address, &self.aws.owner).await? else {
            return Ok(Reading {
                observed: Vec::new(),
                notes: crate::organization::designation_note(d, "The GuardDuty detector", target)
                    .into_iter()
                    .collect(),
            });
        };
        // A plan the region does not offer is wanted as it is: unavailable.
        let lacking: Vec<String> = o
            .attrs
            .iter()
            .filter(|(_, v)| v.as_str() == Some(UNAVAILABLE))
            .map(|(k, _)| k.clone())
            .collect();
        let mut notes = Vec::new();
        if let Want::Present(want) = &d.want {
            let wanted: Vec<&str> = lacking
                .iter()
                .filter(|k| want.get(k.as_str()).and_then(Value::as_str) == Some("ENABLED"))
                .filter_map(|k| k.strip_prefix(PREFIX))
                .collect();
            if !wanted.is_empty() {
                notes.push(format!(
                    "GuardDuty does not offer {} in {}: left out there (not drift)",
                    wanted.join(", "),
                    target.region
                ));
            }
            for k in lacking {
                o.resolved.insert(k, json!(UNAVAILABLE));
            }
        }
        Ok(Reading {
            observed: vec![o],
            notes,
        })
    }

    /// Tags detector `id` with the baseline's mark (adoption, or the one
    /// the administrator's designation made).
    async fn mark_detector(
        &self,
        client: &aws_sdk_guardduty::Client,
        ctx: &Ctx,
        account: &crate::Account,
        target: &Target,
        id: &str,
    ) -> Result<(), ServiceError> {
        let arn = format!(
            "arn:{}:guardduty:{}:{}:detector/{id}",
            account.partition, target.region, account.id
        );
        client
            .tag_resource()
            .resource_arn(arn)
            .tags(OWNER_TAG_KEY, self.aws.owner.mark())
            .send()
            .await
            .map_err(ctx.err("TagResource"))?;
        Ok(())
    }

    async fn apply_detector(
        &self,
        target: &Target,
        change: &Change,
    ) -> Result<Outputs, ServiceError> {
        let account = account_of(&self.aws, target)?;
        let account = &*account;
        let client = client!(aws_sdk_guardduty, account, &target.region);
        let ctx = Ctx::new(target, SERVICE);
        let id = change
            .before
            .as_ref()
            .and_then(|b| b.get("detector_id"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let after = change.after.clone().unwrap_or_default();
        match change.action {
            Action::Create => {
                // The delegated administrator's: its designation (ordered
                // before) enabled GuardDuty there; that detector is taken
                // and marked, never created twice.
                // It may take a moment to show: waited for within the
                // settle budget, then created if it never came.
                let made = if crate::organization::made_by_designation(change) {
                    crate::settle::until_found(
                        self.aws.settle,
                        "the detector the designation of the administrator enables",
                        || detector_id(&client, &ctx),
                    )
                    .await?
                } else {
                    None
                };
                let id = match made {
                    Some(id) => {
                        self.mark_detector(&client, &ctx, account, target, &id)
                            .await?;
                        id
                    }
                    // Naming no plan: a plan the region does not offer
                    // would refuse the whole detector.
                    None => client
                        .create_detector()
                        .enable(true)
                        .tags(OWNER_TAG_KEY, self.aws.owner.mark())
                        .send()
                        .await
                        .map_err(ctx.err("CreateDetector"))?
                        .detector_id()
                        .unwrap_or_default()
                        .to_string(),
                };
                let id = id.as_str();
                let offered: BTreeSet<String> = client
                    .get_detector()
                    .detector_id(id)
                    .send()
                    .await
                    .map_err(ctx.err("GetDetector"))?
                    .features()
                    .iter()
                    .filter_map(|f| f.name().map(|n| n.as_str().to_string()))
                    .collect();
                let planned: Attrs = after
                    .iter()
                    .filter(|(k, _)| {
                        k.strip_prefix(PREFIX)
                            .is_some_and(|name| offered.contains(name))
                    })
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                let features = feature_config(&planned);
                if !features.is_empty() {
                    client
                        .update_detector()
                        .detector_id(id)
                        .set_features(Some(features))
                        .send()
                        .await
                        .map_err(ctx.err("UpdateDetector"))?;
                }
                // The organization's changes are given this id (known
                // after apply).
                return Ok(Outputs::from_iter([(DETECTOR_ID.to_string(), json!(id))]));
            }
            Action::Update => {
                // Only what differs: other plans and settings stay.
                let changed: Attrs = after
                    .iter()
                    .filter(|(k, _)| change.changed.contains(k))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                let features = feature_config(&changed);
                let enable = change.changed.iter().any(|k| k == "enabled");
                if enable || !features.is_empty() {
                    client
                        .update_detector()
                        .detector_id(&id)
                        .set_enable(enable.then_some(true))
                        .set_features((!features.is_empty()).then_some(features))
                        .send()
                        .await
                        .map_err(ctx.err("UpdateDetector"))?;
                }
                if change.changed.iter().any(|k| k == "managed_by") {
                    self.mark_detector(&client, &ctx, account, target, &id)
                        .await?;
                }
            }
            Action::Delete => {
                client
                    .delete_detector()
                    .detector_id(&id)
                    .send()
                    .await
                    .map_err(ctx.err("DeleteDetector"))?;
            }
            other => return Err(crate::unsupported(&change.address.kind, other)),
        }
        Ok(Outputs::new())
    }
}

fn feature_config(after: &Attrs) -> Vec<DetectorFeatureConfiguration> {
    after
        .iter()
        .filter_map(|(k, v)| Some((k.strip_prefix(PREFIX)?, v)))
        .map(|(name, status)| {
            DetectorFeatureConfiguration::builder()
                .name(DetectorFeature::from(name))
                .status(FeatureStatus::from(status.as_str().unwrap_or("DISABLED")))
                .build()
        })
        .collect()
}

/// A detector id as AWS documents it (GuardDuty API reference, DetectorId:
/// 1 to 300 characters; AWS's are 32 lowercase hex digits), checked before
/// it goes into the next request's path: a longer or stranger one is an
/// error of this region, never a request the SDK cannot build.
pub(crate) fn checked_detector_id(id: &str) -> Result<&str, String> {
    if id.is_empty() || id.len() > 300 {
        return Err(format!(
            "a detector id of {} characters (AWS's have 1 to 300)",
            id.chars().count()
        ));
    }
    if !id.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(format!(
            "a detector id with characters other than letters and digits ({})",
            baseline_engine::printable(&id.chars().take(40).collect::<String>())
        ));
    }
    Ok(id)
}

/// The region's detector id, if there is one (the first, if an emulator
/// allows several), checked before it goes into a request path.
pub(crate) async fn detector_id(
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
    let id = checked_detector_id(id).map_err(|why| {
        ctx.err("ListDetectors")(crate::error::SdkMessage(format!(
            "the answer is not AWS's: {why}"
        )))
    })?;
    Ok(Some(id.to_string()))
}

/// The region's detector (the first, if an emulator allows several).
pub async fn read_detector(
    client: &aws_sdk_guardduty::Client,
    target: &Target,
    address: &Address,
    owner: &Owner,
) -> Result<Option<Observed>, ServiceError> {
    let ctx = Ctx::new(target, SERVICE);
    let Some(id) = detector_id(client, &ctx).await? else {
        return Ok(None);
    };
    let id = id.as_str();
    let d = client
        .get_detector()
        .detector_id(id)
        .send()
        .await
        .map_err(ctx.err("GetDetector"))?;
    // Only the plans baseline knows, so that a plan AWS adds later is not drift.
    let features: BTreeMap<String, String> = d
        .features()
        .iter()
        .filter_map(|f| {
            let name = f.name()?.as_str();
            FEATURES.iter().any(|(_, n)| *n == name).then(|| {
                (
                    name.to_string(),
                    f.status().map_or("DISABLED", |s| s.as_str()).to_string(),
                )
            })
        })
        .collect();
    let mark = owner.classify(
        d.tags()
            .and_then(|t| t.get(OWNER_TAG_KEY))
            .map(String::as_str),
    );
    let owned = mark.ours();
    let mut a = attrs(&[
        ("detector_id", json!(id)),
        (
            "enabled",
            json!(d.status() == Some(&DetectorStatus::Enabled)),
        ),
        (
            "managed_by",
            if owned {
                json!(owner.mark())
            } else {
                Value::Null
            },
        ),
    ]);
    // A plan the detector does not list is not offered in its region.
    for (_, name) in FEATURES {
        let status = features.get(name).map_or(UNAVAILABLE, String::as_str);
        a.insert(format!("{PREFIX}{name}"), json!(status));
    }
    let o = Observed::new(address.clone(), a, mark);
    Ok(Some(o))
}
