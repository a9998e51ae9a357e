//! The whole cycle on a drifted account: plan → apply → plan → destroy.

use crate::moto::{Moto, baseline_file};
use crate::probe::{
    bpa_flags, bucket_exists, create_bucket, hub_enabled, recorders, recording, seed_half_open_bpa,
};

pub const ACCOUNT: &str = "123456789012";

/// Config, Security Hub and S3 Block Public Access in two regions.
pub const BASELINE: &str = r#"version: 1
accounts:
  - id: "123456789012"
    name: sandbox
regions: [ap-northeast-1, us-east-1]
home_region: ap-northeast-1
config:
  enabled: true
  recording: continuous
securityhub:
  enabled: true
s3_public_access_block:
  block_public_acls: true
  ignore_public_acls: true
  block_public_policy: true
  restrict_public_buckets: true
"#;

/// The issue's end-to-end scenario, with the plan's text as a snapshot.
#[tokio::test(flavor = "multi_thread")]
async fn drifted_account_converges_then_destroy_stops_paid_services() {
    let moto = Moto::start();
    seed_half_open_bpa(&moto).await;
    let dir = tempfile::tempdir().unwrap();
    let file = baseline_file(&dir, BASELINE);
    let f = file.to_str().unwrap();

    let plan = moto.baseline(&["plan", "-f", f, "--detailed-exitcode"]);
    assert_eq!(
        plan.code, 2,
        "drift exits 2 with --detailed-exitcode: {plan:?}"
    );
    insta::assert_snapshot!("drifted_plan", plan.stdout);

    let apply = moto.baseline(&["apply", "-f", f, "--auto-approve"]);
    assert_eq!(apply.code, 0, "{apply:?}");
    assert!(
        apply
            .stdout
            .contains("Apply complete! Resources: 10 added, 1 changed, 0 destroyed."),
        "{apply:?}"
    );
    // Dependency order as observed: the recorder exists before recording
    // starts, and recording before Security Hub.
    let pos = |needle: &str| {
        apply
            .stdout
            .find(needle)
            .unwrap_or_else(|| panic!("`{needle}` not in the apply output: {apply:?}"))
    };
    assert!(
        pos("ap-northeast-1/config.recorder[\"recorder\"]: Creation complete")
            < pos("ap-northeast-1/config.recording[\"recorder\"]: Creating...")
    );
    assert!(
        pos("ap-northeast-1/config.recording[\"recorder\"]: Creation complete")
            < pos("ap-northeast-1/securityhub.hub[\"hub\"]: Creating...")
    );
    assert!(
        pos("config.bucket[\"baseline-config-123456789012\"]: Creation complete")
            < pos("us-east-1/config.delivery_channel[\"channel\"]: Creating...")
    );

    for region in ["ap-northeast-1", "us-east-1"] {
        assert!(recording(&moto, region).await, "Config records in {region}");
        assert!(
            hub_enabled(&moto, region).await,
            "Security Hub is on in {region}"
        );
    }
    assert_eq!(bpa_flags(&moto).await, [true; 4]);
    assert!(bucket_exists(&moto, "baseline-config-123456789012").await);

    let again = moto.baseline(&["plan", "-f", f, "--detailed-exitcode"]);
    assert_eq!(again.code, 0, "a converged account has no drift: {again:?}");
    assert!(again.stdout.contains("No changes."), "{again:?}");

    // Applying again changes nothing.
    let idem = moto.baseline(&["apply", "-f", f, "--auto-approve"]);
    assert_eq!(idem.code, 0, "{idem:?}");
    assert!(!idem.stdout.contains("Creating..."), "{idem:?}");

    let destroy = moto.baseline(&["destroy", "-f", f, "--auto-approve"]);
    assert_eq!(destroy.code, 0, "{destroy:?}");
    assert!(
        destroy.stdout.contains("0 added, 0 changed, 9 destroyed"),
        "{destroy:?}"
    );
    for region in ["ap-northeast-1", "us-east-1"] {
        assert!(
            !hub_enabled(&moto, region).await,
            "Security Hub is off in {region}"
        );
        assert!(
            !recording(&moto, region).await,
            "Config is stopped in {region}"
        );
    }
    // Free settings stay; the tool's own bucket goes.
    assert_eq!(
        bpa_flags(&moto).await,
        [true; 4],
        "Block Public Access stays on"
    );
    assert!(!bucket_exists(&moto, "baseline-config-123456789012").await);

    let destroy_again = moto.baseline(&["destroy", "-f", f, "--auto-approve"]);
    assert_eq!(destroy_again.code, 0, "{destroy_again:?}");
    assert!(
        destroy_again.stdout.contains("No changes."),
        "{destroy_again:?}"
    );
}

/// An existing recorder is adopted under its own name and corrected, not
/// duplicated.
#[tokio::test(flavor = "multi_thread")]
async fn existing_recorder_is_adopted_not_duplicated() {
    let moto = Moto::start();
    let sdk = moto.sdk("ap-northeast-1").await;
    aws_sdk_config::Client::new(&sdk)
        .put_configuration_recorder()
        .configuration_recorder(
            aws_sdk_config::types::ConfigurationRecorder::builder()
                .name("legacy")
                .role_arn("arn:aws:iam::123456789012:role/some-old-role")
                .recording_group(
                    aws_sdk_config::types::RecordingGroup::builder()
                        .all_supported(false)
                        .resource_types(aws_sdk_config::types::ResourceType::Bucket)
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = baseline_file(
        &dir,
        "version: 1\naccounts: [{id: \"123456789012\"}]\nregions: [ap-northeast-1]\nhome_region: ap-northeast-1\nconfig: {enabled: true}\n",
    );
    let f = file.to_str().unwrap();
    let plan = moto.baseline(&["plan", "-f", f]);
    assert!(
        plan.stdout
            .contains("~ config.recorder[\"recorder\"] will be updated in place"),
        "{plan:?}"
    );
    assert!(
        plan.stdout
            .contains("all_supported                 = false -> true"),
        "{plan:?}"
    );
    let apply = moto.baseline(&["apply", "-f", f, "--auto-approve"]);
    assert_eq!(apply.code, 0, "{apply:?}");
    assert_eq!(
        recorders(&moto, "ap-northeast-1").await,
        vec!["legacy".to_string()]
    );
    assert!(recording(&moto, "ap-northeast-1").await);
}

/// A bucket with the configured name that baseline did not create is an
/// error at plan time, not a takeover; nothing is changed.
#[tokio::test(flavor = "multi_thread")]
async fn foreign_bucket_is_refused_and_nothing_changes() {
    let moto = Moto::start();
    create_bucket(&moto, "baseline-config-123456789012").await;
    let dir = tempfile::tempdir().unwrap();
    let file = baseline_file(&dir, BASELINE);
    let f = file.to_str().unwrap();
    let apply = moto.baseline(&["apply", "-f", f, "--auto-approve"]);
    assert_eq!(apply.code, 1, "{apply:?}");
    assert!(
        apply.stdout.contains(
            "bucket baseline-config-123456789012 already exists and is not managed by baseline"
        ),
        "{apply:?}"
    );
    assert!(
        recorders(&moto, "ap-northeast-1").await.is_empty(),
        "no recorder was made"
    );
    // Other services of the same account are independent: they converged.
    assert_eq!(bpa_flags(&moto).await, [true; 4]);
}
