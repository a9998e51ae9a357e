//! Credentials, accounts and regions: from the baseline to [`Target`]s.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;

use aws_config::{BehaviorVersion, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_types::region::Region;
use baseline_engine::{PlanError, Reached, ServiceError, Target, error_chain};
use baseline_spec::{AccountId, AccountRef, Accounts, Baseline, Regions};

use crate::clients::Account;
use crate::error::{Ctx, Refusal};

/// Every reachable account of a baseline.
#[derive(Debug, Default)]
pub struct Aws {
    /// Filled as accounts are reached ([`reach_accounts`]): an account's
    /// reads start once it is in.
    accounts: std::sync::RwLock<HashMap<String, Arc<Account>>>,
    /// Whose marks are whose: the baseline these accounts were reached for.
    pub owner: crate::Owner,
    /// How long a write waits for AWS to settle ([`Limits::settle_timeout`]).
    pub settle: Duration,
    /// The organization, when its security services run through a
    /// delegated administrator (`organization.delegated_admin`).
    pub organization: Option<crate::organization::Organization>,
}

impl Aws {
    /// Over accounts a test made (their SDK configurations and
    /// interceptors answer instead of AWS), for `owner`.
    #[cfg(feature = "test-util")]
    pub fn for_tests(accounts: Vec<Account>, owner: crate::Owner) -> Aws {
        Aws {
            accounts: std::sync::RwLock::new(
                accounts
                    .into_iter()
                    .map(|a| (a.id.clone(), Arc::new(a)))
                    .collect(),
            ),
            owner,
            settle: Duration::ZERO,
            organization: None,
        }
    }

    /// The account of a target, once it has been reached.
    pub fn account(&self, id: &str) -> Option<Arc<Account>> {
        self.accounts
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(id)
            .cloned()
    }

    fn insert(&self, account: Account) {
        self.accounts
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(account.id.clone(), Arc::new(account));
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
    /// Time bounds and retries of every AWS call.
    pub limits: Limits,
    /// `--shard K/N`: only the accounts of shard K (1-based) of N.
    pub shard: Option<Shard>,
    /// `--source-identity`: set on every AssumeRole.
    pub source_identity: Option<String>,
}

/// One of N shards of the accounts, for splitting the work over jobs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// This shard, 1 to `count`.
    pub index: u32,
    /// How many shards there are.
    pub count: u32,
}

impl Shard {
    /// Whether the account is in this shard.
    pub fn contains(&self, account_id: &str) -> bool {
        shard_of(account_id, self.count) == self.index
    }
}

/// The shard (1 to `count`) of an account: a stable hash of the id alone
/// (the first 8 bytes of its SHA-256, modulo `count`), so every job agrees
/// without talking to the others, and adding or removing an account moves
/// no other account.
pub fn shard_of(account_id: &str, count: u32) -> u32 {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(account_id.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    (u64::from_be_bytes(first) % u64::from(count.max(1))) as u32 + 1
}

/// Time bounds and retries of every AWS call (flags of the CLI; defaults
/// in [`Limits::default`], documented in the README).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Opening a connection.
    pub connect_timeout: Duration,
    /// One attempt of a call (a retry gets a new one).
    pub attempt_timeout: Duration,
    /// A call with all its retries.
    pub operation_timeout: Duration,
    /// Attempts per call (standard retry mode); `None`: the SDK's default
    /// (`AWS_MAX_ATTEMPTS`, or 3).
    pub max_attempts: Option<u32>,
    /// How many accounts are connected at once (AssumeRole, STS, regions).
    pub connect_concurrency: usize,
    /// How long a write that meets what AWS has not yet put into effect (a
    /// bucket or key policy CloudTrail or Config checks, a bucket's
    /// configuration still being applied) is tried again (`crate::settle`).
    pub settle_timeout: Duration,
}

impl Default for Limits {
    /// A call to a healthy AWS endpoint answers in well under a second;
    /// these bounds only cut off what hangs. The operation bound leaves
    /// room for three attempts with backoff.
    fn default() -> Self {
        Limits {
            connect_timeout: Duration::from_secs(5),
            attempt_timeout: Duration::from_secs(20),
            operation_timeout: Duration::from_secs(60),
            max_attempts: None,
            connect_concurrency: 16,
            // AWS documents no bound; Terraform's AWS provider waits two
            // minutes for IAM changes to propagate.
            settle_timeout: Duration::from_secs(120),
        }
    }
}

impl Limits {
    fn timeouts(&self) -> TimeoutConfig {
        TimeoutConfig::builder()
            .connect_timeout(self.connect_timeout)
            .operation_attempt_timeout(self.attempt_timeout)
            .operation_timeout(self.operation_timeout)
            .build()
    }

    pub(crate) fn apply(&self, mut loader: aws_config::ConfigLoader) -> aws_config::ConfigLoader {
        loader = loader.timeout_config(self.timeouts());
        if let Some(n) = self.max_attempts {
            loader = loader.retry_config(RetryConfig::standard().with_max_attempts(n.max(1)));
        }
        loader
    }
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
/// its regions; returns once every account is reached or has failed.
pub async fn connect(baseline: &Baseline, opts: &ConnectOptions) -> Connected {
    use futures::StreamExt;
    let reaching = reach_accounts(baseline, opts).await;
    let mut reached: Vec<Reached> = reaching.accounts.collect().await;
    reached.sort_by_key(|r| r.order);
    let mut errors = reaching.errors;
    let mut targets = Vec::new();
    for r in reached {
        targets.extend(r.targets);
        errors.extend(r.errors);
    }
    Connected {
        aws: reaching.aws,
        targets,
        errors,
    }
}

/// The accounts of a baseline as they are reached ([`reach_accounts`]).
pub struct Reaching<'a> {
    /// The accounts, each added as it is reached.
    pub aws: Arc<Aws>,
    /// What failed before any account: the organization's accounts could
    /// not be listed.
    pub errors: Vec<PlanError>,
    /// Each selected account once it is reached (or has failed), in the
    /// order they finish; at most `connect_concurrency` are being reached
    /// at once, and only as fast as the stream is read.
    pub accounts: futures::stream::BoxStream<'a, Reached>,
}

/// Starts reaching every selected account of the baseline: the base
/// credentials are loaded and the organization listed now; each account
/// (its role assumed, its identity checked, its regions listed) as the
/// stream is read, so that a plan reads the first accounts while the
/// others are reached.
pub async fn reach_accounts<'a>(baseline: &'a Baseline, opts: &'a ConnectOptions) -> Reaching<'a> {
    use futures::StreamExt;
    let base = base_config(baseline, opts).await;

    let mut errors = Vec::new();
    let mut organization = None;
    let mut ous = BTreeMap::new();
    let accounts: Vec<AccountRef> = match &baseline.accounts {
        Accounts::List(list) => list.clone(),
        Accounts::Organization(_) => {
            // The delegation is checked before any account is read: a
            // refusal there plans nothing, so nothing is changed.
            // So are the OUs the overrides and exceptions name: one that
            // does not exist plans nothing.
            let found = async {
                let (list, emails, excluded) = discover(&base, baseline).await?;
                let tree = if baseline.named_ous().is_empty() {
                    crate::ous::OuTree::default()
                } else {
                    let tree = crate::ous::read(&base, &baseline.home_region).await?;
                    tree.check(baseline)?;
                    tree.check_placed(list.iter().map(|a| a.id.0.as_str()))?;
                    tree
                };
                let org =
                    crate::organization::delegation(&base, baseline, emails, excluded).await?;
                Ok::<_, ServiceError>((list, org, tree))
            };
            match found.await {
                Ok((list, org, tree)) => {
                    organization = org;
                    ous = tree.accounts;
                    list
                }
                Err(e) => {
                    errors.push(PlanError {
                        account: "organization".into(),
                        region: String::new(),
                        service: String::new(),
                        message: error_chain(e.as_ref()),
                        kind: baseline_engine::error_kind(e.as_ref()),
                    });
                    Vec::new()
                }
            }
        }
    };
    let selected: Vec<AccountRef> = accounts
        .into_iter()
        .filter(|a| {
            opts.accounts
                .as_ref()
                .is_none_or(|ids| ids.contains(&a.id.0))
        })
        .filter(|a| opts.shard.is_none_or(|s| s.contains(&a.id.0)))
        .collect();
    let aws = Arc::new(Aws {
        owner: crate::Owner::of(baseline),
        settle: opts.limits.settle_timeout,
        organization,
        ..Aws::default()
    });
    let sts = caller_sts(&base, &baseline.home_region);
    let into = aws.clone();
    let ous = Arc::new(ous);
    // A bound, so that a thousand accounts do not all call STS at once.
    let stream = futures::stream::iter(selected.into_iter().enumerate())
        .map(move |(order, a)| {
            let (base, sts, aws) = (base.clone(), sts.clone(), into.clone());
            let ous = ous.clone();
            async move {
                let result = reach(&base, &sts, baseline, &a, opts).await;
                reached(order, &a, baseline, result, &aws, ous.get(&a.id.0))
            }
        })
        .buffer_unordered(opts.limits.connect_concurrency.max(1))
        .boxed();
    Reaching {
        aws,
        errors,
        accounts: stream,
    }
}

/// The caller's own configuration (the default credential chain or
/// `--profile`, in the home region), with the run's limits.
pub(crate) async fn base_config(baseline: &Baseline, opts: &ConnectOptions) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(baseline.home_region.clone()))
        .http_client(crate::clients::https_client());
    if let Some(p) = &opts.profile {
        loader = loader.profile_name(p);
    }
    opts.limits.apply(loader).load().await
}

