//! The plan as one self-contained HTML page: a matrix of accounts × regions
//! coloured by state, a view by control, and each cell's changes.
//!
//! The page is an [`askama`] template (`templates/report.html`), so every
//! value is HTML-escaped by the engine that fills it (account names and
//! contact fields come from users). It loads nothing: no network, no
//! external script, style or font (its Content-Security-Policy says so);
//! sorting and filtering are a few lines of inline script over the table.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use askama::Template;

use crate::model::*;
use crate::render::{CREATE, DELETE, KEPT, MANUAL, UPDATE, summary_line};

/// The state of one account-region (or of one control there), worst first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum State {
    /// Planned, and nothing differs.
    Ok,
    /// What differs is excepted (an exception of the baseline in force).
    Excepted,
    /// Only a person can act (MFA, a landing-zone resource).
    Manual,
    /// `apply` has changes to make.
    Changes,
    /// A read failed: the cell's picture is incomplete.
    Error,
}

impl State {
    fn class(self) -> &'static str {
        match self {
            State::Ok => "ok",
            State::Excepted => "excepted",
            State::Manual => "manual",
            State::Changes => "changes",
            State::Error => "error",
        }
    }
    fn of(c: &Change) -> State {
        match c.action {
            Action::NoOp if matches!(c.held, Some(Held::Excepted { .. })) => State::Excepted,
            Action::NoOp => State::Ok,
            Action::Manual => State::Manual,
            _ => State::Changes,
        }
    }
}

/// The CSS class of a cell that was not planned (`--regions`, a shard).
const NOT_PLANNED: &str = "none";

#[derive(Template)]
#[template(path = "report.html")]
struct Report {
    title: String,
    mode: &'static str,
    file: String,
    sha256: String,
    created_at: String,
    format_version: String,
    accounts: usize,
    account_regions: usize,
    summary: String,
    regions: Vec<String>,
    services: Vec<String>,
    rows: Vec<Row>,
    controls: Vec<ControlRow>,
    groups: Vec<Group>,
    account_errors: Vec<String>,
    notes: Vec<String>,
    exceptions: Vec<ExceptionRow>,
}

/// One exception of the baseline, as an auditor reads it.
struct ExceptionRow {
    owner: String,
    reason: String,
    expires: String,
    state: &'static str,
    covers: usize,
}

struct Row {
    account: String,
    name: String,
    /// Cells that are not in line (for sorting by drift).
    drift: usize,
    cells: Vec<Cell>,
}

struct Cell {
    region: String,
    class: &'static str,
    /// What the cell shows: the count of changes, `✓`, `✕`.
    label: String,
    title: String,
    /// `service:state:count` for each service with something to say, so
    /// that the service filter can recolour the cell.
    services: String,
    /// The anchor of its details, when it has any.
    anchor: Option<String>,
}

/// The changes of the account-regions that have the same ones (with each
/// place's own account id and region), shown once.
struct Group {
    anchor: String,
    class: &'static str,
    /// `account 1111… (name) · region` of each account-region in it.
    places: Vec<String>,
    /// Whether values name `{account}` / `{region}` for each place's own.
    generic: bool,
    changes: Vec<ChangeView>,
    errors: Vec<String>,
}

#[derive(Clone, PartialEq, Eq, Hash)]
struct ChangeView {
    symbol: &'static str,
    class: &'static str,
    resource: String,
    what: &'static str,
    controls: String,
    /// `(attribute, before, after)`; `before` empty for creates.
    lines: Vec<(String, String, String)>,
    reason: Vec<String>,
}

struct ControlRow {
    control: String,
    pass: usize,
    excepted: usize,
    drift: usize,
    manual: usize,
}

/// The HTML report of a plan: one document, nothing loaded from elsewhere.
pub fn html(plan: &Plan) -> String {
    build(plan)
        .render()
        .expect("the report template renders every plan")
}

