//! Capturing a child's stdout or stderr into memory, up to `maxBuffer`.
//!
//! Small outputs are read into a `Vec`. Once one passes [`SPILL_ABOVE`], the rest is moved
//! with `splice` from the pipe into a memfd, and the result is that memfd mapped into memory.
//! Reading into fresh heap memory costs twice per byte (the kernel zeroes each new page, then
//! copies into it, all while holding the pipe's lock so the child stalls on its next write);
//! a splice into a memfd fills page-cache pages once. Measured here on 256 MiB, that took a
//! capture from ~650 ms to ~300 ms, with peak RSS equal to the output either way. If a memfd
//! cannot be made or mapped, the capture simply stays on the heap.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::ptr;

use tokio::sync::watch;

use super::sys::pipe::Reader;

/// Captured bytes past which the rest goes through a memfd.
const SPILL_ABOVE: usize = 4 << 20;

/// Captured output: on the heap, or a mapped memfd.
#[derive(Debug)]
pub enum Captured {
    Heap(Vec<u8>),
    Mapped(Mapped),
}

impl Captured {
    pub fn as_slice(&self) -> &[u8] {
        match self {
            Captured::Heap(v) => v,
            Captured::Mapped(m) => m.as_slice(),
        }
    }

    pub fn len(&self) -> usize {
        self.as_slice().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The bytes as a `Vec` (a copy if mapped).
    pub fn into_vec(self) -> Vec<u8> {
        match self {
            Captured::Heap(v) => v,
            Captured::Mapped(m) => m.as_slice().to_vec(),
        }
    }

    /// Drops one trailing `\n` or `\r\n`.
    pub(crate) fn strip_final_newline(&mut self) {
        let s = self.as_slice();
        let mut keep = s.len();
        if s.last() == Some(&b'\n') {
            keep -= 1;
            if keep > 0 && s[keep - 1] == b'\r' {
                keep -= 1;
            }
        }
        match self {
            Captured::Heap(v) => v.truncate(keep),
            Captured::Mapped(m) => m.len = keep,
        }
    }
}

/// A read-write shared mapping of a memfd, unmapped on drop.
#[derive(Debug)]
pub struct Mapped {
    ptr: *mut u8,
    len: usize,
    map_len: usize,
}

// SAFETY: the mapping is owned by this value alone; nothing else refers to the memory.
unsafe impl Send for Mapped {}
// SAFETY: `&Mapped` only reads the memory; writing needs `&mut` (as_mut_ptr's callers).
unsafe impl Sync for Mapped {}

impl Mapped {
    fn new(file: &OwnedFd, len: usize) -> Option<Self> {
        // SAFETY: mapping `len` bytes the file holds; the mapping outlives the descriptor.
        let ptr = unsafe {
            libc::mmap(
                ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                file.as_raw_fd(),
                0,
            )
        };
        (ptr != libc::MAP_FAILED).then_some(Self {
            ptr: ptr.cast(),
            len,
            map_len: len,
        })
    }

    pub fn as_slice(&self) -> &[u8] {
        // SAFETY: `len <= map_len` bytes are mapped and initialised (the file's contents).
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }

