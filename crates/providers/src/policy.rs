//! The IAM policy a baseline needs: `baseline policy`.
//!
//! Each setting's own actions are in the settings registry
//! (`registry.rs`), by what the command does: reads for every `plan`,
//! writes for `apply`, teardown for `destroy`. Here they are assembled
//! with what is scoped to a resource: the log buckets, the trail, the key
//! alias and the keys tagged as baseline's, the service-linked roles, the
//! roles assumed. They are the IAM names of the calls the provider modules
//! make; `tests/e2e/policy.rs` runs the whole cycle with
//! `BASELINE_CALL_LOG` and fails on any call the printed policy does not
//! allow, so these lists cannot fall behind the code.

use baseline_spec::{Accounts, Baseline, Override, Zone, render_bucket};
use serde_json::{Value, json};

use crate::registry::SETTINGS;

/// Which kind of account of an organization run through a delegated
/// administrator (`organization.delegated_admin`) the policy is for: only
/// the statements the role needs there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountKind {
    /// The management account: it registers the administrator (and is
    /// covered as a member).
    Management,
    /// The delegated administrator.
    Administrator,
    /// Every other account.
    Member,
}

impl AccountKind {
    /// Whether a statement kept for `under` (a registry key) is needed in
    /// this kind of account.
    fn needs(self, under: &str) -> bool {
        use crate::registry::{IN_ADMINISTRATOR, IN_MANAGEMENT, IN_MEMBERS};
        match under.strip_suffix(":central").unwrap_or(under) {
            IN_MANAGEMENT => self == AccountKind::Management,
            IN_ADMINISTRATOR => self == AccountKind::Administrator,
            IN_MEMBERS => self != AccountKind::Administrator,
            _ => true,
        }
    }
}

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

/// Malware Protection for EC2's service principal: GuardDuty's EBS malware
/// protection makes its service-linked role when a detector turns it on,
/// and the designation of GuardDuty's administrator enables trusted access
/// for it too (AmazonGuardDutyFullAccess_v2 names it in both).
pub(crate) const MALWARE_PROTECTION: &str = "malware-protection.guardduty.amazonaws.com";

/// Organizations' writes that delegate a service to an account: granted
/// only for the baseline's services (`organizations:ServicePrincipal`)
/// and, for the registration, only for its administrator's account.
const DELEGATION: &[&str] = &[
    "organizations:EnableAWSServiceAccess",
    "organizations:RegisterDelegatedAdministrator",
];

/// Key-level KMS writes: only on keys tagged as baseline's.
const KMS_OWN_KEY_WRITE: &[&str] = &[
    "kms:EnableKeyRotation",
    "kms:PutKeyPolicy",
    "kms:EnableKey",
    "kms:CancelKeyDeletion",
];
const KMS_OWN_KEY_TEARDOWN: &[&str] = &["kms:ScheduleKeyDeletion"];

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
    SETTINGS
        .iter()
        .filter(|s| any_true(base, s.section, "adopt"))
        .filter_map(|s| s.adopt_tag)
        .collect()
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
    policy_in(baseline, command, None)
}

