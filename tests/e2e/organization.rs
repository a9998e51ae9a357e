//! An organization whose GuardDuty and Security Hub run through a
//! delegated administrator (`organization.delegated_admin`, issue #19):
//! the management account registers it, the administrator covers every
//! account, and AWS itself covers an account that joins later.

use serde_json::Value;

use crate::moto::{Moto, baseline_file, looked_at};
use crate::probe;

const REGION: &str = "ap-northeast-1";
const MANAGEMENT: &str = "123456789012";

fn file(admin: &str, sections: &str) -> String {
    format!(
        "version: 1\naccounts: organization\norganization:\n  role_name: OrganizationAccountAccessRole\n  delegated_admin: \"{admin}\"\n  auto_enable: true\nregions: [{REGION}]\nhome_region: {REGION}\n{sections}"
    )
}

/// The kinds a plan shows for `account` (changes and in-line counts).
fn kinds(plan: &Value, account: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = looked_at(plan)
        .iter()
        .filter(|c| c["address"]["account"] == account)
        .filter(|c| {
            let k = c["address"]["kind"].as_str().unwrap();
            [
                "guardduty.",
                "securityhub.",
                "access_analyzer.",
                "config.delegated_admin",
                "config.aggregator",
            ]
            .iter()
            .any(|p| k.starts_with(p))
        })
        .map(|c| {
            (
                c["address"]["kind"].as_str().unwrap().to_string(),
                c["action"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

fn kind(k: &str, action: &str) -> (String, String) {
    (k.to_string(), action.to_string())
}

/// Trusted access for `principal`, from the management account (whose
/// configuration it returns), as a person does before designating an
/// administrator by hand.
async fn trust(moto: &Moto, principal: &str) -> aws_config::SdkConfig {
    let sdk = moto.sdk(REGION).await;
    aws_sdk_organizations::Client::new(&sdk)
        .enable_aws_service_access()
        .service_principal(principal)
        .send()
        .await
        .unwrap();
    sdk
}

/// A configuration policy enabling Security Hub with these standards
/// (ARN paths in the home region), every control enabled.
fn hub_policy(paths: &[&str]) -> aws_sdk_securityhub::types::Policy {
    aws_sdk_securityhub::types::Policy::SecurityHub(
        aws_sdk_securityhub::types::SecurityHubPolicy::builder()
            .service_enabled(true)
            .set_enabled_standard_identifiers(Some(
                paths
                    .iter()
                    .map(|p| format!("arn:aws:securityhub:{REGION}::standards/{p}"))
                    .collect(),
            ))
            .security_controls_configuration(
                aws_sdk_securityhub::types::SecurityControlsConfiguration::builder()
                    .set_disabled_security_control_identifiers(Some(Vec::new()))
                    .build(),
            )
            .build(),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn the_security_services_run_through_the_delegated_administrator_and_cover_a_new_account() {
    let moto = Moto::start();
    let ids = probe::organization(&moto, &["security", "dev", "prod"]).await;
    let (admin, dev) = (ids[0].as_str(), ids[1].as_str());
    let dir = tempfile::tempdir().unwrap();
    let f = baseline_file(
        &dir,
        &file(
            admin,
            "config: {enabled: true}\naccess_analyzer: {enabled: true, zone: organization}\nguardduty: {enabled: true}\nsecurityhub:\n  enabled: true\n  standards: [aws-foundational-security-best-practices]\n",
        ),
    );
    let f = f.to_str().unwrap();

    let saved = dir.path().join("plan.json");
    let saved = saved.to_str().unwrap();
    let plan = moto.baseline(&[
        "plan",
        "-f",
        f,
        "--detailed-exitcode",
        "--output",
        "json",
        "--out",
        saved,
    ]);
    assert_eq!(plan.code, 2, "{plan:?}");
    let v: Value = serde_json::from_str(&plan.stdout).unwrap();
    assert_eq!(
        kinds(&v, MANAGEMENT),
        vec![
            kind("access_analyzer.delegated_admin", "create"),
            kind("config.delegated_admin", "create"),
            kind("guardduty.delegated_admin", "create"),
            kind("guardduty.detector", "create"),
            kind("guardduty.membership", "create"),
            kind("securityhub.delegated_admin", "create"),
            kind("securityhub.hub", "create"),
            kind("securityhub.membership", "create"),
        ],
        "the management account registers the administrator, enables its own detector and hub (AWS adds no management account that has not), and is covered as a member"
    );
    assert_eq!(
        kinds(&v, admin),
        vec![
            kind("access_analyzer.analyzer", "create"),
            kind("config.aggregator", "create"),
            kind("config.aggregator_role", "create"),
            kind("guardduty.detector", "create"),
            kind("guardduty.member_plans", "create"),
            kind("guardduty.members", "create"),
            kind("guardduty.organization", "create"),
            kind("securityhub.aggregator", "create"),
            kind("securityhub.association", "create"),
            kind("securityhub.hub", "create"),
            kind("securityhub.members", "create"),
            kind("securityhub.organization", "create"),
            kind("securityhub.policy", "create"),
        ],
        "the administrator holds the organization's resources, Security Hub's central configuration among them"
    );
    assert_eq!(
        kinds(&v, dev),
        vec![
            kind("guardduty.membership", "create"),
            kind("securityhub.membership", "create"),
        ],
        "a member is covered by the organization, not given a detector or hub of its own; its standards are the organization's policy's"
    );
    let members = v["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["address"]["kind"] == "guardduty.members")
        .unwrap();
    let mut want: Vec<&str> = vec![MANAGEMENT, dev, ids[2].as_str()];
    want.sort();
    assert_eq!(members["after"]["accounts"], serde_json::json!(want));
    assert_eq!(
        v["scopes"]["covered"],
        serde_json::json!(["guardduty.membership", "securityhub.membership"])
    );
    let human = moto.baseline(&["plan", "-f", f]);
    for shown in [
        format!("# organization · account {admin} (security) · {REGION}"),
        format!("# organization · account {MANAGEMENT} (master) · {REGION}"),
        "guardduty.membership[\"organization\"] will be covered by the organization".to_string(),
        "not yet covered by the organization".to_string(),
    ] {
        assert!(human.stdout.contains(&shown), "{shown} in {}", human.stdout);
    }

    // The saved plan: reconnected, re-planned over the organization,
    // found equal, applied.
    let apply = moto.baseline(&["apply", saved]);
    assert_eq!(apply.code, 0, "{apply:?}");
    assert_eq!(
        probe::guardduty_of(&moto, dev, REGION).await,
        (true, Some(admin.to_string()))
    );
    let analyzers =
        aws_sdk_accessanalyzer::Client::new(&probe::as_account(&moto, admin, REGION).await)
            .list_analyzers()
            .send()
            .await
            .unwrap();
    assert_eq!(
        analyzers
            .analyzers()
            .iter()
            .map(|a| a.r#type().as_str())
            .collect::<Vec<_>>(),
        vec!["ORGANIZATION"],
        "the administrator holds the organization's analyzer"
    );
    let aggregators = aws_sdk_config::Client::new(&probe::as_account(&moto, admin, REGION).await)
        .describe_configuration_aggregators()
        .send()
        .await
        .unwrap();
    let source = aggregators.configuration_aggregators()[0]
        .organization_aggregation_source()
        .unwrap();
    assert!(
        source.all_aws_regions()
            && source
                .role_arn()
                .ends_with("role/baseline-config-aggregator"),
        "the administrator aggregates the organization: {source:?}"
    );
    assert_eq!(
        probe::security_hub_of(&moto, dev, REGION).await,
        (
            Some(admin.to_string()),
            vec!["aws-foundational-security-best-practices/v/1.0.0".to_string()]
        ),
        "the member's hub is the organization's, with the baseline's standards"
    );
    let again = moto.baseline(&["plan", "-f", f, "--detailed-exitcode"]);
    assert_eq!(again.code, 0, "{again:?}");

    // An account joins; no apply: AWS itself covers it.
    let joined = probe::organization_join(&moto, "later").await;
    assert_eq!(
        probe::guardduty_of(&moto, &joined, REGION).await,
        (true, Some(admin.to_string())),
        "auto-enable covers the account that joined"
    );
    assert_eq!(
        probe::security_hub_of(&moto, &joined, REGION).await,
        (
            Some(admin.to_string()),
            vec!["aws-foundational-security-best-practices/v/1.0.0".to_string()]
        ),
        "the root's configuration policy covers the account that joined in Security Hub, with the baseline's standards"
    );
    // Its own settings (Config, its standards) wait for the next apply;
    // its coverage by the organization does not.
    let after = moto.baseline(&["plan", "-f", f, "--output", "json"]);
    assert_eq!(after.code, 0, "{after:?}");
    let v: Value = serde_json::from_str(&after.stdout).unwrap();
    let planned = kinds(&v, &joined);
    assert!(
        planned.contains(&kind("guardduty.membership", "no_op"))
            && planned.contains(&kind("securityhub.membership", "no_op")),
        "the new account is planned as covered by the organization: {planned:?}"
    );
    // The report colours the covered cells apart from the ones in line.
    let report = moto.baseline(&["plan", "-f", f, "--output", "html"]);
    assert_eq!(report.code, 0, "{report:?}");
    assert!(
        report.stdout.contains(&format!(
            "{dev} · {REGION}: in line with the baseline; covered by the organization: guardduty, securityhub"
        )) && report.stdout.contains(r#"data-state="covered""#),
        "a covered cell in the report"
    );
    for (account, what) in [(admin, "guardduty.members"), (admin, "securityhub.members")] {
        assert!(
            kinds(&v, account).contains(&kind(what, "no_op")),
            "{what} already lists the new account: {:?}",
            kinds(&v, account)
        );
    }

    // destroy leaves the organization's GuardDuty and Security Hub.
    let destroy = moto.baseline(&["destroy", "-f", f, "--auto-approve"]);
    assert_eq!(destroy.code, 0, "{destroy:?}");
    assert!(
        !destroy.stdout.contains("guardduty") && !destroy.stdout.contains("securityhub"),
        "{}",
        destroy.stdout
    );
    assert_eq!(
        probe::guardduty_of(&moto, dev, REGION).await,
        (true, Some(admin.to_string()))
    );
    assert_eq!(
        probe::security_hub_of(&moto, dev, REGION).await.0,
        Some(admin.to_string())
    );
}

/// Security Hub's central configuration over two regions: the home
/// region's aggregator links the other, the policy reaches a member there,
/// an excluded account is left self-managed, and a policy changed outside
/// the baseline is a planned update, put back by apply.
#[tokio::test(flavor = "multi_thread")]
async fn central_configuration_links_the_regions_and_leaves_the_excluded_account() {
    const LINKED: &str = "us-east-1";
    const FSBP: &str = "aws-foundational-security-best-practices/v/1.0.0";
    let moto = Moto::start();
    let ids = probe::organization(&moto, &["security", "dev", "audit"]).await;
    let (admin, dev, excluded) = (ids[0].as_str(), ids[1].as_str(), ids[2].as_str());
    let dir = tempfile::tempdir().unwrap();
    let f = baseline_file(
        &dir,
        &format!(
            "version: 1\naccounts: organization\norganization:\n  role_name: OrganizationAccountAccessRole\n  exclude: [\"{excluded}\"]\n  delegated_admin: \"{admin}\"\nregions: [{REGION}, {LINKED}]\nhome_region: {REGION}\nconfig: {{enabled: true}}\nsecurityhub:\n  enabled: true\n  standards: [aws-foundational-security-best-practices]\n"
        ),
    );
    let f = f.to_str().unwrap();
    let apply = moto.baseline(&["apply", "-f", f, "--auto-approve"]);
    assert_eq!(apply.code, 0, "{apply:?}");

    let hub = aws_sdk_securityhub::Client::new(&probe::as_account(&moto, admin, REGION).await);
    let arn = hub
        .list_finding_aggregators()
        .send()
        .await
        .unwrap()
        .finding_aggregators()[0]
        .finding_aggregator_arn()
        .unwrap()
        .to_string();
    let aggregator = hub
        .get_finding_aggregator()
        .finding_aggregator_arn(arn)
        .send()
        .await
        .unwrap();
    assert_eq!(
        (
            aggregator.finding_aggregation_region(),
            aggregator.region_linking_mode(),
            aggregator.regions()
        ),
        (
            Some(REGION),
            Some("SPECIFIED_REGIONS"),
            &[LINKED.to_string()][..]
        ),
        "the home region aggregates the baseline's other region"
    );
    assert_eq!(
        probe::security_hub_of(&moto, dev, LINKED).await,
        (Some(admin.to_string()), vec![FSBP.to_string()]),
        "the policy reaches a member in the linked region"
    );
    let own = hub
        .get_configuration_policy_association()
        .target(aws_sdk_securityhub::types::Target::AccountId(
            excluded.to_string(),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(
        (
            own.configuration_policy_id(),
            own.association_type().map(|t| t.as_str())
        ),
        (Some("SELF_MANAGED_SECURITY_HUB"), Some("APPLIED")),
        "the excluded account is left to itself"
    );
    for region in [REGION, LINKED] {
        let its =
            aws_sdk_securityhub::Client::new(&probe::as_account(&moto, excluded, region).await);
        assert!(
            its.describe_hub().send().await.is_err(),
            "no hub in the excluded account in {region}"
        );
    }
    let again = moto.baseline(&["plan", "-f", f, "--detailed-exitcode"]);
    assert_eq!(again.code, 0, "{again:?}");

    // Someone adds a standard to the policy: the plan shows the policy's
    // update, and apply puts the baseline's list back.
    let policies = hub.list_configuration_policies().send().await.unwrap();
    let id = policies.configuration_policy_summaries()[0]
        .id()
        .unwrap()
        .to_string();
    let widened = hub_policy(&[FSBP, "nist-800-53/v/5.0.0"]);
    hub.update_configuration_policy()
        .identifier(&id)
        .configuration_policy(widened)
        .send()
        .await
        .unwrap();
    assert_eq!(
        probe::security_hub_of(&moto, dev, LINKED).await.1,
        vec![FSBP.to_string(), "nist-800-53/v/5.0.0".to_string()]
    );
    let drift = moto.baseline(&["plan", "-f", f, "--detailed-exitcode"]);
    assert_eq!(drift.code, 2, "{drift:?}");
    assert!(
        drift
            .stdout
            .contains("securityhub.policy[\"organization\"] will be updated in place"),
        "{}",
        drift.stdout
    );
    let back = moto.baseline(&["apply", "-f", f, "--auto-approve"]);
    assert_eq!(back.code, 0, "{back:?}");
    assert_eq!(
        probe::security_hub_of(&moto, dev, LINKED).await.1,
        vec![FSBP.to_string()],
        "the policy's standards are the baseline's again, in every account it covers"
    );

    // The account is no longer excluded: its self-managed association is
    // removed, and the root's policy reaches it.
    let text = std::fs::read_to_string(f)
        .unwrap()
        .replace(&format!("  exclude: [\"{excluded}\"]\n"), "");
    std::fs::write(f, text).unwrap();
    let plan = moto.baseline(&["plan", "-f", f, "--output", "json"]);
    let v: Value = serde_json::from_str(&plan.stdout).unwrap();
    let association = v["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["address"]["kind"] == "securityhub.association")
        .unwrap_or_else(|| panic!("the association changes: {}", plan.stdout));
    assert_eq!(
        (
            &association["before"]["self_managed"],
            &association["after"]["self_managed"]
        ),
        (&serde_json::json!([excluded]), &serde_json::json!([])),
    );
    let include = moto.baseline(&["apply", "-f", f, "--auto-approve"]);
    assert_eq!(include.code, 0, "{include:?}");
    assert_eq!(
        probe::security_hub_of(&moto, excluded, LINKED).await,
        (Some(admin.to_string()), vec![FSBP.to_string()]),
        "the account no longer excluded is covered by the policy"
    );
    let settled = moto.baseline(&["plan", "-f", f, "--detailed-exitcode"]);
    assert_eq!(settled.code, 0, "{settled:?}");
}

/// A configuration policy with the baseline's name that someone else made
/// is neither changed nor associated with the root.
#[tokio::test(flavor = "multi_thread")]
async fn a_policy_of_the_baselines_name_made_by_someone_else_is_left_alone() {
    let moto = Moto::start();
    let ids = probe::organization(&moto, &["security", "dev"]).await;
    let admin = ids[0].as_str();
    let sdk = trust(&moto, "securityhub.amazonaws.com").await;
    aws_sdk_securityhub::Client::new(&sdk)
        .enable_organization_admin_account()
        .admin_account_id(admin)
        .send()
        .await
        .unwrap();
    // The designation enabled the administrator's hub.
    let hub = aws_sdk_securityhub::Client::new(&probe::as_account(&moto, admin, REGION).await);
    hub.create_finding_aggregator()
        .region_linking_mode("NO_REGIONS")
        .send()
        .await
        .unwrap();
    hub.update_organization_configuration()
        .auto_enable(false)
        .auto_enable_standards(aws_sdk_securityhub::types::AutoEnableStandards::None)
        .organization_configuration(
            aws_sdk_securityhub::types::OrganizationConfiguration::builder()
                .configuration_type(
                    aws_sdk_securityhub::types::OrganizationConfigurationConfigurationType::Central,
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    let theirs = hub_policy(&["nist-800-53/v/5.0.0"]);
    hub.create_configuration_policy()
        .name("baseline")
        .configuration_policy(theirs)
        .send()
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let f = baseline_file(
        &dir,
        &file(
            admin,
            "config: {enabled: true}\nsecurityhub:\n  enabled: true\n  standards: [aws-foundational-security-best-practices]\n",
        ),
    );
    let f = f.to_str().unwrap();
    let plan = moto.baseline(&["plan", "-f", f]);
    assert!(
        plan.stdout
            .contains("someone else (no managed-by tag); baseline leaves it alone"),
        "{}",
        plan.stdout
    );
    let apply = moto.baseline(&["apply", "-f", f, "--auto-approve"]);
    assert_eq!(apply.code, 1, "{apply:?}");
    assert!(
        apply.stderr.contains("was not made by this baseline"),
        "{}",
        apply.stderr
    );
    let id = hub
        .list_configuration_policies()
        .send()
        .await
        .unwrap()
        .configuration_policy_summaries()[0]
        .id()
        .unwrap()
        .to_string();
    let policy = hub
        .get_configuration_policy()
        .identifier(id)
        .send()
        .await
        .unwrap();
    assert_eq!(
        policy
            .configuration_policy()
            .and_then(|p| p.as_security_hub().ok())
            .map(|h| h.enabled_standard_identifiers().to_vec()),
        Some(vec![format!(
            "arn:aws:securityhub:{REGION}::standards/nist-800-53/v/5.0.0"
        )]),
        "their policy is as they made it"
    );
    let root = aws_sdk_organizations::Client::new(&sdk)
        .list_roots()
        .send()
        .await
        .unwrap()
        .roots()[0]
        .id()
        .unwrap()
        .to_string();
    let associated = hub
        .get_configuration_policy_association()
        .target(aws_sdk_securityhub::types::Target::RootId(root))
        .send()
        .await
        .unwrap();
    assert_eq!(
        associated.configuration_policy_id(),
        Some("SELF_MANAGED_SECURITY_HUB"),
        "their policy is not associated with the root"
    );
}

/// The administrator's finding aggregator in another region: moving it
/// would delete central configuration's policies, so the plan holds it.
#[tokio::test(flavor = "multi_thread")]
async fn an_aggregator_in_another_region_is_held() {
    let moto = Moto::start();
    let ids = probe::organization(&moto, &["security"]).await;
    let admin = ids[0].as_str();
    let elsewhere =
        aws_sdk_securityhub::Client::new(&probe::as_account(&moto, admin, "us-east-1").await);
    elsewhere
        .enable_security_hub()
        .enable_default_standards(false)
        .send()
        .await
        .unwrap();
    elsewhere
        .create_finding_aggregator()
        .region_linking_mode("NO_REGIONS")
        .send()
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let f = baseline_file(
        &dir,
        &file(
            admin,
            "config: {enabled: true}\nsecurityhub:\n  enabled: true\n  standards: [aws-foundational-security-best-practices]\n",
        )
        .replace(&format!("regions: [{REGION}]"), &format!("regions: [{REGION}, us-east-1]")),
    );
    let plan = moto.baseline(&["plan", "-f", f.to_str().unwrap()]);
    for shown in [
        "managed by its aggregation Region us-east-1",
        "the finding aggregator is in us-east-1, not the home region",
    ] {
        assert!(plan.stdout.contains(shown), "{shown} in {}", plan.stdout);
    }
}

/// Central configuration is PENDING for a while after it is asked for
/// (the local AWS's `--settle-ms`), and no policy can be made until it is
/// ENABLED: apply waits for it within `--settle-timeout`, and says so when
/// that is too short.
#[tokio::test(flavor = "multi_thread")]
async fn apply_waits_until_central_configuration_is_enabled() {
    let moto = Moto::start_with(&["--settle-ms", "3000"]);
    let ids = probe::organization(&moto, &["security"]).await;
    let dir = tempfile::tempdir().unwrap();
    let f = baseline_file(
        &dir,
        &file(
            &ids[0],
            "securityhub:\n  enabled: true\n  standards: [aws-foundational-security-best-practices]\nconfig: {enabled: true}\n",
        ),
    );
    let f = f.to_str().unwrap();
    // AWS Config first (its new role settles too).
    let config = moto.baseline(&["apply", "-f", f, "--auto-approve", "--only", "config"]);
    assert_eq!(config.code, 0, "{config:?}");
    // The administrator designated (its delegation settles too: put into
    // effect at once, the wait for it is organization_rules.rs's).
    let designated = moto.baseline(&["apply", "-f", f, "--auto-approve", "--settle-timeout", "0"]);
    assert_eq!(designated.code, 1, "{designated:?}");
    moto.control("settle-now", serde_json::json!({}));
    let hurried = moto.baseline(&["apply", "-f", f, "--auto-approve", "--settle-timeout", "0"]);
    assert_eq!(hurried.code, 1, "{hurried:?}");
    assert!(
        hurried.stderr.contains("central configuration in account")
            && hurried
                .stderr
                .contains("is not ENABLED within --settle-timeout"),
        "{}",
        hurried.stderr
    );
    let apply = moto.baseline(&["apply", "-f", f, "--auto-approve"]);
    assert_eq!(apply.code, 0, "{apply:?}");
    let again = moto.baseline(&["plan", "-f", f, "--detailed-exitcode"]);
    assert_eq!(again.code, 0, "{again:?}");
}

/// A standard of the policy that a linked region does not offer: the plan
/// says so before apply; AWS applies the rest and reports the association
/// FAILED, which the next plan says in a note, without associating again
/// forever.
#[tokio::test(flavor = "multi_thread")]
async fn a_standard_a_linked_region_lacks_is_a_note_not_drift() {
    const LINKED: &str = "us-east-1";
    let moto = Moto::start();
    moto.control(
        "unoffered",
        serde_json::json!({"service": "securityhub", "region": LINKED, "names": ["nist-800-53/v/5.0.0"]}),
    );
    let ids = probe::organization(&moto, &["security", "dev"]).await;
    let (admin, dev) = (ids[0].as_str(), ids[1].as_str());
    let dir = tempfile::tempdir().unwrap();
    let text = |standards: &str| {
        file(
            admin,
            &format!("config: {{enabled: true}}\nsecurityhub:\n  enabled: true\n  standards: [{standards}]\n"),
        )
        .replace(&format!("regions: [{REGION}]"), &format!("regions: [{REGION}, {LINKED}]"))
    };
    let f = baseline_file(&dir, &text("aws-foundational-security-best-practices"));
    let f = f.to_str().unwrap();
    let apply = moto.baseline(&["apply", "-f", f, "--auto-approve"]);
    assert_eq!(apply.code, 0, "{apply:?}");

    // The standard is added: the plan names the region that lacks it.
    std::fs::write(
        f,
        text("aws-foundational-security-best-practices, nist-800-53-v5.0.0"),
    )
    .unwrap();
    let plan = moto.baseline(&["plan", "-f", f, "--detailed-exitcode"]);
    assert_eq!(plan.code, 2, "{plan:?}");
    assert!(
        plan.stdout.contains(
            "Security Hub does not offer nist-800-53-v5.0.0 in us-east-1 (DescribeStandards): Security Hub's configuration policy takes effect there without them"
        ),
        "{}",
        plan.stdout
    );
    let apply = moto.baseline(&["apply", "-f", f, "--auto-approve"]);
    assert_eq!(apply.code, 0, "{apply:?}");
    assert_eq!(
        probe::security_hub_of(&moto, dev, LINKED).await.1,
        vec!["aws-foundational-security-best-practices/v/1.0.0".to_string()],
        "the rest of the policy took effect in the linked region"
    );
    let plan = moto.baseline(&["plan", "-f", f, "--detailed-exitcode"]);
    assert_eq!(plan.code, 0, "{plan:?}");
    assert!(
        plan.stdout.contains(
            "FAILED in some accounts (AWS): nist-800-53/v/5.0.0 is not available in us-east-1"
        ),
        "{}",
        plan.stdout
    );
}

/// `securityhub_configuration: local`: member auto-enable, each
/// account's standards set in the account; no policy.
#[tokio::test(flavor = "multi_thread")]
async fn local_configuration_keeps_the_standards_per_account() {
    let moto = Moto::start();
    let ids = probe::organization(&moto, &["security", "dev"]).await;
    let (admin, dev) = (ids[0].as_str(), ids[1].as_str());
    let dir = tempfile::tempdir().unwrap();
    let text = file(
        admin,
        "config: {enabled: true}\nsecurityhub:\n  enabled: true\n  standards: [aws-foundational-security-best-practices]\n",
    )
    .replace("  auto_enable: true\n", "  securityhub_configuration: local\n");
    let f = baseline_file(&dir, &text);
    let f = f.to_str().unwrap();
    let plan = moto.baseline(&["plan", "-f", f, "--output", "json"]);
    assert_eq!(plan.code, 0, "{plan:?}");
    let v: Value = serde_json::from_str(&plan.stdout).unwrap();
    assert_eq!(
        kinds(&v, dev),
        vec![
            kind("securityhub.membership", "create"),
            kind("securityhub.standards", "create"),
        ]
    );
    assert!(
        !kinds(&v, admin)
            .iter()
            .any(|(k, _)| k == "securityhub.policy"),
        "no policy with local configuration: {:?}",
        kinds(&v, admin)
    );
    let apply = moto.baseline(&["apply", "-f", f, "--auto-approve"]);
    assert_eq!(apply.code, 0, "{apply:?}");
    assert_eq!(
        probe::security_hub_of(&moto, dev, REGION).await,
        (
            Some(admin.to_string()),
            vec!["aws-foundational-security-best-practices/v/1.0.0".to_string()]
        )
    );
    let again = moto.baseline(&["plan", "-f", f, "--detailed-exitcode"]);
    assert_eq!(again.code, 0, "{again:?}");
}

/// Another account already the registered administrator: refused with
/// both ids, and nothing is written anywhere.
#[tokio::test(flavor = "multi_thread")]
async fn a_second_administrator_is_refused_and_nothing_changes() {
    let moto = Moto::start();
    let ids = probe::organization(&moto, &["security", "other"]).await;
    let (admin, other) = (ids[0].as_str(), ids[1].as_str());
    let sdk = trust(&moto, "guardduty.amazonaws.com").await;
    aws_sdk_guardduty::Client::new(&sdk)
        .enable_organization_admin_account()
        .admin_account_id(other)
        .send()
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let f = baseline_file(
        &dir,
        &file(
            admin,
            "guardduty: {enabled: true}\nebs_encryption: {enabled: true}\n",
        ),
    );
    let before = moto.writes(0).len();
    let apply = moto.baseline(&["apply", "-f", f.to_str().unwrap(), "--auto-approve"]);
    assert_eq!(apply.code, 1, "{apply:?}");
    let said = format!("{}{}", apply.stdout, apply.stderr);
    assert!(
        said.contains(admin) && said.contains(other) && said.contains("refused"),
        "{said}"
    );
    assert_eq!(moto.writes(before).len(), 0, "nothing is written");
}

/// `baseline policy` of an organization run through a delegated
/// administrator allows every call its plan and apply make, in every kind
/// of account.
#[tokio::test(flavor = "multi_thread")]
async fn the_printed_policy_allows_every_call_of_the_organization() {
    let moto = Moto::start();
    let ids = probe::organization(&moto, &["security", "dev"]).await;
    let dir = tempfile::tempdir().unwrap();
    let f = baseline_file(
        &dir,
        &file(
            &ids[0],
            "config: {enabled: true}\nguardduty: {enabled: true}\nsecurityhub:\n  enabled: true\n  standards: [aws-foundational-security-best-practices]\n",
        ),
    );
    let f = f.to_str().unwrap();
    for (command, args) in [
        ("plan", vec!["plan", "-f", f]),
        ("apply", vec!["apply", "-f", f, "--auto-approve"]),
        ("plan", vec!["plan", "-f", f]),
    ] {
        let needed = crate::policy::allowed_calls(&moto, &dir, f, command, &args);
        let made: &[&str] = if command == "apply" {
            &[
                "guardduty:CreateMembers",
                "securityhub:UpdateOrganizationConfiguration",
            ]
        } else {
            &[
                "guardduty:ListOrganizationAdminAccounts",
                "securityhub:GetAdministratorAccount",
            ]
        };
        for call in made {
            assert!(needed.contains(*call), "{call} was made: {needed:?}");
        }
    }
}

/// `baseline policy --account KIND` prints what that kind of account of an
/// organization needs; a baseline without a delegated administrator has
/// one kind, and says so.
#[test]
fn the_policy_is_printed_per_kind_of_account() {
    let example = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/organization.yaml"
    );
    let actions = |kind: &str| -> Vec<String> {
        let run = crate::moto::offline(&["policy", "-f", example, "--account", kind]);
        assert_eq!(run.code, 0, "{run:?}");
        let v: Value = serde_json::from_str(&run.stdout).unwrap();
        v["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|s| s["Action"].as_array().unwrap().clone())
            .map(|a| a.as_str().unwrap().to_string())
            .collect()
    };
    let management = actions("management");
    let admin = actions("administrator");
    assert!(management.contains(&"guardduty:EnableOrganizationAdminAccount".to_string()));
    assert!(!admin.contains(&"guardduty:EnableOrganizationAdminAccount".to_string()));
    assert!(admin.contains(&"securityhub:CreateMembers".to_string()));
    assert!(admin.contains(&"config:PutConfigurationAggregator".to_string()));
    assert!(!actions("member").contains(&"securityhub:CreateMembers".to_string()));
    let tokyo = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/tokyo.yaml");
    let run = crate::moto::offline(&["policy", "-f", tokyo, "--account", "member"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("delegated_admin"), "{}", run.stderr);
}
