//! The local AWS: a server per test (`tests/local-aws.sh`: moto plus the
//! operations it lacks), on a free loopback port, stopped when the test
//! ends.
//!
//! moto must be installed (`tests/run.sh` installs the pinned version into
//! a virtual environment and exports `MOTO_PYTHON`). Without it the tests
//! fail with a message that says how to install it: never a silent pass.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A running moto server.
pub struct Moto {
    child: Child,
    pub url: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The process id the local AWS on `port` says it has, if one answers.
fn server_pid(port: u16) -> Option<u32> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    stream
        .write_all(b"GET /_baseline/pid HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        .ok()?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).ok()?;
    let body = answer.split("\r\n\r\n").nth(1)?;
    serde_json::from_str::<serde_json::Value>(body).ok()?["pid"]
        .as_u64()
        .map(|p| p as u32)
}

fn python() -> String {
    std::env::var("MOTO_PYTHON").unwrap_or_else(|_| "python3".into())
}

impl Moto {
    /// Starts moto and waits until it answers.
    pub fn start() -> Moto {
        Moto::start_with(&[])
    }

    /// Starts the local AWS with extra arguments for `tests/local-aws.sh`
    /// (e.g. `--deny-role ARN`).
    pub fn start_with(extra: &[&str]) -> Moto {
        let py = python();
        let check = Command::new(&py)
            .args(["-c", "import moto.server, flask"])
            .output();
        match check {
            Ok(o) if o.status.success() => {}
            _ => panic!(
                "the AWS emulator moto is not installed for `{py}`: run `tests/run.sh` (it installs the pinned moto[server] into /var/tmp/baseline-venv), or `pip install 'moto[server]==5.2.5'` and set MOTO_PYTHON to that python"
            ),
        }
        // A free port is free only until someone takes it: another test's
        // server may bind it between this check and ours. The server says
        // its process id (`/_baseline/pid`); only our own child counts, and
        // a lost port is tried again with another.
        let script =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/local-aws.sh");
        let started = Instant::now();
        loop {
            let port = TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("a free loopback port")
                .port();
            // The script execs the server: killing the child stops it, and
            // its process id is the server's.
            let mut child = Command::new("bash")
                .arg(&script)
                .arg(port.to_string())
                .args(extra)
                .env("MOTO_PYTHON", &py)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("moto starts");
            let url = format!("http://127.0.0.1:{port}");
            loop {
                if started.elapsed() >= Duration::from_secs(120) {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!("moto did not start on {url} within 120 s");
                }
                if child.try_wait().ok().flatten().is_some() {
                    break; // it could not bind the port: another one
                }
                match server_pid(port) {
                    Some(pid) if pid == child.id() => return Moto { child, url },
                    Some(_) => {
                        // Another test's server holds the port.
                        let _ = child.kill();
                        let _ = child.wait();
                        break;
                    }
                    None => std::thread::sleep(Duration::from_millis(50)),
                }
            }
        }
    }

