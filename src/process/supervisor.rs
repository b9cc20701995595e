//! The supervisor's facade: a [`Supervisor`] admits children (see `admission.rs`) and starts
//! one lifecycle task per child on the I/O thread; an [`Owner`] groups the children started on
//! behalf of one party (a Node environment), so that all of them can be killed when it goes
//! away.
//!
//! Guarantees: `on_exit` runs exactly once per admitted child, even if its task panics; an
//! owner that is shutting down refuses new children.

#![forbid(unsafe_code)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};

use super::admission::{Admit, Gate, QueueFull, SupervisorConfig};
use super::capture::Captured;
use super::child::{Child, Inner};
use super::lifecycle;
use super::runtime::{Services, services};
use super::spec::{Report, Spec};
use super::stats::ProcessStats;
use super::sys::command::SpawnError;

#[derive(Debug, thiserror::Error)]
pub enum SupervisorError {
    #[error("the subprocess queue is full ({max_queue} waiting)")]
    QueueFull { max_queue: usize },
    #[error("the owner of this supervisor is shutting down")]
    Closed,
    #[error("could not start the supervisor's threads: {0}")]
    Start(#[from] std::io::Error),
}

/// Runs children with bounded concurrency. Cheap to clone; clones share the budget.
#[derive(Clone)]
pub struct Supervisor(Arc<Shared>);

struct Shared {
    gate: Gate,
    services: Arc<Services>,
}

impl Supervisor {
    pub fn new(config: SupervisorConfig) -> Result<Self, SupervisorError> {
        Ok(Self(Arc::new(Shared {
            gate: Gate::new(config),
            services: services()?,
        })))
    }

    pub fn config(&self) -> SupervisorConfig {
        self.0.gate.config()
    }

    pub fn stats(&self) -> ProcessStats {
        self.0.gate.counters().snapshot()
    }

    /// Admits `spec` (to run now, or to wait in the queue) and returns its handle. `on_exit`
    /// runs exactly once, on the I/O thread, when the child has ended or could not start.
    pub fn spawn<F>(
        &self,
        spec: Spec,
        owner: &Arc<Owner>,
        on_exit: F,
    ) -> Result<Child, SupervisorError>
    where
        F: FnOnce(Report) + Send + 'static,
    {
        static IDS: AtomicU64 = AtomicU64::new(1);
        if owner.closed.load(Ordering::SeqCst) {
            return Err(SupervisorError::Closed);
        }
        let id = IDS.fetch_add(1, Ordering::Relaxed);
        let admitted = if spec.cancelled {
            Admit::Never
        } else {
            self.0
                .gate
                .admit(id)
                .map_err(|QueueFull(max_queue)| SupervisorError::QueueFull { max_queue })?
        };
        let inner = Arc::new(Inner::new(id, self.0.services.clone(), &spec));
        owner.add(id, &inner);
        let child = Child::new(inner.clone());
        let shared = self.0.clone();
        let owner = owner.clone();
        let mut finish = Finish(Some(on_exit));
        self.0.services.run(async move {
            let report = lifecycle::run(&shared.gate, &inner, spec, admitted).await;
            owner.remove(id);
            // `on_exit` may convert the output (a big string is transcoded for V8); keep that
            // off the thread that supervises every other child.
            let captured = report.stdout.as_ref().map_or(0, Captured::len)
                + report.stderr.as_ref().map_or(0, Captured::len);
            if captured > BLOCKING_ABOVE {
                drop(tokio::task::spawn_blocking(move || finish.call(report)));
            } else {
                finish.call(report);
            }
        });
        Ok(child)
    }
}

/// Captured output above which `on_exit` runs on a blocking thread rather than the I/O thread.
const BLOCKING_ABOVE: usize = 1 << 20;

/// Calls `on_exit` exactly once: with the report, or, should the lifecycle task panic or be
/// dropped, with an internal-error report, so no caller waits forever.
struct Finish<F: FnOnce(Report)>(Option<F>);

impl<F: FnOnce(Report)> Finish<F> {
    fn call(&mut self, report: Report) {
        if let Some(f) = self.0.take() {
            f(report);
        }
    }
}

impl<F: FnOnce(Report)> Drop for Finish<F> {
    fn drop(&mut self) {
        self.call(Report {
            spawn_error: Some(SpawnError::Internal),
            ..Report::default()
        });
    }
}

/// The children started for one party, killed together by [`Owner::kill_all`].
#[derive(Default)]
pub struct Owner {
    children: Mutex<HashMap<u64, Weak<Inner>>>,
    closed: AtomicBool,
}

impl Owner {
    fn add(&self, id: u64, inner: &Arc<Inner>) {
        let mut children = self.children.lock().unwrap_or_else(|p| p.into_inner());
        children.insert(id, Arc::downgrade(inner));
    }

    fn remove(&self, id: u64) {
        let mut children = self.children.lock().unwrap_or_else(|p| p.into_inner());
        children.remove(&id);
    }

    /// SIGKILLs every live child (its whole tree) and refuses new ones.
    pub fn kill_all(&self) {
        self.closed.store(true, Ordering::SeqCst);
        let children: Vec<_> = {
            let c = self.children.lock().unwrap_or_else(|p| p.into_inner());
            c.values().filter_map(Weak::upgrade).collect()
        };
        for inner in children {
            inner.terminate();
        }
    }
}
