//! Listings bounded: AWS pages a long listing with a token, and an answer
//! that hands out a new token on every page (or one it gave before) would
//! keep a read going, and its memory growing, forever. Every paginated
//! read counts its pages with a [`Bound`]: a token seen before, or more
//! pages than [`max_pages`], fails that read (that service, that
//! account-region) with kind `refused`, and the rest of the run goes on
//! (docs/safety.md). Emptying a bucket, which lets each page go, stops
//! only on a repeated token ([`Bound::tokens_only`]).

use std::collections::HashSet;

use baseline_engine::ErrorKind;

use crate::error::{AwsError, Ctx};

/// The most pages one listing reads, unless `BASELINE_MAX_PAGES` says
/// otherwise: 200,000 accounts at Organizations' 20 a page, a million
/// KMS aliases at 100.
pub(crate) const DEFAULT_MAX_PAGES: usize = 10_000;

/// [`DEFAULT_MAX_PAGES`], or `BASELINE_MAX_PAGES` when it is a number.
pub(crate) fn max_pages() -> usize {
    std::env::var("BASELINE_MAX_PAGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(DEFAULT_MAX_PAGES)
}

/// The pages of one listing read so far.
pub(crate) struct Bound<'a> {
    ctx: &'a Ctx,
    operation: &'static str,
    pages: usize,
    max: usize,
    tokens: HashSet<String>,
}

impl<'a> Bound<'a> {
    /// A listing of `operation`, by `ctx`'s account, region and service.
    pub(crate) fn new(ctx: &'a Ctx, operation: &'static str) -> Self {
        Bound {
            ctx,
            operation,
            pages: 0,
            max: max_pages(),
            tokens: HashSet::new(),
        }
    }

    /// A listing whose every page is acted on and let go (a bucket's
    /// versions, deleted a page at a time): its memory does not grow and
    /// a log bucket may hold far more than any page bound, so only a
    /// repeated token stops it.
    pub(crate) fn tokens_only(ctx: &'a Ctx, operation: &'static str) -> Self {
        Bound {
            max: usize::MAX,
            ..Bound::new(ctx, operation)
        }
    }

    /// Counts a page that hands out `next` (its token for the next page,
    /// if any): an error once the listing repeats a token or passes the
    /// bound.
    pub(crate) fn page(&mut self, next: Option<&str>) -> Result<(), AwsError> {
        self.pages += 1;
        let why = if next.is_some_and(|t| !t.is_empty() && !self.tokens.insert(t.to_string())) {
            format!(
                "{} handed out a page token it had given before (page {}): the listing would never end, so it was stopped",
                self.operation, self.pages
            )
        } else if self.pages >= self.max && next.is_some_and(|t| !t.is_empty()) {
            format!(
                "{} had more pages than the {} a listing reads: it was stopped (an endless listing, or set BASELINE_MAX_PAGES higher)",
                self.operation, self.max
            )
        } else {
            return Ok(());
        };
        Err(self.ctx.failure(self.operation, ErrorKind::Refused, why))
    }
}
