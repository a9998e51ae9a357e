//! The source document's own baseline, `examples/tokyo.yaml`, unchanged,
//! through plan → apply → plan → destroy against the local AWS — every one
//! of its settings, including those moto alone lacks (Access Analyzer,
//! Security Hub standards, the EBS default key, daily recording, the root
//! user's MFA, Trusted Advisor). Each result is checked through the local
//! AWS, not through baseline's own reading.

use aws_sdk_securityhub::types::StandardsStatus;
use serde_json::json;

use crate::moto::{Moto, baseline_file};
use crate::probe::{self, bpa_flags, bucket_exists, hub_enabled, password_policy, recording};

const ACCOUNT: &str = "123456789012";
const REGION: &str = "ap-northeast-1";
const FSBP: &str = "arn:aws:securityhub:ap-northeast-1::standards/aws-foundational-security-best-practices/v/1.0.0";

fn canonical() -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/tokyo.yaml");
    std::fs::read_to_string(path).unwrap()
}

/// A drifted account: a console user without MFA, someone's unused-access
/// analyzer (another type, which baseline must leave alone), a customer key
/// as the EBS default key, a Business support plan.
async fn seed(moto: &Moto) -> String {
    let sdk = moto.sdk(REGION).await;
    let iam = aws_sdk_iam::Client::new(&sdk);
    iam.create_user().user_name("alice").send().await.unwrap();
    iam.create_login_profile()
        .user_name("alice")
        .password("Secr3t-Passw0rd!")
        .send()
        .await
        .unwrap();
    aws_sdk_accessanalyzer::Client::new(&sdk)
        .create_analyzer()
        .analyzer_name("unused-access")
        .r#type(aws_sdk_accessanalyzer::types::Type::AccountUnusedAccess)
        .send()
        .await
        .unwrap();
    let key = aws_sdk_kms::Client::new(&sdk)
        .create_key()
        .description("someone's EBS key")
        .send()
        .await
        .unwrap();
    let arn = key.key_metadata().unwrap().arn().unwrap().to_string();
    aws_sdk_ec2::Client::new(&sdk)
        .modify_ebs_default_kms_key_id()
        .kms_key_id(&arn)
        .send()
        .await
        .unwrap();
    moto.control(
        "support-plan",
        json!({"account": ACCOUNT, "plan": "business"}),
    );
    // A weak password policy whose administrators want expired passwords
    // reset by them (a field the baseline does not give).
    iam.update_account_password_policy()
        .minimum_password_length(8)
        .require_numbers(true)
        .hard_expiry(true)
        .send()
        .await
        .unwrap();
    arn
}

