//! AWS's rules that the local AWS enforces beyond moto (docs/fidelity.md),
//! and the product surviving them.

use crate::moto::{Moto, baseline_file};
use crate::probe;

/// Why (issue #15): S3 answers 409 OperationAborted to overlapping changes
/// of one bucket's configuration, and baseline sent Block Public Access,
/// encryption and policy at once. With each change holding its bucket for
/// 400 ms, the log buckets are still made and converge: one call at a time.
#[test]
fn log_buckets_are_configured_one_call_at_a_time() {
    let moto = Moto::start_with(&["--s3-conflict-ms", "400"]);
    let dir = tempfile::tempdir().unwrap();
    let file = baseline_file(
        &dir,
        "version: 1\naccounts: [{id: \"123456789012\"}]\nregions: [ap-northeast-1]\nhome_region: ap-northeast-1\nconfig: {enabled: true}\ncloudtrail: {enabled: true}\n",
    );
    let f = file.to_str().unwrap();
    let apply = moto.baseline(&["apply", "-f", f, "--auto-approve"]);
    assert_eq!(apply.code, 0, "{apply:?}");
    assert!(!apply.stderr.contains("OperationAborted"), "{apply:?}");
    let plan = moto.baseline(&["plan", "-f", f, "--detailed-exitcode"]);
    assert_eq!(plan.code, 0, "{plan:?}");
}

/// Why (issue #15): regions AWS introduced after March 2019 are disabled
/// until an account enables them, and every call there is refused ("The
/// security token included in the request is invalid"). A listed one was
/// planned like any other: one such error per service, saying nothing of
/// the cause. Now it is reported once, with what to do; the other regions
/// are planned; enabled, it is planned too.
#[test]
fn a_listed_opt_in_region_not_enabled_is_reported_once_and_the_rest_planned() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().unwrap();
    let file = baseline_file(
        &dir,
        "version: 1\naccounts: [{id: \"123456789012\"}]\nregions: [ap-northeast-1, ap-east-1]\nhome_region: ap-northeast-1\nebs_encryption: {enabled: true}\nguardduty: {enabled: true}\n",
    );
    let f = file.to_str().unwrap();
    let plan = moto.baseline(&["plan", "-f", f, "--output", "json"]);
    assert_eq!(plan.code, 1, "{plan:?}");
    let v: serde_json::Value = serde_json::from_str(&plan.stdout).unwrap();
    let errors = v["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0]["region"], "ap-east-1");
    assert_eq!(errors[0]["kind"], "refused");
    assert!(
        errors[0]["message"]
            .as_str()
            .unwrap()
            .contains("ap-east-1 is an opt-in region that account 123456789012 has not enabled"),
        "{errors:?}"
    );
    let regions = |v: &serde_json::Value| -> std::collections::BTreeSet<String> {
        crate::moto::looked_at(v)
            .iter()
            .map(|c| c["address"]["region"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        regions(&v),
        std::collections::BTreeSet::from(["ap-northeast-1".to_string()])
    );

    moto.control(
        "enable-region",
        serde_json::json!({"account": "123456789012", "region": "ap-east-1"}),
    );
    let plan = moto.baseline(&["plan", "-f", f, "--output", "json"]);
    assert_eq!(plan.code, 0, "{plan:?}");
    let v: serde_json::Value = serde_json::from_str(&plan.stdout).unwrap();
    assert!(regions(&v).contains("ap-east-1"), "{v}");
}

/// Why (issue #15): CloudTrail and Config check, when they take a trail or
/// a delivery channel, that the bucket's policy (and the trail key's)
/// lets them deliver, and a policy just written takes a while to be in
/// effect; so does a new KMS alias before it names its key, and a new
/// role before AWS Config can assume it. baseline writes the policies, the
/// key's alias and Config's service-linked role and at once makes the
/// trail (naming the key found through the alias), the recorder and the
/// channel, which AWS refuses until they settle: apply failed there. With
/// writes taking 10 s to settle (long beside the moment between a write
/// and the call that needs it, even on a loaded machine), apply now tries
/// those calls again and converges; told not to wait
/// (`--settle-timeout 0`), it fails them with kind `settling`, saying what
/// to check.
#[tokio::test(flavor = "multi_thread")]
async fn the_trail_and_the_channel_wait_for_their_policies_to_take_effect() {
    let dir = tempfile::tempdir().unwrap();
    let head = "version: 1\naccounts: [{id: \"123456789012\"}]\nregions: [ap-northeast-1]\nhome_region: ap-northeast-1\n";
    let file = |name: &str, body: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, format!("{head}{body}")).unwrap();
        path.to_str().unwrap().to_string()
    };
    let converged = |moto: &Moto, f: &str| {
        let plan = moto.baseline(&["plan", "-f", f, "--detailed-exitcode"]);
        assert_eq!(plan.code, 0, "{plan:?}");
    };
    // The bucket policies (Config's role made long ago): the trail and the
    // channel are refused, then tried again.
    let policies = file(
        "policies.yaml",
        "config: {enabled: true}\ncloudtrail: {enabled: true, kms: none}\n",
    );
    let moto = Moto::start_with(&["--settle-ms", "10000"]);
    probe::settled_config_role(&moto).await;
    let apply = moto.baseline(&["apply", "-f", &policies, "--auto-approve"]);
    assert_eq!(apply.code, 0, "{apply:?}");
    let calls = moto.stats()["by_operation"].clone();
    for op in ["cloudtrail CreateTrail", "config PutDeliveryChannel"] {
        assert!(
            calls[op].as_u64().unwrap_or(0) >= 2,
            "{op} was refused first and tried again: {calls}"
        );
    }
    converged(&moto, &policies);

    // Config's new role and the key's new alias: the recorder is refused,
    // then tried again; the trail is given the new key's ARN by the key's
    // step (never the alias, which KMS may not resolve yet), and waits
    // for its bucket's policy.
    let both = file(
        "both.yaml",
        "config: {enabled: true}\ncloudtrail: {enabled: true, kms: create}\n",
    );
    let moto = Moto::start_with(&["--settle-ms", "10000"]);
    let apply = moto.baseline(&["apply", "-f", &both, "--auto-approve"]);
    assert_eq!(apply.code, 0, "{apply:?}");
    let calls = moto.stats()["by_operation"].clone();
    let op = "config PutConfigurationRecorder";
    assert!(
        calls[op].as_u64().unwrap_or(0) >= 2,
        "{op} was refused first and tried again: {calls}"
    );
    converged(&moto, &both);

    let moto = Moto::start_with(&["--settle-ms", "10000"]);
    let apply = moto.baseline(&[
        "apply",
        "-f",
        &both,
        "--auto-approve",
        "--settle-timeout",
        "0",
    ]);
    assert_eq!(apply.code, 1, "{apply:?}");
    for (address, code) in [
        ("cloudtrail.trail", "InsufficientS3BucketPolicyException"),
        ("config.recorder", "InvalidRoleException"),
    ] {
        let line = apply
            .stderr
            .lines()
            .find(|l| l.contains(address) && l.contains(code))
            .unwrap_or_else(|| panic!("no {code} for {address}: {apply:?}"));
        assert!(line.contains("(settling)"), "{line}");
        assert!(line.contains("--settle-timeout"), "{line}");
    }
}

