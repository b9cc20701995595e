//! JPEG decoding with libjpeg-turbo (mozjpeg's build of it, compiled from its vendored sources by
//! mozjpeg-sys: no system library; with `nasm` on the build machine it has its SIMD code).
//!
//! Why libjpeg-turbo and not a pure-Rust decoder: it can shrink in the DCT domain, decoding at
//! M/8 of the stored size (M = 1..8) for a fraction of a full decode's work, which is what makes a
//! thumbnail of a large photo cheap. Rows are read in strips and the cancel flag is polled between
//! strips, so an abort or a timeout stops a decode mid-way.
//!
//! Errors: libjpeg reports a fatal error through `error_exit`, which must not return; ours
//! unwinds (mozjpeg-sys builds the C code with `-fexceptions` for this) with the message, and the
//! unwind is caught here. Warnings that mean the pixels are not all there (a truncated file,
//! corrupt entropy-coded data) are treated as errors too, as sharp's default `failOn` does; the
//! benign "extraneous bytes before a marker" that some encoders write is let through.

use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};

use mozjpeg::{ColorSpace, Compress, Decompress, Marker};
use mozjpeg_sys as ffi;

use super::ImageError;

/// Rows decoded between two polls of the cancel flag: a few milliseconds of work at most.
const STRIP_ROWS: usize = 32;

/// Profile bytes per APP2 segment: 65 533 payload bytes less the 14-byte header.
const ICC_CHUNK: usize = 65_519;

/// The size libjpeg gives an image of `w` × `h` decoded at `eighths`/8 (it rounds up).
pub(crate) fn scaled_size(w: u32, h: u32, eighths: u8) -> (u32, u32) {
    let s = u64::from(eighths);
    let up = |v: u32| (u64::from(v) * s).div_ceil(8) as u32;
    (up(w), up(h))
}

fn corrupt(detail: impl Into<String>) -> ImageError {
    ImageError::Corrupt {
        format: "JPEG",
        detail: detail.into(),
    }
}

/// Decoded rows: RGB, or for a CMYK file four ink values a pixel (0 = no ink, whatever the
/// file stored), for colour.rs to convert.
pub(crate) struct Decoded {
    pub(crate) data: Vec<u8>,
    pub(crate) width: u32,
    pub(crate) height: u32,
    pub(crate) cmyk: bool,
}

/// Decodes `data` to RGB (or CMYK ink) at `eighths`/8 of its size (8: full size), polling `cancelled`
/// between strips of rows (`Err(None)` when it fired).
pub(crate) fn decode(
    data: &[u8],
    eighths: u8,
    cancelled: &dyn Fn() -> bool,
) -> Result<Decoded, Option<ImageError>> {
    match catch_unwind(AssertUnwindSafe(|| {
        decode_unwinding(data, eighths, cancelled)
    })) {
        Ok(r) => r,
        Err(payload) => {
            let detail = match payload.downcast::<String>() {
                Ok(msg) => *msg,
                Err(_) => "the decoder gave up on malformed data".to_owned(),
            };
            Err(Some(corrupt(detail)))
        }
    }
}

fn decode_unwinding(
    data: &[u8],
    eighths: u8,
    cancelled: &dyn Fn() -> bool,
) -> Result<Decoded, Option<ImageError>> {
    let io = |e: std::io::Error| Some(corrupt(e.to_string()));
    let mut d = Decompress::with_err(error_manager())
        .with_markers(&[Marker::APP(14)])
        .from_mem(data)
        .map_err(io)?;
    d.scale(eighths.clamp(1, 8));
    let cmyk = matches!(d.color_space(), ColorSpace::JCS_CMYK | ColorSpace::JCS_YCCK);
    // Photoshop's CMYK JPEGs (the ones with an Adobe marker) store 255 - ink.
    let inverted = cmyk && d.markers().any(|m| m.data.starts_with(b"Adobe"));
    let mut started = if cmyk {
        d.to_colorspace(ColorSpace::JCS_CMYK)
    } else {
        d.rgb()
    }
    .map_err(io)?;
    let (width, height) = (started.width(), started.height());
    let stored = if cmyk { 4 } else { 3 };
    let row = width * stored;
    let mut buf = vec![0u8; row * height];
    for strip in buf.chunks_mut(row * STRIP_ROWS) {
        if cancelled() {
            return Err(None);
        }
        started.read_scanlines_into(strip).map_err(io)?;
    }
    started.finish().map_err(io)?;
    if inverted {
        buf.iter_mut().for_each(|v| *v = 255 - *v);
    }
    Ok(Decoded {
        data: buf,
        width: width as u32,
        height: height as u32,
        cmyk,
    })
}

