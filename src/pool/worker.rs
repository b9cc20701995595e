//! What pool threads do: drainers that run queued tasks, and per-thread setup.
//!
//! A drainer is a rayon job that pops the highest-priority task until the queue is empty,
//! lingers briefly for more, and exits. At most one runs per thread, and one is spawned only
//! when there are fewer drainers than queued tasks, so admission usually costs no spawn and no
//! wake-up. Each task's counters are updated before its completion runs. Under a gate (see
//! `gate`) a drainer runs tasks only while it holds a permit.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use std::cell::Cell;

use super::gate::{Held, block_for_permit};
use super::task::{CancelReason, CancelToken, Job, Run, TaskCtl};
use super::{DESTROYED, OPEN, Shared, lock};

/// How many times an idle drainer yields, looking for work, before it exits.
const LINGER_ROUNDS: usize = 64;
/// How long a gated pool's idle drainer sleeps waiting for work before it exits.
const PARK: Duration = Duration::from_millis(100);

/// Lowers the calling thread's priority; best effort (a failure only loses the preference).
/// Also used for the threads of a JS `ThreadPool`, which the binding renices as they attach.
#[expect(unsafe_code, reason = "two plain syscalls; libc has no safe wrapper")]
pub fn set_nice(nice: i32) {
    #[cfg(target_os = "linux")]
    if nice != 0 {
        // SAFETY: gettid has no preconditions and cannot fail.
        let tid = unsafe { libc::syscall(libc::SYS_gettid) } as libc::id_t;
        // SAFETY: changes only the niceness of the calling thread (on Linux, per tid).
        unsafe { libc::setpriority(libc::PRIO_PROCESS, tid, nice) };
    }
    #[cfg(not(target_os = "linux"))]
    let _ = nice;
}

/// Puts the calling thread under `SCHED_IDLE` (see [`super::PoolConfig::idle_priority`]);
/// false where that is not possible (not Linux, or refused), for the caller to fall back to
/// niceness.
#[expect(unsafe_code, reason = "one plain syscall; libc has no safe wrapper")]
pub(crate) fn set_idle_priority() -> bool {
    #[cfg(target_os = "linux")]
    {
        let param = libc::sched_param { sched_priority: 0 };
        // SAFETY: pid 0 is the calling thread; `param` is a valid sched_param for SCHED_IDLE.
        unsafe { libc::sched_setscheduler(0, libc::SCHED_IDLE, &param) == 0 }
    }
    #[cfg(not(target_os = "linux"))]
    false
}

