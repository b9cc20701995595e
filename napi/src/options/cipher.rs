//! Arguments of the key derivations and of `encrypt`/`decrypt`, checked on the JS thread with
//! node's codes, ranges and messages (node:crypto's `scrypt`, `pbkdf2`, `hkdf` and
//! `createCipheriv` are the reference; `__test__/cipher.test.js` compares the codes).
//!
//! The string unions of the typings (`CipherAlgorithm`, `KdfDigest`) are generated from the
//! `string_enum`s below, tied to the core enums by exhaustive matches. A digest is parsed as node
//! parses it (any case, `sha-256` spellings): an unknown one is `ERR_CRYPTO_INVALID_DIGEST`. An
//! unknown cipher is `ERR_INVALID_ARG_VALUE` listing the three (node's `ERR_CRYPTO_UNKNOWN_CIPHER`
//! would also cover ciphers node has and this module does not).

use napi_derive::napi;

use super::{MAX_BUFFER_LENGTH, MAX_SAFE_INTEGER, name};
use crate::errors::{
    ERR_CRYPTO_INVALID_AUTH_TAG, ERR_CRYPTO_INVALID_DIGEST, ERR_CRYPTO_INVALID_IV,
    ERR_CRYPTO_INVALID_KEYLEN, ERR_CRYPTO_INVALID_SCRYPT_PARAMS,
    ERR_CRYPTO_SCRYPT_INVALID_PARAMETER, Error, Result, coded, out_of_range,
};
use offload_core::crypto::aead::{Algorithm, IV_LEN, TAG_LEN};
use offload_core::crypto::kdf::{
    Digest, SCRYPT_DEFAULT_MAXMEM, SCRYPT_DEFAULT_N, SCRYPT_DEFAULT_P, SCRYPT_DEFAULT_R,
    ScryptParams,
};

/// Longest `info` node's `hkdf` takes.
const MAX_HKDF_INFO: usize = 1024;
const INT32_MAX: f64 = 2_147_483_647.0;
const UINT32_MAX: f64 = 4_294_967_295.0;

/// The ciphers of `encrypt` and `decrypt`: a 12-byte IV and a 16-byte tag each.
#[napi(string_enum)]
pub enum CipherAlgorithm {
    #[napi(value = "aes-256-gcm")]
    Aes256Gcm,
    #[napi(value = "aes-128-gcm")]
    Aes128Gcm,
    #[napi(value = "chacha20-poly1305")]
    ChaCha20Poly1305,
}

const _: fn(Algorithm) -> CipherAlgorithm = |a| match a {
    Algorithm::Aes256Gcm => CipherAlgorithm::Aes256Gcm,
    Algorithm::Aes128Gcm => CipherAlgorithm::Aes128Gcm,
    Algorithm::ChaCha20Poly1305 => CipherAlgorithm::ChaCha20Poly1305,
};

/// The digests of `pbkdf2` and `hkdf` (also accepted in upper case and as `'sha-256'`).
#[napi(string_enum)]
pub enum KdfDigest {
    #[napi(value = "sha1")]
    Sha1,
    #[napi(value = "sha224")]
    Sha224,
    #[napi(value = "sha256")]
    Sha256,
    #[napi(value = "sha384")]
    Sha384,
    #[napi(value = "sha512")]
    Sha512,
    #[napi(value = "sha512-224")]
    Sha512_224,
    #[napi(value = "sha512-256")]
    Sha512_256,
    #[napi(value = "sha3-224")]
    Sha3_224,
    #[napi(value = "sha3-256")]
    Sha3_256,
    #[napi(value = "sha3-384")]
    Sha3_384,
    #[napi(value = "sha3-512")]
    Sha3_512,
    #[napi(value = "md5")]
    Md5,
}

