//! The IAM policy a baseline needs: `baseline policy`.
//!
//! Each service's actions are listed here beside the service they belong
//! to, by what the command does: reads for every `plan`, writes for
//! `apply`, teardown for `destroy`. They are the IAM names of the calls the
//! provider modules make; `tests/e2e/policy.rs` runs the whole cycle with
//! `BASELINE_CALL_LOG` and fails on any call the printed policy does not
//! allow, so this list cannot fall behind the code. Resources are scoped
//! where AWS allows it: the log buckets, the trail, the key alias and the
//! keys tagged as baseline's, the service-linked roles, the roles assumed.

use baseline_spec::{Accounts, Baseline, Zone, render_bucket};
use serde_json::{Value, json};

/// Which command the policy is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyFor {
    /// Reads only (a drift check).
    Plan,
    /// Reads and the writes that converge.
    Apply,
    /// Reads and the teardown of the paid services.
    Destroy,
}

/// Actions of one service, by command.
struct Actions {
    sid: &'static str,
    read: &'static [&'static str],
    write: &'static [&'static str],
    teardown: &'static [&'static str],
}

const IAM_MFA: Actions = Actions {
    sid: "IamMfaChecks",
    read: &[
        "iam:GetAccountSummary",
        "iam:GenerateCredentialReport",
        "iam:GetCredentialReport",
    ],
    write: &[],
    teardown: &[],
};

/// The account's password policy (`iam.password_policy`): free, so
/// destroy leaves it.
const PASSWORD_POLICY: Actions = Actions {
    sid: "IamPasswordPolicy",
    read: &["iam:GetAccountPasswordPolicy"],
    write: &["iam:UpdateAccountPasswordPolicy"],
    teardown: &[],
};

const CONFIG: Actions = Actions {
    sid: "Config",
    read: &[
        "config:DescribeConfigurationRecorders",
        "config:DescribeDeliveryChannels",
        "config:DescribeConfigurationRecorderStatus",
        "config:ListTagsForResource",
        "iam:ListRoles",
    ],
    write: &[
        "config:PutConfigurationRecorder",
        "config:PutDeliveryChannel",
        "config:StartConfigurationRecorder",
    ],
    teardown: &[
        "config:StopConfigurationRecorder",
        "config:DeleteDeliveryChannel",
        "config:DeleteConfigurationRecorder",
    ],
};

const ACCESS_ANALYZER: Actions = Actions {
    sid: "AccessAnalyzer",
    read: &["access-analyzer:ListAnalyzers"],
    write: &["access-analyzer:CreateAnalyzer"],
    // `access_analyzer.enabled: false` (it is free: `destroy` keeps it).
    teardown: &["access-analyzer:DeleteAnalyzer"],
};

const CLOUDTRAIL: Actions = Actions {
    sid: "CloudTrail",
    read: &[
        "cloudtrail:DescribeTrails",
        "cloudtrail:GetTrailStatus",
        "cloudtrail:GetEventSelectors",
        "cloudtrail:ListTags",
        "kms:DescribeKey",
        "kms:ListResourceTags",
        "kms:GetKeyRotationStatus",
        "kms:GetKeyPolicy",
    ],
    // The trail's own writes are in `TRAIL_WRITE`, on the trail's ARN.
    write: &["kms:CreateKey", "kms:ListAliases", "kms:ListKeys"],
    // The trail's delete is in `TRAIL_TEARDOWN`; the reads before a
    // bucket or key is deleted in `LOG_USERS_READ`.
    teardown: &[],
};

/// What a log bucket's or the CloudTrail key's users are (trails, delivery
/// channels, GuardDuty findings exports), read in every region before
/// either is deleted (`users.rs`).
const LOG_USERS_READ: &[&str] = &[
    "ec2:DescribeRegions",
    "cloudtrail:DescribeTrails",
    "config:DescribeDeliveryChannels",
    "guardduty:ListDetectors",
    "guardduty:ListPublishingDestinations",
    "guardduty:DescribePublishingDestination",
];

/// The trail's writes, on the ARN of the trail the baseline names (each
/// action takes a `trail` resource in the Service Authorization Reference).
/// CreateTrail with TagsList needs cloudtrail:AddTags (its dependent
/// action).
const TRAIL_WRITE: &[&str] = &[
    "cloudtrail:CreateTrail",
    "cloudtrail:AddTags",
    "cloudtrail:UpdateTrail",
    "cloudtrail:PutEventSelectors",
    "cloudtrail:StartLogging",
];
const TRAIL_TEARDOWN: &[&str] = &["cloudtrail:DeleteTrail"];

