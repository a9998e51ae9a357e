//! Regional SDK clients, derived from an account's configuration (public
//! so that tests seed the emulator through the same endpoint handling).
//!
//! A client is cheap to make from an `SdkConfig`: the HTTP client, the
//! credentials cache and the retry settings are shared, so nothing here
//! re-authenticates or opens new connection pools.

use aws_config::SdkConfig;
use aws_sdk_s3control::config::endpoint::{EndpointFuture, Params, ResolveEndpoint};
use aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef;
use aws_smithy_runtime_api::client::interceptors::{Intercept, SharedInterceptor};
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::retries::RequestAttempts;
use aws_smithy_runtime_api::client::runtime_components::{
    RuntimeComponents, RuntimeComponentsBuilder,
};
use aws_smithy_types::config_bag::ConfigBag;
use aws_smithy_types::endpoint::Endpoint;
use aws_types::region::Region;
use baseline_engine::ServiceError;

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
    /// Interceptors added to every client made for it: none in a run; the
    /// mock tests answer through them (`aws-smithy-mocks`).
    pub interceptors: Vec<SharedInterceptor>,
}

impl Account {
    /// Adds the account's own interceptors to a client's configuration.
    pub(crate) fn intercept<B>(&self, mut builder: B, push: fn(&mut B, SharedInterceptor)) -> B {
        for i in &self.interceptors {
            push(&mut builder, i.clone());
        }
        builder
    }
}

/// The retry partition of one account and service. The SDK's retry quota
/// (a token bucket) is shared by every client of a partition; by default
/// the partition is the service, so one throttled account would drain the
/// quota of all the others. One partition per account keeps them apart.
pub fn partition(
    account: &str,
    service: &str,
) -> aws_smithy_runtime::client::retries::RetryPartition {
    aws_smithy_runtime::client::retries::RetryPartition::new(format!("{service}/{account}"))
}

/// Says at `-v` (info) when a call is tried again: which account, region,
/// service and operation, and which attempt. The SDK's own retry messages
/// are debug-level and do not say where.
#[derive(Debug)]
pub struct RetryLog {
    account: String,
    region: String,
}

impl RetryLog {
    /// For the clients of `account` in `region`.
    pub fn new(account: &str, region: &str) -> Self {
        RetryLog {
            account: account.to_string(),
            region: region.to_string(),
        }
    }
}

/// `BASELINE_CALL_LOG=FILE`: every AWS call made (not each retry) is
/// appended to FILE as `Service<TAB>Operation`, for audits and for the
/// test that checks `baseline policy` against the calls really made.
static CALL_LOG: std::sync::OnceLock<Option<std::sync::Mutex<std::fs::File>>> =
    std::sync::OnceLock::new();

fn log_call(cfg: &ConfigBag) {
    let log = CALL_LOG.get_or_init(|| {
        let path = std::env::var_os("BASELINE_CALL_LOG")?;
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .ok()
            .map(std::sync::Mutex::new)
    });
    if let (Some(file), Some(m)) = (log, cfg.load::<Metadata>())
        && let Ok(mut f) = file.lock()
    {
        use std::io::Write;
        let _ = writeln!(f, "{}\t{}", m.service(), m.name());
    }
}

impl Intercept for RetryLog {
    fn name(&self) -> &'static str {
        "RetryLog"
    }

    fn read_before_attempt(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), ServiceError> {
        let attempt = cfg.load::<RequestAttempts>().map_or(1, |a| a.attempts());
        if attempt == 1 {
            log_call(cfg);
        }
        if attempt > 1 {
            let (service, operation) = cfg
                .load::<Metadata>()
                .map_or(("?", "?"), |m| (m.service(), m.name()));
            tracing::info!(
                account = %self.account,
                region = %self.region,
                service,
                operation,
                attempt,
                "retrying"
            );
        }
        Ok(())
    }
}

/// The one HTTPS client of a run: every SDK client of every account and
/// region shares its connection pool and TLS configuration.
///
/// `aws_config` leaves the configuration's HTTP client unset, and then
/// every SDK client made from it builds a default HTTPS client of its own:
/// its own pool, so a TLS handshake per client, and a load of the trusted
/// roots (the platform's store, or `SSL_CERT_FILE`) per client. baseline
/// makes a client per service for each account-region it reads, a few
/// calls each, so at a thousand accounts that was tens of thousands of
/// pools, handshakes and trust-store loads (profiled in
/// docs/performance.md). This is the SDK's own default (rustls with
/// aws-lc, the proxy from the environment), made once; and since every
/// SDK client made asks its HTTP client to check the base configuration,
/// which the default does by building a TLS connector and throwing it
/// away, that check is done once too.
pub fn https_client() -> SharedHttpClient {
    use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
    use aws_smithy_http_client::{Builder, ConnectorBuilder, proxy::ProxyConfig};
    let inner = Builder::new().build_with_connector_fn(|settings, components| {
        let mut connector =
            ConnectorBuilder::default().tls_provider(Provider::Rustls(CryptoMode::AwsLc));
        connector.set_connector_settings(settings.cloned());
        if let Some(components) = components {
            connector.set_sleep_impl(components.sleep_impl());
        }
        connector.set_proxy_config(Some(ProxyConfig::from_env()));
        connector.build()
    });
    SharedHttpClient::new(CheckedOnce {
        inner,
        checked: std::sync::OnceLock::new(),
    })
}

