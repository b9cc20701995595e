//! Entry points of streaming: a native stream (`NativeStream`, held by JS in an `External`)
//! keeps an incremental kernel (`Encoder`, `Decoder`, `Hasher`) between chunks, and
//! `submitStreamWrite` runs one step of it on the pool, like any kernel task: chunks are read
//! in place (the JS layer keeps them alive until the task settles) and the output comes back
//! as a Buffer owning the `Vec`.
//!
//! The JS layer keeps one task per stream in flight, which is what orders the chunks. The
//! kernel is taken out of its slot for the length of a task and put back after, so the mutex
//! is only held for those two moves and `closeStream` (JS thread) never waits on work: when a
//! task holds the kernel, closing marks the slot and the task drops the kernel when it ends.
//! A failed step drops the kernel too: a stream that failed stays failed.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use napi::Env;
use napi::bindgen_prelude::{External, Unknown};
use napi_derive::napi;

use crate::errors::{Result, TaskError};
use crate::options::kernels::{
    CompressOptions, DecompressOptions, HashOptions, algorithm, encoding, format, hmac_algorithm,
    level, max_output,
};
use crate::options::pool::priority;
use crate::options::streams::{chunk_size, flush};
use crate::pool::NativePool;
use crate::runtime::input::Input;
use crate::runtime::value::Value;
use offload_core::kernels::hash::{self, Encoded, Encoding, HashAlgorithm};
use offload_core::kernels::stream::{Decoder, Encoder, Flush, Hasher};
use offload_core::kernels::{Cancel, KernelError};

/// The state of one stream, inside an `External` (declared to napi only for the typings).
#[napi]
pub struct NativeStream {
    slot: Arc<Mutex<Slot>>,
}

struct Slot {
    /// `None` while a task runs it, once it has finished or failed, and once closed.
    kernel: Option<Kernel>,
    closed: bool,
}

enum Kernel {
    // Boxed: the states differ a lot in size, and a kernel moves in and out of its slot.
    Encode(Box<Encoder>),
    Decode(Box<Decoder>),
    Hash(Box<Hasher>, Encoding),
    /// An HMAC whose key is hashed by the first task, on the pool (a key may be large). The
    /// key is read in place: the JS layer passes it with every task of the stream.
    HmacKey(HashAlgorithm, Input, Encoding),
}

fn lock(slot: &Mutex<Slot>) -> MutexGuard<'_, Slot> {
    // Nothing panics while the lock is held (two moves of an Option).
    slot.lock().unwrap_or_else(PoisonError::into_inner)
}

fn external(kernel: Kernel) -> External<NativeStream> {
    let slot = Slot {
        kernel: Some(kernel),
        closed: false,
    };
    External::new(NativeStream {
        slot: Arc::new(Mutex::new(slot)),
    })
}

/// A compression stream; the format's level range and `priority` (used by each write) are
/// checked here, so a bad value throws at creation, as node:zlib's constructors do.
#[napi]
pub fn create_compress_stream(
    format: String,
    options: Option<CompressOptions>,
    priority: Option<String>,
) -> Result<External<NativeStream>> {
    self::priority(priority.as_deref())?;
    let fmt = self::format(&format)?;
    let level = level(fmt, options)?;
    let encoder = Encoder::new(fmt, level).map_err(thrown)?;
    Ok(external(Kernel::Encode(Box::new(encoder))))
}

/// A decompression stream; lz4 is refused here (its decoder cannot be fed in pieces), and
/// `priority` checked as by `createCompressStream`.
#[napi]
pub fn create_decompress_stream(
    format: String,
    options: Option<DecompressOptions>,
    priority: Option<String>,
) -> Result<External<NativeStream>> {
    self::priority(priority.as_deref())?;
    let fmt = self::format(&format)?;
    let max = max_output(options)?;
    let decoder = Decoder::new(fmt, max as u64).map_err(thrown)?;
    Ok(external(Kernel::Decode(Box::new(decoder))))
}

/// A digest stream, or an HMAC stream when `key` is given.
#[napi]
pub fn create_hash_stream(
    env: Env,
    algorithm: String,
    key: Option<Unknown>,
    options: Option<HashOptions>,
) -> Result<External<NativeStream>> {
    let enc = encoding(options)?;
    let kernel = match key {
        None => Kernel::Hash(Box::new(Hasher::new(self::algorithm(&algorithm)?)), enc),
        Some(k) => Kernel::HmacKey(
            hmac_algorithm(&algorithm)?,
            Input::from_js(&env, &k, "key")?,
            enc,
        ),
    };
    Ok(external(kernel))
}

