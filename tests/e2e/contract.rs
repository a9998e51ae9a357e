//! The plan is the contract (issue #16): `apply` writes what the plan
//! shows, and nothing else.

use aws_sdk_s3::types::{
    PublicAccessBlockConfiguration, ServerSideEncryption, ServerSideEncryptionByDefault,
    ServerSideEncryptionConfiguration, ServerSideEncryptionRule,
};

use crate::moto::{Moto, baseline_file};
use crate::probe::create_bucket;

/// Why: a team's Config bucket, named in the baseline and encrypted with
/// the team's KMS key (SSE-KMS), correct but for its policy: the plan
/// showed one change, `delivery_policy = false -> true`, and apply also
/// rewrote the bucket's default encryption to SSE-S3 (AES256), which no
/// plan said. Apply now sends only what the plan changes.
#[tokio::test(flavor = "multi_thread")]
async fn a_named_buckets_own_encryption_is_kept_when_the_plan_does_not_change_it() {
    let moto = Moto::start();
    let bucket = "team-config-logs";
    create_bucket(&moto, bucket).await;
    let sdk = moto.sdk("ap-northeast-1").await;
    let key = aws_sdk_kms::Client::new(&sdk)
        .create_key()
        .description("the team's key")
        .send()
        .await
        .unwrap()
        .key_metadata()
        .unwrap()
        .arn()
        .unwrap()
        .to_string();
    let s3 = baseline_providers::clients::s3(&sdk, "ap-northeast-1");
    s3.put_public_access_block()
        .bucket(bucket)
        .public_access_block_configuration(
            PublicAccessBlockConfiguration::builder()
                .block_public_acls(true)
                .ignore_public_acls(true)
                .block_public_policy(true)
                .restrict_public_buckets(true)
                .build(),
        )
        .send()
        .await
        .unwrap();
    s3.put_bucket_encryption()
        .bucket(bucket)
        .server_side_encryption_configuration(
            ServerSideEncryptionConfiguration::builder()
                .rules(
                    ServerSideEncryptionRule::builder()
                        .apply_server_side_encryption_by_default(
                            ServerSideEncryptionByDefault::builder()
                                .sse_algorithm(ServerSideEncryption::AwsKms)
                                .kms_master_key_id(&key)
                                .build()
                                .unwrap(),
                        )
                        .build(),
                )
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = baseline_file(
        &dir,
        "version: 1\naccounts: [{id: \"123456789012\"}]\nregions: [ap-northeast-1]\nhome_region: ap-northeast-1\nconfig: {enabled: true, bucket: team-config-logs}\n",
    );
    let f = file.to_str().unwrap();
    let plan = moto.baseline(&["plan", "-f", f]);
    assert_eq!(plan.code, 0, "{plan:?}");
    // The bucket's change: its heading and the lines indented under it.
    let shown: Vec<&str> = plan
        .stdout
        .lines()
        .skip_while(|l| !l.contains("config.bucket[\"team-config-logs\"] will be updated in place"))
        .skip(1)
        .take_while(|l| l.starts_with("      "))
        .collect();
    let shown = shown.join("\n");
    // The policy is shown as the statements it gains; the encryption
    // does not change, and the plan says so by not naming it.
    assert!(
        shown.contains("~ policy = policy document: 4 statements added"),
        "{plan:?}"
    );
    assert!(
        shown.contains("+ statement \"AWSConfigBucketDelivery\""),
        "{plan:?}"
    );
    assert!(!shown.contains("encryption"), "{plan:?}");
    // The JSON plan carries what apply writes: the team's encryption kept,
    // the whole policy document.
    let json = moto.baseline(&["plan", "-f", f, "--output", "json"]);
    let json: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let change = json["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["address"]["kind"] == "config.bucket")
        .unwrap();
    assert_eq!(change["after"]["encryption"], "aws:kms", "{change}");
    assert_eq!(change["changed"], serde_json::json!(["policy"]), "{change}");
    assert_eq!(
        change["after"]["policy"]["Statement"]
            .as_array()
            .map(Vec::len),
        Some(4),
        "{change}"
    );

    let apply = moto.baseline(&["apply", "-f", f, "--auto-approve"]);
    assert_eq!(apply.code, 0, "{apply:?}");
    let enc = s3
        .get_bucket_encryption()
        .bucket(bucket)
        .send()
        .await
        .unwrap();
    let default = enc
        .server_side_encryption_configuration()
        .unwrap()
        .rules()
        .first()
        .and_then(|r| r.apply_server_side_encryption_by_default())
        .unwrap();
    assert_eq!(
        (default.sse_algorithm(), default.kms_master_key_id()),
        (&ServerSideEncryption::AwsKms, Some(key.as_str())),
        "the team's encryption was replaced"
    );
    let policy = s3.get_bucket_policy().bucket(bucket).send().await.unwrap();
    assert!(policy.policy().unwrap().contains("AWSConfigBucketDelivery"));
}

/// The JSON plan of examples/tokyo.yaml on a fresh account carries what
/// apply writes, whole: the log buckets' and the key's policy documents,
/// the Security Hub standards, the trail's event selectors, the key's
/// deletion window for a teardown; and shows the policies as documents.
#[tokio::test(flavor = "multi_thread")]
async fn the_json_plan_carries_every_planned_value() {
    let moto = Moto::start();
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/tokyo.yaml");
    let plan = moto.baseline(&["plan", "-f", example, "--output", "json"]);
    assert_eq!(plan.code, 0, "{plan:?}");
    let plan: serde_json::Value = serde_json::from_str(&plan.stdout).unwrap();
    let change = |kind: &str| {
        plan["changes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["address"]["kind"] == kind)
            .unwrap_or_else(|| panic!("no {kind} in {plan}"))
            .clone()
    };
    let statements = |c: &serde_json::Value| {
        c["after"]["policy"]["Statement"]
            .as_array()
            .map(|s| {
                s.iter()
                    .filter_map(|s| s["Sid"].as_str().map(str::to_string))
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default()
    };
    let trail_bucket = change("cloudtrail.bucket");
    assert!(
        statements(&trail_bucket).contains(&"AWSCloudTrailWrite".to_string()),
        "{trail_bucket}"
    );
    assert_eq!(trail_bucket["after"]["encryption"], "AES256");
    assert!(statements(&change("config.bucket")).contains(&"AWSConfigBucketDelivery".to_string()));
    assert!(
        statements(&change("cloudtrail.kms_key")).contains(&"AllowCloudTrailEncrypt".to_string())
    );
    assert_eq!(
        change("securityhub.standards")["after"]["enabled"],
        serde_json::json!(["aws-foundational-security-best-practices"])
    );
    assert_eq!(
        change("cloudtrail.trail")["after"]["event_selectors"]["EventSelectors"][0]["ReadWriteType"],
        "All"
    );
    // Each created policy is listed statement by statement.
    let documents = plan["documents"].as_array().unwrap();
    assert_eq!(
        documents
            .iter()
            .filter(|d| d["attribute"] == "policy")
            .count(),
        3,
        "{documents:?}"
    );

    // A teardown plan carries the key's deletion window as private data.
    let destroy_file = tempfile::tempdir().unwrap();
    let applied = moto.baseline(&["apply", "-f", example, "--auto-approve"]);
    assert_eq!(applied.code, 0, "{applied:?}");
    let planfile = destroy_file.path().join("destroy.json");
    let destroy = moto.baseline(&[
        "destroy",
        "-f",
        example,
        "--out",
        planfile.to_str().unwrap(),
    ]);
    // Without a terminal or --auto-approve destroy refuses, after saving
    // the plan: nothing is deleted here.
    assert_eq!(destroy.code, 1, "{destroy:?}");
    assert!(
        destroy
            .stderr
            .contains("refusing to destroy without confirmation"),
        "{destroy:?}"
    );
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&planfile).unwrap()).unwrap();
    let key = saved["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["address"]["kind"] == "cloudtrail.kms_key")
        .unwrap();
    assert_eq!(key["action"], "delete", "{key}");
    assert_eq!(key["private"]["deletion_window_days"], 30, "{key}");
}
