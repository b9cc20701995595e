//! The subprocess supervisor: children started without `fork`, watched without blocking.
//!
//! Plain Rust, no Node. [`spawn`] creates a process with `clone(CLONE_VM | CLONE_VFORK)`, so its
//! cost does not grow with the parent's heap. Every child is created on one long-lived spawner
//! thread (so its parent-death signal fires only when the whole process dies) and watched by
//! one tokio thread (pipes, pidfd exit notification, timers). A [`Supervisor`] bounds how many
//! children run and wait, applies timeouts with escalation from the kill signal to SIGKILL,
//! kills whole process trees, caps captured output and reports resource usage from `wait4`.
//!
//! Layers, each using only the ones above it in this list (no cycles between siblings):
//! 1. `sys/`: the system calls (command and PATH resolution, the clone and the child's code,
//!    reaping, pipes, signals, worker channels), nearly all of the unsafe code;
//! 2. services: `spawner` (the thread that clones), `watchdog` (kills process groups should
//!    this process die), `runtime` (the `offload-io` thread, and the two above, started once);
//! 3. data and accounting: `capture` (output into memory), `spec` (what to run, how it
//!    ended), `stats` (counters), `admission` (slots and the FIFO queue), `stdin` (the queue
//!    of writes to a child);
//! 4. `child`: the handle and its private state, changed only through named transitions;
//! 5. `escalation` (timeout and SIGKILL escalation against a Kill/Wait seam) and `plumbing`
//!    (the child's pipes);
//! 6. `lifecycle`: the driver, one task per child;
//! 7. `supervisor`: the facade (`Supervisor`, `Owner`).

mod admission;
mod capture;
mod child;
mod escalation;
mod lifecycle;
mod plumbing;
mod runtime;
mod spawner;
mod spec;
mod stats;
mod stdin;
mod supervisor;
mod sys;
mod watchdog;

pub use admission::SupervisorConfig;
pub use capture::{Captured, Mapped};
pub use child::Child;
pub use spawner::Spawner;
pub use spec::{Input, Output, Report, Spec, Stream};
pub use stats::{ProcessStats, global_stats};
pub use supervisor::{Owner, Supervisor, SupervisorError};
pub use sys::channels::{Channels, REPLIES_FD, REQUESTS_FD, channels, rss_bytes};
pub use sys::command::{Command, Limits, SpawnError, Stdio};
pub use sys::pipe::Source;
pub use sys::reap::{ExitStatus, try_wait, wait};
pub use sys::signal;
pub use sys::spawn::spawn;

#[cfg(test)]
mod tests;

#[cfg(test)]
mod supervisor_tests;
