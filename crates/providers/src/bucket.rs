//! Log buckets that baseline creates for a service (AWS Config,
//! CloudTrail): created private, encrypted, tagged as ours, with the
//! service's bucket policy; deleted (emptied first, every version) only
//! when they carry our tag. A bucket of the configured name that baseline
//! did not create is refused under the default name, corrected in place
//! (never deleted) when the baseline names it, and taken over with the
//! section's `adopt: true` ([`Unowned`]); its policy keeps its statements. Every call but CreateBucket passes
//! `ExpectedBucketOwner`: a bucket of the same name in another account is
//! never read, written or emptied.

use aws_sdk_s3::types::{
    BucketLocationConstraint, CreateBucketConfiguration, Delete, ObjectIdentifier,
    PublicAccessBlockConfiguration, ServerSideEncryption, ServerSideEncryptionByDefault,
    ServerSideEncryptionConfiguration, ServerSideEncryptionRule, Tag,
};
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use baseline_engine::{Attrs, Observed};
use serde_json::{Value, json};

use crate::error::{AwsError, Ctx, Refusal, SdkMessage};
use crate::{Mark, OWNER_TAG_KEY, Owner};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The statement every log bucket carries: no plain-HTTP access (S3.5).
pub(crate) fn deny_insecure_transport(bucket_arn: &str) -> Value {
    json!({"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
           "Resource": [bucket_arn, format!("{bucket_arn}/*")],
           "Condition": {"Bool": {"aws:SecureTransport": "false"}}})
}

/// What becomes of a bucket of the configured name that exists without
/// baseline's tag (docs/safety.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unowned {
    /// The default name: most likely someone else's bucket; an error.
    Refuse,
    /// The baseline names it (e.g. the bucket an existing trail writes
    /// to, as `baseline init` writes it): its settings are corrected in
    /// place, its policy statements added to, and it is never deleted.
    Correct,
    /// The section says `adopt: true`: tagged, and baseline's from then on.
    Adopt,
}

impl Unowned {
    /// The rule for the bucket `name` in the home region `region` of
    /// `account`, whose default name is `default_template`, in a section
    /// with `adopt`.
    pub(crate) fn of(
        name: &str,
        default_template: &str,
        account: &str,
        region: &str,
        adopt: bool,
    ) -> Unowned {
        let named = name != baseline_spec::render_bucket(default_template, account, region);
        match (named, adopt) {
            (_, true) => Unowned::Adopt,
            (true, false) => Unowned::Correct,
            (false, false) => Unowned::Refuse,
        }
    }
}

/// Whether a desired resource asks for baseline's ownership mark (its
/// section says `adopt: true`).
pub(crate) fn wants_mark(d: &baseline_engine::Desired) -> bool {
    matches!(&d.want, baseline_engine::Want::Present(a) if a.contains_key("managed_by"))
}

/// The default encryption baseline gives a log bucket that has none
/// (SSE-S3); a bucket with its own (SSE-KMS with a team's key) keeps it.
pub(crate) const DEFAULT_ENCRYPTION: &str = "AES256";

/// The attributes a compliant log bucket has (the ownership mark, `mark`,
/// only where baseline owns or adopts it). `policy` is the service's
/// statements; the read resolves it, and the encryption, against the
/// bucket's own ([`read`]).
pub(crate) fn wanted(unowned: Unowned, mark: &str, policy: Value) -> Attrs {
    let mut a = Attrs::new();
    if unowned != Unowned::Correct {
        a.insert("managed_by".into(), json!(mark));
    }
    a.insert("public_access_blocked".into(), json!(true));
    a.insert("encryption".into(), json!(DEFAULT_ENCRYPTION));
    a.insert("policy".into(), policy);
    a
}

/// The service's statements a log bucket's wanted attributes carry.
fn wanted_policy(desired: &baseline_engine::Desired) -> Option<&Value> {
    match &desired.want {
        baseline_engine::Want::Present(a) => a.get("policy"),
        _ => None,
    }
}

