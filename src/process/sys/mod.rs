//! Layer 1 of the supervisor: the system calls, each family in its own module, with no
//! knowledge of children as the layers above see them (no state, no tasks, no policy).
//!
//! - `command`: what to run ([`Command`], stdio, limits) and PATH resolution, in the parent;
//! - `spawn`: `clone(CLONE_VM | CLONE_VFORK)` and the child's async-signal-safe code;
//! - `reap`: exit notification (pidfd) and `wait4`;
//! - `pipe`: close-on-exec pipes driven by the I/O runtime's epoll;
//! - `signal`: signal names as Node spells them, and sending one;
//! - `channels`: a process-pool worker's descriptors 3 and 4, and its live RSS;
//! - `thread`: the supervisor threads' priority.
//!
//! Nearly all of the supervisor's unsafe code lives here, behind safe functions; the layers
//! above are `#![forbid(unsafe_code)]` except `capture.rs` (its memfd mapping).

pub(crate) mod channels;
pub(crate) mod command;
pub(crate) mod pipe;
pub(crate) mod reap;
pub mod signal;
pub(crate) mod spawn;
pub(crate) mod thread;
