//! EXIF and ICC profiles, read from an input for `keepMetadata` and for colour management.
//!
//! Where they live: JPEG keeps EXIF in an APP1 segment (`Exif\0\0`) and an ICC profile in APP2
//! segments (`ICC_PROFILE\0`, a sequence number and a count, since a segment holds at most
//! 64 KiB); PNG in `eXIf` and `iCCP` (zlib-compressed) chunks; WebP in the `EXIF` and `ICCP`
//! chunks of an extended (VP8X) file. GIF carries neither here.
//!
//! What it guarantees: hostile metadata never fails a transform. Every read is bounds-checked,
//! sizes are capped (an ICC profile at 4 MiB, EXIF at 1 MiB, inflation stops at the cap), and
//! anything malformed — an EXIF block that is not TIFF, an ICC sequence with a piece missing, a
//! profile without its signature — is dropped as if absent.

use std::io::Read;

use super::exif;
use super::probe::Format;

/// Largest ICC profile read: qcms's own limit (colour.rs), far above real profiles (CMYK press
/// profiles, the largest common ones, are 1–3 MB).
const MAX_ICC: usize = 4 << 20;
/// Largest EXIF block read: JPEG cannot carry more than 64 KiB; PNG and WebP seldom do.
const MAX_EXIF: usize = 1 << 20;

/// An image's metadata, each part whole and checked.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Metadata {
    /// An ICC profile, reassembled and decompressed.
    pub(crate) icc: Option<Vec<u8>>,
    /// An EXIF block: TIFF, without the `Exif\0\0` prefix JPEG puts before it.
    pub(crate) exif: Option<Vec<u8>>,
}

impl Metadata {
    /// Reads the EXIF block and ICC profile of `data`, a file of `format`.
    pub(crate) fn read(data: &[u8], format: Format) -> Metadata {
        let (icc, exif) = match format {
            Format::Jpeg => jpeg(data),
            Format::Png => png(data),
            Format::Webp => webp(data),
            Format::Gif => (None, None),
        };
        Metadata {
            icc: icc.filter(|p| is_icc(p)),
            exif: exif
                .filter(|t| t.len() <= MAX_EXIF && exif::is_valid(t))
                .map(<[u8]>::to_vec),
        }
    }

    /// Splits what was read into what the output carries and the profile its pixels are to be
    /// converted from. Without `keep`, nothing is carried and any profile is converted from.
    /// With `keep`, EXIF is carried, its orientation reset to 1 when the pipeline turned the
    /// pixels `upright` by it (a block whose orientation cannot be patched is dropped), and an
    /// RGB profile is carried with the pixels left as they are; a grey or CMYK profile cannot
    /// describe the RGB output, so it is converted from instead.
    pub(crate) fn split(self, keep: bool, upright: bool) -> (Metadata, Option<Vec<u8>>) {
        let rgb = self
            .icc
            .as_deref()
            .is_some_and(|p| p.get(16..20) == Some(b"RGB "));
        let (icc, convert) = match self.icc {
            Some(p) if keep && rgb => (Some(p), None),
            p => (None, p),
        };
        let exif = self
            .exif
            .filter(|_| keep)
            .and_then(|mut t| (!upright || exif::set_upright(&mut t)).then_some(t));
        (Metadata { icc, exif }, convert)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.icc.is_none() && self.exif.is_none()
    }
}

/// An ICC profile's minimum: a 128-byte header, the `acsp` signature, a tag count, and no more
/// than the cap.
fn is_icc(p: &[u8]) -> bool {
    (132..=MAX_ICC).contains(&p.len()) && p.get(36..40) == Some(b"acsp")
}

fn be16(d: &[u8], at: usize) -> Option<usize> {
    let b = d.get(at..at.checked_add(2)?)?;
    Some(usize::from(u16::from_be_bytes([b[0], b[1]])))
}

fn be32(d: &[u8], at: usize) -> Option<usize> {
    let b = d.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize)
}

fn le32(d: &[u8], at: usize) -> Option<usize> {
    let b = d.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
}

type Found<'a> = (Option<Vec<u8>>, Option<&'a [u8]>);

