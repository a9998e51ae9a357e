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
//! An existing trail with the configured name is adopted and corrected
//! (e.g. single-region → multi-region) and tagged as baseline's; any other
//! trail is never touched, but if one already records management events
//! the plan says so: the second copy of management events is charged.

use async_trait::async_trait;
use aws_sdk_cloudtrail::types::{EventSelector, ReadWriteType, Tag};
use aws_sdk_kms::types::KeyState;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use baseline_engine::{
    Action, Address, Attrs, Change, Desired, Mode, Observed, Reading, Service, ServiceError,
    Target, Want,
};
use baseline_spec::{Baseline, Kms, render_bucket};
use serde_json::{Value, json};

use crate::connect::Account;
use crate::error::{Ctx, Refusal};
use crate::{
    OWNER_TAG_KEY, OWNER_TAG_VALUE, account_of, attrs, bucket, clients, controls, present_if,
};

const SERVICE: &str = "cloudtrail";
/// The alias of the key baseline creates for CloudTrail.
pub const KEY_ALIAS: &str = "alias/baseline-cloudtrail";
const TRAIL: &str = "cloudtrail.trail";
const BUCKET: &str = "cloudtrail.bucket";
const KEY: &str = "cloudtrail.kms_key";

service_type!(
    /// CloudTrail.
    CloudTrailService
);

fn trail_arn(partition: &str, region: &str, account: &str, name: &str) -> String {
    format!("arn:{partition}:cloudtrail:{region}:{account}:trail/{name}")
}

