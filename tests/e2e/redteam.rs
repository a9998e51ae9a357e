//! What a red team found (issue #20), each as the attack it tried: a
//! resource another service uses, two baselines in one account, hostile
//! answers, hostile files. Each test failed on the code before the fix.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::Duration;

use aws_sdk_config::types::{ConfigurationRecorder, DeliveryChannel, RecordingGroup};

use crate::moto::{Moto, baseline_file, offline};
use crate::probe::{self, bucket_exists};

const HOME: &str = "ap-northeast-1";
const ACCOUNT: &str = "123456789012";

/// An endpoint on loopback that answers every request with `answer` (a
/// whole HTTP response), after reading the request.
fn hostile_endpoint(answer: Vec<u8>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for mut conn in listener.incoming().flatten() {
            let answer = answer.clone();
            std::thread::spawn(move || {
                let _ = conn.set_read_timeout(Some(Duration::from_secs(10)));
                let mut seen = Vec::new();
                let mut buf = [0u8; 8192];
                // The head, then as much body as it announces.
                while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                    match conn.read(&mut buf) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => seen.extend_from_slice(&buf[..n]),
                    }
                }
                let head_end = seen.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
                let head = String::from_utf8_lossy(&seen[..head_end]).to_ascii_lowercase();
                let length: usize = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse().ok())
                    .unwrap_or(0);
                while seen.len() < head_end + length {
                    match conn.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => seen.extend_from_slice(&buf[..n]),
                    }
                }
                let _ = conn.write_all(&answer);
            });
        }
    });
    url
}

fn json_answer(status: &str, headers: &str, body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// A baseline of a trail with a key of baseline's (`kms: create`), applied.
fn trail_with_key_applied(moto: &Moto, dir: &tempfile::TempDir) -> std::path::PathBuf {
    let file = baseline_file(
        dir,
        "version: 1\naccounts: [{id: \"123456789012\"}]\nregions: [ap-northeast-1]\nhome_region: ap-northeast-1\ncloudtrail: {enabled: true, kms: create}\n",
    );
    let apply = moto.baseline(&["apply", "-f", file.to_str().unwrap(), "--auto-approve"]);
    assert_eq!(apply.code, 0, "{apply:?}");
    file
}

/// 1. Users are every configuration that can point at a bucket or key:
/// a Config delivery channel (in another region) and a GuardDuty findings
/// export (in a third) aimed at baseline's CloudTrail bucket and key keep
/// both through `destroy`, and the plan names them. Before: only trails
/// counted for the CloudTrail bucket and key, and `destroy` deleted the
/// bucket the channel delivered to.
#[tokio::test(flavor = "multi_thread")]
async fn a_bucket_and_key_another_service_uses_are_kept_and_the_plan_names_it() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().unwrap();
    let file = trail_with_key_applied(&moto, &dir);
    let f = file.to_str().unwrap();
    let bucket = format!("baseline-cloudtrail-{ACCOUNT}");
    let key_arn = aws_sdk_kms::Client::new(&moto.sdk(HOME).await)
        .describe_key()
        .key_id("alias/baseline-cloudtrail")
        .send()
        .await
        .unwrap()
        .key_metadata()
        .unwrap()
        .arn()
        .unwrap()
        .to_string();
    // Someone records Config in us-east-1 into that bucket, with that key
    // (letting Config write there first, as AWS requires).
    crate::probe::allow_delivery(&moto, &bucket, &["config.amazonaws.com"]).await;
    let config = aws_sdk_config::Client::new(&moto.sdk("us-east-1").await);
    config
        .put_configuration_recorder()
        .configuration_recorder(
            ConfigurationRecorder::builder()
                .name("theirs")
                .role_arn(format!("arn:aws:iam::{ACCOUNT}:role/their-config"))
                .recording_group(RecordingGroup::builder().all_supported(true).build())
                .build(),
        )
        .send()
        .await
        .unwrap();
    config
        .put_delivery_channel()
        .delivery_channel(
            DeliveryChannel::builder()
                .name("theirs")
                .s3_bucket_name(&bucket)
                .s3_kms_key_arn(&key_arn)
                .build(),
        )
        .send()
        .await
        .unwrap();
    config
        .start_configuration_recorder()
        .configuration_recorder_name("theirs")
        .send()
        .await
        .unwrap();

    // And exports GuardDuty findings from eu-west-1 into it, with that key.
    crate::probe::findings_export(
        &moto,
        "eu-west-1",
        &format!("arn:aws:s3:::{bucket}/findings"),
        &key_arn,
    )
    .await;

    let destroy = moto.baseline(&["destroy", "-f", f, "--auto-approve"]);
    assert_eq!(destroy.code, 0, "{destroy:?}");
    let user = format!(
        "{ACCOUNT}/eu-west-1/guardduty.detector[\"detector\"], {ACCOUNT}/us-east-1/config.delivery_channel[\"channel\"]"
    );
    for kept in [
        format!("= cloudtrail.bucket[\"{bucket}\"] left as it is"),
        "= cloudtrail.kms_key[\"alias/baseline-cloudtrail\"] left as it is".to_string(),
    ] {
        assert!(destroy.stdout.contains(&kept), "{kept}: {destroy:?}");
    }
    assert_eq!(
        destroy
            .stdout
            .matches(&format!("kept: still used by {user}"))
            .count(),
        2,
        "the plan names the export and the channel for the bucket and the key: {destroy:?}"
    );
    assert!(
        destroy
            .stdout
            .contains("- cloudtrail.trail[\"baseline-trail\"] will be destroyed"),
        "{destroy:?}"
    );
    assert!(
        bucket_exists(&moto, &bucket).await,
        "the bucket was deleted"
    );
    let state = aws_sdk_kms::Client::new(&moto.sdk(HOME).await)
        .describe_key()
        .key_id(&key_arn)
        .send()
        .await
        .unwrap()
        .key_metadata()
        .unwrap()
        .key_state()
        .cloned();
    assert_eq!(state, Some(aws_sdk_kms::types::KeyState::Enabled));
}

