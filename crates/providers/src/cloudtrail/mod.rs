//! CloudTrail: one multi-region trail in the home region, logging
//! read and write management events, log file validation on, into a log
//! bucket of baseline's with the CloudTrail bucket policy; optionally
//! encrypted with a customer KMS key that baseline creates (rotation on,
//! the key policy CloudTrail needs) or one the baseline names.
//!
//! Order: bucket and key → trail. Teardown: the trail is deleted, the
//! bucket emptied and deleted, the key scheduled for deletion (it can be
//! recovered during the window; `apply` recovers it).
//!
//! An existing trail with the configured name is corrected in place,
//! attribute by attribute (e.g. single-region → multi-region); it becomes
//! baseline's (tagged, so that `destroy` deletes it) only with
//! `cloudtrail.adopt`. Any other trail is never touched, but if one already
//! records management events the plan says so: the second copy of
//! management events is charged. AWS Control Tower's trail is never
//! changed. The key is deleted only when it is the one pinned: tagged,
//! the alias's target, and the key the trail uses (docs/safety.md).

mod key;
mod orphan;
mod selectors;
mod trail;

use async_trait::async_trait;
use baseline_engine::{
    Action, Address, Change, Declared, Desired, Mode, Observed, Outputs, Ownership, Precondition,
    Reading, Reference, Service, ServiceError, Target, Wait, Want,
};
use baseline_spec::{Baseline, Kms, render_bucket};
use serde_json::{Value, json};

use crate::error::Ctx;
use crate::{Owner, account_of, attrs, bucket, clients, controls, present_if};

use key::{alias_target, apply_key, read_key};
pub use trail::management_events;
use trail::{put_trail, read_trail};

const SERVICE: &str = "cloudtrail";
const TRAIL: &str = "cloudtrail.trail";
const BUCKET: &str = "cloudtrail.bucket";
const KEY: &str = "cloudtrail.kms_key";
/// The key's ARN: an attribute of the key, the trail's private value.
const KEY_ARN: &str = "key_arn";

service_type!(
    /// CloudTrail.
    CloudTrailService
);

fn trail_arn(partition: &str, region: &str, account: &str, name: &str) -> String {
    format!("arn:{partition}:cloudtrail:{region}:{account}:trail/{name}")
}

/// The bucket policy CloudTrail needs to deliver the trail's logs. The
/// statements' `Sid`s end in the baseline's [`Owner::sid_suffix`]: two
/// baselines' trails writing to one bucket each keep their statements.
pub fn bucket_policy(
    partition: &str,
    region: &str,
    account: &str,
    bucket_name: &str,
    trail: &str,
    sid_suffix: &str,
) -> Value {
    let arn = format!("arn:{partition}:s3:::{bucket_name}");
    let source = trail_arn(partition, region, account, trail);
    json!({
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": format!("AWSCloudTrailAclCheck{sid_suffix}"), "Effect": "Allow",
             "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "s3:GetBucketAcl",
             "Resource": arn, "Condition": {"StringEquals": {"aws:SourceArn": source}}},
            {"Sid": format!("AWSCloudTrailWrite{sid_suffix}"), "Effect": "Allow",
             "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "s3:PutObject",
             // Under any key prefix: an adopted trail keeps its own, and
             // CloudTrail refuses a bucket it may not write under it.
             "Resource": format!("{arn}/*AWSLogs/{account}/*"),
             "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control", "aws:SourceArn": source}}},
            bucket::deny_insecure_transport(&arn)
        ]
    })
}

