//! Memory admitted, not hoped for: every transform holds a grant for the bytes its pixels will
//! take (decoded image and resize output) for as long as it runs, and concurrent transforms
//! share one budget per process. A transform whose grant does not fit waits on its pool thread
//! (polling its cancel flag every few milliseconds) until running ones finish; one larger than
//! the whole budget fails at once (`OverBudget`, ERR_OFFLOAD_IMAGE_TOO_LARGE). So eight 50-megapixel uploads run as many
//! at a time as memory allows instead of all at once.
//!
//! The budget is a quarter of the machine's memory (`/proc/meminfo`), or 1 GiB where that
//! cannot be read.

use std::sync::{Condvar, Mutex, OnceLock};
use std::time::Duration;

use super::ImageError;

pub(crate) struct Budget {
    limit: u64,
    used: Mutex<u64>,
    freed: Condvar,
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

    /// Waits until `bytes` fit; `Err(None)` if `cancelled` fires first.
    pub(crate) fn acquire(
        &self,
        bytes: u64,
        cancelled: &dyn Fn() -> bool,
    ) -> Result<Grant<'_>, Option<ImageError>> {
        if bytes > self.limit {
            return Err(Some(ImageError::OverBudget {
                bytes,
                limit: self.limit,
            }));
        }
        let mut used = self.used.lock().unwrap_or_else(|p| p.into_inner());
        while *used + bytes > self.limit {
            if cancelled() {
                return Err(None);
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
        assert!(matches!(b.acquire(1, &|| true), Err(None)));
        assert!(matches!(
            b.acquire(101, &|| false),
            Err(Some(ImageError::OverBudget { .. }))
        ));
        assert!(default_limit() >= 1 << 20);
    }
}
