//! Elastic pools: threads that start on demand and retire when idle.
//!
//! `retire` takes a worker parked for long enough out of the idle set under the same lock
//! `submit` hands workers out under, so a retired worker is never handed a task and the caller
//! may terminate it at once; `refuse` does the same for a worker that has not joined yet (a
//! start timeout); `backlog` is the demand for more workers and `joined` the supply already there.

use std::time::{Duration, Instant};

use super::{Dispatch, Worker, WorkerId};

impl<M: Copy, T> Dispatch<M, T> {
    /// Bars worker `id`, which has not joined yet, from ever joining (its `add_worker` fails);
    /// false if it has joined already. Forgotten by `worker_exited`.
    pub fn refuse(&self, id: WorkerId) -> bool {
        let mut s = self.lock();
        if s.workers.contains_key(&id) {
            return false;
        }
        s.workers.insert(id, Worker::Retired);
        true
    }

    /// Retires the worker parked longest if it has been parked for `idle_for`: it leaves the
    /// idle set now and never takes a task again, so it can be terminated without losing one.
    /// Otherwise `Err`: how long until the longest-parked worker qualifies, or `None` if none
    /// is parked.
    pub fn retire(&self, idle_for: Duration) -> Result<WorkerId, Option<Duration>> {
        self.retire_at(idle_for, Instant::now())
    }

    pub(super) fn retire_at(
        &self,
        idle_for: Duration,
        now: Instant,
    ) -> Result<WorkerId, Option<Duration>> {
        let mut s = self.lock();
        let oldest = s
            .idle
            .iter()
            .filter_map(|w| match s.workers.get(w) {
                Some(&Worker::Parked(since)) => Some((since, *w)),
                _ => None,
            })
            .min();
        let Some((since, worker)) = oldest else {
            return Err(None);
        };
        let parked = now.saturating_duration_since(since);
        if parked < idle_for {
            return Err(Some(idle_for - parked));
        }
        s.unpark(worker);
        s.workers.insert(worker, Worker::Retired);
        Ok(worker)
    }

    /// Tasks waiting that no woken worker is about to take: the demand for more workers.
    pub fn backlog(&self) -> usize {
        let s = self.lock();
        s.queued.saturating_sub(s.waking)
    }

    /// Workers that have joined and are not retired: the caller's started workers minus these
    /// are still booting. Counted here, not from the workers' `ready` messages, which a busy
    /// loop may read long after the worker took its first task.
    pub fn joined(&self) -> usize {
        let s = self.lock();
        s.workers
            .values()
            .filter(|w| !matches!(w, Worker::Retired))
            .count()
    }
}
