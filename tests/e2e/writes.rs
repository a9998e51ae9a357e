//! The plan-contract checker (issue #16): after every `apply` and
//! `destroy` of this suite (`Moto::baseline`, `Moto::baseline_within`),
//! every write request the local AWS served (`GET /_baseline/writes`,
//! `tests/localaws/writes.py`) must be accounted for by a change of the
//! plan that run carried out — same account (and region, for regional
//! services), a kind of resource that makes that call, an action and
//! changed attribute that call belongs to — and its payload must be the
//! change's planned value (a policy document, an encryption algorithm, a
//! deletion window). A write no change accounts for fails the test that
//! made it.

use serde_json::Value;

/// One write request, as the local AWS logged it.
#[derive(Debug, serde::Deserialize)]
pub struct Write {
    pub account: String,
    pub region: String,
    pub service: String,
    pub operation: String,
    #[serde(default)]
    pub labels: serde_json::Map<String, Value>,
    #[serde(default)]
    pub payload: Value,
    pub status: u16,
}

/// When a change of `kinds` makes `operation`: on create, on delete, or on
/// an update that changes `attr` (any update when `None`).
struct Rule {
    service: &'static str,
    operation: &'static str,
    kinds: &'static [&'static str],
    create: bool,
    update: Option<Option<&'static str>>,
    delete: bool,
}

const BUCKETS: &[&str] = &["config.bucket", "cloudtrail.bucket"];

const fn rule(
    service: &'static str,
    operation: &'static str,
    kinds: &'static [&'static str],
    create: bool,
    update: Option<Option<&'static str>>,
    delete: bool,
) -> Rule {
    Rule {
        service,
        operation,
        kinds,
        create,
        update,
        delete,
    }
}

