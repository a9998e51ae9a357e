//! Through the real SDK clients with `aws-smithy-mocks`: the exact requests
//! baseline sends and how it reads answers no emulator gives on demand
//! (failed subscriptions, pagination, retried errors). The same settings run
//! end to end against the local AWS in `tests/e2e/canonical.rs`.

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

/// A standards change as the plan has it: `before` and `after` sets, and
/// the subscriptions the read found.
fn standards_change(before: &[&str], after: &[&str], exclusive: bool) -> baseline_engine::Change {
    let set = |l: &[&str]| {
        serde_json::json!({"enabled": l, "exclusive": exclusive})
            .as_object()
            .unwrap()
            .clone()
    };
    baseline_engine::Change {
        address: Address::new(&target(), "securityhub.standards", "hub"),
        action: baseline_engine::Action::Update,
        controls: vec![],
        before: Some(set(before)),
        after: Some(set(after)),
        changed: vec!["enabled".into()],
        depends_on: vec![],
        reason: None,
        held: None,
        private:
            serde_json::json!({"subscriptions": {"pci-dss-v3.2.1": format!("{PCI}/subscription")}})
                .as_object()
                .unwrap()
                .clone(),
    }
}

/// Writes the standards `change` plans (no settle budget); what it enabled
/// and disabled.
async fn write_planned_standards(
    client: &aws_sdk_securityhub::Client,
    change: &baseline_engine::Change,
) -> (BTreeSet<String>, Vec<String>) {
    let (on, off) = securityhub::standards_writes(change).unwrap();
    securityhub::write_standards(
        client,
        &target(),
        "aws",
        &on,
        &off,
        std::time::Duration::ZERO,
    )
    .await
    .unwrap();
    (on, off)
}

/// A standards change disables, by the subscription ARN the plan read,
/// what its `after` removes, then enables what it adds; it reads only
/// whether a subscription is pending (Security Hub refuses changes then).
#[tokio::test]
async fn standards_are_written_from_the_plan_alone() {
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
    let none_pending = mock!(aws_sdk_securityhub::Client::get_enabled_standards).then_output(|| {
        aws_sdk_securityhub::operation::get_enabled_standards::GetEnabledStandardsOutput::builder().build()
    });
    let client = mock_client!(
        aws_sdk_securityhub,
        RuleMode::Sequential,
        [&none_pending, &disable, &enable]
    );
    // `exclusive_standards: true`: the one not listed is disabled.
    let change = standards_change(
        &["pci-dss-v3.2.1"],
        &["aws-foundational-security-best-practices"],
        true,
    );
    write_planned_standards(&client, &change).await;
    assert_eq!((enable.num_calls(), disable.num_calls()), (1, 1));
}

/// Why: standards the baseline does not list were disabled; by default
/// they now stay: the plan's `before` holds only the listed ones, so no
/// disable is planned (a disable would find no rule and fail).
#[tokio::test]
async fn standards_not_listed_stay_enabled_by_default() {
    let change = standards_change(&[], &["aws-foundational-security-best-practices"], false);
    let (on, off) = securityhub::standards_writes(&change).unwrap();
    assert_eq!(on, names(&["aws-foundational-security-best-practices"]));
    assert!(off.is_empty(), "{off:?}");
}

/// Nothing to do: no write is sent (a write would find no rule and fail).
#[tokio::test]
async fn converged_standards_send_no_writes() {
    let client = mock_client!(aws_sdk_securityhub, RuleMode::Sequential, []);
    let change = standards_change(
        &["aws-foundational-security-best-practices"],
        &["aws-foundational-security-best-practices"],
        true,
    );
    let (on, off) = write_planned_standards(&client, &change).await;
    assert!(on.is_empty() && off.is_empty());
}

/// A disable the plan has no subscription for is refused, not guessed.
#[test]
fn a_disable_without_its_planned_subscription_is_refused() {
    let change = standards_change(&["nist-800-53-v5.0.0"], &[], true);
    let err = securityhub::standards_writes(&change).unwrap_err();
    assert!(
        err.to_string()
            .contains("no subscription of standard nist-800-53-v5.0.0"),
        "{err}"
    );
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
    config::put_recorder(
        &client,
        &target(),
        "default",
        &attrs,
        Some("baseline"),
        std::time::Duration::ZERO,
    )
    .await
    .unwrap();
    assert_eq!(put.num_calls(), 1);
}

