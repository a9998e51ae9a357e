//! `baseline`: AWS account security settings by declaration.
//!
//! This binary parses arguments, wires spec → providers → engine, prints,
//! and maps outcomes to the documented exit codes. It holds no logic of its
//! own about AWS or plans.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

mod commands;
mod init;
mod planfile;
mod terminal;

/// Exit code: success, no drift.
pub const EXIT_OK: u8 = 0;
/// Exit code: an error (also: some account or region could not be read).
pub const EXIT_ERROR: u8 = 1;
/// Exit code with `--detailed-exitcode`: changes `apply` can make.
pub const EXIT_CHANGES: u8 = 2;
/// Exit code with `--detailed-exitcode`: only manual actions remain.
pub const EXIT_MANUAL: u8 = 3;

/// The command-line definition (for completions and the manual page).
fn command() -> clap::Command {
    <Cli as clap::CommandFactory>::command()
}

#[derive(Parser)]
#[command(
    name = "baseline",
    version,
    about = "Make AWS accounts secure by declaration: plan the drift, apply the baseline.",
    after_help = "Exit codes: 0 success / no drift; 1 error; with --detailed-exitcode, 2 = changes to apply, 3 = only manual actions remain.\nAWS: the default credential chain, --profile, AWS_REGION, AWS_ENDPOINT_URL. NO_COLOR turns colour off."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    #[command(flatten)]
    global: Global,
}

#[derive(Args, Clone)]
struct Global {
    /// AWS profile for the current credentials.
    #[arg(long, global = true, env = "AWS_PROFILE")]
    profile: Option<String>,
    /// More log output (-v: info, -vv: debug). Never prints credentials.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    /// Only errors and the result.
    #[arg(short, long, global = true)]
    quiet: bool,
    /// Let `exceptions` end more than a year ahead (refused otherwise:
    /// an exception is reviewed at least yearly).
    #[arg(long, global = true)]
    allow_long_exceptions: bool,
    /// Seconds to open a connection to an AWS endpoint.
    #[arg(long, global = true, default_value_t = 5.0, value_name = "SECS")]
    connect_timeout: f64,
    /// Seconds for one attempt of an AWS call (a retry gets its own).
    #[arg(long, global = true, default_value_t = 20.0, value_name = "SECS")]
    attempt_timeout: f64,
    /// Seconds for an AWS call with all its retries; past it, that
    /// account-region-service fails and everything else goes on.
    #[arg(long, global = true, default_value_t = 60.0, value_name = "SECS")]
    operation_timeout: f64,
    /// Seconds a write is tried again while AWS has not yet put into effect
    /// what was just written (a bucket or key policy that CloudTrail or
    /// Config checks, a bucket's configuration still being applied); 0
    /// never waits.
    #[arg(long, global = true, default_value_t = 120.0, value_name = "SECS")]
    settle_timeout: f64,
    /// Attempts per AWS call (standard retry mode) [default: AWS_MAX_ATTEMPTS, else 3].
    #[arg(long, global = true, value_name = "N")]
    max_attempts: Option<u32>,
    /// Who runs baseline, set as the SourceIdentity of every role it
    /// assumes (CloudTrail keeps it through role chains). Each role's trust
    /// policy must allow sts:SetSourceIdentity.
    #[arg(
        long,
        global = true,
        env = "BASELINE_SOURCE_IDENTITY",
        value_name = "NAME"
    )]
    source_identity: Option<String>,
}

impl Global {
    /// The time bounds and retries of AWS calls.
    fn limits(&self) -> anyhow::Result<baseline_providers::Limits> {
        let secs = |name: &str, v: f64| {
            if v.is_finite() && v > 0.0 && v <= 86_400.0 {
                Ok(std::time::Duration::from_secs_f64(v))
            } else {
                Err(anyhow::anyhow!(
                    "--{name} must be a number of seconds above 0, got {v}"
                ))
            }
        };
        if let Some(id) = &self.source_identity {
            let ok_chars = id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c));
            if !(2..=64).contains(&id.len()) || !ok_chars {
                anyhow::bail!(
                    "--source-identity {id:?}: AWS takes 2 to 64 characters of letters, digits and _+=,.@-"
                );
            }
        }
        Ok(baseline_providers::Limits {
            connect_timeout: secs("connect-timeout", self.connect_timeout)?,
            attempt_timeout: secs("attempt-timeout", self.attempt_timeout)?,
            operation_timeout: secs("operation-timeout", self.operation_timeout)?,
            max_attempts: self.max_attempts,
            settle_timeout: if self.settle_timeout == 0.0 {
                std::time::Duration::ZERO
            } else {
                secs("settle-timeout", self.settle_timeout)?
            },
            ..Default::default()
        })
    }
}

