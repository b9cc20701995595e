//! The host budget: at most `slots` tasks running at once across every pool, in every process
//! of this user on this host, that names the same budget.
//!
//! A slot is an exclusive `flock` on a file in the budget's private directory (`slots`, `dir`),
//! so the kernel gives a dead holder's slots back when its files close, within a millisecond
//! of a SIGKILL and without a lease. Taking a free slot is one system call on the thread that
//! will run the task; a task that finds none registers a [`Request`] and its thread goes back
//! to other work: the process's one `offload-budget` thread (`waiter`) waits for every budget
//! and calls the request's grant with a [`Permit`] when a slot frees. Requests are served in
//! order within a process; between processes the kernel picks, and a holder that keeps running
//! tasks back to back gives its slot up after [`QUANTUM`] when others wait
//! ([`Permit::should_yield`]).
//!
//! One [`HostBudget`] exists per directory in a process (`open` returns the same one), shared
//! by its pools. The core never reads the environment: the caller picks the base directory.

mod dir;
mod slots;
mod sys;
mod waiter;

use std::collections::{HashMap, VecDeque};
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, Weak};
use std::time::{Duration, Instant};

use crate::pool::{Gate, Held, Histogram, Percentiles};
use dir::BudgetDir;
use slots::Slots;

/// The most slots a budget may have: each is a file descriptor in every member process.
pub const MAX_SLOTS: usize = 1024;

/// How long a permit is kept across back-to-back tasks while other tasks wait for a slot.
pub const QUANTUM: Duration = Duration::from_millis(50);

#[derive(Debug, thiserror::Error)]
pub enum HostBudgetError {
    #[error("the host budget directory {path} is not safe to use: {why}")]
    Insecure { path: PathBuf, why: String },
    #[error(
        "the host budget {path} has {slots} slots, set by a process using it; this one asked for {asked} (all its processes must agree, or stop before it changes)"
    )]
    Mismatch {
        path: PathBuf,
        slots: usize,
        asked: usize,
    },
    #[error("the host budget could not use {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the host budget cannot wait for slots: {0}")]
    Unavailable(String),
}

type Grant = Box<dyn FnOnce(Permit) + Send>;

struct Request {
    id: u64,
    grant: Grant,
    since: Instant,
}

pub(crate) struct Inner {
    name: String,
    slots: Slots,
    /// Holds the shared lock on `meta` that keeps the slot count fixed while we are members.
    _meta: OwnedFd,
    requests: Mutex<VecDeque<Request>>,
    held: AtomicUsize,
    acquired: AtomicU64,
    waited: AtomicU64,
    wait: Histogram,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A handle on a budget; clones share it.
#[derive(Clone)]
pub struct HostBudget {
    inner: Arc<Inner>,
}

/// One slot, held until dropped.
pub struct Permit {
    inner: Arc<Inner>,
    slot: usize,
    since: Instant,
}

/// What [`HostBudget::stats`] reports.
#[derive(Clone, Debug, Default)]
pub struct HostBudgetStats {
    pub name: String,
    pub dir: String,
    pub slots: usize,
    /// Slots this process holds now.
    pub held: usize,
    /// Slots held by any process (this one included), probed now.
    pub held_anywhere: usize,
    /// Tasks of this process waiting for a slot.
    pub waiting: usize,
    /// Slots this process has taken since it joined.
    pub acquired: u64,
    /// Of those, the ones a task had to wait for.
    pub waited: u64,
    /// How long waiting tasks waited, in ms.
    pub wait: Percentiles,
}

static NEXT_REQUEST: AtomicU64 = AtomicU64::new(1);

impl HostBudget {
    /// Joins budget `name` under `base` (see `dir` for the checks), asking for `slots`
    /// (`None`: whatever it has, else `default_slots`). `name` is checked by the caller.
    pub fn open(
        base: &Path,
        name: &str,
        slots: Option<usize>,
        default_slots: usize,
    ) -> Result<Self, HostBudgetError> {
        static OPEN: OnceLock<Mutex<HashMap<PathBuf, Weak<Inner>>>> = OnceLock::new();
        let mut open = lock(OPEN.get_or_init(Default::default));
        if let Some(inner) = open.get(&base.join(name)).and_then(Weak::upgrade) {
            let n = inner.slots.len();
            if slots.is_some_and(|s| s != n) {
                return Err(HostBudgetError::Mismatch {
                    path: base.join(name),
                    slots: n,
                    asked: slots.unwrap_or(n),
                });
            }
            return Ok(Self { inner });
        }
        let w = waiter::waiter().map_err(HostBudgetError::Unavailable)?;
        let dir = BudgetDir::open(base, name)?;
        let (meta, n) = dir.join(slots, default_slots.clamp(1, MAX_SLOTS))?;
        let path = dir.path.clone();
        let inner = Arc::new(Inner {
            name: name.to_owned(),
            slots: Slots::open(dir, n)?,
            _meta: meta,
            requests: Mutex::new(VecDeque::new()),
            held: AtomicUsize::new(0),
            acquired: AtomicU64::new(0),
            waited: AtomicU64::new(0),
            wait: Histogram::new(),
        });
        w.register(Arc::downgrade(&inner), &inner.slots.dir().fd)
            .map_err(|source| HostBudgetError::Io {
                path: path.clone(),
                source,
            })?;
        open.retain(|_, b| b.strong_count() > 0);
        open.insert(path, Arc::downgrade(&inner));
        Ok(Self { inner })
    }