// ---- IAM Access Analyzer: moto has none of it. ----

use aws_sdk_accessanalyzer::types::{AnalyzerStatus, AnalyzerSummary, Type};
use baseline_engine::Address;
use baseline_providers::{Owner, accessanalyzer, ebs, iam, trustedadvisor};

fn analyzer(name: &str, status: AnalyzerStatus, ours: bool) -> AnalyzerSummary {
    let mut b = AnalyzerSummary::builder()
        .arn(format!(
            "arn:aws:access-analyzer:eu-west-1:123456789012:analyzer/{name}"
        ))
        .name(name)
        .r#type(Type::Account)
        .created_at(aws_smithy_types::DateTime::from_secs(0))
        .status(status);
    if ours {
        b = b.tags("managed-by", "baseline");
    }
    b.build().unwrap()
}

fn list_analyzers(list: Vec<AnalyzerSummary>) -> aws_smithy_mocks::Rule {
    mock!(aws_sdk_accessanalyzer::Client::list_analyzers)
        .match_requests(|r| r.r#type() == Some(&Type::Account))
        .then_output(move || {
            aws_sdk_accessanalyzer::operation::list_analyzers::ListAnalyzersOutput::builder()
                .set_analyzers(Some(list.clone()))
                .build()
                .unwrap()
        })
}

/// An ACTIVE analyzer of the right type under another name is adopted (no
/// second analyzer), and not ours to delete.
#[tokio::test]
async fn an_existing_active_analyzer_is_adopted() {
    let list = list_analyzers(vec![
        analyzer("broken", AnalyzerStatus::Failed, false),
        analyzer("org-security", AnalyzerStatus::Active, false),
    ]);
    let client = mock_client!(aws_sdk_accessanalyzer, [&list]);
    let address = Address::new(&target(), "access_analyzer.analyzer", "baseline");
    let o =
        accessanalyzer::read_analyzer(&client, &target(), &address, "ACCOUNT", &Owner::default())
            .await
            .unwrap()
            .expect("adopted");
    assert_eq!(o.attrs["name"], "org-security");
    assert_eq!(o.attrs["status"], "ACTIVE");
    assert!(
        o.owner == baseline_engine::Ownership::NotOurs,
        "an analyzer baseline did not create is never deleted"
    );
}

/// No usable analyzer: none is observed, and the one created is the free
/// external-access type, tagged.
#[tokio::test]
async fn a_missing_analyzer_is_created_as_external_access() {
    let list = list_analyzers(vec![analyzer("broken", AnalyzerStatus::Failed, false)]);
    let create = mock!(aws_sdk_accessanalyzer::Client::create_analyzer)
        .match_requests(|r| {
            r.analyzer_name() == Some("baseline")
                && r.r#type() == Some(&Type::Account)
                && r.tags()
                    .and_then(|t| t.get("managed-by"))
                    .map(String::as_str)
                    == Some("baseline")
        })
        .then_output(|| {
            aws_sdk_accessanalyzer::operation::create_analyzer::CreateAnalyzerOutput::builder()
                .build()
        });
    let client = mock_client!(
        aws_sdk_accessanalyzer,
        RuleMode::Sequential,
        [&list, &create]
    );
    let address = Address::new(&target(), "access_analyzer.analyzer", "baseline");
    assert!(
        accessanalyzer::read_analyzer(&client, &target(), &address, "ACCOUNT", &Owner::default())
            .await
            .unwrap()
            .is_none()
    );
    accessanalyzer::create_analyzer(&client, &target(), "baseline", "ACCOUNT", "baseline")
        .await
        .unwrap();
    assert_eq!(create.num_calls(), 1);
}

fn organization(master: &str) -> aws_smithy_mocks::Rule {
    let master = master.to_string();
    mock!(aws_sdk_organizations::Client::describe_organization).then_output(move || {
        aws_sdk_organizations::operation::describe_organization::DescribeOrganizationOutput::builder()
            .organization(aws_sdk_organizations::types::Organization::builder().master_account_id(&master).build())
            .build()
    })
}

/// Zone `organization` is refused at plan time outside the management or
/// delegated-admin account, and accepted in them.
#[tokio::test]
async fn organization_zone_needs_the_management_or_delegated_admin_account() {
    let mgmt = organization("123456789012");
    let client = mock_client!(aws_sdk_organizations, [&mgmt]);
    accessanalyzer::check_organization_zone(&client, &target())
        .await
        .unwrap();

    let org = organization("999999999999");
    let admins = mock!(aws_sdk_organizations::Client::list_delegated_administrators)
        .match_requests(|r| r.service_principal() == Some("access-analyzer.amazonaws.com"))
        .then_output(|| {
            aws_sdk_organizations::operation::list_delegated_administrators::ListDelegatedAdministratorsOutput::builder()
                .delegated_administrators(aws_sdk_organizations::types::DelegatedAdministrator::builder().id("111111111111").build())
                .build()
        });
    let client = mock_client!(aws_sdk_organizations, RuleMode::Sequential, [&org, &admins]);
    let err = accessanalyzer::check_organization_zone(&client, &target())
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("account 123456789012 is neither the organization's management account nor a delegated administrator"),
        "{err}"
    );

    let not_in_org = mock!(aws_sdk_organizations::Client::describe_organization).then_error(|| {
        aws_sdk_organizations::operation::describe_organization::DescribeOrganizationError::AwsOrganizationsNotInUseException(
            aws_sdk_organizations::types::error::AwsOrganizationsNotInUseException::builder()
                .meta(ErrorMetadata::builder().code("AWSOrganizationsNotInUseException").build())
                .build(),
        )
    });
    let client = mock_client!(aws_sdk_organizations, [&not_in_org]);
    let err = accessanalyzer::check_organization_zone(&client, &target())
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("is not in an organization"),
        "{err}"
    );
}

