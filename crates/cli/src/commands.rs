//! The subcommands: spec → providers read → engine plan → render → engine
//! apply → providers write → re-read to verify.

use std::io::IsTerminal;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context, Result, bail};
use baseline_engine::{
    Action, ExecOptions, Mode, Outcome, Plan, PlanOptions, PlanProgress, Service, Skip,
    check_fresh, execute, make_plan, plan_as_reached, unconverged,
};
use baseline_providers::{ConnectOptions, SETTINGS, connect, reach_accounts, services, setting};
use baseline_spec::Baseline;

use crate::planfile::{
    distinct, load_baseline, merge_plans, now_rfc3339, read_plan, stamp, verified_baseline,
    write_plan,
};
use crate::terminal::{Progress, ReadProgress, confirm, emit, listen_for_signals, print_plan};
use crate::{
    Cli, Command, EXIT_CHANGES, EXIT_ERROR, EXIT_MANUAL, EXIT_OK, Global, Output, PlanArgs,
};

pub async fn run(cli: Cli) -> Result<u8> {
    let g = cli.global;
    match cli.command {
        Command::Validate { file, organization } => {
            let path = file.path();
            let (b, warnings) = baseline_spec::load_with(&path, &g.checks())?;
            crate::planfile::warn(&warnings);
            named_ous_exist(&b, &g, organization).await?;
            let sections = b.managed_sections();
            let n = b.listed_accounts().len();
            println!(
                "{} is valid: {}, regions {}, manages {}.",
                path.display(),
                match &b.accounts {
                    baseline_spec::Accounts::List(_) =>
                        format!("{n} account{}", if n == 1 { "" } else { "s" }),
                    baseline_spec::Accounts::Organization(_) =>
                        "every ACTIVE account of the organization".into(),
                },
                match &b.regions {
                    baseline_spec::Regions::All(_) => "all".to_string(),
                    baseline_spec::Regions::List(l) => l.join(", "),
                },
                if sections.is_empty() {
                    "nothing".to_string()
                } else {
                    sections.join(", ")
                }
            );
            Ok(EXIT_OK)
        }
        Command::Policy {
            file,
            for_,
            account,
        } => {
            use baseline_providers::policy::{AccountKind, PolicyFor};
            let b = baseline_spec::load(&file.path())?;
            let command = match for_ {
                crate::PolicyCommand::Plan => PolicyFor::Plan,
                crate::PolicyCommand::Apply => PolicyFor::Apply,
                crate::PolicyCommand::Destroy => PolicyFor::Destroy,
            };
            let delegated = b.organization.as_ref().and_then(|o| o.admin()).is_some();
            if account.is_some() && !delegated {
                bail!(
                    "--account is for a baseline whose organization runs through a delegated administrator (organization.delegated_admin); every account of this one needs the same policy"
                );
            }
            let account = account.map(|a| match a {
                crate::PolicyAccount::Management => AccountKind::Management,
                crate::PolicyAccount::Administrator => AccountKind::Administrator,
                crate::PolicyAccount::Member => AccountKind::Member,
            });
            let policy = baseline_providers::policy::policy_in(&b, command, account);
            emit(&format!(
                "{}\n",
                serde_json::to_string_pretty(&policy).expect("a value prints")
            ));
            Ok(EXIT_OK)
        }
        Command::Completions { shell } => {
            let mut cmd = crate::command();
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut cmd, "baseline", &mut out);
            emit(&String::from_utf8_lossy(&out));
            Ok(EXIT_OK)
        }
        Command::Man => {
            let mut out = Vec::new();
            clap_mangen::Man::new(crate::command()).render(&mut out)?;
            emit(&String::from_utf8_lossy(&out));
            Ok(EXIT_OK)
        }
        Command::Init { out, force } => {
            let survey =
                baseline_providers::survey::survey(g.profile.as_deref(), &g.limits()?).await?;
            let text = crate::init::render(&survey, &now_rfc3339().unwrap_or_default());
            if out.as_os_str() == "-" {
                emit(&text);
            } else {
                crate::init::write(&text, &out, force)?;
                if !g.quiet {
                    eprintln!(
                        "Wrote {} for account {} (home region {}{}). Read it, then `baseline plan -f {}`.",
                        out.display(),
                        survey.account_id,
                        survey.home_region,
                        if survey.gaps.is_empty() {
                            String::new()
                        } else {
                            format!(
                                "; {} read(s) failed, see its first lines",
                                survey.gaps.len()
                            )
                        },
                        out.display()
                    );
                }
            }
            Ok(EXIT_OK)
        }
        Command::Schema => {
            emit(&baseline_spec::json_schema_text());
            Ok(EXIT_OK)
        }
        Command::Show { planfile, output } => {
            let plans = planfile
                .iter()
                .map(|p| read_plan(p))
                .collect::<Result<Vec<_>>>()?;
            let plan = merge_plans(&planfile, plans)?;
            print_plan(&plan, output);
            Ok(EXIT_OK)
        }
        Command::Plan(args) => {
            let (baseline, source) = load_baseline(&args.file.path(), &g.checks())?;
            let (mut plan, svcs) = plan_fresh(&baseline, &args, &g, Mode::Apply).await?;
            stamp(&mut plan, source);
            drop(svcs);
            print_plan(&plan, args.output);
            if let Some(out) = &args.out {
                write_plan(&plan, out)?;
                if args.output == Output::Human && !g.quiet {
                    println!(
                        "Saved the plan to {}. Apply exactly it with: baseline apply {}",
                        out.display(),
                        out.display()
                    );
                }
            }
            Ok(plan_exit_code(&plan, args.detailed_exitcode))
        }
        Command::Apply {
            planfile: Some(path),
            plan: args,
            ..
        } => apply_saved(&path, &args, &g).await,
        Command::Apply {
            planfile: None,
            plan: args,
            auto_approve,
        } => plan_confirm_apply(&args, &g, auto_approve, Mode::Apply).await,
        Command::Destroy {
            plan: args,
            auto_approve,
        } => plan_confirm_apply(&args, &g, auto_approve, Mode::Destroy).await,
    }
}