/// The policy for one kind of account of an organization run through a
/// delegated administrator (`None`: every statement, for a role that runs
/// in every kind of account).
pub fn policy_in(baseline: &Baseline, command: PolicyFor, account: Option<AccountKind>) -> Value {
    let p = partition_of_region(&baseline.home_region);
    let apply = command == PolicyFor::Apply;
    let destroy = command == PolicyFor::Destroy;
    let mut statements = Vec::new();
    let b = baseline;
    let base = serde_json::to_value(b).unwrap_or_default();
    let delegated = b.organization.as_ref().and_then(|o| o.admin()).is_some();
    // Whether a section (of the base or of an override) turns a paid
    // service off: `apply` then tears it down.
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
    let managed = b.managed_sections();
    let given = |section: &str| managed.contains(&section);
    // Each setting the baseline manages, as the registry lists its
    // actions: `plan` reads only what the baseline manages; `destroy`
    // touches only the paid services (the free settings are not read).
    for setting in SETTINGS {
        if !given(setting.section) || (destroy && !setting.paid) {
            continue;
        }
        for a in setting.actions {
            if a.under.is_some_and(|key| {
                if key.starts_with(crate::registry::DELEGATED) {
                    let central = b
                        .organization
                        .as_ref()
                        .is_some_and(|o| o.securityhub_central());
                    !delegated
                        || (key.ends_with(":central") && !central)
                        || account.is_some_and(|kind| !kind.needs(key))
                } else {
                    setting_values(&base, setting.section, key).is_empty()
                }
            }) {
                continue;
            }
            let mut actions: Vec<&str> = a
                .read
                .iter()
                .copied()
                .filter(|r| !(destroy && NOT_FOR_TEARDOWN.contains(r)))
                .collect();
            if apply {
                actions.extend(a.write);
            }
            if teardown_ok(setting.section) {
                actions.extend(a.teardown);
            }
            let (delegate, actions): (Vec<&str>, Vec<&str>) =
                actions.into_iter().partition(|a| DELEGATION.contains(a));
            if !actions.is_empty() {
                let on = a.on.map_or(json!("*"), |arn| {
                    json!(
                        arn.replace("{partition}", p)
                            .replace("{account}", PRINCIPAL_ACCOUNT)
                    )
                });
                let mut s = statement(a.sid, actions, on);
                if a.tagged {
                    s["Condition"] = json!({"StringEquals": {
                        "aws:RequestTag/managed-by": crate::Owner::of(b).mark()
                    }});
                }
                statements.push(s);
            }

            statements.extend(delegation(b, setting.delegation, a.sid, &delegate, p));
        }
    }

    if apply && given("alternate_contacts") {
        statements.extend(alternate_contacts(&base, p));
    }
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
        // Block public access for snapshots: enabled in a mode, or
        // disabled for `unblocked`.
        for state in setting_values(&base, "ebs_snapshot_public_access", "state") {
            let action = if *state == json!("unblocked") {
                "ec2:DisableSnapshotBlockPublicAccess"
            } else {
                "ec2:EnableSnapshotBlockPublicAccess"
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
    // The baseline as the accounts see it: the base, and the base with each
    // override laid over it (an override can give a section the base leaves
    // out, or name other buckets and trails for some accounts).
    let views: Vec<Baseline> = std::iter::once(b.clone())
        .chain(b.overrides.iter().flatten().map(|o| {
            Baseline {
                overrides: Some(vec![Override {
                    accounts: None,
                    ous: None,
                    regions: None,
                    ..o.clone()
                }]),
                ..b.clone()
            }
            .for_target(baseline_spec::Place::new("", ""))
            .into_owned()
        }))
        .collect();
    let zone_org = views.iter().any(|v| {
        v.access_analyzer
            .as_ref()
            .is_some_and(|a| a.zone == Some(Zone::Organization))
    });
    // Only the caller's base credentials list the organization's accounts,
    // check its delegated administrators and assume the other accounts'
    // roles: in the management account (where an organization's run
    // starts), never in the administrator's or a member's policy.
    let base_caller = account.is_none_or(|k| k == AccountKind::Management);
    let mut org_actions = Vec::new();
    if matches!(b.accounts, Accounts::Organization(_)) && base_caller {
        org_actions.push("organizations:ListAccounts");
        // The OU tree, walked from the root, when overrides or exceptions
        // name OUs (`ous::read`).
        if !b.named_ous().is_empty() {
            org_actions.extend([
                "organizations:ListRoots",
                "organizations:ListOrganizationalUnitsForParent",
                "organizations:ListAccountsForParent",
            ]);
        }
    }
    // Every command of a baseline with a delegated administrator first
    // checks the organization and its registered administrators
    // (`organization::delegation`), `destroy` too.
    if (zone_org && !destroy) || (delegated && base_caller) {
        org_actions.extend([
            "organizations:DescribeOrganization",
            "organizations:ListDelegatedAdministrators",
        ]);
    }
    // An organization analyzer without the baseline's delegated
    // administrator: trusted access for Access Analyzer, read, and turned
    // on by `apply` (for that service only).
    let analyzer_trust = zone_org && !delegated && !destroy;
    if analyzer_trust {
        org_actions.push("organizations:ListAWSServiceAccessForOrganization");
    }
    if !org_actions.is_empty() {
        statements.push(statement("Organizations", org_actions, json!("*")));
    }
    if analyzer_trust && apply {
        let mut s = statement(
            "AccessAnalyzerTrustedAccess",
            vec!["organizations:EnableAWSServiceAccess"],
            json!("*"),
        );
        s["Condition"] = json!({"StringEquals": {
            "organizations:ServicePrincipal": crate::organization::ANALYZER_PRINCIPAL
        }});
        statements.push(s);
    }
    let roles: Vec<String> = match &b.accounts {
        Accounts::List(list) => list.iter().filter_map(|a| a.role_arn.clone()).collect(),
        Accounts::Organization(_) => b
            .organization
            .as_ref()
            .map(|o| vec![format!("arn:{p}:iam::*:role/{}", o.role_name)])
            .unwrap_or_default(),
    };
    if !roles.is_empty() && base_caller {
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
    let mut templates: Vec<String> = Vec::new();
    for v in &views {
        let name = b.name.as_deref();
        let of_view = [
            v.config.as_ref().map(|c| c.bucket_template(name)),
            v.cloudtrail.as_ref().map(|t| t.bucket_template(name)),
        ];
        for t in of_view.into_iter().flatten() {
            if !templates.contains(&t) {
                templates.push(t);
            }
        }
    }
    let mut buckets: Vec<String> = Vec::new();
    for t in &templates {
        for a in &accounts {
            let bucket = render_bucket(t, a, &b.home_region);
            if !buckets.contains(&bucket) {
                buckets.push(bucket);
            }
        }
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
    let mut names: Vec<String> = Vec::new();
    for t in views.iter().filter_map(|v| v.cloudtrail.as_ref()) {
        if !names.iter().any(|have| have == t.trail_name()) {
            names.push(t.trail_name().to_string());
        }
    }
    if !names.is_empty() {
        let mut actions: Vec<&str> = Vec::new();
        if apply {
            actions.extend(TRAIL_WRITE);
        }
        if teardown_ok("cloudtrail") {
            actions.extend(TRAIL_TEARDOWN);
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
    if given("cloudtrail") && (apply || destroy) {
        let mut actions: Vec<&str> = Vec::new();
        if apply {
            actions.extend(KMS_OWN_KEY_WRITE);
        }
        if teardown_ok("cloudtrail") {
            actions.extend(KMS_OWN_KEY_TEARDOWN);
        }
        // The caller's own keys that carry both baseline's tag and its
        // alias: a tag alone can be written on any key (tagging on create
        // cannot be scoped to the new key), the alias only on a key
        // baseline's own statement below lets it alias.
        // The key lives in the home region only: nowhere else may a key be
        // marked, aliased or written.
        let home = &b.home_region;
        let keys = format!("arn:{p}:kms:{home}:{PRINCIPAL_ACCOUNT}:key/*");
        let owner = crate::Owner::of(b);
        let mut s = statement("OwnCloudTrailKey", actions, json!(keys));
        s["Condition"] = json!({
            "StringEquals": {"aws:ResourceTag/managed-by": owner.mark()},
            "ForAnyValue:StringEquals": {"kms:ResourceAliases": owner.key_alias()}
        });
        statements.push(s);
        // CreateKey with tags needs kms:TagResource (KMS developer guide,
        // "Managing KMS key tags with API operations"), on a key that has
        // no tag yet: it cannot be narrowed by the key's tag, only by the
        // tag it writes (baseline's mark and nothing else).
        let creates_key = setting_values(&base, "cloudtrail", "kms")
            .iter()
            .any(|v| **v == json!("create"));
        if apply && creates_key {
            let mut s = statement("TagNewCloudTrailKey", vec!["kms:TagResource"], json!(keys));
            s["Condition"] = json!({
                "StringEquals": {"aws:RequestTag/managed-by": owner.mark()},
                "ForAllValues:StringEquals": {"aws:TagKeys": [crate::OWNER_TAG_KEY]}
            });
            statements.push(s);
            // The alias on one side; on the other, only a key that carries
            // baseline's tag and no alias yet (the key just made).
            statements.push(statement(
                "CloudTrailKeyAlias",
                vec!["kms:CreateAlias"],
                json!(format!(
                    "arn:{p}:kms:{home}:{PRINCIPAL_ACCOUNT}:{}",
                    owner.key_alias()
                )),
            ));
            let mut s = statement(
                "CloudTrailKeyAliasTarget",
                vec!["kms:CreateAlias"],
                json!(keys),
            );
            s["Condition"] = json!({
                "StringEquals": {"aws:ResourceTag/managed-by": owner.mark()},
                // No alias but baseline's (AWS does not say whether a key
                // without aliases has the key absent or empty: this holds
                // either way).
                "ForAllValues:StringEquals": {"kms:ResourceAliases": [owner.key_alias()]}
            });
            statements.push(s);
        }
        if apply {
            // A key policy that locks everyone out is never written
            // (kms:BypassPolicyLockoutSafetyCheck, KMS developer guide,
            // "Default key policy").
            statements.push(json!({
                "Sid": "NoKeyPolicyLockout",
                "Effect": "Deny",
                "Action": ["kms:CreateKey", "kms:PutKeyPolicy"],
                "Resource": "*",
                "Condition": {"Bool": {"kms:BypassPolicyLockoutSafetyCheck": "true"}}
            }));
        }
    }

    // The Config aggregator's role in the delegated administrator: that
    // one role, with only AWS Config's organization policy attached and
    // passed to AWS Config alone.
    if given("config")
        && delegated
        && !destroy
        && account.is_none_or(|k| k.needs(crate::registry::IN_ADMINISTRATOR))
    {
        statements.extend(config_aggregator_role(b, apply, p));
    }

    // Service-linked roles: Config's (and passing it to Config); GuardDuty,
    // Security Hub and IAM Access Analyzer make theirs when first enabled
    // (CreateAnalyzer: iam:CreateServiceLinkedRole is its dependent action).
    if apply {
        let mut services: Vec<&str> = SETTINGS
            .iter()
            .filter(|s| given(s.section))
            .filter_map(|s| s.service_linked_role)
            .collect();
        if malware_protection(&base) {
            services.push(MALWARE_PROTECTION);
        }
        if !services.is_empty() {
            let mut s = statement(
                "ServiceLinkedRoles",
                vec!["iam:CreateServiceLinkedRole"],
                json!(format!(
                    "arn:{p}:iam::{PRINCIPAL_ACCOUNT}:role/aws-service-role/*"
                )),
            );
            s["Condition"] = json!({"StringEquals": {"iam:AWSServiceName": services}});
            statements.push(s);
        }
        if given("config") {
            let mut s = statement(
                "PassConfigRole",
                vec!["iam:PassRole"],
                json!(format!(
                    "arn:{p}:iam::{PRINCIPAL_ACCOUNT}:role/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig"
                )),
            );
            s["Condition"] =
                json!({"StringEquals": {"iam:PassedToService": "config.amazonaws.com"}});
            statements.push(s);
        }
    }
    json!({"Version": "2012-10-17", "Statement": statements})
}

/// PutAlternateContact for the contact types the baseline gives only
/// (`account:AlternateContactTypes`), on the caller's own account.
fn alternate_contacts(base: &Value, p: &str) -> Option<Value> {
    let mut types: Vec<String> = Vec::new();
    for kind in ["billing", "operations", "security"] {
        if !setting_values(base, "alternate_contacts", kind).is_empty() {
            types.push(kind.to_uppercase());
        }
    }
    if types.is_empty() {
        return None;
    }
    let mut s = statement(
        "AlternateContactsWrite",
        vec!["account:PutAlternateContact"],
        json!(format!("arn:{p}:account::{PRINCIPAL_ACCOUNT}:account")),
    );
    s["Condition"] = json!({"ForAllValues:StringEquals": {"account:AlternateContactTypes": types}});
    Some(s)
}

/// Whether a detector of the baseline (its base or an override) turns on
/// EBS malware protection: `features: all` (the default when `features`
/// is left out), or a list that names it.
fn malware_protection(base: &Value) -> bool {
    let mut places = vec![base];
    if let Some(o) = base.get("overrides").and_then(Value::as_array) {
        places.extend(o.iter());
    }
    places
        .iter()
        .filter_map(|p| p.get("guardduty").filter(|g| g.is_object()))
        .any(|g| match g.get("features") {
            None | Some(Value::Null) => true,
            Some(Value::String(all)) => all == "all",
            Some(Value::Array(list)) => list.iter().any(|n| n == "ebs_malware_protection"),
            _ => false,
        })
}

/// The statements of a setting's delegation (`delegate`: which of
/// [`DELEGATION`] its statement `sid` needs): trusted access for its
/// service principals only, and the registration of the baseline's
/// administrator only (Organizations' `account` resource, in the caller's
/// own organization: its management account is the caller).
fn delegation(
    b: &Baseline,
    principals: &[&str],
    sid: &str,
    delegate: &[&str],
    p: &str,
) -> Vec<Value> {
    let condition = json!({"StringEquals": {"organizations:ServicePrincipal": principals}});
    let mut out = Vec::new();
    if delegate.contains(&"organizations:EnableAWSServiceAccess") {
        let mut s = statement(
            &format!("{sid}TrustedAccess"),
            vec!["organizations:EnableAWSServiceAccess"],
            json!("*"),
        );
        s["Condition"] = condition.clone();
        out.push(s);
    }
    let admin = b.organization.as_ref().and_then(|o| o.admin());
    if let (true, Some(admin)) = (
        delegate.contains(&"organizations:RegisterDelegatedAdministrator"),
        admin,
    ) {
        let mut s = statement(
            &format!("{sid}Register"),
            vec!["organizations:RegisterDelegatedAdministrator"],
            json!(format!(
                "arn:{p}:organizations::{PRINCIPAL_ACCOUNT}:account/o-*/{admin}"
            )),
        );
        s["Condition"] = condition;
        out.push(s);
    }
    out
}

/// The Config aggregator's role, in the delegated administrator's account:
/// read for `plan`; for `apply` made with baseline's mark only, given
/// AWS Config's organization policy only, passed to AWS Config only.
fn config_aggregator_role(b: &Baseline, apply: bool, p: &str) -> Vec<Value> {
    let admin = b
        .organization
        .as_ref()
        .and_then(|o| o.admin())
        .unwrap_or(PRINCIPAL_ACCOUNT);
    let role = json!(format!(
        "arn:{p}:iam::{admin}:role/{}",
        crate::config::AGGREGATOR_ROLE_NAME
    ));
    let mut out = vec![statement(
        "ConfigAggregatorRole",
        vec!["iam:GetRole", "iam:ListAttachedRolePolicies"],
        role.clone(),
    )];
    if !apply {
        return out;
    }
    let owner = crate::Owner::of(b);
    let mut create = statement(
        "ConfigAggregatorRoleCreate",
        vec!["iam:CreateRole", "iam:TagRole"],
        role.clone(),
    );
    create["Condition"] = json!({
        "StringEquals": {"aws:RequestTag/managed-by": owner.mark()},
        "ForAllValues:StringEquals": {"aws:TagKeys": [crate::OWNER_TAG_KEY]}
    });
    let mut attach = statement(
        "ConfigAggregatorRolePolicy",
        vec!["iam:AttachRolePolicy"],
        role.clone(),
    );
    attach["Condition"] =
        json!({"ArnEquals": {"iam:PolicyARN": crate::config::aggregator_policy_arn(p)}});
    let mut pass = statement("PassConfigAggregatorRole", vec!["iam:PassRole"], role);
    pass["Condition"] =
        json!({"StringEquals": {"iam:PassedToService": crate::organization::CONFIG_PRINCIPAL}});
    out.extend([create, attach, pass]);
    out
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
        actions(&policy(&b, command))
    }

    /// Every action of a policy's statements.
    fn actions(policy: &Value) -> Vec<String> {
        policy["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|s| s["Action"].as_array().unwrap().clone())
            .map(|a| a.as_str().unwrap().to_string())
            .collect()
    }

    const HEAD: &str = "version: 1\naccounts: [{id: \"123456789012\"}]\nregions: [eu-west-1]\nhome_region: eu-west-1\n";

    /// With a delegated administrator, `--account` keeps the statements of
    /// that kind of account: the registration in the management account,
    /// the organization's configuration and members in the administrator,
    /// a member's coverage in the others (the management account is one).
    #[test]
    fn each_kind_of_account_gets_its_organization_statements() {
        let b = baseline_spec::parse(
            "version: 1\naccounts: organization\norganization: {role_name: R, delegated_admin: \"222222222222\"}\nregions: [eu-west-1]\nhome_region: eu-west-1\nguardduty: {enabled: true}\n",
            "test.yaml",
        )
        .expect("a valid baseline");
        let actions = |account| actions(&policy_in(&b, PolicyFor::Apply, account));
        let has = |list: &[String], a: &str| list.iter().any(|x| x == a);
        let (register, members, coverage, own) = (
            "guardduty:EnableOrganizationAdminAccount",
            "guardduty:CreateMembers",
            "guardduty:GetAdministratorAccount",
            "guardduty:CreateDetector",
        );
        let all = actions(None);
        assert!(
            [register, members, coverage, own]
                .iter()
                .all(|a| has(&all, a))
        );
        let management = actions(Some(AccountKind::Management));
        assert!(has(&management, register) && has(&management, coverage));
        assert!(!has(&management, members));
        let admin = actions(Some(AccountKind::Administrator));
        assert!(has(&admin, members) && has(&admin, own));
        assert!(!has(&admin, register) && !has(&admin, coverage));
        let member = actions(Some(AccountKind::Member));
        assert!(has(&member, coverage));
        assert!(!has(&member, register) && !has(&member, members));
    }

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

    /// A section given only by an override, or a bucket and trail an
    /// override names, is in the policy: the accounts it applies to plan
    /// and apply it.
    #[test]
    fn what_only_an_override_gives_is_in_the_policy() {
        let yaml = format!(
            "{HEAD}overrides:\n  - accounts: [\"123456789012\"]\n    config: {{enabled: true, bucket: \"team-config-{{account_id}}\"}}\n    cloudtrail: {{enabled: true, name: team-trail}}\n    guardduty: {{enabled: true}}\n"
        );
        let b = baseline_spec::parse(&yaml, "test.yaml").expect("a valid baseline");
        let p = policy(&b, PolicyFor::Apply).to_string();
        for wanted in [
            "config:PutConfigurationRecorder",
            "guardduty:CreateDetector",
            "arn:aws:s3:::team-config-123456789012",
            "arn:aws:cloudtrail:eu-west-1:123456789012:trail/team-trail",
            "config.amazonaws.com",
            "guardduty.amazonaws.com",
            "PassConfigRole",
            "OwnCloudTrailKey",
        ] {
            assert!(p.contains(wanted), "{wanted} missing from {p}");
        }
        let d = policy(&b, PolicyFor::Destroy).to_string();
        assert!(
            d.contains("guardduty:DeleteDetector") && d.contains("cloudtrail:DeleteTrail"),
            "{d}"
        );
    }
}