/// What a teardown of a log bucket does, shown with the change.
pub(crate) const DELETE_NOTE: &str =
    "emptied (every object version, so the logs are gone) and deleted";

/// Reads a log bucket. `Ok(None)`: it does not exist. A bucket that exists
/// but is not ours follows `unowned`; one another baseline marked is
/// never changed (`Ownership::OtherTool`). The wanted policy and encryption
/// are resolved against the bucket's own: its policy with the service's
/// statements merged in (every other statement kept), its own default
/// encryption kept when it has one.
pub(crate) async fn read(
    s3: &aws_sdk_s3::Client,
    ctx: &Ctx,
    desired: &baseline_engine::Desired,
    unowned: Unowned,
    owner: &Owner,
) -> Result<Option<Observed>, BoxError> {
    let address = desired.address.clone();
    let note =
        matches!(desired.want, baseline_engine::Want::Absent).then(|| DELETE_NOTE.to_string());
    let name = address.name.as_str();
    // All five at once: one round trip. When the bucket does not exist the
    // others fail too, and only HeadBucket's answer counts.
    let (head, tagging, pab, enc, pol) = futures::join!(
        s3.head_bucket()
            .bucket(name)
            .expected_bucket_owner(&ctx.account)
            .send(),
        s3.get_bucket_tagging()
            .bucket(name)
            .expected_bucket_owner(&ctx.account)
            .send(),
        s3.get_public_access_block()
            .bucket(name)
            .expected_bucket_owner(&ctx.account)
            .send(),
        s3.get_bucket_encryption()
            .bucket(name)
            .expected_bucket_owner(&ctx.account)
            .send(),
        s3.get_bucket_policy()
            .bucket(name)
            .expected_bucket_owner(&ctx.account)
            .send(),
    );
    if let Err(e) = head {
        let status = e.raw_response().map(|r| r.status().as_u16());
        return match status {
            Some(404) => Ok(None),
            Some(403) => Err(Box::new(Refusal {
                message: format!(
                    "HeadBucket on bucket {name} was refused (403 Forbidden): it belongs to another account (choose another name in the baseline), or these credentials lack s3:ListBucket on it (`baseline policy` prints what they need)"
                ),
            })),
            _ => Err(Box::new(ctx.err("HeadBucket")(e))),
        };
    }
    let tags = match tagging {
        Ok(t) => t.tag_set().to_vec(),
        Err(e) if e.code() == Some("NoSuchTagSet") => Vec::new(),
        Err(e) => return Err(Box::new(ctx.err("GetBucketTagging")(e))),
    };
    let mark = owner.classify_tags(tags.iter().map(|t| (t.key(), t.value())));
    // The bucket's own tags: an adoption writes them back with baseline's
    // mark added (PutBucketTagging replaces the whole set).
    let own_tags: serde_json::Map<String, Value> = tags
        .iter()
        .map(|t| (t.key().to_string(), json!(t.value())))
        .collect();
    let ours = mark.ours();
    if mark == Mark::Unmarked && unowned == Unowned::Refuse {
        return Err(Box::new(Refusal {
            message: format!(
                "bucket {name} already exists and is not managed by baseline (no `{OWNER_TAG_KEY}: {}` tag); baseline will not take it over: name another bucket in the baseline, or tag this one if it really is baseline's",
                owner.mark()
            ),
        }));
    }
    let public_access_blocked = match pab {
        Ok(o) => o.public_access_block_configuration().is_some_and(|c| {
            c.block_public_acls() == Some(true)
                && c.ignore_public_acls() == Some(true)
                && c.block_public_policy() == Some(true)
                && c.restrict_public_buckets() == Some(true)
        }),
        Err(e) if e.code() == Some("NoSuchPublicAccessBlockConfiguration") => false,
        Err(e) => return Err(Box::new(ctx.err("GetPublicAccessBlock")(e))),
    };
    let encryption = match enc {
        Ok(o) => o
            .server_side_encryption_configuration()
            .and_then(|c| c.rules().first())
            .and_then(|r| r.apply_server_side_encryption_by_default())
            .map(|d| d.sse_algorithm().as_str().to_string()),
        Err(e) if e.code() == Some("ServerSideEncryptionConfigurationNotFoundError") => None,
        Err(e) => return Err(Box::new(ctx.err("GetBucketEncryption")(e))),
    };
    let policy = match pol {
        Ok(o) => policy_document(o.policy()),
        Err(e) if e.code() == Some("NoSuchBucketPolicy") => Value::Null,
        Err(e) => return Err(Box::new(ctx.err("GetBucketPolicy")(e))),
    };
    let mut attrs = Attrs::new();
    if ours {
        attrs.insert("managed_by".into(), json!(owner.mark()));
    }
    attrs.insert("public_access_blocked".into(), json!(public_access_blocked));
    attrs.insert("encryption".into(), json!(encryption));
    attrs.insert("policy".into(), policy.clone());
    let mut o = Observed::new(address, attrs, ours);
    o.private.insert("tags".into(), Value::Object(own_tags));
    if let Some(want) = wanted_policy(desired) {
        o.resolved
            .insert("policy".into(), resolve_policy(&policy, want));
    }
    if let Some(own) = encryption {
        o.resolved.insert("encryption".into(), json!(own));
    }
    o.managed_by_tool(mark.elsewhere());
    o.note = match (&mark, unowned) {
        (Mark::Unmarked, Unowned::Correct) => Some(
            "not baseline's (no ownership tag): its settings are corrected in place, its policy statements added to; never deleted".into(),
        ),
        _ => note,
    };
    Ok(Some(o))
}

