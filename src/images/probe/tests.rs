use super::*;
use crate::images::exif::tiff_with_orientation;

fn segment(marker: u8, body: &[u8]) -> Vec<u8> {
    let mut s = vec![0xFF, marker];
    s.extend_from_slice(&((body.len() + 2) as u16).to_be_bytes());
    s.extend_from_slice(body);
    s
}

fn jpeg(sof: u8, w: u16, h: u16, comps: u8, orientation: Option<u16>) -> Vec<u8> {
    let mut d = vec![0xFF, 0xD8];
    d.extend(segment(0xE0, b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0"));
    if let Some(o) = orientation {
        let mut app1 = b"Exif\0\0".to_vec();
        app1.extend(tiff_with_orientation(false, o));
        d.extend(segment(0xE1, &app1));
    }
    d.extend(segment(0xE2, b"ICC_PROFILE\0\x01\x01"));
    let mut sof_body = vec![8];
    sof_body.extend_from_slice(&h.to_be_bytes());
    sof_body.extend_from_slice(&w.to_be_bytes());
    sof_body.push(comps);
    for c in 0..comps {
        sof_body.extend_from_slice(&[c + 1, 0x11, 0]);
    }
    d.extend(segment(sof, &sof_body));
    d.extend(segment(0xDA, &[1, 1, 0, 0, 63, 0]));
    d.extend_from_slice(&[0x12, 0x34, 0xFF, 0xD9]);
    d
}

fn chunk(kind: &[u8], body: &[u8]) -> Vec<u8> {
    let mut c = (body.len() as u32).to_be_bytes().to_vec();
    c.extend_from_slice(kind);
    c.extend_from_slice(body);
    c.extend_from_slice(&[0, 0, 0, 0]); // CRC, not checked by a header reader
    c
}

fn png(w: u32, h: u32, color: u8, extra: &[Vec<u8>]) -> Vec<u8> {
    let mut d = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = w.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, color, 0, 0, 1]);
    d.extend(chunk(b"IHDR", &ihdr));
    for c in extra {
        d.extend_from_slice(c);
    }
    d.extend(chunk(b"IDAT", &[0; 4]));
    d.extend(chunk(b"IEND", &[]));
    d
}

fn riff(chunks: &[(&[u8; 4], Vec<u8>)]) -> Vec<u8> {
    let mut body = b"WEBP".to_vec();
    for (kind, data) in chunks {
        body.extend_from_slice(*kind);
        body.extend_from_slice(&(data.len() as u32).to_le_bytes());
        body.extend_from_slice(data);
        if data.len() % 2 == 1 {
            body.push(0);
        }
    }
    let mut d = b"RIFF".to_vec();
    d.extend_from_slice(&(body.len() as u32).to_le_bytes());
    d.extend(body);
    d
}

#[test]
fn jpeg_baseline_progressive_gray_cmyk_and_orientation() {
    let i = probe(&jpeg(0xC0, 2725, 2225, 3, Some(6))).unwrap();
    assert_eq!(
        (i.format, i.width, i.height, i.orientation),
        (Format::Jpeg, 2725, 2225, 6)
    );
    assert_eq!(
        (i.channels, i.space, i.has_alpha, i.progressive),
        (3, ColorSpace::Srgb, false, false)
    );
    assert!(i.has_icc && i.has_exif);
    let p = probe(&jpeg(0xC2, 10, 20, 1, None)).unwrap();
    assert_eq!(
        (
            p.progressive,
            p.space,
            p.channels,
            p.orientation,
            p.has_exif
        ),
        (true, ColorSpace::Gray, 1, 1, false)
    );
    assert_eq!(
        probe(&jpeg(0xC1, 1, 1, 4, None)).unwrap().space,
        ColorSpace::Cmyk
    );
    // A dimension bomb is read, not refused: refusing is the decoder's business (maxPixels).
    assert_eq!(
        probe(&jpeg(0xC0, 65535, 65535, 3, None)).unwrap().width,
        65535
    );
}

