//! Waiting for AWS to put into effect what was just written.
//!
//! AWS is eventually consistent: a bucket policy or a key policy written a
//! moment ago may not yet be what CloudTrail or Config check ("Changes
//! that I make are not always immediately visible", IAM User Guide; KMS
//! Developer Guide, "Eventual consistency"), and S3 refuses a change of a
//! bucket's configuration while another one is being applied (409
//! `OperationAborted`, which someone else's change can cause too). The
//! calls that meet these are tried again, with growing pauses, for up to
//! the settle budget (`--settle-timeout`, [`crate::Limits::settle_timeout`]);
//! past it, the error stands with its kind (`settling`, `conflict`). So is
//! a name just made that does not resolve yet (a KMS alias), a role
//! just made that its service cannot assume yet (Config's recorder), and
//! a delegated administrator just designated, whose organization calls AWS
//! refuses for a while (`organization::delegation_in_effect`).

use std::future::Future;
use std::time::{Duration, Instant};

use baseline_engine::ErrorKind;

use crate::error::HttpStatus;

/// The first pause; each next one doubles, up to [`MAX_PAUSE`] (before
/// its jitter).
const FIRST_PAUSE: Duration = Duration::from_millis(500);
/// The longest pause between two tries.
const MAX_PAUSE: Duration = Duration::from_secs(10);

/// Calls `call` until it answers anything but an error of one of the
/// `kinds`, or until the next try would start past `budget`. `waits_for`
/// says what is awaited, for the log (`-v`).
pub(crate) async fn retry<T, E, F, Fut>(
    budget: Duration,
    waits_for: &str,
    kinds: &[ErrorKind],
    call: F,
) -> Result<T, E>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
    E: HttpStatus,
{
    tries(budget, waits_for, call, |out: &Result<T, E>| match out {
        Err(e) if kinds.contains(&e.kind()) => Some(e.kind()),
        _ => None,
    })
    .await
}

/// Calls `call` while AWS answers it with one of the error `codes`, as
/// AWS does for a while after a delegated administrator is designated
/// (its organization calls are refused until the delegation is in
/// effect), until the next try would start past `budget`.
pub(crate) async fn retry_codes<T, E, F, Fut>(
    budget: Duration,
    waits_for: &str,
    codes: &[&str],
    call: F,
) -> Result<T, E>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
    E: aws_smithy_types::error::metadata::ProvideErrorMetadata,
{
    tries(budget, waits_for, call, |out: &Result<T, E>| match out {
        Err(e) if e.code().is_some_and(|c| codes.contains(&c)) => Some(ErrorKind::Settling),
        _ => None,
    })
    .await
}

/// Calls `call` until it finds what it looks up (`Some`), or until the
/// next try would start past `budget` (then `None`): for a name AWS made
/// moments ago that does not resolve yet (a KMS alias, KMS Developer
/// Guide, "Eventual consistency").
pub(crate) async fn until_found<T, E, F, Fut>(
    budget: Duration,
    waits_for: &str,
    call: F,
) -> Result<Option<T>, E>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<T>, E>>,
{
    tries(budget, waits_for, call, |out: &Result<Option<T>, E>| {
        matches!(out, Ok(None)).then_some(ErrorKind::NotFound)
    })
    .await
}

/// The one backoff of baseline's own tries (backon's exponential
/// backoff): pauses from `first`, doubling up to `max`, each lengthened by
/// up to itself at random, so that the accounts or steps that met the
/// same refusal together do not come back together.
pub(crate) fn pauses(first: Duration, max: Duration) -> impl Iterator<Item = Duration> {
    use backon::BackoffBuilder as _;
    backon::ExponentialBuilder::new()
        .with_min_delay(first)
        .with_max_delay(max)
        .with_factor(2.0)
        .with_jitter()
        .without_max_times()
        .build()
}

/// Calls `call` while `pending` says its answer is one to wait out (of
/// that kind), with the pauses of [`pauses`], until the next try would
/// start past `budget`; returns the last answer.
async fn tries<R, F, Fut>(
    budget: Duration,
    waits_for: &str,
    mut call: F,
    pending: impl Fn(&R) -> Option<ErrorKind>,
) -> R
where
    F: FnMut() -> Fut,
    Fut: Future<Output = R>,
{
    let start = Instant::now();
    let mut pauses = pauses(FIRST_PAUSE, MAX_PAUSE);
    loop {
        let out = call().await;
        let Some(kind) = pending(&out) else {
            return out;
        };
        match pauses.next() {
            Some(pause) if start.elapsed() + pause <= budget => {
                tracing::info!(
                    waits_for,
                    %kind,
                    waited_secs = start.elapsed().as_secs(),
                    budget_secs = budget.as_secs(),
                    "waiting for AWS to settle"
                );
                tokio::time::sleep(pause).await;
            }
            _ => return out,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[derive(Debug)]
    struct Fake(ErrorKind);

    impl HttpStatus for Fake {
        fn kind(&self) -> ErrorKind {
            self.0
        }
    }

    /// Answers `kind` for the first `failures` calls, then Ok.
    async fn run(budget: Duration, kind: ErrorKind, failures: u32) -> (Result<(), ErrorKind>, u32) {
        let calls = AtomicU32::new(0);
        let out = retry(budget, "a test", &[ErrorKind::Settling], || {
            let n = calls.fetch_add(1, Ordering::SeqCst);
            async move {
                if n < failures {
                    Err(Fake(kind))
                } else {
                    Ok(())
                }
            }
        })
        .await;
        (out.map_err(|e| e.0), calls.load(Ordering::SeqCst))
    }

    #[tokio::test]
    async fn settling_errors_are_tried_again_within_the_budget() {
        let (out, calls) = run(Duration::from_secs(5), ErrorKind::Settling, 2).await;
        assert_eq!(out, Ok(()));
        assert_eq!(calls, 3);
    }

    #[tokio::test]
    async fn other_kinds_and_an_exhausted_budget_end_at_once() {
        let (out, calls) = run(Duration::from_secs(5), ErrorKind::Denied, 2).await;
        assert_eq!(out, Err(ErrorKind::Denied));
        assert_eq!(calls, 1);
        // A budget of zero: no second try.
        let (out, calls) = run(Duration::ZERO, ErrorKind::Settling, 2).await;
        assert_eq!(out, Err(ErrorKind::Settling));
        assert_eq!(calls, 1);
        // 0.5 to 1 s, then 1 to 2 s: the third try would start past 1.2 s.
        let (out, calls) = run(Duration::from_millis(1200), ErrorKind::Settling, 5).await;
        assert_eq!(out, Err(ErrorKind::Settling));
        assert_eq!(calls, 2);
    }

    #[tokio::test]
    async fn a_name_is_looked_up_again_until_found_within_the_budget() {
        let calls = AtomicU32::new(0);
        let lookup = || {
            let n = calls.fetch_add(1, Ordering::SeqCst);
            async move { Ok::<_, Fake>((n >= 2).then_some(n)) }
        };
        let found = until_found(Duration::from_secs(5), "a test", lookup).await;
        assert_eq!(found.unwrap(), Some(2));
        assert_eq!(calls.load(Ordering::SeqCst), 3);
        // Never found within the budget: None after the tries it allows.
        calls.store(0, Ordering::SeqCst);
        let never = || {
            calls.fetch_add(1, Ordering::SeqCst);
            async { Ok::<Option<u32>, Fake>(None) }
        };
        let found = until_found(Duration::from_millis(1200), "a test", never).await;
        assert_eq!(found.unwrap(), None);
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }
}
