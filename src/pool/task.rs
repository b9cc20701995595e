//! One accepted task: its control block, its cancellation token and how it ends.
//!
//! A task's work and completion are erased into a single [`Job`] that is stored in the task's
//! [`TaskCtl`]. Whoever takes the job out of the control block (a worker about to run it, a
//! canceller removing it from the queue, or `destroy`) is the only one who can finish it, so
//! every accepted task completes exactly once.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::str::FromStr;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::time::Instant;

/// Scheduling priority: FIFO within a level, higher levels first.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum Priority {
    High = 0,
    #[default]
    Normal = 1,
    Low = 2,
}

impl FromStr for Priority {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        match s {
            "high" => Ok(Self::High),
            "normal" => Ok(Self::Normal),
            "low" => Ok(Self::Low),
            _ => Err(()),
        }
    }
}

/// Why a task stopped before it could finish on its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CancelReason {
    /// The caller cancelled it (an AbortSignal fired).
    Aborted = 1,
    /// Its timeout elapsed.
    TimedOut = 2,
    /// The pool was destroyed.
    PoolDestroyed = 3,
    /// The scope that submitted it (a Node environment) went away.
    ScopeClosed = 4,
}

impl CancelReason {
    fn from_u8(v: u8) -> Option<Self> {
        match v {
            1 => Some(Self::Aborted),
            2 => Some(Self::TimedOut),
            3 => Some(Self::PoolDestroyed),
            4 => Some(Self::ScopeClosed),
            _ => None,
        }
    }
}

/// A flag shared by many tasks, so a whole group can be cancelled with one store.
#[derive(Debug, Default)]
pub struct CancelGroup(AtomicBool);

impl CancelGroup {
    // SeqCst, not Release/Acquire: env teardown stores this flag then reads a borrower count,
    // while a task raises that count then reads this flag (a store-buffering handshake).
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// How a task ended, as handed to its completion callback.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome<T, E> {
    Ok(T),
    Err(E),
    Cancelled(CancelReason),
    Panicked(String),
}

pub(crate) enum Run<'a> {
    Execute(&'a CancelToken),
    Skip(CancelReason),
}

/// How a job ended, for the pool's counters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ended {
    Completed,
    Failed,
    Cancelled(CancelReason),
}

/// Runs or skips the task, calls `account` with how it ended (so counters are current by the
/// time anyone observes the completion), then calls the completion.
pub(crate) type Job = Box<dyn FnOnce(Run<'_>, &mut dyn FnMut(Ended)) + Send>;

pub(crate) struct TaskCtl {
    pub(crate) id: u64,
    pub(crate) priority: Priority,
    pub(crate) enqueued_at: Instant,
    pub(crate) cancellable: bool,
    scope: Option<Arc<CancelGroup>>,
    cancelled: AtomicU8,
    job: Mutex<Option<Job>>,
}

impl TaskCtl {
    pub(crate) fn new(
        id: u64,
        priority: Priority,
        cancellable: bool,
        scope: Option<Arc<CancelGroup>>,
        job: Job,
    ) -> Self {
        Self {
            id,
            priority,
            enqueued_at: Instant::now(),
            cancellable,
            scope,
            cancelled: AtomicU8::new(0),
            job: Mutex::new(Some(job)),
        }
    }

    /// Takes the job; `None` means someone else already finished or is running it.
    pub(crate) fn take_job(&self) -> Option<Job> {
        self.job.lock().unwrap_or_else(|p| p.into_inner()).take()
    }

    /// Records the first cancellation reason; later ones are ignored.
    pub(crate) fn cancel(&self, reason: CancelReason) -> bool {
        self.cancelled
            .compare_exchange(0, reason as u8, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }

    fn reason(&self) -> Option<CancelReason> {
        CancelReason::from_u8(self.cancelled.load(Ordering::Acquire))
    }
}

/// Polled by running work; cheap enough to call every few hundred microseconds.
pub struct CancelToken {
    pub(crate) ctl: Arc<TaskCtl>,
    pub(crate) pool: Arc<CancelGroup>,
}

impl CancelToken {
    /// The reason this task must stop, if it must.
    pub fn reason(&self) -> Option<CancelReason> {
        if let Some(r) = self.ctl.reason() {
            return Some(r);
        }
        if self.pool.is_cancelled() {
            return Some(CancelReason::PoolDestroyed);
        }
        match &self.ctl.scope {
            Some(s) if s.is_cancelled() => Some(CancelReason::ScopeClosed),
            _ => None,
        }
    }

    pub fn is_cancelled(&self) -> bool {
        self.reason().is_some()
    }
}

/// Erases typed work and completion into a [`Job`], isolating panics in either.
pub(crate) fn erase<T, E, W, D>(id: u64, work: W, done: D) -> Job
where
    W: FnOnce(&CancelToken) -> Result<T, E> + Send + 'static,
    D: FnOnce(u64, Outcome<T, E>) + Send + 'static,
{
    Box::new(move |run: Run<'_>, account: &mut dyn FnMut(Ended)| {
        let outcome = match run {
            Run::Skip(reason) => Outcome::Cancelled(reason),
            Run::Execute(token) => match catch_unwind(AssertUnwindSafe(|| work(token))) {
                Ok(Ok(v)) => Outcome::Ok(v),
                // Work that gave up because it was cancelled reports why, not its own error.
                Ok(Err(e)) => match token.reason() {
                    Some(reason) => Outcome::Cancelled(reason),
                    None => Outcome::Err(e),
                },
                Err(payload) => Outcome::Panicked(panic_message(payload.as_ref())),
            },
        };
        let ended = match &outcome {
            Outcome::Ok(_) => Ended::Completed,
            Outcome::Err(_) | Outcome::Panicked(_) => Ended::Failed,
            Outcome::Cancelled(r) => Ended::Cancelled(*r),
        };
        account(ended);
        // A panicking completion must not take a worker thread down; the result is lost
        // either way, and the counters already account for the task.
        let _ = catch_unwind(AssertUnwindSafe(|| done(id, outcome)));
    })
}

pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "task panicked with a non-string payload".to_owned()
    }
}