/// The services `--only` selects, by section keys (or the service names
/// it took before).
fn selected(only: &Option<Vec<String>>) -> Result<Option<Vec<String>>> {
    let Some(names) = only else {
        return Ok(None);
    };
    names
        .iter()
        .map(|name| {
            setting(name).map(|s| s.section.to_string()).ok_or_else(|| {
                anyhow::anyhow!(
                    "unknown setting `{name}` in --only; the settings are: {} (the names {} are accepted too)",
                    SETTINGS
                        .iter()
                        .map(|s| s.section)
                        .collect::<Vec<_>>()
                        .join(", "),
                    SETTINGS
                        .iter()
                        .filter_map(|s| s.alias)
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })
        })
        .collect::<Result<Vec<_>>>()
        .map(Some)
}

/// With `validate --organization`: the OUs a baseline's overrides and
/// exceptions name exist, when the caller can read the organization
/// (otherwise a note says they were not checked). Without it, `validate`
/// contacts nothing, and a note says that `plan` checks them.
async fn named_ous_exist(b: &Baseline, g: &Global, organization: bool) -> Result<()> {
    if b.named_ous().is_empty() || !matches!(b.accounts, baseline_spec::Accounts::Organization(_)) {
        return Ok(());
    }
    if !organization {
        eprintln!(
            "note: the OUs named are checked against the organization by `plan` (or `validate --organization`)"
        );
        return Ok(());
    }
    let opts = ConnectOptions {
        profile: g.profile.clone(),
        accounts: None,
        regions: None,
        limits: g.limits()?,
        source_identity: None,
        shard: None,
    };
    match baseline_providers::ous::check_named(b, &opts).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(why)) => {
            eprintln!(
                "note: the OUs named were not checked: the organization could not be read ({why}); `plan` checks them"
            );
            Ok(())
        }
        Err(e) => Err(anyhow::anyhow!(
            "{}",
            baseline_engine::error_chain(e.as_ref())
        )),
    }
}

/// Connects and plans the baseline's current targets.
async fn plan_fresh(
    baseline: &Baseline,
    args: &PlanArgs,
    g: &Global,
    mode: Mode,
) -> Result<(Plan, Vec<Arc<dyn Service>>)> {
    let only = selected(&args.only)?;
    if let baseline_spec::Accounts::List(list) = &baseline.accounts {
        for id in args.accounts.iter().flatten() {
            if !list.iter().any(|a| &a.id.0 == id) {
                bail!("--accounts names {id}, which is not in the baseline");
            }
        }
    }
    let opts = ConnectOptions {
        profile: g.profile.clone(),
        accounts: args.accounts.clone(),
        regions: args.regions.clone(),
        limits: g.limits()?,
        source_identity: g.source_identity.clone(),
        shard: parse_shard(args.shard.as_deref())?,
    };
    // Each account is read as soon as it is reached.
    let reaching = reach_accounts(baseline, &opts).await;
    let svcs = services(&reaching.aws, only.as_deref());
    let mut plan = plan_as_reached(
        baseline,
        reaching.accounts,
        &svcs,
        mode,
        reaching.errors,
        &plan_options(args, g),
    )
    .await;
    add_run_notes(&mut plan, baseline);
    Ok((plan, svcs))
}

