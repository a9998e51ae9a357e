//! Saved plans: applied exactly, and refused when AWS changed since.

use crate::cycle::BASELINE;
use crate::moto::{Moto, baseline_file};
use crate::probe::{bpa_flags, hub_enabled, put_bpa, recorders, seed_half_open_bpa};

/// Someone changes a setting between `plan --out` and `apply PLANFILE`:
/// the apply is refused and nothing at all is changed.
#[tokio::test(flavor = "multi_thread")]
async fn stale_plan_is_refused_and_changes_nothing() {
    let moto = Moto::start();
    seed_half_open_bpa(&moto).await;
    let dir = tempfile::tempdir().unwrap();
    let file = baseline_file(&dir, BASELINE);
    let planfile = dir.path().join("plan.json");
    let plan = moto.baseline(&[
        "plan",
        "-f",
        file.to_str().unwrap(),
        "--out",
        planfile.to_str().unwrap(),
    ]);
    assert_eq!(plan.code, 0, "{plan:?}");

    // The drift moves under the plan: a third flag is turned on by hand.
    put_bpa(&moto, [true, true, true, false]).await;

    let apply = moto.baseline(&["apply", planfile.to_str().unwrap()]);
    assert_eq!(apply.code, 1, "{apply:?}");
    assert!(apply.stderr.contains("plan is stale"), "{apply:?}");
    assert!(
        apply
            .stderr
            .contains("s3_public_access_block.account[\"account\"]: changed outside this plan"),
        "{apply:?}"
    );
    assert!(
        recorders(&moto, "ap-northeast-1").await.is_empty(),
        "no recorder was created"
    );
    assert!(
        !hub_enabled(&moto, "ap-northeast-1").await,
        "the hub was not enabled"
    );
    assert_eq!(
        bpa_flags(&moto).await,
        [true, true, true, false],
        "the hand-made change stands"
    );
}

/// A fresh saved plan applies without asking (the plan was the review),
/// and `show` renders it like `plan` did.
#[tokio::test(flavor = "multi_thread")]
async fn saved_plan_applies_exactly() {
    let moto = Moto::start();
    seed_half_open_bpa(&moto).await;
    let dir = tempfile::tempdir().unwrap();
    let file = baseline_file(&dir, BASELINE);
    let f = file.to_str().unwrap();
    let planfile = dir.path().join("plan.json");
    let p = planfile.to_str().unwrap();
    let plan = moto.baseline(&["plan", "-f", f, "--out", p]);
    assert_eq!(plan.code, 0, "{plan:?}");

    let show = moto.baseline(&["show", p]);
    assert_eq!(show.code, 0, "{show:?}");
    assert!(
        plan.stdout.starts_with(&show.stdout),
        "show renders the saved plan as plan did:\n{show:?}"
    );

    let json = moto.baseline(&["show", p, "--output", "json"]);
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(v["format_version"], "10");
    assert_eq!(v["summary"]["add"], 10);
    assert_eq!(v["summary"]["change"], 1);

    let apply = moto.baseline(&["apply", p]);
    assert_eq!(apply.code, 0, "{apply:?}");
    assert!(
        apply
            .stdout
            .contains("Apply complete! Resources: 10 added, 1 changed, 0 destroyed."),
        "{apply:?}"
    );
    let again = moto.baseline(&["plan", "-f", f, "--detailed-exitcode"]);
    assert_eq!(again.code, 0, "{again:?}");

    // The same plan file again is now stale: everything it saw has changed.
    let twice = moto.baseline(&["apply", p]);
    assert_eq!(twice.code, 1, "{twice:?}");
    assert!(twice.stderr.contains("plan is stale"), "{twice:?}");
}

