//! The serde-facing shape of `baseline.yaml`.
//!
//! These types are what the file *says*; [`crate::validate`] checks what it
//! *means* (account ids, regions, ARNs, bucket templates, cross-section
//! rules) before a [`Baseline`] is handed to anyone. Every struct denies
//! unknown keys, and every doc comment here becomes a description in the
//! JSON Schema that editors show while completing the file.

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize};

/// Declares the sections once, each with its key, its type, its
/// documentation and whether it holds per-region resources: from this one
/// list come the section fields of [`Baseline`] and of [`Override`] (so
/// they cannot differ), [`SECTIONS`] and [`is_regional`].
macro_rules! sections {
    ($( $(#[doc = $doc:literal])* $key:ident : $ty:ty, regional: $regional:literal; )*) => {
        /// A baseline: what every account and region must look like.
        ///
        /// A section left out is not managed: `plan` neither reads nor changes it.
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
        #[serde(deny_unknown_fields)]
        pub struct Baseline {
            /// Format version of this file. Only `1` exists.
            pub version: u32,
            /// The name of this baseline, for when several baselines (of several
            /// teams) manage one account: what it creates is marked
            /// `managed-by: baseline:<name>` instead of `managed-by: baseline`, its
            /// default bucket names and key alias end in `-<name>`, and it never
            /// changes nor deletes what another baseline marked (docs/safety.md).
            /// Lowercase letters, digits and single hyphens, at most 20 characters.
            /// Left out: the unnamed baseline (`managed-by: baseline`), as before
            /// names existed.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub name: Option<String>,
            /// The accounts this baseline applies to: a list, or `organization`
            /// (every ACTIVE account of the AWS Organization, reached through
            /// `organization.role_name`).
            pub accounts: Accounts,
            /// With `accounts: organization`: how to reach the member accounts.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub organization: Option<OrganizationSpec>,
            /// `all` (every region enabled for the account, discovered), or a list of region names.
            pub regions: Regions,
            /// The region that holds the account's global resources: the CloudTrail
            /// trail, the log buckets, IAM recording in AWS Config, the account-level
            /// settings.
            pub home_region: String,
            $(
                $(#[doc = $doc])*
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub $key: Option<$ty>,
            )*
            /// Exceptions for some accounts and regions, applied in order over the
            /// sections above (a later override wins; within a section, the keys an
            /// override gives replace those of the base).
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub overrides: Option<Vec<Override>>,
            /// Drift the team decided to leave as it is, each with what it
            /// excuses, where, why, who decided and until when: while in
            /// force, that drift is shown as excepted, apply does not
            /// change it, and it is not drift for `--detailed-exitcode`;
            /// from the day after `expires` it is drift again.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub exceptions: Option<Vec<Exception>>,
        }

        /// Sections that differ for some accounts and/or regions.
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
        #[serde(deny_unknown_fields)]
        pub struct Override {
            /// The accounts it applies to (default: all).
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub accounts: Option<Vec<AccountId>>,
            /// The organizational units it applies to, each with every OU
            /// below it: a path from the root (`Workloads/Prod`) or an id
            /// (`ou-…`). Needs `accounts: organization` (default: all).
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub ous: Option<Vec<String>>,
            /// The regions it applies to (default: all). With regions, only
            /// regional sections may be given: config (not its bucket),
            /// access_analyzer, guardduty, ebs_encryption, securityhub.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub regions: Option<Vec<String>>,
            $(
                /// As the top-level section.
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub $key: Option<$ty>,
            )*
        }

        /// The sections a base or an override gives, borrowed: what the
        /// checks of a section's own values look at.
        #[derive(Debug, Clone, Copy, Default)]
        pub struct SectionRefs<'a> {
            $(
                #[allow(missing_docs)]
                pub $key: Option<&'a $ty>,
            )*
        }

        impl SectionRefs<'_> {
            /// The keys of the sections given, in file order.
            pub fn given(&self) -> Vec<&'static str> {
                let mut out = Vec::new();
                $(
                    if self.$key.is_some() {
                        out.push(stringify!($key));
                    }
                )*
                out
            }
        }

        impl Baseline {
            /// Its own sections (the overrides' aside).
            pub fn sections(&self) -> SectionRefs<'_> {
                SectionRefs { $($key: self.$key.as_ref()),* }
            }
        }

        impl Override {
            /// The sections it gives.
            pub fn sections(&self) -> SectionRefs<'_> {
                SectionRefs { $($key: self.$key.as_ref()),* }
            }
        }

        /// The sections, by their keys, in file order.
        pub const SECTIONS: &[&str] = &[$(stringify!($key)),*];

        /// Each section's key and whether it holds per-region resources.
        const SCOPES: &[(&str, bool)] = &[$((stringify!($key), $regional)),*];
    };
}

