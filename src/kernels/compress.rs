use super::{Cancel, KernelError, UnknownName};
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Gzip,
}
impl std::str::FromStr for Format {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, UnknownName> {
        if s == "gzip" {
            Ok(Self::Gzip)
        } else {
            Err(UnknownName {
                kind: "fmt",
                name: s.into(),
            })
        }
    }
}
impl Format {
    pub fn level_range(self) -> std::ops::RangeInclusive<i32> {
        0..=9
    }
    pub fn default_level(self) -> i32 {
        6
    }
}
pub fn compress(_f: Format, d: &[u8], _l: i32, _c: Cancel) -> Result<Vec<u8>, KernelError> {
    Ok(d.to_vec())
}
pub fn decompress(_f: Format, d: &[u8], _m: usize, _c: Cancel) -> Result<Vec<u8>, KernelError> {
    Ok(d.to_vec())
}
