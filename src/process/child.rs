//! A supervised child: what to run ([`Spec`]), the handle callers keep ([`Child`]) and how it
//! ended ([`Report`]).
//!
//! The handle and the child's lifecycle task (see `lifecycle.rs`) share one [`Inner`]. Signals
//! are sent under its state lock, and the lifecycle task marks the child exited under that
//! same lock *before* reaping it, so a signal can never reach a recycled pid: until the
//! zombie is reaped its pid, and the process group named after it, cannot be reused.

use std::ffi::c_int;
use std::io;
use std::os::fd::{OwnedFd, RawFd};
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::{Notify, mpsc, watch};

use super::capture::Captured;
use super::pipe::{Reader, Source, Writer};
use super::runtime::Services;
use super::spawn::{Command, ExitStatus, SpawnError};

/// The child's stdin.
pub enum Input {
    /// `/dev/null`.
    Null,
    /// The parent's stdin.
    Inherit,
    /// A pipe written with [`Child::write`] and closed with [`Child::close_stdin`].
    Pipe,
    /// A pipe that is fed these bytes and then closed.
    Bytes(Box<dyn Source>),
}

/// What happens to the child's stdout or stderr.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Output {
    /// `/dev/null`.
    Ignore,
    /// The parent's own stream.
    Inherit,
    /// Collected into the [`Report`], up to `max_buffer` bytes.
    Capture,
    /// A pipe read with [`Child::read`].
    Stream,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    Stdout = 0,
    Stderr = 1,
}

/// Everything about one child, fixed before it is admitted.
pub struct Spec {
    /// Program, arguments, environment, cwd and limits; its stdio and process-group fields
    /// are filled in from the fields below.
    pub command: Command,
    pub stdin: Input,
    pub stdout: Output,
    pub stderr: Output,
    /// Captured bytes kept per stream; one more kills the child and truncates the capture.
    pub max_buffer: usize,
    /// Drop one trailing `\n` (or `\r\n`) from captured output.
    pub strip_final_newline: bool,
    /// Run time allowed after the spawn; then `kill_signal`, then SIGKILL.
    pub timeout: Option<Duration>,
    pub kill_signal: c_int,
    /// Wait between `kill_signal` and SIGKILL; `None` never escalates.
    pub force_kill_after: Option<Duration>,
    /// Give the child its own process group and signal the whole group.
    pub kill_tree: bool,
    /// Let a large capture come back as a mapped memfd ([`Captured::Mapped`]) rather than a
    /// heap `Vec` (faster; see `capture.rs`). Callers that will copy the bytes anyway (to
    /// decode text) gain nothing from it.
    pub map_large_output: bool,
    /// Start out cancelled (its AbortSignal had already fired): the child never runs and the
    /// report says `cancelled`.
    pub cancelled: bool,
    /// Descriptors the child gets beyond stdio, as `(target, descriptor)`: the process pool's
    /// message pipes. Ours are closed once the child has them (or never starts).
    pub channels: Vec<(RawFd, OwnedFd)>,
    /// A descriptor to be the child's stderr, over what `stderr` says: the write end of a
    /// process-pool worker's stderr pipe, read by the caller. Ours is closed as `channels` are.
    pub stderr_fd: Option<OwnedFd>,
}

impl Spec {
    pub fn new(command: Command) -> Self {
        Self {
            command,
            stdin: Input::Null,
            stdout: Output::Capture,
            stderr: Output::Capture,
            max_buffer: 100 * 1024 * 1024,
            strip_final_newline: false,
            timeout: None,
            kill_signal: libc::SIGTERM,
            force_kill_after: Some(Duration::from_secs(2)),
            kill_tree: true,
            map_large_output: true,
            cancelled: false,
            channels: Vec::new(),
            stderr_fd: None,
        }
    }
}

