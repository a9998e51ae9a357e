//! Each provider through its `Service` — `desired`, `read` (inside the
//! engine's `make_plan`) and `apply` of the change planned — with the real
//! SDK clients answered by `aws-smithy-mocks`: the exact requests baseline
//! sends and how it reads answers no emulator gives on demand (failed
//! subscriptions, DAILY recording, Access Analyzer, Trusted Advisor, the
//! EBS default key, errors). The same settings run end to end against the
//! local AWS in `tests/e2e/canonical.rs`.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use aws_config::{BehaviorVersion, SdkConfig};
use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_sdk_config::types::{
    ConfigurationRecorder, RecordingFrequency, RecordingGroup, RecordingMode,
};
use aws_sdk_securityhub::types::{
    Standard as OfferedStandard, StandardsStatus, StandardsSubscription,
};
use aws_smithy_mocks::{MockResponseInterceptor, Rule, RuleMode, create_mock_http_client, mock};
use aws_smithy_runtime_api::client::interceptors::SharedInterceptor;
use aws_smithy_types::error::ErrorMetadata;
use aws_smithy_types::retry::RetryConfig;
use aws_types::region::Region;
use baseline_engine::{
    Action, Change, ErrorKind, Mode, Plan, PlanOptions, Service, Target, diff, make_plan,
};
use baseline_providers::{Account, Aws, Owner, iam};
use serde_json::{Value, json};

const ACCOUNT: &str = "123456789012";
const REGION: &str = "eu-west-1";

fn target() -> Target {
    Target {
        account_id: ACCOUNT.into(),
        account_name: None,
        region: REGION.into(),
        home: true,
        ou: None,
    }
}

/// The accounts reached, with one account whose every call is answered by
/// `rules` (any rule that matches, in order).
fn aws(rules: &[&Rule]) -> Arc<Aws> {
    let mut answers = MockResponseInterceptor::new().rule_mode(RuleMode::MatchAny);
    for r in rules {
        answers = answers.with_rule(r);
    }
    let sdk = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
            "AKIDTEST", "secret", None, None, "mocks",
        )))
        .http_client(create_mock_http_client())
        .retry_config(RetryConfig::disabled())
        .build();
    Arc::new(Aws::for_tests(
        vec![Account {
            id: ACCOUNT.into(),
            partition: "aws".into(),
            sdk,
            interceptors: vec![SharedInterceptor::new(answers)],
        }],
        Owner::default(),
    ))
}

/// A baseline of one account and `sections` (YAML) over the home region
/// `home`.
fn baseline_in(home: &str, sections: &str) -> baseline_spec::Baseline {
    let regions = if home == REGION {
        REGION.to_string()
    } else {
        format!("{REGION}, {home}")
    };
    let yaml = format!(
        "version: 1\naccounts: [{{id: \"{ACCOUNT}\"}}]\nregions: [{regions}]\nhome_region: {home}\n{sections}"
    );
    baseline_spec::parse(&yaml, "mocks.yaml").expect("a valid baseline")
}

/// The plan of one service for `target` under a baseline of `sections`
/// (YAML) over the home region `home`.
async fn plan_in(service: &Arc<dyn Service>, target: &Target, home: &str, sections: &str) -> Plan {
    make_plan(
        &baseline_in(home, sections),
        std::slice::from_ref(target),
        std::slice::from_ref(service),
        Mode::Apply,
        Vec::new(),
        &PlanOptions::default(),
    )
    .await
}

/// What planning decides for `kind`, whole even when it is in line (a plan
/// only counts those): the service's desired state, its read and the
/// engine's diff, as `make_plan` does them.
async fn decided_in(
    service: &Arc<dyn Service>,
    target: &Target,
    home: &str,
    sections: &str,
    kind: &str,
) -> Change {
    let baseline = baseline_in(home, sections);
    let effective = baseline.for_target(target.place());
    let desired = service.desired(&effective, target, Mode::Apply);
    let reading = service.read(target, &desired).await.expect("the read");
    let wanted = desired
        .into_iter()
        .find(|d| d.address.kind == kind)
        .unwrap_or_else(|| panic!("no {kind} wanted"));
    let observed = reading
        .observed
        .into_iter()
        .find(|o| o.address == wanted.address);
    diff(wanted, observed)
}

