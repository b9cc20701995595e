//! argon2 through RustCrypto's `argon2` crate (the one @node-rs/argon2 wraps; AVX2 compression
//! picked at run time), written as @node-rs/argon2 and node-argon2 write it:
//! `$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`, 16-byte salt, 32-byte hash, unpadded base64.
//! Verification takes every parameter from the string (`keyid` and `data` included, any output
//! length from 4 to 64 bytes); a string without `v=` is version 0x10, as the reference
//! implementation reads it.

use ::argon2::password_hash::{Output, PasswordHash, PasswordHasher, SaltString};
use ::argon2::{Argon2, Params, Version};

use super::{Algorithm, Kind, MAX_MEMORY_COST, PasswordError, Spec, out_of_range, within};

/// Checks `m` KiB, `t` passes and `p` lanes; `budget` is the most memory one hash may hold.
pub(super) fn check(
    variant: Algorithm,
    m: u64,
    t: u64,
    p: u64,
    budget: u64,
) -> Result<Spec, PasswordError> {
    let p = within("parallelism", p, 1, u64::from(Params::MAX_P_COST))?;
    let t = within("timeCost", t, 1, u64::from(u32::MAX))?;
    let min_m = 8 * u64::from(p);
    let m = within("memoryCost", m, min_m, MAX_MEMORY_COST).map_err(|_| {
        out_of_range(
            "memoryCost",
            format!(
                "an integer >= {min_m} (8 × parallelism) && <= {MAX_MEMORY_COST} (4 GiB in KiB)"
            ),
            m,
        )
    })?;
    let budget_kib = budget / 1024;
    if u64::from(m) > budget_kib {
        return Err(out_of_range(
            "memoryCost",
            format!("<= {budget_kib} KiB (the process's memory budget, a quarter of RAM)"),
            u64::from(m),
        ));
    }
    Ok(Spec(Kind::Argon2 { variant, m, t, p }))
}

fn algorithm(variant: Algorithm) -> ::argon2::Algorithm {
    match variant {
        Algorithm::Argon2d => ::argon2::Algorithm::Argon2d,
        Algorithm::Argon2i => ::argon2::Algorithm::Argon2i,
        _ => ::argon2::Algorithm::Argon2id,
    }
}

pub(super) fn hash(
    password: &[u8],
    salt: &[u8],
    variant: Algorithm,
    m: u32,
    t: u32,
    p: u32,
) -> Result<String, PasswordError> {
    let failed = |e: ::argon2::password_hash::Error| PasswordError::Failed(e.to_string());
    let params =
        Params::new(m, t, p, Some(Params::DEFAULT_OUTPUT_LEN)).map_err(|e| failed(e.into()))?;
    let salt = SaltString::encode_b64(salt).map_err(failed)?;
    let hasher = Argon2::new(algorithm(variant), Version::V0x13, params);
    Ok(hasher
        .hash_password(password, &salt)
        .map_err(failed)?
        .to_string())
}

fn malformed(e: impl std::fmt::Display) -> PasswordError {
    PasswordError::Malformed(format!("it is not a valid argon2 PHC string ({e})"))
}

/// The parts verification needs, from a string already known to start with `$argon2`.
struct Parsed {
    variant: Algorithm,
    version: Version,
    params: Params,
    salt: [u8; 64],
    salt_len: usize,
    expected: Output,
}

fn read(text: &str) -> Result<Parsed, PasswordError> {
    let hash = PasswordHash::new(text).map_err(malformed)?;
    let variant = match hash.algorithm.as_str() {
        "argon2id" => Algorithm::Argon2id,
        "argon2i" => Algorithm::Argon2i,
        "argon2d" => Algorithm::Argon2d,
        _ => return Err(malformed("unknown argon2 variant")),
    };
    let version = match hash.version {
        None => Version::V0x10,
        Some(v) => Version::try_from(v).map_err(|_| malformed("version is neither 16 nor 19"))?,
    };
    let params = Params::try_from(&hash).map_err(malformed)?;
    let (Some(salt), Some(expected)) = (hash.salt, hash.hash) else {
        return Err(malformed("salt or hash missing"));
    };
    let mut buf = [0u8; 64];
    let salt_len = salt.decode_b64(&mut buf).map_err(malformed)?.len();
    if salt_len < ::argon2::MIN_SALT_LEN {
        return Err(malformed("salt shorter than 8 bytes"));
    }
    Ok(Parsed {
        variant,
        version,
        params,
        salt: buf,
        salt_len,
        expected,
    })
}

/// The spec `text` was made with, and whether its version is the current one (0x13).
pub(super) fn parse(text: &str, budget: u64) -> Result<(Spec, bool), PasswordError> {
    let p = read(text)?;
    let spec = check(
        p.variant,
        u64::from(p.params.m_cost()),
        u64::from(p.params.t_cost()),
        u64::from(p.params.p_cost()),
        budget,
    )
    .map_err(|e| PasswordError::Malformed(format!("its parameters cannot be used here: {e}")))?;
    Ok((spec, p.version == Version::V0x13))
}

pub(super) fn verify(text: &str, password: &[u8]) -> Result<bool, PasswordError> {
    let p = read(text)?;
    let hasher = Argon2::new(algorithm(p.variant), p.version, p.params);
    let computed = Output::init_with(p.expected.len(), |out| {
        hasher
            .hash_password_into(password, &p.salt[..p.salt_len], out)
            .map_err(Into::into)
    })
    .map_err(|e| PasswordError::Failed(e.to_string()))?;
    // `Output`'s equality is constant-time (subtle).
    Ok(computed == p.expected)
}
