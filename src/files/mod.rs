//! Files on the pool: digests, HMACs, compression and decompression of files of any size,
//! read and written by the pool thread running the task (never libuv, never JS chunks).
//!
//! - `read`: a source read with `pread` in fixed chunks through one reused buffer, `cancel`
//!   polled per chunk: memory is constant whatever the file's size.
//! - `atomic`: outputs go to an `O_EXCL` temporary file beside `dest` and are renamed into
//!   place on success; any failure, cancel or panic removes it, so no partial `dest` exists.
//! - `error`: failed system calls as data ([`FileError`]: node's code, errno, call, path).
//! - `kernels`: [`hash_file`], [`hmac_file`], [`compress_file`], [`decompress_file`] on the
//!   incremental kernels of `kernels::stream` (same algorithms, formats and checks).
//! - `seal`: [`encrypt_file`], [`decrypt_file`] in the offload STREAM format (`crypto::seal`);
//!   a decrypted file appears only once every segment, the final one included, verified.

#![forbid(unsafe_code)]

mod atomic;
mod error;
mod kernels;
mod read;
mod seal;
#[cfg(test)]
mod tests;

pub use atomic::AtomicFile;
pub use error::{Error, FileError};
pub use kernels::{Transfer, WriteOptions, compress_file, decompress_file, hash_file, hmac_file};
pub use read::READ_CHUNK;
pub(crate) use read::{fill, open};
pub use seal::{decrypt_file, encrypt_file};
