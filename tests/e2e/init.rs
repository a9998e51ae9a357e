//! `baseline init` on an account that already has a trail, a recorder,
//! their buckets, an analyzer and a contact: the file it writes validates,
//! names them, and the cycle it drives makes no second trail, recorder,
//! bucket or analyzer, keeps the buckets' own policy statements, and
//! `destroy` leaves them all.

use crate::moto::Moto;
use crate::probe::{allow_delivery, bucket_exists, create_bucket, recorders};

const HOME: &str = "ap-northeast-1";
const REGIONS: &str = "ap-northeast-1,us-east-1";

async fn seed(moto: &Moto) {
    let sdk = moto.sdk(HOME).await;
    aws_sdk_iam::Client::new(&sdk)
        .update_account_password_policy()
        .minimum_password_length(10)
        .require_symbols(true)
        .password_reuse_prevention(24)
        .send()
        .await
        .unwrap();
    create_bucket(moto, "corp-trail-logs").await;
    create_bucket(moto, "corp-config-logs").await;
    let s3 = baseline_providers::clients::s3(&sdk, HOME);
    s3.put_bucket_policy()
        .bucket("corp-trail-logs")
        .policy(
            serde_json::json!({"Version": "2012-10-17", "Statement": [{"Sid": "CorpAudit",
                "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
                "Action": "s3:GetObject", "Resource": "arn:aws:s3:::corp-trail-logs/*"}]})
            .to_string(),
        )
        .send()
        .await
        .unwrap();
    allow_delivery(moto, "corp-trail-logs", &["cloudtrail.amazonaws.com"]).await;
    allow_delivery(moto, "corp-config-logs", &["config.amazonaws.com"]).await;
    let ct = aws_sdk_cloudtrail::Client::new(&sdk);
    ct.create_trail()
        .name("org-trail")
        .s3_bucket_name("corp-trail-logs")
        .is_multi_region_trail(true)
        .send()
        .await
        .unwrap();
    ct.start_logging().name("org-trail").send().await.unwrap();
    let config = aws_sdk_config::Client::new(&sdk);
    config
        .put_configuration_recorder()
        .configuration_recorder(
            aws_sdk_config::types::ConfigurationRecorder::builder()
                .name("default")
                .role_arn("arn:aws:iam::123456789012:role/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig")
                .recording_group(
                    aws_sdk_config::types::RecordingGroup::builder()
                        .all_supported(true)
                        .include_global_resource_types(true)
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    config
        .put_delivery_channel()
        .delivery_channel(
            aws_sdk_config::types::DeliveryChannel::builder()
                .name("default")
                .s3_bucket_name("corp-config-logs")
                .build(),
        )
        .send()
        .await
        .unwrap();
    aws_sdk_accessanalyzer::Client::new(&sdk)
        .create_analyzer()
        .analyzer_name("corp-analyzer")
        .r#type(aws_sdk_accessanalyzer::types::Type::Account)
        .send()
        .await
        .unwrap();
    aws_sdk_account::Client::new(&sdk)
        .put_alternate_contact()
        .alternate_contact_type(aws_sdk_account::types::AlternateContactType::Security)
        .name("Sec \"Ops\" #1")
        .email_address("sec@corp.example")
        .phone_number("+1-555-0101")
        .title("CISO")
        .send()
        .await
        .unwrap();
}

async fn trails(moto: &Moto) -> Vec<String> {
    let sdk = moto.sdk(HOME).await;
    aws_sdk_cloudtrail::Client::new(&sdk)
        .describe_trails()
        .send()
        .await
        .unwrap()
        .trail_list()
        .iter()
        .filter_map(|t| t.name().map(str::to_string))
        .collect()
}

async fn buckets(moto: &Moto) -> Vec<String> {
    let sdk = moto.sdk(HOME).await;
    let mut names: Vec<String> = baseline_providers::clients::s3(&sdk, HOME)
        .list_buckets()
        .send()
        .await
        .unwrap()
        .buckets()
        .iter()
        .filter_map(|b| b.name().map(str::to_string))
        .collect();
    names.sort();
    names
}

#[tokio::test(flavor = "multi_thread")]
async fn init_names_what_exists_so_the_cycle_makes_no_second_trail_or_bucket() {
    let moto = Moto::start();
    seed(&moto).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("baseline.yaml");
    let f = file.to_str().unwrap();

    let init = moto.baseline(&["init", "--out", f]);
    assert_eq!(init.code, 0, "{init:?}");
    let text = std::fs::read_to_string(&file).unwrap();
    for needle in [
        "id: \"123456789012\"",
        "home_region: \"ap-northeast-1\"",
        "name: \"org-trail\"",
        "bucket: \"corp-trail-logs\"",
        "bucket: \"corp-config-logs\"",
        "recording: continuous",
        "name: \"corp-analyzer\"",
        "security: {name: \"Sec \\\"Ops\\\" #1\"",
        // The account's password policy as it is, the recommendation beside.
        "  password_policy:           # the account's policy; fields left out keep their value\n    minimum_length: 10   # as it is now; recommended: 14\n    require_uppercase: false   # as it is now; recommended: true\n",
        "    require_symbols: true\n",
        "    # max_age_days: 90   # not set now; recommended\n    reuse_prevention: 24\n",
    ] {
        assert!(text.contains(needle), "missing {needle} in\n{text}");
    }

    // Never over an existing file without --force.
    std::fs::write(&file, "# mine\n").unwrap();
    let again = moto.baseline(&["init", "--out", f]);
    assert_eq!(again.code, 1, "{again:?}");
    assert!(again.stderr.contains("already exists"), "{again:?}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "# mine\n");
    let forced = moto.baseline(&["init", "--out", f, "--force"]);
    assert_eq!(forced.code, 0, "{forced:?}");
    assert_eq!(
        std::fs::read_to_string(&file).unwrap().lines().nth(2),
        text.lines().nth(2)
    );

    let validate = moto.baseline(&["validate", "-f", f]);
    assert_eq!(validate.code, 0, "{validate:?}");

    let plan = moto.baseline(&["plan", "-f", f, "--regions", REGIONS, "--output", "json"]);
    assert_eq!(plan.code, 0, "{plan:?}");
    let v: serde_json::Value = serde_json::from_str(&plan.stdout).unwrap();
    let created: Vec<String> = v["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["action"] == "create")
        .map(|c| {
            format!(
                "{}/{}",
                c["address"]["region"].as_str().unwrap(),
                c["address"]["kind"].as_str().unwrap()
            )
        })
        .collect();
    for not_again in [
        "ap-northeast-1/cloudtrail.trail",
        "ap-northeast-1/cloudtrail.bucket",
        "ap-northeast-1/config.recorder",
        "ap-northeast-1/config.bucket",
        "ap-northeast-1/access_analyzer.analyzer",
        "ap-northeast-1/alternate_contacts.contact",
    ] {
        assert!(
            !created.contains(&not_again.to_string()),
            "{not_again} would be made again: {created:?}"
        );
    }

    let apply = moto.baseline(&["apply", "-f", f, "--regions", REGIONS, "--auto-approve"]);
    assert_eq!(apply.code, 0, "{apply:?}");
    assert_eq!(trails(&moto).await, vec!["org-trail".to_string()]);
    assert_eq!(recorders(&moto, HOME).await, vec!["default".to_string()]);
    assert_eq!(
        buckets(&moto).await,
        vec![
            "corp-config-logs".to_string(),
            "corp-trail-logs".to_string()
        ]
    );
    // The trail bucket's own statement stays beside CloudTrail's.
    let sdk = moto.sdk(HOME).await;
    let s3 = baseline_providers::clients::s3(&sdk, HOME);
    let policy = s3
        .get_bucket_policy()
        .bucket("corp-trail-logs")
        .send()
        .await
        .unwrap();
    let policy = policy.policy().unwrap();
    assert!(
        policy.contains("CorpAudit") && policy.contains("cloudtrail.amazonaws.com"),
        "{policy}"
    );
    let replan = moto.baseline(&["plan", "-f", f, "--regions", REGIONS, "--detailed-exitcode"]);
    assert_eq!(replan.code, 3, "converged but for root MFA: {replan:?}");

    // Not baseline's: destroy leaves the trail, the recorder and both buckets.
    let destroy = moto.baseline(&["destroy", "-f", f, "--regions", REGIONS, "--auto-approve"]);
    assert_eq!(destroy.code, 0, "{destroy:?}");
    assert_eq!(trails(&moto).await, vec!["org-trail".to_string()]);
    assert_eq!(recorders(&moto, HOME).await, vec!["default".to_string()]);
    assert!(
        bucket_exists(&moto, "corp-trail-logs").await
            && bucket_exists(&moto, "corp-config-logs").await
    );
}

/// `--out -` prints the file; `init` without a region says how to give one.
#[test]
fn init_needs_a_region() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_baseline"))
        .args(["init", "--out", "-"])
        .env_remove("AWS_REGION")
        .env_remove("AWS_DEFAULT_REGION")
        .env_remove("AWS_PROFILE")
        .env("AWS_CONFIG_FILE", "/nonexistent")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no region: set AWS_REGION"), "{err}");
}

/// `adopt: true` takes a named bucket over with its recorder: tagged
/// beside its own tags, and from then on deleted by `destroy` like any of
/// baseline's buckets.
#[tokio::test(flavor = "multi_thread")]
async fn an_adopted_bucket_is_tagged_beside_its_own_tags_and_then_baselines() {
    let moto = Moto::start();
    create_bucket(&moto, "corp-config-logs").await;
    let sdk = moto.sdk(HOME).await;
    let s3 = baseline_providers::clients::s3(&sdk, HOME);
    let tag = |k: &str, v: &str| {
        aws_sdk_s3::types::Tag::builder()
            .key(k)
            .value(v)
            .build()
            .unwrap()
    };
    s3.put_bucket_tagging()
        .bucket("corp-config-logs")
        .tagging(
            aws_sdk_s3::types::Tagging::builder()
                .tag_set(tag("team", "sec"))
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = crate::moto::baseline_file(
        &dir,
        "version: 1\naccounts: [{id: \"123456789012\"}]\nregions: [ap-northeast-1]\nhome_region: ap-northeast-1\nconfig: {enabled: true, bucket: corp-config-logs, adopt: true}\n",
    );
    let f = file.to_str().unwrap();
    let plan = moto.baseline(&["plan", "-f", f]);
    assert!(
        plan.stdout
            .contains("~ config.bucket[\"corp-config-logs\"] will be updated in place")
            && plan
                .stdout
                .contains("managed_by            = (none) -> \"baseline\""),
        "{plan:?}"
    );
    let apply = moto.baseline(&["apply", "-f", f, "--auto-approve"]);
    assert_eq!(apply.code, 0, "{apply:?}");
    let tags: Vec<(String, String)> = s3
        .get_bucket_tagging()
        .bucket("corp-config-logs")
        .send()
        .await
        .unwrap()
        .tag_set()
        .iter()
        .map(|t| (t.key().to_string(), t.value().to_string()))
        .collect();
    assert!(tags.contains(&("team".into(), "sec".into())), "{tags:?}");
    assert!(
        tags.contains(&("managed-by".into(), "baseline".into())),
        "{tags:?}"
    );
    let destroy = moto.baseline(&["destroy", "-f", f, "--auto-approve"]);
    assert_eq!(destroy.code, 0, "{destroy:?}");
    assert!(
        !bucket_exists(&moto, "corp-config-logs").await,
        "adopted: baseline's to delete"
    );
}

/// Why (issue 34's review): a change's preconditions are checked against
/// the resource read alone, and the Config bucket's read took "adopt"
/// only from the recorder beside it: alone, an unmarked bucket of the
/// default name was refused as someone else's, and its adoption failed.
/// The bucket's own change now says it is adopted.
#[tokio::test(flavor = "multi_thread")]
async fn a_bucket_of_the_default_name_is_adopted_when_the_section_says_so() {
    let moto = Moto::start();
    create_bucket(&moto, "baseline-config-123456789012").await;
    let dir = tempfile::tempdir().unwrap();
    let file = crate::moto::baseline_file(
        &dir,
        "version: 1\naccounts: [{id: \"123456789012\"}]\nregions: [ap-northeast-1]\nhome_region: ap-northeast-1\nconfig: {enabled: true, adopt: true}\n",
    );
    let f = file.to_str().unwrap();
    let apply = moto.baseline(&["apply", "-f", f, "--auto-approve"]);
    assert_eq!(apply.code, 0, "{apply:?}");
    let again = moto.baseline(&["plan", "-f", f, "--detailed-exitcode"]);
    assert_eq!(again.code, 0, "{again:?}");
}
