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

/// Exit code: success, no drift.
pub const EXIT_OK: u8 = 0;
/// Exit code: an error (also: some account or region could not be read).
pub const EXIT_ERROR: u8 = 1;
/// Exit code with `--detailed-exitcode`: changes `apply` can make.
pub const EXIT_CHANGES: u8 = 2;
/// Exit code with `--detailed-exitcode`: only manual actions remain.
pub const EXIT_MANUAL: u8 = 3;

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
}

#[derive(Subcommand)]
enum Command {
    /// Check a baseline file offline (no credentials needed).
    Validate {
        #[command(flatten)]
        file: FileArg,
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
        /// The plan file.
        planfile: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Output::Human)]
        output: Output,
    },
    /// Print the JSON Schema of baseline.yaml.
    Schema,
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
    /// Only these services (comma-separated): iam, config, access_analyzer,
    /// cloudtrail, guardduty, ec2, account, trustedadvisor, securityhub, s3.
    #[arg(long, value_delimiter = ',')]
    only: Option<Vec<String>>,
    /// How many AWS reads and writes run at once, over all accounts.
    #[arg(long, default_value_t = 64)]
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
}

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
    let filter = tracing_subscriber::EnvFilter::try_from_env("BASELINE_LOG").unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new(format!(
            "{level},aws_smithy_runtime=warn,aws_config=warn"
        ))
    });
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
            eprintln!("Error: {e}");
            for cause in e.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::from(EXIT_ERROR)
        }
    }
}

/// Colour only on a terminal, and never with `NO_COLOR` set.
fn color_on(stream: &impl IsTerminal) -> bool {
    stream.is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}