sections! {
    /// Root and IAM user MFA checks (reported as manual actions, never applied).
    iam: IamSpec, regional: false;
    /// AWS Config: recorder, delivery channel and its S3 bucket, in every region.
    config: ConfigSpec, regional: true;
    /// IAM Access Analyzer: an external-access analyzer in every region.
    access_analyzer: AccessAnalyzerSpec, regional: true;
    /// CloudTrail: one multi-region trail in the home region.
    cloudtrail: CloudTrailSpec, regional: false;
    /// GuardDuty: an enabled detector in every region.
    guardduty: GuardDutySpec, regional: true;
    /// EBS encryption by default, in every region.
    ebs_encryption: EbsEncryptionSpec, regional: true;
    /// Alternate contacts (billing, operations, security) of the account.
    alternate_contacts: AlternateContactsSpec, regional: false;
    /// Trusted Advisor check summaries, reported as information.
    trusted_advisor: TrustedAdvisorSpec, regional: false;
    /// Security Hub with its standards, in every region. Needs AWS Config.
    securityhub: SecurityHubSpec, regional: true;
    /// S3 Block Public Access at the account level.
    s3_public_access_block: S3PublicAccessBlockSpec, regional: false;
    /// EC2's block public access for EBS snapshots, in every region.
    ebs_snapshot_public_access: EbsSnapshotPublicAccessSpec, regional: true;
    /// The account's instance metadata (IMDS) defaults for new instances, in every region.
    instance_metadata_defaults: InstanceMetadataDefaultsSpec, regional: true;
}

/// Whether a section holds per-region resources (and so may be overridden
/// per region).
pub fn is_regional(section: &str) -> bool {
    SCOPES
        .iter()
        .any(|(key, regional)| *key == section && *regional)
}

/// a list of accounts, or `organization`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Accounts {
    /// Exactly these accounts.
    List(Vec<AccountRef>),
    /// Every ACTIVE account of the organization (discovered).
    Organization(OrganizationKeyword),
}

/// The keyword `organization`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrganizationKeyword {
    /// Every ACTIVE account of the organization.
    Organization,
}

/// How to reach the accounts of an organization.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OrganizationSpec {
    /// The role to assume in each member account (e.g. `OrganizationAccountAccessRole`).
    /// The management account itself is reached with the current credentials.
    pub role_name: String,
    /// Account ids to leave out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclude: Option<Vec<AccountId>>,
    /// The security-tooling account made the delegated administrator of
    /// GuardDuty and Security Hub (for the sections the baseline enables):
    /// the management account registers it in every planned region, and it
    /// adds every account of the organization as a member there. Member
    /// accounts are then covered by the organization, not enabled one by
    /// one. With `config`, it also holds the organization's Config
    /// aggregator; with `access_analyzer.zone: organization`, the
    /// organization's analyzer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delegated_admin: Option<AccountId>,
    /// With `delegated_admin`: AWS itself enables GuardDuty and Security
    /// Hub for every account that joins the organization later, between
    /// two runs (default true). `false`: only the accounts there at `apply`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_enable: Option<bool>,
    /// With `delegated_admin` and `securityhub`: how the administrator
    /// configures Security Hub in the organization. `central` (default):
    /// one configuration policy carrying `securityhub.standards`,
    /// associated with the organization's root, in the home region and
    /// every other planned region (linked by a cross-Region finding
    /// aggregator in the home region). `local`: member auto-enable per
    /// region, each account's standards set in the account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub securityhub_configuration: Option<SecurityHubConfiguration>,
}

/// How a delegated administrator configures Security Hub (AWS's
/// `ConfigurationType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SecurityHubConfiguration {
    /// Configuration policies, from the home region.
    Central,
    /// Member auto-enable per region; standards per account.
    Local,
}

impl OrganizationSpec {
    /// The delegated administrator, if the baseline names one.
    pub fn admin(&self) -> Option<&str> {
        self.delegated_admin.as_ref().map(|a| a.0.as_str())
    }

