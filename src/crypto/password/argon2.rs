//! argon2 computed by `argon2-rust` (the port of the C reference that @node-rs/argon2 ships, with
//! AVX-512/AVX2/SSE2 compression picked at run time) and encoded with RustCrypto's
//! `password-hash`, as @node-rs/argon2 and node-argon2 write it:
//! `$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`, 16-byte salt, 32-byte hash, unpadded base64.
//!
//! Lanes run one after another on the calling pool thread (the crate's `parallel` feature, which
//! would start threads of its own, is off), so a hash never takes more than its one pool thread.
//! Memory comes from an anonymous mapping (not malloc, so a burst leaves no freed blocks in
//! malloc's arenas), wiped after every hash; each pool thread keeps its last one, up to 64 MiB,
//! for the next hash. Verification takes every parameter
//! from the string (`data` as associated data, `keyid` accepted, any output length from 4 to 64
//! bytes); a string without `v=` is version 0x10, as the reference implementation reads it.
//! The differential test in `tests.rs` holds the output to RustCrypto's `argon2`.

use argon2_rust::params::{Memory, TagLen};
use argon2_rust::{Argon2, Params, Version};
use password_hash::{Ident, Output, ParamsString, PasswordHash, Salt, SaltString};

use super::{Algorithm, Kind, MAX_MEMORY_COST, PasswordError, Spec, out_of_range, within};

/// Most lanes argon2 allows (2^24 − 1).
const MAX_LANES: u64 = 0x00FF_FFFF;
const OUTPUT_LEN: usize = 32;

