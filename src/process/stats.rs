//! Counters of children, per supervisor and process-wide: every count goes into the
//! supervisor's own [`Counters`] and the global ones, for `processStats()`.
//!
//! Relaxed atomics: each counter is exact, but a snapshot is not one instant across them.

#![forbid(unsafe_code)]

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use super::spec::Report;

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

/// Totals over every supervisor in the process.
pub fn global_stats() -> ProcessStats {
    GLOBAL.snapshot()
}

impl Counters {
    pub(crate) fn snapshot(&self) -> ProcessStats {
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

    /// Applies `f` to these counters and to the global ones.
    fn count(&self, f: impl Fn(&Counters)) {
        f(self);
        f(&GLOBAL);
    }

    /// A child took a running slot (`1`) or gave one back (`-1`).
    pub(crate) fn running(&self, delta: isize) {
        self.count(|c| add(&c.running, delta));
    }

    /// A child joined the queue (`1`) or left it (`-1`).
    pub(crate) fn queued(&self, delta: isize) {
        self.count(|c| add(&c.queued, delta));
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

fn add(gauge: &AtomicUsize, delta: isize) {
    if delta >= 0 {
        gauge.fetch_add(delta as usize, Ordering::Relaxed);
    } else {
        gauge.fetch_sub(delta.unsigned_abs(), Ordering::Relaxed);
    }
}
