//! All checks of a baseline file, each reported at its `line:column`.
//!
//! Two passes, and each collects every error it finds:
//! 1. structure, against the JSON Schema that `schemars` derives from
//!    [`crate::model`] (unknown keys with "did you mean", wrong types, missing
//!    keys, values outside an enum);
//! 2. meaning, on the typed [`Baseline`]: account ids, regions, ARNs, bucket
//!    templates, and the rules that span sections.

use std::collections::HashSet;
use std::sync::OnceLock;

use jsonschema::ValidationError;
use jsonschema::error::{TypeKind, ValidationErrorKind};
use serde_json::Value;

use crate::error::Diagnostic;
use crate::model::*;
use crate::yaml::{Positions, escape};

/// Collects diagnostics for one file.
pub(crate) struct Report<'a> {
    file: &'a str,
    positions: &'a Positions,
    pub(crate) diagnostics: Vec<Diagnostic>,
    /// What is worth saying but refuses nothing.
    pub(crate) warnings: Vec<Diagnostic>,
}

impl<'a> Report<'a> {
    pub(crate) fn new(file: &'a str, positions: &'a Positions) -> Self {
        Report {
            file,
            positions,
            diagnostics: Vec::new(),
            warnings: Vec::new(),
        }
    }

    /// A warning about the value at `pointer`.
    fn warn_at_value(&mut self, pointer: &str, message: String, hint: Option<String>) {
        let pos = self.positions.value(pointer);
        self.warnings.push(Diagnostic {
            file: self.file.to_string(),
            line: pos.line,
            column: pos.column,
            path: key_path(pointer),
            message,
            hint,
        });
    }

    /// An error about the value at `pointer`.
    fn at_value(&mut self, pointer: &str, message: String, hint: Option<String>) {
        let pos = self.positions.value(pointer);
        self.push(pos, pointer, message, hint);
    }

    /// An error about the key at `pointer` (unknown keys, missing keys).
    fn at_key(&mut self, pointer: &str, message: String, hint: Option<String>) {
        let pos = self.positions.key_or_value(pointer);
        self.push(pos, pointer, message, hint);
    }

    fn push(&mut self, pos: crate::Pos, pointer: &str, message: String, hint: Option<String>) {
        self.diagnostics.push(Diagnostic {
            file: self.file.to_string(),
            line: pos.line,
            column: pos.column,
            path: key_path(pointer),
            message,
            hint,
        });
    }

    pub(crate) fn finish(mut self) -> Vec<Diagnostic> {
        self.diagnostics.sort_by_key(|a| (a.line, a.column));
        self.diagnostics.dedup();
        self.diagnostics
    }
}

/// `/accounts/0/id` → `accounts[0].id`.
pub fn key_path(pointer: &str) -> String {
    let mut out = String::new();
    for seg in pointer.split('/').skip(1) {
        let seg = seg.replace("~1", "/").replace("~0", "~");
        if !seg.is_empty() && seg.bytes().all(|b| b.is_ascii_digit()) {
            out.push_str(&format!("[{seg}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&seg);
        }
    }
    out
}

/// The schema, generated once per process (the validator compiles it; the
/// error messages walk it for allowed keys and descriptions).
fn schema() -> &'static Value {
    static S: OnceLock<Value> = OnceLock::new();
    S.get_or_init(crate::json_schema)
}

fn validator() -> &'static jsonschema::Validator {
    static V: OnceLock<jsonschema::Validator> = OnceLock::new();
    V.get_or_init(|| {
        jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .build(schema())
            .expect("the generated schema is a valid JSON Schema")
    })
}

/// Pass 1: the document against the JSON Schema.
pub(crate) fn structure(value: &Value, report: &mut Report<'_>) {
    for error in validator().iter_errors(value) {
        schema_error(schema(), value, &error, report);
    }
}