/// Every write baseline makes, and the changes it belongs to.
const RULES: &[Rule] = &[
    // Log buckets (bucket.rs).
    rule("s3", "CreateBucket", BUCKETS, true, None, false),
    rule(
        "s3",
        "PutPublicAccessBlock",
        BUCKETS,
        true,
        Some(Some("public_access_blocked")),
        false,
    ),
    rule(
        "s3",
        "PutBucketEncryption",
        BUCKETS,
        true,
        Some(Some("encryption")),
        false,
    ),
    rule(
        "s3",
        "PutBucketPolicy",
        BUCKETS,
        true,
        Some(Some("policy")),
        false,
    ),
    rule(
        "s3",
        "PutBucketTagging",
        BUCKETS,
        false,
        Some(Some("managed_by")),
        false,
    ),
    rule("s3", "DeleteObjects", BUCKETS, false, None, true),
    rule("s3", "DeleteBucket", BUCKETS, false, None, true),
    // The account's S3 Block Public Access.
    rule(
        "s3control",
        "PutPublicAccessBlock",
        &["s3_public_access_block.account"],
        true,
        Some(None),
        false,
    ),
    // Block public access for EBS snapshots.
    rule(
        "ec2",
        "EnableSnapshotBlockPublicAccess",
        &["ebs_snapshot_public_access.state"],
        true,
        Some(Some("state")),
        false,
    ),
    rule(
        "ec2",
        "DisableSnapshotBlockPublicAccess",
        &["ebs_snapshot_public_access.state"],
        true,
        Some(Some("state")),
        false,
    ),
    // The account's IMDS defaults.
    rule(
        "ec2",
        "ModifyInstanceMetadataDefaults",
        &["instance_metadata_defaults.account"],
        true,
        Some(None),
        false,
    ),
    // The CloudTrail key.
    rule(
        "kms",
        "CreateKey",
        &["cloudtrail.kms_key"],
        true,
        None,
        false,
    ),
    rule(
        "kms",
        "CreateAlias",
        &["cloudtrail.kms_key"],
        true,
        None,
        false,
    ),
    rule(
        "kms",
        "PutKeyPolicy",
        &["cloudtrail.kms_key"],
        true,
        Some(Some("policy")),
        false,
    ),
    rule(
        "kms",
        "EnableKeyRotation",
        &["cloudtrail.kms_key"],
        true,
        Some(Some("rotation")),
        false,
    ),
    rule(
        "kms",
        "EnableKey",
        &["cloudtrail.kms_key"],
        false,
        Some(Some("state")),
        false,
    ),
    rule(
        "kms",
        "CancelKeyDeletion",
        &["cloudtrail.kms_key"],
        false,
        Some(Some("state")),
        false,
    ),
    rule(
        "kms",
        "ScheduleKeyDeletion",
        &["cloudtrail.kms_key"],
        false,
        None,
        true,
    ),
    // The trail.
    rule(
        "cloudtrail",
        "CreateTrail",
        &["cloudtrail.trail"],
        true,
        None,
        false,
    ),
    rule(
        "cloudtrail",
        "UpdateTrail",
        &["cloudtrail.trail"],
        false,
        Some(None),
        false,
    ),
    rule(
        "cloudtrail",
        "PutEventSelectors",
        &["cloudtrail.trail"],
        true,
        Some(Some("management_events")),
        false,
    ),
    rule(
        "cloudtrail",
        "StartLogging",
        &["cloudtrail.trail"],
        true,
        Some(Some("logging")),
        false,
    ),
    rule(
        "cloudtrail",
        "AddTags",
        &["cloudtrail.trail"],
        false,
        Some(Some("managed_by")),
        false,
    ),
    rule(
        "cloudtrail",
        "DeleteTrail",
        &["cloudtrail.trail"],
        false,
        None,
        true,
    ),
    // AWS Config.
    rule(
        "iam",
        "CreateServiceLinkedRole",
        &["config.service_linked_role"],
        true,
        None,
        false,
    ),
    rule(
        "config",
        "PutConfigurationRecorder",
        &["config.recorder"],
        true,
        Some(None),
        false,
    ),
    rule(
        "config",
        "TagResource",
        &["config.recorder"],
        false,
        Some(Some("managed_by")),
        false,
    ),
    rule(
        "config",
        "DeleteConfigurationRecorder",
        &["config.recorder"],
        false,
        None,
        true,
    ),
    rule(
        "config",
        "PutDeliveryChannel",
        &["config.delivery_channel"],
        true,
        Some(None),
        false,
    ),
    rule(
        "config",
        "DeleteDeliveryChannel",
        &["config.delivery_channel"],
        false,
        None,
        true,
    ),
    rule(
        "config",
        "StartConfigurationRecorder",
        &["config.recording"],
        true,
        Some(None),
        false,
    ),
    rule(
        "config",
        "StopConfigurationRecorder",
        &["config.recording"],
        false,
        None,
        true,
    ),
    // IAM Access Analyzer.
    rule(
        "accessanalyzer",
        "CreateAnalyzer",
        &["access_analyzer.analyzer"],
        true,
        None,
        false,
    ),
    rule(
        "accessanalyzer",
        "DeleteAnalyzer",
        &["access_analyzer.analyzer"],
        false,
        None,
        true,
    ),
    rule(
        "accessanalyzer",
        "TagResource",
        &["access_analyzer.analyzer"],
        false,
        Some(Some("managed_by")),
        false,
    ),
    // GuardDuty.
    rule(
        "guardduty",
        "CreateDetector",
        &["guardduty.detector"],
        true,
        None,
        false,
    ),
    // A new detector is created naming no plan, then set to the planned
    // plans the region offers.
    rule(
        "guardduty",
        "UpdateDetector",
        &["guardduty.detector"],
        true,
        Some(None),
        false,
    ),
    rule(
        "guardduty",
        "TagResource",
        &["guardduty.detector"],
        // A create in the delegated administrator takes the one its
        // designation made, and marks it.
        true,
        Some(Some("managed_by")),
        false,
    ),
    rule(
        "guardduty",
        "DeleteDetector",
        &["guardduty.detector"],
        false,
        None,
        true,
    ),
    // GuardDuty through the delegated administrator (organization.rs):
    // trusted access and the administrator from the management account,
    // the organization configuration and members from the administrator.
    rule(
        "organizations",
        "EnableAWSServiceAccess",
        &[
            "guardduty.delegated_admin",
            "securityhub.delegated_admin",
            "access_analyzer.delegated_admin",
            "access_analyzer.trusted_access",
            "config.delegated_admin",
        ],
        true,
        None,
        false,
    ),
    rule(
        "organizations",
        "RegisterDelegatedAdministrator",
        &["access_analyzer.delegated_admin", "config.delegated_admin"],
        true,
        None,
        false,
    ),
    // AWS Config's organization aggregator and its role.
    rule(
        "iam",
        "CreateRole",
        &["config.aggregator_role"],
        true,
        None,
        false,
    ),
    rule(
        "iam",
        "AttachRolePolicy",
        &["config.aggregator_role"],
        true,
        Some(Some("policy")),
        false,
    ),
    rule(
        "config",
        "PutConfigurationAggregator",
        &["config.aggregator"],
        true,
        Some(None),
        false,
    ),
    rule(
        "guardduty",
        "EnableOrganizationAdminAccount",
        &["guardduty.delegated_admin"],
        true,
        None,
        false,
    ),
    rule(
        "guardduty",
        "UpdateOrganizationConfiguration",
        &["guardduty.organization"],
        true,
        Some(None),
        false,
    ),
    rule(
        "guardduty",
        "UpdateMemberDetectors",
        &["guardduty.member_plans"],
        true,
        Some(None),
        false,
    ),
    rule(
        "guardduty",
        "CreateMembers",
        &["guardduty.members"],
        true,
        Some(Some("accounts")),
        false,
    ),
    // Security Hub through the delegated administrator.
    rule(
        "securityhub",
        "EnableOrganizationAdminAccount",
        &["securityhub.delegated_admin"],
        true,
        None,
        false,
    ),
    rule(
        "securityhub",
        "UpdateOrganizationConfiguration",
        &["securityhub.organization"],
        true,
        Some(None),
        false,
    ),
    rule(
        "securityhub",
        "CreateMembers",
        &["securityhub.members"],
        true,
        Some(Some("accounts")),
        false,
    ),
    // Security Hub's central configuration (securityhub/central/).
    rule(
        "securityhub",
        "CreateFindingAggregator",
        &["securityhub.aggregator"],
        true,
        Some(None),
        false,
    ),
    rule(
        "securityhub",
        "UpdateFindingAggregator",
        &["securityhub.aggregator"],
        false,
        Some(None),
        false,
    ),
    rule(
        "securityhub",
        "CreateConfigurationPolicy",
        &["securityhub.policy"],
        true,
        Some(None),
        false,
    ),
    rule(
        "securityhub",
        "UpdateConfigurationPolicy",
        &["securityhub.policy"],
        false,
        Some(None),
        false,
    ),
    rule(
        "securityhub",
        "StartConfigurationPolicyAssociation",
        &["securityhub.association"],
        true,
        Some(None),
        false,
    ),
    rule(
        "securityhub",
        "StartConfigurationPolicyDisassociation",
        &["securityhub.association"],
        false,
        Some(Some("self_managed")),
        false,
    ),
    // The IAM password policy: one call sets the whole policy.
    rule(
        "iam",
        "UpdateAccountPasswordPolicy",
        &["iam.password_policy"],
        true,
        Some(None),
        false,
    ),
    // EBS default encryption.
    rule(
        "ec2",
        "EnableEbsEncryptionByDefault",
        &["ebs_encryption.by_default"],
        true,
        Some(Some("enabled")),
        false,
    ),
    rule(
        "ec2",
        "DisableEbsEncryptionByDefault",
        &["ebs_encryption.by_default"],
        false,
        Some(Some("enabled")),
        true,
    ),
    rule(
        "ec2",
        "ModifyEbsDefaultKmsKeyId",
        &["ebs_encryption.by_default"],
        true,
        Some(Some("kms_key")),
        false,
    ),
    rule(
        "ec2",
        "ResetEbsDefaultKmsKeyId",
        &["ebs_encryption.by_default"],
        true,
        Some(Some("kms_key")),
        false,
    ),
    // Alternate contacts.
    rule(
        "account",
        "PutAlternateContact",
        &["alternate_contacts.contact"],
        true,
        Some(None),
        false,
    ),
    // Security Hub.
    rule(
        "securityhub",
        "EnableSecurityHub",
        &["securityhub.hub"],
        true,
        None,
        false,
    ),
    rule(
        "securityhub",
        "TagResource",
        &["securityhub.hub"],
        // A create in the delegated administrator takes the one its
        // designation made, and marks it.
        true,
        Some(Some("managed_by")),
        false,
    ),
    rule(
        "securityhub",
        "DisableSecurityHub",
        &["securityhub.hub"],
        false,
        None,
        true,
    ),
    rule(
        "securityhub",
        "BatchEnableStandards",
        &["securityhub.standards"],
        true,
        Some(Some("enabled")),
        false,
    ),
    rule(
        "securityhub",
        "BatchDisableStandards",
        &["securityhub.standards"],
        false,
        Some(Some("enabled")),
        false,
    ),
];

