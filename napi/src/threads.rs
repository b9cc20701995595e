//! The native side of `ThreadPool`: a [`Dispatch`] queue shared by
//! the main thread, which submits serialized tasks, and the pool's worker threads, which take
//! them and post results straight into the submitting environment's completion channel.
//!
//! A pool is found by a numeric id in a process-wide registry, because worker threads are
//! separate environments and cannot share an `External`. Every accepted task ends in exactly
//! one completion on the main thread's channel: its result, its cancellation while queued, the
//! crash of the worker running it, or the pool's destruction. Workers are woken with
//! `Settle::Signal` messages on their own channel (slot `WAKE` or `ABORT`).
//!
//! Workers are named by their `threadId`, which the main thread knows as soon as it creates the
//! `Worker`, so a timeout or a retirement can name a worker whose `ready` has not been read.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use napi::Env;
use napi::bindgen_prelude::{Buffer, Either, Uint8Array};
use napi_derive::napi;

use crate::env_scope;
use crate::errors::{
    ABORT_ERR, ERR_OFFLOAD_POOL_CLOSED, ERR_OFFLOAD_POOL_DESTROYED, ERR_OFFLOAD_QUEUE_FULL,
    ERR_OFFLOAD_WORKER_CRASHED, ERR_OFFLOAD_WORKER_START, Result, TaskError, coded,
};
use crate::options::pool::priority;
use crate::runtime::channel::{Completion, EnvScope, Settle};
use crate::runtime::value::Value;
use offload_core::threads::{Cancelled, Dispatch, DispatchError, TaskId, WorkerId};

struct ThreadPool {
    /// Tag: the main thread's slot for the task's promise.
    dispatch: Dispatch<u32, Task>,
    main: Arc<EnvScope>,
    /// Each worker's channel and the slots it keeps open for WAKE and ABORT signals.
    workers: Mutex<HashMap<WorkerId, Attached>>,
}

/// What a worker gets: the handler's name and the payload (`None`: `undefined`, the common case
/// of a signal-only task, which needs no serializer on either side).
struct Task {
    name: Option<String>,
    payload: Option<Payload>,
}

/// A payload or result as JS encoded it (lib/thread-pool/codec.js): V8 serializer bytes, or
/// JSON text for values JSON carries exactly (no ArrayBuffer or serializer object per task).
enum Payload {
    Bytes(Vec<u8>),
    Json(String),
}

impl From<Either<Uint8Array, String>> for Payload {
    fn from(v: Either<Uint8Array, String>) -> Self {
        match v {
            Either::A(b) => Payload::Bytes(b.to_vec()),
            Either::B(s) => Payload::Json(s),
        }
    }
}

struct Attached {
    scope: Arc<EnvScope>,
    wake: u32,
    abort: u32,
}

enum Signal {
    Wake,
    Abort(TaskId),
}

impl ThreadPool {
    fn workers(&self) -> MutexGuard<'_, HashMap<WorkerId, Attached>> {
        self.workers.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn signal(&self, worker: WorkerId, signal: Signal) {
        let target = self.workers().get(&worker).map(|a| {
            let (slot, value) = match signal {
                Signal::Wake => (a.wake, Value::Undefined),
                Signal::Abort(task) => (a.abort, Value::Number(task as f64)),
            };
            (a.scope.clone(), slot, value)
        });
        if let Some((scope, slot, value)) = target {
            scope.post(Completion {
                settle: Settle::Signal(slot),
                result: Ok(value),
            });
        }
    }

    fn fail(&self, slot: u32, code: &'static str, message: &str) {
        self.main.post(Completion {
            settle: Settle::Slot(slot),
            result: Err(TaskError::new(code, message)),
        });
    }
}

type Registry = Mutex<(u32, HashMap<u32, Arc<ThreadPool>>)>;

fn registry() -> MutexGuard<'static, (u32, HashMap<u32, Arc<ThreadPool>>)> {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY
        .get_or_init(|| Mutex::new((0, HashMap::new())))
        .lock()
        .unwrap_or_else(|p| p.into_inner())
}

fn pool(id: u32) -> Result<Arc<ThreadPool>> {
    registry()
        .1
        .get(&id)
        .cloned()
        .ok_or_else(|| coded(ERR_OFFLOAD_POOL_CLOSED, "the thread pool is closed"))
}

