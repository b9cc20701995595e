//! Learning that a child ended and collecting it: `wait4` (blocking or not) for the exit status
//! and resource usage, and for the I/O runtime an async [`exit`] that resolves while the child
//! is still an unreaped zombie, then [`reap`].
//!
//! Keeping exit and reap apart is what makes signalling safe: until the zombie is reaped its
//! pid (and the process group named after it) cannot be reused, so the supervisor marks the
//! child exited, under its state lock, between the two (see `child.rs`).

use std::ffi::c_int;
use std::os::fd::{FromRawFd, OwnedFd};
use std::time::Duration;

use tokio::io::Interest;
use tokio::time::sleep;

use super::pipe::register;

/// How a child ended, with its resource usage.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExitStatus {
    pub code: Option<i32>,
    pub signal: Option<i32>,
    /// Peak RSS as `wait4` reports it. Linux charges a child that shared its parent's memory
    /// until `execve` (as ours do) with the parent's peak too, so this is at least the parent's
    /// peak RSS at the time of the spawn; see `Report::max_rss_bytes`.
    pub max_rss_bytes: u64,
    pub user_cpu_us: u64,
    pub system_cpu_us: u64,
}

/// Blocks until `pid` exits; returns how, with its resource usage (from `wait4`).
pub fn wait(pid: libc::pid_t) -> std::io::Result<ExitStatus> {
    loop {
        if let Some(status) = wait4(pid, 0)? {
            return Ok(status);
        }
    }
}

/// Reaps `pid` if it has exited, without blocking.
pub fn try_wait(pid: libc::pid_t) -> std::io::Result<Option<ExitStatus>> {
    wait4(pid, libc::WNOHANG)
}

fn wait4(pid: libc::pid_t, flags: c_int) -> std::io::Result<Option<ExitStatus>> {
    let mut status = 0;
    // SAFETY: plain syscall with valid out-pointers.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    match unsafe { libc::wait4(pid, &mut status, flags, &mut usage) } {
        0 => return Ok(None),
        r if r == pid => {}
        _ => {
            let err = std::io::Error::last_os_error();
            if err.kind() == std::io::ErrorKind::Interrupted {
                return Ok(None);
            }
            return Err(err);
        }
    }
    let micros = |t: libc::timeval| t.tv_sec as u64 * 1_000_000 + t.tv_usec as u64;
    Ok(Some(ExitStatus {
        code: libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status)),
        signal: libc::WIFSIGNALED(status).then(|| libc::WTERMSIG(status)),
        max_rss_bytes: usage.ru_maxrss as u64 * 1024,
        user_cpu_us: micros(usage.ru_utime),
        system_cpu_us: micros(usage.ru_stime),
    }))
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
    // SAFETY: siginfo_t is plain data; all zeroes is a valid value.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    let flags = libc::WEXITED | libc::WNOHANG | libc::WNOWAIT;
    // SAFETY: waitid with WNOWAIT only inspects; `info` is a valid out-pointer.
    let r = unsafe { libc::waitid(libc::P_PID, pid as libc::id_t, &mut info, flags) };
    // SAFETY: after a successful waitid(P_PID) the kernel filled in the child fields (or left
    // si_pid zero when nothing has exited yet).
    r != 0 || unsafe { info.si_pid() } != 0
}

/// This process's peak RSS (`getrusage(RUSAGE_SELF)`), bytes.
pub(crate) fn own_peak_rss() -> u64 {
    // SAFETY: valid out-pointer.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    usage.ru_maxrss as u64 * 1024
}

/// Reaps `pid`, which has exited (see [`exit`]), and returns how it ended.
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
