//! Lingering: a worker that finds the queue empty may wait a little before it parks.
//!
//! A parked worker is woken through its event loop (the binding posts a signal to its channel);
//! a lingering one is woken by a condition variable, without that round trip, so a task that
//! follows soon after the last one (a caller awaiting each result in turn) starts sooner.
//! `submit` hands a task to a lingering worker before a parked one, in the same way (once, in
//! `Woken` state, counted against nothing in `maxQueue`), so admission and "every task leaves
//! exactly once" are unchanged. The waiting thread holds no lock, and its wait is bounded: its
//! event loop stands still meanwhile, and a `terminate()` takes effect only after it.
//!
//! The first part of the wait may spin on a counter of hand-outs instead of sleeping: a thread
//! asleep on a futex takes tens of microseconds to run again on a busy VM, which is most of a
//! no-op task's round trip. One worker spins at a time; the rest sleep on the condition variable.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::{Dispatch, Next, TaskId, Worker, WorkerId};

impl<M: Copy, T> Dispatch<M, T> {
    /// As [`Dispatch::take`], but with nothing queued the worker waits up to `linger` for a
    /// task before it parks, spinning for the first `spin` of it.
    pub fn take_or_linger(
        &self,
        worker: WorkerId,
        spin: Duration,
        linger: Duration,
    ) -> Option<(TaskId, M, T)> {
        let mut s = self.lock();
        match Self::next(&mut s, worker) {
            Next::Task(t) => return Some(t),
            Next::Never => return None,
            Next::Empty => {}
        }
        if linger.is_zero() {
            Self::park(&mut s, worker);
            return None;
        }
        s.workers.insert(worker, Worker::Lingering);
        s.lingering.push(worker);
        let start = Instant::now();
        let deadline = start + linger;
        // One spinner is enough: tasks come one at a time when the queue runs dry.
        if !spin.is_zero()
            && self
                .spinning
                .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
        {
            let mut seen = self.handouts.load(Ordering::Acquire);
            drop(s);
            let until = start + spin.min(linger);
            while Instant::now() < until {
                let now = self.handouts.load(Ordering::Acquire);
                if now != seen {
                    seen = now;
                    // Someone was handed a task: this worker, if it is now Woken.
                    if matches!(self.lock().workers.get(&worker), Some(Worker::Woken)) {
                        break;
                    }
                }
                std::hint::spin_loop();
            }
            self.spinning.store(false, Ordering::Release);
            s = self.lock();
        }
        loop {
            match s.workers.get(&worker) {
                // `submit` handed this worker a task (or a racing take already took one).
                Some(Worker::Woken) => {
                    return match Self::next(&mut s, worker) {
                        Next::Task(t) => Some(t),
                        Next::Never => None,
                        Next::Empty => {
                            // Cancelled before it could be taken.
                            Self::park(&mut s, worker);
                            None
                        }
                    };
                }
                Some(Worker::Lingering) => {}
                // Gone or retired meanwhile: nothing to take.
                _ => return None,
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                s.unlinger(worker);
                Self::park(&mut s, worker);
                return None;
            }
            s = self
                .lingered
                .wait_timeout(s, left)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::time::{Duration, Instant};

    use crate::pool::Priority;
    use crate::threads::{Cancelled, Dispatch};

    fn idle(d: &Dispatch<u32, u64>) -> usize {
        d.stats().idle_workers
    }

    #[test]
    fn a_lingering_worker_takes_a_task_submitted_while_it_waits_without_a_wake() {
        // Asleep on the condition variable, then spinning all the while.
        for spin in [Duration::ZERO, Duration::from_secs(30)] {
            let d = Arc::new(Dispatch::<u32, u64>::new(0));
            assert!(d.add_worker(1));
            let waiter = {
                let d = d.clone();
                std::thread::spawn(move || d.take_or_linger(1, spin, Duration::from_secs(30)))
            };
            while idle(&d) == 0 {
                std::thread::yield_now();
            }
            // max_queue 0 admits it: a lingering worker is about to take it.
            let (t, wake) = d.submit(7, 42, Priority::Normal).unwrap();
            assert_eq!(wake, None, "a lingering worker needs no signal");
            assert_eq!(waiter.join().unwrap(), Some((t, 7, 42)));
            assert_eq!(d.finish(1, t), Some(7));
        }
    }

    #[test]
    fn a_worker_that_lingers_in_vain_parks_and_is_woken_as_usual() {
        let d = Dispatch::<u32, u64>::new(usize::MAX);
        assert!(d.add_worker(1));
        let start = Instant::now();
        assert_eq!(
            d.take_or_linger(1, Duration::from_millis(1), Duration::from_millis(2)),
            None
        );
        assert!(start.elapsed() >= Duration::from_millis(2), "it waited");
        assert_eq!(idle(&d), 1);
        let (t, wake) = d.submit(0, 1, Priority::Normal).unwrap();
        assert_eq!(wake, Some(1), "parked: the caller must wake it");
        assert_eq!(
            d.take_or_linger(1, Duration::ZERO, Duration::ZERO),
            Some((t, 0, 1))
        );
    }

    #[test]
    fn a_task_cancelled_before_the_lingering_worker_takes_it_leaves_the_worker_parked() {
        let d = Arc::new(Dispatch::<u32, u64>::new(usize::MAX));
        assert!(d.add_worker(1));
        let waiter = {
            let d = d.clone();
            std::thread::spawn(move || d.take_or_linger(1, Duration::ZERO, Duration::from_secs(30)))
        };
        while idle(&d) == 0 {
            std::thread::yield_now();
        }
        let (t, _) = d.submit(0, 9, Priority::Normal).unwrap();
        match d.cancel(t) {
            // Cancelled first: the worker finds nothing and parks, to be woken as usual.
            Cancelled::Queued(..) => {
                assert_eq!(waiter.join().unwrap(), None);
                assert_eq!(d.submit(0, 10, Priority::Normal).unwrap().1, Some(1));
            }
            // Taken first: it runs as any task.
            Cancelled::Running(1, _) => assert_eq!(waiter.join().unwrap(), Some((t, 0, 9))),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn every_task_is_taken_exactly_once_by_lingering_and_parked_workers() {
        const TASKS: u64 = 20_000;
        let d = Arc::new(Dispatch::<u32, u64>::new(usize::MAX));
        let sum = Arc::new(AtomicU64::new(0));
        let done = Arc::new(AtomicU64::new(0));
        let workers: Vec<_> = (1..=3)
            .map(|id| {
                assert!(d.add_worker(id));
                let (d, sum, done) = (d.clone(), sum.clone(), done.clone());
                std::thread::spawn(move || {
                    while done.load(Ordering::Relaxed) < TASKS {
                        // Short lingers, so workers park and get handed out both ways.
                        if let Some((t, _, v)) = d.take_or_linger(
                            id,
                            Duration::from_micros(10),
                            Duration::from_micros(20),
                        ) {
                            assert_eq!(d.finish(id, t), Some(0));
                            sum.fetch_add(v, Ordering::Relaxed);
                            done.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                })
            })
            .collect();
        for v in 1..=TASKS {
            d.submit(0, v, Priority::Normal).unwrap();
            if v % 64 == 0 {
                std::thread::sleep(Duration::from_micros(30));
            }
        }
        for w in workers {
            w.join().unwrap();
        }
        assert_eq!(sum.load(Ordering::Relaxed), TASKS * (TASKS + 1) / 2);
        let s = d.stats();
        assert_eq!((s.completed, s.queued, s.running, s.lost), (TASKS, 0, 0, 0));
    }
}
