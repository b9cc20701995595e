//! The CPU pool: a dedicated rayon thread pool behind a bounded, prioritised admission queue.
//!
//! `submit` never blocks: it either accepts a task into the priority queue or rejects it at
//! once with [`PoolError::QueueFull`] or [`PoolError::Closed`]. Queued tasks are run by
//! drainer jobs on the rayon threads (see `worker`). Work polls a [`CancelToken`]
//! cooperatively; cancellation of a queued task finishes it immediately.
//! Guarantees: every accepted task's completion runs exactly once, panics in work are caught
//! and reported as [`Outcome::Panicked`], and `close` reports idleness only after every
//! accepted task has ended. Nothing here knows about Node; the binding (`napi/`) adapts it.

// The exceptions, `worker::set_nice` and `worker::set_idle_priority`, carry their own `expect`.
#![deny(unsafe_code)]

mod gate;
mod histogram;
mod queue;
mod stats;
mod task;
mod worker;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU8, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

pub use gate::{Gate, Held};
pub(crate) use histogram::Histogram;
pub use histogram::{Cumulative, Percentiles};
pub use stats::StatsSnapshot;
pub use task::{CancelGroup, CancelReason, CancelToken, Outcome, Priority};
pub use worker::{TaskScope, set_nice};

use queue::PriorityQueue;
use stats::Stats;
use task::{Job, TaskCtl};

/// Waiting tasks a pool admits before rejecting, unless configured otherwise.
pub const DEFAULT_MAX_QUEUE: usize = 10_000;

/// Niceness given to pool threads unless configured otherwise (see [`PoolConfig::nice`]).
pub const DEFAULT_NICE: i32 = 10;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PoolConfig {
    pub threads: usize,
    pub max_queue: usize,
    pub name: String,
    /// Scheduling niceness of the pool's threads (Linux, 0..=19). Pool threads are background
    /// work: when the event loop's thread wants a core that a pool thread holds, the kernel
    /// should hand it over at once rather than after a time slice. 0 leaves them as spawned.
    pub nice: i32,
    /// Runs the pool's threads under Linux's `SCHED_IDLE` policy instead of at `nice`: any
    /// other thread that wakes on a core a pool thread holds takes it at once. Niceness only
    /// weighs shares, and the scheduler (EEVDF) lets the running thread finish its slice, ~3 ms,
    /// first. The cost: pool threads run only on CPU time nothing else wants.
    pub idle_priority: bool,
}

impl Default for PoolConfig {
    fn default() -> Self {
        Self {
            threads: default_threads(),
            max_queue: DEFAULT_MAX_QUEUE,
            name: "pool".to_owned(),
            nice: DEFAULT_NICE,
            idle_priority: false,
        }
    }
}

/// The machine's available parallelism. The core never reads the environment: `environ` may be
/// rewritten by another thread of the embedding process (Node's `SHARE_ENV` workers), so the
/// binding reads `OFFLOAD_THREADS` from `process.env` and passes `threads`.
pub fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Linux keeps 15 bytes of a thread's name.
const THREAD_NAME_MAX: usize = 15;

/// `offload-<name>-<n>`, with `offload-<name>` cut short so that the whole fits Linux's 15
/// bytes and the thread number always survives (`offload-images-12` becomes `offload-imag-12`).
fn thread_name(name: &str, index: usize) -> String {
    let suffix = format!("-{index}");
    let mut prefix = format!("offload-{name}");
    let mut keep = THREAD_NAME_MAX
        .saturating_sub(suffix.len())
        .min(prefix.len());
    while !prefix.is_char_boundary(keep) {
        keep -= 1;
    }
    prefix.truncate(keep);
    prefix + &suffix
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PoolError {
    #[error("the pool queue is full ({max_queue} tasks already waiting)")]
    QueueFull { max_queue: usize },
    #[error("the pool is closed")]
    Closed,
    #[error("could not start the pool's threads: {0}")]
    Spawn(String),
}

/// What [`Pool::cancel`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cancelled {
    /// Unknown, already finished, or already cancelled: nothing changed.
    NotFound,
    /// It was still queued: it never ran, and its completion has already been called.
    Dequeued,
    /// It is running: its token fired, and its completion runs once the work stops.
    Signalled,
}

