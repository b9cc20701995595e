//! What one `transformImage` call asks for, in core types: the binding converts JS options into
//! a [`TransformSpec`] (checking every value), and the pipeline only reads it.

use std::str::FromStr;

use super::geometry::{Rect, ResizeSpec};
use crate::names::UnknownName;

/// Resampling filters, by sharp's names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kernel {
    Nearest,
    Linear,
    Cubic,
    Mitchell,
    Lanczos3,
}

/// Output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutFormat {
    Jpeg,
    Png,
    Webp,
}

impl OutFormat {
    pub fn name(self) -> &'static str {
        match self {
            OutFormat::Jpeg => "jpeg",
            OutFormat::Png => "png",
            OutFormat::Webp => "webp",
        }
    }
}

/// How the image is turned before anything else.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rotate {
    /// By its EXIF orientation (the default).
    Auto,
    /// By this many quarter turns clockwise, EXIF ignored.
    Turns(u8),
}

/// An RGBA colour, for the canvas of `contain` and for flattening alpha into JPEG.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rgba(pub [u8; 4]);

#[derive(Clone, Debug, PartialEq)]
pub struct TransformSpec {
    pub resize: Option<ResizeSpec>,
    pub kernel: Kernel,
    pub background: Rgba,
    pub rotate: Rotate,
    pub flip: bool,
    pub flop: bool,
    /// A region of the oriented input, cut out before resizing.
    pub extract: Option<Rect>,
    /// `None`: the input's format (GIF input becomes PNG).
    pub format: Option<OutFormat>,
    /// 1–100, for JPEG and lossy WebP.
    pub quality: u8,
    /// WebP without loss (quality ignored).
    pub lossless: bool,
    pub progressive: bool,
    /// 0–9: encoder effort (PNG compression level; WebP method, at most 6).
    pub effort: u8,
    /// Carry the input's EXIF and RGB ICC profile into the output, pixels left in the profile's
    /// colour space; off, both are stripped and the pixels converted to sRGB.
    pub keep_metadata: bool,
    /// Largest input, in pixels (width × height), that is decoded.
    pub max_pixels: u64,
}

/// sharp's `limitInputPixels` default: 0x3FFF × 0x3FFF.
pub const DEFAULT_MAX_PIXELS: u64 = 268_402_689;

impl Default for TransformSpec {
    fn default() -> Self {
        TransformSpec {
            resize: None,
            kernel: Kernel::Lanczos3,
            background: Rgba([0, 0, 0, 255]),
            rotate: Rotate::Auto,
            flip: false,
            flop: false,
            extract: None,
            format: None,
            quality: 80,
            lossless: false,
            progressive: false,
            effort: 4,
            keep_metadata: false,
            max_pixels: DEFAULT_MAX_PIXELS,
        }
    }
}

fn unknown(kind: &'static str, name: &str) -> UnknownName {
    UnknownName {
        kind,
        name: name.to_owned(),
    }
}

impl FromStr for Kernel {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, UnknownName> {
        Ok(match s {
            "nearest" => Kernel::Nearest,
            "linear" => Kernel::Linear,
            "cubic" => Kernel::Cubic,
            "mitchell" => Kernel::Mitchell,
            "lanczos3" => Kernel::Lanczos3,
            _ => return Err(unknown("kernel", s)),
        })
    }
}

impl FromStr for OutFormat {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, UnknownName> {
        Ok(match s {
            "jpeg" | "jpg" => OutFormat::Jpeg,
            "png" => OutFormat::Png,
            "webp" => OutFormat::Webp,
            _ => return Err(unknown("format", s)),
        })
    }
}