    /// Environment for the SDK and the binary: this emulator, static
    /// credentials, few retries (moto's 500s would otherwise back off).
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.url.clone()),
            ("AWS_ACCESS_KEY_ID", "testing".into()),
            ("AWS_SECRET_ACCESS_KEY", "testing".into()),
            ("AWS_REGION", "ap-northeast-1".into()),
            ("AWS_MAX_ATTEMPTS", "2".into()),
            ("AWS_EC2_METADATA_DISABLED", "true".into()),
            ("NO_COLOR", "1".into()),
        ]
    }

    /// An SDK configuration for seeding and checking state in a region.
    pub async fn sdk(&self, region: &str) -> aws_config::SdkConfig {
        self.sdk_with(
            region,
            aws_sdk_s3::config::Credentials::new("testing", "testing", None, None, "test"),
        )
        .await
    }

    /// The same with other credentials (another account's).
    pub async fn sdk_with(
        &self,
        region: &str,
        credentials: aws_sdk_s3::config::Credentials,
    ) -> aws_config::SdkConfig {
        aws_config::defaults(aws_config::BehaviorVersion::latest())
            .endpoint_url(&self.url)
            .region(aws_config::Region::new(region.to_string()))
            .credentials_provider(credentials)
            .load()
            .await
    }

    /// Sets a fact no AWS API sets (`tests/localaws/server.py`, `/_baseline/`):
    /// e.g. `control("root-mfa", json!({"account": ID, "enabled": true}))`.
    pub fn control(&self, what: &str, body: serde_json::Value) {
        use std::io::{Read, Write};
        let addr = self.url.trim_start_matches("http://");
        let body = body.to_string();
        let mut conn = std::net::TcpStream::connect(addr).expect("the local AWS answers");
        write!(
            conn,
            "POST /_baseline/{what} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut answer = String::new();
        conn.read_to_string(&mut answer).unwrap();
        assert!(
            answer.lines().next().is_some_and(|l| l.contains(" 200 ")),
            "control {what}: {answer}"
        );
    }

    /// What the local AWS counted (`GET /_baseline/stats`).
    pub fn stats(&self) -> serde_json::Value {
        self.get("/_baseline/stats")
    }

    /// Waits until the local AWS answers no request and has received none
    /// for a moment: what a killed run had sent is served (and its writes
    /// recorded) before the next run's are counted. At most a minute.
    pub fn quiet(&self) {
        let limit = std::time::Instant::now() + std::time::Duration::from_secs(60);
        let mut last = None;
        while std::time::Instant::now() < limit {
            let s = self.stats();
            let now = (s["total"].as_u64(), s["in_flight"].as_u64());
            if now.1 == Some(0) && last == Some(now) {
                return;
            }
            last = Some(now);
            std::thread::sleep(std::time::Duration::from_millis(300));
        }
        panic!("the local AWS was still answering requests after a minute");
    }

    /// The write requests served, from the `since`-th on
    /// (`GET /_baseline/writes`).
    pub fn writes(&self, since: usize) -> Vec<crate::writes::Write> {
        serde_json::from_value(self.get(&format!("/_baseline/writes?since={since}")))
            .expect("the writes are a list")
    }

    fn get(&self, path: &str) -> serde_json::Value {
        use std::io::{Read, Write};
        let addr = self.url.trim_start_matches("http://");
        let mut conn = std::net::TcpStream::connect(addr).expect("the local AWS answers");
        write!(
            conn,
            "GET {path} HTTP/1.0\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut answer = String::new();
        conn.read_to_string(&mut answer).unwrap();
        let body = &answer[answer.find("\r\n\r\n").expect("a whole answer") + 4..];
        serde_json::from_str(body).expect("the answer is JSON")
    }

    /// Runs `run` with `args`, and, for `apply` and `destroy`, checks
    /// every write it made against the plan it carried out (saved with
    /// `--out` when the arguments do not already name the plan):
    /// [`crate::writes::check`]. A write no change accounts for panics.
    fn contract_checked<R>(&self, args: &[&str], run: impl FnOnce(&[&str]) -> R) -> R {
        if !matches!(args.first(), Some(&"apply" | &"destroy")) {
            return run(args);
        }
        let dir = tempfile::tempdir().unwrap();
        let ours = dir.path().join("applied-plan.json");
        let planfile = match plan_named(args) {
            Some(p) => PathBuf::from(p),
            None => ours.clone(),
        };
        let mut args: Vec<&str> = args.to_vec();
        if plan_named(&args).is_none() {
            args.extend(["--out", ours.to_str().unwrap()]);
        }
        let before = self.writes(0).len();
        let result = run(&args);
        let writes = self.writes(before);
        let plan: Option<serde_json::Value> = std::fs::read_to_string(&planfile)
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok());
        let verdict = match (&plan, writes.is_empty()) {
            (_, true) => Ok(()),
            (Some(plan), false) => crate::writes::check(plan, &writes),
            (None, false) => Err(format!(
                "{} writes, and no plan they belong to: {writes:?}",
                writes.len()
            )),
        };
        if let Err(e) = verdict {
            panic!("baseline {args:?}: {e}");
        }
        result
    }

    /// Runs the binary with extra environment, killed (and the test
    /// failed) if it is still running after `limit`.
    pub fn baseline_within(
        &self,
        args: &[&str],
        extra_env: &[(&str, String)],
        limit: Duration,
    ) -> (Run, Duration) {
        self.contract_checked(args, |args| self.run_within(args, extra_env, limit))
    }

    fn run_within(
        &self,
        args: &[&str],
        extra_env: &[(&str, String)],
        limit: Duration,
    ) -> (Run, Duration) {
        let started = Instant::now();
        let mut child = Command::new(env!("CARGO_BIN_EXE_baseline"))
            .args(args)
            .envs(self.env())
            .envs(extra_env.iter().map(|(k, v)| (*k, v.as_str())))
            .env_remove("AWS_PROFILE")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the baseline binary runs");
        // Drained as it runs: a full pipe would stall the child.
        let drain = |r: Option<Box<dyn std::io::Read + Send>>| {
            std::thread::spawn(move || {
                let mut s = String::new();
                if let Some(mut r) = r {
                    let _ = r.read_to_string(&mut s);
                }
                s
            })
        };
        use std::io::Read;
        let out = drain(
            child
                .stdout
                .take()
                .map(|o| Box::new(o) as Box<dyn Read + Send>),
        );
        let err = drain(
            child
                .stderr
                .take()
                .map(|e| Box::new(e) as Box<dyn Read + Send>),
        );
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if started.elapsed() > limit {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "baseline {args:?} still ran after {limit:?}:\n--- stdout\n{}\n--- stderr\n{}",
                    out.join().unwrap(),
                    err.join().unwrap()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        let elapsed = started.elapsed();
        let run = Run {
            code: status.code().unwrap_or(-1),
            stdout: out.join().unwrap(),
            stderr: err.join().unwrap(),
        };
        (run, elapsed)
    }

    /// Runs the `baseline` binary against this emulator.
    pub fn baseline(&self, args: &[&str]) -> Run {
        self.contract_checked(args, |args| {
            let output = Command::new(env!("CARGO_BIN_EXE_baseline"))
                .args(args)
                .envs(self.env())
                .env_remove("AWS_PROFILE")
                .stdin(Stdio::null())
                .output()
                .expect("the baseline binary runs");
            Run::from(output)
        })
    }
}

/// The plan file an `apply`/`destroy` command line names: `--out FILE`,
/// or the PLANFILE of `apply PLANFILE`.
fn plan_named<'a>(args: &[&'a str]) -> Option<&'a str> {
    const VALUED: &[&str] = &[
        "-f",
        "--file",
        "--out",
        "--output",
        "--accounts",
        "--regions",
        "--only",
        "--shard",
        "--concurrency",
        "--account-concurrency",
        "--profile",
        "--connect-timeout",
        "--attempt-timeout",
        "--operation-timeout",
        "--settle-timeout",
        "--max-attempts",
        "--source-identity",
    ];
    if let Some(i) = args.iter().position(|a| *a == "--out") {
        return args.get(i + 1).copied();
    }
    let mut i = 1;
    while i < args.len() {
        let a = args[i];
        if VALUED.contains(&a) {
            i += 2;
            continue;
        }
        if !a.starts_with('-') {
            return Some(a);
        }
        i += 1;
    }
    None
}

