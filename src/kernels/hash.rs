use super::{Cancel, KernelError, UnknownName};
use sha2::Digest;
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HashAlgorithm {
    Sha256,
}
impl HashAlgorithm {
    pub const ALL: [HashAlgorithm; 1] = [HashAlgorithm::Sha256];
    pub fn name(self) -> &'static str {
        "sha256"
    }
    pub fn supports_hmac(self) -> bool {
        true
    }
}
impl std::str::FromStr for HashAlgorithm {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, UnknownName> {
        if s == "sha256" {
            Ok(Self::Sha256)
        } else {
            Err(UnknownName {
                kind: "hash",
                name: s.into(),
            })
        }
    }
}
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Encoding {
    #[default]
    Buffer,
    Hex,
}
impl std::str::FromStr for Encoding {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, UnknownName> {
        match s {
            "buffer" => Ok(Self::Buffer),
            "hex" => Ok(Self::Hex),
            _ => Err(UnknownName {
                kind: "enc",
                name: s.into(),
            }),
        }
    }
}
pub enum Encoded {
    Bytes(Vec<u8>),
    Text(String),
}
pub fn encode(b: Vec<u8>, e: Encoding) -> Encoded {
    match e {
        Encoding::Buffer => Encoded::Bytes(b),
        Encoding::Hex => Encoded::Text(hex::encode(b)),
    }
}
pub fn digest(_a: HashAlgorithm, d: &[u8], c: Cancel) -> Result<Vec<u8>, KernelError> {
    let mut h = sha2::Sha256::new();
    for ch in d.chunks(256 * 1024) {
        if c() {
            return Err(KernelError::Cancelled);
        }
        h.update(ch)
    }
    Ok(h.finalize().to_vec())
}
pub fn hmac(a: HashAlgorithm, _k: &[u8], d: &[u8], c: Cancel) -> Result<Vec<u8>, KernelError> {
    digest(a, d, c)
}