/// Why: an edited plan file re-planned from its own (edited) baseline and
/// always looked fresh. Now the plan carries the digest of its baseline
/// file, and its embedded baseline must be that file's.
#[tokio::test(flavor = "multi_thread")]
async fn an_edited_plan_file_is_refused_and_changes_nothing() {
    let moto = Moto::start();
    seed_half_open_bpa(&moto).await;
    let dir = tempfile::tempdir().unwrap();
    let file = baseline_file(&dir, BASELINE);
    let f = file.to_str().unwrap();
    let planfile = dir.path().join("plan.json");
    let p = planfile.to_str().unwrap();
    let plan = moto.baseline(&["plan", "-f", f, "--out", p]);
    assert_eq!(plan.code, 0, "{plan:?}");

    // Someone edits the plan: Security Hub out of the embedded baseline and
    // out of the changes, so that a re-plan of the edited baseline agrees.
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&planfile).unwrap()).unwrap();
    v["baseline"].as_object_mut().unwrap().remove("securityhub");
    v["changes"].as_array_mut().unwrap().retain(|c| {
        !c["address"]["kind"]
            .as_str()
            .unwrap()
            .starts_with("securityhub")
    });
    std::fs::write(&planfile, v.to_string()).unwrap();
    let apply = moto.baseline(&["apply", p]);
    assert_eq!(apply.code, 1, "{apply:?}");
    assert!(apply.stderr.contains("was edited"), "{apply:?}");
    assert!(recorders(&moto, "ap-northeast-1").await.is_empty());

    // The baseline file changes after the plan: refused too.
    let plan = moto.baseline(&["plan", "-f", f, "--out", p]);
    assert_eq!(plan.code, 0, "{plan:?}");
    std::fs::write(&file, format!("{BASELINE}# a comment changes the file\n")).unwrap();
    let apply = moto.baseline(&["apply", p]);
    assert_eq!(apply.code, 1, "{apply:?}");
    assert!(
        apply
            .stderr
            .contains("is not the baseline file this plan was made from"),
        "{apply:?}"
    );
    // Neither is a plan applied without its baseline file.
    std::fs::remove_file(&file).unwrap();
    let apply = moto.baseline(&["apply", p]);
    assert_eq!(apply.code, 1, "{apply:?}");
    assert!(apply.stderr.contains("pass it with -f"), "{apply:?}");
    assert!(recorders(&moto, "ap-northeast-1").await.is_empty());
    assert!(!hub_enabled(&moto, "ap-northeast-1").await);
}

/// Why: plans hold contacts, role ARNs and users without MFA, and were
/// written 0644, in place, following a symlink at the path.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread")]
async fn a_saved_plan_is_private_and_never_written_through_a_symlink() {
    use std::os::unix::fs::PermissionsExt;
    let moto = Moto::start();
    let dir = tempfile::tempdir().unwrap();
    let file = baseline_file(&dir, BASELINE);
    let victim = dir.path().join("victim.txt");
    std::fs::write(&victim, "keep me").unwrap();
    let planfile = dir.path().join("plan.json");
    std::os::unix::fs::symlink(&victim, &planfile).unwrap();
    let plan = moto.baseline(&[
        "plan",
        "-f",
        file.to_str().unwrap(),
        "--out",
        planfile.to_str().unwrap(),
    ]);
    assert_eq!(plan.code, 0, "{plan:?}");
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep me");
    let meta = std::fs::symlink_metadata(&planfile).unwrap();
    assert!(meta.file_type().is_file(), "the symlink was replaced");
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
}