/// How a child ended (or why it never started).
#[derive(Debug, Default)]
pub struct Report {
    pub pid: Option<libc::pid_t>,
    /// `None` if the child never ran.
    pub status: Option<ExitStatus>,
    pub spawn_error: Option<SpawnError>,
    /// Captured output, for streams in [`Output::Capture`] mode.
    pub stdout: Option<Captured>,
    pub stderr: Option<Captured>,
    /// From the spawn to the end of the child (its output drained).
    pub duration: Duration,
    pub timed_out: bool,
    /// Stopped by [`Child::cancel`] (an abort), or before it was admitted.
    pub cancelled: bool,
    /// The supervisor signalled it (kill, timeout, abort or maxBuffer).
    pub killed: bool,
    pub max_buffer_exceeded: Option<Stream>,
    /// The child's own peak RSS, when it can be told apart: `wait4` reports the larger of the
    /// child's peak and the parent's peak at the spawn (the kernel charges a child that
    /// borrowed the parent's memory until `execve` with it), so a value at or below the
    /// parent's peak is unknown (`None`).
    pub max_rss_bytes: Option<u64>,
    /// For [`Input::Bytes`]: how many bytes of it the child took before it closed its stdin
    /// or exited (all of them, normally).
    pub input_written: Option<u64>,
    /// For [`Input::Bytes`]: a failure writing it other than the child closing its stdin
    /// (which only means it did not read everything; see `input_written`).
    pub input_error: Option<String>,
    /// The resource limit that most likely ended it (`"cpuSeconds"`, `"fileSizeBytes"`,
    /// `"memoryBytes"`).
    pub killed_by_limit: Option<&'static str>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Waiting for admission or being spawned.
    Pending,
    Running(libc::pid_t),
    /// Exited (possibly not yet reaped); no more signals.
    Exited,
}

pub(crate) struct State {
    pub(crate) phase: Phase,
    /// Kept after the child exits, as Node's `ChildProcess.pid` is.
    pub(crate) pid: Option<libc::pid_t>,
    pub(crate) cancelled: bool,
    pub(crate) killed: bool,
    /// A signal asked for while pending, sent once the child runs.
    pub(crate) pending_signal: Option<c_int>,
    /// Arm the SIGKILL escalation timer (the lifecycle task reads and clears it).
    pub(crate) escalate: bool,
    pub(crate) max_buffer_exceeded: Option<Stream>,
    /// Stop draining output now (abort or kill after the child itself exited).
    pub(crate) stop_drain: bool,
}

pub(crate) type WriteDone = Box<dyn FnOnce(io::Result<()>) + Send>;

pub(crate) enum StdinOp {
    Write(Box<dyn Source>, WriteDone),
    Close,
}

fn epipe() -> io::Error {
    io::Error::from_raw_os_error(libc::EPIPE)
}

/// Applies stdin operations in order until the close; the receiver is then dropped, so
/// later writes fail with `EPIPE` at once (see [`Child::write`]).
pub(crate) async fn feed_stdin(writer: Writer, mut ops: mpsc::UnboundedReceiver<StdinOp>) {
    while let Some(op) = ops.recv().await {
        match op {
            StdinOp::Write(src, done) => done(writer.write_all(&*src, &AtomicU64::new(0)).await),
            StdinOp::Close => break,
        }
    }
    ops.close();
    // Writes queued after the close still get their answer.
    while let Ok(op) = ops.try_recv() {
        if let StdinOp::Write(_, done) = op {
            done(Err(epipe()));
        }
    }
}

