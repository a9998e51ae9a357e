//! IAM Access Analyzer: an ACTIVE external-access analyzer in every region.
//!
//! Zone `organization` is only valid in the organization's management
//! account or a delegated administrator for Access Analyzer: that is
//! checked when planning, not left to fail at apply. An existing analyzer
//! of the right type is adopted (there is no need for two). The paid
//! unused-access analyzer type is never created.

use async_trait::async_trait;
use aws_sdk_accessanalyzer::types::{AnalyzerStatus, Type};
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use baseline_engine::{
    Action, Address, Change, Declared, Desired, Mode, Observed, Outputs, Ownership, Reading,
    Service, ServiceError, Target, Wait,
};
use baseline_spec::{Baseline, Zone};
use serde_json::{Value, json};

use crate::error::{Ctx, Refusal};
use crate::organization::{self, ANALYZER_PRINCIPAL};
use crate::{OWNER_TAG_KEY, Owner, account_of, attrs, controls, present_if};

const SERVICE: &str = "access_analyzer";
const KIND: &str = "access_analyzer.analyzer";
/// The management account's registration of the delegated administrator
/// (with `organization.delegated_admin` and `zone: organization`).
const ADMIN: &str = "access_analyzer.delegated_admin";
const DEFAULT_NAME: &str = "baseline";
/// Trusted access for Access Analyzer in the organization, for an
/// organization analyzer without a delegated administrator the baseline
/// names: CreateAnalyzer with the organization as the zone of trust is
/// refused until it is on ("Service not enabled for AWS Organizations";
/// IAM User Guide, "Enabling Access Analyzer"). Account-level, planned in
/// the home region of the account that holds the analyzer.
const TRUSTED: &str = "access_analyzer.trusted_access";

service_type!(
    /// IAM Access Analyzer.
    AccessAnalyzerService
);

fn type_name(zone: Zone) -> &'static str {
    match zone {
        Zone::Account => "ACCOUNT",
        Zone::Organization => "ORGANIZATION",
    }
}

