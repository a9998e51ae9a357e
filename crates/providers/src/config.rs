//! AWS Config: the service-linked role, the log bucket, and per region the
//! recorder, the delivery channel and recording itself.
//!
//! Order (data in `depends_on`, walked by the engine): role and bucket →
//! recorder → delivery channel → recording; teardown runs it backwards
//! (stop → delete channel → delete recorder → empty and delete the bucket).
//! An existing recorder or channel is adopted under its own name, never
//! duplicated: a region has at most one of each.

use async_trait::async_trait;
use aws_sdk_config::types::{
    ConfigurationRecorder, DeliveryChannel, RecordingFrequency as SdkFrequency, RecordingGroup,
    RecordingMode,
};
use baseline_engine::{
    Action, Address, Attrs, Change, Desired, Mode, Observed, Reading, Service, ServiceError,
    Target, Want,
};
use baseline_spec::{Baseline, RecordingFrequency, render_bucket};
use serde_json::{Value, json};

use crate::clients;
use crate::connect::Account;
use crate::error::Ctx;
use crate::{account_of, attrs, bucket, home_address};

const SERVICE: &str = "config";
const CONTROLS: &[&str] = &["Config.1"];
const SLR_SERVICE: &str = "config.amazonaws.com";
const DEFAULT_NAME: &str = "default";

service_type!(
    /// AWS Config.
    ConfigService
);

/// The bucket policy AWS Config needs to deliver to `bucket`.
pub fn bucket_policy(partition: &str, account: &str, bucket: &str) -> Value {
    let arn = format!("arn:{partition}:s3:::{bucket}");
    let source = json!({"StringEquals": {"AWS:SourceAccount": account}});
    json!({
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "AWSConfigBucketPermissionsCheck", "Effect": "Allow",
             "Principal": {"Service": SLR_SERVICE}, "Action": "s3:GetBucketAcl",
             "Resource": arn, "Condition": source},
            {"Sid": "AWSConfigBucketExistenceCheck", "Effect": "Allow",
             "Principal": {"Service": SLR_SERVICE}, "Action": "s3:ListBucket",
             "Resource": arn, "Condition": source},
            {"Sid": "AWSConfigBucketDelivery", "Effect": "Allow",
             "Principal": {"Service": SLR_SERVICE}, "Action": "s3:PutObject",
             "Resource": format!("{arn}/AWSLogs/{account}/Config/*"),
             "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control", "AWS:SourceAccount": account}}},
            bucket::deny_insecure_transport(&arn)
        ]
    })
}

fn role_arn(partition: &str, account: &str) -> String {
    format!(
        "arn:{partition}:iam::{account}:role/aws-service-role/{SLR_SERVICE}/AWSServiceRoleForConfig"
    )
}

fn frequency_name(f: RecordingFrequency) -> &'static str {
    match f {
        RecordingFrequency::Continuous => "CONTINUOUS",
        RecordingFrequency::Daily => "DAILY",
    }
}

fn desired(address: Address, want: Want, depends_on: Vec<Address>) -> Desired {
    Desired {
        address,
        controls: CONTROLS.iter().map(|s| s.to_string()).collect(),
        want,
        depends_on,
    }
}

