//! The life of one child, as a single task on the I/O runtime: wait for admission, spawn
//! (on the spawner thread), feed stdin, capture output, enforce the timeout and the SIGKILL
//! escalation, reap with `wait4`, report.
//!
//! Exit is observed through a pidfd, which becomes readable when the child is a zombie; the
//! child is reaped only after it has been marked exited (see `child.rs`). With `kill_tree`,
//! whatever the child leaves running in its process group is SIGKILLed at that moment, so no
//! grandchild can hold a pipe open and keep the call waiting. Output is drained after the
//! exit; the timeout still applies while draining, for trees that escaped the group.

use std::ffi::c_int;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::io::Interest;
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;
use tokio::time::{Instant, sleep, sleep_until};

use super::capture::{Captured, capture};
use super::child::{Inner, Input, Output, Phase, Report, Spec, StdinOp, Stream, feed_stdin};
use super::pipe::{Reader, Writer, pipe, register};
use super::spawn::{Command, ExitStatus, Limits, SpawnError, Stdio, try_wait};
use super::supervisor::Shared;
use super::watchdog::REGISTER_AFTER;

/// How a child got past admission.
pub(crate) enum Admit {
    /// It holds a running slot.
    Now,
    /// It waits in the queue for this.
    Queued(oneshot::Receiver<()>),
    /// It was cancelled before it was submitted: it neither runs nor queues.
    Never,
}

/// How long output is still read after the supervisor killed the child.
const DRAIN_AFTER_KILL: Duration = Duration::from_millis(100);

/// Waits for admission (if queued), runs the child and accounts for it.
pub(crate) async fn run(
    shared: &Arc<Shared>,
    inner: &Arc<Inner>,
    spec: Spec,
    admit: Admit,
) -> Report {
    let _ready = Ready(inner);
    let admitted = match admit {
        Admit::Now => true,
        Admit::Queued(rx) => admission(shared, inner, rx).await,
        Admit::Never => false,
    };
    let report = match admitted {
        false => {
            let mut st = inner.lock();
            st.phase = Phase::Exited;
            Report {
                cancelled: st.cancelled,
                killed: st.killed,
                ..Report::default()
            }
        }
        true => supervise(inner, spec, Slot(shared)).await,
    };
    shared.finished(&report, report.status.is_some());
    report
}

/// Marks the child's streams ready when dropped, on every path out of [`run`], so no read
/// or write waits forever.
struct Ready<'a>(&'a Inner);

impl Drop for Ready<'_> {
    fn drop(&mut self) {
        self.0.ready.send_replace(true);
        refuse_stdin(self.0);
    }
}

/// For a child without a stdin pipe (or one that never started): drop the receiver, so
/// writes fail with `EPIPE` at once, queued ones included.
fn refuse_stdin(inner: &Inner) {
    let ops = inner
        .stdin_ops
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .take();
    if let Some(mut ops) = ops {
        ops.close();
        while let Ok(op) = ops.try_recv() {
            if let StdinOp::Write(_, done) = op {
                done(Err(std::io::Error::from_raw_os_error(libc::EPIPE)));
            }
        }
    }
}

/// A running slot, given back when dropped (also if the task unwinds).
struct Slot<'a>(&'a Shared);

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        self.0.release();
    }
}

/// True once admitted; false if the child was cancelled or killed while queued.
async fn admission(shared: &Shared, inner: &Inner, mut rx: oneshot::Receiver<()>) -> bool {
    loop {
        tokio::select! {
            r = &mut rx => return r.is_ok(),
            () = inner.wake.notified() => {
                let stop = {
                    let st = inner.lock();
                    st.cancelled || st.pending_signal.is_some()
                };
                if !stop {
                    continue;
                }
                if !shared.withdraw(inner.id) && rx.await.is_ok() {
                    shared.release(); // admitted in the meantime: hand the slot on
                }
                return false;
            }
        }
    }
}

/// The parent's ends of the child's pipes, plus the child's ends (closed after the spawn).
#[derive(Default)]
struct Pipes {
    stdin: Option<OwnedFd>,
    stdout: Option<OwnedFd>,
    stderr: Option<OwnedFd>,
    child_ends: Vec<OwnedFd>,
}