/// Why (issue #16): the stale check compared what was observed and what
/// would be written, not which attributes apply writes nor what it waits
/// for: a plan edited only by appending `managed_by` to an update's
/// `changed` was applied, and tagged a detector that is not baseline's as
/// baseline's (the next `destroy` would delete it). Such a plan is refused,
/// and nothing is changed: every field of a change is compared with a
/// fresh plan's.
#[tokio::test(flavor = "multi_thread")]
async fn a_plan_edited_in_what_apply_acts_on_is_refused() {
    let moto = Moto::start();
    let sdk = moto.sdk("ap-northeast-1").await;
    let gd = aws_sdk_guardduty::Client::new(&sdk);
    let detector = gd
        .create_detector()
        .enable(true)
        .tags("owner", "someone")
        .send()
        .await
        .unwrap()
        .detector_id()
        .unwrap()
        .to_string();
    let dir = tempfile::tempdir().unwrap();
    let file = baseline_file(
        &dir,
        "version: 1\naccounts: [{id: \"123456789012\"}]\nregions: [ap-northeast-1]\nhome_region: ap-northeast-1\nguardduty: {enabled: true, features: all}\nebs_encryption: {enabled: true}\n",
    );
    let planfile = dir.path().join("plan.json");
    let p = planfile.to_str().unwrap();
    let plan = moto.baseline(&["plan", "-f", file.to_str().unwrap(), "--out", p]);
    assert_eq!(plan.code, 0, "{plan:?}");
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&planfile).unwrap()).unwrap();
    let edit = |f: &dyn Fn(&mut serde_json::Value)| {
        let mut v = saved.clone();
        for c in v["changes"].as_array_mut().unwrap() {
            f(c);
        }
        let edited = dir.path().join("edited.json");
        std::fs::write(&edited, v.to_string()).unwrap();
        moto.baseline(&["apply", edited.to_str().unwrap()])
    };
    // Adoption slipped into `changed`.
    let adopted = edit(&|c| {
        if c["address"]["kind"] == "guardduty.detector" {
            c["changed"]
                .as_array_mut()
                .unwrap()
                .push("managed_by".into());
        }
    });
    assert_eq!(adopted.code, 1, "{adopted:?}");
    assert!(
        adopted.stderr.contains("plan is stale")
            && adopted.stderr.contains(
                "guardduty.detector[\"detector\"]: the saved plan differs from a fresh one in `changed`"
            ),
        "{adopted:?}"
    );
    // An order edited.
    let reordered = edit(&|c| {
        if c["address"]["kind"] == "ebs_encryption.by_default" {
            c["depends_on"] = serde_json::json!([{"account": "123456789012", "region": "ap-northeast-1", "kind": "guardduty.detector", "name": "detector"}]);
        }
    });
    assert_eq!(reordered.code, 1, "{reordered:?}");
    assert!(
        reordered
            .stderr
            .contains("differs from a fresh one in `depends_on`"),
        "{reordered:?}"
    );
    // The identities and settings apply uses besides `after`.
    let private = edit(&|c| {
        if c["address"]["kind"] == "guardduty.detector" {
            c["private"] = serde_json::json!({"detector_id": "someone-elses"});
        }
    });
    assert_eq!(private.code, 1, "{private:?}");
    assert!(
        private
            .stderr
            .contains("differs from a fresh one in `private`"),
        "{private:?}"
    );
    let tags = gd
        .list_tags_for_resource()
        .resource_arn(format!(
            "arn:aws:guardduty:ap-northeast-1:123456789012:detector/{detector}"
        ))
        .send()
        .await
        .unwrap();
    assert!(
        !tags.tags().is_some_and(|t| t.contains_key("managed-by")),
        "someone's detector was marked as baseline's: {tags:?}"
    );
    // The plan as made still applies.
    let apply = moto.baseline(&["apply", p]);
    assert_eq!(apply.code, 0, "{apply:?}");
}

