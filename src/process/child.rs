//! The handle callers keep on a supervised child ([`Child`]) and the state it shares with the
//! child's lifecycle task ([`Inner`]).
//!
//! The state is private: the lifecycle driver moves it on through the named transitions below
//! (`running`, `exited`, ...) and never touches a field. Signals are sent under the state lock,
//! and the driver marks the child exited under that same lock *before* reaping it, so a signal
//! can never reach a recycled pid: until the zombie is reaped its pid, and the process group
//! named after it, cannot be reused.

#![forbid(unsafe_code)]

use std::ffi::c_int;
use std::io;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::futures::Notified;
use tokio::sync::{Notify, watch};

use super::runtime::Services;
use super::spec::{Spec, Stream};
use super::stdin::StdinQueue;
use super::sys::pipe::{Reader, Source, Writer};
use super::sys::signal;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Waiting for admission or being spawned.
    Pending,
    Running(libc::pid_t),
    /// Exited (possibly not yet reaped); no more signals.
    Exited,
}

struct State {
    phase: Phase,
    /// Kept after the child exits, as Node's `ChildProcess.pid` is.
    pid: Option<libc::pid_t>,
    cancelled: bool,
    killed: bool,
    /// A signal asked for while pending, sent once the child runs.
    pending_signal: Option<c_int>,
    /// Arm the SIGKILL escalation timer (the lifecycle task reads and clears it).
    escalate: bool,
    max_buffer_exceeded: Option<Stream>,
    /// Stop draining output now (abort or kill after the child itself exited).
    stop_drain: bool,
}

pub(crate) struct Inner {
    id: u64,
    services: Arc<Services>,
    kill_signal: c_int,
    kill_tree: bool,
    state: Mutex<State>,
    /// Wakes the lifecycle task after a state change it must act on.
    wake: Notify,
    /// True once the pipes below are in place (or the child will never have any): reads and
    /// writes issued before the spawn wait for it.
    ready: watch::Sender<bool>,
    /// Writes and the close for an `Input::Pipe` stdin, applied in order by one task.
    stdin: StdinQueue,
    stdout: tokio::sync::Mutex<Option<Reader>>,
    stderr: tokio::sync::Mutex<Option<Reader>>,
    /// Set when the caller gives up on a stream ([`Child::close_output`]).
    closed: [watch::Sender<bool>; 2],
}

/// The flags a report copies from the child's state.
pub(crate) struct Outcome {
    pub(crate) cancelled: bool,
    pub(crate) killed: bool,
    pub(crate) max_buffer_exceeded: Option<Stream>,
}

impl Outcome {
    fn of(st: &State) -> Self {
        Self {
            cancelled: st.cancelled,
            killed: st.killed,
            max_buffer_exceeded: st.max_buffer_exceeded,
        }
    }
}

