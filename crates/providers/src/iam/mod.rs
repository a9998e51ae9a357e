//! IAM: MFA checks (never applied: MFA needs a person with a device), and
//! the account's password policy (applied: [`password_policy`]).
//!
//! The root user's MFA comes from the account summary; IAM users from the
//! credential report (generated, waited for, parsed as CSV). Each principal
//! without MFA becomes a manual action naming its control and what the
//! person must do.

pub(crate) mod password_policy;

pub use password_policy::fields as password_policy_fields;

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_iam::types::{ReportStateType, SummaryKeyType};
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use baseline_engine::{
    Action, Address, Change, Declared, Desired, Mode, Observed, Outputs, Ownership, Reading,
    Service, ServiceError, Target, Want,
};
use baseline_spec::{Baseline, IamSpec, Requirement};
use serde_json::json;

use crate::error::{Ctx, Refusal};
use crate::{account_of, attrs, controls};

const SERVICE: &str = "iam";
const ROOT: &str = "iam.root_mfa";
const USER: &str = "iam.user_mfa";

service_type!(
    /// IAM MFA checks and the password policy.
    IamService
);

fn required(r: Option<Requirement>) -> bool {
    r == Some(Requirement::Required)
}

fn checks_users(spec: &IamSpec) -> bool {
    required(spec.console_user_mfa) || required(spec.all_user_mfa)
}

fn mfa_check(address: Address, controls_: &[&str], instructions: String) -> Desired {
    Desired {
        address,
        controls: controls(controls_),
        want: Want::Check {
            attrs: attrs(&[("mfa_active", json!(true))]),
            instructions,
        },
        depends_on: Vec::new(),
        private: baseline_engine::Attrs::new(),
    }
}

/// One IAM user's row of the credential report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRow {
    /// User name.
    pub user: String,
    /// Whether the user has a console password.
    pub password_enabled: bool,
    /// Whether the user has an MFA device.
    pub mfa_active: bool,
}

/// Parses the credential report (CSV with a header row). The root row
/// (`<root_account>`) is skipped: root is checked from the account summary.
pub fn parse_credential_report(csv_text: &[u8]) -> Result<Vec<UserRow>, csv::Error> {
    let mut reader = csv::Reader::from_reader(csv_text);
    let headers = reader.headers()?.clone();
    let col = |name: &str| headers.iter().position(|h| h == name);
    let (Some(user), Some(password), Some(mfa)) =
        (col("user"), col("password_enabled"), col("mfa_active"))
    else {
        return Err(csv::Error::from(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "the credential report lacks the user, password_enabled or mfa_active column",
        )));
    };
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record?;
        let name = record.get(user).unwrap_or_default();
        if name == "<root_account>" {
            continue;
        }
        rows.push(UserRow {
            user: name.to_string(),
            password_enabled: record.get(password) == Some("true"),
            mfa_active: record.get(mfa) == Some("true"),
        });
    }
    Ok(rows)
}

/// Generates the credential report, waits until it is ready, and reads it.
pub async fn credential_report(
    iam: &aws_sdk_iam::Client,
    target: &Target,
) -> Result<Vec<UserRow>, ServiceError> {
    let ctx = Ctx::new(target, SERVICE);
    // AWS builds the report in seconds (and reuses one up to four hours
    // old): ask again soon, then less often; give up after ~30 s.
    let mut wait = Duration::from_millis(100);
    for _ in 0..20 {
        let state = iam
            .generate_credential_report()
            .send()
            .await
            .map_err(ctx.err("GenerateCredentialReport"))?;
        if state.state() == Some(&ReportStateType::Complete) {
            match iam.get_credential_report().send().await {
                Ok(report) => {
                    let content = report.content().map(|b| b.as_ref()).unwrap_or_default();
                    return parse_credential_report(content)
                        .map_err(|e| Box::new(ctx.err("GetCredentialReport")(e)) as ServiceError);
                }
                Err(e) if e.code() == Some("ReportInProgress") => {}
                Err(e) => return Err(Box::new(ctx.err("GetCredentialReport")(e))),
            }
        }
        tokio::time::sleep(wait).await;
        wait = (wait * 2).min(Duration::from_secs(2));
    }
    Err(Box::new(Refusal {
        message: format!(
            "the IAM credential report of account {} was not ready after 30 s; run plan again",
            target.account_id
        ),
    }))
}

