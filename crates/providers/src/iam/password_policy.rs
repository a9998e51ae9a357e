//! The account's IAM password policy (Security Hub IAM.7, IAM.11 to
//! IAM.17; CIS 1.8, 1.9): one per account, planned in the home region as
//! `iam.password_policy["account"]`.
//!
//! AWS keeps one policy per account, and UpdateAccountPasswordPolicy
//! replaces it whole: a parameter not sent takes its default (IAM API
//! Reference). So apply reads the policy again and sends every field: the
//! baseline's, and the current value of each field the baseline does not
//! give. Destroy leaves it (it costs nothing).

use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use baseline_engine::{
    Address, Attrs, Change, Desired, Observed, Ownership, ServiceError, Target, Want,
};
use baseline_spec::PasswordPolicySpec;
use serde_json::{Value, json};

use crate::error::Ctx;

pub(super) const KIND: &str = "iam.password_policy";

/// The controls a policy clears, each with what it asks (Security Hub's
/// default parameters; CIS 1.8 and 1.9 are IAM.15 and IAM.16).
fn controls_met(p: &PasswordPolicySpec) -> Vec<String> {
    let yes = |v: Option<bool>| v == Some(true);
    let strong = yes(p.require_uppercase)
        && yes(p.require_lowercase)
        && yes(p.require_symbols)
        && yes(p.require_numbers)
        && p.minimum_length.is_some_and(|n| n >= 8);
    [
        ("IAM.7", strong),
        ("IAM.11", yes(p.require_uppercase)),
        ("IAM.12", yes(p.require_lowercase)),
        ("IAM.13", yes(p.require_symbols)),
        ("IAM.14", yes(p.require_numbers)),
        ("IAM.15", p.minimum_length.is_some_and(|n| n >= 14)),
        ("IAM.16", p.reuse_prevention.is_some_and(|n| n >= 24)),
        ("IAM.17", p.max_age_days.is_some_and(|n| n <= 90)),
    ]
    .into_iter()
    .filter(|(_, met)| *met)
    .map(|(c, _)| c.to_string())
    .collect()
}

/// The policy's fields by the baseline's names, in the baseline's order:
/// those given, and with `absent` the others as null.
pub fn fields(p: &PasswordPolicySpec, absent: bool) -> Attrs {
    let all = [
        ("minimum_length", p.minimum_length.map(|v| json!(v))),
        ("require_uppercase", p.require_uppercase.map(|v| json!(v))),
        ("require_lowercase", p.require_lowercase.map(|v| json!(v))),
        ("require_symbols", p.require_symbols.map(|v| json!(v))),
        ("require_numbers", p.require_numbers.map(|v| json!(v))),
        ("max_age_days", p.max_age_days.map(|v| json!(v))),
        ("reuse_prevention", p.reuse_prevention.map(|v| json!(v))),
        (
            "allow_users_to_change",
            p.allow_users_to_change.map(|v| json!(v)),
        ),
        ("hard_expiry", p.hard_expiry.map(|v| json!(v))),
    ];
    all.into_iter()
        .filter(|(_, v)| absent || v.is_some())
        .map(|(k, v)| (k.to_string(), v.unwrap_or(Value::Null)))
        .collect()
}

/// The fields the baseline gives, by the baseline's names.
fn wanted(p: &PasswordPolicySpec) -> Attrs {
    fields(p, false)
}

/// An account's policy as the baseline writes it: no expiry and no reuse
/// prevention are absent (AWS omits them or answers 0).
pub(crate) fn spec_of(p: &aws_sdk_iam::types::PasswordPolicy) -> PasswordPolicySpec {
    let positive = |v: Option<i32>| v.filter(|n| *n > 0).and_then(|n| u32::try_from(n).ok());
    PasswordPolicySpec {
        minimum_length: positive(p.minimum_password_length()),
        require_uppercase: Some(p.require_uppercase_characters()),
        require_lowercase: Some(p.require_lowercase_characters()),
        require_symbols: Some(p.require_symbols()),
        require_numbers: Some(p.require_numbers()),
        max_age_days: if p.expire_passwords() {
            positive(p.max_password_age())
        } else {
            None
        },
        reuse_prevention: positive(p.password_reuse_prevention()),
        allow_users_to_change: Some(p.allow_users_to_change_password()),
        hard_expiry: Some(p.hard_expiry().unwrap_or(false)),
    }
}