/// A policy document as AWS returned it, parsed; a text that is not JSON
/// is kept as the text (it is shown, and compared, as it is).
pub(crate) fn policy_document(text: Option<&str>) -> Value {
    match text {
        None => Value::Null,
        Some(t) => serde_json::from_str(t).unwrap_or_else(|_| json!(t)),
    }
}

/// The policy apply writes: `have` when it already holds every statement
/// of `want` (nothing to change), else `have` with them merged in
/// ([`merge_statements`]).
pub(crate) fn resolve_policy(have: &Value, want: &Value) -> Value {
    match have {
        Value::Null => want.clone(),
        Value::Object(_) if contains_statements(have, want) => have.clone(),
        Value::Object(_) => merge_statements(Some(have.clone()), want),
        // A policy that is not a JSON object: replaced.
        _ => want.clone(),
    }
}

/// Whether every statement of `want` is in the policy `have`.
pub(crate) fn contains_statements(have: &Value, want: &Value) -> bool {
    let have = have["Statement"].as_array().cloned().unwrap_or_default();
    want["Statement"]
        .as_array()
        .into_iter()
        .flatten()
        .all(|s| have.contains(s))
}

/// Creates the bucket (when `create`) with baseline's tag in the same call
/// (so no run stopped half-way leaves an untagged bucket) and writes the
/// change's planned values: on an existing bucket, only the attributes the
/// plan changes (a bucket corrected in place keeps its own encryption, say
/// SSE-KMS with a team's key, unless the plan shows it changing), and its
/// policy only while it is still the one the plan read (else the plan is
/// stale). Adoption (the change sets `managed_by`) adds baseline's tag to
/// the bucket's own. One call at a time: S3 answers 409 OperationAborted to
/// overlapping configuration of one bucket.
pub(crate) async fn ensure(
    s3: &aws_sdk_s3::Client,
    ctx: &Ctx,
    change: &baseline_engine::Change,
    mark: &str,
) -> Result<(), BoxError> {
    let name = change.address.name.as_str();
    let create = change.action == baseline_engine::Action::Create;
    let sends = |attr: &str| change.writes(attr);
    let planned = |attr: &str| change.planned(attr).clone();
    if sends("managed_by") && !create {
        let own = change
            .private
            .get("tags")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        tag_existing(s3, ctx, name, &own, mark).await?;
    }
    if create {
        let tag = Tag::builder()
            .key(OWNER_TAG_KEY)
            .value(mark)
            .build()
            .expect("key and value are set");
        let mut conf = CreateBucketConfiguration::builder().tags(tag);
        // us-east-1 is the one region that takes no location constraint.
        if ctx.region != "us-east-1" {
            conf = conf.location_constraint(BucketLocationConstraint::from(ctx.region.as_str()));
        }
        let created = s3
            .create_bucket()
            .bucket(name)
            .create_bucket_configuration(conf.build())
            .send()
            .await;
        match created {
            Ok(_) => {}
            // A retried CreateBucket whose first answer was lost: fine if
            // the bucket is baseline's (tagged in that first call).
            Err(e) if e.code() == Some("BucketAlreadyOwnedByYou") => {
                let tags = s3
                    .get_bucket_tagging()
                    .bucket(name)
                    .expected_bucket_owner(&ctx.account)
                    .send()
                    .await
                    .map_err(ctx.err("GetBucketTagging"))?;
                if !tags
                    .tag_set()
                    .iter()
                    .any(|t| t.key() == OWNER_TAG_KEY && t.value() == mark)
                {
                    return Err(Box::new(ctx.err("CreateBucket")(e)));
                }
            }
            Err(e) => return Err(Box::new(ctx.err("CreateBucket")(e))),
        }
    }
    let pab = async || {
        s3.put_public_access_block()
            .bucket(name)
            .expected_bucket_owner(&ctx.account)
            .public_access_block_configuration(
                PublicAccessBlockConfiguration::builder()
                    .block_public_acls(true)
                    .ignore_public_acls(true)
                    .block_public_policy(true)
                    .restrict_public_buckets(true)
                    .build(),
            )
            .send()
            .await
            .map(|_| ())
            .map_err(|e| Box::new(ctx.err("PutPublicAccessBlock")(e)) as BoxError)
    };
    let encryption = async || {
        let algorithm = planned("encryption");
        let algorithm = algorithm.as_str().ok_or_else(|| {
            Box::new(Refusal {
                message: format!("bucket {name}: the plan gives no encryption to set"),
            }) as BoxError
        })?;
        let rule = ServerSideEncryptionRule::builder()
            .apply_server_side_encryption_by_default(
                ServerSideEncryptionByDefault::builder()
                    .sse_algorithm(ServerSideEncryption::from(algorithm))
                    .build()
                    .expect("algorithm is set"),
            )
            .build();
        s3.put_bucket_encryption()
            .bucket(name)
            .expected_bucket_owner(&ctx.account)
            .server_side_encryption_configuration(
                ServerSideEncryptionConfiguration::builder()
                    .rules(rule)
                    .build()
                    .expect("rules are set"),
            )
            .send()
            .await
            .map(|_| ())
            .map_err(|e| Box::new(ctx.err("PutBucketEncryption")(e)) as BoxError)
    };
    let bucket_policy = async || {
        if !create {
            // The planned policy is the bucket's own merged with the
            // service's statements: written only over that same policy.
            let before = change
                .before
                .as_ref()
                .and_then(|b| b.get("policy"))
                .cloned()
                .unwrap_or(Value::Null);
            let now = current_policy(s3, ctx, name).await?;
            if now != before {
                return Err(crate::stale(format!("the policy of bucket {name}")));
            }
        }
        s3.put_bucket_policy()
            .bucket(name)
            .expected_bucket_owner(&ctx.account)
            .policy(planned("policy").to_string())
            .send()
            .await
            .map(|_| ())
            .map_err(|e| Box::new(ctx.err("PutBucketPolicy")(e)) as BoxError)
    };
    // Say what was done and what was not when a part fails.
    let mut done = Vec::new();
    if create {
        done.push("CreateBucket (tagged)".to_string());
    }
    let steps = [
        ("public_access_blocked", "PutPublicAccessBlock"),
        ("encryption", "PutBucketEncryption"),
        ("policy", "PutBucketPolicy"),
    ];
    let mut failed: Option<BoxError> = None;
    let mut not_done = Vec::new();
    // The settings are independent: a failed one does not stop the others.
    for (attr, op) in steps.into_iter().filter(|(attr, _)| sends(attr)) {
        let result = match attr {
            "public_access_blocked" => pab().await,
            "encryption" => encryption().await,
            _ => bucket_policy().await,
        };
        match result {
            Ok(()) => done.push(op.to_string()),
            Err(e) => {
                not_done.push(op.to_string());
                failed.get_or_insert(e);
            }
        }
    }
    match failed {
        None => Ok(()),
        Some(source) => Err(Box::new(Partial {
            done,
            not_done,
            source,
        })),
    }
}

