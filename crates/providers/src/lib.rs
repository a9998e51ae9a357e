//! One read/write adapter per AWS service, over the AWS SDK for Rust.
//!
//! Each module implements the engine's [`Service`] trait for one service:
//! it derives the desired resources from the baseline, reads what exists,
//! and performs one change at a time. [`connect`] turns the baseline's
//! accounts into SDK configurations (assumed roles, verified with STS) and
//! the account × region targets. Nothing here decides *what* to change:
//! that is the engine's plan.

#![warn(missing_docs)]

mod bucket;
pub mod clients;
pub mod config;
mod connect;
mod error;
pub mod s3_account;
pub mod securityhub;

use std::sync::Arc;

use baseline_engine::{Action, Service, ServiceError, Target};

pub use connect::{Account, Aws, ConnectOptions, Connected, connect};
pub use error::{AwsError, Refusal};

/// The tag that marks what baseline created (and so may delete).
pub const OWNER_TAG_KEY: &str = "managed-by";
/// The value of [`OWNER_TAG_KEY`].
pub const OWNER_TAG_VALUE: &str = "baseline";

/// Every service name `--only` accepts, in plan order.
pub const SERVICE_NAMES: &[&str] = &["config", "securityhub", "s3"];

/// The services, optionally only some (`--only`).
pub fn services(aws: &Arc<Aws>, only: Option<&[String]>) -> Vec<Arc<dyn Service>> {
    let all: Vec<Arc<dyn Service>> = vec![
        Arc::new(config::ConfigService::new(aws.clone())),
        Arc::new(securityhub::SecurityHubService::new(aws.clone())),
        Arc::new(s3_account::S3AccountService::new(aws.clone())),
    ];
    all.into_iter()
        .filter(|s| only.is_none_or(|o| o.iter().any(|n| n == s.name())))
        .collect()
}

fn account_of<'a>(aws: &'a Aws, target: &Target) -> Result<&'a Account, ServiceError> {
    aws.account(&target.account_id).ok_or_else(|| {
        Box::new(Refusal {
            message: format!("account {} was not reached", target.account_id),
        }) as ServiceError
    })
}

fn unsupported(kind: &str, action: Action) -> ServiceError {
    Box::new(Refusal {
        message: format!("{kind}: {action:?} is not something baseline does"),
    })
}
