//! The subcommands: spec → providers read → engine plan → render → engine
//! apply → providers write → re-read to verify.

use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use baseline_engine::render::{self, Styles};
use baseline_engine::{
    Action, BaselineSource, Change, ExecOptions, Mode, Observer, Outcome, Plan, PlanOptions,
    PlanProgress, Service, check_fresh, execute, make_plan, printable, unconverged,
};
use baseline_providers::{ConnectOptions, SETTINGS, connect, selected_service, services};
use baseline_spec::Baseline;

use crate::planfile::{read_plan, write_plan};
use crate::{
    Cli, Command, EXIT_CHANGES, EXIT_ERROR, EXIT_MANUAL, EXIT_OK, Global, Output, PlanArgs,
    color_on,
};

pub async fn run(cli: Cli) -> Result<u8> {
    let g = cli.global;
    match cli.command {
        Command::Validate { file } => {
            let path = file.path();
            let b = baseline_spec::load(&path)?;
            let sections = sections(&b);
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
        Command::Policy { file, for_ } => {
            let b = baseline_spec::load(&file.path())?;
            let command = match for_ {
                crate::PolicyCommand::Plan => baseline_providers::policy::PolicyFor::Plan,
                crate::PolicyCommand::Apply => baseline_providers::policy::PolicyFor::Apply,
                crate::PolicyCommand::Destroy => baseline_providers::policy::PolicyFor::Destroy,
            };
            let policy = baseline_providers::policy::policy(&b, command);
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
            let (baseline, source) = load_baseline(&args.file.path())?;
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

/// The sections the baseline gives, in file order.
fn sections(b: &Baseline) -> Vec<&'static str> {
    let given = serde_json::to_value(b).unwrap_or_default();
    baseline_spec::SECTIONS
        .iter()
        .copied()
        .filter(|s| given.get(*s).is_some())
        .collect()
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
            selected_service(name).map(str::to_string).ok_or_else(|| {
                anyhow::anyhow!(
                    "unknown setting `{name}` in --only; the settings are: {} (the service names ec2, account, trustedadvisor and s3 are accepted too)",
                    SETTINGS
                        .iter()
                        .map(|(section, _)| *section)
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })
        })
        .collect::<Result<Vec<_>>>()
        .map(Some)
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
    let connected = connect(
        baseline,
        &ConnectOptions {
            profile: g.profile.clone(),
            accounts: args.accounts.clone(),
            regions: args.regions.clone(),
            limits: g.limits()?,
            source_identity: g.source_identity.clone(),
            shard: parse_shard(args.shard.as_deref())?,
        },
    )
    .await;
    let svcs = services(&connected.aws, only.as_deref());
    let plan = make_plan(
        baseline,
        &connected.targets,
        &svcs,
        mode,
        connected.errors,
        &plan_options(args, g),
    )
    .await;
    Ok((plan, svcs))
}

/// Plan options from the flags; a progress bar on a terminal unless `-q`.
fn plan_options(args: &PlanArgs, g: &Global) -> PlanOptions {
    let progress: Option<Arc<dyn PlanProgress>> = (std::io::stderr().is_terminal() && !g.quiet)
        .then(|| Arc::new(ReadProgress::new()) as Arc<dyn PlanProgress>);
    PlanOptions {
        concurrency: args.concurrency,
        per_account: args.account_concurrency,
        progress,
    }
}

/// "reading 120/340 · 2 failed", on standard error, cleared when done.
struct ReadProgress {
    bar: indicatif::ProgressBar,
    failed: std::sync::atomic::AtomicUsize,
}

impl ReadProgress {
    fn new() -> Self {
        let bar =
            indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::stderr());
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} reading {pos}/{len} account × region × service {msg} [{elapsed}]",
            )
            .expect("a valid template"),
        );
        bar.enable_steady_tick(Duration::from_millis(120));
        ReadProgress {
            bar,
            failed: Default::default(),
        }
    }
}

impl PlanProgress for ReadProgress {
    fn total(&self, reads: usize) {
        self.bar.set_length(reads as u64);
    }
    fn read_done(&self, _target: &baseline_engine::Target, _service: &str, failed: bool) {
        if failed {
            let n = self.failed.fetch_add(1, Ordering::SeqCst) + 1;
            self.bar.set_message(format!("· {n} failed"));
        }
        self.bar.inc(1);
        if self.bar.position() >= self.bar.length().unwrap_or(0) {
            self.bar.finish_and_clear();
        }
    }
}

fn print_plan(plan: &Plan, output: Output) {
    let text = match output {
        Output::Human => {
            let styles = if color_on(&std::io::stdout()) {
                Styles::colored()
            } else {
                Styles::plain()
            };
            render::human(plan, &styles)
        }
        Output::Json => render::json(plan),
        Output::Markdown => render::markdown(plan),
        Output::Html => baseline_engine::report::html(plan),
    };
    emit(&text);
}

