//! Admission and accounting for children.
//!
//! A [`Supervisor`] runs at most `max_concurrent` children at once and lets up to `max_queue`
//! more wait, in FIFO order; past that, [`Supervisor::spawn`] fails at once with
//! [`SupervisorError::QueueFull`] rather than piling up work the caller cannot see. A slot is
//! handed straight from an exiting child to the next in the queue. An [`Owner`] groups the
//! children started on behalf of one party (a Node environment), so that all of them can be
//! killed when it goes away.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};

use tokio::sync::oneshot;

use super::capture::Captured;
use super::child::{Child, Inner, Report, Spec};
use super::lifecycle::{self, Admit};
use super::runtime::{Services, services};
use super::spawn::SpawnError;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SupervisorConfig {
    pub max_concurrent: usize,
    pub max_queue: usize,
}

impl Default for SupervisorConfig {
    /// 4 × the available cores running, 10,000 waiting.
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Self {
            max_concurrent: 4 * cores,
            max_queue: 10_000,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SupervisorError {
    #[error("the subprocess queue is full ({max_queue} waiting)")]
    QueueFull { max_queue: usize },
    #[error("the owner of this supervisor is shutting down")]
    Closed,
    #[error("could not start the supervisor's threads: {0}")]
    Start(#[from] std::io::Error),
}

/// Counters; `running` and `queued` are gauges, the rest only grow.
#[derive(Default)]
pub(crate) struct Counters {
    spawned: AtomicU64,
    running: AtomicUsize,
    queued: AtomicUsize,
    exited: AtomicU64,
    failed: AtomicU64,
    timed_out: AtomicU64,
    killed: AtomicU64,
    spawn_errors: AtomicU64,
    max_rss_bytes: AtomicU64,
}

/// A snapshot of [`Counters`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProcessStats {
    /// Children started.
    pub spawned: u64,
    /// Children holding a running slot (being spawned, running, or draining their output).
    pub running: usize,
    /// Children waiting for admission.
    pub queued: usize,
    /// Children that ran and ended, however they ended.
    pub exited: u64,
    /// Children that ended with a non-zero code or a signal, or never started.
    pub failed: u64,
    pub timed_out: u64,
    /// Children the supervisor signalled (kill, timeout, abort, maxBuffer, teardown).
    pub killed: u64,
    pub spawn_errors: u64,
    /// The largest peak RSS measured of any child; `None` until one could be measured (see
    /// `Report::max_rss_bytes`: a child whose peak stays below this process's own cannot be).
    pub max_rss_bytes: Option<u64>,
}

/// Every supervisor also counts into this one, for `processStats()`.
static GLOBAL: Counters = Counters {
    spawned: AtomicU64::new(0),
    running: AtomicUsize::new(0),
    queued: AtomicUsize::new(0),
    exited: AtomicU64::new(0),
    failed: AtomicU64::new(0),
    timed_out: AtomicU64::new(0),
    killed: AtomicU64::new(0),
    spawn_errors: AtomicU64::new(0),
    max_rss_bytes: AtomicU64::new(0),
};

impl Counters {
    fn snapshot(&self) -> ProcessStats {
        ProcessStats {
            spawned: self.spawned.load(Ordering::Relaxed),
            running: self.running.load(Ordering::Relaxed),
            queued: self.queued.load(Ordering::Relaxed),
            exited: self.exited.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
            timed_out: self.timed_out.load(Ordering::Relaxed),
            killed: self.killed.load(Ordering::Relaxed),
            spawn_errors: self.spawn_errors.load(Ordering::Relaxed),
            max_rss_bytes: Some(self.max_rss_bytes.load(Ordering::Relaxed)).filter(|&b| b > 0),
        }
    }
}

/// Totals over every supervisor in the process.
pub fn global_stats() -> ProcessStats {
    GLOBAL.snapshot()
}

struct Admission {
    running: usize,
    queue: VecDeque<(u64, oneshot::Sender<()>)>,
}

pub(crate) struct Shared {
    config: SupervisorConfig,
    admission: Mutex<Admission>,
    counters: Counters,
    pub(crate) services: Arc<Services>,
}

impl Shared {
    fn count(&self, f: impl Fn(&Counters)) {
        f(&self.counters);
        f(&GLOBAL);
    }

    fn admission(&self) -> std::sync::MutexGuard<'_, Admission> {
        self.admission.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Leaves the queue; false if the child was admitted meanwhile (it then holds a slot).
    pub(crate) fn withdraw(&self, id: u64) -> bool {
        let mut a = self.admission();
        let before = a.queue.len();
        a.queue.retain(|(queued, _)| *queued != id);
        let withdrawn = a.queue.len() < before;
        if withdrawn {
            self.count(|c| {
                c.queued.fetch_sub(1, Ordering::Relaxed);
            });
        }
        withdrawn
    }

    /// Gives a running slot back: to the first child still waiting, else to the pool.
    pub(crate) fn release(&self) {
        let mut a = self.admission();
        while let Some((_, next)) = a.queue.pop_front() {
            self.count(|c| {
                c.queued.fetch_sub(1, Ordering::Relaxed);
            });
            if next.send(()).is_ok() {
                return;
            }
        }
        a.running -= 1;
        self.count(|c| {
            c.running.fetch_sub(1, Ordering::Relaxed);
        });
    }

    pub(crate) fn started(&self) {
        self.count(|c| {
            c.spawned.fetch_add(1, Ordering::Relaxed);
        });
    }

    /// Accounts for a finished child; `ran` if it was spawned.
    pub(crate) fn finished(&self, report: &Report, ran: bool) {
        let failed = report.spawn_error.is_some()
            || report
                .status
                .is_some_and(|s| s.code != Some(0) || s.signal.is_some());
        let rss = report.max_rss_bytes.unwrap_or(0);
        self.count(|c| {
            if ran {
                c.exited.fetch_add(1, Ordering::Relaxed);
            }
            c.failed.fetch_add(failed as u64, Ordering::Relaxed);
            c.timed_out
                .fetch_add(report.timed_out as u64, Ordering::Relaxed);
            c.killed.fetch_add(report.killed as u64, Ordering::Relaxed);
            c.spawn_errors
                .fetch_add(report.spawn_error.is_some() as u64, Ordering::Relaxed);
            c.max_rss_bytes.fetch_max(rss, Ordering::Relaxed);
        });
    }
}

/// Runs children with bounded concurrency. Cheap to clone; clones share the budget.
#[derive(Clone)]
pub struct Supervisor(Arc<Shared>);

impl Supervisor {
    pub fn new(config: SupervisorConfig) -> Result<Self, SupervisorError> {
        Ok(Self(Arc::new(Shared {
            config,
            admission: Mutex::new(Admission {
                running: 0,
                queue: VecDeque::new(),
            }),
            counters: Counters::default(),
            services: services()?,
        })))
    }

    pub fn config(&self) -> SupervisorConfig {
        self.0.config
    }

    pub fn stats(&self) -> ProcessStats {
        self.0.counters.snapshot()
    }

    /// Admits `spec` (to run now, or to wait in the queue) and returns its handle. `on_exit`
    /// runs exactly once, on the I/O thread, when the child has ended or could not start.
    pub fn spawn<F>(
        &self,
        spec: Spec,
        owner: &Arc<Owner>,
        on_exit: F,
    ) -> Result<Child, SupervisorError>
    where
        F: FnOnce(Report) + Send + 'static,
    {
        static IDS: AtomicU64 = AtomicU64::new(1);
        if owner.closed.load(Ordering::SeqCst) {
            return Err(SupervisorError::Closed);
        }
        let id = IDS.fetch_add(1, Ordering::Relaxed);
        let admitted = if spec.cancelled {
            Admit::Never
        } else {
            let mut a = self.0.admission();
            if a.running < self.0.config.max_concurrent {
                a.running += 1;
                self.0.count(|c| {
                    c.running.fetch_add(1, Ordering::Relaxed);
                });
                Admit::Now
            } else if a.queue.len() < self.0.config.max_queue {
                let (tx, rx) = oneshot::channel();
                a.queue.push_back((id, tx));
                self.0.count(|c| {
                    c.queued.fetch_add(1, Ordering::Relaxed);
                });
                Admit::Queued(rx)
            } else {
                return Err(SupervisorError::QueueFull {
                    max_queue: self.0.config.max_queue,
                });
            }
        };
        let inner = Arc::new(Inner::new(id, self.0.services.clone(), &spec));
        owner.add(&inner);
        let child = Child(inner.clone());
        let shared = self.0.clone();
        let owner = owner.clone();
        let mut finish = Finish(Some(on_exit));
        self.0.services.run(async move {
            let report = lifecycle::run(&shared, &inner, spec, admitted).await;
            owner.remove(inner.id);
            // `on_exit` may convert the output (a big string is transcoded for V8); keep that
            // off the thread that supervises every other child.
            let captured = report.stdout.as_ref().map_or(0, Captured::len)
                + report.stderr.as_ref().map_or(0, Captured::len);
            if captured > BLOCKING_ABOVE {
                drop(tokio::task::spawn_blocking(move || finish.call(report)));
            } else {
                finish.call(report);
            }
        });
        Ok(child)
    }
}

/// Captured output above which `on_exit` runs on a blocking thread rather than the I/O thread.
const BLOCKING_ABOVE: usize = 1 << 20;

/// Calls `on_exit` exactly once: with the report, or, should the lifecycle task panic or be
/// dropped, with an internal-error report, so no caller waits forever.
struct Finish<F: FnOnce(Report)>(Option<F>);

impl<F: FnOnce(Report)> Finish<F> {
    fn call(&mut self, report: Report) {
        if let Some(f) = self.0.take() {
            f(report);
        }
    }
}

impl<F: FnOnce(Report)> Drop for Finish<F> {
    fn drop(&mut self) {
        self.call(Report {
            spawn_error: Some(SpawnError::Internal),
            ..Report::default()
        });
    }
}

/// The children started for one party, killed together by [`Owner::kill_all`].
#[derive(Default)]
pub struct Owner {
    children: Mutex<HashMap<u64, Weak<Inner>>>,
    closed: AtomicBool,
}

impl Owner {
    fn add(&self, inner: &Arc<Inner>) {
        let mut children = self.children.lock().unwrap_or_else(|p| p.into_inner());
        children.insert(inner.id, Arc::downgrade(inner));
    }

    fn remove(&self, id: u64) {
        let mut children = self.children.lock().unwrap_or_else(|p| p.into_inner());
        children.remove(&id);
    }

    /// SIGKILLs every live child (its whole tree) and refuses new ones.
    pub fn kill_all(&self) {
        self.closed.store(true, Ordering::SeqCst);
        let children: Vec<_> = {
            let c = self.children.lock().unwrap_or_else(|p| p.into_inner());
            c.values().filter_map(Weak::upgrade).collect()
        };
        for inner in children {
            Child(inner).terminate();
        }
    }
}
