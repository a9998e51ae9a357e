//! The data the engine works on: targets, resources, changes, plans.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use baseline_spec::{Baseline, OuPlace, Place};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A resource's attributes, in a stable order.
pub type Attrs = Map<String, Value>;

/// One account in one region: the unit that is read and planned.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Target {
    /// 12-digit account id (checked against the credentials).
    pub account_id: String,
    /// Display name from the baseline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_name: Option<String>,
    /// Region name.
    pub region: String,
    /// Whether this is the account's home region (global resources live here).
    pub home: bool,
    /// The organizational unit the account is in, when the baseline names
    /// OUs (read from the organization; directly under the root: none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ou: Option<OuPlace>,
}

impl Target {
    /// Where it is, as overrides and exceptions match it.
    pub fn place(&self) -> Place<'_> {
        Place {
            account: &self.account_id,
            region: &self.region,
            ou: self.ou.as_ref(),
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.account_name {
            Some(n) => write!(f, "account {} ({n}), {}", self.account_id, self.region),
            None => write!(f, "account {}, {}", self.account_id, self.region),
        }
    }
}

/// Where a resource lives and what it is: unique within a plan.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Address {
    /// Account id.
    pub account: String,
    /// Region name.
    pub region: String,
    /// Resource type, `service.kind` (`config.recorder`).
    pub kind: String,
    /// The resource's name within its type (`default`, a bucket name, ...).
    pub name: String,
}

impl Address {
    /// A new address.
    pub fn new(target: &Target, kind: &str, name: impl Into<String>) -> Self {
        Address {
            account: target.account_id.clone(),
            region: target.region.clone(),
            kind: kind.to_string(),
            name: name.into(),
        }
    }

    /// `kind["name"]`, the short form used inside an account/region group.
    pub fn short(&self) -> String {
        format!("{}[\"{}\"]", self.kind, self.name)
    }

    /// The service its kind belongs to: `config.recorder` → `config`.
    pub fn service(&self) -> &str {
        service_of(&self.kind)
    }
}

/// The setting a kind belongs to: `config.recorder` → `config`.
pub fn service_of(kind: &str) -> &str {
    kind.split('.').next().unwrap_or(kind)
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}/{}", self.account, self.region, self.short())
    }
}

/// Whether the plan converges the baseline or tears the paid services down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Make every account and region match the baseline.
    Apply,
    /// Stop the paid services the baseline manages; keep free settings.
    Destroy,
}

/// What the baseline wants of one resource.
#[derive(Debug, Clone, PartialEq)]
pub enum Want {
    /// It exists with (at least) these attributes.
    Present(Attrs),
    /// It does not exist (or is stopped / disabled) — deleted only if ours.
    Absent,
    /// These attributes are checked; only a person can fix them.
    Check {
        /// The compliant attributes.
        attrs: Attrs,
        /// What the person must do.
        instructions: String,
    },
}

/// The desired state of one resource, as a provider derives it from the baseline.
#[derive(Debug, Clone, PartialEq)]
pub struct Desired {
    /// Which resource.
    pub address: Address,
    /// Security Hub / CIS controls it clears.
    pub controls: Vec<String>,
    /// What is wanted.
    pub want: Want,
    /// Resources that must exist before this one (and be removed after it).
    pub depends_on: Vec<Address>,
    /// Settings of the action itself that apply needs and the baseline
    /// decides (a key's deletion window): carried into [`Change::private`].
    pub private: Attrs,
}

/// Whose a resource is, as its ownership mark says (docs/safety.md has
/// the mark of each resource).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "owner", rename_all = "snake_case")]
pub enum Ownership {
    /// It carries this baseline's mark: baseline created it, or adopted
    /// it (`adopt: true`); baseline may change and delete it.
    Ours,
    /// No baseline's mark: someone else's. Corrected only where the
    /// baseline asks (never deleted); adopted only with `adopt: true`.
    NotOurs,
    /// Another tool manages it (`AWS Control Tower`, another baseline:
    /// `baseline "team-a"`): never changed nor deleted; a difference is
    /// a manual action.
    OtherTool {
        /// Who, as the plan names it.
        tool: String,
    },
}

impl Ownership {
    /// Whether it carries this baseline's mark.
    pub fn ours(&self) -> bool {
        *self == Ownership::Ours
    }