/// Writes to standard output; a reader that went away (`| head`) ends the
/// program quietly, as other command-line tools do.
fn emit(text: &str) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(text.as_bytes()).and_then(|()| out.flush())
        && e.kind() == std::io::ErrorKind::BrokenPipe
    {
        std::process::exit(EXIT_OK as i32);
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

/// Several saved plans (one per shard) as one: same format, same baseline
/// file, same mode; accounts never in two of them.
fn merge_plans(paths: &[std::path::PathBuf], plans: Vec<Plan>) -> Result<Plan> {
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
        merged.targets.extend(p.targets);
        merged.changes.extend(p.changes);
        merged.errors.extend(p.errors);
        merged.notes.extend(p.notes);
        merged.unreadable.extend(p.unreadable);
    }
    // One plan reads in account order, whichever shard an account was in.
    merged
        .targets
        .sort_by(|a, b| (&a.account_id, &a.region).cmp(&(&b.account_id, &b.region)));
    merged
        .changes
        .sort_by(|a, b| a.address.account.cmp(&b.address.account));
    Ok(merged)
}

/// What a plan made now carries: its baseline file and the time.
fn stamp(plan: &mut Plan, source: BaselineSource) {
    plan.source = Some(source);
    plan.created_at = now_rfc3339();
}

/// Now, UTC, RFC 3339.
fn now_rfc3339() -> Option<String> {
    aws_smithy_types::DateTime::from(std::time::SystemTime::now())
        .fmt(aws_smithy_types::date_time::Format::DateTime)
        .ok()
}

/// Reads and validates a baseline file, with what identifies it.
fn load_baseline(path: &Path) -> Result<(Baseline, BaselineSource)> {
    let text = baseline_spec::read_bounded(path)?;
    let baseline = baseline_spec::parse(&text, &path.display().to_string())?;
    let source = BaselineSource {
        file: path.display().to_string(),
        sha256: sha256_hex(text.as_bytes()),
    };
    Ok((baseline, source))
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

async fn plan_confirm_apply(
    args: &PlanArgs,
    g: &Global,
    auto_approve: bool,
    mode: Mode,
) -> Result<u8> {
    let (baseline, source) = load_baseline(&args.file.path())?;
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

/// Asks for `yes` on a terminal; refuses without one.
fn confirm(mode: Mode) -> Result<()> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        bail!(
            "refusing to {} without confirmation: standard input is not a terminal. Review the plan and pass --auto-approve, or save it with `baseline plan --out FILE` and run `baseline apply FILE`",
            if mode == Mode::Destroy {
                "destroy"
            } else {
                "apply"
            }
        );
    }
    print!(
        "\nDo you want to {}?\n  Only 'yes' will be accepted to approve.\n\n  Enter a value: ",
        if mode == Mode::Destroy {
            "stop these paid services"
        } else {
            "perform these actions"
        }
    );
    std::io::stdout().flush()?;
    let mut answer = String::new();
    stdin.lock().read_line(&mut answer)?;
    if answer.trim() != "yes" {
        bail!("cancelled: nothing was changed");
    }
    Ok(())
}

