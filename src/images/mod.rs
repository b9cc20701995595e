//! Images (issue 15, in progress): what an encoded image is, read from its headers only.
//!
//! `probe` identifies JPEG, PNG, WebP and GIF by their signatures and reads dimensions,
//! orientation (EXIF), alpha, channels, colour space and whether an ICC profile or EXIF block
//! is present, without decoding pixels: a file that declares 100 000 × 100 000 costs what its
//! headers cost. Every read is bounds-checked; malformed input is an error, never a panic.

// Only jpeg.rs talks to C (libjpeg), each unsafe block marked where it is.
#![deny(unsafe_code)]

mod colour;
mod decode;
mod encode;
mod exif;
pub mod geometry;
mod jpeg;
mod metadata;
pub mod orient;
mod pipeline;
mod probe;
mod resize;
pub mod spec;

pub use pipeline::{Transformed, transform};
pub use probe::{ColorSpace, Format, Info, probe};

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum ImageError {
    #[error("unsupported image format (expected JPEG, PNG, WebP or GIF)")]
    Unsupported,
    #[error("corrupt {format} image: {detail}")]
    Corrupt {
        format: &'static str,
        detail: String,
    },
    #[error("the image is {width} x {height} = {pixels} pixels, over maxPixels ({max})")]
    TooLarge {
        width: u32,
        height: u32,
        pixels: u64,
        max: u64,
    },
    #[error(
        "the image needs {bytes} bytes of pixels, more than the whole image memory budget ({limit} bytes)"
    )]
    OverBudget { bytes: u64, limit: u64 },
    #[error("{0}")]
    BadRequest(String),
}

/// A transform's memory grant refused: cancelled (`None`), or larger than the whole budget.
impl From<crate::budget::Refused> for Option<ImageError> {
    fn from(r: crate::budget::Refused) -> Self {
        match r {
            crate::budget::Refused::Cancelled => None,
            crate::budget::Refused::OverBudget { bytes, limit } => {
                Some(ImageError::OverBudget { bytes, limit })
            }
        }
    }
}

/// Decoded pixels, row by row, `channels` (3 or 4) bytes each.
pub(crate) struct Pixels {
    pub(crate) data: Vec<u8>,
    pub(crate) width: u32,
    pub(crate) height: u32,
    pub(crate) channels: usize,
}
