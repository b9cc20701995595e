//! Supervisor handles (`createSupervisor`) and process-wide calls.

use napi::Env;
use napi::bindgen_prelude::External;
use napi_derive::napi;

use crate::env_scope;
use crate::errors::{Result, supervisor_error};
use crate::options::process::{Call, ProcessOptions, Request, SupervisorOptions};
use offload_core::process::{self, ProcessStats, Supervisor, SupervisorConfig, global_stats};

/// Counters of a supervisor, or of all of them (`processStats()`).
#[napi(object)]
pub struct SupervisorStats {
    /// Children started.
    pub spawned: f64,
    /// Children running now.
    pub running: u32,
    /// Children waiting for a running slot.
    pub queued: u32,
    /// Children that ran and ended, however they ended.
    pub exited: f64,
    /// Children that exited with a non-zero code or a signal, or could not start.
    pub failed: f64,
    /// Children stopped by their `timeout`.
    pub timed_out: f64,
    /// Children the supervisor signalled (kill, timeout, abort, maxBuffer, teardown).
    pub killed: f64,
    /// Spawns that failed (program not found, not executable, ...).
    pub spawn_errors: f64,
    /// The largest peak RSS, in bytes, measured of any child; undefined until one was
    /// measured. Linux reports a child started without fork (as offload starts them) with at
    /// least this process's own peak, so a child whose peak stays below that is not measured
    /// and not counted, rather than counted as 0 or as this process's size.
    pub max_rss_bytes: Option<f64>,
}

impl From<ProcessStats> for SupervisorStats {
    fn from(s: ProcessStats) -> Self {
        Self {
            spawned: s.spawned as f64,
            running: s.running as u32,
            queued: s.queued as u32,
            exited: s.exited as f64,
            failed: s.failed as f64,
            timed_out: s.timed_out as f64,
            killed: s.killed as f64,
            spawn_errors: s.spawn_errors as f64,
            max_rss_bytes: s.max_rss_bytes.map(|b| b as f64),
        }
    }
}

/// A supervisor handle as JS holds it, inside an `External` (free functions over one are
/// cheaper to call than class methods); declared to napi only so the typings can name it.
#[napi]
pub struct NativeSupervisor(pub(crate) Supervisor);

#[napi]
pub fn create_supervisor(options: Option<SupervisorOptions>) -> Result<External<NativeSupervisor>> {
    let config = match options {
        Some(o) => SupervisorConfig::try_from(o)?,
        None => SupervisorConfig::default(),
    };
    let sup = Supervisor::new(config).map_err(supervisor_error)?;
    Ok(External::new(NativeSupervisor(sup)))
}

#[napi]
pub fn supervisor_stats(supervisor: &External<NativeSupervisor>) -> SupervisorStats {
    supervisor.0.stats().into()
}

#[napi]
pub fn supervisor_config(supervisor: &External<NativeSupervisor>) -> Vec<f64> {
    let c = supervisor.0.config();
    vec![c.max_concurrent as f64, c.max_queue as f64]
}

#[napi]
pub fn process_stats() -> SupervisorStats {
    global_stats().into()
}

/// Checks `exec()`/`spawn()` options exactly as a spawn would, without spawning: for a
/// `ProcessPool`, whose workers start later, away from the constructor that took them.
#[napi]
pub fn check_process_options(options: ProcessOptions) -> Result<()> {
    // Any valid program and environment do: only the options are under test.
    let request = Request {
        file: "true".to_owned(),
        args: Vec::new(),
        options,
        env_block: "",
        has_input: false,
        streaming: false,
    };
    Call::try_from(request).map(drop)
}

/// SIGKILLs every child this environment started (and their trees), for process exit: Node
/// does not run environment cleanup hooks on `process.exit()`.
#[napi]
pub fn kill_all_processes(env: Env) -> Result<()> {
    env_scope(&env)?.processes.kill_all();
    Ok(())
}

/// The resident set of a live process in bytes (`/proc/<pid>/statm`), or null if it is gone.
#[napi]
pub fn process_rss(pid: i32) -> Option<f64> {
    process::rss_bytes(pid).ok().map(|b| b as f64)
}
