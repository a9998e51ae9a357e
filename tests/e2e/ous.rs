//! Overrides and exceptions by organizational unit (issue 36): the OU tree
//! is read from the organization on every run, an override by OU path
//! holds in the accounts under it, one by region in that region, and
//! moving an account between OUs changes its plan on the next run.

use serde_json::Value;

use crate::moto::{Moto, baseline_file};

const HOME: &str = "ap-northeast-1";
const WEST: &str = "us-west-2";
const MANAGEMENT: &str = "123456789012";

/// Root/Workloads/Prod with `prod` in it and Root/Sandbox with `sandbox`;
/// the management account stays under the root. Returns (Prod's id,
/// Sandbox's id).
async fn tree(
    orgs: &aws_sdk_organizations::Client,
    prod: &[&str],
    sandbox: &[&str],
) -> (String, String) {
    let root = orgs.list_roots().send().await.unwrap().roots()[0]
        .id()
        .unwrap()
        .to_string();
    let ou = |parent: String, name: &'static str| async move {
        orgs.create_organizational_unit()
            .parent_id(parent)
            .name(name)
            .send()
            .await
            .unwrap()
            .organizational_unit()
            .unwrap()
            .id()
            .unwrap()
            .to_string()
    };
    let workloads = ou(root.clone(), "Workloads").await;
    let prod_ou = ou(workloads, "Prod").await;
    let sandbox_ou = ou(root.clone(), "Sandbox").await;
    for (accounts, to) in [(prod, &prod_ou), (sandbox, &sandbox_ou)] {
        for a in accounts {
            orgs.move_account()
                .account_id(*a)
                .source_parent_id(&root)
                .destination_parent_id(to)
                .send()
                .await
                .unwrap();
        }
    }
    (prod_ou, sandbox_ou)
}

