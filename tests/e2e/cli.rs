//! The command line: offline commands, bad input, confirmation, exit codes.

use crate::cycle::BASELINE;
use crate::moto::{Moto, baseline_file, offline};
use crate::probe::{hub_enabled, recorders};

fn root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn validate_accepts_the_canonical_baseline_offline() {
    let path = root().join("examples/tokyo.yaml");
    let run = offline(&["validate", "-f", path.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout
            .contains("is valid: 1 account, regions ap-northeast-1"),
        "{run:?}"
    );
}

#[test]
fn validate_reports_every_error_with_its_place_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let file = baseline_file(
        &dir,
        "version: 1\naccounts: [{id: \"123\"}]\nregions: [ap-northeast-1]\nhome_region: ap-northeast-1\ncloudtrial: {enabled: true}\n",
    );
    let run = offline(&["validate", "-f", file.to_str().unwrap()]);
    assert_eq!(run.code, 1, "{run:?}");
    let shown = file.display().to_string();
    assert!(
        run.stderr.contains(&format!(
            "{shown}:5:1: cloudtrial: unknown key `cloudtrial` (did you mean `cloudtrail`?)"
        )),
        "{run:?}"
    );
    assert!(run.stdout.is_empty(), "{run:?}");
}

#[test]
fn missing_file_is_a_clear_error() {
    let run = offline(&["validate", "-f", "/nonexistent/baseline.yaml"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr
            .contains("cannot read /nonexistent/baseline.yaml"),
        "{run:?}"
    );
    assert!(run.stderr.contains("caused by: No such file"), "{run:?}");
}

#[test]
fn schema_command_prints_the_committed_schema() {
    let run = offline(&["schema"]);
    assert_eq!(run.code, 0);
    let committed = std::fs::read_to_string(root().join("schema/baseline.schema.json")).unwrap();
    assert!(
        run.stdout == committed,
        "`baseline schema` differs from schema/baseline.schema.json: run `BLESS=1 cargo test -p baseline-spec`"
    );
}

#[test]
fn a_plan_file_of_another_format_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("plan.json");
    std::fs::write(&p, r#"{"format_version": "0"}"#).unwrap();
    let run = offline(&["apply", p.to_str().unwrap()]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("plan format version \"0\""), "{run:?}");
}

/// Without a terminal and without --auto-approve, apply and destroy refuse
/// and change nothing.
#[tokio::test(flavor = "multi_thread")]
async fn apply_and_destroy_without_a_terminal_need_auto_approve() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().unwrap();
    let file = baseline_file(&dir, BASELINE);
    let f = file.to_str().unwrap();
    let run = moto.baseline(&["apply", "-f", f]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr
            .contains("refusing to apply without confirmation: standard input is not a terminal"),
        "{run:?}"
    );
    assert!(recorders(&moto, "ap-northeast-1").await.is_empty());

    let run = moto.baseline(&["apply", "-f", f, "--auto-approve"]);
    assert_eq!(run.code, 0, "{run:?}");
    let run = moto.baseline(&["destroy", "-f", f]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr
            .contains("refusing to destroy without confirmation"),
        "{run:?}"
    );
    assert!(
        hub_enabled(&moto, "ap-northeast-1").await,
        "the hub is still on"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn selectors_narrow_the_plan() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().unwrap();
    let file = baseline_file(&dir, BASELINE);
    let f = file.to_str().unwrap();
    // A setting is selected by its key in the baseline, or by the service
    // name `--only` took before.
    for selector in ["s3_public_access_block", "s3"] {
        let run = moto.baseline(&["plan", "-f", f, "--only", selector, "--output", "json"]);
        assert_eq!(run.code, 0, "{run:?}");
        let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        let kinds: Vec<String> = crate::moto::looked_at(&v)
            .iter()
            .map(|c| c["address"]["kind"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(kinds, ["s3_public_access_block.account"], "{selector}");
    }

    let run = moto.baseline(&[
        "plan",
        "-f",
        f,
        "--regions",
        "us-east-1",
        "--only",
        "config",
        "--output",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let changes = crate::moto::looked_at(&v);
    assert!(!changes.is_empty(), "{run:?}");
    assert!(
        changes
            .iter()
            .all(|c| c["address"]["region"] == "us-east-1"),
        "{run:?}"
    );

    let run = moto.baseline(&["plan", "-f", f, "--only", "cloudtrial"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains("unknown setting `cloudtrial` in --only; the settings are: iam, config,"),
        "{run:?}"
    );
}

/// Credentials for another account than the baseline names: refused for
/// that account, reported, exit 1.
#[tokio::test(flavor = "multi_thread")]
async fn credentials_for_the_wrong_account_are_refused() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().unwrap();
    let file = baseline_file(&dir, &BASELINE.replace("123456789012", "111111111111"));
    let run = moto.baseline(&["plan", "-f", file.to_str().unwrap()]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stdout.contains("account 111111111111: the credentials are for account 123456789012, but the baseline names 111111111111"),
        "{run:?}"
    );
}

/// `regions: all` is discovered per account; a home region the account has
/// not enabled is refused for that account (its global resources would
/// otherwise go unmanaged without a word).
#[tokio::test(flavor = "multi_thread")]
async fn regions_all_is_discovered_and_the_home_region_must_be_enabled() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().unwrap();
    let ok = baseline_file(
        &dir,
        "version: 1\naccounts: [{id: \"123456789012\"}]\nregions: all\nhome_region: ap-northeast-1\nebs_encryption: {enabled: true}\n",
    );
    let run = moto.baseline(&["plan", "-f", ok.to_str().unwrap(), "--output", "json"]);
    assert_eq!(run.code, 0, "{run:?}");
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let regions: Vec<&str> = v["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["region"].as_str().unwrap())
        .collect();
    assert!(
        regions.contains(&"eu-west-1") && regions.contains(&"ap-northeast-1"),
        "{regions:?}"
    );
    assert!(
        !regions.contains(&"me-south-1"),
        "a region not opted in is left out: {regions:?}"
    );

    let dir = tempfile::tempdir().unwrap();
    let bad = baseline_file(
        &dir,
        "version: 1\naccounts: [{id: \"123456789012\"}]\nregions: all\nhome_region: me-south-1\nebs_encryption: {enabled: true}\n",
    );
    // Every call in a disabled opt-in region is refused (as AWS refuses
    // it, "The security token included in the request is invalid"): the
    // error says what is most likely meant.
    let run = moto.baseline(&["plan", "-f", bad.to_str().unwrap()]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stdout.contains(
            "home region me-south-1 is an opt-in region, and the first call there failed"
        ) && run
            .stdout
            .contains("enable it or choose another home_region"),
        "{run:?}"
    );
    // Enabled, it is reached and planned.
    moto.control(
        "enable-region",
        serde_json::json!({"account": "123456789012", "region": "me-south-1"}),
    );
    let run = moto.baseline(&["plan", "-f", bad.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{run:?}");
}

/// Shell completions and the manual page come from the same definition as
/// the arguments; a closed pipe ends the program quietly.
#[test]
fn completions_and_manual_page_are_generated() {
    let bash = offline(&["completions", "bash"]);
    assert_eq!(bash.code, 0, "{bash:?}");
    assert!(bash.stdout.contains("_baseline()") && bash.stdout.contains("--detailed-exitcode"));
    let zsh = offline(&["completions", "zsh"]);
    assert!(zsh.stdout.starts_with("#compdef baseline"), "{zsh:?}");
    let man = offline(&["man"]);
    assert_eq!(man.code, 0, "{man:?}");
    assert!(man.stdout.contains(".TH baseline 1"), "{man:?}");
    assert!(man.stdout.contains("policy"), "subcommands are listed");
}
