use super::*;

fn s15(v: f64) -> [u8; 4] {
    ((v * 65536.0).round() as i32).to_be_bytes()
}

fn xyz(x: f64, y: f64, z: f64) -> Vec<u8> {
    [b"XYZ \0\0\0\0".as_slice(), &s15(x), &s15(y), &s15(z)].concat()
}

/// A `curv` of one gamma value (u8Fixed8).
fn gamma(g: f64) -> Vec<u8> {
    let mut c = b"curv\0\0\0\0\0\0\0\x01".to_vec();
    c.extend_from_slice(&((g * 256.0).round() as u16).to_be_bytes());
    c
}

/// sRGB's own curve, as a `para` of function type 3.
fn srgb_curve() -> Vec<u8> {
    let mut c = b"para\0\0\0\0\0\x03\0\0".to_vec();
    for v in [2.4, 1.0 / 1.055, 0.055 / 1.055, 1.0 / 12.92, 0.04045] {
        c.extend_from_slice(&s15(v));
    }
    c
}

/// A version 2 display profile for `space` with `tags`, plus a description and D50 white.
pub(super) fn profile(space: &[u8; 4], tags: Vec<(&[u8; 4], Vec<u8>)>) -> Vec<u8> {
    let mut desc = b"desc\0\0\0\0\0\0\0\x05test\0".to_vec();
    desc.resize(desc.len() + 8 + 3 + 67, 0);
    let mut all = vec![(b"desc", desc), (b"wtpt", xyz(0.9642, 1.0, 0.8249))];
    all.extend(tags);
    let mut offset = 128 + 4 + 12 * all.len();
    let (mut table, mut bodies) = ((all.len() as u32).to_be_bytes().to_vec(), Vec::new());
    for (sig, body) in &all {
        while offset % 4 != 0 {
            bodies.push(0);
            offset += 1;
        }
        table.extend_from_slice(*sig);
        table.extend_from_slice(&(offset as u32).to_be_bytes());
        table.extend_from_slice(&(body.len() as u32).to_be_bytes());
        bodies.extend_from_slice(body);
        offset += body.len();
    }
    let mut h = vec![0u8; 128];
    h[0..4].copy_from_slice(&(offset as u32).to_be_bytes());
    h[8..12].copy_from_slice(&0x0210_0000u32.to_be_bytes());
    h[12..16].copy_from_slice(b"mntr");
    h[16..20].copy_from_slice(space);
    h[20..24].copy_from_slice(b"XYZ ");
    h[36..40].copy_from_slice(b"acsp");
    h[68..80].copy_from_slice(&[s15(0.9642), s15(1.0), s15(0.8249)].concat());
    [h, table, bodies].concat()
}

/// sRGB's primaries (adapted to D50) with `curve` on each channel.
pub(super) fn rgb_profile(curve: Vec<u8>) -> Vec<u8> {
    profile(
        b"RGB ",
        vec![
            (b"rXYZ", xyz(0.4361, 0.2225, 0.0139)),
            (b"gXYZ", xyz(0.3851, 0.7169, 0.0971)),
            (b"bXYZ", xyz(0.1431, 0.0606, 0.7141)),
            (b"rTRC", curve.clone()),
            (b"gTRC", curve.clone()),
            (b"bTRC", curve),
        ],
    )
}

fn pixels(data: Vec<u8>, channels: usize) -> Pixels {
    let width = (data.len() / channels) as u32;
    Pixels {
        data,
        width,
        height: 1,
        channels,
    }
}

/// sRGB's encoding of a linear level, the independent oracle: IEC 61966-2-1's formula.
fn encoded(linear: u8) -> u8 {
    let v = f64::from(linear) / 255.0;
    let e = if v <= 0.003_130_8 {
        12.92 * v
    } else {
        1.055 * v.powf(1.0 / 2.4) - 0.055
    };
    (e * 255.0).round() as u8
}

fn close(got: &[u8], want: &[u8]) {
    assert_eq!(got.len(), want.len());
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(g.abs_diff(*w) <= 1, "sample {i}: {g}, expected {w}");
    }
}