fn plumb(spec: &Spec, cmd: &mut Command) -> std::io::Result<Pipes> {
    let mut p = Pipes::default();
    cmd.stdin = match spec.stdin {
        Input::Null => Stdio::Null,
        Input::Inherit => Stdio::Inherit,
        Input::Pipe | Input::Bytes(_) => {
            let (read, write) = pipe()?;
            let fd = Stdio::Fd(read.as_raw_fd());
            p.child_ends.push(read);
            p.stdin = Some(write);
            fd
        }
    };
    for (mode, target, parent) in [
        (spec.stdout, &mut cmd.stdout, &mut p.stdout),
        (spec.stderr, &mut cmd.stderr, &mut p.stderr),
    ] {
        *target = match mode {
            Output::Ignore => Stdio::Null,
            Output::Inherit => Stdio::Inherit,
            Output::Capture | Output::Stream => {
                let (read, write) = pipe()?;
                let fd = Stdio::Fd(write.as_raw_fd());
                p.child_ends.push(write);
                *parent = Some(read);
                fd
            }
        };
    }
    Ok(p)
}

async fn supervise(inner: &Arc<Inner>, mut spec: Spec, slot: Slot<'_>) -> Report {
    let started = Instant::now();
    let mut report = Report::default();
    {
        // Aborted or killed before it could start (an already-aborted signal): never spawn.
        let mut st = inner.lock();
        if st.cancelled || st.pending_signal.is_some() {
            st.phase = Phase::Exited;
            report.cancelled = st.cancelled;
            report.killed = st.killed;
            return report;
        }
    }
    let mut cmd = std::mem::replace(&mut spec.command, Command::new(""));
    let limits = cmd.limits.clone();
    cmd.process_group = spec.kill_tree;
    cmd.parent_death_signal = Some(libc::SIGKILL);
    let mut parent_peak = 0;
    let spawned = match plumb(&spec, &mut cmd) {
        Err(e) => Err((
            SpawnError::Stdio(e.raw_os_error().unwrap_or(libc::EIO)),
            Pipes::default(),
        )),
        Ok(mut pipes) => {
            for (target, fd) in std::mem::take(&mut spec.channels) {
                cmd.extra_fds.push((target, fd.as_raw_fd()));
                pipes.child_ends.push(fd);
            }
            if let Some(fd) = spec.stderr_fd.take() {
                cmd.stderr = Stdio::Fd(fd.as_raw_fd());
                pipes.child_ends.push(fd);
            }
            parent_peak = own_peak_rss();
            let (tx, rx) = oneshot::channel();
            inner.services.spawner.request(
                cmd,
                Box::new(move |r| {
                    let _ = tx.send(r);
                }),
            );
            match rx.await.unwrap_or(Err(SpawnError::Internal)) {
                Ok(pid) => Ok((pid, pipes)),
                Err(e) => Err((e, pipes)),
            }
        }
    };
    let (pid, mut pipes) = match spawned {
        Ok(ok) => ok,
        Err((e, _pipes)) => {
            inner.lock().phase = Phase::Exited;
            report.spawn_error = Some(e);
            return report;
        }
    };
    pipes.child_ends.clear();
    slot.0.started();
    report.pid = Some(pid);
    let pending = {
        let mut st = inner.lock();
        st.phase = Phase::Running(pid);
        st.pid = Some(pid);
        st.pending_signal.take()
    };
    if let Some(sig) = pending {
        let mut st = inner.lock();
        inner.signal(&mut st, sig, true);
    }

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
            let task = capture(
                inner.clone(),
                reader,
                which,
                spec.max_buffer,
                spec.map_large_output,
                stopped.clone(),
            );
            captures[i] = Some(tokio::spawn(task));
        } else if which == Stream::Stdout {
            *inner.stdout.lock().await = Some(reader);
        } else {
            *inner.stderr.lock().await = Some(reader);
        }
    }
    let writer = pipes.stdin.take().and_then(|fd| Writer::new(fd).ok());
    let input_written = Arc::new(AtomicU64::new(0));
    let feeder = match (std::mem::replace(&mut spec.stdin, Input::Null), writer) {
        (Input::Bytes(src), Some(w)) => {
            let counter = input_written.clone();
            Some(tokio::spawn(async move {
                match w.write_all(&*src, &counter).await {
                    // EPIPE only means the child did not read all of its input; the report
                    // says how much it took.
                    Err(e) if e.raw_os_error() != Some(libc::EPIPE) => Some(e.to_string()),
                    _ => None,
                }
            }))
        }
        (_, Some(w)) => {
            let ops = inner
                .stdin_ops
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .take();
            if let Some(ops) = ops {
                tokio::spawn(feed_stdin(w, ops));
            }
            None
        }
        (_, None) => {
            refuse_stdin(inner);
            None
        }
    };

    inner.ready.send_replace(true);
    let deadline = spec.timeout.map(|t| started + t);
    let mut watched = false;
    watch_until_exit(inner, &spec, pid, deadline, &mut report, &mut watched).await;
    {
        let mut st = inner.lock();
        st.phase = Phase::Exited;
        if spec.kill_tree {
            // SAFETY: the group is named after our unreaped child, so it is still ours.
            unsafe { libc::kill(-pid, libc::SIGKILL) };
        }
    }
    if watched {
        inner.services.watchdog.unwatch(pid);
    }
    let status = reap(pid).await;
    drop(slot);
    // Nobody reads the child's stdin any more: release the pipe now rather than when the
    // handle is dropped.
    let _ = inner.stdin.send(StdinOp::Close);
    if let Some(f) = feeder {
        // The child is gone: whatever it had not read by now, it never will.
        f.abort();
        report.input_error = f.await.ok().flatten();
        report.input_written = Some(input_written.load(Ordering::Relaxed));
    }

    let [out, err] = captures;
    let mut drain = pin!(async { (join(out).await, join(err).await) });
    // A child the supervisor killed is over: read what its pipes already hold, briefly, but
    // do not wait for processes that escaped its group. Otherwise the timeout still bounds
    // the wait, and an abort or kill stops it.
    let killed = report.timed_out || inner.lock().killed;
    let drain_until = if killed {
        Some(Instant::now() + DRAIN_AFTER_KILL)
    } else {
        deadline
    };
    let (out, err) = loop {
        if std::mem::take(&mut inner.lock().stop_drain) {
            let _ = stop.send(true);
            break drain.await;
        }
        tokio::select! {
            outputs = &mut drain => break outputs,
            () = sleep_until(drain_until.unwrap_or(started)), if drain_until.is_some() => {
                report.timed_out |= !killed;
                let _ = stop.send(true);
                break drain.await;
            }
            () = inner.wake.notified() => {}
        }
    };
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

    let st = inner.lock();
    report.cancelled = st.cancelled;
    report.killed = st.killed;
    report.max_buffer_exceeded = st.max_buffer_exceeded;
    report.killed_by_limit = limit_hit(&status, &limits, st.killed);
    // Our peak can only have grown since the spawn, so re-reading it is safe and catches
    // growth during the child's run that the kernel may also have charged to it.
    report.max_rss_bytes =
        Some(status.max_rss_bytes).filter(|&rss| rss > parent_peak.max(own_peak_rss()));
    report.status = Some(status);
    report.duration = started.elapsed();
    report
}

