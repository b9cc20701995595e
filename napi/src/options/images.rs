//! `transformImage` options: JS objects into a core `TransformSpec`, every value checked here
//! with Node's codes, naming the option.

use napi::bindgen_prelude::Either;
use napi_derive::napi;

use super::{integer, name};
use crate::errors::{Error, Result, invalid_value, out_of_range};
use offload_core::images::geometry::{Fit, Position, Rect, ResizeSpec};
use offload_core::images::spec::{Kernel, OutFormat, Rgba, Rotate, TransformSpec};

const KERNELS: &[&str] = &["nearest", "linear", "cubic", "mitchell", "lanczos3"];
const FORMATS: &[&str] = &["jpeg", "png", "webp"];
const FITS: &[&str] = &["cover", "contain", "fill", "inside", "outside"];
/// Sides of up to this many pixels (as sharp's and libvips' limit).
const MAX_SIDE: f64 = 16_383.0 * 8.0;

/// A colour: `{ r, g, b, alpha }` (0–255, alpha 0–1) or `'#rrggbb'` / `'#rrggbbaa'`.
#[napi(object, object_to_js = false)]
pub struct Colour {
    /// Red, 0–255. Default: `0`.
    pub r: Option<f64>,
    /// Green, 0–255. Default: `0`.
    pub g: Option<f64>,
    /// Blue, 0–255. Default: `0`.
    pub b: Option<f64>,
    /// Opacity, 0–1. Default: `1`.
    pub alpha: Option<f64>,
}

/// `transformImage`'s `resize`.
#[napi(object, object_to_js = false)]
pub struct ResizeOptions {
    /// Target width in pixels; alone, the height follows the aspect ratio. Default: none.
    pub width: Option<f64>,
    /// Target height in pixels; alone, the width follows the aspect ratio. Default: none.
    pub height: Option<f64>,
    /// With both sides: `'cover'` (crop to fill), `'contain'` (letterbox on `background`),
    /// `'fill'` (stretch), `'inside'` or `'outside'` (keep the aspect ratio). Default: `'cover'`.
    pub fit: Option<String>,
    /// Where `cover` crops and `contain` places: `'centre'`, `'top'`, `'right top'`, `'right'`,
    /// `'right bottom'`, `'bottom'`, `'left bottom'`, `'left'`, `'left top'` (or sharp's
    /// compass names, `'north'`…). Default: `'centre'`.
    pub position: Option<String>,
    /// Resampling filter: `'nearest'`, `'linear'`, `'cubic'`, `'mitchell'` or `'lanczos3'`.
    /// Default: `'lanczos3'`.
    pub kernel: Option<String>,
    /// Never make the image larger than it is. Default: `false`.
    pub without_enlargement: Option<bool>,
    /// The canvas colour of `contain`. Default: black, opaque.
    pub background: Option<Either<String, Colour>>,
}

/// `transformImage`'s `extract`: a region of the (oriented) input, in pixels.
#[napi(object, object_to_js = false)]
pub struct ExtractOptions {
    pub left: f64,
    pub top: f64,
    pub width: f64,
    pub height: f64,
}

/// Options for `transformImage()`.
#[napi(object, object_to_js = false)]
pub struct TransformOptions {
    /// Resize. Default: none (the input's size).
    pub resize: Option<ResizeOptions>,
    /// `'auto'` turns the image upright from its EXIF orientation; 0, 90, 180 or 270 turn it
    /// clockwise by that much, EXIF ignored. Default: `'auto'`.
    pub rotate: Option<Either<String, f64>>,
    /// Mirror top to bottom: after the EXIF turn, before an explicit `rotate` (as sharp).
    /// Default: `false`.
    pub flip: Option<bool>,
    /// Mirror left to right: after the EXIF turn, before an explicit `rotate` (as sharp).
    /// Default: `false`.
    pub flop: Option<bool>,
    /// Cut a region out of the rotated input before resizing. Default: none.
    pub extract: Option<ExtractOptions>,
    /// Output format: `'jpeg'`, `'png'` or `'webp'`. Default: the input's (PNG for GIF input).
    pub format: Option<String>,
    /// Quality of JPEG and lossy WebP, 1–100. Default: `80`.
    pub quality: Option<f64>,
    /// WebP without loss (`quality` is then ignored). Default: `false`.
    pub lossless: Option<bool>,
    /// A progressive JPEG. Default: `false`.
    pub progressive: Option<bool>,
    /// Encoder effort 0–9, higher is smaller and slower: PNG compression (0–2 fast, 3–6
    /// balanced, 7–9 high) and lossy WebP's method (0–6; 7–9 act as 6). Default: `4`.
    pub effort: Option<f64>,
    /// Keep the input's EXIF block and ICC profile in the output. Off, both are stripped (GPS
    /// included) and the pixels are converted to sRGB from any embedded profile. On, EXIF is
    /// kept with its orientation reset to 1 when the image was turned upright by it, and an RGB
    /// profile is kept with the pixels left in its colour space (a grey or CMYK profile cannot
    /// describe the RGB output and is not kept). Default: `false`.
    pub keep_metadata: Option<bool>,
    /// Largest input in pixels (width × height) that is decoded; larger fails with
    /// `ERR_OFFLOAD_IMAGE_TOO_LARGE` before any pixel is allocated. Default: `268402689`.
    pub max_pixels: Option<f64>,
}

/// A pixel count or offset in `min..=MAX_SIDE`.
fn pixels(what: &str, v: f64, min: f64) -> Result<u32> {
    let range = format!("an integer >= {min} && <= {MAX_SIDE}");
    Ok(integer(what, v, min, MAX_SIDE, &range)? as u32)
}

fn side(what: &str, v: f64) -> Result<u32> {
    pixels(what, v, 1.0)
}