    pub fn slots(&self) -> usize {
        self.inner.slots.len()
    }

    /// A slot now, if one is free and no task of this process waits for one (it would jump
    /// their queue).
    pub fn try_acquire(&self) -> Option<Permit> {
        if !lock(&self.inner.requests).is_empty() {
            return None;
        }
        self.inner.try_acquire()
    }

    /// Calls `grant` with a slot once one frees (on the budget's thread, or on this one if one
    /// is free now). Returns the request's id, for [`withdraw`](Self::withdraw).
    pub fn acquire(&self, grant: impl FnOnce(Permit) + Send + 'static) -> u64 {
        let id = self.enqueue(Box::new(grant));
        self.inner.serve();
        id
    }

    /// As [`acquire`](Self::acquire), but only the budget's thread serves it, after the next
    /// release or death it hears of: for a holder that just gave its slot up so that other
    /// processes, whose budget threads are waking up for it, get their turn.
    pub fn acquire_later(&self, grant: impl FnOnce(Permit) + Send + 'static) -> u64 {
        self.enqueue(Box::new(grant))
    }

    fn enqueue(&self, grant: Grant) -> u64 {
        let id = NEXT_REQUEST.fetch_add(1, Ordering::Relaxed);
        {
            let mut q = lock(&self.inner.requests);
            if q.is_empty() {
                // Announced before the look at the slots in `serve`: a release after that
                // look sees us and rings.
                self.inner.slots.set_waiting(true);
            }
            q.push_back(Request {
                id,
                grant,
                since: Instant::now(),
            });
        }
        id
    }

    /// Drops a request that has not been granted; false if it was granted already (or unknown).
    pub fn withdraw(&self, id: u64) -> bool {
        let removed = {
            let mut q = lock(&self.inner.requests);
            let Some(at) = q.iter().position(|r| r.id == id) else {
                return false;
            };
            let r = q.remove(at);
            if q.is_empty() {
                self.inner.slots.set_waiting(false);
                // Nothing of ours starves any more: the others must not be held back.
                self.inner.slots.drop_turn();
            }
            r
        };
        drop(removed);
        true
    }

    pub fn stats(&self) -> HostBudgetStats {
        let i = &self.inner;
        HostBudgetStats {
            name: i.name.clone(),
            dir: i.slots.dir().path.display().to_string(),
            slots: i.slots.len(),
            held: i.held.load(Ordering::Relaxed),
            held_anywhere: i.slots.held_anywhere(),
            waiting: lock(&i.requests).len(),
            acquired: i.acquired.load(Ordering::Relaxed),
            waited: i.waited.load(Ordering::Relaxed),
            wait: i.wait.percentiles(),
        }
    }

    /// The wait-time histogram's counts at or below each bound (µs), for metrics.
    pub fn wait_buckets(&self, bounds_us: &[u64]) -> crate::pool::Cumulative {
        self.inner.wait.cumulative(bounds_us)
    }
}

impl Inner {
    fn try_acquire(self: &Arc<Self>) -> Option<Permit> {
        let slot = self.slots.try_take()?;
        self.held.fetch_add(1, Ordering::Relaxed);
        self.acquired.fetch_add(1, Ordering::Relaxed);
        Some(Permit {
            inner: self.clone(),
            slot,
            since: Instant::now(),
        })
    }

    /// Hands free slots to waiting requests, oldest first, until either runs out.
    fn serve(self: &Arc<Self>) {
        loop {
            let (request, permit) = {
                let mut q = lock(&self.requests);
                let Some(oldest) = q.front() else {
                    return;
                };
                if oldest.since.elapsed() >= QUANTUM {
                    self.slots.take_turn();
                }
                let Some(permit) = self.try_acquire() else {
                    return;
                };
                let r = q.pop_front().expect("not empty");
                if q.is_empty() {
                    self.slots.set_waiting(false);
                }
                // Served: the next starving waiter, of any process, may claim the turn.
                self.slots.drop_turn();
                (r, permit)
            };
            self.waited.fetch_add(1, Ordering::Relaxed);
            self.wait.record(request.since.elapsed());
            (request.grant)(permit);
        }
    }
}

impl Permit {
    /// Whether to give the slot up now: held for a [`QUANTUM`] while others wait.
    pub fn should_yield(&self) -> bool {
        self.since.elapsed() >= QUANTUM && self.inner.slots.contended()
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        self.inner.held.fetch_sub(1, Ordering::Relaxed);
        // Rings the bell if anyone waits, this process's waiters included.
        self.inner.slots.give(self.slot);
    }
}

impl Held for Permit {
    fn should_yield(&self) -> bool {
        Permit::should_yield(self)
    }
}

impl Gate for HostBudget {
    fn try_acquire(&self) -> Option<Box<dyn Held>> {
        HostBudget::try_acquire(self).map(|p| Box::new(p) as Box<dyn Held>)
    }

    fn wait(&self, grant: Box<dyn FnOnce(Box<dyn Held>) + Send>, yielded: bool) -> u64 {
        let grant = move |p| grant(Box::new(p) as Box<dyn Held>);
        if yielded {
            self.acquire_later(grant)
        } else {
            self.acquire(grant)
        }
    }

    fn withdraw(&self, id: u64) -> bool {
        HostBudget::withdraw(self, id)
    }
}

#[cfg(test)]
mod tests;