#[test]
fn linear_rgb_is_encoded_as_srgb_and_alpha_is_kept() {
    let linear = rgb_profile(gamma(1.0));
    let levels = [0u8, 10, 64, 128, 200, 255];
    let mut px = pixels(levels.iter().flat_map(|&v| [v, v, v]).collect(), 3);
    to_srgb(&mut px, &linear);
    close(
        &px.data,
        &levels
            .iter()
            .flat_map(|&v| [encoded(v); 3])
            .collect::<Vec<_>>(),
    );
    let mut px = pixels(levels.iter().flat_map(|&v| [v, 0, v, v]).collect(), 4);
    to_srgb(&mut px, &linear);
    let want: Vec<u8> = levels
        .iter()
        .flat_map(|&v| [encoded(v), 0, encoded(v), v])
        .collect();
    close(&px.data, &want);
    assert!(
        px.data.chunks(4).zip(levels).all(|(p, v)| p[3] == v),
        "alpha untouched"
    );
}

#[test]
fn an_srgb_profile_leaves_the_pixels_exactly_as_they_are() {
    let data: Vec<u8> = (0..=255).flat_map(|v: u8| [v, 255 - v, v / 2]).collect();
    let mut px = pixels(data.clone(), 3);
    to_srgb(&mut px, &rgb_profile(srgb_curve()));
    assert_eq!(px.data, data);
    // The same primaries with gamma 2.2 move colours: converted.
    to_srgb(&mut px, &rgb_profile(gamma(2.2)));
    assert_ne!(px.data, data);
}

#[test]
fn a_grey_profile_converts_grey_pixels_only() {
    let grey = profile(b"GRAY", vec![(b"kTRC", gamma(1.0))]);
    let mut px = pixels(vec![128, 128, 128, 77, 64, 64, 64, 255], 4);
    to_srgb(&mut px, &grey);
    let (a, b) = (encoded(128), encoded(64));
    close(&px.data, &[a, a, a, 77, b, b, b, 255]);
    assert_eq!((px.data[3], px.data[7]), (77, 255));
    let colour = vec![128, 0, 0, 64, 64, 64];
    let mut px = pixels(colour.clone(), 3);
    to_srgb(&mut px, &grey);
    assert_eq!(px.data, colour);
}

#[test]
fn cmyk_broken_and_hostile_profiles_leave_the_pixels_alone() {
    let data: Vec<u8> = (0..=255).flat_map(|v: u8| [v, v / 3, 255 - v]).collect();
    let cmyk = profile(b"CMYK", vec![(b"kTRC", gamma(1.0))]);
    let linear = rgb_profile(gamma(1.0));
    let mut cases: Vec<Vec<u8>> = vec![cmyk, Vec::new(), vec![0; 200]];
    cases.extend(
        (0..linear.len())
            .step_by(7)
            .map(|cut| linear[..cut].to_vec()),
    );
    // Bytes of a real profile overwritten: tag offsets and sizes pointing anywhere.
    for i in (0..linear.len()).step_by(3) {
        let mut m = linear.clone();
        m[i] ^= 0xA5;
        cases.push(m);
    }
    for (n, icc) in cases.iter().enumerate() {
        let mut px = pixels(data.clone(), 3);
        to_srgb(&mut px, icc);
        if n < 3 + linear.len().div_ceil(7) {
            assert_eq!(px.data, data, "case {n}");
        }
    }
}

#[test]
fn untagged_cmyk_converts_naively_and_a_bad_profile_falls_back_to_it() {
    // Ink 0 is paper, full black is black, full cyan leaves no red.
    let ink = [0, 0, 0, 0, 0, 0, 0, 255, 255, 0, 0, 0, 0, 0, 0, 128];
    let want = [255, 255, 255, 0, 0, 0, 0, 255, 255, 127, 127, 127];
    assert_eq!(cmyk_to_srgb(&ink, None), want);
    assert_eq!(cmyk_to_srgb(&ink, Some(&[1, 2, 3])), want);
    let rgb_profile = rgb_profile(gamma(1.0));
    assert_eq!(cmyk_to_srgb(&ink, Some(&rgb_profile)), want);
}
