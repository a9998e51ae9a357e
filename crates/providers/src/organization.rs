//! An organization whose security services run through a delegated
//! administrator (`organization.delegated_admin`): what the GuardDuty and
//! Security Hub providers need to know of it (who the management account
//! and the administrator are, which accounts are members), found once when
//! the organization is listed, and the check made before any account is
//! read: the administrator is an account of the organization, and no other
//! account is already the registered administrator of a service the
//! baseline runs through it (a refusal naming both, never a switch).

use std::collections::BTreeMap;

use aws_config::SdkConfig;
use baseline_spec::Baseline;

use crate::error::{Ctx, Refusal};

/// GuardDuty's service principal (trusted access, delegated administrator).
pub(crate) const GUARDDUTY_PRINCIPAL: &str = "guardduty.amazonaws.com";
/// Security Hub's service principal.
pub(crate) const SECURITYHUB_PRINCIPAL: &str = "securityhub.amazonaws.com";

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The organization, as the services run through its delegated
/// administrator see it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Organization {
    /// The management account: it registers the administrator.
    pub management: String,
    /// The delegated administrator (the security-tooling account).
    pub admin: String,
    /// Whether AWS itself covers the accounts that join later.
    pub auto_enable: bool,
    /// Every ACTIVE account of the organization less the excluded ones, with
    /// its email (GuardDuty's CreateMembers asks for it).
    pub accounts: BTreeMap<String, String>,
}

impl Organization {
    /// The accounts the administrator makes members: every account but itself.
    pub fn members(&self) -> impl Iterator<Item = (&String, &String)> {
        self.accounts.iter().filter(|(id, _)| **id != self.admin)
    }

    /// Whether `account` is covered through the administrator (a member).
    pub fn is_member(&self, account: &str) -> bool {
        account != self.admin && self.accounts.contains_key(account)
    }
}

/// The organization's facts for `delegated_admin`, checked: `Ok(None)`
/// when the baseline names no administrator. `emails`: every selected
/// account of the organization, with its email.
pub(crate) async fn delegation(
    base: &SdkConfig,
    baseline: &Baseline,
    emails: BTreeMap<String, String>,
) -> Result<Option<Organization>, BoxError> {
    let Some(spec) = &baseline.organization else {
        return Ok(None);
    };
    let Some(admin) = spec.admin() else {
        return Ok(None);
    };
    let ctx = Ctx {
        account: "organization".into(),
        region: baseline.home_region.clone(),
        service: "organizations",
    };
    let client = aws_sdk_organizations::Client::new(base);
    let described = client
        .describe_organization()
        .send()
        .await
        .map_err(ctx.err("DescribeOrganization"))?;
    let management = described
        .organization()
        .and_then(|o| o.master_account_id())
        .unwrap_or_default()
        .to_string();
    if !emails.contains_key(admin) {
        return Err(Box::new(Refusal {
            message: format!(
                "organization.delegated_admin {admin} is not an ACTIVE account of the organization (less `exclude`): nothing is changed"
            ),
        }));
    }
    if admin == management {
        return Err(Box::new(Refusal {
            message: format!(
                "organization.delegated_admin {admin} is the management account: AWS recommends, and Organizations requires, another account (a security-tooling account)"
            ),
        }));
    }
    let principals = [
        (
            "GuardDuty",
            GUARDDUTY_PRINCIPAL,
            baseline.guardduty.as_ref().is_some_and(|g| g.enabled),
        ),
        (
            "Security Hub",
            SECURITYHUB_PRINCIPAL,
            baseline.securityhub.as_ref().is_some_and(|s| s.enabled),
        ),
    ];
    for (name, principal, used) in principals {
        if !used {
            continue;
        }
        let registered = client
            .list_delegated_administrators()
            .service_principal(principal)
            .send()
            .await
            .map_err(ctx.err("ListDelegatedAdministrators"))?;
        let others: Vec<&str> = registered
            .delegated_administrators()
            .iter()
            .filter_map(|a| a.id())
            .filter(|id| *id != admin)
            .collect();
        if let Some(other) = others.first() {
            return Err(Box::new(Refusal {
                message: format!(
                    "{name}'s delegated administrator is account {other}, and the baseline names {admin}: refused, nothing is changed. baseline never moves an administrator: deregister {other} first ({name}'s DisableOrganizationAdminAccount from the management account, in every region), or name {other} in organization.delegated_admin"
                ),
            }));
        }
    }
    Ok(Some(Organization {
        management,
        admin: admin.to_string(),
        auto_enable: spec.auto_enables(),
        accounts: emails,
    }))
}
