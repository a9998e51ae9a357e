//! The only view the engine has of AWS: one [`Service`] per AWS service.

use crate::error::ServiceError;
use crate::model::{Change, Desired, Mode, Observed, Target};
use async_trait::async_trait;
use baseline_spec::Baseline;

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