/// The actions a JSON plan has for `kind` in `account`, by region:
/// (region, action, excepted).
fn actions(plan: &Value, account: &str, kind: &str) -> Vec<(String, String, bool)> {
    let mut out: Vec<(String, String, bool)> = plan["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["address"]["account"] == account && c["address"]["kind"] == kind)
        .map(|c| {
            (
                c["address"]["region"].as_str().unwrap().to_string(),
                c["action"].as_str().unwrap().to_string(),
                c["held"]["why"] == "excepted",
            )
        })
        .collect();
    out.sort();
    out
}

/// An organization with prod-a in Root/Workloads/Prod and a baseline of
/// `overrides` (no exceptions) in a folder of its own: (the folder, the
/// file, prod-a's id).
async fn one_prod_account(moto: &Moto, overrides: &str) -> (tempfile::TempDir, String, String) {
    let ids = crate::probe::organization(moto, &["prod-a"]).await;
    let orgs = aws_sdk_organizations::Client::new(&moto.sdk("us-east-1").await);
    tree(&orgs, &[ids[0].as_str()], &[]).await;
    let dir = tempfile::tempdir().unwrap();
    let f = baseline_file(&dir, &file(overrides, "  []\n"));
    let f = f.to_str().unwrap().to_string();
    (dir, f, ids[0].clone())
}

fn file(overrides: &str, exceptions: &str) -> String {
    format!(
        "version: 1\naccounts: organization\norganization:\n  role_name: OrganizationAccountAccessRole\nregions: [{HOME}, {WEST}]\nhome_region: {HOME}\nebs_encryption: {{enabled: false}}\noverrides:\n{overrides}exceptions:\n{exceptions}"
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn overrides_and_exceptions_follow_the_organizational_units() {
    let moto = Moto::start();
    let ids = crate::probe::organization(&moto, &["prod-a", "prod-b", "sandbox"]).await;
    let (a, b, sandbox) = (ids[0].as_str(), ids[1].as_str(), ids[2].as_str());
    let orgs = aws_sdk_organizations::Client::new(&moto.sdk("us-east-1").await);
    let (_, sandbox_ou) = tree(&orgs, &[a, b], &[sandbox]).await;

    let dir = tempfile::tempdir().unwrap();
    let text = file(
        "  - ous: [\"Workloads/Prod\"]\n    ebs_encryption: {enabled: true}\n  - regions: [us-west-2]\n    access_analyzer: {enabled: true}\n",
        &format!(
            "  - settings: [access_analyzer]\n    ous: [\"{sandbox_ou}\"]\n    reason: \"sandbox accounts are rebuilt weekly\"\n    owner: \"platform@example.com\"\n    expires: {}\n",
            crate::exceptions::day("+30 days")
        ),
    );
    let f = baseline_file(&dir, &text);
    let f = f.to_str().unwrap();
    let validate = moto.baseline(&["validate", "-f", f, "--organization"]);
    assert_eq!(validate.code, 0, "{validate:?}");

    let plan = |why: &str| {
        let run = moto.baseline(&["plan", "-f", f, "--output", "json"]);
        assert_eq!(run.code, 0, "{why}: {run:?}");
        serde_json::from_str::<Value>(&run.stdout).unwrap()
    };
    let v = plan("first plan");
    let on = |region: &str| (region.to_string(), "update".to_string(), false);
    // By OU path: the two Prod accounts, in both regions; not the
    // management account (under the root) nor the sandbox.
    for prod in [a, b] {
        assert_eq!(
            actions(&v, prod, "ebs_encryption.by_default"),
            vec![on(HOME), on(WEST)],
            "{prod} is under Workloads/Prod: {v}"
        );
    }
    for other in [MANAGEMENT, sandbox] {
        assert_eq!(
            actions(&v, other, "ebs_encryption.by_default"),
            vec![],
            "{other} is not under Workloads/Prod"
        );
    }
    // By region: an analyzer in us-west-2 only, in every account; the
    // sandbox's excepted by the exception on its OU's id.
    let create = |excepted: bool| {
        vec![(
            WEST.to_string(),
            if excepted { "no_op" } else { "create" }.to_string(),
            excepted,
        )]
    };
    for account in [MANAGEMENT, a, b] {
        assert_eq!(
            actions(&v, account, "access_analyzer.analyzer"),
            create(false),
            "{account}: {v}"
        );
    }
    assert_eq!(
        actions(&v, sandbox, "access_analyzer.analyzer"),
        create(true),
        "{v}"
    );
    let target = v["targets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["account_id"] == a)
        .unwrap();
    assert_eq!(target["ou"]["path"], "Workloads/Prod", "{target}");

    // prod-b moves to the sandbox: on the next run it is the sandbox's,
    // and a plan saved before the move is refused, saying why.
    let saved = dir.path().join("saved.json");
    let out = moto.baseline(&["plan", "-f", f, "--out", saved.to_str().unwrap()]);
    assert_eq!(out.code, 0, "{out:?}");
    let roots = orgs.list_parents().child_id(b).send().await.unwrap();
    orgs.move_account()
        .account_id(b)
        .source_parent_id(roots.parents()[0].id().unwrap())
        .destination_parent_id(&sandbox_ou)
        .send()
        .await
        .unwrap();
    let before = moto.writes(0).len();
    let stale = moto.baseline(&["apply", saved.to_str().unwrap()]);
    assert_eq!(stale.code, 1, "{stale:?}");
    assert!(
        stale.stderr.contains(&format!(
            "account {b} was in OU `Workloads/Prod` when the plan was made and is in OU `Sandbox` now"
        )),
        "{}",
        stale.stderr
    );
    assert_eq!(moto.writes(before).len(), 0, "nothing is written");
    let v = plan("after the move");
    assert_eq!(
        actions(&v, b, "ebs_encryption.by_default"),
        vec![],
        "moved out of Prod: {v}"
    );
    assert_eq!(
        actions(&v, b, "access_analyzer.analyzer"),
        create(true),
        "now under the sandbox's exception"
    );
    assert_eq!(
        actions(&v, a, "ebs_encryption.by_default"),
        vec![on(HOME), on(WEST)]
    );
}

/// An OU path the organization does not have is refused by `plan` and by
/// `validate` (which can read the organization here), naming where it is
/// written; nothing is read or written.
#[tokio::test(flavor = "multi_thread")]
async fn an_ou_that_does_not_exist_is_refused() {
    let moto = Moto::start();
    let (_dir, f, _) = one_prod_account(
        &moto,
        "  - ous: [\"Workloads/Prd\"]\n    ebs_encryption: {enabled: true}\n",
    )
    .await;
    let f = f.as_str();
    let before = moto.writes(0).len();
    for args in [
        vec!["plan", "-f", f],
        vec!["apply", "-f", f, "--auto-approve"],
        vec!["validate", "-f", f, "--organization"],
    ] {
        let run = moto.baseline(&args);
        assert_eq!(run.code, 1, "{run:?}");
        let said = format!("{}{}", run.stdout, run.stderr);
        assert!(
            said.contains("no such OU")
                && said.contains("overrides[0].ous[0]: `Workloads/Prd`")
                && said.contains("Workloads"),
            "{said}"
        );
    }
    assert_eq!(moto.writes(before).len(), 0, "nothing is written");
}

/// With IAM enforced, a user holding exactly `baseline policy --for plan`
/// of a baseline that names OUs walks the tree; without one of the walk's
/// actions, the plan is refused it and fails.
#[tokio::test(flavor = "multi_thread")]
async fn exactly_the_printed_policy_reads_the_ou_tree() {
    use crate::least_privilege::{denied, policy, run_as, user};
    let moto = Moto::start_with(&["--enforce-iam"]);
    let (_dir, f, prod) = one_prod_account(
        &moto,
        "  - ous: [\"Workloads/Prod\"]\n    ebs_encryption: {enabled: true}\n",
    )
    .await;
    let f = f.as_str();
    let printed = policy(f, "plan");
    let key = user(&moto, "baseline", &printed).await;
    let plan = run_as(&moto, &key, &["plan", "-f", f, "--output", "json"]);
    assert_eq!(plan.code, 0, "{plan:?}");
    assert_eq!(denied(&moto), Vec::<String>::new());
    let v: Value = serde_json::from_str(&plan.stdout).unwrap();
    assert_eq!(
        actions(&v, &prod, "ebs_encryption.by_default").len(),
        2,
        "{v}"
    );

    let mut less = printed.clone();
    for s in less["Statement"].as_array_mut().unwrap() {
        s["Action"]
            .as_array_mut()
            .unwrap()
            .retain(|a| a != "organizations:ListAccountsForParent");
    }
    let key = user(&moto, "less", &less).await;
    let plan = run_as(&moto, &key, &["plan", "-f", f]);
    assert_eq!(plan.code, 1, "{plan:?}");
    assert!(
        denied(&moto)
            .iter()
            .any(|d| d.starts_with("organizations:ListAccountsForParent")),
        "{:?}",
        denied(&moto)
    );
}
