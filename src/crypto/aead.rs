//! Authenticated encryption: AES-256-GCM, AES-128-GCM and ChaCha20-Poly1305 with a 12-byte IV
//! and a 16-byte tag, the bytes of OpenSSL's (node's `createCipheriv`) for the same key, IV and
//! AAD, through aws-lc-rs (see the measurement at the dependency in Cargo.toml).
//!
//! Both directions work out of place: the input is read where it lies (the caller's memory)
//! and written once into a fresh output. [`open`] releases nothing unless the tag verifies:
//! its output buffer is wiped and dropped on failure, and the error says only that
//! authentication failed. A key is handed to aws-lc, whose context (the key schedule) is wiped
//! when freed (`OPENSSL_free` cleanses); this module keeps no copy of it. aws-lc-rs has no
//! streaming AEAD, so a message is sealed or opened in one call: the cancel flag is polled
//! before it starts (a 16 MiB message is ~2 ms of AES-GCM, ~7 ms of ChaCha20-Poly1305 here).
//! IVs for callers who give none come from the OS ([`random_iv`], `getrandom`).

#![forbid(unsafe_code)]

use std::str::FromStr;

use aws_lc_rs::aead::{
    AES_128_GCM, AES_256_GCM, Aad, CHACHA20_POLY1305, LessSafeKey, Nonce, UnboundKey,
};
use zeroize::Zeroizing;

use crate::kernels::{Cancel, KernelError, UnknownName, check};

/// Bytes of every algorithm's IV (nonce).
pub const IV_LEN: usize = 12;
/// Bytes of every algorithm's authentication tag.
pub const TAG_LEN: usize = 16;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Algorithm {
    Aes256Gcm,
    Aes128Gcm,
    ChaCha20Poly1305,
}

impl Algorithm {
    pub const ALL: [Algorithm; 3] = [Self::Aes256Gcm, Self::Aes128Gcm, Self::ChaCha20Poly1305];

    /// OpenSSL's (node's) name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Aes256Gcm => "aes-256-gcm",
            Self::Aes128Gcm => "aes-128-gcm",
            Self::ChaCha20Poly1305 => "chacha20-poly1305",
        }
    }

    pub fn key_len(self) -> usize {
        match self {
            Self::Aes128Gcm => 16,
            Self::Aes256Gcm | Self::ChaCha20Poly1305 => 32,
        }
    }

    fn aws(self) -> &'static aws_lc_rs::aead::Algorithm {
        match self {
            Self::Aes256Gcm => &AES_256_GCM,
            Self::Aes128Gcm => &AES_128_GCM,
            Self::ChaCha20Poly1305 => &CHACHA20_POLY1305,
        }
    }

    pub(super) fn key(self, key: &[u8]) -> Result<LessSafeKey, KernelError> {
        // The binding checks the length first (node's ERR_CRYPTO_INVALID_KEYLEN); the key's
        // bytes never go into the message.
        UnboundKey::new(self.aws(), key)
            .map(LessSafeKey::new)
            .map_err(|_| {
                KernelError::Unsupported(format!(
                    "{} needs a {}-byte key, received {} bytes",
                    self.name(),
                    self.key_len(),
                    key.len()
                ))
            })
    }
}

impl FromStr for Algorithm {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|a| a.name() == s)
            .ok_or_else(|| UnknownName {
                kind: "cipher",
                name: s.to_owned(),
            })
    }
}

/// A fresh IV from the operating system's CSPRNG (`getrandom(2)` on Linux).
pub fn random_iv() -> Result<[u8; IV_LEN], getrandom::Error> {
    let mut iv = [0u8; IV_LEN];
    getrandom::fill(&mut iv)?;
    Ok(iv)
}

/// Encrypts `plaintext`: the ciphertext (as long as the plaintext) and the tag.
pub fn seal(
    alg: Algorithm,
    key: &[u8],
    iv: &[u8; IV_LEN],
    aad: &[u8],
    plaintext: &[u8],
    cancel: Cancel,
) -> Result<(Vec<u8>, [u8; TAG_LEN]), KernelError> {
    check(cancel)?;
    let key = alg.key(key)?;
    let mut out = vec![0u8; plaintext.len()];
    let mut tag = [0u8; TAG_LEN];
    key.seal_out_of_place_scatter(
        Nonce::assume_unique_for_key(*iv),
        Aad::from(aad),
        plaintext,
        &mut out,
        &[],
        &mut tag,
    )
    // Only lengths past the algorithm's limit fail (64 GiB for GCM), above any Buffer's.
    .map_err(|_| KernelError::Unsupported(format!("{} refused the message", alg.name())))?;
    Ok((out, tag))
}

/// Decrypts and verifies: the plaintext, or [`KernelError::AuthFailed`] with nothing released
/// when the key, IV, AAD, ciphertext or tag is not the one sealed.
pub fn open(
    alg: Algorithm,
    key: &[u8],
    iv: &[u8; IV_LEN],
    aad: &[u8],
    ciphertext: &[u8],
    tag: &[u8; TAG_LEN],
    cancel: Cancel,
) -> Result<Vec<u8>, KernelError> {
    check(cancel)?;
    let key = alg.key(key)?;
    // Wiped on drop, so a failed open leaves no decrypted bytes behind (aws-lc may have
    // written some before comparing the tag).
    let mut out = Zeroizing::new(vec![0u8; ciphertext.len()]);
    key.open_separate_gather(
        Nonce::assume_unique_for_key(*iv),
        Aad::from(aad),
        ciphertext,
        tag,
        &mut out,
    )
    .map_err(|_| KernelError::AuthFailed)?;
    Ok(std::mem::take(&mut *out))
}

#[cfg(test)]
#[path = "aead_tests.rs"]
mod tests;