/// The notes of the whole run, after the reads' own: a saved plan's fresh
/// copy gets them too (the stale check compares `notes`).
fn add_run_notes(plan: &mut Plan, baseline: &baseline_spec::Baseline) {
    if plan.mode == Mode::Destroy
        && let Some(note) = baseline_providers::organization::left_by_destroy(baseline)
    {
        plan.notes.push(note);
    }
}

/// Plan options from the flags; a progress bar on a terminal unless `-q`.
fn plan_options(args: &PlanArgs, g: &Global) -> PlanOptions {
    let progress: Option<Arc<dyn PlanProgress>> = (std::io::stderr().is_terminal() && !g.quiet)
        .then(|| Arc::new(ReadProgress::new()) as Arc<dyn PlanProgress>);
    PlanOptions {
        concurrency: args.concurrency,
        per_account: args.account_concurrency,
        progress,
        today: Some(crate::planfile::today()),
    }
}

fn plan_exit_code(plan: &Plan, detailed: bool) -> u8 {
    if !plan.errors.is_empty() {
        return EXIT_ERROR;
    }
    if !detailed {
        return EXIT_OK;
    }
    let s = plan.summary();
    if s.add + s.change + s.destroy > 0 {
        EXIT_CHANGES
    } else if s.manual > 0 {
        EXIT_MANUAL
    } else {
        EXIT_OK
    }
}

/// `--shard K/N`, or `index/N` with K from JOB_COMPLETION_INDEX (0-based).
fn parse_shard(spec: Option<&str>) -> Result<Option<baseline_providers::Shard>> {
    let Some(spec) = spec else { return Ok(None) };
    let bad = || {
        anyhow::anyhow!(
            "--shard {spec}: give K/N with 1 <= K <= N (e.g. 2/3), or index/N in a Kubernetes Indexed Job"
        )
    };
    let (k, n) = spec.split_once('/').ok_or_else(bad)?;
    let count: u32 = n.trim().parse().map_err(|_| bad())?;
    let index: u32 = if k.trim() == "index" {
        let raw = std::env::var("JOB_COMPLETION_INDEX").map_err(|_| {
            anyhow::anyhow!("--shard {spec}: JOB_COMPLETION_INDEX is not set (it is in a Kubernetes Indexed Job)")
        })?;
        raw.trim()
            .parse::<u32>()
            .map_err(|_| anyhow::anyhow!("JOB_COMPLETION_INDEX={raw} is not a number"))?
            + 1
    } else {
        k.trim().parse().map_err(|_| bad())?
    };
    if count == 0 || index == 0 || index > count {
        return Err(bad());
    }
    Ok(Some(baseline_providers::Shard { index, count }))
}

async fn plan_confirm_apply(
    args: &PlanArgs,
    g: &Global,
    auto_approve: bool,
    mode: Mode,
) -> Result<u8> {
    let (baseline, source) = load_baseline(&args.file.path(), &g.checks())?;
    let (mut plan, svcs) = plan_fresh(&baseline, args, g, mode).await?;
    stamp(&mut plan, source);
    print_plan(&plan, Output::Human);
    if let Some(out) = &args.out {
        write_plan(&plan, out)?;
    }
    if !plan.has_applicable_changes() {
        return Ok(if plan.errors.is_empty() {
            EXIT_OK
        } else {
            EXIT_ERROR
        });
    }
    if !auto_approve {
        confirm(mode)?;
    }
    run_plan(&plan, &svcs, args, g).await
}

