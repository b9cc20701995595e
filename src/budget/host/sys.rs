//! The host budget's system calls, as safe functions over owned descriptors: `openat`,
//! `mkdirat`, `fstat`, `flock`, inotify and `poll`. The only `unsafe` of the budget.
//! Every descriptor is opened close-on-exec: a slot file inherited by a child would keep its
//! lock alive after the holder died.
#![expect(
    unsafe_code,
    reason = "thin wrappers over libc calls that std does not offer (openat, flock, inotify)"
)]

use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

fn cstr(name: &str) -> io::Result<CString> {
    CString::new(name).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))
}

fn check(ret: libc::c_int) -> io::Result<libc::c_int> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// Takes ownership of a descriptor a call just returned.
fn owned(fd: libc::c_int) -> io::Result<OwnedFd> {
    let fd = check(fd)?;
    // SAFETY: `fd` was just returned open by the kernel and nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Opens `name` (no `/`) relative to `dir` (or the working directory when `None`, for an
/// absolute path), never following a final symlink.
pub(crate) fn open_at(
    dir: Option<BorrowedFd<'_>>,
    name: &str,
    flags: libc::c_int,
) -> io::Result<OwnedFd> {
    let c = cstr(name)?;
    let dirfd = dir.map_or(libc::AT_FDCWD, |d| d.as_raw_fd());
    let flags = flags | libc::O_CLOEXEC | libc::O_NOFOLLOW;
    // SAFETY: `c` is a NUL-terminated path; mode is read only with O_CREAT (0600).
    owned(unsafe { libc::openat(dirfd, c.as_ptr(), flags, 0o600 as libc::c_uint) })
}

/// Creates directory `name` (mode 0700) relative to `dir`; an existing one is not an error.
pub(crate) fn mkdir_at(dir: Option<BorrowedFd<'_>>, name: &str) -> io::Result<()> {
    let c = cstr(name)?;
    let dirfd = dir.map_or(libc::AT_FDCWD, |d| d.as_raw_fd());
    // SAFETY: `c` is a NUL-terminated path.
    match check(unsafe { libc::mkdirat(dirfd, c.as_ptr(), 0o700) }) {
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
        r => r.map(drop),
    }
}

/// Owner and mode of an open file.
pub(crate) struct Stat {
    pub uid: u32,
    pub mode: u32,
}

pub(crate) fn fstat(fd: BorrowedFd<'_>) -> io::Result<Stat> {
    let mut st = std::mem::MaybeUninit::<libc::stat>::uninit();
    // SAFETY: `st` is valid for writes of a `stat`; the kernel fills it on success.
    check(unsafe { libc::fstat(fd.as_raw_fd(), st.as_mut_ptr()) })?;
    // SAFETY: fstat succeeded, so `st` is initialised.
    let st = unsafe { st.assume_init() };
    Ok(Stat {
        uid: st.st_uid,
        mode: st.st_mode,
    })
}

pub(crate) fn getuid() -> u32 {
    // SAFETY: getuid has no preconditions and cannot fail.
    unsafe { libc::getuid() }
}

/// `flock(fd, op)`; `Ok(false)` when a non-blocking request would have waited.
pub(crate) fn flock(fd: BorrowedFd<'_>, op: libc::c_int) -> io::Result<bool> {
    loop {
        // SAFETY: flock only reads its arguments; `fd` is open.
        match check(unsafe { libc::flock(fd.as_raw_fd(), op) }) {
            Ok(_) => return Ok(true),
            Err(e) if e.raw_os_error() == Some(libc::EWOULDBLOCK) => return Ok(false),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
}

pub(crate) fn inotify() -> io::Result<OwnedFd> {
    // SAFETY: no pointers; returns a new descriptor or -1.
    owned(unsafe { libc::inotify_init1(libc::IN_CLOEXEC | libc::IN_NONBLOCK) })
}

/// Watches the directory open at `dir` (through `/proc/self/fd`, so its path is not resolved
/// again) for files closed in it. Returns the watch descriptor.
pub(crate) fn watch_closes(inotify: BorrowedFd<'_>, dir: BorrowedFd<'_>) -> io::Result<i32> {
    let c = cstr(&format!("/proc/self/fd/{}", dir.as_raw_fd()))?;
    let mask = libc::IN_CLOSE_WRITE | libc::IN_CLOSE_NOWRITE;
    // SAFETY: `c` is a NUL-terminated path; the mask is a plain integer.
    check(unsafe { libc::inotify_add_watch(inotify.as_raw_fd(), c.as_ptr(), mask) })
}

/// Reads and discards whatever a non-blocking descriptor holds.
pub(crate) fn drain(fd: BorrowedFd<'_>) {
    let mut buf = [0u8; 4096];
    loop {
        // SAFETY: reads into a live local buffer of the given length.
        let n = unsafe { libc::read(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
        if n <= 0 {
            return;
        }
    }
}

/// Waits until one of `fds` is readable or `timeout_ms` passes.
pub(crate) fn poll_readable(fds: &[RawFd], timeout_ms: i32) {
    let mut p: Vec<libc::pollfd> = fds
        .iter()
        .map(|&fd| libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        })
        .collect();
    // SAFETY: `p` is a live array of `p.len()` pollfds. Errors (EINTR) just end the wait early.
    unsafe { libc::poll(p.as_mut_ptr(), p.len() as libc::nfds_t, timeout_ms) };
}
