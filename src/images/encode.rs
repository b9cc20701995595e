//! Encoding the final pixels: JPEG (libjpeg-turbo, jpeg.rs: sharp's encoder and settings),
//! PNG (png), lossy WebP (libwebp, built from source by libwebp-sys) and lossless WebP
//! (image-webp, pure Rust and faster). No metadata is written. JPEG and PNG are written in strips
//! of rows with the cancel flag polled between them; a WebP encode runs whole (libwebp's progress
//! hook is not reachable through the webp crate).

use std::io::Write;

use super::ImageError;
use super::decode::Pixels;
use super::jpeg;
use super::spec::{OutFormat, Rgba, TransformSpec};

/// PNG rows compressed between two polls of the cancel flag.
const STRIP_ROWS: usize = 64;

fn failed(what: &str, e: impl std::fmt::Display) -> Option<ImageError> {
    Some(ImageError::BadRequest(format!(
        "{what} encoding failed: {e}"
    )))
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

/// Encodes `px`; JPEG and PNG poll `cancelled` between strips of rows (`Err(None)` when it
/// fired), WebP runs whole.
pub(crate) fn encode(
    px: &Pixels,
    format: OutFormat,
    spec: &TransformSpec,
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
            jpeg::encode(
                rgb,
                (w, h),
                spec.quality,
                spec.progressive,
                &[],
                None,
                cancelled,
            )
        }
        OutFormat::Png => {
            let mut out = Vec::new();
            let mut e = png::Encoder::new(&mut out, w, h);
            e.set_color(if px.channels == 4 {
                png::ColorType::Rgba
            } else {
                png::ColorType::Rgb
            });
            e.set_depth(png::BitDepth::Eight);
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
            Ok(out.to_vec())
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
            Ok(out)
        }
    }
}
