//! Subprocesses without `fork`: the core of the subprocess supervisor (issue 3, in progress).
//!
//! This module is plain Rust. So far it holds the process-creation primitive ([`spawn`]) and the
//! long-lived spawner thread ([`Spawner`]) that owns every child, so that a parent-death signal
//! fires when the whole process dies rather than when some short-lived thread exits. The
//! supervisor (pipes, timeouts, kill escalation, admission) and its Node binding build on it.

mod spawn;
mod spawner;

pub use spawn::{Command, ExitStatus, Limits, SpawnError, Stdio, spawn, wait};
pub use spawner::Spawner;

#[cfg(test)]
mod tests;
