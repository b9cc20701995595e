//! Decoding to 8-bit RGB or RGBA, whatever the file stores (grey, palette, 16-bit, CMYK), so
//! the rest of the pipeline handles two pixel layouts. A decoder's panic on hostile input is
//! caught here and reported as corrupt input, never as a crash.

use std::io::Cursor;
use std::panic::{AssertUnwindSafe, catch_unwind};

use super::ImageError;
use super::probe::{Format, Info};

/// Decoded pixels, row by row, `channels` (3 or 4) bytes each.
pub(crate) struct Pixels {
    pub(crate) data: Vec<u8>,
    pub(crate) width: u32,
    pub(crate) height: u32,
    pub(crate) channels: usize,
}

fn corrupt(format: &'static str, e: impl std::fmt::Display) -> ImageError {
    ImageError::Corrupt {
        format,
        detail: e.to_string(),
    }
}

/// Decodes `data`, whose headers `info` describes.
pub(crate) fn decode(data: &[u8], info: &Info) -> Result<Pixels, ImageError> {
    let name = match info.format {
        Format::Jpeg => "JPEG",
        Format::Png => "PNG",
        Format::Webp => "WebP",
        Format::Gif => "GIF",
    };
    let out = catch_unwind(AssertUnwindSafe(|| match info.format {
        Format::Jpeg => jpeg(data),
        Format::Png => png(data),
        Format::Webp => webp(data),
        Format::Gif => gif(data),
    }))
    .map_err(|_| corrupt(name, "the decoder gave up on malformed data"))??;
    let expected = out.width as usize * out.height as usize * out.channels;
    if out.data.len() != expected || (out.width, out.height) != (info.width, info.height) {
        return Err(corrupt(name, "decoded size differs from the headers"));
    }
    Ok(out)
}

fn jpeg(data: &[u8]) -> Result<Pixels, ImageError> {
    use zune_core::bytestream::ZCursor;
    use zune_core::colorspace::ColorSpace;
    use zune_core::options::DecoderOptions;
    let opts = DecoderOptions::default()
        .jpeg_set_out_colorspace(ColorSpace::RGB)
        .set_max_width(usize::MAX)
        .set_max_height(usize::MAX);
    let mut d = zune_jpeg::JpegDecoder::new_with_options(ZCursor::new(data), opts);
    let px = d.decode().map_err(|e| corrupt("JPEG", format!("{e:?}")))?;
    let (w, h) = d
        .dimensions()
        .ok_or_else(|| corrupt("JPEG", "no dimensions"))?;
    Ok(Pixels {
        data: px,
        width: w as u32,
        height: h as u32,
        channels: 3,
    })
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
