//! Resampling with fast_image_resize (SIMD: AVX2 where the CPU has it), alpha premultiplied
//! while filtering so transparent pixels do not bleed their colour into the edges.

use fast_image_resize::images::Image;
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};

use super::ImageError;
use super::Pixels;
use super::spec::Kernel;

/// `px` resampled to `width` × `height` with `kernel`.
pub(crate) fn resize(
    px: Pixels,
    width: u32,
    height: u32,
    kernel: Kernel,
) -> Result<Pixels, ImageError> {
    if (px.width, px.height) == (width, height) {
        return Ok(px);
    }
    let pt = if px.channels == 4 {
        PixelType::U8x4
    } else {
        PixelType::U8x3
    };
    let channels = px.channels;
    let src = Image::from_vec_u8(px.width, px.height, px.data, pt)
        .map_err(|e| ImageError::BadRequest(format!("resize: {e}")))?;
    let mut dst = Image::new(width, height, pt);
    let alg = match kernel {
        Kernel::Nearest => ResizeAlg::Nearest,
        Kernel::Linear => ResizeAlg::Convolution(FilterType::Bilinear),
        Kernel::Cubic => ResizeAlg::Convolution(FilterType::CatmullRom),
        Kernel::Mitchell => ResizeAlg::Convolution(FilterType::Mitchell),
        Kernel::Lanczos3 => ResizeAlg::Convolution(FilterType::Lanczos3),
    };
    Resizer::new()
        .resize(&src, &mut dst, &ResizeOptions::new().resize_alg(alg))
        .map_err(|e| ImageError::BadRequest(format!("resize: {e}")))?;
    Ok(Pixels {
        data: dst.into_vec(),
        width,
        height,
        channels,
    })
}
