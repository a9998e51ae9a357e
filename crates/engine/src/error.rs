//! Errors: what kind a failure is, from AWS's error codes in one table,
//! and how an error is shown.

use serde::{Deserialize, Serialize};

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

/// AWS's error codes and what kind of failure each is: the one table
/// baseline classifies by. A row matches a code that contains its text
/// (`Throttl` matches `ThrottlingException` and `Throttled`); the first
/// matching row wins, so the more specific rows come first.
pub const ERROR_CODES: &[(&str, ErrorKind)] = &[
    ("Throttl", ErrorKind::Throttled),
    ("TooManyRequests", ErrorKind::Throttled),
    ("RequestLimitExceeded", ErrorKind::Throttled),
    ("SlowDown", ErrorKind::Throttled),
    ("AccessDenied", ErrorKind::Denied),
    ("Unauthorized", ErrorKind::Denied),
    ("AuthorizationError", ErrorKind::Denied),
    ("Forbidden", ErrorKind::Denied),
    ("NotFound", ErrorKind::NotFound),
    ("NoSuch", ErrorKind::NotFound),
    // A bucket or key policy, a delivery channel's or trail's target,
    // that AWS has not put into effect yet.
    ("InsufficientS3BucketPolicy", ErrorKind::Settling),
    ("InsufficientEncryptionPolicy", ErrorKind::Settling),
    ("InsufficientDeliveryPolicy", ErrorKind::Settling),
    ("InsufficientSnsTopicPolicy", ErrorKind::Settling),
    // AWS Config: the recorder's role cannot be used (yet).
    ("InvalidRoleException", ErrorKind::Settling),
    ("OperationAborted", ErrorKind::Conflict),
    ("Conflict", ErrorKind::Conflict),
    ("ConcurrentModification", ErrorKind::Conflict),
    ("InternalError", ErrorKind::Transient),
    ("InternalServer", ErrorKind::Transient),
    ("InternalFailure", ErrorKind::Transient),
    ("ServiceUnavailable", ErrorKind::Transient),
];

impl ErrorKind {
    /// The kind of an AWS error, from its error code ([`ERROR_CODES`]),
    /// else its HTTP status, and whether it never got an answer
    /// (`no_answer`: a timeout, a failed connection).
    pub fn of_aws(code: Option<&str>, status: Option<u16>, no_answer: bool) -> ErrorKind {
        if no_answer {
            return ErrorKind::Transient;
        }
        let code = code.unwrap_or_default();
        if !code.is_empty()
            && let Some((_, kind)) = ERROR_CODES.iter().find(|(text, _)| code.contains(text))
        {
            return *kind;
        }
        match status {
            Some(429) => ErrorKind::Throttled,
            Some(403) => ErrorKind::Denied,
            Some(404) => ErrorKind::NotFound,
            Some(409) => ErrorKind::Conflict,
            Some(s) if s >= 500 => ErrorKind::Transient,
            _ if !code.is_empty() => ErrorKind::Invalid,
            Some(s) if (400..500).contains(&s) => ErrorKind::Invalid,
            _ => ErrorKind::Other,
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
