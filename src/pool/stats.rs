//! Pool counters. Every field is an atomic updated by workers, so reading a snapshot is a
//! handful of loads plus two fixed-size histogram scans, independent of how many tasks ran.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::time::{Duration, Instant};

use super::histogram::{Cumulative, Histogram, Percentiles};
use super::task::{CancelReason, Ended};

pub(crate) struct Stats {
    pub(crate) queued: AtomicUsize,
    pub(crate) running: AtomicUsize,
    completed: AtomicU64,
    failed: AtomicU64,
    cancelled: AtomicU64,
    timed_out: AtomicU64,
    pub(crate) rejected: AtomicU64,
    busy_ns: AtomicU64,
    wait: Histogram,
    run: Histogram,
    started: Instant,
}

/// A point-in-time view of a pool.
#[derive(Clone, Debug, PartialEq)]
pub struct StatsSnapshot {
    pub threads: usize,
    pub queued: usize,
    pub running: usize,
    pub completed: u64,
    pub failed: u64,
    pub cancelled: u64,
    pub timed_out: u64,
    pub rejected: u64,
    /// Share of the pool's thread time spent running tasks since it started, 0..=1.
    pub utilization: f64,
    /// Thread time spent running tasks since the pool started, in seconds (a counter: its
    /// rate over a window, divided by `threads`, is the utilization in that window).
    pub busy_seconds: f64,
    pub wait_time: Percentiles,
    pub run_time: Percentiles,
}

impl Stats {
    pub(crate) fn new() -> Self {
        Self {
            queued: AtomicUsize::new(0),
            running: AtomicUsize::new(0),
            completed: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            cancelled: AtomicU64::new(0),
            timed_out: AtomicU64::new(0),
            rejected: AtomicU64::new(0),
            busy_ns: AtomicU64::new(0),
            wait: Histogram::new(),
            run: Histogram::new(),
            started: Instant::now(),
        }
    }

    pub(crate) fn record_wait(&self, d: Duration) {
        self.wait.record(d);
    }

    pub(crate) fn record_run(&self, d: Duration) {
        self.run.record(d);
        self.busy_ns
            .fetch_add(u64::try_from(d.as_nanos()).unwrap_or(u64::MAX), Relaxed);
    }

    pub(crate) fn record_end(&self, ended: Ended) {
        let counter = match ended {
            Ended::Completed => &self.completed,
            Ended::Failed => &self.failed,
            Ended::Cancelled(CancelReason::TimedOut) => &self.timed_out,
            Ended::Cancelled(_) => &self.cancelled,
        };
        counter.fetch_add(1, Relaxed);
    }

    /// Wait and run times as cumulative counts at `bounds_us` (for Prometheus histograms).
    pub(crate) fn latency_buckets(&self, bounds_us: &[u64]) -> (Cumulative, Cumulative) {
        (
            self.wait.cumulative(bounds_us),
            self.run.cumulative(bounds_us),
        )
    }

    pub(crate) fn snapshot(&self, threads: usize) -> StatsSnapshot {
        let elapsed = self.started.elapsed().as_nanos() as f64 * threads.max(1) as f64;
        let busy = self.busy_ns.load(Relaxed) as f64;
        StatsSnapshot {
            threads,
            queued: self.queued.load(Relaxed),
            running: self.running.load(Relaxed),
            completed: self.completed.load(Relaxed),
            failed: self.failed.load(Relaxed),
            cancelled: self.cancelled.load(Relaxed),
            timed_out: self.timed_out.load(Relaxed),
            rejected: self.rejected.load(Relaxed),
            utilization: if elapsed > 0.0 {
                (busy / elapsed).min(1.0)
            } else {
                0.0
            },
            busy_seconds: busy / 1e9,
            wait_time: self.wait.percentiles(),
            run_time: self.run.percentiles(),
        }
    }
}