    /// The start of the mapping, for handing it to an owner that keeps `self` alive.
    pub fn as_mut_ptr(&mut self) -> *mut u8 {
        self.ptr
    }
}

impl Drop for Mapped {
    fn drop(&mut self) {
        // SAFETY: unmapping exactly what `new` mapped.
        unsafe { libc::munmap(self.ptr.cast(), self.map_len) };
    }
}

/// Collects a stream up to `max` bytes; one more calls `exceeded` (the caller kills the
/// child) and stops (closing our end, so the child's next write fails too). `stop` ends it
/// early. With `map`, a large capture continues in a memfd.
pub(crate) async fn capture(
    reader: Reader,
    max: usize,
    map: bool,
    mut stop: watch::Receiver<bool>,
    exceeded: impl FnOnce(),
) -> Captured {
    let mut buf = Vec::new();
    let mut spill = map && spill_allowed(max);
    loop {
        if spill && buf.len() >= SPILL_ABOVE {
            spill = false;
            if let Some(file) = memfd(&buf) {
                let head = buf.len();
                drop(buf);
                return spill_rest(&reader, max, stop, file, head, exceeded).await;
            }
        }
        // Bounded reads: the I/O thread serves every other child between them, and the
        // switch to a memfd happens close to its threshold.
        let room = max
            .saturating_sub(buf.len())
            .saturating_add(1)
            .min(READ_CHUNK);
        let read = tokio::select! {
            r = reader.fill(&mut buf, room) => r,
            _ = stop.changed() => break,
        };
        if !matches!(read, Ok(n) if n > 0) {
            break;
        }
        if buf.len() > max {
            buf.truncate(max);
            exceeded();
            break;
        }
    }
    Captured::Heap(buf)
}

/// The most one heap read call takes in.
const READ_CHUNK: usize = 1 << 20;

/// Writing to a file counts against this process's `RLIMIT_FSIZE`, and passing it would
/// send Node SIGXFSZ: spill only when the limit cannot be reached.
fn spill_allowed(max: usize) -> bool {
    // SAFETY: valid out-pointer.
    let mut lim: libc::rlimit = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    unsafe { libc::getrlimit(libc::RLIMIT_FSIZE, &mut lim) };
    lim.rlim_cur == libc::RLIM_INFINITY || lim.rlim_cur > max as u64
}

/// A memfd holding `head`, or `None` if one cannot be made.
fn memfd(head: &[u8]) -> Option<OwnedFd> {
    // SAFETY: a valid C string; the result is a new descriptor or -1.
    let fd = unsafe { libc::memfd_create(c"offload-capture".as_ptr(), libc::MFD_CLOEXEC) };
    if fd < 0 {
        return None;
    }
    // SAFETY: a descriptor we just created.
    let file = unsafe { OwnedFd::from_raw_fd(fd) };
    write_at(&file, head, 0).ok()?;
    Some(file)
}

fn write_at(file: &OwnedFd, mut bytes: &[u8], mut offset: usize) -> io::Result<()> {
    while !bytes.is_empty() {
        // SAFETY: writing from a valid slice.
        let n = unsafe {
            libc::pwrite(
                file.as_raw_fd(),
                bytes.as_ptr().cast(),
                bytes.len(),
                offset as libc::off_t,
            )
        };
        if n <= 0 {
            return Err(io::Error::last_os_error());
        }
        bytes = &bytes[n as usize..];
        offset += n as usize;
    }
    Ok(())
}

/// The rest of a large capture, moved into `file` after the `total` bytes already there:
/// by `splice`, or, should splicing fail (a sandbox may forbid it), by reads and writes.
async fn spill_rest(
    reader: &Reader,
    max: usize,
    mut stop: watch::Receiver<bool>,
    file: OwnedFd,
    mut total: usize,
    exceeded: impl FnOnce(),
) -> Captured {
    let mut splice = true;
    let mut chunk = Vec::new();
    loop {
        let room = max.saturating_sub(total).saturating_add(1).min(READ_CHUNK);
        let moved = tokio::select! {
            r = async {
                if splice {
                    reader.splice_to(&file, total, room).await
                } else {
                    chunk.clear();
                    let n = reader.fill(&mut chunk, room).await?;
                    write_at(&file, &chunk, total).map(|()| n)
                }
            } => r,
            _ = stop.changed() => break,
        };
        match moved {
            Ok(0) => break,
            Ok(n) => total += n,
            Err(_) if splice => splice = false,
            Err(_) => break,
        }
        if total > max {
            total = max;
            exceeded();
            break;
        }
    }
    match Mapped::new(&file, total) {
        Some(m) => Captured::Mapped(m),
        // Mapping fails only when address space runs out; a copy is the last resort.
        None => Captured::Heap(read_back(&file, total).unwrap_or_default()),
    }
}

/// The file's first `len` bytes, if it cannot be mapped.
fn read_back(file: &OwnedFd, len: usize) -> io::Result<Vec<u8>> {
    let mut v = Vec::new();
    v.try_reserve_exact(len)
        .map_err(|_| io::ErrorKind::OutOfMemory)?;
    while v.len() < len {
        let filled = v.len();
        let spare = &mut v.spare_capacity_mut()[..len - filled];
        // SAFETY: reading into spare capacity at the matching file offset.
        let n = unsafe {
            libc::pread(
                file.as_raw_fd(),
                spare.as_mut_ptr().cast(),
                spare.len(),
                v.len() as libc::off_t,
            )
        };
        if n <= 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: the kernel initialised `n` more bytes.
        unsafe { v.set_len(v.len() + n as usize) };
    }
    Ok(v)
}
