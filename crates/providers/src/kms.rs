//! KMS keys a baseline names (the CloudTrail key, the EBS default key):
//! shared by the services that use one.

use aws_sdk_kms::types::KeyState;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use baseline_engine::{ServiceError, Target};

use crate::error::{Ctx, Refusal};

/// A key the baseline names must exist and be enabled: said at plan time,
/// not as an error from the service that uses it at apply time.
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
