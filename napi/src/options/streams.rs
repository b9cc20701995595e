//! Arguments of the stream entry points (`napi/src/streams.rs`) that are not the one-shot
//! kernels' (those, formats, levels, `maxOutputLength`, `encoding`, are reused from
//! `options::kernels`): what a write does after its input (`flush`) and how much output one
//! decompression task may make before it yields (`chunkSize`).

use super::integer;
use crate::errors::{Result, one_of};
use offload_core::kernels::stream::Flush;

/// Largest `chunkSize`: 64 MiB of output per task is already more than a stream should hold.
pub(crate) const MAX_CHUNK_SIZE: f64 = 64.0 * 1024.0 * 1024.0;
/// Smallest `chunkSize`, as node:zlib's `Z_MIN_CHUNK`.
pub(crate) const MIN_CHUNK_SIZE: f64 = 64.0;

/// The `flush` argument of `submitStreamWrite`: `'none'`, `'sync'` or `'finish'`.
pub(crate) fn flush(name: &str) -> Result<Flush> {
    match name {
        "none" => Ok(Flush::None),
        "sync" => Ok(Flush::Sync),
        "finish" => Ok(Flush::Finish),
        _ => Err(one_of(
            "argument 'flush'",
            &["none", "sync", "finish"],
            name,
        )),
    }
}

/// The output bound of one decompression task (`options.chunkSize` of the JS stream).
pub(crate) fn chunk_size(v: f64) -> Result<usize> {
    let range = format!(">= {MIN_CHUNK_SIZE} && <= {MAX_CHUNK_SIZE}");
    Ok(integer(
        "options.chunkSize",
        v,
        MIN_CHUNK_SIZE,
        MAX_CHUNK_SIZE,
        &range,
    )? as usize)
}
