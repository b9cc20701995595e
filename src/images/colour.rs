//! Colour management: the output is sRGB. Pixels decoded from an image that embeds an ICC
//! profile are in that profile's colour space (Display P3, Adobe RGB, a camera's grey…), and
//! are converted to sRGB with qcms, as sharp converts them by default.
//!
//! What it guarantees: a profile is converted from only when it describes the pixels — an RGB
//! profile, or a grey one for grey pixels; a CMYK JPEG's ink values are converted through its
//! CMYK profile as they leave the decoder (`cmyk_to_srgb`), or naively when it has none. A profile qcms cannot read leaves the pixels as
//! they are, as if untagged, and never fails the transform (qcms's panics are caught). A
//! profile that moves no colour by more than one level — an sRGB profile, which most camera
//! JPEGs carry — is not applied, so the common case costs a check of 729 colours, not a pass
//! over the image.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::OnceLock;

use qcms::{DataType, Intent, Profile, Transform};

use super::Pixels;

/// The output profile, with its inverse curves computed once for the process.
fn srgb() -> &'static Profile {
    static SRGB: OnceLock<Box<Profile>> = OnceLock::new();
    SRGB.get_or_init(|| {
        let mut p = Profile::new_sRGB();
        p.precache_output_transform();
        p
    })
}

/// Converts `px` in place from the colour space `icc` describes to sRGB (see the module doc for
/// when it leaves them as they are).
pub(crate) fn to_srgb(px: &mut Pixels, icc: &[u8]) {
    // qcms asserts on some malformed profiles in debug builds: a panic means "no profile".
    let _ = catch_unwind(AssertUnwindSafe(|| convert(px, icc)));
}

fn convert(px: &mut Pixels, icc: &[u8]) {
    let Some(profile) = Profile::new_from_slice(icc, false) else {
        return;
    };
    let alpha = px.channels == 4;
    match icc.get(16..20) {
        Some(b"RGB ") => {
            let ty = if alpha {
                DataType::RGBA8
            } else {
                DataType::RGB8
            };
            let Some(t) = Transform::new(&profile, srgb(), ty, Intent::Perceptual) else {
                return;
            };
            if !moves_colours(&t, ty) {
                return;
            }
            t.apply(&mut px.data);
        }
        // Grey decodes as R = G = B; a grey profile on colour pixels is a broken file.
        Some(b"GRAY")
            if px
                .data
                .chunks_exact(px.channels)
                .all(|p| p[0] == p[1] && p[1] == p[2]) =>
        {
            let (from, to) = if alpha {
                (DataType::GrayA8, DataType::RGBA8)
            } else {
                (DataType::Gray8, DataType::RGB8)
            };
            let Some(t) = Transform::new_to(&profile, srgb(), from, to, Intent::Perceptual) else {
                return;
            };
            let mut grey =
                Vec::with_capacity(px.data.len() / px.channels * (1 + usize::from(alpha)));
            for p in px.data.chunks_exact(px.channels) {
                grey.push(p[0]);
                if alpha {
                    grey.push(p[3]);
                }
            }
            t.convert(&grey, &mut px.data);
        }
        _ => {}
    }
}

/// CMYK ink values (0 = no ink) to sRGB: through `icc` when it is a CMYK profile qcms can read,
/// or else the naive conversion browsers use for untagged CMYK (each channel is what its ink
/// leaves of white, times what black leaves), since no CMYK profile ships with offload.
pub(crate) fn cmyk_to_srgb(ink: &[u8], icc: Option<&[u8]>) -> Vec<u8> {
    let mut rgb = vec![0u8; ink.len() / 4 * 3];
    let managed = icc
        .filter(|p| p.get(16..20) == Some(b"CMYK"))
        .is_some_and(|p| {
            catch_unwind(AssertUnwindSafe(|| {
                let profile = Profile::new_from_slice(p, false)?;
                let t = Transform::new_to(
                    &profile,
                    srgb(),
                    DataType::CMYK,
                    DataType::RGB8,
                    Intent::Perceptual,
                )?;
                t.convert(ink, &mut rgb);
                Some(())
            }))
            .ok()
            .flatten()
            .is_some()
        });
    if !managed {
        for (out, p) in rgb.chunks_exact_mut(3).zip(ink.chunks_exact(4)) {
            let k = u32::from(255 - p[3]);
            for (o, v) in out.iter_mut().zip(&p[..3]) {
                *o = ((u32::from(255 - v) * k + 127) / 255) as u8;
            }
        }
    }
    rgb
}

/// Whether `t` moves any of 9 × 9 × 9 colours spanning the cube by more than one level.
fn moves_colours(t: &Transform, ty: DataType) -> bool {
    const STEPS: [u8; 9] = [0, 32, 64, 96, 128, 160, 192, 224, 255];
    let bpp = if ty == DataType::RGBA8 { 4 } else { 3 };
    let mut probe = Vec::with_capacity(STEPS.len().pow(3) * bpp);
    for r in STEPS {
        for g in STEPS {
            for b in STEPS {
                probe.extend_from_slice(&[r, g, b, 255][..bpp]);
            }
        }
    }
    let mut out = probe.clone();
    t.apply(&mut out);
    probe.iter().zip(&out).any(|(a, b)| a.abs_diff(*b) > 1)
}

#[cfg(test)]
mod tests;
