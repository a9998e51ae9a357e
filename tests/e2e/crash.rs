//! Crash consistency: `apply` killed with SIGKILL at seeded random moments,
//! then run again, ends converged with nothing leaked or doubled (one key,
//! two log buckets, one trail per account; one detector, analyzer and
//! recorder per region).
//!
//! `tests/run.sh` runs a few trials; the full size is
//! `BASELINE_CRASH_TRIALS=30 tests/run.sh -p baseline-cli --test e2e crash`
//! (docs/reliability.md has the figures).

use std::process::{Command, Stdio};
use std::time::Duration;

use crate::moto::{Moto, baseline_file};

pub(crate) const ACCOUNTS: [&str; 2] = ["111111111111", "222222222222"];
const REGIONS: [&str; 2] = ["ap-northeast-1", "us-east-1"];

/// Two accounts by AssumeRole × two regions, every setting with a
/// resource (also the baseline of the fault scenarios).
pub(crate) const BASELINE: &str = r#"version: 1
accounts:
  - {id: "111111111111", role_arn: "arn:aws:iam::111111111111:role/BaselineAdmin"}
  - {id: "222222222222", role_arn: "arn:aws:iam::222222222222:role/BaselineAdmin"}
regions: [ap-northeast-1, us-east-1]
home_region: ap-northeast-1
config: {enabled: true}
access_analyzer: {enabled: true}
cloudtrail: {enabled: true, kms: create}
guardduty: {enabled: true}
ebs_encryption: {enabled: true}
securityhub: {enabled: true, standards: [aws-foundational-security-best-practices]}
"#;

/// A small, seeded generator (no dependency for a handful of numbers).
struct Lcg(u64);
impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

async fn sdk_for(moto: &Moto, account: &str, region: &str) -> aws_config::SdkConfig {
    let base = moto.sdk(region).await;
    let role = aws_config::sts::AssumeRoleProvider::builder(format!(
        "arn:aws:iam::{account}:role/BaselineAdmin"
    ))
    .session_name("count")
    .configure(&base)
    .build()
    .await;
    base.to_builder()
        .credentials_provider(aws_credential_types::provider::SharedCredentialsProvider::new(role))
        .build()
}

/// What exists in one account: (enabled baseline keys, log buckets,
/// trails, detectors per region, analyzers per region, recorders per region).
pub(crate) async fn census(
    moto: &Moto,
    account: &str,
) -> (usize, usize, usize, Vec<usize>, Vec<usize>, Vec<usize>) {
    let home = sdk_for(moto, account, REGIONS[0]).await;
    let kms = aws_sdk_kms::Client::new(&home);
    let mut keys = 0;
    for k in kms.list_keys().send().await.unwrap().keys() {
        let id = k.key_id().unwrap();
        let m = kms.describe_key().key_id(id).send().await.unwrap();
        let enabled = m.key_metadata().unwrap().key_state().map(|s| s.as_str()) == Some("Enabled");
        let tags = kms.list_resource_tags().key_id(id).send().await.unwrap();
        if enabled && tags.tags().iter().any(|t| t.tag_value() == "baseline") {
            keys += 1;
        }
    }
    let s3 = baseline_providers::clients::s3(&home, REGIONS[0]);
    let buckets = s3
        .list_buckets()
        .send()
        .await
        .unwrap()
        .buckets()
        .iter()
        .filter(|b| b.name().is_some_and(|n| n.starts_with("baseline-")))
        .count();
    let trails = aws_sdk_cloudtrail::Client::new(&home)
        .list_trails()
        .send()
        .await
        .unwrap()
        .trails()
        .len();
    let (mut detectors, mut analyzers, mut recorders) = (Vec::new(), Vec::new(), Vec::new());
    for region in REGIONS {
        let sdk = sdk_for(moto, account, region).await;
        detectors.push(
            aws_sdk_guardduty::Client::new(&sdk)
                .list_detectors()
                .send()
                .await
                .unwrap()
                .detector_ids()
                .len(),
        );
        analyzers.push(
            aws_sdk_accessanalyzer::Client::new(&sdk)
                .list_analyzers()
                .send()
                .await
                .unwrap()
                .analyzers()
                .len(),
        );
        recorders.push(
            aws_sdk_config::Client::new(&sdk)
                .describe_configuration_recorders()
                .send()
                .await
                .unwrap()
                .configuration_recorders()
                .len(),
        );
    }
    (keys, buckets, trails, detectors, analyzers, recorders)
}