    /// Whether accounts that join later are covered by AWS itself.
    pub fn auto_enables(&self) -> bool {
        self.auto_enable.unwrap_or(true)
    }

    /// Whether Security Hub runs with central configuration (the default
    /// with a delegated administrator).
    pub fn securityhub_central(&self) -> bool {
        self.admin().is_some()
            && self.securityhub_configuration != Some(SecurityHubConfiguration::Local)
    }
}

/// Drift left as it is by decision, for a while (`exceptions:`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Exception {
    /// The settings it excuses, by their section keys (`config`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settings: Option<Vec<String>>,
    /// The kinds of resource it excuses (`config.recorder`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kinds: Option<Vec<String>>,
    /// The controls it excuses (`GuardDuty.1`): a change that clears one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub controls: Option<Vec<String>>,
    /// The accounts it holds in (default: all).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accounts: Option<Vec<AccountId>>,
    /// The organizational units it holds in, each with every OU below it:
    /// a path from the root (`Workloads/Prod`) or an id (`ou-…`). Needs
    /// `accounts: organization` (default: all).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ous: Option<Vec<String>>,
    /// The regions it holds in (default: all).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regions: Option<Vec<String>>,
    /// Why the drift is left.
    pub reason: String,
    /// Who decided it (a person or a team: an email, a name).
    pub owner: String,
    /// The last day it holds, `YYYY-MM-DD` (UTC); at most a year ahead
    /// unless `--allow-long-exceptions`.
    #[schemars(regex(pattern = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"))]
    pub expires: String,
}

/// The organizational unit an account is in, as the organization's tree
/// was read: its path from the root (`Workloads/Prod`) and the ids of it
/// and of every OU above it. An account directly under the root is in
/// none.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct OuPlace {
    /// The OU's names from the root down, joined by `/`.
    pub path: String,
    /// The ids (`ou-…`) of the OU and of every OU above it.
    pub ids: Vec<String>,
}

impl OuPlace {
    /// Whether an account here is within `entry` of an `ous` list (an id,
    /// or a path: the OU itself or one below it).
    pub fn within(&self, entry: &str) -> bool {
        if crate::validate::is_ou_id(entry) {
            self.ids.iter().any(|id| id == entry)
        } else {
            self.path
                .strip_prefix(entry)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
        }
    }
}

/// One account and region, with the organizational unit the account is
/// in (when the baseline names OUs and the organization was read).
#[derive(Debug, Clone, Copy)]
pub struct Place<'a> {
    /// The account id.
    pub account: &'a str,
    /// The region.
    pub region: &'a str,
    /// The account's OU.
    pub ou: Option<&'a OuPlace>,
}

impl<'a> Place<'a> {
    /// An account and region, its OU not known.
    pub fn new(account: &'a str, region: &'a str) -> Self {
        Place {
            account,
            region,
            ou: None,
        }
    }
}

/// Where an override or an exception holds, as the file names it: its
/// accounts, OUs and regions (each left out: all).
#[derive(Debug, Clone, Copy)]
pub struct Scope<'a> {
    /// `accounts`.
    pub accounts: &'a Option<Vec<AccountId>>,
    /// `ous`.
    pub ous: &'a Option<Vec<String>>,
    /// `regions`.
    pub regions: &'a Option<Vec<String>>,
}

impl Scope<'_> {
    /// Whether `place` is among its accounts, OUs and regions.
    pub fn holds(&self, place: Place<'_>) -> bool {
        self.accounts
            .as_ref()
            .is_none_or(|a| a.iter().any(|id| id.0 == place.account))
            && self.ous.as_ref().is_none_or(|o| {
                place
                    .ou
                    .is_some_and(|ou| o.iter().any(|entry| ou.within(entry)))
            })
            && self
                .regions
                .as_ref()
                .is_none_or(|r| r.iter().any(|x| x == place.region))
    }
}

