//! Options of the file kernels (`hashFile`, `hmacFile`, `compressFile`, `decompressFile`) and
//! their paths, converted into core types with `TryFrom`.
//!
//! Paths arrive as bytes: the JS layer resolves every path (string, Buffer or file: URL)
//! against the working directory at the call, so a later `process.chdir` cannot change the
//! file a queued task opens; here they only need to be absolute and free of NUL bytes.

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::path::PathBuf;

use napi_derive::napi;

use super::kernels::{CompressOptions, level};
use super::{MAX_SAFE_INTEGER, count};
use crate::errors::{Error, Result, invalid_value};
use offload_core::files::WriteOptions;
use offload_core::kernels::compress::Format;

/// Options of `compressFile()`.
#[napi(object, object_to_js = false)]
pub struct CompressFileOptions {
    /// Compression level, as `compress()`'s. Default: the format's default.
    pub level: Option<f64>,
    /// fsync the output before it is renamed over `dest`, and the directory after, so a power
    /// loss leaves the old `dest` or the complete new one. Default: `false` (as `fs.writeFile`).
    pub fsync: Option<bool>,
}

/// Options of `encryptFile()` and `decryptFile()`.
#[napi(object, object_to_js = false)]
pub struct CipherFileOptions {
    /// As `compressFile()`'s. Default: `false`.
    pub fsync: Option<bool>,
}

/// How `encryptFile()`/`decryptFile()` write their output.
pub(crate) fn cipher_write(o: Option<CipherFileOptions>) -> WriteOptions {
    WriteOptions {
        fsync: o.and_then(|o| o.fsync).unwrap_or(false),
    }
}

/// Options of `decompressFile()`.
#[napi(object, object_to_js = false)]
pub struct DecompressFileOptions {
    /// Largest output allowed, in bytes; past it the call rejects with
    /// `ERR_OFFLOAD_OUTPUT_TOO_LARGE` and leaves no `dest`. The output goes to disk, not to
    /// memory, so the default is no limit. Default: `Infinity`.
    pub max_output_length: Option<f64>,
    /// As `compressFile()`'s. Default: `false`.
    pub fsync: Option<bool>,
}

/// What `compressFile` runs with.
pub(crate) struct CompressFile {
    pub(crate) level: i32,
    pub(crate) write: WriteOptions,
}

/// What `decompressFile` runs with.
pub(crate) struct DecompressFile {
    pub(crate) max_output: u64,
    pub(crate) write: WriteOptions,
}

impl TryFrom<(Format, Option<CompressFileOptions>)> for CompressFile {
    type Error = Error;
    fn try_from((format, o): (Format, Option<CompressFileOptions>)) -> Result<Self> {
        let (lvl, fsync) = o.map_or((None, None), |o| (o.level, o.fsync));
        Ok(CompressFile {
            level: level(format, Some(CompressOptions { level: lvl }))?,
            write: WriteOptions {
                fsync: fsync.unwrap_or(false),
            },
        })
    }
}

impl TryFrom<Option<DecompressFileOptions>> for DecompressFile {
    type Error = Error;
    fn try_from(o: Option<DecompressFileOptions>) -> Result<Self> {
        let (max, fsync) = o.map_or((None, None), |o| (o.max_output_length, o.fsync));
        let max_output = match max {
            None => u64::MAX,
            Some(m) => count("options.maxOutputLength", m, 0.0, true)? as u64,
        };
        debug_assert!(MAX_SAFE_INTEGER < u64::MAX as f64);
        Ok(DecompressFile {
            max_output,
            write: WriteOptions {
                fsync: fsync.unwrap_or(false),
            },
        })
    }
}

/// The path argument `name`, as the JS layer resolved it.
pub(crate) fn path(name: &str, bytes: &[u8]) -> Result<PathBuf> {
    if bytes.contains(&0) {
        return Err(invalid_value(
            &format!("argument '{name}'"),
            "it must not contain null bytes",
        ));
    }
    let p = PathBuf::from(OsString::from_vec(bytes.to_vec()));
    if !p.is_absolute() {
        return Err(invalid_value(
            &format!("argument '{name}'"),
            "it must be absolute (the JS layer resolves it)",
        ));
    }
    Ok(p)
}
