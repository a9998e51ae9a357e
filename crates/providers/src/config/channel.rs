//! The delivery channel, written whole from a plan's planned attributes.

use aws_sdk_config::types::{
    ConfigSnapshotDeliveryProperties, DeliveryChannel, MaximumExecutionFrequency,
};
use baseline_engine::{Attrs, ErrorKind, ServiceError};
use serde_json::Value;

use crate::error::Ctx;

/// PutDeliveryChannel of the planned channel, whole: its own prefix,
/// topic, key and snapshot frequency were read into the plan. AWS Config
/// checks that it may write to the bucket: a policy written a moment ago
/// may not be in effect yet, so it is tried again within `settle`.
pub(super) async fn put(
    client: &aws_sdk_config::Client,
    ctx: &Ctx,
    name: &str,
    after: &Attrs,
    settle: std::time::Duration,
) -> Result<(), ServiceError> {
    let opt = |k: &str| after.get(k).and_then(Value::as_str).map(str::to_string);
    let snapshot = opt("snapshot_delivery_frequency").map(|f| {
        ConfigSnapshotDeliveryProperties::builder()
            .delivery_frequency(MaximumExecutionFrequency::from(f.as_str()))
            .build()
    });
    let bucket = opt("s3_bucket_name").unwrap_or_default();
    let channel = DeliveryChannel::builder()
        .name(name)
        .s3_bucket_name(&bucket)
        .set_s3_key_prefix(opt("s3_key_prefix"))
        .set_s3_kms_key_arn(opt("s3_kms_key_arn"))
        .set_sns_topic_arn(opt("sns_topic_arn"))
        .set_config_snapshot_delivery_properties(snapshot)
        .build();
    let waits_for = format!("the policy of bucket {bucket} to let AWS Config write");
    crate::settle::retry(settle, &waits_for, &[ErrorKind::Settling], || {
        client
            .put_delivery_channel()
            .delivery_channel(channel.clone())
            .send()
    })
    .await
    .map_err(ctx.err("PutDeliveryChannel"))?;
    Ok(())
}
