//! A child's piped stdin as an ordered queue: `Child::write` and `Child::close_stdin` enqueue,
//! one task applies the operations in order once the pipe exists, and after the close (or for
//! a child without the pipe) every write fails with `EPIPE` at once, queued ones included.

#![forbid(unsafe_code)]

use std::io;
use std::sync::Mutex;
use std::sync::atomic::AtomicU64;

use tokio::sync::mpsc;

use super::sys::pipe::{Source, Writer};

type WriteDone = Box<dyn FnOnce(io::Result<()>) + Send>;

enum StdinOp {
    Write(Box<dyn Source>, WriteDone),
    Close,
}

fn epipe() -> io::Error {
    io::Error::from_raw_os_error(libc::EPIPE)
}

pub(crate) struct StdinQueue {
    ops: mpsc::UnboundedSender<StdinOp>,
    /// The receiving end, until the pipe is fed ([`Self::feed`]) or refused.
    pending: Mutex<Option<mpsc::UnboundedReceiver<StdinOp>>>,
}

impl StdinQueue {
    pub(crate) fn new() -> Self {
        let (ops, pending) = mpsc::unbounded_channel();
        Self {
            ops,
            pending: Mutex::new(Some(pending)),
        }
    }

    /// Queues a write of `src`; `done` gets its outcome (`EPIPE` once the queue is closed).
    pub(crate) fn write(&self, src: Box<dyn Source>, done: WriteDone) {
        let op = StdinOp::Write(src, done);
        if let Err(mpsc::error::SendError(StdinOp::Write(_, done))) = self.ops.send(op) {
            done(Err(epipe()));
        }
    }

    /// Closes the pipe once the writes queued before are done.
    pub(crate) fn close(&self) {
        let _ = self.ops.send(StdinOp::Close);
    }

    fn take(&self) -> Option<mpsc::UnboundedReceiver<StdinOp>> {
        self.pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
    }

    /// Starts applying the queue to `writer`, on the current (I/O) runtime.
    pub(crate) fn feed(&self, writer: Writer) {
        if let Some(ops) = self.take() {
            tokio::spawn(apply(writer, ops));
        }
    }

    /// There is no pipe (or never will be): fail every write, queued or future.
    pub(crate) fn refuse(&self) {
        if let Some(ops) = self.take() {
            refuse(ops);
        }
    }
}

/// Applies stdin operations in order until the close, then refuses the rest.
async fn apply(writer: Writer, mut ops: mpsc::UnboundedReceiver<StdinOp>) {
    while let Some(op) = ops.recv().await {
        match op {
            StdinOp::Write(src, done) => done(writer.write_all(&*src, &AtomicU64::new(0)).await),
            StdinOp::Close => break,
        }
    }
    refuse(ops);
}

/// Drops the receiver so later writes fail at once; writes queued already still get their
/// answer.
fn refuse(mut ops: mpsc::UnboundedReceiver<StdinOp>) {
    ops.close();
    while let Ok(op) = ops.try_recv() {
        if let StdinOp::Write(_, done) = op {
            done(Err(epipe()));
        }
    }
}
