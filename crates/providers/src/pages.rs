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

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> Ctx {
        Ctx {
            account: "123456789012".into(),
            region: "eu-west-1".into(),
            service: "kms",
        }
    }

    /// A token handed out twice fails the listing at once.
    #[test]
    fn a_repeated_token_fails_the_listing() {
        let ctx = ctx();
        let mut bound = Bound {
            max: 100,
            ..Bound::new(&ctx, "ListAliases")
        };
        bound.page(Some("a")).unwrap();
        bound.page(Some("b")).unwrap();
        let e = bound.page(Some("a")).unwrap_err();
        assert!(e.to_string().contains("ListAliases failed"), "{e}");
        assert!(
            baseline_engine::error_chain(&e).contains("a page token it had given before (page 3)"),
            "{}",
            baseline_engine::error_chain(&e)
        );
    }

    /// The bound: its last page may not ask for another; the last page of
    /// a listing (no token) is fine.
    #[test]
    fn more_pages_than_the_bound_fail_and_a_listing_that_ends_does_not() {
        let ctx = ctx();
        let mut bound = Bound {
            max: 3,
            ..Bound::new(&ctx, "ListAccounts")
        };
        bound.page(Some("1")).unwrap();
        bound.page(Some("2")).unwrap();
        assert!(bound.page(Some("3")).is_err());
        let mut ends = Bound {
            max: 3,
            ..Bound::new(&ctx, "ListAccounts")
        };
        ends.page(Some("1")).unwrap();
        ends.page(Some("2")).unwrap();
        ends.page(None).unwrap();
    }

    /// Emptying a bucket lets each page go: any number of pages, only a
    /// repeated token stops it.
    #[test]
    fn a_bucket_is_emptied_past_any_page_bound() {
        let ctx = ctx();
        let mut bound = Bound::tokens_only(&ctx, "ListObjectVersions");
        for n in 0..(DEFAULT_MAX_PAGES + 10) {
            bound.page(Some(&n.to_string())).unwrap();
        }
        assert!(bound.page(Some("7")).is_err());
    }
}
