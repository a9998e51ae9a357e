//! The executor: carries out a plan's changes in dependency order.
//!
//! Dependencies are data on each change (`depends_on`); the executor walks
//! them. Creates and updates wait for what they depend on; deletes run in
//! the reverse order (a thing is removed only after what depends on it).
//! Independent steps run concurrently. A step whose upstream failed is
//! skipped and says why; everything independent of it goes on.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use petgraph::Direction;
use petgraph::graph::{DiGraph, NodeIndex};
use serde::Serialize;

use crate::error::{ErrorKind, Failure, ServiceError, contained, error_chain, error_kind};
use crate::model::*;
use crate::provider::{Outputs, Service};

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
    /// Not started, and why.
    Skipped(Skip),
}

/// Why a step was not started.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "why", rename_all = "snake_case")]
pub enum Skip {
    /// A step it waits for failed or was skipped.
    Upstream {
        /// That step.
        step: Address,
    },
    /// It depends on a resource whose read failed when planning.
    Unreadable {
        /// That resource.
        resource: Address,
    },
    /// The run was interrupted (Ctrl-C) before it started.
    Interrupted,
}

impl std::fmt::Display for Skip {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Skip::Upstream { step } => write!(f, "{step} did not complete"),
            Skip::Unreadable { resource } => write!(f, "{resource} could not be read"),
            Skip::Interrupted => write!(f, "not started: the run was interrupted"),
        }
    }
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
    let order = order_of(&steps, &index);
    let targets: HashMap<(&str, &str), &Target> = plan
        .targets
        .iter()
        .map(|t| ((t.account_id.as_str(), t.region.as_str()), t))
        .collect();
    let by_name: HashMap<&str, &Arc<dyn Service>> =
        services.iter().map(|s| (s.name(), s)).collect();

    let unreadable: std::collections::HashSet<&Address> = plan.unreadable.iter().collect();
    let mut state = vec![State::Pending; steps.len()];
    let mut outcome: Vec<Option<Outcome>> = vec![None; steps.len()];
    // Each step waits for `waiting[i]` predecessors; when one ends, only
    // its successors are looked at (no scan of every step per completion).
    let succs: Vec<Vec<usize>> = (0..steps.len())
        .map(|i| {
            order
                .neighbors_directed(NodeIndex::new(i), Direction::Outgoing)
                .map(NodeIndex::index)
                .collect()
        })
        .collect();
    let mut waiting: Vec<usize> = (0..steps.len())
        .map(|i| {
            order
                .neighbors_directed(NodeIndex::new(i), Direction::Incoming)
                .count()
        })
        .collect();
    // Ready steps by account, and the accounts that have a ready step and
    // room for it (the per-account bound), in the order they became so.
    let mut ready: HashMap<&str, VecDeque<usize>> = HashMap::new();
    let mut startable: VecDeque<&str> = VecDeque::new();
    let mut running_in: HashMap<&str, usize> = HashMap::new();
    let per_account = opts.per_account.max(1);
    let mut running = FuturesUnordered::new();
    // What each step gave, for the changes whose values are known only
    // after it.
    let mut outputs: HashMap<&Address, Outputs> = HashMap::new();

    // Settled without running: a step depending on an unreadable resource
    // or on a step that did not complete is skipped, and so, in turn, are
    // the steps that depend on it.
    let settle = |i: usize,
                  o: Outcome,
                  st: State,
                  state: &mut Vec<State>,
                  outcome: &mut Vec<Option<Outcome>>| {
        let mut stack = vec![(i, o, st)];
        while let Some((i, o, st)) = stack.pop() {
            if !matches!(state[i], State::Pending) {
                continue;
            }
            observer.finished(steps[i], &o, Duration::ZERO);
            state[i] = st;
            outcome[i] = Some(o);
            for &s in &succs[i] {
                stack.push((
                    s,
                    Outcome::Skipped(Skip::Upstream {
                        step: steps[i].address.clone(),
                    }),
                    State::Skipped,
                ));
            }
        }
    };
    for (i, step) in steps.iter().enumerate() {
        if let Some(dep) = step.depends_on.iter().find(|d| unreadable.contains(d)) {
            let o = Outcome::Skipped(Skip::Unreadable {
                resource: dep.clone(),
            });
            settle(i, o, State::Skipped, &mut state, &mut outcome);
        }
    }
    // The order is checked once: steps that wait on each other in a cycle
    // can never start; they fail, naming the cycle, and what depends on
    // them is skipped.
    for cycle in cycles(&order) {
        let names: Vec<String> = cycle
            .iter()
            .map(|&i| steps[i].address.to_string())
            .collect();
        // Every member fails for the cycle (not as skipped behind another
        // member); then what depends on them is skipped.
        for &i in &cycle {
            let o = Outcome::Failed {
                kind: ErrorKind::Refused,
                message: format!(
                    "the plan's order has a cycle: {} (each waits for the next); none of them is run",
                    names.join(" -> ")
                ),
            };
            observer.finished(steps[i], &o, Duration::ZERO);
            state[i] = State::Failed;
            outcome[i] = Some(o);
        }
        for &i in &cycle {
            for &s in &succs[i] {
                let o = Outcome::Skipped(Skip::Upstream {
                    step: steps[i].address.clone(),
                });
                settle(s, o, State::Skipped, &mut state, &mut outcome);
            }
        }
    }
    /// `i` (in `account`) is ready: queued, and the account made
    /// startable when this is its first ready step and it has room.
    fn make_ready<'p>(
        i: usize,
        account: &'p str,
        ready: &mut HashMap<&'p str, VecDeque<usize>>,
        startable: &mut VecDeque<&'p str>,
        running_in: &HashMap<&'p str, usize>,
        per_account: usize,
    ) {
        let queue = ready.entry(account).or_default();
        queue.push_back(i);
        if queue.len() == 1 && running_in.get(account).copied().unwrap_or(0) < per_account {
            startable.push_back(account);
        }
    }
    for i in 0..steps.len() {
        if state[i] == State::Pending && waiting[i] == 0 {
            let account = steps[i].address.account.as_str();
            make_ready(
                i,
                account,
                &mut ready,
                &mut startable,
                &running_in,
                per_account,
            );
        }
    }

    loop {
        let cancelled = opts.cancel.is_some_and(|c| c.load(Ordering::SeqCst));
        // Start what is ready, within both bounds.
        while !cancelled && running.len() < opts.concurrency.max(1) {
            let Some(account) = startable.pop_front() else {
                break;
            };
            // A full account is queued again when one of its steps ends.
            if running_in.get(account).copied().unwrap_or(0) >= per_account {
                continue;
            }
            let Some(i) = ready.get_mut(account).and_then(VecDeque::pop_front) else {
                continue;
            };
            if state[i] != State::Pending {
                continue;
            }
            let n = running_in.entry(account).or_default();
            *n += 1;
            if *n < per_account && ready.get(account).is_some_and(|q| !q.is_empty()) {
                startable.push_back(account);
            }
            state[i] = State::Running;
            let given = hand_over(steps[i], &outputs);
            let change = steps[i];
            let target = targets
                .get(&(
                    change.address.account.as_str(),
                    change.address.region.as_str(),
                ))
                .copied();
            let service = by_name.get(change.address.service()).copied();
            observer.started(change);
            running.push(async move {
                let started = Instant::now();
                let result = match (target, service, given) {
                    (_, _, Err(e)) => Err(e),
                    (Some(t), Some(s), Ok(change)) => {
                        contained(|| format!("the step {}", change.address), async {
                            preconditions_hold(s.as_ref(), t, &change).await?;
                            s.apply(t, &change).await
                        })
                        .await
                        .map_err(|e| (error_kind(e.as_ref()), error_chain(e.as_ref())))
                    }
                    _ => Err((
                        ErrorKind::Other,
                        format!("no provider for {}", change.address),
                    )),
                };
                (i, result, started.elapsed())
            });
        }
        let Some((i, result, elapsed)) = running.next().await else {
            break;
        };
        let account = steps[i].address.account.as_str();
        if let Some(n) = running_in.get_mut(account) {
            *n -= 1;
            // Room again in this account: its next ready step may start.
            if *n + 1 == per_account && ready.get(account).is_some_and(|q| !q.is_empty()) {
                startable.push_back(account);
            }
        }
        match result {
            Ok(given) => {
                if !given.is_empty() {
                    outputs.insert(&steps[i].address, given);
                }
                state[i] = State::Done;
                observer.finished(steps[i], &Outcome::Done, elapsed);
                outcome[i] = Some(Outcome::Done);
                for &s in &succs[i] {
                    waiting[s] -= 1;
                    if waiting[s] == 0 && state[s] == State::Pending {
                        let account = steps[s].address.account.as_str();
                        make_ready(
                            s,
                            account,
                            &mut ready,
                            &mut startable,
                            &running_in,
                            per_account,
                        );
                    }
                }
            }
            Err((kind, message)) => {
                state[i] = State::Failed;
                let o = Outcome::Failed { kind, message };
                observer.finished(steps[i], &o, elapsed);
                outcome[i] = Some(o);
                for &s in &succs[i] {
                    let o = Outcome::Skipped(Skip::Upstream {
                        step: steps[i].address.clone(),
                    });
                    settle(s, o, State::Skipped, &mut state, &mut outcome);
                }
            }
        }
    }

    steps
        .iter()
        .zip(outcome)
        .map(|(c, o)| StepResult {
            address: c.address.clone(),
            action: c.action,
            outcome: o.unwrap_or(Outcome::Skipped(Skip::Interrupted)),
        })
        .collect()
}