/// Creates a pool owned by this environment; returns its id.
#[napi]
pub fn thread_pool_create(env: Env, max_queue: f64) -> Result<u32> {
    let main = env_scope(&env)?;
    let max_queue = if max_queue.is_infinite() {
        usize::MAX
    } else {
        max_queue as usize
    };
    let mut r = registry();
    r.0 += 1;
    let id = r.0;
    let pool = ThreadPool {
        dispatch: Dispatch::new(max_queue),
        main,
        workers: Mutex::new(HashMap::new()),
    };
    r.1.insert(id, Arc::new(pool));
    Ok(id)
}

/// Queues a task (`payload`: encoded, or null for `undefined`) for handler `name`; its
/// result settles `slot` on this environment's channel. Returns the task id, or throws
/// ERR_OFFLOAD_QUEUE_FULL / ERR_OFFLOAD_POOL_CLOSED at once.
#[napi]
pub fn thread_pool_submit(
    env: Env,
    id: u32,
    slot: u32,
    name: Option<String>,
    payload: Option<Either<Uint8Array, String>>,
    prio: Option<String>,
) -> Result<f64> {
    let p = pool(id)?;
    let prio = priority(prio.as_deref())?;
    let task = Task {
        name,
        payload: payload.map(Payload::from),
    };
    let (task, wake) = p.dispatch.submit(slot, task, prio).map_err(|e| match e {
        DispatchError::QueueFull(_) => coded(ERR_OFFLOAD_QUEUE_FULL, e.to_string()),
        DispatchError::Closed => coded(ERR_OFFLOAD_POOL_CLOSED, e.to_string()),
    })?;
    p.main.begin(&env);
    if let Some(w) = wake {
        p.signal(w, Signal::Wake);
    }
    Ok(task as f64)
}

/// Called in a worker thread: joins pool `id` as `worker` (its `threadId`), with the slots of
/// this environment's channel that receive WAKE (undefined) and ABORT (the task id) signals,
/// and takes scheduling niceness `nice` (0–19: the event loop's thread wins the CPU). Throws
/// ERR_OFFLOAD_WORKER_START if the pool gave up on this worker (`thread_pool_refuse`).
#[napi]
pub fn thread_pool_attach(
    env: Env,
    id: u32,
    worker: u32,
    wake: u32,
    abort: u32,
    nice: u32,
) -> Result<u32> {
    let p = pool(id)?;
    let scope = env_scope(&env)?;
    // Registered for signals before it can be parked and handed out by `submit`.
    p.workers().insert(worker, Attached { scope, wake, abort });
    if !p.dispatch.add_worker(worker) {
        p.workers().remove(&worker);
        return Err(coded(
            ERR_OFFLOAD_WORKER_START,
            "the thread pool gave up on this worker before it called serve() (startTimeout)",
        ));
    }
    offload_core::pool::set_nice(nice.min(19) as i32);
    Ok(worker)
}

/// A start timeout: bars `worker` from joining unless it has joined already (false), so a
/// worker about to be terminated never takes a task.
#[napi]
pub fn thread_pool_refuse(id: u32, worker: u32) -> Result<bool> {
    Ok(pool(id)?.dispatch.refuse(worker))
}

/// Retires the worker parked longest if it has been idle `idle_for` ms: returns its id (it
/// never takes a task again; the caller terminates it), else minus the ms until one may
/// qualify (`-idle_for` when none is parked).
#[napi]
pub fn thread_pool_retire(id: u32, idle_for: f64) -> Result<f64> {
    let idle_for = Duration::from_secs_f64(idle_for.max(0.0) / 1000.0);
    Ok(match pool(id)?.dispatch.retire(idle_for) {
        Ok(worker) => worker as f64,
        Err(wait) => -(wait.unwrap_or(idle_for).as_secs_f64() * 1000.0),
    })
}

/// Tasks waiting that no woken worker is about to take: whether to start another worker.
#[napi]
pub fn thread_pool_backlog(id: u32) -> Result<u32> {
    Ok(pool(id)?.dispatch.backlog().min(u32::MAX as usize) as u32)
}

/// Workers that have called serve() and are not retired.
#[napi]
pub fn thread_pool_joined(id: u32) -> Result<u32> {
    Ok(pool(id)?.dispatch.joined().min(u32::MAX as usize) as u32)
}

/// How long a worker that finds the queue empty waits for a task before it parks: a caller that
/// awaits each result before it sends the next task is back within this, and its task then
/// skips the wake-up through the worker's event loop. The worker's loop stands still meanwhile.
const LINGER: Duration = Duration::from_micros(200);
/// The first part of LINGER is spent spinning (one core, at the worker's niceness).
const SPIN: Duration = Duration::from_micros(50);