/// Why (issue 38): the stale check matched changes by address and never
/// asked whether the saved plan was the baseline's in everything else. A
/// copy of a change appended to `changes` ran twice (two KMS keys marked
/// as baseline's, one the next plan never showed); a plan whose
/// `baseline`/`source` were spliced from a plan of fewer regions wrote in
/// a region the baseline does not list; `notes`, `summary` and an
/// account's name could be edited and misled whoever read `show`. Each is
/// refused now, and nothing is changed.
#[tokio::test(flavor = "multi_thread")]
async fn a_saved_plan_is_the_baselines_in_every_field() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().unwrap();
    let text = |regions: &str| {
        format!(
            "version: 1\naccounts: [{{id: \"123456789012\", name: sandbox}}]\nregions: [{regions}]\nhome_region: ap-northeast-1\nguardduty: {{enabled: true, features: all}}\nebs_encryption: {{enabled: true}}\n"
        )
    };
    let two = dir.path().join("two.yaml");
    std::fs::write(&two, text("ap-northeast-1, us-east-1")).unwrap();
    let one = baseline_file(&dir, &text("ap-northeast-1"));
    let plan_of = |file: &std::path::Path, name: &str| -> serde_json::Value {
        let out = dir.path().join(name);
        let plan = moto.baseline(&[
            "plan",
            "-f",
            file.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ]);
        assert_eq!(plan.code, 0, "{plan:?}");
        serde_json::from_str(&std::fs::read_to_string(out).unwrap()).unwrap()
    };
    let wide = plan_of(&two, "wide.json");
    let narrow = plan_of(&one, "narrow.json");
    let apply = |v: &serde_json::Value| {
        let edited = dir.path().join("edited.json");
        std::fs::write(&edited, serde_json::to_string_pretty(v).unwrap()).unwrap();
        moto.baseline(&[
            "apply",
            edited.to_str().unwrap(),
            "-f",
            one.to_str().unwrap(),
        ])
    };
    let refused = |what: &str, run: crate::moto::Run, says: &str| {
        assert_eq!(run.code, 1, "{what}: {run:?}");
        assert!(run.stderr.contains(says), "{what}: {}", run.stderr);
    };

    // A region spliced in: the wide plan with the narrow plan's baseline.
    let mut spliced = wide.clone();
    spliced["baseline"] = narrow["baseline"].clone();
    spliced["source"] = narrow["source"].clone();
    refused(
        "spliced",
        apply(&spliced),
        "123456789012/us-east-1: not an account and region the baseline covers (and reaches) now",
    );
    // A change listed twice.
    let mut twice = narrow.clone();
    let detector = twice["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["address"]["kind"] == "guardduty.detector")
        .unwrap()
        .clone();
    twice["changes"].as_array_mut().unwrap().push(detector);
    let mut summary = twice["summary"].clone();
    summary["add"] = (summary["add"].as_u64().unwrap() + 1).into();
    twice["summary"] = summary;
    refused(
        "twice",
        apply(&twice),
        "guardduty.detector[\"detector\"]: listed more than once in the saved plan",
    );
    // What a reviewer reads: the notes, the summary, an account's name.
    let mut noted = narrow.clone();
    noted["notes"] =
        serde_json::json!(["123456789012/ap-northeast-1: reviewed and approved by security"]);
    refused(
        "notes",
        apply(&noted),
        "the saved plan differs from a fresh one in `notes`",
    );
    let mut summed = narrow.clone();
    summed["summary"]["add"] = 0.into();
    refused(
        "summary",
        apply(&summed),
        "`summary` is not what baseline writes",
    );
    let show = {
        let edited = dir.path().join("edited.json");
        moto.baseline(&["show", edited.to_str().unwrap()])
    };
    refused("show", show, "`summary` is not what baseline writes");
    let mut named = narrow.clone();
    named["targets"][0]["account_name"] = "production".into();
    refused(
        "account name",
        apply(&named),
        "the saved plan differs from a fresh one in `targets`",
    );

    // Nothing was written anywhere; the plan as saved still applies.
    let sdk = moto.sdk("us-east-1").await;
    let detectors = aws_sdk_guardduty::Client::new(&sdk)
        .list_detectors()
        .send()
        .await
        .unwrap();
    assert!(detectors.detector_ids().is_empty(), "nothing in us-east-1");
    let sdk = moto.sdk("ap-northeast-1").await;
    let detectors = aws_sdk_guardduty::Client::new(&sdk)
        .list_detectors()
        .send()
        .await
        .unwrap();
    assert!(
        detectors.detector_ids().is_empty(),
        "nothing in ap-northeast-1"
    );
    let as_saved = apply(&narrow);
    assert_eq!(as_saved.code, 0, "{as_saved:?}");
}

