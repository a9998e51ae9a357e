//! Log buckets that baseline creates for a service (AWS Config,
//! CloudTrail): created private, encrypted, tagged as ours, with the
//! service's bucket policy; deleted (emptied first, every version) only
//! when they carry our tag. A bucket of the configured name that baseline
//! did not create is refused under the default name, corrected in place
//! (never deleted) when the baseline names it, and taken over with the
//! section's `adopt: true` ([`Unowned`]); its policy keeps its statements. Every call but CreateBucket passes
//! `ExpectedBucketOwner`: a bucket of the same name in another account is
//! never read, written or emptied. The reads and the planned values are
//! here; the writes in `write.rs`.

use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use baseline_engine::{Attrs, Observed, Ownership, ServiceError};
use serde_json::{Value, json};

use crate::error::{Ctx, Refusal};
use crate::{OWNER_TAG_KEY, Owner};

mod write;

pub(crate) use write::{delete, ensure};

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

/// The private data of a log bucket whose section says `adopt: true`
/// (`adopt`): its read, alone (apply's check of preconditions), knows
/// then that an unmarked bucket of the default name is to be adopted.
pub(crate) fn adopting(adopt: bool) -> Attrs {
    let mut a = Attrs::new();
    if adopt {
        a.insert("adopt".into(), Value::Bool(true));
    }
    a
}

/// Whether the desired bucket is one its section adopts ([`adopting`]).
pub(crate) fn adopts(d: &baseline_engine::Desired) -> bool {
    d.private.get("adopt") == Some(&Value::Bool(true))
}

/// What a change of a log bucket must find before it writes: the usual
/// ([`crate::usual_preconditions`]); for an adoption, the bucket's own
/// tags as the plan read them (PutBucketTagging replaces them all); for
/// a delete, nothing new that uses it.
pub(crate) fn preconditions(
    change: &baseline_engine::Change,
) -> Vec<baseline_engine::Precondition> {
    use baseline_engine::{Action, Precondition};
    let mut p = crate::usual_preconditions(change);
    if change.action == Action::Update && change.writes("managed_by") {
        p.push(Precondition::Unchanged {
            attr: "tags".into(),
        });
    }
    if change.action == Action::Delete {
        p.push(Precondition::UsersUnchanged);
    }
    p
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
) -> Result<Option<Observed>, ServiceError> {
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
    if mark == Ownership::NotOurs && unowned == Unowned::Refuse {
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
    let mut o = Observed::new(address, attrs, mark.clone());
    o.private.insert("tags".into(), Value::Object(own_tags));
    if let Some(want) = wanted_policy(desired) {
        o.resolved
            .insert("policy".into(), resolve_policy(&policy, want));
    }
    if let Some(own) = encryption {
        o.resolved.insert("encryption".into(), json!(own));
    }
    o.note = match (&mark, unowned) {
        (Ownership::NotOurs, Unowned::Correct) => Some(
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
