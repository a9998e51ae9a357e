//! S3 Block Public Access for the whole account (S3 Control), set in the
//! home region. A flag the baseline leaves out keeps its current value.

use async_trait::async_trait;
use aws_sdk_s3control::types::PublicAccessBlockConfiguration;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use baseline_engine::{
    Action, Address, Attrs, Change, Declared, Desired, Mode, Observed, Outputs, Ownership, Reading,
    Service, ServiceError, Target, Want,
};
use baseline_spec::Baseline;
use serde_json::{Value, json};

use crate::account_of;
use crate::clients;
use crate::error::Ctx;

const SERVICE: &str = "s3_public_access_block";
const FLAGS: [&str; 4] = [
    "block_public_acls",
    "ignore_public_acls",
    "block_public_policy",
    "restrict_public_buckets",
];

service_type!(
    /// Account-level S3 Block Public Access.
    S3AccountService
);

#[async_trait]
impl Service for S3AccountService {
    fn name(&self) -> &'static str {
        SERVICE
    }

    fn desired(&self, baseline: &Baseline, target: &Target, mode: Mode) -> Vec<Desired> {
        // A free setting: teardown leaves it on.
        let (Some(spec), true, Mode::Apply) = (&baseline.s3_public_access_block, target.home, mode)
        else {
            return Vec::new();
        };
        let mut attrs = Attrs::new();
        for (k, v) in FLAGS.iter().zip([
            spec.block_public_acls,
            spec.ignore_public_acls,
            spec.block_public_policy,
            spec.restrict_public_buckets,
        ]) {
            if let Some(v) = v {
                attrs.insert(k.to_string(), json!(v));
            }
        }
        if attrs.is_empty() {
            return Vec::new();
        }
        vec![Desired {
            address: Address::new(target, "s3_public_access_block.account", "account"),
            controls: vec!["S3.1".into()],
            want: Want::Present(attrs),
            depends_on: Vec::new(),
            private: baseline_engine::Attrs::new(),
        }]
    }

    async fn read(&self, target: &Target, desired: &[Desired]) -> Result<Reading, ServiceError> {
        let account = account_of(&self.aws, target)?;
        let account = &*account;
        let ctx = Ctx::new(target, SERVICE);
        let client = clients::s3control_for(account, &target.region);
        let Some(d) = desired.first() else {
            return Ok(Reading::default());
        };
        let config = match client
            .get_public_access_block()
            .account_id(&account.id)
            .send()
            .await
        {
            Ok(o) => o.public_access_block_configuration().cloned(),
            Err(e) if e.code() == Some("NoSuchPublicAccessBlockConfiguration") => None,
            Err(e) => return Err(Box::new(ctx.err("GetPublicAccessBlock")(e))),
        };
        // No configuration is the same as every flag off.
        let values = config.map_or([None; 4], |c| {
            [
                c.block_public_acls(),
                c.ignore_public_acls(),
                c.block_public_policy(),
                c.restrict_public_buckets(),
            ]
        });
        let attrs: Attrs = FLAGS
            .iter()
            .zip(values)
            .map(|(k, v)| (k.to_string(), json!(v.unwrap_or(false))))
            .collect();
        // Before a flag goes on, say which buckets are public today: they
        // will change behaviour (the source document: check the impact first).
        let turns_on = match &d.want {
            Want::Present(w) => w
                .iter()
                .any(|(k, v)| v == &json!(true) && attrs.get(k) != Some(&json!(true))),
            _ => false,
        };
        let mut observed = Observed::new(d.address.clone(), attrs, Ownership::NotOurs);
        if turns_on {
            let public = public_buckets(account, &target.region, &ctx).await?;
            if !public.is_empty() {
                observed.note = Some(format!(
                    "buckets public today, which this change makes private: {}; check that none needs to stay public before applying",
                    public.join(", ")
                ));
            }
        }
        Ok(vec![observed].into())
    }

    fn declare(&self, change: &Change) -> Declared {
        crate::usual(change)
    }

    async fn apply(&self, target: &Target, change: &Change) -> Result<Outputs, ServiceError> {
        let account = account_of(&self.aws, target)?;
        let account = &*account;
        let ctx = Ctx::new(target, SERVICE);
        let client = clients::s3control_for(account, &target.region);
        if !matches!(change.action, Action::Create | Action::Update) {
            return Err(crate::unsupported(&change.address.kind, change.action));
        }
        // `after` is the observed configuration with the baseline's flags
        // laid over it: the flags it leaves out keep their value.
        let after = change.after.clone().unwrap_or_default();
        let flag = |k: &str| after.get(k).and_then(Value::as_bool).unwrap_or(false);
        client
            .put_public_access_block()
            .account_id(&account.id)
            .public_access_block_configuration(
                PublicAccessBlockConfiguration::builder()
                    .block_public_acls(flag(FLAGS[0]))
                    .ignore_public_acls(flag(FLAGS[1]))
                    .block_public_policy(flag(FLAGS[2]))
                    .restrict_public_buckets(flag(FLAGS[3]))
                    .build(),
            )
            .send()
            .await
            .map_err(ctx.err("PutPublicAccessBlock"))?;
        Ok(Outputs::new())
    }
}