fn build(plan: &Plan) -> Report {
    let regions: Vec<String> = plan
        .targets
        .iter()
        .map(|t| t.region.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut names: BTreeMap<&str, Option<&str>> = BTreeMap::new();
    for t in &plan.targets {
        let slot = names.entry(&t.account_id).or_default();
        if slot.is_none() {
            *slot = t.account_name.as_deref();
        }
    }
    // Accounts that could not be reached have no target: their names
    // come from the baseline.
    for e in &plan.errors {
        names.entry(&e.account).or_default();
    }
    if let baseline_spec::Accounts::List(listed) = &plan.baseline.accounts {
        for a in listed {
            if let Some(slot) = names.get_mut(a.id.0.as_str())
                && slot.is_none()
            {
                *slot = a.name.as_deref();
            }
        }
    }
    let planned: BTreeSet<(&str, &str)> = plan
        .targets
        .iter()
        .map(|t| (t.account_id.as_str(), t.region.as_str()))
        .collect();

    // Changes and errors by cell.
    let mut by_cell: BTreeMap<(&str, &str), Vec<&Change>> = BTreeMap::new();
    for c in &plan.changes {
        by_cell
            .entry((&c.address.account, &c.address.region))
            .or_default()
            .push(c);
    }
    let in_line: BTreeMap<(&str, &str), &InLine> = plan
        .in_line
        .iter()
        .map(|l| ((l.account.as_str(), l.region.as_str()), l))
        .collect();
    let mut errors_by_cell: BTreeMap<(&str, &str), Vec<&PlanError>> = BTreeMap::new();
    let mut account_errors = Vec::new();
    for e in &plan.errors {
        if e.region.is_empty() {
            account_errors.push(format!("[{}] {e}", e.kind));
            for r in &regions {
                errors_by_cell.entry((&e.account, r)).or_default().push(e);
            }
        } else {
            errors_by_cell
                .entry((&e.account, &e.region))
                .or_default()
                .push(e);
        }
    }

    let mut rows = Vec::new();
    let mut groups = Groups::default();
    for (account, name) in &names {
        let mut row = Row {
            account: account.to_string(),
            name: name.unwrap_or("").to_string(),
            drift: 0,
            cells: Vec::new(),
        };
        for region in &regions {
            let key = (*account, region.as_str());
            let changes = by_cell.get(&key).map(Vec::as_slice).unwrap_or(&[]);
            let errors = errors_by_cell.get(&key).map(Vec::as_slice).unwrap_or(&[]);
            if !planned.contains(&key) && changes.is_empty() && errors.is_empty() {
                row.cells.push(Cell {
                    region: region.clone(),
                    class: NOT_PLANNED,
                    label: String::new(),
                    title: format!("{account} · {region}: not planned"),
                    services: String::new(),
                    anchor: None,
                });
                continue;
            }
            let mut cell = cell(
                account,
                region,
                changes,
                in_line.get(&key).copied(),
                errors,
                &plan.scopes,
            );
            if cell.class != State::Ok.class()
                && cell.class != COVERED
                && cell.class != State::Excepted.class()
            {
                row.drift += 1;
            }
            if cell.anchor.is_some() {
                let place = match name {
                    Some(n) => format!("account {account} ({n}) · {region}"),
                    None => format!("account {account} · {region}"),
                };
                cell.anchor = Some(groups.add(place, account, region, changes, errors, cell.class));
            }
            row.cells.push(cell);
        }
        rows.push(row);
    }

    let s = plan.summary();
    let source = plan.source.as_ref();
    Report {
        title: match plan.mode {
            Mode::Apply => "baseline plan".into(),
            Mode::Destroy => "baseline destroy plan".into(),
        },
        mode: match plan.mode {
            Mode::Apply => "apply",
            Mode::Destroy => "destroy",
        },
        file: source.map(|s| s.file.clone()).unwrap_or_default(),
        sha256: source.map(|s| s.sha256.clone()).unwrap_or_default(),
        created_at: plan.created_at.clone().unwrap_or_default(),
        format_version: plan.format_version.clone(),
        accounts: names.len(),
        account_regions: planned.len(),
        summary: summary_line(&s),
        services: services(plan),
        regions,
        rows,
        controls: controls(plan),
        groups: groups.finish(),
        account_errors,
        notes: plan.notes.clone(),
        exceptions: plan
            .exceptions
            .iter()
            .map(|e| ExceptionRow {
                owner: e.owner.clone(),
                reason: e.reason.clone(),
                expires: e.expires.clone(),
                state: match e.state {
                    ExceptionState::InForce => "in force",
                    ExceptionState::RunOut => "run out: drift again",
                },
                covers: e.covers,
            })
            .collect(),
    }
}

fn services(plan: &Plan) -> Vec<String> {
    let mut all: BTreeSet<String> = plan.services.iter().cloned().collect();
    for c in &plan.changes {
        all.insert(c.address.service().to_string());
    }
    for l in &plan.in_line {
        all.extend(l.kinds.keys().map(|k| service_of(k).to_string()));
    }
    all.into_iter().collect()
}

/// A cell (or a service in it) in line, where the organization covers a
/// service: coloured apart from settings the account holds itself.
const COVERED: &str = "covered";

fn cell(
    account: &str,
    region: &str,
    changes: &[&Change],
    in_line: Option<&InLine>,
    errors: &[&PlanError],
    scopes: &Scopes,
) -> Cell {
    let covered: Vec<&str> = in_line
        .iter()
        .flat_map(|l| l.kinds.keys())
        .filter(|k| scopes.is_covered(k))
        .map(|k| service_of(k))
        .collect();
    let mut state = State::Ok;
    let mut per_service: BTreeMap<&str, (State, usize)> = BTreeMap::new();
    for kind in in_line.iter().flat_map(|l| l.kinds.keys()) {
        per_service
            .entry(service_of(kind))
            .or_insert((State::Ok, 0));
    }
    let mut acting = 0;
    for c in changes {
        let s = State::of(c);
        state = state.max(s);
        let slot = per_service
            .entry(c.address.service())
            .or_insert((State::Ok, 0));
        slot.0 = slot.0.max(s);
        if c.action != Action::NoOp {
            slot.1 += 1;
            acting += 1;
        }
    }
    for e in errors {
        state = State::Error;
        let service = if e.service.is_empty() {
            "*"
        } else {
            e.service.as_str()
        };
        per_service.entry(service).or_insert((State::Ok, 0)).0 = State::Error;
    }
    let label = match state {
        State::Ok => "✓".to_string(),
        State::Excepted => "=".to_string(),
        State::Error if acting == 0 => "✕".to_string(),
        _ => acting.to_string(),
    };
    let what = match state {
        State::Ok => "in line with the baseline".to_string(),
        State::Excepted => "its drift excepted".to_string(),
        State::Manual => format!("{acting} manual action(s)"),
        State::Changes => format!("{acting} change(s)"),
        State::Error => format!("could not be read ({} error(s))", errors.len()),
    };
    let has_details = state != State::Ok || changes.iter().any(|c| c.held.is_some());
    // In line, with services the organization covers: coloured apart.
    let class_of = |st: State, service: &str| {
        if st == State::Ok && covered.contains(&service) {
            COVERED
        } else {
            st.class()
        }
    };
    let (class, what) = if state == State::Ok && !covered.is_empty() {
        (
            COVERED,
            format!(
                "{what}; covered by the organization: {}",
                covered.join(", ")
            ),
        )
    } else {
        (state.class(), what)
    };
    Cell {
        region: region.to_string(),
        class,
        label,
        title: format!("{account} · {region}: {what}"),
        services: per_service
            .iter()
            .map(|(s, (st, n))| format!("{s}:{}:{n}", class_of(*st, s)))
            .collect::<Vec<_>>()
            .join(" "),
        anchor: has_details.then(|| format!("cell-{account}-{region}")),
    }
}

/// Account-regions grouped by what they have to do, so that a thousand
/// accounts with the same drift read as one list of changes.
#[derive(Default)]
struct Groups {
    by_key: HashMap<(Vec<ChangeView>, Vec<String>), usize>,
    groups: Vec<Group>,
    /// The first place's own changes and errors: shown when it stays alone.
    own: Vec<(Vec<ChangeView>, Vec<String>)>,
}

impl Groups {
    /// Adds one account-region; the anchor of its group.
    fn add(
        &mut self,
        place: String,
        account: &str,
        region: &str,
        changes: &[&Change],
        errors: &[&PlanError],
        class: &'static str,
    ) -> String {
        let views: Vec<ChangeView> = changes
            .iter()
            .filter(|c| c.action != Action::NoOp || c.held.is_some())
            .map(|c| change_view(c))
            .collect();
        let errors: Vec<String> = errors.iter().map(|e| format!("[{}] {e}", e.kind)).collect();
        let generic = |t: &str| t.replace(account, "{account}").replace(region, "{region}");
        let key = (
            views
                .iter()
                .map(|v| v.generic(&generic))
                .collect::<Vec<_>>(),
            errors.iter().map(|e| generic(e)).collect::<Vec<_>>(),
        );
        let index = match self.by_key.get(&key) {
            Some(&i) => i,
            None => {
                let i = self.groups.len();
                self.groups.push(Group {
                    anchor: format!("changes-{}", i + 1),
                    class,
                    places: Vec::new(),
                    generic: true,
                    changes: key.0.clone(),
                    errors: key.1.clone(),
                });
                self.own.push((views, errors));
                self.by_key.insert(key, i);
                i
            }
        };
        self.groups[index].places.push(place);
        self.groups[index].anchor.clone()
    }

    /// The groups, most places first; a place alone shows its own values.
    fn finish(self) -> Vec<Group> {
        let mut groups: Vec<Group> = self
            .groups
            .into_iter()
            .zip(self.own)
            .map(|(mut g, (views, errors))| {
                if g.places.len() == 1 {
                    g.generic = false;
                    g.changes = views;
                    g.errors = errors;
                }
                g
            })
            .collect();
        groups.sort_by_key(|g| std::cmp::Reverse(g.places.len()));
        groups
    }
}

impl ChangeView {
    /// The same change with each place's own names made placeholders.
    fn generic(&self, f: &impl Fn(&str) -> String) -> ChangeView {
        ChangeView {
            resource: f(&self.resource),
            lines: self
                .lines
                .iter()
                .map(|(k, b, a)| (f(k), f(b), f(a)))
                .collect(),
            reason: self.reason.iter().map(|r| f(r)).collect(),
            ..self.clone()
        }
    }
}

fn shown(v: Option<&serde_json::Value>) -> String {
    match v {
        None | Some(serde_json::Value::Null) => "(none)".into(),
        Some(v) => v.to_string(),
    }
}

fn change_view(c: &Change) -> ChangeView {
    let (symbol, class, what) = match c.action {
        Action::Create => (CREATE, "act-create", "will be created"),
        Action::Update => (UPDATE, "act-update", "will be updated in place"),
        Action::Delete => (DELETE, "act-delete", "will be destroyed"),
        Action::Manual => (MANUAL, "act-manual", "needs a person"),
        Action::NoOp => (KEPT, "act-kept", "left as it is"),
    };
    // A policy document: one line per statement added, removed, changed.
    let line = |k: &String,
                before: Option<&serde_json::Value>,
                after: Option<&serde_json::Value>| {
        let null = serde_json::Value::Null;
        match crate::document::statement_changes(before.unwrap_or(&null), after.unwrap_or(&null)) {
            Some(docs) => docs
                .iter()
                .map(|d| {
                    let (sign, name) = match d {
                        crate::document::StatementChange::Added { statement, .. } => {
                            ("+", statement)
                        }
                        crate::document::StatementChange::Removed { statement, .. } => {
                            ("-", statement)
                        }
                        crate::document::StatementChange::Changed { statement, .. } => {
                            ("~", statement)
                        }
                    };
                    let (b, a) = match d {
                        crate::document::StatementChange::Added { after, .. } => {
                            (String::new(), after.to_string())
                        }
                        crate::document::StatementChange::Removed { before, .. } => {
                            (before.to_string(), "(none)".into())
                        }
                        crate::document::StatementChange::Changed { before, after, .. } => {
                            (before.to_string(), after.to_string())
                        }
                    };
                    (format!("{k} {sign} statement {name:?}"), b, a)
                })
                .collect(),
            None => vec![(
                k.clone(),
                if before.is_none() && after.is_some() && c.action == Action::Create {
                    String::new()
                } else {
                    shown(before)
                },
                shown(after),
            )],
        }
    };
    let lines: Vec<(String, String, String)> = match c.action {
        Action::Create => c
            .after
            .iter()
            .flatten()
            .flat_map(|(k, v)| line(k, None, Some(v)))
            .collect(),
        Action::Update | Action::Manual => c
            .changed
            .iter()
            .flat_map(|k| {
                line(
                    k,
                    c.before.as_ref().and_then(|b| b.get(k)),
                    c.after.as_ref().and_then(|a| a.get(k)),
                )
            })
            .collect(),
        Action::Delete | Action::NoOp => Vec::new(),
    };
    ChangeView {
        symbol,
        class,
        resource: c.address.short(),
        what,
        controls: c.controls.join(", "),
        lines,
        reason: c.explanation(),
    }
}

/// For each control the plan's resources clear: in how many account-regions
/// every resource naming it is in line, has changes, or needs a person.
fn controls(plan: &Plan) -> Vec<ControlRow> {
    let mut worst: BTreeMap<&str, BTreeMap<(&str, &str), State>> = BTreeMap::new();
    for c in &plan.changes {
        for control in &c.controls {
            let slot = worst
                .entry(control)
                .or_default()
                .entry((&c.address.account, &c.address.region))
                .or_insert(State::Ok);
            *slot = (*slot).max(State::of(c));
        }
    }
    for l in &plan.in_line {
        for control in l.controls.iter() {
            worst
                .entry(control)
                .or_default()
                .entry((&l.account, &l.region))
                .or_insert(State::Ok);
        }
    }
    worst
        .into_iter()
        .map(|(control, places)| {
            let count = |s: State| places.values().filter(|v| **v == s).count();
            ControlRow {
                control: control.to_string(),
                pass: count(State::Ok),
                excepted: count(State::Excepted),
                drift: count(State::Changes),
                manual: count(State::Manual),
            }
        })
        .collect()
}
