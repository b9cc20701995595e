//! Memory admitted, not hoped for: work that allocates a lot at once (an image transform's
//! pixels, an argon2 or scrypt hash's memory) holds a grant for those bytes for as long as it
//! runs, and all such work in the process shares one budget. Work whose grant does not fit waits
//! on its pool thread (polling its cancel flag every few milliseconds) until running work
//! finishes; a grant larger than the whole budget is refused at once (`Refused::OverBudget`, each
//! capability names it in its own error). So eight 50-megapixel uploads, or 64 concurrent 64 MiB
//! argon2 hashes, run as many at a time as memory allows instead of all at once; the callers
//! behind them wait in the pool's queue, whose `maxQueue` turns a storm into
//! `ERR_OFFLOAD_QUEUE_FULL` rather than an out-of-memory.
//!
//! The budget is a quarter of the machine's memory (`/proc/meminfo`), or 1 GiB where that
//! cannot be read.

use std::sync::{Condvar, Mutex, OnceLock};
use std::time::Duration;

pub(crate) struct Budget {
    limit: u64,
    used: Mutex<u64>,
    freed: Condvar,
}

/// Why a grant was not given.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Refused {
    /// The cancel flag fired while waiting.
    Cancelled,
    /// More than the whole budget: it could never fit.
    OverBudget { bytes: u64, limit: u64 },
}

/// Bytes held until dropped.
pub(crate) struct Grant<'a> {
    budget: &'a Budget,
    bytes: u64,
}

impl Drop for Grant<'_> {
    fn drop(&mut self) {
        let mut used = self.budget.used.lock().unwrap_or_else(|p| p.into_inner());
        *used -= self.bytes;
        self.budget.freed.notify_all();
    }
}

impl Budget {
    pub(crate) fn new(limit: u64) -> Budget {
        Budget {
            limit,
            used: Mutex::new(0),
            freed: Condvar::new(),
        }
    }

    /// The process-wide budget.
    pub(crate) fn global() -> &'static Budget {
        static GLOBAL: OnceLock<Budget> = OnceLock::new();
        GLOBAL.get_or_init(|| Budget::new(default_limit()))
    }

    /// The most one grant can hold.
    pub(crate) fn limit(&self) -> u64 {
        self.limit
    }

    /// Waits until `bytes` fit; `Refused::Cancelled` if `cancelled` fires first.
    pub(crate) fn acquire(
        &self,
        bytes: u64,
        cancelled: &dyn Fn() -> bool,
    ) -> Result<Grant<'_>, Refused> {
        if bytes > self.limit {
            return Err(Refused::OverBudget {
                bytes,
                limit: self.limit,
            });
        }
        let mut used = self.used.lock().unwrap_or_else(|p| p.into_inner());
        while *used + bytes > self.limit {
            if cancelled() {
                return Err(Refused::Cancelled);
            }
            used = self
                .freed
                .wait_timeout(used, Duration::from_millis(5))
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        *used += bytes;
        Ok(Grant {
            budget: self,
            bytes,
        })
    }
}

fn default_limit() -> u64 {
    let total = std::fs::read_to_string("/proc/meminfo").ok().and_then(|m| {
        let line = m.lines().find(|l| l.starts_with("MemTotal:"))?;
        let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kib * 1024)
    });
    total.map_or(1 << 30, |t| t / 4)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    #[test]
    fn a_grant_that_does_not_fit_waits_for_one_to_be_dropped() {
        use std::sync::atomic::AtomicUsize;
        let b = Arc::new(Budget::new(100));
        let first = b.acquire(60, &|| false).unwrap();
        let got = Arc::new(AtomicBool::new(false));
        // The waiter polls its cancel flag each time it wakes without room: counted here.
        let polls = Arc::new(AtomicUsize::new(0));
        let waiter = {
            let (b, got, polls) = (b.clone(), got.clone(), polls.clone());
            std::thread::spawn(move || {
                let _g = b
                    .acquire(60, &|| {
                        polls.fetch_add(1, Ordering::SeqCst);
                        false
                    })
                    .unwrap();
                got.store(true, Ordering::SeqCst);
            })
        };
        while polls.load(Ordering::SeqCst) < 3 && !got.load(Ordering::SeqCst) {
            std::thread::yield_now();
        }
        assert!(!got.load(Ordering::SeqCst), "60 + 60 > 100: it must wait");
        drop(first);
        waiter.join().unwrap();
        assert!(got.load(Ordering::SeqCst));
        assert_eq!(*b.used.lock().unwrap(), 0);
    }

    #[test]
    fn cancel_ends_a_wait_and_too_large_fails_at_once() {
        let b = Budget::new(100);
        let _held = b.acquire(100, &|| false).unwrap();
        assert!(matches!(b.acquire(1, &|| true), Err(Refused::Cancelled)));
        assert!(matches!(
            b.acquire(101, &|| false),
            Err(Refused::OverBudget {
                bytes: 101,
                limit: 100
            })
        ));
        assert!(default_limit() >= 1 << 20);
    }
}