/// Why (issue #15): S3 answers 409 `OperationAborted` to a change of a
/// bucket's configuration while another is being applied, someone else's
/// included (a landing-zone pipeline tagging it, an admin editing it).
/// baseline's step failed on the first 409. With the CloudTrail bucket
/// busy for 8 s from the start of apply (longer than planning takes on a
/// loaded machine, so the first write meets it), apply now tries again and
/// converges.
#[test]
fn a_bucket_busy_with_another_change_is_configured_once_it_is_free() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().unwrap();
    let file = baseline_file(
        &dir,
        "version: 1\naccounts: [{id: \"123456789012\"}]\nregions: [ap-northeast-1]\nhome_region: ap-northeast-1\ncloudtrail: {enabled: true}\n",
    );
    let f = file.to_str().unwrap();
    let bucket = "baseline-cloudtrail-123456789012";
    moto.control(
        "s3-busy",
        serde_json::json!({"account": "123456789012", "bucket": bucket, "ms": 8000}),
    );
    let before = moto.writes(0).len();
    let apply = moto.baseline(&["apply", "-f", f, "--auto-approve"]);
    assert_eq!(apply.code, 0, "{apply:?}");
    let writes = moto.writes(before);
    let on_bucket: Vec<_> = writes
        .iter()
        .filter(|w| w.labels.get("Bucket").and_then(|b| b.as_str()) == Some(bucket))
        .collect();
    let refused = on_bucket.iter().position(|w| w.status == 409);
    let refused = refused.unwrap_or_else(|| panic!("the busy bucket answered 409: {on_bucket:?}"));
    let op = &on_bucket[refused].operation;
    assert!(
        on_bucket[refused..]
            .iter()
            .any(|w| &w.operation == op && w.status == 200),
        "{op} was tried again and went through: {on_bucket:?}"
    );
    let plan = moto.baseline(&["plan", "-f", f, "--detailed-exitcode"]);
    assert_eq!(plan.code, 0, "{plan:?}");
}

