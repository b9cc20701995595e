//! Entry points of password hashing: `submitHashPassword` and `submitVerifyPassword` run a whole
//! hash on the CPU pool (after a memory grant, see `offload_core::crypto::password`);
//! `needsRehash` only parses, on the JS thread.
//!
//! Everything the caller can get wrong (options, a malformed hash, a bcrypt password over 72
//! bytes) is checked here, before a task exists, so the promise rejects with a Node code and no
//! pool thread is spent. A password given as a string is copied once into a `Vec` that is
//! zeroed when the task ends (`Zeroizing`); one given as a Uint8Array is read in place and
//! belongs to the caller. Error messages never carry the password; of a malformed `encoded`
//! they show only its length and a recognised prefix (it might be a password passed in the
//! wrong argument).

use napi::Env;
use napi::bindgen_prelude::{External, Unknown};
use napi_derive::napi;
use zeroize::Zeroizing;

use crate::errors::{ERR_INVALID_ARG_VALUE, Result, coded};
use crate::options::passwords::{PasswordOptions, password_error};
use crate::pool::NativePool;
use crate::runtime::input::Input;
use crate::runtime::value::Value;
use offload_core::crypto::password::{self, Algorithm, Encoded, PasswordError, Spec};
use offload_core::kernels::KernelError;

fn spec(options: Option<PasswordOptions>) -> Result<Spec> {
    options.map_or_else(
        || Ok(Spec::default_for(Algorithm::Argon2id)),
        Spec::try_from,
    )
}

fn kernel(e: PasswordError) -> KernelError {
    match e {
        PasswordError::Cancelled => KernelError::Cancelled,
        e @ PasswordError::OutOfRange { .. } => KernelError::OutOfRange(e.to_string()),
        e @ PasswordError::Malformed(_) => KernelError::Malformed(e.to_string()),
        e @ PasswordError::Failed(_) => KernelError::Internal(e.to_string()),
    }
}

/// `encoded` parsed, or `ERR_INVALID_ARG_VALUE` saying why without quoting it.
fn parse(encoded: &str) -> Result<Encoded> {
    Encoded::parse(encoded).map_err(|e| {
        const PREFIXES: &[&str] = &[
            "$argon2id$",
            "$argon2i$",
            "$argon2d$",
            "$scrypt$",
            "$2a$",
            "$2b$",
            "$2y$",
        ];
        let start = PREFIXES
            .iter()
            .find(|p| encoded.starts_with(*p))
            .map_or_else(String::new, |p| format!(" starting with '{p}'"));
        coded(
            ERR_INVALID_ARG_VALUE,
            format!(
                "The argument 'encoded' is not a password hash offload reads: {e}. Received a \
                 string of {} characters{start}",
                encoded.chars().count()
            ),
        )
    })
}

/// The password's bytes for the task: a string's copy moves into a `Zeroizing` buffer (and the
/// `Input` left behind is empty), a Uint8Array stays borrowed.
fn secret(input: Input) -> (Input, Option<Zeroizing<Vec<u8>>>) {
    match input {
        Input::Owned(v) => (Input::Owned(Vec::new()), Some(Zeroizing::new(v))),
        borrowed => (borrowed, None),
    }
}

fn checked_password(env: &Env, value: &Unknown<'_>, spec: &Spec) -> Result<Input> {
    let input = Input::from_js(env, value, "password")?;
    spec.check_password(input.as_slice().len())
        .map_err(|e| password_error(e, str::to_owned))?;
    Ok(input)
}

/// Hashes `password` (a string, as UTF-8, or a Uint8Array) with `options`: the encoded hash.
#[napi]
pub fn submit_hash_password(
    env: Env,
    pool: &External<NativePool>,
    slot: u32,
    password: Unknown,
    options: Option<PasswordOptions>,
    priority: Option<String>,
    cancellable: bool,
) -> Result<Unknown<'static>> {
    let spec = spec(options)?;
    let (input, owned) = secret(checked_password(&env, &password, &spec)?);
    pool.run_kernel(
        &env,
        slot,
        priority,
        cancellable,
        [&password],
        [input],
        move |[p], t| {
            let pw: &[u8] = owned.as_deref().map_or(p, Vec::as_slice);
            let text = password::hash(pw, &spec, &|| t.is_cancelled()).map_err(kernel)?;
            Ok(Value::Text(text))
        },
    )
}

/// Whether `password` is the one `encoded` was made from.
#[napi]
pub fn submit_verify_password(
    env: Env,
    pool: &External<NativePool>,
    slot: u32,
    encoded: String,
    password: Unknown,
    priority: Option<String>,
    cancellable: bool,
) -> Result<Unknown<'static>> {
    let encoded = parse(&encoded)?;
    let (input, owned) = secret(checked_password(&env, &password, encoded.spec())?);
    pool.run_kernel(
        &env,
        slot,
        priority,
        cancellable,
        [&password],
        [input],
        move |[p], t| {
            let pw: &[u8] = owned.as_deref().map_or(p, Vec::as_slice);
            let ok = password::verify(&encoded, pw, &|| t.is_cancelled()).map_err(kernel)?;
            Ok(Value::Bool(ok))
        },
    )
}

/// Whether `encoded` was made with another algorithm or other parameters than `options` (the
/// defaults when absent) would use, or an older argon2 version. Parsing only: synchronous.
#[napi]
pub fn needs_rehash(encoded: String, options: Option<PasswordOptions>) -> Result<bool> {
    let spec = spec(options)?;
    Ok(parse(&encoded)?.needs_rehash(&spec))
}
