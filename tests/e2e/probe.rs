//! The local AWS's state, as the tests set it up and look at it: seeds
//! (a bucket, Block Public Access flags, delivery permissions, a log
//! file) and probes (does a bucket exist, is Config recording, is the hub
//! on), through the same SDK clients the product uses. One place for them,
//! so each test module asks AWS the same way.

use std::collections::BTreeMap;

use aws_sdk_s3control::types::PublicAccessBlockConfiguration;
use aws_sdk_securityhub::types::StandardsStatus;

use crate::cycle::ACCOUNT;
use crate::moto::Moto;

/// Sets the account-level Block Public Access flags by hand.
pub async fn put_bpa(moto: &Moto, [acls, ignore, policy, restrict]: [bool; 4]) {
    let sdk = moto.sdk("ap-northeast-1").await;
    baseline_providers::clients::s3control(&sdk, "ap-northeast-1")
        .put_public_access_block()
        .account_id(ACCOUNT)
        .public_access_block_configuration(
            PublicAccessBlockConfiguration::builder()
                .block_public_acls(acls)
                .ignore_public_acls(ignore)
                .block_public_policy(policy)
                .restrict_public_buckets(restrict)
                .build(),
        )
        .send()
        .await
        .unwrap();
}

/// Two of the four account-level Block Public Access flags on.
pub async fn seed_half_open_bpa(moto: &Moto) {
    put_bpa(moto, [true, true, false, false]).await;
}

pub async fn bpa_flags(moto: &Moto) -> [bool; 4] {
    let sdk = moto.sdk("ap-northeast-1").await;
    let out = baseline_providers::clients::s3control(&sdk, "ap-northeast-1")
        .get_public_access_block()
        .account_id(ACCOUNT)
        .send()
        .await
        .unwrap();
    let c = out.public_access_block_configuration().unwrap();
    [
        c.block_public_acls().unwrap_or(false),
        c.ignore_public_acls().unwrap_or(false),
        c.block_public_policy().unwrap_or(false),
        c.restrict_public_buckets().unwrap_or(false),
    ]
}

pub async fn recording(moto: &Moto, region: &str) -> bool {
    let sdk = moto.sdk(region).await;
    aws_sdk_config::Client::new(&sdk)
        .describe_configuration_recorder_status()
        .send()
        .await
        .unwrap()
        .configuration_recorders_status()
        .iter()
        .any(|s| s.recording())
}

/// The region's Config recorders.
async fn configuration_recorders(
    moto: &Moto,
    region: &str,
) -> Vec<aws_sdk_config::types::ConfigurationRecorder> {
    let sdk = moto.sdk(region).await;
    aws_sdk_config::Client::new(&sdk)
        .describe_configuration_recorders()
        .send()
        .await
        .unwrap()
        .configuration_recorders()
        .to_vec()
}

pub async fn recorders(moto: &Moto, region: &str) -> Vec<String> {
    configuration_recorders(moto, region)
        .await
        .iter()
        .filter_map(|r| r.name().map(str::to_string))
        .collect()
}

pub async fn hub_enabled(moto: &Moto, region: &str) -> bool {
    let sdk = moto.sdk(region).await;
    aws_sdk_securityhub::Client::new(&sdk)
        .describe_hub()
        .send()
        .await
        .is_ok()
}

/// A bucket in the home region, made outside baseline (untagged).
pub async fn create_bucket(moto: &Moto, name: &str) {
    let sdk = moto.sdk("ap-northeast-1").await;
    baseline_providers::clients::s3(&sdk, "ap-northeast-1")
        .create_bucket()
        .bucket(name)
        .create_bucket_configuration(
            aws_sdk_s3::types::CreateBucketConfiguration::builder()
                .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::ApNortheast1)
                .build(),
        )
        .send()
        .await
        .unwrap();
}

