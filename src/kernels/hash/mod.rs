//! Digests, HMACs and their text encodings.

mod many;

pub use many::digest_many;

use std::str::FromStr;

use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Digest;

use crate::kernels::{CHUNK, Cancel, KernelError, UnknownName, check, pieces};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HashAlgorithm {
    Sha1,
    Sha256,
    Sha384,
    Sha512,
    Sha3_256,
    Sha3_512,
    Blake3,
    Xxh3_64,
    Xxh3_128,
    Md5,
    Crc32c,
}

impl HashAlgorithm {
    pub const ALL: [HashAlgorithm; 11] = [
        Self::Sha1,
        Self::Sha256,
        Self::Sha384,
        Self::Sha512,
        Self::Sha3_256,
        Self::Sha3_512,
        Self::Blake3,
        Self::Xxh3_64,
        Self::Xxh3_128,
        Self::Md5,
        Self::Crc32c,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::Sha1 => "sha1",
            Self::Sha256 => "sha256",
            Self::Sha384 => "sha384",
            Self::Sha512 => "sha512",
            Self::Sha3_256 => "sha3-256",
            Self::Sha3_512 => "sha3-512",
            Self::Blake3 => "blake3",
            Self::Xxh3_64 => "xxh3-64",
            Self::Xxh3_128 => "xxh3-128",
            Self::Md5 => "md5",
            Self::Crc32c => "crc32c",
        }
    }

    pub fn digest_len(self) -> usize {
        match self {
            Self::Crc32c => 4,
            Self::Xxh3_64 => 8,
            Self::Md5 | Self::Xxh3_128 => 16,
            Self::Sha1 => 20,
            Self::Sha256 | Self::Sha3_256 | Self::Blake3 => 32,
            Self::Sha384 => 48,
            Self::Sha512 | Self::Sha3_512 => 64,
        }
    }

    /// HMAC (RFC 2104) needs a block-based cryptographic hash; BLAKE3 has its
    /// own keyed mode and xxh3/crc32c are not cryptographic.
    pub fn supports_hmac(self) -> bool {
        !matches!(
            self,
            Self::Blake3 | Self::Xxh3_64 | Self::Xxh3_128 | Self::Crc32c
        )
    }
}

impl FromStr for HashAlgorithm {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|alg| alg.name() == s)
            .ok_or_else(|| UnknownName {
                kind: "hash algorithm",
                name: s.to_owned(),
            })
    }
}

/// Feeds `data` to `update` in CHUNK-sized pieces, polling `cancel` before each.
fn feed(data: &[u8], cancel: Cancel, mut update: impl FnMut(&[u8])) -> Result<(), KernelError> {
    for piece in pieces(data, CHUNK) {
        check(cancel)?;
        update(piece);
    }
    Ok(())
}

fn run_digest<D: Digest>(data: &[u8], cancel: Cancel) -> Result<Vec<u8>, KernelError> {
    let mut h = D::new();
    feed(data, cancel, |piece| h.update(piece))?;
    Ok(h.finalize().to_vec())
}

fn run_mac<M: Mac + hmac::digest::KeyInit>(
    key: &[u8],
    data: &[u8],
    cancel: Cancel,
) -> Result<Vec<u8>, KernelError> {
    // HMAC accepts keys of any length, so this error is unreachable in practice.
    let mut mac = <M as Mac>::new_from_slice(key)
        .map_err(|e| KernelError::Unsupported(format!("invalid HMAC key: {e}")))?;
    feed(data, cancel, |piece| mac.update(piece))?;
    Ok(mac.finalize().into_bytes().to_vec())
}

