//! The trail: read with its status, selectors and tags; created or
//! corrected attribute by attribute.

use std::time::Duration;

use aws_sdk_cloudtrail::types::{ReadWriteType, Tag, Trail};
use baseline_engine::{Action, Address, Attrs, Change, ErrorKind, Observed, ServiceError, Target};
use serde_json::{Value, json};

use super::{SERVICE, selectors as doc};
use crate::error::{Ctx, Refusal};
use crate::{OWNER_TAG_KEY, Owner, attrs, settle};

/// AWS Control Tower names its trails `aws-controltower-...`.
const CONTROL_TOWER_TRAIL_PREFIX: &str = "aws-controltower-";

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
pub(super) async fn read_trail(
    client: &aws_sdk_cloudtrail::Client,
    target: &Target,
    address: &Address,
    our_key: Option<&str>,
    trails: &[Trail],
    owner: &Owner,
) -> Result<(Option<Observed>, Option<String>), ServiceError> {
    let alias = owner.key_alias();
    let ctx = Ctx::new(target, SERVICE);
    let name = address.name.as_str();
    let ours = trails.iter().find(|t| t.name() == Some(name));
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
    let observed = details?.map(|(t, status, selectors, tags): (&Trail, _, _, _)| {
        let mark = owner.classify_tags(
            tags.resource_tag_list()
                .iter()
                .flat_map(|r| r.tags_list())
                .filter_map(|tag| Some((tag.key(), tag.value()?))),
        );
        let ours = mark.ours();
        let kms_key = match t.kms_key_id() {
            // Empty: encryption with a key was turned off (UpdateTrail with
            // KmsKeyId ""); AWS leaves the field out, moto answers "".
            None | Some("") => Value::Null,
            Some(k) if Some(k) == our_key || k == alias || k.ends_with(&format!(":{alias}")) => {
                json!(alias)
            }
            Some(k) => json!(k),
        };
        let mut o = Observed::new(
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
                ("event_selectors", doc::document(&selectors)),
                (
                    "log_file_validation",
                    json!(t.log_file_validation_enabled().unwrap_or(false)),
                ),
                ("s3_bucket", json!(t.s3_bucket_name())),
                ("kms_key", kms_key),
                (
                    "managed_by",
                    if ours {
                        json!(owner.mark())
                    } else {
                        Value::Null
                    },
                ),
            ]),
            // Baseline's only when tagged: at creation, or adopted.
            mark,
        );
        // What a tag (adoption) is written to.
        o.private.insert("trail_arn".into(), json!(t.trail_arn()));
        // The selectors apply writes: the trail's own, extended to record
        // management events.
        o.resolved.insert(
            "event_selectors".into(),
            doc::with_management(
                &doc::document(&selectors),
                management_events(&selectors) == "All",
            ),
        );
        if name.starts_with(CONTROL_TOWER_TRAIL_PREFIX) {
            o.managed_by_tool(Some("AWS Control Tower".into()));
        }
        o
    });
    let note = (!others.is_empty()).then(|| {
        format!(
            "trail(s) {} already record management events: the copy the baseline's trail records is charged (the first copy of management events is free); baseline leaves other trails alone",
            others.join(", ")
        )
    });
    Ok((observed, note))
}