/// Why (issue #15): not every region offers every GuardDuty protection
/// plan. baseline created the detector naming every plan, which such a
/// region refuses, and read a plan the detector does not list as
/// disabled: drift forever. Now the detector is created, then set to the
/// plans the region offers; the one it lacks is unavailable there, said
/// in a note, and the next plan is clean.
#[test]
fn a_guardduty_plan_a_region_lacks_is_unavailable_there_not_drift() {
    let moto = Moto::start();
    moto.control(
        "unoffered",
        serde_json::json!({"service": "guardduty", "region": "ap-northeast-3", "names": ["RUNTIME_MONITORING"]}),
    );
    let dir = tempfile::tempdir().unwrap();
    let file = baseline_file(
        &dir,
        "version: 1\naccounts: [{id: \"123456789012\"}]\nregions: [ap-northeast-1, ap-northeast-3]\nhome_region: ap-northeast-1\nguardduty: {enabled: true, features: all}\n",
    );
    let f = file.to_str().unwrap();
    let apply = moto.baseline(&["apply", "-f", f, "--auto-approve"]);
    assert_eq!(apply.code, 0, "{apply:?}");
    let plan = moto.baseline(&["plan", "-f", f, "--detailed-exitcode"]);
    assert_eq!(plan.code, 0, "{plan:?}");
    assert!(
        plan.stdout
            .contains("GuardDuty does not offer RUNTIME_MONITORING in ap-northeast-3"),
        "{plan:?}"
    );
    assert!(!plan.stdout.contains("in ap-northeast-1:"), "{plan:?}");
    // Each new detector was set to the plans its region offers: Runtime
    // Monitoring named only where it is offered.
    let updates: Vec<_> = moto
        .writes(0)
        .into_iter()
        .filter(|w| w.operation == "UpdateDetector" && w.status == 200)
        .collect();
    assert_eq!(updates.len(), 2, "{updates:?}");
    for w in updates {
        let names = w.payload["features"].to_string();
        assert_eq!(
            names.contains("RUNTIME_MONITORING"),
            w.region == "ap-northeast-1",
            "{w:?}"
        );
    }
}

