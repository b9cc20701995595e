//! `NativePool`: the JS-facing handle to a core [`Pool`], bound to the environment that made
//! it, and `NativePool::submit`, through which every kernel entry point queues its work: the
//! result settles either a promise made here (no AbortSignal or timeout) or the JS layer's
//! slot.

use std::sync::Arc;

use napi::Env;
use napi::bindgen_prelude::{External, Unknown};
use napi_derive::napi;

use crate::env_scope;
use crate::errors::{self, Result, TaskError, pool_error};
use crate::options::pool::{PoolOptions, priority};
use crate::runtime::channel::{Completion, EnvScope, Settle};
use crate::runtime::deferred::Deferred;
use crate::runtime::js::to_unknown;
use crate::runtime::value::Value;
use offload_core::pool::{
    CancelReason, CancelToken, Cancelled, Percentiles, Pool, PoolConfig, SubmitOptions,
};

/// Latency percentiles in milliseconds.
#[napi(object)]
pub struct LatencyStats {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
}

impl From<Percentiles> for LatencyStats {
    fn from(p: Percentiles) -> Self {
        Self {
            p50: p.p50,
            p90: p.p90,
            p99: p.p99,
            max: p.max,
        }
    }
}

/// A snapshot of a pool's counters; cheap to take.
#[napi(object)]
pub struct PoolStats {
    /// Worker threads.
    pub threads: u32,
    /// Tasks waiting for a thread.
    pub queued: u32,
    /// Tasks running now.
    pub running: u32,
    /// Tasks that finished successfully.
    pub completed: f64,
    /// Tasks that failed (kernel errors and panics).
    pub failed: f64,
    /// Tasks cancelled by an AbortSignal, `destroy()` or environment teardown.
    pub cancelled: f64,
    /// Tasks cancelled by their `timeout`.
    pub timed_out: f64,
    /// Calls rejected at admission (queue full or pool closed).
    pub rejected: f64,
    /// Share of thread time spent running tasks since the pool started, 0 to 1.
    pub utilization: f64,
    /// Thread time spent running tasks since the pool started, in seconds.
    pub busy_seconds: f64,
    /// Time from submission to start.
    pub wait_time: LatencyStats,
    /// Time from start to finish.
    pub run_time: LatencyStats,
}

/// A pool handle as JS holds it, inside an `External`: free functions taking one are several
/// times cheaper to call through N-API than methods of a napi class. It is declared to napi
/// (with no constructor or methods) only so the generated typings can name it.
#[napi]
pub struct NativePool {
    pub(crate) core: Pool,
    pub(crate) scope: Arc<EnvScope>,
}

/// A pool's fixed settings.
#[napi(object)]
pub struct PoolInfo {
    pub threads: u32,
    pub name: String,
    /// `Infinity` when unbounded.
    pub max_queue: f64,
}

/// The `slot` argument that asks a kernel entry point for a natively settled promise.
pub(crate) const NATIVE_PROMISE: u32 = u32::MAX;

#[napi]
pub fn create_pool(env: Env, options: Option<PoolOptions>) -> Result<External<NativePool>> {
    let config = match options {
        Some(o) => PoolConfig::try_from(o)?,
        None => PoolConfig::default(),
    };
    let scope = env_scope(&env)?;
    let core = Pool::new(config).map_err(pool_error)?;
    Ok(External::new(NativePool { core, scope }))
}

#[napi]
pub fn pool_info(pool: &External<NativePool>) -> PoolInfo {
    let c = pool.core.config();
    PoolInfo {
        threads: c.threads as u32,
        name: c.name.clone(),
        max_queue: match c.max_queue {
            usize::MAX => f64::INFINITY,
            n => n as f64,
        },
    }
}

