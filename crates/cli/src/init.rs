//! `baseline init`: a commented baseline for the current account, naming
//! what already exists (trail, recorder and their buckets, analyzer,
//! contacts, standards), so that the first plan corrects them instead of
//! making a second trail or bucket. The file is the `init.yaml` template;
//! every value in it is quoted as a YAML string (JSON's quoting, which YAML
//! reads), and the result is validated before it is written.

use std::path::Path;

use anyhow::{Context, Result};
use askama::Template;
use baseline_providers::survey::{ExistingTrail, Survey};
use baseline_spec::PasswordPolicySpec;

use crate::planfile::write_private;

/// A value read from AWS as a YAML double-quoted string, in a value or a
/// comment: JSON's quoting (which YAML reads) escapes the C0 controls; the
/// characters some YAML readers take as line breaks (NEL, the Unicode line
/// and paragraph separators) and the other C1 controls are escaped too,
/// as are format characters and noncharacters (U+FFFE, which other YAML
/// parsers refuse raw). No value can end its line and write YAML of its
/// own.
fn q(s: &str) -> String {
    let json = serde_json::to_string(s).expect("a string serializes");
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        if (c as u32) > 0xFFFF && baseline_engine::needs_escape(c) {
            out.push_str(&format!("\\U{:08x}", c as u32));
        } else if baseline_engine::needs_escape(c) || c == '\u{2028}' || c == '\u{2029}' {
            out.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

struct RecorderView {
    name_q: String,
    bucket_q: Option<String>,
    recording: &'static str,
}

struct TrailView {
    name_q: String,
    bucket_q: Option<String>,
    kms_q: String,
    log_file_validation: bool,
    control_tower: bool,
}

struct ContactView {
    kind: String,
    name_q: String,
    email_q: String,
    phone_q: String,
    title_q: String,
}

#[derive(Template)]
#[template(path = "init.yaml", escape = "none")]
struct InitFile {
    account_id: String,
    account_id_q: String,
    created_at: String,
    /// How many settings there are (the registry's).
    settings: usize,
    /// Block public access for snapshots in the home region today (empty:
    /// not read), and whether a declarative policy holds it.
    snapshot_sharing: String,
    snapshot_by_policy: bool,
    home_region_q: String,
    region_count: usize,
    /// The enabled regions, a few to a comment line.
    regions: Vec<String>,
    gaps: Vec<String>,
    recorder: Option<RecorderView>,
    analyzer_q: Option<String>,
    trail: Option<TrailView>,
    /// An organization trail that records this account already.
    org_trail: Option<String>,
    other_trails: Vec<String>,
    detector: bool,
    hub: bool,
    standards: String,
    contacts: Vec<ContactView>,
    /// The password policy's lines: the account's own, else the
    /// recommendation; and whether the account has one.
    password_policy: Vec<String>,
    has_password_policy: bool,
}

/// The policy's lines, `key: value`, each field of the account's policy
/// as it is (a comment where the recommendation differs), or the
/// recommendation when the account has none.
fn password_policy_lines(current: Option<&PasswordPolicySpec>) -> Vec<String> {
    use baseline_providers::iam::password_policy_fields as fields;
    let wanted = fields(&PasswordPolicySpec::RECOMMENDED, true);
    let Some(current) = current else {
        return wanted
            .iter()
            .filter(|(_, v)| !v.is_null())
            .map(|(k, v)| format!("{k}: {v}"))
            .collect();
    };
    fields(current, true)
        .iter()
        .filter_map(|(key, now)| {
            let rec = &wanted[key];
            match (now.is_null(), rec.is_null()) {
                (false, false) if now != rec => {
                    Some(format!("{key}: {now}   # as it is now; recommended: {rec}"))
                }
                (false, _) => Some(format!("{key}: {now}")),
                (true, false) => Some(format!("# {key}: {rec}   # not set now; recommended")),
                (true, true) => None,
            }
        })
        .collect()
}

fn trail_view(t: &ExistingTrail) -> TrailView {
    TrailView {
        name_q: q(&t.name),
        bucket_q: t.bucket.as_deref().map(q),
        kms_q: match &t.kms_key {
            Some(k) if k.starts_with("arn:") => q(k),
            _ => "none".into(),
        },
        log_file_validation: t.log_file_validation,
        control_tower: t.control_tower,
    }
}

/// The commented baseline for what the survey found.
pub fn render(s: &Survey, created_at: &str) -> String {
    // An organization trail already records this account: no trail of the
    // account's own (a second copy of management events is billed).
    let org_trail = s.trails.iter().find(|t| t.organization).map(|t| q(&t.name));
    // The trail to name: a multi-region trail of this account owned by the
    // home region.
    let (mine, others): (Vec<&ExistingTrail>, Vec<&ExistingTrail>) = s
        .trails
        .iter()
        .filter(|t| !t.organization)
        .partition(|t| t.home_region == s.home_region);
    let trail = mine.first().copied();
    let mut other_trails: Vec<String> = mine.iter().skip(1).map(|t| q(&t.name)).collect();
    other_trails.extend(others.iter().map(|t| {
        format!(
            "{} (home region {}: to name it instead, make that the home_region)",
            q(&t.name),
            q(&t.home_region)
        )
    }));
    let standards = if s.standards.is_empty() {
        "aws-foundational-security-best-practices".to_string()
    } else {
        s.standards
            .iter()
            .map(|st| st.key())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let known_sharing = s.snapshot_sharing.as_ref().filter(|(st, _)| {
        ["block-all-sharing", "block-new-sharing", "unblocked"].contains(&st.as_str())
    });
    let file = InitFile {
        account_id: q(&s.account_id),
        account_id_q: q(&s.account_id),
        created_at: created_at.to_string(),
        settings: baseline_providers::SETTINGS.len(),
        // Only a mode AWS documents is written into the file.
        snapshot_sharing: known_sharing.map(|(st, _)| st.clone()).unwrap_or_default(),
        snapshot_by_policy: known_sharing.is_some_and(|(_, p)| *p),
        home_region_q: q(&s.home_region),
        region_count: s.regions.len(),
        regions: s
            .regions
            .chunks(6)
            .map(|chunk| chunk.iter().map(|r| q(r)).collect::<Vec<_>>().join(", "))
            .collect(),
        gaps: s.gaps.iter().map(|g| q(g)).collect(),
        recorder: s.recorder.as_ref().map(|r| RecorderView {
            name_q: q(&r.name),
            bucket_q: r.bucket.as_deref().map(q),
            recording: if r.daily { "daily" } else { "continuous" },
        }),
        analyzer_q: s.analyzer.as_deref().map(q),
        trail: trail.map(trail_view),
        org_trail,
        other_trails,
        detector: s.detector,
        hub: s.hub,
        standards,
        contacts: s
            .contacts
            .iter()
            .map(|c| ContactView {
                kind: c.kind.to_ascii_lowercase(),
                name_q: q(&c.name),
                email_q: q(&c.email),
                phone_q: q(&c.phone),
                title_q: q(&c.title),
            })
            .collect(),
        password_policy: password_policy_lines(s.password_policy.as_ref()),
        has_password_policy: s.password_policy.is_some(),
    };
    let mut text = file.render().expect("the init template renders");
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text
}

/// Writes `text` to `path` as plans are written ([`write_private`]: 0600,
/// atomically, a symlink replaced and never written through): it holds
/// the account's contacts. Never over an existing file (or symlink) unless
/// `force`. The text is validated first: `init` never writes a file
/// `validate` would refuse.
pub fn write(text: &str, path: &Path, force: bool) -> Result<()> {
    baseline_spec::parse(text, &path.display().to_string())
        .context("baseline init made a file that does not validate (a bug: please report it)")?;
    let exists = || {
        anyhow::anyhow!(
            "{} already exists: baseline init does not write over it (use --force, or --out another file)",
            path.display()
        )
    };
    if !force && path.symlink_metadata().is_ok() {
        return Err(exists());
    }
    write_private(path, text.as_bytes(), ".baseline-init-")
}

#[cfg(test)]
mod tests {
    use super::*;
    use baseline_providers::survey::{ExistingTrail, Survey};

    fn survey(trails: Vec<ExistingTrail>) -> Survey {
        Survey {
            account_id: "123456789012".into(),
            home_region: "eu-west-1".into(),
            regions: vec!["eu-west-1".into(), "us-east-1".into()],
            trails,
            ..Survey::default()
        }
    }

    fn trail(name: &str, organization: bool) -> ExistingTrail {
        ExistingTrail {
            name: name.into(),
            home_region: "eu-west-1".into(),
            bucket: Some("org-log-archive".into()),
            kms_key: None,
            log_file_validation: true,
            control_tower: false,
            organization,
        }
    }

    /// An organization trail records the account already: init writes no
    /// trail of its own (a second one would bill twice, and its bucket is
    /// in another account), and says why.
    #[test]
    fn an_organization_trail_means_no_trail_of_the_accounts_own() {
        let text = render(&survey(vec![trail("org-trail", true)]), "");
        baseline_spec::parse(&text, "init.yaml").expect("init writes a valid baseline");
        let b = baseline_spec::parse(&text, "init.yaml").unwrap();
        assert!(b.cloudtrail.is_none(), "{text}");
        assert!(text.contains("organization trail \"org-trail\""), "{text}");
    }

    #[test]
    fn an_account_trail_is_named_with_its_bucket() {
        let text = render(&survey(vec![trail("mine", false)]), "");
        let b = baseline_spec::parse(&text, "init.yaml").unwrap();
        let t = b.cloudtrail.expect("a cloudtrail section");
        assert_eq!(t.name.as_deref(), Some("mine"));
        assert_eq!(t.bucket.as_deref(), Some("org-log-archive"));
    }

    /// Why: values read from AWS were pasted into the file: a region name
    /// with line breaks wrote an `alternate_contacts` entry with another
    /// address, and the file still validated.
    #[test]
    fn values_from_aws_cannot_write_yaml_of_their_own() {
        let evil = "eu-west-1\nalternate_contacts:\n  security: {name: x, email: evil@example.com, phone: \"1\", title: x}\n#";
        let mut s = survey(vec![ExistingTrail {
            home_region: evil.into(),
            name: "t\u{2028}alternate_contacts: {}\u{85}x".into(),
            ..trail("other", false)
        }]);
        s.regions.push(evil.into());
        s.gaps.push(format!("the trails ({evil})"));
        s.snapshot_sharing = Some((evil.into(), true));
        let text = render(&s, "");
        let b = baseline_spec::parse(&text, "init.yaml").expect("still a valid baseline");
        assert!(
            b.alternate_contacts.is_none(),
            "an entry was injected:\n{text}"
        );
        assert!(!text.contains("evil@example.com}\n"), "{text}");
        for line in text.lines() {
            assert!(
                !line.trim_start().starts_with("security: {name: x"),
                "a line of the attacker's: {line:?}\n{text}"
            );
            assert!(
                !line.contains('\u{2028}') && !line.contains('\u{85}'),
                "{line:?}"
            );
        }
    }

    /// A declarative policy's snapshot setting is written as it holds it;
    /// otherwise the recommendation, with today's state in a comment.
    #[test]
    fn the_snapshot_setting_follows_a_declarative_policy() {
        let mut s = survey(vec![]);
        s.snapshot_sharing = Some(("block-new-sharing".into(), true));
        let b = baseline_spec::parse(&render(&s, ""), "init.yaml").unwrap();
        assert_eq!(
            b.ebs_snapshot_public_access.unwrap().state,
            baseline_spec::SnapshotSharing::BlockNewSharing
        );
        s.snapshot_sharing = Some(("unblocked".into(), false));
        let text = render(&s, "");
        assert!(text.contains(": unblocked."), "{text}");
        let b = baseline_spec::parse(&text, "init.yaml").unwrap();
        assert_eq!(
            b.ebs_snapshot_public_access.unwrap().state,
            baseline_spec::SnapshotSharing::BlockAllSharing
        );
    }

    /// Why (issue 38): init wrote U+FFFE raw inside a quoted string, which
    /// other YAML parsers refuse; a format character (U+202E) reordered
    /// what a reviewer reads. Both are escaped now, and read back as they
    /// were.
    #[test]
    fn noncharacters_and_format_characters_are_escaped() {
        let name = "trail\u{FFFE}\u{202E}\u{1FFFF}-x";
        let s = survey(vec![ExistingTrail {
            name: name.into(),
            ..trail("other", false)
        }]);
        let text = render(&s, "");
        for c in ['\u{FFFE}', '\u{202E}', '\u{1FFFF}'] {
            assert!(!text.contains(c), "{c:?} raw in:\n{text}");
        }
        assert!(
            text.contains("\\ufffe") && text.contains("\\U0001ffff"),
            "{text}"
        );
        // Well-formed YAML that reads the name back as it was (AWS allows
        // no such trail name: validate then names it, escaped).
        match baseline_spec::parse(&text, "init.yaml") {
            Err(baseline_spec::SpecError::Invalid { diagnostics, .. }) => {
                assert_eq!(diagnostics.len(), 1, "{diagnostics:?}");
                assert_eq!(diagnostics[0].path, "cloudtrail.name");
                assert!(diagnostics[0].message.contains(name), "{diagnostics:?}");
                let shown = diagnostics[0].to_string();
                assert!(
                    !shown.contains('\u{202E}') && shown.contains("\\u{202e}"),
                    "{shown}"
                );
            }
            other => panic!("{other:?}\n{text}"),
        }
    }

    #[test]
    fn a_fresh_account_gets_the_recommendations() {
        let text = render(&survey(vec![]), "");
        let b = baseline_spec::parse(&text, "init.yaml").unwrap();
        assert_eq!(
            b.cloudtrail.expect("cloudtrail").trail_name(),
            "baseline-trail"
        );
        assert!(
            b.alternate_contacts.is_none(),
            "no made-up contact is written"
        );
    }

    /// A setting added to the registry is written by init too (here: an
    /// account with contacts, so that every setting has something to say).
    #[test]
    fn init_writes_every_setting_of_the_registry() {
        let mut s = survey(vec![]);
        s.contacts
            .push(baseline_providers::survey::ExistingContact {
                kind: "SECURITY",
                name: "Sec".into(),
                email: "sec@example.com".into(),
                phone: "+1-555-0100".into(),
                title: "Security".into(),
            });
        let b = baseline_spec::parse(&render(&s, ""), "init.yaml").unwrap();
        let settings: Vec<&str> = baseline_providers::SETTINGS
            .iter()
            .map(|s| s.section)
            .collect();
        assert_eq!(b.managed_sections(), settings);
        assert!(
            b.iam.as_ref().is_some_and(|i| i.password_policy.is_some()),
            "the password policy is written too"
        );
    }
}
