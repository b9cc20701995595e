//! Header readers for JPEG, PNG, WebP and GIF (see the module doc of `images`).

use super::ImageError;
use super::exif;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Jpeg,
    Png,
    Webp,
    Gif,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Jpeg => "jpeg",
            Format::Png => "png",
            Format::Webp => "webp",
            Format::Gif => "gif",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColorSpace {
    Srgb,
    /// Grey levels (sharp's `'b-w'`).
    Gray,
    Cmyk,
}

impl ColorSpace {
    pub fn name(self) -> &'static str {
        match self {
            ColorSpace::Srgb => "srgb",
            ColorSpace::Gray => "b-w",
            ColorSpace::Cmyk => "cmyk",
        }
    }
}

/// What the headers say. `width` and `height` are as stored: orientations 5–8 swap them on
/// display.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Info {
    pub format: Format,
    pub width: u32,
    pub height: u32,
    /// EXIF orientation, 1–8 (1 when absent).
    pub orientation: u8,
    pub has_alpha: bool,
    pub channels: u8,
    pub space: ColorSpace,
    /// Bits per sample as stored (8 for most; PNG may have 1–16).
    pub bits: u8,
    /// A progressive JPEG or an interlaced PNG.
    pub progressive: bool,
    pub has_icc: bool,
    pub has_exif: bool,
}

/// Reads `data`'s headers.
pub fn probe(data: &[u8]) -> Result<Info, ImageError> {
    if data.starts_with(&[0xFF, 0xD8, 0xFF]) {
        jpeg(data)
    } else if data.starts_with(b"\x89PNG\r\n\x1a\n") {
        png(data)
    } else if data.len() >= 12 && &data[0..4] == b"RIFF" && &data[8..12] == b"WEBP" {
        webp(data)
    } else if data.starts_with(b"GIF87a") || data.starts_with(b"GIF89a") {
        gif(data)
    } else {
        Err(ImageError::Unsupported)
    }
}

fn be16(d: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(
        d.get(at..at.checked_add(2)?)?.try_into().ok()?,
    ))
}
fn be32(d: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(
        d.get(at..at.checked_add(4)?)?.try_into().ok()?,
    ))
}
fn le16(d: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(
        d.get(at..at.checked_add(2)?)?.try_into().ok()?,
    ))
}
fn le24(d: &[u8], at: usize) -> Option<u32> {
    let b = d.get(at..at.checked_add(3)?)?;
    Some(u32::from(b[0]) | u32::from(b[1]) << 8 | u32::from(b[2]) << 16)
}
fn le32(d: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(
        d.get(at..at.checked_add(4)?)?.try_into().ok()?,
    ))
}

fn corrupt(format: &'static str, detail: &'static str) -> ImageError {
    ImageError::Corrupt {
        format,
        detail: detail.to_owned(),
    }
}