    /// The tool that manages it, when another does.
    pub fn tool(&self) -> Option<&str> {
        match self {
            Ownership::OtherTool { tool } => Some(tool),
            _ => None,
        }
    }
}

/// The observed state of one resource.
#[derive(Debug, Clone, PartialEq)]
pub struct Observed {
    /// Which resource.
    pub address: Address,
    /// What AWS says now.
    pub attrs: Attrs,
    /// Whose it is.
    pub owner: Ownership,
    /// Something the person reviewing a change to it should know (shown
    /// with the change; e.g. which buckets a setting makes private).
    pub note: Option<String>,
    /// What uses it, in any region (e.g. the delivery channels that deliver
    /// to a log bucket): it is deleted only by a plan that deletes each of
    /// them too. Read only when it is to be deleted.
    pub used_by: Vec<Address>,
    /// Why what uses it could not all be read: then it is not deleted.
    pub users_unknown: Option<String>,
    /// The wanted values resolved against what exists, decided by the
    /// read: a bucket's policy with baseline's statements merged into its
    /// own, a bucket's own encryption kept. They replace the baseline's
    /// values of the same attributes in the plan, so that the plan's
    /// `after` is exactly what apply writes.
    pub resolved: Attrs,
    /// Identities apply needs that are not attributes a person compares
    /// (carried into [`Change::private`]).
    pub private: Attrs,
}

impl Observed {
    /// An observed resource without a note, whose its mark says (`owner`).
    pub fn new(address: Address, attrs: Attrs, owner: Ownership) -> Self {
        Observed {
            address,
            attrs,
            owner,
            note: None,
            used_by: Vec::new(),
            users_unknown: None,
            resolved: Attrs::new(),
            private: Attrs::new(),
        }
    }

    /// Marks it as another tool's when `tool` names one.
    pub fn managed_by_tool(&mut self, tool: Option<String>) {
        if let Some(tool) = tool {
            self.owner = Ownership::OtherTool { tool };
        }
    }
}

/// Why the safety rules hold a change back (docs/safety.md): the baseline
/// asks to change or delete a resource, and nothing, or only a person,
/// does it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "why", rename_all = "snake_case")]
pub enum Held {
    /// Not baseline's (no ownership mark): never deleted.
    NotOurs,
    /// Another tool manages it: never changed nor deleted by baseline.
    OtherTool {
        /// Who.
        tool: String,
    },
    /// Still used by resources this plan does not delete.
    InUse {
        /// Them, sorted.
        users: Vec<Address>,
    },
    /// What uses it could not all be read.
    UsersUnknown {
        /// Why not.
        because: String,
    },
    /// An exception of the baseline's excuses this drift until it ends.
    Excepted {
        /// Who decided it.
        owner: String,
        /// Why.
        reason: String,
        /// Its last day, `YYYY-MM-DD`.
        expires: String,
    },
}

impl fmt::Display for Held {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Held::NotOurs => write!(
                f,
                "exists but not baseline's (no ownership mark); left alone (`adopt: true` in its section lets baseline manage it)"
            ),
            Held::OtherTool { tool } => write!(f, "managed by {tool}; baseline leaves it alone"),
            Held::InUse { users } => write!(
                f,
                "kept: still used by {} (not deleted by this plan)",
                users
                    .iter()
                    .map(|u| u.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Held::UsersUnknown { because } => write!(
                f,
                "kept: {because}; baseline deletes it only when it can see that nothing uses it"
            ),
            Held::Excepted {
                owner,
                reason,
                expires,
            } => write!(
                f,
                "excepted until {expires} by {owner}: {reason}; apply leaves it as it is"
            ),
        }
    }
}

/// What a change does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Already as wanted.
    NoOp,
    /// Create (or enable, or start).
    Create,
    /// Change in place.
    Update,
    /// Delete (or disable, or stop).
    Delete,
    /// Only a person can do it; `apply` reports it and does nothing.
    Manual,
}

impl Action {
    /// Whether `apply` performs this change.
    pub fn is_applied(self) -> bool {
        matches!(self, Action::Create | Action::Update | Action::Delete)
    }
}

