//! A non-compliant account in two regions: console users without MFA,
//! nothing enabled, a partially configured trail of the configured name
//! (adopted: `cloudtrail.adopt`), another trail, someone's suspended
//! detector (not adopted: corrected, but never deleted).
//! plan → apply → plan (only manual MFA items, exit 3) → destroy.

use aws_sdk_cloudtrail::types::{EventSelector, ReadWriteType};

use crate::moto::{Moto, baseline_file};
use crate::probe::{self, bpa_flags, bucket_exists, hub_enabled, recording};

const BASELINE: &str = r#"version: 1
accounts:
  - id: "123456789012"
    name: sandbox
regions: [ap-northeast-1, us-east-1]
home_region: ap-northeast-1
iam:
  root_mfa: required
  console_user_mfa: required
config:
  enabled: true
cloudtrail:
  enabled: true
  name: baseline-trail
  log_file_validation: true
  kms: create
  kms_deletion_window_days: 7
  adopt: true
guardduty:
  enabled: true
  features: all
ebs_encryption:
  enabled: true
alternate_contacts:
  security: {name: Security Team, email: security@example.com, phone: "+81-3-0000-0000", title: Security}
securityhub:
  enabled: true
s3_public_access_block:
  block_public_acls: true
  ignore_public_acls: true
  block_public_policy: true
  restrict_public_buckets: true
"#;

const HOME: &str = "ap-northeast-1";

