//! Files baseline writes that hold what an attacker would like to read
//! (plans: contacts, role ARNs, users without MFA, public buckets; `init`'s
//! baseline: contacts), and reading plans back without trusting their size.

use std::io::{Read, Write};
use std::path::Path;

use anyhow::{Context, Result, bail};
use baseline_engine::{FORMAT_VERSION, Plan, render};

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
    let context = || format!("cannot write {}", path.display());
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(prefix)
        .tempfile_in(dir)
        .with_context(context)?;
    tmp.write_all(bytes)
        .and_then(|()| tmp.as_file().sync_all())
        .with_context(context)?;
    tmp.persist(path)
        .map_err(|e| e.error)
        .with_context(context)?;
    Ok(())
}

/// Writes the plan with [`write_private`].
pub fn write_plan(plan: &Plan, path: &Path) -> Result<()> {
    write_private(path, render::json(plan).as_bytes(), ".baseline-plan-")
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
    serde_json::from_slice(&bytes)
        .with_context(|| format!("{} is not a valid baseline plan file", path.display()))
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
