//! The customer KMS key baseline creates for CloudTrail (`kms: create`):
//! found through its alias, owned by its tag, deleted only when pinned.

use aws_sdk_kms::types::{KeyMetadata, KeyState};
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use baseline_engine::{
    Action, Address, Change, Observed, Outputs, Ownership, ServiceError, Target,
};
use serde_json::{Value, json};

use super::KEY as KEY_KIND;
use crate::clients::Account;
use crate::error::{Ctx, Refusal};
use crate::{OWNER_TAG_KEY, Owner, attrs, bucket};

/// The key `alias` points at now, if it exists.
pub(super) async fn alias_target(
    kms: &aws_sdk_kms::Client,
    ctx: &Ctx,
    alias: &str,
) -> Result<Option<KeyMetadata>, ServiceError> {
    let ctx = Ctx {
        service: "kms",
        ..ctx.clone()
    };
    match kms.describe_key().key_id(alias).send().await {
        Ok(k) => Ok(k.key_metadata().cloned()),
        Err(e) if e.code() == Some("NotFoundException") => Ok(None),
        Err(e) => Err(Box::new(ctx.err("DescribeKey")(e))),
    }
}

/// The description of the key baseline creates (with its tag, what finds
/// a key whose alias was never made).
pub(super) const KEY_DESCRIPTION: &str = "baseline: encrypts the CloudTrail logs";