/// Services whose resources are global (their requests are signed for
/// one region whatever the plan's home region is).
const GLOBAL: &[&str] = &["iam", "account", "organizations"];

fn json_str(s: &str) -> Value {
    Value::String(s.to_string())
}

fn after<'a>(change: &'a Value, attr: &str) -> &'a Value {
    &change["after"][attr]
}

fn policy_of(payload: &Value, field: Option<&str>) -> Value {
    let text = match field {
        Some(f) => payload[f].clone(),
        None => payload.clone(),
    };
    match text {
        Value::String(s) => serde_json::from_str(&s).unwrap_or(Value::String(s)),
        v => v,
    }
}

/// `v` without empty lists and nulls (what a request leaves out).
fn without_empty(v: &Value) -> Value {
    match v {
        Value::Object(o) => Value::Object(
            o.iter()
                .filter(|(_, v)| !v.is_null() && v.as_array().is_none_or(|a| !a.is_empty()))
                .map(|(k, v)| (k.clone(), without_empty(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(without_empty).collect()),
        v => v.clone(),
    }
}

/// Whether `w` names the resource of `change`, where the call names one,
/// and sends the change's planned value, where it sends one. `Err`: why
/// not.
fn names_and_sends(w: &Write, change: &Value) -> Result<(), String> {
    let name = change["address"]["name"].as_str().unwrap_or_default();
    let label = |k: &str| w.labels.get(k).and_then(Value::as_str).unwrap_or_default();
    let field = |k: &str| w.payload[k].as_str().unwrap_or_default().to_string();
    let key_arn = change["before"]["key_arn"].as_str().unwrap_or_default();
    let same_key = |id: &str| {
        change["action"] == "create"
            || (!id.is_empty() && key_arn.ends_with(id.rsplit('/').next().unwrap_or(id)))
    };
    let planned_policy = |field: Option<&str>| {
        let sent = policy_of(&w.payload, field);
        let planned = after(change, "policy");
        if &sent == planned {
            Ok(())
        } else {
            Err(format!("sent the policy {sent}, the plan shows {planned}"))
        }
    };
    match (w.service.as_str(), w.operation.as_str()) {
        ("s3", op) => {
            if label("Bucket") != name {
                return Err(format!("bucket {} is not {name}", label("Bucket")));
            }
            match op {
                "PutBucketPolicy" => planned_policy(None),
                "PutBucketEncryption" => {
                    let planned = after(change, "encryption").as_str().unwrap_or("(none)");
                    let sent = w.payload.as_str().unwrap_or_default();
                    if sent.contains(&format!("<SSEAlgorithm>{planned}</SSEAlgorithm>")) {
                        Ok(())
                    } else {
                        Err(format!("sent {sent}, the plan shows encryption {planned}"))
                    }
                }
                _ => Ok(()),
            }
        }
        ("kms", "CreateAlias") if field("AliasName") != name => {
            Err(format!("alias {} is not {name}", field("AliasName")))
        }
        ("iam", "UpdateAccountPasswordPolicy") => {
            // Each planned field as sent (the query protocol sends text).
            let names = [
                ("minimum_length", "MinimumPasswordLength"),
                ("require_uppercase", "RequireUppercaseCharacters"),
                ("require_lowercase", "RequireLowercaseCharacters"),
                ("require_symbols", "RequireSymbols"),
                ("require_numbers", "RequireNumbers"),
                ("max_age_days", "MaxPasswordAge"),
                ("reuse_prevention", "PasswordReusePrevention"),
                ("allow_users_to_change", "AllowUsersToChangePassword"),
                ("hard_expiry", "HardExpiry"),
            ];
            let planned = change["after"].as_object().cloned().unwrap_or_default();
            for (attr, value) in &planned {
                let Some((_, param)) = names.iter().find(|(a, _)| a == attr) else {
                    return Err(format!("the plan names a field {attr} no parameter sends"));
                };
                let sent = field(param);
                let want = match value {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                if sent != want {
                    return Err(format!(
                        "sent {param}={sent}, the plan shows {attr} = {want}"
                    ));
                }
            }
            Ok(())
        }
        ("kms", "CreateKey") => planned_policy(Some("Policy")),
        ("kms", "PutKeyPolicy") if !same_key(&field("KeyId")) => Err(format!(
            "key {} is not the plan's {key_arn}",
            field("KeyId")
        )),
        ("kms", "PutKeyPolicy") => planned_policy(Some("Policy")),
        ("kms", "ScheduleKeyDeletion") => {
            let window = &change["private"]["deletion_window_days"];
            if !same_key(&field("KeyId")) {
                Err(format!(
                    "key {} is not the plan's {key_arn}",
                    field("KeyId")
                ))
            } else if &w.payload["PendingWindowInDays"] != window {
                Err(format!(
                    "window {} days, the plan's private data says {window}",
                    w.payload["PendingWindowInDays"]
                ))
            } else {
                Ok(())
            }
        }
        ("kms", "EnableKey" | "CancelKeyDeletion" | "EnableKeyRotation")
            if !same_key(&field("KeyId")) =>
        {
            Err(format!(
                "key {} is not the plan's {key_arn}",
                field("KeyId")
            ))
        }
        ("cloudtrail", _) => {
            let trail = ["Name", "TrailName", "ResourceId"]
                .iter()
                .map(|k| field(k))
                .find(|v| !v.is_empty())
                .unwrap_or_default();
            let trail = trail.rsplit('/').next().unwrap_or_default();
            if trail != name {
                return Err(format!("trail {trail} is not {name}"));
            }
            if w.operation == "PutEventSelectors" {
                // The SDK leaves empty lists out of the request.
                let mut sent = w.payload.clone();
                if let Some(o) = sent.as_object_mut() {
                    o.remove("TrailName");
                }
                let (sent, planned) = (
                    without_empty(&sent),
                    without_empty(after(change, "event_selectors")),
                );
                if sent != planned {
                    return Err(format!(
                        "sent the selectors {sent}, the plan shows {planned}"
                    ));
                }
            }
            Ok(())
        }
        ("guardduty" | "securityhub", "EnableOrganizationAdminAccount") => {
            let sent = ["adminAccountId", "AdminAccountId"]
                .iter()
                .map(|k| field(k))
                .find(|v| !v.is_empty())
                .unwrap_or_default();
            if &json_str(&sent) != after(change, "admin_account") {
                return Err(format!("administrator {sent} is not the plan's"));
            }
            Ok(())
        }
        ("organizations", "RegisterDelegatedAdministrator")
            if &json_str(&field("AccountId")) != after(change, "admin_account") =>
        {
            Err(format!(
                "administrator {} is not the plan's",
                field("AccountId")
            ))
        }
        ("guardduty", "UpdateOrganizationConfiguration")
            if &w.payload["autoEnableOrganizationMembers"]
                != after(change, "auto_enable_members") =>
        {
            Err(format!(
                "auto-enable {} is not the plan's",
                w.payload["autoEnableOrganizationMembers"]
            ))
        }
        ("securityhub", "UpdateOrganizationConfiguration")
            if after(change, "configuration_type").is_string() =>
        {
            let sent = &w.payload["OrganizationConfiguration"]["ConfigurationType"];
            if sent != after(change, "configuration_type")
                || w.payload["AutoEnable"] != Value::Bool(false)
            {
                return Err(format!(
                    "sent {}, the plan shows {}",
                    w.payload, change["after"]
                ));
            }
            Ok(())
        }
        ("securityhub", "UpdateOrganizationConfiguration")
            if &w.payload["AutoEnable"] != after(change, "auto_enable")
                || &w.payload["AutoEnableStandards"] != after(change, "auto_enable_standards") =>
        {
            Err(format!(
                "sent {}, the plan shows {}",
                w.payload, change["after"]
            ))
        }
        ("securityhub", "CreateFindingAggregator" | "UpdateFindingAggregator") => {
            let regions = w.payload["Regions"].clone();
            let regions = if regions.is_null() {
                Value::Array(Vec::new())
            } else {
                regions
            };
            if &w.payload["RegionLinkingMode"] != after(change, "linking")
                || &regions != after(change, "regions")
            {
                return Err(format!(
                    "sent {}, the plan shows {}",
                    w.payload, change["after"]
                ));
            }
            Ok(())
        }
        ("securityhub", "CreateConfigurationPolicy" | "UpdateConfigurationPolicy") => {
            // The standards sent are the plan's, as ARNs of the home region.
            let hub = &w.payload["ConfigurationPolicy"]["SecurityHub"];
            let mut sent: Vec<String> = hub["EnabledStandardIdentifiers"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect();
            sent.sort();
            let mut planned: Vec<String> = after(change, "standards")
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .filter_map(|k| baseline_spec::Standard::ALL.iter().find(|s| s.key() == k))
                .map(|s| {
                    baseline_providers::securityhub::arn_of(
                        *s,
                        baseline_providers::policy::partition_of_region(&w.region),
                        &w.region,
                    )
                })
                .collect();
            planned.sort();
            if sent != planned || hub["ServiceEnabled"] != Value::Bool(true) {
                return Err(format!(
                    "sent {}, the plan shows {}",
                    w.payload, change["after"]
                ));
            }
            Ok(())
        }
        ("securityhub", "StartConfigurationPolicyAssociation") => {
            // The root, or an excluded account the plan makes self-managed.
            let target = &w.payload["Target"];
            let root = target["RootId"].is_string() && &target["RootId"] == after(change, "root");
            let own = target["AccountId"].as_str().is_some_and(|id| {
                w.payload["ConfigurationPolicyIdentifier"] == "SELF_MANAGED_SECURITY_HUB"
                    && after(change, "self_managed")
                        .as_array()
                        .is_some_and(|a| a.iter().any(|x| x == id))
            });
            if !root && !own {
                return Err(format!(
                    "sent {}, the plan shows {}",
                    w.payload, change["after"]
                ));
            }
            Ok(())
        }
        ("securityhub", "StartConfigurationPolicyDisassociation") => {
            // Only an account the plan takes out of `self_managed`.
            let id = w.payload["Target"]["AccountId"]
                .as_str()
                .unwrap_or_default();
            let listed = |side: &Value| {
                side["self_managed"]
                    .as_array()
                    .is_some_and(|a| a.iter().any(|x| x == id))
            };
            if !listed(&change["before"]) || listed(&change["after"]) {
                return Err(format!("{id} is not an account the plan stops leaving out"));
            }
            Ok(())
        }
        ("guardduty" | "securityhub", "CreateMembers") => {
            let before: Vec<&Value> = change["before"]["accounts"]
                .as_array()
                .map(|a| a.iter().collect())
                .unwrap_or_default();
            let planned = after(change, "accounts")
                .as_array()
                .cloned()
                .unwrap_or_default();
            let details = w.payload["accountDetails"]
                .as_array()
                .or(w.payload["AccountDetails"].as_array())
                .cloned()
                .unwrap_or_default();
            for d in details {
                let id = d["accountId"]
                    .as_str()
                    .or(d["AccountId"].as_str())
                    .unwrap_or_default();
                if !planned.iter().any(|p| p == id) || before.iter().any(|b| *b == id) {
                    return Err(format!("member {id} is not one the plan adds"));
                }
            }
            Ok(())
        }
        ("securityhub", "BatchEnableStandards" | "BatchDisableStandards") => {
            let set = |side: &str| -> std::collections::BTreeSet<String> {
                change[side]["enabled"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            };
            let (before, after) = (set("before"), set("after"));
            let (sent, planned): (Vec<String>, Vec<String>) =
                if w.operation == "BatchEnableStandards" {
                    let arn = |k: &String| {
                        baseline_spec::Standard::ALL
                            .iter()
                            .find(|s| s.key() == k)
                            .map(|s| {
                                baseline_providers::securityhub::arn_of(
                                    *s,
                                    baseline_providers::policy::partition_of_region(&w.region),
                                    &w.region,
                                )
                            })
                            .unwrap_or_else(|| k.clone())
                    };
                    (
                        w.payload["StandardsSubscriptionRequests"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .filter_map(|r| r["StandardsArn"].as_str().map(str::to_string))
                            .collect(),
                        after.difference(&before).map(arn).collect(),
                    )
                } else {
                    (
                        w.payload["StandardsSubscriptionArns"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .filter_map(|r| r.as_str().map(str::to_string))
                            .collect(),
                        before
                            .difference(&after)
                            .map(|k| {
                                change["private"]["subscriptions"][k]
                                    .as_str()
                                    .unwrap_or("?")
                                    .to_string()
                            })
                            .collect(),
                    )
                };
            let (mut sent, mut planned) = (sent, planned);
            sent.sort();
            planned.sort();
            if sent == planned {
                Ok(())
            } else {
                Err(format!("sent {sent:?}, the plan shows {planned:?}"))
            }
        }
        ("config", "PutDeliveryChannel") => {
            let c = &w.payload["DeliveryChannel"];
            let pairs = [
                ("s3BucketName", "s3_bucket_name"),
                ("s3KeyPrefix", "s3_key_prefix"),
                ("s3KmsKeyArn", "s3_kms_key_arn"),
                ("snsTopicARN", "sns_topic_arn"),
            ];
            for (field, attr) in pairs {
                let planned = after(change, attr);
                if &c[field] != planned && !(c[field].is_null() && planned.is_null()) {
                    return Err(format!(
                        "sent {field} {}, the plan shows {planned}",
                        c[field]
                    ));
                }
            }
            Ok(())
        }
        ("config", "PutConfigurationRecorder") => {
            let r = &w.payload["ConfigurationRecorder"];
            let sent = [
                ("role_arn", r["roleARN"].clone()),
                ("all_supported", r["recordingGroup"]["allSupported"].clone()),
                (
                    "include_global_resource_types",
                    r["recordingGroup"]["includeGlobalResourceTypes"].clone(),
                ),
                (
                    "recording_frequency",
                    r["recordingMode"]["recordingFrequency"].clone(),
                ),
            ];
            for (attr, value) in sent {
                if &value != after(change, attr) {
                    return Err(format!(
                        "sent {attr} {value}, the plan shows {}",
                        after(change, attr)
                    ));
                }
            }
            Ok(())
        }
        // Block public access for snapshots: the mode planned, or
        // Disable for `unblocked` only.
        ("ec2", "EnableSnapshotBlockPublicAccess" | "DisableSnapshotBlockPublicAccess") => {
            let planned = after(change, "state").as_str().unwrap_or_default();
            let sent = if w.operation.starts_with("Disable") {
                "unblocked".to_string()
            } else {
                field("State")
            };
            if sent == planned {
                Ok(())
            } else {
                Err(format!("sent the state {sent}, the plan shows {planned}"))
            }
        }
        // The IMDS defaults: each field sent is the one planned.
        ("ec2", "ModifyInstanceMetadataDefaults") => {
            for (param, attr) in [
                ("HttpTokens", "http_tokens"),
                ("HttpEndpoint", "http_endpoint"),
                ("InstanceMetadataTags", "instance_metadata_tags"),
            ] {
                let sent = field(param);
                if !sent.is_empty() && after(change, attr).as_str() != Some(sent.as_str()) {
                    return Err(format!(
                        "sent {param} {sent}, the plan shows {}",
                        after(change, attr)
                    ));
                }
            }
            let hops = field("HttpPutResponseHopLimit");
            if !hops.is_empty()
                && after(change, "http_put_response_hop_limit").as_i64() != hops.parse::<i64>().ok()
            {
                return Err(format!(
                    "sent HttpPutResponseHopLimit {hops}, the plan shows {}",
                    after(change, "http_put_response_hop_limit")
                ));
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Every write of `writes` matched to a change of `plan` (the JSON plan a
/// run carried out); `Err` lists the writes nothing accounts for.
pub fn check(plan: &Value, writes: &[Write]) -> Result<(), String> {
    let changes: Vec<&Value> = plan["changes"]
        .as_array()
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    let mut unaccounted = Vec::new();
    for w in writes {
        let rules: Vec<&Rule> = RULES
            .iter()
            .filter(|r| r.service == w.service && r.operation == w.operation)
            .collect();
        let mut why = Vec::new();
        let accounted = changes.iter().any(|c| {
            let a = &c["address"];
            if a["account"] != w.account.as_str()
                || (!GLOBAL.contains(&w.service.as_str()) && a["region"] != w.region.as_str())
            {
                return false;
            }
            let kind = a["kind"].as_str().unwrap_or_default();
            let changed = |attr: &str| {
                c["changed"]
                    .as_array()
                    .is_some_and(|l| l.iter().any(|k| k == attr))
            };
            let fits = rules.iter().any(|r| {
                r.kinds.contains(&kind)
                    && match c["action"].as_str().unwrap_or_default() {
                        "create" => r.create,
                        "delete" => r.delete,
                        "update" => match r.update {
                            Some(Some(attr)) => changed(attr),
                            Some(None) => true,
                            None => false,
                        },
                        _ => false,
                    }
            });
            if !fits {
                return false;
            }
            match names_and_sends(w, c) {
                Ok(()) => true,
                Err(e) => {
                    why.push(format!("{kind}[{}]: {e}", a["name"]));
                    false
                }
            }
        });
        if !accounted {
            unaccounted.push(format!(
                "{} {} in account {}, {} (HTTP {}){}",
                w.service,
                w.operation,
                w.account,
                w.region,
                w.status,
                if why.is_empty() {
                    ": no change of the plan makes this call".to_string()
                } else {
                    format!(": {}", why.join("; "))
                }
            ));
        }
    }
    if unaccounted.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "apply wrote what its plan does not show:\n  {}",
            unaccounted.join("\n  ")
        ))
    }
}

/// The checker sees the writes of an apply, accounts for each by its
/// plan, and fails on a write the plan does not show: a call no change
/// makes, and a planned call with another payload than planned.
#[tokio::test(flavor = "multi_thread")]
async fn the_checker_accounts_for_every_write_and_fails_on_an_unplanned_one() {
    use crate::moto::{Moto, baseline_file};
    let moto = Moto::start();
    let dir = tempfile::tempdir().unwrap();
    let file = baseline_file(
        &dir,
        "version: 1\naccounts: [{id: \"123456789012\"}]\nregions: [ap-northeast-1]\nhome_region: ap-northeast-1\nconfig: {enabled: true}\n",
    );
    let planfile = dir.path().join("plan.json");
    let p = planfile.to_str().unwrap();
    let plan = moto.baseline(&["plan", "-f", file.to_str().unwrap(), "--out", p]);
    assert_eq!(plan.code, 0, "{plan:?}");
    let apply = moto.baseline(&["apply", p]);
    assert_eq!(apply.code, 0, "{apply:?}");
    let plan: Value = serde_json::from_str(&std::fs::read_to_string(&planfile).unwrap()).unwrap();
    let writes = moto.writes(0);
    let ops: Vec<&str> = writes.iter().map(|w| w.operation.as_str()).collect();
    for op in [
        "CreateServiceLinkedRole",
        "CreateBucket",
        "PutBucketPolicy",
        "PutConfigurationRecorder",
        "StartConfigurationRecorder",
    ] {
        assert!(ops.contains(&op), "{op} not seen: {ops:?}");
    }
    assert_eq!(check(&plan, &writes), Ok(()));

    // A write no change of the plan makes: the bucket's encryption, which
    // the plan creates as AES256, set to SSE-KMS.
    let bucket = "baseline-config-123456789012";
    let s3 = baseline_providers::clients::s3(&moto.sdk("ap-northeast-1").await, "ap-northeast-1");
    let before = moto.writes(0).len();
    s3.put_bucket_encryption()
        .bucket(bucket)
        .server_side_encryption_configuration(
            aws_sdk_s3::types::ServerSideEncryptionConfiguration::builder()
                .rules(
                    aws_sdk_s3::types::ServerSideEncryptionRule::builder()
                        .apply_server_side_encryption_by_default(
                            aws_sdk_s3::types::ServerSideEncryptionByDefault::builder()
                                .sse_algorithm(aws_sdk_s3::types::ServerSideEncryption::AwsKms)
                                .build()
                                .unwrap(),
                        )
                        .build(),
                )
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let err = check(&plan, &moto.writes(before)).unwrap_err();
    assert!(
        err.contains("s3 PutBucketEncryption") && err.contains("the plan shows encryption AES256"),
        "{err}"
    );
    // A policy other than the planned one.
    let before = moto.writes(0).len();
    s3.put_bucket_policy()
        .bucket(bucket)
        .policy(r#"{"Version":"2012-10-17","Statement":[]}"#)
        .send()
        .await
        .unwrap();
    let err = check(&plan, &moto.writes(before)).unwrap_err();
    assert!(err.contains("sent the policy"), "{err}");
    // A call nothing in this plan makes at all.
    let before = moto.writes(0).len();
    aws_sdk_guardduty::Client::new(&moto.sdk("ap-northeast-1").await)
        .create_detector()
        .enable(true)
        .send()
        .await
        .unwrap();
    let err = check(&plan, &moto.writes(before)).unwrap_err();
    assert!(
        err.contains("guardduty CreateDetector")
            && err.contains("no change of the plan makes this call"),
        "{err}"
    );
}