// ---- Trusted Advisor check summaries. ----

/// Without a Business support plan, the plan says so as information.
#[tokio::test]
async fn trusted_advisor_without_the_support_plan_is_information() {
    let checks = mock!(aws_sdk_support::Client::describe_trusted_advisor_checks).then_error(|| {
        aws_sdk_support::operation::describe_trusted_advisor_checks::DescribeTrustedAdvisorChecksError::generic(
            ErrorMetadata::builder().code("SubscriptionRequiredException").message("AWS Premium Support Subscription is required").build(),
        )
    });
    let client = mock_client!(aws_sdk_support, RuleMode::Sequential, [&checks], |c| c
        .retry_config(aws_sdk_support::config::retry::RetryConfig::disabled()));
    let line = trustedadvisor::summarize(&client, &target()).await.unwrap();
    assert!(
        line.contains("support plan does not include the Trusted Advisor API"),
        "{line}"
    );
}

#[tokio::test]
async fn trusted_advisor_summaries_are_counted() {
    use aws_sdk_support::types::{
        TrustedAdvisorCheckDescription, TrustedAdvisorCheckSummary, TrustedAdvisorResourcesSummary,
    };
    let check = |id: &str, name: &str| {
        TrustedAdvisorCheckDescription::builder()
            .id(id)
            .name(name)
            .description("d")
            .category("security")
            .set_metadata(Some(vec![]))
            .build()
            .unwrap()
    };
    let summary = |id: &str, status: &str| {
        TrustedAdvisorCheckSummary::builder()
            .check_id(id)
            .timestamp("2026-11-28T00:00:00Z")
            .status(status)
            .resources_summary(
                TrustedAdvisorResourcesSummary::builder()
                    .resources_processed(1)
                    .resources_flagged(0)
                    .resources_ignored(0)
                    .resources_suppressed(0)
                    .build(),
            )
            .category_specific_summary(
                aws_sdk_support::types::TrustedAdvisorCategorySpecificSummary::builder().build(),
            )
            .build()
            .unwrap()
    };
    let checks = mock!(aws_sdk_support::Client::describe_trusted_advisor_checks).then_output(move || {
        aws_sdk_support::operation::describe_trusted_advisor_checks::DescribeTrustedAdvisorChecksOutput::builder()
            .checks(check("a", "MFA on Root Account"))
            .checks(check("b", "S3 Bucket Permissions"))
            .checks(check("c", "Security Groups"))
            .build()
            .unwrap()
    });
    let summaries = mock!(aws_sdk_support::Client::describe_trusted_advisor_check_summaries)
        .match_requests(|r| r.check_ids().len() == 3)
        .then_output(move || {
            aws_sdk_support::operation::describe_trusted_advisor_check_summaries::DescribeTrustedAdvisorCheckSummariesOutput::builder()
                .summaries(summary("a", "error"))
                .summaries(summary("b", "ok"))
                .summaries(summary("c", "warning"))
                .build()
                .unwrap()
        });
    let client = mock_client!(aws_sdk_support, RuleMode::Sequential, [&checks, &summaries]);
    let line = trustedadvisor::summarize(&client, &target()).await.unwrap();
    assert_eq!(
        line,
        "Trusted Advisor: 3 checks: 1 ok, 1 warning, 1 error (MFA on Root Account)"
    );
}