/// Encodes `rgb` (`w` × `h`, 3 bytes a pixel) as libjpeg-turbo does with sharp's defaults:
/// standard quantisation tables at `quality`, optimised Huffman tables, 4:2:0 chroma. `markers`
/// (APPn number, payload) and an ICC profile are written after the headers. `cancelled` is polled
/// between strips of rows (`Err(None)` when it fired).
pub(crate) fn encode(
    rgb: &[u8],
    (w, h): (u32, u32),
    quality: u8,
    progressive: bool,
    markers: &[(u8, &[u8])],
    icc: Option<&[u8]>,
    cancelled: &dyn Fn() -> bool,
) -> Result<Vec<u8>, Option<ImageError>> {
    let run = || -> Result<Vec<u8>, Option<ImageError>> {
        let failed =
            |e: std::io::Error| Some(ImageError::BadRequest(format!("JPEG encoding failed: {e}")));
        let mut c = Compress::new_err(Box::new(error_manager()), ColorSpace::JCS_RGB);
        // libjpeg-turbo's behaviour (no trellis quantisation, no scan search): what sharp uses.
        c.set_fastest_defaults();
        c.set_size(w as usize, h as usize);
        c.set_quality(f32::from(quality));
        c.set_optimize_coding(true);
        if progressive {
            c.set_progressive_mode();
        }
        let mut started = c
            .start_compress(Vec::with_capacity(rgb.len() / 8))
            .map_err(failed)?;
        for &(n, data) in markers {
            started.write_marker(Marker::APP(n), data);
        }
        // ICC.1 B.4: APP2 segments numbered from 1 (the mozjpeg crate's helper numbers from 0,
        // which libjpeg's own reader rejects).
        let chunks = icc.unwrap_or_default().chunks(ICC_CHUNK);
        let count = chunks.len();
        if count > 255 {
            return Err(Some(ImageError::BadRequest(
                "the ICC profile is over 255 JPEG segments".into(),
            )));
        }
        for (i, chunk) in chunks.enumerate() {
            let mut seg = Vec::with_capacity(14 + chunk.len());
            seg.extend_from_slice(b"ICC_PROFILE\0");
            seg.extend([i as u8 + 1, count as u8]);
            seg.extend_from_slice(chunk);
            started.write_marker(Marker::APP(2), &seg);
        }
        for strip in rgb.chunks(w as usize * 3 * STRIP_ROWS) {
            if cancelled() {
                return Err(None);
            }
            started.write_scanlines(strip).map_err(failed)?;
        }
        started.finish().map_err(failed)
    };
    match catch_unwind(AssertUnwindSafe(run)) {
        Ok(r) => r,
        Err(payload) => Err(Some(ImageError::BadRequest(format!(
            "JPEG encoding failed: {}",
            payload
                .downcast::<String>()
                .map_or_else(|_| "libjpeg gave up".to_owned(), |m| *m)
        )))),
    }
}

/// libjpeg's standard error manager with our exits: fatal errors and data-loss warnings unwind
/// with the formatted message; other messages are dropped (libjpeg would print them to stderr).
fn error_manager() -> ffi::jpeg_error_mgr {
    #[expect(unsafe_code, reason = "libjpeg's error manager is a C struct")]
    // SAFETY: jpeg_error_mgr is plain C data (integers, nullable function and table pointers),
    // for which all-zero is a valid value; jpeg_std_error then fills every field.
    let mut err: ffi::jpeg_error_mgr = unsafe { std::mem::zeroed() };
    #[expect(unsafe_code, reason = "libjpeg's error manager is a C struct")]
    // SAFETY: `err` is a valid, exclusively borrowed jpeg_error_mgr; jpeg_std_error only writes
    // its fields (pointers to libjpeg's static message table and functions).
    unsafe {
        ffi::jpeg_std_error(&mut err);
    }
    err.error_exit = Some(fail);
    err.emit_message = Some(warn);
    err
}

