//! The kernel entry points: each validates its arguments on the JS thread, then submits a
//! closure that runs the plain-Rust kernel on the pool. All return the task id at once.
//! `slot` is the JS layer's handle for the task; the result is posted back under it.

use napi::bindgen_prelude::{External, Unknown};
use napi::{Env, JsValue};
use napi_derive::napi;

use super::errors::{self, Result, out_of_range};
use super::input::Input;
use super::pool::NativePool;
use super::value::{TaskError, Value};
use offload_core::kernels::compress::{self, Format};
use offload_core::kernels::hash::{self, Encoded, Encoding, HashAlgorithm};
use offload_core::kernels::{KernelError, UnknownName};
use offload_core::pool::{CancelToken, TaskScope};

/// Options for `hash()`, `hmac()` and `hashMany()`.
#[napi(object, object_to_js = false)]
pub struct HashOptions {
    /// Output encoding: `'buffer'`, `'hex'`, `'base64'` or `'base64url'`. Default: `'buffer'`.
    pub encoding: Option<String>,
}

/// Options for `compress()`.
#[napi(object, object_to_js = false)]
pub struct CompressOptions {
    /// Compression level: 0–9 for gzip/deflate/deflate-raw (default 6, as node:zlib;
    /// each level's output is at most ~10% larger than node:zlib's at that level),
    /// 0–11 for brotli (default 11, as node:zlib), 1–22 for zstd (default 3), 0 for lz4.
    /// Default: the format's default.
    pub level: Option<f64>,
}

/// Options for `decompress()`.
#[napi(object, object_to_js = false)]
pub struct DecompressOptions {
    /// Largest output allowed; a larger result rejects with `ERR_OFFLOAD_OUTPUT_TOO_LARGE`
    /// as soon as it is exceeded, guarding against decompression bombs.
    /// Default: `buffer.constants.MAX_LENGTH` (4 GiB on 64-bit Node 20).
    pub max_output_length: Option<f64>,
}

/// `buffer.constants.MAX_LENGTH` on 64-bit Node 20: the largest Buffer it can hand back.
const MAX_BUFFER_LENGTH: f64 = 4_294_967_296.0;

fn parse_name<T: std::str::FromStr<Err = UnknownName>>(
    what: &str,
    all: &[&str],
    name: &str,
) -> Result<T> {
    name.parse().map_err(|_| errors::one_of(what, all, name))
}

fn algorithm(name: &str) -> Result<HashAlgorithm> {
    let all: Vec<&str> = HashAlgorithm::ALL.iter().map(|a| a.name()).collect();
    parse_name("argument 'algorithm'", &all, name)
}

fn hmac_algorithm(name: &str) -> Result<HashAlgorithm> {
    let hmac: Vec<&str> = HashAlgorithm::ALL
        .iter()
        .filter(|a| a.supports_hmac())
        .map(|a| a.name())
        .collect();
    match algorithm(name)? {
        alg if alg.supports_hmac() => Ok(alg),
        _ => Err(errors::one_of("argument 'algorithm' for hmac", &hmac, name)),
    }
}

fn encoding(options: Option<HashOptions>) -> Result<Encoding> {
    match options.and_then(|o| o.encoding) {
        None => Ok(Encoding::Buffer),
        Some(e) => parse_name(
            "property 'options.encoding'",
            &["buffer", "hex", "base64", "base64url"],
            &e,
        ),
    }
}

fn format(name: &str) -> Result<Format> {
    parse_name(
        "argument 'format'",
        &["gzip", "deflate", "deflate-raw", "brotli", "zstd", "lz4"],
        name,
    )
}

fn encoded(e: Encoded) -> Value {
    match e {
        Encoded::Bytes(b) => Value::Bytes(b),
        Encoded::Text(t) => Value::Text(t),
    }
}

impl NativePool {
    /// Wraps kernel work so it runs only while the environment owning its borrowed inputs is
    /// alive (see `channel::BorrowGuard`), and maps kernel errors to task errors.
    fn guarded<F>(
        &self,
        f: F,
    ) -> impl FnOnce(&CancelToken) -> std::result::Result<Value, TaskError> + Send + 'static
    where
        F: FnOnce(&CancelToken) -> std::result::Result<Value, KernelError> + Send + 'static,
    {
        let scope = self.scope.clone();
        move |token: &CancelToken| {
            let _guard = scope
                .borrow()
                .ok_or_else(|| errors::kernel_error(KernelError::Cancelled))?;
            f(token).map_err(errors::kernel_error)
        }
    }