impl Shared {
    /// Spawns a drainer unless every thread already has one, or there are already as many
    /// drainers as queued tasks (waking a second thread for one task only costs a wake-up).
    pub(super) fn ensure_drainer(self: &Arc<Self>) {
        let threads = self.config.threads;
        let queued = self.stats.queued.load(Ordering::SeqCst);
        let busy = self.busy.load(Ordering::SeqCst);
        let claimed = self
            .drainers
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                // Drainers busy with a task cannot take this one: count only idle ones.
                let idle = n.saturating_sub(busy);
                (n < threads && idle < queued).then_some(n + 1)
            })
            .is_ok();
        if !claimed {
            return;
        }
        // Under a gate the permit is sought here first: without one free, the wait is
        // registered from this thread and no pool thread wakes just to find none.
        let permit = match &self.gate {
            None => None,
            Some(gate) => match gate.try_acquire() {
                Some(p) => Some(p),
                None => return self.clone().wait_for_permit(),
            },
        };
        let shared = self.clone();
        self.rayon.spawn(move || shared.drain_holding(permit));
    }

    /// Runs queued tasks until the queue stays empty. Under a gate the drainer holds a permit
    /// while it runs them; without a free one its thread goes back to rayon, and the gate's
    /// grant resumes it here, holding one.
    fn drain_holding(self: Arc<Self>, mut permit: Option<Box<dyn Held>>) {
        if IN_TASK.get() {
            // A kernel on this thread is waiting inside rayon (e.g. a par_iter join) and rayon
            // handed it this job. Draining here would stack the whole queue on top of that task
            // and hold its result back; give the slot (and any permit) back instead. The queue
            // is not stranded: this thread's own drainer resumes after its task, and new
            // submissions spawn drainers again.
            drop(permit);
            self.drainers.fetch_sub(1, Ordering::SeqCst);
            return;
        }
        loop {
            if let Some(gate) = &self.gate
                && permit.is_none()
            {
                let destroyed = || self.state.load(Ordering::SeqCst) == DESTROYED;
                permit = gate
                    .try_acquire()
                    .or_else(|| block_for_permit(gate.as_ref(), false, destroyed));
                if permit.is_none() {
                    self.drainers.fetch_sub(1, Ordering::SeqCst);
                    return;
                }
            }
            let mut next = self.pop();
            // Not under a gate: lingering would hold a slot others wait for, and on a busy host
            // each of its yields can last a whole time slice.
            if next.is_none() && self.gate.is_none() {
                next = self.linger();
            }
            match next {
                Some((ctl, job)) => {
                    self.run(ctl, job);
                    if permit.as_ref().is_some_and(|p| p.should_yield())
                        && let Some(gate) = &self.gate
                    {
                        drop(permit.take());
                        let destroyed = || self.state.load(Ordering::SeqCst) == DESTROYED;
                        permit = block_for_permit(gate.as_ref(), true, destroyed);
                        if permit.is_none() {
                            self.drainers.fetch_sub(1, Ordering::SeqCst);
                            return;
                        }
                    }
                }
                None => {
                    drop(permit.take());
                    if self.gate.is_some() && self.park() {
                        continue;
                    }
                    self.drainers.fetch_sub(1, Ordering::SeqCst);
                    // A task pushed after our pop but before the decrement saw no free drainer
                    // slot and spawned none; take the slot back for it. (SeqCst on both sides:
                    // the submitter pushes then claims; we release then look.)
                    if self.stats.queued.load(Ordering::SeqCst) == 0 {
                        return;
                    }
                    let threads = self.config.threads;
                    let reclaimed = self
                        .drainers
                        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                            (n < threads).then_some(n + 1)
                        })
                        .is_ok();
                    if !reclaimed {
                        return;
                    }
                }
            }
        }
    }

    /// Gives the thread back until the gate grants a permit; the drainer keeps its place in
    /// `drainers` meanwhile, so it still counts as the one that will take the queued tasks.
    /// The grant holds the pool weakly: a pool dropped meanwhile just gives the permit back.
    fn wait_for_permit(self: Arc<Self>) {
        let Some(gate) = self.gate.clone() else {
            return;
        };
        let pool = Arc::downgrade(&self);
        drop(self);
        let grant = Box::new(move |permit| {
            if let Some(shared) = pool.upgrade() {
                let resumed = shared.clone();
                shared
                    .rayon
                    .spawn(move || resumed.drain_holding(Some(permit)));
            }
        });
        gate.wait(grant, false);
    }

    /// A gated pool's drainer with an empty queue sleeps here, holding no permit, until a
    /// submission wakes it (true) or `PARK` passes with none (false: it exits). Returning to
    /// rayon at once would cost each burst gap rayon's idle loop, some 32 `sched_yield`s that on
    /// a busy host keep the thread runnable for many time slices.
    fn park(&self) -> bool {
        let deadline = Instant::now() + PARK;
        let mut parked = lock(&self.parked);
        loop {
            if self.stats.queued.load(Ordering::SeqCst) > 0 {
                return true;
            }
            let now = Instant::now();
            if now >= deadline || self.state.load(Ordering::SeqCst) != OPEN {
                return false;
            }
            parked = self
                .work
                .wait_timeout(parked, deadline - now)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }

    /// Briefly waits for more work before giving the thread back. A burst of submissions from
    /// JS arrives a microsecond apart; exiting between them would cost a rayon spawn and a
    /// thread wake-up per task.
    fn linger(&self) -> Option<(Arc<TaskCtl>, Job)> {
        for _ in 0..LINGER_ROUNDS {
            std::thread::yield_now();
            if self.stats.queued.load(Ordering::Relaxed) > 0
                && let Some(next) = self.pop()
            {
                return Some(next);
            }
        }
        None
    }

    /// Takes the next task and marks this drainer busy, both under the queue lock, so a
    /// submitter that pushes next sees the drainer as unavailable.
    fn pop(&self) -> Option<(Arc<TaskCtl>, Job)> {
        let mut q = lock(&self.queue);
        let next = q.pop()?;
        // Busy first: a submitter reading `queued` then `busy` must never see the task gone
        // from the queue while its drainer still looks idle.
        self.busy.fetch_add(1, Ordering::SeqCst);
        self.stats.queued.fetch_sub(1, Ordering::SeqCst);
        Some(next)
    }

    fn run(&self, ctl: Arc<TaskCtl>, job: Job) {
        self.run_popped(ctl, job);
        self.busy.fetch_sub(1, Ordering::SeqCst);
    }

    fn run_popped(&self, ctl: Arc<TaskCtl>, job: Job) {
        let _in_task = TaskScope::enter();
        self.stats.record_wait(ctl.enqueued_at.elapsed());
        let token = CancelToken {
            ctl: ctl.clone(),
            pool: self.destroyed.clone(),
        };
        if let Some(reason) = token.reason() {
            return self.skip(&ctl, job, reason);
        }
        self.stats.running.fetch_add(1, Ordering::Relaxed);
        let started = Instant::now();
        job(Run::Execute(&token), &mut |ended| {
            self.stats.record_run(started.elapsed());
            self.stats.running.fetch_sub(1, Ordering::Relaxed);
            self.stats.record_end(ended);
        });
        self.finish(&ctl);
    }

    pub(super) fn skip(&self, ctl: &TaskCtl, job: Job, reason: CancelReason) {
        job(Run::Skip(reason), &mut |ended| self.stats.record_end(ended));
        self.finish(ctl);
    }

    pub(super) fn finish(&self, ctl: &TaskCtl) {
        if ctl.cancellable {
            lock(&self.cancellable).remove(&ctl.id);
        }
        if self.active.fetch_sub(1, Ordering::SeqCst) == 1
            && self.state.load(Ordering::SeqCst) != OPEN
        {
            let waiters = std::mem::take(&mut *lock(&self.idle_waiters));
            for w in waiters {
                w();
            }
        }
    }
}

thread_local! {
    static IN_TASK: Cell<bool> = const { Cell::new(false) };
}

/// Marks the current thread as running task code until dropped. Kernels that fan out with
/// rayon (whose joins may run other pool jobs while they wait) enter it in every piece of work,
/// so a drainer job picked up during such a wait returns at once instead of nesting.
pub struct TaskScope(bool);

impl TaskScope {
    pub fn enter() -> Self {
        Self(IN_TASK.replace(true))
    }
}

impl Drop for TaskScope {
    fn drop(&mut self) {
        IN_TASK.set(self.0);
    }
}
