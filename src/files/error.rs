//! File errors as data: the errno of a failed system call, its Node name (`ENOENT`), the call
//! (`open`, `read`, `write`, `rename`, ...) and the path, so the binding can build the error
//! node:fs would throw (`ENOENT: no such file or directory, open '/x'`) without re-reading
//! anything. Descriptions are libuv's (what node prints), not glibc's `strerror`.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::kernels::KernelError;

/// A failed system call on a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileError {
    /// The errno's name as node spells it: `"ENOENT"`, `"EACCES"`, ...; `"UNKNOWN"` otherwise.
    pub code: &'static str,
    /// The positive OS errno (node shows it negated).
    pub errno: i32,
    /// The failed call, as node names it: `open`, `read`, `write`, `fsync`, `rename`, `fstat`.
    pub syscall: &'static str,
    /// The path the caller named (for the temporary output file: the destination it replaces).
    pub path: PathBuf,
}

impl FileError {
    /// From an I/O error of `syscall` on `path`; an error without an errno (a short write
    /// that std reports as `WriteZero`) is `EIO`.
    pub fn new(e: &std::io::Error, syscall: &'static str, path: &Path) -> FileError {
        let errno = e.raw_os_error().unwrap_or(libc::EIO);
        FileError {
            code: name(errno).map_or("UNKNOWN", |(n, _)| n),
            errno,
            syscall,
            path: path.to_owned(),
        }
    }

    /// libuv's description of the errno (`"no such file or directory"`).
    pub fn description(&self) -> String {
        match name(self.errno) {
            Some((_, d)) => d.to_owned(),
            None => {
                // strerror in lower case, without std's " (os error N)" suffix.
                let s = std::io::Error::from_raw_os_error(self.errno).to_string();
                let s = s.split(" (os error").next().unwrap_or_default();
                s.to_lowercase()
            }
        }
    }
}

impl fmt::Display for FileError {
    /// Node's wording: `ENOENT: no such file or directory, open '/x'`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {}, {} '{}'",
            self.code,
            self.description(),
            self.syscall,
            self.path.display()
        )
    }
}

impl std::error::Error for FileError {}

/// The errnos a file call can meet, with node's names and libuv's descriptions (uv-errno.h).
fn name(errno: i32) -> Option<(&'static str, &'static str)> {
    Some(match errno {
        libc::ENOENT => ("ENOENT", "no such file or directory"),
        libc::EACCES => ("EACCES", "permission denied"),
        libc::EPERM => ("EPERM", "operation not permitted"),
        libc::EISDIR => ("EISDIR", "illegal operation on a directory"),
        libc::ENOTDIR => ("ENOTDIR", "not a directory"),
        libc::EEXIST => ("EEXIST", "file already exists"),
        libc::ENOSPC => ("ENOSPC", "no space left on device"),
        libc::EDQUOT => ("EDQUOT", "disk quota exceeded"),
        libc::EROFS => ("EROFS", "read-only file system"),
        libc::EMFILE => ("EMFILE", "too many open files"),
        libc::ENFILE => ("ENFILE", "file table overflow"),
        libc::ELOOP => ("ELOOP", "too many symbolic links encountered"),
        libc::ENAMETOOLONG => ("ENAMETOOLONG", "name too long"),
        libc::EXDEV => ("EXDEV", "cross-device link not permitted"),
        libc::EBUSY => ("EBUSY", "resource busy or locked"),
        libc::EFBIG => ("EFBIG", "file too large"),
        libc::EIO => ("EIO", "i/o error"),
        libc::EINVAL => ("EINVAL", "invalid argument"),
        libc::ENXIO => ("ENXIO", "no such device or address"),
        libc::EAGAIN => ("EAGAIN", "resource temporarily unavailable"),
        libc::ETXTBSY => ("ETXTBSY", "text file is busy"),
        libc::ENOMEM => ("ENOMEM", "not enough memory"),
        _ => return None,
    })
}

/// Why a file kernel failed: a file call, or the kernel itself (cancelled, corrupt input,
/// output limit).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    File(#[from] FileError),
    #[error(transparent)]
    Kernel(#[from] KernelError),
}
