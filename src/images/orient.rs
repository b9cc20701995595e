//! Turning and mirroring pixels: EXIF orientation, `rotate`, `flip` and `flop` compose into one
//! of the eight symmetries of a rectangle, applied in a single pass over the (already resized,
//! so small) image.

/// One of the eight symmetries: `turns` quarter turns clockwise, after a horizontal mirror
/// (`mirror`) of the source.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Orientation {
    pub mirror: bool,
    pub turns: u8,
}

impl Orientation {
    pub const IDENTITY: Orientation = Orientation {
        mirror: false,
        turns: 0,
    };

    /// What displays an image stored with EXIF orientation `o` (1–8) upright.
    pub fn from_exif(o: u8) -> Orientation {
        let (mirror, turns) = match o {
            2 => (true, 0),
            3 => (false, 2),
            4 => (true, 2),
            5 => (true, 3),
            6 => (false, 1),
            7 => (true, 1),
            8 => (false, 3),
            _ => (false, 0),
        };
        Orientation { mirror, turns }
    }

    /// This, then `quarter_turns` more clockwise.
    pub fn rotate(self, quarter_turns: u8) -> Orientation {
        Orientation {
            mirror: self.mirror,
            turns: (self.turns + quarter_turns) % 4,
        }
    }

    /// This, then a mirror left to right (sharp's `flop`).
    pub fn flop(self) -> Orientation {
        // Mirroring after t turns equals mirroring first, then turning the other way.
        Orientation {
            mirror: !self.mirror,
            turns: (4 - self.turns) % 4,
        }
    }

    /// This, then a mirror top to bottom (sharp's `flip`): a flop and a half turn.
    pub fn flip(self) -> Orientation {
        self.flop().rotate(2)
    }

    /// Whether width and height trade places.
    pub fn swaps(self) -> bool {
        self.turns % 2 == 1
    }

    /// The size of a `w` × `h` image after this.
    pub fn size(self, w: u32, h: u32) -> (u32, u32) {
        if self.swaps() { (h, w) } else { (w, h) }
    }

    /// Applies this to `src`, `w` × `h` pixels of `channels` bytes each, row by row.
    pub fn apply(self, src: &[u8], w: u32, h: u32, channels: usize) -> Vec<u8> {
        let (w, h) = (w as usize, h as usize);
        debug_assert_eq!(src.len(), w * h * channels);
        if self == Self::IDENTITY {
            return src.to_vec();
        }
        let (ow, oh) = if self.swaps() { (h, w) } else { (w, h) };
        let mut out = vec![0u8; src.len()];
        for y in 0..oh {
            for x in 0..ow {
                // Undo the turns, then the mirror, to find the source pixel.
                let (mut sx, sy) = match self.turns {
                    0 => (x, y),
                    1 => (y, h - 1 - x),
                    2 => (w - 1 - x, h - 1 - y),
                    _ => (w - 1 - y, x),
                };
                if self.mirror {
                    sx = w - 1 - sx;
                }
                let d = (y * ow + x) * channels;
                let s = (sy * w + sx) * channels;
                out[d..d + channels].copy_from_slice(&src[s..s + channels]);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // A 3 × 2 image whose pixels are their own indices:
    //   0 1 2
    //   3 4 5
    const SRC: [u8; 6] = [0, 1, 2, 3, 4, 5];

    fn upright(o: u8) -> Vec<u8> {
        let or = Orientation::from_exif(o);
        or.apply(&SRC, 3, 2, 1)
    }

    #[test]
    fn each_exif_orientation_turns_the_stored_image_upright() {
        // Each stored image is what a camera writes for the scene 0 1 2 / 3 4 5 under that tag.
        assert_eq!(upright(1), SRC);
        assert_eq!(upright(2), [2, 1, 0, 5, 4, 3]);
        assert_eq!(upright(3), [5, 4, 3, 2, 1, 0]);
        assert_eq!(upright(4), [3, 4, 5, 0, 1, 2]);
        assert_eq!(upright(5), [0, 3, 1, 4, 2, 5]);
        assert_eq!(upright(6), [3, 0, 4, 1, 5, 2]);
        assert_eq!(upright(7), [5, 2, 4, 1, 3, 0]);
        assert_eq!(upright(8), [2, 5, 1, 4, 0, 3]);
    }

    #[test]
    fn rotate_flip_and_flop_compose() {
        let id = Orientation::IDENTITY;
        assert_eq!(id.rotate(1).apply(&SRC, 3, 2, 1), [3, 0, 4, 1, 5, 2]);
        assert_eq!(id.flop().apply(&SRC, 3, 2, 1), [2, 1, 0, 5, 4, 3]);
        assert_eq!(id.flip().apply(&SRC, 3, 2, 1), [3, 4, 5, 0, 1, 2]);
        // A quarter turn then a flop: each step applied to the previous result.
        let turned = id.rotate(1).apply(&SRC, 3, 2, 1);
        let then = Orientation::IDENTITY.flop().apply(&turned, 2, 3, 1);
        assert_eq!(id.rotate(1).flop().apply(&SRC, 3, 2, 1), then);
        let flipped = Orientation::IDENTITY.flip().apply(&turned, 2, 3, 1);
        assert_eq!(id.rotate(1).flip().apply(&SRC, 3, 2, 1), flipped);
        // Every symmetry undone by its inverse sequence.
        for o in 1..=8 {
            let or = Orientation::from_exif(o);
            let (w, h) = or.size(3, 2);
            let back = Orientation {
                mirror: or.mirror,
                turns: 0,
            }
            .apply(
                &Orientation {
                    mirror: false,
                    turns: (4 - or.turns) % 4,
                }
                .apply(&or.apply(&SRC, 3, 2, 1), w, h, 1),
                3,
                2,
                1,
            );
            assert_eq!(back, SRC, "orientation {o}");
        }
    }

    #[test]
    fn multi_byte_pixels_move_whole() {
        let rgba: Vec<u8> = (0..24).collect();
        let out = Orientation::from_exif(3).apply(&rgba, 3, 2, 4);
        assert_eq!(&out[0..4], &[20, 21, 22, 23]);
        assert_eq!(&out[20..24], &[0, 1, 2, 3]);
    }
}