#[async_trait]
impl Service for ConfigService {
    fn name(&self) -> &'static str {
        SERVICE
    }

    fn desired(&self, baseline: &Baseline, target: &Target, mode: Mode) -> Vec<Desired> {
        let Some(spec) = &baseline.config else {
            return Vec::new();
        };
        let on = spec.enabled && mode == Mode::Apply;
        let home = &baseline.home_region;
        let bucket_name = render_bucket(spec.bucket_template(), &target.account_id, home);
        let bucket = home_address(target, home, "config.bucket", &bucket_name);
        let role = home_address(
            target,
            home,
            "config.service_linked_role",
            "AWSServiceRoleForConfig",
        );
        let recorder = Address::new(target, "config.recorder", "recorder");
        let channel = Address::new(target, "config.delivery_channel", "channel");
        let recording = Address::new(target, "config.recording", "recorder");
        let partition = self
            .aws
            .account(&target.account_id)
            .map_or("aws", |a| a.partition.as_str());

        let mut out = Vec::new();
        if target.home {
            if on {
                out.push(desired(
                    role.clone(),
                    Want::Present(attrs(&[("service", json!(SLR_SERVICE))])),
                    vec![],
                ));
            }
            out.push(desired(
                bucket.clone(),
                if on {
                    Want::Present(bucket::wanted())
                } else {
                    Want::Absent
                },
                vec![],
            ));
        }
        let want = |a: Attrs| if on { Want::Present(a) } else { Want::Absent };
        out.push(desired(
            recorder.clone(),
            want(attrs(&[
                ("role_arn", json!(role_arn(partition, &target.account_id))),
                ("all_supported", json!(true)),
                ("include_global_resource_types", json!(target.home)),
                (
                    "recording_frequency",
                    json!(frequency_name(spec.frequency())),
                ),
            ])),
            vec![role],
        ));
        out.push(desired(
            channel.clone(),
            want(attrs(&[("s3_bucket_name", json!(bucket_name))])),
            vec![recorder, bucket],
        ));
        out.push(desired(
            recording,
            want(attrs(&[("recording", json!(true))])),
            vec![channel],
        ));
        out
    }

    async fn read(&self, target: &Target, desired: &[Desired]) -> Result<Reading, ServiceError> {
        let account = account_of(&self.aws, target)?;
        let ctx = Ctx::new(target, SERVICE);
        let client = client!(aws_sdk_config, account, &target.region);
        let mut out = Vec::new();

        // Everything this read needs is independent: one round trip.
        let find = |kind: &str| desired.iter().find(|d| d.address.kind == kind);
        let slr = async {
            match find("config.service_linked_role") {
                Some(_) => slr_exists(account, &ctx).await.map(Some),
                None => Ok(None),
            }
        };
        let bucket = async {
            match find("config.bucket") {
                Some(d) => {
                    let s3 = clients::s3_for(account, &target.region);
                    let policy = bucket_policy(&account.partition, &account.id, &d.address.name);
                    bucket::read(&s3, &ctx, d, &policy).await
                }
                None => Ok(None),
            }
        };
        let (recorders, channels, statuses, slr, bucket) = futures::join!(
            client.describe_configuration_recorders().send(),
            client.describe_delivery_channels().send(),
            client.describe_configuration_recorder_status().send(),
            slr,
            bucket,
        );
        let recorders = recorders.map_err(ctx.err("DescribeConfigurationRecorders"))?;
        let channels = channels.map_err(ctx.err("DescribeDeliveryChannels"))?;
        let statuses = statuses.map_err(ctx.err("DescribeConfigurationRecorderStatus"))?;
        let slr = slr?;
        out.extend(bucket?);

        for d in desired {
            let a = d.address.clone();
            match a.kind.as_str() {
                "config.service_linked_role" if slr == Some(true) => {
                    out.push(Observed::new(
                        a,
                        attrs(&[("service", json!(SLR_SERVICE))]),
                        false,
                    ));
                }
                "config.recorder" => {
                    if let Some(r) = recorders.configuration_recorders().first() {
                        out.push(Observed::new(a, recorder_attrs(r), true));
                    }
                }
                "config.delivery_channel" => {
                    if let Some(c) = channels.delivery_channels().first() {
                        out.push(Observed {
                            address: a,
                            attrs: attrs(&[
                                ("name", json!(c.name())),
                                ("s3_bucket_name", json!(c.s3_bucket_name())),
                            ]),
                            managed: true,
                            note: None,
                        });
                    }
                }
                "config.recording"
                    if statuses
                        .configuration_recorders_status()
                        .iter()
                        .any(|s| s.recording()) =>
                {
                    out.push(Observed::new(a, attrs(&[("recording", json!(true))]), true));
                }
                _ => {}
            }
        }
        Ok(out.into())
    }

    async fn apply(
        &self,
        _baseline: &Baseline,
        target: &Target,
        change: &Change,
    ) -> Result<(), ServiceError> {
        let account = account_of(&self.aws, target)?;
        let ctx = Ctx::new(target, SERVICE);
        let client = client!(aws_sdk_config, account, &target.region);
        let after = change.after.clone().unwrap_or_default();
        // An adopted recorder or channel keeps its own name.
        let name = change
            .before
            .as_ref()
            .and_then(|b| b.get("name"))
            .and_then(Value::as_str)
            .unwrap_or(DEFAULT_NAME)
            .to_string();
        let get_str = |k: &str| {
            after
                .get(k)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };

        match (change.address.kind.as_str(), change.action) {
            ("config.service_linked_role", Action::Create) => {
                let iam = client!(aws_sdk_iam, account, &target.region);
                iam.create_service_linked_role()
                    .aws_service_name(SLR_SERVICE)
                    .send()
                    .await
                    .map_err(ctx.err("CreateServiceLinkedRole"))?;
            }
            ("config.bucket", Action::Create | Action::Update) => {
                let s3 = clients::s3_for(account, &target.region);
                let policy = bucket_policy(&account.partition, &account.id, &change.address.name);
                bucket::ensure(
                    &s3,
                    &ctx,
                    &change.address.name,
                    &policy,
                    change.action == Action::Create,
                )
                .await?;
            }
            ("config.bucket", Action::Delete) => {
                let s3 = clients::s3_for(account, &target.region);
                bucket::delete(&s3, &ctx, &change.address.name).await?;
            }
            ("config.recorder", Action::Create | Action::Update) => {
                put_recorder(&client, target, &name, &after).await?;
            }
            ("config.recorder", Action::Delete) => {
                client
                    .delete_configuration_recorder()
                    .configuration_recorder_name(&name)
                    .send()
                    .await
                    .map_err(ctx.err("DeleteConfigurationRecorder"))?;
            }
            ("config.delivery_channel", Action::Create | Action::Update) => {
                client
                    .put_delivery_channel()
                    .delivery_channel(
                        DeliveryChannel::builder()
                            .name(&name)
                            .s3_bucket_name(get_str("s3_bucket_name"))
                            .build(),
                    )
                    .send()
                    .await
                    .map_err(ctx.err("PutDeliveryChannel"))?;
            }
            ("config.delivery_channel", Action::Delete) => {
                client
                    .delete_delivery_channel()
                    .delivery_channel_name(&name)
                    .send()
                    .await
                    .map_err(ctx.err("DeleteDeliveryChannel"))?;
            }
            ("config.recording", action @ (Action::Create | Action::Update | Action::Delete)) => {
                // The recorder may have been created by this apply: ask for its name.
                let recorders = client
                    .describe_configuration_recorders()
                    .send()
                    .await
                    .map_err(ctx.err("DescribeConfigurationRecorders"))?;
                let recorder = recorders
                    .configuration_recorders()
                    .first()
                    .and_then(|r| r.name())
                    .unwrap_or(DEFAULT_NAME)
                    .to_string();
                if action == Action::Delete {
                    client
                        .stop_configuration_recorder()
                        .configuration_recorder_name(recorder)
                        .send()
                        .await
                        .map_err(ctx.err("StopConfigurationRecorder"))?;
                } else {
                    client
                        .start_configuration_recorder()
                        .configuration_recorder_name(recorder)
                        .send()
                        .await
                        .map_err(ctx.err("StartConfigurationRecorder"))?;
                }
            }
            (kind, action) => return Err(crate::unsupported(kind, action)),
        }
        Ok(())
    }
}

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
    ])
}

