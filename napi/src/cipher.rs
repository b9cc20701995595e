//! Entry points of key derivation (`scrypt`, `pbkdf2`, `hkdf`) and authenticated encryption
//! (`encrypt`, `decrypt`): arguments checked on the JS thread (`options/cipher.rs`), the work
//! on the pool (`offload_core::crypto`), the result a Buffer (`encrypt`: `[iv, ciphertext,
//! tag]`, which the JS layer names).
//!
//! Secrets: a Uint8Array is read in place, never copied here. A string (a password, a key) has
//! to be transcoded, and that UTF-8 copy is the one native copy of it: it is moved out of its
//! `Input` into a buffer wiped when the task drops it ([`Secret`]). The IV and tag (not
//! secret, 12 and 16 bytes) are copied on the JS thread; a missing IV is drawn from the OS there.

// On the module: napi's macro copies a function's attributes onto the code it generates, where
// an `expect` on the function would go unfulfilled.
#![expect(
    clippy::too_many_arguments,
    reason = "flat positional arguments (clippy.toml); node's own signatures are this long"
)]

use napi::Env;
use napi::bindgen_prelude::{External, Unknown};
use napi_derive::napi;

use crate::errors::{Result, internal};
use crate::options::cipher::{
    ScryptOptions, algorithm, digest, hkdf_info, hkdf_keylen, iterations, iv, key_len, keylen, tag,
};
use crate::pool::NativePool;
use crate::runtime::input::{Input, Secret};
use crate::runtime::value::Value;
use offload_core::crypto::aead;
use offload_core::crypto::kdf::{self, ScryptParams};

/// A derived key of `len` bytes, filled by `derive`.
fn derived(
    len: usize,
    derive: impl FnOnce(&mut [u8]) -> std::result::Result<(), offload_core::kernels::KernelError>,
) -> std::result::Result<Value, offload_core::kernels::KernelError> {
    let mut out = vec![0u8; len];
    derive(&mut out)?;
    Ok(Value::Bytes(out))
}

/// scrypt of `password` and `salt`: `keylen` bytes.
#[napi]
pub fn submit_scrypt(
    env: Env,
    pool: &External<NativePool>,
    slot: u32,
    password: Unknown,
    salt: Unknown,
    keylen: f64,
    options: Option<ScryptOptions>,
    priority: Option<String>,
    cancellable: bool,
) -> Result<Unknown<'static>> {
    let len = self::keylen(keylen)?;
    let params = ScryptParams::try_from(options.unwrap_or_default())?;
    let mut pw = Input::from_js(&env, &password, "password")?;
    let secret = Secret::take(&mut pw);
    let s = Input::from_js(&env, &salt, "salt")?;
    pool.run_kernel(
        &env,
        slot,
        priority,
        cancellable,
        [&password, &salt],
        [pw, s],
        move |[pw, s], t| {
            derived(len, |out| {
                kdf::scrypt(secret.or(pw), s, &params, out, &|| t.is_cancelled())
            })
        },
    )
}

/// PBKDF2-HMAC of `password` and `salt`: `keylen` bytes.
#[napi]
pub fn submit_pbkdf2(
    env: Env,
    pool: &External<NativePool>,
    slot: u32,
    password: Unknown,
    salt: Unknown,
    iterations: f64,
    keylen: f64,
    digest: String,
    priority: Option<String>,
    cancellable: bool,
) -> Result<Unknown<'static>> {
    let rounds = self::iterations(iterations)?;
    let len = self::keylen(keylen)?;
    let d = self::digest(&digest)?;
    let mut pw = Input::from_js(&env, &password, "password")?;
    let secret = Secret::take(&mut pw);
    let s = Input::from_js(&env, &salt, "salt")?;
    pool.run_kernel(
        &env,
        slot,
        priority,
        cancellable,
        [&password, &salt],
        [pw, s],
        move |[pw, s], t| {
            derived(len, |out| {
                kdf::pbkdf2(d, secret.or(pw), s, rounds, out, &|| t.is_cancelled())
            })
        },
    )
}