fn schema_error(
    schema: &Value,
    root: &Value,
    error: &ValidationError<'_>,
    report: &mut Report<'_>,
) {
    let pointer = error.instance_path().as_str().to_string();
    match error.kind() {
        ValidationErrorKind::AdditionalProperties { unexpected } => {
            let allowed = allowed_keys(schema, &pointer);
            for key in unexpected {
                let hint = suggest(key, allowed.iter().map(String::as_str))
                    .map(|s| format!("did you mean `{s}`?"))
                    .or_else(|| {
                        (!allowed.is_empty())
                            .then(|| format!("expected one of: {}", allowed.join(", ")))
                    });
                report.at_key(
                    &format!("{pointer}/{}", escape(key)),
                    format!("unknown key `{key}`"),
                    hint,
                );
            }
        }
        ValidationErrorKind::Required { property } => {
            let name = property.as_str().unwrap_or_default();
            report.at_key(&pointer, format!("missing key `{name}`"), None);
        }
        ValidationErrorKind::Type { kind } => {
            let expected = match kind {
                TypeKind::Single(t) => t.to_string(),
                TypeKind::Multiple(set) => set
                    .iter()
                    .map(|t| t.to_string())
                    .collect::<Vec<_>>()
                    .join(" or "),
            };
            let found = describe(root.pointer(&pointer).unwrap_or(&Value::Null));
            report.at_value(
                &pointer,
                format!("expected {}, found {found}", article(&expected)),
                None,
            );
        }
        ValidationErrorKind::Enum { options } => {
            let names: Vec<String> = options
                .as_array()
                .into_iter()
                .flatten()
                .map(|o| {
                    o.as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| o.to_string())
                })
                .collect();
            let got = root.pointer(&pointer).unwrap_or(&Value::Null);
            let hint = got
                .as_str()
                .and_then(|g| suggest(g, names.iter().map(String::as_str)))
                .map(|s| format!("did you mean `{s}`?"));
            report.at_value(
                &pointer,
                format!("`{}` is not one of: {}", plain(got), names.join(", ")),
                hint,
            );
        }
        ValidationErrorKind::AnyOf { .. }
        | ValidationErrorKind::OneOfNotValid { .. }
        | ValidationErrorKind::OneOfMultipleValid { .. } => {
            let sub = subschema(schema, &pointer);
            let got_value = root.pointer(&pointer).unwrap_or(&Value::Null);
            // An enum whose variants carry docs is a oneOf of constants:
            // list them, as for a plain enum.
            if let Some(names) = sub.and_then(|s| constants(schema, s)) {
                let hint = got_value
                    .as_str()
                    .and_then(|g| suggest(g, names.iter().map(String::as_str)))
                    .map(|s| format!("did you mean `{s}`?"));
                report.at_value(
                    &pointer,
                    format!("`{}` is not one of: {}", plain(got_value), names.join(", ")),
                    hint,
                );
                return;
            }
            let description = sub
                .and_then(|s| s.get("description"))
                .and_then(Value::as_str)
                .map(|d| d.trim_end_matches('.').to_string());
            let got = describe(root.pointer(&pointer).unwrap_or(&Value::Null));
            let message = match description {
                Some(d) => format!("expected {d}; found {got}"),
                None => format!("invalid value: {got}"),
            };
            report.at_value(&pointer, message, None);
        }
        _ => report.at_value(&pointer, error.to_string(), None),
    }
}

fn article(t: &str) -> String {
    match t {
        "object" => "a mapping".into(),
        "array" => "a list".into(),
        "integer" | "number" | "string" | "boolean" => {
            if t == "boolean" {
                "true or false".to_string()
            } else {
                format!("a {t}")
            }
        }
        other => other.to_string(),
    }
}

fn describe(v: &Value) -> String {
    match v {
        Value::Null => "nothing (null)".into(),
        Value::Bool(b) => format!("`{b}`"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(s) => format!("the text `{s}`"),
        Value::Array(_) => "a list".into(),
        Value::Object(_) => "a mapping".into(),
    }
}

fn plain(v: &Value) -> String {
    v.as_str()
        .map(str::to_string)
        .unwrap_or_else(|| v.to_string())
}

/// The closest candidate, if it is close enough to be a likely typo.
fn suggest<'c>(word: &str, candidates: impl Iterator<Item = &'c str>) -> Option<&'c str> {
    candidates
        .map(|c| (strsim::jaro_winkler(word, c), c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

/// Follows `$ref` to its definition.
fn resolve<'s>(root: &'s Value, mut s: &'s Value) -> &'s Value {
    while let Some(r) = s.get("$ref").and_then(Value::as_str) {
        let Some(target) = r.strip_prefix('#').and_then(|p| root.pointer(p)) else {
            break;
        };
        s = target;
    }
    s
}

/// The schema that describes the instance at `pointer`.
fn subschema<'s>(root: &'s Value, pointer: &str) -> Option<&'s Value> {
    let mut s = resolve(root, root);
    for seg in pointer.split('/').skip(1) {
        let seg = seg.replace("~1", "/").replace("~0", "~");
        s = step(root, s, &seg)?;
    }
    Some(s)
}

fn step<'s>(root: &'s Value, s: &'s Value, seg: &str) -> Option<&'s Value> {
    if let Some(p) = s.get("properties").and_then(|p| p.get(seg)) {
        return Some(resolve(root, p));
    }
    if let Some(items) = s.get("items")
        && seg.parse::<usize>().is_ok()
    {
        return Some(resolve(root, items));
    }
    for key in ["anyOf", "oneOf"] {
        for branch in s.get(key).and_then(Value::as_array).into_iter().flatten() {
            if let Some(found) = step(root, resolve(root, branch), seg) {
                return Some(found);
            }
        }
    }
    None
}

/// The string constants of a schema made only of `const`/`enum` branches.
fn constants(root: &Value, s: &Value) -> Option<Vec<String>> {
    let s = resolve(root, s);
    if let Some(c) = s.get("const").and_then(Value::as_str) {
        return Some(vec![c.to_string()]);
    }
    if let Some(e) = s.get("enum").and_then(Value::as_array) {
        return e.iter().map(|v| v.as_str().map(str::to_string)).collect();
    }
    let branches = s.get("oneOf").or_else(|| s.get("anyOf"))?.as_array()?;
    let mut out = Vec::new();
    for b in branches {
        out.extend(constants(root, b)?);
    }
    Some(out)
}

