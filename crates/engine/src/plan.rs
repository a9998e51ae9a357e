//! Desired × observed → per-resource changes → a [`Plan`].

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use baseline_spec::Baseline;
use futures::StreamExt;
use futures::future::Either;
use serde_json::Value;
use tokio::sync::Semaphore;

use crate::error::{contained, error_chain};
use crate::model::*;
use crate::provider::Service;

/// Told as reads finish (a progress display).
pub trait PlanProgress: Send + Sync {
    /// More target × service reads to do (an account was reached).
    fn more(&self, _reads: usize) {}
    /// One read finished; `failed` if it did not succeed.
    fn read_done(&self, _target: &Target, _service: &str, _failed: bool) {}
    /// Every read finished.
    fn finished(&self) {}
}

/// One account as it is reached: its account-regions to plan, and what of
/// it could not be reached (an opt-in region it has not enabled; for an
/// account whose role cannot be assumed, that error and no target).
#[derive(Debug, Clone, Default)]
pub struct Reached {
    /// Where the account comes in the plan: accounts are reached in any
    /// order, plans list them in this one.
    pub order: usize,
    /// Its account × regions, in order.
    pub targets: Vec<Target>,
    /// What could not be reached.
    pub errors: Vec<PlanError>,
}

/// Options for making a plan.
#[derive(Clone)]
pub struct PlanOptions {
    /// How many target × service reads run at once, over all accounts.
    pub concurrency: usize,
    /// How many run at once in one account (its API rate limits are its own).
    pub per_account: usize,
    /// Progress display, if any.
    pub progress: Option<Arc<dyn PlanProgress>>,
    /// The plan's day, `YYYY-MM-DD` (UTC): the baseline's exceptions are
    /// in force through their `expires` day. `None`: exceptions are not
    /// applied.
    pub today: Option<String>,
}

impl Default for PlanOptions {
    fn default() -> Self {
        PlanOptions {
            concurrency: 256,
            per_account: 16,
            progress: None,
            today: None,
        }
    }
}

/// Reads every target × service concurrently and diffs it against the
/// baseline: [`plan_as_reached`] over targets already known.
pub async fn make_plan(
    baseline: &Baseline,
    targets: &[Target],
    services: &[Arc<dyn Service>],
    mode: Mode,
    errors: Vec<PlanError>,
    opts: &PlanOptions,
) -> Plan {
    // Targets by account, in the order given.
    let mut accounts: Vec<Reached> = Vec::new();
    let mut slot: HashMap<&str, usize> = HashMap::new();
    for t in targets {
        let n = *slot.entry(&t.account_id).or_insert_with(|| {
            accounts.push(Reached {
                order: accounts.len(),
                ..Reached::default()
            });
            accounts.len() - 1
        });
        accounts[n].targets.push(t.clone());
    }
    plan_as_reached(
        baseline,
        futures::stream::iter(accounts),
        services,
        mode,
        errors,
        opts,
    )
    .await
}