async fn seed_non_compliant(moto: &Moto) {
    let sdk = moto.sdk(HOME).await;
    let iam = aws_sdk_iam::Client::new(&sdk);
    for user in ["alice", "bob", "carol"] {
        iam.create_user().user_name(user).send().await.unwrap();
    }
    // alice and bob can sign in to the console; only bob has MFA.
    for user in ["alice", "bob"] {
        iam.create_login_profile()
            .user_name(user)
            .password("Secr3t-Passw0rd!")
            .send()
            .await
            .unwrap();
    }
    let device = iam
        .create_virtual_mfa_device()
        .virtual_mfa_device_name("bob")
        .send()
        .await
        .unwrap();
    iam.enable_mfa_device()
        .user_name("bob")
        .serial_number(device.virtual_mfa_device().unwrap().serial_number())
        .authentication_code1("123456")
        .authentication_code2("654321")
        .send()
        .await
        .unwrap();

    // A trail with the configured name: single-region, no validation, not
    // logging, into a bucket baseline did not create.
    let s3 = baseline_providers::clients::s3(&sdk, HOME);
    for bucket in ["legacy-trail-logs", "other-trail-logs", "public-assets"] {
        crate::probe::create_bucket(moto, bucket).await;
    }
    for bucket in ["legacy-trail-logs", "other-trail-logs"] {
        crate::probe::allow_delivery(moto, bucket, &["cloudtrail.amazonaws.com"]).await;
    }
    // A bucket someone made public on purpose: the plan must say that
    // Block Public Access changes it.
    s3.put_bucket_policy()
        .bucket("public-assets")
        .policy(
            serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*",
                "Action": "s3:GetObject", "Resource": "arn:aws:s3:::public-assets/*"}]})
            .to_string(),
        )
        .send()
        .await
        .unwrap();
    let ct = aws_sdk_cloudtrail::Client::new(&sdk);
    ct.create_trail()
        .name("baseline-trail")
        .s3_bucket_name("legacy-trail-logs")
        .is_multi_region_trail(false)
        .send()
        .await
        .unwrap();
    // Someone else's trail, recording management events.
    ct.create_trail()
        .name("other-trail")
        .s3_bucket_name("other-trail-logs")
        .send()
        .await
        .unwrap();
    ct.put_event_selectors()
        .trail_name("other-trail")
        .event_selectors(
            EventSelector::builder()
                .read_write_type(ReadWriteType::All)
                .include_management_events(true)
                .build(),
        )
        .send()
        .await
        .unwrap();

    // A suspended detector.
    aws_sdk_guardduty::Client::new(&sdk)
        .create_detector()
        .enable(false)
        .send()
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn non_compliant_account_converges_leaving_only_mfa_then_tears_down() {
    let moto = Moto::start();
    seed_non_compliant(&moto).await;
    let dir = tempfile::tempdir().unwrap();
    let file = baseline_file(&dir, BASELINE);
    let f = file.to_str().unwrap();

    let plan = moto.baseline(&["plan", "-f", f, "--detailed-exitcode"]);
    assert_eq!(plan.code, 2, "{plan:?}");
    let out = &plan.stdout;
    for expected in [
        "! iam.root_mfa[\"root\"] needs a person  [IAM.9]",
        "! iam.user_mfa[\"alice\"] needs a person  [IAM.5, IAM.19]",
        "~ cloudtrail.trail[\"baseline-trail\"] will be updated in place  [CloudTrail.1, CloudTrail.2, CloudTrail.4]",
        "trail(s) other-trail already record management events",
        "+ cloudtrail.kms_key[\"alias/baseline-cloudtrail\"] will be created  [CloudTrail.2]",
        "~ guardduty.detector[\"detector\"] will be updated in place  [GuardDuty.1]",
        "~ ebs_encryption.by_default[\"account\"] will be updated in place  [EC2.7]",
        "+ alternate_contacts.contact[\"SECURITY\"] will be created  [Account.1]",
        "~ s3_public_access_block.account[\"account\"] will be updated in place  [S3.1]",
        "buckets public today, which this change makes private: public-assets (bucket policy)",
    ] {
        assert!(
            out.contains(expected),
            "`{expected}` missing from the plan: {plan:?}"
        );
    }
    assert!(
        !out.contains("bob") && !out.contains("carol"),
        "bob has MFA, carol has no console password: {plan:?}"
    );
    // The adopted trail is corrected in place, attribute by attribute.
    let trail_block = &out[out.find("cloudtrail.trail[\"baseline-trail\"]").unwrap()..];
    for attr in [
        "multi_region",
        "logging",
        "log_file_validation",
        "s3_bucket",
        "kms_key",
        "managed_by",
    ] {
        assert!(
            trail_block.contains(&format!("~ {attr} ")),
            "{attr} not shown changing: {plan:?}"
        );
    }

    let apply = moto.baseline(&["apply", "-f", f, "--auto-approve"]);
    assert_eq!(apply.code, 0, "{apply:?}");
    assert!(
        apply.stdout.contains("2 manual action(s) remain"),
        "{apply:?}"
    );

    let after = moto.baseline(&["plan", "-f", f, "--detailed-exitcode"]);
    assert_eq!(after.code, 3, "only manual actions remain: {after:?}");
    assert!(
        after
            .stdout
            .contains("Plan: 0 to add, 0 to change, 0 to destroy, 2 manual."),
        "{after:?}"
    );

    let t = probe::trail(&moto, HOME, "baseline-trail")
        .await
        .expect("the trail");
    assert_eq!(t.is_multi_region_trail(), Some(true));
    assert_eq!(t.log_file_validation_enabled(), Some(true));
    assert_eq!(t.s3_bucket_name(), Some("baseline-cloudtrail-123456789012"));
    for region in [HOME, "us-east-1"] {
        let d = probe::detectors(&moto, region).await;
        assert_eq!(
            d.len(),
            1,
            "one detector in {region}, never a second: {d:?}"
        );
        assert!(d[0].1, "the detector in {region} is enabled");
        assert!(
            probe::ebs_default(&moto, region).await,
            "EBS encryption by default in {region}"
        );
    }
    assert_eq!(
        probe::key_state(&moto, HOME, "alias/baseline-cloudtrail")
            .await
            .as_deref(),
        Some("Enabled")
    );

    // The whole cycle again changes nothing.
    let again = moto.baseline(&["apply", "-f", f, "--auto-approve"]);
    assert_eq!(again.code, 0, "{again:?}");
    assert!(
        !again.stdout.contains("Creating...") && !again.stdout.contains("Modifying..."),
        "{again:?}"
    );

    // Logs arrive: a versioned bucket with old versions and a delete marker.
    let sdk = moto.sdk(HOME).await;
    // Without the SDK's default streaming checksums, which moto does not read.
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&sdk)
            .force_path_style(true)
            .request_checksum_calculation(
                aws_sdk_s3::config::RequestChecksumCalculation::WhenRequired,
            )
            .build(),
    );
    let logs = "baseline-cloudtrail-123456789012";
    // moto enforces the bucket's deny of plain HTTP (right so): lift it
    // while this test plays the log writer.
    s3.delete_bucket_policy().bucket(logs).send().await.unwrap();
    s3.put_bucket_versioning()
        .bucket(logs)
        .versioning_configuration(
            aws_sdk_s3::types::VersioningConfiguration::builder()
                .status(aws_sdk_s3::types::BucketVersioningStatus::Enabled)
                .build(),
        )
        .send()
        .await
        .unwrap();
    for body in ["one", "two"] {
        s3.put_object()
            .bucket(logs)
            .key("AWSLogs/123456789012/log.json.gz")
            .body(body.as_bytes().to_vec().into())
            .send()
            .await
            .unwrap();
    }
    s3.delete_object()
        .bucket(logs)
        .key("AWSLogs/123456789012/log.json.gz")
        .send()
        .await
        .unwrap();

    let destroy = moto.baseline(&["destroy", "-f", f, "--auto-approve"]);
    assert_eq!(destroy.code, 0, "{destroy:?}");
    assert!(
        destroy.stdout.contains("scheduled for deletion"),
        "the key's fate is shown: {destroy:?}"
    );
    // Paid services gone.
    assert!(
        probe::trail(&moto, HOME, "baseline-trail").await.is_none(),
        "the baseline's trail is deleted"
    );
    for region in [HOME, "us-east-1"] {
        assert!(!hub_enabled(&moto, region).await);
        assert!(!recording(&moto, region).await);
    }
    // baseline's own detector is deleted; someone's, which it only
    // corrected, stays.
    assert!(probe::detectors(&moto, "us-east-1").await.is_empty());
    assert_eq!(probe::detectors(&moto, HOME).await.len(), 1);
    assert!(
        destroy
            .stdout
            .contains("= guardduty.detector[\"detector\"] left as it is"),
        "{destroy:?}"
    );
    assert!(!bucket_exists(&moto, "baseline-cloudtrail-123456789012").await);
    assert!(!bucket_exists(&moto, "baseline-config-123456789012").await);
    assert_eq!(
        probe::key_state(&moto, HOME, "alias/baseline-cloudtrail")
            .await
            .as_deref(),
        Some("PendingDeletion")
    );
    // Free settings kept; nothing baseline did not create touched.
    assert_eq!(bpa_flags(&moto).await, [true; 4]);
    assert!(probe::ebs_default(&moto, HOME).await);
    let contact = aws_sdk_account::Client::new(&moto.sdk(HOME).await)
        .get_alternate_contact()
        .alternate_contact_type(aws_sdk_account::types::AlternateContactType::Security)
        .send()
        .await
        .unwrap();
    assert_eq!(
        contact.alternate_contact().unwrap().email_address(),
        Some("security@example.com")
    );
    assert!(
        probe::trail(&moto, HOME, "other-trail").await.is_some(),
        "another trail is never touched"
    );
    assert!(
        bucket_exists(&moto, "legacy-trail-logs").await,
        "a bucket baseline did not create stays"
    );
    assert!(bucket_exists(&moto, "other-trail-logs").await);

    let twice = moto.baseline(&["destroy", "-f", f, "--auto-approve"]);
    assert_eq!(twice.code, 0, "{twice:?}");
    assert!(twice.stdout.contains("No changes."), "{twice:?}");
}