/// The segments before the image data: the first EXIF block, and the ICC pieces.
fn jpeg(d: &[u8]) -> Found<'_> {
    let (mut exif, mut pieces) = (None, Vec::new());
    let mut at = 2;
    loop {
        while d.get(at) == Some(&0xFF) && d.get(at + 1) == Some(&0xFF) {
            at += 1;
        }
        let (Some(0xFF), Some(&marker)) = (d.get(at), d.get(at + 1)) else {
            break;
        };
        at += 2;
        match marker {
            0x01 | 0xD0..=0xD7 => continue,
            0xD9 | 0xDA => break,
            _ => {}
        }
        let Some(body) = be16(d, at)
            .filter(|&len| len >= 2)
            .and_then(|len| d.get(at + 2..at + len))
        else {
            break;
        };
        match marker {
            0xE1 if exif.is_none() => exif = body.strip_prefix(b"Exif\0\0"),
            0xE2 => {
                if let Some(p) = body.strip_prefix(b"ICC_PROFILE\0").filter(|p| p.len() > 2) {
                    pieces.push((p[0], p[1], &p[2..]));
                }
            }
            _ => {}
        }
        at += 2 + body.len();
    }
    (icc_from_pieces(pieces), exif)
}

/// A profile from its APP2 pieces `(sequence number, count, bytes)`: numbered 1..=count, each
/// once, with the same count; anything else is no profile (libjpeg's rule too).
fn icc_from_pieces(mut pieces: Vec<(u8, u8, &[u8])>) -> Option<Vec<u8>> {
    let count = pieces.first()?.1;
    pieces.sort_by_key(|p| p.0);
    let in_order = pieces.len() == usize::from(count)
        && pieces
            .iter()
            .zip(1..)
            .all(|(p, seq)| p.0 == seq && p.1 == count);
    let size: usize = pieces.iter().map(|p| p.2.len()).sum();
    (in_order && size <= MAX_ICC).then(|| pieces.iter().flat_map(|p| p.2).copied().collect())
}

/// The first `iCCP` and `eXIf` chunks, wherever they are.
fn png(d: &[u8]) -> Found<'_> {
    let (mut icc, mut exif) = (None, None);
    let mut at = 8;
    while let (Some(len), Some(kind)) = (be32(d, at), d.get(at + 4..at + 8)) {
        let Some(body) = (at + 8).checked_add(len).and_then(|end| d.get(at + 8..end)) else {
            break;
        };
        match kind {
            b"iCCP" if icc.is_none() => icc = Some(iccp(body)),
            b"eXIf" if exif.is_none() => exif = Some(body),
            b"IEND" => break,
            _ => {}
        }
        at += 12 + len;
    }
    (icc.flatten(), exif)
}

/// An `iCCP` chunk: a name of 1–79 bytes, a zero, compression method 0, zlib data.
fn iccp(body: &[u8]) -> Option<Vec<u8>> {
    let nul = body.iter().take(80).position(|&b| b == 0)?;
    let z = body.get(nul + 1..)?.strip_prefix(&[0])?;
    let mut out = Vec::new();
    // Reading one byte past the cap tells a profile at the cap from a larger one.
    flate2::read::ZlibDecoder::new(z)
        .take(MAX_ICC as u64 + 1)
        .read_to_end(&mut out)
        .ok()?;
    (out.len() <= MAX_ICC).then_some(out)
}

/// The first `ICCP` and `EXIF` chunks of a RIFF WebP file.
fn webp(d: &[u8]) -> Found<'_> {
    let (mut icc, mut exif) = (None, None);
    let mut at = 12;
    while let (Some(kind), Some(len)) = (d.get(at..at + 4), le32(d, at + 4)) {
        let Some(body) = (at + 8).checked_add(len).and_then(|end| d.get(at + 8..end)) else {
            break;
        };
        match kind {
            b"ICCP" if icc.is_none() && body.len() <= MAX_ICC => icc = Some(body.to_vec()),
            // Some writers keep JPEG's prefix.
            b"EXIF" if exif.is_none() => {
                exif = Some(body.strip_prefix(b"Exif\0\0").unwrap_or(body))
            }
            _ => {}
        }
        at += 8 + len + (len & 1);
    }
    (icc, exif)
}

#[cfg(test)]
mod tests;
