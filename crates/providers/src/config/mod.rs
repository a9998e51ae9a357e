//! AWS Config: the service-linked role, the log bucket, and per region the
//! recorder, the delivery channel and recording itself.
//!
//! Order (data in `depends_on`, walked by the engine): role and bucket →
//! recorder → delivery channel → recording; teardown runs it backwards
//! (stop → delete channel → delete recorder → empty and delete the bucket).
//! An existing recorder or channel is corrected under its own name, never
//! duplicated: a region has at most one of each. Ownership is the
//! recorder's tag (`managed-by: baseline`, set when baseline creates it or
//! when `config.adopt` says so); the channel and the recording belong to
//! the recorder (a channel has no tags). `destroy` stops and deletes only
//! an owned recorder, and deletes the log bucket only when no delivery
//! channel in any region of the account still delivers to it. AWS Control
//! Tower's recorder and channel are never changed.

use async_trait::async_trait;
use baseline_engine::{
    Action, Address, Attrs, Change, Declared, Desired, Mode, Observed, Outputs, Ownership,
    Precondition, Reading, Reference, Service, ServiceError, Target, Wait, Want,
};
use baseline_spec::{Baseline, RecordingFrequency, render_bucket};
use serde_json::{Value, json};

use crate::clients;
use crate::clients::Account;
use crate::error::Ctx;
use crate::{account_of, attrs, bucket, home_address};

mod aggregator;
pub(crate) use aggregator::{
    ROLE_NAME as AGGREGATOR_ROLE_NAME, policy_arn as aggregator_policy_arn,
};
mod channel;
mod recorder;

use recorder::recorder_mark;
pub use recorder::{put_recorder, recorder_attrs};