#[derive(Subcommand)]
enum Command {
    /// Write a commented baseline for the current account, naming the
    /// trail, recorder, buckets and analyzer that already exist.
    Init {
        /// Where to write it ("-": standard output).
        #[arg(long, default_value = "baseline.yaml")]
        out: PathBuf,
        /// Write over an existing file.
        #[arg(long)]
        force: bool,
    },
    /// Check a baseline file offline (no credentials needed).
    Validate {
        #[command(flatten)]
        file: FileArg,
        /// Also check the OUs the overrides and exceptions name against the
        /// organization, with the caller's credentials (`plan` always does).
        #[arg(long)]
        organization: bool,
    },
    /// Show what apply would change in every account and region.
    Plan(PlanArgs),
    /// Converge the accounts: from a saved plan file, or plan, confirm, apply.
    Apply {
        /// A plan saved by `baseline plan --out`: applied exactly, after
        /// checking AWS has not changed since.
        planfile: Option<PathBuf>,
        #[command(flatten)]
        plan: PlanArgs,
        /// Do not ask for confirmation.
        #[arg(long)]
        auto_approve: bool,
    },
    /// Stop the paid services the baseline manages; free settings stay.
    Destroy {
        #[command(flatten)]
        plan: PlanArgs,
        /// Do not ask for confirmation.
        #[arg(long)]
        auto_approve: bool,
    },
    /// Render a saved plan file.
    Show {
        /// The plan file; several (e.g. one per shard) are shown as one
        /// plan, when they were made from the same baseline.
        #[arg(required = true)]
        planfile: Vec<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Output::Human)]
        output: Output,
    },
    /// Print the JSON Schema of baseline.yaml.
    Schema,
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff): `baseline man > baseline.1`.
    Man,
    /// Print the IAM policy (JSON) a baseline needs for plan, apply or destroy.
    Policy {
        #[command(flatten)]
        file: FileArg,
        /// The command the policy is for.
        #[arg(long = "for", value_enum, default_value_t = PolicyCommand::Apply)]
        for_: PolicyCommand,
        /// With `organization.delegated_admin`: only what the role needs in
        /// this kind of account (default: every statement).
        #[arg(long, value_enum)]
        account: Option<PolicyAccount>,
    },
}

#[derive(ValueEnum, Clone, Copy, PartialEq, Eq)]
enum PolicyAccount {
    /// The organization's management account.
    Management,
    /// The delegated administrator.
    Administrator,
    /// Every other account.
    Member,
}

#[derive(ValueEnum, Clone, Copy, PartialEq, Eq)]
enum PolicyCommand {
    Plan,
    Apply,
    Destroy,
}

#[derive(Args, Clone)]
struct FileArg {
    /// The baseline file [default: baseline.yaml; for `apply PLANFILE`: the
    /// file the plan was made from].
    #[arg(short = 'f', long = "file")]
    file: Option<PathBuf>,
}

impl FileArg {
    /// The file named, or `baseline.yaml`.
    fn path(&self) -> PathBuf {
        self.file
            .clone()
            .unwrap_or_else(|| PathBuf::from("baseline.yaml"))
    }
}

