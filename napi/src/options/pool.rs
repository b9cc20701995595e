//! `new Pool()` options and a task's priority.

use napi_derive::napi;

use super::integer;
use crate::errors::{Error, Result, invalid_value, one_of, out_of_range};
use offload_core::pool::{PoolConfig, Priority};

/// Options for `new Pool()`.
#[napi(object, object_to_js = false)]
pub struct PoolOptions {
    /// Worker threads. Default: `process.env.OFFLOAD_THREADS` if a positive integer, else
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
    /// Runs the pool's threads under Linux's `SCHED_IDLE` policy (then `nice` does not apply):
    /// any other thread that wakes on a core a pool thread holds, such as the event loop's or
    /// libuv's `fs` threads, takes it at once instead of after the scheduler's time slice
    /// (~3 ms). The cost: the pool runs only on CPU time nothing else on the host wants, so a
    /// host kept busy by other processes starves it. Default: `false`.
    pub idle_priority: Option<bool>,
}

/// The most threads one pool may have.
const MAX_THREADS: f64 = 1024.0;

impl TryFrom<PoolOptions> for PoolConfig {
    type Error = Error;

    fn try_from(o: PoolOptions) -> Result<Self> {
        let mut config = PoolConfig::default();
        if let Some(t) = o.threads {
            let range = format!("an integer >= 1 && <= {MAX_THREADS}");
            config.threads = integer("options.threads", t, 1.0, MAX_THREADS, &range)? as usize;
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
            let range = "an integer >= 0 && <= 19";
            config.nice = integer("options.nice", n, 0.0, 19.0, range)? as i32;
        }
        config.idle_priority = o.idle_priority.unwrap_or(false);
        if let Some(name) = o.name {
            if name.is_empty() || name.len() > 64 || name.chars().any(char::is_control) {
                return Err(invalid_value(
                    "property 'options.name'",
                    format!("expected 1 to 64 printable characters, received {name:?}"),
                ));
            }
            config.name = name;
        }
        Ok(config)
    }
}

/// `options.priority`: `'high'`, `'normal'` (the default) or `'low'`.
pub(crate) fn priority(p: Option<&str>) -> Result<Priority> {
    match p {
        None => Ok(Priority::Normal),
        Some(p) => p
            .parse()
            .map_err(|()| one_of("property 'options.priority'", &["high", "normal", "low"], p)),
    }
}