fn contains_all(run: &crate::moto::Run, lines: &[&str]) {
    for line in lines {
        assert!(run.stdout.contains(line), "`{line}` missing: {run:?}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_source_documents_baseline_converges_and_tears_down() {
    let moto = Moto::start();
    let cmk = seed(&moto).await;
    let dir = tempfile::tempdir().unwrap();
    let file = baseline_file(&dir, &canonical());
    let f = file.to_str().unwrap();

    let plan = moto.baseline(&["plan", "-f", f, "--detailed-exitcode"]);
    assert_eq!(plan.code, 2, "{plan:?}");
    contains_all(
        &plan,
        &[
            "! iam.root_mfa[\"root\"] needs a person  [IAM.9]",
            "! iam.user_mfa[\"alice\"] needs a person",
            "+ access_analyzer.analyzer[\"baseline\"] will be created",
            &format!("~ kms_key = \"{cmk}\" -> \"alias/aws/ebs\""),
            "+ securityhub.standards[\"hub\"] will be created",
            "+ recording_frequency",
            "~ ebs_snapshot_public_access.state[\"account\"] will be updated in place",
            "Trusted Advisor: 104 checks: 103 ok, 0 warning, 1 error (MFA on Root Account)",
            "~ iam.password_policy[\"account\"] will be updated in place  [IAM.7, IAM.11, IAM.12, IAM.13, IAM.14, IAM.15, IAM.16, IAM.17]",
        ],
    );
    // Each field that differs, and only those (columns aligned by name).
    let fields: Vec<String> = plan
        .stdout
        .lines()
        .skip_while(|l| !l.contains("iam.password_policy"))
        .skip(1)
        .take_while(|l| l.trim_start().starts_with("~ ") && l.contains(" -> "))
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    assert_eq!(
        fields,
        [
            "~ minimum_length = 8 -> 14",
            "~ require_uppercase = false -> true",
            "~ require_lowercase = false -> true",
            "~ require_symbols = false -> true",
            "~ max_age_days = (none) -> 90",
            "~ reuse_prevention = (none) -> 24",
            "~ allow_users_to_change = false -> true",
        ],
        "{plan:?}"
    );

    let apply = moto.baseline(&["apply", "-f", f, "--auto-approve"]);
    assert_eq!(apply.code, 0, "{apply:?}");

    // Each setting, as the local AWS has it now.
    assert_eq!(probe::recording_frequency(&moto, REGION).await, ["DAILY"]);
    assert!(recording(&moto, REGION).await);
    let found = probe::analyzers(&moto, REGION).await;
    assert_eq!(found.len(), 2, "{found:?}");
    assert_eq!(
        (&found[0].0, &found[0].1, &found[0].2),
        (
            &"baseline".to_string(),
            &"ACCOUNT".to_string(),
            &"ACTIVE".to_string()
        )
    );
    assert_eq!(
        found[0].3.get("managed-by").map(String::as_str),
        Some("baseline")
    );
    assert_eq!(found[1].0, "unused-access", "another type's analyzer stays");
    let subs = probe::standards(&moto, REGION).await;
    assert_eq!(subs.len(), 1, "{subs:?}");
    assert_eq!(subs[0].0, FSBP);
    assert_eq!(
        probe::ebs(&moto, REGION).await,
        (true, "alias/aws/ebs".to_string())
    );
    assert!(hub_enabled(&moto, REGION).await);
    assert_eq!(bpa_flags(&moto).await, [true; 4]);
    assert_eq!(
        probe::snapshot_sharing(&moto, REGION).0,
        "block-all-sharing"
    );
    let imds = probe::metadata_defaults(&moto, REGION);
    assert_eq!(
        (&imds["HttpTokens"], &imds["HttpPutResponseHopLimit"]),
        (&json!("required"), &json!(2)),
        "{imds}"
    );
    let policy = password_policy(&moto);
    for (field, value) in [
        ("MinimumPasswordLength", json!(14)),
        ("RequireUppercaseCharacters", json!(true)),
        ("RequireLowercaseCharacters", json!(true)),
        ("RequireNumbers", json!(true)),
        ("RequireSymbols", json!(true)),
        ("MaxPasswordAge", json!(90)),
        ("PasswordReusePrevention", json!(24)),
        ("AllowUsersToChangePassword", json!(true)),
        // Not in the baseline: kept, although AWS replaces the policy whole.
        ("HardExpiry", json!(true)),
    ] {
        assert_eq!(policy[field], value, "{field}: {policy}");
    }

    let after = moto.baseline(&["plan", "-f", f, "--detailed-exitcode"]);
    assert_eq!(after.code, 3, "only the MFA actions remain: {after:?}");
    contains_all(
        &after,
        &["Plan: 0 to add, 0 to change, 0 to destroy, 2 manual."],
    );
    assert_eq!(
        probe::standards(&moto, REGION).await[0].1,
        StandardsStatus::Ready,
        "PENDING became READY"
    );

    // The root user gets MFA: its manual action and Trusted Advisor's
    // error go away.
    moto.control("root-mfa", json!({"account": ACCOUNT, "enabled": true}));
    let root_done = moto.baseline(&["plan", "-f", f, "--detailed-exitcode"]);
    assert_eq!(root_done.code, 3, "{root_done:?}");
    assert!(!root_done.stdout.contains("iam.root_mfa"), "{root_done:?}");
    contains_all(
        &root_done,
        &[
            "Trusted Advisor: 104 checks: 104 ok, 0 warning, 0 error",
            "1 manual.",
        ],
    );

    // One name per setting: the plan's services are the file's sections,
    // and each address is named by its setting as the registry lists it.
    let json_plan = moto.baseline(&["plan", "-f", f, "--output", "json"]);
    let v: serde_json::Value = serde_json::from_str(&json_plan.stdout).expect("a JSON plan");
    let sections: Vec<&str> = baseline_providers::SETTINGS
        .iter()
        .map(|s| s.section)
        .collect();
    assert_eq!(v["services"], json!(sections), "{json_plan:?}");
    let changes = crate::moto::looked_at(&v);
    let mut named: Vec<&str> = Vec::new();
    for c in &changes {
        let kind = c["address"]["kind"].as_str().expect("a kind");
        let setting = baseline_providers::setting(kind.split('.').next().unwrap())
            .unwrap_or_else(|| panic!("{kind} is not named by a setting"));
        assert!(
            setting.kinds.contains(&kind),
            "{kind} is not in the registry"
        );
        if !named.contains(&setting.section) {
            named.push(setting.section);
        }
    }
    // Every setting of the file is planned under its own name.
    named.sort();
    let mut sorted = sections.clone();
    sorted.sort();
    assert_eq!(named, sorted, "{json_plan:?}");

    // Someone turns the standard off by hand: the plan says so, apply
    // turns it on again.
    let sh = aws_sdk_securityhub::Client::new(&moto.sdk(REGION).await);
    let sub = sh.get_enabled_standards().send().await.unwrap();
    let arn = sub.standards_subscriptions()[0]
        .standards_subscription_arn()
        .unwrap()
        .to_string();
    sh.batch_disable_standards()
        .standards_subscription_arns(arn)
        .send()
        .await
        .unwrap();
    let drift = moto.baseline(&["plan", "-f", f, "--detailed-exitcode"]);
    assert_eq!(drift.code, 2, "{drift:?}");
    contains_all(
        &drift,
        &["~ securityhub.standards[\"hub\"] will be updated in place"],
    );
    let fix = moto.baseline(&["apply", "-f", f, "--auto-approve"]);
    assert_eq!(fix.code, 0, "{fix:?}");
    assert_eq!(probe::standards(&moto, REGION).await.len(), 1);

    // The continuous variant: the recorder's mode changes in place.
    let continuous = baseline_file(
        &dir,
        &canonical().replace("recording: daily", "recording: continuous"),
    );
    let c = continuous.to_str().unwrap();
    let change = moto.baseline(&["apply", "-f", c, "--auto-approve"]);
    assert_eq!(change.code, 0, "{change:?}");
    contains_all(
        &change,
        &["~ recording_frequency = \"DAILY\" -> \"CONTINUOUS\""],
    );
    assert_eq!(
        probe::recording_frequency(&moto, REGION).await,
        ["CONTINUOUS"]
    );

    let destroy = moto.baseline(&["destroy", "-f", c, "--auto-approve"]);
    assert_eq!(destroy.code, 0, "{destroy:?}");
    // The paid services are off ...
    assert!(!recording(&moto, REGION).await);
    assert!(!hub_enabled(&moto, REGION).await);
    assert!(!bucket_exists(&moto, "baseline-cloudtrail-123456789012").await);
    assert!(!bucket_exists(&moto, "baseline-config-123456789012").await);
    let gd = aws_sdk_guardduty::Client::new(&moto.sdk(REGION).await);
    assert!(
        gd.list_detectors()
            .send()
            .await
            .unwrap()
            .detector_ids()
            .is_empty()
    );
    // ... the free settings stay.
    assert_eq!(password_policy(&moto)["MinimumPasswordLength"], json!(14));
    assert_eq!(probe::analyzers(&moto, REGION).await.len(), 2);
    assert_eq!(
        probe::ebs(&moto, REGION).await,
        (true, "alias/aws/ebs".to_string())
    );
    assert_eq!(bpa_flags(&moto).await, [true; 4]);
    assert_eq!(
        probe::snapshot_sharing(&moto, REGION).0,
        "block-all-sharing"
    );
    assert_eq!(
        probe::metadata_defaults(&moto, REGION)["HttpTokens"],
        "required"
    );
}
