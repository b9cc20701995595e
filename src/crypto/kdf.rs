//! Raw key derivations, byte for byte those of node:crypto: `scrypt` (RFC 7914, RustCrypto's
//! `scrypt::scrypt`), `pbkdf2` (RFC 8018 over RustCrypto's `hmac`) and `hkdf` (RFC 5869,
//! RustCrypto's `hkdf`).
//!
//! Parameters follow OpenSSL's rules, which node applies: [`ScryptParams::new`] refuses what
//! `EVP_PBE_scrypt` refuses, memory included (`128 * r * (N + 2 + p)` bytes against `maxmem`), so
//! a call node rejects is rejected here before any work. PBKDF2 is a loop of our own rather than
//! the `pbkdf2` crate's, only so it can poll its cancel flag every [`PBKDF2_POLL`] iterations (a
//! count of 2^31 − 1 is half an hour of work); its output is checked against node's and
//! RFC 6070's in the tests. scrypt runs in one call of the crate (its cost is bounded by the
//! caller's `maxmem`); HKDF is at most 255 hash blocks. Both poll once, before they start.
//!
//! Secrets: the working blocks of PBKDF2 are wiped before they are dropped. The crates' own
//! state (scrypt's memory-hard array, HMAC and HKDF midstates) is not wiped; no secret is ever
//! put in an error.

use hmac::Hmac;
use hmac::digest::generic_array::GenericArray;
use hmac::digest::{FixedOutput, KeyInit, Update};
use zeroize::Zeroizing;

use crate::kernels::{Cancel, KernelError, check};

/// Iterations of PBKDF2 between two cancel polls: ~1 ms of HMAC-SHA-512.
pub const PBKDF2_POLL: u32 = 2048;

/// The longest digest (SHA-512's, SHA3-512's), in bytes.
const MAX_DIGEST: usize = 64;

/// The hash under PBKDF2's and HKDF's HMAC.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Digest {
    Md5,
    Sha1,
    Sha224,
    Sha256,
    Sha384,
    Sha512,
    Sha512_224,
    Sha512_256,
    Sha3_224,
    Sha3_256,
    Sha3_384,
    Sha3_512,
}

/// Runs `$body` with `$T` the hash type of `$digest`.
macro_rules! with_digest {
    ($digest:expr, $T:ident => $body:expr) => {
        match $digest {
            Digest::Md5 => {
                type $T = md5::Md5;
                $body
            }
            Digest::Sha1 => {
                type $T = sha1::Sha1;
                $body
            }
            Digest::Sha224 => {
                type $T = sha2::Sha224;
                $body
            }
            Digest::Sha256 => {
                type $T = sha2::Sha256;
                $body
            }
            Digest::Sha384 => {
                type $T = sha2::Sha384;
                $body
            }
            Digest::Sha512 => {
                type $T = sha2::Sha512;
                $body
            }
            Digest::Sha512_224 => {
                type $T = sha2::Sha512_224;
                $body
            }
            Digest::Sha512_256 => {
                type $T = sha2::Sha512_256;
                $body
            }
            Digest::Sha3_224 => {
                type $T = sha3::Sha3_224;
                $body
            }
            Digest::Sha3_256 => {
                type $T = sha3::Sha3_256;
                $body
            }
            Digest::Sha3_384 => {
                type $T = sha3::Sha3_384;
                $body
            }
            Digest::Sha3_512 => {
                type $T = sha3::Sha3_512;
                $body
            }
        }
    };
}

impl Digest {
    pub const ALL: [Digest; 12] = [
        Self::Md5,
        Self::Sha1,
        Self::Sha224,
        Self::Sha256,
        Self::Sha384,
        Self::Sha512,
        Self::Sha512_224,
        Self::Sha512_256,
        Self::Sha3_224,
        Self::Sha3_256,
        Self::Sha3_384,
        Self::Sha3_512,
    ];

