//! The driver of one child, as a single task on the I/O runtime: wait for admission, spawn (on
//! the spawner thread), feed stdin, capture output, enforce the timeout and the SIGKILL
//! escalation, reap with `wait4`, report. [`supervise`] reads as that list of steps.
//!
//! Exit is observed through a pidfd, which becomes readable when the child is a zombie; the
//! child is reaped only after it has been marked exited (see `child.rs`). With `kill_tree`,
//! whatever the child leaves running in its process group is SIGKILLed at that moment, so no
//! grandchild can hold a pipe open and keep the call waiting. Output is drained after the
//! exit; the timeout still applies while draining, for trees that escaped the group.
//!
//! Guarantees: every path out of [`run`] marks the child's streams ready and gives its slot
//! back, and the report is produced exactly once.

#![forbid(unsafe_code)]

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;
use tokio::time::{Instant, sleep_until};

use super::admission::{Admit, Gate, Slot};
use super::capture::{Captured, capture};
use super::child::Inner;
use super::escalation::{self, Kill, Policy, Wait};
use super::plumbing::{Pipes, plumb};
use super::spec::{Input, Output, Report, Spec, Stream, limit_hit};
use super::stats::Counters;
use super::sys::command::{Command, SpawnError};
use super::sys::pipe::{Reader, Writer};
use super::sys::reap::{exit, own_peak_rss, reap};
use super::watchdog::REGISTER_AFTER;

/// How long output is still read after the supervisor killed the child.
const DRAIN_AFTER_KILL: Duration = Duration::from_millis(100);

/// Waits for admission (if queued), runs the child and accounts for it.
pub(crate) async fn run(gate: &Gate, inner: &Arc<Inner>, spec: Spec, admit: Admit) -> Report {
    let _ready = Ready(inner);
    let admitted = match admit {
        Admit::Now => true,
        Admit::Queued(rx) => admission(gate, inner, rx).await,
        Admit::Never => false,
    };
    let report = match admitted {
        false => not_run(inner),
        true => supervise(inner, spec, Slot::held(gate), gate.counters()).await,
    };
    gate.counters().finished(&report, report.status.is_some());
    report
}

/// Marks the child's streams ready when dropped, on every path out of [`run`], so no read
/// or write waits forever.
struct Ready<'a>(&'a Inner);

impl Drop for Ready<'_> {
    fn drop(&mut self) {
        self.0.mark_ready();
        self.0.refuse_stdin();
    }
}

/// True once admitted; false if the child was cancelled or killed while queued.
async fn admission(gate: &Gate, inner: &Inner, mut rx: oneshot::Receiver<()>) -> bool {
    loop {
        tokio::select! {
            r = &mut rx => return r.is_ok(),
            () = inner.changed() => {
                if !inner.stop_requested() {
                    continue;
                }
                if !gate.withdraw(inner.id()) && rx.await.is_ok() {
                    gate.release(); // admitted in the meantime: hand the slot on
                }
                return false;
            }
        }
    }
}

/// The report of a child that never ran (withdrawn, or stopped before its spawn).
fn not_run(inner: &Inner) -> Report {
    let outcome = inner.never_ran();
    Report {
        cancelled: outcome.cancelled,
        killed: outcome.killed,
        ..Report::default()
    }
}

/// Runs an admitted child to its end, holding `slot` until it is reaped.
async fn supervise(
    inner: &Arc<Inner>,
    mut spec: Spec,
    slot: Slot<'_>,
    counters: &Counters,
) -> Report {
    let started = Instant::now();
    // Aborted or killed before it could start (an already-aborted signal): never spawn.
    if inner.stop_requested() {
        return not_run(inner);
    }
    let cmd = std::mem::replace(&mut spec.command, Command::new(""));
    let limits = cmd.limits.clone();
    let parent_peak = own_peak_rss();
    let (pid, pipes) = match launch(inner, &mut spec, cmd).await {
        Ok(launched) => launched,
        Err(e) => {
            inner.never_ran();
            return Report {
                spawn_error: Some(e),
                ..Report::default()
            };
        }
    };
    counters.started();
    inner.running(pid);
    let io = start_io(inner, &mut spec, pipes).await;
    inner.mark_ready();

    let deadline = spec.timeout.map(|t| started + t);
    let policy = Policy {
        deadline,
        kill_signal: spec.kill_signal,
        force_kill_after: spec.force_kill_after,
        register_after: spec.kill_tree.then_some(REGISTER_AFTER),
    };
    let watchdog = &inner.services().watchdog;
    let running = Running { inner, pid };
    let ended = escalation::until_exit(&running, policy, || watchdog.watch(pid)).await;
    inner.exited();
    if ended.registered {
        watchdog.unwatch(pid);
    }
    let status = reap(pid).await;
    drop(slot);
    inner.close_stdin();

    let mut report = Report {
        pid: Some(pid),
        timed_out: ended.timed_out,
        ..Report::default()
    };
    if let Some((feeder, written)) = io.feeder {
        // The child is gone: whatever it had not read by now, it never will.
        feeder.abort();
        report.input_error = feeder.await.ok().flatten();
        report.input_written = Some(written.load(Ordering::Relaxed));
    }
    let (out, err) = drain(inner, io.captures, io.stop, &mut report, deadline, started).await;
    let strip = |mut o: Option<Captured>| {
        if spec.strip_final_newline
            && let Some(c) = o.as_mut()
        {
            c.strip_final_newline();
        }
        o
    };
    report.stdout = strip(out);
    report.stderr = strip(err);

    let outcome = inner.outcome();
    report.cancelled = outcome.cancelled;
    report.killed = outcome.killed;
    report.max_buffer_exceeded = outcome.max_buffer_exceeded;
    report.killed_by_limit = limit_hit(&status, &limits, outcome.killed);
    // Our peak can only have grown since the spawn, so re-reading it is safe and catches
    // growth during the child's run that the kernel may also have charged to it.
    report.max_rss_bytes =
        Some(status.max_rss_bytes).filter(|&rss| rss > parent_peak.max(own_peak_rss()));
    report.status = Some(status);
    report.duration = started.elapsed();
    report
}