async fn plan(service: &Arc<dyn Service>, sections: &str) -> Plan {
    plan_in(service, &target(), REGION, sections).await
}

/// The plan's change of `kind`.
fn change<'a>(plan: &'a Plan, kind: &str) -> &'a Change {
    plan.changes
        .iter()
        .find(|c| c.address.kind == kind)
        .unwrap_or_else(|| panic!("no {kind} in {plan:#?}"))
}

/// A call log the rules write to, to see what was sent in which order.
type Log = Arc<Mutex<Vec<String>>>;

fn said(log: &Log) -> Vec<String> {
    log.lock().unwrap().clone()
}

// ---- Security Hub: subscriptions in every state, which moto does not give. ----

const AFSBP: &str =
    "arn:aws:securityhub:eu-west-1::standards/aws-foundational-security-best-practices/v/1.0.0";
const CIS120: &str = "arn:aws:securityhub:::ruleset/cis-aws-foundations-benchmark/v/1.2.0";
const PCI: &str = "arn:aws:securityhub:eu-west-1::standards/pci-dss/v/3.2.1";
const NEW_THING: &str = "arn:aws:securityhub:eu-west-1::standards/new-thing/v/9";

fn subscription(arn: &str, status: StandardsStatus) -> StandardsSubscription {
    StandardsSubscription::builder()
        .standards_arn(arn)
        .standards_subscription_arn(format!("{arn}/subscription"))
        .standards_status(status)
        .standards_input("k", "v")
        .build()
}

/// A hub of baseline's in the region, the standards it offers, and these
/// subscriptions.
fn hub_with(subs: Vec<StandardsSubscription>) -> Vec<Rule> {
    vec![
        mock!(aws_sdk_securityhub::Client::describe_hub).then_output(|| {
            aws_sdk_securityhub::operation::describe_hub::DescribeHubOutput::builder()
                .hub_arn("arn:aws:securityhub:eu-west-1:123456789012:hub/default")
                .build()
        }),
        mock!(aws_sdk_securityhub::Client::list_tags_for_resource).then_output(|| {
            aws_sdk_securityhub::operation::list_tags_for_resource::ListTagsForResourceOutput::builder()
                .tags("managed-by", "baseline")
                .build()
        }),
        mock!(aws_sdk_securityhub::Client::get_enabled_standards).then_output(move || {
            aws_sdk_securityhub::operation::get_enabled_standards::GetEnabledStandardsOutput::builder()
                .set_standards_subscriptions(Some(subs.clone()))
                .build()
        }),
        mock!(aws_sdk_securityhub::Client::describe_standards).then_output(|| {
            let offered = |arn: &str| OfferedStandard::builder().standards_arn(arn).build();
            aws_sdk_securityhub::operation::describe_standards::DescribeStandardsOutput::builder()
                .standards(offered(AFSBP))
                .standards(offered(CIS120))
                .standards(offered(PCI))
                .build()
        }),
    ]
}

/// The standards writes, logged in order.
fn standards_writes(log: &Log) -> Vec<Rule> {
    let (on, off) = (log.clone(), log.clone());
    vec![
        mock!(aws_sdk_securityhub::Client::batch_enable_standards).then_compute_output(move |r| {
            for s in r.standards_subscription_requests() {
                on.lock()
                    .unwrap()
                    .push(format!("enable {}", s.standards_arn().unwrap_or_default()));
            }
            aws_sdk_securityhub::operation::batch_enable_standards::BatchEnableStandardsOutput::builder().build()
        }),
        mock!(aws_sdk_securityhub::Client::batch_disable_standards).then_compute_output(move |r| {
            for s in r.standards_subscription_arns() {
                off.lock().unwrap().push(format!("disable {s}"));
            }
            aws_sdk_securityhub::operation::batch_disable_standards::BatchDisableStandardsOutput::builder().build()
        }),
    ]
}

/// AWS Foundational Security Best Practices, and no other standard.
const EXCLUSIVE_AFSBP: &str = "config: {enabled: true}\nsecurityhub: {enabled: true, exclusive_standards: true, standards: [aws-foundational-security-best-practices]}\n";

