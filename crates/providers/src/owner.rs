//! Whose a resource is: baseline's ownership mark, the tag `managed-by`.
//!
//! The unnamed baseline marks with `managed-by: baseline`; a baseline with
//! `name: team-a` with `managed-by: baseline:team-a`. A resource is this
//! baseline's only when it carries exactly its mark. One carrying another
//! baseline's mark is never changed nor deleted: a difference is a manual
//! action for that baseline, said in the plan (docs/safety.md).

use baseline_engine::Ownership;
use baseline_spec::{Baseline, own_default, owner_mark};

/// The tag that marks what baseline created (and so may delete).
pub const OWNER_TAG_KEY: &str = "managed-by";

/// The alias of the key the unnamed baseline creates for CloudTrail; a
/// named baseline's ends in `-<name>`.
pub const KEY_ALIAS: &str = "alias/baseline-cloudtrail";

/// The baseline a run works for, as far as marks go.
#[derive(Debug, Clone)]
pub struct Owner {
    name: Option<String>,
    mark: String,
}

impl Default for Owner {
    fn default() -> Self {
        Owner::named(None)
    }
}

impl Owner {
    /// The owner for `baseline`.
    pub fn of(baseline: &Baseline) -> Owner {
        Owner::named(baseline.name.as_deref())
    }

    /// The owner for the baseline named `name` (`None`: the unnamed one).
    pub fn named(name: Option<&str>) -> Owner {
        Owner {
            name: name.map(str::to_string),
            mark: owner_mark(name),
        }
    }

    /// The value of [`OWNER_TAG_KEY`] this baseline sets.
    pub fn mark(&self) -> &str {
        &self.mark
    }

    /// A default made this baseline's own (`own_default`).
    pub fn default_of(&self, base: &str) -> String {
        own_default(base, self.name.as_deref())
    }

    /// The alias of this baseline's CloudTrail key.
    pub fn key_alias(&self) -> String {
        self.default_of(KEY_ALIAS)
    }

    /// Appended to the `Sid` of the policy statements this baseline adds,
    /// so that two baselines' statements in one policy never replace each
    /// other: empty for the unnamed baseline; the name (lowercase, hyphens
    /// as `X`, which a name never holds) otherwise.
    pub fn sid_suffix(&self) -> String {
        self.name
            .as_deref()
            .map(|n| n.replace('-', "X"))
            .unwrap_or_default()
    }

    /// Whose a resource is, as the value of its `managed-by` tag says:
    /// this baseline's, another baseline's (a tool that manages it), or
    /// no baseline's.
    pub fn classify(&self, value: Option<&str>) -> Ownership {
        match value {
            Some(v) if v == self.mark => Ownership::Ours,
            Some("baseline") => Ownership::OtherTool {
                tool: "the unnamed baseline (`managed-by: baseline`)".into(),
            },
            Some(v) => match v.strip_prefix("baseline:") {
                Some(other) => Ownership::OtherTool {
                    tool: format!(
                        "baseline \"{}\" (`managed-by: {}`)",
                        baseline_engine::printable(other),
                        baseline_engine::printable(v)
                    ),
                },
                None => Ownership::NotOurs,
            },
            None => Ownership::NotOurs,
        }
    }

    /// [`Owner::classify`] over a resource's tags as (key, value) pairs.
    pub fn classify_tags<'a>(
        &self,
        tags: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Ownership {
        let value = tags
            .into_iter()
            .find(|(k, _)| *k == OWNER_TAG_KEY)
            .map(|(_, v)| v);
        self.classify(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_name_their_baseline() {
        let unnamed = Owner::named(None);
        let a = Owner::named(Some("team-a"));
        assert_eq!(unnamed.mark(), "baseline");
        assert_eq!(a.mark(), "baseline:team-a");
        assert_eq!(unnamed.classify(Some("baseline")), Ownership::Ours);
        assert_eq!(a.classify(Some("baseline:team-a")), Ownership::Ours);
        assert!(matches!(
            a.classify(Some("baseline")),
            Ownership::OtherTool { .. }
        ));
        assert!(
            matches!(unnamed.classify(Some("baseline:team-a")), Ownership::OtherTool { tool: w } if w.contains("\"team-a\""))
        );
        assert_eq!(a.classify(Some("terraform")), Ownership::NotOurs);
        assert_eq!(a.classify(None), Ownership::NotOurs);
        assert_eq!(a.key_alias(), "alias/baseline-cloudtrail-team-a");
        assert_eq!(unnamed.key_alias(), "alias/baseline-cloudtrail");
        assert_eq!(a.sid_suffix(), "teamXa");
    }
}