/// The keys the schema allows in the mapping at `pointer`.
fn allowed_keys(root: &Value, pointer: &str) -> Vec<String> {
    subschema(root, pointer)
        .and_then(|s| s.get("properties"))
        .and_then(Value::as_object)
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default()
}

/// Pass 2: what the values mean.
pub(crate) fn meaning(b: &Baseline, report: &mut Report<'_>) {
    if b.version != 1 {
        report.at_value(
            "/version",
            format!("unsupported version {}", b.version),
            Some("this baseline understands version 1".into()),
        );
    }
    match (&b.accounts, &b.organization) {
        (Accounts::List(list), _) if list.is_empty() => {
            report.at_value("/accounts", "at least one account is needed".into(), None);
        }
        (Accounts::List(_), Some(_)) => report.at_key(
            "/organization",
            "`organization` is only used with `accounts: organization`".into(),
            None,
        ),
        (Accounts::Organization(_), None) => report.at_value(
            "/accounts",
            "`accounts: organization` needs an `organization` section".into(),
            Some("organization: {role_name: OrganizationAccountAccessRole}".into()),
        ),
        (Accounts::Organization(_), Some(org)) => {
            let name = &org.role_name;
            if name.is_empty()
                || name.len() > 64
                || !name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c))
            {
                report.at_value(
                    "/organization/role_name",
                    format!("`{name}` is not an IAM role name"),
                    None,
                );
            }
            account_ids(
                report,
                "/organization/exclude",
                org.exclude.iter().flatten(),
            );
            if let Some(admin) = &org.delegated_admin {
                if !is_account_id(&admin.0) {
                    report.at_value(
                        "/organization/delegated_admin",
                        format!("`{admin}` is not a 12-digit account id"),
                        None,
                    );
                } else if org.exclude.iter().flatten().any(|x| x == admin) {
                    report.at_value(
                        "/organization/delegated_admin",
                        format!(
                            "the delegated administrator {} is also in `exclude`",
                            admin.0
                        ),
                        Some("an excluded account cannot administer the others".into()),
                    );
                }
            } else {
                for (key, given) in [
                    ("auto_enable", org.auto_enable.is_some()),
                    (
                        "securityhub_configuration",
                        org.securityhub_configuration.is_some(),
                    ),
                ] {
                    if given {
                        report.at_key(
                            &format!("/organization/{key}"),
                            format!("`{key}` is only used with `delegated_admin`"),
                            None,
                        );
                    }
                }
            }
            central_securityhub(b, org, report);
        }
        _ => {}
    }
    let mut seen = HashSet::new();
    for (i, a) in b.listed_accounts().iter().enumerate() {
        let p = format!("/accounts/{i}");
        if !is_account_id(&a.id.0) {
            report.at_value(
                &format!("{p}/id"),
                format!("`{}` is not a 12-digit account id", a.id),
                None,
            );
        } else if !seen.insert(a.id.0.clone()) {
            report.at_value(
                &format!("{p}/id"),
                format!("account {} is listed twice", a.id),
                None,
            );
        }
        if a.role_arn.is_some() && a.profile.is_some() {
            report.at_key(
                &format!("{p}/profile"),
                "give `role_arn` or `profile`, not both".into(),
                None,
            );
        }
        if let Some(arn) = &a.role_arn {
            if !is_role_arn(arn) {
                report.at_value(
                    &format!("{p}/role_arn"),
                    format!("`{arn}` is not an IAM role ARN"),
                    Some("like arn:aws:iam::123456789012:role/BaselineAdmin".into()),
                );
            } else if is_account_id(&a.id.0) && arn.split(':').nth(4) != Some(a.id.0.as_str()) {
                report.at_value(
                    &format!("{p}/role_arn"),
                    format!(
                        "the role is in account {}, not in {}",
                        arn.split(':').nth(4).unwrap_or(""),
                        a.id
                    ),
                    None,
                );
            }
        }
    }

    let mut region_list: Vec<&str> = Vec::new();
    if let Regions::List(list) = &b.regions {
        if list.is_empty() {
            report.at_value(
                "/regions",
                "no regions given".into(),
                Some("list at least one, or write `all`".into()),
            );
        }
        let mut seen = HashSet::new();
        for (i, r) in list.iter().enumerate() {
            if !is_region(r) {
                report.at_value(
                    &format!("/regions/{i}"),
                    format!("`{r}` is not a region name"),
                    Some("like ap-northeast-1".into()),
                );
            } else if !seen.insert(r.as_str()) {
                report.at_value(
                    &format!("/regions/{i}"),
                    format!("region {r} is listed twice"),
                    None,
                );
            }
            region_list.push(r);
        }
    }
    if !is_region(&b.home_region) {
        report.at_value(
            "/home_region",
            format!("`{}` is not a region name", b.home_region),
            Some("like ap-northeast-1".into()),
        );
    } else if matches!(b.regions, Regions::List(_))
        && !region_list.contains(&b.home_region.as_str())
    {
        report.at_value(
            "/home_region",
            format!("home region {} is not in `regions`", b.home_region),
            Some(
                "the home region holds the global resources and must be one of the managed regions"
                    .into(),
            ),
        );
    }

    if let Some(name) = &b.name
        && !is_baseline_name(name)
    {
        report.at_value(
            "/name",
            format!("`{name}` is not a baseline name"),
            Some("lowercase letters, digits and single hyphens, at most 20 characters: it goes into bucket names, a key alias and a tag".into()),
        );
    }
    section_values(&b.sections(), "", b.name.as_deref(), report);
    if let Some(sh) = &b.securityhub {
        let config_on = b.config.as_ref().is_some_and(|c| c.enabled);
        if sh.enabled && !config_on {
            let why = if b.config.is_some() {
                "`config.enabled` is false"
            } else {
                "there is no `config` section"
            };
            report.at_value(
                "/securityhub/enabled",
                format!("Security Hub needs AWS Config, but {why}"),
                Some("add `config: {enabled: true}` so its controls can be evaluated".into()),
            );
        }
    }
    // The accounts the baseline lists, which overrides and exceptions
    // may name.
    let listed: HashSet<&str> = b
        .listed_accounts()
        .iter()
        .map(|a| a.id.0.as_str())
        .collect();
    overrides(b, &listed, &region_list, report);
    exceptions(b, &listed, &region_list, report);
}