/// What one run of the binary did.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(o: Output) -> Self {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// A baseline file in a temporary directory.
/// Every resource a JSON plan looked at: its changes, then one entry per
/// kind and account-region of what it counted as in line
/// (`{"address": {account, region, kind}, "action": "no_op", "count": n}`).
pub fn looked_at(plan: &serde_json::Value) -> Vec<serde_json::Value> {
    let mut all: Vec<serde_json::Value> = plan["changes"].as_array().cloned().unwrap_or_default();
    for place in plan["in_line"].as_array().into_iter().flatten() {
        for (kind, n) in place["kinds"].as_object().into_iter().flatten() {
            all.push(serde_json::json!({
                "address": {"account": place["account"], "region": place["region"], "kind": kind},
                "action": "no_op",
                "count": n,
            }));
        }
    }
    all
}

pub fn baseline_file(dir: &tempfile::TempDir, text: &str) -> PathBuf {
    let path = dir.path().join("baseline.yaml");
    std::fs::write(&path, text).unwrap();
    path
}

/// The binary without an emulator (offline commands).
pub fn offline(args: &[&str]) -> Run {
    Command::new(env!("CARGO_BIN_EXE_baseline"))
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .expect("the baseline binary runs")
        .into()
}

/// `baseline <command>` on a terminal (script(1) gives it one), stopped
/// at its prompt: the running child, its output from there on, and what
/// it showed up to the prompt.
pub fn at_prompt(
    moto: &Moto,
    command: &str,
) -> (
    std::process::Child,
    std::io::BufReader<std::process::ChildStdout>,
    String,
) {
    use std::io::BufRead as _;
    let mut child = std::process::Command::new("script")
        .args([
            "-qec",
            &format!("{} {command}", env!("CARGO_BIN_EXE_baseline")),
            "/dev/null",
        ])
        .envs(moto.env())
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut seen = Vec::new();
    while !String::from_utf8_lossy(&seen).contains("Enter a value:") {
        let n = {
            let chunk = out.fill_buf().unwrap();
            assert!(
                !chunk.is_empty(),
                "{command} ended before its prompt: {}",
                String::from_utf8_lossy(&seen)
            );
            seen.extend_from_slice(chunk);
            chunk.len()
        };
        out.consume(n);
    }
    (child, out, String::from_utf8_lossy(&seen).to_string())
}

/// Answers the prompt of [`at_prompt`]'s child with `answer`: its exit
/// code and the rest of its output.
pub fn answer(
    mut child: std::process::Child,
    mut out: std::io::BufReader<std::process::ChildStdout>,
    answer: &str,
) -> (Option<i32>, String) {
    use std::io::Read as _;
    let mut stdin = child.stdin.take().unwrap();
    std::io::Write::write_all(&mut stdin, format!("{answer}\n").as_bytes()).unwrap();
    let mut rest = String::new();
    out.read_to_string(&mut rest).unwrap();
    drop(stdin);
    (child.wait().unwrap().code(), rest)
}
