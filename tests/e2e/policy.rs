//! `baseline policy`: the IAM policy printed for each command allows every
//! AWS call that command really makes (recorded with `BASELINE_CALL_LOG`),
//! over the canonical baseline's whole cycle.

use std::collections::BTreeSet;
use std::time::Duration;

use crate::moto::{Moto, baseline_file, offline};

fn allowed(policy: &serde_json::Value) -> BTreeSet<String> {
    policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["Action"].as_array().unwrap().iter())
        .map(|a| a.as_str().unwrap().to_string())
        .collect()
}

/// Runs `args` with a call log; returns the IAM actions the calls needed.
pub(crate) fn needed(
    moto: &Moto,
    dir: &tempfile::TempDir,
    name: &str,
    args: &[&str],
) -> BTreeSet<String> {
    let log = dir.path().join(format!("{name}.calls"));
    let (run, _) = moto.baseline_within(
        args,
        &[("BASELINE_CALL_LOG", log.display().to_string())],
        Duration::from_secs(120),
    );
    assert!([0, 2, 3].contains(&run.code), "{run:?}");
    std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .filter_map(|l| l.split_once('\t'))
        .filter_map(|(s, o)| baseline_providers::policy::action_of(s, o))
        .flatten()
        .collect()
}

/// `baseline policy -f FILE --for COMMAND`.
fn printed(file: &str, command: &str) -> serde_json::Value {
    let run = offline(&["policy", "-f", file, "--for", command]);
    assert_eq!(run.code, 0, "{run:?}");
    serde_json::from_str(&run.stdout).unwrap()
}

/// Runs `args` (the `command` of baseline `file`) and checks that the
/// printed policy for it allows every call it made; those calls' actions.
pub(crate) fn allowed_calls(
    moto: &Moto,
    dir: &tempfile::TempDir,
    file: &str,
    command: &str,
    args: &[&str],
) -> BTreeSet<String> {
    let needed = needed(moto, dir, command, args);
    let allowed = allowed(&printed(file, command));
    let missing: Vec<&String> = needed.difference(&allowed).collect();
    assert!(
        missing.is_empty(),
        "`baseline policy --for {command}` lacks {missing:?} (needed: {needed:?})"
    );
    needed
}

#[test]
fn the_printed_policy_allows_every_call_of_the_cycle() {
    let moto = Moto::start();
    moto.control(
        "support-plan",
        serde_json::json!({"account": "123456789012", "plan": "business"}),
    );
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/tokyo.yaml"),
    )
    .unwrap();
    let file = baseline_file(&dir, &text);
    let f = file.to_str().unwrap();
    for (command, args) in [
        ("plan", vec!["plan", "-f", f]),
        ("apply", vec!["apply", "-f", f, "--auto-approve"]),
        ("plan", vec!["plan", "-f", f]),
        ("destroy", vec!["destroy", "-f", f, "--auto-approve"]),
    ] {
        let needed = allowed_calls(&moto, &dir, f, command, &args);
        assert!(needed.len() > 5, "calls were recorded: {needed:?}");
    }
    // A read-only drift check writes nothing.
    let plan_only = allowed(&printed(f, "plan"));
    for write in [
        "config:PutConfigurationRecorder",
        "s3:CreateBucket",
        "kms:CreateKey",
    ] {
        assert!(!plan_only.contains(write), "{write} in the plan policy");
    }
}

