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
