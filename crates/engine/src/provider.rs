//! The only view the engine has of AWS: one [`Service`] per AWS service.

use async_trait::async_trait;
use baseline_spec::Baseline;

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
/// carries the account / region / service / operation context.
pub type ServiceError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// One AWS service: derives desired state from the baseline, reads what is
/// there, and writes one change at a time.
#[async_trait]
pub trait Service: Send + Sync {
    /// The service's name as used by `--only` (`config`, `securityhub`, ...).
    fn name(&self) -> &'static str;

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
    /// has no baseline: what to write was decided when planning, and a
    /// provider reads AWS here only to check that the resource is still
    /// the one planned (a failed check is "plan is stale").
    async fn apply(&self, target: &Target, change: &Change) -> Result<(), ServiceError>;
}

/// The longest error text kept (in plans and output): AWS error messages
/// can carry whole documents (a policy, an HTML page from a proxy).
pub const MAX_ERROR_CHARS: usize = 2000;

/// Text from outside (an AWS answer, a file) made safe to print: control
/// characters (NUL, escape sequences, line breaks, ...) are shown escaped
/// (`\u{1b}`, `\n`), so that no answer can move the cursor, recolour a
/// terminal, or add a line that looks like the tool's own. Other
/// characters, Japanese account names included, are kept as they are.
pub fn printable(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.chars().any(char::is_control) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

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