/// The day an exception's `expires` names, if it is one.
fn day(s: &str) -> Option<chrono::NaiveDate> {
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

/// Each exception names what it excuses (known settings, kinds of them,
/// or controls), valid accounts and regions, and a real day.
fn exceptions(b: &Baseline, listed: &HashSet<&str>, region_list: &[&str], report: &mut Report<'_>) {
    for (i, e) in b.exceptions.iter().flatten().enumerate() {
        let p = format!("/exceptions/{i}");
        let none = |l: &Option<Vec<String>>| l.as_ref().is_none_or(Vec::is_empty);
        if none(&e.settings) && none(&e.kinds) && none(&e.controls) {
            report.at_key(
                &p,
                "an exception must say what it excuses".into(),
                Some("give `settings` (section keys such as `config`), `kinds` (such as `config.recorder`) or `controls` (such as `Config.1`)".into()),
            );
        }
        for (j, s) in e.settings.iter().flatten().enumerate() {
            if !SECTIONS.contains(&s.as_str()) {
                report.at_value(
                    &format!("{p}/settings/{j}"),
                    format!("`{s}` is not a setting"),
                    suggest(s, SECTIONS.iter().copied()).map(|m| format!("did you mean `{m}`?")),
                );
            }
        }
        for (j, k) in e.kinds.iter().flatten().enumerate() {
            let (section, rest) = k.split_once('.').unwrap_or((k, ""));
            if !SECTIONS.contains(&section) || rest.is_empty() {
                report.at_value(
                    &format!("{p}/kinds/{j}"),
                    format!("`{k}` is not a kind of resource"),
                    Some("a setting's section key, a dot, and the resource, as the plan names it: `config.recorder`".into()),
                );
            }
        }
        places(b, &p, e.scope(), listed, region_list, report);
        for (key, text) in [("reason", &e.reason), ("owner", &e.owner)] {
            if text.trim().is_empty() {
                report.at_value(
                    &format!("{p}/{key}"),
                    format!("an exception's `{key}` cannot be empty"),
                    Some("an auditor reads who decided it and why".into()),
                );
            }
        }
        if day(&e.expires).is_none() {
            report.at_value(
                &format!("{p}/expires"),
                format!("`{}` is not a day", e.expires),
                Some("`YYYY-MM-DD`, the last day the exception holds".into()),
            );
        }
    }
}

/// The exceptions' days against `today`: one ending in the past is a
/// warning (it excuses nothing: its drift is drift again); one ending more
/// than a year ahead is refused unless `allow_long`.
pub(crate) fn exception_days(b: &Baseline, today: &str, allow_long: bool, report: &mut Report<'_>) {
    let Some(today) = day(today) else { return };
    let year_ahead = today
        .checked_add_months(chrono::Months::new(12))
        .unwrap_or(today);
    for (i, e) in b.exceptions.iter().flatten().enumerate() {
        let Some(end) = day(&e.expires) else { continue };
        let p = format!("/exceptions/{i}/expires");
        if end < today {
            report.warn_at_value(
                &p,
                format!(
                    "the exception of {} ended on {}: what it excused is drift again",
                    e.owner, e.expires
                ),
                Some("renew it with a new `expires`, or remove it".into()),
            );
        } else if end > year_ahead && !allow_long {
            report.at_value(
                &p,
                format!(
                    "the exception of {} ends on {}, more than a year ahead",
                    e.owner, e.expires
                ),
                Some("an exception is reviewed at least yearly: end it sooner, or pass `--allow-long-exceptions`".into()),
            );
        }
    }
}

/// Every check of a section's own values, for the base (`at` empty) and
/// for each override that gives the section (`at` = `/overrides/N`): an
/// override is refused here, with its place, not at apply.
fn section_values(s: &SectionRefs<'_>, at: &str, name: Option<&str>, report: &mut Report<'_>) {
    if let Some(p) = s.iam.and_then(|i| i.password_policy.as_ref()) {
        // UpdateAccountPasswordPolicy's limits (IAM API Reference).
        for (key, value, range) in [
            ("minimum_length", p.minimum_length, 6..=128),
            ("max_age_days", p.max_age_days, 1..=1095),
            ("reuse_prevention", p.reuse_prevention, 1..=24),
        ] {
            if let Some(v) = value
                && !range.contains(&v)
            {
                report.at_value(
                    &format!("{at}/iam/password_policy/{key}"),
                    format!("{v} is outside what IAM allows"),
                    Some(format!("{} to {}", range.start(), range.end())),
                );
            }
        }
    }
    if let Some(hops) = s
        .instance_metadata_defaults
        .and_then(|m| m.http_put_response_hop_limit)
        && hops != -1
        && !(1..=64).contains(&hops)
    {
        // ModifyInstanceMetadataDefaults' limits (EC2 API Reference).
        report.at_value(
            &format!("{at}/instance_metadata_defaults/http_put_response_hop_limit"),
            format!("{hops} is outside what EC2 allows"),
            Some("1 to 64, or -1 for no preference".into()),
        );
    }
    if let Some(c) = s.config {
        bucket_template(
            report,
            &format!("{at}/config/bucket"),
            &c.bucket_template(name),
        );
    }
    if let Some(t) = s.cloudtrail {
        bucket_template(
            report,
            &format!("{at}/cloudtrail/bucket"),
            &t.bucket_template(name),
        );
        if let Some(name) = &t.name
            && !is_trail_name(name)
        {
            report.at_value(
                    &format!("{at}/cloudtrail/name"),
                    format!("`{name}` is not a valid trail name"),
                    Some("3-128 letters, digits, `.`, `_` or `-`, starting and ending with a letter or digit".into()),
                );
        }
        if let Some(kms) = &t.kms
            && kms != "none"
            && kms != "create"
            && !is_kms_key_arn(kms)
        {
            report.at_value(
                    &format!("{at}/cloudtrail/kms"),
                    format!("`{kms}` is neither `none`, `create` nor a KMS key ARN"),
                    Some("like arn:aws:kms:ap-northeast-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab".into()),
                );
        }
    }
    if let Some(days) = s.cloudtrail.and_then(|t| t.kms_deletion_window_days)
        && !(7..=30).contains(&days)
    {
        report.at_value(
            &format!("{at}/cloudtrail/kms_deletion_window_days"),
            format!("{days} days is outside what KMS allows"),
            Some("7 to 30 days".into()),
        );
    }
    if let Some(e) = s.ebs_encryption
        && let Some(k) = &e.kms_key
        && k != "aws-managed"
        && !is_kms_key_arn(k)
    {
        report.at_value(
            &format!("{at}/ebs_encryption/kms_key"),
            format!("`{k}` is neither `aws-managed` nor a KMS key ARN"),
            None,
        );
    }
    if let Some(c) = s.alternate_contacts {
        for (kind, contact) in [
            ("billing", &c.billing),
            ("operations", &c.operations),
            ("security", &c.security),
        ] {
            let Some(contact) = contact else { continue };
            // AWS Account API's limits (its service model: Name 1-64,
            // Title 1-50, PhoneNumber 1-25 of `[\s0-9()+-]`, EmailAddress
            // 1-254 of its pattern): anything else fails only at apply.
            let at = format!("{at}/alternate_contacts/{kind}");
            if !is_email(&contact.email) {
                report.at_value(
                    &format!("{at}/email"),
                    format!("`{}` is not an e-mail address", contact.email),
                    None,
                );
            }
            for (field, value, max) in [
                ("name", &contact.name, 64),
                ("title", &contact.title, 50),
                ("phone", &contact.phone, 25),
            ] {
                let n = value.chars().count();
                if n == 0 || n > max {
                    report.at_value(
                        &format!("{at}/{field}"),
                        format!("`{value}` is {n} characters long: AWS takes 1 to {max}"),
                        None,
                    );
                }
            }
            if let Some(bad) = contact
                .phone
                .chars()
                .find(|c| !(c.is_whitespace() || c.is_ascii_digit() || "()+-".contains(*c)))
            {
                report.at_value(
                    &format!("{at}/phone"),
                    format!(
                        "`{}` has `{bad}`: AWS takes digits, spaces and ( ) + - only (write an extension elsewhere, e.g. in the title)",
                        contact.phone
                    ),
                    None,
                );
            }
        }
    }
    if let Some(a) = s.access_analyzer
        && let Some(name) = &a.name
        && (name.is_empty()
            || name.len() > 255
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)))
    {
        report.at_value(
            &format!("{at}/access_analyzer/name"),
            format!("`{name}` is not a valid analyzer name"),
            None,
        );
    }
    if let Some(sh) = s.securityhub {
        let mut seen = HashSet::new();
        for (i, st) in sh.standards.iter().flatten().enumerate() {
            if !seen.insert(*st) {
                report.at_value(
                    &format!("{at}/securityhub/standards/{i}"),
                    format!("standard `{}` is listed twice", st.key()),
                    None,
                );
            }
        }
    }
    if let Some(GuardDutyFeatures::List(list)) = s.guardduty.and_then(|g| g.features.as_ref()) {
        let mut seen = HashSet::new();
        for (i, f) in list.iter().enumerate() {
            if !seen.insert(*f) {
                report.at_value(
                    &format!("{at}/guardduty/features/{i}"),
                    "feature listed twice".into(),
                    None,
                );
            }
        }
    }
}

