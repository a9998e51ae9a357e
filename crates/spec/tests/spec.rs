//! The spec against files: the examples, the committed schema, and a corpus
//! of broken baselines with the exact messages users see.
//!
//! Set `BLESS=1` to rewrite the expected files after a deliberate change.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn bless() -> bool {
    std::env::var_os("BLESS").is_some()
}

/// Every example a user may copy must validate.
#[test]
fn every_example_validates() {
    let mut n = 0;
    for entry in std::fs::read_dir(root().join("examples")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "yaml") {
            baseline_spec::load(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            n += 1;
        }
    }
    assert!(n >= 2, "expected the example baselines under examples/");
}

/// The issue's canonical baseline, as written, with every setting.
#[test]
fn canonical_baseline_reads_every_setting() {
    let b = baseline_spec::load(&root().join("examples/tokyo.yaml")).unwrap();
    assert_eq!(b.listed_accounts()[0].id.0, "123456789012");
    assert_eq!(b.home_region, "ap-northeast-1");
    let c = b.config.unwrap();
    assert_eq!(c.frequency(), baseline_spec::RecordingFrequency::Daily);
    assert_eq!(
        baseline_spec::render_bucket(&c.bucket_template(None), "123456789012", "x"),
        "baseline-config-123456789012"
    );
    assert_eq!(b.cloudtrail.unwrap().kms.as_deref(), Some("create"));
    assert_eq!(
        b.s3_public_access_block.unwrap().restrict_public_buckets,
        Some(true)
    );
    assert_eq!(
        b.alternate_contacts.unwrap().security.unwrap().phone,
        "+81-3-0000-0000"
    );
}

/// Editors complete `baseline.yaml` from the committed schema: it must be current.
#[test]
fn committed_schema_is_current() {
    let path = root().join("schema/baseline.schema.json");
    let want = baseline_spec::json_schema_text();
    if bless() {
        std::fs::write(&path, &want).unwrap();
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == want,
        "schema/baseline.schema.json is out of date: run `BLESS=1 cargo test -p baseline-spec` (or `baseline schema > schema/baseline.schema.json`)"
    );
}

/// Each broken file under tests/spec/bad has its expected messages beside it.
#[test]
fn broken_baselines_report_every_error_with_its_place() {
    let dir = root().join("tests/spec/bad");
    let mut failures = Vec::new();
    let mut n = 0;
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    for path in files {
        n += 1;
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let text = std::fs::read_to_string(&path).unwrap();
        let got = match baseline_spec::parse(&text, &name) {
            Ok(_) => "accepted\n".to_string(),
            Err(e) => format!("{e}\n"),
        };
        let expected_path = path.with_extension("err");
        if bless() {
            std::fs::write(&expected_path, &got).unwrap();
        }
        let want = std::fs::read_to_string(&expected_path).unwrap_or_default();
        if got != want {
            failures.push(format!("{name}:\n--- expected\n{want}--- got\n{got}"));
        }
    }
    assert!(n >= 10, "the corpus is missing");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Overrides apply in order, key by key, only where they match.
#[test]
fn overrides_apply_per_account_and_region_in_order() {
    let b = baseline_spec::parse(
        r#"version: 1
accounts: [{id: "111111111111"}, {id: "222222222222"}]
regions: [eu-west-1, us-west-2]
home_region: eu-west-1
config: {enabled: true, recording: daily, bucket: "logs-{account_id}"}
guardduty: {enabled: true, features: [s3_data_events]}
overrides:
  - accounts: ["222222222222"]
    regions: [us-west-2]
    guardduty: {enabled: false}
  - regions: [us-west-2]
    config: {enabled: true, recording: continuous}
  - accounts: ["222222222222"]
    regions: [us-west-2]
    config: {enabled: false}
"#,
        "o.yaml",
    )
    .unwrap();
    use baseline_spec::{GuardDutyFeature, GuardDutyFeatures, RecordingFrequency};
    let plain = b.for_target(baseline_spec::Place::new("111111111111", "eu-west-1"));
    assert!(
        matches!(plain, std::borrow::Cow::Borrowed(_)),
        "no override: the baseline itself"
    );

    let west = b.for_target(baseline_spec::Place::new("111111111111", "us-west-2"));
    let c = west.config.as_ref().unwrap();
    assert_eq!(c.frequency(), RecordingFrequency::Continuous);
    assert_eq!(
        c.bucket.as_deref(),
        Some("logs-{account_id}"),
        "keys the override does not give stay"
    );
    assert!(west.guardduty.as_ref().unwrap().enabled);

    let both = b.for_target(baseline_spec::Place::new("222222222222", "us-west-2"));
    let g = both.guardduty.as_ref().unwrap();
    assert!(!g.enabled);
    assert_eq!(
        g.features,
        Some(GuardDutyFeatures::List(vec![
            GuardDutyFeature::S3DataEvents
        ]))
    );
    assert!(
        !both.config.as_ref().unwrap().enabled,
        "the later override wins"
    );
}

/// Why: a file of any size was read whole and parsed.
#[test]
fn a_file_larger_than_any_baseline_is_refused_before_parsing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.yaml");
    let line = "# padding padding padding padding padding padding padding padding\n";
    std::fs::write(&path, line.repeat(70_000)).unwrap();
    let e = baseline_spec::load(&path).unwrap_err();
    assert!(
        matches!(e, baseline_spec::SpecError::TooLarge { .. }),
        "{e}"
    );
    assert!(e.to_string().contains("was not read"), "{e}");
}

