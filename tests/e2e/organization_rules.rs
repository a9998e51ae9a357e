//! The organization as AWS runs it (issue 32): the rules of AWS's guides
//! for delegated administration and organization-wide analyzers, which the
//! local AWS follows, met by what baseline plans and applies.

use crate::least_privilege::{denied, policy, run_as, user};
use crate::moto::{Moto, baseline_file};
use crate::probe;

/// Why (issue 32): CreateAnalyzer with the organization as the zone of
/// trust is refused until trusted access for Access Analyzer is on
/// ("Service not enabled for AWS Organizations"). Without a delegated
/// administrator baseline never turned it on, so `zone: organization`
/// failed at apply on AWS. It is planned (and shown) before the analyzers
/// now, and the next plan is clean, with exactly the printed policy.
#[tokio::test(flavor = "multi_thread")]
async fn an_organization_analyzer_without_an_administrator_gets_trusted_access_first() {
    let moto = Moto::start_with(&["--enforce-iam"]);
    probe::organization(&moto, &["security"]).await;
    let dir = tempfile::tempdir().unwrap();
    let file = baseline_file(
        &dir,
        "version: 1\naccounts: [{id: \"123456789012\"}]\nregions: [ap-northeast-1, us-east-1]\nhome_region: ap-northeast-1\naccess_analyzer: {enabled: true, zone: organization}\n",
    );
    let f = file.to_str().unwrap();
    let key = user(&moto, "baseline", &policy(f, "apply")).await;
    let plan = run_as(&moto, &key, &["plan", "-f", f]);
    assert_eq!(plan.code, 0, "{plan:?}");
    assert!(
        plan.stdout
            .contains("access_analyzer.trusted_access[\"organization\"] will be created"),
        "{}",
        plan.stdout
    );
    let apply = run_as(&moto, &key, &["apply", "-f", f, "--auto-approve"]);
    assert_eq!(apply.code, 0, "{apply:?}: {:?}", denied(&moto));
    let again = run_as(&moto, &key, &["plan", "-f", f, "--detailed-exitcode"]);
    assert_eq!(again.code, 0, "{again:?}");
    let orgs = aws_sdk_organizations::Client::new(&moto.sdk("us-east-1").await);
    let trusted = orgs
        .list_aws_service_access_for_organization()
        .send()
        .await
        .unwrap();
    assert!(
        trusted
            .enabled_service_principals()
            .iter()
            .any(|p| p.service_principal() == Some("access-analyzer.amazonaws.com"))
    );
    for region in ["ap-northeast-1", "us-east-1"] {
        let analyzers = aws_sdk_accessanalyzer::Client::new(&moto.sdk(region).await)
            .list_analyzers()
            .send()
            .await
            .unwrap();
        assert!(
            analyzers
                .analyzers()
                .iter()
                .any(|a| a.r#type().as_str() == "ORGANIZATION"),
            "{region}: {analyzers:?}"
        );
    }
}

/// Why (issue 32): AWS's Account API takes a phone number of digits,
/// spaces and `( ) + -` only (its model's pattern), and the local AWS
/// stored anything, so `+1 555 0100 ext 12` failed only on a real account,
/// at apply. validate refuses it at its line and column, and apply sends
/// nothing.
#[tokio::test(flavor = "multi_thread")]
async fn a_contact_aws_would_refuse_is_refused_before_anything_is_sent() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().unwrap();
    let file = baseline_file(
        &dir,
        "version: 1\naccounts: [{id: \"123456789012\"}]\nregions: [ap-northeast-1]\nhome_region: ap-northeast-1\nalternate_contacts:\n  security:\n    name: Security Team\n    title: CISO\n    email: security@example.com\n    phone: \"+1 555 0100 ext 12\"\n",
    );
    let f = file.to_str().unwrap();
    let validate = crate::moto::offline(&["validate", "-f", f]);
    assert_ne!(validate.code, 0, "{validate:?}");
    assert!(
        validate
            .stderr
            .contains(":10:12: alternate_contacts.security.phone"),
        "{}",
        validate.stderr
    );
    let before = moto.writes(0).len();
    let apply = moto.baseline(&["apply", "-f", f, "--auto-approve"]);
    assert_ne!(apply.code, 0, "{apply:?}");
    assert!(apply.stderr.contains("phone"), "{}", apply.stderr);
    assert_eq!(moto.writes(before).len(), 0, "nothing is written");
}