/// Waits for the child to exit while enforcing the timeout and the SIGKILL escalation.
async fn watch_until_exit(
    inner: &Inner,
    spec: &Spec,
    pid: libc::pid_t,
    deadline: Option<Instant>,
    report: &mut Report,
    watched: &mut bool,
) {
    let mut exited = pin!(exit(pid));
    let mut escalate_at: Option<Instant> = None;
    let register_at = Instant::now() + REGISTER_AFTER;
    loop {
        if std::mem::take(&mut inner.lock().escalate) && escalate_at.is_none() {
            escalate_at = spec.force_kill_after.map(|after| Instant::now() + after);
        }
        let now = Instant::now();
        tokio::select! {
            () = &mut exited => return,
            () = sleep_until(deadline.unwrap_or(now)), if deadline.is_some() && !report.timed_out => {
                report.timed_out = true;
                let mut st = inner.lock();
                inner.signal(&mut st, spec.kill_signal, true);
            }
            () = sleep_until(escalate_at.unwrap_or(now)), if escalate_at.is_some() => {
                escalate_at = None;
                let mut st = inner.lock();
                inner.signal(&mut st, libc::SIGKILL, false);
            }
            () = sleep_until(register_at), if spec.kill_tree && !*watched => {
                *watched = true;
                inner.services.watchdog.watch(pid);
            }
            () = inner.wake.notified() => {}
        }
    }
}