/// The key policy CloudTrail needs: the account administers the key,
/// CloudTrail encrypts with it for this account's trails, principals of the
/// account decrypt the log files.
pub fn key_policy(partition: &str, region: &str, account: &str, trail: &str) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "EnableAccountAdministration", "Effect": "Allow",
             "Principal": {"AWS": format!("arn:{partition}:iam::{account}:root")},
             "Action": "kms:*", "Resource": "*"},
            {"Sid": "AllowCloudTrailEncrypt", "Effect": "Allow",
             "Principal": {"Service": "cloudtrail.amazonaws.com"},
             "Action": "kms:GenerateDataKey*", "Resource": "*",
             "Condition": {
                "StringEquals": {"aws:SourceArn": trail_arn(partition, region, account, trail)},
                "StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn": format!("arn:{partition}:cloudtrail:*:{account}:trail/*")}}},
            {"Sid": "AllowCloudTrailDescribeKey", "Effect": "Allow",
             "Principal": {"Service": "cloudtrail.amazonaws.com"},
             "Action": "kms:DescribeKey", "Resource": "*"},
            {"Sid": "AllowAccountDecryptLogs", "Effect": "Allow",
             "Principal": {"AWS": "*"},
             "Action": ["kms:Decrypt", "kms:ReEncryptFrom"], "Resource": "*",
             "Condition": {
                "StringEquals": {"kms:CallerAccount": account},
                "StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn": format!("arn:{partition}:cloudtrail:*:{account}:trail/*")}}}
        ]
    })
}

struct Names {
    trail: String,
    bucket: String,
}

fn names(baseline: &Baseline, account: &str) -> Option<Names> {
    let spec = baseline.cloudtrail.as_ref()?;
    Some(Names {
        trail: spec.trail_name().to_string(),
        bucket: render_bucket(
            &spec.bucket_template(baseline.name.as_deref()),
            account,
            &baseline.home_region,
        ),
    })
}