/// One account's outcome as the plan takes it; a reached account is added
/// to `aws` first. `ou`: the OU it is in, when the baseline names OUs.
fn reached(
    order: usize,
    a: &AccountRef,
    baseline: &Baseline,
    result: Result<(Account, Vec<String>, Vec<String>), ServiceError>,
    aws: &Aws,
    ou: Option<&baseline_spec::OuPlace>,
) -> Reached {
    let mut out = Reached {
        order,
        ..Reached::default()
    };
    match result {
        Ok((account, regions, disabled)) => {
            tracing::info!(account = %a.id, regions = regions.len(), "reached");
            // A listed opt-in region the account has not enabled: said
            // once, and not planned (every call there fails).
            for region in disabled {
                out.errors.push(PlanError {
                    message: format!(
                        "{region} is an opt-in region that account {} has not enabled, so nothing there can be read or changed: enable it (AWS Account settings, or `aws account enable-region --region-name {region}`) or leave it out of `regions`",
                        a.id
                    ),
                    account: a.id.0.clone(),
                    region,
                    service: String::new(),
                    kind: baseline_engine::ErrorKind::Refused,
                });
            }
            for region in regions {
                out.targets.push(Target {
                    account_id: a.id.0.clone(),
                    account_name: a.name.clone(),
                    home: region == baseline.home_region,
                    region,
                    ou: ou.cloned(),
                });
            }
            aws.insert(account);
        }
        Err(e) => out.errors.push(PlanError {
            account: a.id.0.clone(),
            region: String::new(),
            service: String::new(),
            message: error_chain(e.as_ref()),
            kind: baseline_engine::error_kind(e.as_ref()),
        }),
    }
    out
}

