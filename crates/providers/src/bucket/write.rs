//! Writing a log bucket: creating it, writing a change's planned values,
//! adoption's tag, and emptying and deleting it.

use aws_sdk_s3::types::{
    BucketLocationConstraint, CreateBucketConfiguration, Delete, ObjectIdentifier,
    PublicAccessBlockConfiguration, ServerSideEncryption, ServerSideEncryptionByDefault,
    ServerSideEncryptionConfiguration, ServerSideEncryptionRule, Tag,
};
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use serde_json::Value;

use std::time::Duration;

use crate::error::{AwsError, Ctx, Refusal, SdkMessage};
use crate::{OWNER_TAG_KEY, settle};
use baseline_engine::ServiceError;

/// Creates the bucket (when `create`) with baseline's tag in the same call
/// (so no run stopped half-way leaves an untagged bucket) and writes the
/// change's planned values: on an existing bucket, only the attributes the
/// plan changes (a bucket corrected in place keeps its own encryption, say
/// SSE-KMS with a team's key, unless the plan shows it changing), and its
/// policy only while it is still the one the plan read (else the plan is
/// stale). Adoption (the change sets `managed_by`) adds baseline's tag to
/// the bucket's own. One call at a time: S3 answers 409 OperationAborted to
/// overlapping configuration of one bucket, which someone else's change can
/// cause too: each call is tried again for up to `settle`
/// ([`crate::settle`]).
pub(crate) async fn ensure(
    s3: &aws_sdk_s3::Client,
    ctx: &Ctx,
    change: &baseline_engine::Change,
    mark: &str,
    settle: Duration,
) -> Result<(), ServiceError> {
    let name = change.address.name.as_str();
    let busy = format!("bucket {name}'s configuration, changed by another request");
    let conflict = [baseline_engine::ErrorKind::Conflict];
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
        tag_existing(s3, ctx, name, &own, mark, settle).await?;
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
        settle::retry(settle, &busy, &conflict, || {
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
        })
        .await
        .map(|_| ())
        .map_err(|e| Box::new(ctx.err("PutPublicAccessBlock")(e)) as ServiceError)
    };
    let encryption = async || {
        let algorithm = planned("encryption");
        let algorithm = algorithm.as_str().ok_or_else(|| {
            Box::new(Refusal {
                message: format!("bucket {name}: the plan gives no encryption to set"),
            }) as ServiceError
        })?;
        let rule = ServerSideEncryptionRule::builder()
            .apply_server_side_encryption_by_default(
                ServerSideEncryptionByDefault::builder()
                    .sse_algorithm(ServerSideEncryption::from(algorithm))
                    .build()
                    .expect("algorithm is set"),
            )
            .build();
        let configuration = ServerSideEncryptionConfiguration::builder()
            .rules(rule)
            .build()
            .expect("rules are set");
        settle::retry(settle, &busy, &conflict, || {
            s3.put_bucket_encryption()
                .bucket(name)
                .expected_bucket_owner(&ctx.account)
                .server_side_encryption_configuration(configuration.clone())
                .send()
        })
        .await
        .map(|_| ())
        .map_err(|e| Box::new(ctx.err("PutBucketEncryption")(e)) as ServiceError)
    };
    let bucket_policy = async || {
        // The planned policy is the bucket's own merged with the
        // service's statements: written only over that same policy (a
        // precondition of the change).
        let policy = planned("policy").to_string();
        settle::retry(settle, &busy, &conflict, || {
            s3.put_bucket_policy()
                .bucket(name)
                .expected_bucket_owner(&ctx.account)
                .policy(&policy)
                .send()
        })
        .await
        .map(|_| ())
        .map_err(|e| Box::new(ctx.err("PutBucketPolicy")(e)) as ServiceError)
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
    let mut failed: Option<ServiceError> = None;
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

/// Adds baseline's tag (`mark`) to the bucket's own tags as the plan read
/// them (`own`; adoption): written only while they are still those (a
/// precondition of the change: a tag added since would be lost).
async fn tag_existing(
    s3: &aws_sdk_s3::Client,
    ctx: &Ctx,
    name: &str,
    own: &serde_json::Map<String, Value>,
    mark: &str,
    settle: Duration,
) -> Result<(), ServiceError> {
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
    let tagging = aws_sdk_s3::types::Tagging::builder()
        .set_tag_set(Some(tags))
        .build()
        .expect("tags are set");
    let busy = format!("bucket {name}'s configuration, changed by another request");
    settle::retry(
        settle,
        &busy,
        &[baseline_engine::ErrorKind::Conflict],
        || {
            s3.put_bucket_tagging()
                .bucket(name)
                .expected_bucket_owner(&ctx.account)
                .tagging(tagging.clone())
                .send()
        },
    )
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
    source: ServiceError,
}

/// The delete of a log bucket the plan showed. What the plan's decision
/// rested on (the bucket still carries this baseline's mark, nothing uses
/// it that the plan did not delete before it) is the change's
/// preconditions, checked by the executor before this runs. Then
/// [`empty_and_delete`].
pub(crate) async fn delete(
    s3: &aws_sdk_s3::Client,
    ctx: &Ctx,
    change: &baseline_engine::Change,
) -> Result<(), baseline_engine::ServiceError> {
    Ok(empty_and_delete(s3, ctx, &change.address.name).await?)
}

/// Empties the bucket (every object version and delete marker) and deletes it.
async fn empty_and_delete(s3: &aws_sdk_s3::Client, ctx: &Ctx, name: &str) -> Result<(), AwsError> {
    let mut key_marker: Option<String> = None;
    let mut version_marker: Option<String> = None;
    let mut bound = crate::pages::Bound::tokens_only(ctx, "ListObjectVersions");
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
        let next = (page.is_truncated() == Some(true)).then(|| {
            format!(
                "{}\n{}",
                page.next_key_marker().unwrap_or_default(),
                page.next_version_id_marker().unwrap_or_default()
            )
        });
        bound.page(next.as_deref())?;
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