/// The change as its step runs: the values known only after apply put
/// into its `private` from the outputs of the steps that made them.
fn hand_over<'c>(
    change: &'c Change,
    outputs: &HashMap<&Address, Outputs>,
) -> Result<std::borrow::Cow<'c, Change>, (ErrorKind, String)> {
    if change.known_after_apply.is_empty() {
        return Ok(std::borrow::Cow::Borrowed(change));
    }
    let mut given = change.clone();
    for r in &change.known_after_apply {
        let Some(v) = outputs.get(&r.from).and_then(|o| o.get(&r.output)) else {
            return Err((
                ErrorKind::Other,
                format!(
                    "{}: {} was to come from the step {}, which did not give it; nothing was written",
                    change.address, r.output, r.from
                ),
            ));
        };
        given.private.insert(r.into.clone(), v.clone());
    }
    Ok(std::borrow::Cow::Owned(given))
}

/// The one step that checks a change's preconditions: the resource read
/// afresh (the provider's own read, for this resource alone) must be what
/// the plan declared; else the plan is stale and nothing is written.
async fn preconditions_hold(
    service: &dyn Service,
    target: &Target,
    change: &Change,
) -> Result<(), ServiceError> {
    if change.preconditions.is_empty() {
        return Ok(());
    }
    let desired = Desired {
        address: change.address.clone(),
        controls: Vec::new(),
        want: match change.action {
            Action::Delete => Want::Absent,
            _ => Want::Present(change.after.clone().unwrap_or_default()),
        },
        depends_on: change.depends_on.clone(),
        private: change.private.clone(),
    };
    let now = service
        .read(target, std::slice::from_ref(&desired))
        .await?
        .observed
        .into_iter()
        .find(|o| o.address == change.address);
    let broken = broken_preconditions(change, now.as_ref());
    if broken.is_empty() {
        return Ok(());
    }
    Err(Box::new(Failure {
        kind: ErrorKind::Stale,
        message: format!(
            "{}: plan is stale: {}; nothing was written; run `baseline plan` again",
            change.address,
            broken.join("; ")
        ),
    }))
}