    /// OpenSSL's name, as node prints it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Md5 => "md5",
            Self::Sha1 => "sha1",
            Self::Sha224 => "sha224",
            Self::Sha256 => "sha256",
            Self::Sha384 => "sha384",
            Self::Sha512 => "sha512",
            Self::Sha512_224 => "sha512-224",
            Self::Sha512_256 => "sha512-256",
            Self::Sha3_224 => "sha3-224",
            Self::Sha3_256 => "sha3-256",
            Self::Sha3_384 => "sha3-384",
            Self::Sha3_512 => "sha3-512",
        }
    }

    /// The digest's name as node takes it: OpenSSL's names and their `sha-256` spellings, in
    /// any case. `None` for anything else (node: `ERR_CRYPTO_INVALID_DIGEST`).
    pub fn from_name(name: &str) -> Option<Self> {
        let lower = name.to_ascii_lowercase();
        let canonical = match lower.as_str() {
            "sha-1" => "sha1",
            "sha-224" => "sha224",
            "sha-256" => "sha256",
            "sha-384" => "sha384",
            "sha-512" => "sha512",
            "sha-512/224" | "sha512/224" => "sha512-224",
            "sha-512/256" | "sha512/256" => "sha512-256",
            other => other,
        };
        Self::ALL.into_iter().find(|d| d.name() == canonical)
    }

    /// Bytes of one digest.
    pub fn output_len(self) -> usize {
        with_digest!(self, D => <D as hmac::digest::OutputSizeUser>::output_size())
    }

    /// HKDF's longest output: 255 blocks.
    pub fn hkdf_max_len(self) -> usize {
        255 * self.output_len()
    }
}

/// PBKDF2-HMAC (RFC 8018 §5.2) of `password` and `salt` into `out` (any length, node's
/// `keylen`). `iterations` is at least 1 (0 counts as 1).
pub fn pbkdf2(
    digest: Digest,
    password: &[u8],
    salt: &[u8],
    iterations: u32,
    out: &mut [u8],
    cancel: Cancel,
) -> Result<(), KernelError> {
    with_digest!(digest, D => pbkdf2_mac::<Hmac<D>>(password, salt, iterations, out, cancel))
}

fn pbkdf2_mac<M: Update + FixedOutput + KeyInit + Clone>(
    password: &[u8],
    salt: &[u8],
    iterations: u32,
    out: &mut [u8],
    cancel: Cancel,
) -> Result<(), KernelError> {
    check(cancel)?;
    // HMAC takes keys of any length: this error cannot happen.
    let prf = <M as KeyInit>::new_from_slice(password)
        .map_err(|_| KernelError::Unsupported("HMAC refused the password".to_owned()))?;
    let n = M::output_size();
    // The working blocks, wiped on every way out (a cancel included).
    let mut u = Zeroizing::new([0u8; MAX_DIGEST]);
    let mut t = Zeroizing::new([0u8; MAX_DIGEST]);
    let (u, t) = (&mut u[..n], &mut t[..n]);
    // Block i (from 1) is U_1 ^ ... ^ U_c, U_1 = PRF(salt || i), U_j = PRF(U_{j-1}).
    for (block, i) in out.chunks_mut(n).zip(1u32..) {
        let mut mac = prf.clone();
        mac.update(salt);
        mac.update(&i.to_be_bytes());
        mac.finalize_into(GenericArray::from_mut_slice(u));
        t.copy_from_slice(u);
        for j in 1..iterations {
            if j % PBKDF2_POLL == 0 {
                check(cancel)?;
            }
            let mut mac = prf.clone();
            mac.update(u);
            mac.finalize_into(GenericArray::from_mut_slice(u));
            t.iter_mut().zip(u.iter()).for_each(|(t, u)| *t ^= u);
        }
        block.copy_from_slice(&t[..block.len()]);
    }
    Ok(())
}

