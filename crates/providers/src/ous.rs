//! The organization's organizational units, read once per run when the
//! baseline's overrides or exceptions name OUs (`ous:`): the tree walked
//! from the root, a level at a time (ListRoots, then per parent
//! ListOrganizationalUnitsForParent and ListAccountsForParent: two calls
//! per OU, where asking each account's parents would be one per account),
//! so that each account gets the OU it is in ([`OuPlace`]), and each OU the
//! baseline names is checked to exist before anything is read (a path
//! that names no OU is refused: an override that matches nothing would
//! leave those accounts on the base silently).

use std::collections::{BTreeMap, BTreeSet};

use aws_config::SdkConfig;
use baseline_engine::ServiceError;
use baseline_spec::{Baseline, OuPlace};
use futures::StreamExt;

use crate::error::{Ctx, Refusal};

/// Organizations' deepest OU: five levels below the root ("Quotas for AWS
/// Organizations"); a deeper answer (or an OU under itself) is refused.
const MAX_DEPTH: usize = 5;

/// How many parents are listed at once (Organizations allows a few
/// requests a second per account; a level of the tree is rarely wide).
const AT_ONCE: usize = 4;

/// The OU tree as the accounts see it.
#[derive(Debug, Default)]
pub struct OuTree {
    /// Each account under an OU, with it (an account directly under the
    /// root is not here).
    pub accounts: BTreeMap<String, OuPlace>,
    /// Every account found in the tree, under the root too.
    pub placed: BTreeSet<String>,
    /// Every OU's path from the root.
    pub paths: BTreeSet<String>,
    /// Every OU's id.
    pub ids: BTreeSet<String>,
}

impl OuTree {
    /// Whether `entry` of an `ous` list (an id or a path) names an OU.
    pub fn has(&self, entry: &str) -> bool {
        if baseline_spec::is_ou_id(entry) {
            self.ids.contains(entry)
        } else {
            self.paths.contains(entry)
        }
    }

    /// The OUs `baseline` names that the organization does not have, each
    /// said with where it is named: empty when every one exists.
    pub fn unknown(&self, baseline: &Baseline) -> Vec<String> {
        baseline
            .named_ous()
            .into_iter()
            .filter(|(_, ou)| !self.has(ou))
            .map(|(at, ou)| format!("{at}: `{ou}`"))
            .collect()
    }

    /// A refusal when an account of `accounts` (as ListAccounts gave them)
    /// is nowhere in the tree: it moved while the tree was read, and its
    /// OU's overrides and exceptions would silently not hold.
    pub fn check_placed<'a>(
        &self,
        accounts: impl IntoIterator<Item = &'a str>,
    ) -> Result<(), ServiceError> {
        let missing: Vec<&str> = accounts
            .into_iter()
            .filter(|a| !self.placed.contains(*a))
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        Err(Box::new(Refusal {
            message: format!(
                "account {} is in no OU of the organization as it was read (moved while it was read?): nothing is read or changed; run again",
                missing.join(", ")
            ),
        }))
    }

    /// A refusal naming the OUs `baseline` names that do not exist, with
    /// the organization's top-level OUs (paths start below the root).
    pub fn check(&self, baseline: &Baseline) -> Result<(), ServiceError> {
        let unknown = self.unknown(baseline);
        if unknown.is_empty() {
            return Ok(());
        }
        let top: Vec<&str> = self
            .paths
            .iter()
            .filter(|p| !p.contains('/'))
            .map(String::as_str)
            .collect();
        Err(Box::new(Refusal {
            message: format!(
                "no such OU in the organization: {} (paths start below the root; its top-level OUs: {}): nothing is read or changed",
                unknown.join(", "),
                if top.is_empty() {
                    "none".to_string()
                } else {
                    top.join(", ")
                }
            ),
        }))
    }
}

/// For `validate`: whether the OUs `baseline` names exist, when the
/// caller's credentials can read the organization. `Ok(Err(why))`: it
/// could not be read (nothing is said of the OUs); `Err`: one does not
/// exist.
pub async fn check_named(
    baseline: &Baseline,
    opts: &crate::ConnectOptions,
) -> Result<Result<(), String>, ServiceError> {
    let base = crate::connect::base_config(baseline, opts).await;
    match read(&base, &baseline.home_region).await {
        Ok(tree) => tree.check(baseline).map(Ok),
        Err(e) => Ok(Err(baseline_engine::error_chain(e.as_ref()))),
    }
}

