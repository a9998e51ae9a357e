//! A role that secures an organization is no way into it (issue 33): a
//! user of the local AWS (`--enforce-iam`) holding exactly a policy
//! `baseline policy` prints cannot use it for more than baseline's own
//! work, and can do all of that work (the calls a service's guide requires
//! beyond the Service Authorization Reference included).

use aws_sdk_s3::config::Credentials;

use crate::least_privilege::{denied, policy, run_as, user};
use crate::moto::{Moto, baseline_file, offline};
use crate::probe;

const REGION: &str = "ap-northeast-1";

/// `baseline policy -f FILE --for apply --account KIND`.
fn policy_for(file: &str, kind: &str) -> serde_json::Value {
    let run = offline(&["policy", "-f", file, "--for", "apply", "--account", kind]);
    assert_eq!(run.code, 0, "{run:?}");
    serde_json::from_str(&run.stdout).unwrap()
}

/// An organization's baseline with `admin` as its delegated administrator.
fn organization_file(dir: &tempfile::TempDir, admin: &str, sections: &str) -> String {
    baseline_file(
        dir,
        &format!(
            "version: 1\naccounts: organization\norganization:\n  role_name: OrganizationAccountAccessRole\n  delegated_admin: \"{admin}\"\nregions: [{REGION}]\nhome_region: {REGION}\n{sections}"
        ),
    )
    .display()
    .to_string()
}

async fn sdk_as(moto: &Moto, key: &(String, String)) -> aws_config::SdkConfig {
    moto.sdk_with(
        REGION,
        Credentials::new(key.0.clone(), key.1.clone(), None, None, "user"),
    )
    .await
}

/// Tags `key` `managed-by: baseline`, as someone claiming it would.
async fn mark_as_baselines(
    kms: &aws_sdk_kms::Client,
    key: &str,
) -> Result<
    aws_sdk_kms::operation::tag_resource::TagResourceOutput,
    aws_sdk_kms::error::SdkError<aws_sdk_kms::operation::tag_resource::TagResourceError>,
> {
    kms.tag_resource()
        .key_id(key)
        .tags(
            aws_sdk_kms::types::Tag::builder()
                .tag_key("managed-by")
                .tag_value("baseline")
                .build()
                .unwrap(),
        )
        .send()
        .await
}

/// Whether an SDK result is the local IAM's refusal.
fn refused<T, E: std::fmt::Debug>(result: Result<T, E>) -> bool {
    match result {
        Ok(_) => false,
        Err(e) => format!("{e:?}").contains("AccessDenied"),
    }
}

/// Why (issue 33): the administrator's policy granted iam:CreateRole,
/// AttachRolePolicy and PassRole on every role: whoever held it could
/// attach AdministratorAccess to the role it runs as. Now only AWS
/// Config's organization policy, only on the aggregator's role.
#[tokio::test(flavor = "multi_thread")]
async fn the_administrators_policy_attaches_only_configs_policy_to_the_aggregators_role() {
    let moto = Moto::start_with(&["--enforce-iam"]);
    let dir = tempfile::tempdir().unwrap();
    // The user's own account plays the administrator.
    let f = organization_file(&dir, "123456789012", "config: {enabled: true}\n");
    let iam_admin = aws_sdk_iam::Client::new(&moto.sdk(REGION).await);
    for role in [
        "OrganizationAccountAccessRole",
        "baseline-config-aggregator",
    ] {
        iam_admin
            .create_role()
            .role_name(role)
            .assume_role_policy_document(
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"config.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#,
            )
            .send()
            .await
            .unwrap();
    }
    let key = user(&moto, "baseline", &policy_for(&f, "administrator")).await;
    let iam = aws_sdk_iam::Client::new(&sdk_as(&moto, &key).await);
    let admin_access = "arn:aws:iam::aws:policy/AdministratorAccess";
    let attach = |role: &'static str, policy: &'static str| {
        iam.attach_role_policy()
            .role_name(role)
            .policy_arn(policy)
            .send()
    };
    assert!(
        refused(attach("OrganizationAccountAccessRole", admin_access).await),
        "AdministratorAccess attached to the role baseline runs as: {:?}",
        denied(&moto)
    );
    assert!(refused(
        attach("baseline-config-aggregator", admin_access).await
    ));
    let made = iam
        .create_role()
        .role_name("escalation")
        .assume_role_policy_document("{}")
        .send()
        .await;
    assert!(refused(made), "a role of another name was made");
    // What baseline itself does is still allowed.
    attach(
        "baseline-config-aggregator",
        "arn:aws:iam::aws:policy/service-role/AWSConfigRoleForOrganizations",
    )
    .await
    .unwrap();
}

