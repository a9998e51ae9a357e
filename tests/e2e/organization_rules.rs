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
