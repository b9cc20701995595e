//! Pipes between the supervisor and a child, driven by the I/O runtime's epoll.
//!
//! Both ends are created close-on-exec, so a child only ever holds the end that was
//! duplicated onto its stdin, stdout or stderr. The parent's end is non-blocking and
//! registered with tokio; reads go straight into the destination `Vec` (no intermediate
//! buffer) and the pipe is enlarged to 1 MiB where the system allows it, so a fast producer
//! costs a few hundred wake-ups per 256 MiB rather than thousands.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::io::Interest;
use tokio::io::unix::AsyncFd;

/// The pipe size asked for (the unprivileged default maximum, `/proc/sys/fs/pipe-max-size`).
const PIPE_SIZE: libc::c_int = 1 << 20;
/// The most one streaming read hands over.
pub(crate) const MAX_CHUNK: usize = 1 << 20;

/// Bytes written to a child's stdin. Memory borrowed from JavaScript may stop being readable
/// (its environment was torn down), so access goes through a callback that can refuse.
pub trait Source: Send + Sync + 'static {
    /// Runs `f` over the bytes and returns true, or returns false if they are gone.
    fn with_bytes(&self, f: &mut dyn FnMut(&[u8])) -> bool;
}

impl Source for Vec<u8> {
    fn with_bytes(&self, f: &mut dyn FnMut(&[u8])) -> bool {
        f(self);
        true
    }
}

/// A close-on-exec pipe: `(read end, write end)`.
pub(crate) fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: valid out-array of two descriptors.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: just created, owned by nobody else.
    let read = unsafe { OwnedFd::from_raw_fd(fds[0]) };
    // SAFETY: as above.
    let write = unsafe { OwnedFd::from_raw_fd(fds[1]) };
    // A larger pipe is an optimisation only; the default 64 KiB works too.
    // SAFETY: plain fcntl on a descriptor we own.
    unsafe { libc::fcntl(fds[0], libc::F_SETPIPE_SZ, PIPE_SIZE) };
    Ok((read, write))
}