impl Exception {
    /// Where it holds.
    pub fn scope(&self) -> Scope<'_> {
        Scope {
            accounts: &self.accounts,
            ous: &self.ous,
            regions: &self.regions,
        }
    }

    /// Whether it excuses the resource of `kind` at `place`, which clears
    /// `controls`.
    pub fn covers(&self, place: Place<'_>, kind: &str, controls: &[String]) -> bool {
        let setting = kind.split('.').next().unwrap_or(kind);
        let what = self.settings.iter().flatten().any(|s| s == setting)
            || self.kinds.iter().flatten().any(|k| k == kind)
            || self.controls.iter().flatten().any(|c| controls.contains(c));
        what && self.scope().holds(place)
    }

    /// Whether it is in force on `today` (`YYYY-MM-DD`): through its
    /// `expires` day.
    pub fn in_force(&self, today: &str) -> bool {
        // ISO dates of the same length compare as their days do.
        today <= self.expires.as_str()
    }
}

impl Override {
    /// Where it applies.
    pub fn scope(&self) -> Scope<'_> {
        Scope {
            accounts: &self.accounts,
            ous: &self.ous,
            regions: &self.regions,
        }
    }

    /// Whether it applies at `place`.
    pub fn applies(&self, place: Place<'_>) -> bool {
        self.scope().holds(place)
    }
}

impl Baseline {
    /// The accounts listed in the file (none for `accounts: organization`).
    pub fn listed_accounts(&self) -> &[AccountRef] {
        match &self.accounts {
            Accounts::List(list) => list,
            Accounts::Organization(_) => &[],
        }
    }

    /// The sections it manages, in file order: given in the base or by an
    /// override (which manages it where the override applies).
    pub fn managed_sections(&self) -> Vec<&'static str> {
        let given: Vec<Vec<&str>> = std::iter::once(self.sections())
            .chain(self.overrides.iter().flatten().map(Override::sections))
            .map(|s| s.given())
            .collect();
        SECTIONS
            .iter()
            .copied()
            .filter(|s| given.iter().any(|g| g.contains(s)))
            .collect()
    }

    /// The OUs its overrides and exceptions name, each with where it is
    /// named (`overrides[0].ous[1]`).
    pub fn named_ous(&self) -> Vec<(String, &str)> {
        let overrides = self.overrides.iter().flatten().map(|o| &o.ous);
        let exceptions = self.exceptions.iter().flatten().map(|e| &e.ous);
        let lists = overrides
            .enumerate()
            .map(|(i, l)| ("overrides", i, l))
            .chain(exceptions.enumerate().map(|(i, l)| ("exceptions", i, l)));
        lists
            .flat_map(|(list, i, ous)| {
                ous.iter()
                    .flatten()
                    .enumerate()
                    .map(move |(j, ou)| (format!("{list}[{i}].ous[{j}]"), ou.as_str()))
            })
            .collect()
    }

    /// The baseline as it applies at one place (an account and region):
    /// the overrides that match, in order, laid over the sections (key by
    /// key).
    pub fn for_target(&self, place: Place<'_>) -> std::borrow::Cow<'_, Baseline> {
        let matching: Vec<&Override> = self
            .overrides
            .iter()
            .flatten()
            .filter(|o| o.applies(place))
            .collect();
        if matching.is_empty() {
            return std::borrow::Cow::Borrowed(self);
        }
        let mut base = serde_json::to_value(self).expect("a baseline serializes");
        for o in matching {
            let layer = serde_json::to_value(o).expect("an override serializes");
            for section in SECTIONS {
                let Some(patch) = layer.get(section) else {
                    continue;
                };
                match base
                    .get_mut(section)
                    .and_then(serde_json::Value::as_object_mut)
                {
                    Some(existing) => {
                        for (k, v) in patch.as_object().into_iter().flatten() {
                            existing.insert(k.clone(), v.clone());
                        }
                    }
                    None => {
                        base[section] = patch.clone();
                    }
                }
            }
        }
        std::borrow::Cow::Owned(
            serde_json::from_value(base).expect("sections merged from valid sections are valid"),
        )
    }
}

/// One AWS account and how to reach it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountRef {
    /// The 12-digit account id. Quote it if it starts with 0.
    pub id: AccountId,
    /// A name to show in plans.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// A role to assume in the account (default: the current credentials).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
    /// A named profile from the AWS config files (default: the current credentials).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
}

/// A 12-digit AWS account id; written as a string or a number.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, JsonSchema)]
#[serde(transparent)]
#[schemars(with = "AccountIdSchema")]
pub struct AccountId(pub String);

/// The schema of an account id: YAML users write it quoted or not.
#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum AccountIdSchema {
    Text(String),
    Number(u64),
}

