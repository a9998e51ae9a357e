//! The engine: desired × observed → plan → render → apply.
//!
//! It owns everything between the baseline and the AWS calls and nothing on
//! either side: providers derive desired state, read and write through the
//! [`Service`] trait; the engine diffs ([`plan`]), orders and executes
//! ([`exec`]), and renders ([`render`]; the HTML report in [`report`]). It never sees an AWS SDK type.

#![warn(missing_docs)]

pub mod document;
pub mod error;
pub mod exec;
pub mod model;
pub mod plan;
pub mod provider;
pub mod render;
pub mod report;

pub use error::{
    ERROR_CODES, ErrorKind, Failure, MAX_ERROR_CHARS, Panicked, Refusal, ServiceError, contained,
    error_chain, error_kind, needs_escape, printable, printable_lines,
};
pub use exec::{ExecOptions, Observer, Outcome, Silent, Skip, StepResult, execute, unconverged};
pub use model::*;
pub use plan::{
    PlanOptions, PlanProgress, Reached, StalePlan, check_fresh, diff, make_plan, plan_as_reached,
};
pub use provider::{Declared, Outputs, Reading, Service};