/// The bucket's policy now, parsed (`Null`: it has none).
async fn current_policy(s3: &aws_sdk_s3::Client, ctx: &Ctx, name: &str) -> Result<Value, BoxError> {
    match s3
        .get_bucket_policy()
        .bucket(name)
        .expected_bucket_owner(&ctx.account)
        .send()
        .await
    {
        Ok(o) => Ok(policy_document(o.policy())),
        Err(e) if e.code() == Some("NoSuchBucketPolicy") => Ok(Value::Null),
        Err(e) => Err(Box::new(ctx.err("GetBucketPolicy")(e))),
    }
}

/// The policy `have` with every statement of `want` it lacks added (a
/// statement with the same `Sid` is replaced; every other statement, of
/// people or of other baselines, stays as it is); `want` when there is no
/// policy.
pub(crate) fn merge_statements(have: Option<Value>, want: &Value) -> Value {
    let Some(mut have) = have else {
        return want.clone();
    };
    let mut statements = match have["Statement"].take() {
        Value::Array(a) => a,
        Value::Null => Vec::new(),
        one => vec![one],
    };
    for w in want["Statement"].as_array().into_iter().flatten() {
        if statements.contains(w) {
            continue;
        }
        match statements
            .iter_mut()
            .find(|s| s.get("Sid").is_some() && s.get("Sid") == w.get("Sid"))
        {
            Some(same) => *same = w.clone(),
            None => statements.push(w.clone()),
        }
    }
    have["Statement"] = Value::Array(statements);
    if have.get("Version").is_none() {
        have["Version"] = json!("2012-10-17");
    }
    have
}