/// HKDF of `ikm` with `salt` and `info`: `keylen` bytes.
#[napi]
pub fn submit_hkdf(
    env: Env,
    pool: &External<NativePool>,
    slot: u32,
    digest: String,
    ikm: Unknown,
    salt: Unknown,
    info: Unknown,
    keylen: f64,
    priority: Option<String>,
    cancellable: bool,
) -> Result<Unknown<'static>> {
    let d = self::digest(&digest)?;
    let len = hkdf_keylen(keylen, d)?;
    let mut k = Input::from_js(&env, &ikm, "ikm")?;
    let secret = Secret::take(&mut k);
    let s = Input::from_js(&env, &salt, "salt")?;
    let i = Input::from_js(&env, &info, "info")?;
    hkdf_info(i.as_slice().len())?;
    pool.run_kernel(
        &env,
        slot,
        priority,
        cancellable,
        [&ikm, &salt, &info],
        [k, s, i],
        move |[k, s, i], t| {
            derived(len, |out| {
                kdf::hkdf(d, secret.or(k), s, i, out, &|| t.is_cancelled())
            })
        },
    )
}

/// Encrypts `plaintext` under `key`: `[iv, ciphertext, tag]`. `iv`, when given, is used as is;
/// otherwise one is drawn from the OS.
#[napi]
pub fn submit_encrypt(
    env: Env,
    pool: &External<NativePool>,
    slot: u32,
    algorithm: String,
    key: Unknown,
    plaintext: Unknown,
    aad: Unknown,
    iv: Option<Unknown>,
    priority: Option<String>,
    cancellable: bool,
) -> Result<Unknown<'static>> {
    let alg = self::algorithm(&algorithm)?;
    let mut k = Input::from_js(&env, &key, "key")?;
    let secret = Secret::take(&mut k);
    key_len(alg, secret.or(k.as_slice()).len())?;
    let nonce = match iv {
        Some(v) => self::iv(Input::from_js(&env, &v, "options.iv")?.as_slice())?,
        None => aead::random_iv()
            .map_err(|e| internal(format!("the OS random number generator failed: {e}")))?,
    };
    let data = Input::from_js(&env, &plaintext, "plaintext")?;
    let a = Input::from_js(&env, &aad, "options.aad")?;
    pool.run_kernel(
        &env,
        slot,
        priority,
        cancellable,
        [&key, &plaintext, &aad],
        [k, data, a],
        move |[k, data, a], t| {
            let (ciphertext, tag) =
                aead::seal(alg, secret.or(k), &nonce, a, data, &|| t.is_cancelled())?;
            Ok(Value::List(vec![
                Value::Bytes(nonce.to_vec()),
                Value::Bytes(ciphertext),
                Value::Bytes(tag.to_vec()),
            ]))
        },
    )
}

/// Decrypts and verifies `ciphertext`: the plaintext, or `ERR_OFFLOAD_AUTH_FAILED` with none.
#[napi]
pub fn submit_decrypt(
    env: Env,
    pool: &External<NativePool>,
    slot: u32,
    algorithm: String,
    key: Unknown,
    iv: Unknown,
    ciphertext: Unknown,
    auth_tag: Unknown,
    aad: Unknown,
    priority: Option<String>,
    cancellable: bool,
) -> Result<Unknown<'static>> {
    let alg = self::algorithm(&algorithm)?;
    let mut k = Input::from_js(&env, &key, "key")?;
    let secret = Secret::take(&mut k);
    key_len(alg, secret.or(k.as_slice()).len())?;
    let nonce = self::iv(Input::from_js(&env, &iv, "encrypted.iv")?.as_slice())?;
    let t = tag(Input::from_js(&env, &auth_tag, "encrypted.authTag")?.as_slice())?;
    let data = Input::from_js(&env, &ciphertext, "encrypted.ciphertext")?;
    let a = Input::from_js(&env, &aad, "options.aad")?;
    pool.run_kernel(
        &env,
        slot,
        priority,
        cancellable,
        [&key, &ciphertext, &aad],
        [k, data, a],
        move |[k, data, a], token| {
            let plain = aead::open(alg, secret.or(k), &nonce, a, data, &t, &|| {
                token.is_cancelled()
            })?;
            Ok(Value::Bytes(plain))
        },
    )
}