/// Reads every target × service of each account as the account is reached
/// (so that reaching accounts, paced by STS, and reading the ones reached
/// overlap), and diffs it against the baseline.
///
/// A read that fails becomes a [`PlanError`] for that target and service;
/// every other target and service is still planned.
///
/// Memory does not grow with what is in line: accounts are taken a few at a
/// time (enough to fill the global bound twice over), each read is diffed
/// as soon as it returns, and a resource already as wanted leaves only a
/// count ([`InLine`]). What an account needed while it was read (its
/// targets' effective baselines, the desired and observed state) is
/// released when its reads end.
pub async fn plan_as_reached(
    baseline: &Baseline,
    accounts: impl futures::Stream<Item = Reached>,
    services: &[Arc<dyn Service>],
    mode: Mode,
    errors: Vec<PlanError>,
    opts: &PlanOptions,
) -> Plan {
    let global = Semaphore::new(opts.concurrency.max(1));
    let per_account = opts.per_account.max(1);
    let accounts_at_once = opts.concurrency.max(1).div_ceil(per_account).max(1) * 2;
    let names = Interner::default();
    let ctx = Ctx {
        baseline,
        services,
        mode,
        opts,
        global: &global,
        names: &names,
    };
    // The accounts stream is read whenever it has one, whether or not a
    // reading slot is free: reaching an account (its AssumeRole, paced by
    // STS, under an operation timeout) must not stall while other
    // accounts are read. Reached accounts wait in `pending`.
    let read = |reached: Reached| {
        let ctx = &ctx;
        async move {
            if let Some(p) = &ctx.opts.progress {
                p.more(reached.targets.len() * ctx.services.len());
            }
            let part = read_account(ctx, &reached.targets, per_account).await;
            (reached, part)
        }
    };
    let mut accounts = std::pin::pin!(accounts);
    let mut arriving = true;
    let mut pending: std::collections::VecDeque<Reached> = Default::default();
    let mut running = futures::stream::FuturesUnordered::new();
    let mut done: Vec<(Reached, Part)> = Vec::new();
    loop {
        while running.len() < accounts_at_once {
            let Some(next) = pending.pop_front() else {
                break;
            };
            running.push(read(next));
        }
        let next = match (arriving, running.is_empty()) {
            (false, true) => break,
            (false, false) => Either::Right(running.next().await),
            (true, true) => Either::Left(accounts.next().await),
            (true, false) => match futures::future::select(accounts.next(), running.next()).await {
                Either::Left((reached, _)) => Either::Left(reached),
                Either::Right((part, _)) => Either::Right(part),
            },
        };
        match next {
            Either::Left(Some(reached)) => pending.push_back(reached),
            Either::Left(None) => arriving = false,
            Either::Right(Some(part)) => done.push(part),
            Either::Right(None) => {}
        }
    }
    if let Some(p) = &opts.progress {
        p.finished();
    }
    done.sort_by_key(|(reached, _)| reached.order);

    let mut plan = Plan {
        format_version: FORMAT_VERSION.to_string(),
        mode,
        baseline: baseline.clone(),
        source: None,
        created_at: None,
        services: services.iter().map(|s| s.name().to_string()).collect(),
        targets: Vec::new(),
        changes: Vec::new(),
        in_line: Vec::new(),
        errors,
        notes: Vec::new(),
        unreadable: Vec::new(),
        scopes: Scopes::default(),
        exceptions: Vec::new(),
    };
    // What could not be reached first, then what could not be read.
    let mut parts = Vec::with_capacity(done.len());
    for (reached, part) in done {
        plan.targets.extend(reached.targets);
        plan.errors.extend(reached.errors);
        parts.push(part);
    }
    let mut users: HashMap<Address, Users> = HashMap::new();
    let mut excepted: Vec<(usize, bool)> = Vec::new();
    for part in parts {
        plan.changes.extend(part.changes);
        plan.in_line.extend(part.in_line);
        plan.notes.extend(part.notes);
        plan.unreadable.extend(part.unreadable);
        plan.errors.extend(part.errors);
        users.extend(part.users);
        excepted.extend(part.exceptions);
    }
    hold_deletes_in_use(&mut plan.changes, &users);
    if mode == Mode::Apply
        && let Some(today) = &opts.today
    {
        exceptions_used(&mut plan, baseline, today, &excepted);
    }
    plan.scopes = scopes(&plan, services);
    plan
}

/// Each exception of the baseline, in force or run out, with the changes
/// it covers (one that covers nothing is a warning of the human plan).
fn exceptions_used(plan: &mut Plan, baseline: &Baseline, today: &str, used: &[(usize, bool)]) {
    for (i, e) in baseline.exceptions.iter().flatten().enumerate() {
        let covers = used.iter().filter(|(j, _)| *j == i).count();
        let state = if e.in_force(today) {
            ExceptionState::InForce
        } else {
            ExceptionState::RunOut
        };
        plan.exceptions.push(ExceptionUse {
            index: i,
            owner: e.owner.clone(),
            reason: e.reason.clone(),
            expires: e.expires.clone(),
            state,
            covers,
        });
    }
}