/// The preconditions of `change` that `now` (the resource as read now;
/// `None`: absent) breaks, each said as what changed.
pub fn broken_preconditions(change: &Change, now: Option<&Observed>) -> Vec<String> {
    let mut broken: Vec<String> = Vec::new();
    let mut say = |s: String| {
        if !broken.contains(&s) {
            broken.push(s);
        }
    };
    for p in &change.preconditions {
        match (p, now) {
            (Precondition::Absent, None) => {}
            (Precondition::Absent, Some(_)) => say(
                "it exists now: someone made it since the plan, and baseline does not take it over"
                    .into(),
            ),
            (_, None) => say("it is gone since the plan".into()),
            (Precondition::Unchanged { attr }, Some(o)) => {
                let null = serde_json::Value::Null;
                // An attribute the plan read, else an identity it kept in
                // `private` (a bucket's own tags).
                let before = change.before.as_ref();
                let (was, is) = match before.and_then(|b| b.get(attr)) {
                    Some(was) => (was, o.attrs.get(attr).unwrap_or(&null)),
                    None if change.private.contains_key(attr) => (
                        change.private.get(attr).unwrap_or(&null),
                        o.private.get(attr).unwrap_or(&null),
                    ),
                    None => (&null, o.attrs.get(attr).unwrap_or(&null)),
                };
                if was != is {
                    say(format!("{attr} changed since the plan"));
                }
            }
            (Precondition::Ours, Some(o)) => {
                if o.owner != Ownership::Ours {
                    say("it no longer carries baseline's mark".into());
                }
            }
            (Precondition::UsersUnchanged, Some(o)) => {
                if let Some(why) = &o.users_unknown {
                    say(format!("what uses it cannot be read now ({why})"));
                }
                let planned: Vec<Address> = change
                    .private
                    .get(USERS_PRIVATE)
                    .and_then(|v| serde_json::from_value(v.clone()).ok())
                    .unwrap_or_default();
                let mut new: Vec<String> = o
                    .used_by
                    .iter()
                    .filter(|u| !planned.contains(u))
                    .map(ToString::to_string)
                    .collect();
                new.sort();
                new.dedup();
                if !new.is_empty() {
                    say(format!("it is used by {} since the plan", new.join(", ")));
                }
            }
        }
    }
    broken
}

