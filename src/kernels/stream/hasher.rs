//! A digest or HMAC of every algorithm `hash::digest` and `hash::hmac` know, fed piece by
//! piece; its result is byte for byte theirs (non-cryptographic checksums big-endian).

use hmac::{Hmac, Mac};
use sha2::Digest;

use crate::kernels::hash::HashAlgorithm;
use crate::kernels::{CHUNK, Cancel, KernelError, check, pieces};

/// The running state of one digest or HMAC.
pub struct Hasher {
    alg: HashAlgorithm,
    state: State,
}

enum State {
    Sha1(sha1::Sha1),
    Sha256(sha2::Sha256),
    Sha384(sha2::Sha384),
    Sha512(sha2::Sha512),
    Sha3_256(sha3::Sha3_256),
    Sha3_512(sha3::Sha3_512),
    Md5(md5::Md5),
    Blake3(Box<blake3::Hasher>),
    Xxh3(Box<xxhash_rust::xxh3::Xxh3>),
    Crc32c(u32),
    Mac(Box<dyn DynMac>),
}

/// An HMAC whose digest type is erased.
trait DynMac: Send {
    fn feed(&mut self, data: &[u8]);
    fn done(self: Box<Self>) -> Vec<u8>;
}

impl<M: Mac + Send> DynMac for M {
    fn feed(&mut self, data: &[u8]) {
        Mac::update(self, data);
    }
    fn done(self: Box<Self>) -> Vec<u8> {
        self.finalize().into_bytes().to_vec()
    }
}

fn mac<M: Mac + hmac::digest::KeyInit + Send + 'static>(
    key: &[u8],
) -> Result<Box<dyn DynMac>, KernelError> {
    // HMAC takes keys of any length; this error is unreachable in practice.
    let m = <M as Mac>::new_from_slice(key)
        .map_err(|e| KernelError::Unsupported(format!("invalid HMAC key: {e}")))?;
    Ok(Box::new(m))
}

impl Hasher {
    pub fn new(alg: HashAlgorithm) -> Hasher {
        let state = match alg {
            HashAlgorithm::Sha1 => State::Sha1(Digest::new()),
            HashAlgorithm::Sha256 => State::Sha256(Digest::new()),
            HashAlgorithm::Sha384 => State::Sha384(Digest::new()),
            HashAlgorithm::Sha512 => State::Sha512(Digest::new()),
            HashAlgorithm::Sha3_256 => State::Sha3_256(Digest::new()),
            HashAlgorithm::Sha3_512 => State::Sha3_512(Digest::new()),
            HashAlgorithm::Md5 => State::Md5(Digest::new()),
            HashAlgorithm::Blake3 => State::Blake3(Box::default()),
            HashAlgorithm::Xxh3_64 | HashAlgorithm::Xxh3_128 => State::Xxh3(Box::default()),
            HashAlgorithm::Crc32c => State::Crc32c(0),
        };
        Hasher { alg, state }
    }

    /// An HMAC (RFC 2104) under `key`; `Unsupported` for the algorithms `hash::hmac` refuses.
    pub fn hmac(alg: HashAlgorithm, key: &[u8]) -> Result<Hasher, KernelError> {
        let state = State::Mac(match alg {
            HashAlgorithm::Sha1 => mac::<Hmac<sha1::Sha1>>(key)?,
            HashAlgorithm::Sha256 => mac::<Hmac<sha2::Sha256>>(key)?,
            HashAlgorithm::Sha384 => mac::<Hmac<sha2::Sha384>>(key)?,
            HashAlgorithm::Sha512 => mac::<Hmac<sha2::Sha512>>(key)?,
            HashAlgorithm::Sha3_256 => mac::<Hmac<sha3::Sha3_256>>(key)?,
            HashAlgorithm::Sha3_512 => mac::<Hmac<sha3::Sha3_512>>(key)?,
            HashAlgorithm::Md5 => mac::<Hmac<md5::Md5>>(key)?,
            _ => {
                return Err(KernelError::Unsupported(format!(
                    "HMAC is not supported for {}",
                    alg.name()
                )));
            }
        });
        Ok(Hasher { alg, state })
    }

    /// Feeds `data`, polling `cancel` every `CHUNK` bytes.
    pub fn update(&mut self, data: &[u8], cancel: Cancel) -> Result<(), KernelError> {
        for piece in pieces(data, CHUNK) {
            check(cancel)?;
            match &mut self.state {
                State::Sha1(h) => h.update(piece),
                State::Sha256(h) => h.update(piece),
                State::Sha384(h) => h.update(piece),
                State::Sha512(h) => h.update(piece),
                State::Sha3_256(h) => h.update(piece),
                State::Sha3_512(h) => h.update(piece),
                State::Md5(h) => h.update(piece),
                State::Blake3(h) => {
                    h.update(piece);
                }
                State::Xxh3(h) => h.update(piece),
                State::Crc32c(crc) => *crc = crc32c::crc32c_append(*crc, piece),
                State::Mac(m) => m.feed(piece),
            }
        }
        Ok(())
    }

    /// The digest (or MAC) of everything fed.
    pub fn finish(self) -> Vec<u8> {
        match self.state {
            State::Sha1(h) => h.finalize().to_vec(),
            State::Sha256(h) => h.finalize().to_vec(),
            State::Sha384(h) => h.finalize().to_vec(),
            State::Sha512(h) => h.finalize().to_vec(),
            State::Sha3_256(h) => h.finalize().to_vec(),
            State::Sha3_512(h) => h.finalize().to_vec(),
            State::Md5(h) => h.finalize().to_vec(),
            State::Blake3(h) => h.finalize().as_bytes().to_vec(),
            State::Xxh3(h) if self.alg == HashAlgorithm::Xxh3_64 => {
                h.digest().to_be_bytes().to_vec()
            }
            State::Xxh3(h) => h.digest128().to_be_bytes().to_vec(),
            State::Crc32c(crc) => crc.to_be_bytes().to_vec(),
            State::Mac(m) => m.done(),
        }
    }
}
