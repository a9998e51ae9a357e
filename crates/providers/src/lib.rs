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
        let builder = $krate::config::Builder::from(&conf)
            .retry_partition($crate::clients::partition(&$account.id, stringify!($krate)))
            .interceptor($crate::clients::RetryLog::new(&$account.id, $region));
        $krate::Client::from_conf(
            $account
                .intercept(builder, |b, i| {
                    b.push_interceptor(i);
                })
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
pub mod ebs_snapshot_public_access;
mod error;
pub mod guardduty;
pub mod iam;
pub mod instance_metadata_defaults;
mod kms;
pub mod organization;
pub mod ous;
mod owner;
mod pages;
pub mod policy;
mod registry;
pub mod s3_account;
pub mod securityhub;
mod settle;
pub mod survey;
pub mod trustedadvisor;
mod users;

use std::sync::Arc;

use baseline_engine::{Action, Change, Ownership, ServiceError, Target};

pub use clients::Account;
pub use connect::{
    Aws, ConnectOptions, Connected, Limits, Reaching, Shard, connect, reach_accounts, shard_of,
};
pub use error::{AwsError, Refusal};

pub use owner::{KEY_ALIAS, OWNER_TAG_KEY, Owner};
pub use registry::{SETTINGS, Setting, services, setting, settings_table};

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

/// The preconditions most changes declare ([`baseline_engine::Declared`]):
/// a create finds nothing there (what someone made since the plan is
/// never taken over nor updated); an update finds each attribute it
/// writes as the plan read it; a delete finds it still baseline's.
pub(crate) fn usual_preconditions(change: &Change) -> Vec<baseline_engine::Precondition> {
    use baseline_engine::Precondition;
    match change.action {
        Action::Create => vec![Precondition::Absent],
        Action::Update => change
            .changed
            .iter()
            .map(|a| Precondition::Unchanged { attr: a.clone() })
            .collect(),
        Action::Delete => vec![Precondition::Ours],
        Action::NoOp | Action::Manual => Vec::new(),
    }
}

/// What most changes declare: the [`usual_preconditions`], nothing else.
pub(crate) fn usual(change: &Change) -> baseline_engine::Declared {
    baseline_engine::Declared {
        preconditions: usual_preconditions(change),
        ..baseline_engine::Declared::default()
    }
}

/// Controls as owned strings.
pub(crate) fn controls(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn account_of(aws: &Aws, target: &Target) -> Result<Arc<Account>, ServiceError> {
    aws.account(&target.account_id).ok_or_else(|| {
        Box::new(Refusal {
            message: format!("account {} was not reached", target.account_id),
        }) as ServiceError
    })
}

fn refusal(message: String) -> ServiceError {
    Box::new(Refusal { message })
}

/// Whose an EC2 account setting is, by its `managedBy`: an organization's
/// declarative policy holds it (the account cannot change it: a difference
/// is a manual action), or the account (nobody's mark: corrected in place).
fn ec2_setting_owner(managed_by: Option<&aws_sdk_ec2::types::ManagedBy>) -> Ownership {
    match managed_by {
        Some(aws_sdk_ec2::types::ManagedBy::DeclarativePolicy) => Ownership::OtherTool {
            tool: "an AWS Organizations declarative policy".into(),
        },
        _ => Ownership::NotOurs,
    }
}

fn unsupported(kind: &str, action: Action) -> ServiceError {
    Box::new(Refusal {
        message: format!("{kind}: {action:?} is not something baseline does"),
    })
}