/// Digest of `data`. Non-cryptographic checksums are returned big-endian, the
/// canonical byte order printed by `xxhsum` and most crc32c tools.
pub fn digest(alg: HashAlgorithm, data: &[u8], cancel: Cancel) -> Result<Vec<u8>, KernelError> {
    match alg {
        HashAlgorithm::Sha1 => run_digest::<sha1::Sha1>(data, cancel),
        HashAlgorithm::Sha256 => run_digest::<sha2::Sha256>(data, cancel),
        HashAlgorithm::Sha384 => run_digest::<sha2::Sha384>(data, cancel),
        HashAlgorithm::Sha512 => run_digest::<sha2::Sha512>(data, cancel),
        HashAlgorithm::Sha3_256 => run_digest::<sha3::Sha3_256>(data, cancel),
        HashAlgorithm::Sha3_512 => run_digest::<sha3::Sha3_512>(data, cancel),
        HashAlgorithm::Md5 => run_digest::<md5::Md5>(data, cancel),
        HashAlgorithm::Blake3 => {
            let mut h = blake3::Hasher::new();
            feed(data, cancel, |piece| {
                h.update(piece);
            })?;
            Ok(h.finalize().as_bytes().to_vec())
        }
        HashAlgorithm::Xxh3_64 | HashAlgorithm::Xxh3_128 => {
            let mut h = xxhash_rust::xxh3::Xxh3::new();
            feed(data, cancel, |piece| h.update(piece))?;
            Ok(if alg == HashAlgorithm::Xxh3_64 {
                h.digest().to_be_bytes().to_vec()
            } else {
                h.digest128().to_be_bytes().to_vec()
            })
        }
        HashAlgorithm::Crc32c => {
            let mut crc = 0;
            feed(data, cancel, |piece| {
                crc = crc32c::crc32c_append(crc, piece)
            })?;
            Ok(crc.to_be_bytes().to_vec())
        }
    }
}

/// RFC 2104 HMAC of `data` under `key`.
pub fn hmac(
    alg: HashAlgorithm,
    key: &[u8],
    data: &[u8],
    cancel: Cancel,
) -> Result<Vec<u8>, KernelError> {
    match alg {
        HashAlgorithm::Sha1 => run_mac::<Hmac<sha1::Sha1>>(key, data, cancel),
        HashAlgorithm::Sha256 => run_mac::<Hmac<sha2::Sha256>>(key, data, cancel),
        HashAlgorithm::Sha384 => run_mac::<Hmac<sha2::Sha384>>(key, data, cancel),
        HashAlgorithm::Sha512 => run_mac::<Hmac<sha2::Sha512>>(key, data, cancel),
        HashAlgorithm::Sha3_256 => run_mac::<Hmac<sha3::Sha3_256>>(key, data, cancel),
        HashAlgorithm::Sha3_512 => run_mac::<Hmac<sha3::Sha3_512>>(key, data, cancel),
        HashAlgorithm::Md5 => run_mac::<Hmac<md5::Md5>>(key, data, cancel),
        HashAlgorithm::Blake3
        | HashAlgorithm::Xxh3_64
        | HashAlgorithm::Xxh3_128
        | HashAlgorithm::Crc32c => Err(KernelError::Unsupported(format!(
            "HMAC is not supported for {}",
            alg.name()
        ))),
    }
}

/// Output encoding of a digest, named as in Node's `digest(encoding)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Encoding {
    #[default]
    Buffer,
    Hex,
    Base64,
    Base64Url,
}

impl FromStr for Encoding {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "buffer" => Ok(Self::Buffer),
            "hex" => Ok(Self::Hex),
            "base64" => Ok(Self::Base64),
            "base64url" => Ok(Self::Base64Url),
            _ => Err(UnknownName {
                kind: "encoding",
                name: s.to_owned(),
            }),
        }
    }
}

pub enum Encoded {
    Bytes(Vec<u8>),
    Text(String),
}

/// Encodes like Node: lowercase hex, padded standard base64, unpadded base64url.
pub fn encode(bytes: Vec<u8>, enc: Encoding) -> Encoded {
    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
    match enc {
        Encoding::Buffer => Encoded::Bytes(bytes),
        Encoding::Hex => Encoded::Text(hex::encode(bytes)),
        Encoding::Base64 => Encoded::Text(STANDARD.encode(bytes)),
        Encoding::Base64Url => Encoded::Text(URL_SAFE_NO_PAD.encode(bytes)),
    }
}

#[cfg(test)]
mod tests;