/// `examples/organization.yaml` for the accounts of a local organization:
/// `security` its administrator, `prod` its override, `audit` excluded,
/// in two regions.
fn example_for(ids: &[String]) -> String {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/organization.yaml"
    ))
    .unwrap();
    text.replace("222222222222", &ids[0])
        .replace("333333333333", &ids[1])
        .replace("111111111111", &ids[2])
        .replace("regions: all", "regions: [ap-northeast-1, us-east-1]")
}

/// A local organization (`security` the administrator, `prod`, `audit`)
/// and `examples/organization.yaml` written for it: the local AWS, the
/// accounts, the folder and the file.
async fn example_organization() -> (Moto, Vec<String>, tempfile::TempDir, std::path::PathBuf) {
    example_organization_on(Moto::start()).await
}

/// The same on a given local AWS.
async fn example_organization_on(
    moto: Moto,
) -> (Moto, Vec<String>, tempfile::TempDir, std::path::PathBuf) {
    let ids = probe::organization(&moto, &["security", "prod", "audit"]).await;
    let dir = tempfile::tempdir().unwrap();
    let file = baseline_file(&dir, &example_for(&ids));
    (moto, ids, dir, file)
}

/// The same, applied (converged).
async fn converged_example() -> (Moto, Vec<String>, tempfile::TempDir, std::path::PathBuf) {
    let (moto, ids, dir, file) = example_organization().await;
    let apply = moto.baseline(&["apply", "-f", file.to_str().unwrap(), "--auto-approve"]);
    assert_eq!(apply.code, 0, "{apply:?}");
    (moto, ids, dir, file)
}

/// The account's Security Hub administrator in `region`, if any.
async fn securityhub_administrator(moto: &Moto, account: &str, region: &str) -> Option<String> {
    aws_sdk_securityhub::Client::new(&probe::as_account(moto, account, region).await)
        .get_administrator_account()
        .send()
        .await
        .unwrap()
        .administrator()
        .and_then(|a| a.account_id())
        .map(str::to_string)
}

