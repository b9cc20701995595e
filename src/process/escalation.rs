//! The timeout and the kill escalation of a running child, written against a small seam
//! ([`Kill`] + [`Wait`], in the spirit of tokio's `process/unix/reap.rs`) so that unit tests
//! drive it with a fake child and tokio's paused clock.
//!
//! Guarantees, for one run of [`until_exit`]:
//! - the timeout fires at most once, at the deadline, and sends the kill signal;
//! - a stopping signal from anyone (the timeout, `kill()`, an abort, maxBuffer) arms one
//!   SIGKILL `force_kill_after` later, unless the child exits first: a child that exits on
//!   SIGTERM never gets SIGKILL;
//! - a child still running after `register_after` is handed to the watchdog, once.

#![forbid(unsafe_code)]

use std::ffi::c_int;
use std::future::Future;
use std::pin::pin;
use std::time::Duration;

use tokio::time::{Instant, sleep_until};

/// Sending signals to the child, and learning that someone else did.
pub(crate) trait Kill {
    /// Sends `sig` (to the child's tree, if it has one); `escalate` asks for the SIGKILL
    /// escalation should `sig` be a stopping signal.
    fn kill(&self, sig: c_int, escalate: bool);
    /// True once after a stopping signal asked for the escalation.
    fn take_escalation(&self) -> bool;
    /// Resolves at the next signal sent from elsewhere (a change made before is not lost).
    fn changed(&self) -> impl Future<Output = ()> + Send + '_;
}

/// Learning that the child exited.
pub(crate) trait Wait {
    /// Resolves once the child has exited (it stays unreaped). Called once per run.
    fn exit(&self) -> impl Future<Output = ()> + Send + 'static;
}

/// When to stop a child, fixed at the spawn.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Policy {
    /// The timeout's deadline.
    pub(crate) deadline: Option<Instant>,
    pub(crate) kill_signal: c_int,
    /// Wait between a stopping signal and SIGKILL; `None` never escalates.
    pub(crate) force_kill_after: Option<Duration>,
    /// Run time after which `on_long_run` is called; `None` never calls it.
    pub(crate) register_after: Option<Duration>,
}

/// What happened while waiting.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Ended {
    pub(crate) timed_out: bool,
    /// `on_long_run` was called.
    pub(crate) registered: bool,
}

/// Waits for the child to exit while enforcing `policy`; `on_long_run` is the watchdog
/// registration.
pub(crate) async fn until_exit<C: Kill + Wait>(
    child: &C,
    policy: Policy,
    on_long_run: impl FnOnce(),
) -> Ended {
    let mut exited = pin!(child.exit());
    let mut ended = Ended::default();
    let mut escalate_at: Option<Instant> = None;
    let register_at = policy.register_after.map(|after| Instant::now() + after);
    let mut on_long_run = Some(on_long_run);
    loop {
        if child.take_escalation() && escalate_at.is_none() {
            escalate_at = policy.force_kill_after.map(|after| Instant::now() + after);
        }
        let now = Instant::now();
        tokio::select! {
            () = &mut exited => return ended,
            () = sleep_until(policy.deadline.unwrap_or(now)),
                if policy.deadline.is_some() && !ended.timed_out => {
                ended.timed_out = true;
                child.kill(policy.kill_signal, true);
            }
            () = sleep_until(escalate_at.unwrap_or(now)), if escalate_at.is_some() => {
                escalate_at = None;
                child.kill(libc::SIGKILL, false);
            }
            () = sleep_until(register_at.unwrap_or(now)),
                if register_at.is_some() && on_long_run.is_some() => {
                if let Some(f) = on_long_run.take() {
                    f();
                }
                ended.registered = true;
            }
            () = child.changed() => {}
        }
    }
}

#[cfg(test)]
#[path = "escalation_tests.rs"]
mod tests;