/// The services' scoped kinds that the plan has (a plan without an
/// organization carries none).
fn scopes(plan: &Plan, services: &[Arc<dyn Service>]) -> Scopes {
    let mut present: HashSet<&str> = plan
        .changes
        .iter()
        .map(|c| c.address.kind.as_str())
        .collect();
    for place in &plan.in_line {
        present.extend(place.kinds.keys().map(|k| &**k));
    }
    let mut out = Scopes::default();
    for s in services {
        let (organization, covered) = s.scopes();
        let have = |kinds: &[&str]| -> Vec<String> {
            kinds
                .iter()
                .filter(|k| present.contains(**k))
                .map(|k| k.to_string())
                .collect()
        };
        out.organization.extend(have(organization));
        out.covered.extend(have(covered));
    }
    out
}

/// What every read of a plan shares.
struct Ctx<'a> {
    baseline: &'a Baseline,
    services: &'a [Arc<dyn Service>],
    mode: Mode,
    opts: &'a PlanOptions,
    global: &'a Semaphore,
    names: &'a Interner,
}

/// Kinds and control ids, and the counts and control lists of the
/// account-regions in line, stored once however many name them: ten
/// thousand accounts in line have a handful of distinct ones.
#[derive(Default)]
struct Interner {
    names: std::sync::Mutex<HashSet<Arc<str>>>,
    kinds: std::sync::Mutex<HashSet<Arc<Counts>>>,
    lists: std::sync::Mutex<HashSet<Arc<[Arc<str>]>>>,
}

/// The one stored copy of `value`.
fn shared<T: ?Sized + Eq + std::hash::Hash>(
    set: &std::sync::Mutex<HashSet<Arc<T>>>,
    value: &T,
    make: impl FnOnce() -> Arc<T>,
) -> Arc<T> {
    let mut set = set.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(a) = set.get(value) {
        return a.clone();
    }
    let a = make();
    set.insert(a.clone());
    a
}

impl Interner {
    fn get(&self, s: &str) -> Arc<str> {
        shared(&self.names, s, || Arc::from(s))
    }

    fn in_line(&self, c: Counting) -> InLine {
        InLine {
            kinds: shared(&self.kinds, &c.kinds, || Arc::new(c.kinds.clone())),
            controls: shared(&self.lists, &c.controls[..], || Arc::from(&c.controls[..])),
            account: c.account,
            region: c.region,
        }
    }
}

/// What uses a resource, and why that could not all be read.
struct Users {
    /// Them (any region).
    found: Vec<Address>,
    /// Why not all could be read.
    unknown: Option<String>,
}

/// What the reads of one account add to the plan, in target then service
/// order: all that is kept of the account once its reads end.
#[derive(Default)]
struct Part {
    changes: Vec<Change>,
    /// While the account's reads are added.
    counting: Vec<Counting>,
    /// Once they all are.
    in_line: Vec<InLine>,
    users: Vec<(Address, Users)>,
    notes: Vec<String>,
    errors: Vec<PlanError>,
    unreadable: Vec<Address>,
    exceptions: Vec<(usize, bool)>,
}

impl Part {
    fn add(&mut self, read: Read) {
        self.changes.extend(read.changes);
        self.exceptions.extend(read.exceptions);
        self.notes.extend(read.notes);
        self.unreadable.extend(read.unreadable);
        self.errors.extend(read.error);
        self.users.extend(read.users);
        let Some(counted) = read.in_line else { return };
        match self.counting.last_mut() {
            Some(last) if last.account == counted.account && last.region == counted.region => {
                for (kind, n) in counted.kinds {
                    *last.kinds.entry(kind).or_default() += n;
                }
                last.controls.extend(counted.controls);
                last.controls.sort();
                last.controls.dedup();
            }
            _ => self.counting.push(counted),
        }
    }
}

/// How many resources of each kind.
type Counts = std::collections::BTreeMap<Arc<str>, u32>;

/// The resources in line of one account-region while its reads are
/// diffed; an [`InLine`] once they all are.
struct Counting {
    account: String,
    region: String,
    kinds: Counts,
    controls: Vec<Arc<str>>,
}

/// One target × service read, diffed.
#[derive(Default)]
struct Read {
    changes: Vec<Change>,
    in_line: Option<Counting>,
    users: Vec<(Address, Users)>,
    notes: Vec<String>,
    error: Option<PlanError>,
    unreadable: Vec<Address>,
    /// The exceptions that covered a change: (index, in force).
    exceptions: Vec<(usize, bool)>,
}

