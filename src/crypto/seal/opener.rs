//! The reading side of the offload STREAM format. Input arrives in pieces of any size; the
//! header is gathered first, then ciphertext up to one sealed segment. A full segment is opened
//! (as not the last) only once a byte after it shows it is not the last, so plaintext lags the
//! input by at most one segment, and is released only segment by segment, after its tag
//! verified. [`Opener::finish`] opens what is held as the final segment: a stream cut anywhere
//! fails there. After any error the opener is dead: every later call fails.

use zeroize::Zeroizing;

use super::{HEADER_LEN, Segments, TAG_LEN, check_key, check_magic, parse_header, sealed_len};
use crate::crypto::aead::Algorithm;
use crate::kernels::{Cancel, KernelError};

enum State {
    /// Gathering the header; the caller's key is kept (wiped on drop) until it is complete.
    Header {
        expected: Option<Algorithm>,
        key: Zeroizing<Vec<u8>>,
        got: Vec<u8>,
    },
    /// Opening segments of `size` bytes of plaintext.
    Body {
        segments: Segments,
        size: usize,
        held: Vec<u8>,
    },
    /// Finished, or failed.
    Done,
}

/// Opens one stream sealed by a [`super::Sealer`].
pub struct Opener {
    state: State,
}

impl Opener {
    /// An opener for a stream sealed under `key`. With `expected`, the key's length is checked
    /// now and a header naming another algorithm is refused (`Unsupported`, naming both);
    /// without, the header's algorithm is taken (the key then checked against it), which is
    /// still safe: the algorithm byte is bound into the per-file key.
    pub fn new(expected: Option<Algorithm>, key: &[u8]) -> Result<Self, KernelError> {
        if let Some(alg) = expected {
            check_key(alg, key)?;
        }
        Ok(Self {
            state: State::Header {
                expected,
                key: Zeroizing::new(key.to_vec()),
                got: Vec::with_capacity(HEADER_LEN),
            },
        })
    }

    /// The algorithm and segment size (bytes) of the stream, once its header is in.
    pub fn params(&self) -> Option<(Algorithm, usize)> {
        match &self.state {
            State::Body { segments, size, .. } => Some((segments.alg, *size)),
            _ => None,
        }
    }

    /// Takes the next piece of the sealed stream (any length) and returns the plaintext of the
    /// segments it let open, all authenticated.
    pub fn push(&mut self, data: &[u8], cancel: Cancel) -> Result<Vec<u8>, KernelError> {
        let result = self.push_inner(data, cancel);
        if result.is_err() {
            self.state = State::Done;
        }
        result
    }

    /// Ends the stream: opens what is held as the final segment and returns its plaintext.
    /// A stream that stopped early (inside the header, inside a segment, or at a segment
    /// boundary before the final one) fails with `AuthFailed`.
    pub fn finish(&mut self, cancel: Cancel) -> Result<Vec<u8>, KernelError> {
        match std::mem::replace(&mut self.state, State::Done) {
            State::Header { .. } => Err(KernelError::AuthFailed),
            State::Body {
                mut segments, held, ..
            } => {
                // Only an empty stream has an empty final segment: the sealer never writes one
                // after a full segment, so such a stream is not one it wrote.
                if held.len() == TAG_LEN && segments.counter > 0 {
                    return Err(KernelError::AuthFailed);
                }
                let mut out = Vec::with_capacity(held.len().saturating_sub(TAG_LEN));
                segments.open(&held, true, &mut out, cancel)?;
                Ok(out)
            }
            State::Done => Err(ended()),
        }
    }

    fn push_inner(&mut self, mut data: &[u8], cancel: Cancel) -> Result<Vec<u8>, KernelError> {
        if let State::Header { expected, key, got } = &mut self.state {
            let take = (HEADER_LEN - got.len()).min(data.len());
            got.extend_from_slice(&data[..take]);
            data = &data[take..];
            check_magic(got)?;
            let Ok(header) = <&[u8; HEADER_LEN]>::try_from(got.as_slice()) else {
                return Ok(Vec::new());
            };
            let (alg, segment_log2) = parse_header(header)?;
            if let Some(expected) = *expected
                && expected != alg
            {
                return Err(KernelError::Unsupported(format!(
                    "the stream was sealed with {}, not {}",
                    alg.name(),
                    expected.name()
                )));
            }
            check_key(alg, key)?;
            let segments = Segments::derive(alg, key, header, cancel)?;
            let size = 1usize << segment_log2;
            self.state = State::Body {
                segments,
                size,
                held: Vec::with_capacity(sealed_len(size)),
            };
        }
        let State::Body {
            segments,
            size,
            held,
        } = &mut self.state
        else {
            return Err(ended());
        };
        let full = sealed_len(*size);
        // Sized once (at most the plaintext in what is held and given), so the output is
        // never reallocated, which would leave a copy of plaintext behind.
        let count = (held.len() + data.len()).saturating_sub(1) / full;
        let mut out = Zeroizing::new(Vec::with_capacity(count * *size));
        while !data.is_empty() {
            if held.len() == full {
                // More input follows, so the held segment is not the last.
                segments.open(held, false, &mut out, cancel)?;
                held.clear();
            }
            if held.is_empty() && data.len() > full {
                let (segment, rest) = data.split_at(full);
                segments.open(segment, false, &mut out, cancel)?;
                data = rest;
                continue;
            }
            let take = (full - held.len()).min(data.len());
            held.extend_from_slice(&data[..take]);
            data = &data[take..];
        }
        Ok(std::mem::take(&mut *out))
    }
}

fn ended() -> KernelError {
    KernelError::Unsupported("the sealed stream has already ended or failed".to_owned())
}