pub(crate) struct Inner {
    pub(crate) id: u64,
    pub(crate) services: Arc<Services>,
    pub(crate) kill_signal: c_int,
    pub(crate) kill_tree: bool,
    pub(crate) state: Mutex<State>,
    /// Wakes the lifecycle task after a state change it must act on.
    pub(crate) wake: Notify,
    /// True once the pipes below are in place (or the child will never have any): reads and
    /// writes issued before the spawn wait for it.
    pub(crate) ready: watch::Sender<bool>,
    /// Writes and the close for an [`Input::Pipe`] stdin, applied in order by one task.
    pub(crate) stdin: mpsc::UnboundedSender<StdinOp>,
    pub(crate) stdin_ops: Mutex<Option<mpsc::UnboundedReceiver<StdinOp>>>,
    pub(crate) stdout: tokio::sync::Mutex<Option<Reader>>,
    pub(crate) stderr: tokio::sync::Mutex<Option<Reader>>,
    /// Set when the caller gives up on a stream ([`Child::close_output`]).
    closed: [watch::Sender<bool>; 2],
}

impl Inner {
    pub(crate) fn new(id: u64, services: Arc<Services>, spec: &Spec) -> Self {
        let (stdin, stdin_ops) = mpsc::unbounded_channel();
        Self {
            id,
            services,
            kill_signal: spec.kill_signal,
            kill_tree: spec.kill_tree,
            state: Mutex::new(State {
                phase: Phase::Pending,
                pid: None,
                cancelled: spec.cancelled,
                killed: false,
                pending_signal: None,
                escalate: false,
                max_buffer_exceeded: None,
                stop_drain: false,
            }),
            wake: Notify::new(),
            ready: watch::Sender::new(false),
            stdin,
            stdin_ops: Mutex::new(Some(stdin_ops)),
            stdout: tokio::sync::Mutex::new(None),
            stderr: tokio::sync::Mutex::new(None),
            closed: [watch::Sender::new(false), watch::Sender::new(false)],
        }
    }

    async fn until_ready(&self) {
        let _ = self.ready.subscribe().wait_for(|ready| *ready).await;
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether `sig` asks the child to stop: those signals withdraw a queued child and
    /// escalate to SIGKILL. Others (SIGHUP, SIGUSR1, SIGCONT, ...) are just delivered.
    pub(crate) fn stops(&self, sig: c_int) -> bool {
        sig == self.kill_signal
            || matches!(
                sig,
                libc::SIGTERM | libc::SIGINT | libc::SIGQUIT | libc::SIGKILL
            )
    }

    /// Sends `sig` to the child (its group with `kill_tree`), or remembers it while the child
    /// is pending (only a stopping signal, which then keeps it from ever starting). `escalate`
    /// arms the SIGKILL timer. False once the child has exited, or if there was nothing to
    /// deliver to.
    pub(crate) fn signal(&self, st: &mut State, sig: c_int, escalate: bool) -> bool {
        let sent = match st.phase {
            Phase::Exited => {
                // Whoever signals a child that is gone wants the call over: stop draining
                // output that escaped processes may still be writing.
                st.stop_drain = true;
                self.wake.notify_one();
                return false;
            }
            Phase::Pending if !self.stops(sig) => return false,
            Phase::Pending => {
                st.pending_signal = Some(sig);
                true
            }
            Phase::Running(pid) => {
                let target = if self.kill_tree { -pid } else { pid };
                // SAFETY: the pid is unreaped (see the module docs), so it is still ours.
                unsafe { libc::kill(target, sig) == 0 }
            }
        };
        st.killed |= sent && self.stops(sig);
        if escalate && sig != libc::SIGKILL && self.stops(sig) {
            st.escalate = true;
        }
        self.wake.notify_one();
        sent
    }

    /// Stops capturing into `which` and kills the child: it wrote more than `max_buffer`.
    pub(crate) fn exceeded(&self, which: Stream) {
        let mut st = self.lock();
        st.max_buffer_exceeded.get_or_insert(which);
        // Once the child has exited there is nobody to kill, and the other stream (often
        // stderr, the useful part of the error) must still be drained.
        if st.phase != Phase::Exited {
            self.signal(&mut st, self.kill_signal, true);
        }
    }
}

/// The caller's handle on a supervised child. Dropping it does not stop the child.
#[derive(Clone)]
pub struct Child(pub(crate) Arc<Inner>);

impl Child {
    /// The child's pid once it has been spawned (also after it has exited).
    pub fn pid(&self) -> Option<libc::pid_t> {
        self.0.lock().pid
    }

