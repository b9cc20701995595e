//! The one EXIF field images need before decoding: the orientation tag (0x0112) of IFD0.
//!
//! EXIF is a TIFF structure: a byte-order mark (`II` or `MM`), the magic 42, the offset of
//! IFD0, then 12-byte entries. Anything malformed reads as "no orientation" (1), as browsers
//! and sharp treat it: a broken EXIF block never makes an image unreadable.

/// Orientation 1–8 from a TIFF/EXIF block (without the `Exif\0\0` prefix); 1 if absent or
/// malformed.
pub(crate) fn orientation(tiff: &[u8]) -> u8 {
    read(tiff).filter(|o| (1..=8).contains(o)).unwrap_or(1)
}

fn read(t: &[u8]) -> Option<u8> {
    let le = match t.get(0..2)? {
        b"II" => true,
        b"MM" => false,
        _ => return None,
    };
    let u16_at = |at: usize| -> Option<u16> {
        let b = t.get(at..at.checked_add(2)?)?;
        Some(if le {
            u16::from_le_bytes([b[0], b[1]])
        } else {
            u16::from_be_bytes([b[0], b[1]])
        })
    };
    let u32_at = |at: usize| -> Option<u32> {
        let b = t.get(at..at.checked_add(4)?)?;
        let a = [b[0], b[1], b[2], b[3]];
        Some(if le {
            u32::from_le_bytes(a)
        } else {
            u32::from_be_bytes(a)
        })
    };
    if u16_at(2)? != 42 {
        return None;
    }
    let ifd = u32_at(4)? as usize;
    let count = u16_at(ifd)? as usize;
    for i in 0..count {
        let entry = ifd.checked_add(2 + i * 12)?;
        if u16_at(entry)? == 0x0112 {
            // Type SHORT (3), count 1: the value sits in the entry's first two value bytes.
            return (u16_at(entry + 2)? == 3)
                .then(|| u16_at(entry + 8))
                .flatten()
                .map(|v| v.min(255) as u8);
        }
    }
    None
}

/// A minimal TIFF block whose IFD0 holds only the orientation tag.
#[cfg(test)]
pub(crate) fn tiff_with_orientation(le: bool, value: u16) -> Vec<u8> {
    let u16b = |v: u16| if le { v.to_le_bytes() } else { v.to_be_bytes() };
    let u32b = |v: u32| if le { v.to_le_bytes() } else { v.to_be_bytes() };
    let mut t = Vec::new();
    t.extend_from_slice(if le { b"II" } else { b"MM" });
    t.extend_from_slice(&u16b(42));
    t.extend_from_slice(&u32b(8));
    t.extend_from_slice(&u16b(1));
    t.extend_from_slice(&u16b(0x0112));
    t.extend_from_slice(&u16b(3));
    t.extend_from_slice(&u32b(1));
    t.extend_from_slice(&u16b(value));
    t.extend_from_slice(&[0, 0]);
    t.extend_from_slice(&u32b(0));
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_orientation_in_either_byte_order() {
        for v in 1..=8 {
            assert_eq!(orientation(&tiff_with_orientation(true, v)), v as u8);
            assert_eq!(orientation(&tiff_with_orientation(false, v)), v as u8);
        }
    }

    #[test]
    fn malformed_or_out_of_range_reads_as_1() {
        assert_eq!(orientation(&tiff_with_orientation(true, 9)), 1);
        assert_eq!(orientation(&tiff_with_orientation(true, 0)), 1);
        let t = tiff_with_orientation(false, 6);
        for cut in 0..t.len() {
            assert!((1..=8).contains(&orientation(&t[..cut])), "cut at {cut}");
        }
        assert_eq!(orientation(b"XX\0*\0\0\0\x08"), 1);
        // An IFD offset pointing far outside the block.
        assert_eq!(orientation(b"II*\0\xff\xff\xff\xff"), 1);
    }
}
