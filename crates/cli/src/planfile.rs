//! Plan files: writing what an attacker would like to read (plans:
//! contacts, role ARNs, users without MFA, public buckets; `init`'s
//! baseline: contacts) for the owner only, reading plans back without
//! trusting their size, merging the plans of shards, and checking that a
//! saved plan's baseline file is unchanged.

use std::io::{Read, Write};
use std::path::Path;

use anyhow::{Context, Result, bail};
use baseline_engine::{BaselineSource, FORMAT_VERSION, Plan, render};
use baseline_spec::Baseline;

use crate::PlanArgs;

/// The largest plan file read, unless `BASELINE_MAX_PLAN_MIB` says
/// otherwise. A plan of 1,000 accounts × 17 regions is under 100 MiB
/// (docs/performance.md); larger organizations are planned in shards.
/// Parsing takes a few times the file's size in memory: without a bound,
/// a 1 GiB file took 5.8 GB and the process was killed.
pub const DEFAULT_MAX_PLAN_MIB: u64 = 256;

fn max_plan_bytes() -> Result<u64> {
    match std::env::var("BASELINE_MAX_PLAN_MIB") {
        Ok(v) => v
            .trim()
            .parse::<u64>()
            .ok()
            .filter(|n| *n > 0)
            .map(|n| n.saturating_mul(1024 * 1024))
            .with_context(|| {
                format!("BASELINE_MAX_PLAN_MIB is {v:?}: it takes a whole number of MiB, 1 or more")
            }),
        Err(_) => Ok(DEFAULT_MAX_PLAN_MIB * 1024 * 1024),
    }
}

/// Writes `bytes` to `path` readable by its owner only, atomically: a new
/// file (created exclusively, mode 0600) in the same directory, renamed
/// over the path; a symlink at the path is replaced, never written
/// through. `prefix` names the temporary file.
pub fn write_private(path: &Path, bytes: &[u8], prefix: &str) -> Result<()> {
    write_private_with(path, prefix, |f| f.write_all(bytes))
}

/// [`write_private`], the content written by `write`.
fn write_private_with(
    path: &Path,
    prefix: &str,
    write: impl FnOnce(&mut std::fs::File) -> std::io::Result<()>,
) -> Result<()> {
    let context = || format!("cannot write {}", path.display());
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(prefix)
        .tempfile_in(dir)
        .with_context(context)?;
    write(tmp.as_file_mut())
        .and_then(|()| tmp.as_file().sync_all())
        .with_context(context)?;
    tmp.persist(path)
        .map_err(|e| e.error)
        .with_context(context)?;
    Ok(())
}

/// Writes the plan with [`write_private`].
pub fn write_plan(plan: &Plan, path: &Path) -> Result<()> {
    write_private_with(path, ".baseline-plan-", |f| render::write_json(plan, f))
        .with_context(|| format!("cannot write the plan to {}", path.display()))
}

/// Reads a saved plan: refused unread when larger than the bound, and said
/// when others may read it.
pub fn read_plan(path: &Path) -> Result<Plan> {
    let context = || format!("cannot read plan file {}", path.display());
    let file = std::fs::File::open(path).with_context(context)?;
    let meta = file.metadata().with_context(context)?;
    let max = max_plan_bytes()?;
    let too_large = |size: u64| {
        anyhow::anyhow!(
            "{} is {} MiB, larger than a plan baseline reads ({} MiB): it was not read. A plan this large is better made in shards (`--shard K/N`); to read it anyway, set BASELINE_MAX_PLAN_MIB",
            path.display(),
            size.div_ceil(1024 * 1024),
            max / (1024 * 1024)
        )
    };
    if meta.len() > max {
        return Err(too_large(meta.len()));
    }
    warn_if_shared(path, &meta);
    let mut bytes = Vec::new();
    file.take(max + 1)
        .read_to_end(&mut bytes)
        .with_context(context)?;
    if bytes.len() as u64 > max {
        return Err(too_large(bytes.len() as u64));
    }
    // The version first (the rest skipped, nothing kept), then the plan
    // straight into its types: no second copy of it as a JSON tree.
    #[derive(serde::Deserialize)]
    struct Version {
        #[serde(default)]
        format_version: Option<serde_json::Value>,
    }
    let version: Version = serde_json::from_slice(&bytes)
        .with_context(|| format!("{} is not a baseline plan file (not JSON)", path.display()))?;
    let version = version.format_version.unwrap_or_default();
    if version.as_str() != Some(FORMAT_VERSION) {
        bail!(
            "{} has plan format version {}; this baseline reads version {FORMAT_VERSION}: make the plan again with this version",
            path.display(),
            version
        );
    }
    // serde's message quotes the file ("unknown variant `…`"): escaped
    // whole, its line breaks included.
    let plan: Plan = serde_json::from_slice(&bytes).map_err(|e| {
        anyhow::anyhow!(
            "{} is not a valid baseline plan file: {}",
            path.display(),
            baseline_engine::printable(&e.to_string())
        )
    })?;
    holds_only(path, &bytes, &plan)?;
    Ok(plan)
}

