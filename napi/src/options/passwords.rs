//! `hashPassword` and `needsRehash` options → a core `Spec`, every value checked here (ranges
//! by the core's constructors) and named as the caller spelled it: scrypt takes node's
//! `cost`/`blockSize`/`parallelization` as well as `N`/`r`/`p`, and an error names the one
//! given. An option of another algorithm (`cost` with argon2id, `memoryCost` with bcrypt) is
//! `ERR_INVALID_ARG_VALUE` rather than ignored: it shows the caller expected something else.

use napi_derive::napi;

use super::{MAX_SAFE_INTEGER, name};
use crate::errors::{ERR_INVALID_ARG_VALUE, Error, Result, coded, out_of_range};
use offload_core::crypto::password::{
    ARGON2_MEMORY_COST, ARGON2_PARALLELISM, ARGON2_TIME_COST, Algorithm, BCRYPT_COST,
    PasswordError, SCRYPT_LOG_N, SCRYPT_P, SCRYPT_R, Spec,
};

/// Options for `hashPassword()` and `needsRehash()`: the algorithm and its parameters.
#[napi(object, object_to_js = false)]
pub struct PasswordOptions {
    /// `'argon2id'`, `'argon2i'`, `'argon2d'`, `'scrypt'` or `'bcrypt'`. Default: `'argon2id'`.
    pub algorithm: Option<String>,
    /// argon2: memory in KiB, from 8 × `parallelism` to 4 GiB (and the memory budget).
    /// Default: `19456` (19 MiB).
    pub memory_cost: Option<f64>,
    /// argon2: passes over the memory, at least 1. Default: `2`.
    pub time_cost: Option<f64>,
    /// argon2: lanes, 1 to 2^24 − 1 (computed one after another on the task's thread).
    /// Default: `1`.
    pub parallelism: Option<f64>,
    /// scrypt: CPU/memory cost, a power of 2 (node's `cost`). Default: `131072` (2^17).
    #[napi(js_name = "N")]
    pub n: Option<f64>,
    /// scrypt: block size (node's `blockSize`). Default: `8`.
    pub r: Option<f64>,
    /// scrypt: parallelization (node's `parallelization`). Default: `1`.
    pub p: Option<f64>,
    /// bcrypt: log2 of the rounds, 4 to 31 (default `10`); scrypt: node's name for `N`.
    pub cost: Option<f64>,
    /// scrypt: node's name for `r`.
    pub block_size: Option<f64>,
    /// scrypt: node's name for `p`.
    pub parallelization: Option<f64>,
}

/// A core parameter error as Node words it, under the name the caller used.
pub(crate) fn password_error(e: PasswordError, named: impl Fn(&'static str) -> String) -> Error {
    match e {
        PasswordError::OutOfRange {
            name,
            range,
            received,
        } => out_of_range(&named(name), range, received),
        e => coded(ERR_INVALID_ARG_VALUE, e.to_string()),
    }
}

fn owner(key: &str) -> &'static str {
    match key {
        "memoryCost" | "timeCost" | "parallelism" => "argon2",
        "cost" => "bcrypt and scrypt",
        _ => "scrypt",
    }
}

/// A non-negative integer for the core to range-check (`default` when absent).
fn whole(shown: &str, v: Option<f64>, default: u64) -> Result<u64> {
    match v {
        None => Ok(default),
        Some(v) if v.fract() == 0.0 && (0.0..=MAX_SAFE_INTEGER).contains(&v) => Ok(v as u64),
        Some(v) => Err(out_of_range(shown, "a non-negative integer", v)),
    }
}

/// One scrypt parameter given under either name: both given must agree.
fn either(o: (&str, Option<f64>), node: (&str, Option<f64>)) -> Result<(String, Option<f64>)> {
    match (o.1, node.1) {
        (Some(a), Some(b)) if a != b => Err(coded(
            ERR_INVALID_ARG_VALUE,
            format!(
                "The properties 'options.{}' and 'options.{}' name the same scrypt parameter \
                 and must not differ. Received {a} and {b}",
                o.0, node.0
            ),
        )),
        (None, Some(b)) => Ok((format!("options.{}", node.0), Some(b))),
        (a, _) => Ok((format!("options.{}", o.0), a)),
    }
}

impl TryFrom<PasswordOptions> for Spec {
    type Error = Error;

    fn try_from(o: PasswordOptions) -> Result<Spec> {
        let algorithm: Algorithm = match &o.algorithm {
            None => Algorithm::Argon2id,
            Some(a) => name("options.algorithm", Algorithm::NAMES, a)?,
        };
        let given = [
            ("memoryCost", o.memory_cost.is_some()),
            ("timeCost", o.time_cost.is_some()),
            ("parallelism", o.parallelism.is_some()),
            ("N", o.n.is_some()),
            ("r", o.r.is_some()),
            ("p", o.p.is_some()),
            ("cost", o.cost.is_some()),
            ("blockSize", o.block_size.is_some()),
            ("parallelization", o.parallelization.is_some()),
        ];
        let applies: &[&str] = match algorithm {
            Algorithm::Scrypt => &["N", "r", "p", "cost", "blockSize", "parallelization"],
            Algorithm::Bcrypt => &["cost"],
            _ => &["memoryCost", "timeCost", "parallelism"],
        };
        if let Some((key, _)) = given.iter().find(|(k, g)| *g && !applies.contains(k)) {
            return Err(coded(
                ERR_INVALID_ARG_VALUE,
                format!(
                    "The property 'options.{key}' does not apply to {}: it is an option of {}",
                    algorithm.name(),
                    owner(key)
                ),
            ));
        }
        match algorithm {
            Algorithm::Scrypt => {
                let (n_name, n) = either(("N", o.n), ("cost", o.cost))?;
                let (r_name, r) = either(("r", o.r), ("blockSize", o.block_size))?;
                let (p_name, p) = either(("p", o.p), ("parallelization", o.parallelization))?;
                let named = |core: &'static str| match core {
                    "N" => n_name.clone(),
                    "r" => r_name.clone(),
                    _ => p_name.clone(),
                };
                let n = whole(&n_name, n, 1 << SCRYPT_LOG_N)?;
                let r = whole(&r_name, r, SCRYPT_R.into())?;
                let p = whole(&p_name, p, SCRYPT_P.into())?;
                Spec::scrypt(n, r, p).map_err(|e| password_error(e, named))
            }
            Algorithm::Bcrypt => {
                let cost = whole("options.cost", o.cost, BCRYPT_COST.into())?;
                Spec::bcrypt(cost).map_err(|e| password_error(e, |n| format!("options.{n}")))
            }
            variant => {
                let m = whole(
                    "options.memoryCost",
                    o.memory_cost,
                    ARGON2_MEMORY_COST.into(),
                )?;
                let t = whole("options.timeCost", o.time_cost, ARGON2_TIME_COST.into())?;
                let p = whole(
                    "options.parallelism",
                    o.parallelism,
                    ARGON2_PARALLELISM.into(),
                )?;
                Spec::argon2(variant, m, t, p)
                    .map_err(|e| password_error(e, |n| format!("options.{n}")))
            }
        }
    }
}
