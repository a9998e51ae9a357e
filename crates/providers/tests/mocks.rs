//! What moto lacks, through the real SDK clients with `aws-smithy-mocks`:
//! the requests baseline sends and how it reads the responses.

use std::collections::BTreeSet;

use aws_sdk_config::types::{
    ConfigurationRecorder, RecordingFrequency, RecordingGroup, RecordingMode,
};
use aws_sdk_securityhub::operation::get_enabled_standards::GetEnabledStandardsOutput;
use aws_sdk_securityhub::types::{StandardsStatus, StandardsSubscription};
use aws_smithy_mocks::{RuleMode, mock, mock_client};
use aws_smithy_types::error::ErrorMetadata;
use baseline_engine::{Target, error_chain};
use baseline_providers::{config, securityhub};

fn target() -> Target {
    Target {
        account_id: "123456789012".into(),
        account_name: None,
        region: "eu-west-1".into(),
        home: true,
    }
}

const AFSBP: &str =
    "arn:aws:securityhub:eu-west-1::standards/aws-foundational-security-best-practices/v/1.0.0";
const CIS120: &str = "arn:aws:securityhub:::ruleset/cis-aws-foundations-benchmark/v/1.2.0";
const PCI: &str = "arn:aws:securityhub:eu-west-1::standards/pci-dss/v/3.2.1";

fn subscription(arn: &str, status: StandardsStatus) -> StandardsSubscription {
    StandardsSubscription::builder()
        .standards_arn(arn)
        .standards_subscription_arn(format!("{arn}/subscription"))
        .standards_status(status)
        .standards_input("k", "v")
        .build()
}

fn enabled(subs: Vec<StandardsSubscription>) -> GetEnabledStandardsOutput {
    GetEnabledStandardsOutput::builder()
        .set_standards_subscriptions(Some(subs))
        .build()
}

fn names(list: &[&str]) -> BTreeSet<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// Standard ARNs read back as the names users write; failed and deleting
/// subscriptions do not count as enabled; unknown standards keep their ARN.
#[tokio::test]
async fn enabled_standards_are_read_by_name() {
    let get = mock!(aws_sdk_securityhub::Client::get_enabled_standards).then_output(|| {
        enabled(vec![
            subscription(AFSBP, StandardsStatus::Ready),
            subscription(CIS120, StandardsStatus::Incomplete),
            subscription(PCI, StandardsStatus::Failed),
            subscription(
                "arn:aws:securityhub:eu-west-1::standards/new-thing/v/9",
                StandardsStatus::Pending,
            ),
        ])
    });
    let client = mock_client!(aws_sdk_securityhub, [&get]);
    let got = securityhub::read_standards(&client, &target(), "aws")
        .await
        .unwrap();
    assert_eq!(
        got,
        names(&[
            "arn:aws:securityhub:eu-west-1::standards/new-thing/v/9",
            "aws-foundational-security-best-practices",
            "cis-aws-foundations-benchmark-v1.2.0",
        ])
    );
    assert_eq!(get.num_calls(), 1);
}

/// Converging enables what is missing and disables what the baseline does
/// not list, by subscription ARN.
#[tokio::test]
async fn standards_converge_by_enabling_and_disabling() {
    let get = mock!(aws_sdk_securityhub::Client::get_enabled_standards)
        .then_output(|| enabled(vec![subscription(PCI, StandardsStatus::Ready)]));
    let enable = mock!(aws_sdk_securityhub::Client::batch_enable_standards)
        .match_requests(|r| {
            let arns: Vec<&str> = r
                .standards_subscription_requests()
                .iter()
                .map(|s| s.standards_arn().unwrap_or_default())
                .collect();
            arns == [AFSBP]
        })
        .then_output(|| aws_sdk_securityhub::operation::batch_enable_standards::BatchEnableStandardsOutput::builder().build());
    let disable = mock!(aws_sdk_securityhub::Client::batch_disable_standards)
        .match_requests(|r| r.standards_subscription_arns() == [format!("{PCI}/subscription")])
        .then_output(|| aws_sdk_securityhub::operation::batch_disable_standards::BatchDisableStandardsOutput::builder().build());
    let client = mock_client!(
        aws_sdk_securityhub,
        RuleMode::Sequential,
        [&get, &enable, &disable]
    );
    securityhub::converge_standards(
        &client,
        &target(),
        "aws",
        &names(&["aws-foundational-security-best-practices"]),
    )
    .await
    .unwrap();
    assert_eq!(
        (get.num_calls(), enable.num_calls(), disable.num_calls()),
        (1, 1, 1)
    );
}