const TEAM_A: &str = r#"version: 1
name: team-a
accounts: [{id: "123456789012"}]
regions: [ap-northeast-1]
home_region: ap-northeast-1
config: {enabled: true}
cloudtrail: {enabled: true, name: team-a-trail, kms: create}
guardduty: {enabled: true, features: all}
"#;

const TEAM_B: &str = r#"version: 1
name: team-b
accounts: [{id: "123456789012"}]
regions: [ap-northeast-1]
home_region: ap-northeast-1
config: {enabled: true, bucket: "team-b-config-{account_id}"}
cloudtrail: {enabled: true, name: team-b-trail, kms: create, bucket: "team-b-trail-{account_id}"}
guardduty: {enabled: true, features: all}
"#;

/// 2. Two baselines in one account: team B's never changes nor deletes
/// what team A's marked (recorder, channel, detector, key), says so, and
/// makes its own key under its own alias. Before: B rewrote the shared
/// key's policy for B's trail only, repointed the channel to B's bucket,
/// and B's `destroy` deleted A's recorder, channel and detector.
#[tokio::test(flavor = "multi_thread")]
async fn two_baselines_in_one_account_never_fight() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.yaml");
    let b = dir.path().join("b.yaml");
    std::fs::write(&a, TEAM_A).unwrap();
    std::fs::write(&b, TEAM_B).unwrap();
    let (a, b) = (a.to_str().unwrap(), b.to_str().unwrap());
    let run = moto.baseline(&["apply", "-f", a, "--auto-approve"]);
    assert_eq!(run.code, 0, "{run:?}");
    let a_key = probe::key_policy(&moto, HOME, "alias/baseline-cloudtrail-team-a").await;
    let a_bucket = format!("baseline-config-{ACCOUNT}-team-a");
    assert_eq!(
        probe::channel_bucket(&moto, HOME).await.as_deref(),
        Some(a_bucket.as_str())
    );

    // B's plan: A's recorder, channel and detector are A's to change.
    let plan = moto.baseline(&["plan", "-f", b, "--detailed-exitcode"]);
    assert_eq!(plan.code, 2, "{plan:?}");
    assert!(
        plan.stdout
            .contains("! config.delivery_channel[\"channel\"] needs a person")
            && plan.stdout.contains("managed by baseline \"team-a\""),
        "{plan:?}"
    );
    let run = moto.baseline(&["apply", "-f", b, "--auto-approve"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        probe::channel_bucket(&moto, HOME).await.as_deref(),
        Some(a_bucket.as_str()),
        "B repointed A's channel"
    );
    assert_eq!(
        probe::key_policy(&moto, HOME, "alias/baseline-cloudtrail-team-a").await,
        a_key,
        "B changed A's key policy"
    );
    let b_key = probe::key_policy(&moto, HOME, "alias/baseline-cloudtrail-team-b").await;
    assert!(b_key.to_string().contains("trail/team-b-trail"), "{b_key}");

    // B's destroy leaves A's recorder, channel and detector.
    let run = moto.baseline(&["destroy", "-f", b, "--auto-approve"]);
    assert_eq!(run.code, 0, "{run:?}");
    for kept in [
        "= config.recorder[\"recorder\"] left as it is",
        "= guardduty.detector[\"detector\"] left as it is",
    ] {
        assert!(run.stdout.contains(kept), "{kept}: {run:?}");
    }
    assert!(
        run.stdout
            .contains("- cloudtrail.trail[\"team-b-trail\"] will be destroyed"),
        "{run:?}"
    );
    assert_eq!(
        probe::channel_bucket(&moto, HOME).await.as_deref(),
        Some(a_bucket.as_str())
    );
    let detectors = aws_sdk_guardduty::Client::new(&moto.sdk(HOME).await)
        .list_detectors()
        .send()
        .await
        .unwrap();
    assert_eq!(
        detectors.detector_ids().len(),
        1,
        "A's detector was deleted"
    );
    // A is still converged.
    let plan = moto.baseline(&["plan", "-f", a, "--detailed-exitcode"]);
    assert_eq!(plan.code, 0, "{plan:?}");
}

