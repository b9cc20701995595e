//! The process's one `offload-budget` thread: it waits for slots on behalf of every budget's
//! waiting tasks, so no pool thread, libuv thread or JavaScript thread ever does.
//!
//! It sleeps in `poll` on an inotify descriptor watching each budget's directory: a release's
//! bell (this process's own releases included), or a dead holder's slot files closing. On each
//! wake-up every budget with waiters tries its free slots and hands each slot it gets to its
//! oldest waiter. A 250 ms timeout backs the events up: a missed
//! wake-up (a directory removed under us, say) costs at most that long, never a hang.

use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::sync::{Mutex, OnceLock, Weak};

use super::Inner;
use super::sys;

const FALLBACK_MS: i32 = 250;

pub(crate) struct Waiter {
    inotify: OwnedFd,
    budgets: Mutex<Vec<Weak<Inner>>>,
}

/// The waiter, started on first use; `None` if the kernel refused inotify (the
/// budgets then cannot wait, and say so when opened).
pub(crate) fn waiter() -> Result<&'static Waiter, String> {
    static WAITER: OnceLock<Result<&'static Waiter, String>> = OnceLock::new();
    WAITER
        .get_or_init(|| {
            let w: &'static Waiter = Box::leak(Box::new(Waiter {
                inotify: sys::inotify().map_err(|e| format!("inotify: {e}"))?,
                budgets: Mutex::new(Vec::new()),
            }));
            std::thread::Builder::new()
                .name("offload-budget".into())
                .spawn(move || w.run())
                .map_err(|e| format!("could not start the budget thread: {e}"))?;
            Ok(w)
        })
        .clone()
}

impl Waiter {
    /// Watches a budget's directory and serves its waiters from now on.
    pub(crate) fn register(&self, budget: Weak<Inner>, dir: &OwnedFd) -> std::io::Result<()> {
        sys::watch_closes(self.inotify.as_fd(), dir.as_fd())?;
        let mut budgets = self.budgets.lock().unwrap_or_else(|p| p.into_inner());
        budgets.retain(|b| b.strong_count() > 0);
        budgets.push(budget);
        Ok(())
    }

    fn run(&self) {
        // At the pool threads' default niceness: woken by every release on the host, it must
        // not queue a web server's request behind it.
        crate::pool::set_nice(crate::pool::DEFAULT_NICE);
        let fds = [self.inotify.as_raw_fd()];
        loop {
            sys::poll_readable(&fds, FALLBACK_MS);
            // Read the events first: one that arrives while the budgets are served is seen by
            // the next poll rather than lost.
            sys::drain(self.inotify.as_fd());
            let live: Vec<_> = {
                let budgets = self.budgets.lock().unwrap_or_else(|p| p.into_inner());
                budgets.iter().filter_map(Weak::upgrade).collect()
            };
            for b in live {
                b.serve();
            }
        }
    }
}
