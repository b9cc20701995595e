//! Files encrypted and decrypted in the offload STREAM format (`crypto::seal`,
//! docs/encryption.md): the source read chunk by chunk, each chunk's segments sealed or opened
//! on the calling pool thread, the output written through an [`AtomicFile`]. Decryption
//! releases plaintext only per authenticated segment, and the output is renamed into place only
//! after the whole stream verified (its final segment included): a truncated, reordered or
//! tampered file, or a wrong key, leaves no `dest` at all, never a plausible prefix.

use std::path::Path;

use super::error::Error;
use super::kernels::{Transfer, WriteOptions, transform};
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
    let (sealer, header) = Sealer::new(alg, key)?;
    transform(
        (src, dest, opts, cancel),
        (&header, sealer),
        |sealer, piece| sealer.push(piece, false, cancel),
        |sealer| sealer.push(&[], true, cancel),
    )
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
    transform(
        (src, dest, opts, cancel),
        (&[], Opener::new(expected, key)?),
        |opener, piece| opener.push(piece, cancel),
        |opener| opener.finish(cancel),
    )
}
