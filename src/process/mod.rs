//! The subprocess supervisor: children started without `fork`, watched without blocking.
//!
//! Plain Rust, no Node. [`spawn`] creates a process with `clone(CLONE_VM | CLONE_VFORK)`, so its
//! cost does not grow with the parent's heap. Every child is created on one long-lived spawner
//! thread (so its parent-death signal fires only when the whole process dies) and watched by
//! one tokio thread (pipes, pidfd exit notification, timers). A [`Supervisor`] bounds how many
//! children run and wait, applies timeouts with escalation from the kill signal to SIGKILL,
//! kills whole process trees, caps captured output and reports resource usage from `wait4`.

mod capture;
mod channels;
mod child;
mod lifecycle;
mod pipe;
mod runtime;
pub mod signal;
mod spawn;
mod spawner;
mod supervisor;
mod watchdog;

pub use capture::{Captured, Mapped};
pub use channels::{Channels, REPLIES_FD, REQUESTS_FD, channels, rss_bytes};
pub use child::{Child, Input, Output, Report, Spec, Stream};
pub use pipe::Source;
pub use spawn::{Command, ExitStatus, Limits, SpawnError, Stdio, spawn, try_wait, wait};
pub use spawner::Spawner;
pub use supervisor::{
    Owner, ProcessStats, Supervisor, SupervisorConfig, SupervisorError, global_stats,
};

#[cfg(test)]
mod tests;

#[cfg(test)]
mod supervisor_tests;