fn jpeg(d: &[u8]) -> Result<Info, ImageError> {
    let bad = |detail| corrupt("JPEG", detail);
    let (mut orientation, mut has_icc, mut has_exif) = (1, false, false);
    let mut at = 2;
    loop {
        // Markers may be preceded by any number of 0xFF fill bytes.
        while d.get(at) == Some(&0xFF) && d.get(at + 1) == Some(&0xFF) {
            at += 1;
        }
        if d.get(at) != Some(&0xFF) {
            return Err(bad("no frame header before the image data"));
        }
        let marker = *d
            .get(at + 1)
            .ok_or_else(|| bad("truncated before the frame header"))?;
        at += 2;
        if matches!(marker, 0x01 | 0xD0..=0xD7) {
            continue; // markers without a length
        }
        let len = usize::from(be16(d, at).ok_or_else(|| bad("truncated segment length"))?);
        if len < 2 {
            return Err(bad("segment length below 2"));
        }
        let body = d
            .get(at + 2..at + len)
            .ok_or_else(|| bad("segment runs past the end of the data"))?;
        match marker {
            0xE1 if body.starts_with(b"Exif\0\0") => {
                has_exif = true;
                orientation = exif::orientation(&body[6..]);
            }
            0xE2 if body.starts_with(b"ICC_PROFILE\0") => has_icc = true,
            // SOF0–SOF15 except DHT (C4), JPG (C8) and DAC (CC).
            0xC0..=0xCF if !matches!(marker, 0xC4 | 0xC8 | 0xCC) => {
                let bits = *body.first().ok_or_else(|| bad("short frame header"))?;
                let height = u32::from(be16(body, 1).ok_or_else(|| bad("short frame header"))?);
                let width = u32::from(be16(body, 3).ok_or_else(|| bad("short frame header"))?);
                let channels = *body.get(5).ok_or_else(|| bad("short frame header"))?;
                if width == 0 || height == 0 {
                    return Err(bad("zero width or height"));
                }
                let space = match channels {
                    1 => ColorSpace::Gray,
                    3 => ColorSpace::Srgb,
                    4 => ColorSpace::Cmyk,
                    _ => return Err(bad("unsupported number of components")),
                };
                return Ok(Info {
                    format: Format::Jpeg,
                    width,
                    height,
                    orientation,
                    has_alpha: false,
                    channels,
                    space,
                    bits,
                    progressive: matches!(marker, 0xC2 | 0xC6 | 0xCA | 0xCE),
                    has_icc,
                    has_exif,
                });
            }
            0xDA => return Err(bad("image data before the frame header")),
            _ => {}
        }
        at += len;
    }
}

fn png(d: &[u8]) -> Result<Info, ImageError> {
    let bad = |detail| corrupt("PNG", detail);
    if d.get(12..16) != Some(b"IHDR") {
        return Err(bad("the first chunk is not IHDR"));
    }
    let ihdr = d.get(16..29).ok_or_else(|| bad("truncated IHDR"))?;
    let (width, height) = (be32(ihdr, 0).unwrap_or(0), be32(ihdr, 4).unwrap_or(0));
    if width == 0 || height == 0 || width > i32::MAX as u32 || height > i32::MAX as u32 {
        return Err(bad("width or height out of range"));
    }
    let (bits, color, interlace) = (ihdr[8], ihdr[9], ihdr[12]);
    let (mut channels, space, alpha) = match color {
        0 => (1, ColorSpace::Gray, false),
        2 => (3, ColorSpace::Srgb, false),
        3 => (3, ColorSpace::Srgb, false),
        4 => (2, ColorSpace::Gray, true),
        6 => (4, ColorSpace::Srgb, true),
        _ => return Err(bad("unknown colour type")),
    };
    let (mut has_alpha, mut has_icc, mut has_exif, mut orientation) = (alpha, false, false, 1);
    // Ancillary chunks before the image data: transparency, ICC profile, EXIF.
    let mut at = 33;
    while let (Some(len), Some(kind)) = (be32(d, at), d.get(at + 4..at + 8)) {
        let len = len as usize;
        match kind {
            b"IDAT" | b"IEND" => break,
            b"tRNS" if !has_alpha => {
                has_alpha = true;
                channels += 1;
            }
            b"iCCP" => has_icc = true,
            b"eXIf" => {
                has_exif = true;
                if let Some(body) = d.get(at + 8..(at + 8).saturating_add(len)) {
                    orientation = exif::orientation(body);
                }
            }
            _ => {}
        }
        at = at.saturating_add(12).saturating_add(len);
    }
    Ok(Info {
        format: Format::Png,
        width,
        height,
        orientation,
        has_alpha,
        channels,
        space,
        bits,
        progressive: interlace == 1,
        has_icc,
        has_exif,
    })
}