/// Why (issue 32): designating the delegated administrator turns GuardDuty
/// and Security Hub on there (their guides say so; the local AWS does it
/// now). baseline planned CreateDetector and EnableSecurityHub for the
/// administrator, which AWS refuses once designation has made them, and
/// every later step of the administrator was skipped. Now the
/// administrator's detector and hub come after the designation and are
/// taken (and marked), never made twice; the next plan is clean.
#[tokio::test(flavor = "multi_thread")]
async fn the_example_organization_converges_when_designation_enables_the_administrator() {
    let (moto, ids, _dir, file) = example_organization().await;
    let f = file.to_str().unwrap();
    let plan = moto.baseline(&["plan", "-f", f]);
    for what in ["The GuardDuty detector", "The Security Hub hub"] {
        assert!(
            plan.stdout.contains(&format!(
                "{what} of delegated administrator {} in ap-northeast-1: its designation enables it",
                ids[0]
            )),
            "the plan says so: {}",
            plan.stdout
        );
    }
    let before = moto.writes(0).len();
    let apply = moto.baseline(&["apply", "-f", f, "--auto-approve"]);
    assert_eq!(apply.code, 0, "{apply:?}");
    let made_twice: Vec<String> = moto
        .writes(before)
        .iter()
        .filter(|w| w.account == ids[0])
        .filter(|w| ["EnableSecurityHub", "CreateDetector"].contains(&w.operation.as_str()))
        .map(|w| format!("{} {} {}", w.region, w.operation, w.status))
        .collect();
    assert!(
        made_twice.is_empty(),
        "the administrator's hub and detector are its designation's: {made_twice:?}"
    );
    let again = moto.baseline(&["plan", "-f", f, "--detailed-exitcode"]);
    assert_eq!(again.code, 0, "{again:?}");
    for region in ["ap-northeast-1", "us-east-1"] {
        let sdk = probe::as_account(&moto, &ids[0], region).await;
        let hub = aws_sdk_securityhub::Client::new(&sdk)
            .describe_hub()
            .send()
            .await
            .unwrap();
        let tags = aws_sdk_securityhub::Client::new(&sdk)
            .list_tags_for_resource()
            .resource_arn(hub.hub_arn().unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(
            tags.tags()
                .and_then(|t| t.get("managed-by"))
                .map(String::as_str),
            Some("baseline"),
            "{region}: the designation's hub is marked as the baseline's"
        );
        let gd = aws_sdk_guardduty::Client::new(&sdk);
        let detectors = gd.list_detectors().send().await.unwrap();
        assert_eq!(detectors.detector_ids().len(), 1, "{region}: one detector");
        let arn = format!(
            "arn:aws:guardduty:{region}:{}:detector/{}",
            ids[0],
            detectors.detector_ids()[0]
        );
        let tags = gd
            .list_tags_for_resource()
            .resource_arn(arn)
            .send()
            .await
            .unwrap();
        assert_eq!(
            tags.tags()
                .and_then(|t| t.get("managed-by"))
                .map(String::as_str),
            Some("baseline"),
            "{region}: the designation's detector is marked as the baseline's"
        );
    }
}

/// Why (issue 32): for a while after designation AWS refuses the new
/// administrator's organization calls (GuardDuty "you do not have required
/// AWS Organization master permission", Security Hub "is not an
/// administrator for this organization"; the local AWS for `--settle-ms`).
/// baseline sent them at once and failed every administrator step on a
/// first run. Now they wait out the delegation within `--settle-timeout`;
/// with none, the error says what it waited for.
#[tokio::test(flavor = "multi_thread")]
async fn the_administrators_first_calls_wait_out_the_delegation() {
    let settling = || Moto::start_with(&["--settle-ms", "10000"]);
    let (moto, ids, _dir, file) = example_organization_on(settling()).await;
    // The organization's analyzer too, held by the administrator.
    let text = example_for(&ids) + "access_analyzer: {enabled: true, zone: organization}\n";
    std::fs::write(&file, text).unwrap();
    let f = file.to_str().unwrap();
    let apply = moto.baseline(&["apply", "-v", "-f", f, "--auto-approve"]);
    assert_eq!(apply.code, 0, "{apply:?}");
    // Each of these steps follows its registration directly (ten seconds
    // leave a wide margin); Security Hub's administrator steps come after
    // its hub, aggregator and the management account's hub, and may
    // start when the delegation already holds.
    for service in ["guardduty", "config", "access_analyzer"] {
        assert!(
            apply.stderr.contains(&format!(
                "account {} to be {service}'s delegated administrator in ap-northeast-1",
                ids[0]
            )),
            "it waited for {service}'s delegation: {}",
            apply.stderr
        );
    }
    let again = moto.baseline(&["plan", "-f", f, "--detailed-exitcode"]);
    assert_eq!(again.code, 0, "{again:?}");

    let (moto, ids, _dir, file) = example_organization_on(settling()).await;
    let f = file.to_str().unwrap();
    let hurried = moto.baseline(&["apply", "-f", f, "--auto-approve", "--settle-timeout", "0"]);
    assert_eq!(hurried.code, 1, "{hurried:?}");
    assert!(
        hurried
            .stderr
            .contains(&format!("failed in account {}", ids[0]))
            && hurried.stderr.contains(
                "the account's designation as delegated administrator may not be in effect yet"
            ),
        "{}",
        hurried.stderr
    );
}

/// Why (issue 32): Security Hub cannot be enabled automatically for the
/// organization's management account, and GuardDuty needs its
/// service-linked role there first (the local AWS refuses it as a member
/// until then, as AWS does). baseline planned only a membership for it, so
/// the members step failed in every region on every run. Its own detector
/// and hub now come first, in every region, and it is covered there.
#[tokio::test(flavor = "multi_thread")]
async fn the_management_account_is_covered_in_every_region() {
    let (moto, ids, _dir, file) = converged_example().await;
    let f = file.to_str().unwrap();
    let management = "123456789012";
    for region in ["ap-northeast-1", "us-east-1"] {
        assert_eq!(
            probe::guardduty_of(&moto, management, region).await,
            (true, Some(ids[0].clone())),
            "{region}: GuardDuty"
        );
        assert_eq!(
            securityhub_administrator(&moto, management, region).await,
            Some(ids[0].clone()),
            "{region}: Security Hub"
        );
    }
    let again = moto.baseline(&["plan", "-f", f, "--detailed-exitcode"]);
    assert_eq!(again.code, 0, "{again:?}");
}

/// A region removed must not remove the organization (LZA issue 1129:
/// excluding one region removed the Security Hub administrator in every
/// region and dropped all members). baseline never deregisters an
/// administrator nor removes members: with a region taken out of a
/// converged organization baseline, the plan unlinks that region from
/// Security Hub's central configuration and changes nothing else, and the
/// administrator and every member stay, in that region too. (Today's code
/// already holds to it; this test keeps it so.)
#[tokio::test(flavor = "multi_thread")]
async fn removing_a_region_leaves_the_organization_in_the_others() {
    let (moto, ids, dir, _both) = converged_example().await;
    let one = dir.path().join("one-region.yaml");
    std::fs::write(
        &one,
        example_for(&ids).replace(
            "regions: [ap-northeast-1, us-east-1]",
            "regions: [ap-northeast-1]",
        ),
    )
    .unwrap();
    let one = one.to_str().unwrap();
    // What the plan changes is shown; it only unlinks the region from
    // Security Hub's central configuration (the aggregator's regions), and
    // deletes, deregisters or turns off nothing.
    let plan = moto.baseline(&["plan", "-f", one, "--output", "json"]);
    assert_eq!(plan.code, 0, "{plan:?}");
    let v: serde_json::Value = serde_json::from_str(&plan.stdout).unwrap();
    let changed: Vec<String> = v["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| !["no-op", "read"].contains(&c["action"].as_str().unwrap_or("")))
        .map(|c| {
            format!(
                "{} {}",
                c["action"].as_str().unwrap(),
                c["address"]["kind"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        changed,
        vec!["update securityhub.aggregator".to_string()],
        "only the aggregator's linked regions change"
    );
    let apply = moto.baseline(&["apply", "-f", one, "--auto-approve"]);
    assert_eq!(apply.code, 0, "{apply:?}");
    for region in ["ap-northeast-1", "us-east-1"] {
        for member in ["123456789012", ids[1].as_str()] {
            assert_eq!(
                probe::guardduty_of(&moto, member, region).await,
                (true, Some(ids[0].clone())),
                "{region}: {member} is still GuardDuty's member"
            );
            assert_eq!(
                securityhub_administrator(&moto, member, region).await,
                Some(ids[0].clone()),
                "{region}: {member} is still Security Hub's member"
            );
        }
    }
}

/// Why (issue 32): GuardDuty gives a member the organization's auto-enable
/// settings, not every protection plan (with `auto_enable: false`, none),
/// and baseline never read a member's plans: the plan said "covered"
/// while members lacked S3, EKS, EBS, RDS, Lambda and runtime protection.
/// Each member's plans are read and shown now, and turned on from the
/// administrator (UpdateMemberDetectors); the next plan is clean.
#[tokio::test(flavor = "multi_thread")]
async fn members_get_the_baselines_protection_plans_without_auto_enable() {
    let moto = Moto::start();
    let ids = probe::organization(&moto, &["security", "dev"]).await;
    let dir = tempfile::tempdir().unwrap();
    let file = baseline_file(
        &dir,
        &format!(
            "version: 1\naccounts: organization\norganization:\n  role_name: OrganizationAccountAccessRole\n  delegated_admin: \"{}\"\n  auto_enable: false\nregions: [ap-northeast-1]\nhome_region: ap-northeast-1\nguardduty: {{enabled: true, features: all}}\n",
            ids[0]
        ),
    );
    let f = file.to_str().unwrap();
    let plan = moto.baseline(&["plan", "-f", f]);
    assert_eq!(plan.code, 0, "{plan:?}");
    assert!(
        plan.stdout
            .contains("guardduty.member_plans[\"organization\"]"),
        "{}",
        plan.stdout
    );
    let apply = moto.baseline(&["apply", "-f", f, "--auto-approve"]);
    assert_eq!(apply.code, 0, "{apply:?}");
    let again = moto.baseline(&["plan", "-f", f, "--detailed-exitcode"]);
    assert_eq!(again.code, 0, "{again:?}");
    let dev =
        aws_sdk_guardduty::Client::new(&probe::as_account(&moto, &ids[1], "ap-northeast-1").await);
    let detector = dev.list_detectors().send().await.unwrap().detector_ids()[0].clone();
    let features = dev
        .get_detector()
        .detector_id(detector)
        .send()
        .await
        .unwrap();
    let on: Vec<&str> = features
        .features()
        .iter()
        .filter(|f| f.status().map(|s| s.as_str()) == Some("ENABLED"))
        .filter_map(|f| f.name().map(|n| n.as_str()))
        .collect();
    for plan in [
        "S3_DATA_EVENTS",
        "EKS_AUDIT_LOGS",
        "EBS_MALWARE_PROTECTION",
        "RDS_LOGIN_EVENTS",
    ] {
        assert!(on.contains(&plan), "{plan} is on in the member: {on:?}");
    }

    // A new account joins: the administrator (designated long ago) adds
    // it as a member, then turns its plans on. The plans step expects
    // unchanged only the members the plan read, not the one the members
    // step of the same apply adds (issue 34's review: it was stale).
    let new = probe::organization_join(&moto, "data").await;
    let apply = moto.baseline(&["apply", "-f", f, "--auto-approve"]);
    assert_eq!(apply.code, 0, "{apply:?}");
    let again = moto.baseline(&["plan", "-f", f, "--detailed-exitcode"]);
    assert_eq!(again.code, 0, "{again:?}");
    let joined =
        aws_sdk_guardduty::Client::new(&probe::as_account(&moto, &new, "ap-northeast-1").await);
    let detector = joined.list_detectors().send().await.unwrap().detector_ids()[0].clone();
    let features = joined
        .get_detector()
        .detector_id(detector)
        .send()
        .await
        .unwrap();
    assert!(
        features
            .features()
            .iter()
            .any(|f| f.name().map(|n| n.as_str()) == Some("S3_DATA_EVENTS")
                && f.status().map(|s| s.as_str()) == Some("ENABLED")),
        "the new member's plans are on: {features:?}"
    );
}

/// Why (issue 32): UpdateOrganizationConfiguration named every protection
/// plan in every region, and a region that does not offer one refuses the
/// whole configuration (as it refuses such a detector). The plans a region
/// lacks are left out there now, with a note, never drift.
#[test]
fn an_organization_plan_a_region_lacks_is_a_note_not_drift() {
    let moto = Moto::start();
    moto.control(
        "unoffered",
        serde_json::json!({"service": "guardduty", "region": "ap-northeast-3", "names": ["RUNTIME_MONITORING"]}),
    );
    let ids = tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(probe::organization(&moto, &["security", "dev"]));
    let dir = tempfile::tempdir().unwrap();
    let file = baseline_file(
        &dir,
        &format!(
            "version: 1\naccounts: organization\norganization:\n  role_name: OrganizationAccountAccessRole\n  delegated_admin: \"{}\"\nregions: [ap-northeast-1, ap-northeast-3]\nhome_region: ap-northeast-1\nguardduty: {{enabled: true, features: all}}\n",
            ids[0]
        ),
    );
    let f = file.to_str().unwrap();
    let apply = moto.baseline(&["apply", "-f", f, "--auto-approve"]);
    assert_eq!(apply.code, 0, "{apply:?}");
    let plan = moto.baseline(&["plan", "-f", f, "--detailed-exitcode"]);
    assert_eq!(plan.code, 0, "{plan:?}");
    assert!(
        plan.stdout
            .contains("GuardDuty does not offer RUNTIME_MONITORING in ap-northeast-3: left out of the organization configuration there (not drift)"),
        "{}",
        plan.stdout
    );
}

/// `destroy` in organization mode lists what it leaves (issue 32): it never
/// deregisters the administrator, removes members or turns the
/// organization configuration off, and its plan says so; a saved destroy
/// plan with that note applies as any other.
#[tokio::test(flavor = "multi_thread")]
async fn destroy_in_organization_mode_says_what_it_leaves() {
    let (moto, ids, dir, file) = converged_example().await;
    let f = file.to_str().unwrap();
    let saved = dir.path().join("destroy.json");
    let saved = saved.to_str().unwrap();
    let plan = moto.baseline(&["destroy", "-f", f, "--out", saved]);
    assert!(
        plan.stdout
            .contains("organization mode: destroy leaves, in every region, GuardDuty")
            && plan
                .stdout
                .contains(&format!("with delegated administrator {}", ids[0])),
        "{plan:?}"
    );
    let apply = moto.baseline(&["apply", saved]);
    assert_eq!(apply.code, 0, "{apply:?}");
    for region in ["ap-northeast-1", "us-east-1"] {
        assert_eq!(
            probe::guardduty_of(&moto, &ids[1], region).await,
            (true, Some(ids[0].clone())),
            "{region}: the member stays covered"
        );
    }
}

/// Changing `exclude` shows what it leaves (issue 32's guard): an account
/// newly excluded stays a member (baseline never removes one), and the
/// plan names it in a note instead of silently dropping it.
#[tokio::test(flavor = "multi_thread")]
async fn excluding_an_account_names_it_and_removes_nothing() {
    let (moto, ids, dir, _file) = converged_example().await;
    let excluded = dir.path().join("excluded.yaml");
    std::fs::write(
        &excluded,
        example_for(&ids).replace(
            &format!("exclude: [\"{}\"]", ids[2]),
            &format!("exclude: [\"{}\", \"{}\"]", ids[2], ids[1]),
        ),
    )
    .unwrap();
    let f = excluded.to_str().unwrap();
    let plan = moto.baseline(&["plan", "-f", f, "--output", "json"]);
    assert_eq!(plan.code, 0, "{plan:?}");
    let v: serde_json::Value = serde_json::from_str(&plan.stdout).unwrap();
    let deletes: Vec<&serde_json::Value> = v["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["action"] == "delete")
        .collect();
    assert!(deletes.is_empty(), "{deletes:?}");
    let notes = v["notes"].to_string();
    assert!(
        notes.contains(&ids[1]) && notes.contains("left as they are"),
        "the plan names the account it no longer covers: {notes}"
    );
    let apply = moto.baseline(&["apply", "-f", f, "--auto-approve"]);
    assert_eq!(apply.code, 0, "{apply:?}");
    assert_eq!(
        probe::guardduty_of(&moto, &ids[1], "ap-northeast-1").await,
        (true, Some(ids[0].clone())),
        "the excluded account is still a member"
    );
}
