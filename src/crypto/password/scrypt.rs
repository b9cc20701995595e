//! scrypt through RustCrypto's `scrypt` crate, written in the PHC form its `password-hash`
//! support writes and passlib (Python) and `@phc/scrypt` (npm) read:
//! `$scrypt$ln=17,r=8,p=1$<salt>$<hash>`, `ln` being log2(N), 16-byte salt, 32-byte hash,
//! unpadded standard base64. The derivation is node's `crypto.scrypt` (the tests check it
//! against that). A parameter missing from a string takes the crate's default (ln=17, r=8,
//! p=1), as the crate does when it verifies.

use ::scrypt::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use ::scrypt::{Params, Scrypt};

use super::{Kind, PasswordError, Spec, out_of_range, within};

/// Bytes scrypt allocates at once: N blocks of 128·r bytes, p more, and two for mixing.
pub(super) fn memory(log_n: u8, r: u32, p: u32) -> Option<u64> {
    let block = 128 * u64::from(r);
    let n = 1u64.checked_shl(u32::from(log_n))?;
    n.checked_add(u64::from(p))?
        .checked_add(2)?
        .checked_mul(block)
}

/// Checks cost `n`, block size `r` and parallelization `p`, as node's `crypto.scrypt` does
/// (N a power of 2 above 1, r·p < 2^30, N < 2^(16·r)), with memory within `budget` bytes.
pub(super) fn check(n: u64, r: u64, p: u64, budget: u64) -> Result<Spec, PasswordError> {
    if n < 2 || !n.is_power_of_two() {
        return Err(out_of_range("N", "a power of 2 >= 2", n));
    }
    let r = within("r", r, 1, (1 << 30) - 1)?;
    let max_p = ((1u64 << 30) - 1) / u64::from(r);
    let p = within("p", p, 1, max_p).map_err(|_| {
        out_of_range(
            "p",
            format!("an integer >= 1 && <= {max_p} (r × p < 2^30)"),
            p,
        )
    })?;
    let log_n = n.trailing_zeros() as u8;
    if u32::from(log_n) >= 16 * r {
        return Err(out_of_range("N", format!("< 2^(16 × r) = 2^{}", 16 * r), n));
    }
    match memory(log_n, r, p) {
        Some(bytes) if bytes <= budget => Ok(Spec(Kind::Scrypt { log_n, r, p })),
        _ => Err(out_of_range(
            "N",
            format!(
                "a power of 2 small enough that 128 × r × (N + p + 2) bytes fit the process's \
                 memory budget ({budget} bytes, a quarter of RAM)"
            ),
            n,
        )),
    }
}

pub(super) fn hash(
    password: &[u8],
    salt: &[u8],
    log_n: u8,
    r: u32,
    p: u32,
) -> Result<String, PasswordError> {
    let failed = |e: String| PasswordError::Failed(e);
    let params =
        Params::new(log_n, r, p, Params::RECOMMENDED_LEN).map_err(|e| failed(e.to_string()))?;
    let salt = SaltString::encode_b64(salt).map_err(|e| failed(e.to_string()))?;
    let hash = Scrypt
        .hash_password_customized(password, None, None, params, &salt)
        .map_err(|e| failed(e.to_string()))?;
    Ok(hash.to_string())
}

fn malformed(e: impl std::fmt::Display) -> PasswordError {
    PasswordError::Malformed(format!("it is not a valid scrypt PHC string ({e})"))
}

fn read(text: &str) -> Result<(PasswordHash<'_>, Params), PasswordError> {
    let hash = PasswordHash::new(text).map_err(malformed)?;
    if hash.algorithm.as_str() != "scrypt" {
        return Err(malformed("not scrypt"));
    }
    if hash.salt.is_none() || hash.hash.is_none() {
        return Err(malformed("salt or hash missing"));
    }
    let params = Params::try_from(&hash).map_err(malformed)?;
    Ok((hash, params))
}

pub(super) fn parse(text: &str, budget: u64) -> Result<Spec, PasswordError> {
    let (_, params) = read(text)?;
    check(
        1u64 << params.log_n(),
        u64::from(params.r()),
        u64::from(params.p()),
        budget,
    )
    .map_err(|e| PasswordError::Malformed(format!("its parameters cannot be used here: {e}")))
}

pub(super) fn verify(text: &str, password: &[u8]) -> Result<bool, PasswordError> {
    let (hash, _) = read(text)?;
    // The crate recomputes with the string's parameters and compares `Output`s, in constant
    // time; only a mismatch is `Error::Password`.
    match Scrypt.verify_password(password, &hash) {
        Ok(()) => Ok(true),
        Err(::scrypt::password_hash::Error::Password) => Ok(false),
        Err(e) => Err(malformed(e)),
    }
}
