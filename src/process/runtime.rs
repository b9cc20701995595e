//! Layer 2, the services, started together on first use and kept for the process's lifetime:
//! `offload-io`, a single-threaded tokio runtime that waits on every child's pipes, exit and
//! timers; `offload-spawner` (see [`Spawner`]), which creates the children so their
//! parent-death signal is tied to a thread that never exits; and the [`Watchdog`] process,
//! which kills the children's process groups should this process be SIGKILLed. Neither thread
//! ever runs JavaScript, and one epoll thread is plenty: per child it only moves bytes and
//! wakes up on exit. The watchdog is reaped through `sys::reap`, not the lifecycle driver, so
//! this layer uses nothing above it.

#![forbid(unsafe_code)]

use std::future::Future;
use std::io;
use std::sync::{Arc, Mutex};
use std::thread;

use tokio::runtime::{Builder, Handle};

use super::spawner::Spawner;
use super::sys::reap::{exit, reap};
use super::sys::thread::lower_priority;
use super::watchdog::Watchdog;

/// Niceness of the I/O thread.
const IO_NICE: libc::c_int = 10;

pub(crate) struct Services {
    pub(crate) io: Handle,
    pub(crate) spawner: Spawner,
    pub(crate) watchdog: Arc<Watchdog>,
}

impl Services {
    pub(crate) fn run<F>(&self, future: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        drop(self.io.spawn(future));
    }
}

/// The process-wide services, starting them on first call.
pub(crate) fn services() -> io::Result<Arc<Services>> {
    static SERVICES: Mutex<Option<Arc<Services>>> = Mutex::new(None);
    let mut slot = SERVICES.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(s) = slot.as_ref() {
        return Ok(s.clone());
    }
    let runtime = Builder::new_current_thread().enable_all().build()?;
    let io = runtime.handle().clone();
    thread::Builder::new()
        .name("offload-io".into())
        .spawn(move || {
            // Below the event loop's priority, like the CPU pool: on a small machine busy with
            // children, the JS thread gets a core first. (Not the spawner: children inherit
            // its niceness.)
            lower_priority(IO_NICE);
            runtime.block_on(std::future::pending::<()>())
        })?;
    let spawner = Spawner::start()?;
    let reaper = io.clone();
    let watchdog = Watchdog::start(&spawner, move |pid| {
        drop(reaper.spawn(async move {
            exit(pid).await;
            let _ = reap(pid).await;
        }))
    });
    let services = Arc::new(Services {
        io,
        spawner,
        watchdog,
    });
    *slot = Some(services.clone());
    Ok(services)
}