/// Adds baseline's tag (`mark`) to the bucket's own tags as the plan read
/// them (`own`; adoption): written only while they are still those (a
/// tag added since would be lost: the plan is stale).
async fn tag_existing(
    s3: &aws_sdk_s3::Client,
    ctx: &Ctx,
    name: &str,
    own: &serde_json::Map<String, Value>,
    mark: &str,
) -> Result<(), BoxError> {
    let now: serde_json::Map<String, Value> = match s3
        .get_bucket_tagging()
        .bucket(name)
        .expected_bucket_owner(&ctx.account)
        .send()
        .await
    {
        Ok(t) => t
            .tag_set()
            .iter()
            .map(|t| (t.key().to_string(), json!(t.value())))
            .collect(),
        Err(e) if e.code() == Some("NoSuchTagSet") => serde_json::Map::new(),
        Err(e) => return Err(Box::new(ctx.err("GetBucketTagging")(e))),
    };
    if &now != own {
        return Err(crate::stale(format!("the tags of bucket {name}")));
    }
    let mut tags: Vec<Tag> = own
        .iter()
        .filter(|(k, _)| k.as_str() != OWNER_TAG_KEY)
        .map(|(k, v)| {
            Tag::builder()
                .key(k)
                .value(v.as_str().unwrap_or_default())
                .build()
                .expect("key and value are set")
        })
        .collect();
    tags.push(
        Tag::builder()
            .key(OWNER_TAG_KEY)
            .value(mark)
            .build()
            .expect("key and value are set"),
    );
    s3.put_bucket_tagging()
        .bucket(name)
        .expected_bucket_owner(&ctx.account)
        .tagging(
            aws_sdk_s3::types::Tagging::builder()
                .set_tag_set(Some(tags))
                .build()
                .expect("tags are set"),
        )
        .send()
        .await
        .map_err(ctx.err("PutBucketTagging"))?;
    Ok(())
}