/// Nothing to do: no write is sent (a write would find no rule and fail).
#[tokio::test]
async fn converged_standards_send_no_writes() {
    let get = mock!(aws_sdk_securityhub::Client::get_enabled_standards)
        .then_output(|| enabled(vec![subscription(AFSBP, StandardsStatus::Ready)]));
    let client = mock_client!(aws_sdk_securityhub, RuleMode::Sequential, [&get]);
    securityhub::converge_standards(
        &client,
        &target(),
        "aws",
        &names(&["aws-foundational-security-best-practices"]),
    )
    .await
    .unwrap();
    assert_eq!(get.num_calls(), 1);
}

/// An API error names the account, region, service and operation.
#[tokio::test]
async fn access_denied_names_where_it_happened() {
    let get = mock!(aws_sdk_securityhub::Client::get_enabled_standards).then_error(|| {
        aws_sdk_securityhub::operation::get_enabled_standards::GetEnabledStandardsError::generic(
            ErrorMetadata::builder()
                .code("AccessDeniedException")
                .message("not authorized to perform securityhub:GetEnabledStandards")
                .build(),
        )
    });
    let client = mock_client!(aws_sdk_securityhub, RuleMode::Sequential, [&get], |c| c
        .retry_config(aws_sdk_securityhub::config::retry::RetryConfig::disabled()));
    let err = securityhub::read_standards(&client, &target(), "aws")
        .await
        .unwrap_err();
    let msg = error_chain(err.as_ref());
    assert!(
        msg.starts_with(
            "securityhub GetEnabledStandards failed in account 123456789012, eu-west-1"
        ),
        "{msg}"
    );
    assert!(msg.contains("AccessDeniedException"), "{msg}");
}

/// moto drops `recordingMode`; real AWS returns it. Daily recording reads
/// back as DAILY, and is what the recorder is written with.
#[tokio::test]
async fn daily_recording_is_read_and_written() {
    let recorder = ConfigurationRecorder::builder()
        .name("default")
        .role_arn("arn:aws:iam::123456789012:role/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig")
        .recording_group(RecordingGroup::builder().all_supported(true).include_global_resource_types(true).build())
        .recording_mode(RecordingMode::builder().recording_frequency(RecordingFrequency::Daily).build().unwrap())
        .build();
    let attrs = config::recorder_attrs(&recorder);
    assert_eq!(attrs["recording_frequency"], "DAILY");
    assert_eq!(attrs["all_supported"], true);
    assert_eq!(attrs["name"], "default");

    let put = mock!(aws_sdk_config::Client::put_configuration_recorder)
        .match_requests(|r| {
            let rec = r.configuration_recorder().unwrap();
            rec.name() == Some("default")
                && rec.recording_mode().map(|m| m.recording_frequency()) == Some(&RecordingFrequency::Daily)
                && rec.recording_group().is_some_and(|g| g.all_supported() && g.include_global_resource_types())
        })
        .then_output(|| aws_sdk_config::operation::put_configuration_recorder::PutConfigurationRecorderOutput::builder().build());
    let client = mock_client!(aws_sdk_config, RuleMode::Sequential, [&put]);
    config::put_recorder(&client, &target(), "default", &attrs)
        .await
        .unwrap();
    assert_eq!(put.num_calls(), 1);
}