#[derive(Args, Clone)]
struct PlanArgs {
    #[command(flatten)]
    file: FileArg,
    /// Save the plan (JSON) for `baseline apply PLANFILE`.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Exit 2 when there are changes to apply, 3 when only manual actions remain.
    #[arg(long)]
    detailed_exitcode: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Output::Human)]
    output: Output,
    /// Only these account ids (comma-separated).
    #[arg(long, value_delimiter = ',')]
    accounts: Option<Vec<String>>,
    /// Only these regions (comma-separated).
    #[arg(long, value_delimiter = ',')]
    regions: Option<Vec<String>>,
    #[arg(long, value_delimiter = ',', help = only_help())]
    only: Option<Vec<String>>,
    /// Only the accounts of shard K of N (`1/3`, `2/3`, `3/3`): a stable
    /// split by account id, for running one job per shard. `index/N` takes
    /// K from a Kubernetes Indexed Job (JOB_COMPLETION_INDEX, 0-based).
    #[arg(long, value_name = "K/N")]
    shard: Option<String>,
    /// How many AWS reads and writes run at once, over all accounts
    /// (256: the fastest of the curve measured in docs/performance.md; the
    /// per-account bound protects each account's rate limits).
    #[arg(long, default_value_t = 256)]
    concurrency: usize,
    /// How many run at once in one account (its API limits are its own).
    #[arg(long, default_value_t = 16)]
    account_concurrency: usize,
}

#[derive(ValueEnum, Clone, Copy, PartialEq, Eq)]
enum Output {
    Human,
    Json,
    Markdown,
    /// One self-contained HTML page: accounts × regions, controls, changes.
    Html,
}

/// mimalloc instead of the C library's allocator: a plan of many accounts
/// makes and drops millions of small objects (the SDK's per-call
/// configuration and requests), and glibc's malloc and free were a fifth
/// of the client's CPU (docs/performance.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let level = if cli.global.quiet {
        "error"
    } else {
        match cli.global.verbose {
            0 => "warn",
            1 => "info",
            _ => "debug",
        }
    };
    let mut filter =
        tracing_subscriber::EnvFilter::try_from_env("BASELINE_LOG").unwrap_or_else(|_| {
            tracing_subscriber::EnvFilter::new(format!(
                "{level},aws_smithy_runtime=warn,aws_config=warn"
            ))
        });
    // The SDK's own debug and trace output names credentials (the access
    // key id of each request's identity; signed headers at trace): capped
    // at info whatever BASELINE_LOG says, so no log level prints them.
    for target in SDK_LOG_TARGETS {
        if let Ok(d) = format!("{target}=info").parse() {
            filter = filter.add_directive(d);
        }
    }
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(color_on(&std::io::stderr()))
        .init();

    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("Error: cannot start the async runtime: {e}");
            return ExitCode::from(EXIT_ERROR);
        }
    };
    match runtime.block_on(commands::run(cli)) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            // Messages carry text from outside (files, AWS): escaped, each
            // line (a message's own line breaks stay).
            eprintln!(
                "Error: {}",
                baseline_engine::printable_lines(&e.to_string())
            );
            for cause in e.chain().skip(1) {
                eprintln!(
                    "  caused by: {}",
                    baseline_engine::printable_lines(&cause.to_string())
                );
            }
            ExitCode::from(EXIT_ERROR)
        }
    }
}

/// Log targets of the AWS SDK and its HTTP stack, capped at `info`.
const SDK_LOG_TARGETS: &[&str] = &[
    "aws_smithy_runtime",
    "aws_smithy_runtime_api",
    "aws_smithy_http_client",
    "aws_smithy_types",
    "aws_runtime",
    "aws_config",
    "aws_sigv4",
    "aws_credential_types",
    "hyper",
    "hyper_util",
    "h2",
    "rustls",
];

/// `--only`'s help, from the settings registry.
fn only_help() -> String {
    let names = |f: fn(&baseline_providers::Setting) -> Option<&'static str>| {
        baseline_providers::SETTINGS
            .iter()
            .filter_map(f)
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!(
        "Only these settings (comma-separated), by their keys in the baseline: {} (the names {} are accepted too)",
        names(|s| Some(s.section)),
        names(|s| s.alias)
    )
}

/// Colour only on a terminal, and never with `NO_COLOR` set.
fn color_on(stream: &impl IsTerminal) -> bool {
    stream.is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

impl Global {
    /// The checks of a baseline file that depend on the day and the flags.
    fn checks(&self) -> baseline_spec::Checks {
        baseline_spec::Checks {
            today: Some(planfile::today()),
            allow_long_exceptions: self.allow_long_exceptions,
        }
    }
}