/// Why (issue 34): Security Hub's aggregator and configuration policy
/// chose create or update from a fresh list at apply, so a create that
/// found one made meanwhile silently updated it; others overwrote what
/// they had not read. Each change now declares what apply must find, and
/// the executor reads the resource afresh before writing. Here an
/// interactive apply of the canonical baseline shows its plan (every
/// setting created) and waits at its prompt; meanwhile another apply
/// makes everything. After "yes", every create finds its resource made
/// since the plan: each fails as stale (or is skipped behind one that
/// did), and the first apply writes nothing at all.
#[tokio::test(flavor = "multi_thread")]
async fn a_create_that_finds_its_resource_made_meanwhile_is_stale_and_writes_nothing() {
    let moto = Moto::start();
    let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/tokyo.yaml");
    let f = file.to_str().unwrap();
    let (child, out, shown) = crate::moto::at_prompt(&moto, &format!("apply -f {f}"));
    // Every kind the plan creates, by its short address.
    let created: Vec<String> = shown
        .lines()
        .filter_map(|l| {
            let (address, _) = l
                .trim()
                .strip_prefix("+ ")?
                .split_once(" will be created")?;
            Some(address.to_string())
        })
        .collect();
    let kinds: std::collections::BTreeSet<&str> =
        created.iter().filter_map(|a| a.split('[').next()).collect();
    for kind in [
        "cloudtrail.bucket",
        "cloudtrail.kms_key",
        "cloudtrail.trail",
        "config.bucket",
        "config.recorder",
        "config.delivery_channel",
        "guardduty.detector",
        "securityhub.hub",
        "access_analyzer.analyzer",
        "iam.password_policy",
        "alternate_contacts.contact",
    ] {
        assert!(kinds.contains(kind), "the plan creates {kind}: {shown}");
    }

    // A plan saved now, of the same creates.
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("plan.json");
    let plan = moto.baseline(&["plan", "-f", f, "--out", saved.to_str().unwrap()]);
    assert_eq!(plan.code, 0, "{plan:?}");

    // Meanwhile, another apply makes everything.
    let other = moto.baseline(&["apply", "-f", f, "--auto-approve"]);
    assert_eq!(other.code, 0, "{other:?}");
    let since = moto.writes(0).len();

    let (code, rest) = crate::moto::answer(child, out, "yes");
    assert_eq!(code, Some(1), "{rest}");
    let written = moto.writes(since);
    assert!(
        written.is_empty(),
        "the first apply wrote nothing: {written:?}\n{rest}"
    );
    // Each create failed as stale, or was skipped behind one that did.
    let mut stale = 0;
    for address in &created {
        let line = rest
            .lines()
            .find(|l| {
                (l.starts_with("Error: ") || l.starts_with("Skipped: "))
                    && l.contains(&format!("/{address}"))
            })
            .unwrap_or_else(|| panic!("{address} did not fail nor was skipped:\n{rest}"));
        if line.starts_with("Error: ") {
            assert!(
                line.contains("(stale)") && line.contains("it exists now"),
                "{line}"
            );
            stale += 1;
        } else {
            assert!(line.contains("did not complete"), "{line}");
        }
    }
    assert!(stale >= 8, "most creates were checked themselves: {rest}");

    // The saved plan's creates are refused too, before any step, and
    // nothing is written.
    let since = moto.writes(0).len();
    let apply = moto.baseline(&["apply", saved.to_str().unwrap()]);
    assert_eq!(apply.code, 1, "{apply:?}");
    assert!(apply.stderr.contains("plan is stale"), "{apply:?}");
    assert!(moto.writes(since).is_empty(), "{apply:?}");
}