/// Per-task submission settings.
#[derive(Clone, Debug, Default)]
pub struct SubmitOptions {
    pub priority: Priority,
    /// Register the task so [`Pool::cancel`] can find it by id.
    pub cancellable: bool,
    /// A group whose cancellation also cancels this task (e.g. the submitting Node env).
    pub scope: Option<Arc<CancelGroup>>,
}

const OPEN: u8 = 0;
const CLOSING: u8 = 1;
const DESTROYED: u8 = 2;

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

type IdleCallback = Box<dyn FnOnce() + Send>;

struct Shared {
    config: PoolConfig,
    rayon: rayon::ThreadPool,
    queue: Mutex<PriorityQueue>,
    stats: Stats,
    state: AtomicU8,
    destroyed: Arc<CancelGroup>,
    /// Accepted tasks that have not yet finished (queued + running).
    active: AtomicUsize,
    /// Drainer jobs spawned and not yet exited; at most `config.threads`.
    drainers: AtomicUsize,
    /// Drainers currently holding a task (from its pop to its end).
    busy: AtomicUsize,
    idle_waiters: Mutex<Vec<IdleCallback>>,
    cancellable: Mutex<HashMap<u64, Arc<TaskCtl>>>,
    /// Permits a drainer must hold to run tasks (a host budget's slots); none: no limit.
    gate: Option<Arc<dyn Gate>>,
    /// Where a gated pool's idle drainers sleep, and submissions wake them (see `worker`).
    parked: Mutex<()>,
    work: Condvar,
}

