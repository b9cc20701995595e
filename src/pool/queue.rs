//! The pool's waiting room: one FIFO per priority level.
//!
//! Cancelled tasks are not searched for and removed (that would make an abort storm
//! quadratic); their job is taken out of the control block instead, and the empty shell is
//! discarded when it reaches the front. `live` counts only tasks whose job is still inside.

use std::collections::VecDeque;
use std::sync::Arc;

use super::task::{Job, TaskCtl};

#[derive(Default)]
pub(crate) struct PriorityQueue {
    levels: [VecDeque<Arc<TaskCtl>>; 3],
}

impl PriorityQueue {
    pub(crate) fn push(&mut self, ctl: Arc<TaskCtl>) {
        self.levels[ctl.priority as usize].push_back(ctl);
    }

    /// The highest-priority task that still holds its job, with the job taken out.
    pub(crate) fn pop(&mut self) -> Option<(Arc<TaskCtl>, Job)> {
        for level in &mut self.levels {
            while let Some(ctl) = level.pop_front() {
                if let Some(job) = ctl.take_job() {
                    return Some((ctl, job));
                }
            }
        }
        None
    }

    /// Empties the queue, handing back every job not yet taken.
    pub(crate) fn drain(&mut self) -> Vec<(Arc<TaskCtl>, Job)> {
        let mut out = Vec::new();
        for level in &mut self.levels {
            for ctl in level.drain(..) {
                if let Some(job) = ctl.take_job() {
                    out.push((ctl, job));
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::super::task::{Ended, Priority};
    use super::*;

    fn task(id: u64, priority: Priority) -> Arc<TaskCtl> {
        Arc::new(TaskCtl::new(
            id,
            priority,
            false,
            None,
            Box::new(|_, account| account(Ended::Completed)),
        ))
    }

    #[test]
    fn higher_levels_first_fifo_within_a_level() {
        let mut q = PriorityQueue::default();
        for (id, p) in [
            (1, Priority::Low),
            (2, Priority::Normal),
            (3, Priority::High),
            (4, Priority::Normal),
            (5, Priority::High),
        ] {
            q.push(task(id, p));
        }
        let order: Vec<u64> = std::iter::from_fn(|| q.pop().map(|(c, _)| c.id)).collect();
        assert_eq!(order, [3, 5, 2, 4, 1]);
    }

    #[test]
    fn tasks_whose_job_was_taken_are_skipped() {
        let mut q = PriorityQueue::default();
        let a = task(1, Priority::Normal);
        q.push(a.clone());
        q.push(task(2, Priority::Normal));
        assert!(a.take_job().is_some());
        assert_eq!(q.pop().map(|(c, _)| c.id), Some(2));
        assert!(q.pop().is_none());
    }
}