/// Security Hub over a hub with these subscriptions, its standards writes
/// logged to `log`.
fn hub_logging(subs: Vec<StandardsSubscription>, log: &Log) -> Arc<dyn Service> {
    let mut rules = hub_with(subs);
    rules.extend(standards_writes(log));
    security_hub(&rules)
}

fn set(v: &Option<baseline_engine::Attrs>, key: &str) -> BTreeSet<String> {
    v.as_ref()
        .and_then(|a| a.get(key))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect()
}

fn names(list: &[&str]) -> BTreeSet<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn security_hub(rules: &[Rule]) -> Arc<dyn Service> {
    let refs: Vec<&Rule> = rules.iter().collect();
    Arc::new(baseline_providers::securityhub::SecurityHubService::new(
        aws(&refs),
    ))
}

/// Standard ARNs read back as the names users write; failed and deleting
/// subscriptions do not count as enabled; unknown standards keep their
/// ARN (and, with `exclusive_standards`, are planned to be disabled).
#[tokio::test]
async fn enabled_standards_are_read_by_name() {
    let sh = security_hub(&hub_with(vec![
        subscription(AFSBP, StandardsStatus::Ready),
        subscription(CIS120, StandardsStatus::Incomplete),
        subscription(PCI, StandardsStatus::Failed),
        subscription(NEW_THING, StandardsStatus::Pending),
    ]));
    let p = plan(
        &sh,
        "config: {enabled: true}\nsecurityhub: {enabled: true, exclusive_standards: true, standards: [aws-foundational-security-best-practices, cis-aws-foundations-benchmark-v1.2.0]}\n",
    )
    .await;
    assert!(p.errors.is_empty(), "{:?}", p.errors);
    let c = change(&p, "securityhub.standards");
    assert_eq!(
        set(&c.before, "enabled"),
        names(&[
            NEW_THING,
            "aws-foundational-security-best-practices",
            "cis-aws-foundations-benchmark-v1.2.0",
        ])
    );
    assert_eq!(c.action, Action::Update, "{c:?}");
}

/// A standards change disables, by the subscription ARN the plan read,
/// what its `after` removes, then enables what it adds.
#[tokio::test]
async fn standards_are_written_from_the_plan_alone() {
    let log: Log = Default::default();
    let sh = hub_logging(vec![subscription(PCI, StandardsStatus::Ready)], &log);
    // `exclusive_standards: true`: the one not listed is disabled.
    let p = plan(&sh, EXCLUSIVE_AFSBP).await;
    let c = change(&p, "securityhub.standards");
    assert_eq!(c.action, Action::Update, "{c:?}");
    sh.apply(&target(), c).await.unwrap();
    assert_eq!(
        said(&log),
        [
            format!("disable {PCI}/subscription"),
            format!("enable {AFSBP}")
        ]
    );
}

/// Standards the baseline does not list stay enabled by default: the
/// plan's `before` holds only the listed ones, so no disable is planned or
/// sent, and a note says what was left.
#[tokio::test]
async fn standards_not_listed_stay_enabled_by_default() {
    let log: Log = Default::default();
    let sh = hub_logging(vec![subscription(PCI, StandardsStatus::Ready)], &log);
    let p = plan(
        &sh,
        "config: {enabled: true}\nsecurityhub: {enabled: true, standards: [aws-foundational-security-best-practices]}\n",
    )
    .await;
    let c = change(&p, "securityhub.standards");
    assert!(set(&c.before, "enabled").is_empty(), "{c:?}");
    assert!(
        c.note
            .as_deref()
            .unwrap_or_default()
            .contains("pci-dss-v3.2.1"),
        "{c:?}"
    );
    sh.apply(&target(), c).await.unwrap();
    assert_eq!(said(&log), [format!("enable {AFSBP}")]);
}

/// Nothing to do: the change is a no-op, which apply never carries out.
#[tokio::test]
async fn converged_standards_plan_nothing() {
    let sh = security_hub(&hub_with(vec![subscription(AFSBP, StandardsStatus::Ready)]));
    let p = plan(&sh, EXCLUSIVE_AFSBP).await;
    assert!(p.changes.is_empty(), "{:?}", p.changes);
    assert_eq!(p.summary().in_line, 2, "{:?}", p.in_line);
}

