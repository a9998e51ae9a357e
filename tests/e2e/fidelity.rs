//! AWS's rules that the local AWS enforces beyond moto (docs/fidelity.md),
//! and the product surviving them.

use crate::moto::{Moto, baseline_file};

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