/// Puts `fd` in non-blocking mode.
pub(crate) fn nonblocking(fd: &impl AsRawFd) -> io::Result<()> {
    let fd = fd.as_raw_fd();
    // SAFETY: plain fcntl on a descriptor the caller owns.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    // SAFETY: as above.
    if flags < 0 || unsafe { libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Registers `fd` with the current runtime's epoll. Must be called on the I/O runtime.
pub(crate) fn register(fd: OwnedFd, interest: Interest) -> io::Result<AsyncFd<OwnedFd>> {
    // SAFETY: an `OwnedFd` is open, owned, and returns the same descriptor until dropped,
    // which is all `AsyncFd` asks of its inner value.
    unsafe { AsyncFd::register_with_interest(fd, interest) }.map_err(io::Error::from)
}

fn result(n: isize) -> io::Result<usize> {
    if n < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(n as usize)
    }
}

/// The parent's read end of a child's stdout or stderr. Must be created on the I/O runtime.
pub(crate) struct Reader(AsyncFd<OwnedFd>);

impl Reader {
    pub(crate) fn new(fd: OwnedFd) -> io::Result<Self> {
        nonblocking(&fd)?;
        Ok(Self(register(fd, Interest::READABLE)?))
    }

    /// Appends at most `max` bytes to `buf`, waiting until some arrive; 0 means end of file.
    pub(crate) async fn read_into(&self, buf: &mut Vec<u8>, max: usize) -> io::Result<usize> {
        loop {
            let mut guard = self.0.readable().await?;
            let attempt = guard.try_io(|fd| {
                let want = max.min(available(fd.as_raw_fd()).max(64 * 1024));
                buf.reserve(want);
                let spare = &mut buf.spare_capacity_mut()[..want];
                // SAFETY: reading into uninitialised spare capacity of `want` bytes.
                let n =
                    result(unsafe { libc::read(fd.as_raw_fd(), spare.as_mut_ptr().cast(), want) })?;
                // SAFETY: the kernel initialised the first `n` bytes.
                unsafe { buf.set_len(buf.len() + n) };
                Ok(n)
            });
            match attempt {
                Ok(r) => return r,
                Err(_would_block) => continue,
            }
        }
    }

    /// Moves up to `max` bytes with `step(fd, remaining)` (one read or splice, returning the
    /// bytes moved), repeating while data keeps arriving, so a fast producer costs as few trips
    /// through epoll as possible. Waits for the first byte; 0 means end of file. Bytes already
    /// moved are kept when an error follows them (it recurs on the next call).
    async fn repeat(
        &self,
        max: usize,
        mut step: impl FnMut(RawFd, usize) -> io::Result<usize>,
    ) -> io::Result<usize> {
        let mut total = 0;
        loop {
            let mut guard = self.0.readable().await?;
            let attempt = guard.try_io(|fd| {
                while total < max {
                    match step(fd.as_raw_fd(), max - total) {
                        Ok(0) => break,
                        Ok(n) => total += n,
                        Err(_) if total > 0 => break,
                        Err(e) => return Err(e),
                    }
                }
                Ok(())
            });
            match attempt {
                Ok(r) => return r.map(|()| total),
                Err(_would_block) => continue,
            }
        }
    }

    /// For captures: appends up to `max` bytes to `buf` (no `FIONREAD`: the capture buffer
    /// has room). 0 means end of file.
    pub(crate) async fn fill(&self, buf: &mut Vec<u8>, max: usize) -> io::Result<usize> {
        self.repeat(max, |fd, remaining| {
            if buf.capacity() - buf.len() < 64 * 1024 {
                buf.reserve(64 * 1024);
            }
            let spare = buf.spare_capacity_mut();
            let want = spare.len().min(remaining);
            // SAFETY: reading into uninitialised spare capacity of `want` bytes.
            let n = result(unsafe { libc::read(fd, spare.as_mut_ptr().cast(), want) })?;
            // SAFETY: the kernel initialised the first `n` bytes.
            unsafe { buf.set_len(buf.len() + n) };
            Ok(n)
        })
        .await
    }

    /// Moves up to `len` bytes from the pipe into `file` at `offset` with `splice` (no copy
    /// through user space). 0 means end of file.
    pub(crate) async fn splice_to(
        &self,
        file: &OwnedFd,
        offset: usize,
        len: usize,
    ) -> io::Result<usize> {
        let mut moved = 0;
        self.repeat(len, |fd, remaining| {
            let mut off = (offset + moved) as libc::loff_t;
            // SAFETY: splice between two descriptors we own; `off` is a valid in-out pointer
            // for the destination offset.
            let n = result(unsafe {
                libc::splice(
                    fd,
                    std::ptr::null_mut(),
                    file.as_raw_fd(),
                    &mut off,
                    remaining,
                    libc::SPLICE_F_MOVE | libc::SPLICE_F_NONBLOCK,
                )
            })?;
            moved += n;
            Ok(n)
        })
        .await
    }

    /// The next chunk (what the pipe holds, up to [`MAX_CHUNK`]), or `None` at end of file.
    pub(crate) async fn chunk(&self) -> io::Result<Option<Vec<u8>>> {
        let mut buf = Vec::new();
        match self.read_into(&mut buf, MAX_CHUNK).await? {
            0 => Ok(None),
            _ => Ok(Some(buf)),
        }
    }
}

/// Bytes waiting in the pipe (`FIONREAD`), so a read allocates what it needs.
fn available(fd: RawFd) -> usize {
    let mut n: libc::c_int = 0;
    // SAFETY: FIONREAD writes one int.
    if unsafe { libc::ioctl(fd, libc::FIONREAD, &mut n) } == 0 {
        n.max(0) as usize
    } else {
        0
    }
}

/// The parent's write end of a child's stdin. Must be created on the I/O runtime.
pub(crate) struct Writer(AsyncFd<OwnedFd>);

impl Writer {
    pub(crate) fn new(fd: OwnedFd) -> io::Result<Self> {
        nonblocking(&fd)?;
        Ok(Self(register(fd, Interest::WRITABLE)?))
    }

    /// Writes all of `src`, counting progress in `written` (readable even if this future is
    /// dropped half way). `EPIPE` means the child closed its stdin.
    pub(crate) async fn write_all(&self, src: &dyn Source, written: &AtomicU64) -> io::Result<()> {
        let mut len = 0;
        if !src.with_bytes(&mut |b| len = b.len()) {
            return Err(gone());
        }
        let mut offset = 0;
        while offset < len {
            let mut guard = self.0.writable().await?;
            let attempt = guard.try_io(|fd| {
                let mut written = Err(gone());
                src.with_bytes(&mut |b| {
                    let rest = &b[offset..];
                    // SAFETY: writing from a valid slice.
                    written = result(unsafe {
                        libc::write(fd.as_raw_fd(), rest.as_ptr().cast(), rest.len())
                    });
                });
                written
            });
            match attempt {
                Ok(r) => {
                    let n = r?;
                    offset += n;
                    written.fetch_add(n as u64, Ordering::Relaxed);
                }
                Err(_would_block) => continue,
            }
        }
        Ok(())
    }
}

fn gone() -> io::Error {
    io::Error::new(
        io::ErrorKind::BrokenPipe,
        "the input is no longer available",
    )
}