// ---- EBS default key: moto 500s on GetEbsDefaultKmsKeyId. ----

#[tokio::test]
async fn ebs_default_key_is_read_and_set() {
    let get_on = mock!(aws_sdk_ec2::Client::get_ebs_encryption_by_default).then_output(|| {
        aws_sdk_ec2::operation::get_ebs_encryption_by_default::GetEbsEncryptionByDefaultOutput::builder()
            .ebs_encryption_by_default(true)
            .build()
    });
    let get_key = mock!(aws_sdk_ec2::Client::get_ebs_default_kms_key_id).then_output(|| {
        aws_sdk_ec2::operation::get_ebs_default_kms_key_id::GetEbsDefaultKmsKeyIdOutput::builder()
            .kms_key_id("arn:aws:kms:eu-west-1:123456789012:alias/aws/ebs")
            .build()
    });
    let client = mock_client!(aws_sdk_ec2, RuleMode::Sequential, [&get_on, &get_key]);
    let address = Address::new(&target(), "ebs_encryption.by_default", "account");
    let o = ebs::read_setting(&client, &target(), &address, true)
        .await
        .unwrap();
    assert_eq!(o.attrs["enabled"], true);
    assert_eq!(
        o.attrs["kms_key"], "alias/aws/ebs",
        "the AWS-managed key, however it is spelled"
    );

    let key = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    let modify = mock!(aws_sdk_ec2::Client::modify_ebs_default_kms_key_id)
        .match_requests(move |r| r.kms_key_id() == Some(key))
        .then_output(|| aws_sdk_ec2::operation::modify_ebs_default_kms_key_id::ModifyEbsDefaultKmsKeyIdOutput::builder().build());
    let client = mock_client!(aws_sdk_ec2, RuleMode::Sequential, [&modify]);
    let change = baseline_engine::Change {
        address,
        action: baseline_engine::Action::Update,
        controls: vec![],
        before: Some(o.attrs.clone()),
        after: Some(
            serde_json::json!({"enabled": true, "kms_key": key})
                .as_object()
                .unwrap()
                .clone(),
        ),
        changed: vec!["kms_key".into()],
        held: None,
        depends_on: vec![],
        reason: None,
        private: Default::default(),
    };
    ebs::put_setting(&client, &target(), &change).await.unwrap();
    assert_eq!(
        modify.num_calls(),
        1,
        "only the key changes: encryption stays as it is"
    );
}

// ---- The credential report. ----

#[test]
fn credential_report_rows_are_parsed() {
    let csv = b"user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active\n\
<root_account>,arn:aws:iam::123456789012:root,2020-01-01T00:00:00+00:00,not_supported,2026-01-01T00:00:00+00:00,not_supported,not_supported,false,false\n\
alice,arn:aws:iam::123456789012:user/alice,2020-01-01T00:00:00+00:00,true,N/A,2020-01-01T00:00:00+00:00,N/A,false,true\n\
\"bob, ops\",arn:aws:iam::123456789012:user/bob,2020-01-01T00:00:00+00:00,true,N/A,N/A,N/A,true,false\n\
carol,arn:aws:iam::123456789012:user/carol,2020-01-01T00:00:00+00:00,false,N/A,N/A,N/A,false,false\n";
    let rows = iam::parse_credential_report(csv).unwrap();
    let got: Vec<(&str, bool, bool)> = rows
        .iter()
        .map(|r| (r.user.as_str(), r.password_enabled, r.mfa_active))
        .collect();
    assert_eq!(
        got,
        [
            ("alice", true, false),
            ("bob, ops", true, true),
            ("carol", false, false)
        ]
    );
    assert!(
        iam::parse_credential_report(b"name,x\na,b\n").is_err(),
        "a report without the columns is an error"
    );
}
