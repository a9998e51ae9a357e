//! The terminal: the read progress line, the plan printed in its output
//! format, the confirmation prompt, each applied step as it starts and
//! ends, and the signals that stop an apply.

use std::io::{BufRead, IsTerminal, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Result, bail};
use baseline_engine::render::{self, Styles};
use baseline_engine::{Action, Change, Mode, Observer, Outcome, Plan, PlanProgress, printable};

use crate::{EXIT_OK, Output, color_on};

/// "reading 120/340 · 2 failed", on standard error, cleared when done.
pub(crate) struct ReadProgress {
    bar: indicatif::ProgressBar,
    failed: std::sync::atomic::AtomicUsize,
}

impl ReadProgress {
    pub(crate) fn new() -> Self {
        let bar = indicatif::ProgressBar::with_draw_target(
            Some(0),
            indicatif::ProgressDrawTarget::stderr(),
        );
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
    fn more(&self, reads: usize) {
        self.bar.inc_length(reads as u64);
    }
    fn read_done(&self, _target: &baseline_engine::Target, _service: &str, failed: bool) {
        if failed {
            let n = self.failed.fetch_add(1, Ordering::SeqCst) + 1;
            self.bar.set_message(format!("· {n} failed"));
        }
        self.bar.inc(1);
    }
    fn finished(&self) {
        self.bar.finish_and_clear();
    }
}

pub(crate) fn print_plan(plan: &Plan, output: Output) {
    if output == Output::Json {
        // Written as it is serialized: at a thousand accounts the text is
        // hundreds of MB.
        let written = render::write_json(plan, std::io::stdout().lock());
        return quiet_on_broken_pipe(written);
    }
    let text = match output {
        Output::Human => {
            let styles = if color_on(&std::io::stdout()) {
                Styles::colored()
            } else {
                Styles::plain()
            };
            render::human(plan, &styles)
        }
        Output::Json => unreachable!("written above"),
        Output::Markdown => render::markdown(plan),
        Output::Html => baseline_engine::report::html(plan),
    };
    emit(&text);
}

/// Writes to standard output; a reader that went away (`| head`) ends the
/// program quietly, as other command-line tools do.
pub(crate) fn emit(text: &str) {
    let mut out = std::io::stdout().lock();
    quiet_on_broken_pipe(out.write_all(text.as_bytes()).and_then(|()| out.flush()));
}

fn quiet_on_broken_pipe(written: std::io::Result<()>) {
    if let Err(e) = written
        && e.kind() == std::io::ErrorKind::BrokenPipe
    {
        std::process::exit(EXIT_OK as i32);
    }
}

/// Asks for `yes` on a terminal; refuses without one.
pub(crate) fn confirm(mode: Mode) -> Result<()> {
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

/// Prints each step as Terraform does, and knows which are running.
pub(crate) struct Progress {
    quiet: bool,
    /// Steps to run, and steps ended (done, failed or skipped).
    total: usize,
    /// The bound of the waits a step declares.
    settle: Duration,
    ended: std::sync::atomic::AtomicUsize,
    failed: std::sync::atomic::AtomicUsize,
    /// Steps started and not ended: what a hard stop may leave half-done.
    running: std::sync::Mutex<std::collections::BTreeSet<String>>,
}

/// SIGINT (Ctrl-C) or SIGTERM (a cancelled CI job): the first starts no new
/// step and lets running ones finish, for at most `grace` (a step that
/// never finishes, such as an endless listing, does not hold the run);
/// the second, or the end of `grace` while steps still run, exits at once
/// (130), naming the steps that may be half-done. Once the caller sets
/// the returned flag (its steps are over: the summary and the re-read
/// that checks them follow), the end of `grace` stops nothing. Listening
/// starts before the first step (a listener made inside the task would
/// only exist once the task runs).
pub(crate) fn listen_for_signals(
    cancel: Arc<AtomicBool>,
    progress: Arc<Progress>,
    grace: std::time::Duration,
) -> Result<Arc<AtomicBool>> {
    let steps_over = Arc::new(AtomicBool::new(false));
    let over = steps_over.clone();
    let stop_now = move |why: String| {
        let running = progress
            .running
            .lock()
            .map(|r| r.clone())
            .unwrap_or_default();
        eprintln!("\n{why}: stopping now.");
        if running.is_empty() {
            eprintln!("No step was running.");
        } else {
            eprintln!("These steps were running and may be half-done:");
            for r in &running {
                eprintln!("  {}", baseline_engine::printable(r));
            }
        }
        eprintln!("Run `baseline plan` to see what remains.");
        std::process::exit(130);
    };
    #[cfg(unix)]
    let (mut interrupt, mut terminate) = {
        use tokio::signal::unix::{SignalKind, signal};
        (
            signal(SignalKind::interrupt())?,
            signal(SignalKind::terminate())?,
        )
    };
    tokio::spawn(async move {
        #[cfg(unix)]
        let mut next = async || {
            tokio::select! {
                Some(()) = interrupt.recv() => Some("Interrupt"),
                Some(()) = terminate.recv() => Some("Termination signal"),
                else => None,
            }
        };
        #[cfg(not(unix))]
        let mut next = async || tokio::signal::ctrl_c().await.ok().map(|()| "Interrupt");
        let Some(name) = next().await else { return };
        eprintln!(
            "\n{name} received: letting running steps finish (for at most {}s), starting no new ones. Send it again to stop at once.",
            grace.as_secs()
        );
        cancel.store(true, Ordering::SeqCst);
        tokio::select! {
            Some(name) = next() => stop_now(format!("{name} received again")),
            () = tokio::time::sleep(grace) => {
                if !over.load(Ordering::SeqCst) {
                    stop_now(format!("Running steps did not finish within {}s of the {}", grace.as_secs(), name.to_lowercase()));
                }
                // The steps are over: only a second signal stops the rest.
                if let Some(name) = next().await {
                    stop_now(format!("{name} received again"));
                }
            }
        }
    });
    Ok(steps_over)
}

impl Progress {
    /// For `total` steps; `quiet`: only errors; `settle`: the bound of
    /// the waits a step declares (`--settle-timeout`).
    pub(crate) fn new(quiet: bool, total: usize, settle: Duration) -> Self {
        Progress {
            quiet,
            total,
            settle,
            ended: Default::default(),
            failed: Default::default(),
            running: Default::default(),
        }
    }

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
            // The waits the plan showed, with their bound.
            let waits: String = c
                .waits
                .iter()
                .map(|w| {
                    format!(
                        "; then waits until {} (at most {}s)",
                        w.until(),
                        self.settle.as_secs()
                    )
                })
                .collect();
            println!("{}: {verb}{waits}", printable(&c.address.to_string()));
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
                printable(&why.to_string())
            ),
        }
    }
}