/// Makes the child's pipes and spawns it on the spawner thread. Our copies of the child's
/// ends are closed on return, whatever the outcome.
async fn launch(
    inner: &Inner,
    spec: &mut Spec,
    mut cmd: Command,
) -> Result<(libc::pid_t, Pipes), SpawnError> {
    cmd.process_group = spec.kill_tree;
    cmd.parent_death_signal = Some(libc::SIGKILL);
    let mut pipes = plumb(spec, &mut cmd)
        .map_err(|e| SpawnError::Stdio(e.raw_os_error().unwrap_or(libc::EIO)))?;
    let (tx, rx) = oneshot::channel();
    inner.services().spawner.request(
        cmd,
        Box::new(move |r| {
            let _ = tx.send(r);
        }),
    );
    let pid = rx.await.unwrap_or(Err(SpawnError::Internal))?;
    pipes.child_ends.clear();
    Ok((pid, pipes))
}

/// The tasks moving a running child's bytes.
struct Io {
    captures: [Option<JoinHandle<Captured>>; 2],
    /// Ends the captures early.
    stop: watch::Sender<bool>,
    /// For [`Input::Bytes`]: the task writing them, and how many it wrote.
    feeder: Option<(JoinHandle<Option<String>>, Arc<AtomicU64>)>,
}

/// Starts capturing (or hands over for streaming) the child's output and feeding its stdin.
async fn start_io(inner: &Arc<Inner>, spec: &mut Spec, mut pipes: Pipes) -> Io {
    let (stop, stopped) = watch::channel(false);
    let mut captures: [Option<JoinHandle<Captured>>; 2] = [None, None];
    for (i, (mode, fd, which)) in [
        (spec.stdout, pipes.stdout.take(), Stream::Stdout),
        (spec.stderr, pipes.stderr.take(), Stream::Stderr),
    ]
    .into_iter()
    .enumerate()
    {
        let Some(reader) = fd.and_then(|fd| Reader::new(fd).ok()) else {
            continue;
        };
        if mode == Output::Capture {
            let owner = inner.clone();
            let task = capture(
                reader,
                spec.max_buffer,
                spec.map_large_output,
                stopped.clone(),
                move || owner.exceeded(which),
            );
            captures[i] = Some(tokio::spawn(task));
        } else {
            inner.install_reader(which, reader).await;
        }
    }
    let writer = pipes.stdin.take().and_then(|fd| Writer::new(fd).ok());
    let feeder = match (std::mem::replace(&mut spec.stdin, Input::Null), writer) {
        (Input::Bytes(src), Some(w)) => {
            let written = Arc::new(AtomicU64::new(0));
            let counter = written.clone();
            let task = tokio::spawn(async move {
                match w.write_all(&*src, &counter).await {
                    // EPIPE only means the child did not read all of its input; the report
                    // says how much it took.
                    Err(e) if e.raw_os_error() != Some(libc::EPIPE) => Some(e.to_string()),
                    _ => None,
                }
            });
            Some((task, written))
        }
        (_, Some(w)) => {
            inner.feed_stdin(w);
            None
        }
        (_, None) => {
            inner.refuse_stdin();
            None
        }
    };
    Io {
        captures,
        stop,
        feeder,
    }
}

/// Waits for the captures after the exit. A child the supervisor killed is over: read what
/// its pipes already hold, briefly, but do not wait for processes that escaped its group.
/// Otherwise the timeout still bounds the wait, and an abort or kill stops it.
async fn drain(
    inner: &Inner,
    captures: [Option<JoinHandle<Captured>>; 2],
    stop: watch::Sender<bool>,
    report: &mut Report,
    deadline: Option<Instant>,
    started: Instant,
) -> (Option<Captured>, Option<Captured>) {
    let [out, err] = captures;
    let mut drain = pin!(async { (join(out).await, join(err).await) });
    let killed = report.timed_out || inner.killed();
    let drain_until = if killed {
        Some(Instant::now() + DRAIN_AFTER_KILL)
    } else {
        deadline
    };
    loop {
        if inner.take_stop_drain() {
            let _ = stop.send(true);
            return drain.await;
        }
        tokio::select! {
            outputs = &mut drain => return outputs,
            () = sleep_until(drain_until.unwrap_or(started)), if drain_until.is_some() => {
                report.timed_out |= !killed;
                let _ = stop.send(true);
                return drain.await;
            }
            () = inner.changed() => {}
        }
    }
}

async fn join(task: Option<JoinHandle<Captured>>) -> Option<Captured> {
    match task {
        Some(t) => Some(t.await.unwrap_or(Captured::Heap(Vec::new()))),
        None => None,
    }
}

/// A spawned child as the escalation sees it.
struct Running<'a> {
    inner: &'a Inner,
    pid: libc::pid_t,
}

impl Kill for Running<'_> {
    fn kill(&self, sig: libc::c_int, escalate: bool) {
        self.inner.send(sig, escalate);
    }

    fn take_escalation(&self) -> bool {
        self.inner.take_escalation()
    }

    fn changed(&self) -> impl Future<Output = ()> + Send + '_ {
        self.inner.changed()
    }
}

impl Wait for Running<'_> {
    fn exit(&self) -> impl Future<Output = ()> + Send + 'static {
        exit(self.pid)
    }
}
