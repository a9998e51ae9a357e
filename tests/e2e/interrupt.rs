//! Ctrl-C or SIGTERM during apply: no new step starts, running ones
//! finish, what was done is printed, and the next plan shows what remains.
//! A second signal stops at once and names what may be half-done.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use crate::moto::{Moto, baseline_file};

/// Starts an apply against slow requests, waits for its first step, sends
/// `signals` (each a `kill` flag), and returns (exit code, stdout, stderr).
fn interrupted_apply(moto: &Moto, f: &str, signals: &[&str]) -> (Option<i32>, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_baseline"))
        .args(["apply", "-f", f, "--auto-approve", "--concurrency", "1"])
        .envs(moto.env())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut seen = String::new();
    loop {
        let mut line = String::new();
        assert!(
            stdout.read_line(&mut line).unwrap() > 0,
            "apply ended before any step started: {seen}"
        );
        seen.push_str(&line);
        if line.contains("Creating...") {
            break;
        }
    }
    for sig in signals {
        let kill = Command::new("kill")
            .args([*sig, &child.id().to_string()])
            .status()
            .unwrap();
        assert!(kill.success());
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut rest).unwrap();
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    let status = child.wait().unwrap();
    seen.push_str(&rest);
    (status.code(), seen, stderr)
}

const SLOW_BASELINE: &str = "version: 1\naccounts: [{id: \"123456789012\"}]\nregions: [ap-northeast-1, us-east-1]\nhome_region: ap-northeast-1\nconfig: {enabled: true}\nsecurityhub: {enabled: true}\n";

/// Why: SIGTERM (a cancelled CI job) killed apply mid-step.
#[tokio::test(flavor = "multi_thread")]
async fn sigterm_stops_like_ctrl_c() {
    let moto = Moto::start_with(&["--latency-ms", "150"]);
    let dir = tempfile::tempdir().unwrap();
    let file = baseline_file(&dir, SLOW_BASELINE);
    let (code, out, err) = interrupted_apply(&moto, file.to_str().unwrap(), &["-TERM"]);
    assert_eq!(code, Some(1), "{out}\n{err}");
    assert!(err.contains("Termination signal received"), "{err}");
    assert!(out.contains("Apply finished with errors!"), "{out}");
}

/// Why: a second Ctrl-C was ignored; now it stops at once and says what
/// may be half-done.
#[tokio::test(flavor = "multi_thread")]
async fn a_second_signal_stops_at_once_naming_what_may_be_half_done() {
    let moto = Moto::start_with(&["--latency-ms", "300"]);
    let dir = tempfile::tempdir().unwrap();
    let file = baseline_file(&dir, SLOW_BASELINE);
    let f = file.to_str().unwrap();
    let (code, out, err) = interrupted_apply(&moto, f, &["-INT", "-INT"]);
    assert_eq!(code, Some(130), "{out}\n{err}");
    assert!(err.contains("received again: stopping now"), "{err}");
    assert!(
        err.contains("may be half-done:\n  123456789012/"),
        "the running step is named: {err}"
    );
    assert!(!out.contains("Apply finished"), "{out}");
    let plan = moto.baseline(&["plan", "-f", f, "--detailed-exitcode"]);
    assert_eq!(plan.code, 2, "what remains is planned: {plan:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn interrupted_apply_stops_starting_steps_and_plan_shows_the_rest() {
    // Slow requests, so that the apply is surely still running when
    // interrupted.
    let moto = Moto::start_with(&["--latency-ms", "150"]);
    let dir = tempfile::tempdir().unwrap();
    let file = baseline_file(&dir, SLOW_BASELINE);
    let f = file.to_str().unwrap();
    let (code, seen, stderr) = interrupted_apply(&moto, f, &["-INT"]);
    assert_eq!(
        code,
        Some(1),
        "an interrupted apply exits 1\n{seen}\n{stderr}"
    );
    assert!(stderr.contains("Interrupt received"), "{stderr}");
    assert!(stderr.contains("step(s) not started"), "{stderr}");
    assert!(
        seen.contains("Apply finished with errors!"),
        "what was done is printed: {seen}"
    );
    // A step that started was let finish.
    assert!(seen.contains("complete after"), "{seen}");

    let plan = moto.baseline(&["plan", "-f", f, "--detailed-exitcode"]);
    assert_eq!(plan.code, 2, "what remains is planned: {plan:?}");
}
