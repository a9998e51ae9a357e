//! What already exists in the current account, for `baseline init`: the
//! account, its home region (the profile's), its enabled regions, and in
//! the home region the trail, Config recorder and its bucket, analyzer,
//! detector, hub and its standards, the alternate contacts and the IAM
//! password policy. Read-only,
//! and every read that fails is reported as a gap, never as an error of
//! the whole survey: `init` writes the recommendation there instead.

use aws_config::BehaviorVersion;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use baseline_spec::{PasswordPolicySpec, Standard};

use crate::Limits;
use crate::error::Ctx;

/// A multi-region trail that exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExistingTrail {
    /// Its name.
    pub name: String,
    /// The region that owns it.
    pub home_region: String,
    /// Where it delivers.
    pub bucket: Option<String>,
    /// Its KMS key (ARN), if it encrypts with one.
    pub kms_key: Option<String>,
    /// Log file validation on.
    pub log_file_validation: bool,
    /// Set up by AWS Control Tower (baseline never changes those).
    pub control_tower: bool,
    /// An organization trail (made in the management account; its bucket
    /// is usually in a log archive account): it already records this
    /// account.
    pub organization: bool,
}

/// A Config recorder that exists in the home region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExistingRecorder {
    /// Its name.
    pub name: String,
    /// `true`: daily recording; `false`: continuous.
    pub daily: bool,
    /// The bucket its delivery channel writes to.
    pub bucket: Option<String>,
}

/// One alternate contact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExistingContact {
    /// `SECURITY`, `OPERATIONS` or `BILLING`.
    pub kind: &'static str,
    /// Name.
    pub name: String,
    /// E-mail.
    pub email: String,
    /// Phone.
    pub phone: String,
    /// Title.
    pub title: String,
}

/// What `baseline init` found.
#[derive(Debug, Clone, Default)]
pub struct Survey {
    /// The account the credentials are in.
    pub account_id: String,
    /// The profile's region, used as the home region.
    pub home_region: String,
    /// Regions enabled for the account.
    pub regions: Vec<String>,
    /// Multi-region trails (the home region's first).
    pub trails: Vec<ExistingTrail>,
    /// The home region's Config recorder.
    pub recorder: Option<ExistingRecorder>,
    /// The home region's external-access analyzer (name).
    pub analyzer: Option<String>,
    /// Whether the home region has a GuardDuty detector.
    pub detector: bool,
    /// Whether Security Hub is on in the home region.
    pub hub: bool,
    /// Its enabled standards, as baseline names them.
    pub standards: Vec<Standard>,
    /// Alternate contacts that are set.
    pub contacts: Vec<ExistingContact>,
    /// The account's IAM password policy, if it has one.
    pub password_policy: Option<PasswordPolicySpec>,
    /// Block public access for EBS snapshots in the home region: its
    /// state, and whether an organization's declarative policy holds it.
    pub snapshot_sharing: Option<(String, bool)>,
    /// Reads that failed: what, and why (one line each).
    pub gaps: Vec<String>,
}

/// Why the survey could not start.
#[derive(Debug, thiserror::Error)]
pub enum SurveyError {
    /// No region in the profile or environment.
    #[error(
        "no region: set AWS_REGION or the profile's `region` (baseline init takes the home region from it)"
    )]
    NoRegion,
    /// The credentials do not work.
    #[error("cannot tell which account the credentials are for")]
    Identity(#[source] crate::error::AwsError),
}