#[async_trait]
impl Service for CloudTrailService {
    fn name(&self) -> &'static str {
        SERVICE
    }

    fn desired(&self, baseline: &Baseline, target: &Target, mode: Mode) -> Vec<Desired> {
        let (Some(spec), true) = (&baseline.cloudtrail, target.home) else {
            return Vec::new();
        };
        let n = names(baseline, &target.account_id).expect("cloudtrail section present");
        let owner = &self.aws.owner;
        let alias = owner.key_alias();
        let on = spec.enabled && mode == Mode::Apply;
        let bucket_addr = Address::new(target, BUCKET, &n.bucket);
        let key_addr = Address::new(target, KEY, &alias);
        let unowned = bucket::Unowned::of(
            &n.bucket,
            &owner.default_of(baseline_spec::DEFAULT_CLOUDTRAIL_BUCKET),
            &target.account_id,
            &target.region,
            spec.adopt,
        );
        let partition = self
            .aws
            .account(&target.account_id)
            .map_or_else(|| "aws".to_string(), |a| a.partition.clone());
        let partition = partition.as_str();
        let policy = bucket_policy(
            partition,
            &target.region,
            &target.account_id,
            &n.bucket,
            &n.trail,
            &owner.sid_suffix(),
        );
        let mut out = vec![Desired {
            address: bucket_addr.clone(),
            controls: controls(&["CloudTrail.1"]),
            want: present_if(on, bucket::wanted(unowned, owner.mark(), policy)),
            depends_on: Vec::new(),
            private: bucket::adopting(spec.adopt && on),
        }];
        // The key: managed when the baseline creates it, and on teardown
        // whenever it exists (a key left over from `kms: create` is ours).
        let kms = spec.kms_choice();
        if kms == Kms::Create || !on {
            out.push(Desired {
                address: key_addr.clone(),
                controls: controls(&["CloudTrail.2"]),
                want: present_if(
                    on && kms == Kms::Create,
                    attrs(&[
                        ("state", json!("Enabled")),
                        ("rotation", json!(true)),
                        (
                            "policy",
                            key_policy(partition, &target.region, &target.account_id, &n.trail),
                        ),
                        ("managed_by", json!(owner.mark())),
                    ]),
                ),
                depends_on: Vec::new(),
                // How long a scheduled deletion waits (teardown).
                private: attrs(&[(
                    "deletion_window_days",
                    json!(spec.kms_deletion_window_days.unwrap_or(30)),
                )]),
            });
        }
        let kms_key = match kms {
            Kms::None => Value::Null,
            Kms::Create => json!(alias),
            Kms::Key(arn) => json!(arn),
        };
        out.push(Desired {
            address: Address::new(target, TRAIL, &n.trail),
            controls: controls(&["CloudTrail.1", "CloudTrail.2", "CloudTrail.4"]),
            want: present_if(
                on,
                attrs(&[
                    ("multi_region", json!(true)),
                    ("include_global_service_events", json!(true)),
                    ("logging", json!(true)),
                    ("management_events", json!("All")),
                    ("event_selectors", selectors::all_management()),
                    (
                        "log_file_validation",
                        json!(spec.log_file_validation.unwrap_or(true)),
                    ),
                    ("s3_bucket", json!(n.bucket)),
                    ("kms_key", kms_key),
                ])
                .into_iter()
                .chain(
                    spec.adopt
                        .then(|| ("managed_by".to_string(), json!(owner.mark()))),
                )
                .collect(),
            ),
            depends_on: vec![bucket_addr, key_addr],
            private: baseline_engine::Attrs::new(),
        });
        out
    }

    /// A key of this baseline's mark that no alias names (its address is
    /// the key's ARN, orphan.rs): a manual action, in `plan` and
    /// `destroy` alike. baseline does not delete it: a mark alone can be
    /// written on any key (CreateKey's tagging cannot be scoped to the new
    /// key), so without baseline's alias nothing proves baseline made it,
    /// and a policy that let the role delete such keys would let it delete
    /// any unaliased key it tagged (docs/decisions.md).
    fn discovered(
        &self,
        _baseline: &Baseline,
        _target: &Target,
        _mode: Mode,
        observed: &Observed,
    ) -> Option<Desired> {
        if observed.address.kind != KEY || !observed.address.name.starts_with("arn:") {
            return None;
        }
        let arn = &observed.address.name;
        Some(Desired {
            address: observed.address.clone(),
            controls: controls(&["CloudTrail.2"]),
            want: Want::Check {
                attrs: attrs(&[("state", json!("PendingDeletion"))]),
                instructions: format!(
                    "KMS key {arn} carries this baseline's mark and description but no alias: a run that stopped between CreateKey and CreateAlias, or two applies at once, made it, and it is not the trail's key. baseline does not delete a key its alias does not prove its own: check that nothing uses it, then `aws kms schedule-key-deletion --key-id {arn} --pending-window-in-days 7`"
                ),
            },
            depends_on: Vec::new(),
            private: baseline_engine::Attrs::new(),
        })
    }

    async fn read(&self, target: &Target, desired: &[Desired]) -> Result<Reading, ServiceError> {
        let account = account_of(&self.aws, target)?;
        let account = &*account;
        let owner = &self.aws.owner;
        let alias = owner.key_alias();
        let ctx = Ctx::new(target, SERVICE);
        let trail_name = desired
            .iter()
            .find(|x| x.address.kind == TRAIL)
            .map_or("", |x| x.address.name.as_str());
        let find = |kind: &str| desired.iter().find(|d| d.address.kind == kind);
        // Bucket, key and trail are read at once.
        let bucket = async {
            let Some(d) = find(BUCKET) else {
                return Ok(None);
            };
            let s3 = clients::s3_for(account, &target.region);
            let unowned = bucket::Unowned::of(
                &d.address.name,
                &owner.default_of(baseline_spec::DEFAULT_CLOUDTRAIL_BUCKET),
                &account.id,
                &d.address.region,
                find(TRAIL).is_some_and(bucket::wants_mark) || bucket::adopts(d),
            );
            bucket::read(&s3, &ctx, d, unowned, owner).await
        };
        // The trails and the key's alias are asked first, at once (both the
        // key and the trail need them); then the details of each.
        let client = client!(aws_sdk_cloudtrail, account, &target.region);
        let kms = client!(aws_sdk_kms, account, &target.region);
        let need_trails = !desired.is_empty();
        let trails = async {
            if !need_trails {
                return Ok(Vec::new());
            }
            client
                .describe_trails()
                .include_shadow_trails(true)
                .send()
                .await
                .map(|t| t.trail_list().to_vec())
                .map_err(|e| Box::new(ctx.err("DescribeTrails")(e)) as ServiceError)
        };
        let named_key = find(TRAIL).and_then(|d| match &d.want {
            Want::Present(w) => w
                .get("kms_key")
                .and_then(Value::as_str)
                .filter(|k| k.starts_with("arn:")),
            _ => None,
        });
        let check = async {
            match named_key {
                Some(arn) => crate::kms::check_key_usable(&kms, target, arn).await,
                None => Ok(()),
            }
        };
        let (bucket, trails, key_meta, checked) =
            futures::join!(bucket, trails, alias_target(&kms, &ctx, &alias), check);
        let trails = trails?;
        let key_meta = key_meta?;
        checked?;
        let our_key = key_meta.as_ref().and_then(|m| m.arn()).map(str::to_string);
        let key = async {
            let Some(d) = find(KEY) else { return Ok(None) };
            let wanted = match &d.want {
                Want::Present(a) => a.get("policy"),
                _ => None,
            };
            read_key(
                &kms,
                target,
                trail_name,
                d.address.clone(),
                wanted,
                key_meta.clone(),
                &trails,
                owner,
            )
            .await
        };
        let trail = async {
            let Some(d) = find(TRAIL) else {
                return Ok((None, None));
            };
            read_trail(
                &client,
                target,
                &d.address,
                our_key.as_deref(),
                &trails,
                owner,
            )
            .await
        };
        let (key, trail) = futures::join!(key, trail);
        let mut out: Vec<Observed> = Vec::new();
        let mut notes = Vec::new();
        let mut bucket = bucket?;
        let mut key = key?;
        // To be deleted: only once no trail or delivery channel, in any
        // region, delivers to it or encrypts with it.
        let absent = |kind: &str| find(kind).is_some_and(|d| matches!(d.want, Want::Absent));
        // Keys of this baseline's mark that no alias names (orphan.rs),
        // once its own key is there or goes (before, its create adopts
        // one): each a manual action of the plan (`discovered`).
        let search = if absent(KEY) || (key.is_some() && find(KEY).is_some()) {
            orphan::orphans(&kms, &Ctx::new(target, "kms"), owner.mark()).await
        } else {
            Ok(Vec::new())
        };
        // A side search: when it fails, the plan says so and the rest
        // of the read stands.
        let found = search.unwrap_or_else(|e| {
            notes.push(format!(
                "the keys of this baseline's mark that no alias names could not be listed: {}",
                baseline_engine::error_chain(e.as_ref())
            ));
            Vec::new()
        });
        // The alias's own key is never one, even while ListAliases does
        // not list a new alias yet (KMS is eventually consistent).
        let ours = key_meta.as_ref().map(|m| m.key_id().to_string());
        let orphaned: Vec<Observed> = found
            .into_iter()
            .filter(|(id, _)| Some(id) != ours.as_ref())
            .map(|(_, arn)| {
                Observed::new(
                    Address::new(target, KEY, &arn),
                    attrs(&[("key_arn", json!(arn)), ("state", json!("Enabled"))]),
                    Ownership::Ours,
                )
            })
            .collect();
        if (bucket.is_some() && absent(BUCKET)) || (key.is_some() && absent(KEY)) {
            let pointers = crate::users::read(account, target).await;
            if let (Some(o), true) = (&mut bucket, absent(BUCKET)) {
                (o.used_by, o.users_unknown) = pointers.of_bucket(&o.address.name);
            }
            if let (Some(o), true) = (&mut key, absent(KEY)) {
                let arn = o
                    .attrs
                    .get("key_arn")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string();
                let (users, unknown) = pointers.of_key(&arn, &alias);
                o.used_by = users;
                // The alias check of the read (a trail of baseline's on
                // another key) stays the first reason.
                o.users_unknown = o.users_unknown.take().or(unknown);
            }
        }
        out.extend(bucket);
        out.extend(key);
        out.extend(orphaned);
        match trail? {
            // Shown with the change to the trail, if there is one.
            (Some(mut o), note) => {
                o.note = note;
                out.push(o);
            }
            (None, note) => notes.extend(note),
        }
        Ok(Reading {
            observed: out,
            notes,
        })
    }

    /// The trail takes the ARN of the key baseline makes from the key's
    /// change (known after apply when the plan creates the key); a key
    /// or bucket to delete must still be baseline's and used by nothing
    /// new; the writes CloudTrail and KMS check are tried again while a
    /// policy or tag written moments ago takes effect.
    fn declare(&self, change: &Change) -> Declared {
        let mut d = crate::usual(change);
        let alias = self.aws.owner.key_alias();
        match (change.address.kind.as_str(), change.action) {
            (KEY, Action::Create) => d.waits.push(Wait::PolicyInEffect),
            (KEY, Action::Update | Action::Delete) => {
                // The key the plan read, not another the alias names now.
                d.preconditions.push(Precondition::Unchanged {
                    attr: KEY_ARN.into(),
                });
            }
            (TRAIL, Action::Create | Action::Update) => {
                d.waits.push(Wait::PolicyInEffect);
                if change.writes("kms_key") && change.planned("kms_key") == &json!(alias) {
                    d.references.push(Reference {
                        into: KEY_ARN.into(),
                        from: Address {
                            kind: KEY.into(),
                            name: alias,
                            ..change.address.clone()
                        },
                        output: KEY_ARN.into(),
                    });
                }
            }
            _ => {}
        }
        match (change.address.kind.as_str(), change.action) {
            (BUCKET, _) => d.preconditions = bucket::preconditions(change),
            (KEY, Action::Delete) => d.preconditions.push(Precondition::UsersUnchanged),
            _ => {}
        }
        d
    }

    async fn apply(&self, target: &Target, change: &Change) -> Result<Outputs, ServiceError> {
        let account = account_of(&self.aws, target)?;
        let account = &*account;
        let owner: &Owner = &self.aws.owner;
        let ctx = Ctx::new(target, SERVICE);
        match (change.address.kind.as_str(), change.action) {
            (BUCKET, Action::Create | Action::Update) => {
                let s3 = clients::s3_for(account, &target.region);
                bucket::ensure(&s3, &ctx, change, owner.mark(), self.aws.settle).await?;
            }
            (BUCKET, Action::Delete) => {
                let s3 = clients::s3_for(account, &target.region);
                bucket::delete(&s3, &ctx, change).await?;
            }
            (KEY, _) => {
                let kms = client!(aws_sdk_kms, account, &target.region);
                return apply_key(&kms, target, account, change, owner, self.aws.settle).await;
            }
            (TRAIL, Action::Create | Action::Update) => {
                let client = client!(aws_sdk_cloudtrail, account, &target.region);
                let mut after = change.after.clone().unwrap_or_default();
                // The trail names the key by its ARN, never by the alias:
                // that pins the key (a changed alias cannot redirect it).
                // The ARN is the one the plan read, or the one the key's
                // step gave (known after apply).
                if change.writes("kms_key")
                    && after.get("kms_key") == Some(&json!(owner.key_alias()))
                {
                    let arn = change
                        .private
                        .get(KEY_ARN)
                        .and_then(Value::as_str)
                        .ok_or_else(|| {
                            crate::refusal(format!(
                                "the plan does not pin the key of {}; make the plan again",
                                owner.key_alias()
                            ))
                        })?;
                    // Still baseline's key (another resource than this
                    // change's, so not one of its preconditions): its
                    // mark read again before the trail is pointed at it.
                    let kms = client!(aws_sdk_kms, account, &target.region);
                    let tags = kms
                        .list_resource_tags()
                        .key_id(arn)
                        .send()
                        .await
                        .map_err(Ctx::new(target, "kms").err("ListResourceTags"))?;
                    if !owner
                        .classify_tags(tags.tags().iter().map(|t| (t.tag_key(), t.tag_value())))
                        .ours()
                    {
                        return Err(Box::new(baseline_engine::Failure {
                            kind: baseline_engine::ErrorKind::Stale,
                            message: format!(
                                "{}: plan is stale: key {arn} no longer carries this baseline's mark; nothing was written; run `baseline plan` again",
                                change.address
                            ),
                        }));
                    }
                    after.insert("kms_key".into(), json!(arn));
                }
                put_trail(
                    &client,
                    target,
                    change,
                    &after,
                    owner.mark(),
                    self.aws.settle,
                )
                .await?;
            }
            (TRAIL, Action::Delete) => {
                client!(aws_sdk_cloudtrail, account, &target.region)
                    .delete_trail()
                    .name(&change.address.name)
                    .send()
                    .await
                    .map_err(ctx.err("DeleteTrail"))?;
            }
            (kind, action) => return Err(crate::unsupported(kind, action)),
        }
        Ok(Outputs::new())
    }
}