/// The AssumeRole session name: says that baseline, and who, assumed the
/// role (CloudTrail records it in every event of the session). Only the
/// characters AWS allows, at most 64.
fn session_name() -> String {
    let who = std::env::var("BASELINE_SESSION_USER")
        .or_else(|_| std::env::var("USER"))
        .unwrap_or_default();
    let clean: String = who
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || "=,.@-_".contains(*c))
        .collect();
    let mut name = if clean.is_empty() {
        "baseline".to_string()
    } else {
        format!("baseline-{clean}")
    };
    name.truncate(64);
    name
}

/// An account's role, assumed through one STS client that every account
/// reached with the same base credentials shares (the SDK's own provider
/// makes an STS client per account: at a thousand accounts, a thousand
/// clients), with the SourceIdentity of `--source-identity` when given
/// (which the SDK's provider does not set: the identity stays on the
/// session, and on every role chained from it, in CloudTrail).
///
/// The first credentials are fetched when the account is reached, before
/// its first call ([`AssumeRole::prime`]): resolved inside that call, the
/// wait for AssumeRole (paced when STS throttles) counted against the
/// call's attempt timeout, and an answer that came after it was asked for
/// again (measured: docs/performance.md).
#[derive(Debug)]
struct AssumeRole {
    sts: aws_sdk_sts::Client,
    role: String,
    session: String,
    source_identity: Option<String>,
    primed: std::sync::Mutex<Option<aws_credential_types::Credentials>>,
}

