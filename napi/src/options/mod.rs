//! JS options objects converted into core types, on the JS thread, before anything runs.
//!
//! The JS layer checks types ("JS checks types, Rust checks values"); this module checks values
//! and builds the core's configuration with `TryFrom`, so a bad value is a coded error thrown
//! (or rejected) before a task or child exists. Numbers arrive as doubles, never through
//! napi's int32 (which wraps `2**32 + 9` to 9); the limits below are defined once.
//!
//! - `pool`: `PoolOptions` → `PoolConfig`, task priority.
//! - `budget` (Linux): `hostBudget` → the name, slots and directory of a host budget.
//! - `kernels`: hash/hmac algorithms, encodings, compression formats, levels, output limits.
//! - `streams`: the flush of a stream write, the output bound of a decompression task.
//! - `process` (Linux): supervisor options → `SupervisorConfig`, `exec`/`spawn` options →
//!   `Spec`, signals.

#[cfg(target_os = "linux")]
pub mod budget;
pub mod cipher;
#[cfg(unix)]
pub mod files;
pub mod images;
pub mod kernels;
pub mod parse;
pub mod passwords;
pub mod pool;
#[cfg(target_os = "linux")]
pub mod process;
pub mod streams;

use std::str::FromStr;
use std::time::Duration;

use crate::errors::{Result, one_of, out_of_range};
use offload_core::kernels::UnknownName;

/// `Number.MAX_SAFE_INTEGER`: the largest count a double carries exactly.
pub(crate) const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_991.0;
/// 2^31 − 1: the longest timer Node accepts, in milliseconds (as `setTimeout`).
pub(crate) const MAX_MS: f64 = 2_147_483_647.0;
/// `buffer.constants.MAX_LENGTH` on 64-bit Node 20: the largest Buffer it can hand back.
pub(crate) const MAX_BUFFER_LENGTH: f64 = 4_294_967_296.0;
/// `buffer.constants.MAX_STRING_LENGTH`: the longest string V8 can make.
pub(crate) const MAX_STRING_LENGTH: f64 = 536_870_888.0;

/// An integer in `min..=max`, else `ERR_OUT_OF_RANGE` saying `range`.
pub(crate) fn integer(name: &str, v: f64, min: f64, max: f64, range: &str) -> Result<f64> {
    if v.fract() != 0.0 || !(min..=max).contains(&v) {
        return Err(out_of_range(name, range, v));
    }
    Ok(v)
}

/// A count of at least `min`; with `infinite_ok`, `Infinity` is `usize::MAX` (no bound).
pub(crate) fn count(name: &str, v: f64, min: f64, infinite_ok: bool) -> Result<usize> {
    if infinite_ok && v == f64::INFINITY {
        return Ok(usize::MAX);
    }
    let what = if infinite_ok { " or Infinity" } else { "" };
    let range = format!("an integer >= {min}{what}");
    Ok(integer(name, v, min, MAX_SAFE_INTEGER, &range)? as usize)
}

/// Milliseconds, 0 to 2^31 − 1; with `infinite_ok`, `Infinity` is `None` (never).
pub(crate) fn ms(name: &str, v: f64, infinite_ok: bool) -> Result<Option<Duration>> {
    if infinite_ok && v == f64::INFINITY {
        return Ok(None);
    }
    if !(0.0..=MAX_MS).contains(&v) {
        let what = if infinite_ok { " or Infinity" } else { "" };
        return Err(out_of_range(name, format!(">= 0 && <= {MAX_MS}{what}"), v));
    }
    Ok(Some(Duration::from_secs_f64(v / 1000.0)))
}

/// A name from a fixed set (`all`), parsed by the core type.
pub(crate) fn name<T: FromStr<Err = UnknownName>>(
    what: &str,
    all: &[&str],
    name: &str,
) -> Result<T> {
    name.parse().map_err(|_| one_of(what, all, name))
}