/// Creates the trail (tagged as baseline's), or corrects exactly the
/// attributes in `changed`: UpdateTrail carries only those, the event
/// selectors are the planned document (the trail's own, extended to record
/// management events), written only over the selectors the plan read
/// (a precondition), the tag (on adoption) is written to the trail ARN the plan
/// read. `after`: the change's planned attributes, the key as its ARN.
pub(super) async fn put_trail(
    client: &aws_sdk_cloudtrail::Client,
    target: &Target,
    change: &Change,
    after: &Attrs,
    mark: &str,
    settle: Duration,
) -> Result<(), ServiceError> {
    let ctx = Ctx::new(target, SERVICE);
    let name = change.address.name.as_str();
    let create = change.action == Action::Create;
    let trail_arn = change.private.get("trail_arn").and_then(Value::as_str);
    let flag = |k: &str| after.get(k).and_then(Value::as_bool).unwrap_or(false);
    let has = |k: &str| create || change.changed.iter().any(|c| c == k);
    let bucket_name = after
        .get("s3_bucket")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let kms_key = after.get("kms_key").and_then(Value::as_str);
    let tag = Tag::builder()
        .key(OWNER_TAG_KEY)
        .value(mark)
        .build()
        .map_err(|e| Box::new(e) as ServiceError)?;
    // CloudTrail checks that it may write to the bucket and encrypt with
    // the key: policies written a moment ago may not be in effect yet.
    let waits_for = format!(
        "the policies of bucket {bucket_name}{} to let CloudTrail deliver",
        kms_key.map(|k| format!(" and key {k}")).unwrap_or_default()
    );
    if create {
        settle::retry(settle, &waits_for, &[ErrorKind::Settling], || {
            client
                .create_trail()
                .name(name)
                .s3_bucket_name(bucket_name)
                .is_multi_region_trail(flag("multi_region"))
                .include_global_service_events(flag("include_global_service_events"))
                .enable_log_file_validation(flag("log_file_validation"))
                .set_kms_key_id(kms_key.map(str::to_string))
                .tags_list(tag.clone())
                .send()
        })
        .await
        .map_err(ctx.err("CreateTrail"))?;
    } else {
        let fields = [
            "s3_bucket",
            "multi_region",
            "include_global_service_events",
            "log_file_validation",
            "kms_key",
        ];
        if fields.iter().any(|f| has(f)) {
            let mut req = client.update_trail().name(name);
            if has("s3_bucket") {
                req = req.s3_bucket_name(bucket_name);
            }
            if has("multi_region") {
                req = req.is_multi_region_trail(flag("multi_region"));
            }
            if has("include_global_service_events") {
                req = req.include_global_service_events(flag("include_global_service_events"));
            }
            if has("log_file_validation") {
                req = req.enable_log_file_validation(flag("log_file_validation"));
            }
            if has("kms_key") {
                // An empty key id turns SSE-KMS off: sent only when the
                // baseline asks for that.
                req = req.kms_key_id(kms_key.unwrap_or(""));
            }
            settle::retry(settle, &waits_for, &[ErrorKind::Settling], || {
                req.clone().send()
            })
            .await
            .map_err(ctx.err("UpdateTrail"))?;
        }
        if has("managed_by") {
            // Adopted (`cloudtrail.adopt`): from now on it is baseline's.
            let arn = trail_arn.ok_or_else(|| {
                crate::refusal(format!("the plan has no ARN of trail {name} to tag"))
            })?;
            client
                .add_tags()
                .resource_id(arn)
                .tags_list(tag)
                .send()
                .await
                .map_err(ctx.err("AddTags"))?;
        }
    }
    // Selectors and logging both need the trail, not each other.
    let selectors = async {
        if has("event_selectors") {
            let planned = after.get("event_selectors").cloned().unwrap_or(Value::Null);
            put_selectors(client, &ctx, name, &planned).await
        } else {
            Ok(())
        }
    };
    let logging = async {
        if has("logging") && flag("logging") {
            client.start_logging().name(name).send().await.map(Some)
        } else {
            Ok(None)
        }
    };
    let (selectors, logging) = futures::join!(selectors, logging);
    selectors?;
    logging.map_err(ctx.err("StartLogging"))?;
    Ok(())
}

/// Writes the planned selectors `planned`; on an existing trail only
/// while its selectors are still those the plan read (a precondition of
/// the change).
async fn put_selectors(
    client: &aws_sdk_cloudtrail::Client,
    ctx: &Ctx,
    name: &str,
    planned: &Value,
) -> Result<(), ServiceError> {
    let (basic, advanced) = doc::to_request(planned)?;
    client
        .put_event_selectors()
        .trail_name(name)
        .set_event_selectors(basic)
        .set_advanced_event_selectors(advanced)
        .send()
        .await
        .map_err(ctx.err("PutEventSelectors"))?;
    Ok(())
}