/// Checks `m` KiB, `t` passes and `p` lanes; `budget` is the most memory one hash may hold.
pub(super) fn check(
    variant: Algorithm,
    m: u64,
    t: u64,
    p: u64,
    budget: u64,
) -> Result<Spec, PasswordError> {
    let p = within("parallelism", p, 1, MAX_LANES)?;
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

fn variant_of(variant: Algorithm) -> argon2_rust::Algorithm {
    match variant {
        Algorithm::Argon2d => argon2_rust::Algorithm::Argon2d,
        Algorithm::Argon2i => argon2_rust::Algorithm::Argon2i,
        _ => argon2_rust::Algorithm::Argon2id,
    }
}

/// Fills `out` (4 to 64 bytes) with the raw argon2 tag.
pub(super) fn derive(
    variant: Algorithm,
    version: Version,
    (m, t, p): (u32, u32, u32),
    input: (&[u8], &[u8], &[u8]),
    out: &mut [u8],
) -> Result<(), PasswordError> {
    let (password, salt, ad) = input;
    let failed = |e: argon2_rust::Error| PasswordError::Failed(e.to_string());
    let params = Params::builder()
        .memory(Memory::kib(u64::from(m)))
        .passes(t)
        .lanes(p)
        .threads(1)
        .tag_len(TagLen::bytes(out.len() as u64))
        .build()
        .map_err(failed)?;
    let argon2 = Argon2::new(variant_of(variant), version, params);
    PARKED.with_borrow_mut(|parked| {
        let hasher = parked.get_or_insert_with(|| argon2.hasher());
        hasher.set_argon2(argon2);
        let done = hasher.hash_into_with_ad(password, salt, &[], ad, out);
        if hasher.reserved_blocks() > PARK_AT_MOST_KIB {
            hasher.clear();
        }
        done.map_err(failed)
    })
}

/// Arenas up to this size (KiB, one block each) stay with their pool thread between hashes.
const PARK_AT_MOST_KIB: usize = 64 * 1024;

thread_local! {
    /// This thread's argon2 arena, kept mapped and resident between hashes: the next hash
    /// skips the `mmap`, 4,864 first-touch page faults (at 19 MiB) and the `munmap`. The crate
    /// wipes it after every hash, which doubles as the next one's zeroing; it is unmapped when
    /// the thread ends (the pool closes) or when a hash needed more than 64 MiB.
    static PARKED: std::cell::RefCell<Option<argon2_rust::Hasher>> =
        const { std::cell::RefCell::new(None) };
}

pub(super) fn hash(
    password: &[u8],
    salt: &[u8],
    variant: Algorithm,
    m: u32,
    t: u32,
    p: u32,
) -> Result<String, PasswordError> {
    let failed = |e: password_hash::Error| PasswordError::Failed(e.to_string());
    let mut tag = [0u8; OUTPUT_LEN];
    derive(
        variant,
        Version::V0x13,
        (m, t, p),
        (password, salt, &[]),
        &mut tag,
    )?;
    let mut params = ParamsString::new();
    for (name, value) in [("m", m), ("t", t), ("p", p)] {
        params.add_decimal(name, value).map_err(failed)?;
    }
    let salt = SaltString::encode_b64(salt).map_err(failed)?;
    let phc = PasswordHash {
        algorithm: Ident::new(variant.name()).map_err(failed)?,
        version: Some(Version::V0x13.as_u32()),
        params,
        salt: Some(Salt::from(&salt)),
        hash: Some(Output::new(&tag).map_err(failed)?),
    };
    Ok(phc.to_string())
}

fn malformed(e: impl std::fmt::Display) -> PasswordError {
    PasswordError::Malformed(format!("it is not a valid argon2 PHC string ({e})"))
}

/// The parts verification needs, from a string already known to start with `$argon2`.
struct Parsed {
    variant: Algorithm,
    version: Version,
    /// `m`, `t` and `p`, not yet range-checked.
    cost: (u32, u32, u32),
    /// Associated data (`data=`), at most 32 bytes as in RustCrypto's argon2.
    ad: ([u8; 32], usize),
    salt: ([u8; 64], usize),
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
        Some(v) => Version::from_u32(v)
            .filter(|_| v == 0x10 || v == 0x13)
            .ok_or_else(|| malformed("version is neither 16 nor 19"))?,
    };
    let (mut m, mut t, mut p) = (None, None, None);
    let mut ad = ([0u8; 32], 0);
    for (name, value) in hash.params.iter() {
        match name.as_str() {
            "m" => m = Some(value.decimal().map_err(malformed)?),
            "t" => t = Some(value.decimal().map_err(malformed)?),
            "p" => p = Some(value.decimal().map_err(malformed)?),
            "data" => ad.1 = value.b64_decode(&mut ad.0).map_err(malformed)?.len(),
            // An identifier of a server-side secret; the hash itself does not use it.
            "keyid" => {}
            _ => return Err(malformed("unknown parameter")),
        }
    }
    let (Some(m), Some(t), Some(p)) = (m, t, p) else {
        return Err(malformed("m, t or p missing"));
    };
    let (Some(salt), Some(expected)) = (hash.salt, hash.hash) else {
        return Err(malformed("salt or hash missing"));
    };
    let mut buf = [0u8; 64];
    let salt_len = salt.decode_b64(&mut buf).map_err(malformed)?.len();
    if salt_len < 8 {
        return Err(malformed("salt shorter than 8 bytes"));
    }
    if expected.len() < 4 {
        return Err(malformed("hash shorter than 4 bytes"));
    }
    Ok(Parsed {
        variant,
        version,
        cost: (m, t, p),
        ad,
        salt: (buf, salt_len),
        expected,
    })
}

/// The spec `text` was made with, and whether its version is the current one (0x13).
pub(super) fn parse(text: &str, budget: u64) -> Result<(Spec, bool), PasswordError> {
    let p = read(text)?;
    let (m, t, lanes) = p.cost;
    let spec = check(
        p.variant,
        u64::from(m),
        u64::from(t),
        u64::from(lanes),
        budget,
    )
    .map_err(|e| PasswordError::Malformed(format!("its parameters cannot be used here: {e}")))?;
    Ok((spec, p.version == Version::V0x13))
}

pub(super) fn verify(text: &str, password: &[u8]) -> Result<bool, PasswordError> {
    let p = read(text)?;
    let (ad, ad_len) = &p.ad;
    let (salt, salt_len) = &p.salt;
    let computed = Output::init_with(p.expected.len(), |out| {
        derive(
            p.variant,
            p.version,
            p.cost,
            (password, &salt[..*salt_len], &ad[..*ad_len]),
            out,
        )
        .map_err(|_| password_hash::Error::Crypto)
    })
    .map_err(|e| PasswordError::Failed(e.to_string()))?;
    // `Output`'s equality is constant-time (subtle).
    Ok(computed == p.expected)
}
