//! `NativePool`: the JS-facing handle to a core [`Pool`], bound to the environment that made it.

use std::sync::Arc;

use napi::bindgen_prelude::{External, Unknown};
use napi::{Env, sys};
use napi_derive::napi;

use super::channel::{Completion, EnvScope, Settle};
use super::deferred::Deferred;
use super::errors::{self, Result, out_of_range, pool_error};
use super::value::{TaskError, Value};
use offload_core::pool::{
    CancelReason, CancelToken, Cancelled, Percentiles, Pool, PoolConfig, Priority, SubmitOptions,
};

/// Options for `new Pool()`.
#[napi(object, object_to_js = false)]
pub struct PoolOptions {
    /// Worker threads. Default: the `OFFLOAD_THREADS` environment variable if set, else
    /// `os.availableParallelism()`.
    pub threads: Option<f64>,
    /// Tasks allowed to wait for a thread (a task that a free thread starts at once does not
    /// count); past this, calls reject with `ERR_OFFLOAD_QUEUE_FULL`. Default: `10000`.
    pub max_queue: Option<f64>,
    /// Names the threads `offload-<name>-<n>` (shown by debuggers and `top -H`). Default: `'pool'`.
    pub name: Option<String>,
    /// Scheduling niceness of the pool's threads on Linux, 0–19: higher values let the event
    /// loop's thread take a core from a busy pool thread sooner. 0 leaves them at the process's
    /// priority. Default: `10`.
    pub nice: Option<f64>,
}

const MAX_THREADS: f64 = 1024.0;

impl TryFrom<PoolOptions> for PoolConfig {
    type Error = errors::Error;

    fn try_from(o: PoolOptions) -> Result<Self> {
        let mut config = PoolConfig::default();
        if let Some(t) = o.threads {
            if t.fract() != 0.0 || !(1.0..=MAX_THREADS).contains(&t) {
                return Err(out_of_range(
                    "options.threads",
                    format!("an integer >= 1 && <= {MAX_THREADS}"),
                    t,
                ));
            }
            config.threads = t as usize;
        }
        if let Some(q) = o.max_queue {
            if q.is_nan() || q < 0.0 || (q.is_finite() && q.fract() != 0.0) {
                return Err(out_of_range("options.maxQueue", "an integer >= 0", q));
            }
            config.max_queue = if q.is_infinite() {
                usize::MAX
            } else {
                q as usize
            };
        }
        if let Some(n) = o.nice {
            if n.fract() != 0.0 || !(0.0..=19.0).contains(&n) {
                return Err(out_of_range("options.nice", "an integer >= 0 && <= 19", n));
            }
            config.nice = n as i32;
        }
        if let Some(name) = o.name {
            if name.is_empty() || name.len() > 64 || name.chars().any(char::is_control) {
                return Err(errors::invalid_value(
                    "property 'options.name'",
                    format!("expected 1 to 64 printable characters, received {name:?}"),
                ));
            }
            config.name = name;
        }
        Ok(config)
    }
}

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
    let scope = super::env_scope(&env)?;
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
    pool.scope.begin(env.raw());
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
        raw_env: sys::napi_env,
        slot: u32,
        keep: &[sys::napi_value],
        priority: Option<String>,
        cancellable: bool,
        work: W,
    ) -> Result<Unknown<'static>>
    where
        W: FnOnce(&CancelToken) -> std::result::Result<Value, TaskError> + Send + 'static,
    {
        let priority = match priority.as_deref() {
            None => Priority::Normal,
            Some(p) => p.parse().map_err(|()| {
                errors::one_of("property 'options.priority'", &["high", "normal", "low"], p)
            })?,
        };
        let opts = SubmitOptions {
            priority,
            cancellable,
            scope: Some(self.scope.group.clone()),
        };
        let (target, promise) = if slot == NATIVE_PROMISE {
            // SAFETY: on the JS thread, with values from this call's arguments.
            let (d, promise) = unsafe { Deferred::create(raw_env, keep) }
                .map_err(|e| napi::Error::new("ERR_OFFLOAD_INTERNAL".to_owned(), e.reason))?;
            (Settle::Deferred(d), Some((d, promise)))
        } else {
            (Settle::Slot(slot), None)
        };
        let scope = self.scope.clone();
        let done = move |_id, outcome| {
            scope.post(Completion {
                settle: target,
                result: errors::settle(outcome),
            })
        };
        match self.core.submit(opts, work, done) {
            Ok(id) => {
                self.scope.begin(raw_env);
                let value = match promise {
                    Some((_, p)) => p,
                    None => {
                        let mut v = std::ptr::null_mut();
                        // SAFETY: `raw_env` is the current JS thread's env (a #[napi] call);
                        // `v` a valid out-pointer. The status is not needed: creating a
                        // number cannot fail in a live env.
                        unsafe { sys::napi_create_double(raw_env, id as f64, &mut v) };
                        v
                    }
                };
                // SAFETY: a value just created in this env.
                Ok(unsafe { Unknown::from_raw_unchecked(raw_env, value) })
            }
            Err(e) => {
                if let Some((d, _)) = promise {
                    // SAFETY: on the JS thread; the task holding the other copy was dropped.
                    unsafe { d.abandon(raw_env) };
                }
                Err(pool_error(e))
            }
        }
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
