//! EBS encryption by default, per region, with the AWS-managed key or a
//! customer key the baseline names (checked to exist and be enabled when
//! planning). A free setting: teardown leaves it on.

use async_trait::async_trait;
use baseline_engine::{
    Action, Address, Change, Declared, Desired, Mode, Observed, Outputs, Ownership, Reading,
    Service, ServiceError, Target, Want,
};
use baseline_spec::Baseline;
use serde_json::{Value, json};

use crate::error::Ctx;
use crate::{account_of, attrs, controls};

const SERVICE: &str = "ebs_encryption";
const KIND: &str = "ebs_encryption.by_default";
/// How the AWS-managed EBS key is named.
pub const AWS_MANAGED: &str = "alias/aws/ebs";

service_type!(
    /// EBS encryption by default.
    EbsService
);

#[async_trait]
impl Service for EbsService {
    fn name(&self) -> &'static str {
        SERVICE
    }

    fn desired(&self, baseline: &Baseline, target: &Target, mode: Mode) -> Vec<Desired> {
        let (Some(spec), Mode::Apply) = (&baseline.ebs_encryption, mode) else {
            return Vec::new();
        };
        let mut a = attrs(&[("enabled", json!(spec.enabled))]);
        if let Some(k) = &spec.kms_key {
            let key = if k == "aws-managed" {
                AWS_MANAGED
            } else {
                k.as_str()
            };
            a.insert("kms_key".into(), json!(key));
        }
        vec![Desired {
            address: Address::new(target, KIND, "account"),
            controls: controls(&["EC2.7"]),
            want: Want::Present(a),
            depends_on: Vec::new(),
            private: baseline_engine::Attrs::new(),
        }]
    }

    async fn read(&self, target: &Target, desired: &[Desired]) -> Result<Reading, ServiceError> {
        let account = account_of(&self.aws, target)?;
        let account = &*account;
        let ec2 = client!(aws_sdk_ec2, account, &target.region);
        let Some(d) = desired.first() else {
            return Ok(Reading::default());
        };
        let wanted_key = match &d.want {
            Want::Present(a) => a.get("kms_key").and_then(Value::as_str),
            _ => None,
        };
        if let Some(arn) = wanted_key.filter(|k| k.starts_with("arn:")) {
            crate::kms::check_key_usable(
                &client!(aws_sdk_kms, account, &target.region),
                target,
                arn,
            )
            .await?;
        }
        let o = read_setting(&ec2, target, &d.address, wanted_key.is_some()).await?;
        Ok(vec![o].into())
    }

    fn declare(&self, change: &Change) -> Declared {
        crate::usual(change)
    }

    async fn apply(&self, target: &Target, change: &Change) -> Result<Outputs, ServiceError> {
        let account = account_of(&self.aws, target)?;
        let account = &*account;
        let ec2 = client!(aws_sdk_ec2, account, &target.region);
        match change.action {
            Action::Create | Action::Update => {
                put_setting(&ec2, target, change).await?;
                Ok(Outputs::new())
            }
            other => Err(crate::unsupported(&change.address.kind, other)),
        }
    }
}

/// Reads the setting; the default key only when the baseline manages it.
pub async fn read_setting(
    ec2: &aws_sdk_ec2::Client,
    target: &Target,
    address: &Address,
    with_key: bool,
) -> Result<Observed, ServiceError> {
    let ctx = Ctx::new(target, SERVICE);
    let on = ec2
        .get_ebs_encryption_by_default()
        .send()
        .await
        .map_err(ctx.err("GetEbsEncryptionByDefault"))?
        .ebs_encryption_by_default()
        .unwrap_or(false);
    let mut a = attrs(&[("enabled", json!(on))]);
    if with_key {
        let key = ec2
            .get_ebs_default_kms_key_id()
            .send()
            .await
            .map_err(ctx.err("GetEbsDefaultKmsKeyId"))?;
        // The default reads as `alias/aws/ebs`, sometimes as its alias ARN.
        let id = key.kms_key_id().unwrap_or(AWS_MANAGED);
        let id = if id.ends_with(AWS_MANAGED) {
            AWS_MANAGED
        } else {
            id
        };
        a.insert("kms_key".into(), json!(id));
    }
    Ok(Observed::new(address.clone(), a, Ownership::NotOurs))
}

/// Turns encryption by default on or off and sets the default key.
pub async fn put_setting(
    ec2: &aws_sdk_ec2::Client,
    target: &Target,
    change: &Change,
) -> Result<(), ServiceError> {
    let ctx = Ctx::new(target, SERVICE);
    let after = change.after.clone().unwrap_or_default();
    if change.changed.iter().any(|k| k == "enabled") {
        if after.get("enabled") == Some(&json!(true)) {
            ec2.enable_ebs_encryption_by_default()
                .send()
                .await
                .map_err(ctx.err("EnableEbsEncryptionByDefault"))?;
        } else {
            ec2.disable_ebs_encryption_by_default()
                .send()
                .await
                .map_err(ctx.err("DisableEbsEncryptionByDefault"))?;
        }
    }
    if change.changed.iter().any(|k| k == "kms_key") {
        match after.get("kms_key").and_then(Value::as_str) {
            Some(AWS_MANAGED) | None => {
                ec2.reset_ebs_default_kms_key_id()
                    .send()
                    .await
                    .map_err(ctx.err("ResetEbsDefaultKmsKeyId"))?;
            }
            Some(key) => {
                ec2.modify_ebs_default_kms_key_id()
                    .kms_key_id(key)
                    .send()
                    .await
                    .map_err(ctx.err("ModifyEbsDefaultKmsKeyId"))?;
            }
        }
    }
    Ok(())
}