#[napi]
pub fn pool_stats(pool: &External<NativePool>) -> PoolStats {
    let s = pool.core.stats();
    PoolStats {
        threads: s.threads as u32,
        queued: s.queued as u32,
        running: s.running as u32,
        completed: s.completed as f64,
        failed: s.failed as f64,
        cancelled: s.cancelled as f64,
        timed_out: s.timed_out as f64,
        rejected: s.rejected as f64,
        utilization: s.utilization,
        busy_seconds: s.busy_seconds,
        wait_time: s.wait_time.into(),
        run_time: s.run_time.into(),
    }
}

/// Cancels a task submitted as cancellable; `reason` is `'abort'` or `'timeout'`. Returns
/// 0 if it had already finished, 1 if it was dequeued (it never ran, so its inputs are free
/// now), 2 if it is running: its completion follows once the kernel sees the cancel flag,
/// and until then it may still read its inputs.
#[napi]
pub fn cancel_task(pool: &External<NativePool>, id: f64, reason: String) -> u32 {
    let reason = match reason.as_str() {
        "timeout" => CancelReason::TimedOut,
        _ => CancelReason::Aborted,
    };
    match pool.core.cancel(id as u64, reason) {
        Cancelled::NotFound => 0,
        Cancelled::Dequeued => 1,
        Cancelled::Signalled => 2,
    }
}

/// Stops admission; a completion for `slot` is posted once every accepted task has ended.
#[napi]
pub fn close_pool(env: Env, pool: &External<NativePool>, slot: u32) {
    pool.scope.begin(&env);
    let scope = pool.scope.clone();
    pool.core.close(move || {
        scope.post(Completion {
            settle: Settle::Slot(slot),
            result: Ok(Value::Undefined),
        })
    });
}

#[napi]
pub fn destroy_pool(pool: &External<NativePool>) {
    pool.core.destroy();
}

impl NativePool {
    /// Submits `work`. With `slot == NATIVE_PROMISE` the result settles a promise created here
    /// (returned; `keep` are the inputs to hold until then); otherwise it is posted to the JS
    /// layer under `slot`, and the pool's task id is returned (used to cancel it).
    pub(crate) fn submit<W>(
        &self,
        env: &Env,
        slot: u32,
        keep: &[&Unknown<'_>],
        priority: Option<String>,
        cancellable: bool,
        work: W,
    ) -> Result<Unknown<'static>>
    where
        W: FnOnce(&CancelToken) -> std::result::Result<Value, TaskError> + Send + 'static,
    {
        let opts = SubmitOptions {
            priority: self::priority(priority.as_deref())?,
            cancellable,
            scope: Some(self.scope.group.clone()),
        };
        let scope = self.scope.clone();
        let done = move |settle| {
            move |_id, outcome| {
                scope.post(Completion {
                    settle,
                    result: errors::settle(outcome),
                })
            }
        };
        let value = if slot == NATIVE_PROMISE {
            // A refused task's `done` is dropped unrun, so `Deferred::promise` settles the
            // promise nobody will see.
            let start = |d| self.core.submit(opts, work, done(Settle::Deferred(d)));
            let (_, promise) = Deferred::promise(env, keep, |d| start(d).map_err(pool_error))?;
            promise
        } else {
            let id = self.core.submit(opts, work, done(Settle::Slot(slot)));
            to_unknown(env, id.map_err(pool_error)? as f64)?
        };
        self.scope.begin(env);
        Ok(value)
    }
}

/// Wait and run times as cumulative histogram counts at `bounds` (seconds, ascending), for
/// Prometheus: `[waitLe..., waitCount, waitSumSeconds, runLe..., runCount, runSumSeconds]`.
#[napi]
pub fn pool_latency_buckets(pool: &External<NativePool>, bounds: Vec<f64>) -> Vec<f64> {
    let bounds_us: Vec<u64> = bounds.iter().map(|s| (s * 1e6).max(0.0) as u64).collect();
    let (wait, run) = pool.core.latency_buckets(&bounds_us);
    let mut out = Vec::with_capacity(2 * (bounds.len() + 2));
    for c in [wait, run] {
        out.extend(c.le.iter().map(|&n| n as f64));
        out.push(c.count as f64);
        out.push(c.sum_us as f64 / 1e6);
    }
    out
}