const SERVICE: &str = "config";
const CONTROLS: &[&str] = &["Config.1"];
const SLR_SERVICE: &str = "config.amazonaws.com";
const DEFAULT_NAME: &str = "default";
/// The prefix of the names AWS Control Tower gives its Config recorder and
/// delivery channel (`aws-controltower-BaselineConfigRecorder`, ...).
pub const CONTROL_TOWER_PREFIX: &str = "aws-controltower-";
const CONTROL_TOWER: &str = "AWS Control Tower";

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
             // Under any key prefix: a channel baseline moves to this
             // bucket keeps its own prefix (in any region), and AWS Config
             // refuses a bucket it may not write under it
             // (InsufficientDeliveryPolicyException).
             "Resource": format!("{arn}/*AWSLogs/{account}/Config/*"),
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
        private: baseline_engine::Attrs::new(),
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
        let owner = &self.aws.owner;
        let bucket_name = render_bucket(
            &spec.bucket_template(baseline.name.as_deref()),
            &target.account_id,
            home,
        );
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
            .map_or_else(|| "aws".to_string(), |a| a.partition.clone());
        let partition = partition.as_str();

        let mut out = Vec::new();
        if target.home {
            if on {
                out.push(desired(
                    role.clone(),
                    Want::Present(attrs(&[("service", json!(SLR_SERVICE))])),
                    vec![],
                ));
            }
            let unowned = bucket::Unowned::of(
                &bucket_name,
                &owner.default_of(baseline_spec::DEFAULT_CONFIG_BUCKET),
                &target.account_id,
                home,
                spec.adopt,
            );
            out.push(Desired {
                // Its read alone (a precondition) knows it is adopted.
                private: bucket::adopting(spec.adopt && on),
                ..desired(
                    bucket.clone(),
                    if on {
                        Want::Present(bucket::wanted(
                            unowned,
                            owner.mark(),
                            bucket_policy(partition, &target.account_id, &bucket_name),
                        ))
                    } else {
                        Want::Absent
                    },
                    vec![],
                )
            });
        }
        let want = |a: Attrs| if on { Want::Present(a) } else { Want::Absent };
        let mut recorder_attrs = attrs(&[
            ("role_arn", json!(role_arn(partition, &target.account_id))),
            ("all_supported", json!(true)),
            ("include_global_resource_types", json!(target.home)),
            (
                "recording_frequency",
                json!(frequency_name(spec.frequency())),
            ),
        ]);
        if spec.adopt {
            recorder_attrs.insert("managed_by".into(), json!(owner.mark()));
        }
        out.push(desired(recorder.clone(), want(recorder_attrs), vec![role]));
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
        // Through the delegated administrator: the organization's
        // aggregator too (left by `destroy`, docs/safety.md).
        if let (true, Some(org)) = (on, &self.aws.organization) {
            out.extend(aggregator::desired(org, target, home, owner.mark()));
        }
        out
    }

    fn scopes(&self) -> (&'static [&'static str], &'static [&'static str]) {
        (
            &[aggregator::ADMIN, aggregator::ROLE, aggregator::AGGREGATOR],
            &[],
        )
    }

    async fn read(&self, target: &Target, desired: &[Desired]) -> Result<Reading, ServiceError> {
        let mark = self.aws.owner.mark();
        crate::organization::read_split(
            desired,
            aggregator::is_org_kind,
            |own| async move { self.read_own(target, &own).await },
            |d| async move {
                let account = account_of(&self.aws, target)?;
                let org = crate::organization::of(&self.aws)?;
                aggregator::read(&account, org, target, &d, mark).await
            },
        )
        .await
    }

    /// Recording starts and stops the recorder by the name the plan read,
    /// or the one the recorder's create gives; a recorder's update is
    /// written over the recording-mode overrides the plan read (the whole
    /// recorder is put).
    fn declare(&self, change: &Change) -> Declared {
        let kind = change.address.kind.as_str();
        let mut d = crate::usual(change);
        match (kind, change.action) {
            ("config.bucket", _) => d.preconditions = bucket::preconditions(change),
            ("config.recorder", Action::Create) => d.waits.push(Wait::PolicyInEffect),
            ("config.recorder", Action::Update)
                if change.changed.iter().any(|k| k != "managed_by") =>
            {
                // PutConfigurationRecorder writes the whole recorder.
                d.preconditions
                    .extend(unchanged_of(change, &recorder::WRITTEN));
                d.waits.push(Wait::PolicyInEffect);
            }
            ("config.delivery_channel", Action::Update) => {
                // PutDeliveryChannel writes the whole channel.
                let all: Vec<&str> = change
                    .before
                    .iter()
                    .flat_map(|b| b.keys().map(String::as_str))
                    .collect();
                d.preconditions.extend(unchanged_of(change, &all));
                d.waits.push(Wait::PolicyInEffect)
            }
            ("config.delivery_channel", Action::Create) => d.waits.push(Wait::PolicyInEffect),
            ("config.recording", _) => {
                // Made moments ago by the recorder's step, its status is
                // read there; only a change of what the plan read counts.
                if change.action == Action::Create {
                    d.preconditions.clear();
                }
                d.references.push(Reference {
                    into: "recorder".into(),
                    from: Address {
                        kind: "config.recorder".into(),
                        ..change.address.clone()
                    },
                    output: "name".into(),
                });
            }
            (aggregator::AGGREGATOR, Action::Create) => {
                // The administrator may have been registered moments ago:
                // its aggregator cannot be read before the delegation holds.
                d.preconditions.clear();
                d.waits.extend([Wait::Delegation, Wait::PolicyInEffect]);
            }
            _ => {}
        }
        d
    }

    async fn apply(&self, target: &Target, change: &Change) -> Result<Outputs, ServiceError> {
        if aggregator::is_org_kind(&change.address.kind) {
            let account = account_of(&self.aws, target)?;
            aggregator::apply(
                &account,
                target,
                change,
                self.aws.owner.mark(),
                self.aws.settle,
            )
            .await?;
            return Ok(Outputs::new());
        }
        self.apply_own(target, change).await
    }
}