fn position(s: &str) -> Option<Position> {
    let (x, y) = match s {
        "centre" | "center" => (0.5, 0.5),
        "top" | "north" => (0.5, 0.0),
        "right top" | "northeast" => (1.0, 0.0),
        "right" | "east" => (1.0, 0.5),
        "right bottom" | "southeast" => (1.0, 1.0),
        "bottom" | "south" => (0.5, 1.0),
        "left bottom" | "southwest" => (0.0, 1.0),
        "left" | "west" => (0.0, 0.5),
        "left top" | "northwest" => (0.0, 0.0),
        _ => return None,
    };
    Some(Position { x, y })
}

fn colour(what: &str, c: Either<String, Colour>) -> Result<Rgba> {
    match c {
        Either::A(s) => {
            let hex = s.strip_prefix('#').filter(|h| matches!(h.len(), 6 | 8));
            let bytes = hex.and_then(|h| {
                (0..h.len())
                    .step_by(2)
                    .map(|i| u8::from_str_radix(h.get(i..i + 2)?, 16).ok())
                    .collect::<Option<Vec<u8>>>()
            });
            match bytes.as_deref() {
                Some([r, g, b]) => Ok(Rgba([*r, *g, *b, 255])),
                Some([r, g, b, a]) => Ok(Rgba([*r, *g, *b, *a])),
                _ => Err(invalid_value(
                    &format!("option \"{what}\""),
                    format!("expected '#rrggbb' or '#rrggbbaa', received {s:?}"),
                )),
            }
        }
        Either::B(c) => {
            let ch = |name: &str, v: Option<f64>| -> Result<u8> {
                let v = v.unwrap_or(0.0);
                Ok(integer(&format!("{what}.{name}"), v, 0.0, 255.0, ">= 0 && <= 255")? as u8)
            };
            let alpha = c.alpha.unwrap_or(1.0);
            if !(0.0..=1.0).contains(&alpha) {
                return Err(out_of_range(
                    &format!("{what}.alpha"),
                    ">= 0 && <= 1",
                    alpha,
                ));
            }
            Ok(Rgba([
                ch("r", c.r)?,
                ch("g", c.g)?,
                ch("b", c.b)?,
                (alpha * 255.0).round() as u8,
            ]))
        }
    }
}

impl TryFrom<TransformOptions> for TransformSpec {
    type Error = Error;

    fn try_from(o: TransformOptions) -> Result<Self> {
        let mut spec = TransformSpec::default();
        if let Some(r) = o.resize {
            let width = r
                .width
                .map(|v| side("options.resize.width", v))
                .transpose()?;
            let height = r
                .height
                .map(|v| side("options.resize.height", v))
                .transpose()?;
            let fit = match r.fit.as_deref() {
                None | Some("cover") => Fit::Cover,
                Some("contain") => Fit::Contain,
                Some("fill") => Fit::Fill,
                Some("inside") => Fit::Inside,
                Some("outside") => Fit::Outside,
                Some(other) => {
                    return Err(crate::errors::one_of("options.resize.fit", FITS, other));
                }
            };
            let at = r.position.as_deref().unwrap_or("centre");
            let position = position(at).ok_or_else(|| {
                invalid_value(
                    "option \"options.resize.position\"",
                    format!("unknown position {at:?}"),
                )
            })?;
            if let Some(k) = r.kernel.as_deref() {
                spec.kernel = name::<Kernel>("options.resize.kernel", KERNELS, k)?;
            }
            if let Some(bg) = r.background {
                spec.background = colour("options.resize.background", bg)?;
            }
            spec.resize = Some(ResizeSpec {
                width,
                height,
                fit,
                position,
                without_enlargement: r.without_enlargement.unwrap_or(false),
            });
        }
        spec.rotate = match o.rotate {
            None => Rotate::Auto,
            Some(Either::A(s)) if s == "auto" => Rotate::Auto,
            Some(Either::A(s)) => {
                return Err(invalid_value(
                    "option \"options.rotate\"",
                    format!("expected 'auto', 0, 90, 180 or 270, received {s:?}"),
                ));
            }
            Some(Either::B(deg)) if [0.0, 90.0, 180.0, 270.0].contains(&deg) => {
                Rotate::Turns((deg / 90.0) as u8)
            }
            Some(Either::B(deg)) => {
                return Err(out_of_range("options.rotate", "0, 90, 180 or 270", deg));
            }
        };
        spec.flip = o.flip.unwrap_or(false);
        spec.flop = o.flop.unwrap_or(false);
        if let Some(e) = o.extract {
            spec.extract = Some(Rect {
                left: pixels("options.extract.left", e.left, 0.0)?,
                top: pixels("options.extract.top", e.top, 0.0)?,
                width: side("options.extract.width", e.width)?,
                height: side("options.extract.height", e.height)?,
            });
        }
        if let Some(f) = o.format.as_deref() {
            spec.format = Some(name::<OutFormat>("options.format", FORMATS, f)?);
        }
        if let Some(q) = o.quality {
            spec.quality = integer(
                "options.quality",
                q,
                1.0,
                100.0,
                "an integer >= 1 && <= 100",
            )? as u8;
        }
        spec.lossless = o.lossless.unwrap_or(false);
        spec.progressive = o.progressive.unwrap_or(false);
        if let Some(e) = o.effort {
            spec.effort = integer("options.effort", e, 0.0, 9.0, "an integer >= 0 && <= 9")? as u8;
        }
        spec.keep_metadata = o.keep_metadata.unwrap_or(false);
        if let Some(m) = o.max_pixels {
            spec.max_pixels = integer(
                "options.maxPixels",
                m,
                1.0,
                9_007_199_254_740_991.0,
                "an integer >= 1",
            )? as u64;
        }
        Ok(spec)
    }
}
