//! One `transformImage` call: headers, the pixel limit, a memory grant (`crate::budget`), decode,
//! extract, to sRGB (colour.rs), resize, orient, crop or place, encode with the metadata kept
//! (metadata.rs) — all on the calling pool thread, nothing crossing to JS but the result.
//!
//! Resizing happens before turning when there is no `extract`, so the turn works on the small
//! image; the resize target is swapped to match when the turn swaps width and height. The
//! cancel flag is polled between stages (each stage is tens of milliseconds at most for an image
//! within sharp's default pixel limit, the decode of a very large JPEG excepted).

use super::ImageError;
use super::Pixels;
use super::colour;
use super::decode;
use super::encode;
use super::geometry::{self, Rect};
use super::jpeg::scaled_size as jpeg_scaled_size;
use super::metadata::Metadata;
use super::orient::Orientation;
use super::probe::{Format, probe};
use super::resize::resize;
use super::spec::{OutFormat, Rotate, TransformSpec};
use crate::budget::Budget;

/// An encoded result and what it is.
#[derive(Debug)]
pub struct Transformed {
    pub data: Vec<u8>,
    pub format: OutFormat,
    pub width: u32,
    pub height: u32,
    pub channels: u8,
}

/// Runs `spec` on `data`; `cancelled` is polled between stages (`Err(None)` when it fired).
pub fn transform(
    data: &[u8],
    spec: &TransformSpec,
    cancelled: &dyn Fn() -> bool,
) -> Result<Transformed, Option<ImageError>> {
    let stop = || if cancelled() { Err(None) } else { Ok(()) };
    let info = probe(data)?;
    let pixels = u64::from(info.width) * u64::from(info.height);
    if pixels > spec.max_pixels {
        return Err(Some(ImageError::TooLarge {
            width: info.width,
            height: info.height,
            pixels,
            max: spec.max_pixels,
        }));
    }
    let upright = spec.rotate == Rotate::Auto;
    let (meta, profile) = Metadata::read(data, info.format).split(spec.keep_metadata, upright);
    stop()?;
    // As sharp: upright from EXIF (unless an explicit angle), then flip and flop, then the
    // explicit angle.
    let mut turn = match spec.rotate {
        Rotate::Auto => Orientation::from_exif(info.orientation),
        Rotate::Turns(_) => Orientation::IDENTITY,
    };
    if spec.flip {
        turn = turn.flip();
    }
    if spec.flop {
        turn = turn.flop();
    }
    if let Rotate::Turns(t) = spec.rotate {
        turn = turn.rotate(t);
    }
    // Without `extract` the plan is known from the headers, so a JPEG can be decoded smaller.
    let (uw, uh) = turn.size(info.width, info.height);
    let planned = match (&spec.resize, spec.extract) {
        (Some(r), None) => Some(geometry::plan(uw, uh, r)),
        _ => None,
    };
    let eighths = match (planned, info.format) {
        (Some(p), Format::Jpeg) => shrink_on_load(info.width, info.height, stored(p.scaled, turn)),
        _ => 8,
    };
    // Decoded RGBA plus the resize output: what this transform holds at most at once, roughly.
    let _grant = Budget::global().acquire(pixels.saturating_mul(8), cancelled)?;
    let mut px = decode::decode(data, &info, eighths, profile.as_deref(), cancelled)?;
    stop()?;
    let mut plan = planned;
    if let Some(r) = spec.extract {
        // The region is in upright coordinates: turn first (the whole image), then cut.
        px = turned(px, turn);
        turn = Orientation::IDENTITY;
        px = cut(&px, r)?;
        stop()?;
        plan = spec
            .resize
            .as_ref()
            .map(|r| geometry::plan(px.width, px.height, r));
    }
    // To sRGB before resampling, as sharp does (filtering P3 levels is not filtering sRGB's),
    // and before `placed` paints the background.
    if let Some(icc) = &profile {
        colour::to_srgb(&mut px, icc);
        stop()?;
    }
    if let Some(plan) = &plan {
        let (sw, sh) = stored(plan.scaled, turn);
        px = resize(px, sw, sh, spec.kernel)?;
        stop()?;
    }
    px = turned(px, turn);
    if let Some(plan) = plan {
        if let Some(r) = plan.crop {
            px = cut(&px, r)?;
        }
        if let Some((canvas, at)) = plan.canvas {
            px = placed(&px, canvas, at, spec.background.0);
        }
    }
    stop()?;
    let format = spec.format.unwrap_or(match info.format {
        Format::Jpeg => OutFormat::Jpeg,
        Format::Png | Format::Gif => OutFormat::Png,
        Format::Webp => OutFormat::Webp,
    });
    let out = encode::encode(&px, format, spec, &meta, cancelled)?;
    let channels = if format == OutFormat::Jpeg {
        3
    } else {
        px.channels as u8
    };
    Ok(Transformed {
        data: out,
        format,
        width: px.width,
        height: px.height,
        channels,
    })
}

