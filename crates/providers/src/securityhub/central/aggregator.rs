//! The home region's cross-Region finding aggregator, which makes it
//! Security Hub's home Region for central configuration.

use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use baseline_engine::{
    Action, Change, Desired, Observed, Ownership, Reading, ServiceError, Target,
};
use serde_json::json;

use super::{list, nothing_there, text};
use crate::attrs;
use crate::error::Ctx;

/// The aggregator's ARN, if the account has one (one per account).
async fn aggregator_arn(
    client: &aws_sdk_securityhub::Client,
    ctx: &Ctx,
) -> Result<Option<String>, ServiceError> {
    match client.list_finding_aggregators().send().await {
        Ok(l) => Ok(l
            .finding_aggregators()
            .first()
            .and_then(|a| a.finding_aggregator_arn())
            .map(str::to_string)),
        Err(e) if nothing_there(e.code()) => Ok(None),
        Err(e) => Err(ctx.err("ListFindingAggregators")(e).into()),
    }
}

/// Reads the aggregator.
pub(super) async fn read(
    client: &aws_sdk_securityhub::Client,
    ctx: &Ctx,
    target: &Target,
    d: &Desired,
) -> Result<Reading, ServiceError> {
    let Some(arn) = aggregator_arn(client, ctx).await? else {
        return Ok(Reading::default());
    };
    let got = client
        .get_finding_aggregator()
        .finding_aggregator_arn(&arn)
        .send()
        .await
        .map_err(ctx.err("GetFindingAggregator"))?;
    let mut regions = got.regions().to_vec();
    regions.sort();
    let mut o = Observed::new(
        d.address.clone(),
        attrs(&[
            ("linking", json!(got.region_linking_mode())),
            ("regions", json!(regions)),
        ]),
        Ownership::Ours,
    );
    // Apply updates the aggregator the plan read.
    o.private.insert(ARN.into(), json!(arn));
    let mut notes = Vec::new();
    if let Some(elsewhere) = got
        .finding_aggregation_region()
        .filter(|r| *r != target.region)
    {
        // Moving the home Region deletes central configuration's policies
        // (AWS): held, never done by baseline.
        o.managed_by_tool(Some(format!(
            "its aggregation Region {elsewhere} (central configuration's home Region there)"
        )));
        notes.push(format!(
            "Security Hub in account {}: the finding aggregator is in {elsewhere}, not the home region {}; changing the home Region deletes central configuration's policies (AWS), so baseline leaves it: delete it first, or make {elsewhere} the home region",
            target.account_id, target.region
        ));
    }
    Ok(Reading {
        observed: vec![o],
        notes,
    })
}

/// The aggregator's ARN in the change's private data.
const ARN: &str = "arn";

/// Creates the aggregator (the plan found none; a precondition checks it
/// is still so), or updates the one the plan read.
pub(super) async fn apply(
    client: &aws_sdk_securityhub::Client,
    ctx: &Ctx,
    change: &Change,
) -> Result<(), ServiceError> {
    let regions = list(change, "regions");
    let regions = (!regions.is_empty()).then_some(regions);
    let planned = change.private.get(ARN).and_then(serde_json::Value::as_str);
    match (change.action, planned) {
        (Action::Create, _) => {
            client
                .create_finding_aggregator()
                .region_linking_mode(text(change, "linking"))
                .set_regions(regions)
                .send()
                .await
                .map_err(ctx.err("CreateFindingAggregator"))?;
        }
        (Action::Update, Some(arn)) => {
            client
                .update_finding_aggregator()
                .finding_aggregator_arn(arn)
                .region_linking_mode(text(change, "linking"))
                .set_regions(regions)
                .send()
                .await
                .map_err(ctx.err("UpdateFindingAggregator"))?;
        }
        (action, _) => return Err(crate::unsupported(&change.address.kind, action)),
    }
    Ok(())
}