#[test]
fn other_accounts_roles_are_assumable_and_buckets_scoped() {
    let dir = tempfile::tempdir().unwrap();
    let file = baseline_file(
        &dir,
        "version: 1\naccounts:\n  - {id: \"111111111111\"}\n  - {id: \"222222222222\", role_arn: \"arn:aws:iam::222222222222:role/BaselineAdmin\"}\nregions: [eu-west-1]\nhome_region: eu-west-1\nconfig: {enabled: true}\n",
    );
    let run = offline(&["policy", "-f", file.to_str().unwrap(), "--for", "destroy"]);
    assert_eq!(run.code, 0, "{run:?}");
    let p: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let by_sid = |sid: &str| {
        p["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["Sid"] == sid)
            .cloned()
            .unwrap_or_else(|| panic!("no {sid}: {p}"))
    };
    assert_eq!(
        by_sid("AssumeRoles")["Resource"],
        serde_json::json!(["arn:aws:iam::222222222222:role/BaselineAdmin"])
    );
    assert_eq!(
        by_sid("LogBuckets")["Resource"],
        serde_json::json!([
            "arn:aws:s3:::baseline-config-111111111111",
            "arn:aws:s3:::baseline-config-222222222222"
        ])
    );
    assert!(
        by_sid("EmptyLogBuckets")["Action"]
            .to_string()
            .contains("s3:DeleteObjectVersion")
    );
}

/// docs/permissions.md says why each statement of every printed variant
/// is there (issue 33): each Sid is named on the page (`…Suffix` names a
/// family of statements).
#[test]
fn every_printed_statement_is_documented() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let doc = std::fs::read_to_string(root.join("docs/permissions.md")).unwrap();
    let families: Vec<&str> = doc.split('`').filter_map(|w| w.strip_prefix('…')).collect();
    for (example, kinds) in [
        ("tokyo.yaml", vec![None]),
        (
            "organization.yaml",
            vec![
                None,
                Some("management"),
                Some("administrator"),
                Some("member"),
            ],
        ),
    ] {
        let file = root.join("examples").join(example);
        for command in ["plan", "apply", "destroy"] {
            for kind in &kinds {
                let mut args = vec!["policy", "-f", file.to_str().unwrap(), "--for", command];
                if let Some(kind) = kind {
                    args.extend(["--account", kind]);
                }
                let run = offline(&args);
                assert_eq!(run.code, 0, "{run:?}");
                let policy: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
                for s in policy["Statement"].as_array().unwrap() {
                    let sid = s["Sid"].as_str().unwrap();
                    assert!(
                        doc.contains(&format!("`{sid}`"))
                            || families.iter().any(|f| sid.ends_with(f)),
                        "docs/permissions.md does not say why {sid} ({example} --for {command}) is there"
                    );
                }
            }
        }
    }
}

/// docs/permissions.md shows what `baseline policy` prints today.
#[test]
fn the_documented_policies_are_current() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let doc = std::fs::read_to_string(root.join("docs/permissions.md")).unwrap();
    let tokyo = root.join("examples/tokyo.yaml");
    for command in ["plan", "apply"] {
        let run = offline(&["policy", "-f", tokyo.to_str().unwrap(), "--for", command]);
        assert_eq!(run.code, 0, "{run:?}");
        assert!(
            doc.contains(&format!("```json\n{}```", run.stdout)),
            "docs/permissions.md is out of date for --for {command}: regenerate it (see its top)"
        );
    }
}

/// Why (issue #15): `arn:aws:` was written into every printed policy, so
/// accounts in aws-cn and aws-us-gov got a policy that matches nothing;
/// and the tagging that creating with tags needs was missing (apply with
/// exactly the printed policy would fail on AWS at the key).
#[test]
fn the_printed_policy_is_in_the_home_regions_partition_and_allows_tagging_on_create() {
    let dir = tempfile::tempdir().unwrap();
    for (region, partition) in [
        ("cn-north-1", "aws-cn"),
        ("us-gov-west-1", "aws-us-gov"),
        ("eu-west-1", "aws"),
    ] {
        let file = baseline_file(
            &dir,
            &format!(
                "version: 1\naccounts: [{{id: \"123456789012\"}}]\nregions: [{region}]\nhome_region: {region}\nconfig: {{enabled: true}}\ncloudtrail: {{enabled: true, kms: create}}\naccess_analyzer: {{enabled: true}}\n"
            ),
        );
        let run = offline(&["policy", "-f", file.to_str().unwrap(), "--for", "apply"]);
        assert_eq!(run.code, 0, "{run:?}");
        let arns: Vec<&str> = run
            .stdout
            .split('"')
            .filter(|s| s.starts_with("arn:"))
            .collect();
        assert!(!arns.is_empty());
        for arn in arns {
            assert!(
                arn.starts_with(&format!("arn:{partition}:")),
                "{region}: {arn}"
            );
        }
        let policy: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        let actions = allowed(&policy);
        for needed in ["kms:TagResource", "cloudtrail:AddTags", "s3:TagResource"] {
            assert!(actions.contains(needed), "{region}: {needed} missing");
        }
        assert!(
            run.stdout.contains("access-analyzer.amazonaws.com"),
            "the analyzer's service-linked role: {run:?}"
        );
    }
}
