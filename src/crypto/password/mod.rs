//! Password hashing and verification: argon2id, argon2i, argon2d, scrypt and bcrypt, in the
//! encodings other libraries read and write (PHC strings for argon2 and scrypt, `$2b$` for
//! bcrypt).
//!
//! A [`Spec`] is an algorithm with checked parameters (ranges below, and memory within the
//! process's budget); [`Encoded`] is a parsed hash, checked the same way, so everything a caller
//! can get wrong fails before any work is queued. [`hash`] and [`verify`] then run whole on the
//! calling thread: argon2 and scrypt first take a grant for their memory from the process-wide
//! budget (`crate::budget`), waiting for room while polling `cancelled`; once the hash starts it
//! runs to the end (the argon2 and scrypt crates cannot stop mid-way), except bcrypt, which polls
//! `cancelled` every 64 rounds of its cost loop.
//!
//! Guarantees: salts are 16 bytes from the OS CSPRNG (`getrandom`); digests are compared in
//! constant time (`password_hash::Output`'s and bcrypt's `subtle` comparisons); a wrong
//! password is `Ok(false)`, never an error; no error message carries the password or a digest
//! (a malformed hash is described, not quoted); bcrypt refuses passwords over 72 bytes instead of
//! truncating them. What holds a password or its key schedule is wiped where we can reach it
//! (argon2's memory blocks, its crate's `zeroize-memory`; bcrypt's key copy and cipher state,
//! `eksblowfish.rs`); scrypt's PBKDF2 state is not wiped.

// The binding folds `PasswordError` into `kernels::KernelError`'s generic variants, so
// `kernels` does not depend on `crypto` (aead and kdf use `kernels::Cancel`).
mod argon2;
mod bcrypt;
mod eksblowfish;
mod scrypt;
#[cfg(test)]
mod tests;

use std::str::FromStr;

use crate::budget::{Budget, Refused};
use crate::names::UnknownName;

/// Largest argon2 `memoryCost`: 4 GiB, in KiB.
pub const MAX_MEMORY_COST: u64 = 4 * 1024 * 1024;
/// Longest password bcrypt reads; longer ones are refused.
pub const BCRYPT_MAX_PASSWORD: usize = 72;
const SALT_LEN: usize = 16;

// The defaults: OWASP's Password Storage Cheat Sheet.
pub const ARGON2_MEMORY_COST: u32 = 19 * 1024;
pub const ARGON2_TIME_COST: u32 = 2;
pub const ARGON2_PARALLELISM: u32 = 1;
pub const SCRYPT_LOG_N: u8 = 17;
pub const SCRYPT_R: u32 = 8;
pub const SCRYPT_P: u32 = 1;
pub const BCRYPT_COST: u32 = 10;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Algorithm {
    Argon2id,
    Argon2i,
    Argon2d,
    Scrypt,
    Bcrypt,
}

impl Algorithm {
    pub const NAMES: &[&str] = &["argon2id", "argon2i", "argon2d", "scrypt", "bcrypt"];

    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Argon2id => "argon2id",
            Algorithm::Argon2i => "argon2i",
            Algorithm::Argon2d => "argon2d",
            Algorithm::Scrypt => "scrypt",
            Algorithm::Bcrypt => "bcrypt",
        }
    }
}

impl FromStr for Algorithm {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, UnknownName> {
        Ok(match s {
            "argon2id" => Algorithm::Argon2id,
            "argon2i" => Algorithm::Argon2i,
            "argon2d" => Algorithm::Argon2d,
            "scrypt" => Algorithm::Scrypt,
            "bcrypt" => Algorithm::Bcrypt,
            _ => {
                return Err(UnknownName {
                    kind: "password algorithm",
                    name: s.to_owned(),
                });
            }
        })
    }
}

/// An algorithm and its parameters, each within range (build with the constructors).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Spec(Kind);

#[derive(Clone, Debug, PartialEq, Eq)]
enum Kind {
    /// The variant (never scrypt or bcrypt), memory in KiB, passes, lanes.
    Argon2 {
        variant: Algorithm,
        m: u32,
        t: u32,
        p: u32,
    },
    Scrypt {
        log_n: u8,
        r: u32,
        p: u32,
    },
    Bcrypt {
        cost: u32,
    },
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    /// A parameter outside its range; `name` is the option's name (`memoryCost`, `N`, ...).
    #[error("The value of \"{name}\" is out of range. It must be {range}. Received {received}")]
    OutOfRange {
        name: &'static str,
        range: String,
        received: u64,
    },
    /// An encoded hash this module cannot read; says why without quoting it.
    #[error("{0}")]
    Malformed(String),
    #[error("the password hash was cancelled")]
    Cancelled,
    /// The OS random source or a crate failed where it cannot (parameters were checked).
    #[error("password hashing failed: {0}")]
    Failed(String),
}