/// HKDF (RFC 5869): extract with `salt` (empty: the RFC's zeros, the same key to HMAC), expand
/// with `info` into `out`, at most [`Digest::hkdf_max_len`] bytes.
pub fn hkdf(
    digest: Digest,
    ikm: &[u8],
    salt: &[u8],
    info: &[u8],
    out: &mut [u8],
    cancel: Cancel,
) -> Result<(), KernelError> {
    check(cancel)?;
    let max = digest.hkdf_max_len();
    with_digest!(digest, D => hkdf::Hkdf::<D>::new(Some(salt), ikm).expand(info, out))
        .map_err(|_| KernelError::Unsupported(format!("HKDF output longer than {max} bytes")))
}

/// node's defaults: `N = 16384`, `r = 8`, `p = 1`, `maxmem = 32 MiB`.
pub const SCRYPT_DEFAULT_N: u64 = 16_384;
pub const SCRYPT_DEFAULT_R: u32 = 8;
pub const SCRYPT_DEFAULT_P: u32 = 1;
pub const SCRYPT_DEFAULT_MAXMEM: u64 = 32 << 20;

/// Why OpenSSL (and so node) refuses scrypt parameters.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum ScryptParamsError {
    #[error("N must be a power of 2 greater than 1 (received {0})")]
    N(u64),
    #[error("r and p must be at least 1")]
    Zero,
    #[error("r * p must be below 2^30 (received r = {r}, p = {p})")]
    RTimesP { r: u32, p: u32 },
    #[error("N must be below 2^(16 * r) (received N = {n}, r = {r})")]
    NForR { n: u64, r: u32 },
    #[error(
        "memory limit exceeded: N = {n}, r = {r}, p = {p} need {needed} bytes, maxmem is {maxmem}"
    )]
    Memory {
        n: u64,
        r: u32,
        p: u32,
        needed: u128,
        maxmem: u64,
    },
}

/// Checked scrypt parameters.
#[derive(Clone, Copy, Debug)]
pub struct ScryptParams {
    params: scrypt::Params,
    /// Bytes the derivation allocates, as OpenSSL counts them.
    pub memory: u64,
}

impl ScryptParams {
    /// The checks of OpenSSL's `EVP_PBE_scrypt_ex`, in its order, `maxmem` included.
    pub fn new(n: u64, r: u32, p: u32, maxmem: u64) -> Result<Self, ScryptParamsError> {
        if n < 2 || !n.is_power_of_two() {
            return Err(ScryptParamsError::N(n));
        }
        if r == 0 || p == 0 {
            return Err(ScryptParamsError::Zero);
        }
        if u64::from(r) * u64::from(p) >= 1 << 30 {
            return Err(ScryptParamsError::RTimesP { r, p });
        }
        let log_n = n.trailing_zeros();
        if u64::from(r) * 16 <= 63 && u64::from(log_n) >= u64::from(r) * 16 {
            return Err(ScryptParamsError::NForR { n, r });
        }
        // B (128 r p) and V (128 r N) plus X and T (2 x 128 r), in bytes.
        let needed = 128 * u128::from(r) * (u128::from(n) + 2 + u128::from(p));
        if needed > u128::from(maxmem) || usize::try_from(needed).is_err() {
            return Err(ScryptParamsError::Memory {
                n,
                r,
                p,
                needed,
                maxmem,
            });
        }
        // `len` is only the crate's PHC output length; `scrypt()` takes the output's.
        let params = scrypt::Params::new(log_n as u8, r, p, scrypt::Params::RECOMMENDED_LEN)
            .map_err(|_| ScryptParamsError::Memory {
                n,
                r,
                p,
                needed,
                maxmem,
            })?;
        Ok(Self {
            params,
            memory: needed as u64,
        })
    }
}

/// scrypt (RFC 7914) of `password` and `salt` into `out` (empty is fine, as in node).
pub fn scrypt(
    password: &[u8],
    salt: &[u8],
    params: &ScryptParams,
    out: &mut [u8],
    cancel: Cancel,
) -> Result<(), KernelError> {
    check(cancel)?;
    if out.is_empty() {
        return Ok(());
    }
    scrypt::scrypt(password, salt, &params.params, out)
        .map_err(|_| KernelError::Unsupported("scrypt output too long".to_owned()))
}

#[cfg(test)]
#[path = "kdf_tests.rs"]
mod tests;