/// 2 (policies). A key policy is merged statement by statement: a
/// statement someone added to baseline's key (another trail's grant)
/// survives the correction. Before: PutKeyPolicy replaced the policy.
#[tokio::test(flavor = "multi_thread")]
async fn a_key_policy_correction_keeps_other_statements() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().unwrap();
    let file = trail_with_key_applied(&moto, &dir);
    let f = file.to_str().unwrap();
    let alias = "alias/baseline-cloudtrail";
    let mut policy = probe::key_policy(&moto, HOME, alias).await;
    let theirs = serde_json::json!({"Sid": "OtherTrailEncrypt", "Effect": "Allow",
        "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "kms:GenerateDataKey*",
        "Resource": "*", "Condition": {"StringEquals": {"aws:SourceArn": "arn:aws:cloudtrail:ap-northeast-1:123456789012:trail/other"}}});
    // Theirs added; one of baseline's removed, so that apply corrects it.
    let statements = policy["Statement"].as_array_mut().unwrap();
    statements.retain(|s| s["Sid"] != "AllowCloudTrailDescribeKey");
    statements.push(theirs.clone());
    let kms = aws_sdk_kms::Client::new(&moto.sdk(HOME).await);
    let key = kms.describe_key().key_id(alias).send().await.unwrap();
    kms.put_key_policy()
        .key_id(key.key_metadata().unwrap().key_id())
        .policy_name("default")
        .policy(policy.to_string())
        .send()
        .await
        .unwrap();
    let run = moto.baseline(&["apply", "-f", f, "--auto-approve"]);
    assert_eq!(run.code, 0, "{run:?}");
    // The plan shows the one statement apply adds, and nothing of theirs.
    assert!(
        run.stdout
            .contains("~ policy = policy document: 1 statement added"),
        "{run:?}"
    );
    assert!(
        run.stdout
            .contains("+ statement \"AllowCloudTrailDescribeKey\""),
        "{run:?}"
    );
    assert!(!run.stdout.contains("OtherTrailEncrypt"), "{run:?}");
    let after = probe::key_policy(&moto, HOME, alias).await;
    let sids: Vec<&str> = after["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["Sid"].as_str())
        .collect();
    assert!(
        sids.contains(&"OtherTrailEncrypt"),
        "theirs was dropped: {sids:?}"
    );
    assert!(sids.contains(&"AllowCloudTrailDescribeKey"), "{sids:?}");
}