/// Why: nested aliases ("billion laughs") expanded without bound.
#[test]
fn an_alias_bomb_file_is_refused_with_its_place() {
    let mut text = String::from("version: 1\nx0: &x0 [a, a, a, a, a, a, a, a, a, a]\n");
    for i in 1..10 {
        let p = i - 1;
        text.push_str(&format!(
            "x{i}: &x{i} [*x{p}, *x{p}, *x{p}, *x{p}, *x{p}, *x{p}, *x{p}, *x{p}, *x{p}, *x{p}]\n"
        ));
    }
    let started = std::time::Instant::now();
    let e = baseline_spec::parse(&text, "bomb.yaml").unwrap_err();
    // Expanded, the file is 10^10 scalars: unbounded, it would not end
    // for hours. The bound is loose so a loaded machine never trips it.
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
    let msg = e.to_string();
    assert!(msg.contains("bomb.yaml:"), "{msg}");
    assert!(msg.contains("alias bomb"), "{msg}");
}

/// Issue 36: an exception needs what, why, who and until when, each
/// refused at its place; one ending more than a year ahead is refused
/// unless allowed; one that has ended is a warning.
#[test]
fn exceptions_need_an_owner_a_reason_and_an_end_within_a_year() {
    let base = "version: 1\naccounts: [{id: \"111111111111\"}]\nregions: [us-east-1]\nhome_region: us-east-1\nconfig: {enabled: true}\nexceptions:\n";
    let checks = baseline_spec::Checks {
        today: Some("2026-12-07".into()),
        allow_long_exceptions: false,
    };
    let refused = |exception: &str, allow_long: bool| {
        let checks = baseline_spec::Checks {
            allow_long_exceptions: allow_long,
            ..checks.clone()
        };
        match baseline_spec::parse_with(&format!("{base}{exception}"), "b.yaml", &checks) {
            Ok(_) => String::new(),
            Err(e) => e.to_string(),
        }
    };
    // No owner: refused where the exception is.
    let e = refused(
        "  - settings: [config]\n    reason: legacy\n    expires: 2027-03-31\n",
        false,
    );
    assert!(e.contains("b.yaml:7:") && e.contains("owner"), "{e}");
    // No reason.
    let e = refused(
        "  - settings: [config]\n    owner: sec@example.com\n    expires: 2027-03-31\n",
        false,
    );
    assert!(e.contains("b.yaml:7:") && e.contains("reason"), "{e}");
    // Two years ahead: refused at `expires`, unless allowed.
    let long = "  - settings: [config]\n    reason: legacy\n    owner: sec@example.com\n    expires: 2028-12-01\n";
    let e = refused(long, false);
    assert!(
        e.contains("b.yaml:10:14") && e.contains("more than a year ahead"),
        "{e}"
    );
    assert_eq!(refused(long, true), "");
    // What it excuses must be named, and be a setting.
    let e = refused(
        "  - settings: [confg]\n    reason: legacy\n    owner: sec@example.com\n    expires: 2027-03-31\n",
        false,
    );
    assert!(
        e.contains("`confg` is not a setting") && e.contains("`config`"),
        "{e}"
    );
    // Ended: valid, with a warning at its place.
    let (_, warnings) = baseline_spec::parse_with(
        &format!("{base}  - kinds: [config.recorder]\n    reason: legacy\n    owner: sec@example.com\n    expires: 2026-12-06\n"),
        "b.yaml",
        &checks,
    )
    .unwrap();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert_eq!((warnings[0].line, warnings[0].column), (10, 14));
    assert!(warnings[0].message.contains("ended on 2026-12-06"));
}

