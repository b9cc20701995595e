//! The offload STREAM format: authenticated encryption of files and streams of any size in
//! constant memory, the STREAM construction (Hoang, Reyhanitabar, Rogaway and Vizár, "Online
//! Authenticated-Encryption and its Nonce-Reuse Misuse-Resistance", CRYPTO 2015) as age uses it.
//! `docs/encryption.md` ("Files and streams: the offload STREAM format") specifies it byte by
//! byte; in short:
//!
//! - a 43-byte header: magic, version, algorithm, segment size, 32 random bytes (`salt`);
//! - a per-file key, HKDF-SHA-256 of the caller's key with `salt` as salt and the other 11
//!   header bytes as info, so a key can seal any number of files (each gets its own key, and
//!   so its own nonce space) and every header byte is authenticated: changing one gives another
//!   key, under which no segment opens;
//! - the plaintext in segments of one fixed size (the last one shorter, never empty unless the
//!   whole plaintext is), each sealed with the per-file key and the nonce
//!   `11-byte big-endian segment counter || last flag` (1 on the last segment, 0 before).
//!
//! What the nonces guarantee: a segment opens only at its own position (reordering, duplication
//! and splicing from another file fail), only the segment sealed as last opens as last
//! (truncation at a segment boundary, and anything appended after the end, fail), and a
//! stream that stops inside a segment fails at [`Opener::finish`]. Every such failure, a wrong
//! key, and any changed byte of a well-formed header or of a segment, is
//! [`KernelError::AuthFailed`]; a header that is not one at all (wrong magic, an unknown
//! version, algorithm or segment size) is said so instead (see [`Opener`]).
//!
//! Both directions are push-based ([`Sealer::push`], [`Opener::push`]) so a file reader and a
//! Node stream can drive them with pieces of any size; each holds at most one segment, and the
//! opener releases plaintext only segment by segment, after its tag verified. The cancel flag is
//! polled before every segment. Keys: the caller's key is not kept by the sealer and only until
//! the header is complete by the opener (in memory wiped on drop); the per-file key lives in
//! aws-lc's context, which aws-lc wipes when freed, and its bytes are wiped once handed over.

#![forbid(unsafe_code)]

mod opener;
mod sealer;

pub use opener::Opener;
pub use sealer::Sealer;

use aws_lc_rs::aead::{Aad, LessSafeKey, NONCE_LEN, Nonce};
use zeroize::{Zeroize, Zeroizing};

use super::aead::{Algorithm, TAG_LEN};
use super::kdf::{self, Digest};
use crate::kernels::{Cancel, KernelError, check};

/// The first 8 bytes of every sealed stream.
pub const MAGIC: [u8; 8] = *b"OFLDSTRM";
/// The format version this module writes and reads.
pub const VERSION: u8 = 1;
/// Bytes of the random per-file salt.
pub const SALT_LEN: usize = 32;
/// Bytes of the header: magic, version, algorithm, segment size (log2), salt.
pub const HEADER_LEN: usize = MAGIC.len() + 3 + SALT_LEN;
/// The segment size written by [`Sealer::new`]: 2^16 = 64 KiB of plaintext, as age (the
/// measurement behind this choice is in docs/encryption.md).
pub const DEFAULT_SEGMENT_LOG2: u8 = 16;
/// Segment sizes a header may name: 1 KiB to 16 MiB, which bounds what an opener holds.
pub const SEGMENT_LOG2: std::ops::RangeInclusive<u8> = 10..=24;

/// The header bytes that are HKDF's info (all but the salt).
const INFO_LEN: usize = HEADER_LEN - SALT_LEN;
/// Segments a stream may have: the 11-byte counter's range.
const MAX_SEGMENTS: u128 = 1 << 88;
/// The name in `CorruptInput` errors.
const FORMAT: &str = "offload stream";

/// The format's id of an algorithm (header byte 9).
fn algorithm_id(alg: Algorithm) -> u8 {
    match alg {
        Algorithm::Aes256Gcm => 1,
        Algorithm::Aes128Gcm => 2,
        Algorithm::ChaCha20Poly1305 => 3,
    }
}

fn algorithm_of(id: u8) -> Option<Algorithm> {
    Algorithm::ALL.into_iter().find(|&a| algorithm_id(a) == id)
}

/// The caller's key must be the algorithm's key length, as for `encrypt` (HKDF would take any
/// length, but a short key would silently weaken every file).
fn check_key(alg: Algorithm, key: &[u8]) -> Result<(), KernelError> {
    if key.len() == alg.key_len() {
        return Ok(());
    }
    Err(KernelError::Unsupported(format!(
        "{} needs a {}-byte key, received {} bytes",
        alg.name(),
        alg.key_len(),
        key.len()
    )))
}

/// The header of a new stream.
fn header(alg: Algorithm, segment_log2: u8, salt: &[u8; SALT_LEN]) -> [u8; HEADER_LEN] {
    let mut h = [0u8; HEADER_LEN];
    h[..MAGIC.len()].copy_from_slice(&MAGIC);
    h[8] = VERSION;
    h[9] = algorithm_id(alg);
    h[10] = segment_log2;
    h[INFO_LEN..].copy_from_slice(salt);
    h
}