/// The bucket policy CloudTrail needs to deliver the trail's logs.
pub fn bucket_policy(
    partition: &str,
    region: &str,
    account: &str,
    bucket_name: &str,
    trail: &str,
) -> Value {
    let arn = format!("arn:{partition}:s3:::{bucket_name}");
    let source = trail_arn(partition, region, account, trail);
    json!({
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "AWSCloudTrailAclCheck", "Effect": "Allow",
             "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "s3:GetBucketAcl",
             "Resource": arn, "Condition": {"StringEquals": {"aws:SourceArn": source}}},
            {"Sid": "AWSCloudTrailWrite", "Effect": "Allow",
             "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "s3:PutObject",
             "Resource": format!("{arn}/AWSLogs/{account}/*"),
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
        bucket: render_bucket(spec.bucket_template(), account, &baseline.home_region),
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
        let on = spec.enabled && mode == Mode::Apply;
        let bucket_addr = Address::new(target, BUCKET, &n.bucket);
        let key_addr = Address::new(target, KEY, KEY_ALIAS);
        let mut out = vec![Desired {
            address: bucket_addr.clone(),
            controls: controls(&["CloudTrail.1"]),
            want: present_if(on, bucket::wanted()),
            depends_on: Vec::new(),
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
                        ("key_policy", json!(true)),
                        ("managed_by", json!(OWNER_TAG_VALUE)),
                    ]),
                ),
                depends_on: Vec::new(),
            });
        }
        let kms_key = match kms {
            Kms::None => Value::Null,
            Kms::Create => json!(KEY_ALIAS),
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
                    (
                        "log_file_validation",
                        json!(spec.log_file_validation.unwrap_or(true)),
                    ),
                    ("s3_bucket", json!(n.bucket)),
                    ("kms_key", kms_key),
                    ("managed_by", json!(OWNER_TAG_VALUE)),
                ]),
            ),
            depends_on: vec![bucket_addr, key_addr],
        });
        out
    }

    async fn read(&self, target: &Target, desired: &[Desired]) -> Result<Reading, ServiceError> {
        let account = account_of(&self.aws, target)?;
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
            let policy = bucket_policy(
                &account.partition,
                &target.region,
                &account.id,
                &d.address.name,
                trail_name,
            );
            let s3 = clients::s3_for(account, &target.region);
            bucket::read(&s3, &ctx, d, &policy).await
        };
        let key = async {
            let Some(d) = find(KEY) else { return Ok(None) };
            let kms = client!(aws_sdk_kms, account, &target.region);
            let wanted = matches!(d.want, Want::Present(_));
            read_key(&kms, target, account, trail_name, d.address.clone(), wanted).await
        };
        let trail = async {
            let Some(d) = find(TRAIL) else {
                return Ok((None, None));
            };
            let kms = client!(aws_sdk_kms, account, &target.region);
            let named_key = match &d.want {
                Want::Present(w) => w
                    .get("kms_key")
                    .and_then(Value::as_str)
                    .filter(|k| k.starts_with("arn:")),
                _ => None,
            };
            let check = async {
                match named_key {
                    Some(arn) => check_key_usable(&kms, target, arn).await,
                    None => Ok(()),
                }
            };
            let client = client!(aws_sdk_cloudtrail, account, &target.region);
            let (checked, key_arn) = futures::join!(check, our_key_arn(&kms, &ctx));
            checked?;
            read_trail(&client, target, &d.address, key_arn?.as_deref()).await
        };
        let (bucket, key, trail) = futures::join!(bucket, key, trail);
        let mut out: Vec<Observed> = Vec::new();
        let mut notes = Vec::new();
        out.extend(bucket?);
        out.extend(key?);
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

    async fn apply(
        &self,
        baseline: &Baseline,
        target: &Target,
        change: &Change,
    ) -> Result<(), ServiceError> {
        let account = account_of(&self.aws, target)?;
        let ctx = Ctx::new(target, SERVICE);
        // The bucket and key policies name the trail of this baseline.
        let trail = baseline
            .cloudtrail
            .as_ref()
            .map_or("", |c| c.trail_name())
            .to_string();
        match (change.address.kind.as_str(), change.action) {
            (BUCKET, Action::Create | Action::Update) => {
                let s3 = clients::s3_for(account, &target.region);
                let policy = bucket_policy(
                    &account.partition,
                    &target.region,
                    &account.id,
                    &change.address.name,
                    &trail,
                );
                bucket::ensure(
                    &s3,
                    &ctx,
                    &change.address.name,
                    &policy,
                    change.action == Action::Create,
                )
                .await?;
            }
            (BUCKET, Action::Delete) => {
                let s3 = clients::s3_for(account, &target.region);
                bucket::delete(&s3, &ctx, &change.address.name).await?;
            }
            (KEY, action) => {
                let kms = client!(aws_sdk_kms, account, &target.region);
                let window = baseline
                    .cloudtrail
                    .as_ref()
                    .and_then(|c| c.kms_deletion_window_days)
                    .unwrap_or(30);
                apply_key(&kms, target, account, &trail, change, action, window).await?;
            }
            (TRAIL, Action::Create | Action::Update) => {
                let client = client!(aws_sdk_cloudtrail, account, &target.region);
                let after = change.after.clone().unwrap_or_default();
                put_trail(
                    &client,
                    target,
                    &change.address.name,
                    &after,
                    change.action == Action::Create,
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
        Ok(())
    }
}

/// The ARN of baseline's CloudTrail key, if it exists.
async fn our_key_arn(kms: &aws_sdk_kms::Client, ctx: &Ctx) -> Result<Option<String>, ServiceError> {
    match kms.describe_key().key_id(KEY_ALIAS).send().await {
        Ok(k) => Ok(k.key_metadata().and_then(|m| m.arn()).map(str::to_string)),
        Err(e) if e.code() == Some("NotFoundException") => Ok(None),
        Err(e) => Err(Box::new(ctx.err("DescribeKey")(e))),
    }
}

/// A key the baseline names must exist and be enabled: said at plan time,
/// not as an error from CloudTrail at apply time.
pub async fn check_key_usable(
    kms: &aws_sdk_kms::Client,
    target: &Target,
    arn: &str,
) -> Result<(), ServiceError> {
    let ctx = Ctx::new(target, "kms");
    match kms.describe_key().key_id(arn).send().await {
        Ok(k) => {
            let state = k.key_metadata().and_then(|m| m.key_state());
            if state == Some(&KeyState::Enabled) {
                Ok(())
            } else {
                Err(Box::new(Refusal {
                    message: format!(
                        "KMS key {arn} is {}, not enabled: it cannot encrypt",
                        state.map_or("in an unknown state", |s| s.as_str())
                    ),
                }))
            }
        }
        Err(e) if e.code() == Some("NotFoundException") => Err(Box::new(Refusal {
            message: format!("KMS key {arn} does not exist (or is in another account or region)"),
        })),
        Err(e) => Err(Box::new(ctx.err("DescribeKey")(e))),
    }
}

/// Reads baseline's CloudTrail key. A key pending deletion is absent for
/// teardown (it is already going) and to be recovered for apply.
async fn read_key(
    kms: &aws_sdk_kms::Client,
    target: &Target,
    account: &Account,
    trail: &str,
    address: Address,
    wanted: bool,
) -> Result<Option<Observed>, ServiceError> {
    let ctx = Ctx::new(target, "kms");
    let meta = match kms.describe_key().key_id(KEY_ALIAS).send().await {
        Ok(k) => k.key_metadata().cloned(),
        Err(e) if e.code() == Some("NotFoundException") => None,
        Err(e) => return Err(Box::new(ctx.err("DescribeKey")(e))),
    };
    let Some(meta) = meta else { return Ok(None) };
    let key_id = meta.key_id().to_string();
    let state = meta.key_state().cloned().unwrap_or(KeyState::Unavailable);
    if state == KeyState::PendingDeletion && !wanted {
        return Ok(None);
    }
    let enabled = state == KeyState::Enabled;
    let rotation = async {
        // Rotation cannot be read from a disabled or pending key.
        if enabled {
            kms.get_key_rotation_status()
                .key_id(&key_id)
                .send()
                .await
                .map(|r| r.key_rotation_enabled())
        } else {
            Ok(false)
        }
    };
    let (tags, rotation, policy) = futures::join!(
        kms.list_resource_tags().key_id(&key_id).send(),
        rotation,
        kms.get_key_policy()
            .key_id(&key_id)
            .policy_name("default")
            .send(),
    );
    let tags = tags.map_err(ctx.err("ListResourceTags"))?;
    let ours = tags
        .tags()
        .iter()
        .any(|t| t.tag_key() == OWNER_TAG_KEY && t.tag_value() == OWNER_TAG_VALUE);
    if !ours {
        return Err(Box::new(Refusal {
            message: format!(
                "{KEY_ALIAS} points at KMS key {key_id}, which baseline did not create (no `{OWNER_TAG_KEY}: {OWNER_TAG_VALUE}` tag); baseline will not take it over: give its ARN as `cloudtrail.kms` to use it"
            ),
        }));
    }
    let rotation = rotation.map_err(ctx.err("GetKeyRotationStatus"))?;
    let policy = policy.map_err(ctx.err("GetKeyPolicy"))?;
    let want_policy = key_policy(&account.partition, &target.region, &account.id, trail);
    let policy_ok = policy
        .policy()
        .and_then(|p| serde_json::from_str::<Value>(p).ok())
        .is_some_and(|have| bucket::contains_statements(&have, &want_policy));
    let mut o = Observed::new(
        address,
        attrs(&[
            ("state", json!(state.as_str())),
            ("rotation", json!(rotation)),
            ("key_policy", json!(policy_ok)),
            ("managed_by", json!(OWNER_TAG_VALUE)),
        ]),
        true,
    );
    if !wanted {
        o.note = Some("scheduled for deletion after the window (cloudtrail.kms_deletion_window_days, 30 days by default); `baseline apply` before then recovers it".into());
    }
    Ok(Some(o))
}

async fn apply_key(
    kms: &aws_sdk_kms::Client,
    target: &Target,
    account: &Account,
    trail: &str,
    change: &Change,
    action: Action,
    window_days: u32,
) -> Result<(), ServiceError> {
    let ctx = Ctx::new(target, "kms");
    let policy = key_policy(&account.partition, &target.region, &account.id, trail).to_string();
    let key_id = match action {
        Action::Create => {
            let created = kms
                .create_key()
                .description("baseline: encrypts the CloudTrail logs")
                .policy(&policy)
                .tags(
                    aws_sdk_kms::types::Tag::builder()
                        .tag_key(OWNER_TAG_KEY)
                        .tag_value(OWNER_TAG_VALUE)
                        .build()
                        .map_err(|e| Box::new(e) as ServiceError)?,
                )
                .send()
                .await
                .map_err(ctx.err("CreateKey"))?;
            let key_id = created
                .key_metadata()
                .map(|m| m.key_id().to_string())
                .unwrap_or_default();
            kms.create_alias()
                .alias_name(KEY_ALIAS)
                .target_key_id(&key_id)
                .send()
                .await
                .map_err(ctx.err("CreateAlias"))?;
            key_id
        }
        _ => {
            let meta = kms
                .describe_key()
                .key_id(KEY_ALIAS)
                .send()
                .await
                .map_err(ctx.err("DescribeKey"))?;
            meta.key_metadata()
                .map(|m| m.key_id().to_string())
                .unwrap_or_default()
        }
    };
    match action {
        Action::Delete => {
            kms.schedule_key_deletion()
                .key_id(&key_id)
                .pending_window_in_days(window_days as i32)
                .send()
                .await
                .map_err(ctx.err("ScheduleKeyDeletion"))?;
            return Ok(());
        }
        Action::Update => {
            let state = change
                .before
                .as_ref()
                .and_then(|b| b.get("state"))
                .and_then(Value::as_str);
            if state == Some("PendingDeletion") {
                // Recover the key a teardown scheduled for deletion.
                kms.cancel_key_deletion()
                    .key_id(&key_id)
                    .send()
                    .await
                    .map_err(ctx.err("CancelKeyDeletion"))?;
            }
            if state != Some("Enabled") {
                kms.enable_key()
                    .key_id(&key_id)
                    .send()
                    .await
                    .map_err(ctx.err("EnableKey"))?;
            }
            kms.put_key_policy()
                .key_id(&key_id)
                .policy_name("default")
                .policy(&policy)
                .send()
                .await
                .map_err(ctx.err("PutKeyPolicy"))?;
        }
        _ => {}
    }
    kms.enable_key_rotation()
        .key_id(&key_id)
        .send()
        .await
        .map_err(ctx.err("EnableKeyRotation"))?;
    Ok(())
}

/// Which management events a trail's selectors record: `All`,
/// `ReadOnly`, `WriteOnly` or `None`.
pub fn management_events(
    selectors: &aws_sdk_cloudtrail::operation::get_event_selectors::GetEventSelectorsOutput,
) -> &'static str {
    let (mut read, mut write) = (false, false);
    for s in selectors.event_selectors() {
        if s.include_management_events() == Some(true) {
            match s.read_write_type() {
                Some(ReadWriteType::ReadOnly) => read = true,
                Some(ReadWriteType::WriteOnly) => write = true,
                _ => (read, write) = (true, true),
            }
        }
    }
    for s in selectors.advanced_event_selectors() {
        let fields = s.field_selectors();
        let management = fields
            .iter()
            .any(|f| f.field() == "eventCategory" && f.equals().iter().any(|v| v == "Management"));
        if management {
            match fields
                .iter()
                .find(|f| f.field() == "readOnly")
                .and_then(|f| f.equals().first())
                .map(String::as_str)
            {
                Some("true") => read = true,
                Some("false") => write = true,
                _ => (read, write) = (true, true),
            }
        }
    }
    match (read, write) {
        (true, true) => "All",
        (true, false) => "ReadOnly",
        (false, true) => "WriteOnly",
        (false, false) => "None",
    }
}

/// Reads the trail baseline names, and notes other trails that already
/// record management events.
async fn read_trail(
    client: &aws_sdk_cloudtrail::Client,
    target: &Target,
    address: &Address,
    our_key: Option<&str>,
) -> Result<(Option<Observed>, Option<String>), ServiceError> {
    let ctx = Ctx::new(target, SERVICE);
    let trails = client
        .describe_trails()
        .include_shadow_trails(true)
        .send()
        .await
        .map_err(ctx.err("DescribeTrails"))?;
    let name = address.name.as_str();
    let ours = trails.trail_list().iter().find(|t| t.name() == Some(name));
    if let Some(t) = ours.filter(|t| t.home_region() != Some(target.region.as_str())) {
        return Err(Box::new(Refusal {
            message: format!(
                "trail {name} exists with home region {}, but the baseline's home region is {}; rename one of them",
                t.home_region().unwrap_or("?"),
                target.region
            ),
        }));
    }
    // The trail's details and the other trails' selectors: one round trip.
    let details = async {
        let Some(t) = ours else { return Ok(None) };
        let arn = t.trail_arn().unwrap_or_default();
        let (status, selectors, tags) = futures::join!(
            client.get_trail_status().name(name).send(),
            client.get_event_selectors().trail_name(name).send(),
            client.list_tags().resource_id_list(arn).send(),
        );
        Ok::<_, ServiceError>(Some((
            t,
            status.map_err(ctx.err("GetTrailStatus"))?,
            selectors.map_err(ctx.err("GetEventSelectors"))?,
            tags.map_err(ctx.err("ListTags"))?,
        )))
    };
    let others = futures::future::join_all(
        trails
            .trail_list()
            .iter()
            .filter(|t| t.name().is_some_and(|n| n != name))
            .map(|t| async move {
                // A trail whose selectors cannot be read is assumed to record
                // management events: new trails do by default.
                let records = match client
                    .get_event_selectors()
                    .trail_name(t.trail_arn().or(t.name()).unwrap_or_default())
                    .send()
                    .await
                {
                    Ok(s) => management_events(&s) != "None",
                    Err(_) => true,
                };
                records.then(|| t.name().unwrap_or_default().to_string())
            }),
    );
    let (details, others) = futures::join!(details, others);
    let mut others: Vec<String> = others.into_iter().flatten().collect();
    others.sort();
    others.dedup();
    let observed = details?.map(|(t, status, selectors, tags)| {
        let ours = tags
            .resource_tag_list()
            .iter()
            .flat_map(|r| r.tags_list())
            .any(|tag| tag.key() == OWNER_TAG_KEY && tag.value() == Some(OWNER_TAG_VALUE));
        let kms_key = match t.kms_key_id() {
            None => Value::Null,
            Some(k)
                if Some(k) == our_key
                    || k == KEY_ALIAS
                    || k.ends_with(&format!(":{KEY_ALIAS}")) =>
            {
                json!(KEY_ALIAS)
            }
            Some(k) => json!(k),
        };
        Observed::new(
            address.clone(),
            attrs(&[
                (
                    "multi_region",
                    json!(t.is_multi_region_trail().unwrap_or(false)),
                ),
                (
                    "include_global_service_events",
                    json!(t.include_global_service_events().unwrap_or(false)),
                ),
                ("logging", json!(status.is_logging().unwrap_or(false))),
                ("management_events", json!(management_events(&selectors))),
                (
                    "log_file_validation",
                    json!(t.log_file_validation_enabled().unwrap_or(false)),
                ),
                ("s3_bucket", json!(t.s3_bucket_name())),
                ("kms_key", kms_key),
                (
                    "managed_by",
                    if ours {
                        json!(OWNER_TAG_VALUE)
                    } else {
                        Value::Null
                    },
                ),
            ]),
            // The trail the baseline names is adopted, and tagged when corrected.
            true,
        )
    });
    let note = (!others.is_empty()).then(|| {
        format!(
            "trail(s) {} already record management events: the copy the baseline's trail records is charged (the first copy of management events is free); baseline leaves other trails alone",
            others.join(", ")
        )
    });
    Ok((observed, note))
}

/// Creates or corrects the trail, its event selectors and its tag, and
/// starts logging.
async fn put_trail(
    client: &aws_sdk_cloudtrail::Client,
    target: &Target,
    name: &str,
    after: &Attrs,
    create: bool,
) -> Result<(), ServiceError> {
    let ctx = Ctx::new(target, SERVICE);
    let flag = |k: &str| after.get(k).and_then(Value::as_bool).unwrap_or(false);
    let bucket_name = after
        .get("s3_bucket")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let kms_key = after.get("kms_key").and_then(Value::as_str);
    let tag = Tag::builder()
        .key(OWNER_TAG_KEY)
        .value(OWNER_TAG_VALUE)
        .build()
        .map_err(|e| Box::new(e) as ServiceError)?;
    if create {
        client
            .create_trail()
            .name(name)
            .s3_bucket_name(bucket_name)
            .is_multi_region_trail(flag("multi_region"))
            .include_global_service_events(flag("include_global_service_events"))
            .enable_log_file_validation(flag("log_file_validation"))
            .set_kms_key_id(kms_key.map(str::to_string))
            .tags_list(tag)
            .send()
            .await
            .map_err(ctx.err("CreateTrail"))?;
    } else {
        let out = client
            .update_trail()
            .name(name)
            .s3_bucket_name(bucket_name)
            .is_multi_region_trail(flag("multi_region"))
            .include_global_service_events(flag("include_global_service_events"))
            .enable_log_file_validation(flag("log_file_validation"))
            // An empty key id turns SSE-KMS off.
            .kms_key_id(kms_key.unwrap_or(""))
            .send()
            .await
            .map_err(ctx.err("UpdateTrail"))?;
        // An adopted trail is tagged: from now on it is baseline's.
        client
            .add_tags()
            .resource_id(out.trail_arn().unwrap_or(name))
            .tags_list(tag)
            .send()
            .await
            .map_err(ctx.err("AddTags"))?;
    }
    // Selectors and logging both need the trail, not each other.
    let selectors = client
        .put_event_selectors()
        .trail_name(name)
        .event_selectors(
            EventSelector::builder()
                .read_write_type(ReadWriteType::All)
                .include_management_events(true)
                .build(),
        )
        .send();
    let logging = async {
        if flag("logging") {
            client.start_logging().name(name).send().await.map(Some)
        } else {
            Ok(None)
        }
    };
    let (selectors, logging) = futures::join!(selectors, logging);
    selectors.map_err(ctx.err("PutEventSelectors"))?;
    logging.map_err(ctx.err("StartLogging"))?;
    Ok(())
}
