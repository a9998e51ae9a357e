//! Credentials, accounts and regions: from the baseline to [`Target`]s.

use std::collections::HashMap;
use std::sync::Arc;

use aws_config::{BehaviorVersion, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_types::region::Region;
use baseline_engine::{PlanError, Target, error_chain};
use baseline_spec::{AccountId, AccountRef, Accounts, Baseline, Regions};

use crate::error::{Ctx, Refusal};

/// One account reached: its SDK configuration (credentials cached and
/// refreshed by the SDK) and its partition.
#[derive(Debug, Clone)]
pub struct Account {
    /// Account id, as verified with STS.
    pub id: String,
    /// `aws`, `aws-cn`, `aws-us-gov`...
    pub partition: String,
    /// The account's SDK configuration; clients per region derive from it.
    pub sdk: SdkConfig,
}

/// Every reachable account of a baseline.
#[derive(Debug, Default)]
pub struct Aws {
    accounts: HashMap<String, Account>,
}

impl Aws {
    /// The account of a target.
    pub fn account(&self, id: &str) -> Option<&Account> {
        self.accounts.get(id)
    }
}

/// Which accounts and regions to reach.
#[derive(Debug, Default, Clone)]
pub struct ConnectOptions {
    /// `--profile`: the profile of the current credentials.
    pub profile: Option<String>,
    /// `--accounts`: only these account ids.
    pub accounts: Option<Vec<String>>,
    /// `--regions`: only these regions.
    pub regions: Option<Vec<String>>,
}

/// The result of [`connect`].
pub struct Connected {
    /// The accounts reached.
    pub aws: Arc<Aws>,
    /// Every account × region to plan.
    pub targets: Vec<Target>,
    /// Accounts that could not be reached; the others go on.
    pub errors: Vec<PlanError>,
}

/// Reaches every selected account of the baseline (concurrently) and lists
/// its regions.
pub async fn connect(baseline: &Baseline, opts: &ConnectOptions) -> Connected {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(baseline.home_region.clone()));
    if let Some(p) = &opts.profile {
        loader = loader.profile_name(p);
    }
    let base = loader.load().await;

    let mut errors = Vec::new();
    let accounts: Vec<AccountRef> = match &baseline.accounts {
        Accounts::List(list) => list.clone(),
        Accounts::Organization(_) => match discover(&base, baseline).await {
            Ok(list) => list,
            Err(e) => {
                errors.push(PlanError {
                    account: "organization".into(),
                    region: String::new(),
                    service: String::new(),
                    message: error_chain(e.as_ref()),
                });
                Vec::new()
            }
        },
    };
    let selected: Vec<&AccountRef> = accounts
        .iter()
        .filter(|a| {
            opts.accounts
                .as_ref()
                .is_none_or(|ids| ids.contains(&a.id.0))
        })
        .collect();
    let results =
        futures::future::join_all(selected.iter().map(|a| reach(&base, baseline, a, opts))).await;

    let mut aws = Aws::default();
    let mut targets = Vec::new();
    for (a, result) in selected.iter().zip(results) {
        match result {
            Ok((account, regions)) => {
                tracing::info!(account = %a.id, regions = regions.len(), "reached");
                for region in regions {
                    targets.push(Target {
                        account_id: a.id.0.clone(),
                        account_name: a.name.clone(),
                        home: region == baseline.home_region,
                        region,
                    });
                }
                aws.accounts.insert(a.id.0.clone(), account);
            }
            Err(e) => errors.push(PlanError {
                account: a.id.0.clone(),
                region: String::new(),
                service: String::new(),
                message: error_chain(e.as_ref()),
            }),
        }
    }
    Connected {
        aws: Arc::new(aws),
        targets,
        errors,
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Every ACTIVE account of the organization, less the excluded ones. The
/// account whose credentials we hold (the management or a delegated
/// account) is reached with them; the others through `role_name`.
async fn discover(base: &SdkConfig, baseline: &Baseline) -> Result<Vec<AccountRef>, BoxError> {
    let org = baseline.organization.as_ref().ok_or_else(|| {
        Box::new(Refusal {
            message: "`accounts: organization` needs an `organization` section".into(),
        })
    })?;
    let ctx = Ctx {
        account: "organization".into(),
        region: baseline.home_region.clone(),
        service: "organizations",
    };
    let who = aws_sdk_sts::Client::new(base)
        .get_caller_identity()
        .send()
        .await
        .map_err(
            Ctx {
                service: "sts",
                ..ctx.clone()
            }
            .err("GetCallerIdentity"),
        )?;
    let me = who.account().unwrap_or_default().to_string();
    let partition = who
        .arn()
        .and_then(|a| a.split(':').nth(1))
        .unwrap_or("aws")
        .to_string();
    let excluded: Vec<&AccountId> = org.exclude.iter().flatten().collect();
    let mut out = Vec::new();
    let mut pages = aws_sdk_organizations::Client::new(base)
        .list_accounts()
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        for a in page.map_err(ctx.err("ListAccounts"))?.accounts() {
            #[allow(deprecated)]
            let active = a.status() == Some(&aws_sdk_organizations::types::AccountStatus::Active)
                || a.state() == Some(&aws_sdk_organizations::types::AccountState::Active);
            let Some(id) = a.id() else { continue };
            if !active || excluded.iter().any(|x| x.0 == id) {
                continue;
            }
            out.push(AccountRef {
                id: AccountId(id.to_string()),
                name: a.name().map(str::to_string),
                role_arn: (id != me)
                    .then(|| format!("arn:{partition}:iam::{id}:role/{}", org.role_name)),
                profile: None,
            });
        }
    }
    out.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(out)
}

async fn reach(
    base: &SdkConfig,
    baseline: &Baseline,
    a: &AccountRef,
    opts: &ConnectOptions,
) -> Result<(Account, Vec<String>), BoxError> {
    let mut sdk = match &a.profile {
        Some(p) => {
            let mut loader = aws_config::defaults(BehaviorVersion::latest())
                .region(Region::new(baseline.home_region.clone()))
                .profile_name(p);
            // One HTTP client (one connection pool) for the whole process.
            if let Some(http) = base.http_client() {
                loader = loader.http_client(http);
            }
            loader.load().await
        }
        None => base.clone(),
    };
    if let Some(role) = &a.role_arn {
        let provider = aws_config::sts::AssumeRoleProvider::builder(role.clone())
            .session_name("baseline")
            .configure(&sdk)
            .build()
            .await;
        sdk = sdk
            .to_builder()
            .credentials_provider(SharedCredentialsProvider::new(provider))
            .build();
    }
    let ctx = Ctx {
        account: a.id.0.clone(),
        region: baseline.home_region.clone(),
        service: "sts",
    };
    // Who we are and which regions are enabled: asked at once.
    let regions = async {
        match &baseline.regions {
            Regions::List(list) => Ok(list.clone()),
            Regions::All(_) => {
                // DescribeRegions without AllRegions lists the regions enabled
                // for this account (opted-in or on by default).
                let ctx = Ctx {
                    service: "ec2",
                    ..ctx.clone()
                };
                let out = aws_sdk_ec2::Client::new(&sdk)
                    .describe_regions()
                    .send()
                    .await
                    .map_err(ctx.err("DescribeRegions"))?;
                let mut names: Vec<String> = out
                    .regions()
                    .iter()
                    .filter(|r| r.opt_in_status() != Some("not-opted-in"))
                    .filter_map(|r| r.region_name().map(str::to_string))
                    .collect();
                names.sort();
                Ok::<_, crate::AwsError>(names)
            }
        }
    };
    let (who, regions) = futures::join!(
        aws_sdk_sts::Client::new(&sdk).get_caller_identity().send(),
        regions
    );
    let who = who.map_err(ctx.err("GetCallerIdentity"))?;
    let actual = who.account().unwrap_or_default();
    if actual != a.id.0 {
        return Err(Box::new(Refusal {
            message: format!(
                "the credentials are for account {actual}, but the baseline names {}{}; nothing in it is read or changed",
                a.id,
                if a.role_arn.is_none() {
                    " (give `role_arn` or `profile` for it)"
                } else {
                    ""
                }
            ),
        }));
    }
    let partition = who
        .arn()
        .and_then(|arn| arn.split(':').nth(1))
        .unwrap_or("aws")
        .to_string();
    let mut regions = regions?;
    if !regions.contains(&baseline.home_region) {
        // Its global resources (trail, buckets, account settings) would
        // silently go unmanaged.
        return Err(Box::new(Refusal {
            message: format!(
                "home region {} is not enabled for account {}; enable it or choose another home_region",
                baseline.home_region, a.id
            ),
        }));
    }
    if let Some(only) = &opts.regions {
        regions.retain(|r| only.contains(r));
    }
    Ok((
        Account {
            id: actual.to_string(),
            partition,
            sdk,
        },
        regions,
    ))
}
