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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn many_digests_match_one_by_one_in_order() {
        let inputs: Vec<Vec<u8>> = (0..100u8).map(|i| vec![i; usize::from(i) * 37]).collect();
        let never = || false;
        let many = digest_many(HashAlgorithm::Sha256, &inputs, &never).unwrap();
        assert_eq!(many.len(), inputs.len());
        for (input, d) in inputs.iter().zip(&many) {
            assert_eq!(d, &digest(HashAlgorithm::Sha256, input, &never).unwrap());
        }
        assert!(
            digest_many::<Vec<u8>>(HashAlgorithm::Sha256, &[], &never)
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn a_cancel_fails_the_whole_call() {
        let inputs = vec![vec![0u8; 1024]; 8];
        let always = || true;
        let r = digest_many(HashAlgorithm::Sha256, &inputs, &always);
        assert!(matches!(r, Err(KernelError::Cancelled)));
    }
}