    /// Submits `f` over borrowed `inputs`; `values` are the JS objects they were read from,
    /// held alive until the task settles when the binding settles the promise itself.
    fn run_kernel<const N: usize>(
        &self,
        env: &Env,
        slot: u32,
        priority: Option<String>,
        cancellable: bool,
        values: [&Unknown; N],
        inputs: [Input; N],
        f: impl FnOnce(&[&[u8]; N], &CancelToken) -> std::result::Result<Value, KernelError>
        + Send
        + 'static,
    ) -> Result<Unknown<'static>> {
        let keep = values.map(|v| v.raw());
        let work = self.guarded(move |token| f(&inputs.each_ref().map(Input::as_slice), token));
        self.submit(env.raw(), slot, &keep, priority, cancellable, work)
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
    let input = Input::from_js(env.raw(), &data, "data")?;
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
    let key = Input::from_js(env.raw(), &key_value, "key")?;
    let input = Input::from_js(env.raw(), &data, "data")?;
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
        .map(|(i, d)| Input::from_js(env.raw(), d, &format!("datas[{i}]")))
        .collect::<Result<Vec<_>>>()?;
    let work = pool.guarded(move |token| {
        let digests = digest_all(alg, &inputs, token)?;
        let encoded = digests.into_iter().map(|d| encoded(hash::encode(d, enc)));
        Ok(Value::List(encoded.collect()))
    });
    // The JS layer keeps the inputs of hashMany alive (it always passes a slot).
    pool.submit(env.raw(), slot, &[], priority, cancellable, work)
}

/// Digests `inputs` spread over the pool this task runs on. Chunks are rayon scope jobs with
/// no joins inside, so only this task's thread ever waits, and it is marked as in a task: a
/// drainer rayon hands it while it waits returns at once instead of running the queue on top
/// of this task (see `pool::TaskScope`).
fn digest_all(
    alg: HashAlgorithm,
    inputs: &[Input],
    token: &CancelToken,
) -> std::result::Result<Vec<Vec<u8>>, KernelError> {
    let pieces = rayon::current_num_threads() * 4;
    let chunk = inputs.len().div_ceil(pieces).max(1);
    let mut out: Vec<Option<std::result::Result<Vec<u8>, KernelError>>> =
        (0..inputs.len()).map(|_| None).collect();
    let _scope = TaskScope::enter();
    rayon::scope(|s| {
        for (ins, outs) in inputs.chunks(chunk).zip(out.chunks_mut(chunk)) {
            s.spawn(move |_| {
                for (input, slot) in ins.iter().zip(outs) {
                    *slot = Some(hash::digest(alg, input.as_slice(), &|| {
                        token.is_cancelled()
                    }));
                }
            });
        }
    });
    out.into_iter()
        .map(|r| r.unwrap_or(Err(KernelError::Cancelled)))
        .collect()
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
    let range = fmt.level_range();
    // Read as a double, never as napi's int32 (which wraps 2**32 + 9 to 9 and 1e300 to 0).
    let level = match options.and_then(|o| o.level) {
        None => fmt.default_level(),
        Some(l)
            if l.fract() == 0.0 && (*range.start() as f64..=*range.end() as f64).contains(&l) =>
        {
            l as i32
        }
        Some(l) => {
            return Err(out_of_range(
                "options.level",
                format!(">= {} && <= {} for {format}", range.start(), range.end()),
                l,
            ));
        }
    };
    let input = Input::from_js(env.raw(), &data, "data")?;
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
    let max = match options.and_then(|o| o.max_output_length) {
        None => MAX_BUFFER_LENGTH as usize,
        Some(m) if m.fract() == 0.0 && (0.0..=MAX_BUFFER_LENGTH).contains(&m) => m as usize,
        Some(m) => {
            return Err(out_of_range(
                "options.maxOutputLength",
                format!("an integer >= 0 && <= {MAX_BUFFER_LENGTH}"),
                m,
            ));
        }
    };
    let input = Input::from_js(env.raw(), &data, "data")?;
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

// Test-only kernels, exported through `offload/testing`: they make pool behaviour observable.

/// Does nothing; measures dispatch overhead.
#[napi]
pub fn submit_noop(
    env: Env,
    pool: &External<NativePool>,
    slot: u32,
    priority: Option<String>,
    cancellable: bool,
) -> Result<Unknown<'static>> {
    pool.submit(
        env.raw(),
        slot,
        &[],
        priority,
        cancellable,
        |_: &CancelToken| Ok(Value::Undefined),
    )
}

/// Busy-waits `ms` milliseconds, polling the cancel token like a real kernel.
#[napi]
pub fn submit_spin(
    env: Env,
    pool: &External<NativePool>,
    slot: u32,
    ms: f64,
    priority: Option<String>,
    cancellable: bool,
) -> Result<Unknown<'static>> {
    if !(0.0..=3_600_000.0).contains(&ms) {
        return Err(out_of_range("ms", ">= 0 && <= 3600000", ms));
    }
    let dur = std::time::Duration::from_secs_f64(ms / 1000.0);
    pool.submit(
        env.raw(),
        slot,
        &[],
        priority,
        cancellable,
        move |token: &CancelToken| {
            let start = std::time::Instant::now();
            while start.elapsed() < dur {
                if token.is_cancelled() {
                    return Err(TaskError::new("ABORT_ERR", "cancelled"));
                }
                std::hint::spin_loop();
            }
            Ok(Value::Undefined)
        },
    )
}

/// Panics on a pool thread with `message`.
#[napi]
pub fn submit_panic(
    env: Env,
    pool: &External<NativePool>,
    slot: u32,
    message: String,
    priority: Option<String>,
    cancellable: bool,
) -> Result<Unknown<'static>> {
    pool.submit(
        env.raw(),
        slot,
        &[],
        priority,
        cancellable,
        move |_: &CancelToken| std::panic::panic_any(message),
    )
}