impl Inner {
    pub(crate) fn new(id: u64, services: Arc<Services>, spec: &Spec) -> Self {
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
            stdin: StdinQueue::new(),
            stdout: tokio::sync::Mutex::new(None),
            stderr: tokio::sync::Mutex::new(None),
            closed: [watch::Sender::new(false), watch::Sender::new(false)],
        }
    }

    async fn until_ready(&self) {
        let _ = self.ready.subscribe().wait_for(|ready| *ready).await;
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    pub(crate) fn services(&self) -> &Arc<Services> {
        &self.services
    }

    /// Resolves at the next state change the lifecycle task must act on (a signal, an abort,
    /// a request to stop draining). A change made before the call is not lost.
    pub(crate) fn changed(&self) -> Notified<'_> {
        self.wake.notified()
    }

    /// Whether the child was aborted or killed before it could run: it must not start.
    pub(crate) fn stop_requested(&self) -> bool {
        let st = self.lock();
        st.cancelled || st.pending_signal.is_some()
    }

    /// The child will never run (withdrawn, refused or failed to spawn): no more signals.
    pub(crate) fn never_ran(&self) -> Outcome {
        let mut st = self.lock();
        st.phase = Phase::Exited;
        Outcome::of(&st)
    }

    /// The child was spawned as `pid`: it can be signalled now, and a stopping signal asked
    /// for while it was pending is sent.
    pub(crate) fn running(&self, pid: libc::pid_t) {
        let mut st = self.lock();
        st.phase = Phase::Running(pid);
        st.pid = Some(pid);
        if let Some(sig) = st.pending_signal.take() {
            self.signal(&mut st, sig, true);
        }
    }

    /// The child has exited (not yet reaped): no more signals from now on. With `kill_tree`,
    /// whatever it left running in its group is SIGKILLed, while the group is still ours.
    pub(crate) fn exited(&self) {
        let mut st = self.lock();
        if let Phase::Running(pid) = st.phase
            && self.kill_tree
        {
            signal::send(-pid, libc::SIGKILL);
        }
        st.phase = Phase::Exited;
    }

    /// Sends `sig` as the supervisor's own decision (timeout, escalation); see [`Self::signal`].
    pub(crate) fn send(&self, sig: c_int, escalate: bool) {
        let mut st = self.lock();
        self.signal(&mut st, sig, escalate);
    }

    /// True once after a stopping signal asked for the SIGKILL escalation timer to be armed.
    pub(crate) fn take_escalation(&self) -> bool {
        std::mem::take(&mut self.lock().escalate)
    }

    /// True once after someone asked to stop draining output now.
    pub(crate) fn take_stop_drain(&self) -> bool {
        std::mem::take(&mut self.lock().stop_drain)
    }

    pub(crate) fn killed(&self) -> bool {
        self.lock().killed
    }

    pub(crate) fn outcome(&self) -> Outcome {
        Outcome::of(&self.lock())
    }

    /// Hands an `Output::Stream` pipe to `Child::read`.
    pub(crate) async fn install_reader(&self, which: Stream, reader: Reader) {
        match which {
            Stream::Stdout => *self.stdout.lock().await = Some(reader),
            Stream::Stderr => *self.stderr.lock().await = Some(reader),
        }
    }

    /// Starts applying `Child::write`/`close_stdin` to the child's stdin pipe, in order.
    pub(crate) fn feed_stdin(&self, writer: Writer) {
        self.stdin.feed(writer);
    }

    /// For a child without a stdin pipe (or one that never started): writes fail with
    /// `EPIPE` at once, queued ones included.
    pub(crate) fn refuse_stdin(&self) {
        self.stdin.refuse();
    }

    /// Nobody reads the child's stdin any more: release the pipe once earlier writes are done.
    pub(crate) fn close_stdin(&self) {
        self.stdin.close();
    }

    /// The pipes are in place (or never will be): reads and writes may proceed.
    pub(crate) fn mark_ready(&self) {
        self.ready.send_replace(true);
    }

    /// SIGKILL at once, for teardown; the report says `cancelled`.
    pub(crate) fn terminate(&self) {
        let mut st = self.lock();
        st.cancelled = true;
        self.signal(&mut st, libc::SIGKILL, false);
    }

    /// Whether `sig` asks the child to stop: those signals withdraw a queued child and
    /// escalate to SIGKILL. Others (SIGHUP, SIGUSR1, SIGCONT, ...) are just delivered.
    fn stops(&self, sig: c_int) -> bool {
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
    fn signal(&self, st: &mut State, sig: c_int, escalate: bool) -> bool {
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
                // The pid is unreaped (see the module docs), so it is still ours.
                signal::send(if self.kill_tree { -pid } else { pid }, sig)
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
pub struct Child(Arc<Inner>);

impl Child {
    pub(crate) fn new(inner: Arc<Inner>) -> Self {
        Self(inner)
    }

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

    /// Reads the next chunk of an [`Output::Stream`](super::Output::Stream) stream; `done`
    /// gets `None` at its end (at once if the stream is not piped).
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

    /// Stops reading an [`Output::Stream`](super::Output::Stream) stream and closes our end
    /// (the child's next write to it fails); a pending read ends as if at end of file.
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

    /// Writes `src` to an [`Input::Pipe`](super::Input::Pipe) stdin, after any earlier write.
    /// `EPIPE` if the child closed it (or exited).
    pub fn write<F>(&self, src: Box<dyn Source>, done: F)
    where
        F: FnOnce(io::Result<()>) + Send + 'static,
    {
        self.0.stdin.write(src, Box::new(done));
    }

    /// Closes stdin once earlier writes are done, so the child sees end of file.
    pub fn close_stdin(&self) {
        self.0.stdin.close();
    }
}