#[async_trait]
impl Service for AccessAnalyzerService {
    fn name(&self) -> &'static str {
        SERVICE
    }

    fn desired(&self, baseline: &Baseline, target: &Target, mode: Mode) -> Vec<Desired> {
        // A free setting: teardown leaves it.
        let (Some(spec), Mode::Apply) = (&baseline.access_analyzer, mode) else {
            return Vec::new();
        };
        let zone = spec.zone.unwrap_or(Zone::Account);
        if let (Zone::Organization, Some(org)) = (zone, &self.aws.organization) {
            // Through the delegated administrator: the management account
            // registers it (Organizations is global: in the home region),
            // and it holds the organization's analyzer in every region.
            // `enabled: false` leaves them as they are (docs/safety.md).
            if !spec.enabled {
                return Vec::new();
            }
            let mut out = Vec::new();
            let registered = organization::address(&org.management, &baseline.home_region, ADMIN);
            if target.account_id == org.management && target.home {
                out.push(Desired {
                    address: registered.clone(),
                    controls: Vec::new(),
                    want: baseline_engine::Want::Present(attrs(&[(
                        "admin_account",
                        json!(org.admin),
                    )])),
                    depends_on: Vec::new(),
                    private: baseline_engine::Attrs::new(),
                });
            }
            if target.account_id == org.admin {
                let mut analyzer = analyzer(spec, target, zone);
                analyzer.depends_on.push(registered);
                out.push(analyzer);
            }
            return out;
        }
        let mut analyzer = analyzer(spec, target, zone);
        if zone == Zone::Organization && spec.enabled {
            let trusted = organization::address(&target.account_id, &baseline.home_region, TRUSTED);
            analyzer.depends_on.push(trusted.clone());
            if target.home {
                return vec![
                    Desired {
                        address: trusted,
                        controls: Vec::new(),
                        want: baseline_engine::Want::Present(attrs(&[(
                            "service_principal",
                            json!(ANALYZER_PRINCIPAL),
                        )])),
                        depends_on: Vec::new(),
                        private: baseline_engine::Attrs::new(),
                    },
                    analyzer,
                ];
            }
        }
        vec![analyzer]
    }

    fn scopes(&self) -> (&'static [&'static str], &'static [&'static str]) {
        (&[ADMIN, TRUSTED], &[])
    }

    async fn read(&self, target: &Target, desired: &[Desired]) -> Result<Reading, ServiceError> {
        let account = account_of(&self.aws, target)?;
        let account = &*account;
        let client = client!(aws_sdk_accessanalyzer, account, &target.region);
        let mut out = Reading::default();
        // Which account may hold an organization analyzer: checked once.
        let mut holder: Option<ZoneHolder> = None;
        for d in desired {
            if d.address.kind == ADMIN {
                let org = organization::of(&self.aws)?;
                let one = organization::organizations_registration(
                    account,
                    org,
                    "IAM Access Analyzer",
                    ANALYZER_PRINCIPAL,
                    target,
                    d,
                )
                .await?;
                out.observed.extend(one.observed);
                continue;
            }
            if d.address.kind == TRUSTED {
                let orgs = client!(aws_sdk_organizations, account, &target.region);
                let holder = match holder {
                    Some(h) => h,
                    None => *holder.insert(check_organization_zone(&orgs, target).await?),
                };
                out.observed
                    .extend(read_trusted_access(&orgs, target, d, holder).await?);
                continue;
            }
            let wanted_type = match &d.want {
                baseline_engine::Want::Present(a) => {
                    a.get("type").and_then(Value::as_str).unwrap_or("ACCOUNT")
                }
                _ => "ACCOUNT",
            };
            // Through a delegated administrator, the registration is this
            // plan's (checked before anything was read).
            if wanted_type == "ORGANIZATION" && self.aws.organization.is_none() && holder.is_none()
            {
                let orgs = client!(aws_sdk_organizations, account, &target.region);
                holder = Some(check_organization_zone(&orgs, target).await?);
            }
            if let Some(o) =
                read_analyzer(&client, target, &d.address, wanted_type, &self.aws.owner).await?
            {
                out.observed.push(o);
            }
        }
        Ok(out)
    }

    /// The delegated administrator's organization analyzer waits for
    /// the delegation made moments ago to hold.
    fn declare(&self, change: &Change) -> Declared {
        let mut d = crate::usual(change);
        let delegated = self
            .aws
            .organization
            .as_ref()
            .is_some_and(|o| o.admin == change.address.account);
        let organization_wide = change
            .planned("type")
            .as_str()
            .is_some_and(|t| t.starts_with("ORGANIZATION"));
        if change.address.kind == KIND
            && change.action == Action::Create
            && delegated
            && organization_wide
        {
            d.waits.push(Wait::Delegation);
        }
        d
    }

    async fn apply(&self, target: &Target, change: &Change) -> Result<Outputs, ServiceError> {
        let account = account_of(&self.aws, target)?;
        let account = &*account;
        if change.address.kind == ADMIN {
            if change.action != Action::Create {
                return Err(crate::unsupported(&change.address.kind, change.action));
            }
            organization::trust(account, target, ANALYZER_PRINCIPAL).await?;
            client!(aws_sdk_organizations, account, &target.region)
                .register_delegated_administrator()
                .account_id(change.planned("admin_account").as_str().unwrap_or_default())
                .service_principal(ANALYZER_PRINCIPAL)
                .send()
                .await
                .map_err(Ctx::new(target, "organizations").err("RegisterDelegatedAdministrator"))?;
            return Ok(Outputs::new());
        }
        if change.address.kind == TRUSTED {
            if change.action != Action::Create {
                return Err(crate::unsupported(&change.address.kind, change.action));
            }
            organization::trust(account, target, ANALYZER_PRINCIPAL).await?;
            return Ok(Outputs::new());
        }
        self.apply_analyzer(target, change).await?;
        Ok(Outputs::new())
    }
}