/// The accounts, OUs and regions an override or an exception (at `p`)
/// names: no empty list; account ids, among the baseline's listed
/// accounts (`listed`) when it lists them; OU ids or paths, with
/// `accounts: organization` (whether they exist is known only once the
/// organization is read); region names, among its regions
/// (`region_list`) when it lists them.
fn places(
    b: &Baseline,
    p: &str,
    scope: Scope<'_>,
    listed: &HashSet<&str>,
    region_list: &[&str],
    report: &mut Report<'_>,
) {
    let Scope {
        accounts,
        ous,
        regions,
    } = scope;
    for (key, empty) in [
        ("accounts", accounts.as_ref().is_some_and(Vec::is_empty)),
        ("ous", ous.as_ref().is_some_and(Vec::is_empty)),
        ("regions", regions.as_ref().is_some_and(Vec::is_empty)),
    ] {
        if empty {
            report.at_value(
                &format!("{p}/{key}"),
                format!("an empty `{key}` list matches nothing"),
                Some(format!("leave `{key}` out to mean all")),
            );
        }
    }
    if ous.is_some() && matches!(b.accounts, Accounts::List(_)) {
        report.at_key(
            &format!("{p}/ous"),
            "`ous` needs `accounts: organization`: the OUs are read from the organization".into(),
            Some("name the accounts under `accounts` instead".into()),
        );
    }
    for (j, ou) in ous.iter().flatten().enumerate() {
        if let Some(problem) = ou_problem(ou) {
            report.at_value(
                &format!("{p}/ous/{j}"),
                problem,
                Some(
                    "an OU's path from the root, such as `Workloads/Prod`, or its id (`ou-…`)"
                        .into(),
                ),
            );
        }
    }
    account_ids(report, &format!("{p}/accounts"), accounts.iter().flatten());
    for (j, id) in accounts.iter().flatten().enumerate() {
        if matches!(b.accounts, Accounts::List(_))
            && is_account_id(&id.0)
            && !listed.contains(id.0.as_str())
        {
            report.at_value(
                &format!("{p}/accounts/{j}"),
                format!("account {id} is not in `accounts`"),
                None,
            );
        }
    }
    for (j, r) in regions.iter().flatten().enumerate() {
        if !is_region(r) {
            report.at_value(
                &format!("{p}/regions/{j}"),
                format!("`{r}` is not a region name"),
                None,
            );
        } else if !region_list.is_empty() && !region_list.contains(&r.as_str()) {
            report.at_value(
                &format!("{p}/regions/{j}"),
                format!("region {r} is not in `regions`"),
                None,
            );
        }
    }
}

