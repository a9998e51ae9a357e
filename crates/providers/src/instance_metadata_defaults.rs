//! The account's instance metadata service (IMDS) defaults for instances
//! launched from now on, in each region: session tokens (IMDSv2), the
//! token's hop limit, the endpoint and instance tags in the metadata. A
//! free setting: `destroy` leaves it. Only the fields the baseline gives
//! are compared and written (ModifyInstanceMetadataDefaults changes only
//! the parameters it is given). Where a declarative policy of the
//! organization holds the defaults, the account cannot change them: a
//! difference is a manual action.

use async_trait::async_trait;
use aws_sdk_ec2::types::{
    DefaultInstanceMetadataEndpointState, DefaultInstanceMetadataTagsState,
    MetadataDefaultHttpTokensState,
};
use baseline_engine::{
    Action, Address, Attrs, Change, Declared, Desired, Mode, Observed, Outputs, Reading, Service,
    ServiceError, Target, Want,
};
use baseline_spec::Baseline;
use serde_json::{Value, json};

use crate::account_of;
use crate::error::Ctx;

const SERVICE: &str = "instance_metadata_defaults";
const KIND: &str = "instance_metadata_defaults.account";
/// AWS's word for a field without an account default.
const NO_PREFERENCE: &str = "no-preference";

service_type!(
    /// The account's IMDS defaults.
    MetadataDefaultsService
);

#[async_trait]
impl Service for MetadataDefaultsService {
    fn name(&self) -> &'static str {
        SERVICE
    }

    fn desired(&self, baseline: &Baseline, target: &Target, mode: Mode) -> Vec<Desired> {
        let (Some(spec), Mode::Apply) = (&baseline.instance_metadata_defaults, mode) else {
            return Vec::new();
        };
        let mut a = Attrs::new();
        for (key, value) in [
            ("http_tokens", spec.http_tokens.map(|v| json!(v))),
            (
                "http_put_response_hop_limit",
                spec.http_put_response_hop_limit.map(|v| json!(v)),
            ),
            ("http_endpoint", spec.http_endpoint.map(|v| json!(v))),
            (
                "instance_metadata_tags",
                spec.instance_metadata_tags.map(|v| json!(v)),
            ),
        ] {
            if let Some(v) = value {
                a.insert(key.into(), v);
            }
        }
        if a.is_empty() {
            return Vec::new();
        }
        vec![Desired {
            address: Address::new(target, KIND, "account"),
            controls: Vec::new(),
            want: Want::Present(a),
            depends_on: Vec::new(),
            private: Attrs::new(),
        }]
    }

    async fn read(&self, target: &Target, desired: &[Desired]) -> Result<Reading, ServiceError> {
        let Some(d) = desired.first() else {
            return Ok(Reading::default());
        };
        let account = account_of(&self.aws, target)?;
        let ec2 = client!(aws_sdk_ec2, &*account, &target.region);
        let out = ec2
            .get_instance_metadata_defaults()
            .send()
            .await
            .map_err(Ctx::new(target, SERVICE).err("GetInstanceMetadataDefaults"))?;
        let level = out.account_level();
        let text = |v: Option<&str>| json!(v.unwrap_or(NO_PREFERENCE));
        let a = crate::attrs(&[
            (
                "http_tokens",
                text(level.and_then(|l| l.http_tokens()).map(|t| t.as_str())),
            ),
            (
                "http_put_response_hop_limit",
                json!(
                    level
                        .and_then(|l| l.http_put_response_hop_limit())
                        .unwrap_or(-1)
                ),
            ),
            (
                "http_endpoint",
                text(level.and_then(|l| l.http_endpoint()).map(|e| e.as_str())),
            ),
            (
                "instance_metadata_tags",
                text(
                    level
                        .and_then(|l| l.instance_metadata_tags())
                        .map(|t| t.as_str()),
                ),
            ),
        ]);
        let ownership = crate::ec2_setting_owner(level.and_then(|l| l.managed_by()));
        Ok(vec![Observed::new(d.address.clone(), a, ownership)].into())
    }

    fn declare(&self, change: &Change) -> Declared {
        crate::usual(change)
    }

    async fn apply(&self, target: &Target, change: &Change) -> Result<Outputs, ServiceError> {
        if !matches!(change.action, Action::Create | Action::Update) {
            return Err(crate::unsupported(&change.address.kind, change.action));
        }
        let account = account_of(&self.aws, target)?;
        let ec2 = client!(aws_sdk_ec2, &*account, &target.region);
        let after = change.after.clone().unwrap_or_default();
        let changed = |key: &str| {
            change
                .changed
                .iter()
                .any(|k| k == key)
                .then(|| after.get(key))
                .flatten()
        };
        let text = |key: &str| changed(key).and_then(Value::as_str).map(str::to_string);
        ec2.modify_instance_metadata_defaults()
            .set_http_tokens(
                text("http_tokens").map(|t| MetadataDefaultHttpTokensState::from(t.as_str())),
            )
            .set_http_put_response_hop_limit(
                changed("http_put_response_hop_limit")
                    .and_then(Value::as_i64)
                    .and_then(|n| i32::try_from(n).ok()),
            )
            .set_http_endpoint(
                text("http_endpoint")
                    .map(|e| DefaultInstanceMetadataEndpointState::from(e.as_str())),
            )
            .set_instance_metadata_tags(
                text("instance_metadata_tags")
                    .map(|t| DefaultInstanceMetadataTagsState::from(t.as_str())),
            )
            .send()
            .await
            .map_err(Ctx::new(target, SERVICE).err("ModifyInstanceMetadataDefaults"))?;
        Ok(Outputs::new())
    }
}
