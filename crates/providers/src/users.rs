//! What points at a log bucket or a KMS key, in every region of the
//! account: the users that hold its delete (the engine's `used_by` rule).
//!
//! AWS lets several services' configurations name a bucket or a key. Of
//! the services baseline reads, three do: CloudTrail trails
//! (`S3BucketName`, `KmsKeyId`), AWS Config delivery channels
//! (`s3BucketName`, `s3KmsKeyArn`) and GuardDuty's findings export (a
//! detector's publishing destinations: `destinationArn`, `kmsKeyArn`). Any
//! of them can point at either log bucket (a channel someone aimed at the
//! CloudTrail bucket is a user of it), so all are read, in every region
//! enabled for the account, before a bucket or key is deleted. A
//! publishing destination goes with its detector, so its user is the
//! detector. A region that cannot be read keeps the resource: a delete is
//! never guessed.

use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use baseline_engine::{Address, Target};

use crate::clients::Account;
use crate::error::Ctx;

/// One configuration that names a bucket and/or a key.
#[derive(Debug, Clone)]
struct Pointer {
    user: Address,
    bucket: Option<String>,
    kms_key: Option<String>,
}

/// Every trail, delivery channel and findings export of the account, and
/// what could not be read.
#[derive(Debug, Default)]
pub(crate) struct Pointers {
    found: Vec<Pointer>,
    unknown: Option<String>,
}

impl Pointers {
    /// The users of the bucket `name`, and why the list may be incomplete.
    pub fn of_bucket(&self, name: &str) -> (Vec<Address>, Option<String>) {
        let users = self
            .found
            .iter()
            .filter(|p| p.bucket.as_deref() == Some(name))
            .map(|p| p.user.clone())
            .collect();
        (users, self.unknown.clone())
    }

    /// The users of the key `arn` (named by its ARN, its id, or `alias`).
    pub fn of_key(&self, arn: &str, alias: &str) -> (Vec<Address>, Option<String>) {
        let users = self
            .found
            .iter()
            .filter(|p| {
                p.kms_key
                    .as_deref()
                    .is_some_and(|k| names_key(k, arn, alias))
            })
            .map(|p| p.user.clone())
            .collect();
        (users, self.unknown.clone())
    }
}

/// Whether a `KmsKeyId` / `s3KmsKeyArn` names the key `arn` (by ARN, key
/// id, or `alias`, bare or as an alias ARN).
pub(crate) fn names_key(kms_key_id: &str, arn: &str, alias: &str) -> bool {
    kms_key_id == arn
        || arn.ends_with(&format!("/{kms_key_id}"))
        || kms_key_id == alias
        || kms_key_id.ends_with(&format!(":{alias}"))
}