    /// Calls `done` once the child has been spawned, with its pid, or once it is known it
    /// never will be (spawn failure, cancelled while queued), with `None`.
    pub fn when_spawned(&self, done: impl FnOnce(Option<libc::pid_t>) + Send + 'static) {
        let inner = self.0.clone();
        self.0.services.run(async move {
            inner.until_ready().await;
            let pid = inner.lock().pid;
            done(pid);
        });
    }

    /// Sends `signal` (to the whole tree with `kill_tree`). A stopping signal (the kill signal,
    /// SIGTERM, SIGINT, SIGQUIT, SIGKILL) escalates to SIGKILL after `force_kill_after`, and
    /// withdraws a child still queued so it never runs. False if it had already exited (or is
    /// queued and `signal` does not stop it).
    pub fn kill(&self, signal: c_int) -> bool {
        let mut st = self.0.lock();
        self.0.signal(&mut st, signal, true)
    }

    /// Aborts: like [`kill`](Self::kill) with the spec's `kill_signal`, and the report says
    /// `cancelled`.
    pub fn cancel(&self) {
        let mut st = self.0.lock();
        st.cancelled = true;
        self.0.signal(&mut st, self.0.kill_signal, true);
    }

    /// SIGKILL at once, for teardown.
    pub(crate) fn terminate(&self) {
        let mut st = self.0.lock();
        st.cancelled = true;
        self.0.signal(&mut st, libc::SIGKILL, false);
    }

    /// Reads the next chunk of a [`Output::Stream`] stream; `done` gets `None` at its end
    /// (at once if the stream is not piped).
    pub fn read<F>(&self, which: Stream, done: F)
    where
        F: FnOnce(io::Result<Option<Vec<u8>>>) + Send + 'static,
    {
        let inner = self.0.clone();
        self.0.services.run(async move {
            inner.until_ready().await;
            let stream = match which {
                Stream::Stdout => &inner.stdout,
                Stream::Stderr => &inner.stderr,
            };
            let mut closed = inner.closed[which as usize].subscribe();
            let mut reader = stream.lock().await;
            let result = match reader.as_ref() {
                Some(r) if !*closed.borrow() => tokio::select! {
                    r = r.chunk() => r,
                    _ = closed.wait_for(|c| *c) => Ok(None),
                },
                _ => Ok(None),
            };
            if !matches!(result, Ok(Some(_))) {
                reader.take(); // closes our end at EOF or on error
            }
            drop(reader);
            done(result);
        });
    }

    /// Stops reading a [`Output::Stream`] stream and closes our end (the child's next write
    /// to it fails); a pending read ends as if at end of file.
    pub fn close_output(&self, which: Stream) {
        self.0.closed[which as usize].send_replace(true);
        let inner = self.0.clone();
        self.0.services.run(async move {
            // Before the spawn there is no reader yet: wait for it, or it would be installed
            // (and never read) after this ran.
            inner.until_ready().await;
            match which {
                Stream::Stdout => inner.stdout.lock().await.take(),
                Stream::Stderr => inner.stderr.lock().await.take(),
            };
        });
    }

    /// Writes `src` to an [`Input::Pipe`] stdin, after any earlier write. `EPIPE` if the child
    /// closed it (or exited).
    pub fn write<F>(&self, src: Box<dyn Source>, done: F)
    where
        F: FnOnce(io::Result<()>) + Send + 'static,
    {
        let op = StdinOp::Write(src, Box::new(done));
        if let Err(mpsc::error::SendError(StdinOp::Write(_, done))) = self.0.stdin.send(op) {
            done(Err(epipe()));
        }
    }

    /// Closes stdin once earlier writes are done, so the child sees end of file.
    pub fn close_stdin(&self) {
        let _ = self.0.stdin.send(StdinOp::Close);
    }
}
