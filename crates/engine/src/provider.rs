//! The only view the engine has of AWS: one [`Service`] per AWS service.

use async_trait::async_trait;
use baseline_spec::Baseline;
use serde::{Deserialize, Serialize};

use crate::model::{Change, Desired, Mode, Observed, Target};

/// What a read found: the resources, and information for the person
/// reading the plan (e.g. Trusted Advisor summaries).
#[derive(Debug, Default)]
pub struct Reading {
    /// The resources that exist now.
    pub observed: Vec<Observed>,
    /// Information lines, shown with the plan.
    pub notes: Vec<String>,
}

impl From<Vec<Observed>> for Reading {
    fn from(observed: Vec<Observed>) -> Self {
        Reading {
            observed,
            notes: Vec::new(),
        }
    }
}

/// An error from a provider, with its causes; the provider's own typed error
/// carries the account / region / service / operation context, and a
/// [`Failure`] or [`Refusal`] in its chain says what kind it is
/// ([`error_kind`]).
pub type ServiceError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What kind of failure an error is, so that a person (and a tool reading
/// the JSON plan) can tell throttled from denied without parsing text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// AWS asked to slow down (throttling), after every retry.
    Throttled,
    /// The network or AWS failed (a timeout, a reset, a 5xx), after every
    /// retry: trying again later may work.
    Transient,
    /// Not allowed: a missing permission, an SCP, a role that cannot be
    /// assumed.
    Denied,
    /// What the call names does not exist.
    NotFound,
    /// Another change of the same resource was under way (409), after
    /// waiting the settle budget.
    Conflict,
    /// AWS has not yet put into effect what was just written (a bucket or
    /// key policy that a service checks, a role a service assumes, a KMS
    /// alias), after waiting the settle budget (`--settle-timeout`); or the
    /// policy or role really lacks what the service needs.
    Settling,
    /// AWS refused the request as invalid (4xx): a value it does not take.
    Invalid,
    /// baseline refused: a safety rule (not baseline's, another
    /// baseline's, a bucket of another account), or an answer it cannot use.
    Refused,
    /// AWS changed since the plan was made: plan again.
    Stale,
    /// An internal error (a panic), contained to its read or step.
    Panic,
    /// Anything else.
    #[default]
    Other,
}

impl ErrorKind {
    /// The kind of an AWS error, from its error code, its HTTP status, and
    /// whether it never got an answer (`no_answer`: a timeout, a failed
    /// connection).
    pub fn of_aws(code: Option<&str>, status: Option<u16>, no_answer: bool) -> ErrorKind {
        if no_answer {
            return ErrorKind::Transient;
        }
        let code = code.unwrap_or_default();
        let has = |words: &[&str]| words.iter().any(|w| code.contains(w));
        if has(&[
            "Throttl",
            "TooManyRequests",
            "RequestLimitExceeded",
            "SlowDown",
        ]) || status == Some(429)
        {
            ErrorKind::Throttled
        } else if has(&[
            "AccessDenied",
            "Unauthorized",
            "AuthorizationError",
            "Forbidden",
        ]) || status == Some(403)
        {
            ErrorKind::Denied
        } else if has(&["NotFound", "NoSuch"]) || status == Some(404) {
            ErrorKind::NotFound
        } else if has(&[
            "InsufficientS3BucketPolicy",
            "InsufficientEncryptionPolicy",
            "InsufficientDeliveryPolicy",
            "InsufficientSnsTopicPolicy",
            // AWS Config: the recorder's role cannot be used (yet).
            "InvalidRoleException",
        ]) {
            ErrorKind::Settling
        } else if has(&["OperationAborted", "Conflict", "ConcurrentModification"])
            || status == Some(409)
        {
            ErrorKind::Conflict
        } else if has(&[
            "InternalError",
            "InternalServer",
            "InternalFailure",
            "ServiceUnavailable",
        ]) || status.is_some_and(|s| s >= 500)
        {
            ErrorKind::Transient
        } else if !code.is_empty() || status.is_some_and(|s| (400..500).contains(&s)) {
            ErrorKind::Invalid
        } else {
            ErrorKind::Other
        }
    }
}

