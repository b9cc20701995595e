//! Many digests in one task, spread over the rayon pool the task runs on.
//!
//! Chunks are rayon scope jobs with no joins inside, so only the calling thread ever waits.
//! The caller (a task on the offload pool) marks its thread as in a task first
//! (`pool::TaskScope`), so a drainer rayon hands it while it waits returns at once instead of
//! running the queue on top of this task.

use super::{HashAlgorithm, digest};
use crate::kernels::{Cancel, KernelError};

/// The digests of `inputs`, in order; the first failure (a cancel) fails the whole call.
pub fn digest_many<I: AsRef<[u8]> + Sync>(
    alg: HashAlgorithm,
    inputs: &[I],
    cancel: Cancel,
) -> Result<Vec<Vec<u8>>, KernelError> {
    let pieces = rayon::current_num_threads() * 4;
    let chunk = inputs.len().div_ceil(pieces).max(1);
    let mut out: Vec<Option<Result<Vec<u8>, KernelError>>> =
        (0..inputs.len()).map(|_| None).collect();
    rayon::scope(|s| {
        for (ins, outs) in inputs.chunks(chunk).zip(out.chunks_mut(chunk)) {
            s.spawn(move |_| {
                for (input, slot) in ins.iter().zip(outs) {
                    *slot = Some(digest(alg, input.as_ref(), cancel));
                }
            });
        }
    });
    out.into_iter()
        .map(|r| r.unwrap_or(Err(KernelError::Cancelled)))
        .collect()
}
