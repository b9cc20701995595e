//! The message pipes of a process-pool worker (docs/protocol.md), and its live memory use.
//!
//! A worker reads requests on descriptor 3 and writes replies on descriptor 4, so its stdout
//! and stderr stay free for logging. [`channels`] makes both pipes: the worker's ends go into
//! [`Spec::channels`](crate::process::Spec::channels) (duplicated onto 3 and 4 at the spawn,
//! then closed here), and the parent keeps the other two, close-on-exec so no other child
//! inherits them. The parent's ends are left blocking; whoever drives them (Node's libuv, in
//! the binding) sets its own mode. The worker's stderr is a third pipe (its end goes into
//! [`Spec::stderr_fd`](crate::process::Spec::stderr_fd)), so the parent can keep its last
//! lines for a worker that fails to start and forward the rest to its own stderr.

use std::io;
use std::os::fd::{OwnedFd, RawFd};

use super::pipe::pipe;

/// The worker's descriptor for requests (parent → worker).
pub const REQUESTS_FD: RawFd = 3;
/// The worker's descriptor for replies (worker → parent).
pub const REPLIES_FD: RawFd = 4;

pub struct Channels {
    /// The parent's write end of the request pipe.
    pub requests: OwnedFd,
    /// The parent's read end of the reply pipe.
    pub replies: OwnedFd,
    /// The parent's read end of the worker's stderr.
    pub stderr: OwnedFd,
    /// `(target, descriptor)` pairs for the worker, ready for `Spec::channels`.
    pub worker_ends: Vec<(RawFd, OwnedFd)>,
    /// The worker's write end of its stderr pipe, ready for `Spec::stderr_fd`.
    pub worker_stderr: OwnedFd,
}

/// Creates a worker's request, reply and stderr pipes (1 MiB each where the system allows it).
pub fn channels() -> io::Result<Channels> {
    let (request_read, request_write) = pipe()?;
    let (reply_read, reply_write) = pipe()?;
    let (stderr_read, stderr_write) = pipe()?;
    Ok(Channels {
        requests: request_write,
        replies: reply_read,
        stderr: stderr_read,
        worker_ends: vec![(REQUESTS_FD, request_read), (REPLIES_FD, reply_write)],
        worker_stderr: stderr_write,
    })
}

/// The resident set of a live process, in bytes (`/proc/<pid>/statm`): what a worker uses
/// now, unlike `wait4`'s peak, which is only known after it exits.
pub fn rss_bytes(pid: libc::pid_t) -> io::Result<u64> {
    let statm = std::fs::read_to_string(format!("/proc/{pid}/statm"))?;
    let pages: u64 = statm
        .split_ascii_whitespace()
        .nth(1)
        .and_then(|f| f.parse().ok())
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "unexpected /proc statm"))?;
    // SAFETY: sysconf only reads a system constant.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) }.max(4096) as u64;
    Ok(pages * page)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rss_of_this_process_grows_with_touched_memory() {
        let pid = std::process::id() as libc::pid_t;
        let before = rss_bytes(pid).unwrap();
        let block = vec![1u8; 64 << 20];
        let after = rss_bytes(pid).unwrap();
        assert!(block.iter().step_by(4096).all(|&b| b == 1));
        assert!(before > 0);
        assert!(after >= before + (60 << 20), "{before} -> {after}");
    }

    #[test]
    fn rss_of_a_missing_process_is_an_error() {
        assert!(rss_bytes(i32::MAX).is_err());
    }
}