/// A disable the plan has no subscription for is refused, not guessed:
/// nothing is sent.
#[tokio::test]
async fn a_disable_without_its_planned_subscription_is_refused() {
    let log: Log = Default::default();
    let sh = hub_logging(vec![subscription(PCI, StandardsStatus::Ready)], &log);
    let p = plan(&sh, EXCLUSIVE_AFSBP).await;
    let mut c = change(&p, "securityhub.standards").clone();
    c.private.insert("subscriptions".into(), json!({}));
    let err = sh.apply(&target(), &c).await.unwrap_err();
    assert!(
        err.to_string()
            .contains("no subscription of standard pci-dss-v3.2.1"),
        "{err}"
    );
    assert!(said(&log).is_empty());
}

/// An API error names the account, region, service and operation, and
/// fails that service's read alone.
#[tokio::test]
async fn access_denied_names_where_it_happened() {
    let mut rules = vec![
        mock!(aws_sdk_securityhub::Client::get_enabled_standards).then_error(|| {
            aws_sdk_securityhub::operation::get_enabled_standards::GetEnabledStandardsError::generic(
                ErrorMetadata::builder()
                    .code("AccessDeniedException")
                    .message("not authorized to perform securityhub:GetEnabledStandards")
                    .build(),
            )
        }),
    ];
    rules.extend(hub_with(vec![]));
    let sh = security_hub(&rules);
    let p = plan(
        &sh,
        "config: {enabled: true}\nsecurityhub: {enabled: true, standards: [aws-foundational-security-best-practices]}\n",
    )
    .await;
    assert_eq!(p.errors.len(), 1, "{:?}", p.errors);
    let e = &p.errors[0];
    assert_eq!(
        (e.account.as_str(), e.region.as_str(), e.service.as_str()),
        (ACCOUNT, REGION, "securityhub")
    );
    assert!(
        e.message.starts_with(
            "securityhub GetEnabledStandards failed in account 123456789012, eu-west-1"
        ),
        "{}",
        e.message
    );
    assert!(e.message.contains("AccessDeniedException"), "{}", e.message);
    assert_eq!(e.kind, ErrorKind::Denied);
}

// ---- AWS Config: moto drops `recordingMode`; real AWS returns it. ----

fn recorder(frequency: RecordingFrequency) -> ConfigurationRecorder {
    ConfigurationRecorder::builder()
        .name("default")
        .role_arn("arn:aws:iam::123456789012:role/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig")
        .recording_group(RecordingGroup::builder().all_supported(true).include_global_resource_types(false).build())
        .recording_mode(RecordingMode::builder().recording_frequency(frequency).build().unwrap())
        .build()
}

/// A region other than the home region (no bucket nor service-linked role
/// there) whose recorder records at `frequency`; the recorder writes go to
/// `log`.
fn config_region(frequency: RecordingFrequency, log: &Log) -> Arc<dyn Service> {
    let put = log.clone();
    let rules = [
        mock!(aws_sdk_config::Client::describe_configuration_recorders).then_output(move || {
            aws_sdk_config::operation::describe_configuration_recorders::DescribeConfigurationRecordersOutput::builder()
                .configuration_recorders(recorder(frequency.clone()))
                .build()
        }),
        mock!(aws_sdk_config::Client::describe_delivery_channels).then_output(|| {
            aws_sdk_config::operation::describe_delivery_channels::DescribeDeliveryChannelsOutput::builder().build()
        }),
        mock!(aws_sdk_config::Client::describe_configuration_recorder_status).then_output(|| {
            aws_sdk_config::operation::describe_configuration_recorder_status::DescribeConfigurationRecorderStatusOutput::builder().build()
        }),
        mock!(aws_sdk_config::Client::put_configuration_recorder).then_compute_output(move |r| {
            let rec = r.configuration_recorder().unwrap();
            put.lock().unwrap().push(format!(
                "{} {:?} all_supported={:?} global={:?}",
                rec.name().unwrap_or_default(),
                rec.recording_mode().map(|m| m.recording_frequency().clone()),
                rec.recording_group().map(|g| g.all_supported()),
                rec.recording_group().map(|g| g.include_global_resource_types()),
            ));
            aws_sdk_config::operation::put_configuration_recorder::PutConfigurationRecorderOutput::builder().build()
        }),
    ];
    let refs: Vec<&Rule> = rules.iter().collect();
    Arc::new(baseline_providers::config::ConfigService::new(aws(&refs)))
}