fn account_ids<'a>(
    report: &mut Report<'_>,
    pointer: &str,
    ids: impl Iterator<Item = &'a AccountId>,
) {
    for (i, id) in ids.enumerate() {
        if !is_account_id(&id.0) {
            report.at_value(
                &format!("{pointer}/{i}"),
                format!("`{id}` is not a 12-digit account id"),
                None,
            );
        }
    }
}

/// Security Hub's central configuration: one policy, associated with the
/// root, carries the baseline's standards to every account, the ones
/// that join later included.
fn central_securityhub(b: &Baseline, org: &OrganizationSpec, report: &mut Report<'_>) {
    let Some(hub) = b.securityhub.as_ref().filter(|h| h.enabled) else {
        return;
    };
    if !org.securityhub_central() {
        return;
    }
    let local = Some("or `organization.securityhub_configuration: local`".to_string());
    if !org.auto_enables() {
        report.at_value(
            "/organization/auto_enable",
            "Security Hub's central configuration associates its policy with the organization's root, which covers every account that joins: it needs `auto_enable: true`".into(),
            local.clone(),
        );
    }
    if hub.standards.is_none() {
        report.at_key(
            "/securityhub",
            "with Security Hub's central configuration, the organization's policy carries the standards: list them in `securityhub.standards`".into(),
            local.clone(),
        );
    }
    for (i, o) in b.overrides.iter().flatten().enumerate() {
        if o.securityhub.is_some() {
            report.at_key(
                &format!("/overrides/{i}/securityhub"),
                "with Security Hub's central configuration, one policy covers the whole organization: an override cannot set Security Hub for some accounts or regions".into(),
                Some("`organization.securityhub_configuration: local` keeps the standards per account".into()),
            );
        }
    }
}