impl AssumeRole {
    async fn assume(&self) -> Result<aws_credential_types::Credentials, AssumeFailed> {
        let out = self
            .sts
            .assume_role()
            .role_arn(&self.role)
            .role_session_name(&self.session)
            .set_source_identity(self.source_identity.clone())
            .send()
            .await
            .map_err(|e| AssumeFailed::Call(Box::new(e)))?;
        let c = out.credentials().ok_or(AssumeFailed::NoCredentials)?;
        Ok(aws_credential_types::Credentials::new(
            c.access_key_id(),
            c.secret_access_key(),
            Some(c.session_token().to_string()),
            std::time::SystemTime::try_from(*c.expiration()).ok(),
            "baseline-assume-role",
        ))
    }

    /// Fetches the first credentials now; the account's credentials cache
    /// gets them on its first load. STS throttling is waited out for up to
    /// `patience` (backing off, with jitter), beyond the SDK's own
    /// attempts: every AssumeRole of a run shares the caller's rate, and
    /// the SDK's attempts (and its retry quota) ran out for 2 of 965
    /// accounts at once against a throttling stand-in.
    async fn prime(&self, ctx: &Ctx, patience: Duration) -> Result<(), ServiceError> {
        use aws_sdk_sts::error::ProvideErrorMetadata as _;
        let started = std::time::Instant::now();
        // The accounts throttled together do not come back together: the
        // pauses have random jitter (crate::settle::pauses).
        let mut pauses = crate::settle::pauses(Duration::from_millis(500), Duration::from_secs(20));
        let first = loop {
            match self.assume().await {
                Ok(c) => break c,
                Err(AssumeFailed::Call(e))
                    if matches!(e.code(), Some("Throttling" | "ThrottlingException"))
                        && let Some(pause) = pauses.next()
                        && started.elapsed() + pause < patience =>
                {
                    tokio::time::sleep(pause).await;
                }
                Err(e) => {
                    return Err(match e {
                        AssumeFailed::Call(e) => Box::new(ctx.err("AssumeRole")(*e)),
                        AssumeFailed::NoCredentials => Box::new(Refusal {
                            message: format!(
                                "AssumeRole of {} answered without credentials",
                                self.role
                            ),
                        }),
                    });
                }
            }
        };
        *self.primed.lock().expect("not poisoned") = Some(first);
        Ok(())
    }
}

#[derive(Debug)]
enum AssumeFailed {
    Call(
        Box<
            aws_sdk_sts::error::SdkError<
                aws_sdk_sts::operation::assume_role::AssumeRoleError,
                aws_smithy_runtime_api::client::orchestrator::HttpResponse,
            >,
        >,
    ),
    NoCredentials,
}

impl aws_credential_types::provider::ProvideCredentials for AssumeRole {
    fn provide_credentials<'a>(
        &'a self,
    ) -> aws_credential_types::provider::future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        use aws_credential_types::provider::error::CredentialsError;
        aws_credential_types::provider::future::ProvideCredentials::new(async move {
            if let Some(first) = self.primed.lock().expect("not poisoned").take() {
                return Ok(first);
            }
            self.assume().await.map_err(|e| match e {
                AssumeFailed::Call(e) => {
                    CredentialsError::provider_error(crate::error::SdkMessage::of(&*e))
                }
                AssumeFailed::NoCredentials => {
                    CredentialsError::unhandled("AssumeRole answered without credentials")
                }
            })
        })
    }
}