/// A handle to a pool; clones share the same threads and queue.
#[derive(Clone)]
pub struct Pool {
    shared: Arc<Shared>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Nothing panics while holding these locks, but a poisoned lock must not wedge the pool.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Pool {
    pub fn new(config: PoolConfig) -> Result<Self, PoolError> {
        Self::gated(config, None)
    }

    /// A pool whose tasks run only while holding one of `gate`'s permits (see `gate`).
    pub fn gated(config: PoolConfig, gate: Option<Arc<dyn Gate>>) -> Result<Self, PoolError> {
        let name = config.name.clone();
        let (nice, idle) = (config.nice, config.idle_priority);
        let rayon = rayon::ThreadPoolBuilder::new()
            .num_threads(config.threads)
            .thread_name(move |i| thread_name(&name, i))
            .start_handler(move |_| {
                if !idle || !worker::set_idle_priority() {
                    worker::set_nice(nice);
                }
            })
            // Jobs catch their own panics; this only guards against a bug in that wrapper.
            .panic_handler(|_| {})
            .build()
            .map_err(|e| PoolError::Spawn(e.to_string()))?;
        Ok(Self {
            shared: Arc::new(Shared {
                config,
                rayon,
                queue: Mutex::new(PriorityQueue::default()),
                stats: Stats::new(),
                state: AtomicU8::new(OPEN),
                destroyed: Arc::new(CancelGroup::default()),
                active: AtomicUsize::new(0),
                drainers: AtomicUsize::new(0),
                busy: AtomicUsize::new(0),
                idle_waiters: Mutex::new(Vec::new()),
                cancellable: Mutex::new(HashMap::new()),
                gate,
                parked: Mutex::new(()),
                work: Condvar::new(),
            }),
        })
    }

    pub fn config(&self) -> &PoolConfig {
        &self.shared.config
    }

    /// Queues `work`; `done` receives the task id and outcome on a pool thread (or on the
    /// thread that cancels or destroys it). Returns the task id. On rejection `done` is dropped uncalled.
    pub fn submit<T, E, W, D>(
        &self,
        opts: SubmitOptions,
        work: W,
        done: D,
    ) -> Result<u64, PoolError>
    where
        W: FnOnce(&CancelToken) -> Result<T, E> + Send + 'static,
        D: FnOnce(u64, Outcome<T, E>) + Send + 'static,
    {
        let s = &self.shared;
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        let job: Job = task::erase(id, work, done);
        let ctl = Arc::new(TaskCtl::new(
            id,
            opts.priority,
            opts.cancellable,
            opts.scope,
            job,
        ));
        {
            let mut q = lock(&s.queue);
            if s.state.load(Ordering::SeqCst) != OPEN {
                s.stats.rejected.fetch_add(1, Ordering::Relaxed);
                return Err(PoolError::Closed);
            }
            // A task that a free thread will pick up at once is not waiting, so it does not
            // count against `max_queue` (with `max_queue: 0`, work runs only on free threads).
            let queued = s.stats.queued.load(Ordering::Relaxed);
            let running = s.stats.running.load(Ordering::Relaxed);
            if queued >= s.config.max_queue && queued.saturating_add(running) >= s.config.threads {
                s.stats.rejected.fetch_add(1, Ordering::Relaxed);
                return Err(PoolError::QueueFull {
                    max_queue: s.config.max_queue,
                });
            }
            if opts.cancellable {
                lock(&s.cancellable).insert(id, ctl.clone());
            }
            s.stats.queued.fetch_add(1, Ordering::SeqCst);
            s.active.fetch_add(1, Ordering::SeqCst);
            q.push(ctl);
        }
        if s.gate.is_some() {
            // Taken so that a drainer between its look at the queue and its sleep hears this.
            let _parked = lock(&s.parked);
            s.work.notify_one();
        }
        self.shared.ensure_drainer();
        Ok(id)
    }

    /// Cancels a task submitted with `cancellable`. A queued task is finished right here with
    /// [`Outcome::Cancelled`]; a running one sees its token fire, and its completion follows
    /// once its work has noticed (the work may still be reading its inputs until then).
    pub fn cancel(&self, id: u64, reason: CancelReason) -> Cancelled {
        let s = &self.shared;
        let Some(ctl) = lock(&s.cancellable).get(&id).cloned() else {
            return Cancelled::NotFound;
        };
        if !ctl.cancel(reason) {
            return Cancelled::NotFound;
        }
        match ctl.take_job() {
            Some(job) => {
                s.stats.queued.fetch_sub(1, Ordering::Relaxed);
                s.skip(&ctl, job, reason);
                Cancelled::Dequeued
            }
            None => Cancelled::Signalled,
        }
    }

    /// Stops admission; `on_idle` runs once every accepted task has ended (maybe right away).
    pub fn close(&self, on_idle: impl FnOnce() + Send + 'static) {
        let s = &self.shared;
        {
            let _q = lock(&s.queue);
            let _ = s
                .state
                .compare_exchange(OPEN, CLOSING, Ordering::SeqCst, Ordering::SeqCst);
        }
        let mut waiters = lock(&s.idle_waiters);
        if s.active.load(Ordering::SeqCst) == 0 {
            drop(waiters);
            on_idle();
        } else {
            waiters.push(Box::new(on_idle));
        }
    }

    /// Stops admission, finishes every queued task as cancelled and signals running ones.
    pub fn destroy(&self) {
        let s = &self.shared;
        let drained = {
            let mut q = lock(&s.queue);
            s.state.store(DESTROYED, Ordering::SeqCst);
            q.drain()
        };
        s.destroyed.cancel();
        for (ctl, job) in drained {
            s.stats.queued.fetch_sub(1, Ordering::Relaxed);
            s.skip(&ctl, job, CancelReason::PoolDestroyed);
        }
    }

    pub fn stats(&self) -> StatsSnapshot {
        self.shared.stats.snapshot(self.shared.config.threads)
    }

    /// Wait and run times counted at or below each bound (microseconds, ascending).
    pub fn latency_buckets(&self, bounds_us: &[u64]) -> (Cumulative, Cumulative) {
        self.shared.stats.latency_buckets(bounds_us)
    }
}

#[cfg(test)]
mod tests;