impl<'de> Deserialize<'de> for AccountId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Text(String),
            Number(u64),
        }
        Ok(match Raw::deserialize(d)? {
            Raw::Text(s) => AccountId(s),
            Raw::Number(n) => AccountId(n.to_string()),
        })
    }
}

impl std::fmt::Display for AccountId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// `all`, or a list of region names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Regions {
    /// Every region enabled for the account.
    All(AllRegions),
    /// Exactly these regions.
    List(Vec<String>),
}

/// The keyword `all`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AllRegions {
    /// Every region enabled for the account.
    All,
}

/// Whether a check is enforced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Requirement {
    /// Report every principal that does not comply.
    Required,
    /// Do not check.
    Off,
}

/// MFA checks and the account's password policy. MFA needs a person with a
/// device, so those checks are never applied: `plan` lists each principal
/// without MFA as a manual action. The password policy is applied.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IamSpec {
    /// The root user has MFA (Security Hub IAM.9).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root_mfa: Option<Requirement>,
    /// Every IAM user with a console password has MFA (IAM.5, IAM.19).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub console_user_mfa: Option<Requirement>,
    /// Every IAM user has MFA, console password or not (IAM.19's stricter rule). Off by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub all_user_mfa: Option<Requirement>,
    /// The account's password policy for IAM users (Security Hub IAM.7,
    /// IAM.11 to IAM.17; CIS 1.8, 1.9). Only the fields given are managed;
    /// the others keep their current values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_policy: Option<PasswordPolicySpec>,
}

/// The IAM password policy, field by field (each optional: a field not
/// given keeps the account's current value).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordPolicySpec {
    /// At least this many characters, 6 to 128 (IAM.15 and CIS 1.8 ask 14).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minimum_length: Option<u32>,
    /// At least one uppercase letter (IAM.11).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub require_uppercase: Option<bool>,
    /// At least one lowercase letter (IAM.12).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub require_lowercase: Option<bool>,
    /// At least one symbol (IAM.13).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub require_symbols: Option<bool>,
    /// At least one number (IAM.14).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub require_numbers: Option<bool>,
    /// Passwords expire after this many days, 1 to 1095 (IAM.17 asks 90 or fewer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_age_days: Option<u32>,
    /// This many previous passwords cannot be used again, 1 to 24 (IAM.16 and CIS 1.9 ask 24).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reuse_prevention: Option<u32>,
    /// Users may change their own password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_users_to_change: Option<bool>,
    /// An expired password can only be reset by an administrator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hard_expiry: Option<bool>,
}

impl PasswordPolicySpec {
    /// What Security Hub (IAM.7, IAM.11 to IAM.17) and CIS 1.8, 1.9 ask of
    /// each field (`baseline init` writes it for an account without one).
    pub const RECOMMENDED: PasswordPolicySpec = PasswordPolicySpec {
        minimum_length: Some(14),
        require_uppercase: Some(true),
        require_lowercase: Some(true),
        require_symbols: Some(true),
        require_numbers: Some(true),
        max_age_days: Some(90),
        reuse_prevention: Some(24),
        allow_users_to_change: Some(true),
        hard_expiry: None,
    };
}

/// How often AWS Config records changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RecordingFrequency {
    /// Every change, as it happens.
    Continuous,
    /// At most once a day per resource (cheaper).
    Daily,
}

/// AWS Config.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfigSpec {
    /// `true`: recording in every region. `false`: stopped and deleted.
    pub enabled: bool,
    /// `continuous` (default) or `daily`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recording: Option<RecordingFrequency>,
    /// Name of the S3 bucket for the delivery channel, created in the home
    /// region. `{account_id}` and `{region}` are replaced.
    /// Default: `baseline-config-{account_id}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bucket: Option<String>,
    /// `true`: take over a region's existing recorder (with its delivery channel) that baseline did not create: it is tagged
    /// `managed-by: baseline` by the next `apply`, and `destroy` deletes it
    /// from then on. Default `false`: it is corrected in place, and
    /// `destroy` leaves it (docs/safety.md).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub adopt: bool,
}

/// Zone of trust of an Access Analyzer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Zone {
    /// The account itself.
    Account,
    /// The organization (management or delegated-admin account only).
    Organization,
}

