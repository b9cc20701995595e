//! The delivery budget of one event-loop iteration.
//!
//! Node runs up to 1000 queued threadsafe-function calls in one go, so a channel that only
//! rescheduled itself never gave the loop a turn while producers kept posting (measured: 999
//! batches, 14 ms, in one iteration; 200 000 completions in one iteration). Iterations are
//! told apart by libuv's `uv_now`, which the loop caches once per iteration; the channel may
//! spend [`BUDGET`] delivering in one of them, then yields until `channelResume` runs from a
//! `setImmediate`. Only the environment's JS thread uses a `Turn`.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use napi::sys;

/// Delivery time one event-loop iteration may spend before the channel yields. With the
/// check-phase resume that is two budgets between timer phases: 1 ms keeps a saturated loop's
/// p99 delay near 2 ms (3 ms gave 3.5 ms), at the same rate (measured on 2 cores: 530k
/// ThreadPool no-ops/s and 1.27M CPU-pool no-ops/s with 64 in flight, either way).
const BUDGET: Duration = Duration::from_millis(1);

unsafe extern "C" {
    /// libuv's cached loop time in ms, updated once per loop iteration (exported by Node).
    fn uv_now(loop_: *const sys::uv_loop_s) -> u64;
}

pub(crate) struct Turn {
    uv_loop: *mut sys::uv_loop_s,
    /// `uv_now` of the iteration being budgeted, and when (ns since `epoch()`) it started.
    loop_now: AtomicU64,
    started: AtomicU64,
    /// Delivery stopped for this iteration; `resume` restarts it.
    yielding: AtomicBool,
}

// SAFETY: the loop pointer is only passed to `uv_now` on the JS thread that owns the loop
// (`spent`'s contract); everything else is atomics.
unsafe impl Send for Turn {}
// SAFETY: as above.
unsafe impl Sync for Turn {}

fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

impl Turn {
    /// # Safety
    /// `uv_loop` must be the loop of the environment this turn belongs to, alive as long.
    pub(crate) unsafe fn new(uv_loop: *mut sys::uv_loop_s) -> Self {
        Self {
            uv_loop,
            loop_now: AtomicU64::new(u64::MAX),
            started: AtomicU64::new(0),
            yielding: AtomicBool::new(false),
        }
    }

    /// True once this loop iteration has spent its budget.
    ///
    /// # Safety
    /// Must be called on the JS thread of the environment whose loop this is.
    pub(crate) unsafe fn spent(&self) -> bool {
        // SAFETY: the loop is alive and this is its thread (contract of `new` and this fn).
        let loop_now = unsafe { uv_now(self.uv_loop) };
        let now = epoch().elapsed().as_nanos() as u64;
        if self.loop_now.swap(loop_now, Ordering::Relaxed) != loop_now {
            self.started.store(now, Ordering::Relaxed);
            return false;
        }
        now.saturating_sub(self.started.load(Ordering::Relaxed)) > BUDGET.as_nanos() as u64
    }

    pub(crate) fn yielding(&self) -> bool {
        self.yielding.load(Ordering::Relaxed)
    }

    pub(crate) fn yield_now(&self) {
        self.yielding.store(true, Ordering::Relaxed);
    }

    /// Ends a yield (a new iteration, a new budget); false if there was none.
    pub(crate) fn resume(&self) -> bool {
        let was = self.yielding.swap(false, Ordering::Relaxed);
        if was {
            self.loop_now.store(u64::MAX, Ordering::Relaxed);
        }
        was
    }
}
