//! Dispatch state for a pool of JavaScript worker threads: the
//! waiting tasks, which worker runs which task, and which workers are idle.
//!
//! Pull model: a submitted task waits in one FIFO per priority; a worker takes the next one when
//! it is free. A worker that finds nothing parks; `submit` hands back a parked worker for the
//! caller to wake (each parked worker is handed out once per park), so a burst of tasks wakes as
//! many workers as it needs and no more. Payloads are opaque (`T`): serialized bytes to the
//! binding. Everything is under one mutex; every operation is O(1) amortised (cancelled entries
//! are dropped lazily when they reach the front).
//!
//! Guarantees: every accepted task leaves exactly once, through `take` + `finish`, `cancel`
//! while queued, `worker_exited` while running, or `destroy`; `maxQueue` counts only tasks no
//! worker is about to take, and a full queue refuses at once.
//!
//! Elastic pools (`retire`, `refuse`) are in elastic.rs; a worker that waits briefly before it
//! parks, in linger.rs. Workers are named by the caller (the binding uses the thread's id).

#![forbid(unsafe_code)]

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::Instant;

use crate::pool::Priority;

pub type TaskId = u64;
pub type WorkerId = u32;

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum DispatchError {
    #[error("the thread pool queue is full ({0} waiting)")]
    QueueFull(usize),
    #[error("the thread pool is closed")]
    Closed,
}

/// What `cancel` found.
#[derive(Debug, PartialEq, Eq)]
pub enum Cancelled<M, T> {
    /// Still waiting: removed, its tag and payload handed back; it never reaches a worker.
    Queued(M, T),
    /// Being run by this worker: the caller tells the worker (or terminates it).
    Running(WorkerId, M),
    /// Already finished, cancelled or failed.
    Unknown,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DispatchStats {
    pub queued: usize,
    pub running: usize,
    pub idle_workers: usize,
    pub submitted: u64,
    pub completed: u64,
    pub cancelled: u64,
    pub rejected: u64,
    /// Tasks lost with the worker running them (a crash, a timeout's terminate).
    pub lost: u64,
}

enum Entry<M, T> {
    Queued(M, T),
    Running(WorkerId, M),
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Worker {
    /// Neither parked nor running: new, or between a `finish` and its next `take`.
    Free,
    /// Waiting for a task since then.
    Parked(Instant),
    /// Handed out by `submit` to be woken; has not called `take` yet.
    Woken,
    Running(TaskId),
    /// Retired while parked, or refused before it joined: never takes a task again.
    Retired,
    /// Waiting briefly for a task before it parks (linger.rs).
    Lingering,
}

struct State<M, T> {
    levels: [VecDeque<TaskId>; 3],
    tasks: HashMap<TaskId, Entry<M, T>>,
    workers: HashMap<WorkerId, Worker>,
    /// Parked workers, most recently parked last (its caches are the warmest).
    idle: Vec<WorkerId>,
    /// Lingering workers, handed out before parked ones (they wake without a signal).
    lingering: Vec<WorkerId>,
    /// Workers in `Worker::Woken`: tasks they will take do not count against `max_queue`.
    waking: usize,
    queued: usize,
    next_task: TaskId,
    closed: bool,
    stats: DispatchStats,
}

impl<M, T> State<M, T> {
    fn unpark(&mut self, worker: WorkerId) {
        if let Some(pos) = self.idle.iter().position(|&w| w == worker) {
            self.idle.swap_remove(pos);
        }
    }