/// A step that stopped half-way: what it did before the error, and what
/// it did not (the next plan shows what remains).
#[derive(Debug, thiserror::Error)]
#[error(
    "stopped half-way: done: {}; not done: {}",
    if done.is_empty() { "nothing".to_string() } else { done.join(", ") },
    not_done.join(", ")
)]
pub(crate) struct Partial {
    done: Vec<String>,
    not_done: Vec<String>,
    #[source]
    source: BoxError,
}

/// Empties the bucket (every object version and delete marker) and deletes it.
pub(crate) async fn delete(s3: &aws_sdk_s3::Client, ctx: &Ctx, name: &str) -> Result<(), AwsError> {
    let mut key_marker: Option<String> = None;
    let mut version_marker: Option<String> = None;
    loop {
        let page = s3
            .list_object_versions()
            .bucket(name)
            .expected_bucket_owner(&ctx.account)
            .set_key_marker(key_marker.take())
            .set_version_id_marker(version_marker.take())
            .send()
            .await
            .map_err(ctx.err("ListObjectVersions"))?;
        let mut objects: Vec<ObjectIdentifier> = Vec::new();
        for v in page.versions() {
            objects.push(
                ObjectIdentifier::builder()
                    .set_key(v.key().map(str::to_string))
                    .set_version_id(v.version_id().map(str::to_string))
                    .build()
                    // A version without a key: an error for this step,
                    // never a panic.
                    .map_err(ctx.err("ListObjectVersions"))?,
            );
        }
        for m in page.delete_markers() {
            objects.push(
                ObjectIdentifier::builder()
                    .set_key(m.key().map(str::to_string))
                    .set_version_id(m.version_id().map(str::to_string))
                    .build()
                    // A version without a key: an error for this step,
                    // never a panic.
                    .map_err(ctx.err("ListObjectVersions"))?,
            );
        }
        // A page holds at most 1000 entries: one DeleteObjects call each.
        if !objects.is_empty() {
            let asked = objects.len();
            let out = s3
                .delete_objects()
                .bucket(name)
                .expected_bucket_owner(&ctx.account)
                .delete(
                    Delete::builder()
                        .set_objects(Some(objects))
                        .quiet(true)
                        .build()
                        .map_err(ctx.err("DeleteObjects"))?,
                )
                .send()
                .await
                .map_err(ctx.err("DeleteObjects"))?;
            // A 200 answer can still refuse some keys (AccessDenied, a
            // legal hold): the bucket would then not be empty.
            if let Some(first) = out.errors().first() {
                return Err(ctx.err("DeleteObjects")(SdkMessage(format!(
                    "{} of {asked} object versions were not deleted; the first, {}: {} ({})",
                    out.errors().len(),
                    first.key().unwrap_or("?"),
                    first.code().unwrap_or("error"),
                    first.message().unwrap_or("no message"),
                ))));
            }
        }
        if page.is_truncated() == Some(true) {
            key_marker = page.next_key_marker().map(str::to_string);
            version_marker = page.next_version_id_marker().map(str::to_string);
        } else {
            break;
        }
    }
    s3.delete_bucket()
        .bucket(name)
        .expected_bucket_owner(&ctx.account)
        .send()
        .await
        .map_err(ctx.err("DeleteBucket"))?;
    Ok(())
}