/// The baseline a saved plan was made from: its file (`-f`, else the file
/// named in the plan, else that name next to the plan) must be unchanged,
/// and the plan's embedded baseline must be that file's.
fn verified_baseline(path: &Path, saved: &Plan, args: &PlanArgs) -> Result<Baseline> {
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
    let (baseline, found) = load_baseline(file)?;
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
fn distinct(values: impl Iterator<Item = String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for v in values {
        if !out.contains(&v) {
            out.push(v);
        }
    }
    out
}

async fn apply_saved(path: &Path, args: &PlanArgs, g: &Global) -> Result<u8> {
    let saved = read_plan(path)?;
    let baseline = verified_baseline(path, &saved, args)?;
    // Re-read exactly what the plan looked at: same baseline, targets,
    // services; only the accounts and regions it names are connected.
    let connected = connect(
        &baseline,
        &ConnectOptions {
            profile: g.profile.clone(),
            accounts: Some(distinct(saved.targets.iter().map(|t| t.account_id.clone()))),
            regions: Some(distinct(saved.targets.iter().map(|t| t.region.clone()))),
            limits: g.limits()?,
            source_identity: g.source_identity.clone(),
            shard: None,
        },
    )
    .await;
    let only: Vec<String> = saved.services.clone();
    let svcs = services(&connected.aws, Some(&only));
    let fresh = make_plan(
        &baseline,
        &saved.targets,
        &svcs,
        saved.mode,
        connected.errors,
        &plan_options(args, g),
    )
    .await;
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

/// Prints each step as Terraform does, and knows which are running.
struct Progress {
    quiet: bool,
    /// Steps to run, and steps ended (done, failed or skipped).
    total: usize,
    ended: std::sync::atomic::AtomicUsize,
    failed: std::sync::atomic::AtomicUsize,
    /// Steps started and not ended: what a hard stop may leave half-done.
    running: std::sync::Mutex<std::collections::BTreeSet<String>>,
}

/// SIGINT (Ctrl-C) or SIGTERM (a cancelled CI job): the first starts no new
/// step and lets running ones finish; the second exits at once, naming
/// the steps that may be half-done. Listening starts before the first step
/// (a listener made inside the task would only exist once the task runs).
fn listen_for_signals(cancel: Arc<AtomicBool>, progress: Arc<Progress>) -> Result<()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut interrupt = signal(SignalKind::interrupt())?;
        let mut terminate = signal(SignalKind::terminate())?;
        tokio::spawn(async move {
            let mut received = 0;
            loop {
                let name = tokio::select! {
                    Some(()) = interrupt.recv() => "Interrupt",
                    Some(()) = terminate.recv() => "Termination signal",
                    else => return,
                };
                received += 1;
                if received == 1 {
                    eprintln!(
                        "\n{name} received: letting running steps finish, starting no new ones. Send it again to stop at once."
                    );
                    cancel.store(true, Ordering::SeqCst);
                } else {
                    let running = progress
                        .running
                        .lock()
                        .map(|r| r.clone())
                        .unwrap_or_default();
                    eprintln!("\n{name} received again: stopping now.");
                    if running.is_empty() {
                        eprintln!("No step was running.");
                    } else {
                        eprintln!("These steps were running and may be half-done:");
                        for r in &running {
                            eprintln!("  {r}");
                        }
                    }
                    eprintln!("Run `baseline plan` to see what remains.");
                    std::process::exit(130);
                }
            }
        });
    }
    #[cfg(not(unix))]
    {
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                eprintln!(
                    "\nInterrupt received: letting running steps finish, starting no new ones."
                );
                cancel.store(true, Ordering::SeqCst);
            }
            if tokio::signal::ctrl_c().await.is_ok() {
                let _ = &progress;
                eprintln!(
                    "\nInterrupt received again: stopping now. Run `baseline plan` to see what remains."
                );
                std::process::exit(130);
            }
        });
    }
    Ok(())
}

impl Progress {
    /// `[12/57]`, or `[12/57, 1 failed]`.
    fn count(&self, failed_now: bool) -> String {
        let ended = self.ended.fetch_add(1, Ordering::SeqCst) + 1;
        let failed = self
            .failed
            .fetch_add(usize::from(failed_now), Ordering::SeqCst)
            + usize::from(failed_now);
        match failed {
            0 => format!("[{ended}/{}]", self.total),
            n => format!("[{ended}/{}, {n} failed]", self.total),
        }
    }
}

impl Observer for Progress {
    fn started(&self, c: &Change) {
        if let Ok(mut r) = self.running.lock() {
            r.insert(format!("{} ({:?})", c.address, c.action));
        }
        if !self.quiet {
            let verb = match c.action {
                Action::Create => "Creating...",
                Action::Update => "Modifying...",
                Action::Delete => "Destroying...",
                _ => return,
            };
            println!("{}: {verb}", printable(&c.address.to_string()));
        }
    }
    fn finished(&self, c: &Change, outcome: &Outcome, elapsed: Duration) {
        if let Ok(mut r) = self.running.lock() {
            r.remove(&format!("{} ({:?})", c.address, c.action));
        }
        let count = self.count(!matches!(outcome, Outcome::Done));
        match outcome {
            Outcome::Done if !self.quiet => {
                let what = match c.action {
                    Action::Create => "Creation",
                    Action::Update => "Modifications",
                    _ => "Destruction",
                };
                println!(
                    "{}: {what} complete after {:.1}s {count}",
                    printable(&c.address.to_string()),
                    elapsed.as_secs_f64()
                );
            }
            Outcome::Done => {}
            // Names and messages from AWS: never a control character raw.
            // The kind first (throttled, denied, stale, ...): what to do
            // about it differs.
            Outcome::Failed { kind, message } => eprintln!(
                "Error: {} ({kind}): {} {count}",
                printable(&c.address.to_string()),
                printable(message)
            ),
            Outcome::Skipped(why) => eprintln!(
                "Skipped: {}: {} {count}",
                printable(&c.address.to_string()),
                printable(why)
            ),
        }
    }
}

async fn run_plan(
    plan: &Plan,
    svcs: &[Arc<dyn Service>],
    args: &PlanArgs,
    g: &Global,
) -> Result<u8> {
    let cancel = Arc::new(AtomicBool::new(false));
    let progress = Arc::new(Progress {
        quiet: g.quiet,
        total: plan
            .changes
            .iter()
            .filter(|c| c.action.is_applied())
            .count(),
        ended: Default::default(),
        failed: Default::default(),
        running: Default::default(),
    });
    listen_for_signals(cancel.clone(), progress.clone())?;
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
            .filter(
                |r| matches!(&r.outcome, Outcome::Skipped(why) if why.starts_with("not started")),
            )
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
