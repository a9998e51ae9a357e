//! Policy documents diffed as documents: which statements a change adds,
//! removes and changes, so that a reviewer sees the grant, not two pages
//! of JSON. Used by every rendering (text, Markdown, HTML, JSON).

use serde::Serialize;
use serde_json::Value;

/// One statement of a policy document that a change adds, removes or
/// changes. Statements are matched by `Sid`; one without a `Sid` only by
/// being the same statement.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum StatementChange {
    /// In the planned document only.
    Added {
        /// Its `Sid`, or `#n` (its place in the document) without one.
        statement: String,
        /// The statement.
        after: Value,
    },
    /// In the current document only.
    Removed {
        /// Its `Sid`, or `#n` without one.
        statement: String,
        /// The statement.
        before: Value,
    },
    /// Same `Sid`, other content.
    Changed {
        /// Its `Sid`.
        statement: String,
        /// As it is.
        before: Value,
        /// As planned.
        after: Value,
    },
}

/// Whether `v` is a policy document (an object with `Statement`).
pub fn is_policy(v: &Value) -> bool {
    v.get("Statement").is_some()
}

fn statements(v: &Value) -> Vec<Value> {
    match v.get("Statement") {
        Some(Value::Array(a)) => a.clone(),
        Some(Value::Null) | None => Vec::new(),
        Some(one) => vec![one.clone()],
    }
}

fn label(s: &Value, i: usize) -> String {
    match s.get("Sid").and_then(Value::as_str) {
        Some(sid) if !sid.is_empty() => sid.to_string(),
        _ => format!("#{}", i + 1),
    }
}

/// The statements `after` adds to, removes from and changes in `before`,
/// when at least one of them is a policy document (the other may be
/// absent: `Null`). `None`: not policy documents.
pub fn statement_changes(before: &Value, after: &Value) -> Option<Vec<StatementChange>> {
    let policy_or_none = |v: &Value| v.is_null() || is_policy(v);
    if !(is_policy(before) || is_policy(after)) || !policy_or_none(before) || !policy_or_none(after)
    {
        return None;
    }
    let (old, new) = (statements(before), statements(after));
    let sid = |s: &Value| s.get("Sid").and_then(Value::as_str).map(str::to_string);
    let mut out = Vec::new();
    for (i, o) in old.iter().enumerate() {
        if new.contains(o) {
            continue;
        }
        match sid(o).and_then(|id| new.iter().find(|n| sid(n).as_deref() == Some(&id))) {
            Some(n) => out.push(StatementChange::Changed {
                statement: label(o, i),
                before: o.clone(),
                after: n.clone(),
            }),
            None => out.push(StatementChange::Removed {
                statement: label(o, i),
                before: o.clone(),
            }),
        }
    }
    for (i, n) in new.iter().enumerate() {
        let matched = old.contains(n)
            || sid(n).is_some_and(|id| old.iter().any(|o| sid(o).as_deref() == Some(&id)));
        if !matched {
            out.push(StatementChange::Added {
                statement: label(n, i),
                after: n.clone(),
            });
        }
    }
    Some(out)
}

/// A statement as shown: without its `Sid`, which is its name.
fn body(s: &Value) -> Value {
    let mut s = s.clone();
    if let Some(o) = s.as_object_mut() {
        // In the statement's own order.
        o.shift_remove("Sid");
    }
    s
}

/// What changed in a statement, for a person: the lines of its
/// pretty-printed JSON that differ (`-` before, `+` after), with one line
/// of context around each (` `), by `similar`'s line diff.
pub fn statement_diff(before: &Value, after: &Value) -> Vec<(char, String)> {
    let pretty = |v: &Value| serde_json::to_string_pretty(&body(v)).unwrap_or_default();
    let (before, after) = (pretty(before), pretty(after));
    let diff = similar::TextDiff::from_lines(&before, &after);
    let mut out = Vec::new();
    for group in diff.grouped_ops(1) {
        for op in group {
            for change in diff.iter_changes(&op) {
                let sign = match change.tag() {
                    similar::ChangeTag::Delete => '-',
                    similar::ChangeTag::Insert => '+',
                    similar::ChangeTag::Equal => ' ',
                };
                out.push((sign, change.value().trim_end_matches('\n').to_string()));
            }
        }
    }
    out
}

