//! The account's instance metadata (IMDS) defaults (issue 35): the fields
//! given converge in every region (an override by region too), boto3 reads
//! them as planned, the fields left out are left as they are, `destroy`
//! leaves them (a free setting), and a region whose defaults an
//! organization's declarative policy holds is a manual action.

use serde_json::json;

use crate::moto::{Moto, baseline_file};
use crate::probe::metadata_defaults;

const ACCOUNT: &str = "123456789012";

#[test]
fn imds_defaults_converge_per_region_and_are_left_by_destroy() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().unwrap();
    let f = baseline_file(
        &dir,
        "version: 1\naccounts: [{id: \"123456789012\"}]\nregions: [ap-northeast-1, eu-west-1]\nhome_region: ap-northeast-1\ninstance_metadata_defaults: {http_tokens: required, http_put_response_hop_limit: 2}\noverrides:\n  - regions: [eu-west-1]\n    instance_metadata_defaults: {http_put_response_hop_limit: 1}\n",
    );
    let f = f.to_str().unwrap();
    let plan = moto.baseline(&["plan", "-f", f, "--detailed-exitcode"]);
    assert_eq!(plan.code, 2, "{plan:?}");
    assert!(
        plan.stdout
            .contains("~ instance_metadata_defaults.account[\"account\"] will be updated in place")
            && plan.stdout.contains("\"no-preference\" -> \"required\""),
        "{}",
        plan.stdout
    );
    let apply = moto.baseline(&["apply", "-f", f, "--auto-approve"]);
    assert_eq!(apply.code, 0, "{apply:?}");
    let tokyo = metadata_defaults(&moto, "ap-northeast-1");
    assert_eq!(tokyo["HttpTokens"], "required", "{tokyo}");
    assert_eq!(tokyo["HttpPutResponseHopLimit"], 2, "{tokyo}");
    assert!(
        tokyo.get("HttpEndpoint").is_none(),
        "a field not given is not set: {tokyo}"
    );
    let ireland = metadata_defaults(&moto, "eu-west-1");
    assert_eq!(
        (&ireland["HttpTokens"], &ireland["HttpPutResponseHopLimit"]),
        (&json!("required"), &json!(1)),
        "the override by region: {ireland}"
    );
    let plan = moto.baseline(&["plan", "-f", f, "--detailed-exitcode"]);
    assert_eq!(plan.code, 0, "converged: {plan:?}");

    // A region an organization's declarative policy holds: a manual
    // action there, nothing written there.
    moto.control(
        "declarative-policy",
        json!({"setting": "instance-metadata-defaults", "account": ACCOUNT, "region": "eu-west-1", "values": {"httpTokens": "optional"}}),
    );
    let before = moto.writes(0).len();
    let apply = moto.baseline(&["apply", "-f", f, "--auto-approve"]);
    assert!([0, 3].contains(&apply.code), "{apply:?}");
    assert!(
        apply.stdout.contains("declarative policy"),
        "{}",
        apply.stdout
    );
    assert_eq!(moto.writes(before).len(), 0, "nothing is written");

    let destroy = moto.baseline(&["destroy", "-f", f, "--auto-approve"]);
    assert_eq!(destroy.code, 0, "{destroy:?}");
    assert_eq!(
        metadata_defaults(&moto, "ap-northeast-1")["HttpTokens"],
        "required"
    );
}
