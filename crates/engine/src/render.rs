//! Plans as text: the human form (Terraform's `+ ~ -`), JSON and Markdown.
//!
//! All three read the same [`Plan`]; colour is a [`Styles`] value the
//! caller picks (off in tests, off with `NO_COLOR`, off without a terminal).

use std::fmt::Write as _;

use anstyle::{AnsiColor, Style};
use serde_json::Value;

use crate::document;
use crate::error::printable;
use crate::model::*;

/// The symbol of each action, as users know them from Terraform.
pub const CREATE: &str = "+";
/// Update in place.
pub const UPDATE: &str = "~";
/// Delete.
pub const DELETE: &str = "-";
/// Manual action.
pub const MANUAL: &str = "!";
/// Left as it is by the safety rules (not baseline's, in use, another tool's).
pub const KEPT: &str = "=";

/// Colours for the human form.
#[derive(Debug, Clone, Copy, Default)]
pub struct Styles {
    create: Style,
    update: Style,
    delete: Style,
    manual: Style,
    heading: Style,
    dim: Style,
    error: Style,
}

impl Styles {
    /// No colour.
    pub fn plain() -> Self {
        Styles::default()
    }
    /// ANSI colours.
    pub fn colored() -> Self {
        Styles {
            create: AnsiColor::Green.on_default(),
            update: AnsiColor::Yellow.on_default(),
            delete: AnsiColor::Red.on_default(),
            manual: AnsiColor::Magenta.on_default(),
            heading: Style::new().bold(),
            dim: Style::new().dimmed(),
            error: AnsiColor::Red.on_default().bold(),
        }
    }
}

fn paint(style: Style, text: &str) -> String {
    if style == Style::new() {
        text.to_string()
    } else {
        format!("{style}{text}{style:#}")
    }
}

fn show(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => "(none)".into(),
        Some(v) => v.to_string(),
    }
}

/// The human plan.
pub fn human(plan: &Plan, styles: &Styles) -> String {
    let mut out = String::new();
    let visible: Vec<&Change> = plan
        .changes
        .iter()
        .filter(|c| c.action != Action::NoOp || c.held.is_some())
        .collect();
    let acting = visible.iter().any(|c| c.action != Action::NoOp);
    if !visible.is_empty() {
        let verb = match plan.mode {
            _ if !acting => "baseline leaves the following as they are:",
            _ if !plan.has_applicable_changes() => {
                "Only a person can do the following (apply does not):"
            }
            Mode::Apply => "baseline will perform the following actions:",
            Mode::Destroy => "baseline will stop the following paid services:",
        };
        let _ = writeln!(out, "{verb}");
    }
    // The organization's changes first, each under the account that
    // makes them: `organization · account … · region`.
    let scopes = &plan.scopes;
    let mut visible = visible;
    visible.sort_by_key(|c| !scopes.is_organization(&c.address.kind));
    let mut group: Option<(bool, &str, &str)> = None;
    for c in &visible {
        let org = scopes.is_organization(&c.address.kind);
        let key = (org, c.address.account.as_str(), c.address.region.as_str());
        if group != Some(key) {
            group = Some(key);
            let name = plan
                .targets
                .iter()
                .find(|t| t.account_id == key.1)
                .and_then(|t| t.account_name.as_deref());
            // Names come from files and AWS: never a line break or an
            // escape sequence of theirs on the terminal.
            let (account, region) = (printable(key.1), printable(key.2));
            let account = match name {
                Some(n) => format!("account {account} ({})", printable(n)),
                None => format!("account {account}"),
            };
            let title = if org {
                format!("# organization · {account} · {region}")
            } else {
                format!("# {account} · {region}")
            };
            let _ = writeln!(out, "\n{}", paint(styles.heading, &title));
        }
        change(&mut out, c, styles, scopes.is_covered(&c.address.kind));
    }
    if !plan.notes.is_empty() {
        let _ = writeln!(out);
        for n in &plan.notes {
            let _ = writeln!(out, "{} {}", paint(styles.heading, "Info:"), printable(n));
        }
    }
    if !plan.errors.is_empty() {
        let _ = writeln!(out);
        for e in &plan.errors {
            let _ = writeln!(
                out,
                "{} {}",
                paint(styles.error, "Error:"),
                printable(&e.to_string())
            );
        }
    }
    let s = plan.summary();
    let _ = writeln!(out);
    if visible.is_empty() && plan.targets.is_empty() {
        if plan.errors.is_empty() {
            // E.g. a shard that holds no account of the baseline.
            let _ = writeln!(out, "No account to plan: nothing was read.");
        } else {
            let _ = writeln!(out, "Nothing could be read: no account was reached.");
        }
    } else if !acting
        && plan
            .changes
            .iter()
            .any(|c| matches!(c.held, Some(Held::Excepted { .. })))
    {
        let _ = writeln!(
            out,
            "No changes to apply: the drift shown is excepted (below), and nothing else differs."
        );
    } else if !acting {
        let targets = plan.targets.len();
        let _ = writeln!(
            out,
            "No changes. {} account-region{} match{} the baseline{}.",
            targets,
            if targets == 1 { "" } else { "s" },
            if targets == 1 { "es" } else { "" },
            if plan.errors.is_empty() {
                ""
            } else {
                " where it could be read"
            },
        );
    } else {
        let _ = writeln!(out, "{}", summary_line(&s));
        breakdown(&mut out, plan);
        if s.destroy > 0 {
            let _ = writeln!(
                out,
                "Deletes rest on the ownership mark `managed-by: {}` (set when this baseline creates or adopts a resource); anyone allowed to tag can set it: docs/safety.md shows how to keep it to the baseline's role.",
                baseline_spec::owner_mark(plan.baseline.name.as_deref())
            );
        }
    }
    exceptions(&mut out, plan, styles);
    out
}

