//! The writing side of the offload STREAM format: header first, then segments, each sealed as
//! soon as it is known not to be the last one. It holds at most one segment of plaintext, in a
//! buffer wiped on drop.

use zeroize::Zeroizing;

use super::{HEADER_LEN, SALT_LEN, SEGMENT_LOG2, Segments, check_key, header, sealed_len};
use crate::crypto::aead::Algorithm;
use crate::kernels::{Cancel, KernelError};

/// Seals one stream. Feed it with [`Sealer::push`]; the last call says `last`.
pub struct Sealer {
    segments: Segments,
    size: usize,
    /// Plaintext not sealed yet: up to one segment, the last one seen (it may be the final).
    held: Zeroizing<Vec<u8>>,
    ended: bool,
}

impl Sealer {
    /// A stream of `alg` under `key` (the algorithm's key length) with 64 KiB segments, and the
    /// header to write before anything [`Sealer::push`] returns.
    pub fn new(alg: Algorithm, key: &[u8]) -> Result<(Self, [u8; HEADER_LEN]), KernelError> {
        Self::with_segment_log2(alg, key, super::DEFAULT_SEGMENT_LOG2)
    }

    /// As [`Sealer::new`] with segments of 2^`segment_log2` bytes (10 to 24).
    pub fn with_segment_log2(
        alg: Algorithm,
        key: &[u8],
        segment_log2: u8,
    ) -> Result<(Self, [u8; HEADER_LEN]), KernelError> {
        let mut salt = [0u8; SALT_LEN];
        getrandom::fill(&mut salt)
            .map_err(|e| KernelError::Internal(format!("the OS random source failed: {e}")))?;
        Self::with_salt(alg, key, segment_log2, &salt)
    }

    /// The deterministic core, with the salt given (known-answer tests).
    pub(super) fn with_salt(
        alg: Algorithm,
        key: &[u8],
        segment_log2: u8,
        salt: &[u8; SALT_LEN],
    ) -> Result<(Self, [u8; HEADER_LEN]), KernelError> {
        check_key(alg, key)?;
        if !SEGMENT_LOG2.contains(&segment_log2) {
            return Err(KernelError::OutOfRange(format!(
                "the segment size must be 2^{} to 2^{} bytes, received 2^{segment_log2}",
                SEGMENT_LOG2.start(),
                SEGMENT_LOG2.end()
            )));
        }
        let header = header(alg, segment_log2, salt);
        // Derivation is one HKDF: nothing to cancel.
        let segments = Segments::derive(alg, key, &header, &|| false)?;
        let size = 1usize << segment_log2;
        let sealer = Self {
            segments,
            size,
            held: Zeroizing::new(Vec::with_capacity(size)),
            ended: false,
        };
        Ok((sealer, header))
    }

    /// Takes the next piece of plaintext (any length, empty included) and returns the sealed
    /// segments it completes. With `last`, the stream ends: what is held is sealed as the final
    /// segment, and later calls fail. After an error (a cancel) the stream is dead too: some
    /// segments it counted were not returned.
    pub fn push(
        &mut self,
        data: &[u8],
        last: bool,
        cancel: Cancel,
    ) -> Result<Vec<u8>, KernelError> {
        if self.ended {
            return Err(KernelError::Unsupported(
                "the sealed stream has already ended".to_owned(),
            ));
        }
        let result = self.push_inner(data, last, cancel);
        self.ended = last || result.is_err();
        result
    }

    fn push_inner(
        &mut self,
        data: &[u8],
        last: bool,
        cancel: Cancel,
    ) -> Result<Vec<u8>, KernelError> {
        // Sized once, so the output is never reallocated: it holds a segment's plaintext while
        // that segment is sealed in place, and a reallocation would leave a copy behind.
        let total = self.held.len() + data.len();
        let count = if last {
            total.div_ceil(self.size).max(1)
        } else {
            total.saturating_sub(1) / self.size
        };
        let mut out = Vec::with_capacity(count * sealed_len(self.size));
        let mut data = data;
        while !data.is_empty() {
            if self.held.len() == self.size {
                // More input follows, so the held segment is not the last.
                self.segments.seal(&self.held, false, &mut out, cancel)?;
                self.held.clear();
            }
            if self.held.is_empty() && data.len() > self.size {
                // Whole segments that are not the last go straight from the input.
                let (segment, rest) = data.split_at(self.size);
                self.segments.seal(segment, false, &mut out, cancel)?;
                data = rest;
                continue;
            }
            let take = (self.size - self.held.len()).min(data.len());
            self.held.extend_from_slice(&data[..take]);
            data = &data[take..];
        }
        if last {
            self.segments.seal(&self.held, true, &mut out, cancel)?;
            self.held.clear();
        }
        debug_assert_eq!(out.capacity(), count * sealed_len(self.size));
        Ok(out)
    }
}
