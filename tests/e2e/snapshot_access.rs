//! Block public access for EBS snapshots (issue 35): the account's
//! setting in each region converges, boto3 reads it as planned, `destroy`
//! leaves it (a free setting), and a region where an organization's
//! declarative policy holds it is a manual action, never written.

use crate::moto::{Moto, baseline_file};
use crate::probe::snapshot_sharing;

const ACCOUNT: &str = "123456789012";

#[test]
fn snapshot_public_access_is_blocked_in_every_region_and_left_by_destroy() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().unwrap();
    let f = baseline_file(
        &dir,
        "version: 1\naccounts: [{id: \"123456789012\"}]\nregions: [ap-northeast-1, eu-west-1]\nhome_region: ap-northeast-1\nebs_snapshot_public_access: {state: block-all-sharing}\n",
    );
    let f = f.to_str().unwrap();
    let plan = moto.baseline(&["plan", "-f", f, "--detailed-exitcode"]);
    assert_eq!(plan.code, 2, "{plan:?}");
    assert!(
        plan.stdout
            .contains("~ ebs_snapshot_public_access.state[\"account\"] will be updated in place")
            && plan
                .stdout
                .contains("~ state = \"unblocked\" -> \"block-all-sharing\""),
        "{}",
        plan.stdout
    );
    let apply = moto.baseline(&["apply", "-f", f, "--auto-approve"]);
    assert_eq!(apply.code, 0, "{apply:?}");
    for region in ["ap-northeast-1", "eu-west-1"] {
        assert_eq!(
            snapshot_sharing(&moto, region),
            ("block-all-sharing".to_string(), "account".to_string()),
            "{region}"
        );
    }
    let plan = moto.baseline(&["plan", "-f", f, "--detailed-exitcode"]);
    assert_eq!(plan.code, 0, "converged: {plan:?}");

    // A mode the region has, and a region an organization's declarative
    // policy holds: updated, and a manual action with nothing written.
    moto.control(
        "declarative-policy",
        serde_json::json!({"setting": "snapshot-block-public-access", "account": ACCOUNT, "region": "eu-west-1", "state": "unblocked"}),
    );
    let f2 = baseline_file(
        &dir,
        "version: 1\naccounts: [{id: \"123456789012\"}]\nregions: [ap-northeast-1, eu-west-1]\nhome_region: ap-northeast-1\nebs_snapshot_public_access: {state: block-new-sharing}\n",
    );
    let f2 = f2.to_str().unwrap();
    let before = moto.writes(0).len();
    let apply = moto.baseline(&["apply", "-f", f2, "--auto-approve"]);
    assert!([0, 3].contains(&apply.code), "{apply:?}");
    assert!(
        apply
            .stdout
            .contains("make this change through an AWS Organizations declarative policy"),
        "the plan names who holds it: {}",
        apply.stdout
    );
    assert!(
        apply
            .stdout
            .contains("snapshots shared publicly before the block become publicly available again"),
        "leaving block-all-sharing says what it exposes: {}",
        apply.stdout
    );
    let written = moto.writes(before);
    assert_eq!(
        written.len(),
        1,
        "only ap-northeast-1 is written: {written:?}"
    );
    assert_eq!(written[0].region, "ap-northeast-1");
    assert_eq!(
        snapshot_sharing(&moto, "ap-northeast-1").0,
        "block-new-sharing"
    );
    assert_eq!(
        snapshot_sharing(&moto, "eu-west-1"),
        ("unblocked".to_string(), "declarative-policy".to_string())
    );

    let plan = moto.baseline(&["plan", "-f", f2, "--detailed-exitcode"]);
    assert_eq!(
        plan.code, 3,
        "only the held region's manual action is left: {plan:?}"
    );

    // `unblocked` by an override for one region: Disable there, said so,
    // and the printed policy allows both Enable and Disable.
    let f3 = baseline_file(
        &dir,
        "version: 1\naccounts: [{id: \"123456789012\"}]\nregions: [ap-northeast-1, eu-west-1]\nhome_region: ap-northeast-1\nebs_snapshot_public_access: {state: block-new-sharing}\noverrides:\n  - regions: [ap-northeast-1]\n    ebs_snapshot_public_access: {state: unblocked}\n",
    );
    let f3 = f3.to_str().unwrap();
    let policy = crate::moto::offline(&["policy", "-f", f3, "--for", "apply"]);
    assert!(
        policy
            .stdout
            .contains("ec2:EnableSnapshotBlockPublicAccess")
            && policy
                .stdout
                .contains("ec2:DisableSnapshotBlockPublicAccess"),
        "{}",
        policy.stdout
    );
    let apply = moto.baseline(&["apply", "-f", f3, "--auto-approve"]);
    assert!([0, 3].contains(&apply.code), "{apply:?}");
    assert!(
        apply
            .stdout
            .contains("snapshots can be shared publicly again"),
        "{}",
        apply.stdout
    );
    assert_eq!(snapshot_sharing(&moto, "ap-northeast-1").0, "unblocked");

    // Free: destroy leaves it (and does not even read it).
    let destroy = moto.baseline(&["destroy", "-f", f3, "--auto-approve"]);
    assert_eq!(destroy.code, 0, "{destroy:?}");
    assert_eq!(snapshot_sharing(&moto, "ap-northeast-1").0, "unblocked");
}