/// Daily recording reads back as DAILY (converged), and a continuous
/// recorder is written daily, with the rest of the recorder as planned.
#[tokio::test]
async fn daily_recording_is_read_and_written() {
    let away = Target {
        home: false,
        ..target()
    };
    let daily = "config: {enabled: true, recording: daily}\n";
    let log: Log = Default::default();
    let cfg = config_region(RecordingFrequency::Daily, &log);
    let c = decided_in(&cfg, &away, "us-east-1", daily, "config.recorder").await;
    assert_eq!(c.before.as_ref().unwrap()["recording_frequency"], "DAILY");
    assert_eq!(c.action, Action::NoOp, "{c:?}");

    let cfg = config_region(RecordingFrequency::Continuous, &log);
    let p = plan_in(&cfg, &away, "us-east-1", daily).await;
    let c = change(&p, "config.recorder");
    assert_eq!(c.action, Action::Update, "{c:?}");
    assert_eq!(c.changed, ["recording_frequency"], "{c:?}");
    cfg.apply(&away, c).await.unwrap();
    assert_eq!(
        said(&log),
        ["default Some(Daily) all_supported=Some(true) global=Some(false)"]
    );
}

// ---- IAM Access Analyzer: moto has none of it. ----

use aws_sdk_accessanalyzer::types::{AnalyzerStatus, AnalyzerSummary, Type};

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

