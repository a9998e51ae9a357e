//! Desired × observed → per-resource changes → a [`Plan`].

use std::collections::HashMap;
use std::sync::Arc;

use baseline_spec::Baseline;
use serde_json::Value;
use tokio::sync::Semaphore;

use crate::model::*;
use crate::provider::{Service, contained, error_chain};

/// Told as reads finish (a progress display).
pub trait PlanProgress: Send + Sync {
    /// How many target × service reads there are.
    fn total(&self, _reads: usize) {}
    /// One read finished; `failed` if it did not succeed.
    fn read_done(&self, _target: &Target, _service: &str, _failed: bool) {}
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
}

impl Default for PlanOptions {
    fn default() -> Self {
        PlanOptions {
            concurrency: 256,
            per_account: 16,
            progress: None,
        }
    }
}

/// One semaphore per account, for the per-account bound.
fn account_bounds<'a>(
    accounts: impl Iterator<Item = &'a str>,
    per_account: usize,
) -> HashMap<String, Arc<Semaphore>> {
    accounts
        .map(|a| (a.to_string(), Arc::new(Semaphore::new(per_account.max(1)))))
        .collect()
}

/// Reads every target × service concurrently and diffs it against the baseline.
///
/// A read that fails becomes a [`PlanError`] for that target and service;
/// every other target and service is still planned.
pub async fn make_plan(
    baseline: &Baseline,
    targets: &[Target],
    services: &[Arc<dyn Service>],
    mode: Mode,
    mut errors: Vec<PlanError>,
    opts: &PlanOptions,
) -> Plan {
    let mut jobs = Vec::new();
    for target in targets {
        // Overrides for this account and region applied.
        let effective = baseline.for_target(&target.account_id, &target.region);
        for service in services {
            let desired = service.desired(&effective, target, mode);
            if !desired.is_empty() {
                jobs.push((target.clone(), service.clone(), desired));
            }
        }
    }
    if let Some(p) = &opts.progress {
        p.total(jobs.len());
    }
    // All reads start at once; the bounds decide how many run. The account
    // permit is taken first, so a read waiting on a busy account holds no
    // global permit that another account could use.
    let global = Semaphore::new(opts.concurrency.max(1));
    let per_account = account_bounds(
        targets.iter().map(|t| t.account_id.as_str()),
        opts.per_account,
    );
    let results: Vec<_> =
        futures::future::join_all(jobs.into_iter().map(|(target, service, desired)| {
            let (global, per_account) = (&global, &per_account);
            async move {
                let _account = per_account[&target.account_id]
                    .acquire()
                    .await
                    .expect("never closed");
                let _global = global.acquire().await.expect("never closed");
                let started = std::time::Instant::now();
                let observed = contained(
                    || format!("the {} read", service.name()),
                    service.read(&target, &desired),
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
                if let Some(p) = &opts.progress {
                    p.read_done(&target, service.name(), observed.is_err());
                }
                (target, service, desired, observed)
            }
        }))
        .await;

    let mut changes = Vec::new();
    let mut users: HashMap<Address, (Vec<Address>, Option<String>)> = HashMap::new();
    let mut unreadable = Vec::new();
    let mut notes = Vec::new();
    for (target, service, desired, observed) in results {
        match observed {
            Ok(reading) => {
                for n in reading.notes {
                    notes.push(format!("{target}, {}: {n}", service.name()));
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
                for d in desired {
                    let o = by_address.remove(&d.address);
                    if let Some(o) = &o
                        && (!o.used_by.is_empty() || o.users_unknown.is_some())
                    {
                        users.insert(
                            o.address.clone(),
                            (o.used_by.clone(), o.users_unknown.clone()),
                        );
                    }
                    changes.push(diff(d, o));
                }
                // In the order the provider found them (stable plans).
                let effective = baseline.for_target(&target.account_id, &target.region);
                for o in found {
                    if let Some(d) = service.discovered(&effective, &target, mode, &o) {
                        changes.push(diff(d, Some(o)));
                    }
                }
            }
            Err(e) => {
                errors.push(PlanError {
                    account: target.account_id.clone(),
                    region: target.region.clone(),
                    service: service.name().to_string(),
                    message: error_chain(e.as_ref()),
                    kind: crate::provider::error_kind(e.as_ref()),
                });
                unreadable.extend(desired.into_iter().map(|d| d.address));
            }
        }
    }
    hold_deletes_in_use(&mut changes, &users);
    Plan {
        format_version: FORMAT_VERSION.to_string(),
        mode,
        baseline: baseline.clone(),
        source: None,
        created_at: None,
        services: services.iter().map(|s| s.name().to_string()).collect(),
        targets: targets.to_vec(),
        changes,
        errors,
        notes,
        unreadable,
    }
}

/// A resource is deleted only when everything that uses it, in any region,
/// is deleted by the same plan; and never when its users could not all be
/// read. Otherwise the delete becomes "kept", saying why.
fn hold_deletes_in_use(
    changes: &mut [Change],
    users: &HashMap<Address, (Vec<Address>, Option<String>)>,
) {
    let deleted: std::collections::HashSet<Address> = changes
        .iter()
        .filter(|c| c.action == Action::Delete)
        .map(|c| c.address.clone())
        .collect();
    let mut going = Vec::new();
    for c in changes.iter_mut().filter(|c| c.action == Action::Delete) {
        let Some((used_by, unknown)) = users.get(&c.address) else {
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
        } else {
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
        reason: note,
        held: None,
        private,
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
                change.reason = Some(format!("make this change through {tool}"));
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
                change.reason = Some(match change.reason.take() {
                    Some(note) => format!("{instructions}\n{note}"),
                    None => instructions,
                });
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
#[error("plan is stale: AWS changed since the plan was made; run `baseline plan` again\n{}", differences.iter().map(|d| format!("  {d}")).collect::<Vec<_>>().join("\n"))]
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
    let fresh_by: HashMap<&Address, &Change> =
        fresh.changes.iter().map(|c| (&c.address, c)).collect();
    for old in &saved.changes {
        match fresh_by.get(&old.address) {
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
    let saved_set: std::collections::HashSet<&Address> =
        saved.changes.iter().map(|c| &c.address).collect();
    for new in &fresh.changes {
        if !saved_set.contains(&new.address) {
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
    if differences.is_empty() {
        Ok(())
    } else {
        Err(StalePlan { differences })
    }
}