/// Why (issue 33): the management account's policy granted Organizations'
/// EnableAWSServiceAccess and RegisterDelegatedAdministrator on `*`: any
/// service could be delegated to any account. Now only the baseline's
/// services, and only to its administrator.
#[tokio::test(flavor = "multi_thread")]
async fn the_management_policy_delegates_only_the_baselines_services_to_its_administrator() {
    let moto = Moto::start_with(&["--enforce-iam"]);
    let ids = probe::organization(&moto, &["security", "dev"]).await;
    let dir = tempfile::tempdir().unwrap();
    let f = organization_file(
        &dir,
        &ids[0],
        "config: {enabled: true}\nguardduty: {enabled: true}\n",
    );
    let key = user(&moto, "baseline", &policy_for(&f, "management")).await;
    let orgs = aws_sdk_organizations::Client::new(&sdk_as(&moto, &key).await);
    let register = |account: &str, principal: &str| {
        orgs.register_delegated_administrator()
            .account_id(account)
            .service_principal(principal)
            .send()
    };
    assert!(
        refused(register(&ids[0], "ssm.amazonaws.com").await),
        "a service the baseline does not name was delegated"
    );
    assert!(
        refused(register(&ids[1], "config.amazonaws.com").await),
        "an account other than the administrator was registered"
    );
    let trust = |principal: &'static str| {
        orgs.enable_aws_service_access()
            .service_principal(principal)
            .send()
    };
    assert!(refused(trust("ssm.amazonaws.com").await));
    // The baseline's own delegation is allowed.
    trust("config.amazonaws.com").await.unwrap();
    register(&ids[0], "config.amazonaws.com").await.unwrap();
}

/// Why (issue 33): designating GuardDuty's administrator needs
/// Organizations' reads the GuardDuty guide lists ("Permissions required
/// to designate a delegated GuardDuty administrator account":
/// DescribeAccount, DescribeOrganizationalUnit,
/// ListAWSServiceAccessForOrganization, ...) and the Reference does not:
/// the printed management policy lacked them, so a first real run failed.
#[tokio::test(flavor = "multi_thread")]
async fn the_management_policy_designates_guarddutys_administrator() {
    let moto = Moto::start_with(&["--enforce-iam"]);
    let ids = probe::organization(&moto, &["security"]).await;
    let dir = tempfile::tempdir().unwrap();
    let f = organization_file(&dir, &ids[0], "guardduty: {enabled: true}\n");
    let key = user(&moto, "baseline", &policy_for(&f, "management")).await;
    let sdk = sdk_as(&moto, &key).await;
    // Trusted access first, as baseline's apply does.
    aws_sdk_organizations::Client::new(&sdk)
        .enable_aws_service_access()
        .service_principal("guardduty.amazonaws.com")
        .send()
        .await
        .unwrap();
    let gd = aws_sdk_guardduty::Client::new(&sdk);
    let designated = gd
        .enable_organization_admin_account()
        .admin_account_id(&ids[0])
        .send()
        .await;
    assert!(designated.is_ok(), "{designated:?}: {:?}", denied(&moto));
}

/// Why (issue 33): a detector with EBS malware protection makes Malware
/// Protection's own service-linked role
/// (`malware-protection.guardduty.amazonaws.com`); the printed policy
/// allowed only GuardDuty's, so apply failed at CreateDetector. A
/// detector without `features` turns every plan on, this one included.
#[tokio::test(flavor = "multi_thread")]
async fn the_apply_policy_lets_malware_protection_make_its_role() {
    let moto = Moto::start_with(&["--enforce-iam"]);
    let dir = tempfile::tempdir().unwrap();
    let file = baseline_file(
        &dir,
        &format!(
            "version: 1\naccounts: [{{id: \"123456789012\"}}]\nregions: [{REGION}]\nhome_region: {REGION}\nguardduty: {{enabled: true}}\n"
        ),
    );
    let f = file.to_str().unwrap();
    let key = user(&moto, "baseline", &policy(f, "apply")).await;
    let apply = run_as(&moto, &key, &["apply", "-f", f, "--auto-approve"]);
    assert_eq!(apply.code, 0, "{apply:?}: {:?}", denied(&moto));
}

