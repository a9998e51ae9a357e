//! EC2's block public access for EBS snapshots: the account's setting in
//! each region (`block-all-sharing`, `block-new-sharing` or `unblocked`).
//! A free setting: `destroy` leaves it. Where a declarative policy of the
//! organization holds it (`managedBy: declarative-policy`), the account
//! cannot change it: the plan says so and apply leaves it.

use async_trait::async_trait;
use aws_sdk_ec2::types::SnapshotBlockPublicAccessState;
use baseline_engine::{
    Action, Address, Change, Declared, Desired, Mode, Observed, Outputs, Reading, Service,
    ServiceError, Target, Want,
};
use baseline_spec::Baseline;
use serde_json::{Value, json};

use crate::error::Ctx;
use crate::{account_of, attrs};

const SERVICE: &str = "ebs_snapshot_public_access";
const KIND: &str = "ebs_snapshot_public_access.state";

service_type!(
    /// Block public access for EBS snapshots.
    SnapshotAccessService
);

#[async_trait]
impl Service for SnapshotAccessService {
    fn name(&self) -> &'static str {
        SERVICE
    }

    fn desired(&self, baseline: &Baseline, target: &Target, mode: Mode) -> Vec<Desired> {
        let (Some(spec), Mode::Apply) = (&baseline.ebs_snapshot_public_access, mode) else {
            return Vec::new();
        };
        vec![Desired {
            address: Address::new(target, KIND, "account"),
            controls: Vec::new(),
            want: Want::Present(attrs(&[("state", json!(spec.state.as_str()))])),
            depends_on: Vec::new(),
            private: baseline_engine::Attrs::new(),
        }]
    }

    async fn read(&self, target: &Target, desired: &[Desired]) -> Result<Reading, ServiceError> {
        let Some(d) = desired.first() else {
            return Ok(Reading::default());
        };
        let account = account_of(&self.aws, target)?;
        let ec2 = client!(aws_sdk_ec2, &*account, &target.region);
        let out = ec2
            .get_snapshot_block_public_access_state()
            .send()
            .await
            .map_err(Ctx::new(target, SERVICE).err("GetSnapshotBlockPublicAccessState"))?;
        let state = out
            .state()
            .map_or("unblocked", SnapshotBlockPublicAccessState::as_str);
        let ownership = crate::ec2_setting_owner(out.managed_by());
        let a = attrs(&[("state", json!(state))]);
        let mut observed = Observed::new(d.address.clone(), a, ownership);
        observed.note = loosening(state, wanted(d));
        Ok(vec![observed].into())
    }

    fn declare(&self, change: &Change) -> Declared {
        crate::usual(change)
    }

    async fn apply(&self, target: &Target, change: &Change) -> Result<Outputs, ServiceError> {
        if !matches!(change.action, Action::Create | Action::Update) {
            return Err(crate::unsupported(&change.address.kind, change.action));
        }
        let account = account_of(&self.aws, target)?;
        let ec2 = client!(aws_sdk_ec2, &*account, &target.region);
        let ctx = Ctx::new(target, SERVICE);
        let state = change
            .after
            .as_ref()
            .and_then(|a| a.get("state"))
            .and_then(Value::as_str)
            .unwrap_or("unblocked");
        if state == "unblocked" {
            ec2.disable_snapshot_block_public_access()
                .send()
                .await
                .map_err(ctx.err("DisableSnapshotBlockPublicAccess"))?;
        } else {
            ec2.enable_snapshot_block_public_access()
                .state(SnapshotBlockPublicAccessState::from(state))
                .send()
                .await
                .map_err(ctx.err("EnableSnapshotBlockPublicAccess"))?;
        }
        Ok(Outputs::new())
    }
}

/// The state the baseline asks for.
fn wanted(d: &Desired) -> &str {
    match &d.want {
        Want::Present(a) => a.get("state").and_then(Value::as_str).unwrap_or_default(),
        _ => "",
    }
}

/// What a change from `now` to `wanted` exposes (AWS: snapshots already
/// shared publicly are treated as private only under
/// `block-all-sharing`; leaving it makes them public again).
fn loosening(now: &str, wanted: &str) -> Option<String> {
    match (now, wanted) {
        ("block-all-sharing", "block-new-sharing" | "unblocked") => Some(
            "snapshots shared publicly before the block become publicly available again".into(),
        ),
        ("block-new-sharing", "unblocked") => Some("snapshots can be shared publicly again".into()),
        _ => None,
    }
}