/// 4 and 7. Hostile answers fail their service in their region alone, say
/// what was wrong, and never panic nor print control bytes: a GuardDuty
/// that names a 70,000-character detector (before: exit 101, nothing
/// printed), one whose error message carries NUL and escape sequences,
/// and an S3 that answers HEAD with a bare 501 (before: "unhandled error:
/// Error").
#[test]
fn hostile_answers_fail_their_service_alone_and_print_nothing_raw() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().unwrap();
    let file = baseline_file(
        &dir,
        "version: 1\naccounts: [{id: \"123456789012\"}]\nregions: [ap-northeast-1]\nhome_region: ap-northeast-1\nguardduty: {enabled: true}\nconfig: {enabled: true}\nebs_encryption: {enabled: true}\n",
    );
    let f = file.to_str().unwrap();
    let long_id = format!("{{\"detectorIds\": [\"{}\"]}}", "a".repeat(70_000));
    let cases = [
        (
            "AWS_ENDPOINT_URL_GUARDDUTY",
            json_answer("200 OK", "", &long_id),
            "guardduty ListDetectors failed in account 123456789012, ap-northeast-1: the answer is not AWS's: a detector id of 70000 characters",
        ),
        (
            "AWS_ENDPOINT_URL_GUARDDUTY",
            json_answer(
                "400 Bad Request",
                "x-amzn-ErrorType: BadRequestException\r\n",
                r#"{"__type": "BadRequestException", "message": "bad\u0000\u001b[2J\u001b[31mred\nError: forged"}"#,
            ),
            r"bad\u{0}\u{1b}[2J\u{1b}[31mred\nError: forged",
        ),
        (
            "AWS_ENDPOINT_URL_S3",
            b"HTTP/1.1 501 Not Implemented\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                .to_vec(),
            "config HeadBucket failed in account 123456789012, ap-northeast-1: unhandled error: Error (HTTP 501 with no error code",
        ),
    ];
    for (variable, answer, said) in cases {
        for command in ["plan", "destroy"] {
            let mut args = vec![command, "-f", f, "--max-attempts", "1"];
            if command == "destroy" {
                args.push("--auto-approve");
            }
            let (run, _) = moto.baseline_within(
                &args,
                &[(variable, hostile_endpoint(answer.clone()))],
                Duration::from_secs(120),
            );
            assert_eq!(run.code, 1, "{variable} {command}: {run:?}");
            let all = format!("{}{}", run.stdout, run.stderr);
            assert!(all.contains(said), "{variable} {command}: {said}\n{run:?}");
            assert!(
                !all.contains('\u{0}') && !all.contains('\u{1b}'),
                "raw control bytes printed: {run:?}"
            );
            assert!(!all.contains("\nError: forged"), "{run:?}");
            if command == "plan" {
                assert!(
                    run.stdout.contains("ebs_encryption.by_default"),
                    "the rest is planned: {run:?}"
                );
            }
        }
    }
}