/// Why (issue 33): key-level writes were gated by the `managed-by` tag
/// alone, and tagging was granted on every key (tagging on create cannot
/// be scoped to the new key): tag a team's key `managed-by: baseline`,
/// then replace its key policy. Now a key needs baseline's alias too,
/// which baseline can set only on a key with no alias yet.
#[tokio::test(flavor = "multi_thread")]
async fn another_teams_key_cannot_be_claimed_by_tagging_it() {
    let moto = Moto::start_with(&["--enforce-iam"]);
    let dir = tempfile::tempdir().unwrap();
    let file = baseline_file(
        &dir,
        &format!(
            "version: 1\naccounts: [{{id: \"123456789012\"}}]\nregions: [{REGION}]\nhome_region: {REGION}\ncloudtrail: {{enabled: true, kms: create}}\n"
        ),
    );
    let f = file.to_str().unwrap();
    let kms_admin = aws_sdk_kms::Client::new(&moto.sdk(REGION).await);
    let team = kms_admin
        .create_key()
        .description("team-x's key")
        .send()
        .await
        .unwrap();
    let team = team.key_metadata().unwrap().key_id().to_string();
    kms_admin
        .create_alias()
        .alias_name("alias/team-x")
        .target_key_id(&team)
        .send()
        .await
        .unwrap();
    let key = user(&moto, "baseline", &policy(f, "apply")).await;
    let kms = aws_sdk_kms::Client::new(&sdk_as(&moto, &key).await);
    // Tagging may pass (it cannot be scoped); nothing after it does.
    let _ = mark_as_baselines(&kms, &team).await;
    let put = kms
        .put_key_policy()
        .key_id(&team)
        .policy_name("default")
        .policy(r#"{"Version":"2012-10-17","Statement":[]}"#)
        .send()
        .await;
    assert!(refused(put), "the team's key policy was replaced");
    let alias = kms
        .create_alias()
        .alias_name("alias/baseline-cloudtrail")
        .target_key_id(&team)
        .send()
        .await;
    assert!(refused(alias), "baseline's alias was set on the team's key");
    for refused_write in [
        refused(kms.enable_key_rotation().key_id(&team).send().await),
        refused(
            kms.schedule_key_deletion()
                .key_id(&team)
                .pending_window_in_days(7)
                .send()
                .await,
        ),
    ] {
        assert!(refused_write, "{:?}", denied(&moto));
    }
}

/// Why (review of issue 33): the key statements covered every region, so
/// a team's key without any alias in a region where baseline makes no
/// key could be tagged, given baseline's alias, and rewritten. They are
/// the home region's only now.
#[tokio::test(flavor = "multi_thread")]
async fn a_key_without_alias_outside_the_home_region_cannot_be_claimed() {
    let moto = Moto::start_with(&["--enforce-iam"]);
    let dir = tempfile::tempdir().unwrap();
    let file = baseline_file(
        &dir,
        &format!(
            "version: 1\naccounts: [{{id: \"123456789012\"}}]\nregions: [{REGION}, eu-west-1]\nhome_region: {REGION}\ncloudtrail: {{enabled: true, kms: create}}\n"
        ),
    );
    let f = file.to_str().unwrap();
    let elsewhere = moto.sdk("eu-west-1").await;
    let team = aws_sdk_kms::Client::new(&elsewhere)
        .create_key()
        .description("team-y's key, no alias")
        .send()
        .await
        .unwrap();
    let team = team.key_metadata().unwrap().key_id().to_string();
    let key = user(&moto, "baseline", &policy(f, "apply")).await;
    let kms = aws_sdk_kms::Client::new(
        &moto
            .sdk_with(
                "eu-west-1",
                Credentials::new(key.0.clone(), key.1.clone(), None, None, "user"),
            )
            .await,
    );
    let tagged = mark_as_baselines(&kms, &team).await;
    assert!(refused(tagged), "a key outside the home region was marked");
    let alias = kms
        .create_alias()
        .alias_name("alias/baseline-cloudtrail")
        .target_key_id(&team)
        .send()
        .await;
    assert!(
        refused(alias),
        "baseline's alias was set outside the home region"
    );
}

/// Why (issue 33): every command of a baseline with a delegated
/// administrator first checks the organization and its registered
/// administrators with the caller's own credentials (DescribeOrganization,
/// ListDelegatedAdministrators); `--for destroy` left them out when no
/// paid service was managed, so such a destroy failed with exactly the
/// printed policy. (The local IAM checks the caller's own requests; the
/// accounts' roles are reached with AssumeRole.)
#[tokio::test(flavor = "multi_thread")]
async fn the_destroy_policy_of_a_delegated_baseline_allows_its_organization_checks() {
    let moto = Moto::start_with(&["--enforce-iam"]);
    let ids = probe::organization(&moto, &["security"]).await;
    let dir = tempfile::tempdir().unwrap();
    let f = organization_file(
        &dir,
        &ids[0],
        "access_analyzer: {enabled: true, zone: organization}\n",
    );
    let key = user(&moto, "baseline", &policy(&f, "destroy")).await;
    let destroy = run_as(&moto, &key, &["destroy", "-f", &f, "--auto-approve"]);
    assert_eq!(destroy.code, 0, "{destroy:?}: {:?}", denied(&moto));
}
