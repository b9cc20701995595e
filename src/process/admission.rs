//! Admission: at most `max_concurrent` children run at once and up to `max_queue` more wait,
//! in FIFO order; past that a spawn fails at once rather than piling up work the caller cannot
//! see. A slot is handed straight from an exiting child to the next in the queue, so a queued
//! child never loses its turn to a newcomer.
//!
//! The [`Gate`] only counts slots and queue places; what a child does while it holds or waits
//! for one is the lifecycle driver's business.

#![forbid(unsafe_code)]

use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard};

use tokio::sync::oneshot;

use super::stats::Counters;

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

/// How a child got past admission.
pub(crate) enum Admit {
    /// It holds a running slot.
    Now,
    /// It waits in the queue; the sender fires when it is handed a slot.
    Queued(oneshot::Receiver<()>),
    /// It was cancelled before it was submitted: it neither runs nor queues.
    Never,
}

/// The queue was full: this many were waiting.
pub(crate) struct QueueFull(pub(crate) usize);

struct Slots {
    running: usize,
    queue: VecDeque<(u64, oneshot::Sender<()>)>,
}

/// The running slots and the queue of one supervisor, with its counters.
pub(crate) struct Gate {
    config: SupervisorConfig,
    slots: Mutex<Slots>,
    counters: Counters,
}

impl Gate {
    pub(crate) fn new(config: SupervisorConfig) -> Self {
        Self {
            config,
            slots: Mutex::new(Slots {
                running: 0,
                queue: VecDeque::new(),
            }),
            counters: Counters::default(),
        }
    }

    pub(crate) fn config(&self) -> SupervisorConfig {
        self.config
    }

    pub(crate) fn counters(&self) -> &Counters {
        &self.counters
    }

    fn slots(&self) -> MutexGuard<'_, Slots> {
        self.slots.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A running slot now, else a place in the queue for child `id`, else [`QueueFull`].
    pub(crate) fn admit(&self, id: u64) -> Result<Admit, QueueFull> {
        let mut a = self.slots();
        if a.running < self.config.max_concurrent {
            a.running += 1;
            self.counters.running(1);
            Ok(Admit::Now)
        } else if a.queue.len() < self.config.max_queue {
            let (tx, rx) = oneshot::channel();
            a.queue.push_back((id, tx));
            self.counters.queued(1);
            Ok(Admit::Queued(rx))
        } else {
            Err(QueueFull(self.config.max_queue))
        }
    }

    /// Leaves the queue; false if the child was admitted meanwhile (it then holds a slot).
    pub(crate) fn withdraw(&self, id: u64) -> bool {
        let mut a = self.slots();
        let before = a.queue.len();
        a.queue.retain(|(queued, _)| *queued != id);
        let withdrawn = a.queue.len() < before;
        if withdrawn {
            self.counters.queued(-1);
        }
        withdrawn
    }

    /// Gives a running slot back: to the first child still waiting, else to the pool.
    pub(crate) fn release(&self) {
        let mut a = self.slots();
        while let Some((_, next)) = a.queue.pop_front() {
            self.counters.queued(-1);
            if next.send(()).is_ok() {
                return;
            }
        }
        a.running -= 1;
        self.counters.running(-1);
    }
}

/// A running slot, given back when dropped (also if the task holding it unwinds).
pub(crate) struct Slot<'a>(&'a Gate);

impl<'a> Slot<'a> {
    /// Takes ownership of a slot `gate` has granted (by [`Admit::Now`] or through the queue).
    pub(crate) fn held(gate: &'a Gate) -> Self {
        Self(gate)
    }
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        self.0.release();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gate(max_concurrent: usize, max_queue: usize) -> Gate {
        Gate::new(SupervisorConfig {
            max_concurrent,
            max_queue,
        })
    }

    fn queued(a: Result<Admit, QueueFull>) -> oneshot::Receiver<()> {
        match a {
            Ok(Admit::Queued(rx)) => rx,
            _ => panic!("expected a place in the queue"),
        }
    }

    #[test]
    fn slots_then_queue_then_full() {
        let g = gate(1, 1);
        assert!(matches!(g.admit(1), Ok(Admit::Now)));
        let _rx = queued(g.admit(2));
        assert!(matches!(g.admit(3), Err(QueueFull(1))));
        let stats = g.counters().snapshot();
        assert_eq!((stats.running, stats.queued), (1, 1));
    }

    #[test]
    fn a_released_slot_goes_to_the_first_waiting_in_fifo_order() {
        let g = gate(1, 10);
        assert!(matches!(g.admit(1), Ok(Admit::Now)));
        let mut second = queued(g.admit(2));
        let mut third = queued(g.admit(3));
        g.release();
        assert!(second.try_recv().is_ok());
        assert!(third.try_recv().is_err());
        // The slot was handed on, not freed: a newcomer must still queue.
        let _fourth = queued(g.admit(4));
        g.release();
        assert!(third.try_recv().is_ok());
    }

    #[test]
    fn a_withdrawn_child_loses_its_place_and_a_gone_one_is_skipped() {
        let g = gate(1, 10);
        assert!(matches!(g.admit(1), Ok(Admit::Now)));
        let _second = queued(g.admit(2));
        let third = queued(g.admit(3));
        let mut fourth = queued(g.admit(4));
        assert!(g.withdraw(2));
        assert!(!g.withdraw(2));
        drop(third); // its task is gone: the slot must not be lost on it
        g.release();
        assert!(fourth.try_recv().is_ok());
        g.release();
        let stats = g.counters().snapshot();
        assert_eq!((stats.running, stats.queued), (0, 0));
    }
}