/// A plan file holds its plan and nothing else: it is what baseline writes
/// for the plan it holds (`summary` and `documents` are derived from the
/// changes; a field baseline does not know is not read by it, and would
/// mislead whoever reads the file). Laid out anew (an editor, `jq`) is
/// the same plan; anything else was edited. What the plan holds is then
/// compared with a fresh plan by `apply` (docs/plan-format.md).
fn holds_only(path: &Path, bytes: &[u8], plan: &Plan) -> Result<()> {
    let mut written = Vec::with_capacity(bytes.len());
    render::write_json(plan, &mut written)?;
    if written == bytes {
        return Ok(());
    }
    let file: serde_json::Value = serde_json::from_slice(bytes)?;
    let ours: serde_json::Value = serde_json::from_slice(&written)?;
    if file == ours {
        return Ok(());
    }
    let (file, ours) = (file.as_object(), ours.as_object());
    let mut keys: Vec<&String> = file
        .into_iter()
        .chain(ours)
        .flat_map(|o| o.keys())
        .collect();
    keys.sort();
    keys.dedup();
    let edited: Vec<String> = keys
        .into_iter()
        .filter(|k| file.and_then(|o| o.get(*k)) != ours.and_then(|o| o.get(*k)))
        .map(|k| format!("`{}`", baseline_engine::printable(k)))
        .collect();
    bail!(
        "{} was edited: {} not what baseline writes for the plan it holds; nothing was read from it or changed. Make the plan again",
        path.display(),
        match edited.as_slice() {
            [one] => format!("{one} is"),
            many => format!("{} are", many.join(", ")),
        }
    )
}

/// A plan others can read has been exposed (its contacts, roles, users
/// without MFA): said on stderr, the plan is still read.
fn warn_if_shared(path: &Path, meta: &std::fs::Metadata) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            eprintln!(
                "Warning: plan file {} can be read by others (mode {mode:04o}; baseline writes plans 0600): it names contacts, roles, users without MFA and public buckets. `chmod 600 {}`, and keep plans out of shared places.",
                path.display(),
                path.display()
            );
        }
    }
    #[cfg(not(unix))]
    let _ = (path, meta);
}

/// Several saved plans (one per shard) as one: same format, same baseline
/// file, same mode; accounts never in two of them.
pub(crate) fn merge_plans(paths: &[std::path::PathBuf], plans: Vec<Plan>) -> Result<Plan> {
    let mut plans = plans.into_iter().zip(paths);
    let (mut merged, first) = plans.next().expect("clap requires one plan file");
    let mut seen: std::collections::BTreeMap<String, &std::path::PathBuf> = merged
        .targets
        .iter()
        .map(|t| (t.account_id.clone(), first))
        .collect();
    for (p, path) in plans {
        if p.baseline != merged.baseline
            || p.source.as_ref().map(|s| &s.sha256) != merged.source.as_ref().map(|s| &s.sha256)
        {
            bail!(
                "{} and {} were made from different baselines: they are not parts of one plan",
                first.display(),
                path.display()
            );
        }
        if p.mode != merged.mode {
            bail!(
                "{} and {} are of different commands (apply, destroy)",
                first.display(),
                path.display()
            );
        }
        for t in &p.targets {
            if let Some(other) = seen.get(&t.account_id)
                && *other != path
            {
                bail!(
                    "account {} is in both {} and {}: the plans overlap",
                    t.account_id,
                    other.display(),
                    path.display()
                );
            }
        }
        for t in &p.targets {
            seen.insert(t.account_id.clone(), path);
        }
        for s in p.services {
            if !merged.services.contains(&s) {
                merged.services.push(s);
            }
        }
        for k in p.scopes.organization {
            if !merged.scopes.is_organization(&k) {
                merged.scopes.organization.push(k);
            }
        }
        for k in p.scopes.covered {
            if !merged.scopes.is_covered(&k) {
                merged.scopes.covered.push(k);
            }
        }
        merged.targets.extend(p.targets);
        merged.changes.extend(p.changes);
        merged.in_line.extend(p.in_line);
        merged.errors.extend(p.errors);
        merged.notes.extend(p.notes);
        merged.unreadable.extend(p.unreadable);
        // The same exceptions in every part: what each covers adds up.
        for e in p.exceptions {
            match merged.exceptions.iter_mut().find(|m| m.index == e.index) {
                Some(m) => m.covers += e.covers,
                None => merged.exceptions.push(e),
            }
        }
    }
    // One plan reads in account order, whichever shard an account was in.
    merged
        .targets
        .sort_by(|a, b| (&a.account_id, &a.region).cmp(&(&b.account_id, &b.region)));
    merged
        .changes
        .sort_by(|a, b| a.address.account.cmp(&b.address.account));
    merged
        .in_line
        .sort_by(|a, b| (&a.account, &a.region).cmp(&(&b.account, &b.region)));
    Ok(merged)
}

