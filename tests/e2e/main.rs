//! End-to-end tests: the `baseline` binary against the moto emulator.
//!
//! One test binary (one link of the AWS SDK) with a module per topic.

mod accounts;
mod canonical;
mod cli;
mod contract;
mod crash;
mod cycle;
mod escalation;
mod exceptions;
mod faults;
mod fidelity;
mod full;
mod init;
mod interrupt;
mod least_privilege;
mod metadata_defaults;
mod moto;
mod organization;
mod organization_rules;
mod ous;
mod ownership;
mod policy;
mod probe;
mod redteam;
mod report;
mod shard;
mod snapshot_access;
mod stale;
mod writes;
