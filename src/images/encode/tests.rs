use super::*;
use crate::images::exif::tiff_with_orientation;
use crate::images::probe::{Format, probe};

fn px(channels: usize) -> Pixels {
    let (width, height) = (33u32, 17u32);
    let data = (0..width as usize * height as usize * channels)
        .map(|i| (i * 37 % 256) as u8)
        .collect();
    Pixels {
        data,
        width,
        height,
        channels,
    }
}

fn meta(icc_len: usize) -> Metadata {
    let mut icc: Vec<u8> = (0..icc_len).map(|i| (i % 253) as u8).collect();
    icc[16..20].copy_from_slice(b"RGB ");
    icc[36..40].copy_from_slice(b"acsp");
    Metadata {
        icc: Some(icc),
        exif: Some(tiff_with_orientation(false, 1)),
    }
}

fn spec(lossless: bool) -> TransformSpec {
    TransformSpec {
        lossless,
        ..TransformSpec::default()
    }
}

#[test]
fn every_format_carries_the_metadata_and_reads_back_the_same() {
    // 150 KB of profile: three APP2 pieces in JPEG.
    let m = meta(150_000);
    for (format, lossless, channels) in [
        (OutFormat::Jpeg, false, 3),
        (OutFormat::Png, false, 3),
        (OutFormat::Png, false, 4),
        (OutFormat::Webp, false, 3),
        (OutFormat::Webp, false, 4),
        (OutFormat::Webp, true, 3),
        (OutFormat::Webp, true, 4),
    ] {
        let label = format!("{format:?} lossless {lossless}, {channels} channels");
        let out = encode(&px(channels), format, &spec(lossless), &m, &|| false).unwrap();
        let info = probe(&out).unwrap();
        assert_eq!((info.width, info.height), (33, 17), "{label}");
        assert!(info.has_icc && info.has_exif, "{label}");
        assert_eq!(
            info.has_alpha,
            channels == 4 && format != OutFormat::Jpeg,
            "{label}"
        );
        assert_eq!(Metadata::read(&out, info.format), m, "{label}");
        // Without metadata: nothing written, the encoder's file as it was (a simple WebP file
        // but for lossy with alpha, which libwebp writes as VP8X + ALPH + VP8).
        let bare = encode(
            &px(channels),
            format,
            &spec(lossless),
            &Metadata::default(),
            &|| false,
        )
        .unwrap();
        let info = probe(&bare).unwrap();
        assert!(!info.has_icc && !info.has_exif, "{label}");
        assert!(Metadata::read(&bare, info.format).is_empty(), "{label}");
        if info.format == Format::Webp {
            let extended = channels == 4 && !lossless;
            assert_eq!(&bare[12..16] == b"VP8X", extended, "{label}");
            // The rewrapped file decodes to the same pixels as the bare one.
            let decode = |d: &[u8]| {
                let mut dec = image_webp::WebPDecoder::new(std::io::Cursor::new(d)).unwrap();
                let mut buf = vec![0; dec.output_buffer_size().unwrap()];
                dec.read_image(&mut buf).unwrap();
                buf
            };
            assert_eq!(decode(&out), decode(&bare), "{label}");
        }
    }
}

#[test]
fn exif_too_large_for_a_jpeg_segment_is_left_out_of_jpeg_only() {
    let mut tiff = tiff_with_orientation(true, 1);
    tiff.resize(MAX_JPEG_EXIF + 1, 0);
    let m = Metadata {
        icc: None,
        exif: Some(tiff.clone()),
    };
    let jpeg = encode(&px(3), OutFormat::Jpeg, &spec(false), &m, &|| false).unwrap();
    assert!(!probe(&jpeg).unwrap().has_exif);
    let png = encode(&px(3), OutFormat::Png, &spec(false), &m, &|| false).unwrap();
    assert_eq!(Metadata::read(&png, Format::Png).exif, Some(tiff.clone()));
    tiff.truncate(MAX_JPEG_EXIF);
    let m = Metadata {
        icc: None,
        exif: Some(tiff.clone()),
    };
    let jpeg = encode(&px(3), OutFormat::Jpeg, &spec(false), &m, &|| false).unwrap();
    assert_eq!(Metadata::read(&jpeg, Format::Jpeg).exif, Some(tiff));
}
