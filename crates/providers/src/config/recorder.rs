//! The configuration recorder: as attributes, written from a plan's
//! planned attributes (its recording-mode overrides included), its
//! ownership mark.

use aws_sdk_config::types::{
    ConfigurationRecorder, RecordingFrequency as SdkFrequency, RecordingGroup, RecordingMode,
};
use baseline_engine::{Attrs, ErrorKind, Ownership, ServiceError, Target};
use serde_json::{Value, json};

use super::SERVICE;
use crate::error::Ctx;
use crate::{OWNER_TAG_KEY, attrs};

/// A recorder as attributes.
pub fn recorder_attrs(r: &ConfigurationRecorder) -> Attrs {
    let group = r.recording_group();
    // No recordingMode means continuous recording.
    let frequency = r
        .recording_mode()
        .map(|m| m.recording_frequency().as_str().to_string())
        .unwrap_or_else(|| "CONTINUOUS".into());
    attrs(&[
        ("name", json!(r.name())),
        ("role_arn", json!(r.role_arn())),
        (
            "all_supported",
            json!(group.is_some_and(|g| g.all_supported())),
        ),
        (
            "include_global_resource_types",
            json!(group.is_some_and(|g| g.include_global_resource_types())),
        ),
        ("recording_frequency", json!(frequency)),
        (
            "recording_mode_overrides",
            json!(
                r.recording_mode()
                    .map(|m| m.recording_mode_overrides())
                    .unwrap_or_default()
                    .iter()
                    .map(|o| json!({
                        "description": o.description(),
                        "resource_types": o.resource_types().iter().map(|t| t.as_str()).collect::<Vec<_>>(),
                        "recording_frequency": o.recording_frequency().as_str(),
                    }))
                    .collect::<Vec<_>>()
            ),
        ),
    ])
}

/// The recording-mode overrides of planned recorder attributes.
fn overrides_of(after: &Attrs) -> Option<Vec<aws_sdk_config::types::RecordingModeOverride>> {
    let list = after.get("recording_mode_overrides")?.as_array()?;
    Some(
        list.iter()
            .filter_map(|o| {
                aws_sdk_config::types::RecordingModeOverride::builder()
                    .set_description(o["description"].as_str().map(str::to_string))
                    .set_resource_types(Some(
                        o["resource_types"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .filter_map(Value::as_str)
                            .map(aws_sdk_config::types::ResourceType::from)
                            .collect(),
                    ))
                    .recording_frequency(SdkFrequency::from(
                        o["recording_frequency"].as_str().unwrap_or_default(),
                    ))
                    .build()
                    .ok()
            })
            .collect(),
    )
}

/// Creates (tagged with the ownership mark `create_mark`) or, without it,
/// corrects the recorder `name` to the planned attributes `after`, its
/// recording-mode overrides included (a correction plans the recorder's
/// own).
pub async fn put_recorder(
    client: &aws_sdk_config::Client,
    target: &Target,
    name: &str,
    after: &Attrs,
    create_mark: Option<&str>,
    settle: std::time::Duration,
) -> Result<(), ServiceError> {
    let ctx = Ctx::new(target, SERVICE);
    let get_bool = |k: &str| after.get(k).and_then(Value::as_bool).unwrap_or(false);
    let get_str = |k: &str| after.get(k).and_then(Value::as_str).unwrap_or_default();
    let overrides = overrides_of(after);
    let recorder = ConfigurationRecorder::builder()
        .name(name)
        .role_arn(get_str("role_arn"))
        .recording_group(
            RecordingGroup::builder()
                .all_supported(get_bool("all_supported"))
                .include_global_resource_types(get_bool("include_global_resource_types"))
                .build(),
        )
        .recording_mode(
            RecordingMode::builder()
                .recording_frequency(SdkFrequency::from(get_str("recording_frequency")))
                .set_recording_mode_overrides(overrides)
                .build()
                .map_err(|e| Box::new(e) as ServiceError)?,
        )
        .build();
    let mut put = client
        .put_configuration_recorder()
        .configuration_recorder(recorder);
    if let Some(mark) = create_mark {
        put = put.tags(owner_tag(mark));
    }
    // The service-linked role may have been made moments ago: AWS Config
    // cannot assume it until IAM puts it into effect (InvalidRoleException).
    let waits_for = format!("role {} to be usable by AWS Config", get_str("role_arn"));
    crate::settle::retry(settle, &waits_for, &[ErrorKind::Settling], || {
        put.clone().send()
    })
    .await
    .map_err(ctx.err("PutConfigurationRecorder"))?;
    Ok(())
}

fn owner_tag(mark: &str) -> aws_sdk_config::types::Tag {
    aws_sdk_config::types::Tag::builder()
        .key(OWNER_TAG_KEY)
        .value(mark)
        .build()
}

/// What the recorder's ownership mark says.
pub(super) async fn recorder_mark(
    client: &aws_sdk_config::Client,
    ctx: &Ctx,
    arn: &str,
    owner: &crate::Owner,
) -> Result<Ownership, ServiceError> {
    let tags = client
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .map_err(ctx.err("ListTagsForResource"))?;
    Ok(owner.classify_tags(
        tags.tags()
            .iter()
            .filter_map(|t| Some((t.key()?, t.value()?))),
    ))
}

/// Marks an adopted recorder as baseline's (`mark`).
pub(super) async fn tag_recorder(
    client: &aws_sdk_config::Client,
    ctx: &Ctx,
    arn: &str,
    mark: &str,
) -> Result<(), ServiceError> {
    client
        .tag_resource()
        .resource_arn(arn)
        .tags(owner_tag(mark))
        .send()
        .await
        .map_err(ctx.err("TagResource"))?;
    Ok(())
}

/// What PutConfigurationRecorder writes: the whole recorder, each of
/// these a precondition of an update that writes it.
pub(super) const WRITTEN: [&str; 5] = [
    "role_arn",
    "all_supported",
    "include_global_resource_types",
    "recording_frequency",
    "recording_mode_overrides",
];

/// An update of the recorder: the planned recorder (only where a setting
/// it writes changed), over the recording-mode overrides the plan read;
/// and the mark, when the plan adopts it.
pub(super) async fn update(
    client: &aws_sdk_config::Client,
    ctx: &Ctx,
    target: &Target,
    name: &str,
    change: &baseline_engine::Change,
    mark: &str,
    settle: std::time::Duration,
) -> Result<(), ServiceError> {
    let changed = |k: &str| change.changed.iter().any(|c| c == k);
    if WRITTEN.iter().any(|k| changed(k)) {
        // The planned recorder carries the overrides the plan read:
        // written only over those same overrides (a precondition).
        let after = change.after.clone().unwrap_or_default();
        put_recorder(client, target, name, &after, None, settle).await?;
    }
    if changed("managed_by") {
        let arn = change
            .private
            .get("recorder_arn")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                crate::refusal(format!("the plan has no ARN of recorder {name} to tag"))
            })?;
        tag_recorder(client, ctx, arn, mark).await?;
    }
    Ok(())
}