/// Reads baseline's CloudTrail key (`meta`: what the alias points at). A
/// key pending deletion is absent for teardown (it is already going) and
/// to be recovered for apply. `wanted`: the key policy's statements when
/// the baseline wants the key; its planned policy is the key's own with
/// them merged in. For teardown, the trails that use it are
/// its users; and when the trail of the baseline uses another key than the
/// alias's, the alias was changed: neither is deleted.
#[allow(clippy::too_many_arguments)]
pub(super) async fn read_key(
    kms: &aws_sdk_kms::Client,
    target: &Target,
    trail: &str,
    address: Address,
    wanted: Option<&Value>,
    meta: Option<KeyMetadata>,
    trails: &[aws_sdk_cloudtrail::types::Trail],
    owner: &Owner,
) -> Result<Option<Observed>, ServiceError> {
    let ctx = Ctx::new(target, "kms");
    let alias = owner.key_alias();
    let Some(meta) = meta else { return Ok(None) };
    let key_id = meta.key_id().to_string();
    let state = meta.key_state().cloned().unwrap_or(KeyState::Unavailable);
    if state == KeyState::PendingDeletion && wanted.is_none() {
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
    match owner.classify_tags(tags.tags().iter().map(|t| (t.tag_key(), t.tag_value()))) {
        Ownership::Ours => {}
        Ownership::OtherTool { tool: who } => {
            return Err(Box::new(Refusal {
                message: format!(
                    "{alias} points at KMS key {key_id}, which belongs to {who}; this baseline never changes it: give the key's ARN as `cloudtrail.kms` to use it, or name this baseline apart (`name:`)"
                ),
            }));
        }
        Ownership::NotOurs => {
            return Err(Box::new(Refusal {
                message: format!(
                    "{alias} points at KMS key {key_id}, which baseline did not create (no `{OWNER_TAG_KEY}: {}` tag); baseline will not take it over: give its ARN as `cloudtrail.kms` to use it",
                    owner.mark()
                ),
            }));
        }
    }
    let rotation = rotation.map_err(ctx.err("GetKeyRotationStatus"))?;
    let policy = policy.map_err(ctx.err("GetKeyPolicy"))?;
    let policy = bucket::policy_document(policy.policy());
    let arn = meta.arn().unwrap_or_default().to_string();
    let mut o = Observed::new(
        address,
        attrs(&[
            ("key_arn", json!(arn)),
            ("state", json!(state.as_str())),
            ("rotation", json!(rotation)),
            ("policy", policy.clone()),
            ("managed_by", json!(owner.mark())),
        ]),
        Ownership::Ours,
    );
    if let Some(want) = wanted {
        o.resolved
            .insert("policy".into(), bucket::resolve_policy(&policy, want));
    }
    if wanted.is_none() {
        o.note = Some(format!(
            "key {arn} is scheduled for deletion after the window (cloudtrail.kms_deletion_window_days, 30 days by default); `baseline apply` before then recovers it"
        ));
        // Its users (trails and delivery channels, every region) are read
        // by the caller; here, the one sign the alias was moved: the
        // baseline's own trail encrypts with another key.
        if let Some(t) = trails
            .iter()
            .find(|t| t.name() == Some(trail) && t.home_region() == Some(target.region.as_str()))
            && let Some(k) = t.kms_key_id().filter(|k| !k.is_empty())
            && !crate::users::names_key(k, &arn, &alias)
        {
            o.users_unknown = Some(format!(
                "{alias} points at key {arn}, but trail {trail} uses key {k}: the alias was changed after baseline made it, so neither key is taken for baseline's"
            ));
        }
    }
    Ok(Some(o))
}

/// The key of the plan: the ARN the plan read (never what the alias names
/// now), as its key id in this client's account and region.
fn planned_key_id(change: &Change, target: &Target, account: &str) -> Result<String, ServiceError> {
    let arn = change
        .before
        .as_ref()
        .and_then(|b| b.get("key_arn"))
        .and_then(Value::as_str)
        .ok_or_else(|| {
            crate::refusal(format!(
                "the plan does not pin the key of {}; make the plan again",
                change.address.name
            ))
        })?;
    // Some emulators take only ids where AWS takes ARNs too.
    let in_place = format!(":{}:{account}:key/", target.region);
    match arn.split_once(&in_place) {
        Some((_, id)) => Ok(id.to_string()),
        None => Err(crate::refusal(format!(
            "key {arn} is not in account {account}, {}; it is not changed",
            target.region
        ))),
    }
}

/// The key [`create_or_adopt`] gives.
struct Made {
    id: String,
    /// This step's CreateKey made it.
    fresh: bool,
    /// An earlier run left it: it gets the planned policy after its alias.
    needs_policy: bool,
}

/// Makes the trail's key, or takes the one an earlier try made: returns its
/// id and whether this step made it. A run stopped between CreateKey and
/// CreateAlias left a key that only its tag and description find; and
/// CreateKey has no idempotency token, so a try whose answer was lost on
/// the way back (a reset, an attempt timed out on a slow AWS) made a key
/// too. CreateKey is therefore sent without the SDK's own retries, and
/// each try first looks for such a key and uses it rather than make
/// another.
async fn create_or_adopt(
    kms: &aws_sdk_kms::Client,
    ctx: &Ctx,
    owner: &Owner,
    policy: &Value,
) -> Result<Made, ServiceError> {
    use baseline_engine::ErrorKind;
    let attempts = kms
        .config()
        .retry_config()
        .map_or(3, |r| r.max_attempts())
        .max(1);
    let mut pauses = crate::settle::pauses(
        std::time::Duration::from_millis(500),
        std::time::Duration::from_secs(10),
    );
    let mut sent = false;
    let mut attempt = 0;
    loop {
        attempt += 1;
        if let Some((id, _)) = super::orphan::orphans(kms, ctx, owner.mark())
            .await?
            .into_iter()
            .next()
        {
            // A key this step's own CreateKey made (its answer lost) has the
            // planned policy already, and its new tag may not authorize a
            // write yet; a key an earlier run left gets the policy once it
            // has its alias (the printed policy writes only keys that carry
            // both).
            return Ok(Made {
                id,
                fresh: sent,
                needs_policy: !sent,
            });
        }
        sent = true;
        let once = aws_sdk_kms::config::Builder::default()
            .retry_config(aws_sdk_kms::config::retry::RetryConfig::disabled());
        let created = kms
            .create_key()
            .description(KEY_DESCRIPTION)
            .policy(policy.to_string())
            .tags(
                aws_sdk_kms::types::Tag::builder()
                    .tag_key(OWNER_TAG_KEY)
                    .tag_value(owner.mark())
                    .build()
                    .map_err(|e| Box::new(e) as ServiceError)?,
            )
            .customize()
            .config_override(once)
            .send()
            .await;
        match created {
            Ok(created) => {
                let id = created.key_metadata().map(|m| m.key_id().to_string());
                return id
                    .map(|id| Made {
                        id,
                        fresh: true,
                        needs_policy: false,
                    })
                    .ok_or_else(|| crate::refusal("CreateKey answered without a key id".into()));
            }
            Err(e)
                if attempt < attempts
                    && matches!(
                        crate::error::HttpStatus::kind(&e),
                        ErrorKind::Transient | ErrorKind::Throttled
                    ) =>
            {
                tracing::info!(account = %ctx.account, region = %ctx.region, attempt, error = %crate::error::SdkMessage::of(&e).0, "CreateKey failed; looking for the key it may have made, then trying again");
                let pause = pauses.next().unwrap_or_default();
                tokio::time::sleep(pause).await;
            }
            Err(e) => return Err(ctx.err("CreateKey")(e).into()),
        }
    }
}

/// Carries out a change of the key: writes its planned values. A created
/// key gets the planned policy and tag in CreateKey; an existing one only
/// what the plan changes (its state, its policy while still the one the
/// plan read, rotation); a deleted one is scheduled for deletion after
/// the plan's window, only while it still carries baseline's tag.
///
/// The calls right after CreateKey are authorized by the key's new tag
/// (the printed policy scopes key writes to `aws:ResourceTag/managed-by`),
/// which AWS can take minutes to put into effect ("ABAC for AWS KMS"):
/// denied, they are tried again for up to `settle` ([`crate::settle`]).
pub(super) async fn apply_key(
    kms: &aws_sdk_kms::Client,
    target: &Target,
    account: &Account,
    change: &Change,
    owner: &Owner,
    settle: std::time::Duration,
) -> Result<Outputs, ServiceError> {
    let ctx = Ctx::new(target, "kms");
    let alias = &change.address.name;
    let planned = |attr: &str| change.planned(attr).clone();
    let changes = |attr: &str| change.writes(attr);
    let policy = planned("policy");
    match change.action {
        Action::Create => {
            let Made {
                id: key_id,
                fresh,
                needs_policy,
            } = create_or_adopt(kms, &ctx, owner, &policy).await?;
            // A denial is waited out only on the key this step just made.
            let budget = if fresh {
                settle
            } else {
                std::time::Duration::ZERO
            };
            let waits_for = format!("the tag of new key {key_id} to authorize its setup");
            let denied = [baseline_engine::ErrorKind::Denied];
            crate::settle::retry(budget, &waits_for, &denied, || {
                kms.create_alias()
                    .alias_name(alias)
                    .target_key_id(&key_id)
                    .send()
            })
            .await
            .map_err(ctx.err("CreateAlias"))?;
            if needs_policy {
                // Authorized by the alias just set, which AWS can take
                // minutes to put into effect ("ABAC for AWS KMS").
                crate::settle::retry(settle, &waits_for, &denied, || {
                    kms.put_key_policy()
                        .key_id(&key_id)
                        .policy_name("default")
                        .policy(policy.to_string())
                        .send()
                })
                .await
                .map_err(ctx.err("PutKeyPolicy"))?;
            }
            if planned("rotation") == json!(true) {
                crate::settle::retry(budget, &waits_for, &denied, || {
                    kms.enable_key_rotation().key_id(&key_id).send()
                })
                .await
                .map_err(ctx.err("EnableKeyRotation"))?;
            }
            // The trail is given this ARN (known after apply).
            let arn = format!(
                "arn:{}:kms:{}:{}:key/{key_id}",
                account.partition, target.region, account.id
            );
            return Ok(Outputs::from_iter([("key_arn".to_string(), json!(arn))]));
        }
        Action::Delete => {
            let key_id = planned_key_id(change, target, &account.id)?;
            let window = change
                .private
                .get("deletion_window_days")
                .and_then(Value::as_i64)
                .ok_or_else(|| {
                    crate::refusal(format!(
                        "the plan gives no deletion window for the key of {alias}; make the plan again"
                    ))
                })?;
            // Still baseline's, the key the plan read, and used by
            // nothing new: the change's preconditions.
            kms.schedule_key_deletion()
                .key_id(&key_id)
                .pending_window_in_days(window as i32)
                .send()
                .await
                .map_err(ctx.err("ScheduleKeyDeletion"))?;
        }
        Action::Update => {
            let key_id = planned_key_id(change, target, &account.id)?;
            if changes("state") {
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
                kms.enable_key()
                    .key_id(&key_id)
                    .send()
                    .await
                    .map_err(ctx.err("EnableKey"))?;
            }
            if changes("policy") {
                // Planned as the key's own policy with baseline's
                // statements merged in: written only over that policy (a
                // precondition).
                put_policy(kms, &ctx, &key_id, &policy).await?;
            }
            if changes("rotation") {
                kms.enable_key_rotation()
                    .key_id(&key_id)
                    .send()
                    .await
                    .map_err(ctx.err("EnableKeyRotation"))?;
            }
        }
        other => return Err(crate::unsupported(KEY_KIND, other)),
    }
    Ok(Outputs::new())
}

/// Writes a key's default policy: the planned one, whole.
async fn put_policy(
    kms: &aws_sdk_kms::Client,
    ctx: &Ctx,
    key_id: &str,
    policy: &serde_json::Value,
) -> Result<(), ServiceError> {
    kms.put_key_policy()
        .key_id(key_id)
        .policy_name("default")
        .policy(policy.to_string())
        .send()
        .await
        .map_err(ctx.err("PutKeyPolicy"))?;
    Ok(())
}