fn out_of_range(name: &'static str, range: impl Into<String>, received: u64) -> PasswordError {
    PasswordError::OutOfRange {
        name,
        range: range.into(),
        received,
    }
}

/// `v` within `min..=max`, else `OutOfRange` naming `name`.
fn within(name: &'static str, v: u64, min: u64, max: u64) -> Result<u32, PasswordError> {
    if (min..=max).contains(&v) {
        // Every maximum here fits in a u32.
        return u32::try_from(v).map_err(|_| out_of_range(name, range(min, max), v));
    }
    Err(out_of_range(name, range(min, max), v))
}

fn range(min: u64, max: u64) -> String {
    format!("an integer >= {min} && <= {max}")
}

impl Spec {
    /// argon2 with `m` KiB of memory, `t` passes and `p` lanes (as @node-rs/argon2 names them:
    /// `memoryCost`, `timeCost`, `parallelism`).
    pub fn argon2(variant: Algorithm, m: u64, t: u64, p: u64) -> Result<Spec, PasswordError> {
        argon2::check(variant, m, t, p, Budget::global().limit())
    }

    /// scrypt with cost `n` (a power of 2), block size `r` and parallelization `p`.
    pub fn scrypt(n: u64, r: u64, p: u64) -> Result<Spec, PasswordError> {
        scrypt::check(n, r, p, Budget::global().limit())
    }

    /// bcrypt with `cost` (log2 of the rounds), 4 to 31.
    pub fn bcrypt(cost: u64) -> Result<Spec, PasswordError> {
        Ok(Spec(Kind::Bcrypt {
            cost: within("cost", cost, 4, 31)?,
        }))
    }

    /// OWASP's Password Storage Cheat Sheet: argon2id 19 MiB, t = 2, p = 1; scrypt N = 2^17,
    /// r = 8, p = 1; bcrypt cost 10.
    pub fn default_for(algorithm: Algorithm) -> Spec {
        Spec(match algorithm {
            Algorithm::Scrypt => Kind::Scrypt {
                log_n: SCRYPT_LOG_N,
                r: SCRYPT_R,
                p: SCRYPT_P,
            },
            Algorithm::Bcrypt => Kind::Bcrypt { cost: BCRYPT_COST },
            variant => Kind::Argon2 {
                variant,
                m: ARGON2_MEMORY_COST,
                t: ARGON2_TIME_COST,
                p: ARGON2_PARALLELISM,
            },
        })
    }

    pub fn algorithm(&self) -> Algorithm {
        match self.0 {
            Kind::Argon2 { variant, .. } => variant,
            Kind::Scrypt { .. } => Algorithm::Scrypt,
            Kind::Bcrypt { .. } => Algorithm::Bcrypt,
        }
    }

    /// Bytes the hash allocates at once, granted from the budget while it runs.
    fn memory(&self) -> u64 {
        match self.0 {
            Kind::Argon2 { m, .. } => u64::from(m) * 1024,
            Kind::Scrypt { log_n, r, p } => scrypt::memory(log_n, r, p).unwrap_or(u64::MAX),
            Kind::Bcrypt { .. } => 0,
        }
    }

    /// `Err` for a password this algorithm would not read whole: over 72 bytes for bcrypt.
    pub fn check_password(&self, len: usize) -> Result<(), PasswordError> {
        if matches!(self.0, Kind::Bcrypt { .. }) && len > BCRYPT_MAX_PASSWORD {
            return Err(PasswordError::OutOfRange {
                name: "password",
                range: format!(
                    "at most {BCRYPT_MAX_PASSWORD} bytes with bcrypt (it ignores the rest)"
                ),
                received: len as u64,
            });
        }
        Ok(())
    }
}

/// A parsed encoded hash: what it was made with, and whether its format is the current one.
#[derive(Clone, Debug)]
pub struct Encoded {
    text: String,
    spec: Spec,
    /// False for argon2 version 0x10 (we write 0x13).
    current: bool,
}