/// Every ACTIVE account of the organization, less the excluded ones (with
/// their emails), and the ACTIVE accounts excluded. The account whose
/// credentials we hold (the management or a delegated account) is reached
/// with them; the others through `role_name`.
async fn discover(base: &SdkConfig, baseline: &Baseline) -> Result<Discovered, ServiceError> {
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
    let mut emails = BTreeMap::new();
    let mut left_out = BTreeSet::new();
    let mut pages = aws_sdk_organizations::Client::new(base)
        .list_accounts()
        .into_paginator()
        .send();
    let mut bound = crate::pages::Bound::new(&ctx, "ListAccounts");
    while let Some(page) = pages.next().await {
        let page = page.map_err(ctx.err("ListAccounts"))?;
        bound.page(page.next_token())?;
        for a in page.accounts() {
            #[allow(deprecated)]
            let active = a.status() == Some(&aws_sdk_organizations::types::AccountStatus::Active)
                || a.state() == Some(&aws_sdk_organizations::types::AccountState::Active);
            let Some(id) = a.id() else { continue };
            if !active {
                continue;
            }
            if excluded.iter().any(|x| x.0 == id) {
                left_out.insert(id.to_string());
                continue;
            }
            emails.insert(id.to_string(), a.email().unwrap_or_default().to_string());
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
    Ok((out, emails, left_out))
}

/// What [`discover`] finds: the accounts, their emails, the ACTIVE
/// accounts excluded.
type Discovered = (Vec<AccountRef>, BTreeMap<String, String>, BTreeSet<String>);

/// The regions every account has enabled (those AWS introduced before
/// March 20, 2019; AWS Account Management, "Specify which AWS Regions your
/// account can use"). Any other region is an opt-in region.
const ENABLED_BY_DEFAULT: &[&str] = &[
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "ap-south-1",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-southeast-1",
    "ap-southeast-2",
    "ca-central-1",
    "eu-central-1",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eu-north-1",
    "sa-east-1",
];

/// The STS client that assumes the accounts' roles with the caller's
/// credentials, in the caller's own retry partition. Every AssumeRole of a
/// run counts against the caller's account (AWS applies the rate to the
/// account whose credentials call), so this one client paces them: the
/// SDK's adaptive retry mode slows every later request of the partition
/// once STS throttles, instead of each request retrying on its own until
/// its attempts run out (a thousand accounts at once, measured against a
/// stand-in that throttles: docs/performance.md).
fn caller_sts(sdk: &SdkConfig, home: &str) -> aws_sdk_sts::Client {
    let attempts = sdk.retry_config().map_or(3, |r| r.max_attempts());
    aws_sdk_sts::Client::from_conf(
        aws_sdk_sts::config::Builder::from(sdk)
            .retry_config(RetryConfig::adaptive().with_max_attempts(attempts))
            .retry_partition(crate::clients::partition("caller", "sts"))
            .interceptor(crate::clients::RetryLog::new("caller", home))
            .build(),
    )
}

async fn reach(
    base: &SdkConfig,
    base_sts: &aws_sdk_sts::Client,
    baseline: &Baseline,
    a: &AccountRef,
    opts: &ConnectOptions,
) -> Result<(Account, Vec<String>, Vec<String>), ServiceError> {
    let mut sdk = match &a.profile {
        Some(p) => {
            let mut loader = opts.limits.apply(
                aws_config::defaults(BehaviorVersion::latest())
                    .region(Region::new(baseline.home_region.clone()))
                    .profile_name(p),
            );
            // One HTTP client (one connection pool) for the whole process.
            if let Some(http) = base.http_client() {
                loader = loader.http_client(http);
            }
            loader.load().await
        }
        None => base.clone(),
    };
    if let Some(role) = &a.role_arn {
        let assume = AssumeRole {
            // An account of its own profile assumes with that profile.
            sts: match &a.profile {
                Some(_) => caller_sts(&sdk, &baseline.home_region),
                None => base_sts.clone(),
            },
            role: role.clone(),
            session: session_name(),
            source_identity: opts.source_identity.clone(),
            primed: std::sync::Mutex::new(None),
        };
        assume
            .prime(
                &Ctx {
                    account: a.id.0.clone(),
                    region: baseline.home_region.clone(),
                    service: "sts",
                },
                opts.limits.operation_timeout,
            )
            .await?;
        let provider = SharedCredentialsProvider::new(assume);
        // The account's own credentials cache, loaded once and shared by
        // every client of the account. Under load (hundreds of accounts at
        // once) the default 5-second load timeout of the shared cache
        // expired while AssumeRole waited its turn, and each client asked
        // for the role again (docs/performance.md).
        sdk = sdk
            .to_builder()
            .credentials_provider(provider)
            .identity_cache(
                aws_config::identity::IdentityCache::lazy()
                    .load_timeout(opts.limits.operation_timeout)
                    .build(),
            )
            .build();
    }
    let ctx = Ctx {
        account: a.id.0.clone(),
        region: baseline.home_region.clone(),
        service: "sts",
    };
    // Who we are and which regions are enabled: asked at once.
    // DescribeRegions with AllRegions lists every region of the partition
    // with its opt-in status: `regions: all` takes the enabled ones; a
    // listed region that is an opt-in region this account has not enabled
    // is reported and left out (every call there would fail).
    let regions = async {
        let ctx = Ctx {
            service: "ec2",
            ..ctx.clone()
        };
        // Each account in its own retry partition, here too.
        let out = aws_sdk_ec2::Client::from_conf(
            aws_sdk_ec2::config::Builder::from(&sdk)
                .retry_partition(crate::clients::partition(&a.id.0, "ec2"))
                .interceptor(crate::clients::RetryLog::new(
                    &a.id.0,
                    &baseline.home_region,
                ))
                .build(),
        )
        .describe_regions()
        .all_regions(true)
        .send()
        .await
        .map_err(ctx.err("DescribeRegions"))?;
        let disabled: std::collections::BTreeSet<&str> = out
            .regions()
            .iter()
            .filter(|r| r.opt_in_status() == Some("not-opted-in"))
            .filter_map(|r| r.region_name())
            .collect();
        let (mut on, mut off): (Vec<String>, Vec<String>) = match &baseline.regions {
            Regions::List(list) => list
                .iter()
                .cloned()
                .partition(|r| !disabled.contains(r.as_str())),
            Regions::All(_) => (
                out.regions()
                    .iter()
                    .filter_map(|r| r.region_name())
                    .filter(|r| !disabled.contains(r))
                    .map(str::to_string)
                    .collect(),
                Vec::new(),
            ),
        };
        on.sort();
        off.sort();
        Ok::<_, crate::AwsError>((on, off))
    };
    let (who, regions) = futures::join!(
        aws_sdk_sts::Client::from_conf(
            aws_sdk_sts::config::Builder::from(&sdk)
                .retry_partition(crate::clients::partition(&a.id.0, "sts"))
                .interceptor(crate::clients::RetryLog::new(
                    &a.id.0,
                    &baseline.home_region
                ))
                .build()
        )
        .get_caller_identity()
        .send(),
        regions
    );
    let who = match who {
        Ok(who) => who,
        // Every call made in a disabled opt-in region is refused as if the
        // credentials were unknown: say what is most likely meant.
        Err(e) if !ENABLED_BY_DEFAULT.contains(&baseline.home_region.as_str()) => {
            let cause = ctx.err("GetCallerIdentity")(e);
            return Err(Box::new(Refusal {
                message: format!(
                    "home region {home} is an opt-in region, and the first call there failed ({}): if account {} has not enabled {home}, nothing can be read or changed there; enable it or choose another home_region",
                    baseline_engine::error_chain(&cause),
                    a.id,
                    home = baseline.home_region,
                ),
            }));
        }
        Err(e) => return Err(Box::new(ctx.err("GetCallerIdentity")(e))),
    };
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
    let (mut regions, mut disabled) = regions?;
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
        disabled.retain(|r| only.contains(r));
    }
    Ok((
        Account {
            id: actual.to_string(),
            partition,
            sdk,
            interceptors: Vec::new(),
        },
        regions,
        disabled,
    ))
}

#[cfg(test)]
mod tests {
    use super::shard_of;

    /// Adding an account moves only that account; every shard gets some.
    #[test]
    fn shards_are_stable_and_spread() {
        let ids: Vec<String> = (0..300)
            .map(|i| format!("{:012}", 100_000_000_000u64 + i * 7919))
            .collect();
        let before: Vec<u32> = ids.iter().map(|id| shard_of(id, 4)).collect();
        let mut more = ids.clone();
        more.push("999999999999".into());
        let after: Vec<u32> = more.iter().map(|id| shard_of(id, 4)).collect();
        assert_eq!(&after[..ids.len()], &before[..]);
        for k in 1..=4 {
            let n = before.iter().filter(|&&s| s == k).count();
            assert!((40..=110).contains(&n), "shard {k} has {n} of 300");
        }
        assert_eq!(shard_of("123456789012", 1), 1);
    }
}
