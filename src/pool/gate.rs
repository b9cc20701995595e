//! Gates: permits a pool's drainers must hold to run tasks, such as the slots of a host-wide
//! budget (`crate::budget::host`). The pool knows only this interface.
//!
//! A drainer takes a permit before its first task and keeps it across back-to-back tasks. One
//! that finds none registers a grant and returns its thread to rayon: the gate calls the grant
//! from its own thread once a permit frees, and the grant spawns the drainer again. So a task
//! waiting for a permit holds no thread. The permit goes back when the drainer runs out of
//! tasks, or after a task when [`Held::should_yield`] says others have waited long enough; it
//! then sleeps in [`block_for_permit`] until its turn comes back.

use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use super::lock;

/// A permit, given back when dropped.
pub trait Held: Send {
    /// Whether to give the permit back now, between two tasks, for fairness.
    fn should_yield(&self) -> bool;
}

pub trait Gate: Send + Sync {
    /// A permit now, if one is free.
    fn try_acquire(&self) -> Option<Box<dyn Held>>;
    /// Calls `grant` with a permit once one frees (maybe right away, on this thread). After a
    /// yield (`yielded`), not right away: others get the chance the yield was for. Returns an
    /// id for `withdraw`.
    fn wait(&self, grant: Box<dyn FnOnce(Box<dyn Held>) + Send>, yielded: bool) -> u64;
    /// Drops a wait not granted yet (its grant is never called); false if it was granted.
    fn withdraw(&self, id: u64) -> bool;
}

/// How often a drainer blocked in [`block_for_permit`] looks at `give_up`.
const GIVE_UP_POLL: Duration = Duration::from_millis(100);

/// Blocks the calling pool thread until `gate` grants a permit (`yielded`: see `Gate::wait`),
/// or `give_up()` (the pool destroyed: no task left to run). A drainer that gave its permit up
/// for fairness, or woke from `park` to find none, sleeps here rather than in rayon's idle
/// loop, which yields the CPU some 32 times before it sleeps and so, on a busy host, keeps the
/// thread runnable for many time slices. It holds no thread another task of its pool could
/// use: every task of a gated pool needs a permit.
pub(super) fn block_for_permit(
    gate: &dyn Gate,
    yielded: bool,
    give_up: impl Fn() -> bool,
) -> Option<Box<dyn Held>> {
    let cell = Arc::new((Mutex::new(None), Condvar::new()));
    let granted = cell.clone();
    let id = gate.wait(
        Box::new(move |p| {
            *lock(&granted.0) = Some(p);
            granted.1.notify_one();
        }),
        yielded,
    );
    let mut slot = lock(&cell.0);
    loop {
        if let Some(p) = slot.take() {
            return Some(p);
        }
        if give_up() {
            drop(slot);
            if gate.withdraw(id) {
                return None;
            }
            // Granted meanwhile: the permit is on its way into the cell.
            slot = lock(&cell.0);
            continue;
        }
        slot = cell
            .1
            .wait_timeout(slot, GIVE_UP_POLL)
            .unwrap_or_else(|p| p.into_inner())
            .0;
    }
}
