//! EXIF fields images need: the orientation tag (0x0112) of IFD0, read before decoding, and
//! reset to 1 in place when a kept EXIF block leaves with pixels already turned upright.
//!
//! EXIF is a TIFF structure: a byte-order mark (`II` or `MM`), the magic 42, the offset of
//! IFD0, then 12-byte entries. Anything malformed reads as "no orientation" (1), as browsers
//! and sharp treat it: a broken EXIF block never makes an image unreadable. Every offset is
//! bounds-checked; nothing here panics or allocates on hostile input.

/// A TIFF block's byte order and the entries of its IFD0.
struct Tiff<'a> {
    t: &'a [u8],
    le: bool,
}

impl<'a> Tiff<'a> {
    /// `t` if its header is TIFF's (IFD0 is checked as it is read).
    fn parse(t: &'a [u8]) -> Option<Tiff<'a>> {
        let le = match t.get(0..2)? {
            b"II" => true,
            b"MM" => false,
            _ => return None,
        };
        let tiff = Tiff { t, le };
        (tiff.u16_at(2)? == 42).then_some(tiff)
    }

    fn u16_at(&self, at: usize) -> Option<u16> {
        let b = self.t.get(at..at.checked_add(2)?)?;
        Some(if self.le {
            u16::from_le_bytes([b[0], b[1]])
        } else {
            u16::from_be_bytes([b[0], b[1]])
        })
    }

    fn u32_at(&self, at: usize) -> Option<u32> {
        let b = self.t.get(at..at.checked_add(4)?)?;
        let a = [b[0], b[1], b[2], b[3]];
        Some(if self.le {
            u32::from_le_bytes(a)
        } else {
            u32::from_be_bytes(a)
        })
    }

    /// IFD0's offset and entry count.
    fn ifd0(&self) -> Option<(usize, usize)> {
        let ifd = self.u32_at(4)? as usize;
        Some((ifd, usize::from(self.u16_at(ifd)?)))
    }

    /// Whether IFD0's whole entry table lies inside the block.
    fn ifd0_fits(&self) -> bool {
        self.ifd0()
            .and_then(|(ifd, count)| self.t.get(ifd..ifd.checked_add(2 + count * 12)?))
            .is_some()
    }

    /// Where IFD0's orientation entry starts.
    fn orientation_entry(&self) -> Option<usize> {
        let (ifd, count) = self.ifd0()?;
        for i in 0..count {
            let entry = ifd.checked_add(2 + i * 12)?;
            if self.u16_at(entry)? == 0x0112 {
                return Some(entry);
            }
        }
        None
    }

    /// Whether the entry at `entry` has type SHORT (3): its (first) value then sits in the
    /// entry's first two value bytes.
    fn is_short(&self, entry: usize) -> bool {
        self.u16_at(entry + 2) == Some(3)
    }
}

/// Orientation 1–8 from a TIFF/EXIF block (without the `Exif\0\0` prefix); 1 if absent or
/// malformed.
pub(crate) fn orientation(tiff: &[u8]) -> u8 {
    read(tiff).filter(|o| (1..=8).contains(o)).unwrap_or(1)
}

fn read(t: &[u8]) -> Option<u8> {
    let tiff = Tiff::parse(t)?;
    let entry = tiff.orientation_entry()?;
    let v = tiff.is_short(entry).then(|| tiff.u16_at(entry + 8))??;
    Some(v.min(255) as u8)
}

/// Whether `tiff` is a TIFF block whose IFD0 can be read: what an EXIF block must be to be kept.
pub(crate) fn is_valid(tiff: &[u8]) -> bool {
    Tiff::parse(tiff).is_some_and(|t| t.ifd0_fits())
}

/// Sets the orientation tag, if there is one, to 1 (upright), in place and in the block's byte
/// order. `false` if the block is not [valid](is_valid) or its orientation entry is not one
/// SHORT (then the block is unchanged, and is better dropped than kept with a wrong turn).
pub(crate) fn set_upright(tiff: &mut [u8]) -> bool {
    let Some(parsed) = Tiff::parse(tiff).filter(|t| t.ifd0_fits()) else {
        return false;
    };
    let (entry, le) = (parsed.orientation_entry(), parsed.le);
    if let Some(entry) = entry {
        if !parsed.is_short(entry) || parsed.u32_at(entry + 4) != Some(1) {
            return false;
        }
        let at = entry + 8;
        tiff[at..at + 2].copy_from_slice(&if le {
            1u16.to_le_bytes()
        } else {
            1u16.to_be_bytes()
        });
    }
    true
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

    #[test]
    fn set_upright_patches_only_the_orientation_value_in_either_byte_order() {
        for le in [true, false] {
            let before = tiff_with_orientation(le, 6);
            let mut t = before.clone();
            assert!(set_upright(&mut t));
            assert_eq!(orientation(&t), 1);
            let changed: Vec<usize> = (0..t.len()).filter(|&i| t[i] != before[i]).collect();
            // The value's low byte: offset 8 + 2 + 8 (LE) or + 9 (BE).
            assert_eq!(changed, vec![if le { 18 } else { 19 }]);
        }
    }

    #[test]
    fn set_upright_refuses_what_it_cannot_patch_and_leaves_it_alone() {
        // Cut inside IFD0's table: not valid, not patched.
        let t = tiff_with_orientation(true, 6);
        for cut in 0..t.len() - 4 {
            let mut c = t[..cut].to_vec();
            assert!(!set_upright(&mut c), "cut at {cut}");
            assert_eq!(c, t[..cut]);
            assert!(!is_valid(&c));
        }
        // Orientation stored as a LONG, or with a count of 2: refused.
        let mut long = tiff_with_orientation(false, 6);
        long[13] = 4;
        assert!(!set_upright(&mut long.clone()));
        long[13] = 3;
        long[17] = 2;
        assert!(!set_upright(&mut long));
        // No orientation tag at all: valid, nothing to change.
        let mut other = tiff_with_orientation(true, 6);
        other[10] = 0x10; // tag 0x0110 (Model)
        let copy = other.clone();
        assert!(set_upright(&mut other));
        assert_eq!(other, copy);
    }
}