/// IAM Access Analyzer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AccessAnalyzerSpec {
    /// `true`: an ACTIVE external-access analyzer in every region.
    pub enabled: bool,
    /// `account` (default) or `organization`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone: Option<Zone>,
    /// Analyzer name. Default: `baseline`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// CloudTrail.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CloudTrailSpec {
    /// `true`: one multi-region trail, logging. `false`: the trail is deleted.
    pub enabled: bool,
    /// Trail name. Default: `baseline-trail`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Log file integrity validation. Default: `true`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_file_validation: Option<bool>,
    /// `none` (default, SSE-S3), `create` (a customer key made by baseline), or a KMS key ARN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kms: Option<String>,
    /// Name of the S3 bucket for the logs. `{account_id}` and `{region}` are
    /// replaced. Default: `baseline-cloudtrail-{account_id}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bucket: Option<String>,
    /// With `kms: create`: days before the key is deleted after `destroy`
    /// (7 to 30; default 30). It can be recovered until then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kms_deletion_window_days: Option<u32>,
    /// `true`: take over an existing trail of the configured name that baseline did not create: it is tagged
    /// `managed-by: baseline` by the next `apply`, and `destroy` deletes it
    /// from then on. Default `false`: it is corrected in place, and
    /// `destroy` leaves it (docs/safety.md).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub adopt: bool,
}

impl CloudTrailSpec {
    /// The trail name, with its default.
    pub fn trail_name(&self) -> &str {
        self.name.as_deref().unwrap_or(DEFAULT_TRAIL_NAME)
    }
    /// The bucket name template, with the default of the baseline named
    /// `name` ([`own_default`]).
    pub fn bucket_template(&self, name: Option<&str>) -> String {
        match &self.bucket {
            Some(b) => b.clone(),
            None => own_default(DEFAULT_CLOUDTRAIL_BUCKET, name),
        }
    }
    /// The KMS choice.
    pub fn kms_choice(&self) -> Kms<'_> {
        match self.kms.as_deref() {
            None | Some("none") => Kms::None,
            Some("create") => Kms::Create,
            Some(arn) => Kms::Key(arn),
        }
    }
}

/// How CloudTrail logs are encrypted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kms<'a> {
    /// SSE-S3 (the bucket's default encryption).
    None,
    /// A customer key baseline creates and manages.
    Create,
    /// This customer key.
    Key(&'a str),
}

/// `all`, or a list of protection plans.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum GuardDutyFeatures {
    /// Every protection plan.
    All(AllFeatures),
    /// Exactly these protection plans.
    List(Vec<GuardDutyFeature>),
}

/// The keyword `all`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AllFeatures {
    /// Every protection plan.
    All,
}

/// A GuardDuty protection plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum GuardDutyFeature {
    /// S3 Protection.
    S3DataEvents,
    /// EKS Protection (audit logs).
    EksAuditLogs,
    /// Malware Protection for EC2.
    EbsMalwareProtection,
    /// RDS Protection.
    RdsLoginEvents,
    /// Lambda Protection.
    LambdaNetworkLogs,
    /// Runtime Monitoring.
    RuntimeMonitoring,
}

/// GuardDuty.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GuardDutySpec {
    /// `true`: an enabled detector in every region. `false`: the detector is deleted.
    pub enabled: bool,
    /// `all` (default) or a list of protection plans.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub features: Option<GuardDutyFeatures>,
    /// `true`: take over a region's existing detector that baseline did not create: it is tagged
    /// `managed-by: baseline` by the next `apply`, and `destroy` deletes it
    /// from then on. Default `false`: it is corrected in place, and
    /// `destroy` leaves it (docs/safety.md).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub adopt: bool,
}

/// EBS encryption by default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EbsEncryptionSpec {
    /// `true`: new EBS volumes are encrypted in every region.
    pub enabled: bool,
    /// `aws-managed` or a customer KMS key ARN. Left out: the default key
    /// is not managed (whichever is set stays).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kms_key: Option<String>,
}

/// One alternate contact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    /// Person or team name (1 to 64 characters).
    #[schemars(length(min = 1, max = 64))]
    pub name: String,
    /// E-mail address.
    #[schemars(length(min = 1, max = 254))]
    pub email: String,
    /// Phone number: digits, spaces and ( ) + - (1 to 25 characters).
    #[schemars(length(min = 1, max = 25), regex(pattern = r"^[\s0-9()+-]+$"))]
    pub phone: String,
    /// Title or role (1 to 50 characters).
    #[schemars(length(min = 1, max = 50))]
    pub title: String,
}