#[test]
fn png_colour_types_transparency_interlace_and_exif() {
    let rgba = probe(&png(640, 480, 6, &[])).unwrap();
    assert_eq!(
        (
            rgba.format,
            rgba.width,
            rgba.height,
            rgba.channels,
            rgba.has_alpha
        ),
        (Format::Png, 640, 480, 4, true)
    );
    let trns = probe(&png(
        3,
        3,
        3,
        &[chunk(b"PLTE", &[0; 9]), chunk(b"tRNS", &[0])],
    ))
    .unwrap();
    assert_eq!((trns.channels, trns.has_alpha), (4, true));
    let gray = probe(&png(
        3,
        3,
        0,
        &[
            chunk(b"eXIf", &tiff_with_orientation(true, 8)),
            chunk(b"iCCP", b"x\0\0"),
        ],
    ))
    .unwrap();
    assert_eq!(
        (
            gray.space,
            gray.channels,
            gray.orientation,
            gray.has_exif,
            gray.has_icc
        ),
        (ColorSpace::Gray, 1, 8, true, true)
    );
    let mut interlaced = png(3, 3, 2, &[]);
    interlaced[28] = 1;
    assert!(probe(&interlaced).unwrap().progressive);
}

#[test]
fn webp_lossy_lossless_and_extended() {
    let mut vp8 = vec![0x50, 0x1d, 0x00, 0x9d, 0x01, 0x2a];
    vp8.extend_from_slice(&(720u16).to_le_bytes());
    vp8.extend_from_slice(&(588u16 | 0x4000).to_le_bytes()); // scale bits are not size
    let i = probe(&riff(&[(b"VP8 ", vp8)])).unwrap();
    assert_eq!(
        (i.format, i.width, i.height, i.has_alpha, i.channels),
        (Format::Webp, 720, 588, false, 3)
    );
    let bits: u32 = (99) | (49 << 14) | (1 << 28);
    let mut vp8l = vec![0x2f];
    vp8l.extend_from_slice(&bits.to_le_bytes());
    let l = probe(&riff(&[(b"VP8L", vp8l)])).unwrap();
    assert_eq!(
        (l.width, l.height, l.has_alpha, l.channels),
        (100, 50, true, 4)
    );
    let mut vp8x = vec![0x10 | 0x08, 0, 0, 0];
    vp8x.extend_from_slice(&[0xFF, 0x0F, 0x00]); // 4096 - 1
    vp8x.extend_from_slice(&[0x01, 0x00, 0x00]); // 2 - 1
    let mut exif = b"Exif\0\0".to_vec();
    exif.extend(tiff_with_orientation(true, 3));
    let x = probe(&riff(&[(b"VP8X", vp8x), (b"EXIF", exif)])).unwrap();
    assert_eq!(
        (x.width, x.height, x.has_alpha, x.orientation, x.has_exif),
        (4096, 2, true, 3, true)
    );
}

#[test]
fn gif_size_and_transparency_of_the_first_frame() {
    let mut g = b"GIF89a".to_vec();
    g.extend_from_slice(&300u16.to_le_bytes());
    g.extend_from_slice(&200u16.to_le_bytes());
    g.extend_from_slice(&[0x80, 0, 0]); // global table of 2 colours
    g.extend_from_slice(&[0; 6]);
    g.extend_from_slice(&[0x21, 0xF9, 4, 1, 0, 0, 0, 0]); // GCE with transparency
    g.extend_from_slice(&[0x2C, 0, 0, 0, 0, 1, 0, 1, 0, 0, 2, 2, 0x44, 0x01, 0, 0x3B]);
    let i = probe(&g).unwrap();
    assert_eq!(
        (i.format, i.width, i.height, i.has_alpha, i.channels),
        (Format::Gif, 300, 200, true, 4)
    );
}

#[test]
fn unknown_formats_are_unsupported_and_nothing_panics_on_any_prefix_or_mutation() {
    assert_eq!(probe(b""), Err(ImageError::Unsupported));
    assert_eq!(
        probe(b"BM\0\0 not a supported bitmap"),
        Err(ImageError::Unsupported)
    );
    let samples = [
        jpeg(0xC0, 33, 44, 3, Some(5)),
        png(5, 6, 6, &[]),
        riff(&[(b"VP8L", vec![0x2f, 1, 2, 3, 4])]),
    ];
    for s in &samples {
        for cut in 0..s.len() {
            let _ = probe(&s[..cut]);
        }
        // Deterministic mutations: every byte set to a few values in turn.
        for at in 0..s.len() {
            for v in [0x00, 0x01, 0x7F, 0xFF] {
                let mut m = s.clone();
                m[at] = v;
                if let Ok(i) = probe(&m) {
                    assert!(i.width > 0 && i.height > 0 && (1..=8).contains(&i.orientation));
                }
            }
        }
    }
    assert!(matches!(
        probe(&jpeg(0xC0, 0, 5, 3, None)),
        Err(ImageError::Corrupt { .. })
    ));
}
