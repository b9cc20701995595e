//! The subprocess supervisor's entry points (Linux only; the module is declared under that
//! `cfg` and nothing inside needs another).
//!
//! Options are validated into a core `Spec` on the JS thread (`crate::options::process`);
//! everything after that runs on the supervisor's threads, and results come back through the
//! environment's channel.
//!
//! - `supervisor`: supervisor handles, their stats and config, `checkProcessOptions`,
//!   process-wide calls (`processStats`, `killAllProcesses`, `processRss`).
//! - `spawn`: `spawnProcess`, which starts a child and returns its handle and report promise.
//! - `child`: a child's handle and the calls on it (pid, read, write, kill, close).

pub mod child;
pub mod spawn;
pub mod supervisor;
