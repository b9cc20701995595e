//! The file kernels: a digest or HMAC of a file, and a file compressed or decompressed into
//! another. Each reads its source with [`read::each_chunk`](super::read) (constant memory,
//! cancel polled per chunk) on the calling pool thread and feeds the incremental kernels of
//! `kernels::stream`; outputs go through an [`AtomicFile`], so a failure leaves no `dest`.

use std::path::Path;

use super::atomic::AtomicFile;
use super::error::Error;
use super::read::{READ_CHUNK, each_chunk, open};
use crate::kernels::compress::Format;
use crate::kernels::hash::HashAlgorithm;
use crate::kernels::stream::{Decoder, Encoder, Flush, Hasher};
use crate::kernels::{Cancel, KernelError};

/// What a file-to-file kernel moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transfer {
    pub bytes_read: u64,
    pub bytes_written: u64,
}

/// How a file-to-file kernel writes its output.
#[derive(Debug, Clone, Copy, Default)]
pub struct WriteOptions {
    /// fsync the output before renaming it into place, and its directory after.
    pub fsync: bool,
}

/// The digest of the file at `path`: byte for byte `hash::digest` of its contents.
pub fn hash_file(alg: HashAlgorithm, path: &Path, cancel: Cancel) -> Result<Vec<u8>, Error> {
    digest(Hasher::new(alg), path, cancel)
}

/// The HMAC of the file at `path` under `key`.
pub fn hmac_file(
    alg: HashAlgorithm,
    key: &[u8],
    path: &Path,
    cancel: Cancel,
) -> Result<Vec<u8>, Error> {
    digest(Hasher::hmac(alg, key)?, path, cancel)
}

fn digest(mut h: Hasher, path: &Path, cancel: Cancel) -> Result<Vec<u8>, Error> {
    let file = open(path)?;
    each_chunk(&file, path, READ_CHUNK, cancel, |piece| {
        Ok(h.update(piece, cancel)?)
    })?;
    Ok(h.finish())
}

/// Compresses `src` into `dest` (replaced atomically) in `format` at `level`.
pub fn compress_file(
    format: Format,
    level: i32,
    src: &Path,
    dest: &Path,
    opts: WriteOptions,
    cancel: Cancel,
) -> Result<Transfer, Error> {
    transform(
        (src, dest, opts, cancel),
        (&[], Encoder::new(format, level)?),
        |enc, piece| enc.write(piece, Flush::None, cancel),
        |enc| enc.write(&[], Flush::Finish, cancel),
    )
}

/// Decompresses `src` into `dest` (replaced atomically); at most `max_output` bytes are
/// written, more fails with `OutputTooLarge` and leaves no `dest`. lz4 is refused by the
/// stream `Decoder` (its frame decoder only pulls from a reader).
pub fn decompress_file(
    format: Format,
    max_output: u64,
    src: &Path,
    dest: &Path,
    opts: WriteOptions,
    cancel: Cancel,
) -> Result<Transfer, Error> {
    transform(
        (src, dest, opts, cancel),
        (&[], Decoder::new(format, max_output)?),
        |dec, piece| dec.write(piece, cancel),
        |dec| dec.finish(cancel),
    )
}

/// The file-to-file loop every writing kernel shares: `src` read chunk by chunk (opened
/// before anything is created beside `dest`, so a missing source leaves nothing), `head` and
/// then what `step` makes of each chunk with `state` written to an [`AtomicFile`], `end`'s
/// output last, and the file renamed over `dest` only if all of it succeeded.
pub(super) fn transform<S>(
    (src, dest, opts, cancel): (&Path, &Path, WriteOptions, Cancel),
    (head, mut state): (&[u8], S),
    mut step: impl FnMut(&mut S, &[u8]) -> Result<Vec<u8>, KernelError>,
    end: impl FnOnce(&mut S) -> Result<Vec<u8>, KernelError>,
) -> Result<Transfer, Error> {
    let file = open(src)?;
    let mut out = AtomicFile::create(dest)?;
    out.write(head)?;
    let bytes_read = each_chunk(&file, src, READ_CHUNK, cancel, |piece| {
        Ok(out.write(&step(&mut state, piece)?)?)
    })?;
    out.write(&end(&mut state)?)?;
    let bytes_written = out.commit(opts.fsync)?;
    Ok(Transfer {
        bytes_read,
        bytes_written,
    })
}
