//! `--shard K/N`: the accounts split over jobs, and `show` puts the shard
//! plans back together as one.

use std::collections::BTreeSet;
use std::time::Duration;

use crate::moto::{Moto, baseline_file};

fn baseline() -> String {
    let mut s = String::from("version: 1\naccounts:\n");
    for i in 1..=6 {
        let id = format!("{i}{i}{i}{i}{i}{i}{i}{i}{i}{i}{i}{i}");
        s.push_str(&format!(
            "  - {{id: \"{id}\", role_arn: \"arn:aws:iam::{id}:role/BaselineAdmin\"}}\n"
        ));
    }
    s.push_str("regions: [us-east-1]\nhome_region: us-east-1\nguardduty: {enabled: true}\nebs_encryption: {enabled: true}\n");
    s
}

fn changes(plan: &serde_json::Value) -> BTreeSet<String> {
    crate::moto::looked_at(plan)
        .iter()
        .map(|c| format!("{} {} {}", c["address"], c["action"], c["count"]))
        .collect()
}

fn accounts(plan: &serde_json::Value) -> BTreeSet<String> {
    plan["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["account_id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn shard_plans_are_disjoint_and_together_the_whole_plan() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().unwrap();
    let file = baseline_file(&dir, &baseline());
    let f = file.to_str().unwrap();
    let whole = moto.baseline(&["plan", "-f", f, "--output", "json"]);
    assert_eq!(whole.code, 0, "{whole:?}");
    let whole: serde_json::Value = serde_json::from_str(&whole.stdout).unwrap();

    let mut files = Vec::new();
    let mut union = BTreeSet::new();
    let mut seen = BTreeSet::new();
    for k in 1..=3 {
        let out = dir.path().join(format!("shard-{k}.json"));
        let spec = format!("{k}/3");
        let run = moto.baseline(&[
            "plan",
            "-f",
            f,
            "--shard",
            &spec,
            "--out",
            out.to_str().unwrap(),
            "-q",
        ]);
        assert_eq!(run.code, 0, "{run:?}");
        let plan: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
        let mine = accounts(&plan);
        assert!(seen.is_disjoint(&mine), "shard {k} overlaps: {mine:?}");
        seen.extend(mine);
        union.extend(changes(&plan));
        files.push(out);
    }
    assert_eq!(seen, accounts(&whole), "every account in exactly one shard");
    assert_eq!(
        union,
        changes(&whole),
        "the shards together are the whole plan"
    );

    // A Kubernetes Indexed Job's index 1 is shard 2.
    let (indexed, _) = moto.baseline_within(
        &["plan", "-f", f, "--shard", "index/3", "--output", "json"],
        &[("JOB_COMPLETION_INDEX", "1".into())],
        Duration::from_secs(180),
    );
    let indexed: serde_json::Value = serde_json::from_str(&indexed.stdout).unwrap();
    let second: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&files[1]).unwrap()).unwrap();
    assert_eq!(accounts(&indexed), accounts(&second));

    // `show` renders the shards as one plan.
    let paths: Vec<&str> = files.iter().map(|p| p.to_str().unwrap()).collect();
    let shown = moto.baseline(&[&["show", "--output", "json"][..], &paths].concat());
    assert_eq!(shown.code, 0, "{shown:?}");
    let merged: serde_json::Value = serde_json::from_str(&shown.stdout).unwrap();
    assert_eq!(merged["summary"], whole["summary"]);
    assert_eq!(changes(&merged), changes(&whole));

    // Plans of different baselines are not parts of one plan.
    let other = dir.path().join("other.yaml");
    std::fs::write(
        &other,
        baseline().replace("guardduty: {enabled: true}\n", ""),
    )
    .unwrap();
    let other_plan = dir.path().join("other.json");
    let run = moto.baseline(&[
        "plan",
        "-f",
        other.to_str().unwrap(),
        "--shard",
        "1/3",
        "--out",
        other_plan.to_str().unwrap(),
        "-q",
    ]);
    assert_eq!(run.code, 0, "{run:?}");
    let refused = moto.baseline(&["show", paths[1], other_plan.to_str().unwrap()]);
    assert_eq!(refused.code, 1, "{refused:?}");
    assert!(
        refused.stderr.contains("different baselines"),
        "{refused:?}"
    );
    let bad = moto.baseline(&["plan", "-f", f, "--shard", "4/3"]);
    assert_eq!(bad.code, 1);
    assert!(bad.stderr.contains("1 <= K <= N"), "{bad:?}");
}