/// `ous` entries are OU ids or paths from the root, need `accounts:
/// organization`, and match the OU and everything below it.
#[test]
fn ous_name_ids_or_paths_of_an_organization() {
    let org = "version: 1\naccounts: organization\norganization: {role_name: OrganizationAccountAccessRole}\nregions: [us-east-1]\nhome_region: us-east-1\nebs_encryption: {enabled: false}\noverrides:\n";
    let error = |text: &str| match baseline_spec::parse(text, "b.yaml") {
        Ok(_) => String::new(),
        Err(e) => e.to_string(),
    };
    let ok = format!(
        "{org}  - ous: [\"Workloads/Prod\", \"ou-ab12-cd34ef56\"]\n    ebs_encryption: {{enabled: true}}\n"
    );
    assert_eq!(error(&ok), "");
    for (bad, said) in [
        ("\"Workloads//Prod\"", "empty OU name"),
        ("\"/Workloads\"", "empty OU name"),
        ("\"r-ab12\"", "root"),
    ] {
        let e = error(&format!(
            "{org}  - ous: [{bad}]\n    ebs_encryption: {{enabled: true}}\n"
        ));
        assert!(e.contains("b.yaml:8:") && e.contains(said), "{bad}: {e}");
    }
    let e = error(&format!(
        "{org}  - ous: []\n    ebs_encryption: {{enabled: true}}\n"
    ));
    assert!(e.contains("matches nothing"), "{e}");
    // Names that only look like ids are paths (an OU may be named so).
    for name in ["r-and-d", "ou-legacy"] {
        assert_eq!(
            error(&format!(
                "{org}  - ous: [\"{name}\"]\n    ebs_encryption: {{enabled: true}}\n"
            )),
            "",
            "{name}"
        );
    }
    let listed = "version: 1\naccounts: [{id: \"111111111111\"}]\nregions: [us-east-1]\nhome_region: us-east-1\noverrides:\n  - ous: [Sandbox]\n    ebs_encryption: {enabled: true}\n";
    let e = error(listed);
    assert!(
        e.contains("b.yaml:6:") && e.contains("needs `accounts: organization`"),
        "{e}"
    );

    let b = baseline_spec::parse(&ok, "b.yaml").unwrap();
    let place = |path: &str, ids: &[&str]| baseline_spec::OuPlace {
        path: path.into(),
        ids: ids.iter().map(|s| s.to_string()).collect(),
    };
    let enabled = |ou: Option<&baseline_spec::OuPlace>| {
        let p = baseline_spec::Place {
            account: "111111111111",
            region: "us-east-1",
            ou,
        };
        b.for_target(p).ebs_encryption.as_ref().unwrap().enabled
    };
    let below = place(
        "Workloads/Prod/Team",
        &["ou-aa11-00000001", "ou-aa11-00000002", "ou-aa11-00000003"],
    );
    assert!(enabled(Some(&below)), "an OU below the path is within it");
    let sibling = place(
        "Workloads/Production",
        &["ou-aa11-00000001", "ou-aa11-00000004"],
    );
    assert!(
        !enabled(Some(&sibling)),
        "a name that only starts alike is not"
    );
    let by_id = place("Sandbox/Deep", &["ou-ab12-cd34ef56", "ou-aa11-00000005"]);
    assert!(enabled(Some(&by_id)), "an id matches the OUs below it");
    assert!(!enabled(None), "an account under the root is in no OU");
    assert_eq!(
        b.named_ous(),
        vec![
            ("overrides[0].ous[0]".to_string(), "Workloads/Prod"),
            ("overrides[0].ous[1]".to_string(), "ou-ab12-cd34ef56"),
        ]
    );
}

/// The IMDS hop limit is held to EC2's range (1 to 64, or -1), in the base
/// and in an override, at its place.
#[test]
fn the_metadata_hop_limit_is_held_to_ec2s_range() {
    let base = "version: 1\naccounts: [{id: \"111111111111\"}]\nregions: [us-east-1]\nhome_region: us-east-1\n";
    let error = |text: &str| match baseline_spec::parse(&format!("{base}{text}"), "b.yaml") {
        Ok(_) => String::new(),
        Err(e) => e.to_string(),
    };
    assert_eq!(
        error("instance_metadata_defaults: {http_put_response_hop_limit: -1}\n"),
        ""
    );
    let e = error("instance_metadata_defaults: {http_put_response_hop_limit: 65}\n");
    assert!(
        e.contains("b.yaml:5:") && e.contains("65 is outside what EC2 allows"),
        "{e}"
    );
    let e = error(
        "overrides:\n  - regions: [us-east-1]\n    instance_metadata_defaults: {http_put_response_hop_limit: 0}\n",
    );
    assert!(e.contains("b.yaml:7:") && e.contains("0 is outside"), "{e}");
}