const _: fn(Digest) -> KdfDigest = |d| match d {
    Digest::Sha1 => KdfDigest::Sha1,
    Digest::Sha224 => KdfDigest::Sha224,
    Digest::Sha256 => KdfDigest::Sha256,
    Digest::Sha384 => KdfDigest::Sha384,
    Digest::Sha512 => KdfDigest::Sha512,
    Digest::Sha512_224 => KdfDigest::Sha512_224,
    Digest::Sha512_256 => KdfDigest::Sha512_256,
    Digest::Sha3_224 => KdfDigest::Sha3_224,
    Digest::Sha3_256 => KdfDigest::Sha3_256,
    Digest::Sha3_384 => KdfDigest::Sha3_384,
    Digest::Sha3_512 => KdfDigest::Sha3_512,
    Digest::Md5 => KdfDigest::Md5,
};

/// scrypt's cost parameters, under node's names (each given once, by either name).
#[napi(object, object_to_js = false)]
#[derive(Default)]
pub struct ScryptOptions {
    /// CPU and memory cost, a power of 2 greater than 1. Default: `16384`.
    #[napi(js_name = "N")]
    pub n: Option<f64>,
    /// Alias of `N`.
    pub cost: Option<f64>,
    /// Block size. Default: `8`.
    pub r: Option<f64>,
    /// Alias of `r`.
    pub block_size: Option<f64>,
    /// Parallelization. Default: `1`.
    pub p: Option<f64>,
    /// Alias of `p`.
    pub parallelization: Option<f64>,
    /// Memory limit in bytes: parameters needing more (`128 * r * (N + 2 + p)`) are refused
    /// with `ERR_CRYPTO_INVALID_SCRYPT_PARAMS`, as node does. Default: `33554432` (32 MiB).
    pub maxmem: Option<f64>,
}

/// An integer in `min..=max`, with node's wording (`"an integer"` first, then the range).
fn int(name: &str, v: f64, min: f64, max: f64) -> Result<f64> {
    if v.fract() != 0.0 || v.is_nan() {
        return Err(out_of_range(name, "an integer", v));
    }
    if !(min..=max).contains(&v) {
        return Err(out_of_range(name, format!(">= {min} && <= {max}"), v));
    }
    Ok(v)
}

/// `keylen` of `scrypt` and `pbkdf2`: an int32 >= 0, as node.
pub(crate) fn keylen(v: f64) -> Result<usize> {
    Ok(int("keylen", v, 0.0, INT32_MAX)? as usize)
}

/// `iterations` of `pbkdf2`: an int32 >= 1, as node.
pub(crate) fn iterations(v: f64) -> Result<u32> {
    Ok(int("iterations", v, 1.0, INT32_MAX)? as u32)
}

/// The digest of `pbkdf2` or `hkdf`.
pub(crate) fn digest(name: &str) -> Result<Digest> {
    Digest::from_name(name)
        .ok_or_else(|| coded(ERR_CRYPTO_INVALID_DIGEST, format!("Invalid digest: {name}")))
}

/// `keylen` of `hkdf`: at most 255 digests (node: `ERR_CRYPTO_INVALID_KEYLEN` past that).
pub(crate) fn hkdf_keylen(v: f64, digest: Digest) -> Result<usize> {
    let len = int("keylen", v, 0.0, MAX_BUFFER_LENGTH)? as usize;
    if len > digest.hkdf_max_len() {
        return Err(coded(
            ERR_CRYPTO_INVALID_KEYLEN,
            format!(
                "Invalid key length: HKDF-{} gives at most {} bytes, {len} asked for",
                digest.name().to_uppercase(),
                digest.hkdf_max_len()
            ),
        ));
    }
    Ok(len)
}

/// `info` of `hkdf`: at most 1024 bytes, as node.
pub(crate) fn hkdf_info(len: usize) -> Result<()> {
    if len > MAX_HKDF_INFO {
        return Err(out_of_range(
            "info",
            format!("at most {MAX_HKDF_INFO} bytes long"),
            len,
        ));
    }
    Ok(())
}