/// The baseline's exceptions, for the person reading: those that ran out,
/// and those that cover nothing (a warning: remove them, or check what
/// they name).
fn exceptions(out: &mut String, plan: &Plan, styles: &Styles) {
    for e in &plan.exceptions {
        let who = format!(
            "exceptions[{}] (of {}: {}, until {})",
            e.index,
            printable(&e.owner),
            printable(&e.reason),
            printable(&e.expires)
        );
        if e.state == ExceptionState::RunOut {
            let _ = writeln!(
                out,
                "{} {who} ran out: what it covered ({}) is drift again.",
                paint(styles.error, "Exception ended:"),
                e.covers
            );
        } else if e.covers == 0 {
            let _ = writeln!(
                out,
                "{} {who} covers no drift of what this plan read: remove it if none is left anywhere, or check what it names.",
                paint(styles.manual, "Warning:")
            );
        } else {
            let _ = writeln!(
                out,
                "Excepted: {who} leaves {} change{} as {} are.",
                e.covers,
                if e.covers == 1 { "" } else { "s" },
                if e.covers == 1 { "it" } else { "they" }
            );
        }
    }
}

/// When changes span several account-regions: how many by service and by
/// control, so that a plan of many accounts ends with its shape.
fn breakdown(out: &mut String, plan: &Plan) {
    use std::collections::{BTreeMap, BTreeSet};
    let acting: Vec<&Change> = plan
        .changes
        .iter()
        .filter(|c| c.action != Action::NoOp)
        .collect();
    let places: BTreeSet<(&str, &str)> = acting
        .iter()
        .map(|c| (c.address.account.as_str(), c.address.region.as_str()))
        .collect();
    if places.len() < 2 {
        return;
    }
    let mut by_service: BTreeMap<&str, usize> = BTreeMap::new();
    let mut by_control: BTreeMap<&str, usize> = BTreeMap::new();
    for c in &acting {
        let service = c.address.service();
        *by_service.entry(service).or_default() += 1;
        for control in &c.controls {
            *by_control.entry(control.as_str()).or_default() += 1;
        }
    }
    let list = |m: &BTreeMap<&str, usize>| {
        m.iter()
            .map(|(k, n)| format!("{k} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let _ = writeln!(
        out,
        "Changes in {} account-regions. By setting: {}.",
        places.len(),
        list(&by_service)
    );
    if !by_control.is_empty() {
        let _ = writeln!(out, "By control: {}.", list(&by_control));
    }
}

/// `Plan: N to add, N to change, N to destroy, N manual.`
pub fn summary_line(s: &Summary) -> String {
    format!(
        "Plan: {} to add, {} to change, {} to destroy, {} manual.",
        s.add, s.change, s.destroy, s.manual
    )
}

fn change(out: &mut String, c: &Change, styles: &Styles, covered: bool) {
    let (symbol, style, note) = match c.action {
        // Nothing is written in the account: the organization covers it.
        Action::Create | Action::Update if covered => (
            if c.action == Action::Create {
                CREATE
            } else {
                UPDATE
            },
            styles.create,
            "will be covered by the organization",
        ),
        Action::Create => (CREATE, styles.create, "will be created"),
        Action::Update => (UPDATE, styles.update, "will be updated in place"),
        Action::Delete => (DELETE, styles.delete, "will be destroyed"),
        Action::Manual => (MANUAL, styles.manual, "needs a person"),
        Action::NoOp if matches!(c.held, Some(Held::Excepted { .. })) => {
            (KEPT, styles.dim, "excepted")
        }
        Action::NoOp if c.held.is_some() => (KEPT, styles.dim, "left as it is"),
        Action::NoOp => return,
    };
    let controls = if c.controls.is_empty() {
        String::new()
    } else {
        format!("  [{}]", c.controls.join(", "))
    };
    let _ = writeln!(
        out,
        "  {} {} {}{}",
        paint(style, symbol),
        printable(&c.address.short()),
        paint(styles.dim, note),
        paint(styles.dim, &controls),
    );
    let width = c.changed.iter().map(String::len).max().unwrap_or(0);
    // A policy document is shown statement by statement.
    let statements = |out: &mut String, changes: &[document::StatementChange]| {
        let style_of = |sign: char| match sign {
            '+' => styles.create,
            '-' => styles.delete,
            _ => styles.update,
        };
        for sc in changes {
            let (sign, name, text) = document::statement_line(sc);
            let name = printable(&format!("{name:?}")).into_owned();
            let sign_shown = paint(style_of(sign), &sign.to_string());
            // A changed statement: the lines of it that change.
            if let document::StatementChange::Changed { before, after, .. } = sc {
                let _ = writeln!(out, "          {sign_shown} statement {name}");
                for (s, line) in document::statement_diff(before, after) {
                    let _ = writeln!(
                        out,
                        "              {} {}",
                        paint(style_of(s), &s.to_string()),
                        printable(&line)
                    );
                }
                continue;
            }
            let _ = writeln!(
                out,
                "          {sign_shown} statement {name} {}",
                printable(&text)
            );
        }
    };
    match c.action {
        Action::Create => {
            for (k, v) in c.after.iter().flatten() {
                let docs = document::statement_changes(&Value::Null, v);
                let shown = match &docs {
                    Some(d) => document::summary(d),
                    None => v.to_string(),
                };
                let _ = writeln!(
                    out,
                    "      {} {:width$} = {}",
                    paint(style, CREATE),
                    printable(k),
                    printable(&shown),
                    width = width
                );
                statements(out, docs.as_deref().unwrap_or_default());
            }
        }
        Action::Update | Action::Manual => {
            for k in &c.changed {
                let before = c.before.as_ref().and_then(|b| b.get(k));
                let after = c.after.as_ref().and_then(|a| a.get(k));
                let docs = document::statement_changes(
                    before.unwrap_or(&Value::Null),
                    after.unwrap_or(&Value::Null),
                );
                let shown = match &docs {
                    Some(d) => document::summary(d),
                    None => format!("{} -> {}", show(before), show(after)),
                };
                let _ = writeln!(
                    out,
                    "      {} {:width$} = {}",
                    paint(style, UPDATE),
                    printable(k),
                    printable(&shown),
                    width = width
                );
                statements(out, docs.as_deref().unwrap_or_default());
            }
        }
        Action::Delete | Action::NoOp => {}
    }
    for r in &c.known_after_apply {
        let _ = writeln!(
            out,
            "      {} {} = (known after apply: {} of {})",
            paint(style, symbol),
            printable(&r.into),
            printable(&r.output),
            printable(&r.from.short())
        );
    }
    for w in &c.waits {
        let _ = writeln!(out, "      {}", paint(styles.dim, &w.to_string()));
    }
    for line in c.explanation() {
        let _ = writeln!(out, "      {}", paint(styles.dim, &printable(&line)));
    }
}

/// The JSON plan: the [`Plan`] itself, with its `format_version`, plus the
/// summary, so tools need not count. Written straight from the plan as it
/// is serialized: neither a second copy of the plan nor its text is held
/// in memory (at a thousand accounts the text alone is hundreds of MB).
pub fn write_json(plan: &Plan, out: impl std::io::Write) -> std::io::Result<()> {
    use std::io::Write as _;
    #[derive(serde::Serialize)]
    struct JsonPlan<'a> {
        #[serde(flatten)]
        plan: &'a Plan,
        summary: Summary,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        documents: Vec<DocumentChange<'a>>,
    }
    let mut out = std::io::BufWriter::with_capacity(64 * 1024, out);
    serde_json::to_writer_pretty(
        &mut out,
        &JsonPlan {
            plan,
            summary: plan.summary(),
            documents: document_changes(plan),
        },
    )?;
    out.write_all(b"\n")?;
    out.flush()
}

/// The JSON plan ([`write_json`]) as text.
pub fn json(plan: &Plan) -> String {
    let mut bytes = Vec::new();
    write_json(plan, &mut bytes).expect("a plan serializes");
    String::from_utf8(bytes).expect("JSON is UTF-8")
}

/// The statements a change adds to, removes from or changes in one policy
/// document attribute (in the printed JSON only; not read back).
#[derive(serde::Serialize)]
struct DocumentChange<'a> {
    address: &'a Address,
    attribute: &'a str,
    statements: Vec<document::StatementChange>,
}