#[async_trait]
impl Service for IamService {
    fn name(&self) -> &'static str {
        SERVICE
    }

    fn desired(&self, baseline: &Baseline, target: &Target, mode: Mode) -> Vec<Desired> {
        let (Some(spec), true, Mode::Apply) = (&baseline.iam, target.home, mode) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        if required(spec.root_mfa) {
            out.push(mfa_check(
                Address::new(target, ROOT, "root"),
                &["IAM.9"],
                "The root user has no MFA device. Sign in as root, open Security credentials, and assign an MFA device (a hardware key is best). baseline cannot do this for you.".into(),
            ));
        }
        if checks_users(spec) {
            // Users are found by the read; this entry only makes it happen
            // (an empty check, always satisfied).
            out.push(Desired {
                address: Address::new(target, "iam.credential_report", "users"),
                controls: Vec::new(),
                want: Want::Check {
                    attrs: Default::default(),
                    instructions: String::new(),
                },
                depends_on: Vec::new(),
                private: baseline_engine::Attrs::new(),
            });
        }
        if let Some(p) = &spec.password_policy {
            out.push(password_policy::desired(p, target));
        }
        out
    }

    async fn read(&self, target: &Target, desired: &[Desired]) -> Result<Reading, ServiceError> {
        let account = account_of(&self.aws, target)?;
        let account = &*account;
        let ctx = Ctx::new(target, SERVICE);
        let iam = client!(aws_sdk_iam, account, &target.region);
        let find = |kind: &str| desired.iter().find(|d| d.address.kind == kind);
        // The root check and the credential report are independent.
        let root = async {
            let Some(d) = find(ROOT) else { return Ok(None) };
            let summary = iam
                .get_account_summary()
                .send()
                .await
                .map_err(ctx.err("GetAccountSummary"))?;
            let on = summary
                .summary_map()
                .and_then(|m| m.get(&SummaryKeyType::AccountMfaEnabled))
                .copied()
                == Some(1);
            Ok::<_, ServiceError>(Some(Observed::new(
                d.address.clone(),
                attrs(&[("mfa_active", json!(on))]),
                Ownership::NotOurs,
            )))
        };
        let users = async {
            let Some(d) = find("iam.credential_report") else {
                return Ok(Vec::new());
            };
            let mut out = vec![Observed::new(
                d.address.clone(),
                Default::default(),
                Ownership::NotOurs,
            )];
            for row in credential_report(&iam, target).await? {
                if !row.mfa_active {
                    out.push(Observed::new(
                        Address::new(target, USER, row.user),
                        attrs(&[
                            ("mfa_active", json!(false)),
                            ("console_password", json!(row.password_enabled)),
                        ]),
                        Ownership::NotOurs,
                    ));
                }
            }
            Ok::<_, ServiceError>(out)
        };
        let policy = async {
            match find(password_policy::KIND) {
                Some(d) => password_policy::read(&iam, &ctx, &d.address).await,
                None => Ok(None),
            }
        };
        let (root, users, policy) = futures::join!(root, users, policy);
        let mut out: Vec<Observed> = root?.into_iter().collect();
        out.extend(users?);
        out.extend(policy?);
        Ok(out.into())
    }

    fn discovered(
        &self,
        baseline: &Baseline,
        _target: &Target,
        _mode: Mode,
        observed: &Observed,
    ) -> Option<Desired> {
        let spec = baseline.iam.as_ref()?;
        if observed.address.kind != USER {
            return None;
        }
        let user = &observed.address.name;
        let console = observed.attrs.get("console_password") == Some(&json!(true));
        if console && checks_users(spec) {
            Some(mfa_check(
                observed.address.clone(),
                &["IAM.5", "IAM.19"],
                format!(
                    "IAM user {user} can sign in to the console without MFA. The user (or an administrator) assigns an MFA device in the IAM console; or remove the console password if it is not needed."
                ),
            ))
        } else if required(spec.all_user_mfa) {
            Some(mfa_check(
                observed.address.clone(),
                &["IAM.19"],
                format!(
                    "IAM user {user} has no MFA device (all_user_mfa: required). Assign one in the IAM console."
                ),
            ))
        } else {
            None
        }
    }

    fn declare(&self, change: &Change) -> Declared {
        Declared {
            preconditions: password_policy::preconditions(change),
            ..Declared::default()
        }
    }

    async fn apply(&self, target: &Target, change: &Change) -> Result<Outputs, ServiceError> {
        match (change.address.kind.as_str(), change.action) {
            (password_policy::KIND, Action::Create | Action::Update) => {
                let account = account_of(&self.aws, target)?;
                let account = &*account;
                let iam = client!(aws_sdk_iam, account, &target.region);
                password_policy::apply(&iam, &Ctx::new(target, SERVICE), change).await?;
                Ok(Outputs::new())
            }
            // The plan marks every MFA finding Manual; apply never gets here.
            _ => Err(crate::unsupported(&change.address.kind, change.action)),
        }
    }
}