/// Key-level KMS writes: only on keys tagged as baseline's.
const KMS_OWN_KEY_WRITE: &[&str] = &[
    "kms:EnableKeyRotation",
    "kms:PutKeyPolicy",
    "kms:EnableKey",
    "kms:CancelKeyDeletion",
];
const KMS_OWN_KEY_TEARDOWN: &[&str] = &["kms:ScheduleKeyDeletion"];

const GUARDDUTY: Actions = Actions {
    sid: "GuardDuty",
    read: &["guardduty:ListDetectors", "guardduty:GetDetector"],
    write: &["guardduty:CreateDetector", "guardduty:UpdateDetector"],
    teardown: &["guardduty:DeleteDetector"],
};

const EBS: Actions = Actions {
    sid: "EbsEncryption",
    read: &[
        "ec2:GetEbsEncryptionByDefault",
        "ec2:GetEbsDefaultKmsKeyId",
        "kms:DescribeKey",
    ],
    // The default key's writes depend on `kms_key` (see `policy`).
    write: &["ec2:EnableEbsEncryptionByDefault"],
    // `ebs_encryption.enabled: false` (it is free: `destroy` keeps it).
    teardown: &["ec2:DisableEbsEncryptionByDefault"],
};

const CONTACTS: Actions = Actions {
    sid: "AlternateContacts",
    read: &["account:GetAlternateContact"],
    write: &["account:PutAlternateContact"],
    teardown: &[],
};

const TRUSTED_ADVISOR: Actions = Actions {
    sid: "TrustedAdvisor",
    read: &[
        "support:DescribeTrustedAdvisorChecks",
        "support:DescribeTrustedAdvisorCheckSummaries",
    ],
    write: &[],
    teardown: &[],
};

const SECURITY_HUB: Actions = Actions {
    sid: "SecurityHub",
    read: &[
        "securityhub:DescribeHub",
        "securityhub:ListTagsForResource",
        "securityhub:GetEnabledStandards",
        "securityhub:DescribeStandards",
    ],
    // BatchDisableStandards only with `exclusive_standards` (see `policy`).
    write: &[
        "securityhub:EnableSecurityHub",
        "securityhub:BatchEnableStandards",
    ],
    teardown: &["securityhub:DisableSecurityHub"],
};

const S3_ACCOUNT: Actions = Actions {
    sid: "S3AccountPublicAccessBlock",
    read: &[
        "s3:GetAccountPublicAccessBlock",
        "s3:ListAllMyBuckets",
        "s3:GetBucketPolicyStatus",
        "s3:GetBucketAcl",
    ],
    write: &["s3:PutAccountPublicAccessBlock"],
    teardown: &[],
};

/// On the log buckets only.
const BUCKET_READ: &[&str] = &[
    "s3:ListBucket",
    "s3:GetBucketTagging",
    "s3:GetBucketPublicAccessBlock",
    "s3:GetEncryptionConfiguration",
    "s3:GetBucketPolicy",
];
/// CreateBucket with tags needs s3:TagResource (S3 API reference,
/// CreateBucketConfiguration `Tags`).
const BUCKET_WRITE: &[&str] = &[
    "s3:CreateBucket",
    "s3:TagResource",
    "s3:PutBucketPublicAccessBlock",
    "s3:PutEncryptionConfiguration",
    "s3:PutBucketPolicy",
];
const BUCKET_TEARDOWN: &[&str] = &["s3:ListBucketVersions", "s3:DeleteBucket"];
const OBJECT_TEARDOWN: &[&str] = &["s3:DeleteObject", "s3:DeleteObjectVersion"];

/// Reads that only converging needs: a teardown does not look at enabled
/// standards nor at Config's service-linked role.
const NOT_FOR_TEARDOWN: &[&str] = &[
    "securityhub:GetEnabledStandards",
    "securityhub:DescribeStandards",
    "iam:ListRoles",
];

/// The values a setting takes in the base and in every override.
fn setting_values<'a>(base: &'a Value, section: &str, key: &str) -> Vec<&'a Value> {
    let mut places = vec![base];
    if let Some(o) = base.get("overrides").and_then(Value::as_array) {
        places.extend(o.iter());
    }
    places
        .into_iter()
        .filter_map(|p| p.get(section).and_then(|s| s.get(key)))
        .collect()
}

