//! Encoding the final pixels: JPEG (libjpeg-turbo, jpeg.rs: sharp's encoder and settings), PNG
//! (png), lossy WebP (libwebp, built from source by libwebp-sys) and lossless WebP (image-webp,
//! pure Rust and faster). JPEG and PNG are written in strips of rows with the cancel flag polled
//! between them; a WebP encode runs whole (libwebp's progress hook is not reachable through the
//! webp crate). Metadata kept by `keepMetadata` is written where each format keeps it: JPEG APP1
//! (EXIF) and APP2 (ICC, split into 64 KiB pieces), PNG `eXIf` and `iCCP`, and for WebP the
//! encoded bitstream rewrapped in an extended (VP8X) container with `EXIF` and `ICCP` chunks.

use std::borrow::Cow;
use std::io::Write;

use super::ImageError;
use super::Pixels;
use super::jpeg;
use super::metadata::Metadata;
use super::spec::{OutFormat, Rgba, TransformSpec};

/// Largest EXIF block a JPEG APP1 segment holds: 65,535 bytes less the length field and the
/// `Exif\0\0` prefix. A larger block (from a PNG or WebP input) is left out of JPEG output.
const MAX_JPEG_EXIF: usize = 65_535 - 2 - 6;

/// PNG rows compressed between two polls of the cancel flag.
const STRIP_ROWS: usize = 64;

fn failed(what: &str, e: impl std::fmt::Display) -> ImageError {
    ImageError::BadRequest(format!("{what} encoding failed: {e}"))
}

/// Alpha composited over `bg` (JPEG has no alpha).
fn flatten(px: &Pixels, bg: Rgba) -> Vec<u8> {
    let [br, bgc, bb, _] = bg.0;
    px.data
        .chunks_exact(4)
        .flat_map(|p| {
            let a = u32::from(p[3]);
            let mix =
                |c: u8, b: u8| ((u32::from(c) * a + u32::from(b) * (255 - a) + 127) / 255) as u8;
            [mix(p[0], br), mix(p[1], bgc), mix(p[2], bb)]
        })
        .collect()
}

/// Encodes `px` as `format`, carrying `meta` (empty unless `keepMetadata`); JPEG and PNG poll
/// `cancelled` between strips of rows (`Err(None)` when it fired).
pub(crate) fn encode(
    px: &Pixels,
    format: OutFormat,
    spec: &TransformSpec,
    meta: &Metadata,
    cancelled: &dyn Fn() -> bool,
) -> Result<Vec<u8>, Option<ImageError>> {
    let (w, h) = (px.width, px.height);
    match format {
        OutFormat::Jpeg => {
            let flat;
            let rgb = if px.channels == 4 {
                flat = flatten(px, spec.background);
                &flat
            } else {
                &px.data
            };
            let exif = meta.exif.as_ref().filter(|t| t.len() <= MAX_JPEG_EXIF);
            let app1 = exif.map(|tiff| [b"Exif\0\0".as_slice(), tiff].concat());
            let markers: Vec<(u8, &[u8])> = app1.iter().map(|s| (1, s.as_slice())).collect();
            let icc = meta.icc.as_deref();
            let (q, progressive) = (spec.quality, spec.progressive);
            jpeg::encode(rgb, (w, h), q, progressive, &markers, icc, cancelled)
        }
        OutFormat::Png => {
            let mut out = Vec::new();
            let mut info = png::Info::with_size(w, h);
            info.color_type = if px.channels == 4 {
                png::ColorType::Rgba
            } else {
                png::ColorType::Rgb
            };
            info.bit_depth = png::BitDepth::Eight;
            info.icc_profile = meta.icc.as_deref().map(Cow::Borrowed);
            info.exif_metadata = meta.exif.as_deref().map(Cow::Borrowed);
            let mut e = png::Encoder::with_info(&mut out, info).map_err(|e| failed("PNG", e))?;
            e.set_compression(match spec.effort {
                0..=2 => png::Compression::Fast,
                3..=6 => png::Compression::Balanced,
                _ => png::Compression::High,
            });
            let mut wr = e.write_header().map_err(|e| failed("PNG", e))?;
            let mut stream = wr.stream_writer().map_err(|e| failed("PNG", e))?;
            for strip in px.data.chunks(w as usize * px.channels * STRIP_ROWS) {
                if cancelled() {
                    return Err(None);
                }
                stream.write_all(strip).map_err(|e| failed("PNG", e))?;
            }
            stream.finish().map_err(|e| failed("PNG", e))?;
            wr.finish().map_err(|e| failed("PNG", e))?;
            Ok(out)
        }
        OutFormat::Webp if !spec.lossless => {
            let e = if px.channels == 4 {
                webp::Encoder::from_rgba(&px.data, w, h)
            } else {
                webp::Encoder::from_rgb(&px.data, w, h)
            };
            let mut config =
                webp::WebPConfig::new().map_err(|()| failed("WebP", "no encoder configuration"))?;
            config.quality = f32::from(spec.quality);
            config.method = i32::from(spec.effort.min(6));
            config.alpha_compression = 1;
            let out = e
                .encode_advanced(&config)
                .map_err(|e| failed("WebP", format!("{e:?}")))?;
            Ok(with_metadata(out.to_vec(), w, h, meta)?)
        }
        OutFormat::Webp => {
            let mut out = Vec::new();
            let color = if px.channels == 4 {
                image_webp::ColorType::Rgba8
            } else {
                image_webp::ColorType::Rgb8
            };
            image_webp::WebPEncoder::new(&mut out)
                .encode(&px.data, w, h, color)
                .map_err(|e| failed("WebP", e))?;
            Ok(with_metadata(out, w, h, meta)?)
        }
    }
}