/// The text of libjpeg's current message.
#[expect(unsafe_code, reason = "calls libjpeg's message formatter")]
fn message(cinfo: &mut ffi::jpeg_common_struct) -> String {
    // SAFETY: `cinfo.err` is null or points at the error manager libjpeg is reporting through
    // (set up by error_manager, alive as long as the decompressor).
    let format = unsafe { cinfo.err.as_ref() }.and_then(|e| e.format_message);
    let Some(format) = format else {
        return "libjpeg error".to_owned();
    };
    // SAFETY: the binding declares the buffer as `&[u8; 80]`; the C signature is `char *buffer`,
    // written up to JMSG_LENGTH_MAX bytes. Both are one pointer in the C ABI.
    let format: unsafe extern "C-unwind" fn(&mut ffi::jpeg_common_struct, *mut u8) =
        unsafe { std::mem::transmute(format) };
    // JMSG_LENGTH_MAX in jpeglib.h: what format_message may write, terminator included.
    let mut buf = [0u8; 200];
    // SAFETY: `cinfo` is the live decompressor and `buf` holds JMSG_LENGTH_MAX bytes.
    unsafe { format(cinfo, buf.as_mut_ptr()) };
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

extern "C-unwind" fn fail(cinfo: &mut ffi::jpeg_common_struct) {
    resume_unwind(Box::new(message(cinfo)));
}

extern "C-unwind" fn warn(cinfo: &mut ffi::jpeg_common_struct, level: std::os::raw::c_int) {
    // Negative levels are warnings; the others are trace messages.
    if level >= 0 {
        return;
    }
    #[expect(unsafe_code, reason = "reads libjpeg's error manager")]
    // SAFETY: `cinfo.err` points at the live error manager (see `message`).
    let code = unsafe { cinfo.err.as_ref().map_or(0, |e| e.msg_code) };
    if code != ffi::JWRN_EXTRANEOUS_DATA as std::os::raw::c_int {
        resume_unwind(Box::new(message(cinfo)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scaled_sizes_round_up_as_libjpeg_does() {
        assert_eq!(scaled_size(2725, 2225, 8), (2725, 2225));
        assert_eq!(scaled_size(2725, 2225, 3), (1022, 835));
        assert_eq!(scaled_size(2725, 2225, 1), (341, 279));
        assert_eq!(scaled_size(1, 1, 1), (1, 1));
    }

    /// A smooth `w` × `h` RGB gradient.
    fn gradient(w: u32, h: u32) -> Vec<u8> {
        (0..h)
            .flat_map(|y| (0..w).flat_map(move |x| [(x * 255 / w) as u8, (y * 255 / h) as u8, 128]))
            .collect()
    }

    /// A cancel flag that fires at its `n`th poll, counting the polls.
    fn fires_at(n: usize) -> (std::cell::Cell<usize>, usize) {
        (std::cell::Cell::new(0), n)
    }

    #[test]
    fn round_trip_full_and_scaled() {
        let rgb = gradient(200, 120);
        let jpg = encode(&rgb, (200, 120), 90, false, &[], None, &|| false).unwrap();
        let d = decode(&jpg, 8, &|| false).unwrap();
        let px = d.data;
        assert_eq!((d.width, d.height, d.cmyk), (200, 120, false));
        let worst = px
            .iter()
            .zip(&rgb)
            .map(|(a, b)| a.abs_diff(*b))
            .max()
            .unwrap();
        assert!(worst < 12, "a smooth gradient at q90 is off by {worst}");
        let small = decode(&jpg, 3, &|| false).unwrap();
        assert_eq!((small.width, small.height), scaled_size(200, 120, 3));
        assert_eq!(small.data.len(), 75 * 45 * 3);
        // Progressive output decodes to the same picture.
        let prog = encode(&rgb, (200, 120), 90, true, &[], None, &|| false).unwrap();
        let px2 = decode(&prog, 8, &|| false).unwrap().data;
        let worst = px2
            .iter()
            .zip(&rgb)
            .map(|(a, b)| a.abs_diff(*b))
            .max()
            .unwrap();
        assert!(worst < 12);
    }

    #[test]
    fn cancel_stops_a_decode_and_an_encode_between_strips() {
        let (w, h) = (64, STRIP_ROWS as u32 * 4);
        let rgb = gradient(w, h);
        let jpg = encode(&rgb, (w, h), 80, false, &[], None, &|| false).unwrap();
        for run in ["decode", "encode"] {
            let (polls, at) = fires_at(2);
            let flag = || {
                polls.set(polls.get() + 1);
                polls.get() >= at
            };
            let r = match run {
                "decode" => decode(&jpg, 8, &flag).map(|_| ()),
                _ => encode(&rgb, (w, h), 80, false, &[], None, &flag).map(|_| ()),
            };
            // Stopped at the second strip of four: mid-way, not before or after.
            assert!(matches!(r, Err(None)), "{run}");
            assert_eq!(polls.get(), 2, "{run}");
        }
    }

    #[test]
    fn a_truncated_file_is_corrupt_not_grey() {
        let rgb = gradient(64, 64);
        let jpg = encode(&rgb, (64, 64), 80, false, &[], None, &|| false).unwrap();
        let err = decode(&jpg[..jpg.len() * 2 / 3], 8, &|| false)
            .err()
            .flatten();
        assert!(matches!(err, Some(ImageError::Corrupt { .. })), "{err:?}");
    }

    #[test]
    fn markers_and_an_icc_profile_are_written() {
        let rgb = gradient(16, 16);
        let exif = b"Exif\0\0MM\0*\0\0\0\x08\0\0";
        let icc = vec![7u8; 70_000];
        let jpg = encode(&rgb, (16, 16), 80, false, &[(1, exif)], Some(&icc), &|| {
            false
        })
        .unwrap();
        let find = |needle: &[u8]| jpg.windows(needle.len()).filter(|w| *w == needle).count();
        assert_eq!(find(exif), 1);
        // 70 000 bytes of profile need two APP2 segments, numbered 1 and 2 of 2.
        assert_eq!(find(b"ICC_PROFILE\0\x01\x02"), 1);
        assert_eq!(find(b"ICC_PROFILE\0\x02\x02"), 1);
    }

    #[test]
    fn garbage_after_the_signature_is_corrupt_not_a_crash() {
        let mut data = vec![0xFF, 0xD8, 0xFF, 0xDB, 0x00, 0x43];
        data.extend(std::iter::repeat_n(0x11, 64));
        let err = decode(&data, 8, &|| false).err().flatten();
        assert!(matches!(err, Some(ImageError::Corrupt { .. })), "{err:?}");
    }
}