impl std::fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = serde_json::to_value(self).ok();
        write!(
            f,
            "{}",
            s.as_ref().and_then(|v| v.as_str()).unwrap_or("other")
        )
    }
}

/// A failure a provider classified: its kind and what it says (an AWS
/// error's message and causes).
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Failure {
    /// What kind it is.
    pub kind: ErrorKind,
    /// What it says.
    pub message: String,
}

/// A refusal that is not an API error ([`ErrorKind::Refused`]): a resource
/// baseline must not take over, credentials for the wrong account, an
/// answer it cannot use.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Refusal {
    /// What and why.
    pub message: String,
}

/// The kind of an error: the first classified error in its chain
/// (outermost first); [`ErrorKind::Other`] when none is.
pub fn error_kind(e: &(dyn std::error::Error + 'static)) -> ErrorKind {
    let mut cur = Some(e);
    while let Some(c) = cur {
        if let Some(f) = c.downcast_ref::<Failure>() {
            return f.kind;
        }
        if c.downcast_ref::<Refusal>().is_some() {
            return ErrorKind::Refused;
        }
        if c.downcast_ref::<Panicked>().is_some() {
            return ErrorKind::Panic;
        }
        cur = c.source();
    }
    ErrorKind::Other
}

/// One AWS service: derives desired state from the baseline, reads what is
/// there, and writes one change at a time.
#[async_trait]
pub trait Service: Send + Sync {
    /// The service's name as used by `--only` (`config`, `securityhub`, ...).
    fn name(&self) -> &'static str;

    /// The kinds it plans that are not an account's own settings:
    /// `(organization, covered)` (see [`crate::Scopes`]).
    fn scopes(&self) -> (&'static [&'static str], &'static [&'static str]) {
        (&[], &[])
    }

    /// The resources the baseline wants in `target`, or none when the
    /// baseline does not manage this service there (then nothing is read).
    fn desired(&self, baseline: &Baseline, target: &Target, mode: Mode) -> Vec<Desired>;

    /// What exists now for the resources in `desired` (absent ones are left
    /// out), plus resources found that `desired` could not name in advance
    /// (e.g. each IAM user without MFA): see [`Service::discovered`].
    async fn read(&self, target: &Target, desired: &[Desired]) -> Result<Reading, ServiceError>;

    /// What the baseline wants of a resource the read found but `desired`
    /// did not name. `None`: nothing (it is not shown in the plan).
    fn discovered(
        &self,
        _baseline: &Baseline,
        _target: &Target,
        _mode: Mode,
        _observed: &Observed,
    ) -> Option<Desired> {
        None
    }

    /// Carries out one change, in dependency order: writes the change's
    /// planned `after` for the attributes in `changed` (everything, for a
    /// create), with the identities and settings of its `private` data. It
    /// has no baseline: what to write was decided when planning. A
    /// provider reads AWS here only to check that what it overwrites is
    /// what the plan read (a failed check is "plan is stale"), to learn a
    /// value known only after an earlier change of the same plan (the ARN
    /// of the key the plan creates, which the trail is given), or to finish
    /// its own half-made create (a tagged key a stopped run made but did
    /// not alias; a bucket whose CreateBucket answer was lost).
    async fn apply(&self, target: &Target, change: &Change) -> Result<(), ServiceError>;
}

/// The longest error text kept (in plans and output): AWS error messages
/// can carry whole documents (a policy, an HTML page from a proxy).
pub const MAX_ERROR_CHARS: usize = 2000;

pub use baseline_spec::text::{needs_escape, printable, printable_lines};