/// Lets each service principal (`cloudtrail.amazonaws.com`,
/// `config.amazonaws.com`) deliver to `bucket`, as AWS requires before a
/// trail or a delivery channel may name it: statements added to the
/// bucket's own policy, which it keeps.
pub async fn allow_delivery(moto: &Moto, bucket: &str, services: &[&str]) {
    let sdk = moto.sdk("ap-northeast-1").await;
    let s3 = baseline_providers::clients::s3(&sdk, "ap-northeast-1");
    let mut policy = match s3.get_bucket_policy().bucket(bucket).send().await {
        Ok(p) => serde_json::from_str(p.policy().unwrap()).unwrap(),
        Err(_) => serde_json::json!({"Version": "2012-10-17", "Statement": []}),
    };
    let arn = format!("arn:aws:s3:::{bucket}");
    for (i, service) in services.iter().enumerate() {
        let principal = serde_json::json!({"Service": service});
        let statements = policy["Statement"].as_array_mut().unwrap();
        statements.push(
            serde_json::json!({"Sid": format!("SeedAcl{i}"), "Effect": "Allow",
            "Principal": principal, "Action": "s3:GetBucketAcl", "Resource": arn}),
        );
        statements.push(
            serde_json::json!({"Sid": format!("SeedWrite{i}"), "Effect": "Allow",
            "Principal": principal, "Action": "s3:PutObject", "Resource": format!("{arn}/*"),
            "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}}}),
        );
    }
    s3.put_bucket_policy()
        .bucket(bucket)
        .policy(policy.to_string())
        .send()
        .await
        .unwrap();
}

/// A log file in a bucket, as a service would deliver it. The bucket
/// policy baseline sets refuses plain HTTP (as AWS does), the local AWS's
/// only transport: it is lifted for the write, and put back when `restore`.
pub async fn deliver_log(moto: &Moto, bucket: &str, key: &str, restore: bool) {
    let sdk = moto.sdk("ap-northeast-1").await;
    let s3 = baseline_providers::clients::s3(&sdk, "ap-northeast-1");
    let policy = s3.get_bucket_policy().bucket(bucket).send().await.unwrap();
    let policy = policy.policy().unwrap().to_string();
    s3.delete_bucket_policy()
        .bucket(bucket)
        .send()
        .await
        .unwrap();
    s3.put_object()
        .bucket(bucket)
        .key(key)
        .body(aws_sdk_s3::primitives::ByteStream::from_static(b"{}"))
        .send()
        .await
        .unwrap();
    if restore {
        s3.put_bucket_policy()
            .bucket(bucket)
            .policy(policy)
            .send()
            .await
            .unwrap();
    }
}

pub async fn bucket_exists(moto: &Moto, name: &str) -> bool {
    let sdk = moto.sdk("ap-northeast-1").await;
    let s3 = baseline_providers::clients::s3(&sdk, "ap-northeast-1");
    s3.head_bucket().bucket(name).send().await.is_ok()
}

/// A KMS key tagged `managed-by: baseline`, with a description; its id.
pub async fn tagged_key(kms: &aws_sdk_kms::Client, description: &str) -> String {
    kms.create_key()
        .description(description)
        .tags(
            aws_sdk_kms::types::Tag::builder()
                .tag_key("managed-by")
                .tag_value("baseline")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap()
        .key_metadata()
        .unwrap()
        .key_id()
        .to_string()
}

/// A GuardDuty findings export (a detector in `region` with a publishing
/// destination into `destination_arn`, encrypted with `key_arn`), as a
/// team would set one up outside baseline.
pub async fn findings_export(moto: &Moto, region: &str, destination_arn: &str, key_arn: &str) {
    let gd = aws_sdk_guardduty::Client::new(&moto.sdk(region).await);
    let detector = gd.create_detector().enable(true).send().await.unwrap();
    gd.create_publishing_destination()
        .detector_id(detector.detector_id().unwrap())
        .destination_type(aws_sdk_guardduty::types::DestinationType::S3)
        .destination_properties(
            aws_sdk_guardduty::types::DestinationProperties::builder()
                .destination_arn(destination_arn)
                .kms_key_arn(key_arn)
                .build(),
        )
        .send()
        .await
        .unwrap();
}

/// AWS Config's service-linked role, made as if long ago: in effect at
/// once even when the local AWS lets writes settle (`settle-now`).
pub async fn settled_config_role(moto: &Moto) {
    aws_sdk_iam::Client::new(&moto.sdk("ap-northeast-1").await)
        .create_service_linked_role()
        .aws_service_name("config.amazonaws.com")
        .send()
        .await
        .unwrap();
    moto.control("settle-now", serde_json::json!({}));
}

/// An organization whose management account is the tests' own, with a
/// member account made for each name; the members' ids.
pub async fn organization(moto: &Moto, members: &[&str]) -> Vec<String> {
    let orgs = aws_sdk_organizations::Client::new(&moto.sdk("us-east-1").await);
    orgs.create_organization()
        .feature_set(aws_sdk_organizations::types::OrganizationFeatureSet::All)
        .send()
        .await
        .unwrap();
    let mut ids = Vec::new();
    for name in members {
        let created = orgs
            .create_account()
            .account_name(*name)
            .email(format!("{name}@example.com"))
            .send()
            .await
            .unwrap();
        ids.push(
            created
                .create_account_status()
                .unwrap()
                .account_id()
                .unwrap()
                .to_string(),
        );
    }
    ids
}

/// The account's IAM password policy as boto3 reads it (`GetAccountPasswordPolicy`'s
/// `PasswordPolicy`; `null` when the account has none): a client apart
/// from the SDK the product uses.
pub fn password_policy(moto: &Moto) -> serde_json::Value {
    let python = std::env::var("MOTO_PYTHON").unwrap_or_else(|_| "python3".into());
    let script = r#"
import json, sys, boto3
iam = boto3.client("iam", endpoint_url=sys.argv[1], region_name="us-east-1",
                   aws_access_key_id="testing", aws_secret_access_key="testing")
try:
    print(json.dumps(iam.get_account_password_policy()["PasswordPolicy"]))
except iam.exceptions.NoSuchEntityException:
    print("null")
"#;
    let out = std::process::Command::new(python)
        .args(["-c", script, &moto.url])
        .output()
        .expect("boto3 runs (tests/run.sh installs it with moto)");
    assert!(out.status.success(), "{out:?}");
    serde_json::from_slice(&out.stdout).unwrap()
}

/// `(name, type, status, tags)` of every analyzer in the region.
pub async fn analyzers(
    moto: &Moto,
    region: &str,
) -> Vec<(String, String, String, BTreeMap<String, String>)> {
    let sdk = moto.sdk(region).await;
    let out = aws_sdk_accessanalyzer::Client::new(&sdk)
        .list_analyzers()
        .send()
        .await
        .unwrap();
    let mut v: Vec<_> = out
        .analyzers()
        .iter()
        .map(|a| {
            (
                a.name().to_string(),
                a.r#type().as_str().to_string(),
                a.status().as_str().to_string(),
                a.tags()
                    .into_iter()
                    .flatten()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            )
        })
        .collect();
    v.sort();
    v
}

/// `(standard ARN, status)` of the region's subscriptions.
pub async fn standards(moto: &Moto, region: &str) -> Vec<(String, StandardsStatus)> {
    let sdk = moto.sdk(region).await;
    aws_sdk_securityhub::Client::new(&sdk)
        .get_enabled_standards()
        .send()
        .await
        .unwrap()
        .standards_subscriptions()
        .iter()
        .map(|s| {
            (
                s.standards_arn().unwrap().to_string(),
                s.standards_status().unwrap().clone(),
            )
        })
        .collect()
}

pub async fn ebs(moto: &Moto, region: &str) -> (bool, String) {
    let ec2 = aws_sdk_ec2::Client::new(&moto.sdk(region).await);
    let on = ec2
        .get_ebs_encryption_by_default()
        .send()
        .await
        .unwrap()
        .ebs_encryption_by_default()
        .unwrap();
    let key = ec2.get_ebs_default_kms_key_id().send().await.unwrap();
    (on, key.kms_key_id().unwrap().to_string())
}

pub async fn recording_frequency(moto: &Moto, region: &str) -> Vec<String> {
    configuration_recorders(moto, region)
        .await
        .iter()
        .filter_map(|r| r.recording_mode())
        .map(|m| m.recording_frequency().as_str().to_string())
        .collect()
}

pub async fn trail(
    moto: &Moto,
    region: &str,
    name: &str,
) -> Option<aws_sdk_cloudtrail::types::Trail> {
    let sdk = moto.sdk(region).await;
    aws_sdk_cloudtrail::Client::new(&sdk)
        .describe_trails()
        .trail_name_list(name)
        .send()
        .await
        .unwrap()
        .trail_list()
        .iter()
        .find(|t| t.name() == Some(name))
        .cloned()
}

pub async fn detectors(moto: &Moto, region: &str) -> Vec<(String, bool)> {
    let client = aws_sdk_guardduty::Client::new(&moto.sdk(region).await);
    let mut out = Vec::new();
    for id in client.list_detectors().send().await.unwrap().detector_ids() {
        let d = client.get_detector().detector_id(id).send().await.unwrap();
        out.push((
            id.clone(),
            d.status() == Some(&aws_sdk_guardduty::types::DetectorStatus::Enabled),
        ));
    }
    out
}

pub async fn ebs_default(moto: &Moto, region: &str) -> bool {
    aws_sdk_ec2::Client::new(&moto.sdk(region).await)
        .get_ebs_encryption_by_default()
        .send()
        .await
        .unwrap()
        .ebs_encryption_by_default()
        .unwrap_or(false)
}

pub async fn key_state(moto: &Moto, region: &str, alias: &str) -> Option<String> {
    let kms = aws_sdk_kms::Client::new(&moto.sdk(region).await);
    let key = kms.describe_key().key_id(alias).send().await.ok()?;
    key.key_metadata()
        .and_then(|m| m.key_state())
        .map(|s| s.as_str().to_string())
}

pub async fn key_policy(moto: &Moto, region: &str, alias: &str) -> serde_json::Value {
    let kms = aws_sdk_kms::Client::new(&moto.sdk(region).await);
    let key = kms.describe_key().key_id(alias).send().await.unwrap();
    let policy = kms
        .get_key_policy()
        .key_id(key.key_metadata().unwrap().key_id())
        .policy_name("default")
        .send()
        .await
        .unwrap();
    serde_json::from_str(policy.policy().unwrap()).unwrap()
}

pub async fn channel_bucket(moto: &Moto, region: &str) -> Option<String> {
    aws_sdk_config::Client::new(&moto.sdk(region).await)
        .describe_delivery_channels()
        .send()
        .await
        .unwrap()
        .delivery_channels()
        .first()
        .and_then(|c| c.s3_bucket_name().map(str::to_string))
}

/// An SDK configuration with the credentials of `account` (its
/// `OrganizationAccountAccessRole` assumed), for checking its state.
pub async fn as_account(moto: &Moto, account: &str, region: &str) -> aws_config::SdkConfig {
    let creds = aws_sdk_sts::Client::new(&moto.sdk(region).await)
        .assume_role()
        .role_arn(format!(
            "arn:aws:iam::{account}:role/OrganizationAccountAccessRole"
        ))
        .role_session_name("probe")
        .send()
        .await
        .unwrap()
        .credentials()
        .cloned()
        .unwrap();
    moto.sdk_with(
        region,
        aws_sdk_s3::config::Credentials::new(
            creds.access_key_id(),
            creds.secret_access_key(),
            Some(creds.session_token().to_string()),
            None,
            "probe",
        ),
    )
    .await
}

/// Whether `account` has an enabled GuardDuty detector in `region`, and
/// its GuardDuty administrator there.
pub async fn guardduty_of(moto: &Moto, account: &str, region: &str) -> (bool, Option<String>) {
    let client = aws_sdk_guardduty::Client::new(&as_account(moto, account, region).await);
    let ids = client.list_detectors().send().await.unwrap();
    let Some(id) = ids.detector_ids().first() else {
        return (false, None);
    };
    let d = client.get_detector().detector_id(id).send().await.unwrap();
    let admin = client
        .get_administrator_account()
        .detector_id(id)
        .send()
        .await
        .unwrap()
        .administrator()
        .and_then(|a| a.account_id())
        .map(str::to_string);
    (
        d.status() == Some(&aws_sdk_guardduty::types::DetectorStatus::Enabled),
        admin,
    )
}

/// An account that joins the organization (Organizations CreateAccount
/// from the management account); its id.
pub async fn organization_join(moto: &Moto, name: &str) -> String {
    aws_sdk_organizations::Client::new(&moto.sdk("us-east-1").await)
        .create_account()
        .account_name(name)
        .email(format!("{name}@example.com"))
        .send()
        .await
        .unwrap()
        .create_account_status()
        .unwrap()
        .account_id()
        .unwrap()
        .to_string()
}

/// `account`'s Security Hub administrator in `region` and its enabled
/// standards (ARN paths, e.g. `aws-foundational-security-best-practices/v/1.0.0`).
pub async fn security_hub_of(
    moto: &Moto,
    account: &str,
    region: &str,
) -> (Option<String>, Vec<String>) {
    let client = aws_sdk_securityhub::Client::new(&as_account(moto, account, region).await);
    let admin = client
        .get_administrator_account()
        .send()
        .await
        .unwrap()
        .administrator()
        .and_then(|a| a.account_id())
        .map(str::to_string);
    let mut standards: Vec<String> = client
        .get_enabled_standards()
        .send()
        .await
        .unwrap()
        .standards_subscriptions()
        .iter()
        .filter_map(|s| s.standards_arn())
        .map(|a| a.split("standards/").last().unwrap_or(a).to_string())
        .collect();
    standards.sort();
    (admin, standards)
}

/// What boto3's EC2 client in `region` answers to `call` (Python, given
/// the client as `ec2`), as JSON: a client apart from the SDK the product
/// uses.
fn boto3_ec2(moto: &Moto, region: &str, call: &str) -> serde_json::Value {
    let python = std::env::var("MOTO_PYTHON").unwrap_or_else(|_| "python3".into());
    let script = format!(
        "import json, sys, boto3\nec2 = boto3.client(\"ec2\", endpoint_url=sys.argv[1], region_name=sys.argv[2], aws_access_key_id=\"testing\", aws_secret_access_key=\"testing\")\nprint(json.dumps({call}, default=str))\n"
    );
    let out = std::process::Command::new(python)
        .args(["-c", &script, &moto.url, region])
        .output()
        .expect("boto3 runs (tests/run.sh installs it with moto)");
    assert!(out.status.success(), "{out:?}");
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Block public access for EBS snapshots in `region` as boto3 reads it:
/// (State, ManagedBy).
pub fn snapshot_sharing(moto: &Moto, region: &str) -> (String, String) {
    let out = boto3_ec2(moto, region, "ec2.get_snapshot_block_public_access_state()");
    let text = |k: &str| out[k].as_str().unwrap_or("-").to_string();
    (text("State"), text("ManagedBy"))
}

/// The account's IMDS defaults in `region` as boto3 reads them
/// (`GetInstanceMetadataDefaults`'s `AccountLevel`).
pub fn metadata_defaults(moto: &Moto, region: &str) -> serde_json::Value {
    boto3_ec2(
        moto,
        region,
        "ec2.get_instance_metadata_defaults()[\"AccountLevel\"]",
    )
}