/// What a plan made now carries: its baseline file and the time.
pub(crate) fn stamp(plan: &mut Plan, source: BaselineSource) {
    plan.source = Some(source);
    plan.created_at = now_rfc3339();
}

/// Now, UTC, RFC 3339.
pub(crate) fn now_rfc3339() -> Option<String> {
    aws_smithy_types::DateTime::from(std::time::SystemTime::now())
        .fmt(aws_smithy_types::date_time::Format::DateTime)
        .ok()
}

/// Prints a baseline file's warnings (`warning: file:line:column: ...`).
pub(crate) fn warn(warnings: &[baseline_spec::Diagnostic]) {
    for w in warnings {
        eprintln!("warning: {}", baseline_engine::printable(&w.to_string()));
    }
}

/// Today, UTC, `YYYY-MM-DD`: the day exceptions are checked against
/// (always known: exceptions never switch off for want of a date).
pub(crate) fn today() -> String {
    chrono::Utc::now()
        .date_naive()
        .format("%Y-%m-%d")
        .to_string()
}

/// Reads and validates a baseline file, with what identifies it; its
/// warnings (an exception that has ended) go to standard error.
pub(crate) fn load_baseline(
    path: &Path,
    checks: &baseline_spec::Checks,
) -> Result<(Baseline, BaselineSource)> {
    let text = baseline_spec::read_bounded(path)?;
    let (baseline, warnings) =
        baseline_spec::parse_with(&text, &path.display().to_string(), checks)?;
    warn(&warnings);
    let source = BaselineSource {
        file: path.display().to_string(),
        sha256: sha256_hex(text.as_bytes()),
    };
    Ok((baseline, source))
}

pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The baseline a saved plan was made from: its file (`-f`, else the file
/// named in the plan, else that name next to the plan) must be unchanged,
/// and the plan's embedded baseline must be that file's.
pub(crate) fn verified_baseline(
    path: &Path,
    saved: &Plan,
    args: &PlanArgs,
    checks: &baseline_spec::Checks,
) -> Result<Baseline> {
    let Some(source) = &saved.source else {
        bail!(
            "{} does not say which baseline file it was made from; make the plan again",
            path.display()
        );
    };
    let recorded = Path::new(&source.file);
    let beside = path
        .parent()
        .zip(recorded.file_name())
        .map(|(dir, name)| dir.join(name));
    let candidates: Vec<std::path::PathBuf> = match &args.file.file {
        Some(f) => vec![f.clone()],
        None => std::iter::once(recorded.to_path_buf())
            .chain(beside)
            .collect(),
    };
    let Some(file) = candidates.iter().find(|c| c.is_file()) else {
        bail!(
            "cannot find {}, the baseline file {} was made from; pass it with -f",
            source.file,
            path.display()
        );
    };
    let (baseline, found) = load_baseline(file, checks)?;
    if found.sha256 != source.sha256 {
        bail!(
            "{} is not the baseline file this plan was made from: it changed since (or is another file); nothing was changed. Make the plan again with `baseline plan --out`",
            file.display()
        );
    }
    if baseline != saved.baseline {
        bail!(
            "{} was edited: its baseline is not that of {}, the file it names; nothing was changed. Make the plan again",
            path.display(),
            file.display()
        );
    }
    Ok(baseline)
}

/// Each distinct value, in first-seen order.
pub(crate) fn distinct(values: impl Iterator<Item = String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for v in values {
        if !out.contains(&v) {
            out.push(v);
        }
    }
    out
}
