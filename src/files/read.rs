//! Reading a file in fixed chunks with `pread` on the calling thread (a pool thread), through
//! one reused buffer: memory stays at one chunk whatever the file's size, and `cancel` is
//! polled before every chunk, so an abort stops the read within one chunk.
//!
//! `pread` at an explicit offset (std's `FileExt::read_at`) rather than `read`: no shared file
//! position, and the offset we report is the offset we asked for. Short reads are retried
//! until the chunk is full or the file ends, so each callback but the last sees a full chunk.
//! io_uring was not tried: one sequential reader per task already runs at page-cache speed
//! (see docs/files.md for the chunk-size measurement).

use std::fs::File;
use std::io::ErrorKind;
use std::os::unix::fs::FileExt;
use std::path::Path;

use super::error::{Error, FileError};
use crate::kernels::{Cancel, check};

/// Bytes per `pread`. 1 MiB measured best here (docs/files.md): fewer calls than 256 KiB
/// for the same page-cache copy, while still a bounded ~0.5 ms of SHA-256 between polls.
pub const READ_CHUNK: usize = 1024 * 1024;

/// Opens `path` for reading; a directory fails here with `EISDIR` (as node's `readFile`),
/// not at the first read.
pub(crate) fn open(path: &Path) -> Result<File, FileError> {
    let file = File::open(path).map_err(|e| FileError::new(&e, "open", path))?;
    let meta = file
        .metadata()
        .map_err(|e| FileError::new(&e, "fstat", path))?;
    if meta.is_dir() {
        let e = std::io::Error::from_raw_os_error(libc::EISDIR);
        return Err(FileError::new(&e, "read", path));
    }
    Ok(file)
}

/// Calls `each` with the bytes of `file` (opened from `path`, named in errors) in order,
/// `chunk` bytes at a time (the last piece may be shorter; an empty file gives no call).
/// Returns the number of bytes read.
pub(crate) fn each_chunk(
    file: &File,
    path: &Path,
    chunk: usize,
    cancel: Cancel,
    mut each: impl FnMut(&[u8]) -> Result<(), Error>,
) -> Result<u64, Error> {
    let mut buf = vec![0u8; chunk];
    let mut offset = 0u64;
    loop {
        check(cancel)?;
        let n = fill(file, &mut buf, offset).map_err(|e| FileError::new(&e, "read", path))?;
        if n == 0 {
            return Ok(offset);
        }
        offset += n as u64;
        each(&buf[..n])?;
        if n < buf.len() {
            return Ok(offset);
        }
    }
}

/// Reads at `offset` until `buf` is full or the file ends; returns the bytes read.
pub(crate) fn fill(file: &File, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match file.read_at(&mut buf[got..], offset + got as u64) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}