/// Reads every trail, delivery channel and GuardDuty findings export of
/// the account's enabled regions.
pub(crate) async fn read(account: &Account, target: &Target) -> Pointers {
    let ctx = Ctx::new(target, "ec2");
    let regions = match client!(aws_sdk_ec2, account, &target.region)
        .describe_regions()
        .send()
        .await
    {
        Ok(r) => r
            .regions()
            .iter()
            .filter(|r| r.opt_in_status() != Some("not-opted-in"))
            .filter_map(|r| r.region_name().map(str::to_string))
            .collect::<Vec<_>>(),
        Err(e) => {
            let e = ctx.err("DescribeRegions")(e);
            return Pointers {
                found: Vec::new(),
                unknown: Some(format!(
                    "the account's regions could not be listed to find the trails, delivery channels and findings exports that use it ({})",
                    baseline_engine::error_chain(&e)
                )),
            };
        }
    };
    let address = |region: &str, kind: &str, name: &str| Address {
        account: target.account_id.clone(),
        region: region.to_string(),
        kind: kind.to_string(),
        name: name.to_string(),
    };
    let reads = regions.iter().map(|region| async move {
        let config = client!(aws_sdk_config, account, region);
        let cloudtrail = client!(aws_sdk_cloudtrail, account, region);
        // The trails whose home is this region (shadow copies are read in
        // their home region).
        let (channels, trails, exports) = futures::join!(
            config.describe_delivery_channels().send(),
            cloudtrail
                .describe_trails()
                .include_shadow_trails(false)
                .send(),
            findings_exports(account, region),
        );
        (region.clone(), channels, trails, exports)
    });
    let mut out = Pointers::default();
    let mut unread = Vec::new();
    for (region, channels, trails, exports) in futures::future::join_all(reads).await {
        match exports {
            Ok(found) => out
                .found
                .extend(found.into_iter().map(|(bucket, key)| Pointer {
                    user: address(&region, "guardduty.detector", "detector"),
                    bucket: Some(bucket),
                    kms_key: key,
                })),
            Err(e) => unread.push(format!("the GuardDuty findings exports of {region} ({e})")),
        }
        match channels {
            Ok(o) => out
                .found
                .extend(o.delivery_channels().iter().map(|c| Pointer {
                    // One channel per region: the engine's address of it.
                    user: address(&region, "config.delivery_channel", "channel"),
                    bucket: c.s3_bucket_name().map(str::to_string),
                    kms_key: c.s3_kms_key_arn().map(str::to_string),
                })),
            Err(e) => unread.push(format!(
                "the delivery channels of {region} ({})",
                e.code().unwrap_or("error")
            )),
        }
        match trails {
            Ok(o) => out.found.extend(
                o.trail_list()
                    .iter()
                    .filter(|t| t.home_region().is_none_or(|h| h == region))
                    .map(|t| Pointer {
                        user: address(&region, "cloudtrail.trail", t.name().unwrap_or_default()),
                        bucket: t.s3_bucket_name().map(str::to_string),
                        kms_key: t.kms_key_id().filter(|k| !k.is_empty()).map(str::to_string),
                    }),
            ),
            Err(e) => unread.push(format!(
                "the trails of {region} ({})",
                e.code().unwrap_or("error")
            )),
        }
    }
    if !unread.is_empty() {
        out.unknown = Some(format!("{} could not be read", unread.join(", ")));
    }
    out
}

/// The bucket name and key ARN of every publishing destination of the
/// region's detectors; an error names the operation and AWS's code.
async fn findings_exports(
    account: &Account,
    region: &str,
) -> Result<Vec<(String, Option<String>)>, String> {
    let guardduty = client!(aws_sdk_guardduty, account, region);
    let code =
        |op: &str, e: &dyn ProvideErrorMetadata| format!("{op}: {}", e.code().unwrap_or("error"));
    let ids = guardduty
        .list_detectors()
        .send()
        .await
        .map_err(|e| code("ListDetectors", &e))?;
    let mut out = Vec::new();
    for id in ids.detector_ids() {
        let id = crate::guardduty::checked_detector_id(id)
            .map_err(|why| format!("ListDetectors: {why}"))?;
        let list = guardduty
            .list_publishing_destinations()
            .detector_id(id)
            .send()
            .await
            .map_err(|e| code("ListPublishingDestinations", &e))?;
        for d in list.destinations() {
            let Some(destination) = d.destination_id() else {
                continue;
            };
            let one = guardduty
                .describe_publishing_destination()
                .detector_id(id)
                .destination_id(destination)
                .send()
                .await
                .map_err(|e| code("DescribePublishingDestination", &e))?;
            let Some(props) = one.destination_properties() else {
                continue;
            };
            // `arn:aws:s3:::bucket` or `arn:aws:s3:::bucket/prefix`.
            let bucket = props
                .destination_arn()
                .and_then(|a| a.split_once(":::"))
                .map(|(_, rest)| rest.split('/').next().unwrap_or(rest).to_string());
            if let Some(bucket) = bucket {
                let key = props.kms_key_arn().filter(|k| !k.is_empty());
                out.push((bucket, key.map(str::to_string)));
            }
        }
    }
    Ok(out)
}