#[derive(Debug)]
struct CheckedOnce {
    inner: SharedHttpClient,
    checked: std::sync::OnceLock<()>,
}

impl HttpClient for CheckedOnce {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        self.inner.http_connector(settings, components)
    }

    fn validate_base_client_config(
        &self,
        components: &RuntimeComponentsBuilder,
        cfg: &ConfigBag,
    ) -> Result<(), ServiceError> {
        if self.checked.get().is_none() {
            self.inner.validate_base_client_config(components, cfg)?;
            let _ = self.checked.set(());
        }
        Ok(())
    }

    fn validate_final_config(
        &self,
        components: &RuntimeComponents,
        cfg: &ConfigBag,
    ) -> Result<(), ServiceError> {
        self.inner.validate_final_config(components, cfg)
    }

    fn connector_metadata(&self) -> Option<ConnectorMetadata> {
        self.inner.connector_metadata()
    }
}

/// The account's configuration in another region.
pub fn in_region(sdk: &SdkConfig, region: &str) -> SdkConfig {
    sdk.to_builder()
        .region(Region::new(region.to_string()))
        .build()
}

/// S3, path-style when a custom endpoint (an emulator) is configured.
pub fn s3(sdk: &SdkConfig, region: &str) -> aws_sdk_s3::Client {
    let conf = in_region(sdk, region);
    let mut b = aws_sdk_s3::config::Builder::from(&conf);
    if conf.endpoint_url().is_some() {
        b = b.force_path_style(true);
    }
    aws_sdk_s3::Client::from_conf(b.build())
}

/// S3 for an account, in the account's retry partition.
pub(crate) fn s3_for(account: &Account, region: &str) -> aws_sdk_s3::Client {
    let conf = in_region(&account.sdk, region);
    let mut b = account.intercept(
        aws_sdk_s3::config::Builder::from(&conf)
            .retry_partition(partition(&account.id, "s3"))
            .interceptor(RetryLog::new(&account.id, region)),
        |b, i| {
            b.push_interceptor(i);
        },
    );
    if conf.endpoint_url().is_some() {
        b = b.force_path_style(true);
    }
    aws_sdk_s3::Client::from_conf(b.build())
}

/// S3 Control for an account (see [`s3control`]), in its retry partition.
pub(crate) fn s3control_for(account: &Account, region: &str) -> aws_sdk_s3control::Client {
    let conf = in_region(&account.sdk, region);
    let mut b = account.intercept(
        aws_sdk_s3control::config::Builder::from(&conf)
            .retry_partition(partition(&account.id, "s3control"))
            .interceptor(RetryLog::new(&account.id, region)),
        |b, i| {
            b.push_interceptor(i);
        },
    );
    if let Some(url) = conf.endpoint_url() {
        b = b.endpoint_resolver(FixedEndpoint(url.to_string()));
    }
    aws_sdk_s3control::Client::from_conf(b.build())
}

/// S3 Control. Its endpoint rules put the account id in front of the host
/// (`123456789012.s3-control...`), which cannot resolve for a custom
/// endpoint such as `http://127.0.0.1:5000`; with a custom endpoint we use
/// it exactly as given. Users of moto and LocalStack need this too.
pub fn s3control(sdk: &SdkConfig, region: &str) -> aws_sdk_s3control::Client {
    let conf = in_region(sdk, region);
    let mut b = aws_sdk_s3control::config::Builder::from(&conf);
    if let Some(url) = conf.endpoint_url() {
        b = b.endpoint_resolver(FixedEndpoint(url.to_string()));
    }
    aws_sdk_s3control::Client::from_conf(b.build())
}

#[derive(Debug)]
struct FixedEndpoint(String);

impl ResolveEndpoint for FixedEndpoint {
    fn resolve_endpoint<'a>(&'a self, _params: &'a Params) -> EndpointFuture<'a> {
        EndpointFuture::ready(Ok(Endpoint::builder().url(self.0.clone()).build()))
    }
}