/// Alternate contacts, so that AWS and Trusted Advisor notices reach people.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AlternateContactsSpec {
    /// Billing contact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing: Option<Contact>,
    /// Operations contact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operations: Option<Contact>,
    /// Security contact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security: Option<Contact>,
}

/// Trusted Advisor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TrustedAdvisorSpec {
    /// Read the check summaries and report them as information.
    pub report: bool,
}

/// A Security Hub standard.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Standard {
    /// AWS Foundational Security Best Practices v1.0.0.
    AwsFoundationalSecurityBestPractices,
    /// CIS AWS Foundations Benchmark v1.2.0.
    #[serde(rename = "cis-aws-foundations-benchmark-v1.2.0")]
    CisV120,
    /// CIS AWS Foundations Benchmark v1.4.0.
    #[serde(rename = "cis-aws-foundations-benchmark-v1.4.0")]
    CisV140,
    /// CIS AWS Foundations Benchmark v3.0.0.
    #[serde(rename = "cis-aws-foundations-benchmark-v3.0.0")]
    CisV300,
    /// NIST SP 800-53 Rev. 5.
    #[serde(rename = "nist-800-53-v5.0.0")]
    Nist80053,
    /// PCI DSS v3.2.1.
    #[serde(rename = "pci-dss-v3.2.1")]
    PciDss321,
}

impl Standard {
    /// Every standard baseline knows.
    pub const ALL: [Standard; 6] = [
        Standard::AwsFoundationalSecurityBestPractices,
        Standard::CisV120,
        Standard::CisV140,
        Standard::CisV300,
        Standard::Nist80053,
        Standard::PciDss321,
    ];

    /// The name users write in `baseline.yaml`.
    pub fn key(self) -> &'static str {
        match self {
            Standard::AwsFoundationalSecurityBestPractices => {
                "aws-foundational-security-best-practices"
            }
            Standard::CisV120 => "cis-aws-foundations-benchmark-v1.2.0",
            Standard::CisV140 => "cis-aws-foundations-benchmark-v1.4.0",
            Standard::CisV300 => "cis-aws-foundations-benchmark-v3.0.0",
            Standard::Nist80053 => "nist-800-53-v5.0.0",
            Standard::PciDss321 => "pci-dss-v3.2.1",
        }
    }
}

/// Security Hub.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SecurityHubSpec {
    /// `true`: enabled in every region. `false`: disabled.
    pub enabled: bool,
    /// Standards to enable. Left out: standards are not managed (only the
    /// hub is).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub standards: Option<Vec<Standard>>,
    /// `true`: enabled standards that `standards` does not list are
    /// disabled. Default `false`: they stay as they are.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub exclusive_standards: bool,
    /// `true`: take over a region's existing hub that baseline did not create: it is tagged
    /// `managed-by: baseline` by the next `apply`, and `destroy` deletes it
    /// from then on. Default `false`: it is corrected in place, and
    /// `destroy` leaves it (docs/safety.md).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub adopt: bool,
}

/// S3 Block Public Access for the whole account. A flag left out is not managed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct S3PublicAccessBlockSpec {
    /// Reject new public ACLs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub block_public_acls: Option<bool>,
    /// Ignore existing public ACLs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignore_public_acls: Option<bool>,
    /// Reject new public bucket policies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub block_public_policy: Option<bool>,
    /// Restrict access to buckets with public policies to AWS principals and the account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restrict_public_buckets: Option<bool>,
}

/// EC2's block public access for EBS snapshots: the account's setting in
/// each region.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EbsSnapshotPublicAccessSpec {
    /// `block-all-sharing`: no snapshot can be shared publicly, and those
    /// shared publicly already are treated as private; `block-new-sharing`:
    /// no new public sharing, what is shared stays so; `unblocked`.
    pub state: SnapshotSharing,
}

/// The modes of block public access for snapshots (EC2's
/// `SnapshotBlockPublicAccessState`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum SnapshotSharing {
    /// Every public sharing is blocked, the existing too.
    BlockAllSharing,
    /// New public sharing is blocked.
    BlockNewSharing,
    /// Not blocked.
    Unblocked,
}

impl SnapshotSharing {
    /// The value as EC2 names it.
    pub fn as_str(self) -> &'static str {
        match self {
            SnapshotSharing::BlockAllSharing => "block-all-sharing",
            SnapshotSharing::BlockNewSharing => "block-new-sharing",
            SnapshotSharing::Unblocked => "unblocked",
        }
    }
}