    fn unlinger(&mut self, worker: WorkerId) {
        if let Some(pos) = self.lingering.iter().position(|&w| w == worker) {
            self.lingering.swap_remove(pos);
        }
    }
}

enum Next<M, T> {
    Task((TaskId, M, T)),
    /// Nothing queued: the worker is Free until the caller parks it or lets it linger.
    Empty,
    /// Not a worker that may take tasks (unknown, running one, or retired).
    Never,
}

pub struct Dispatch<M, T> {
    max_queue: usize,
    state: Mutex<State<M, T>>,
    /// Wakes lingering workers when `submit` hands one out.
    lingered: Condvar,
    /// Counts those hand-outs, for a lingering worker that spins rather than waits.
    handouts: AtomicU64,
    /// One worker spins at a time; the others wait on `lingered`.
    spinning: AtomicBool,
}

impl<M: Copy, T> Dispatch<M, T> {
    pub fn new(max_queue: usize) -> Self {
        Self {
            max_queue,
            state: Mutex::new(State {
                levels: Default::default(),
                tasks: HashMap::new(),
                workers: HashMap::new(),
                idle: Vec::new(),
                lingering: Vec::new(),
                waking: 0,
                queued: 0,
                next_task: 1,
                closed: false,
                stats: DispatchStats::default(),
            }),
            lingered: Condvar::new(),
            handouts: AtomicU64::new(0),
            spinning: AtomicBool::new(false),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State<M, T>> {
        // No operation leaves the state half-changed before a panic can occur.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A new worker named `id`; it becomes idle by calling `take`. False if that name is taken
    /// (a worker refused by `refuse` cannot join).
    pub fn add_worker(&self, id: WorkerId) -> bool {
        let mut s = self.lock();
        if s.workers.contains_key(&id) {
            return false;
        }
        s.workers.insert(id, Worker::Free);
        true
    }

    /// Accepts a task, or refuses at once. Returns its id and, if a parked worker should be
    /// woken to take it, that worker (a lingering worker, preferred, needs no waking).
    pub fn submit(
        &self,
        tag: M,
        payload: T,
        priority: Priority,
    ) -> Result<(TaskId, Option<WorkerId>), DispatchError> {
        let mut s = self.lock();
        if s.closed {
            return Err(DispatchError::Closed);
        }
        let lingering = s.lingering.pop();
        let wake = if lingering.is_none() {
            s.idle.pop()
        } else {
            None
        };
        let taker = lingering.or(wake);
        if taker.is_none() && s.queued.saturating_sub(s.waking) >= self.max_queue {
            s.stats.rejected += 1;
            return Err(DispatchError::QueueFull(s.queued - s.waking));
        }
        if let Some(w) = taker {
            s.workers.insert(w, Worker::Woken);
            s.waking += 1;
        }
        if lingering.is_some() {
            // Every lingering worker checks whether it was the one handed out.
            self.handouts.fetch_add(1, Ordering::Release);
            self.lingered.notify_all();
        }
        let id = s.next_task;
        s.next_task += 1;
        s.levels[priority as usize].push_back(id);
        s.tasks.insert(id, Entry::Queued(tag, payload));
        s.queued += 1;
        s.stats.submitted += 1;
        Ok((id, wake))
    }

    /// The next task for `worker` (highest priority first, FIFO within a level), or `None`, in
    /// which case the worker is parked until `submit` hands it out.
    pub fn take(&self, worker: WorkerId) -> Option<(TaskId, M, T)> {
        let mut s = self.lock();
        match Self::next(&mut s, worker) {
            Next::Task(t) => Some(t),
            Next::Never => None,
            Next::Empty => {
                Self::park(&mut s, worker);
                None
            }
        }
    }

    fn park(s: &mut State<M, T>, worker: WorkerId) {
        s.workers.insert(worker, Worker::Parked(Instant::now()));
        s.idle.push(worker);
    }

    /// The next task for `worker`, which becomes Running; with none, its state is left for the
    /// caller to set (parked or lingering).
    fn next(s: &mut State<M, T>, worker: WorkerId) -> Next<M, T> {
        match s.workers.get(&worker) {
            None | Some(Worker::Running(_) | Worker::Retired) => return Next::Never,
            Some(Worker::Parked(_)) => s.unpark(worker),
            Some(Worker::Woken) => s.waking -= 1,
            Some(Worker::Lingering) => s.unlinger(worker),
            Some(Worker::Free) => {}
        }
        for level in &mut s.levels {
            while let Some(id) = level.pop_front() {
                if let Some(&Entry::Queued(tag, _)) = s.tasks.get(&id) {
                    let Some(Entry::Queued(_, payload)) =
                        s.tasks.insert(id, Entry::Running(worker, tag))
                    else {
                        unreachable!("checked just above")
                    };
                    s.queued -= 1;
                    s.workers.insert(worker, Worker::Running(id));
                    return Next::Task((id, tag, payload));
                }
            }
        }
        s.workers.insert(worker, Worker::Free);
        Next::Empty
    }

    /// `worker` finished `task` (its result or its error): the task's tag, or `None` if it had
    /// already left (cancelled or lost), in which case the result must be dropped.
    pub fn finish(&self, worker: WorkerId, task: TaskId) -> Option<M> {
        let mut s = self.lock();
        if let Some(w) = s.workers.get_mut(&worker)
            && *w == Worker::Running(task)
        {
            *w = Worker::Free;
        }
        match s.tasks.get(&task) {
            Some(&Entry::Running(w, tag)) if w == worker => {
                s.tasks.remove(&task);
                s.stats.completed += 1;
                Some(tag)
            }
            _ => None,
        }
    }

    /// Cancels `task`: a queued one leaves now; a running one is only reported (the caller
    /// decides how to stop it and ends it with `finish` or `worker_exited`).
    pub fn cancel(&self, task: TaskId) -> Cancelled<M, T> {
        let mut s = self.lock();
        match s.tasks.get(&task) {
            Some(Entry::Queued(..)) => {
                let Some(Entry::Queued(tag, payload)) = s.tasks.remove(&task) else {
                    unreachable!("checked just above")
                };
                s.queued -= 1;
                s.stats.cancelled += 1;
                Cancelled::Queued(tag, payload)
            }
            Some(&Entry::Running(w, tag)) => Cancelled::Running(w, tag),
            None => Cancelled::Unknown,
        }
    }

    /// `worker` is gone (exited, crashed or terminated); returns the task it was running (and
    /// its tag), which has left the pool and must be failed by the caller.
    pub fn worker_exited(&self, worker: WorkerId) -> Option<(TaskId, M)> {
        let mut s = self.lock();
        let task = match s.workers.remove(&worker)? {
            Worker::Running(t) => Some(t),
            Worker::Parked(_) => {
                s.unpark(worker);
                None
            }
            Worker::Woken => {
                s.waking -= 1;
                None
            }
            Worker::Lingering => {
                s.unlinger(worker);
                None
            }
            Worker::Free | Worker::Retired => None,
        };
        let lost = task.and_then(|t| match s.tasks.remove(&t) {
            Some(Entry::Running(_, tag)) => Some((t, tag)),
            _ => None,
        });
        if lost.is_some() {
            s.stats.lost += 1;
        }
        lost
    }

    /// Refuses new tasks; queued and running ones go on (graceful close).
    pub fn close(&self) {
        self.lock().closed = true;
    }

    /// Closes and empties the queue, handing back every waiting task (to be failed).
    pub fn destroy(&self) -> Vec<(TaskId, M, T)> {
        self.lock().closed = true;
        self.drain()
    }

    /// Empties the queue without closing it (no worker can start: the waiting tasks fail).
    pub fn drain(&self) -> Vec<(TaskId, M, T)> {
        let mut s = self.lock();
        let s = &mut *s;
        let mut out = Vec::new();
        for level in &mut s.levels {
            for id in level.drain(..) {
                // Cancelled tasks left the map already; only queued ones are still in it.
                if let Some(Entry::Queued(tag, payload)) = s.tasks.remove(&id) {
                    out.push((id, tag, payload));
                }
            }
        }
        s.queued = 0;
        out
    }

    pub fn stats(&self) -> DispatchStats {
        let s = self.lock();
        DispatchStats {
            queued: s.queued,
            running: s
                .workers
                .values()
                .filter(|w| matches!(w, Worker::Running(_)))
                .count(),
            idle_workers: s.idle.len() + s.lingering.len(),
            ..s.stats
        }
    }
}

mod elastic;
mod linger;
#[cfg(test)]
mod tests;
