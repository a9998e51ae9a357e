//! Touch only what is ours (docs/safety.md): what baseline did not create
//! is corrected in place without losing what the baseline does not model,
//! and `destroy` leaves it; a resource still in use, or pinned to another
//! key, is not deleted; another tool's resources are never changed.

use std::collections::HashMap;

use aws_sdk_cloudtrail::types::{AdvancedEventSelector, AdvancedFieldSelector};
use aws_sdk_config::types::{
    ConfigSnapshotDeliveryProperties, ConfigurationRecorder, DeliveryChannel,
    MaximumExecutionFrequency, RecordingFrequency, RecordingGroup, RecordingMode,
    RecordingModeOverride, ResourceType,
};

use crate::moto::{Moto, baseline_file};
use crate::probe::{self, allow_delivery, bucket_exists, create_bucket};

const HOME: &str = "ap-northeast-1";

const BASELINE: &str = r#"version: 1
accounts:
  - id: "123456789012"
regions: [ap-northeast-1]
home_region: ap-northeast-1
config:
  enabled: true
cloudtrail:
  enabled: true
  name: org-trail
guardduty:
  enabled: true
  features: all
securityhub:
  enabled: true
  standards: [aws-foundational-security-best-practices]
"#;

/// A landing zone's detector, hub, recorder with its channel, and trail,
/// each with settings the baseline does not model.
async fn seed_landing_zone(moto: &Moto) -> String {
    let sdk = moto.sdk(HOME).await;
    let gd = aws_sdk_guardduty::Client::new(&sdk);
    let detector = gd
        .create_detector()
        .enable(true)
        .finding_publishing_frequency(aws_sdk_guardduty::types::FindingPublishingFrequency::OneHour)
        .tags("owner", "landing-zone")
        .send()
        .await
        .unwrap()
        .detector_id()
        .unwrap()
        .to_string();
    // Security Hub with its default standards (FSBP and CIS 1.2.0).
    aws_sdk_securityhub::Client::new(&sdk)
        .enable_security_hub()
        .tags("owner", "landing-zone")
        .send()
        .await
        .unwrap();
    let config = aws_sdk_config::Client::new(&sdk);
    config
        .put_configuration_recorder()
        .configuration_recorder(
            ConfigurationRecorder::builder()
                .name("landing")
                .role_arn("arn:aws:iam::123456789012:role/landing-config")
                .recording_group(
                    RecordingGroup::builder()
                        .all_supported(false)
                        .resource_types(ResourceType::Bucket)
                        .build(),
                )
                .recording_mode(
                    RecordingMode::builder()
                        .recording_frequency(RecordingFrequency::Continuous)
                        .recording_mode_overrides(
                            RecordingModeOverride::builder()
                                .resource_types(ResourceType::Instance)
                                .recording_frequency(RecordingFrequency::Daily)
                                .build()
                                .unwrap(),
                        )
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    create_bucket(moto, "landing-config-logs").await;
    allow_delivery(moto, "landing-config-logs", &["config.amazonaws.com"]).await;
    config
        .put_delivery_channel()
        .delivery_channel(
            DeliveryChannel::builder()
                .name("landing")
                .s3_bucket_name("landing-config-logs")
                .s3_key_prefix("org/config")
                .config_snapshot_delivery_properties(
                    ConfigSnapshotDeliveryProperties::builder()
                        .delivery_frequency(MaximumExecutionFrequency::SixHours)
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    config
        .start_configuration_recorder()
        .configuration_recorder_name("landing")
        .send()
        .await
        .unwrap();
    // The trail of the configured name, recording S3 data events through
    // advanced selectors, single-region, not logging, under its own key
    // prefix (which it keeps when baseline moves it to its bucket: that
    // bucket's policy must let CloudTrail write under it).
    create_bucket(moto, "landing-trail-logs").await;
    allow_delivery(moto, "landing-trail-logs", &["cloudtrail.amazonaws.com"]).await;
    let ct = aws_sdk_cloudtrail::Client::new(&sdk);
    ct.create_trail()
        .name("org-trail")
        .s3_bucket_name("landing-trail-logs")
        .s3_key_prefix("org/trail")
        .send()
        .await
        .unwrap();
    ct.put_event_selectors()
        .trail_name("org-trail")
        .advanced_event_selectors(
            AdvancedEventSelector::builder()
                .name("S3 data events")
                .field_selectors(
                    AdvancedFieldSelector::builder()
                        .field("eventCategory")
                        .equals("Data")
                        .build()
                        .unwrap(),
                )
                .field_selectors(
                    AdvancedFieldSelector::builder()
                        .field("resources.type")
                        .equals("AWS::S3::Object")
                        .build()
                        .unwrap(),
                )
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    detector
}

async fn standards(moto: &Moto) -> Vec<String> {
    let mut v: Vec<String> = probe::standards(moto, HOME)
        .await
        .into_iter()
        .map(|(arn, _)| arn.rsplit('/').nth(2).unwrap().to_string())
        .collect();
    v.sort();
    v
}

/// Why: singletons that baseline did not create counted as its own, so
/// `destroy` deleted a landing zone's detector, hub, recorder and trail,
/// and `apply` dropped their settings with whole-object puts.
#[tokio::test(flavor = "multi_thread")]
async fn resources_baseline_did_not_create_keep_their_settings_and_survive_destroy() {
    let moto = Moto::start();
    let detector = seed_landing_zone(&moto).await;
    let dir = tempfile::tempdir().unwrap();
    let file = baseline_file(&dir, BASELINE);
    let f = file.to_str().unwrap();

    let apply = moto.baseline(&["apply", "-f", f, "--auto-approve"]);
    assert_eq!(apply.code, 0, "{apply:?}");
    assert!(
        !apply.stdout.contains("~ managed_by"),
        "nothing is taken over without `adopt`: {apply:?}"
    );
    let sdk = moto.sdk(HOME).await;

    // The detector: corrected, its frequency and tags intact.
    let gd = aws_sdk_guardduty::Client::new(&sdk);
    let d = gd
        .get_detector()
        .detector_id(&detector)
        .send()
        .await
        .unwrap();
    assert_eq!(
        d.finding_publishing_frequency().map(|f| f.as_str()),
        Some("ONE_HOUR")
    );
    assert_eq!(
        d.tags().cloned().unwrap_or_default(),
        HashMap::from([("owner".to_string(), "landing-zone".to_string())])
    );
    // The hub: the standard the baseline does not list stays enabled.
    let enabled = standards(&moto).await;
    assert!(
        enabled.contains(&"cis-aws-foundations-benchmark".to_string()),
        "{enabled:?}"
    );
    // The recorder: corrected, its recording-mode override kept.
    let config = aws_sdk_config::Client::new(&sdk);
    let recs = config
        .describe_configuration_recorders()
        .send()
        .await
        .unwrap();
    let rec = &recs.configuration_recorders()[0];
    assert_eq!(rec.name(), Some("landing"), "corrected under its own name");
    assert!(rec.recording_group().unwrap().all_supported());
    assert_eq!(
        rec.recording_mode()
            .unwrap()
            .recording_mode_overrides()
            .len(),
        1,
        "the override stays: {rec:?}"
    );
    // The channel: delivers to baseline's bucket, prefix and frequency kept.
    let channels = config.describe_delivery_channels().send().await.unwrap();
    let ch = &channels.delivery_channels()[0];
    assert_eq!(ch.s3_bucket_name(), Some("baseline-config-123456789012"));
    assert_eq!(ch.s3_key_prefix(), Some("org/config"));
    assert!(ch.config_snapshot_delivery_properties().is_some(), "{ch:?}");
    // The trail: management events added, its data-event selector kept.
    let ct = aws_sdk_cloudtrail::Client::new(&sdk);
    let sel = ct
        .get_event_selectors()
        .trail_name("org-trail")
        .send()
        .await
        .unwrap();
    let names: Vec<&str> = sel
        .advanced_event_selectors()
        .iter()
        .filter_map(|s| s.name())
        .collect();
    assert!(names.contains(&"S3 data events"), "{sel:?}");
    assert_eq!(
        baseline_providers::cloudtrail::management_events(&sel),
        "All"
    );

    let after = moto.baseline(&["plan", "-f", f, "--detailed-exitcode"]);
    assert_eq!(after.code, 0, "converged: {after:?}");

    let destroy = moto.baseline(&["destroy", "-f", f, "--auto-approve"]);
    assert_eq!(destroy.code, 0, "{destroy:?}");
    for kept in [
        "= guardduty.detector[\"detector\"] left as it is",
        "= securityhub.hub[\"hub\"] left as it is",
        "= config.recorder[\"recorder\"] left as it is",
        "= cloudtrail.trail[\"org-trail\"] left as it is",
        "= config.bucket[\"baseline-config-123456789012\"] left as it is",
    ] {
        assert!(
            destroy.stdout.contains(kept),
            "`{kept}` missing: {destroy:?}"
        );
    }
    assert!(
        gd.get_detector()
            .detector_id(&detector)
            .send()
            .await
            .is_ok()
    );
    assert!(
        aws_sdk_securityhub::Client::new(&sdk)
            .describe_hub()
            .send()
            .await
            .is_ok()
    );
    let status = config
        .describe_configuration_recorder_status()
        .send()
        .await
        .unwrap();
    assert!(status.configuration_recorders_status()[0].recording());
    assert!(
        ct.get_trail().name("org-trail").send().await.is_ok(),
        "the landing zone's trail stays"
    );
    // Both log buckets are still delivered to by what stays: kept.
    assert!(bucket_exists(&moto, "baseline-config-123456789012").await);
    assert!(bucket_exists(&moto, "baseline-cloudtrail-123456789012").await);
}

/// With `adopt: true`, the same resources become baseline's: tagged by
/// apply, deleted by destroy.
#[tokio::test(flavor = "multi_thread")]
async fn adopted_resources_are_tagged_and_then_destroyed() {
    let moto = Moto::start();
    let detector = seed_landing_zone(&moto).await;
    let dir = tempfile::tempdir().unwrap();
    let adopting = BASELINE
        .replace(
            "config:\n  enabled: true\n",
            "config:\n  enabled: true\n  adopt: true\n",
        )
        .replace("  name: org-trail\n", "  name: org-trail\n  adopt: true\n")
        .replace("  features: all\n", "  features: all\n  adopt: true\n")
        .replace(
            "securityhub:\n  enabled: true\n",
            "securityhub:\n  enabled: true\n  adopt: true\n",
        );
    let file = baseline_file(&dir, &adopting);
    let f = file.to_str().unwrap();
    let plan = moto.baseline(&["plan", "-f", f]);
    assert_eq!(plan.code, 0, "{plan:?}");
    assert_eq!(
        plan.stdout.matches("~ managed_by").count(),
        4,
        "detector, hub, recorder and trail are adopted: {plan:?}"
    );
    let apply = moto.baseline(&["apply", "-f", f, "--auto-approve"]);
    assert_eq!(apply.code, 0, "{apply:?}");
    let sdk = moto.sdk(HOME).await;
    let gd = aws_sdk_guardduty::Client::new(&sdk);
    let tags = gd
        .get_detector()
        .detector_id(&detector)
        .send()
        .await
        .unwrap();
    assert_eq!(
        tags.tags().unwrap().get("managed-by").map(String::as_str),
        Some("baseline")
    );
    let destroy = moto.baseline(&["destroy", "-f", f, "--auto-approve"]);
    assert_eq!(destroy.code, 0, "{destroy:?}");
    assert!(
        gd.get_detector()
            .detector_id(&detector)
            .send()
            .await
            .is_err()
    );
    assert!(
        aws_sdk_cloudtrail::Client::new(&sdk)
            .get_trail()
            .name("org-trail")
            .send()
            .await
            .is_err()
    );
    assert!(!bucket_exists(&moto, "baseline-config-123456789012").await);
}

/// Why: the Config bucket was emptied and deleted while another region's
/// delivery channel still delivered to it (`destroy --regions <home>`).
#[tokio::test(flavor = "multi_thread")]
async fn the_config_bucket_outlives_every_channel_that_uses_it() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().unwrap();
    let text = "version: 1\naccounts: [{id: \"123456789012\"}]\nregions: [ap-northeast-1, us-east-1]\nhome_region: ap-northeast-1\nconfig: {enabled: true}\n";
    let file = baseline_file(&dir, text);
    let f = file.to_str().unwrap();
    let apply = moto.baseline(&["apply", "-f", f, "--auto-approve"]);
    assert_eq!(apply.code, 0, "{apply:?}");

    let home_only = moto.baseline(&["destroy", "-f", f, "--regions", HOME, "--auto-approve"]);
    assert_eq!(home_only.code, 0, "{home_only:?}");
    assert!(
        home_only.stdout.contains(
            "kept: still used by 123456789012/us-east-1/config.delivery_channel[\"channel\"]"
        ),
        "{home_only:?}"
    );
    assert!(bucket_exists(&moto, "baseline-config-123456789012").await);

    let all = moto.baseline(&["destroy", "-f", f, "--auto-approve"]);
    assert_eq!(all.code, 0, "{all:?}");
    assert!(!bucket_exists(&moto, "baseline-config-123456789012").await);
}

/// Why: the trail's key was found through its alias at destroy time, so
/// whoever repointed the alias at a key tagged like baseline's made
/// `destroy` schedule that key's deletion.
#[tokio::test(flavor = "multi_thread")]
async fn a_repointed_alias_does_not_make_destroy_delete_a_foreign_key() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().unwrap();
    let text = "version: 1\naccounts: [{id: \"123456789012\"}]\nregions: [ap-northeast-1]\nhome_region: ap-northeast-1\ncloudtrail: {enabled: true, kms: create}\n";
    let file = baseline_file(&dir, text);
    let f = file.to_str().unwrap();
    let apply = moto.baseline(&["apply", "-f", f, "--auto-approve"]);
    assert_eq!(apply.code, 0, "{apply:?}");

    let kms = aws_sdk_kms::Client::new(&moto.sdk(HOME).await);
    let ours = kms
        .describe_key()
        .key_id("alias/baseline-cloudtrail")
        .send()
        .await
        .unwrap()
        .key_metadata()
        .unwrap()
        .key_id()
        .to_string();
    let foreign = crate::probe::tagged_key(&kms, "someone else's key").await;
    kms.update_alias()
        .alias_name("alias/baseline-cloudtrail")
        .target_key_id(&foreign)
        .send()
        .await
        .unwrap();

    let destroy = moto.baseline(&["destroy", "-f", f, "--auto-approve"]);
    assert!(
        destroy.stdout.contains("the alias was changed"),
        "{destroy:?}"
    );
    for key in [&foreign, &ours] {
        let state = kms.describe_key().key_id(key).send().await.unwrap();
        assert_eq!(
            state.key_metadata().unwrap().key_state().unwrap().as_str(),
            "Enabled",
            "key {key} is not scheduled for deletion: {destroy:?}"
        );
    }
}

/// Why: a landing zone's recorder (AWS Control Tower) was corrected and
/// deleted like any other; Control Tower then reports drift and may undo
/// it. Now a difference is a manual action and nothing is written.
#[tokio::test(flavor = "multi_thread")]
async fn control_towers_recorder_is_never_changed() {
    let moto = Moto::start();
    let sdk = moto.sdk(HOME).await;
    let config = aws_sdk_config::Client::new(&sdk);
    config
        .put_configuration_recorder()
        .configuration_recorder(
            ConfigurationRecorder::builder()
                .name("aws-controltower-BaselineConfigRecorder")
                .role_arn("arn:aws:iam::123456789012:role/aws-controltower-ConfigRecorderRole")
                .recording_group(
                    RecordingGroup::builder()
                        .all_supported(false)
                        .resource_types(ResourceType::Bucket)
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let text = "version: 1\naccounts: [{id: \"123456789012\"}]\nregions: [ap-northeast-1]\nhome_region: ap-northeast-1\nconfig: {enabled: true, adopt: true}\n";
    let file = baseline_file(&dir, text);
    let f = file.to_str().unwrap();
    let plan = moto.baseline(&["plan", "-f", f]);
    assert_eq!(plan.code, 0, "{plan:?}");
    assert!(
        plan.stdout
            .contains("! config.recorder[\"recorder\"] needs a person"),
        "{plan:?}"
    );
    assert!(
        plan.stdout.contains("managed by AWS Control Tower"),
        "{plan:?}"
    );
    let apply = moto.baseline(&["apply", "-f", f, "--auto-approve"]);
    assert_eq!(apply.code, 0, "{apply:?}");
    let recs = config
        .describe_configuration_recorders()
        .send()
        .await
        .unwrap();
    let rec = &recs.configuration_recorders()[0];
    assert!(!rec.recording_group().unwrap().all_supported(), "unchanged");
    let destroy = moto.baseline(&["destroy", "-f", f, "--auto-approve"]);
    assert_eq!(destroy.code, 0, "{destroy:?}");
    assert_eq!(
        config
            .describe_configuration_recorders()
            .send()
            .await
            .unwrap()
            .configuration_recorders()
            .len(),
        1
    );
}
