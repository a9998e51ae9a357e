//! The printed policies, proven with IAM enforced (`tests/local-aws.sh
//! --enforce-iam`, `tests/localaws/authz.py`): a user holding exactly
//! `baseline policy --for plan|apply|destroy` of the canonical baseline
//! runs that command through, and for each action of the policy, the same
//! user without that one action is refused it (AccessDenied, naming the
//! action) at the step that needs it — so no action is missing and none
//! is superfluous.
//!
//! Every action takes a fresh local AWS and a few runs: `tests/run.sh`
//! checks a seeded sample (`BASELINE_IAM_SAMPLE`, default 6, seed
//! `BASELINE_IAM_SEED`); `BASELINE_IAM_SAMPLE=all` checks every action
//! (docs/reliability.md has that run's figures), and a comma-separated
//! list of actions (`s3:ListBucket,kms:EnableKey`) checks those.

use std::collections::BTreeSet;
use std::time::Duration;

use crate::moto::{Moto, Run, baseline_file, offline};

const ACCOUNT: &str = "123456789012";

fn canonical(dir: &tempfile::TempDir) -> String {
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/tokyo.yaml"),
    )
    .unwrap();
    baseline_file(dir, &text).display().to_string()
}

/// Someone made a customer key the EBS default (the canonical baseline
/// wants AWS's own).
async fn ebs_key_drifted(moto: &Moto) {
    let sdk = moto.sdk("ap-northeast-1").await;
    let key = crate::probe::tagged_key(&aws_sdk_kms::Client::new(&sdk), "someone's EBS key").await;
    aws_sdk_ec2::Client::new(&sdk)
        .modify_ebs_default_kms_key_id()
        .kms_key_id(key)
        .send()
        .await
        .unwrap();
}

/// Someone removed one of baseline's statements from the CloudTrail key's
/// policy: apply puts it back (the key policy update path). Nothing to do
/// when there is no key.
async fn key_policy_drifted(moto: &Moto) {
    let kms = aws_sdk_kms::Client::new(&moto.sdk("ap-northeast-1").await);
    // None when the first apply (with an action removed) made no key.
    let Ok(key) = kms
        .describe_key()
        .key_id("alias/baseline-cloudtrail")
        .send()
        .await
    else {
        return;
    };
    let id = key.key_metadata().unwrap().key_id().to_string();
    let text = kms
        .get_key_policy()
        .key_id(&id)
        .policy_name("default")
        .send()
        .await
        .unwrap()
        .policy()
        .unwrap()
        .to_string();
    let mut policy: serde_json::Value = serde_json::from_str(&text).unwrap();
    let statements = policy["Statement"].as_array_mut().unwrap();
    let before = statements.len();
    statements.retain(|s| s["Sid"] != "AllowCloudTrailDescribeKey");
    assert_eq!(statements.len(), before - 1, "{text}");
    kms.put_key_policy()
        .key_id(&id)
        .policy_name("default")
        .policy(policy.to_string())
        .send()
        .await
        .unwrap();
}

/// The services delivered logs to both log buckets (the local AWS does
/// not): the teardown has objects to delete. The policies that refuse
/// plain HTTP stay lifted, so that the teardown can delete them here.
async fn logs_delivered(moto: &Moto) {
    for bucket in [
        "baseline-config-123456789012",
        "baseline-cloudtrail-123456789012",
    ] {
        crate::probe::deliver_log(moto, bucket, "AWSLogs/123456789012/log.json.gz", false).await;
    }
}

/// The canonical baseline with every setting changed: applied by an admin,
/// it leaves each resource for the canonical apply to update in place.
fn drift(file: &str) -> String {
    let text = std::fs::read_to_string(file).unwrap();
    let mut drifted = text.clone();
    for (from, to) in [
        ("recording: daily", "recording: continuous"),
        ("log_file_validation: true", "log_file_validation: false"),
        ("kms: create", "kms: none"),
        ("features: all", "features: [s3_data_events]"),
        ("name: Security Team", "name: Former Team"),
        (
            "standards: [aws-foundational-security-best-practices]",
            "standards: [cis-aws-foundations-benchmark-v1.4.0]",
        ),
        (
            "restrict_public_buckets: true",
            "restrict_public_buckets: false",
        ),
    ] {
        assert!(drifted.contains(from), "the canonical baseline has {from}");
        drifted = drifted.replace(from, to);
    }
    let path = format!("{file}.drifted.yaml");
    std::fs::write(&path, drifted).unwrap();
    path
}