/// Frees the stream's kernel now, or (returns false) when the task running it ends.
#[napi]
pub fn close_stream(stream: &External<NativeStream>) -> bool {
    let kernel = {
        let mut slot = lock(&stream.slot);
        slot.closed = true;
        slot.kernel.take()
    };
    let freed = kernel.is_some();
    match kernel {
        // A compressor's or decompressor's state runs to megabytes (brotli's and zstd's
        // windows: 128 MiB at zstd level 22): freed on the reclaim thread, not the JS thread.
        Some(k @ (Kernel::Encode(_) | Kernel::Decode(_))) => {
            offload_core::reclaim::release(k, offload_core::reclaim::OFF_THREAD_FROM);
        }
        other => drop(other),
    }
    freed
}

/// One step of a stream over `chunks`, then `flush` ('none', 'sync' or 'finish'). Settles
/// with: compression, the output Buffer; decompression, `[consumed, output, more]` (the input
/// bytes used: the step stops once `chunkSize` bytes are out, and `more` says the decoder
/// holds output yet); hashing, undefined, and the digest after 'finish'.
#[napi]
pub fn submit_stream_write(
    env: Env,
    pool: &External<NativePool>,
    slot: u32,
    stream: &External<NativeStream>,
    chunks: Vec<Unknown>,
    flush: String,
    chunk_size: f64,
    priority: Option<String>,
    cancellable: bool,
) -> Result<Unknown<'static>> {
    let flush = self::flush(&flush)?;
    let max = self::chunk_size(chunk_size)?;
    let inputs = chunks
        .iter()
        .enumerate()
        .map(|(i, c)| Input::from_js(&env, c, &format!("chunks[{i}]")))
        .collect::<Result<Vec<_>>>()?;
    let state = stream.slot.clone();
    let work = pool.guarded(move |token| {
        let cancel = &|| token.is_cancelled();
        let kernel = lock(&state).kernel.take();
        let Some(kernel) = kernel else {
            return Err(KernelError::Unsupported(
                "the stream has ended or failed".into(),
            ));
        };
        let (value, kernel) = step(kernel, &inputs, flush, max, cancel)?;
        let mut slot = lock(&state);
        if !slot.closed {
            slot.kernel = kernel;
        }
        Ok(value)
    });
    let keep: Vec<&Unknown<'_>> = chunks.iter().collect();
    pool.submit(&env, slot, &keep, priority, cancellable, work)
}

/// Runs one step; returns the result and the kernel, unless the step ended it.
fn step(
    kernel: Kernel,
    inputs: &[Input],
    flush: Flush,
    max: usize,
    cancel: Cancel,
) -> std::result::Result<(Value, Option<Kernel>), KernelError> {
    match kernel {
        Kernel::Encode(mut e) => {
            let mut out = Vec::new();
            let last = inputs.len().saturating_sub(1);
            for (i, input) in inputs.iter().enumerate() {
                let f = if i == last { flush } else { Flush::None };
                out.extend(e.write(input.as_slice(), f, cancel)?);
            }
            if inputs.is_empty() {
                out = e.write(&[], flush, cancel)?;
            }
            let kernel = (!e.is_finished()).then_some(Kernel::Encode(e));
            Ok((Value::Bytes(out), kernel))
        }
        Kernel::Decode(mut d) => {
            let (mut used, mut out, mut more) = (0usize, Vec::new(), false);
            for input in inputs {
                let (n, piece, m) = d.write_some(input.as_slice(), max - out.len(), cancel)?;
                used += n;
                out.extend(piece);
                more = m;
                if n < input.as_slice().len() || more || out.len() >= max {
                    break;
                }
            }
            let total: usize = inputs.iter().map(|i| i.as_slice().len()).sum();
            if inputs.is_empty() {
                // A call with no input drains what the decoder held back.
                let (_, piece, m) = d.write_some(&[], max, cancel)?;
                (out, more) = (piece, m);
            }
            let done = flush == Flush::Finish && used == total && !more;
            if done {
                out.extend(d.finish(cancel)?);
            }
            let list = vec![
                Value::Number(used as f64),
                Value::Bytes(out),
                Value::Bool(more),
            ];
            Ok((Value::List(list), (!done).then_some(Kernel::Decode(d))))
        }
        Kernel::HmacKey(alg, key, enc) => {
            let h = Hasher::hmac(alg, key.as_slice())?;
            step(Kernel::Hash(Box::new(h), enc), inputs, flush, max, cancel)
        }
        Kernel::Hash(mut h, enc) => {
            for input in inputs {
                h.update(input.as_slice(), cancel)?;
            }
            if flush != Flush::Finish {
                return Ok((Value::Undefined, Some(Kernel::Hash(h, enc))));
            }
            let digest = match hash::encode(h.finish(), enc) {
                Encoded::Bytes(b) => Value::Bytes(b),
                Encoded::Text(t) => Value::Text(t),
            };
            Ok((digest, None))
        }
    }
}

/// A kernel error raised at creation, thrown as the task would have rejected.
fn thrown(e: KernelError) -> crate::errors::Error {
    let TaskError { code, message } = crate::errors::kernel_error(e);
    crate::errors::coded(code, message)
}