impl Encoded {
    /// Reads a PHC argon2 or scrypt string, or a `$2a$`/`$2b$`/`$2y$` bcrypt hash. Parameters
    /// outside the ranges [`Spec`] accepts are errors too (argon2 memory over 4 GiB or the
    /// budget, ...): such a hash could not be verified here.
    pub fn parse(text: &str) -> Result<Encoded, PasswordError> {
        let (spec, current) = if text.starts_with("$2") {
            (bcrypt::parse(text)?, true)
        } else if text.starts_with("$scrypt$") {
            (scrypt::parse(text, Budget::global().limit())?, true)
        } else if text.starts_with("$argon2") {
            argon2::parse(text, Budget::global().limit())?
        } else {
            return Err(PasswordError::Malformed(
                "it is not an argon2 or scrypt PHC string nor a bcrypt hash".into(),
            ));
        };
        Ok(Encoded {
            text: text.to_owned(),
            spec,
            current,
        })
    }

    pub fn spec(&self) -> &Spec {
        &self.spec
    }

    /// True when hashing again with `spec` would give a different kind of hash: another
    /// algorithm, any parameter different, or an older argon2 version.
    pub fn needs_rehash(&self, spec: &Spec) -> bool {
        self.spec != *spec || !self.current
    }
}

/// Hashes `password` with a fresh salt; `cancelled` is polled while waiting for memory.
pub fn hash(
    password: &[u8],
    spec: &Spec,
    cancelled: &dyn Fn() -> bool,
) -> Result<String, PasswordError> {
    hash_within(Budget::global(), password, spec, cancelled)
}

/// Whether `password` is the one `encoded` was made from; `cancelled` as in [`hash`].
pub fn verify(
    encoded: &Encoded,
    password: &[u8],
    cancelled: &dyn Fn() -> bool,
) -> Result<bool, PasswordError> {
    verify_within(Budget::global(), encoded, password, cancelled)
}

fn hash_within(
    budget: &Budget,
    password: &[u8],
    spec: &Spec,
    cancelled: &dyn Fn() -> bool,
) -> Result<String, PasswordError> {
    spec.check_password(password.len())?;
    let _grant = grant(budget, spec, cancelled)?;
    let mut salt = [0u8; SALT_LEN];
    getrandom::fill(&mut salt).map_err(|e| PasswordError::Failed(e.to_string()))?;
    match spec.0 {
        Kind::Argon2 { variant, m, t, p } => argon2::hash(password, &salt, variant, m, t, p),
        Kind::Scrypt { log_n, r, p } => scrypt::hash(password, &salt, log_n, r, p),
        Kind::Bcrypt { cost } => bcrypt::hash(password, salt, cost, cancelled),
    }
}

fn verify_within(
    budget: &Budget,
    encoded: &Encoded,
    password: &[u8],
    cancelled: &dyn Fn() -> bool,
) -> Result<bool, PasswordError> {
    encoded.spec.check_password(password.len())?;
    let _grant = grant(budget, &encoded.spec, cancelled)?;
    match encoded.spec.0 {
        Kind::Argon2 { .. } => argon2::verify(&encoded.text, password),
        Kind::Scrypt { .. } => scrypt::verify(&encoded.text, password),
        Kind::Bcrypt { .. } => bcrypt::verify(&encoded.text, password, cancelled),
    }
}

/// The memory of `spec`, held until dropped; `Cancelled` if `cancelled` fires while waiting
/// for it (and checked once before the hash starts, as nothing stops it after).
fn grant<'a>(
    budget: &'a Budget,
    spec: &Spec,
    cancelled: &dyn Fn() -> bool,
) -> Result<Option<crate::budget::Grant<'a>>, PasswordError> {
    let bytes = spec.memory();
    let grant = if bytes == 0 {
        None
    } else {
        Some(budget.acquire(bytes, cancelled).map_err(|r| match r {
            Refused::Cancelled => PasswordError::Cancelled,
            // Specs are checked against the global budget; only a smaller one gets here.
            Refused::OverBudget { bytes, limit } => {
                out_of_range("memory", format!("<= {limit} bytes"), bytes)
            }
        })?)
    };
    if cancelled() {
        return Err(PasswordError::Cancelled);
    }
    Ok(grant)
}