fn document_changes(plan: &Plan) -> Vec<DocumentChange<'_>> {
    let mut out = Vec::new();
    for c in &plan.changes {
        let keys: Vec<&String> = match c.action {
            Action::Create => c.after.iter().flat_map(|a| a.keys()).collect(),
            Action::Update | Action::Manual => c.changed.iter().collect(),
            _ => continue,
        };
        for k in keys {
            let get = |side: &Option<Attrs>| {
                side.as_ref()
                    .and_then(|a| a.get(k))
                    .cloned()
                    .unwrap_or(Value::Null)
            };
            let before = if c.action == Action::Create {
                Value::Null
            } else {
                get(&c.before)
            };
            if let Some(statements) = document::statement_changes(&before, &get(&c.after)) {
                out.push(DocumentChange {
                    address: &c.address,
                    attribute: k,
                    statements,
                });
            }
        }
    }
    out
}

/// A code fence longer than any run of backticks in `body`, so that
/// nothing in it (an account name, a reason, a note from AWS) can close
/// the block and write Markdown of its own (CommonMark: a fence is closed
/// only by one at least as long).
pub fn fence_for(body: &str) -> String {
    let longest = body.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    "`".repeat((longest + 1).max(3))
}

/// The Markdown plan, for pull-request comments: the human form in a
/// `diff` block (so `+`/`-` lines are coloured by the forge), fenced by
/// [`fence_for`].
pub fn markdown(plan: &Plan) -> String {
    let s = plan.summary();
    let mut out = String::from("### baseline plan\n\n");
    let _ = writeln!(out, "**{}**\n", summary_line(&s));
    let body = human(plan, &Styles::plain());
    let fence = fence_for(&body);
    let _ = writeln!(out, "{fence}diff");
    let total_lines = body.lines().count();
    // Room for the closing fence and the note that says what was left out.
    let room = MARKDOWN_LIMIT.saturating_sub(out.chars().count() + 400);
    if body.chars().count() <= room {
        out.push_str(&body);
        let _ = writeln!(out, "{fence}");
        return out;
    }
    // Too long for a pull-request comment: whole lines up to the limit,
    // never a line cut in the middle, then what was left out.
    let (mut used, mut shown) = (0, 0);
    for line in body.lines() {
        let n = line.chars().count() + 1;
        if used + n > room {
            break;
        }
        out.push_str(line);
        out.push('\n');
        used += n;
        shown += 1;
    }
    let _ = write!(
        out,
        "{fence}\n\n_The plan is longer than a comment allows: {shown} of {total_lines} lines shown, cut at a line's end. The summary above counts every change; the whole plan is `baseline show PLANFILE` or `--output json`._\n"
    );
    out
}

/// The most characters a GitHub comment holds: Markdown plans stay within.
pub const MARKDOWN_LIMIT: usize = 65_536;