/// (5) A plan file has a size bound (refused unread, with a clear message,
/// quickly and in bounded memory), and one others can read is said.
/// Before: a 1 GiB file was read whole (and a 1 GiB JSON plan took 5.8 GB
/// until the process was killed); any mode was accepted silently.
#[test]
fn plan_files_are_bounded_and_a_readable_one_is_said() {
    let dir = tempfile::tempdir().unwrap();
    let huge = dir.path().join("huge.json");
    std::fs::File::create(&huge)
        .unwrap()
        .set_len(1 << 30)
        .unwrap();
    let started = std::time::Instant::now();
    let run = offline(&["show", huge.to_str().unwrap()]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr
            .contains("is 1024 MiB, larger than a plan baseline reads (256 MiB): it was not read"),
        "{run:?}"
    );
    eprintln!("refused in {:?}", started.elapsed());

    let plan = dir.path().join("plan.json");
    std::fs::write(
        &plan,
        r#"{"format_version": "10", "mode": "apply", "baseline": {"version": 1, "accounts": [{"id": "123456789012"}], "regions": ["ap-northeast-1"], "home_region": "ap-northeast-1"}, "services": [], "targets": [], "changes": [], "summary": {"add": 0, "change": 0, "destroy": 0, "manual": 0, "in_line": 0}}"#,
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&plan, std::fs::Permissions::from_mode(0o644)).unwrap();
    let run = offline(&["show", plan.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stderr.contains("can be read by others (mode 0644"),
        "{run:?}"
    );
    std::fs::set_permissions(&plan, std::fs::Permissions::from_mode(0o600)).unwrap();
    let run = offline(&["show", plan.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(!run.stderr.contains("read by others"), "{run:?}");
}

/// (6) `init` writes like plans are written: never through a symlink, 0600.
/// Before: `--out link --force` overwrote the link's target, and the file
/// (with the contacts) was 0644.
#[test]
fn init_never_writes_through_a_symlink_and_writes_0600() {
    use std::os::unix::fs::PermissionsExt;
    let moto = Moto::start();
    let dir = tempfile::tempdir().unwrap();
    let victim = dir.path().join("victim");
    std::fs::write(&victim, "keep me\n").unwrap();
    let link = dir.path().join("baseline.yaml");
    std::os::unix::fs::symlink(&victim, &link).unwrap();
    let l = link.to_str().unwrap();
    let refused = moto.baseline(&["init", "--out", l]);
    assert_eq!(refused.code, 1, "{refused:?}");
    assert!(refused.stderr.contains("already exists"), "{refused:?}");
    let run = moto.baseline(&["init", "--out", l, "--force"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep me\n");
    let meta = std::fs::symlink_metadata(&link).unwrap();
    assert!(meta.file_type().is_file(), "the link was not replaced");
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    let fresh = dir.path().join("fresh.yaml");
    let run = moto.baseline(&["init", "--out", fresh.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{run:?}");
    let mode = std::fs::metadata(&fresh).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
}

/// 8. The mark names its baseline: a detector someone else marked
/// `managed-by: baseline` is not deleted by the baseline named `team-a`,
/// which says whose mark it carries; and a destroy plan says what its
/// deletes rest on. Before: any `managed-by: baseline` tag made `destroy`
/// delete it, and nothing said so.
#[tokio::test(flavor = "multi_thread")]
async fn a_forged_plain_mark_does_not_make_a_named_baseline_delete() {
    let moto = Moto::start();
    let gd = aws_sdk_guardduty::Client::new(&moto.sdk(HOME).await);
    gd.create_detector()
        .enable(true)
        .tags("managed-by", "baseline")
        .send()
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = baseline_file(
        &dir,
        "version: 1\nname: team-a\naccounts: [{id: \"123456789012\"}]\nregions: [ap-northeast-1, us-east-1]\nhome_region: ap-northeast-1\nguardduty: {enabled: true}\n",
    );
    let f = file.to_str().unwrap();
    let apply = moto.baseline(&["apply", "-f", f, "--auto-approve"]);
    assert_eq!(apply.code, 0, "{apply:?}");
    let destroy = moto.baseline(&["destroy", "-f", f, "--auto-approve"]);
    assert_eq!(destroy.code, 0, "{destroy:?}");
    assert!(
        destroy.stdout.contains(
            "managed by the unnamed baseline (`managed-by: baseline`); baseline leaves it alone"
        ),
        "{destroy:?}"
    );
    assert!(
        destroy
            .stdout
            .contains("- guardduty.detector[\"detector\"] will be destroyed"),
        "team-a's own detector (us-east-1) goes: {destroy:?}"
    );
    assert!(
        destroy
            .stdout
            .contains("Deletes rest on the ownership mark `managed-by: baseline:team-a`"),
        "{destroy:?}"
    );
    assert_eq!(
        gd.list_detectors()
            .send()
            .await
            .unwrap()
            .detector_ids()
            .len(),
        1
    );
}

/// The raw bytes a hostile text may try on a terminal: an escape
/// sequence, the right-to-left override of "Trojan Source", and a line
/// of its own that looks like baseline's.
fn assert_nothing_raw(what: &str, run: &crate::moto::Run) {
    for (stream, text) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
        assert!(
            !text.contains('\u{1b}') && !text.contains('\u{7}') && !text.contains('\u{202e}'),
            "{what}: a raw escape or override on {stream}: {text:?}"
        );
        assert!(
            !text.lines().any(|l| l.starts_with("Apply complete!")),
            "{what}: a line of the file's own on {stream}: {text}"
        );
    }
}

/// Why (issue 38, item 5): text from files reached the terminal raw. A
/// saved plan whose change address held an escape sequence, a
/// right-to-left override and a line "Apply complete! …" was listed so
/// on stderr by the stale check (retitling and clearing the terminal); a
/// key of a baseline file with a line break made a line of its own in
/// validate's error; serde's messages quoted the file likewise. One
/// escaping rule now covers every message.
#[tokio::test(flavor = "multi_thread")]
async fn hostile_text_from_files_is_escaped() {
    const HOSTILE: &str = "x\u{1b}]0;owned\u{7}\u{1b}[2J\u{202e}\nApply complete! Resources: 9 added, 0 changed, 0 destroyed.";
    let moto = Moto::start();
    let dir = tempfile::tempdir().unwrap();
    let file = baseline_file(
        &dir,
        "version: 1\naccounts: [{id: \"123456789012\"}]\nregions: [ap-northeast-1]\nhome_region: ap-northeast-1\nebs_encryption: {enabled: true}\n",
    );
    let planfile = dir.path().join("plan.json");
    let p = planfile.to_str().unwrap();
    let plan = moto.baseline(&["plan", "-f", file.to_str().unwrap(), "--out", p]);
    assert_eq!(plan.code, 0, "{plan:?}");
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&planfile).unwrap()).unwrap();
    v["changes"][0]["address"]["name"] = HOSTILE.into();
    std::fs::write(&planfile, serde_json::to_string_pretty(&v).unwrap()).unwrap();
    let apply = moto.baseline(&["apply", p]);
    assert_eq!(apply.code, 1, "{apply:?}");
    assert!(apply.stderr.contains("plan is stale"), "{apply:?}");
    assert_nothing_raw("a hostile address", &apply);
    // serde's message quotes the file: an unknown action.
    v["changes"][0]["action"] = HOSTILE.into();
    std::fs::write(&planfile, serde_json::to_string_pretty(&v).unwrap()).unwrap();
    let show = moto.baseline(&["show", p]);
    assert_eq!(show.code, 1, "{show:?}");
    assert!(
        show.stderr.contains("is not a valid baseline plan file"),
        "{show:?}"
    );
    assert_nothing_raw("an unknown variant", &show);

    // A baseline file's key and value.
    let yaml = dir.path().join("hostile.yaml");
    let quoted = serde_json::to_string(HOSTILE).unwrap();
    std::fs::write(
        &yaml,
        format!("version: 1\naccounts: [{{id: \"123456789012\", name: {quoted}}}]\nregions: [{quoted}]\nhome_region: ap-northeast-1\n{quoted}: 1\n"),
    )
    .unwrap();
    let validate = offline(&["validate", "-f", yaml.to_str().unwrap()]);
    assert_eq!(validate.code, 1, "{validate:?}");
    assert!(
        validate.stderr.contains("is not a valid baseline"),
        "{validate:?}"
    );
    assert_nothing_raw("a hostile baseline file", &validate);
}

/// Why (issue 38, item 6): a listing that hands out a new token on every
/// page was read forever: ListAccounts grew memory to 1.9 GB in a minute,
/// KMS ListAliases (the orphan-key search before CreateKey) made 22,500
/// requests in 13 minutes, and SIGTERM then waited for that step forever.
/// Now a listing fails its read past a bound (BASELINE_MAX_PAGES, here
/// small), the rest of the run goes on, and a first signal ends the run
/// within --settle-timeout + --operation-timeout even when a step never
/// finishes.
#[tokio::test(flavor = "multi_thread")]
async fn an_endless_listing_fails_its_read_and_a_signal_still_ends_the_run() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().unwrap();
    let pages = || vec![("BASELINE_MAX_PAGES", "200".to_string())];
    let limit = Duration::from_secs(300);

    // The organization's accounts, endlessly.
    probe::organization(&moto, &["security"]).await;
    let org = baseline_file(
        &dir,
        "version: 1\naccounts: organization\norganization: {role_name: OrganizationAccountAccessRole}\nregions: [ap-northeast-1]\nhome_region: ap-northeast-1\nebs_encryption: {enabled: true}\n",
    );
    moto.control(
        "endless-pages",
        serde_json::json!({"operations": ["ListAccounts"]}),
    );
    let (run, _) = moto.baseline_within(&["plan", "-f", org.to_str().unwrap()], &pages(), limit);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        format!("{}{}", run.stdout, run.stderr)
            .contains("ListAccounts had more pages than the 200 a listing reads"),
        "{run:?}"
    );

    // KMS aliases, endlessly, in the orphan-key search of apply: that
    // step fails, the others are done.
    moto.control(
        "endless-pages",
        serde_json::json!({"operations": ["ListAliases"]}),
    );
    let trail = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/tokyo.yaml"
    ))
    .unwrap();
    let tokyo = dir.path().join("tokyo.yaml");
    std::fs::write(&tokyo, &trail).unwrap();
    let t = tokyo.to_str().unwrap();
    let (run, _) = moto.baseline_within(&["apply", "-f", t, "--auto-approve"], &pages(), limit);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        format!("{}{}", run.stdout, run.stderr)
            .contains("ListAliases had more pages than the 200 a listing reads"),
        "{run:?}"
    );
    assert!(
        run.stdout.contains("ebs_encryption"),
        "the rest goes on: {run:?}"
    );

    // The same with no page bound to speak of: SIGTERM, then the run ends
    // within the grace its limits give (2 s + 5 s), exit 130.
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_baseline"))
        .args([
            "apply",
            "-f",
            t,
            "--auto-approve",
            "--settle-timeout",
            "2",
            "--operation-timeout",
            "5",
        ])
        .envs(moto.env())
        .env("BASELINE_MAX_PAGES", "100000000")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let listed = || {
        moto.stats()["by_operation"]
            .as_object()
            .and_then(|o| {
                o.iter()
                    .find(|(k, _)| k.ends_with("ListAliases"))
                    .and_then(|(_, v)| v.as_u64())
            })
            .unwrap_or(0)
    };
    let before = listed();
    let waited = std::time::Instant::now();
    while listed() < before + 50 {
        assert!(waited.elapsed() < limit, "the listing never started");
        std::thread::sleep(Duration::from_millis(200));
    }
    let signalled = std::time::Instant::now();
    let kill = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if signalled.elapsed() > limit {
            let _ = child.kill();
            panic!("still running {limit:?} after SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert_eq!(status.code(), Some(130), "{stderr}");
    assert!(
        stderr.contains("Running steps did not finish within 7s of the termination signal")
            && stderr.contains("cloudtrail.kms_key"),
        "{stderr}"
    );
    eprintln!("ended {:?} after SIGTERM", signalled.elapsed());
}

/// Why (issue 38, item 1): an interactive `destroy` shows its plan and
/// waits for "yes"; meanwhile another team aimed a GuardDuty findings
/// export at baseline's CloudTrail bucket and retagged the Config bucket
/// as theirs. After "yes" both buckets were emptied and deleted: the
/// delete never read the bucket's mark or users again. Now each delete
/// re-checks both before anything is emptied; a change is a stale plan.
#[tokio::test(flavor = "multi_thread")]
async fn destroy_rechecks_what_changed_while_the_prompt_waited() {
    const ACCOUNT: &str = "123456789012";
    let moto = Moto::start();
    let dir = tempfile::tempdir().unwrap();
    let file = baseline_file(
        &dir,
        "version: 1\naccounts: [{id: \"123456789012\"}]\nregions: [ap-northeast-1]\nhome_region: ap-northeast-1\ncloudtrail: {enabled: true, kms: none}\nconfig: {enabled: true}\n",
    );
    let f = file.to_str().unwrap();
    let apply = moto.baseline(&["apply", "-f", f, "--auto-approve"]);
    assert_eq!(apply.code, 0, "{apply:?}");
    let (trail_bucket, config_bucket) = (
        format!("baseline-cloudtrail-{ACCOUNT}"),
        format!("baseline-config-{ACCOUNT}"),
    );
    for b in [&trail_bucket, &config_bucket] {
        assert!(bucket_exists(&moto, b).await, "{b} was made");
    }

    // destroy on a terminal (script(1) gives it one), waiting at its prompt.
    let (child, out, shown) = crate::moto::at_prompt(&moto, &format!("destroy -f {f}"));
    assert!(
        shown.contains(&format!(
            "cloudtrail.bucket[\"{trail_bucket}\"] will be destroyed"
        )),
        "{shown}"
    );

    // Meanwhile: another team's findings export into the trail's bucket,
    // and the Config bucket retagged as theirs.
    crate::probe::findings_export(
        &moto,
        "eu-west-1",
        &format!("arn:aws:s3:::{trail_bucket}/findings"),
        &format!("arn:aws:kms:eu-west-1:{ACCOUNT}:key/theirs"),
    )
    .await;
    let sdk = moto.sdk("ap-northeast-1").await;
    baseline_providers::clients::s3(&sdk, "ap-northeast-1")
        .put_bucket_tagging()
        .bucket(&config_bucket)
        .tagging(
            aws_sdk_s3::types::Tagging::builder()
                .tag_set(
                    aws_sdk_s3::types::Tag::builder()
                        .key("managed-by")
                        .value("team-x")
                        .build()
                        .unwrap(),
                )
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();

    let (code, rest) = crate::moto::answer(child, out, "yes");
    let all = format!("{shown}{rest}");
    assert_eq!(code, Some(1), "{all}");
    assert!(
        all.contains(&format!("cloudtrail.bucket[\"{trail_bucket}\"]: plan is stale: it is used by {ACCOUNT}/eu-west-1/guardduty.detector"))
            && all.contains("nothing was written"),
        "{all}"
    );
    // Read again before its delete, the retagged bucket is someone
    // else's: refused, as a fresh plan would.
    assert!(
        all.contains(&format!(
            "bucket {config_bucket} already exists and is not managed by baseline"
        )),
        "{all}"
    );
    for b in [&trail_bucket, &config_bucket] {
        assert!(bucket_exists(&moto, b).await, "{b} was kept");
    }
}

/// The enabled KMS keys of the home region that carry baseline's mark and
/// its CloudTrail description but no alias, by ARN.
async fn unaliased_baseline_keys(moto: &Moto) -> Vec<String> {
    let kms = aws_sdk_kms::Client::new(&moto.sdk("ap-northeast-1").await);
    let aliased: Vec<String> = kms
        .list_aliases()
        .send()
        .await
        .unwrap()
        .aliases()
        .iter()
        .filter_map(|a| a.target_key_id().map(str::to_string))
        .collect();
    let mut out = Vec::new();
    for k in kms.list_keys().send().await.unwrap().keys() {
        let id = k.key_id().unwrap();
        if aliased.iter().any(|a| a == id) {
            continue;
        }
        let meta = kms.describe_key().key_id(id).send().await.unwrap();
        let meta = meta.key_metadata().unwrap();
        let tags = kms.list_resource_tags().key_id(id).send().await.unwrap();
        let marked = tags
            .tags()
            .iter()
            .any(|t| t.tag_key() == "managed-by" && t.tag_value() == "baseline");
        if marked
            && meta.key_state() == Some(&aws_sdk_kms::types::KeyState::Enabled)
            && meta.description() == Some("baseline: encrypts the CloudTrail logs")
        {
            out.push(meta.arn().unwrap().to_string());
        }
    }
    out
}

/// Why (issue 38, item 3): two applies at once each made a KMS key and
/// one of them got the alias; the other, enabled and marked as
/// baseline's, was in no plan ("No changes") and `destroy` never saw it:
/// a paid key nobody sees. Every plan (and destroy's) now shows such a
/// key as a manual action, with what to do; baseline does not delete it,
/// since without its alias nothing proves it made it (a mark alone can
/// be written on any key).
#[tokio::test(flavor = "multi_thread")]
async fn a_key_of_the_baselines_mark_without_its_alias_is_in_every_plan() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().unwrap();
    let file = baseline_file(
        &dir,
        "version: 1\naccounts: [{id: \"123456789012\"}]\nregions: [ap-northeast-1]\nhome_region: ap-northeast-1\ncloudtrail: {enabled: true, kms: create}\n",
    );
    let f = file.to_str().unwrap();
    let shows_each = |run: &crate::moto::Run, keys: &[String]| {
        for arn in keys {
            assert!(
                run.stdout
                    .contains(&format!("cloudtrail.kms_key[\"{arn}\"]"))
                    && run
                        .stdout
                        .contains(&format!("aws kms schedule-key-deletion --key-id {arn}")),
                "{arn} is shown with what to do: {run:?}"
            );
        }
    };

    // Two applies at once: whatever key the loser leaves, the next plan
    // shows it (or there is none).
    let spawn = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_baseline"))
            .args(["apply", "-f", f, "--auto-approve"])
            .envs(moto.env())
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap()
    };
    let (mut a, mut b) = (spawn(), spawn());
    a.wait().unwrap();
    b.wait().unwrap();
    let settle = moto.baseline(&["apply", "-f", f, "--auto-approve"]);
    assert_eq!(settle.code, 0, "{settle:?}");
    let left = unaliased_baseline_keys(&moto).await;
    let plan = moto.baseline(&["plan", "-f", f, "--detailed-exitcode"]);
    // 3: only a person has something to do.
    assert_eq!(
        plan.code,
        if left.is_empty() { 0 } else { 3 },
        "{left:?}: {plan:?}"
    );
    shows_each(&plan, &left);

    // One such key for certain: made as a stopped run leaves it.
    let kms = aws_sdk_kms::Client::new(&moto.sdk("ap-northeast-1").await);
    probe::tagged_key(&kms, "baseline: encrypts the CloudTrail logs").await;
    let left = unaliased_baseline_keys(&moto).await;
    assert!(!left.is_empty());
    let plan = moto.baseline(&["plan", "-f", f, "--detailed-exitcode"]);
    assert_eq!(plan.code, 3, "{plan:?}");
    shows_each(&plan, &left);
    let destroy = moto.baseline(&["destroy", "-f", f, "--auto-approve"]);
    shows_each(&destroy, &left);
    assert_eq!(
        unaliased_baseline_keys(&moto).await,
        left,
        "left for a person to delete"
    );
}