/// Every read of one account's targets, at most `per_account` at once, in
/// target then service order.
async fn read_account(ctx: &Ctx<'_>, targets: &[Target], per_account: usize) -> Part {
    // Overrides for each account and region applied.
    let effective: Vec<std::borrow::Cow<Baseline>> = targets
        .iter()
        .map(|t| ctx.baseline.for_target(t.place()))
        .collect();
    let jobs = (0..targets.len()).flat_map(|i| (0..ctx.services.len()).map(move |s| (i, s)));
    let mut reads: Vec<(usize, Read)> = futures::stream::iter(jobs)
        .map(|(i, s)| {
            let (target, effective) = (&targets[i], &effective[i]);
            async move {
                (
                    i * ctx.services.len() + s,
                    read_one(ctx, target, &ctx.services[s], effective).await,
                )
            }
        })
        .buffer_unordered(per_account)
        .collect()
        .await;
    reads.sort_by_key(|(n, _)| *n);
    let mut part = Part::default();
    for (_, read) in reads {
        part.add(read);
    }
    part.in_line = part
        .counting
        .drain(..)
        .map(|c| ctx.names.in_line(c))
        .collect();
    part
}

/// Reads one target × service and diffs it.
async fn read_one(
    ctx: &Ctx<'_>,
    target: &Target,
    service: &Arc<dyn Service>,
    effective: &Baseline,
) -> Read {
    let desired = service.desired(effective, target, ctx.mode);
    if desired.is_empty() {
        // Not managed here: nothing is read.
        if let Some(p) = &ctx.opts.progress {
            p.read_done(target, service.name(), false);
        }
        return Read::default();
    }
    let observed = {
        let _global = ctx.global.acquire().await.expect("never closed");
        let started = std::time::Instant::now();
        let observed = contained(
            || format!("the {} read", service.name()),
            service.read(target, &desired),
        )
        .await;
        tracing::debug!(
            account = %target.account_id,
            region = %target.region,
            service = service.name(),
            ok = observed.is_ok(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "read"
        );
        observed
    };
    if let Some(p) = &ctx.opts.progress {
        p.read_done(target, service.name(), observed.is_err());
    }
    let mut read = Read::default();
    let reading = match observed {
        Ok(reading) => reading,
        Err(e) => {
            read.error = Some(PlanError {
                account: target.account_id.clone(),
                region: target.region.clone(),
                service: service.name().to_string(),
                message: error_chain(e.as_ref()),
                kind: crate::error::error_kind(e.as_ref()),
            });
            read.unreadable = desired.into_iter().map(|d| d.address).collect();
            return read;
        }
    };
    for n in reading.notes {
        read.notes
            .push(format!("{target}, {}: {n}", service.name()));
    }
    let mut by_address: HashMap<Address, Observed> = HashMap::new();
    let mut found = Vec::new();
    for o in reading.observed {
        if desired.iter().any(|d| d.address == o.address) {
            by_address.insert(o.address.clone(), o);
        } else {
            found.push(o);
        }
    }
    let keep = |change: Change, read: &mut Read| {
        if change.action != Action::NoOp || change.held.is_some() {
            read.changes.push(change);
            return;
        }
        let counted = read.in_line.get_or_insert_with(|| Counting {
            account: change.address.account.clone(),
            region: change.address.region.clone(),
            kinds: Default::default(),
            controls: Vec::new(),
        });
        *counted
            .kinds
            .entry(ctx.names.get(&change.address.kind))
            .or_default() += 1;
        for c in &change.controls {
            if !counted.controls.iter().any(|k| **k == **c) {
                counted.controls.push(ctx.names.get(c));
            }
        }
    };
    let mut changes = Vec::with_capacity(desired.len());
    for d in desired {
        let o = by_address.remove(&d.address);
        if let Some(o) = &o
            && (!o.used_by.is_empty() || o.users_unknown.is_some())
        {
            read.users.push((
                o.address.clone(),
                Users {
                    found: o.used_by.clone(),
                    unknown: o.users_unknown.clone(),
                },
            ));
        }
        changes.push(diff(d, o));
    }
    // In the order the provider found them (stable plans).
    for o in found {
        if let Some(d) = service.discovered(effective, target, ctx.mode, &o) {
            changes.push(diff(d, Some(o)));
        }
    }
    declare(service.as_ref(), &mut changes);
    if ctx.mode == Mode::Apply
        && let Some(today) = &ctx.opts.today
    {
        except(effective, today, target, &mut changes, &mut read.exceptions);
    }
    for change in changes {
        keep(change, &mut read);
    }
    if let Some(counted) = &mut read.in_line {
        counted.controls.sort();
    }
    read
}

/// A resource is deleted only when everything that uses it, in any region,
/// is deleted by the same plan; and never when its users could not all be
/// read. Otherwise the delete becomes "kept", saying why.
fn hold_deletes_in_use(changes: &mut [Change], users: &HashMap<Address, Users>) {
    let deleted: std::collections::HashSet<Address> = changes
        .iter()
        .filter(|c| c.action == Action::Delete)
        .map(|c| c.address.clone())
        .collect();
    let mut going = Vec::new();
    for c in changes.iter_mut().filter(|c| c.action == Action::Delete) {
        let Some(Users {
            found: used_by,
            unknown,
        }) = users.get(&c.address)
        else {
            continue;
        };
        let held = if let Some(unknown) = unknown {
            Some(Held::UsersUnknown {
                because: unknown.clone(),
            })
        } else {
            let mut staying: Vec<Address> = used_by
                .iter()
                .filter(|u| !deleted.contains(*u))
                .cloned()
                .collect();
            staying.sort();
            staying.dedup();
            (!staying.is_empty()).then_some(Held::InUse { users: staying })
        };
        if let Some(held) = held {
            c.held = Some(held);
            c.action = Action::NoOp;
            c.after = c.before.clone();
            // Not applied: nothing to find, wait for or be given.
            c.preconditions.clear();
            c.waits.clear();
            c.known_after_apply.clear();
        } else {
            // What the decision rested on, for apply to check again: a
            // user that appears while the plan waits makes it stale.
            let mut planned: Vec<&Address> = used_by.iter().collect();
            planned.sort();
            planned.dedup();
            c.private.insert(
                crate::model::USERS_PRIVATE.to_string(),
                serde_json::to_value(planned).unwrap_or_default(),
            );
            going.push((c.address.clone(), used_by.clone()));
        }
    }
    // A delete that goes ahead waits for its users' deletes (a delivery
    // channel aimed at the CloudTrail bucket stops delivering first): each
    // user depends on it, and teardown runs dependencies backwards.
    for (resource, users) in going {
        for c in changes.iter_mut().filter(|c| users.contains(&c.address)) {
            if !c.depends_on.contains(&resource) {
                c.depends_on.push(resource.clone());
            }
        }
    }
}

/// What each change to be applied declares ([`Service::declare`]); its
/// references resolved against the changes of the same read: a value the
/// plan read is copied into `private`, a value of a resource the plan
/// creates is known after apply (and the change then waits for that
/// create).
fn declare(service: &dyn Service, changes: &mut [Change]) {
    for i in 0..changes.len() {
        if !changes[i].action.is_applied() {
            continue;
        }
        let declared = service.declare(&changes[i]);
        changes[i].preconditions = declared.preconditions;
        changes[i].waits = declared.waits;
        for r in declared.references {
            let read = changes.iter().find(|c| c.address == r.from).and_then(|p| {
                if p.action == Action::Create {
                    return None;
                }
                p.private
                    .get(&r.output)
                    .or_else(|| p.before.as_ref().and_then(|b| b.get(&r.output)))
                    .filter(|v| !v.is_null())
                    .cloned()
            });
            let c = &mut changes[i];
            match read {
                Some(v) => {
                    c.private.insert(r.into, v);
                }
                None => {
                    if !c.depends_on.contains(&r.from) {
                        c.depends_on.push(r.from.clone());
                    }
                    c.known_after_apply.push(r);
                }
            }
        }
    }
}

/// The drift an exception of the baseline covers: while it is in force,
/// held as excepted (nothing is done); once it has run out, drift again
/// with a note saying so. `used` counts, per exception, the changes each
/// covers in force or run out. The changes are `target`'s (its account
/// and OU; a global resource's region is its address's).
fn except(
    baseline: &Baseline,
    today: &str,
    target: &Target,
    changes: &mut [Change],
    used: &mut Vec<(usize, bool)>,
) {
    let Some(exceptions) = &baseline.exceptions else {
        return;
    };
    let mut excepted: Vec<(Address, usize)> = Vec::new();
    for c in changes.iter_mut() {
        if c.action == Action::NoOp {
            continue;
        }
        let a = &c.address;
        let place = baseline_spec::Place {
            account: &a.account,
            region: &a.region,
            ou: target.ou.as_ref(),
        };
        let covering = |e: &&baseline_spec::Exception| e.covers(place, &a.kind, &c.controls);
        // One in force wins over one that ran out (a renewal written
        // below the ended entry).
        let Some((i, e)) = exceptions
            .iter()
            .enumerate()
            .find(|(_, e)| covering(e) && e.in_force(today))
            .or_else(|| exceptions.iter().enumerate().find(|(_, e)| covering(e)))
        else {
            continue;
        };
        let in_force = e.in_force(today);
        used.push((i, in_force));
        if in_force {
            excepted.push((c.address.clone(), i));
            c.held = Some(Held::Excepted {
                owner: e.owner.clone(),
                reason: e.reason.clone(),
                expires: e.expires.clone(),
            });
            c.action = Action::NoOp;
            c.after = c.before.clone();
            c.changed.clear();
            c.preconditions.clear();
            c.waits.clear();
            c.known_after_apply.clear();
        } else {
            let ran_out = format!(
                "the exception of {} ({}) ran out on {}: this is drift again",
                e.owner, e.reason, e.expires
            );
            c.note = Some(match c.note.take() {
                Some(n) => format!("{ran_out}\n{n}"),
                None => ran_out,
            });
        }
    }
    // A change that takes a value from an excepted create cannot run
    // without it: excepted with it (until nothing more is).
    while let Some((c, i)) = changes.iter().enumerate().find_map(|(n, c)| {
        (c.action != Action::NoOp)
            .then(|| {
                c.known_after_apply
                    .iter()
                    .find_map(|r| excepted.iter().find(|(a, _)| *a == r.from))
                    .map(|(_, i)| (n, *i))
            })
            .flatten()
    }) {
        let e = &exceptions[i];
        let change = &mut changes[c];
        used.push((i, true));
        excepted.push((change.address.clone(), i));
        change.held = Some(Held::Excepted {
            owner: e.owner.clone(),
            reason: e.reason.clone(),
            expires: e.expires.clone(),
        });
        change.note = Some(format!(
            "it takes a value from a change this exception holds, so it is held with it{}",
            change
                .note
                .take()
                .map(|n| format!("\n{n}"))
                .unwrap_or_default()
        ));
        change.action = Action::NoOp;
        change.after = change.before.clone();
        change.changed.clear();
        change.preconditions.clear();
        change.waits.clear();
        change.known_after_apply.clear();
    }
}

/// One resource: what is wanted against what is there.
pub fn diff(desired: Desired, observed: Option<Observed>) -> Change {
    let Desired {
        address,
        controls,
        want,
        depends_on,
        mut private,
    } = desired;
    if let Some(o) = &observed {
        private.extend(o.private.clone());
    }
    // The read's resolution of the wanted values (a merged policy) is
    // what apply writes: it takes the baseline's place.
    let want = match (want, &observed) {
        (Want::Present(mut attrs), Some(o)) => {
            for (k, v) in &o.resolved {
                if attrs.contains_key(k) {
                    attrs.insert(k.clone(), v.clone());
                }
            }
            Want::Present(attrs)
        }
        (w, _) => w,
    };
    let before = observed.as_ref().map(|o| o.attrs.clone());
    let note = observed.as_ref().and_then(|o| o.note.clone());
    let elsewhere = observed.as_ref().and_then(|o| match &o.owner {
        Ownership::OtherTool { tool } => Some(tool.clone()),
        _ => None,
    });
    let mut change = Change {
        address,
        action: Action::NoOp,
        controls,
        before: before.clone(),
        after: before.clone(),
        changed: Vec::new(),
        depends_on,
        instructions: None,
        note,
        held: None,
        private,
        known_after_apply: Vec::new(),
        preconditions: Vec::new(),
        waits: Vec::new(),
    };
    match (want, observed) {
        (Want::Present(attrs), None) => {
            change.action = Action::Create;
            change.changed = attrs.keys().cloned().collect();
            change.after = Some(attrs);
        }
        (Want::Present(attrs), Some(o)) if elsewhere.is_some() => {
            let (changed, after) = merge(&o.attrs, &attrs);
            if !changed.is_empty() {
                let tool = elsewhere.unwrap_or_default();
                change.action = Action::Manual;
                change.changed = changed;
                change.after = Some(after);
                change.held = Some(Held::OtherTool { tool });
            }
        }
        (Want::Present(attrs), Some(o)) => {
            let (changed, after) = merge(&o.attrs, &attrs);
            if !changed.is_empty() {
                change.action = Action::Update;
                change.changed = changed;
                change.after = Some(after);
            }
        }
        (Want::Absent, None) => {}
        // Another tool's: never deleted, never changed; a difference is
        // for a person to take up with that tool.
        (Want::Absent, Some(_)) if elsewhere.is_some() => {
            change.held = Some(Held::OtherTool {
                tool: elsewhere.unwrap_or_default(),
            });
        }
        (Want::Absent, Some(o)) => {
            if o.owner == Ownership::Ours {
                change.action = Action::Delete;
                change.after = None;
            } else {
                change.held = Some(Held::NotOurs);
            }
        }
        (
            Want::Check {
                attrs,
                instructions,
            },
            o,
        ) => {
            let empty = Attrs::new();
            let (changed, after) = merge(o.as_ref().map_or(&empty, |o| &o.attrs), &attrs);
            if !changed.is_empty() {
                change.action = Action::Manual;
                change.changed = changed;
                change.after = Some(after);
                change.instructions = Some(instructions);
            }
        }
    }
    change
}

/// The wanted attributes laid over the observed ones; which keys differ.
fn merge(observed: &Attrs, wanted: &Attrs) -> (Vec<String>, Attrs) {
    let mut after = observed.clone();
    let mut changed = Vec::new();
    for (k, v) in wanted {
        if observed.get(k).unwrap_or(&Value::Null) != v {
            changed.push(k.clone());
        }
        after.insert(k.clone(), v.clone());
    }
    (changed, after)
}

/// Why a saved plan cannot be applied any more.
#[derive(Debug, thiserror::Error)]
#[error("plan is stale: AWS changed since the plan was made; run `baseline plan` again\n{}", differences.iter().map(|d| format!("  {}", crate::printable(d))).collect::<Vec<_>>().join("\n"))]
pub struct StalePlan {
    /// What differs, one line each.
    pub differences: Vec<String>,
}

/// The fields (as the JSON plan names them) in which two changes of one
/// address differ.
fn edited_fields(a: &Change, b: &Change) -> Vec<String> {
    let (Ok(Value::Object(a)), Ok(Value::Object(b))) =
        (serde_json::to_value(a), serde_json::to_value(b))
    else {
        return vec!["its fields".into()];
    };
    let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|k| a.get(*k) != b.get(*k))
        .map(|k| format!("`{k}`"))
        .collect()
}

