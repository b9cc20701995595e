use std::io::Write;

use super::*;
use crate::images::exif::tiff_with_orientation;

/// Bytes that pass as an ICC profile here: the header's colour space and signature.
pub(crate) fn fake_icc(space: &[u8; 4], len: usize) -> Vec<u8> {
    let mut p: Vec<u8> = (0..len).map(|i| (i * 7 % 251) as u8).collect();
    p[16..20].copy_from_slice(space);
    p[36..40].copy_from_slice(b"acsp");
    p
}

fn segment(marker: u8, body: &[u8]) -> Vec<u8> {
    let mut s = vec![0xFF, marker];
    s.extend_from_slice(&((body.len() + 2) as u16).to_be_bytes());
    s.extend_from_slice(body);
    s
}

fn icc_piece(seq: u8, count: u8, bytes: &[u8]) -> Vec<u8> {
    segment(
        0xE2,
        &[b"ICC_PROFILE\0".as_slice(), &[seq, count], bytes].concat(),
    )
}

/// A JPEG's head: SOI, `segments`, then a frame header and a scan whose bytes would be read as
/// segments if the reader did not stop at SOS.
fn jpeg(segments: &[Vec<u8>]) -> Vec<u8> {
    let mut d = vec![0xFF, 0xD8];
    d.extend(segment(0xE0, b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0"));
    for s in segments {
        d.extend_from_slice(s);
    }
    d.extend(segment(0xC0, &[8, 0, 1, 0, 1, 1, 1, 0x11, 0]));
    d.extend(segment(0xDA, &[1, 1, 0, 0, 63, 0]));
    d.extend(icc_piece(1, 1, &fake_icc(b"RGB ", 200)));
    d.extend_from_slice(&[0xFF, 0xD9]);
    d
}

fn exif_segment(tiff: &[u8]) -> Vec<u8> {
    segment(0xE1, &[b"Exif\0\0".as_slice(), tiff].concat())
}

#[test]
fn jpeg_icc_pieces_are_joined_in_sequence_order_and_exif_loses_its_prefix() {
    let icc = fake_icc(b"RGB ", 150_000);
    let parts: Vec<&[u8]> = icc.chunks(60_000).collect();
    let tiff = tiff_with_orientation(false, 6);
    let d = jpeg(&[
        icc_piece(3, 3, parts[2]),
        exif_segment(&tiff),
        icc_piece(1, 3, parts[0]),
        segment(0xE1, b"http://ns.adobe.com/xap/1.0/\0<x/>"),
        icc_piece(2, 3, parts[1]),
    ]);
    let m = Metadata::read(&d, Format::Jpeg);
    assert_eq!(m.icc.as_deref(), Some(icc.as_slice()));
    assert_eq!(m.exif.as_deref(), Some(tiff.as_slice()));
}

#[test]
fn jpeg_icc_with_a_piece_missing_repeated_or_miscounted_is_no_profile() {
    let icc = fake_icc(b"RGB ", 300);
    let (a, b) = icc.split_at(150);
    for pieces in [
        vec![icc_piece(1, 2, a)],
        vec![icc_piece(1, 2, a), icc_piece(1, 2, a)],
        vec![icc_piece(1, 2, a), icc_piece(2, 3, b)],
        vec![icc_piece(0, 2, a), icc_piece(1, 2, b)],
        vec![icc_piece(1, 2, a), icc_piece(2, 2, b), icc_piece(3, 2, b)],
        vec![icc_piece(1, 0, a)],
    ] {
        assert_eq!(Metadata::read(&jpeg(&pieces), Format::Jpeg).icc, None);
    }
    // Not a profile: no `acsp` signature.
    let mut bad = icc.clone();
    bad[36] = b'x';
    assert_eq!(
        Metadata::read(&jpeg(&[icc_piece(1, 1, &bad)]), Format::Jpeg).icc,
        None
    );
    let whole = Metadata::read(
        &jpeg(&[icc_piece(2, 2, b), icc_piece(1, 2, a)]),
        Format::Jpeg,
    );
    assert_eq!(whole.icc, Some(icc));
}

#[test]
fn malformed_exif_is_dropped_and_truncated_files_never_panic() {
    let d = jpeg(&[
        exif_segment(b"II*\0\xff\xff\xff\xff"),
        icc_piece(1, 1, &fake_icc(b"RGB ", 140)),
    ]);
    let m = Metadata::read(&d, Format::Jpeg);
    assert_eq!(m.exif, None);
    assert!(m.icc.is_some());
    for cut in 0..d.len() {
        let _ = Metadata::read(&d[..cut], Format::Jpeg);
        let _ = Metadata::read(&d[..cut], Format::Png);
        let _ = Metadata::read(&d[..cut], Format::Webp);
    }
}

fn chunk(kind: &[u8], body: &[u8]) -> Vec<u8> {
    let mut c = (body.len() as u32).to_be_bytes().to_vec();
    c.extend_from_slice(kind);
    c.extend_from_slice(body);
    c.extend_from_slice(&[0; 4]);
    c
}

fn zlib(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn png(chunks: &[Vec<u8>]) -> Vec<u8> {
    let mut d = b"\x89PNG\r\n\x1a\n".to_vec();
    d.extend(chunk(b"IHDR", &[0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0]));
    for c in chunks {
        d.extend_from_slice(c);
    }
    d.extend(chunk(b"IEND", &[]));
    d
}

#[test]
fn png_iccp_is_inflated_and_exif_read_wherever_it_is() {
    let icc = fake_icc(b"GRAY", 5000);
    let tiff = tiff_with_orientation(true, 3);
    let d = png(&[
        chunk(b"iCCP", &[b"a name\0\0".as_slice(), &zlib(&icc)].concat()),
        chunk(b"IDAT", &[1, 2, 3]),
        chunk(b"eXIf", &tiff),
    ]);
    let m = Metadata::read(&d, Format::Png);
    assert_eq!((m.icc, m.exif), (Some(icc.clone()), Some(tiff)));
    // Compression method 1, no name terminator, corrupt zlib: no profile.
    for body in [
        [b"n\0\x01".as_slice(), &zlib(&icc)].concat(),
        vec![b'n'; 100],
        b"n\0\0\x78\x9c\xff\xff".to_vec(),
    ] {
        assert_eq!(
            Metadata::read(&png(&[chunk(b"iCCP", &body)]), Format::Png).icc,
            None
        );
    }
}

#[test]
fn png_iccp_inflation_stops_at_the_cap() {
    // 8 KiB that inflate to 8 MiB, twice the cap.
    let bomb = zlib(&vec![0; 8 << 20]);
    assert!(bomb.len() < 16 << 10);
    let d = png(&[chunk(b"iCCP", &[b"x\0\0".as_slice(), &bomb].concat())]);
    assert_eq!(Metadata::read(&d, Format::Png).icc, None);
    let at_cap = fake_icc(b"RGB ", MAX_ICC);
    let d = png(&[chunk(
        b"iCCP",
        &[b"x\0\0".as_slice(), &zlib(&at_cap)].concat(),
    )]);
    assert_eq!(
        Metadata::read(&d, Format::Png).icc.map(|p| p.len()),
        Some(MAX_ICC)
    );
}

#[test]
fn webp_chunks_are_read_with_or_without_the_exif_prefix() {
    let icc = fake_icc(b"RGB ", 333);
    let tiff = tiff_with_orientation(false, 8);
    for exif in [tiff.clone(), [b"Exif\0\0".as_slice(), &tiff].concat()] {
        let mut d = b"RIFF\0\0\0\0WEBP".to_vec();
        for (kind, body) in [
            (b"VP8X", vec![0x28, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
            (b"ICCP", icc.clone()),
            (b"VP8 ", vec![0; 11]),
            (b"EXIF", exif),
        ] {
            d.extend_from_slice(kind);
            d.extend_from_slice(&(body.len() as u32).to_le_bytes());
            d.extend_from_slice(&body);
            if body.len() % 2 == 1 {
                d.push(0);
            }
        }
        let m = Metadata::read(&d, Format::Webp);
        assert_eq!((m.icc, m.exif), (Some(icc.clone()), Some(tiff.clone())));
    }
}

#[test]
fn split_keeps_nothing_by_default_and_resets_orientation_when_turned() {
    let read = Metadata {
        icc: Some(fake_icc(b"RGB ", 200)),
        exif: Some(tiff_with_orientation(true, 6)),
    };
    let (kept, convert) = read.clone().split(false, true);
    assert!(kept.is_empty());
    assert_eq!(convert, read.icc);
    let (kept, convert) = read.clone().split(true, true);
    assert_eq!((kept.icc.as_ref(), convert), (read.icc.as_ref(), None));
    assert_eq!(kept.exif, Some(tiff_with_orientation(true, 1)));
    // An explicit angle ignores EXIF: its orientation stays.
    let (kept, _) = read.clone().split(true, false);
    assert_eq!(kept.exif, read.exif);
    // A grey or CMYK profile cannot describe RGB output: converted from, not kept.
    for space in [b"GRAY", b"CMYK"] {
        let m = Metadata {
            icc: Some(fake_icc(space, 200)),
            exif: None,
        };
        let (kept, convert) = m.clone().split(true, true);
        assert_eq!((kept.icc, convert), (None, m.icc));
    }
}