fn overrides(b: &Baseline, listed: &HashSet<&str>, region_list: &[&str], report: &mut Report<'_>) {
    let delegated = b.organization.as_ref().and_then(|o| o.admin()).is_some();
    // The baseline's sections alone (no accounts, no overrides): each
    // override is laid over a copy of this, so that validating N
    // overrides costs N small copies, not N copies of the whole file.
    let sections_only = Baseline {
        accounts: Accounts::List(Vec::new()),
        overrides: None,
        ..b.clone()
    };
    for (i, o) in b.overrides.iter().flatten().enumerate() {
        let p = format!("/overrides/{i}");
        // Through a delegated administrator, GuardDuty (its protection
        // plans too) and Security Hub cover the whole organization.
        if delegated {
            for (key, off) in [
                (
                    "guardduty/enabled",
                    o.guardduty.as_ref().is_some_and(|g| !g.enabled),
                ),
                (
                    "securityhub/enabled",
                    o.securityhub.as_ref().is_some_and(|h| !h.enabled),
                ),
            ] {
                if off {
                    report.at_value(
                        &format!("{p}/{key}"),
                        "with `organization.delegated_admin`, the administrator covers every account of the organization: an override cannot turn it off for some".into(),
                        Some("leave an account out with `organization.exclude`".into()),
                    );
                }
            }
        }
        places(b, &p, o.scope(), listed, region_list, report);
        let given = o.sections().given();
        if given.is_empty() {
            report.at_key(&p, "this override changes no section".into(), None);
        }
        if o.regions.is_some() {
            for section in &given {
                if !crate::model::is_regional(section) {
                    report.at_key(
                        &format!("{p}/{section}"),
                        format!("`{section}` is account-wide (it lives in the home region) and cannot be overridden per region"),
                        Some("drop `regions` from this override, or move the section to an override by account".into()),
                    );
                }
            }
            if o.config.as_ref().is_some_and(|c| c.bucket.is_some()) {
                report.at_key(
                    &format!("{p}/config/bucket"),
                    "the Config bucket is account-wide and cannot be overridden per region".into(),
                    None,
                );
            }
        }
        // Security Hub needs Config wherever this override applies.
        let scope_account = o
            .accounts
            .as_ref()
            .and_then(|a| a.first())
            .map(|a| a.0.clone());
        let scope_region = o.regions.as_ref().and_then(|r| r.first()).cloned();
        let only_this = Baseline {
            overrides: Some(vec![Override {
                accounts: None,
                ous: None,
                regions: None,
                ..o.clone()
            }]),
            ..sections_only.clone()
        };
        let merged = only_this.for_target(crate::Place::new(
            scope_account.as_deref().unwrap_or("000000000000"),
            scope_region.as_deref().unwrap_or(&b.home_region),
        ));
        let sh_on = merged.securityhub.as_ref().is_some_and(|s| s.enabled);
        let config_on = merged.config.as_ref().is_some_and(|c| c.enabled);
        if sh_on && !config_on && (o.securityhub.is_some() || o.config.is_some()) {
            let at = if o.config.is_some() {
                "config/enabled"
            } else {
                "securityhub/enabled"
            };
            report.at_value(
                &format!("{p}/{at}"),
                "here Security Hub would be on while AWS Config is off; Security Hub needs Config"
                    .into(),
                Some("turn Security Hub off in the same override".into()),
            );
        }
        section_values(&o.sections(), &p, b.name.as_deref(), report);
    }
}

fn bucket_template(report: &mut Report<'_>, pointer: &str, template: &str) {
    // Unknown placeholders first: they would otherwise read as bad characters.
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}') else {
            break;
        };
        let name = &rest[open + 1..open + close];
        if name != "account_id" && name != "region" {
            report.at_value(
                pointer,
                format!("unknown placeholder `{{{name}}}` in bucket name"),
                Some("the placeholders are {account_id} and {region}".into()),
            );
            return;
        }
        rest = &rest[open + close + 1..];
    }
    // Check the longest name the template can render to.
    let sample = render_bucket(template, "123456789012", "ap-southeast-5");
    if let Err(why) = check_bucket_name(&sample) {
        report.at_value(
            pointer,
            format!("`{template}` does not make a valid S3 bucket name: {why}"),
            None,
        );
    }
}