/// Whether a setting is `true` in the base or in any override.
fn any_true(base: &Value, section: &str, key: &str) -> bool {
    setting_values(base, section, key)
        .iter()
        .any(|v| **v == json!(true))
}

/// The tagging calls of adoption (`adopt: true`): what exists is marked as
/// baseline's. What baseline creates is tagged in the creating call.
fn adoption_actions(base: &Value) -> Vec<&'static str> {
    let mut v = Vec::new();
    if any_true(base, "config", "adopt") {
        v.push("config:TagResource");
    }
    // CloudTrail: cloudtrail:AddTags is in every apply policy (CreateTrail
    // tags), and the trail's ARN comes from the plan's read.
    if any_true(base, "guardduty", "adopt") {
        v.push("guardduty:TagResource");
    }
    if any_true(base, "securityhub", "adopt") {
        v.push("securityhub:TagResource");
    }
    v
}

/// The IAM policy variable of the caller's own account.
const PRINCIPAL_ACCOUNT: &str = "${aws:PrincipalAccount}";

fn statement(sid: &str, actions: Vec<&str>, resource: Value) -> Value {
    json!({"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resource})
}

/// The AWS partition a region belongs to (what ARNs start with after
/// `arn:`): the printed policy is written offline, before any credentials
/// say it, so it comes from the baseline's home region. AWS's partitions:
/// `aws-cn` (cn-*), `aws-us-gov` (us-gov-*), the isolated ones, `aws`.
pub fn partition_of_region(region: &str) -> &'static str {
    const PREFIXES: &[(&str, &str)] = &[
        ("cn-", "aws-cn"),
        ("us-gov-", "aws-us-gov"),
        ("us-isob-", "aws-iso-b"),
        ("us-isof-", "aws-iso-f"),
        ("eu-isoe-", "aws-iso-e"),
        ("us-iso-", "aws-iso"),
    ];
    PREFIXES
        .iter()
        .find(|(prefix, _)| region.starts_with(prefix))
        .map_or("aws", |(_, partition)| partition)
}

/// The policy (JSON) that `baseline <command>` needs for `baseline`.
pub fn policy(baseline: &Baseline, command: PolicyFor) -> Value {
    let p = partition_of_region(&baseline.home_region);
    let apply = command == PolicyFor::Apply;
    let destroy = command == PolicyFor::Destroy;
    // `apply` of a section with `enabled: false` tears it down.
    let pick = |a: &Actions, off: bool| -> Vec<&'static str> {
        let mut v: Vec<&str> = a
            .read
            .iter()
            .copied()
            .filter(|r| !(destroy && NOT_FOR_TEARDOWN.contains(r)))
            .collect();
        if apply {
            v.extend(a.write);
        }
        if destroy || (apply && off) {
            v.extend(a.teardown);
        }
        v
    };
    let mut statements = Vec::new();
    let mut push = |a: &Actions, on: bool, off: bool| {
        let actions = pick(a, off);
        if on && !actions.is_empty() {
            statements.push(statement(a.sid, actions, json!("*")));
        }
    };
    // `plan` reads only what the baseline manages; `destroy` touches only
    // the paid services (the free settings are not read).
    let b = baseline;
    // Whether a section (of the base or of an override) turns a paid
    // service off.
    let base = serde_json::to_value(b).unwrap_or_default();
    let off = |section: &str| {
        let any_off =
            |v: &Value| v.get(section).and_then(|s| s.get("enabled")) == Some(&json!(false));
        any_off(&base)
            || base
                .get("overrides")
                .and_then(Value::as_array)
                .is_some_and(|o| o.iter().any(any_off))
    };
    let teardown_ok = |section: &str| destroy || (apply && off(section));
    push(&IAM_MFA, b.iam.is_some() && !destroy, false);
    push(
        &PASSWORD_POLICY,
        !setting_values(&base, "iam", "password_policy").is_empty() && !destroy,
        false,
    );
    push(&CONFIG, b.config.is_some(), off("config"));
    push(
        &ACCESS_ANALYZER,
        b.access_analyzer.is_some() && !destroy,
        off("access_analyzer"),
    );
    push(&CLOUDTRAIL, b.cloudtrail.is_some(), off("cloudtrail"));
    push(&GUARDDUTY, b.guardduty.is_some(), off("guardduty"));
    push(
        &EBS,
        b.ebs_encryption.is_some() && !destroy,
        off("ebs_encryption"),
    );
    push(&CONTACTS, b.alternate_contacts.is_some() && !destroy, false);
    push(
        &TRUSTED_ADVISOR,
        b.trusted_advisor.is_some() && !destroy,
        false,
    );
    push(&SECURITY_HUB, b.securityhub.is_some(), off("securityhub"));
    push(
        &S3_ACCOUNT,
        b.s3_public_access_block.is_some() && !destroy,
        false,
    );

    if apply {
        let mut extra: Vec<&str> = Vec::new();
        // The EBS default key: reset to AWS's (`aws-managed`), or set to the
        // key given; without `kms_key` it is not managed.
        for key in setting_values(&base, "ebs_encryption", "kms_key") {
            let action = if key == "aws-managed" {
                "ec2:ResetEbsDefaultKmsKeyId"
            } else {
                "ec2:ModifyEbsDefaultKmsKeyId"
            };
            if !extra.contains(&action) {
                extra.push(action);
            }
        }
        if any_true(&base, "securityhub", "exclusive_standards") {
            extra.push("securityhub:BatchDisableStandards");
        }
        extra.extend(adoption_actions(&base));
        if !extra.is_empty() {
            statements.push(statement("AsConfigured", extra, json!("*")));
        }
    }

    // Connecting: which regions are enabled (the regions of `regions:
    // all`; a listed opt-in region not enabled is reported), the
    // organization's accounts, the roles of the other accounts.
    statements.push(statement(
        "Regions",
        vec!["ec2:DescribeRegions"],
        json!("*"),
    ));
    let zone_org = b
        .access_analyzer
        .as_ref()
        .is_some_and(|a| a.zone == Some(Zone::Organization));
    let mut org_actions = Vec::new();
    if matches!(b.accounts, Accounts::Organization(_)) {
        org_actions.push("organizations:ListAccounts");
    }
    if zone_org && !destroy {
        org_actions.extend([
            "organizations:DescribeOrganization",
            "organizations:ListDelegatedAdministrators",
        ]);
    }
    if !org_actions.is_empty() {
        statements.push(statement("Organizations", org_actions, json!("*")));
    }
    let roles: Vec<String> = match &b.accounts {
        Accounts::List(list) => list.iter().filter_map(|a| a.role_arn.clone()).collect(),
        Accounts::Organization(_) => b
            .organization
            .as_ref()
            .map(|o| vec![format!("arn:{p}:iam::*:role/{}", o.role_name)])
            .unwrap_or_default(),
    };
    if !roles.is_empty() {
        let mut assume = statement("AssumeRoles", vec!["sts:AssumeRole"], json!(roles));
        if matches!(b.accounts, Accounts::Organization(_)) {
            // The role's name in any account of the caller's own
            // organization (the accounts are listed only at run time), as
            // AWS's own managed policies scope a cross-account AssumeRole.
            assume["Condition"] =
                json!({"StringEquals": {"aws:ResourceOrgID": "${aws:PrincipalOrgID}"}});
        }
        statements.push(assume);
    }

    // The log buckets, by name. In an organization the account ids are
    // known only at run time; each account's buckets are reached with that
    // account's own credentials, so the name carries the caller's account
    // (a policy variable): never a bucket of another account.
    let accounts: Vec<String> = match &b.accounts {
        Accounts::List(list) => list.iter().map(|a| a.id.0.clone()).collect(),
        Accounts::Organization(_) => vec![PRINCIPAL_ACCOUNT.into()],
    };
    let mut buckets = Vec::new();
    if let Some(c) = &b.config {
        buckets.extend(
            accounts
                .iter()
                .map(|a| render_bucket(&c.bucket_template(b.name.as_deref()), a, &b.home_region)),
        );
    }
    if let Some(t) = &b.cloudtrail {
        buckets.extend(
            accounts
                .iter()
                .map(|a| render_bucket(&t.bucket_template(b.name.as_deref()), a, &b.home_region)),
        );
    }
    if !buckets.is_empty() {
        let mut actions = BUCKET_READ.to_vec();
        if apply {
            actions.extend(BUCKET_WRITE);
            // An existing bucket adopted with its section.
            if any_true(&base, "config", "adopt") || any_true(&base, "cloudtrail", "adopt") {
                actions.push("s3:PutBucketTagging");
            }
        }
        let bucket_teardown = teardown_ok("config") || teardown_ok("cloudtrail");
        if bucket_teardown {
            actions.extend(BUCKET_TEARDOWN);
        }
        let arns: Vec<String> = buckets
            .iter()
            .map(|n| format!("arn:{p}:s3:::{n}"))
            .collect();
        statements.push(statement("LogBuckets", actions, json!(arns)));
        if bucket_teardown {
            statements.push(statement("LogUsers", LOG_USERS_READ.to_vec(), json!("*")));
            let objects: Vec<String> = buckets
                .iter()
                .map(|n| format!("arn:{p}:s3:::{n}/*"))
                .collect();
            statements.push(statement(
                "EmptyLogBuckets",
                OBJECT_TEARDOWN.to_vec(),
                json!(objects),
            ));
        }
    }

    // The trail: its writes on its own ARN (home region, each account, each
    // name the base or an override gives).
    if let Some(t) = &b.cloudtrail {
        let mut actions: Vec<&str> = Vec::new();
        if apply {
            actions.extend(TRAIL_WRITE);
        }
        if teardown_ok("cloudtrail") {
            actions.extend(TRAIL_TEARDOWN);
        }
        let mut names = vec![t.trail_name().to_string()];
        for n in setting_values(&base, "cloudtrail", "name")
            .iter()
            .filter_map(|v| v.as_str())
        {
            if !names.iter().any(|have| have == n) {
                names.push(n.to_string());
            }
        }
        let arns: Vec<String> = accounts
            .iter()
            .flat_map(|a| {
                names
                    .iter()
                    .map(move |n| format!("arn:{p}:cloudtrail:{}:{a}:trail/{n}", b.home_region))
            })
            .collect();
        if !actions.is_empty() {
            statements.push(statement("BaselineTrail", actions, json!(arns)));
        }
    }

    // The CloudTrail key: key-level writes only on keys tagged as baseline's.
    if b.cloudtrail.is_some() && (apply || destroy) {
        let mut actions: Vec<&str> = Vec::new();
        if apply {
            actions.extend(KMS_OWN_KEY_WRITE);
        }
        if teardown_ok("cloudtrail") {
            actions.extend(KMS_OWN_KEY_TEARDOWN);
        }
        let mut s = statement(
            "OwnCloudTrailKey",
            actions,
            json!(format!("arn:{p}:kms:*:*:key/*")),
        );
        let owner = crate::Owner::of(b);
        s["Condition"] = json!({"StringEquals": {"aws:ResourceTag/managed-by": owner.mark()}});
        statements.push(s);
        // CreateKey with tags needs kms:TagResource (KMS developer guide,
        // "Managing KMS key tags with API operations"), on a key that has
        // no tag yet: it cannot be narrowed by the key's tag.
        let creates_key = setting_values(&base, "cloudtrail", "kms")
            .iter()
            .any(|v| **v == json!("create"));
        if apply && creates_key {
            statements.push(statement(
                "TagNewCloudTrailKey",
                vec!["kms:TagResource"],
                json!(format!("arn:{p}:kms:*:*:key/*")),
            ));
        }
        if apply {
            statements.push(statement(
                "CloudTrailKeyAlias",
                vec!["kms:CreateAlias"],
                json!([
                    format!("arn:{p}:kms:*:*:{}", owner.key_alias()),
                    format!("arn:{p}:kms:*:*:key/*")
                ]),
            ));
        }
    }

    // Service-linked roles: Config's (and passing it to Config); GuardDuty,
    // Security Hub and IAM Access Analyzer make theirs when first enabled
    // (CreateAnalyzer: iam:CreateServiceLinkedRole is its dependent action).
    if apply {
        let mut services = Vec::new();
        if b.access_analyzer.is_some() {
            services.push("access-analyzer.amazonaws.com");
        }
        if b.config.is_some() {
            services.push("config.amazonaws.com");
        }
        if b.guardduty.is_some() {
            services.push("guardduty.amazonaws.com");
        }
        if b.securityhub.is_some() {
            services.push("securityhub.amazonaws.com");
        }
        if !services.is_empty() {
            let mut s = statement(
                "ServiceLinkedRoles",
                vec!["iam:CreateServiceLinkedRole"],
                json!(format!("arn:{p}:iam::*:role/aws-service-role/*")),
            );
            s["Condition"] = json!({"StringEquals": {"iam:AWSServiceName": services}});
            statements.push(s);
        }
        if b.config.is_some() {
            statements.push(statement(
                "PassConfigRole",
                vec!["iam:PassRole"],
                json!(format!("arn:{p}:iam::*:role/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig")),
            ));
        }
    }
    json!({"Version": "2012-10-17", "Statement": statements})
}

