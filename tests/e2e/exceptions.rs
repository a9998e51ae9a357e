//! Exceptions (issue 36): drift left as it is by decision, with an owner,
//! a reason and an end, enforced by the plan.

use crate::moto::{Moto, baseline_file};

/// The day `offset` (GNU date's words: `+30 days`, `yesterday`), UTC,
/// `YYYY-MM-DD`: what the binary compares exceptions with.
pub(crate) fn day(offset: &str) -> String {
    let out = std::process::Command::new("date")
        .args(["-u", "-d", offset, "+%F"])
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// An exception for Config in one account and region: while in force the
/// plan shows it and exits 0 (no drift), and apply writes nothing of
/// Config there; ended yesterday, the same drift is drift again (exit 2)
/// with a note that it ran out.
#[test]
fn an_exception_leaves_its_drift_until_the_day_after_it_ends() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().unwrap();
    let with_end = |end: &str| {
        baseline_file(
            &dir,
            &format!(
                "version: 1\naccounts: [{{id: \"123456789012\"}}]\nregions: [ap-northeast-1]\nhome_region: ap-northeast-1\nconfig: {{enabled: true}}\nebs_encryption: {{enabled: true}}\nexceptions:\n  - settings: [config]\n    accounts: [\"123456789012\"]\n    regions: [ap-northeast-1]\n    reason: \"legacy workload, migration ends next quarter\"\n    owner: \"security@example.com\"\n    expires: {end}\n"
            ),
        )
    };
    let file = with_end(&day("+30 days"));
    let f = file.to_str().unwrap();
    // EBS default encryption is drift the exception does not cover.
    let apply = moto.baseline(&["apply", "-f", f, "--auto-approve"]);
    assert_eq!(apply.code, 0, "{apply:?}");
    let written = moto.writes(0);
    assert!(
        written
            .iter()
            .all(|w| w.service != "config" && w.service != "s3"),
        "nothing of Config is written: {written:?}"
    );
    assert!(
        written
            .iter()
            .any(|w| w.operation == "EnableEbsEncryptionByDefault"),
        "the rest is applied: {written:?}"
    );
    let plan = moto.baseline(&["plan", "-f", f, "--detailed-exitcode"]);
    assert_eq!(plan.code, 0, "excepted drift is not drift: {plan:?}");
    assert!(
        plan.stdout
            .contains("= config.recorder[\"recorder\"] excepted")
            && plan
                .stdout
                .contains("by security@example.com: legacy workload, migration ends next quarter"),
        "{}",
        plan.stdout
    );
    let json = moto.baseline(&["plan", "-f", f, "--output", "json"]);
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(v["exceptions"][0]["state"], "in_force", "{v}");
    assert!(v["exceptions"][0]["covers"].as_u64().unwrap() >= 4, "{v}");

    // Ended yesterday: drift again, and said so.
    let file = with_end(&day("yesterday"));
    let f = file.to_str().unwrap();
    let plan = moto.baseline(&["plan", "-f", f, "--detailed-exitcode"]);
    assert_eq!(plan.code, 2, "{plan:?}");
    assert!(
        plan.stdout
            .contains("+ config.recorder[\"recorder\"] will be created")
            && plan.stdout.contains("ran out on"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stderr.contains("warning:") && plan.stderr.contains("ended on"),
        "{}",
        plan.stderr
    );
}
