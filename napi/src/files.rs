//! Entry module of the file kernels: `submitHashFile`, `submitHmacFile`, `submitCompressFile`,
//! `submitDecompressFile`, `submitCipherFile`. Arguments are checked on the JS thread (names, levels, limits,
//! paths: bounded work); opening, reading and writing happen on the pool thread that runs the
//! task (`offload_core::files`), never on libuv. Digests resolve as `hash()`'s; the
//! file-to-file kernels resolve with `[bytesRead, bytesWritten]`, which the JS layer names.
//! File errors reject with node's code (`ENOENT`) and message (see `errors::file_error`).

// On the module: napi's macro copies a function's attributes onto the code it generates, where
// an `expect` on the function would go unfulfilled.
#![expect(
    clippy::too_many_arguments,
    reason = "flat positional arguments, as the other entry modules (encryptFile has ten)"
)]

use napi::Env;
use napi::bindgen_prelude::{External, Uint8Array, Unknown};
use napi_derive::napi;

use crate::errors::{self, Result};
use crate::options::cipher::{algorithm as cipher_algorithm, key_len};
use crate::options::files::{
    CipherFileOptions, CompressFile, CompressFileOptions, DecompressFile, DecompressFileOptions,
    cipher_write, path,
};
use crate::options::kernels::{HashOptions, algorithm, encoding, format, hmac_algorithm};
use crate::pool::NativePool;
use crate::runtime::input::{Input, Secret};
use crate::runtime::value::Value;
use offload_core::files::{self, Transfer};
use offload_core::kernels::hash::{self, Encoded};
use offload_core::pool::CancelToken;

fn digest(d: Vec<u8>, enc: hash::Encoding) -> Value {
    match hash::encode(d, enc) {
        Encoded::Bytes(b) => Value::Bytes(b),
        Encoded::Text(t) => Value::Text(t),
    }
}

fn transfer(t: Transfer) -> Value {
    // Counts past 2^53 are beyond any file system in use; f64 carries them exactly below.
    Value::List(vec![
        Value::Number(t.bytes_read as f64),
        Value::Number(t.bytes_written as f64),
    ])
}

impl NativePool {
    /// Submits file work; it runs only while this environment is alive (`BorrowGuard`: an
    /// HMAC key is read in place), and its errors become task errors.
    fn run_file(
        &self,
        env: &Env,
        slot: u32,
        keep: &[&Unknown<'_>],
        priority: Option<String>,
        cancellable: bool,
        f: impl FnOnce(&CancelToken) -> std::result::Result<Value, files::Error> + Send + 'static,
    ) -> Result<Unknown<'static>> {
        let work = self.guarded_by(f, errors::file_error);
        self.submit(env, slot, keep, priority, cancellable, work)
    }
}

#[napi]
pub fn submit_hash_file(
    env: Env,
    pool: &External<NativePool>,
    slot: u32,
    algorithm: String,
    file: Uint8Array,
    options: Option<HashOptions>,
    priority: Option<String>,
    cancellable: bool,
) -> Result<Unknown<'static>> {
    let alg = self::algorithm(&algorithm)?;
    let enc = encoding(options)?;
    let p = path("path", &file)?;
    pool.run_file(&env, slot, &[], priority, cancellable, move |t| {
        let d = files::hash_file(alg, &p, &|| t.is_cancelled())?;
        Ok(digest(d, enc))
    })
}

#[napi]
pub fn submit_hmac_file(
    env: Env,
    pool: &External<NativePool>,
    slot: u32,
    algorithm: String,
    key: Unknown,
    file: Uint8Array,
    options: Option<HashOptions>,
    priority: Option<String>,
    cancellable: bool,
) -> Result<Unknown<'static>> {
    let alg = hmac_algorithm(&algorithm)?;
    let enc = encoding(options)?;
    let k = Input::from_js(&env, &key, "key")?;
    let p = path("path", &file)?;
    pool.run_file(&env, slot, &[&key], priority, cancellable, move |t| {
        let d = files::hmac_file(alg, k.as_slice(), &p, &|| t.is_cancelled())?;
        Ok(digest(d, enc))
    })
}

#[napi]
pub fn submit_compress_file(
    env: Env,
    pool: &External<NativePool>,
    slot: u32,
    format: String,
    src: Uint8Array,
    dest: Uint8Array,
    options: Option<CompressFileOptions>,
    priority: Option<String>,
    cancellable: bool,
) -> Result<Unknown<'static>> {
    let fmt = self::format(&format)?;
    let o = CompressFile::try_from((fmt, options))?;
    let (src, dest) = (path("src", &src)?, path("dest", &dest)?);
    pool.run_file(&env, slot, &[], priority, cancellable, move |t| {
        let cancel = &|| t.is_cancelled();
        files::compress_file(fmt, o.level, &src, &dest, o.write, cancel).map(transfer)
    })
}

#[napi]
pub fn submit_decompress_file(
    env: Env,
    pool: &External<NativePool>,
    slot: u32,
    format: String,
    src: Uint8Array,
    dest: Uint8Array,
    options: Option<DecompressFileOptions>,
    priority: Option<String>,
    cancellable: bool,
) -> Result<Unknown<'static>> {
    let fmt = self::format(&format)?;
    let o = DecompressFile::try_from(options)?;
    let (src, dest) = (path("src", &src)?, path("dest", &dest)?);
    pool.run_file(&env, slot, &[], priority, cancellable, move |t| {
        let cancel = &|| t.is_cancelled();
        files::decompress_file(fmt, o.max_output, &src, &dest, o.write, cancel).map(transfer)
    })
}

/// Encrypts (`decrypt` false) or decrypts a file in the offload STREAM format: `encryptFile`
/// and `decryptFile`. A string key's UTF-8 copy is wiped when the task ends; a binary key is
/// read in place.
#[napi]
pub fn submit_cipher_file(
    env: Env,
    pool: &External<NativePool>,
    slot: u32,
    decrypt: bool,
    algorithm: String,
    key: Unknown,
    src: Uint8Array,
    dest: Uint8Array,
    options: Option<CipherFileOptions>,
    priority: Option<String>,
    cancellable: bool,
) -> Result<Unknown<'static>> {
    let alg = cipher_algorithm(&algorithm)?;
    let mut k = Input::from_js(&env, &key, "key")?;
    let secret = Secret::take(&mut k);
    key_len(alg, secret.or(k.as_slice()).len())?;
    let write = cipher_write(options);
    let (src, dest) = (path("src", &src)?, path("dest", &dest)?);
    pool.run_file(&env, slot, &[&key], priority, cancellable, move |t| {
        let cancel = &|| t.is_cancelled();
        let key = secret.or(k.as_slice());
        if decrypt {
            files::decrypt_file(Some(alg), key, &src, &dest, write, cancel)
        } else {
            files::encrypt_file(alg, key, &src, &dest, write, cancel)
        }
        .map(transfer)
    })
}