impl ConfigService {
    async fn read_own(
        &self,
        target: &Target,
        desired: &[Desired],
    ) -> Result<Reading, ServiceError> {
        let account = account_of(&self.aws, target)?;
        let account = &*account;
        let owner = &self.aws.owner;
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
                    let adopt = find("config.recorder").is_some_and(bucket::wants_mark)
                        || bucket::adopts(d);
                    let unowned = bucket::Unowned::of(
                        &d.address.name,
                        &owner.default_of(baseline_spec::DEFAULT_CONFIG_BUCKET),
                        &account.id,
                        &d.address.region,
                        adopt,
                    );
                    let mut o = bucket::read(&s3, &ctx, d, unowned, owner).await?;
                    // To be deleted: only once no trail or channel, in
                    // any region, delivers to it.
                    if let (Some(o), Want::Absent) = (&mut o, &d.want) {
                        (o.used_by, o.users_unknown) = crate::users::read(account, target)
                            .await
                            .of_bucket(&d.address.name);
                    }
                    Ok::<_, ServiceError>(o)
                }
                None => Ok(None),
            }
        };
        // The recorder, its channel and its recording only when asked
        // about (a bucket or role read alone, to check a change's
        // preconditions, reads nothing else).
        let own = desired.iter().any(|d| {
            matches!(
                d.address.kind.as_str(),
                "config.recorder" | "config.delivery_channel" | "config.recording"
            )
        });
        let recorders = async {
            if own {
                futures::join!(
                    client.describe_configuration_recorders().send(),
                    client.describe_delivery_channels().send(),
                    client.describe_configuration_recorder_status().send(),
                )
            } else {
                (
                    Ok(aws_sdk_config::operation::describe_configuration_recorders::DescribeConfigurationRecordersOutput::builder().build()),
                    Ok(aws_sdk_config::operation::describe_delivery_channels::DescribeDeliveryChannelsOutput::builder().build()),
                    Ok(aws_sdk_config::operation::describe_configuration_recorder_status::DescribeConfigurationRecorderStatusOutput::builder().build()),
                )
            }
        };
        let ((recorders, channels, statuses), slr, bucket) = futures::join!(recorders, slr, bucket);
        let recorders = recorders.map_err(ctx.err("DescribeConfigurationRecorders"))?;
        let channels = channels.map_err(ctx.err("DescribeDeliveryChannels"))?;
        let statuses = statuses.map_err(ctx.err("DescribeConfigurationRecorderStatus"))?;
        let slr = slr?;
        out.extend(bucket?);
        let recorder = recorders.configuration_recorders().first();
        let mark = match recorder.and_then(|r| r.arn()) {
            Some(arn) => recorder_mark(&client, &ctx, arn, owner).await?,
            None => Ownership::NotOurs,
        };
        let owned = mark.ours();
        // The recorder, its channel and its recording: owned together;
        // Control Tower's and another baseline's are never changed.
        let elsewhere = recorder
            .and_then(|r| r.name())
            .into_iter()
            .chain(channels.delivery_channels().first().and_then(|c| c.name()))
            .any(|n| n.starts_with(CONTROL_TOWER_PREFIX))
            .then(|| CONTROL_TOWER.to_string())
            .or_else(|| mark.tool().map(str::to_string));
        let observed = |a: Address, attrs: Attrs| {
            let mut o = Observed::new(a, attrs, mark.clone());
            o.managed_by_tool(elsewhere.clone());
            o
        };

        for d in desired {
            let a = d.address.clone();
            match a.kind.as_str() {
                "config.service_linked_role" if slr == Some(true) => {
                    out.push(Observed::new(
                        a,
                        attrs(&[("service", json!(SLR_SERVICE))]),
                        Ownership::NotOurs,
                    ));
                }
                "config.recorder" => {
                    if let Some(r) = recorder {
                        let mut a_ = recorder_attrs(r);
                        a_.insert(
                            "managed_by".into(),
                            if owned {
                                json!(owner.mark())
                            } else {
                                Value::Null
                            },
                        );
                        let mut o = observed(a, a_);
                        // What a tag (adoption) is written to.
                        o.private.insert("recorder_arn".into(), json!(r.arn()));
                        out.push(o);
                    }
                }
                "config.delivery_channel" => {
                    if let Some(c) = channels.delivery_channels().first() {
                        // Everything a PutDeliveryChannel writes: the
                        // channel's own prefix, topic, key and snapshot
                        // frequency are planned to stay.
                        out.push(observed(
                            a,
                            attrs(&[
                                ("name", json!(c.name())),
                                ("s3_bucket_name", json!(c.s3_bucket_name())),
                                ("s3_key_prefix", json!(c.s3_key_prefix())),
                                ("s3_kms_key_arn", json!(c.s3_kms_key_arn())),
                                ("sns_topic_arn", json!(c.sns_topic_arn())),
                                (
                                    "snapshot_delivery_frequency",
                                    json!(
                                        c.config_snapshot_delivery_properties()
                                            .and_then(|p| p.delivery_frequency())
                                            .map(|f| f.as_str())
                                    ),
                                ),
                            ]),
                        ));
                    }
                }
                "config.recording"
                    if statuses
                        .configuration_recorders_status()
                        .iter()
                        .any(|s| s.recording()) =>
                {
                    out.push(observed(a, attrs(&[("recording", json!(true))])));
                }
                _ => {}
            }
        }
        Ok(out.into())
    }

    async fn apply_own(&self, target: &Target, change: &Change) -> Result<Outputs, ServiceError> {
        let account = account_of(&self.aws, target)?;
        let account = &*account;
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

        match (change.address.kind.as_str(), change.action) {
            ("config.service_linked_role", Action::Create) => {
                let iam = client!(aws_sdk_iam, account, &target.region);
                let made = iam
                    .create_service_linked_role()
                    .aws_service_name(SLR_SERVICE)
                    .send()
                    .await
                    .map_err(ctx.err("CreateServiceLinkedRole"));
                // The role has no settings and no idempotency token: a
                // retry after an answer lost on the way back, or another
                // region of this run, finds the name taken. There it is.
                if let Err(e) = made
                    && !slr_exists(account, &ctx).await?
                {
                    return Err(e.into());
                }
            }
            ("config.bucket", Action::Create | Action::Update) => {
                let s3 = clients::s3_for(account, &target.region);
                bucket::ensure(&s3, &ctx, change, self.aws.owner.mark(), self.aws.settle).await?;
            }
            ("config.bucket", Action::Delete) => {
                let s3 = clients::s3_for(account, &target.region);
                bucket::delete(&s3, &ctx, change).await?;
            }
            ("config.recorder", Action::Create) => {
                let mark = Some(self.aws.owner.mark());
                put_recorder(&client, target, &name, &after, mark, self.aws.settle).await?;
                return Ok(Outputs::from_iter([("name".to_string(), json!(name))]));
            }
            ("config.recorder", Action::Update) => {
                recorder::update(
                    &client,
                    &ctx,
                    target,
                    &name,
                    change,
                    self.aws.owner.mark(),
                    self.aws.settle,
                )
                .await?;
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
                channel::put(&client, &ctx, &name, &after, self.aws.settle).await?;
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
                // The recorder's name: read by the plan, or given by the
                // recorder's create (known after apply).
                let recorder = change
                    .private
                    .get("recorder")
                    .and_then(Value::as_str)
                    .ok_or_else(|| {
                        crate::refusal(format!(
                            "the plan does not name the recorder of {}; make the plan again",
                            change.address
                        ))
                    })?;
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
        Ok(Outputs::new())
    }
}

/// `Unchanged` for each of `attrs` the plan read, not already expected.
fn unchanged_of(change: &Change, attrs: &[&str]) -> Vec<Precondition> {
    attrs
        .iter()
        .filter(|a| change.before.as_ref().is_some_and(|b| b.contains_key(**a)))
        .filter(|a| !change.changed.iter().any(|c| c == *a))
        .map(|a| Precondition::Unchanged {
            attr: a.to_string(),
        })
        .collect()
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