#[tokio::test(flavor = "multi_thread")]
async fn apply_killed_at_random_moments_converges_with_nothing_leaked_or_doubled() {
    let trials: u64 = std::env::var("BASELINE_CRASH_TRIALS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let seed: u64 = std::env::var("BASELINE_CRASH_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(7);
    let mut rng = Lcg(seed);
    let mut killed_at = Vec::new();
    for trial in 0..trials {
        let moto = Moto::start_with(&["--latency-ms", "20"]);
        let dir = tempfile::tempdir().unwrap();
        let file = baseline_file(&dir, BASELINE);
        let f = file.to_str().unwrap();
        let delay = 100 + rng.below(2400);
        let mut child = Command::new(env!("CARGO_BIN_EXE_baseline"))
            .args(["apply", "-q", "-f", f, "--auto-approve"])
            .envs(moto.env())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay));
        let finished_first = child.try_wait().unwrap().is_some();
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        // What the killed apply had sent lands before the next is checked.
        moto.quiet();
        killed_at.push((delay, finished_first));

        let again = moto.baseline(&["apply", "-f", f, "--auto-approve"]);
        assert_eq!(
            again.code, 0,
            "trial {trial} (killed after {delay} ms): {again:?}"
        );
        let plan = moto.baseline(&["plan", "-f", f, "--detailed-exitcode"]);
        assert_eq!(
            plan.code, 0,
            "trial {trial} (killed after {delay} ms): converged {plan:?}"
        );
        for account in ACCOUNTS {
            let c = census(&moto, account).await;
            assert_eq!(
                c,
                (1, 2, 1, vec![1, 1], vec![1, 1], vec![1, 1]),
                "trial {trial} (killed after {delay} ms), account {account}: (keys, buckets, trails, detectors, analyzers, recorders)"
            );
        }
    }
    eprintln!(
        "crash trials: {trials} (seed {seed}); killed after ms (and whether apply had already ended): {killed_at:?}"
    );
}

/// The window where AWS has no atomic step, made on purpose: a key
/// created but not yet aliased. Why: a second key was made, and the first
/// was found by nothing. (Buckets are created with their tag in one call.)
#[tokio::test(flavor = "multi_thread")]
async fn a_half_made_key_is_finished_not_doubled() {
    let moto = Moto::start();
    let sdk = moto.sdk("ap-northeast-1").await;
    let kms = aws_sdk_kms::Client::new(&sdk);
    let orphan = crate::probe::tagged_key(&kms, "baseline: encrypts the CloudTrail logs").await;
    let dir = tempfile::tempdir().unwrap();
    let file = baseline_file(
        &dir,
        "version: 1\naccounts: [{id: \"123456789012\"}]\nregions: [ap-northeast-1]\nhome_region: ap-northeast-1\ncloudtrail: {enabled: true, kms: create}\n",
    );
    let f = file.to_str().unwrap();
    let apply = moto.baseline(&["apply", "-f", f, "--auto-approve"]);
    assert_eq!(apply.code, 0, "{apply:?}");
    let aliased = kms
        .describe_key()
        .key_id("alias/baseline-cloudtrail")
        .send()
        .await
        .unwrap();
    assert_eq!(
        aliased.key_metadata().unwrap().key_id(),
        orphan,
        "the orphan key is used"
    );
    assert_eq!(
        kms.list_keys().send().await.unwrap().keys().len(),
        1,
        "no second key"
    );
    let plan = moto.baseline(&["plan", "-f", f, "--detailed-exitcode"]);
    assert_eq!(plan.code, 0, "{plan:?}");
}