/// Reads what exists in the account of the current credentials.
pub async fn survey(profile: Option<&str>, limits: &Limits) -> Result<Survey, SurveyError> {
    let mut loader = aws_config::defaults(BehaviorVersion::latest());
    if let Some(p) = profile {
        loader = loader.profile_name(p);
    }
    let sdk = limits.apply(loader).load().await;
    let home = sdk.region().ok_or(SurveyError::NoRegion)?.to_string();
    let ctx = |service: &'static str| Ctx {
        account: "current".into(),
        region: home.clone(),
        service,
    };
    let who = aws_sdk_sts::Client::new(&sdk)
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| SurveyError::Identity(ctx("sts").err("GetCallerIdentity")(e)))?;
    let mut s = Survey {
        account_id: who.account().unwrap_or_default().to_string(),
        home_region: home.clone(),
        ..Survey::default()
    };
    let partition = who
        .arn()
        .and_then(|a| a.split(':').nth(1))
        .unwrap_or("aws")
        .to_string();

    let ec2 = aws_sdk_ec2::Client::new(&sdk);
    let trails = aws_sdk_cloudtrail::Client::new(&sdk);
    let config = aws_sdk_config::Client::new(&sdk);
    let analyzer = aws_sdk_accessanalyzer::Client::new(&sdk);
    let guardduty = aws_sdk_guardduty::Client::new(&sdk);
    let hub = aws_sdk_securityhub::Client::new(&sdk);
    let account = aws_sdk_account::Client::new(&sdk);
    let (
        regions,
        trail_list,
        recorders,
        channels,
        analyzers,
        detectors,
        hub_on,
        standards,
        sharing,
    ) = futures::join!(
        ec2.describe_regions().send(),
        trails.describe_trails().include_shadow_trails(true).send(),
        config.describe_configuration_recorders().send(),
        config.describe_delivery_channels().send(),
        analyzer
            .list_analyzers()
            .r#type(aws_sdk_accessanalyzer::types::Type::Account)
            .send(),
        guardduty.list_detectors().send(),
        hub.describe_hub().send(),
        hub.get_enabled_standards().send(),
        ec2.get_snapshot_block_public_access_state().send(),
    );
    let mut gap = |what: &str, e: &dyn ProvideErrorMetadata| {
        s.gaps.push(format!(
            "{what}: {}",
            e.code().or(e.message()).unwrap_or("unknown error")
        ));
    };

    match regions {
        Ok(r) => {
            let mut names: Vec<String> = r
                .regions()
                .iter()
                .filter_map(|r| r.region_name().map(str::to_string))
                .collect();
            names.sort();
            s.regions = names;
        }
        Err(e) => gap("EC2 DescribeRegions (enabled regions)", &e),
    }
    match trail_list {
        Ok(t) => {
            for t in t.trail_list() {
                if t.is_multi_region_trail() != Some(true) {
                    continue;
                }
                let name = t.name().unwrap_or_default().to_string();
                s.trails.push(ExistingTrail {
                    control_tower: name.starts_with("aws-controltower-"),
                    name,
                    home_region: t.home_region().unwrap_or_default().to_string(),
                    bucket: t.s3_bucket_name().map(str::to_string),
                    kms_key: t.kms_key_id().map(str::to_string),
                    log_file_validation: t.log_file_validation_enabled() == Some(true),
                    organization: t.is_organization_trail() == Some(true),
                });
            }
            s.trails
                .sort_by_key(|t| (t.home_region != home, t.name.clone()));
            s.trails
                .dedup_by(|a, b| a.name == b.name && a.home_region == b.home_region);
        }
        Err(e) => gap("CloudTrail DescribeTrails", &e),
    }
    match (recorders, channels) {
        (Ok(r), Ok(c)) => {
            s.recorder = r
                .configuration_recorders()
                .first()
                .map(|r| ExistingRecorder {
                    name: r.name().unwrap_or_default().to_string(),
                    daily: r.recording_mode().is_some_and(|m| {
                        *m.recording_frequency() == aws_sdk_config::types::RecordingFrequency::Daily
                    }),
                    bucket: c
                        .delivery_channels()
                        .first()
                        .and_then(|c| c.s3_bucket_name())
                        .map(str::to_string),
                });
        }
        (Err(e), _) => gap("Config DescribeConfigurationRecorders", &e),
        (_, Err(e)) => gap("Config DescribeDeliveryChannels", &e),
    }
    match analyzers {
        Ok(a) => {
            s.analyzer = a
                .analyzers()
                .iter()
                .find(|a| {
                    matches!(
                        a.status(),
                        aws_sdk_accessanalyzer::types::AnalyzerStatus::Active
                            | aws_sdk_accessanalyzer::types::AnalyzerStatus::Creating
                    )
                })
                .map(|a| a.name().to_string());
        }
        Err(e) => gap("Access Analyzer ListAnalyzers", &e),
    }
    match detectors {
        Ok(d) => s.detector = !d.detector_ids().is_empty(),
        Err(e) => gap("GuardDuty ListDetectors", &e),
    }
    match sharing {
        Ok(o) => {
            use aws_sdk_ec2::types::SnapshotBlockPublicAccessState as S;
            // Only the modes AWS documents: the value is written into the
            // file `init` makes (a value of AWS's own is never its YAML).
            s.snapshot_sharing = o
                .state()
                .filter(|st| matches!(st, S::BlockAllSharing | S::BlockNewSharing | S::Unblocked))
                .map(|st| {
                    (
                        st.as_str().to_string(),
                        o.managed_by() == Some(&aws_sdk_ec2::types::ManagedBy::DeclarativePolicy),
                    )
                });
        }
        Err(e) => gap("EC2 GetSnapshotBlockPublicAccessState", &e),
    }
    match hub_on {
        Ok(_) => s.hub = true,
        // Not subscribed: the answer AWS gives without a hub.
        Err(e) if e.code() == Some("InvalidAccessException") => {}
        Err(e) => gap("Security Hub DescribeHub", &e),
    }
    if s.hub {
        match standards {
            Ok(st) => {
                for sub in st.standards_subscriptions() {
                    let arn = sub.standards_arn().unwrap_or_default();
                    if let Some(known) = Standard::ALL
                        .iter()
                        .find(|k| crate::securityhub::arn_of(**k, &partition, &home) == arn)
                    {
                        s.standards.push(*known);
                    }
                }
            }
            Err(e) => gap("Security Hub GetEnabledStandards", &e),
        }
    }
    for (kind, typ) in [
        (
            "SECURITY",
            aws_sdk_account::types::AlternateContactType::Security,
        ),
        (
            "OPERATIONS",
            aws_sdk_account::types::AlternateContactType::Operations,
        ),
        (
            "BILLING",
            aws_sdk_account::types::AlternateContactType::Billing,
        ),
    ] {
        match account
            .get_alternate_contact()
            .alternate_contact_type(typ)
            .send()
            .await
        {
            Ok(o) => {
                if let Some(c) = o.alternate_contact() {
                    s.contacts.push(ExistingContact {
                        kind,
                        name: c.name().unwrap_or_default().to_string(),
                        email: c.email_address().unwrap_or_default().to_string(),
                        phone: c.phone_number().unwrap_or_default().to_string(),
                        title: c.title().unwrap_or_default().to_string(),
                    });
                }
            }
            Err(e) if e.code() == Some("ResourceNotFoundException") => {}
            Err(e) => {
                s.gaps.push(format!(
                    "Account GetAlternateContact {kind}: {}",
                    e.code().or(e.message()).unwrap_or("unknown error")
                ));
            }
        }
    }
    match aws_sdk_iam::Client::new(&sdk)
        .get_account_password_policy()
        .send()
        .await
    {
        Ok(o) => {
            s.password_policy = o
                .password_policy()
                .map(crate::iam::password_policy::spec_of)
        }
        // The account has none.
        Err(e) if e.code() == Some("NoSuchEntity") => {}
        Err(e) => s.gaps.push(format!(
            "IAM GetAccountPasswordPolicy: {}",
            e.code().or(e.message()).unwrap_or("unknown error")
        )),
    }
    Ok(s)
}