/// S3 bucket naming rules (general purpose buckets).
pub fn check_bucket_name(name: &str) -> Result<(), &'static str> {
    if name.len() < 3 || name.len() > 63 {
        return Err("it must be 3 to 63 characters long");
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
    {
        return Err("only lowercase letters, digits, `.` and `-` are allowed");
    }
    let first = name.as_bytes()[0];
    let last = name.as_bytes()[name.len() - 1];
    if !first.is_ascii_alphanumeric() || !last.is_ascii_alphanumeric() {
        return Err("it must start and end with a letter or digit");
    }
    if name.contains("..") {
        return Err("it must not contain two adjacent periods");
    }
    if name.starts_with("xn--") || name.ends_with("-s3alias") {
        return Err("that prefix or suffix is reserved by S3");
    }
    Ok(())
}

/// 12 ASCII digits.
pub fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// An OU id as Organizations writes it (`ou-` and two lowercase
/// alphanumeric parts; Organizations API Reference,
/// OrganizationalUnit.Id: `^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$`).
pub fn is_ou_id(s: &str) -> bool {
    let Some(rest) = s.strip_prefix("ou-") else {
        return false;
    };
    let Some((a, b)) = rest.split_once('-') else {
        return false;
    };
    let part = |p: &str, min: usize| {
        (min..=32).contains(&p.len())
            && p.bytes()
                .all(|c| c.is_ascii_digit() || c.is_ascii_lowercase())
    };
    part(a, 4) && part(b, 8)
}

/// What is wrong with an `ous` entry that is neither an OU id nor a path
/// of OU names (each 1 to 128 characters; Organizations API Reference,
/// OrganizationalUnit.Name).
fn ou_problem(entry: &str) -> Option<String> {
    if is_ou_id(entry) {
        return None;
    }
    // A root id (`^r-[0-9a-z]{4,32}$`, OrganizationalUnit.ParentId).
    if let Some(rest) = entry.strip_prefix("r-")
        && (4..=32).contains(&rest.len())
        && rest
            .bytes()
            .all(|c| c.is_ascii_digit() || c.is_ascii_lowercase())
    {
        return Some(format!(
            "`{entry}` is the organization's root, which holds every account: leave `ous` out to mean all"
        ));
    }
    if entry.split('/').any(|name| name.trim().is_empty()) {
        return Some(format!("`{entry}` has an empty OU name in its path"));
    }
    if entry.split('/').any(|name| name.chars().count() > 128) {
        return Some(format!(
            "`{entry}` has an OU name longer than 128 characters"
        ));
    }
    None
}

/// `xx-name-N`, with the partitions' variants (`us-gov-west-1`, `cn-north-1`, ...).
pub fn is_region(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() >= 3
        && parts[0].len() == 2
        && parts[0].bytes().all(|b| b.is_ascii_lowercase())
        && parts[1..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
        && parts[parts.len() - 1].parse::<u8>().is_ok()
}

fn is_partition(s: &str) -> bool {
    matches!(
        s,
        "aws"
            | "aws-cn"
            | "aws-us-gov"
            | "aws-iso"
            | "aws-iso-b"
            | "aws-iso-e"
            | "aws-iso-f"
            | "aws-eusc"
    )
}

fn is_role_arn(s: &str) -> bool {
    let p: Vec<&str> = s.splitn(6, ':').collect();
    p.len() == 6
        && p[0] == "arn"
        && is_partition(p[1])
        && p[2] == "iam"
        && p[3].is_empty()
        && is_account_id(p[4])
        && p[5].strip_prefix("role/").is_some_and(|n| !n.is_empty())
}

/// `arn:PARTITION:kms:REGION:ACCOUNT:key/ID` (an alias ARN is not a key ARN:
/// the services that take it here want the key itself).
pub fn is_kms_key_arn(s: &str) -> bool {
    let p: Vec<&str> = s.splitn(6, ':').collect();
    p.len() == 6
        && p[0] == "arn"
        && is_partition(p[1])
        && p[2] == "kms"
        && is_region(p[3])
        && is_account_id(p[4])
        && p[5].strip_prefix("key/").is_some_and(|id| {
            !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// `^[a-z0-9]+(-[a-z0-9]+)*$`, at most 20 characters.
fn is_baseline_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 20
        && s.split('-').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
}

fn is_trail_name(s: &str) -> bool {
    (3..=128).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
        && s.as_bytes()[0].is_ascii_alphanumeric()
        && s.as_bytes()[s.len() - 1].is_ascii_alphanumeric()
}

/// An address AWS's Account API takes: its model's pattern
/// `[\s]*[\w+=.#|!&-]+@[\w.-]+\.[\w]+[\s]*`, 1 to 254 characters.
fn is_email(s: &str) -> bool {
    // `\w` read as ASCII (the stricter reading of the model's pattern).
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let Some((local, domain)) = s.trim().split_once('@') else {
        return false;
    };
    let Some((host, top)) = domain.rsplit_once('.') else {
        return false;
    };
    s.chars().count() <= 254
        && !local.is_empty()
        && local.chars().all(|c| word(c) || "+=.#|!&-".contains(c))
        && !host.is_empty()
        && host.chars().all(|c| word(c) || ".-".contains(c))
        && !top.is_empty()
        && top.chars().all(word)
}
