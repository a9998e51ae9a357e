//! Errors of AWS calls, with the account, region, service and operation.

/// An AWS call that failed, and where.
#[derive(Debug, thiserror::Error)]
#[error("{service} {operation} failed in account {account}, {region}")]
pub struct AwsError {
    /// Account id.
    pub account: String,
    /// Region.
    pub region: String,
    /// Service name.
    pub service: &'static str,
    /// API operation.
    pub operation: &'static str,
    /// What AWS (or the network) said.
    #[source]
    pub source: Box<dyn std::error::Error + Send + Sync>,
}

pub use baseline_engine::Refusal;

/// The SDK's error with its whole context (the SDK's own `Display` says
/// only "service error").
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SdkMessage(pub String);

impl SdkMessage {
    /// From any SDK error: its messages and those of its causes, without
    /// the debug dump `DisplayErrorContext` appends.
    pub fn of<E: std::error::Error>(e: &E) -> Self {
        let mut parts: Vec<String> = vec![e.to_string()];
        let mut cur = e.source();
        while let Some(c) = cur {
            let text = c.to_string();
            if !parts.iter().any(|p| p.contains(&text)) {
                parts.push(text);
            }
            cur = c.source();
        }
        // "service error" says nothing: the cause says what.
        if parts.len() > 1 && parts[0] == "service error" {
            parts.remove(0);
        }
        SdkMessage(parts.join(": "))
    }
}

/// What an error says of the HTTP answer behind it, when there was one.
/// An answer without an error code (a proxy's 501, an empty 503) would
/// otherwise read only "unhandled error: Error".
pub trait HttpStatus {
    /// The HTTP status of an answer that carried no error code.
    fn http_status(&self) -> Option<u16> {
        None
    }

    /// What kind of failure it is ([`baseline_engine::ErrorKind::of_aws`]).
    fn kind(&self) -> baseline_engine::ErrorKind {
        baseline_engine::ErrorKind::Other
    }
}

impl<E: aws_smithy_types::error::metadata::ProvideErrorMetadata> HttpStatus
    for aws_smithy_runtime_api::client::result::SdkError<
        E,
        aws_smithy_runtime_api::client::orchestrator::HttpResponse,
    >
{
    fn http_status(&self) -> Option<u16> {
        use aws_smithy_types::error::metadata::ProvideErrorMetadata;
        if self.code().is_some() {
            return None;
        }
        self.raw_response().map(|r| r.status().as_u16())
    }

    fn kind(&self) -> baseline_engine::ErrorKind {
        use aws_smithy_runtime_api::client::result::SdkError;
        use aws_smithy_types::error::metadata::ProvideErrorMetadata;
        let no_answer = matches!(
            self,
            SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_)
        );
        baseline_engine::ErrorKind::of_aws(
            self.code(),
            self.raw_response().map(|r| r.status().as_u16()),
            no_answer,
        )
    }
}

impl HttpStatus for aws_smithy_types::error::operation::BuildError {}
impl HttpStatus for SdkMessage {}
impl HttpStatus for csv::Error {}

/// Builds [`AwsError`]s for one target and service.
#[derive(Clone)]
pub(crate) struct Ctx {
    pub account: String,
    pub region: String,
    pub service: &'static str,
}

impl Ctx {
    pub fn new(target: &baseline_engine::Target, service: &'static str) -> Self {
        Ctx {
            account: target.account_id.clone(),
            region: target.region.clone(),
            service,
        }
    }

    /// Wraps an SDK error of `operation`; an answer that carried no error
    /// code is named by its HTTP status.
    pub fn err<E: std::error::Error + HttpStatus>(
        &self,
        operation: &'static str,
    ) -> impl FnOnce(E) -> AwsError + '_ {
        move |e| {
            let mut message = SdkMessage::of(&e);
            if let Some(status) = e.http_status().filter(|s| *s >= 300) {
                message.0 = format!(
                    "{} (HTTP {status} with no error code: the endpoint, or a proxy before it, did not answer as AWS does)",
                    message.0
                );
            }
            // Only the calls `crate::settle` retries meet these codes.
            if e.kind() == baseline_engine::ErrorKind::Settling {
                message.0.push_str(
                    " (tried again for up to --settle-timeout: a policy or role written moments \
                     ago may not be in effect yet; if it lasts, it lacks what the service needs)",
                );
            }
            self.failure(operation, e.kind(), message.0)
        }
    }

    /// Wraps an SDK error AWS kept answering while `crate::settle` waited
    /// for `waited_for` to take effect: of its own kind (a denial may be
    /// one), saying what was waited for.
    pub fn err_waited<'a, E: std::error::Error + HttpStatus>(
        &'a self,
        operation: &'static str,
        waited_for: &'a str,
    ) -> impl FnOnce(E) -> AwsError + 'a {
        move |e| {
            let message = format!(
                "{} (tried again for up to --settle-timeout: {waited_for} may not be in effect yet)",
                SdkMessage::of(&e).0
            );
            self.failure(operation, e.kind(), message)
        }
    }

    /// An error of `operation` that baseline itself decided (`kind`,
    /// `message`), with this context's account, region and service.
    pub fn failure(
        &self,
        operation: &'static str,
        kind: baseline_engine::ErrorKind,
        message: String,
    ) -> AwsError {
        AwsError {
            account: self.account.clone(),
            region: self.region.clone(),
            service: self.service,
            operation,
            source: Box::new(baseline_engine::Failure { kind, message }),
        }
    }
}