/// The key of a delete's `private` that lists the users (addresses) it
/// had when planned, all deleted before it: apply reads the users again
/// and refuses the delete when another has appeared.
pub const USERS_PRIVATE: &str = "users";

/// A value apply needs that another change of the same plan has
/// (Terraform's reference): `private[into]` of this change is `output` of
/// the change at `from`. When `from` exists, the plan copies the value it
/// read; when the plan creates it, the value is known only after apply,
/// and the executor hands it over once `from`'s step has given it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reference {
    /// The key of this change's `private` that gets the value.
    pub into: String,
    /// The change that has it.
    pub from: Address,
    /// Its name there: an output of `from`'s step, else an attribute or
    /// private value `from`'s plan read.
    pub output: String,
}

/// What apply must find before it writes, declared on the change and
/// checked by one step of the executor against a fresh read of the
/// resource: a failed check is "plan is stale", and nothing is written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "expects", rename_all = "snake_case")]
pub enum Precondition {
    /// Nothing is there yet (a create): a resource someone made since the
    /// plan is never taken over, nor silently updated.
    Absent,
    /// The attribute reads as the plan read it (`before[attr]`; for an
    /// identity the plan keeps in `private`, such as a bucket's own tags,
    /// `private[attr]`): apply overwrites only what the plan showed.
    Unchanged {
        /// The attribute.
        attr: String,
    },
    /// It still carries baseline's mark (a delete).
    Ours,
    /// Nothing uses it but the users the plan deletes first
    /// (`private.users`), and what uses it can be read (a delete).
    UsersUnchanged,
}

impl fmt::Display for Precondition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Precondition::Absent => write!(f, "still absent"),
            Precondition::Unchanged { attr } => write!(f, "{attr} as the plan read it"),
            Precondition::Ours => write!(f, "still baseline's"),
            Precondition::UsersUnchanged => write!(f, "no new users"),
        }
    }
}

/// What a change waits for after it writes: AWS's own delays, bounded by
/// `--settle-timeout`. Shown in the plan ("then waits until ...") and in
/// apply's progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Wait {
    /// A delegated administrator designated moments ago can act for the
    /// organization.
    Delegation,
    /// The resource the administrator's designation makes (its detector,
    /// its hub) appears, to be marked rather than made twice.
    Designated,
    /// The standards enabled leave PENDING.
    StandardsReady,
    /// Central configuration is ENABLED.
    CentralConfiguration,
    /// Each member shows as covered by the administrator.
    Coverage,
    /// A policy or role written moments ago is in effect (the write is
    /// tried again while AWS says it is not).
    PolicyInEffect,
}

impl Wait {
    /// What it waits for, as in "waits until ...".
    pub fn until(&self) -> &'static str {
        match self {
            Wait::Delegation => "the delegation of the administrator is in effect",
            Wait::Designated => "the resource the designation enables appears",
            Wait::StandardsReady => "the standards are no longer PENDING",
            Wait::CentralConfiguration => "central configuration is ENABLED",
            Wait::Coverage => "each member shows as covered by the administrator",
            Wait::PolicyInEffect => "AWS puts into effect the policies written moments ago",
        }
    }
}

impl fmt::Display for Wait {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "then waits until {} (at most --settle-timeout)",
            self.until()
        )
    }
}

/// One per-resource change of a plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    /// Which resource.
    pub address: Address,
    /// What happens.
    pub action: Action,
    /// Security Hub / CIS controls the change clears.
    pub controls: Vec<String>,
    /// Observed state when the plan was made (`None`: absent).
    pub before: Option<Attrs>,
    /// State after the change (`None`: absent).
    pub after: Option<Attrs>,
    /// Attribute names whose value changes (for `update` and `manual`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changed: Vec<String>,
    /// Resources this one needs first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<Address>,
    /// What a person must do (a manual action): the provider's
    /// instructions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instructions: Option<String>,
    /// What the person reviewing the change should know, from the read
    /// (which buckets a setting makes private, a key's deletion window).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The baseline asks to change or delete it, but the safety rules hold
    /// it back (not baseline's, another tool's, still in use): nothing is
    /// done (a no-op), or only a person can (manual). Shown in the plan.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held: Option<Held>,
    /// What apply needs besides `after`, decided when planning (Terraform's
    /// private data of a change): identities read from AWS (a detector id,
    /// a key's ARN) and settings of the action itself (a key's deletion
    /// window). Apply reads them from here and never re-derives them.
    #[serde(default, skip_serializing_if = "Attrs::is_empty")]
    pub private: Attrs,
    /// Values of `private` known only after an earlier change of this
    /// plan runs (a key's ARN, a detector id): shown as such in the plan,
    /// handed over by the executor.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub known_after_apply: Vec<Reference>,
    /// What apply must find before it writes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub preconditions: Vec<Precondition>,
    /// What apply waits for after it writes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub waits: Vec<Wait>,
}