/// The account's buckets that are public today, each with why (its
/// policy, its ACL). A bucket that cannot be checked is listed as such.
pub(crate) async fn public_buckets(
    account: &crate::Account,
    home_region: &str,
    ctx: &Ctx,
) -> Result<Vec<String>, ServiceError> {
    use futures::StreamExt;
    let s3 = clients::s3_for(account, home_region);
    let mut buckets = Vec::new();
    let mut token = None;
    let mut bound = crate::pages::Bound::new(ctx, "ListBuckets");
    loop {
        let page = s3
            .list_buckets()
            .set_continuation_token(token.take())
            .send()
            .await
            .map_err(ctx.err("ListBuckets"))?;
        bound.page(page.continuation_token())?;
        for b in page.buckets() {
            if let Some(name) = b.name() {
                buckets.push((
                    name.to_string(),
                    b.bucket_region().unwrap_or(home_region).to_string(),
                ));
            }
        }
        match page.continuation_token() {
            Some(t) => token = Some(t.to_string()),
            None => break,
        }
    }
    let checks = futures::stream::iter(buckets)
        .map(|(name, region)| async move {
            let s3 = clients::s3_for(account, &region);
            let policy = match s3.get_bucket_policy_status().bucket(&name).send().await {
                Ok(o) => Ok(o
                    .policy_status()
                    .and_then(|p| p.is_public())
                    .unwrap_or(false)),
                Err(e) if e.code() == Some("NoSuchBucketPolicy") => Ok(false),
                Err(e) => Err(format!(
                    "GetBucketPolicyStatus: {}",
                    e.code().unwrap_or("error")
                )),
            };
            let acl = match s3.get_bucket_acl().bucket(&name).send().await {
                Ok(o) => Ok(o.grants().iter().any(|g| {
                    g.grantee().and_then(|g| g.uri()).is_some_and(|uri| {
                        uri.ends_with("/global/AllUsers")
                            || uri.ends_with("/global/AuthenticatedUsers")
                    })
                })),
                Err(e) => Err(format!("GetBucketAcl: {}", e.code().unwrap_or("error"))),
            };
            let why: Vec<String> = match (policy, acl) {
                (Err(e), _) | (_, Err(e)) => vec![format!("could not check: {e}")],
                (Ok(p), Ok(a)) => [(p, "bucket policy"), (a, "ACL")]
                    .into_iter()
                    .filter(|(public, _)| *public)
                    .map(|(_, why)| why.to_string())
                    .collect(),
            };
            (!why.is_empty()).then(|| format!("{name} ({})", why.join(", ")))
        })
        .buffer_unordered(16)
        .collect::<Vec<_>>()
        .await;
    let mut out: Vec<String> = checks.into_iter().flatten().collect();
    out.sort();
    Ok(out)
}