fn webp(d: &[u8]) -> Result<Info, ImageError> {
    let bad = |detail| corrupt("WebP", detail);
    let kind = d.get(12..16).ok_or_else(|| bad("no first chunk"))?;
    let body = d.get(20..).ok_or_else(|| bad("truncated first chunk"))?;
    let mut info = Info {
        format: Format::Webp,
        width: 0,
        height: 0,
        orientation: 1,
        has_alpha: false,
        channels: 3,
        space: ColorSpace::Srgb,
        bits: 8,
        progressive: false,
        has_icc: false,
        has_exif: false,
    };
    match kind {
        b"VP8 " => {
            // Frame tag (3 bytes), start code 9d 01 2a, then 14-bit width and height.
            if body.get(3..6) != Some(&[0x9d, 0x01, 0x2a]) {
                return Err(bad("no VP8 start code"));
            }
            info.width = u32::from(le16(body, 6).ok_or_else(|| bad("short VP8 header"))? & 0x3fff);
            info.height = u32::from(le16(body, 8).ok_or_else(|| bad("short VP8 header"))? & 0x3fff);
        }
        b"VP8L" => {
            if body.first() != Some(&0x2f) {
                return Err(bad("no VP8L signature"));
            }
            let bits = le32(body, 1).ok_or_else(|| bad("short VP8L header"))?;
            info.width = (bits & 0x3fff) + 1;
            info.height = ((bits >> 14) & 0x3fff) + 1;
            info.has_alpha = bits >> 28 & 1 == 1;
        }
        b"VP8X" => {
            let flags = *body.first().ok_or_else(|| bad("short VP8X header"))?;
            info.has_icc = flags & 0x20 != 0;
            info.has_alpha = flags & 0x10 != 0;
            info.has_exif = flags & 0x08 != 0;
            info.width = le24(body, 4).ok_or_else(|| bad("short VP8X header"))? + 1;
            info.height = le24(body, 7).ok_or_else(|| bad("short VP8X header"))? + 1;
            if info.has_exif {
                info.orientation = webp_exif(d).map_or(1, exif::orientation);
            }
        }
        _ => return Err(bad("unknown first chunk")),
    }
    if info.width == 0 || info.height == 0 {
        return Err(bad("zero width or height"));
    }
    if info.has_alpha {
        info.channels = 4;
    }
    Ok(info)
}

/// The EXIF chunk of an extended WebP.
fn webp_exif(d: &[u8]) -> Option<&[u8]> {
    let mut at = 12;
    loop {
        let kind = d.get(at..at + 4)?;
        let len = le32(d, at + 4)? as usize;
        let body = d.get(at + 8..(at + 8).checked_add(len)?)?;
        if kind == b"EXIF" {
            // Some writers keep the JPEG-style prefix.
            return Some(body.strip_prefix(b"Exif\0\0").unwrap_or(body));
        }
        at = at + 8 + len + (len & 1);
    }
}

fn gif(d: &[u8]) -> Result<Info, ImageError> {
    let bad = |detail| corrupt("GIF", detail);
    let width = u32::from(le16(d, 6).ok_or_else(|| bad("truncated screen descriptor"))?);
    let height = u32::from(le16(d, 8).ok_or_else(|| bad("truncated screen descriptor"))?);
    let packed = *d
        .get(10)
        .ok_or_else(|| bad("truncated screen descriptor"))?;
    if width == 0 || height == 0 {
        return Err(bad("zero width or height"));
    }
    // Transparency is declared by the first frame's graphic control extension, if any.
    let mut at = 13;
    if packed & 0x80 != 0 {
        at += 3 << ((packed & 7) + 1);
    }
    let mut has_alpha = false;
    while let Some(&b) = d.get(at) {
        match b {
            0x21 => {
                let label = *d.get(at + 1).ok_or_else(|| bad("truncated extension"))?;
                if label == 0xF9 {
                    has_alpha = d.get(at + 3).is_some_and(|p| p & 1 == 1);
                }
                at += 2;
                // Sub-blocks until a zero length.
                loop {
                    let n = usize::from(*d.get(at).ok_or_else(|| bad("truncated extension"))?);
                    at += 1 + n;
                    if n == 0 {
                        break;
                    }
                }
            }
            _ => break, // the first image descriptor (0x2C) or the trailer
        }
    }
    Ok(Info {
        format: Format::Gif,
        width,
        height,
        orientation: 1,
        has_alpha,
        channels: if has_alpha { 4 } else { 3 },
        space: ColorSpace::Srgb,
        bits: 8,
        progressive: false,
        has_icc: false,
        has_exif: false,
    })
}

#[cfg(test)]
mod tests;