/// Why (issue #15): not every region offers every Security Hub standard.
/// baseline enabled the listed standards everywhere by their ARN and read
/// a standard it could not enable as missing: that region failed on every
/// apply. Now each region's offer is read with DescribeStandards: a new
/// hub's step changes no standard and names the one the region lacks
/// (what the plan shows, or nothing); from then on that standard is left
/// out there, with a note, and the next apply converges.
#[test]
fn a_security_hub_standard_a_region_lacks_is_named_once_then_left_out() {
    let moto = Moto::start();
    moto.control(
        "unoffered",
        serde_json::json!({"service": "securityhub", "region": "ap-northeast-3", "names": ["nist-800-53/v/5.0.0"]}),
    );
    let dir = tempfile::tempdir().unwrap();
    let file = baseline_file(
        &dir,
        "version: 1\naccounts: [{id: \"123456789012\"}]\nregions: [ap-northeast-1, ap-northeast-3]\nhome_region: ap-northeast-1\nconfig: {enabled: true}\nsecurityhub: {enabled: true, standards: [aws-foundational-security-best-practices, nist-800-53-v5.0.0]}\n",
    );
    let f = file.to_str().unwrap();
    let apply = moto.baseline(&["apply", "-f", f, "--auto-approve"]);
    assert_eq!(apply.code, 1, "{apply:?}");
    let failed: Vec<&str> = apply
        .stderr
        .lines()
        .filter(|l| l.starts_with("Error:"))
        .collect();
    assert_eq!(failed.len(), 1, "{apply:?}");
    assert!(
        failed[0].contains("ap-northeast-3/securityhub.standards")
            && failed[0].contains("(invalid)")
            && failed[0].contains("does not offer nist-800-53-v5.0.0 in ap-northeast-3"),
        "{failed:?}"
    );
    let plan = moto.baseline(&["plan", "-f", f, "--output", "json"]);
    assert_eq!(plan.code, 0, "{plan:?}");
    let v: serde_json::Value = serde_json::from_str(&plan.stdout).unwrap();
    let changes: Vec<&serde_json::Value> = v["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["action"] != "no_op")
        .collect();
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert_eq!(changes[0]["address"]["region"], "ap-northeast-3");
    assert_eq!(
        changes[0]["after"]["enabled"],
        serde_json::json!(["aws-foundational-security-best-practices"])
    );
    let apply = moto.baseline(&["apply", "-f", f, "--auto-approve"]);
    assert_eq!(apply.code, 0, "{apply:?}");
    let plan = moto.baseline(&["plan", "-f", f, "--detailed-exitcode"]);
    assert_eq!(plan.code, 0, "{plan:?}");
    assert!(
        plan.stdout.contains(
            "Security Hub does not offer nist-800-53-v5.0.0 in ap-northeast-3 (DescribeStandards)"
        ),
        "{plan:?}"
    );
}

/// Why (issue #15): an account in AWS China (or GovCloud) has its own
/// partition: every ARN is `arn:aws-cn:…`, and the Support API does not
/// serve Trusted Advisor there. The local AWS answered `arn:aws` for its
/// additions (and kept a new bucket's tags in the `aws` partition), so
/// nothing showed what baseline writes there. Now a baseline homed in
/// cn-north-1 converges, every ARN of its plan is in `aws-cn`, and Trusted
/// Advisor is a note, not a call that cannot work.
#[test]
fn an_account_in_aws_china_converges_with_its_partitions_arns() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().unwrap();
    let file = baseline_file(
        &dir,
        "version: 1\naccounts: [{id: \"123456789012\"}]\nregions: [cn-north-1]\nhome_region: cn-north-1\nconfig: {enabled: true}\ncloudtrail: {enabled: true, kms: create}\nguardduty: {enabled: true}\nsecurityhub: {enabled: true, standards: [aws-foundational-security-best-practices]}\ntrusted_advisor: {report: true}\n",
    );
    let f = file.to_str().unwrap();
    // What apply writes (policies, the trail's key and topic) names aws-cn.
    let first = moto.baseline(&["plan", "-f", f, "--output", "json"]);
    assert_eq!(first.code, 0, "{first:?}");
    let first: serde_json::Value = serde_json::from_str(&first.stdout).unwrap();
    let text = first["changes"].to_string();
    assert!(text.contains("arn:aws-cn:"), "{text}");
    assert!(!text.contains("arn:aws:"), "an ARN outside aws-cn: {text}");
    let apply = moto.baseline(&["apply", "-f", f, "--auto-approve"]);
    assert_eq!(apply.code, 0, "{apply:?}");
    // What is read back compares equal to it: converged.
    let plan = moto.baseline(&["plan", "-f", f, "--output", "json"]);
    assert_eq!(plan.code, 0, "{plan:?}");
    let v: serde_json::Value = serde_json::from_str(&plan.stdout).unwrap();
    let changed: Vec<&serde_json::Value> = v["changes"]
        .as_array()
        .map(|a| a.iter().filter(|c| c["action"] != "no_op").collect())
        .unwrap_or_default();
    assert!(changed.is_empty(), "converged: {changed:?}");
    assert!(v["summary"]["in_line"].as_u64().unwrap() > 5, "{v}");
    assert!(
        v.to_string()
            .contains("Trusted Advisor: its checks are not offered through the Support API in partition aws-cn"),
        "{v}"
    );
    assert!(
        moto.stats()["by_operation"]
            .as_object()
            .unwrap()
            .keys()
            .all(|op| !op.starts_with("support ")),
        "no Support API call"
    );
}

/// Why (issue #15): Security Hub refuses a change of standards while a
/// subscription is PENDING, which lasts minutes after a standard is
/// enabled ("StandardsSubscription(s) in state PENDING, please try
/// later"). A hub where someone had just enabled a standard failed
/// baseline's standards step. With subscriptions pending for 10 s, apply
/// now waits until none is, then disables what `exclusive_standards`
/// removes and enables what the baseline lists.
#[tokio::test(flavor = "multi_thread")]
async fn standards_change_once_no_subscription_is_pending() {
    let moto = Moto::start_with(&["--settle-ms", "10000"]);
    let hub = aws_sdk_securityhub::Client::new(&moto.sdk("ap-northeast-1").await);
    hub.enable_security_hub()
        .enable_default_standards(false)
        .send()
        .await
        .unwrap();
    hub.batch_enable_standards()
        .standards_subscription_requests(
            aws_sdk_securityhub::types::StandardsSubscriptionRequest::builder()
                .standards_arn("arn:aws:securityhub:ap-northeast-1::standards/pci-dss/v/3.2.1")
                .build(),
        )
        .send()
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = baseline_file(
        &dir,
        "version: 1\naccounts: [{id: \"123456789012\"}]\nregions: [ap-northeast-1]\nhome_region: ap-northeast-1\nconfig: {enabled: true}\nsecurityhub: {enabled: true, standards: [aws-foundational-security-best-practices], exclusive_standards: true}\n",
    );
    let f = file.to_str().unwrap();
    let only = ["--only", "securityhub"];
    let apply = moto.baseline(&[&["apply", "-f", f, "--auto-approve"][..], &only].concat());
    assert_eq!(apply.code, 0, "{apply:?}");
    let plan = moto.baseline(&[&["plan", "-f", f, "--detailed-exitcode"][..], &only].concat());
    assert_eq!(plan.code, 0, "{plan:?}");
}
