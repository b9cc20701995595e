//! Decoding to 8-bit RGB or RGBA, whatever the file stores (grey, palette, 16-bit, CMYK), so
//! the rest of the pipeline handles two pixel layouts. A decoder's panic on hostile input is
//! caught here and reported as corrupt input, never as a crash.

use std::io::Cursor;
use std::panic::{AssertUnwindSafe, catch_unwind};

use super::colour;
use super::jpeg;
use super::probe::{Format, Info};
use super::{ImageError, Pixels};

fn corrupt(format: &'static str, e: impl std::fmt::Display) -> ImageError {
    ImageError::Corrupt {
        format,
        detail: e.to_string(),
    }
}

/// Decodes `data`, whose headers `info` describes; a JPEG at `eighths`/8 of its size (the other
/// formats always at full size); CMYK through `cmyk_profile` if given. `cancelled` is polled
/// where the decoder allows (`Err(None)`).
pub(crate) fn decode(
    data: &[u8],
    info: &Info,
    eighths: u8,
    cmyk_profile: Option<&[u8]>,
    cancelled: &dyn Fn() -> bool,
) -> Result<Pixels, Option<ImageError>> {
    let (width, height) = match info.format {
        Format::Jpeg => jpeg::scaled_size(info.width, info.height, eighths),
        _ => (info.width, info.height),
    };
    let out = match info.format {
        Format::Jpeg => {
            let d = jpeg::decode(data, eighths, cancelled)?;
            let data = if d.cmyk {
                colour::cmyk_to_srgb(&d.data, cmyk_profile)
            } else {
                d.data
            };
            Pixels {
                data,
                width: d.width,
                height: d.height,
                channels: 3,
            }
        }
        Format::Png => whole("PNG", || png(data))?,
        Format::Webp => whole("WebP", || webp(data))?,
        Format::Gif => whole("GIF", || gif(data))?,
    };
    let expected = out.width as usize * out.height as usize * out.channels;
    if out.data.len() != expected || (out.width, out.height) != (width, height) {
        let name = info.format.name();
        return Err(Some(corrupt(name, "decoded size differs from the headers")));
    }
    Ok(out)
}

/// Runs a pure-Rust decoder whole, its panic on hostile input reported as corrupt input.
fn whole(
    name: &'static str,
    f: impl FnOnce() -> Result<Pixels, ImageError>,
) -> Result<Pixels, ImageError> {
    catch_unwind(AssertUnwindSafe(f))
        .map_err(|_| corrupt(name, "the decoder gave up on malformed data"))?
}

fn png(data: &[u8]) -> Result<Pixels, ImageError> {
    let mut d = png::Decoder::new(Cursor::new(data));
    d.set_transformations(png::Transformations::normalize_to_color8());
    let mut r = d.read_info().map_err(|e| corrupt("PNG", e))?;
    let size = r
        .output_buffer_size()
        .ok_or_else(|| corrupt("PNG", "image too large"))?;
    let mut buf = vec![0; size];
    let f = r.next_frame(&mut buf).map_err(|e| corrupt("PNG", e))?;
    buf.truncate(f.buffer_size());
    let (channels, data) = match f.color_type {
        png::ColorType::Rgb => (3, buf),
        png::ColorType::Rgba => (4, buf),
        png::ColorType::Grayscale => (3, buf.iter().flat_map(|&g| [g, g, g]).collect()),
        png::ColorType::GrayscaleAlpha => (
            4,
            buf.chunks_exact(2)
                .flat_map(|p| [p[0], p[0], p[0], p[1]])
                .collect(),
        ),
        png::ColorType::Indexed => return Err(corrupt("PNG", "palette not expanded")),
    };
    Ok(Pixels {
        data,
        width: f.width,
        height: f.height,
        channels,
    })
}

fn webp(data: &[u8]) -> Result<Pixels, ImageError> {
    let mut d = image_webp::WebPDecoder::new(Cursor::new(data)).map_err(|e| corrupt("WebP", e))?;
    let (width, height) = d.dimensions();
    let channels = if d.has_alpha() { 4 } else { 3 };
    let size = d
        .output_buffer_size()
        .ok_or_else(|| corrupt("WebP", "image too large"))?;
    let mut buf = vec![0; size];
    d.read_image(&mut buf).map_err(|e| corrupt("WebP", e))?;
    Ok(Pixels {
        data: buf,
        width,
        height,
        channels,
    })
}

/// The first frame of a GIF, placed on a transparent canvas of the logical screen's size.
fn gif(data: &[u8]) -> Result<Pixels, ImageError> {
    let mut o = gif::DecodeOptions::new();
    o.set_color_output(gif::ColorOutput::RGBA);
    let mut d = o
        .read_info(Cursor::new(data))
        .map_err(|e| corrupt("GIF", e))?;
    let (width, height) = (u32::from(d.width()), u32::from(d.height()));
    let mut canvas = vec![0u8; width as usize * height as usize * 4];
    let frame = d
        .read_next_frame()
        .map_err(|e| corrupt("GIF", e))?
        .ok_or_else(|| corrupt("GIF", "no frame"))?;
    let (fw, fh) = (usize::from(frame.width), usize::from(frame.height));
    let (left, top) = (usize::from(frame.left), usize::from(frame.top));
    for y in 0..fh {
        let cy = top + y;
        if cy >= height as usize {
            break;
        }
        let row = &frame.buffer[y * fw * 4..(y + 1) * fw * 4];
        let n = fw.min((width as usize).saturating_sub(left));
        let at = (cy * width as usize + left) * 4;
        canvas[at..at + n * 4].copy_from_slice(&row[..n * 4]);
    }
    Ok(Pixels {
        data: canvas,
        width,
        height,
        channels: 4,
    })
}