/// Whether trusted access for Access Analyzer is on: read in the
/// management account (ListAWSServiceAccessForOrganization); in a
/// delegated administrator it is, since Organizations registered it
/// (`check_organization_zone` has checked that the account is one).
async fn read_trusted_access(
    orgs: &aws_sdk_organizations::Client,
    target: &Target,
    d: &Desired,
    holder: ZoneHolder,
) -> Result<Option<Observed>, ServiceError> {
    let present = || {
        Some(Observed::new(
            d.address.clone(),
            attrs(&[("service_principal", json!(ANALYZER_PRINCIPAL))]),
            Ownership::Ours,
        ))
    };
    if holder == ZoneHolder::DelegatedAdministrator {
        return Ok(present());
    }
    let ctx = Ctx::new(target, "organizations");
    let mut pages = orgs
        .list_aws_service_access_for_organization()
        .into_paginator()
        .send();
    let mut bound = crate::pages::Bound::new(&ctx, "ListAWSServiceAccessForOrganization");
    while let Some(page) = pages.next().await {
        let page = page.map_err(ctx.err("ListAWSServiceAccessForOrganization"))?;
        bound.page(page.next_token())?;
        if page
            .enabled_service_principals()
            .iter()
            .any(|p| p.service_principal() == Some(ANALYZER_PRINCIPAL))
        {
            return Ok(present());
        }
    }
    Ok(None)
}

/// Which account may hold an organization analyzer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ZoneHolder {
    /// The organization's management account.
    Management,
    /// A delegated administrator for Access Analyzer.
    DelegatedAdministrator,
}

/// The region's analyzer.
fn analyzer(spec: &baseline_spec::AccessAnalyzerSpec, target: &Target, zone: Zone) -> Desired {
    Desired {
        address: Address::new(target, KIND, spec.name.as_deref().unwrap_or(DEFAULT_NAME)),
        controls: controls(&["IAM.28", "CIS 1.20"]),
        want: present_if(
            spec.enabled,
            attrs(&[
                ("type", json!(type_name(zone))),
                ("status", json!("ACTIVE")),
            ]),
        ),
        depends_on: Vec::new(),
        private: baseline_engine::Attrs::new(),
    }
}

impl AccessAnalyzerService {
    async fn apply_analyzer(&self, target: &Target, change: &Change) -> Result<(), ServiceError> {
        let account = account_of(&self.aws, target)?;
        let account = &*account;
        let client = client!(aws_sdk_accessanalyzer, account, &target.region);
        let ctx = Ctx::new(target, SERVICE);
        match change.action {
            Action::Create => {
                let kind = change
                    .after
                    .as_ref()
                    .and_then(|a| a.get("type"))
                    .and_then(Value::as_str)
                    .unwrap_or("ACCOUNT");
                let create =
                    || create_analyzer(&client, &change.address.name, kind, self.aws.owner.mark());
                // The plan says whether it waits for the delegation.
                if !change.waits.contains(&Wait::Delegation) {
                    create().await.map_err(ctx.err("CreateAnalyzer"))?;
                    return Ok(());
                }
                // Registered moments ago (this run's registration, or
                // another's): AWS refuses the administrator's
                // organization analyzer until the delegation holds.
                organization::delegation_in_effect(
                    self.aws.settle,
                    target,
                    SERVICE,
                    "CreateAnalyzer",
                    "AccessDeniedException",
                    create,
                )
                .await
                .map(|_| ())
            }
            Action::Delete => {
                let name = change
                    .before
                    .as_ref()
                    .and_then(|b| b.get("name"))
                    .and_then(Value::as_str)
                    .unwrap_or(&change.address.name);
                client
                    .delete_analyzer()
                    .analyzer_name(name)
                    .send()
                    .await
                    .map_err(ctx.err("DeleteAnalyzer"))?;
                Ok(())
            }
            // The plan shows an update when the analyzer of the configured
            // name is FAILED or DISABLED (its type cannot differ: the read
            // lists one type). AWS has no call that repairs one: a person
            // must look at its status reason.
            Action::Update => Err(crate::refusal(format!(
                "analyzer {} is {}: AWS gives the reason in its statusReason; baseline cannot repair it (delete it, and the next apply creates a new one)",
                change.address.name,
                change
                    .before
                    .as_ref()
                    .and_then(|b| b.get("status"))
                    .and_then(Value::as_str)
                    .unwrap_or("not active")
            ))),
            other => Err(crate::unsupported(&change.address.kind, other)),
        }
    }
}