/// The policy the baseline wants (home region only).
pub(super) fn desired(p: &PasswordPolicySpec, target: &Target) -> Desired {
    Desired {
        address: Address::new(target, KIND, "account"),
        controls: controls_met(p),
        want: Want::Present(wanted(p)),
        depends_on: Vec::new(),
        private: Attrs::new(),
    }
}

/// The account's policy, every field (`None`: the account has none).
async fn current(iam: &aws_sdk_iam::Client, ctx: &Ctx) -> Result<Option<Attrs>, ServiceError> {
    let out = match iam.get_account_password_policy().send().await {
        Ok(out) => out,
        Err(e) if e.code() == Some("NoSuchEntity") => return Ok(None),
        Err(e) => return Err(ctx.err("GetAccountPasswordPolicy")(e).into()),
    };
    Ok(out.password_policy().map(|p| fields(&spec_of(p), true)))
}

/// Reads the policy: absent when the account has none (the plan creates it).
pub(super) async fn read(
    iam: &aws_sdk_iam::Client,
    ctx: &Ctx,
    address: &Address,
) -> Result<Option<Observed>, ServiceError> {
    Ok(current(iam, ctx)
        .await?
        .map(|a| Observed::new(address.clone(), a, Ownership::NotOurs)))
}

/// What a change of the policy must find: nothing, for a create; for an
/// update, every field as the plan read it: UpdateAccountPasswordPolicy
/// writes the whole policy, so a field the baseline does not give is
/// written as the plan read it, and one changed since would be undone.
pub(super) fn preconditions(change: &Change) -> Vec<baseline_engine::Precondition> {
    match (change.action, &change.before) {
        (baseline_engine::Action::Update, Some(before)) => before
            .keys()
            .map(|attr| baseline_engine::Precondition::Unchanged { attr: attr.clone() })
            .collect(),
        _ => crate::usual_preconditions(change),
    }
}

/// Sets the policy: the planned fields, which for an existing policy are
/// every field, those the baseline does not give as the plan read them
/// (the change's preconditions hold them unchanged since).
pub(super) async fn apply(
    iam: &aws_sdk_iam::Client,
    ctx: &Ctx,
    change: &Change,
) -> Result<(), ServiceError> {
    let policy = change.after.clone().unwrap_or_default();
    let int = |k: &str| {
        policy
            .get(k)
            .and_then(Value::as_i64)
            .and_then(|n| i32::try_from(n).ok())
    };
    let flag = |k: &str| policy.get(k).and_then(Value::as_bool);
    iam.update_account_password_policy()
        .set_minimum_password_length(int("minimum_length"))
        .set_require_uppercase_characters(flag("require_uppercase"))
        .set_require_lowercase_characters(flag("require_lowercase"))
        .set_require_symbols(flag("require_symbols"))
        .set_require_numbers(flag("require_numbers"))
        .set_max_password_age(int("max_age_days"))
        .set_password_reuse_prevention(int("reuse_prevention"))
        .set_allow_users_to_change_password(flag("allow_users_to_change"))
        .set_hard_expiry(flag("hard_expiry"))
        .send()
        .await
        .map_err(ctx.err("UpdateAccountPasswordPolicy"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_are_those_the_values_meet() {
        assert_eq!(
            controls_met(&PasswordPolicySpec::RECOMMENDED),
            [
                "IAM.7", "IAM.11", "IAM.12", "IAM.13", "IAM.14", "IAM.15", "IAM.16", "IAM.17"
            ]
        );
        let weak = PasswordPolicySpec {
            minimum_length: Some(10),
            require_uppercase: Some(true),
            max_age_days: Some(365),
            ..Default::default()
        };
        assert_eq!(controls_met(&weak), ["IAM.11"]);
        assert_eq!(
            wanted(&weak).keys().collect::<Vec<_>>(),
            ["minimum_length", "require_uppercase", "max_age_days"],
            "only the fields given are managed"
        );
    }
}
