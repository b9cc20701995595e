//! An output file that appears whole or not at all. Bytes go to a temporary file created with
//! `O_EXCL` next to the destination (same directory, hence same file system, so the final
//! `rename` is atomic), written with `pwrite`; [`AtomicFile::commit`] renames it over `dest`.
//! Every other ending (an error, a cancel or timeout, a panic unwinding through the task)
//! drops the `AtomicFile`, which removes the temporary file: no partial `dest` ever exists,
//! and an existing `dest` is left as it was.
//!
//! New files get mode `0o666 & !umask`, as `fs.writeFile`. A `rename` replaces `dest` itself:
//! if `dest` is a symlink, the link is replaced (`fs.writeFile` would write through it).
//! Durability is opt-in (`fsync`): without it the data reaches the disk when the kernel
//! writes it back, like `fs.writeFile`; with it the file is fsynced before the rename and the
//! directory after, so a power loss leaves either the old `dest` or the complete new one.
//! A process killed mid-write (SIGKILL) cannot run Drop: it leaves a hidden
//! `.<name>.<pid>-<n>.offload-tmp` beside `dest`, never a partial `dest`.

use std::ffi::OsString;
use std::fs::{File, OpenOptions};
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use super::error::FileError;

/// Distinguishes the temporary files of concurrent tasks of one process.
static NEXT: AtomicU64 = AtomicU64::new(0);

/// A temporary file that becomes `dest` on [`commit`](AtomicFile::commit).
pub struct AtomicFile {
    dest: PathBuf,
    tmp: PathBuf,
    file: Option<File>,
    written: u64,
}

impl AtomicFile {
    /// Creates the temporary file beside `dest`. Errors name `dest` (the file the caller
    /// asked for): a missing directory is `ENOENT, open '<dest>'`, as `fs.writeFile` says.
    pub fn create(dest: &Path) -> Result<AtomicFile, FileError> {
        let dir = dest.parent().unwrap_or(Path::new("."));
        let base = dest.file_name().ok_or_else(|| {
            let e = std::io::Error::from_raw_os_error(libc::EISDIR);
            FileError::new(&e, "open", dest)
        })?;
        loop {
            let mut name = OsString::from(".");
            name.push(base);
            let n = NEXT.fetch_add(1, Ordering::Relaxed);
            name.push(format!(".{}-{n}.offload-tmp", std::process::id()));
            let tmp = dir.join(name);
            match OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o666)
                .open(&tmp)
            {
                Ok(file) => {
                    return Ok(AtomicFile {
                        dest: dest.to_owned(),
                        tmp,
                        file: Some(file),
                        written: 0,
                    });
                }
                // A leftover of a killed process whose pid we now have: take the next name.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(FileError::new(&e, "open", dest)),
            }
        }
    }

    /// Appends `data` (a `pwrite` at the current end).
    pub fn write(&mut self, data: &[u8]) -> Result<(), FileError> {
        let Some(file) = &self.file else {
            unreachable!("written after commit");
        };
        file.write_all_at(data, self.written)
            .map_err(|e| FileError::new(&e, "write", &self.dest))?;
        self.written += data.len() as u64;
        Ok(())
    }

    /// Bytes written so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// The temporary file's path (for tests and diagnostics).
    pub fn temp_path(&self) -> &Path {
        &self.tmp
    }

    /// Renames the temporary file over `dest`; with `fsync`, makes it durable first (and the
    /// rename after). On failure the temporary file is removed. Returns the bytes written.
    pub fn commit(mut self, fsync: bool) -> Result<u64, FileError> {
        let file = self.file.take().expect("committed once");
        if fsync {
            file.sync_all()
                .map_err(|e| FileError::new(&e, "fsync", &self.dest))?;
        }
        drop(file);
        std::fs::rename(&self.tmp, &self.dest)
            .map_err(|e| FileError::new(&e, "rename", &self.dest))?;
        // Renamed: nothing left for Drop to remove.
        self.tmp = PathBuf::new();
        if fsync {
            let dir = self.dest.parent().unwrap_or(Path::new("."));
            File::open(dir)
                .and_then(|d| d.sync_all())
                .map_err(|e| FileError::new(&e, "fsync", dir))?;
        }
        Ok(self.written)
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if !self.tmp.as_os_str().is_empty() {
            // Best effort: a directory made read-only meanwhile leaves the hidden file behind.
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}