/// Fails as soon as the first bytes of a stream cannot start a header, so a file that is not
/// an offload stream is said to be one at its first bytes, however short it is.
fn check_magic(start: &[u8]) -> Result<(), KernelError> {
    let n = start.len().min(MAGIC.len());
    if start[..n] == MAGIC[..n] {
        return Ok(());
    }
    Err(KernelError::CorruptInput {
        format: FORMAT,
        detail: "not an offload encrypted stream (no OFLDSTRM header)".to_owned(),
    })
}

/// Reads a complete header: its algorithm and segment size (log2). Not authenticated yet:
/// that happens when the first segment opens under the key derived from it.
fn parse_header(h: &[u8; HEADER_LEN]) -> Result<(Algorithm, u8), KernelError> {
    check_magic(h)?;
    let corrupt = |detail: String| KernelError::CorruptInput {
        format: FORMAT,
        detail,
    };
    if h[8] != VERSION {
        return Err(KernelError::Unsupported(format!(
            "offload stream version {} is not supported (this build reads version {VERSION})",
            h[8]
        )));
    }
    let alg =
        algorithm_of(h[9]).ok_or_else(|| corrupt(format!("unknown algorithm id {}", h[9])))?;
    if !SEGMENT_LOG2.contains(&h[10]) {
        return Err(corrupt(format!("segment size 2^{} out of range", h[10])));
    }
    Ok((alg, h[10]))
}

/// The per-file key and the position in the stream: what seals or opens the next segment.
struct Segments {
    alg: Algorithm,
    key: LessSafeKey,
    /// The next segment's index.
    counter: u128,
}

impl Segments {
    /// Derives the per-file key from the caller's `key` (checked against `alg` by the caller)
    /// and the complete `header`.
    fn derive(
        alg: Algorithm,
        key: &[u8],
        header: &[u8; HEADER_LEN],
        cancel: Cancel,
    ) -> Result<Self, KernelError> {
        let mut file_key = Zeroizing::new([0u8; 32]);
        let file_key = &mut file_key[..alg.key_len()];
        let (info, salt) = header.split_at(INFO_LEN);
        kdf::hkdf(Digest::Sha256, key, salt, info, file_key, cancel)?;
        Ok(Self {
            alg,
            key: alg.key(file_key)?,
            counter: 0,
        })
    }

    /// The nonce of the next segment, which it consumes.
    fn next_nonce(&mut self, last: bool) -> Result<Nonce, KernelError> {
        if self.counter >= MAX_SEGMENTS {
            // 2^88 segments: not reachable by any real stream, refused rather than wrapped.
            return Err(KernelError::Internal(
                "offload stream segment counter exhausted".to_owned(),
            ));
        }
        let mut nonce = [0u8; NONCE_LEN];
        nonce[..NONCE_LEN - 1].copy_from_slice(&self.counter.to_be_bytes()[16 - (NONCE_LEN - 1)..]);
        nonce[NONCE_LEN - 1] = u8::from(last);
        self.counter += 1;
        Ok(Nonce::assume_unique_for_key(nonce))
    }

    /// Appends `plaintext` sealed as the next segment (ciphertext, then tag) to `out`.
    fn seal(
        &mut self,
        plaintext: &[u8],
        last: bool,
        out: &mut Vec<u8>,
        cancel: Cancel,
    ) -> Result<(), KernelError> {
        check(cancel)?;
        let nonce = self.next_nonce(last)?;
        let start = out.len();
        out.extend_from_slice(plaintext);
        match self
            .key
            .seal_in_place_separate_tag(nonce, Aad::empty(), &mut out[start..])
        {
            Ok(tag) => {
                out.extend_from_slice(tag.as_ref());
                Ok(())
            }
            Err(_) => {
                // Only lengths past the algorithm's limit fail (64 GiB for GCM), far above a
                // segment; the plaintext copied in is wiped all the same.
                out[start..].zeroize();
                out.truncate(start);
                Err(KernelError::Internal(
                    "the cipher refused a segment".to_owned(),
                ))
            }
        }
    }

    /// Appends the plaintext of `segment` (ciphertext, then tag), opened as the next segment,
    /// to `out`; on failure `out` is as it was and nothing decrypted is left in its memory.
    fn open(
        &mut self,
        segment: &[u8],
        last: bool,
        out: &mut Vec<u8>,
        cancel: Cancel,
    ) -> Result<(), KernelError> {
        check(cancel)?;
        let Some(split) = segment.len().checked_sub(TAG_LEN) else {
            return Err(KernelError::AuthFailed);
        };
        let (ciphertext, tag) = segment.split_at(split);
        let nonce = self.next_nonce(last)?;
        let start = out.len();
        out.extend_from_slice(ciphertext);
        let opened =
            self.key
                .open_in_place_separate_tag(nonce, Aad::empty(), tag, &mut out[start..]);
        if opened.is_err() {
            // aws-lc may have decrypted before it compared the tag.
            out[start..].zeroize();
            out.truncate(start);
            return Err(KernelError::AuthFailed);
        }
        Ok(())
    }
}

/// Bytes a segment of `plaintext` bytes takes sealed.
const fn sealed_len(plaintext: usize) -> usize {
    plaintext + TAG_LEN
}

#[cfg(test)]
mod tests;
