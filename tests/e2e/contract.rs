//! The plan is the contract (issue #16): `apply` writes what the plan
//! shows, and nothing else.

use aws_sdk_s3::types::{
    PublicAccessBlockConfiguration, ServerSideEncryption, ServerSideEncryptionByDefault,
    ServerSideEncryptionConfiguration, ServerSideEncryptionRule,
};

use crate::cycle::create_bucket;
use crate::moto::{Moto, baseline_file};

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
    assert!(
        shown.contains("delivery_policy = false -> true"),
        "{plan:?}"
    );
    assert!(!shown.contains("encrypted"), "{plan:?}");

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
