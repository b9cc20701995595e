//! Gates: permits a pool's drainers must hold to run tasks, such as the slots of a host-wide
//! budget (`crate::budget::host`). The pool knows only this interface.
//!
//! A drainer takes a permit before its first task and keeps it across back-to-back tasks. One
//! that finds none registers a grant and returns its thread to rayon: the gate calls the grant
//! from its own thread once a permit frees, and the grant spawns the drainer again. So a task
//! waiting for a permit holds no thread. The permit goes back when the drainer runs out of
//! tasks, or after a task when [`Held::should_yield`] says others have waited long enough.

/// A permit, given back when dropped.
pub trait Held: Send {
    /// Whether to give the permit back now, between two tasks, for fairness.
    fn should_yield(&self) -> bool;
}

pub trait Gate: Send + Sync {
    /// A permit now, if one is free.
    fn try_acquire(&self) -> Option<Box<dyn Held>>;
    /// Calls `grant` with a permit once one frees (maybe right away, on this thread). After a
    /// yield (`yielded`), not right away: others get the chance the yield was for.
    fn wait(&self, grant: Box<dyn FnOnce(Box<dyn Held>) + Send>, yielded: bool);
}
