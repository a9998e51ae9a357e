//! One read/write adapter per AWS service, over the AWS SDK for Rust.
//!
//! Each module implements the engine's [`Service`] trait for one service:
//! it derives the desired resources from the baseline, reads what exists
//! (resolving the wanted values against it: a policy merged into the
//! resource's own), and writes one planned change at a time. [`connect`]
//! turns the baseline's accounts into SDK configurations (assumed roles,
//! verified with STS) and the account × region targets. Which resources
//! change, and how, is the engine's plan; apply here only carries out a
//! change as planned.

#![warn(missing_docs)]

/// A service type over the accounts reached: `pub struct $name { aws }` and
/// its constructor.
macro_rules! service_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        pub struct $name {
            aws: std::sync::Arc<$crate::Aws>,
        }

        impl $name {
            /// Over the accounts reached.
            pub fn new(aws: std::sync::Arc<$crate::Aws>) -> Self {
                $name { aws }
            }
        }
    };
}

/// A client of an SDK crate for `account` in `region`, in the account's own
/// retry partition (see [`clients::partition`]).
macro_rules! client {
    ($krate:ident, $account:expr, $region:expr) => {{
        let conf = $crate::clients::in_region(&$account.sdk, $region);
        $krate::Client::from_conf(
            $krate::config::Builder::from(&conf)
                .retry_partition($crate::clients::partition(&$account.id, stringify!($krate)))
                .interceptor($crate::clients::RetryLog::new(&$account.id, $region))
                .build(),
        )
    }};
}

pub mod accessanalyzer;
pub mod account;
mod bucket;
pub mod clients;
pub mod cloudtrail;
pub mod config;
mod connect;
pub mod ebs;
mod error;
pub mod guardduty;
pub mod iam;
mod kms;
mod owner;
pub mod policy;
pub mod s3_account;
pub mod securityhub;
mod settle;
pub mod survey;
pub mod trustedadvisor;
mod users;

use std::sync::Arc;

use baseline_engine::{Action, Service, ServiceError, Target};

pub use clients::Account;
pub use connect::{Aws, ConnectOptions, Connected, Limits, Shard, connect, shard_of};
pub use error::{AwsError, Refusal};

pub use owner::{KEY_ALIAS, Mark, OWNER_TAG_KEY, Owner};

/// Every service name `--only` accepts, in plan order.
pub const SERVICE_NAMES: &[&str] = &[
    "iam",
    "config",
    "access_analyzer",
    "cloudtrail",
    "guardduty",
    "ec2",
    "account",
    "trustedadvisor",
    "securityhub",
    "s3",
];

/// Each setting by the name `baseline.yaml` gives it (its section key,
/// which `--only` takes) and the service that plans it. The service names
/// `--only` took before (`ec2`, `account`, `trustedadvisor`, `s3`) stay
/// accepted.
pub const SETTINGS: &[(&str, &str)] = &[
    ("iam", "iam"),
    ("config", "config"),
    ("access_analyzer", "access_analyzer"),
    ("cloudtrail", "cloudtrail"),
    ("guardduty", "guardduty"),
    ("ebs_encryption", "ec2"),
    ("alternate_contacts", "account"),
    ("trusted_advisor", "trustedadvisor"),
    ("securityhub", "securityhub"),
    ("s3_public_access_block", "s3"),
];

/// The service a name of `--only` selects: a section key, or a service
/// name as `--only` took before.
pub fn selected_service(name: &str) -> Option<&'static str> {
    SETTINGS
        .iter()
        .find(|(section, service)| *section == name || *service == name)
        .map(|(_, service)| *service)
}

/// The services, optionally only some (`--only`).
pub fn services(aws: &Arc<Aws>, only: Option<&[String]>) -> Vec<Arc<dyn Service>> {
    let all: Vec<Arc<dyn Service>> = vec![
        Arc::new(iam::IamService::new(aws.clone())),
        Arc::new(config::ConfigService::new(aws.clone())),
        Arc::new(accessanalyzer::AccessAnalyzerService::new(aws.clone())),
        Arc::new(cloudtrail::CloudTrailService::new(aws.clone())),
        Arc::new(guardduty::GuardDutyService::new(aws.clone())),
        Arc::new(ebs::EbsService::new(aws.clone())),
        Arc::new(account::AccountService::new(aws.clone())),
        Arc::new(trustedadvisor::TrustedAdvisorService::new(aws.clone())),
        Arc::new(securityhub::SecurityHubService::new(aws.clone())),
        Arc::new(s3_account::S3AccountService::new(aws.clone())),
    ];
    all.into_iter()
        .filter(|s| only.is_none_or(|o| o.iter().any(|n| n == s.name())))
        .collect()
}

/// Attributes from pairs.
pub(crate) fn attrs(pairs: &[(&str, serde_json::Value)]) -> baseline_engine::Attrs {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

/// The address of an account-wide resource, which lives in the home region.
pub(crate) fn home_address(
    target: &Target,
    home_region: &str,
    kind: &str,
    name: &str,
) -> baseline_engine::Address {
    baseline_engine::Address {
        account: target.account_id.clone(),
        region: home_region.to_string(),
        kind: kind.to_string(),
        name: name.to_string(),
    }
}

/// `Present(attrs)` when on, else `Absent`.
pub(crate) fn present_if(on: bool, attrs: baseline_engine::Attrs) -> baseline_engine::Want {
    if on {
        baseline_engine::Want::Present(attrs)
    } else {
        baseline_engine::Want::Absent
    }
}

/// Controls as owned strings.
pub(crate) fn controls(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn account_of<'a>(aws: &'a Aws, target: &Target) -> Result<&'a Account, ServiceError> {
    aws.account(&target.account_id).ok_or_else(|| {
        Box::new(Refusal {
            message: format!("account {} was not reached", target.account_id),
        }) as ServiceError
    })
}

fn refusal(message: String) -> ServiceError {
    Box::new(Refusal { message })
}

/// A precondition of apply that no longer holds: what the plan read has
/// changed since ("plan is stale").
fn stale(what: String) -> ServiceError {
    Box::new(baseline_engine::Failure {
        kind: baseline_engine::ErrorKind::Stale,
        message: format!(
            "plan is stale: {what} changed since the plan was made; run `baseline plan` again"
        ),
    })
}

fn unsupported(kind: &str, action: Action) -> ServiceError {
    Box::new(Refusal {
        message: format!("{kind}: {action:?} is not something baseline does"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_section_selects_its_service_and_old_names_still_do() {
        let sections: Vec<&str> = SETTINGS.iter().map(|(s, _)| *s).collect();
        assert_eq!(sections, baseline_spec::SECTIONS);
        let services: Vec<&str> = SETTINGS.iter().map(|(_, s)| *s).collect();
        assert_eq!(services, SERVICE_NAMES);
        assert_eq!(selected_service("ebs_encryption"), Some("ec2"));
        assert_eq!(selected_service("ec2"), Some("ec2"));
        assert_eq!(selected_service("s3_public_access_block"), Some("s3"));
        assert_eq!(selected_service("cloudtrial"), None);
    }
}