/// One line of a statement change for a person: a sign (`+`, `-`, `~`),
/// the statement's name, and the statement (before -> after for a change;
/// [`statement_diff`] shows what changed in it line by line).
/// The `Sid` is the name, so it is not repeated in the statement shown.
pub fn statement_line(c: &StatementChange) -> (char, String, String) {
    let body = |s: &Value| body(s).to_string();
    match c {
        StatementChange::Added { statement, after } => ('+', statement.clone(), body(after)),
        StatementChange::Removed { statement, before } => ('-', statement.clone(), body(before)),
        StatementChange::Changed {
            statement,
            before,
            after,
        } => (
            '~',
            statement.clone(),
            format!("{} -> {}", body(before), body(after)),
        ),
    }
}

/// A short account of a document change: `2 statements added, 1 changed`.
pub fn summary(changes: &[StatementChange]) -> String {
    let count = |f: fn(&StatementChange) -> bool| changes.iter().filter(|c| f(c)).count();
    let parts: Vec<String> = [
        (
            count(|c| matches!(c, StatementChange::Added { .. })),
            "added",
        ),
        (
            count(|c| matches!(c, StatementChange::Changed { .. })),
            "changed",
        ),
        (
            count(|c| matches!(c, StatementChange::Removed { .. })),
            "removed",
        ),
    ]
    .into_iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, what)| format!("{n} statement{} {what}", if n == 1 { "" } else { "s" }))
    .collect();
    if parts.is_empty() {
        "statements unchanged (the document's other fields change)".into()
    } else {
        format!("policy document: {}", parts.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn statements_are_matched_by_sid_and_other_statements_stay_out_of_the_diff() {
        let before = json!({"Version": "2012-10-17", "Statement": [
            {"Sid": "Team", "Effect": "Allow", "Action": "s3:GetObject"},
            {"Sid": "Old", "Effect": "Allow", "Action": "s3:PutObject"},
            {"Effect": "Deny", "Action": "s3:DeleteBucket"}
        ]});
        let after = json!({"Version": "2012-10-17", "Statement": [
            {"Sid": "Team", "Effect": "Allow", "Action": "s3:GetObject"},
            {"Sid": "Old", "Effect": "Allow", "Action": "s3:ListBucket"},
            {"Effect": "Deny", "Action": "s3:DeleteBucket"},
            {"Sid": "New", "Effect": "Allow", "Action": "s3:GetBucketAcl"}
        ]});
        let changes = statement_changes(&before, &after).unwrap();
        let signs: Vec<(char, String)> = changes
            .iter()
            .map(statement_line)
            .map(|(s, n, _)| (s, n))
            .collect();
        assert_eq!(signs, [('~', "Old".into()), ('+', "New".into())]);
        assert_eq!(
            summary(&changes),
            "policy document: 1 statement added, 1 statement changed"
        );
        assert_eq!(
            statement_changes(&Value::Null, &after).map(|c| c.len()),
            Some(4),
            "a new document adds every statement"
        );
        assert_eq!(statement_changes(&json!(true), &json!(false)), None);
        // A changed statement is shown as the lines that changed.
        let diff = statement_diff(
            &json!({"Sid": "Old", "Effect": "Allow", "Action": "s3:PutObject", "Resource": "*"}),
            &json!({"Sid": "Old", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"}),
        );
        assert_eq!(
            diff,
            [
                (' ', "  \"Effect\": \"Allow\",".to_string()),
                ('-', "  \"Action\": \"s3:PutObject\",".to_string()),
                ('+', "  \"Action\": \"s3:ListBucket\",".to_string()),
                (' ', "  \"Resource\": \"*\"".to_string()),
            ]
        );
    }
}
