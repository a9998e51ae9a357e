//! Many accounts reached by AssumeRole: they converge in one apply, an
//! account whose role cannot be assumed fails alone, overrides take effect.

use crate::moto::{Moto, baseline_file};

const DENIED: &str = "arn:aws:iam::333333333333:role/BaselineAdmin";

const BASELINE: &str = r#"version: 1
accounts:
  - {id: "111111111111", name: one, role_arn: "arn:aws:iam::111111111111:role/BaselineAdmin"}
  - {id: "222222222222", name: two, role_arn: "arn:aws:iam::222222222222:role/BaselineAdmin"}
  - {id: "333333333333", name: three, role_arn: "arn:aws:iam::333333333333:role/BaselineAdmin"}
regions: [ap-northeast-1, us-east-1, eu-west-1]
home_region: ap-northeast-1
config:
  enabled: true
guardduty:
  enabled: true
ebs_encryption:
  enabled: true
securityhub:
  enabled: true
s3_public_access_block:
  block_public_acls: true
  ignore_public_acls: true
  block_public_policy: true
  restrict_public_buckets: true
overrides:
  - accounts: ["222222222222"]
    regions: [eu-west-1]
    guardduty: {enabled: false}
"#;

fn change<'a>(
    plan: &'a serde_json::Value,
    account: &str,
    region: &str,
    kind: &str,
) -> Option<&'a serde_json::Value> {
    plan["changes"].as_array().unwrap().iter().find(|c| {
        c["address"]["account"] == account
            && c["address"]["region"] == region
            && c["address"]["kind"] == kind
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn accounts_converge_in_one_apply_and_a_denied_role_fails_alone() {
    let moto = Moto::start_with(&["--deny-role", DENIED]);
    let dir = tempfile::tempdir().unwrap();
    let file = baseline_file(&dir, BASELINE);
    let f = file.to_str().unwrap();

    let plan = moto.baseline(&["plan", "-f", f, "--output", "json"]);
    assert_eq!(
        plan.code, 1,
        "an account could not be reached: exit 1 {plan:?}"
    );
    let v: serde_json::Value = serde_json::from_str(&plan.stdout).unwrap();
    let errors = v["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{plan:?}");
    assert_eq!(errors[0]["account"], "333333333333");
    assert!(
        errors[0]["message"]
            .as_str()
            .unwrap()
            .contains("AccessDenied"),
        "{plan:?}"
    );
    let targets: Vec<String> = v["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            format!(
                "{}/{}",
                t["account_id"].as_str().unwrap(),
                t["region"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        targets.len(),
        6,
        "two accounts × three regions: {targets:?}"
    );

    // The override: no detector wanted in 222222222222/eu-west-1 only.
    let gd = |a, r| {
        change(&v, a, r, "guardduty.detector").map(|c| c["action"].as_str().unwrap().to_string())
    };
    assert_eq!(gd("222222222222", "eu-west-1").as_deref(), Some("no_op"));
    assert_eq!(gd("222222222222", "us-east-1").as_deref(), Some("create"));
    assert_eq!(gd("111111111111", "eu-west-1").as_deref(), Some("create"));

    let human = moto.baseline(&["plan", "-f", f]);
    assert!(
        human
            .stdout
            .contains("Error: account 333333333333: sts GetCallerIdentity failed"),
        "the failure is in the plan's summary: {human:?}"
    );

    let apply = moto.baseline(&["apply", "-f", f, "--auto-approve"]);
    assert_eq!(
        apply.code, 1,
        "exit 1 at the end, for the failed account: {apply:?}"
    );
    assert!(
        !apply.stdout.contains("333333333333/"),
        "nothing is attempted in the failed account"
    );

    // The two reachable accounts converged in that one apply.
    let after = moto.baseline(&[
        "plan",
        "-f",
        f,
        "--accounts",
        "111111111111,222222222222",
        "--detailed-exitcode",
    ]);
    assert_eq!(after.code, 0, "{after:?}");
    assert!(
        after
            .stdout
            .contains("No changes. 6 account-regions match the baseline."),
        "{after:?}"
    );
}