/// The IAM action an SDK call needs (`service` as the SDK names it in its
/// metadata, `operation` its name): for the check of the policy against
/// the calls made. `None`: no permission is needed (GetCallerIdentity).
pub fn action_of(service: &str, operation: &str) -> Option<Vec<String>> {
    let s3 = |a: &str| Some(vec![format!("s3:{a}")]);
    match (service, operation) {
        ("STS", "GetCallerIdentity") => None,
        ("S3", "HeadBucket") => s3("ListBucket"),
        ("S3", "ListBuckets") => s3("ListAllMyBuckets"),
        ("S3", "GetBucketEncryption") => s3("GetEncryptionConfiguration"),
        ("S3", "PutBucketEncryption") => s3("PutEncryptionConfiguration"),
        ("S3", "GetPublicAccessBlock") => s3("GetBucketPublicAccessBlock"),
        ("S3", "PutPublicAccessBlock") => s3("PutBucketPublicAccessBlock"),
        ("S3", "ListObjectVersions") => s3("ListBucketVersions"),
        ("S3", "DeleteObjects") => Some(vec![
            "s3:DeleteObject".into(),
            "s3:DeleteObjectVersion".into(),
        ]),
        ("S3 Control", "GetPublicAccessBlock") => s3("GetAccountPublicAccessBlock"),
        ("S3 Control", "PutPublicAccessBlock") => s3("PutAccountPublicAccessBlock"),
        _ => {
            let prefix = match service {
                "AccessAnalyzer" => "access-analyzer",
                "Config Service" => "config",
                "S3" => "s3",
                other => return Some(vec![format!("{}:{operation}", other.to_lowercase())]),
            };
            Some(vec![format!("{prefix}:{operation}")])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actions_of(yaml: &str, command: PolicyFor) -> Vec<String> {
        let b = baseline_spec::parse(yaml, "test.yaml").expect("a valid baseline");
        policy(&b, command)["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|s| s["Action"].as_array().unwrap().clone())
            .map(|a| a.as_str().unwrap().to_string())
            .collect()
    }

    const HEAD: &str = "version: 1\naccounts: [{id: \"123456789012\"}]\nregions: [eu-west-1]\nhome_region: eu-west-1\n";

    /// Conditional actions appear only where the baseline asks for them
    /// (tests/e2e/least_privilege.rs proves the rest of the list).
    #[test]
    fn adoption_exclusivity_and_the_ebs_key_add_their_actions_only_when_asked() {
        let plain = actions_of(
            &format!(
                "{HEAD}config: {{enabled: true}}\nsecurityhub: {{enabled: true, standards: [aws-foundational-security-best-practices]}}\nebs_encryption: {{enabled: true}}\n"
            ),
            PolicyFor::Apply,
        );
        for conditional in [
            "config:TagResource",
            "s3:PutBucketTagging",
            "securityhub:BatchDisableStandards",
            "ec2:ResetEbsDefaultKmsKeyId",
            "ec2:ModifyEbsDefaultKmsKeyId",
            "ec2:DisableEbsEncryptionByDefault",
            "iam:GetAccountPasswordPolicy",
            "iam:UpdateAccountPasswordPolicy",
        ] {
            assert!(
                !plain.contains(&conditional.to_string()),
                "{conditional} without being asked"
            );
        }
        let asked = actions_of(
            &format!(
                "{HEAD}config: {{enabled: true, adopt: true}}\nsecurityhub: {{enabled: true, standards: [aws-foundational-security-best-practices], exclusive_standards: true}}\nebs_encryption: {{enabled: true, kms_key: aws-managed}}\noverrides:\n  - accounts: [\"123456789012\"]\n    ebs_encryption: {{enabled: false}}\n  - accounts: [\"123456789012\"]\n    iam: {{password_policy: {{minimum_length: 14}}}}\n"
            ),
            PolicyFor::Apply,
        );
        for conditional in [
            "config:TagResource",
            "s3:PutBucketTagging",
            "securityhub:BatchDisableStandards",
            "ec2:ResetEbsDefaultKmsKeyId",
            "ec2:DisableEbsEncryptionByDefault",
            "iam:GetAccountPasswordPolicy",
            "iam:UpdateAccountPasswordPolicy",
        ] {
            assert!(
                asked.contains(&conditional.to_string()),
                "{conditional} when asked"
            );
        }
    }
}
