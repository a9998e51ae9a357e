//! The executor: carries out a plan's changes in dependency order.
//!
//! Dependencies are data on each change (`depends_on`); the executor walks
//! them. Creates and updates wait for what they depend on; deletes run in
//! the reverse order (a thing is removed only after what depends on it).
//! Independent steps run concurrently. A step whose upstream failed is
//! skipped and says why; everything independent of it goes on.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use serde::Serialize;

use crate::model::*;
use crate::provider::{ErrorKind, Service, contained, error_chain, error_kind};

/// How a step ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", content = "detail", rename_all = "snake_case")]
pub enum Outcome {
    /// Carried out.
    Done,
    /// The provider returned an error.
    Failed {
        /// What kind of failure.
        kind: ErrorKind,
        /// The error and its causes.
        message: String,
    },
    /// Not started: an upstream step failed, or the run was interrupted.
    Skipped(String),
}

/// One step's result.
#[derive(Debug, Clone, Serialize)]
pub struct StepResult {
    /// Which resource.
    pub address: Address,
    /// What was to be done.
    pub action: Action,
    /// How it ended.
    pub outcome: Outcome,
}

/// Told about each step as it starts and ends (progress output).
pub trait Observer: Send + Sync {
    /// A step started.
    fn started(&self, _change: &Change) {}
    /// A step ended.
    fn finished(&self, _change: &Change, _outcome: &Outcome, _elapsed: Duration) {}
}

/// An observer that says nothing.
pub struct Silent;
impl Observer for Silent {}

/// Executor options.
pub struct ExecOptions<'a> {
    /// How many steps run at once, over all accounts.
    pub concurrency: usize,
    /// How many run at once in one account.
    pub per_account: usize,
    /// Set (e.g. on Ctrl-C) to start no new steps; running ones finish.
    pub cancel: Option<&'a AtomicBool>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Pending,
    Running,
    Done,
    Failed,
    Skipped,
}

/// The service a resource kind belongs to: `config.recorder` → `config`.
pub fn service_of(kind: &str) -> &str {
    kind.split('.').next().unwrap_or(kind)
}

/// Carries out every change of `plan` that `apply` performs.
pub async fn execute(
    plan: &Plan,
    services: &[Arc<dyn Service>],
    opts: &ExecOptions<'_>,
    observer: &dyn Observer,
) -> Vec<StepResult> {
    let steps: Vec<&Change> = plan
        .changes
        .iter()
        .filter(|c| c.action.is_applied())
        .collect();
    let index: HashMap<&Address, usize> = steps
        .iter()
        .enumerate()
        .map(|(i, c)| (&c.address, i))
        .collect();
    let preds = predecessors(&steps, &index);
    let targets: HashMap<(&str, &str), &Target> = plan
        .targets
        .iter()
        .map(|t| ((t.account_id.as_str(), t.region.as_str()), t))
        .collect();
    let by_name: HashMap<&str, &Arc<dyn Service>> =
        services.iter().map(|s| (s.name(), s)).collect();

    let unreadable: std::collections::HashSet<&Address> = plan.unreadable.iter().collect();
    let mut state = vec![State::Pending; steps.len()];
    let mut running_in: HashMap<&str, usize> = HashMap::new();
    let mut outcome: Vec<Option<Outcome>> = vec![None; steps.len()];
    let mut running = FuturesUnordered::new();

    loop {
        let cancelled = opts.cancel.is_some_and(|c| c.load(Ordering::SeqCst));
        // Settle what can be settled, start what is ready.
        let mut progressed = true;
        while progressed {
            progressed = false;
            for i in 0..steps.len() {
                if state[i] != State::Pending {
                    continue;
                }
                if let Some(dep) = steps[i].depends_on.iter().find(|d| unreadable.contains(d)) {
                    let o = Outcome::Skipped(format!("{dep} could not be read"));
                    observer.finished(steps[i], &o, Duration::ZERO);
                    state[i] = State::Skipped;
                    outcome[i] = Some(o);
                    progressed = true;
                    continue;
                }
                if let Some(&j) = preds[i]
                    .iter()
                    .find(|&&j| matches!(state[j], State::Failed | State::Skipped))
                {
                    let o = Outcome::Skipped(format!("{} did not complete", steps[j].address));
                    observer.finished(steps[i], &o, Duration::ZERO);
                    state[i] = State::Skipped;
                    outcome[i] = Some(o);
                    progressed = true;
                    continue;
                }
                let account = steps[i].address.account.as_str();
                if cancelled
                    || running.len() >= opts.concurrency.max(1)
                    || running_in.get(account).copied().unwrap_or(0) >= opts.per_account.max(1)
                {
                    continue;
                }
                if preds[i].iter().all(|&j| state[j] == State::Done) {
                    state[i] = State::Running;
                    *running_in.entry(account).or_default() += 1;
                    let change = steps[i];
                    let target = targets
                        .get(&(
                            change.address.account.as_str(),
                            change.address.region.as_str(),
                        ))
                        .copied();
                    let service = by_name.get(service_of(&change.address.kind)).copied();
                    observer.started(change);
                    running.push(async move {
                        let started = Instant::now();
                        let result = match (target, service) {
                            (Some(t), Some(s)) => contained(
                                || format!("the step {}", change.address),
                                s.apply(t, change),
                            )
                            .await
                            .map_err(|e| (error_kind(e.as_ref()), error_chain(e.as_ref()))),
                            _ => Err((
                                ErrorKind::Other,
                                format!("no provider for {}", change.address),
                            )),
                        };
                        (i, result, started.elapsed())
                    });
                    progressed = true;
                }
            }
        }
        let Some((i, result, elapsed)) = running.next().await else {
            break;
        };
        if let Some(n) = running_in.get_mut(steps[i].address.account.as_str()) {
            *n -= 1;
        }
        let o = match result {
            Ok(()) => {
                state[i] = State::Done;
                Outcome::Done
            }
            Err((kind, message)) => {
                state[i] = State::Failed;
                Outcome::Failed { kind, message }
            }
        };
        observer.finished(steps[i], &o, elapsed);
        outcome[i] = Some(o);
    }

    steps
        .iter()
        .zip(outcome)
        .map(|(c, o)| StepResult {
            address: c.address.clone(),
            action: c.action,
            outcome: o
                .unwrap_or_else(|| Outcome::Skipped("not started: the run was interrupted".into())),
        })
        .collect()
}

/// Which steps must finish before each step starts.
fn predecessors(steps: &[&Change], index: &HashMap<&Address, usize>) -> Vec<Vec<usize>> {
    let mut preds = vec![Vec::new(); steps.len()];
    for (i, c) in steps.iter().enumerate() {
        for dep in &c.depends_on {
            let Some(&j) = index.get(dep) else { continue };
            match (c.action, steps[j].action) {
                // Teardown runs backwards: the dependency goes after its dependent.
                (Action::Delete, Action::Delete) => preds[j].push(i),
                (Action::Delete, _) | (_, Action::Delete) => {}
                _ => preds[i].push(j),
            }
        }
    }
    preds
}

/// After apply, the changes of a fresh plan that are still pending for
/// resources whose step reported success: those did not converge.
pub fn unconverged<'p>(results: &[StepResult], fresh: &'p Plan) -> Vec<&'p Change> {
    let done: std::collections::HashSet<&Address> = results
        .iter()
        .filter(|r| r.outcome == Outcome::Done)
        .map(|r| &r.address)
        .collect();
    fresh
        .changes
        .iter()
        .filter(|c| c.action.is_applied() && done.contains(&c.address))
        .collect()
}