fn list_analyzers(list: Vec<AnalyzerSummary>) -> Rule {
    mock!(aws_sdk_accessanalyzer::Client::list_analyzers)
        .match_requests(|r| r.r#type() == Some(&Type::Account))
        .then_output(move || {
            aws_sdk_accessanalyzer::operation::list_analyzers::ListAnalyzersOutput::builder()
                .set_analyzers(Some(list.clone()))
                .build()
                .unwrap()
        })
}

fn access_analyzer(rules: &[&Rule]) -> Arc<dyn Service> {
    Arc::new(baseline_providers::accessanalyzer::AccessAnalyzerService::new(aws(rules)))
}

const ANALYZER: &str = "access_analyzer: {enabled: true}\n";

/// An ACTIVE analyzer of the right type under another name is adopted (no
/// second analyzer), and not ours to delete.
#[tokio::test]
async fn an_existing_active_analyzer_is_adopted() {
    let list = list_analyzers(vec![
        analyzer("broken", AnalyzerStatus::Failed, false),
        analyzer("org-security", AnalyzerStatus::Active, false),
    ]);
    let c = decided_in(
        &access_analyzer(&[&list]),
        &target(),
        REGION,
        ANALYZER,
        "access_analyzer.analyzer",
    )
    .await;
    assert_eq!(c.action, Action::NoOp, "{c:?}");
    let before = c.before.as_ref().expect("adopted");
    assert_eq!(before["name"], "org-security");
    assert_eq!(before["status"], "ACTIVE");

    // Destroy would not delete it: it is not baseline's.
    let p = plan(
        &access_analyzer(&[&list]),
        "access_analyzer: {enabled: false}\n",
    )
    .await;
    let c = change(&p, "access_analyzer.analyzer");
    assert_eq!(
        c.action,
        Action::NoOp,
        "an analyzer baseline did not create is never deleted: {c:?}"
    );
    assert!(c.held.is_some(), "{c:?}");
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
    let aa = access_analyzer(&[&list, &create]);
    let p = plan(&aa, ANALYZER).await;
    let c = change(&p, "access_analyzer.analyzer");
    assert_eq!((c.action, &c.before), (Action::Create, &None), "{c:?}");
    aa.apply(&target(), c).await.unwrap();
    assert_eq!(create.num_calls(), 1);
}

fn organization(master: &str) -> Rule {
    let master = master.to_string();
    mock!(aws_sdk_organizations::Client::describe_organization).then_output(move || {
        aws_sdk_organizations::operation::describe_organization::DescribeOrganizationOutput::builder()
            .organization(aws_sdk_organizations::types::Organization::builder().master_account_id(&master).build())
            .build()
    })
}

const ORG_ANALYZER: &str = "access_analyzer: {enabled: true, zone: organization}\n";

/// Zone `organization` is refused at plan time outside the management or
/// delegated-admin account, and accepted in them.
#[tokio::test]
async fn organization_zone_needs_the_management_or_delegated_admin_account() {
    let org_list = mock!(aws_sdk_accessanalyzer::Client::list_analyzers).then_output(|| {
        aws_sdk_accessanalyzer::operation::list_analyzers::ListAnalyzersOutput::builder()
            .set_analyzers(Some(vec![]))
            .build()
            .unwrap()
    });
    // Trusted access for Access Analyzer is read in the management
    // account (issue 32): off, it is planned before the analyzer.
    let no_trust = mock!(aws_sdk_organizations::Client::list_aws_service_access_for_organization)
        .then_output(|| {
            aws_sdk_organizations::operation::list_aws_service_access_for_organization::ListAwsServiceAccessForOrganizationOutput::builder()
                .build()
        });
    let p = plan(
        &access_analyzer(&[&organization(ACCOUNT), &no_trust, &org_list]),
        ORG_ANALYZER,
    )
    .await;
    assert!(p.errors.is_empty(), "{:?}", p.errors);
    assert_eq!(
        change(&p, "access_analyzer.analyzer").action,
        Action::Create
    );
    let trust = change(&p, "access_analyzer.trusted_access");
    assert_eq!(trust.action, Action::Create);
    assert!(
        change(&p, "access_analyzer.analyzer")
            .depends_on
            .contains(&trust.address)
    );

    let admins = mock!(aws_sdk_organizations::Client::list_delegated_administrators)
        .match_requests(|r| r.service_principal() == Some("access-analyzer.amazonaws.com"))
        .then_output(|| {
            aws_sdk_organizations::operation::list_delegated_administrators::ListDelegatedAdministratorsOutput::builder()
                .delegated_administrators(aws_sdk_organizations::types::DelegatedAdministrator::builder().id("111111111111").build())
                .build()
        });
    let p = plan(
        &access_analyzer(&[&organization("999999999999"), &admins, &org_list]),
        ORG_ANALYZER,
    )
    .await;
    assert_eq!(p.errors.len(), 1, "{:?}", p.errors);
    assert!(
        p.errors[0].message.contains("account 123456789012 is neither the organization's management account nor a delegated administrator"),
        "{:?}",
        p.errors
    );

    let not_in_org = mock!(aws_sdk_organizations::Client::describe_organization).then_error(|| {
        aws_sdk_organizations::operation::describe_organization::DescribeOrganizationError::AwsOrganizationsNotInUseException(
            aws_sdk_organizations::types::error::AwsOrganizationsNotInUseException::builder()
                .meta(ErrorMetadata::builder().code("AWSOrganizationsNotInUseException").build())
                .build(),
        )
    });
    let p = plan(&access_analyzer(&[&not_in_org, &org_list]), ORG_ANALYZER).await;
    assert_eq!(p.errors.len(), 1, "{:?}", p.errors);
    assert!(
        p.errors[0].message.contains("is not in an organization"),
        "{:?}",
        p.errors
    );
}

// ---- Trusted Advisor check summaries. ----

fn trusted_advisor(rules: &[&Rule]) -> Arc<dyn Service> {
    Arc::new(baseline_providers::trustedadvisor::TrustedAdvisorService::new(aws(rules)))
}

const REPORT: &str = "trusted_advisor: {report: true}\n";

/// Without a Business support plan, the plan says so as information.
#[tokio::test]
async fn trusted_advisor_without_the_support_plan_is_information() {
    let checks = mock!(aws_sdk_support::Client::describe_trusted_advisor_checks).then_error(|| {
        aws_sdk_support::operation::describe_trusted_advisor_checks::DescribeTrustedAdvisorChecksError::generic(
            ErrorMetadata::builder().code("SubscriptionRequiredException").message("AWS Premium Support Subscription is required").build(),
        )
    });
    let p = plan(&trusted_advisor(&[&checks]), REPORT).await;
    assert!(p.errors.is_empty(), "{:?}", p.errors);
    assert!(
        p.notes
            .iter()
            .any(|n| n.contains("support plan does not include the Trusted Advisor API")),
        "{:?}",
        p.notes
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
    let p = plan(&trusted_advisor(&[&checks, &summaries]), REPORT).await;
    assert!(
        p.notes.iter().any(|n| n.ends_with(
            "Trusted Advisor: 3 checks: 1 ok, 1 warning, 1 error (MFA on Root Account)"
        )),
        "{:?}",
        p.notes
    );
    assert_eq!(summaries.num_calls(), 1);
}

// ---- EBS default key: moto 500s on GetEbsDefaultKmsKeyId. ----

#[tokio::test]
async fn ebs_default_key_is_read_and_set() {
    let key = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
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
    let usable = mock!(aws_sdk_kms::Client::describe_key).then_output(move || {
        aws_sdk_kms::operation::describe_key::DescribeKeyOutput::builder()
            .key_metadata(
                aws_sdk_kms::types::KeyMetadata::builder()
                    .key_id("1234abcd-12ab-34cd-56ef-1234567890ab")
                    .arn(key)
                    .key_state(aws_sdk_kms::types::KeyState::Enabled)
                    .key_usage(aws_sdk_kms::types::KeyUsageType::EncryptDecrypt)
                    .key_spec(aws_sdk_kms::types::KeySpec::SymmetricDefault)
                    .build()
                    .unwrap(),
            )
            .build()
    });
    let enable = mock!(aws_sdk_ec2::Client::enable_ebs_encryption_by_default).then_output(|| {
        aws_sdk_ec2::operation::enable_ebs_encryption_by_default::EnableEbsEncryptionByDefaultOutput::builder().build()
    });
    let modify = mock!(aws_sdk_ec2::Client::modify_ebs_default_kms_key_id)
        .match_requests(move |r| r.kms_key_id() == Some(key))
        .then_output(|| aws_sdk_ec2::operation::modify_ebs_default_kms_key_id::ModifyEbsDefaultKmsKeyIdOutput::builder().build());
    let ebs: Arc<dyn Service> = Arc::new(baseline_providers::ebs::EbsService::new(aws(&[
        &get_on, &get_key, &usable, &enable, &modify,
    ])));

    let c = decided_in(
        &ebs,
        &target(),
        REGION,
        "ebs_encryption: {enabled: true, kms_key: aws-managed}\n",
        "ebs_encryption.by_default",
    )
    .await;
    assert_eq!(
        (c.action, &c.before.as_ref().unwrap()["kms_key"]),
        (Action::NoOp, &json!("alias/aws/ebs")),
        "the AWS-managed key, however it is spelled: {c:?}"
    );

    let p = plan(
        &ebs,
        &format!("ebs_encryption: {{enabled: true, kms_key: \"{key}\"}}\n"),
    )
    .await;
    assert!(p.errors.is_empty(), "{:?}", p.errors);
    let c = change(&p, "ebs_encryption.by_default");
    assert_eq!(
        (c.action, c.changed.as_slice()),
        (Action::Update, &["kms_key".to_string()][..]),
        "{c:?}"
    );
    ebs.apply(&target(), c).await.unwrap();
    assert_eq!(
        (modify.num_calls(), enable.num_calls()),
        (1, 0),
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

/// CreateMembers takes at most 50 accounts (GuardDuty API reference,
/// `AccountDetails`): the administrator adds an organization of 120
/// members in three calls, each account once, with its email.
#[tokio::test]
async fn members_are_added_fifty_at_a_time() {
    let log: Log = Arc::default();
    let sent = log.clone();
    let rules = [
        // The delegation holds (the administrator's first call).
        mock!(aws_sdk_guardduty::Client::describe_organization_configuration).then_output(|| {
            use aws_sdk_guardduty::operation::describe_organization_configuration as describe;
            describe::DescribeOrganizationConfigurationOutput::builder().build()
        }),
        mock!(aws_sdk_guardduty::Client::create_members).then_compute_output(move |r| {
            let details = r.account_details();
            sent.lock().unwrap().push(
                details
                    .iter()
                    .map(|d| {
                        format!(
                            "{}:{}",
                            d.account_id().unwrap_or_default(),
                            d.email().unwrap_or_default()
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(","),
            );
            aws_sdk_guardduty::operation::create_members::CreateMembersOutput::builder()
                .set_unprocessed_accounts(Some(Vec::new()))
                .build()
        }),
    ];
    let refs: Vec<&Rule> = rules.iter().collect();
    let service: Arc<dyn Service> = Arc::new(baseline_providers::guardduty::GuardDutyService::new(
        aws(&refs),
    ));
    let members: Vec<String> = (0..120)
        .map(|i| format!("{:012}", 200_000_000_000u64 + i))
        .collect();
    let emails: serde_json::Map<String, Value> = members
        .iter()
        .map(|m| (m.clone(), json!(format!("{m}@example.com"))))
        .collect();
    let change: Change = serde_json::from_value(json!({
        "address": {"account": ACCOUNT, "region": REGION, "kind": "guardduty.members", "name": "organization"},
        "action": "create",
        "controls": [],
        "before": null,
        "after": {"accounts": members},
        "changed": [],
        "depends_on": [],
        // The administrator's detector, as the plan read it (or as its
        // create gave it: known after apply).
        "private": {"emails": emails, "detector_id": "d1"},
    }))
    .unwrap();
    service
        .apply(&target(), &change)
        .await
        .expect("the members are added");
    let calls = said(&log);
    let sizes: Vec<usize> = calls.iter().map(|c| c.split(',').count()).collect();
    assert_eq!(sizes, vec![50, 50, 20]);
    let mut added: Vec<String> = calls
        .iter()
        .flat_map(|c| c.split(','))
        .map(str::to_string)
        .collect();
    added.sort();
    let mut want: Vec<String> = members
        .iter()
        .map(|m| format!("{m}:{m}@example.com"))
        .collect();
    want.sort();
    assert_eq!(added, want);
}

/// A member's coverage is checked within `--settle-timeout`: when the
/// administrator's members are added by another job (another shard) a
/// moment later, the member's apply sees it covered instead of failing.
#[tokio::test]
async fn a_members_coverage_waits_for_the_administrator() {
    let asked = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let count = asked.clone();
    let rules = [
        mock!(aws_sdk_guardduty::Client::list_detectors).then_output(|| {
            aws_sdk_guardduty::operation::list_detectors::ListDetectorsOutput::builder()
                .detector_ids("d1")
                .build()
        }),
        mock!(aws_sdk_guardduty::Client::get_administrator_account).then_compute_output(
            move |_| {
                let out =
                    aws_sdk_guardduty::operation::get_administrator_account::GetAdministratorAccountOutput::builder();
                // Not yet a member; then the administrator has added it.
                if count.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
                    return out.build();
                }
                out.administrator(
                    aws_sdk_guardduty::types::Administrator::builder()
                        .account_id("222222222222")
                        .relationship_status("Enabled")
                        .build(),
                )
                .build()
            },
        ),
    ];
    let refs: Vec<&Rule> = rules.iter().collect();
    let mut aws = Arc::try_unwrap(aws(&refs)).expect("one owner");
    aws.settle = std::time::Duration::from_secs(30);
    let service: Arc<dyn Service> = Arc::new(baseline_providers::guardduty::GuardDutyService::new(
        Arc::new(aws),
    ));
    let change: Change = serde_json::from_value(json!({
        "address": {"account": ACCOUNT, "region": REGION, "kind": "guardduty.membership", "name": "organization"},
        "action": "create",
        "controls": ["GuardDuty.1"],
        "before": null,
        "after": {"administrator": "222222222222"},
        "changed": [],
        "depends_on": [],
    }))
    .unwrap();
    service
        .apply(&target(), &change)
        .await
        .expect("covered once the administrator has added it");
    assert_eq!(asked.load(std::sync::atomic::Ordering::SeqCst), 2);
}
