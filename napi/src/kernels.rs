//! The kernel entry points: each validates its arguments on the JS thread, then submits a
//! closure that runs the plain-Rust kernel on the pool. Each returns the task id at once (or
//! a promise the binding settles itself, for `slot == NATIVE_PROMISE`). `slot` is the JS
//! layer's handle for the task; the result is posted back under it.

use napi::Env;
use napi::bindgen_prelude::{External, Unknown};
use napi_derive::napi;

use crate::errors::{self, Result, TaskError};
use crate::options::MAX_BUFFER_LENGTH;
use crate::options::kernels::{
    CompressOptions, DecompressOptions, HashOptions, algorithm, encoding, format, hmac_algorithm,
    level, max_output,
};
use crate::pool::NativePool;
use crate::runtime::input::Input;
use crate::runtime::value::Value;
use offload_core::kernels::KernelError;
use offload_core::kernels::compress;
use offload_core::kernels::hash::{self, Encoded};
use offload_core::pool::{CancelToken, TaskScope};

fn encoded(e: Encoded) -> Value {
    match e {
        Encoded::Bytes(b) => Value::Bytes(b),
        Encoded::Text(t) => Value::Text(t),
    }
}

impl NativePool {
    /// Wraps kernel work so it runs only while the environment owning its borrowed inputs is
    /// alive (see `channel::BorrowGuard`), and maps kernel errors to task errors.
    pub(crate) fn guarded<F>(
        &self,
        f: F,
    ) -> impl FnOnce(&CancelToken) -> std::result::Result<Value, TaskError> + Send + 'static
    where
        F: FnOnce(&CancelToken) -> std::result::Result<Value, KernelError> + Send + 'static,
    {
        self.guarded_by(f, errors::kernel_error)
    }

    /// [`guarded`](Self::guarded) for work with errors of its own, mapped by `map`.
    pub(crate) fn guarded_by<F, E>(
        &self,
        f: F,
        map: fn(E) -> TaskError,
    ) -> impl FnOnce(&CancelToken) -> std::result::Result<Value, TaskError> + Send + 'static
    where
        F: FnOnce(&CancelToken) -> std::result::Result<Value, E> + Send + 'static,
        E: 'static,
    {
        let scope = self.scope.clone();
        move |token: &CancelToken| {
            let _guard = scope
                .borrow()
                .ok_or_else(|| errors::kernel_error(KernelError::Cancelled))?;
            f(token).map_err(map)
        }
    }

    /// Submits `f` over borrowed `inputs`; `values` are the JS objects they were read from,
    /// held alive until the task settles when the binding settles the promise itself.
    pub(crate) fn run_kernel<const N: usize>(
        &self,
        env: &Env,
        slot: u32,
        priority: Option<String>,
        cancellable: bool,
        values: [&Unknown<'_>; N],
        inputs: [Input; N],
        f: impl FnOnce(&[&[u8]; N], &CancelToken) -> std::result::Result<Value, KernelError>
        + Send
        + 'static,
    ) -> Result<Unknown<'static>> {
        let work = self.guarded(move |token| f(&inputs.each_ref().map(Input::as_slice), token));
        self.submit(env, slot, &values, priority, cancellable, work)
    }
}

#[napi]
pub fn submit_hash(
    env: Env,
    pool: &External<NativePool>,
    slot: u32,
    algorithm: String,
    data: Unknown,
    options: Option<HashOptions>,
    priority: Option<String>,
    cancellable: bool,
) -> Result<Unknown<'static>> {
    let alg = self::algorithm(&algorithm)?;
    let enc = encoding(options)?;
    let input = Input::from_js(&env, &data, "data")?;
    pool.run_kernel(
        &env,
        slot,
        priority,
        cancellable,
        [&data],
        [input],
        move |[d], t| {
            let digest = hash::digest(alg, d, &|| t.is_cancelled())?;
            Ok(encoded(hash::encode(digest, enc)))
        },
    )
}

#[napi]
pub fn submit_hmac(
    env: Env,
    pool: &External<NativePool>,
    slot: u32,
    algorithm: String,
    key: Unknown,
    data: Unknown,
    options: Option<HashOptions>,
    priority: Option<String>,
    cancellable: bool,
) -> Result<Unknown<'static>> {
    let alg = hmac_algorithm(&algorithm)?;
    let enc = encoding(options)?;
    let key_value = key;
    let key = Input::from_js(&env, &key_value, "key")?;
    let input = Input::from_js(&env, &data, "data")?;
    pool.run_kernel(
        &env,
        slot,
        priority,
        cancellable,
        [&key_value, &data],
        [key, input],
        move |[k, d], t| {
            let mac = hash::hmac(alg, k, d, &|| t.is_cancelled())?;
            Ok(encoded(hash::encode(mac, enc)))
        },
    )
}

#[napi]
pub fn submit_hash_many(
    env: Env,
    pool: &External<NativePool>,
    slot: u32,
    algorithm: String,
    datas: Vec<Unknown>,
    options: Option<HashOptions>,
    priority: Option<String>,
    cancellable: bool,
) -> Result<Unknown<'static>> {
    let alg = self::algorithm(&algorithm)?;
    let enc = encoding(options)?;
    let inputs = datas
        .iter()
        .enumerate()
        .map(|(i, d)| Input::from_js(&env, d, &format!("datas[{i}]")))
        .collect::<Result<Vec<_>>>()?;
    let work = pool.guarded(move |token| {
        let _scope = TaskScope::enter();
        let digests = hash::digest_many(alg, &inputs, &|| token.is_cancelled())?;
        let encoded = digests.into_iter().map(|d| encoded(hash::encode(d, enc)));
        Ok(Value::List(encoded.collect()))
    });
    // The JS layer keeps the inputs of hashMany alive (it always passes a slot).
    pool.submit(&env, slot, &[], priority, cancellable, work)
}

#[napi]
pub fn submit_compress(
    env: Env,
    pool: &External<NativePool>,
    slot: u32,
    format: String,
    data: Unknown,
    options: Option<CompressOptions>,
    priority: Option<String>,
    cancellable: bool,
) -> Result<Unknown<'static>> {
    let fmt = self::format(&format)?;
    let level = level(fmt, options)?;
    let input = Input::from_js(&env, &data, "data")?;
    pool.run_kernel(
        &env,
        slot,
        priority,
        cancellable,
        [&data],
        [input],
        move |[d], t| {
            let out = compress::compress(fmt, d, level, &|| t.is_cancelled())?;
            // Node cannot hand back a Buffer longer than this (an incompressible input near
            // 4 GiB grows past it).
            if out.len() as f64 > MAX_BUFFER_LENGTH {
                return Err(KernelError::OutputTooLarge {
                    limit: MAX_BUFFER_LENGTH as usize,
                });
            }
            Ok(Value::Bytes(out))
        },
    )
}

#[napi]
pub fn submit_decompress(
    env: Env,
    pool: &External<NativePool>,
    slot: u32,
    format: String,
    data: Unknown,
    options: Option<DecompressOptions>,
    priority: Option<String>,
    cancellable: bool,
) -> Result<Unknown<'static>> {
    let fmt = self::format(&format)?;
    let max = max_output(options)?;
    let input = Input::from_js(&env, &data, "data")?;
    pool.run_kernel(
        &env,
        slot,
        priority,
        cancellable,
        [&data],
        [input],
        move |[d], t| compress::decompress(fmt, d, max, &|| t.is_cancelled()).map(Value::Bytes),
    )
}