#[napi(object)]
pub struct TakenTask {
    pub task: f64,
    /// The main thread's completion slot of the task, which finds it there by slot and id.
    pub slot: u32,
    pub name: Option<String>,
    pub payload: Option<Either<Buffer, String>>,
}

/// Finishes the worker's task `done` (if >= 0) with its result (`ok`) or encoded error
/// (`result`: null for `undefined`), then returns the worker's next task, or null: the worker
/// is parked until a WAKE signal. One call per task in a run of synchronous handlers. A
/// result for a task that already left (cancelled or lost) is dropped.
#[napi]
pub fn thread_pool_next(
    id: u32,
    worker: u32,
    done: f64,
    ok: bool,
    result: Option<Either<Uint8Array, String>>,
) -> Result<Option<TakenTask>> {
    let p = pool(id)?;
    if done >= 0.0
        && let Some(slot) = p.dispatch.finish(worker, done as TaskId)
    {
        let value = match result.map(Payload::from) {
            None => Value::Undefined,
            Some(Payload::Bytes(b)) => Value::Bytes(b),
            Some(Payload::Json(s)) => Value::Text(s),
        };
        p.main.post(Completion {
            settle: Settle::Slot(slot),
            result: Ok(Value::List(vec![Value::Bool(ok), value])),
        });
    }
    Ok(p.dispatch
        .take_or_linger(worker, SPIN, LINGER)
        .map(|(task, slot, t)| TakenTask {
            task: task as f64,
            slot,
            name: t.name,
            payload: t.payload.map(|p| match p {
                Payload::Bytes(b) => Either::A(Buffer::from(b)),
                Payload::Json(s) => Either::B(s),
            }),
        }))
}

/// Cancels `task`: 1 if it was queued (its promise is failed now), the running worker's id +
/// 1 if a worker runs it (it is sent an ABORT signal; the caller may terminate it), 0 if it
/// already left.
#[napi]
pub fn thread_pool_cancel(id: u32, task: f64) -> Result<u32> {
    let p = pool(id)?;
    Ok(match p.dispatch.cancel(task as TaskId) {
        Cancelled::Queued(slot, _) => {
            p.fail(slot, ABORT_ERR, "cancelled");
            1
        }
        Cancelled::Running(worker, _) => {
            p.signal(worker, Signal::Abort(task as TaskId));
            worker + 1
        }
        Cancelled::Unknown => 0,
    })
}

/// A worker is gone: the task it ran fails with ERR_OFFLOAD_WORKER_CRASHED and `message`.
/// Returns whether it had joined (called serve()).
#[napi]
pub fn thread_pool_worker_exited(id: u32, worker: u32, message: String) -> Result<bool> {
    let p = pool(id)?;
    let joined = p.workers().remove(&worker).is_some();
    if let Some((_, slot)) = p.dispatch.worker_exited(worker) {
        p.fail(slot, ERR_OFFLOAD_WORKER_CRASHED, &message);
    }
    Ok(joined)
}

/// Refuses new tasks; with `destroy`, also fails every waiting one.
#[napi]
pub fn thread_pool_close(id: u32, destroy: bool) -> Result<()> {
    let p = pool(id)?;
    p.dispatch.close();
    if destroy {
        for (_, slot, _) in p.dispatch.destroy() {
            p.fail(
                slot,
                ERR_OFFLOAD_POOL_DESTROYED,
                "the thread pool was destroyed",
            );
        }
    }
    Ok(())
}

/// No worker can start: every waiting task fails with ERR_OFFLOAD_WORKER_START and `message`.
#[napi]
pub fn thread_pool_fail_queued(id: u32, message: String) -> Result<()> {
    let p = pool(id)?;
    for (_, slot, _) in p.dispatch.drain() {
        p.fail(slot, ERR_OFFLOAD_WORKER_START, &message);
    }
    Ok(())
}

/// Forgets a pool whose workers have all exited.
#[napi]
pub fn thread_pool_drop(id: u32) {
    registry().1.remove(&id);
}

/// `[queued, running, idleWorkers, submitted, completed, cancelled, rejected, lost]`.
#[napi]
pub fn thread_pool_stats(id: u32) -> Result<Vec<f64>> {
    let s = pool(id)?.dispatch.stats();
    Ok(vec![
        s.queued as f64,
        s.running as f64,
        s.idle_workers as f64,
        s.submitted as f64,
        s.completed as f64,
        s.cancelled as f64,
        s.rejected as f64,
        s.lost as f64,
    ])
}
