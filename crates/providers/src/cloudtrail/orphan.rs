//! Keys of baseline's mark that no alias names ([`orphans`]).

use aws_sdk_kms::types::KeyState;
use baseline_engine::ServiceError;

use super::key::KEY_DESCRIPTION;
use crate::OWNER_TAG_KEY;
use crate::error::Ctx;

/// The keys of baseline's for CloudTrail that no alias points at, as
/// `(key id, key ARN)`: tagged with its mark, with baseline's description,
/// enabled. A run that stopped between CreateKey and CreateAlias leaves
/// one (the next create adopts it), and so do two applies at once (one
/// wins the alias): every plan, destroy's too, shows them as manual
/// actions (baseline never deletes them: docs/decisions.md), so that none
/// is left where no plan sees it. Read in the home region when the key exists or goes: ListAliases,
/// ListKeys, then DescribeKey and ListResourceTags of each unaliased key.
pub(super) async fn orphans(
    kms: &aws_sdk_kms::Client,
    ctx: &Ctx,
    mark: &str,
) -> Result<Vec<(String, String)>, ServiceError> {
    let mut found = Vec::new();
    let mut aliased = std::collections::HashSet::new();
    let mut pages = kms.list_aliases().into_paginator().send();
    let mut bound = crate::pages::Bound::new(ctx, "ListAliases");
    while let Some(page) = pages.next().await {
        let page = page.map_err(ctx.err("ListAliases"))?;
        bound.page(page.next_marker())?;
        for a in page.aliases() {
            if let Some(k) = a.target_key_id() {
                aliased.insert(k.to_string());
            }
        }
    }
    let mut keys = Vec::new();
    let mut pages = kms.list_keys().into_paginator().send();
    let mut bound = crate::pages::Bound::new(ctx, "ListKeys");
    while let Some(page) = pages.next().await {
        let page = page.map_err(ctx.err("ListKeys"))?;
        bound.page(page.next_marker())?;
        for k in page.keys() {
            if let Some(id) = k.key_id()
                && !aliased.contains(id)
            {
                keys.push(id.to_string());
            }
        }
    }
    // A key whose policy does not let this account describe it (another
    // team's, a key being deleted) is not baseline's: it is passed over,
    // not an error that stops the search (kind denied or not found).
    let passed_over = |kind: baseline_engine::ErrorKind| {
        matches!(
            kind,
            baseline_engine::ErrorKind::Denied | baseline_engine::ErrorKind::NotFound
        )
    };
    for id in keys {
        let meta = match kms.describe_key().key_id(&id).send().await {
            Ok(meta) => meta,
            Err(e) if passed_over(crate::error::HttpStatus::kind(&e)) => continue,
            Err(e) => return Err(Box::new(ctx.err("DescribeKey")(e))),
        };
        let Some(m) = meta.key_metadata() else {
            continue;
        };
        if m.description() != Some(KEY_DESCRIPTION) || m.key_state() != Some(&KeyState::Enabled) {
            continue;
        }
        let tags = match kms.list_resource_tags().key_id(&id).send().await {
            Ok(tags) => tags,
            Err(e) if passed_over(crate::error::HttpStatus::kind(&e)) => continue,
            Err(e) => return Err(Box::new(ctx.err("ListResourceTags")(e))),
        };
        if tags
            .tags()
            .iter()
            .any(|t| t.tag_key() == OWNER_TAG_KEY && t.tag_value() == mark)
        {
            found.push((id, m.arn().unwrap_or_default().to_string()));
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_kms::types::{KeyListEntry, KeyMetadata, Tag};
    use aws_smithy_mocks::{RuleMode, mock, mock_client};
    use aws_smithy_types::error::ErrorMetadata;

    /// Why (issue #15): one key the account may not describe (its policy
    /// says so) stopped the search for baseline's own key, and the create
    /// failed with AccessDenied. It is passed over now.
    #[tokio::test]
    async fn a_key_the_account_may_not_describe_does_not_stop_the_search() {
        let aliases = mock!(aws_sdk_kms::Client::list_aliases).then_output(|| {
            aws_sdk_kms::operation::list_aliases::ListAliasesOutput::builder().build()
        });
        let keys = mock!(aws_sdk_kms::Client::list_keys).then_output(|| {
            aws_sdk_kms::operation::list_keys::ListKeysOutput::builder()
                .keys(KeyListEntry::builder().key_id("theirs").build())
                .keys(KeyListEntry::builder().key_id("ours").build())
                .build()
        });
        let denied = mock!(aws_sdk_kms::Client::describe_key)
            .match_requests(|r| r.key_id() == Some("theirs"))
            .then_error(|| {
                aws_sdk_kms::operation::describe_key::DescribeKeyError::generic(
                    ErrorMetadata::builder()
                        .code("AccessDeniedException")
                        .message("not authorized by the key policy")
                        .build(),
                )
            });
        let ours = mock!(aws_sdk_kms::Client::describe_key)
            .match_requests(|r| r.key_id() == Some("ours"))
            .then_output(|| {
                aws_sdk_kms::operation::describe_key::DescribeKeyOutput::builder()
                    .key_metadata(
                        KeyMetadata::builder()
                            .key_id("ours")
                            .description(KEY_DESCRIPTION)
                            .key_state(KeyState::Enabled)
                            .build()
                            .unwrap(),
                    )
                    .build()
            });
        let tags = mock!(aws_sdk_kms::Client::list_resource_tags).then_output(|| {
            aws_sdk_kms::operation::list_resource_tags::ListResourceTagsOutput::builder()
                .tags(
                    Tag::builder()
                        .tag_key(OWNER_TAG_KEY)
                        .tag_value("baseline")
                        .build()
                        .unwrap(),
                )
                .build()
        });
        let kms = mock_client!(
            aws_sdk_kms,
            RuleMode::MatchAny,
            [&aliases, &keys, &denied, &ours, &tags],
            |c| c.retry_config(aws_sdk_kms::config::retry::RetryConfig::disabled())
        );
        let ctx = Ctx {
            account: "123456789012".into(),
            region: "eu-west-1".into(),
            service: "kms",
        };
        let found = orphans(&kms, &ctx, "baseline").await.unwrap();
        assert_eq!(
            found.iter().map(|(id, _)| id.as_str()).collect::<Vec<_>>(),
            ["ours"]
        );
        assert_eq!(denied.num_calls(), 1);
    }
}