/// The error and all its causes on one line, outermost first, at most
/// [`MAX_ERROR_CHARS`] characters, control characters escaped
/// ([`printable`]).
pub fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut raw = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let text = c.to_string();
        if !raw.contains(&text) {
            raw.push_str(": ");
            raw.push_str(&text);
        }
        cur = c.source();
    }
    let mut s = printable(&raw).into_owned();
    let n = s.chars().count();
    if n > MAX_ERROR_CHARS {
        let kept: String = s.chars().take(MAX_ERROR_CHARS).collect();
        s = format!("{kept}… ({} more characters)", n - MAX_ERROR_CHARS);
    }
    s
}

/// A provider call that panicked (a bug, or an answer the AWS SDK could not
/// turn into its next request, such as a 70,000-character id): an error of
/// that account, region and service, like any other bad answer.
#[derive(Debug, thiserror::Error)]
#[error("{what} stopped on an internal error (panic: {message}); the rest of the run went on")]
pub struct Panicked {
    /// What was running (`the guardduty read`, `the step ...`).
    pub what: String,
    /// The panic's message, made printable and bounded.
    pub message: String,
}

/// Runs `fut`; a panic inside it becomes a [`Panicked`] error instead of
/// ending the process, so one bad answer fails only its own read or step.
pub async fn contained<T>(
    what: impl FnOnce() -> String,
    fut: impl std::future::Future<Output = Result<T, ServiceError>>,
) -> Result<T, ServiceError> {
    use futures::FutureExt;
    match std::panic::AssertUnwindSafe(fut).catch_unwind().await {
        Ok(r) => r,
        Err(payload) => {
            let message = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "no message".into());
            let message: String = printable(&message).chars().take(500).collect();
            Err(Box::new(Panicked {
                what: what(),
                message,
            }))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aws_errors_are_classified_by_code_then_status() {
        let k = ErrorKind::of_aws;
        assert_eq!(
            k(Some("ThrottlingException"), Some(400), false),
            ErrorKind::Throttled
        );
        assert_eq!(k(Some("SlowDown"), Some(503), false), ErrorKind::Throttled);
        assert_eq!(
            k(Some("AccessDeniedException"), Some(400), false),
            ErrorKind::Denied
        );
        assert_eq!(
            k(Some("UnauthorizedOperation"), Some(403), false),
            ErrorKind::Denied
        );
        assert_eq!(
            k(Some("NoSuchBucket"), Some(404), false),
            ErrorKind::NotFound
        );
        assert_eq!(
            k(Some("OperationAborted"), Some(409), false),
            ErrorKind::Conflict
        );
        assert_eq!(
            k(
                Some("InsufficientS3BucketPolicyException"),
                Some(400),
                false
            ),
            ErrorKind::Settling
        );
        assert_eq!(
            k(
                Some("InsufficientDeliveryPolicyException"),
                Some(400),
                false
            ),
            ErrorKind::Settling
        );
        assert_eq!(
            k(Some("InvalidRoleException"), Some(400), false),
            ErrorKind::Settling
        );
        assert_eq!(
            k(Some("InternalError"), Some(500), false),
            ErrorKind::Transient
        );
        assert_eq!(k(None, Some(502), false), ErrorKind::Transient);
        assert_eq!(
            k(Some("InvalidParameterValue"), Some(400), false),
            ErrorKind::Invalid
        );
        assert_eq!(k(None, None, true), ErrorKind::Transient);
        assert_eq!(k(None, None, false), ErrorKind::Other);
        assert_eq!(ErrorKind::NotFound.to_string(), "not_found");
    }

    #[test]
    fn the_kind_is_found_anywhere_in_the_chain() {
        #[derive(Debug, thiserror::Error)]
        #[error("outer")]
        struct Outer(#[source] Failure);
        let e = Outer(Failure {
            kind: ErrorKind::Denied,
            message: "no".into(),
        });
        assert_eq!(error_kind(&e), ErrorKind::Denied);
        let r = Refusal {
            message: "not ours".into(),
        };
        assert_eq!(error_kind(&r), ErrorKind::Refused);
        assert_eq!(error_kind(&std::fmt::Error), ErrorKind::Other);
    }
}