async fn apply_saved(path: &Path, args: &PlanArgs, g: &Global) -> Result<u8> {
    let saved = read_plan(path)?;
    let baseline = verified_baseline(path, &saved, args, &g.checks())?;
    // Re-read exactly what the plan looked at: same baseline, targets,
    // services; only the accounts and regions it names are connected.
    let connected = connect(
        &baseline,
        &ConnectOptions {
            profile: g.profile.clone(),
            // And those it could not reach or read, tried again: the same
            // failure is the same plan.
            accounts: Some(distinct(
                saved
                    .targets
                    .iter()
                    .map(|t| t.account_id.clone())
                    .chain(saved.errors.iter().map(|e| e.account.clone()))
                    .filter(|a| !a.is_empty()),
            )),
            regions: Some(distinct(
                saved
                    .targets
                    .iter()
                    .map(|t| t.region.clone())
                    .chain(saved.errors.iter().map(|e| e.region.clone()))
                    .filter(|r| !r.is_empty()),
            )),
            limits: g.limits()?,
            source_identity: g.source_identity.clone(),
            shard: None,
        },
    )
    .await;
    let only: Vec<String> = saved.services.clone();
    let svcs = services(&connected.aws, Some(&only));
    // The targets as the baseline resolves them now (a region or account
    // spliced into the saved plan is not among them).
    let mut fresh = make_plan(
        &baseline,
        &connected.targets,
        &svcs,
        saved.mode,
        connected.errors,
        &plan_options(args, g),
    )
    .await;
    add_run_notes(&mut fresh, &baseline);
    check_fresh(&saved, &fresh).context(format!(
        "{} was not applied; nothing was changed",
        path.display()
    ))?;
    if !saved.has_applicable_changes() {
        println!("No changes in {}: nothing to apply.", path.display());
        return Ok(if saved.errors.is_empty() {
            EXIT_OK
        } else {
            EXIT_ERROR
        });
    }
    run_plan(&saved, &svcs, args, g).await
}

async fn run_plan(
    plan: &Plan,
    svcs: &[Arc<dyn Service>],
    args: &PlanArgs,
    g: &Global,
) -> Result<u8> {
    let cancel = Arc::new(AtomicBool::new(false));
    // A step holds the run after a signal for at most its own bounds.
    let limits = g.limits()?;
    let progress = Arc::new(Progress::new(
        g.quiet,
        plan.changes
            .iter()
            .filter(|c| c.action.is_applied())
            .count(),
        limits.settle_timeout,
    ));
    let steps_over = listen_for_signals(
        cancel.clone(),
        progress.clone(),
        limits.settle_timeout + limits.operation_timeout,
    )?;
    if !g.quiet {
        println!();
    }
    let results = execute(
        plan,
        svcs,
        &ExecOptions {
            concurrency: args.concurrency,
            per_account: args.account_concurrency,
            cancel: Some(&cancel),
        },
        progress.as_ref(),
    )
    .await;
    steps_over.store(true, Ordering::SeqCst);

    // Re-read what was changed to confirm it converged.
    let after = make_plan(
        &plan.baseline,
        &plan.targets,
        svcs,
        plan.mode,
        Vec::new(),
        &plan_options(args, g),
    )
    .await;
    let not_converged = unconverged(&results, &after);
    for c in &not_converged {
        eprintln!(
            "Error: {}: applied, but AWS still differs ({})",
            c.address,
            c.changed.join(", ")
        );
    }
    for e in &after.errors {
        eprintln!("Error: re-reading after apply: {e}");
    }

    let count = |a: Action| {
        results
            .iter()
            .filter(|r| r.action == a && r.outcome == Outcome::Done)
            .count()
    };
    let failed = results
        .iter()
        .filter(|r| matches!(r.outcome, Outcome::Failed { .. }))
        .count();
    let skipped = results
        .iter()
        .filter(|r| matches!(r.outcome, Outcome::Skipped(_)))
        .count();
    if cancel.load(Ordering::SeqCst) {
        let not_started = results
            .iter()
            .filter(|r| matches!(&r.outcome, Outcome::Skipped(Skip::Interrupted)))
            .count();
        eprintln!(
            "Interrupted: {not_started} step(s) not started. Run `baseline plan` to see what remains."
        );
    }
    let manual = plan.summary().manual;
    let word = if plan.mode == Mode::Destroy {
        "Destroy"
    } else {
        "Apply"
    };
    // What the verifying re-read could not read counts too.
    let ok = failed == 0
        && skipped == 0
        && not_converged.is_empty()
        && plan.errors.is_empty()
        && after.errors.is_empty();
    println!(
        "\n{word} {}! Resources: {} added, {} changed, {} destroyed{}{}.",
        if ok {
            "complete"
        } else {
            "finished with errors"
        },
        count(Action::Create),
        count(Action::Update),
        count(Action::Delete),
        if failed + skipped > 0 {
            format!(", {failed} failed, {skipped} skipped")
        } else {
            String::new()
        },
        if manual > 0 {
            format!("; {manual} manual action(s) remain (apply does not do them)")
        } else {
            String::new()
        },
    );
    Ok(if ok { EXIT_OK } else { EXIT_ERROR })
}