/// Reads the organization's OU tree with the caller's base credentials
/// (the management account, or a delegated administrator of
/// Organizations).
pub async fn read(base: &SdkConfig, region: &str) -> Result<OuTree, ServiceError> {
    let ctx = Ctx {
        account: "organization".into(),
        region: region.to_string(),
        service: "organizations",
    };
    let client = aws_sdk_organizations::Client::new(base);
    let mut roots = Vec::new();
    let mut pages = client.list_roots().into_paginator().send();
    let mut bound = crate::pages::Bound::new(&ctx, "ListRoots");
    while let Some(page) = pages.next().await {
        let page = page.map_err(ctx.err("ListRoots"))?;
        bound.page(page.next_token())?;
        roots.extend(page.roots().iter().filter_map(|r| r.id()).map(String::from));
    }
    let mut tree = OuTree::default();
    // Each parent to list, with the place of the accounts directly in it.
    let mut level: Vec<(String, Option<OuPlace>)> = roots.into_iter().map(|r| (r, None)).collect();
    let mut depth = 0;
    while !level.is_empty() {
        if depth > MAX_DEPTH {
            return Err(Box::new(Refusal {
                message: format!(
                    "the organization's OU tree goes deeper than the {MAX_DEPTH} levels Organizations allows (an OU under itself?): it was not read further"
                ),
            }));
        }
        depth += 1;
        let listed: Vec<_> = futures::stream::iter(level)
            .map(|(parent, place)| {
                let (client, ctx) = (&client, &ctx);
                async move {
                    let children = children(client, ctx, &parent).await?;
                    let accounts = accounts(client, ctx, &parent).await?;
                    Ok::<_, ServiceError>((place, children, accounts))
                }
            })
            .buffer_unordered(AT_ONCE)
            .collect()
            .await;
        let mut next = Vec::new();
        for result in listed {
            let (place, children, accounts) = result?;
            for account in accounts {
                tree.placed.insert(account.clone());
                if let Some(place) = &place {
                    tree.accounts.insert(account, place.clone());
                }
            }
            for (id, name) in children {
                if !tree.ids.insert(id.clone()) {
                    continue;
                }
                // A name with a `/` would make its path ambiguous (a
                // sibling's prefix, or another OU's path): such an OU, and
                // the OUs below it, are named by its id there.
                let name = if name.contains('/') { id.clone() } else { name };
                let child = match &place {
                    Some(p) => OuPlace {
                        path: format!("{}/{name}", p.path),
                        ids: p.ids.iter().cloned().chain([id.clone()]).collect(),
                    },
                    None => OuPlace {
                        path: name,
                        ids: vec![id.clone()],
                    },
                };
                tree.paths.insert(child.path.clone());
                next.push((id, Some(child)));
            }
        }
        level = next;
    }
    Ok(tree)
}

/// The OUs directly under `parent`: (id, name).
async fn children(
    client: &aws_sdk_organizations::Client,
    ctx: &Ctx,
    parent: &str,
) -> Result<Vec<(String, String)>, ServiceError> {
    let mut out = Vec::new();
    let mut pages = client
        .list_organizational_units_for_parent()
        .parent_id(parent)
        .into_paginator()
        .send();
    let mut bound = crate::pages::Bound::new(ctx, "ListOrganizationalUnitsForParent");
    while let Some(page) = pages.next().await {
        let page = page.map_err(ctx.err("ListOrganizationalUnitsForParent"))?;
        bound.page(page.next_token())?;
        out.extend(
            page.organizational_units()
                .iter()
                .filter_map(|ou| Some((ou.id()?.to_string(), ou.name()?.to_string()))),
        );
    }
    Ok(out)
}

/// The accounts directly under `parent`.
async fn accounts(
    client: &aws_sdk_organizations::Client,
    ctx: &Ctx,
    parent: &str,
) -> Result<Vec<String>, ServiceError> {
    let mut out = Vec::new();
    let mut pages = client
        .list_accounts_for_parent()
        .parent_id(parent)
        .into_paginator()
        .send();
    let mut bound = crate::pages::Bound::new(ctx, "ListAccountsForParent");
    while let Some(page) = pages.next().await {
        let page = page.map_err(ctx.err("ListAccountsForParent"))?;
        bound.page(page.next_token())?;
        out.extend(
            page.accounts()
                .iter()
                .filter_map(|a| a.id())
                .map(String::from),
        );
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree() -> OuTree {
        let mut t = OuTree::default();
        for (path, id) in [
            ("Workloads", "ou-aa11-00000001"),
            ("Workloads/Prod", "ou-aa11-00000002"),
        ] {
            t.paths.insert(path.into());
            t.ids.insert(id.into());
        }
        t.placed.insert("111111111111".into());
        t
    }

    #[test]
    fn named_ous_are_found_by_path_or_id_and_the_rest_refused_with_where() {
        let t = tree();
        assert!(t.has("Workloads/Prod") && t.has("ou-aa11-00000001"));
        assert!(!t.has("Workloads/Prd") && !t.has("ou-aa11-00000009") && !t.has("Prod"));
        let b = baseline_spec::parse(
            "version: 1\naccounts: organization\norganization: {role_name: R}\nregions: [us-east-1]\nhome_region: us-east-1\noverrides:\n  - ous: [Workloads/Prod, Workloads/Prd]\n    ebs_encryption: {enabled: true}\n",
            "b.yaml",
        )
        .unwrap();
        assert_eq!(t.unknown(&b), vec!["overrides[0].ous[1]: `Workloads/Prd`"]);
        let e = t.check(&b).unwrap_err().to_string();
        assert!(e.contains("top-level OUs: Workloads)"), "{e}");
        assert!(t.check_placed(["111111111111"]).is_ok());
        let e = t
            .check_placed(["111111111111", "222222222222"])
            .unwrap_err()
            .to_string();
        assert!(e.contains("account 222222222222 is in no OU"), "{e}");
    }
}