/// The analyzer of `kind` (`ACCOUNT` / `ORGANIZATION`): the one named as
/// in the address, else any ACTIVE or CREATING one of that type (adopted).
pub async fn read_analyzer(
    client: &aws_sdk_accessanalyzer::Client,
    target: &Target,
    address: &Address,
    kind: &str,
    owner: &Owner,
) -> Result<Option<Observed>, ServiceError> {
    let ctx = Ctx::new(target, SERVICE);
    let mut analyzers = Vec::new();
    let mut pages = client
        .list_analyzers()
        .r#type(Type::from(kind))
        .into_paginator()
        .send();
    let mut bound = crate::pages::Bound::new(&ctx, "ListAnalyzers");
    while let Some(page) = pages.next().await {
        let page = page.map_err(ctx.err("ListAnalyzers"))?;
        bound.page(page.next_token())?;
        analyzers.extend(page.analyzers().to_vec());
    }
    let usable =
        |s: &AnalyzerStatus| matches!(s, AnalyzerStatus::Active | AnalyzerStatus::Creating);
    let found = analyzers
        .iter()
        .find(|a| a.name() == address.name)
        .or_else(|| analyzers.iter().find(|a| usable(a.status())));
    Ok(found.map(|a| {
        let mark = owner.classify(
            a.tags()
                .and_then(|t| t.get(OWNER_TAG_KEY))
                .map(String::as_str),
        );
        // Creating counts as active: it becomes so without anyone acting.
        let status = if usable(a.status()) {
            "ACTIVE"
        } else {
            a.status().as_str()
        };
        Observed::new(
            address.clone(),
            attrs(&[
                ("name", json!(a.name())),
                ("type", json!(a.r#type().as_str())),
                ("status", json!(status)),
            ]),
            mark,
        )
    }))
}

/// Creates an external-access analyzer, tagged with baseline's `mark`.
fn create_analyzer(
    client: &aws_sdk_accessanalyzer::Client,
    name: &str,
    kind: &str,
    mark: &str,
) -> impl std::future::Future<
    Output = Result<
        aws_sdk_accessanalyzer::operation::create_analyzer::CreateAnalyzerOutput,
        aws_sdk_accessanalyzer::error::SdkError<
            aws_sdk_accessanalyzer::operation::create_analyzer::CreateAnalyzerError,
        >,
    >,
> {
    client
        .create_analyzer()
        .analyzer_name(name)
        .r#type(Type::from(kind))
        .tags(OWNER_TAG_KEY, mark)
        .send()
}

/// Zone `organization` needs the management account or a delegated
/// administrator for Access Analyzer.
pub async fn check_organization_zone(
    orgs: &aws_sdk_organizations::Client,
    target: &Target,
) -> Result<ZoneHolder, ServiceError> {
    let ctx = Ctx::new(target, "organizations");
    let org = match orgs.describe_organization().send().await {
        Ok(o) => o,
        Err(e) if e.code() == Some("AWSOrganizationsNotInUseException") => {
            return Err(Box::new(Refusal {
                message: format!(
                    "access_analyzer.zone is `organization`, but account {} is not in an organization; use `zone: account`",
                    target.account_id
                ),
            }));
        }
        Err(e) => return Err(Box::new(ctx.err("DescribeOrganization")(e))),
    };
    if org.organization().and_then(|o| o.master_account_id()) == Some(target.account_id.as_str()) {
        return Ok(ZoneHolder::Management);
    }
    let delegated = match orgs
        .list_delegated_administrators()
        .service_principal("access-analyzer.amazonaws.com")
        .send()
        .await
    {
        Ok(a) => a
            .delegated_administrators()
            .iter()
            .any(|a| a.id() == Some(target.account_id.as_str())),
        // Only the management account and delegated administrators may
        // list them: a member account that may not is not one.
        Err(e) if e.code() == Some("AccessDeniedException") => false,
        Err(e) => return Err(Box::new(ctx.err("ListDelegatedAdministrators")(e))),
    };
    if delegated {
        return Ok(ZoneHolder::DelegatedAdministrator);
    }
    Err(Box::new(Refusal {
        message: format!(
            "access_analyzer.zone is `organization`, but account {} is neither the organization's management account nor a delegated administrator for Access Analyzer; use `zone: account` here, or delegate Access Analyzer to it",
            target.account_id
        ),
    }))
}