/// `webp`, a simple or extended WebP file as the encoders write it, as is without metadata, or
/// else rewritten as an extended file: VP8X, ICCP, the image's chunks (ALPH, then VP8 or VP8L)
/// as they were, EXIF — the order the WebP container specification sets.
fn with_metadata(webp: Vec<u8>, w: u32, h: u32, meta: &Metadata) -> Result<Vec<u8>, ImageError> {
    if meta.is_empty() {
        return Ok(webp);
    }
    let le32 = |at: usize| -> Option<usize> {
        let b = webp.get(at..at.checked_add(4)?)?;
        Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
    };
    let mut image: Vec<(&[u8], &[u8])> = Vec::new();
    let mut alpha = false;
    let mut at = 12;
    while let (Some(kind), Some(len)) = (webp.get(at..at + 4), le32(at + 4)) {
        let body = (at + 8)
            .checked_add(len)
            .and_then(|end| webp.get(at + 8..end))
            .ok_or_else(|| failed("WebP", "the encoder wrote a truncated chunk"))?;
        let image_chunk = match kind {
            b"ALPH" => {
                alpha = true;
                true
            }
            // VP8L's header: signature 0x2f, then 14 + 14 bits of size and the alpha bit.
            b"VP8L" => {
                alpha |= body.get(4).is_some_and(|b| b & 0x10 != 0);
                true
            }
            b"VP8 " => true,
            _ => false, // VP8X, written anew
        };
        if image_chunk {
            image.push((kind, body));
        }
        at += 8 + len + (len & 1);
    }
    let flags = if meta.icc.is_some() { 0x20 } else { 0 }
        | if alpha { 0x10 } else { 0 }
        | if meta.exif.is_some() { 0x08 } else { 0 };
    let mut vp8x = vec![flags, 0, 0, 0];
    vp8x.extend_from_slice(&(w - 1).to_le_bytes()[..3]);
    vp8x.extend_from_slice(&(h - 1).to_le_bytes()[..3]);
    let mut chunks: Vec<(&[u8], &[u8])> = vec![(b"VP8X", &vp8x)];
    chunks.extend(meta.icc.as_deref().map(|p| (b"ICCP".as_slice(), p)));
    chunks.extend(image);
    chunks.extend(meta.exif.as_deref().map(|t| (b"EXIF".as_slice(), t)));
    let size = 4 + chunks
        .iter()
        .map(|(_, b)| 8 + b.len() + (b.len() & 1))
        .sum::<usize>();
    let riff = u32::try_from(size).map_err(|_| failed("WebP", "the file would pass 4 GiB"))?;
    let mut out = Vec::with_capacity(size + 8);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&riff.to_le_bytes());
    out.extend_from_slice(b"WEBP");
    for (kind, body) in chunks {
        out.extend_from_slice(kind);
        out.extend_from_slice(&(body.len() as u32).to_le_bytes());
        out.extend_from_slice(body);
        if body.len() & 1 == 1 {
            out.push(0);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