/// Compares a saved plan with a fresh one made from the same baseline and
/// targets: any difference in what was observed or what would be done makes
/// the saved plan stale.
pub fn check_fresh(saved: &Plan, fresh: &Plan) -> Result<(), StalePlan> {
    let mut differences = Vec::new();
    let fresh_targets: HashMap<(&str, &str), &Target> = fresh
        .targets
        .iter()
        .map(|f| ((f.account_id.as_str(), f.region.as_str()), f))
        .collect();
    // An account that moved to another OU since (its overrides and
    // exceptions may differ now): said as such, once per account.
    let mut moved = HashSet::new();
    for t in &saved.targets {
        // Only where the baseline reaches now: a target spliced in from
        // another plan is refused by name.
        let Some(now) = fresh_targets.get(&(t.account_id.as_str(), t.region.as_str())) else {
            differences.push(format!(
                "{}/{}: not an account and region the baseline covers (and reaches) now",
                t.account_id, t.region
            ));
            continue;
        };
        if now.ou != t.ou && moved.insert(&t.account_id) {
            let path = |ou: &Option<baseline_spec::OuPlace>| {
                ou.as_ref()
                    .map_or("the root".to_string(), |o| format!("OU `{}`", o.path))
            };
            differences.push(format!(
                "account {} was in {} when the plan was made and is in {} now: plan again",
                t.account_id,
                path(&t.ou),
                path(&now.ou)
            ));
        }
    }
    // Each address once: a change listed twice would run twice.
    let mut seen = HashSet::new();
    for c in &saved.changes {
        if !seen.insert(&c.address) {
            differences.push(format!(
                "{}: listed more than once in the saved plan: was it edited?",
                c.address
            ));
        }
    }
    let fresh_by: HashMap<&Address, &Change> =
        fresh.changes.iter().map(|c| (&c.address, c)).collect();
    for old in &saved.changes {
        match fresh_by.get(&old.address) {
            None if fresh.in_line.iter().any(|l| {
                l.account == old.address.account
                    && l.region == old.address.region
                    && l.kinds.contains_key(old.address.kind.as_str())
            }) =>
            {
                differences.push(format!(
                    "{}: changed outside this plan (now as the baseline wants)",
                    old.address
                ))
            }
            None => differences.push(format!("{}: no longer planned", old.address)),
            Some(new) if new.before != old.before => {
                differences.push(format!("{}: changed outside this plan", old.address))
            }
            Some(new) if new.action != old.action || new.after != old.after => {
                differences.push(format!("{}: would now be planned differently", old.address))
            }
            // Everything else apply acts on: which attributes it writes
            // (adoption is `managed_by` among them), what it waits for, the
            // identities and settings it uses. A plan edited there is not
            // the plan that was reviewed.
            Some(new) if *new != old => {
                let fields = edited_fields(old, new);
                differences.push(format!(
                    "{}: the saved plan differs from a fresh one in {}: was it edited?",
                    old.address,
                    fields.join(", ")
                ))
            }
            Some(_) => {}
        }
    }
    // `seen` holds every address of the saved plan.
    for new in &fresh.changes {
        if !seen.contains(&new.address) {
            differences.push(format!("{}: new since the plan", new.address));
        }
    }
    // Errors are compared by where they happened: their text may carry
    // request ids that differ between two reads of the same failure.
    let place = |e: &PlanError| (e.account.clone(), e.region.clone(), e.service.clone());
    let saved_places: std::collections::HashSet<_> = saved.errors.iter().map(place).collect();
    for e in &fresh.errors {
        if !saved_places.contains(&place(e)) {
            differences.push(format!("cannot read now: {e}"));
        }
    }
    let fresh_places: std::collections::HashSet<_> = fresh.errors.iter().map(place).collect();
    if saved
        .errors
        .iter()
        .any(|e| !fresh_places.contains(&place(e)))
    {
        differences
            .push("`errors`: the saved plan names a read that failed and now succeeds".to_string());
    }
    // Everything else a person reads (`show`) or apply acts on, as a fresh
    // plan has it; only `created_at` and the errors' texts (request ids)
    // are the saved plan's own.
    if differences.is_empty() {
        let fields = [
            ("`mode`", saved.mode == fresh.mode),
            ("`services`", saved.services == fresh.services),
            ("`targets`", saved.targets == fresh.targets),
            ("the order of `changes`", saved.changes == fresh.changes),
            ("`in_line`", saved.in_line == fresh.in_line),
            ("`notes`", saved.notes == fresh.notes),
            ("`unreadable`", saved.unreadable == fresh.unreadable),
            ("`scopes`", saved.scopes == fresh.scopes),
            ("`exceptions`", saved.exceptions == fresh.exceptions),
        ];
        for (field, same) in fields {
            if !same {
                differences.push(format!(
                    "the saved plan differs from a fresh one in {field}: was it edited?"
                ));
            }
        }
    }
    if differences.is_empty() {
        Ok(())
    } else {
        Err(StalePlan { differences })
    }
}
