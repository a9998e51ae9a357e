//! Trusted Advisor: the check summaries, reported as information with the
//! plan. Nothing to apply. The API needs a Business (or higher) support
//! plan; where the plan does not allow it, that is said as information,
//! not as an error.

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use baseline_engine::{
    Address, Change, Desired, Mode, Observed, Outputs, Ownership, Reading, Service, ServiceError,
    Target, Want,
};
use baseline_spec::Baseline;

use crate::account_of;
use crate::error::Ctx;

const SERVICE: &str = "trusted_advisor";
const KIND: &str = "trusted_advisor.summary";

service_type!(
    /// Trusted Advisor (read only).
    TrustedAdvisorService
);

#[async_trait]
impl Service for TrustedAdvisorService {
    fn name(&self) -> &'static str {
        SERVICE
    }

    fn desired(&self, baseline: &Baseline, target: &Target, mode: Mode) -> Vec<Desired> {
        let (Some(spec), true, Mode::Apply) = (&baseline.trusted_advisor, target.home, mode) else {
            return Vec::new();
        };
        if !spec.report {
            return Vec::new();
        }
        // Read-only: an empty check is always satisfied; the read's notes
        // carry the report.
        vec![Desired {
            address: Address::new(target, KIND, "checks"),
            controls: Vec::new(),
            want: Want::Check {
                attrs: Default::default(),
                instructions: String::new(),
            },
            depends_on: Vec::new(),
            private: baseline_engine::Attrs::new(),
        }]
    }

    async fn read(&self, target: &Target, desired: &[Desired]) -> Result<Reading, ServiceError> {
        let account = account_of(&self.aws, target)?;
        let account = &*account;
        let notes = match support_region(&account.partition) {
            Some(region) => {
                let client = client!(aws_sdk_support, account, region);
                vec![summarize(&client, target).await?]
            }
            None => vec![format!(
                "Trusted Advisor: its checks are not offered through the Support API in partition {} (\"AWS Support\", Getting Started with AWS in China): read them in the console",
                account.partition
            )],
        };
        let observed = desired
            .iter()
            .map(|d| Observed::new(d.address.clone(), Default::default(), Ownership::NotOurs))
            .collect();
        Ok(Reading { observed, notes })
    }

    async fn apply(&self, _target: &Target, change: &Change) -> Result<Outputs, ServiceError> {
        Err(crate::unsupported(&change.address.kind, change.action))
    }
}

/// The region of the Support API's Trusted Advisor operations in a
/// partition: US East (N. Virginia) for `aws` (its API reference: "you
/// must use the US East (N. Virginia) endpoint"), US-West for GovCloud;
/// none in China, where the Support API does not serve Trusted Advisor.
fn support_region(partition: &str) -> Option<&'static str> {
    match partition {
        "aws-us-gov" => Some("us-gov-west-1"),
        "aws-cn" => None,
        _ => Some("us-east-1"),
    }
}

/// One line: how many checks are ok / warning / error, and which are in error.
pub async fn summarize(
    client: &aws_sdk_support::Client,
    target: &Target,
) -> Result<String, ServiceError> {
    let ctx = Ctx::new(target, "support");
    let checks = match client
        .describe_trusted_advisor_checks()
        .language("en")
        .send()
        .await
    {
        Ok(c) => c,
        Err(e) if e.code() == Some("SubscriptionRequiredException") => {
            return Ok("Trusted Advisor: the account's support plan does not include the Trusted Advisor API (Business support or higher does); the core checks are in the console".into());
        }
        Err(e) => return Err(Box::new(ctx.err("DescribeTrustedAdvisorChecks")(e))),
    };
    let names: BTreeMap<&str, &str> = checks.checks().iter().map(|c| (c.id(), c.name())).collect();
    if names.is_empty() {
        return Ok("Trusted Advisor: no checks available".into());
    }
    let summaries = client
        .describe_trusted_advisor_check_summaries()
        .set_check_ids(Some(names.keys().map(|s| Some(s.to_string())).collect()))
        .send()
        .await
        .map_err(ctx.err("DescribeTrustedAdvisorCheckSummaries"))?;
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    let mut failing = Vec::new();
    for s in summaries.summaries() {
        *counts.entry(s.status()).or_default() += 1;
        if s.status() == "error" {
            failing.push(names.get(s.check_id()).copied().unwrap_or(s.check_id()));
        }
    }
    let mut line = format!(
        "Trusted Advisor: {} checks: {} ok, {} warning, {} error",
        summaries.summaries().len(),
        counts.get("ok").unwrap_or(&0),
        counts.get("warning").unwrap_or(&0),
        counts.get("error").unwrap_or(&0),
    );
    if !failing.is_empty() {
        failing.sort();
        line.push_str(&format!(" ({})", failing.join("; ")));
    }
    Ok(line)
}

#[cfg(test)]
mod tests {
    use super::support_region;

    #[test]
    fn the_support_api_is_asked_in_the_accounts_partition() {
        assert_eq!(support_region("aws"), Some("us-east-1"));
        assert_eq!(support_region("aws-us-gov"), Some("us-gov-west-1"));
        assert_eq!(support_region("aws-cn"), None);
    }
}