/// The order of the steps as a graph: an edge from each step to every
/// step that waits for it.
fn order_of(steps: &[&Change], index: &HashMap<&Address, usize>) -> DiGraph<(), ()> {
    let mut order = DiGraph::with_capacity(steps.len(), steps.len());
    for _ in steps {
        order.add_node(());
    }
    for (i, c) in steps.iter().enumerate() {
        for dep in &c.depends_on {
            let Some(&j) = index.get(dep) else { continue };
            let (first, then) = match (c.action, steps[j].action) {
                // Teardown runs backwards: the dependency goes after its dependent.
                (Action::Delete, Action::Delete) => (i, j),
                (Action::Delete, _) | (_, Action::Delete) => continue,
                _ => (j, i),
            };
            order.update_edge(NodeIndex::new(first), NodeIndex::new(then), ());
        }
    }
    order
}

/// The steps that wait on each other in a cycle, one list per cycle (a
/// strongly connected component of the order: Tarjan's, from petgraph),
/// each in the order they wait where one walk shows it; found once
/// before anything runs.
fn cycles(order: &DiGraph<(), ()>) -> Vec<Vec<usize>> {
    let mut out = Vec::new();
    for component in petgraph::algo::tarjan_scc(order) {
        let looped = component.len() > 1 || order.contains_edge(component[0], component[0]);
        if !looped {
            continue;
        }
        // From the first step, each next is one it waits for.
        let mut members: Vec<usize> = component.iter().map(|n| n.index()).collect();
        members.sort_unstable();
        let mut walk = vec![members[0]];
        while let Some(next) = order
            .neighbors_directed(
                NodeIndex::new(*walk.last().expect("not empty")),
                Direction::Incoming,
            )
            .map(NodeIndex::index)
            .filter(|p| members.contains(p) && !walk.contains(p))
            .min()
        {
            walk.push(next);
        }
        walk.extend(
            members
                .into_iter()
                .filter(|m| !walk.contains(m))
                .collect::<Vec<_>>(),
        );
        out.push(walk);
    }
    out.sort();
    out
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