/// `size` of the upright image, as the stored image's (width, height).
fn stored(size: (u32, u32), turn: Orientation) -> (u32, u32) {
    if turn.swaps() { (size.1, size.0) } else { size }
}

/// The scale, in eighths, at which libjpeg decodes a `w` × `h` JPEG for a resize to `target`:
/// 4/8, 2/8 or 1/8, the scales libjpeg-turbo has SIMD transforms for (the others, 3/8 to 7/8,
/// run scalar IDCTs that profiled slower than a full decode's), or 8 (no shrink). The resize
/// that follows keeps a full decode's quality when it has 1.75 times the target's pixels per
/// side at 4/8, and four times at 2/8 and 1/8, whose 2×2 and 1×1 transforms are cruder.
/// Measured on a 2725 × 2225 photo (docs/images.md): 720 × 588 from 4/8 (1.9×) was 0.03 dB
/// from sharp's; a 320-px thumbnail from 2/8 (2.1×) lost 0.4 dB against a full decode, from 4/8
/// nothing measurable.
fn shrink_on_load(w: u32, h: u32, target: (u32, u32)) -> u8 {
    let fits = |m: u8, margin: f64| {
        let (sw, sh) = jpeg_scaled_size(w, h, m);
        f64::from(sw) >= margin * f64::from(target.0)
            && f64::from(sh) >= margin * f64::from(target.1)
    };
    [(1, 4.0), (2, 4.0), (4, 1.75)]
        .into_iter()
        .find(|&(m, margin)| fits(m, margin))
        .map_or(8, |(m, _)| m)
}

fn turned(px: Pixels, turn: Orientation) -> Pixels {
    if turn == Orientation::IDENTITY {
        return px;
    }
    let (width, height) = turn.size(px.width, px.height);
    Pixels {
        data: turn.apply(&px.data, px.width, px.height, px.channels),
        width,
        height,
        channels: px.channels,
    }
}

fn cut(px: &Pixels, r: Rect) -> Result<Pixels, ImageError> {
    let fits = u64::from(r.left) + u64::from(r.width) <= u64::from(px.width)
        && u64::from(r.top) + u64::from(r.height) <= u64::from(px.height);
    if !fits {
        return Err(ImageError::BadRequest(format!(
            "the region {} x {} at ({}, {}) is outside the {} x {} image",
            r.width, r.height, r.left, r.top, px.width, px.height
        )));
    }
    let c = px.channels;
    let (w, stride) = (r.width as usize * c, px.width as usize * c);
    let mut data = Vec::with_capacity(w * r.height as usize);
    for y in r.top as usize..(r.top + r.height) as usize {
        let at = y * stride + r.left as usize * c;
        data.extend_from_slice(&px.data[at..at + w]);
    }
    Ok(Pixels {
        data,
        width: r.width,
        height: r.height,
        channels: c,
    })
}

/// `px` on a `canvas` filled with `bg`, its top-left corner at `at`. A background with alpha
/// below 255 makes the result RGBA.
fn placed(px: &Pixels, canvas: (u32, u32), at: (u32, u32), bg: [u8; 4]) -> Pixels {
    let c = if px.channels == 4 || bg[3] < 255 {
        4
    } else {
        3
    };
    let (cw, ch) = (canvas.0 as usize, canvas.1 as usize);
    let mut data: Vec<u8> = bg[..c].iter().copied().cycle().take(cw * ch * c).collect();
    for y in 0..px.height as usize {
        for x in 0..px.width as usize {
            let s = (y * px.width as usize + x) * px.channels;
            let d = ((y + at.1 as usize) * cw + x + at.0 as usize) * c;
            data[d..d + 3].copy_from_slice(&px.data[s..s + 3]);
            if c == 4 {
                data[d + 3] = if px.channels == 4 {
                    px.data[s + 3]
                } else {
                    255
                };
            }
        }
    }
    Pixels {
        data,
        width: canvas.0,
        height: canvas.1,
        channels: c,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jpeg_shrink_uses_the_simd_scales_with_room_to_resize() {
        // sharp's benchmark: 720 × 588 from 2725 × 2225 decodes at 4/8 (1363 × 1113, 1.9×).
        assert_eq!(shrink_on_load(2725, 2225, (720, 588)), 4);
        // A 320-px thumbnail: 2/8 would be 682 px, only 2.1×; 4/8 it is.
        assert_eq!(shrink_on_load(2725, 2225, (320, 261)), 4);
        // Far larger inputs go below 4/8 with four times the target.
        assert_eq!(shrink_on_load(8000, 6000, (320, 240)), 2);
        assert_eq!(shrink_on_load(16000, 12000, (320, 240)), 1);
        // Too close to the input's size for 4/8: no shrink (never 5/8 to 7/8).
        assert_eq!(shrink_on_load(1000, 800, (600, 480)), 8);
        assert_eq!(shrink_on_load(2725, 2225, (1000, 800)), 8);
        // Every side counts: a wide target from a tall image.
        assert_eq!(shrink_on_load(1000, 4000, (280, 100)), 4);
        assert_eq!(shrink_on_load(1000, 4000, (300, 100)), 8);
    }
}