/// One scrypt parameter given under either of its names (node checks the first name's value
/// before it sees the second); 0 means the default, as in node.
fn either(a: (&str, Option<f64>), b: (&str, Option<f64>)) -> Result<Option<f64>> {
    let uint32 = |name: &str, v: f64| int(&format!("options.{name}"), v, 0.0, UINT32_MAX);
    let first = a.1.map(|v| uint32(a.0, v)).transpose()?;
    let v = match (first, b.1) {
        (Some(_), Some(_)) => {
            return Err(coded(
                ERR_CRYPTO_SCRYPT_INVALID_PARAMETER,
                format!(
                    "Invalid scrypt parameter: options.{} and options.{} are the same parameter, give one",
                    a.0, b.0
                ),
            ));
        }
        (None, Some(v)) => Some(uint32(b.0, v)?),
        (first, None) => first,
    };
    Ok(v.filter(|&v| v != 0.0))
}

impl TryFrom<ScryptOptions> for ScryptParams {
    type Error = Error;

    fn try_from(o: ScryptOptions) -> Result<Self> {
        let n = either(("N", o.n), ("cost", o.cost))?.map_or(SCRYPT_DEFAULT_N, |v| v as u64);
        let r =
            either(("r", o.r), ("blockSize", o.block_size))?.map_or(SCRYPT_DEFAULT_R, |v| v as u32);
        let p = either(("p", o.p), ("parallelization", o.parallelization))?
            .map_or(SCRYPT_DEFAULT_P, |v| v as u32);
        let maxmem = match o.maxmem {
            None => SCRYPT_DEFAULT_MAXMEM,
            Some(v) => match int("options.maxmem", v, 0.0, MAX_SAFE_INTEGER)? as u64 {
                0 => SCRYPT_DEFAULT_MAXMEM,
                m => m,
            },
        };
        ScryptParams::new(n, r, p, maxmem).map_err(|e| {
            coded(
                ERR_CRYPTO_INVALID_SCRYPT_PARAMS,
                format!("Invalid scrypt params: {e}"),
            )
        })
    }
}

/// The `algorithm` of `encrypt` and `decrypt`.
pub(crate) fn algorithm(s: &str) -> Result<Algorithm> {
    let all = Algorithm::ALL.map(Algorithm::name);
    name("argument 'algorithm'", &all, s)
}

/// A key of the algorithm's length (node: `ERR_CRYPTO_INVALID_KEYLEN`). The message gives
/// lengths only, never a byte of the key.
pub(crate) fn key_len(alg: Algorithm, len: usize) -> Result<()> {
    if len != alg.key_len() {
        return Err(coded(
            ERR_CRYPTO_INVALID_KEYLEN,
            format!(
                "Invalid key length: {} takes a {}-byte key, received {len} bytes",
                alg.name(),
                alg.key_len()
            ),
        ));
    }
    Ok(())
}

/// A 12-byte IV (node: `ERR_CRYPTO_INVALID_IV`; node's GCM also takes other lengths, these
/// functions do not: a 12-byte IV is the only one GCM uses without hashing it first).
pub(crate) fn iv(bytes: &[u8]) -> Result<[u8; IV_LEN]> {
    bytes.try_into().map_err(|_| {
        coded(
            ERR_CRYPTO_INVALID_IV,
            format!(
                "Invalid initialization vector: {IV_LEN} bytes expected, received {}",
                bytes.len()
            ),
        )
    })
}

/// A 16-byte tag (node: `ERR_CRYPTO_INVALID_AUTH_TAG`, its message).
pub(crate) fn tag(bytes: &[u8]) -> Result<[u8; TAG_LEN]> {
    bytes.try_into().map_err(|_| {
        coded(
            ERR_CRYPTO_INVALID_AUTH_TAG,
            format!(
                "Invalid authentication tag length: {} (expected {TAG_LEN})",
                bytes.len()
            ),
        )
    })
}