/// The account's instance metadata service defaults for instances launched
/// from now on, in each region (EC2's ModifyInstanceMetadataDefaults). A
/// field left out is not managed; `no-preference` (`-1` for the hop limit)
/// clears the account's default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InstanceMetadataDefaultsSpec {
    /// `required`: IMDSv2 only (session tokens); `optional`: IMDSv1 too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_tokens: Option<MetadataTokens>,
    /// How many network hops the token may travel: 1 to 64 (2 for
    /// containers on the instance), or -1 for no preference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_put_response_hop_limit: Option<i32>,
    /// Whether the metadata endpoint is reachable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_endpoint: Option<MetadataSwitch>,
    /// Whether instance tags are readable through the metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_metadata_tags: Option<MetadataSwitch>,
}

/// IMDS session tokens (EC2's `MetadataDefaultHttpTokensState`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum MetadataTokens {
    /// IMDSv1 and IMDSv2.
    Optional,
    /// IMDSv2 only.
    Required,
    /// No account default.
    NoPreference,
}

/// On, off or no account default (EC2's `DefaultInstanceMetadataEndpointState`
/// and `DefaultInstanceMetadataTagsState`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum MetadataSwitch {
    /// On.
    Enabled,
    /// Off.
    Disabled,
    /// No account default.
    NoPreference,
}

/// Default bucket name template for AWS Config.
pub const DEFAULT_CONFIG_BUCKET: &str = "baseline-config-{account_id}";
/// Default bucket name template for CloudTrail.
pub const DEFAULT_CLOUDTRAIL_BUCKET: &str = "baseline-cloudtrail-{account_id}";
/// Default trail name.
pub const DEFAULT_TRAIL_NAME: &str = "baseline-trail";

impl ConfigSpec {
    /// The recording frequency, with its default.
    pub fn frequency(&self) -> RecordingFrequency {
        self.recording.unwrap_or(RecordingFrequency::Continuous)
    }
    /// The bucket name template, with the default of the baseline named
    /// `name` ([`own_default`]).
    pub fn bucket_template(&self, name: Option<&str>) -> String {
        match &self.bucket {
            Some(b) => b.clone(),
            None => own_default(DEFAULT_CONFIG_BUCKET, name),
        }
    }
}

/// A default name (bucket template, key alias) made a baseline's own: as
/// it is for the unnamed baseline, with `-<name>` after it for a named
/// one, so that two baselines in one account never share a default.
pub fn own_default(base: &str, name: Option<&str>) -> String {
    match name {
        Some(n) => format!("{base}-{n}"),
        None => base.to_string(),
    }
}

/// The value of the ownership tag (`managed-by`) of the baseline named
/// `name`: `baseline` for the unnamed one, `baseline:<name>` otherwise.
pub fn owner_mark(name: Option<&str>) -> String {
    match name {
        Some(n) => format!("baseline:{n}"),
        None => "baseline".to_string(),
    }
}

/// Renders a bucket-name template for one account and region.
pub fn render_bucket(template: &str, account_id: &str, region: &str) -> String {
    template
        .replace("{account_id}", account_id)
        .replace("{region}", region)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One list declares the sections: each is a key of the baseline and
    /// of an override, and only the per-region ones may be overridden per
    /// region.
    #[test]
    fn every_section_is_a_key_of_the_baseline_and_of_an_override() {
        let schema = crate::json_schema();
        let keys = |v: &serde_json::Value| -> Vec<String> {
            v["properties"]
                .as_object()
                .unwrap()
                .keys()
                .cloned()
                .collect()
        };
        let base = keys(&schema);
        let over = keys(&schema["$defs"]["Override"]);
        for s in SECTIONS {
            assert!(base.iter().any(|k| k == s), "{s} in Baseline");
            assert!(over.iter().any(|k| k == s), "{s} in Override");
        }
        let regional: Vec<&&str> = SECTIONS.iter().filter(|s| is_regional(s)).collect();
        assert_eq!(
            regional,
            [
                &"config",
                &"access_analyzer",
                &"guardduty",
                &"ebs_encryption",
                &"securityhub",
                &"ebs_snapshot_public_access",
                &"instance_metadata_defaults"
            ]
        );
        assert!(!is_regional("no-such-section"));
    }
}