impl Change {
    /// The planned value of `attr` (what apply writes); `Null` when the
    /// change has none.
    pub fn planned(&self, attr: &str) -> &Value {
        static NULL: Value = Value::Null;
        self.after
            .as_ref()
            .and_then(|a| a.get(attr))
            .unwrap_or(&NULL)
    }

    /// What a person reads under the change, a line each: why it is held
    /// back (if it is), what to do (a manual action: the instructions, or
    /// for another tool's resource, to make it through that tool), then
    /// the read's note.
    pub fn explanation(&self) -> Vec<String> {
        let held = self.held.as_ref().map(|h| h.to_string());
        let through = match (&self.held, self.action) {
            (Some(Held::OtherTool { tool }), Action::Manual) => {
                Some(format!("make this change through {tool}"))
            }
            _ => None,
        };
        held.iter()
            .chain(self.instructions.iter())
            .chain(through.iter())
            .chain(self.note.iter())
            .flat_map(|r| r.lines().map(str::to_string))
            .collect()
    }

    /// Whether apply writes `attr`: every attribute of a create, the
    /// changed ones of an update.
    pub fn writes(&self, attr: &str) -> bool {
        self.action == Action::Create || self.changed.iter().any(|k| k == attr)
    }
}

/// The resources of one account-region already as the baseline wants
/// them, and not held back by a safety rule: counted by kind, with the
/// controls they clear, rather than kept one by one. A converged resource
/// costs a count, so a plan of ten thousand accounts in line stays small.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InLine {
    /// Account id.
    pub account: String,
    /// Region name.
    pub region: String,
    /// How many resources of each kind (`config.recorder`) are in line.
    /// Shared by every account-region with the same counts (a plan made
    /// by [`crate::make_plan`] keeps one copy of each).
    pub kinds: Arc<BTreeMap<Arc<str>, u32>>,
    /// The Security Hub / CIS controls they clear, sorted; shared too.
    pub controls: Arc<[Arc<str>]>,
}

impl InLine {
    /// How many resources are in line here.
    pub fn count(&self) -> usize {
        self.kinds.values().map(|n| *n as usize).sum()
    }
}

/// A target × service that could not be read; the rest of the plan stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanError {
    /// Account id.
    pub account: String,
    /// Region (empty for account-wide failures such as a role that cannot be assumed).
    pub region: String,
    /// Service (empty for account-wide failures).
    pub service: String,
    /// The error and its causes, outermost first.
    pub message: String,
    /// What kind of failure it is (throttled, denied, ...).
    #[serde(default)]
    pub kind: crate::error::ErrorKind,
}

impl fmt::Display for PlanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "account {}", self.account)?;
        if !self.region.is_empty() {
            write!(f, ", {}", self.region)?;
        }
        if !self.service.is_empty() {
            write!(f, ", {}", self.service)?;
        }
        write!(f, ": {}", self.message)
    }
}

/// The version of the saved / JSON plan format. "2": plans carry the
/// [`BaselineSource`] they were made from; "3": and when they were made;
/// "4": changes carry their planned values (policy documents, a bucket's
/// encryption) and `private` data, and apply works from them alone; "5":
/// services and the first part of kinds are the settings' section keys
/// (`ebs_encryption.by_default`, no longer `ec2.ebs_encryption_by_default`);
/// "6": resources already in line are counted in `in_line`, not listed in
/// `changes`; "9": changes carry the values known only after apply
/// (`known_after_apply`), their `preconditions` and their `waits`; "10":
/// a target carries its account's OU (`ou`).
pub const FORMAT_VERSION: &str = "10";

