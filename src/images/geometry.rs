//! Where the pixels go: the output size of a resize for each `fit`, the crop of `cover` and the
//! placement of `contain`, as sharp computes them (the tests compare with sharp's sizes).
//!
//! All arithmetic is on `u64`/`f64` from `u32` inputs, so no size overflows; every size that
//! comes out is at least 1 × 1.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fit {
    /// Both sides at least the target, then cropped to it (sharp's default).
    Cover,
    /// Both sides at most the target, then placed on a canvas of the target size.
    Contain,
    /// Exactly the target, aspect ratio ignored.
    Fill,
    /// Both sides at most the target, aspect ratio kept.
    Inside,
    /// Both sides at least the target, aspect ratio kept.
    Outside,
}

/// Where a `cover` crop or a `contain` placement sits: fractions 0 (left/top), 0.5 (centre)
/// or 1 (right/bottom) of the slack on each axis.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Position {
    pub x: f64,
    pub y: f64,
}

impl Position {
    pub const CENTRE: Position = Position { x: 0.5, y: 0.5 };
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ResizeSpec {
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub fit: Fit,
    pub position: Position,
    pub without_enlargement: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rect {
    pub left: u32,
    pub top: u32,
    pub width: u32,
    pub height: u32,
}

/// What a resize does to an image of `w` × `h`: scale to `scaled`, then cut `crop` out of the
/// scaled image (cover) or place it at `place` on a canvas of `canvas` (contain).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Plan {
    pub scaled: (u32, u32),
    pub crop: Option<Rect>,
    pub canvas: Option<((u32, u32), (u32, u32))>,
}

fn round(v: f64) -> u32 {
    v.round().clamp(1.0, f64::from(u32::MAX)) as u32
}

/// The plan for `spec` on a `w` × `h` image (already oriented).
pub fn plan(w: u32, h: u32, spec: &ResizeSpec) -> Plan {
    let (wf, hf) = (f64::from(w), f64::from(h));
    // A missing side follows the aspect ratio, or, for `fill`, stays as it is (as sharp).
    let keep = spec.fit == Fit::Fill;
    let (tw, th) = match (spec.width, spec.height) {
        (None, None) => (w, h),
        (Some(tw), None) if keep => (tw, h),
        (None, Some(th)) if keep => (w, th),
        (Some(tw), None) => (tw, round(hf * f64::from(tw) / wf)),
        (None, Some(th)) => (round(wf * f64::from(th) / hf), th),
        (Some(tw), Some(th)) => (tw, th),
    };
    let one_side = spec.width.is_none() || spec.height.is_none();
    let fit = if one_side { Fit::Fill } else { spec.fit };
    let (sx, sy) = (f64::from(tw) / wf, f64::from(th) / hf);
    let (mut scaled, mut out) = match fit {
        Fit::Fill => ((tw, th), (tw, th)),
        Fit::Inside => {
            let s = sx.min(sy);
            let d = (round(wf * s), round(hf * s));
            (d, d)
        }
        Fit::Outside => {
            let s = sx.max(sy);
            let d = (round(wf * s), round(hf * s));
            (d, d)
        }
        Fit::Cover => ((round(wf * sx.max(sy)), round(hf * sx.max(sy))), (tw, th)),
        Fit::Contain => ((round(wf * sx.min(sy)), round(hf * sx.min(sy))), (tw, th)),
    };
    if spec.without_enlargement && (scaled.0 > w || scaled.1 > h) {
        // Never larger than the source: keep its size. Cover crops no larger than the source;
        // contain still places it on a canvas of the target size (as sharp does).
        scaled = (w, h);
        out = match fit {
            Fit::Cover => (out.0.min(w), out.1.min(h)),
            Fit::Contain => out,
            Fit::Fill | Fit::Inside | Fit::Outside => (w, h),
        };
    }
    let slack = |big: u32, small: u32, at: f64| (f64::from(big - small) * at).round() as u32;
    match fit {
        Fit::Cover if scaled != out => {
            let (cw, ch) = (out.0.min(scaled.0), out.1.min(scaled.1));
            Plan {
                scaled,
                crop: Some(Rect {
                    left: slack(scaled.0, cw, spec.position.x),
                    top: slack(scaled.1, ch, spec.position.y),
                    width: cw,
                    height: ch,
                }),
                canvas: None,
            }
        }
        Fit::Contain if scaled != out => {
            let canvas = (out.0.max(scaled.0), out.1.max(scaled.1));
            let at = (
                slack(canvas.0, scaled.0, spec.position.x),
                slack(canvas.1, scaled.1, spec.position.y),
            );
            Plan {
                scaled,
                crop: None,
                canvas: Some((canvas, at)),
            }
        }
        _ => Plan {
            scaled,
            crop: None,
            canvas: None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(width: Option<u32>, height: Option<u32>, fit: Fit) -> ResizeSpec {
        ResizeSpec {
            width,
            height,
            fit,
            position: Position::CENTRE,
            without_enlargement: false,
        }
    }

    #[test]
    fn sharps_benchmark_task_and_one_sided_targets() {
        let p = plan(2725, 2225, &spec(Some(720), Some(588), Fit::Cover));
        assert_eq!(p.scaled, (720, 588));
        let p = plan(2725, 2225, &spec(Some(320), None, Fit::Cover));
        assert_eq!((p.scaled, p.crop), ((320, 261), None));
        let p = plan(2725, 2225, &spec(None, Some(100), Fit::Cover));
        assert_eq!(p.scaled, (122, 100));
    }

    #[test]
    fn each_fit_on_a_landscape_image() {
        let (w, h) = (400, 200);
        let cover = plan(w, h, &spec(Some(100), Some(100), Fit::Cover));
        assert_eq!(cover.scaled, (200, 100));
        assert_eq!(
            cover.crop,
            Some(Rect {
                left: 50,
                top: 0,
                width: 100,
                height: 100
            })
        );
        let contain = plan(w, h, &spec(Some(100), Some(100), Fit::Contain));
        assert_eq!(
            (contain.scaled, contain.canvas),
            ((100, 50), Some(((100, 100), (0, 25))))
        );
        assert_eq!(
            plan(w, h, &spec(Some(100), Some(100), Fit::Fill)).scaled,
            (100, 100)
        );
        assert_eq!(
            plan(w, h, &spec(Some(100), Some(100), Fit::Inside)).scaled,
            (100, 50)
        );
        assert_eq!(
            plan(w, h, &spec(Some(100), Some(100), Fit::Outside)).scaled,
            (200, 100)
        );
    }

    #[test]
    fn without_enlargement_keeps_small_images_small() {
        let mut s = spec(Some(1000), Some(1000), Fit::Inside);
        s.without_enlargement = true;
        assert_eq!(plan(400, 200, &s).scaled, (400, 200));
        s.fit = Fit::Cover;
        let p = plan(400, 200, &s);
        assert_eq!((p.scaled, p.crop), ((400, 200), None));
        // Sizes sharp gives for the same calls.
        s.fit = Fit::Contain;
        assert_eq!(plan(400, 200, &s).canvas, Some(((1000, 1000), (300, 400))));
        s.fit = Fit::Cover;
        s.height = Some(100);
        let c = plan(400, 200, &s).crop.unwrap();
        assert_eq!((c.width, c.height), (400, 100));
    }

    #[test]
    fn position_moves_the_crop() {
        let mut s = spec(Some(100), Some(100), Fit::Cover);
        s.position = Position { x: 0.0, y: 0.0 };
        assert_eq!(plan(400, 200, &s).crop.unwrap().left, 0);
        s.position = Position { x: 1.0, y: 1.0 };
        assert_eq!(plan(400, 200, &s).crop.unwrap().left, 100);
    }

    #[test]
    fn extreme_sizes_stay_at_least_one_pixel() {
        let p = plan(100_000, 1, &spec(Some(10), None, Fit::Cover));
        assert_eq!(p.scaled, (10, 1));
        let p = plan(1, 100_000, &spec(Some(1), Some(1), Fit::Inside));
        assert_eq!(p.scaled, (1, 1));
        let p = plan(
            u32::MAX,
            u32::MAX,
            &spec(Some(u32::MAX), Some(1), Fit::Outside),
        );
        assert!(p.scaled.0 >= 1 && p.scaled.1 >= 1);
    }
}
