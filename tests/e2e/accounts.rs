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

fn change(
    plan: &serde_json::Value,
    account: &str,
    region: &str,
    kind: &str,
) -> Option<serde_json::Value> {
    crate::moto::looked_at(plan).into_iter().find(|c| {
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
            .contains("Error: account 333333333333: sts AssumeRole failed"),
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

/// `accounts: organization` discovers the ACTIVE accounts, leaves out the
/// excluded one, reaches the members through the role and the management
/// account with the current credentials.
#[tokio::test(flavor = "multi_thread")]
async fn organization_accounts_are_discovered() {
    let moto = Moto::start();
    let members = crate::probe::organization(&moto, &["dev", "prod"]).await;
    let dir = tempfile::tempdir().unwrap();
    let file = baseline_file(
        &dir,
        &format!(
            "version: 1\naccounts: organization\norganization:\n  role_name: OrganizationAccountAccessRole\n  exclude: [\"{}\"]\nregions: [ap-northeast-1]\nhome_region: ap-northeast-1\nebs_encryption: {{enabled: true}}\n",
            members[1]
        ),
    );
    let plan = moto.baseline(&["plan", "-f", file.to_str().unwrap(), "--output", "json"]);
    assert_eq!(plan.code, 0, "{plan:?}");
    let v: serde_json::Value = serde_json::from_str(&plan.stdout).unwrap();
    let mut accounts: Vec<&str> = v["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["account_id"].as_str().unwrap())
        .collect();
    accounts.sort();
    let mut want = vec!["123456789012", members[0].as_str()];
    want.sort();
    assert_eq!(
        accounts, want,
        "the management account and the one member not excluded"
    );
    let names: Vec<&str> = v["targets"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["account_name"].as_str())
        .collect();
    assert!(
        names.contains(&"dev"),
        "names come from Organizations: {names:?}"
    );

    let apply = moto.baseline(&["apply", "-f", file.to_str().unwrap(), "--auto-approve"]);
    assert_eq!(apply.code, 0, "{apply:?}");
    assert!(
        apply.stdout.contains(&format!(
            "{}/ap-northeast-1/ebs_encryption.by_default",
            members[0]
        )),
        "{apply:?}"
    );
    assert!(
        !apply.stdout.contains(&members[1]),
        "the excluded account is not touched: {apply:?}"
    );
}

/// A region that answers AccessDenied for one service is reported as such;
/// that service elsewhere and every other service there converge.
#[tokio::test(flavor = "multi_thread")]
async fn a_denied_region_fails_alone() {
    let moto = Moto::start_with(&["--deny", "config:eu-west-1"]);
    let dir = tempfile::tempdir().unwrap();
    let file = baseline_file(
        &dir,
        "version: 1\naccounts: [{id: \"123456789012\"}]\nregions: [ap-northeast-1, eu-west-1]\nhome_region: ap-northeast-1\nconfig: {enabled: true}\nguardduty: {enabled: true}\n",
    );
    let f = file.to_str().unwrap();
    let apply = moto.baseline(&["apply", "-f", f, "--auto-approve"]);
    assert_eq!(apply.code, 1, "{apply:?}");
    assert!(
        apply.stdout.contains("Error: account 123456789012, eu-west-1, config: config DescribeConfigurationRecorders failed in account 123456789012, eu-west-1"),
        "{apply:?}"
    );
    assert!(apply.stdout.contains("AccessDenied"), "{apply:?}");
    assert!(
        apply
            .stdout
            .contains("eu-west-1/guardduty.detector[\"detector\"]: Creation complete"),
        "{apply:?}"
    );
    assert!(
        apply
            .stdout
            .contains("ap-northeast-1/config.recording[\"recorder\"]: Creation complete"),
        "{apply:?}"
    );

    let after = moto.baseline(&["plan", "-f", f, "--detailed-exitcode"]);
    assert_eq!(
        after.code, 1,
        "the denied region is still reported: {after:?}"
    );
    assert!(
        after
            .stdout
            .contains("No changes. 2 account-regions match the baseline where it could be read."),
        "{after:?}"
    );
    // The JSON plan says what kind of failure it is, not only its text.
    let json = moto.baseline(&["plan", "-f", f, "--output", "json"]);
    let json: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(json["errors"][0]["service"], "config", "{json}");
    assert_eq!(json["errors"][0]["kind"], "denied", "{json}");
}

/// Why: applying a plan made with `--accounts A` connected every account of
/// the baseline file, and was refused as stale because another account
/// could not be reached.
#[tokio::test(flavor = "multi_thread")]
async fn a_plan_of_some_accounts_connects_only_those_when_applied() {
    let moto = Moto::start_with(&["--deny-role", DENIED]);
    let dir = tempfile::tempdir().unwrap();
    let file = baseline_file(&dir, BASELINE);
    let f = file.to_str().unwrap();
    let planfile = dir.path().join("plan.json");
    let p = planfile.to_str().unwrap();
    let plan = moto.baseline(&[
        "plan",
        "-f",
        f,
        "--accounts",
        "111111111111",
        "--regions",
        "us-east-1",
        "--out",
        p,
    ]);
    assert_eq!(plan.code, 0, "{plan:?}");
    let apply = moto.baseline(&["apply", p]);
    assert_eq!(apply.code, 0, "{apply:?}");
    assert!(!apply.stderr.contains("333333333333"), "{apply:?}");
    assert!(!apply.stdout.contains("222222222222/"), "{apply:?}");
    assert!(
        !apply.stdout.contains("111111111111/ap-northeast-1"),
        "{apply:?}"
    );
}

/// `--source-identity NAME` sets who ran baseline on every AssumeRole
/// (CloudTrail keeps it through role chains); without it, none is sent;
/// a name AWS would refuse is refused before any call.
#[tokio::test(flavor = "multi_thread")]
async fn source_identity_is_set_on_assume_role_when_given() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().unwrap();
    let file = baseline_file(
        &dir,
        "version: 1\naccounts: [{id: \"111111111111\", role_arn: \"arn:aws:iam::111111111111:role/BaselineAdmin\"}]\nregions: [ap-northeast-1]\nhome_region: ap-northeast-1\nebs_encryption: {enabled: true}\n",
    );
    let f = file.to_str().unwrap();
    let plain = moto.baseline(&["plan", "-f", f]);
    assert_eq!(plain.code, 0, "{plain:?}");
    let with = moto.baseline(&["plan", "-f", f, "--source-identity", "alice@example.com"]);
    assert_eq!(with.code, 0, "{with:?}");
    assert_eq!(
        moto.stats()["source_identities"],
        serde_json::json!([null, "alice@example.com"])
    );
    let bad = moto.baseline(&["plan", "-f", f, "--source-identity", "alice smith"]);
    assert_eq!(bad.code, 1, "{bad:?}");
    assert!(bad.stderr.contains("2 to 64 characters"), "{bad:?}");
    assert_eq!(
        moto.stats()["source_identities"].as_array().unwrap().len(),
        2,
        "no call made"
    );
}

/// A saved plan in which one account could not be reached applies to the
/// others, as the plan did: apply tries the account again and finds the
/// same failure, so the plan is not stale (review of issue 38: the
/// failed account was never tried again, and its missing error read as
/// "a read that failed and now succeeds").
#[tokio::test(flavor = "multi_thread")]
async fn a_saved_plan_with_an_unreachable_account_applies_to_the_others() {
    let moto = Moto::start_with(&["--deny-role", DENIED]);
    let dir = tempfile::tempdir().unwrap();
    let file = baseline_file(&dir, BASELINE);
    let saved = dir.path().join("plan.json");
    let plan = moto.baseline(&[
        "plan",
        "-f",
        file.to_str().unwrap(),
        "--out",
        saved.to_str().unwrap(),
    ]);
    assert_eq!(plan.code, 1, "{plan:?}");
    let apply = moto.baseline(&["apply", saved.to_str().unwrap()]);
    assert_eq!(apply.code, 1, "exit 1 for the failed account: {apply:?}");
    assert!(!apply.stderr.contains("stale"), "{apply:?}");
    assert!(
        apply.stdout.contains("Apply finished with errors!"),
        "the others were applied: {apply:?}"
    );
}
