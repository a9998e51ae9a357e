//! The only view the engine has of AWS: one [`Service`] per AWS service.

use crate::error::ServiceError;
use crate::model::{Attrs, Change, Desired, Mode, Observed, Precondition, Reference, Target, Wait};
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

/// What a step gives the changes after it: values only its write knows
/// (the ARN of the key it made, the id of the detector it made), by name.
pub type Outputs = Attrs;

/// What a change declares besides its values ([`Service::declare`]): the
/// plan carries it, the executor acts on it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Declared {
    /// Values it takes from other changes of the plan.
    pub references: Vec<Reference>,
    /// What apply must find before it writes.
    pub preconditions: Vec<Precondition>,
    /// What apply waits for after it writes.
    pub waits: Vec<Wait>,
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

    /// What a change (a create, update or delete the plan found) declares
    /// besides its values: the values it takes from other changes (known
    /// after apply when those create them), what apply must find before it
    /// writes, and what apply waits for. Called once per change when
    /// planning; what it returns is data of the plan.
    fn declare(&self, _change: &Change) -> Declared {
        Declared::default()
    }

    /// Carries out one change, in dependency order: writes the change's
    /// planned `after` for the attributes in `changed` (everything, for a
    /// create), with the identities and settings of its `private` data,
    /// and returns the values only its write knows ([`Outputs`]). It has
    /// no baseline: what to write was decided when planning, and it
    /// follows `change.action`. Before it runs, the executor has put the
    /// values known after apply into `private` and checked the change's
    /// [`Precondition`]s against a fresh [`Service::read`] of the
    /// resource. A provider reads AWS here only to finish its own
    /// half-made create (a tagged key a stopped run made but did not
    /// alias; a bucket whose CreateBucket answer was lost) and for the
    /// waits the change declares; `crates/providers/tests/apply_reads.rs`
    /// holds each such read to that.
    async fn apply(&self, target: &Target, change: &Change) -> Result<Outputs, ServiceError>;
}