/// The baseline file a plan was made from: `apply PLANFILE` refuses the plan
/// unless that file is unchanged and the plan's embedded baseline is it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BaselineSource {
    /// The file as named when planning (relative to the directory then).
    pub file: String,
    /// SHA-256 of the file's bytes, lowercase hex.
    pub sha256: String,
}

/// A plan: everything `apply` will do, decided up front.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// [`FORMAT_VERSION`].
    pub format_version: String,
    /// Converge or tear down.
    pub mode: Mode,
    /// The baseline the plan was made from (re-read to check staleness).
    pub baseline: Baseline,
    /// The file of that baseline (set by whoever read the file).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<BaselineSource>,
    /// When the reads were made (UTC, RFC 3339; set by whoever planned).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    /// The services planned (after `--only`).
    pub services: Vec<String>,
    /// The accounts × regions planned (after `--accounts` / `--regions`).
    pub targets: Vec<Target>,
    /// Every resource looked at that apply changes, that only a person can
    /// change, or that a safety rule holds back; a plan made by
    /// [`crate::make_plan`] counts the others in [`Plan::in_line`].
    pub changes: Vec<Change>,
    /// The resources already as wanted, counted by account-region (in the
    /// order of `targets`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub in_line: Vec<InLine>,
    /// What could not be read.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<PlanError>,
    /// Information from the reads (one line each, prefixed with where).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Resources of the reads that failed: a change that depends on one of
    /// them is not applied.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unreadable: Vec<Address>,
    /// Kinds of the plan that are not an account's own settings (an
    /// organization's, an account's coverage by it), as the services say.
    #[serde(default, skip_serializing_if = "Scopes::is_empty")]
    pub scopes: Scopes,
    /// The baseline's exceptions, each with whether it is in force and
    /// what it covers in this plan.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exceptions: Vec<ExceptionUse>,
}

/// An exception of the baseline as this plan used it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExceptionUse {
    /// Its place in the baseline's `exceptions` (from 0).
    pub index: usize,
    /// Who decided it.
    pub owner: String,
    /// Why.
    pub reason: String,
    /// Its last day.
    pub expires: String,
    /// In force on the plan's day, or run out.
    pub state: ExceptionState,
    /// The changes of the plan it covers (excepted while in force; drift
    /// again, with a note, once run out).
    pub covers: usize,
}

/// Whether an exception holds on the plan's day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExceptionState {
    /// Through its `expires` day.
    InForce,
    /// Past it: what it covered is drift again.
    RunOut,
}

/// Which kinds of a plan are the organization's, and which say that an
/// account is covered by the organization ([`crate::Service::scopes`]):
/// the human plan shows the first under `organization · account · region`,
/// the report colours the second apart from settings in line.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scopes {
    /// Kinds run for the whole organization from one account.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub organization: Vec<String>,
    /// Kinds that say an account is covered by the organization.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub covered: Vec<String>,
}

impl Scopes {
    /// Neither kind of scope.
    pub fn is_empty(&self) -> bool {
        self.organization.is_empty() && self.covered.is_empty()
    }

    /// Whether `kind` is the organization's.
    pub fn is_organization(&self, kind: &str) -> bool {
        self.organization.iter().any(|k| k == kind)
    }

    /// Whether `kind` says an account is covered by the organization.
    pub fn is_covered(&self, kind: &str) -> bool {
        self.covered.iter().any(|k| k == kind)
    }
}

/// Counts of a plan's changes, as in the summary line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Creates.
    pub add: usize,
    /// Updates.
    pub change: usize,
    /// Deletes.
    pub destroy: usize,
    /// Manual actions.
    pub manual: usize,
    /// Resources already as wanted ([`Plan::in_line`]).
    pub in_line: usize,
}

impl Plan {
    /// Counts by action.
    pub fn summary(&self) -> Summary {
        let mut s = Summary::default();
        for c in &self.changes {
            match c.action {
                Action::Create => s.add += 1,
                Action::Update => s.change += 1,
                Action::Delete => s.destroy += 1,
                Action::Manual => s.manual += 1,
                Action::NoOp => {}
            }
        }
        s.in_line = self.in_line.iter().map(InLine::count).sum();
        s
    }

    /// Whether `apply` has anything to do.
    pub fn has_applicable_changes(&self) -> bool {
        self.changes.iter().any(|c| c.action.is_applied())
    }
}