/// Creates or corrects the recorder `name` to the attributes `after`.
pub async fn put_recorder(
    client: &aws_sdk_config::Client,
    target: &Target,
    name: &str,
    after: &Attrs,
) -> Result<(), ServiceError> {
    let ctx = Ctx::new(target, SERVICE);
    let get_bool = |k: &str| after.get(k).and_then(Value::as_bool).unwrap_or(false);
    let get_str = |k: &str| after.get(k).and_then(Value::as_str).unwrap_or_default();
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
                .build()
                .map_err(|e| Box::new(e) as ServiceError)?,
        )
        .build();
    client
        .put_configuration_recorder()
        .configuration_recorder(recorder)
        .send()
        .await
        .map_err(ctx.err("PutConfigurationRecorder"))?;
    Ok(())
}

/// The service-linked role exists when a role lives under its service path
/// (its exact name differs between AWS and emulators).
async fn slr_exists(account: &Account, ctx: &Ctx) -> Result<bool, ServiceError> {
    let iam = client!(aws_sdk_iam, account, &ctx.region);
    let out = iam
        .list_roles()
        .path_prefix(format!("/aws-service-role/{SLR_SERVICE}/"))
        .send()
        .await
        .map_err(ctx.err("ListRoles"))?;
    Ok(!out.roles().is_empty())
}