pub(crate) fn policy(file: &str, command: &str) -> serde_json::Value {
    let run = offline(&["policy", "-f", file, "--for", command]);
    assert_eq!(run.code, 0, "{run:?}");
    serde_json::from_str(&run.stdout).unwrap()
}

fn actions(policy: &serde_json::Value) -> Vec<String> {
    let mut all: BTreeSet<String> = BTreeSet::new();
    for s in policy["Statement"].as_array().unwrap() {
        for a in s["Action"].as_array().unwrap() {
            all.insert(a.as_str().unwrap().to_string());
        }
    }
    all.into_iter().collect()
}

/// The policy without one action (statements left empty dropped).
fn without(policy: &serde_json::Value, action: &str) -> serde_json::Value {
    let mut p = policy.clone();
    let statements = p["Statement"].as_array_mut().unwrap();
    for s in statements.iter_mut() {
        s["Action"]
            .as_array_mut()
            .unwrap()
            .retain(|a| a.as_str() != Some(action));
    }
    statements.retain(|s| !s["Action"].as_array().unwrap().is_empty());
    p
}

/// A team's GuardDuty findings export in another region, into a bucket of
/// its own: before deleting a log bucket, destroy reads it (a findings
/// export is a user a bucket or key can have).
async fn findings_exported(moto: &Moto) {
    crate::probe::findings_export(
        moto,
        "eu-west-1",
        "arn:aws:s3:::team-findings",
        "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    )
    .await;
}

/// A user in the local IAM holding `policy`; its access key and secret.
pub(crate) async fn user(moto: &Moto, name: &str, policy: &serde_json::Value) -> (String, String) {
    let iam = aws_sdk_iam::Client::new(&moto.sdk("us-east-1").await);
    iam.create_user().user_name(name).send().await.unwrap();
    iam.put_user_policy()
        .user_name(name)
        .policy_name("baseline")
        .policy_document(policy.to_string())
        .send()
        .await
        .unwrap();
    let key = iam
        .create_access_key()
        .user_name(name)
        .send()
        .await
        .unwrap();
    let key = key.access_key().unwrap();
    (
        key.access_key_id().to_string(),
        key.secret_access_key().to_string(),
    )
}

/// What the local AWS refused so far: `action resource operation` each.
pub(crate) fn denied(moto: &Moto) -> Vec<String> {
    moto.stats()["denied"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap().to_string())
        .collect()
}

pub(crate) fn run_as(moto: &Moto, key: &(String, String), args: &[&str]) -> Run {
    moto.baseline_within(
        args,
        &[
            ("AWS_ACCESS_KEY_ID", key.0.clone()),
            ("AWS_SECRET_ACCESS_KEY", key.1.clone()),
        ],
        Duration::from_secs(120),
    )
    .0
}

/// The runs of `command` as a user holding `policy`, from the state the
/// command meets: plan a fresh account; apply a fresh account, then (after
/// an admin's destroy) apply again, recovering the scheduled key; destroy
/// what an admin applied (beside a findings export of someone else's). The
/// runs and what was refused.
async fn scenario(
    command: &str,
    file: &str,
    policy: &serde_json::Value,
) -> (Vec<Run>, Vec<String>) {
    let moto = Moto::start_with(&["--enforce-iam"]);
    // Business support: the Trusted Advisor calls are made too.
    moto.control(
        "support-plan",
        serde_json::json!({"account": ACCOUNT, "plan": "business"}),
    );
    let key = user(&moto, "baseline-ci", policy).await;
    let mut runs = Vec::new();
    let mine = |args: &[&str]| run_as(&moto, &key, args);
    let admin = |args: &[&str]| {
        let run = moto.baseline(args);
        assert_eq!(run.code, 0, "admin {args:?}: {run:?}");
    };
    match command {
        "plan" => {
            // A fresh account with a bucket of its own (whose exposure the
            // plan checks before Block Public Access turns on), then a
            // converged one (whose reads go deeper).
            crate::probe::create_bucket(&moto, "team-assets").await;
            runs.push(mine(&["plan", "-f", file, "--detailed-exitcode"]));
            admin(&["apply", "-f", file, "--auto-approve"]);
            runs.push(mine(&["plan", "-f", file, "--detailed-exitcode"]));
        }
        "apply" => {
            runs.push(mine(&["apply", "-f", file, "--auto-approve"]));
            // Every setting drifted (an admin applied another baseline,
            // made a customer key the EBS default and took a statement out
            // of the CloudTrail key's policy): the update paths.
            admin(&["apply", "-f", &drift(file), "--auto-approve"]);
            ebs_key_drifted(&moto).await;
            key_policy_drifted(&moto).await;
            runs.push(mine(&["apply", "-f", file, "--auto-approve"]));
            // Torn down (the key scheduled for deletion): the recovery paths.
            admin(&["destroy", "-f", file, "--auto-approve"]);
            runs.push(mine(&["apply", "-f", file, "--auto-approve"]));
        }
        "destroy" => {
            admin(&["apply", "-f", file, "--auto-approve"]);
            logs_delivered(&moto).await;
            findings_exported(&moto).await;
            runs.push(mine(&["destroy", "-f", file, "--auto-approve"]));
        }
        _ => unreachable!(),
    }
    let refused = denied(&moto);
    (runs, refused)
}

fn sample(all: Vec<(String, String)>) -> Vec<(String, String)> {
    let size = std::env::var("BASELINE_IAM_SAMPLE").unwrap_or_else(|_| "6".into());
    if size == "all" {
        return all;
    }
    // A list of actions: those (to re-run what failed).
    if size.contains(':') {
        let wanted: Vec<&str> = size.split(',').map(str::trim).collect();
        return all
            .into_iter()
            .filter(|(_, a)| wanted.contains(&a.as_str()))
            .collect();
    }
    let n: usize = size
        .parse()
        .expect("BASELINE_IAM_SAMPLE is a number or `all`");
    let seed: u64 = std::env::var("BASELINE_IAM_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2026);
    // A small deterministic shuffle (xorshift), so a failure can be re-run.
    let mut state = seed.max(1);
    let mut items = all;
    for i in (1..items.len()).rev() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        items.swap(i, (state % (i as u64 + 1)) as usize);
    }
    items.truncate(n);
    items
}

#[tokio::test(flavor = "multi_thread")]
async fn exactly_the_printed_policy_runs_the_cycle_and_each_action_is_needed() {
    let dir = tempfile::tempdir().unwrap();
    let file = canonical(&dir);
    let mut cases = Vec::new();
    for command in ["plan", "apply", "destroy"] {
        let p = policy(&file, command);
        let (runs, refused) = scenario(command, &file, &p).await;
        let ok = if command == "plan" { [2, 3] } else { [0, 0] };
        for run in &runs {
            assert!(
                ok.contains(&run.code),
                "{command} with exactly its policy: {run:?}"
            );
        }
        assert!(
            refused.is_empty(),
            "{command} with exactly its policy was refused {refused:?}"
        );
        for a in actions(&p) {
            cases.push((command.to_string(), a));
        }
    }
    let chosen = sample(cases);
    let started = std::time::Instant::now();
    let mut problems = Vec::new();
    for (command, action) in &chosen {
        let p = without(&policy(&file, command), action);
        let (runs, refused) = scenario(command, &file, &p).await;
        // `action resource operation` of each refusal of this action.
        let mine: Vec<&String> = refused
            .iter()
            .filter(|r| r.split(' ').next() == Some(action.as_str()))
            .collect();
        if mine.is_empty() {
            problems.push(format!(
                "`{command}` without {action} was never refused it: the action is superfluous, or the oracle (tests/localaws/authz.py) does not know the call that needs it. Refused: {refused:?}"
            ));
            continue;
        }
        let operations: Vec<&str> = mine.iter().filter_map(|r| r.split(' ').nth(2)).collect();
        // The step that needed it says so: the action or the refused call,
        // with AWS's refusal (a HEAD answer has no body: only its status).
        let said = runs.iter().any(|r| {
            let text = format!("{}{}", r.stdout, r.stderr);
            (text.contains(action.as_str()) || operations.iter().any(|o| text.contains(o)))
                && ["AccessDenied", "UnauthorizedOperation", "Forbidden", "403"]
                    .iter()
                    .any(|w| text.contains(w))
        });
        if !said {
            problems.push(format!(
                "`{command}` without {action}: refused ({operations:?}), but no run said so: {runs:?}"
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "{} of {} action(s):\n{}",
        problems.len(),
        chosen.len(),
        problems.join("\n")
    );
    eprintln!(
        "least privilege: {} action(s) removed one at a time, each refused at its step ({:.0} s)",
        chosen.len(),
        started.elapsed().as_secs_f64()
    );
}

/// Why (issue #15): AWS can take minutes before a new tag authorizes
/// anything ("ABAC for AWS KMS"). The printed policy scopes the key's
/// writes to its `managed-by` tag, so right after CreateKey,
/// EnableKeyRotation (now CreateAlias, the first write on the key that
/// the tag authorizes) was denied and a first apply failed. With tags and
/// policies taking 5 s to settle, exactly the printed policy now converges
/// a fresh account: the denial on the key this step made is waited out.
#[tokio::test(flavor = "multi_thread")]
async fn a_new_keys_tag_is_waited_for_before_it_authorizes() {
    let moto = Moto::start_with(&["--enforce-iam", "--settle-ms", "5000"]);
    let dir = tempfile::tempdir().unwrap();
    let file = baseline_file(
        &dir,
        "version: 1\naccounts: [{id: \"123456789012\"}]\nregions: [ap-northeast-1]\nhome_region: ap-northeast-1\ncloudtrail: {enabled: true, kms: create}\n",
    );
    let f = file.to_str().unwrap();
    let key = user(&moto, "baseline", &policy(f, "apply")).await;
    let apply = run_as(&moto, &key, &["apply", "-f", f, "--auto-approve"]);
    assert_eq!(apply.code, 0, "{apply:?}");
    let refused = denied(&moto);
    // The first write the tag authorizes is the alias's on the key (then
    // rotation, which needs the alias too).
    assert!(
        refused.iter().any(|d| d.starts_with("kms:CreateAlias")),
        "the new key's alias was refused before its tag settled: {refused:?}"
    );
    let plan = run_as(&moto, &key, &["plan", "-f", f, "--detailed-exitcode"]);
    assert_eq!(plan.code, 0, "{plan:?}");
}

/// Why (issue #15): with `accounts: organization` the printed policy
/// allowed `sts:AssumeRole` on the role's name in any account, and the log
/// buckets with the account left open (`baseline-config-*`): the user that
/// runs baseline could assume a role of that name outside the
/// organization, and reach another account's log bucket with its own
/// credentials. Now the role is scoped to the caller's organization
/// (`aws:ResourceOrgID` = `${aws:PrincipalOrgID}`) and each bucket to the
/// caller's own account (`${aws:PrincipalAccount}` in its name), and
/// exactly the printed policy still converges the organization.
#[tokio::test(flavor = "multi_thread")]
async fn an_organizations_policy_reaches_its_own_accounts_and_buckets_only() {
    let moto = Moto::start_with(&["--enforce-iam"]);
    let member = crate::probe::organization(&moto, &["dev"]).await.remove(0);
    let dir = tempfile::tempdir().unwrap();
    let file = baseline_file(
        &dir,
        "version: 1\naccounts: organization\norganization: {role_name: OrganizationAccountAccessRole}\nregions: [ap-northeast-1]\nhome_region: ap-northeast-1\nconfig: {enabled: true}\n",
    );
    let f = file.to_str().unwrap();
    let key = user(&moto, "baseline", &policy(f, "apply")).await;
    let apply = run_as(&moto, &key, &["apply", "-f", f, "--auto-approve"]);
    assert_eq!(apply.code, 0, "{apply:?}");
    assert_eq!(denied(&moto), Vec::<String>::new());
    let plan = run_as(&moto, &key, &["plan", "-f", f, "--detailed-exitcode"]);
    assert_eq!(plan.code, 0, "{plan:?}");

    // The same user, beyond what baseline asks: a role of that name in an
    // account outside the organization, and the member's log bucket with
    // the user's own (management account) credentials.
    let mine = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(&moto.url)
        .region(aws_config::Region::new("ap-northeast-1"))
        .credentials_provider(aws_sdk_s3::config::Credentials::new(
            &key.0, &key.1, None, None, "user",
        ))
        .load()
        .await;
    let outside = aws_sdk_sts::Client::new(&mine)
        .assume_role()
        .role_arn("arn:aws:iam::999999999999:role/OrganizationAccountAccessRole")
        .role_session_name("outside")
        .send()
        .await;
    let code = outside
        .err()
        .and_then(|e| e.into_service_error().meta().code().map(str::to_string));
    assert_eq!(code.as_deref(), Some("AccessDenied"), "{:?}", denied(&moto));
    let bucket = format!("baseline-config-{member}");
    let theirs = baseline_providers::clients::s3(&mine, "ap-northeast-1")
        .get_bucket_policy()
        .bucket(&bucket)
        .send()
        .await;
    let code = theirs
        .err()
        .and_then(|e| e.into_service_error().meta().code().map(str::to_string));
    assert_eq!(code.as_deref(), Some("AccessDenied"), "{:?}", denied(&moto));
}