/// Resolves once `pid` has exited (it stays unreaped): through a pidfd, or by polling
/// `waitid(WNOWAIT)` on kernels without one (before 5.3).
pub(crate) async fn exit(pid: libc::pid_t) {
    // SAFETY: pidfd_open returns a new descriptor or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) } as c_int;
    if fd >= 0 {
        // SAFETY: a descriptor we just created.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        if let Ok(fd) = register(fd, Interest::READABLE)
            && fd.readable().await.is_ok()
        {
            return;
        }
    }
    while !has_exited(pid) {
        sleep(Duration::from_millis(5)).await;
    }
}

fn has_exited(pid: libc::pid_t) -> bool {
    // SAFETY: waitid with WNOWAIT only inspects; `info` is a valid out-pointer.
    unsafe {
        let mut info: libc::siginfo_t = std::mem::zeroed();
        let flags = libc::WEXITED | libc::WNOHANG | libc::WNOWAIT;
        let r = libc::waitid(libc::P_PID, pid as libc::id_t, &mut info, flags);
        r != 0 || info.si_pid() != 0
    }
}

/// This process's peak RSS (`getrusage(RUSAGE_SELF)`), bytes.
fn own_peak_rss() -> u64 {
    // SAFETY: valid out-pointer.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    usage.ru_maxrss as u64 * 1024
}

pub(crate) async fn reap(pid: libc::pid_t) -> ExitStatus {
    loop {
        match try_wait(pid) {
            Ok(Some(status)) => return status,
            Ok(None) => sleep(Duration::from_millis(1)).await,
            // Reaped by someone else (a `waitpid(-1)` elsewhere in the process): unknown.
            Err(_) => {
                return ExitStatus {
                    code: None,
                    signal: None,
                    max_rss_bytes: 0,
                    user_cpu_us: 0,
                    system_cpu_us: 0,
                };
            }
        }
    }
}

async fn join(task: Option<JoinHandle<Captured>>) -> Option<Captured> {
    match task {
        Some(t) => Some(t.await.unwrap_or(Captured::Heap(Vec::new()))),
        None => None,
    }
}

/// The limit that most likely ended the child. CPU and file size have their own signals (also
/// seen as exit code 128 + signal when a shell ran the process that got it); a memory cap
/// shows up as a failed allocation, which runtimes turn into an abort or a crash, so that one
/// is inferred from a crash signal the supervisor did not send.
fn limit_hit(status: &ExitStatus, limits: &Limits, we_signalled: bool) -> Option<&'static str> {
    let cpu_us = status.user_cpu_us + status.system_cpu_us;
    let shell_reported = status.code.and_then(|c| c.checked_sub(128));
    match shell_reported {
        Some(libc::SIGXCPU) if limits.cpu_seconds.is_some() => return Some("cpuSeconds"),
        Some(libc::SIGXFSZ) if limits.file_size_bytes.is_some() => return Some("fileSizeBytes"),
        _ => {}
    }
    match status.signal? {
        libc::SIGXCPU => Some("cpuSeconds"),
        libc::SIGXFSZ => Some("fileSizeBytes"),
        _ if we_signalled => None,
        libc::SIGKILL
            if limits
                .cpu_seconds
                .is_some_and(|s| cpu_us >= s.saturating_mul(1_000_000)) =>
        {
            Some("cpuSeconds")
        }
        libc::SIGSEGV | libc::SIGABRT | libc::SIGBUS | libc::SIGTRAP | libc::SIGKILL
            if limits.memory_bytes.is_some() =>
        {
            Some("memoryBytes")
        }
        _ => None,
    }
}
