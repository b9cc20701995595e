//! Files encrypted and decrypted in the offload STREAM format (`crypto::seal`,
//! docs/encryption.md): the source read chunk by chunk, each chunk's segments sealed or opened
//! on the calling pool thread, the output written through an [`AtomicFile`]. Decryption
//! releases plaintext only per authenticated segment, and the output is renamed into place only
//! after the whole stream verified (its final segment included): a truncated, reordered or
//! tampered file, or a wrong key, leaves no `dest` at all, never a plausible prefix.

use std::path::Path;

use super::atomic::AtomicFile;
use super::error::Error;
use super::kernels::{Transfer, WriteOptions};
use super::read::{READ_CHUNK, each_chunk, open};
use crate::crypto::aead::Algorithm;
use crate::crypto::seal::{Opener, Sealer};
use crate::kernels::Cancel;

/// Encrypts `src` into `dest` (replaced atomically) under `key` with `alg`.
pub fn encrypt_file(
    alg: Algorithm,
    key: &[u8],
    src: &Path,
    dest: &Path,
    opts: WriteOptions,
    cancel: Cancel,
) -> Result<Transfer, Error> {
    let (mut sealer, header) = Sealer::new(alg, key)?;
    let file = open(src)?;
    let mut out = AtomicFile::create(dest)?;
    out.write(&header)?;
    let bytes_read = each_chunk(&file, src, READ_CHUNK, cancel, |piece| {
        Ok(out.write(&sealer.push(piece, false, cancel)?)?)
    })?;
    out.write(&sealer.push(&[], true, cancel)?)?;
    let bytes_written = out.commit(opts.fsync)?;
    Ok(Transfer {
        bytes_read,
        bytes_written,
    })
}

/// Decrypts `src` (written by [`encrypt_file`] or any STREAM writer) into `dest`. `expected`,
/// when given, must be the algorithm the file names.
pub fn decrypt_file(
    expected: Option<Algorithm>,
    key: &[u8],
    src: &Path,
    dest: &Path,
    opts: WriteOptions,
    cancel: Cancel,
) -> Result<Transfer, Error> {
    let mut opener = Opener::new(expected, key)?;
    let file = open(src)?;
    let mut out = AtomicFile::create(dest)?;
    let bytes_read = each_chunk(&file, src, READ_CHUNK, cancel, |piece| {
        Ok(out.write(&opener.push(piece, cancel)?)?)
    })?;
    out.write(&opener.finish(cancel)?)?;
    let bytes_written = out.commit(opts.fsync)?;
    Ok(Transfer {
        bytes_read,
        bytes_written,
    })
}
