//! Known answers computed independently (pyca/cryptography), round trips at the segment edges
//! and in random pieces, and every way of breaking a sealed stream: each must fail, with
//! `AuthFailed` where the header is a valid one.

use sha2::{Digest as _, Sha256};

use super::*;
use crate::kernels::test_util::{ALWAYS, NEVER, random_bytes};

const SEG: usize = 1 << DEFAULT_SEGMENT_LOG2;

fn key_for(alg: Algorithm) -> Vec<u8> {
    (0..alg.key_len() as u8).collect()
}

/// Cuts `data` into pieces of pseudo-random lengths up to `max` (empty ones included).
fn pieces(data: &[u8], max: usize, seed: u64) -> Vec<&[u8]> {
    let mut state = seed | 1;
    let mut out = Vec::new();
    let mut rest = data;
    while !rest.is_empty() {
        // xorshift64
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let len = (state as usize % (max + 1)).min(rest.len());
        let (piece, tail) = rest.split_at(len);
        out.push(piece);
        rest = tail;
    }
    out
}

/// Seals `plaintext` pushed in `parts`, the last push saying `last`; returns header and body.
fn seal_parts(alg: Algorithm, key: &[u8], log2: u8, parts: &[&[u8]]) -> Vec<u8> {
    let (mut sealer, header) = Sealer::with_segment_log2(alg, key, log2).unwrap();
    let mut out = header.to_vec();
    for part in parts {
        out.extend(sealer.push(part, false, NEVER).unwrap());
    }
    out.extend(sealer.push(&[], true, NEVER).unwrap());
    out
}

fn seal_all(alg: Algorithm, key: &[u8], log2: u8, plaintext: &[u8]) -> Vec<u8> {
    let (mut sealer, header) = Sealer::with_segment_log2(alg, key, log2).unwrap();
    let mut out = header.to_vec();
    out.extend(sealer.push(plaintext, true, NEVER).unwrap());
    out
}

/// Opens `sealed` fed in `parts`; the plaintext, or the first error.
fn open_parts(
    expected: Option<Algorithm>,
    key: &[u8],
    parts: &[&[u8]],
) -> Result<Vec<u8>, KernelError> {
    let mut opener = Opener::new(expected, key)?;
    let mut out = Vec::new();
    for part in parts {
        out.extend(opener.push(part, NEVER)?);
    }
    out.extend(opener.finish(NEVER)?);
    Ok(out)
}

fn open_all(key: &[u8], sealed: &[u8]) -> Result<Vec<u8>, KernelError> {
    open_parts(None, key, &[sealed])
}

fn is_auth_failed(r: Result<Vec<u8>, KernelError>) -> bool {
    matches!(r, Err(KernelError::AuthFailed))
}

#[test]
fn matches_known_answers_computed_with_pyca_cryptography() {
    // From known_answers.py beside this file (pyca/cryptography 48: HKDF-SHA-256, AESGCM,
    // ChaCha20Poly1305), written from the spec in docs/encryption.md and not from this code:
    // key = 00 01 02 .. (key length), salt = 40 41 .. 5f, segments of 2^10 bytes, plaintext
    // byte i = i % 251. Empty plaintext: the whole stream; 2,500 bytes (three segments): its
    // length, SHA-256 and final tag.
    let salt: [u8; SALT_LEN] = core::array::from_fn(|i| 0x40 + i as u8);
    let plaintext: Vec<u8> = (0..2500).map(|i| (i % 251) as u8).collect();
    let cases = [
        (
            Algorithm::Aes256Gcm,
            "b262bf4747eff160178d69799befad1f",
            "b8272d0b037e24b708ef68bd252c23295fb75c8de9c04fe3c11bb3d97b12ec3a",
        ),
        (
            Algorithm::Aes128Gcm,
            "247a29897a60088672d8c64fcd971750",
            "47bcfccac88dd1cc33431a2ddb00d1459fc315ac7f9a6d189677e202ba8cb917",
        ),
        (
            Algorithm::ChaCha20Poly1305,
            "acd44122b3823b324b27d72f59f41f4e",
            "3cb5f87d09b1ea794f0217736ad28098399d9062590c6b8ec08d7a9e94661e42",
        ),
    ];
    for (alg, empty_tag, digest) in cases {
        let key = key_for(alg);
        let (mut sealer, header) = Sealer::with_salt(alg, &key, 10, &salt).unwrap();
        let mut empty = header.to_vec();
        empty.extend(sealer.push(&[], true, NEVER).unwrap());
        let expected = format!(
            "4f464c445354524d01{:02x}0a{}{empty_tag}",
            algorithm_id(alg),
            hex::encode(salt)
        );
        assert_eq!(hex::encode(&empty), expected, "{alg:?} empty");

        let (mut sealer, header) = Sealer::with_salt(alg, &key, 10, &salt).unwrap();
        let mut sealed = header.to_vec();
        sealed.extend(sealer.push(&plaintext, true, NEVER).unwrap());
        assert_eq!(sealed.len(), 2591, "{alg:?}");
        assert_eq!(hex::encode(Sha256::digest(&sealed)), digest, "{alg:?}");
        assert_eq!(open_parts(Some(alg), &key, &[&sealed]).unwrap(), plaintext);
    }
}

#[test]
fn round_trips_at_the_segment_edges() {
    for alg in Algorithm::ALL {
        let key = random_bytes(alg.key_len(), 3);
        for len in [0, 1, SEG - 1, SEG, SEG + 1, 2 * SEG, 2 * SEG + 1] {
            let plaintext = random_bytes(len, len as u64);
            let sealed = seal_all(alg, &key, DEFAULT_SEGMENT_LOG2, &plaintext);
            // One tag per segment, and a segment only for an empty plaintext's final.
            let segments = len.div_ceil(SEG).max(1);
            assert_eq!(
                sealed.len(),
                HEADER_LEN + len + segments * TAG_LEN,
                "{alg:?} {len}"
            );
            assert_eq!(open_all(&key, &sealed).unwrap(), plaintext, "{alg:?} {len}");
            // Byte by byte through the opener, and in pieces through both.
            let bytes: Vec<&[u8]> = sealed.chunks(1).collect();
            assert_eq!(open_parts(Some(alg), &key, &bytes).unwrap(), plaintext);
            let resealed = seal_parts(
                alg,
                &key,
                DEFAULT_SEGMENT_LOG2,
                &pieces(&plaintext, 3000, 9),
            );
            assert_eq!(resealed.len(), sealed.len());
            assert_eq!(
                open_parts(None, &key, &pieces(&resealed, 5000, 8)).unwrap(),
                plaintext
            );
        }
    }
}

#[test]
fn round_trips_several_mib_in_random_pieces() {
    let plaintext = random_bytes((5 << 20) + 12_345, 77);
    for alg in Algorithm::ALL {
        let key = random_bytes(alg.key_len(), 4);
        let sealed = seal_parts(
            alg,
            &key,
            DEFAULT_SEGMENT_LOG2,
            &pieces(&plaintext, 300_000, 5),
        );
        let opened = open_parts(Some(alg), &key, &pieces(&sealed, 200_000, 6)).unwrap();
        assert!(opened == plaintext, "{alg:?}");
    }
}

#[test]
fn plaintext_comes_out_one_authenticated_segment_at_a_time() {
    let alg = Algorithm::Aes256Gcm;
    let key = key_for(alg);
    let plaintext = random_bytes(3 * SEG, 1);
    let sealed = seal_all(alg, &key, DEFAULT_SEGMENT_LOG2, &plaintext);
    let mut opener = Opener::new(Some(alg), &key).unwrap();
    let first = HEADER_LEN + SEG + TAG_LEN;
    // A whole first segment is held: it could still be the last.
    assert!(opener.push(&sealed[..first], NEVER).unwrap().is_empty());
    assert_eq!(opener.params(), Some((alg, SEG)));
    // One more byte shows it is not, and releases exactly it.
    assert_eq!(
        opener.push(&sealed[first..=first], NEVER).unwrap(),
        &plaintext[..SEG]
    );
    assert_eq!(
        opener.push(&sealed[first + 1..], NEVER).unwrap(),
        &plaintext[SEG..2 * SEG]
    );
    assert_eq!(opener.finish(NEVER).unwrap(), &plaintext[2 * SEG..]);
    // Dead after the end.
    assert!(opener.push(&[0], NEVER).is_err());
    assert!(opener.finish(NEVER).is_err());
}

#[test]
fn the_same_key_seals_each_stream_differently() {
    let key = key_for(Algorithm::ChaCha20Poly1305);
    let a = seal_all(Algorithm::ChaCha20Poly1305, &key, 10, b"same plaintext");
    let b = seal_all(Algorithm::ChaCha20Poly1305, &key, 10, b"same plaintext");
    assert_ne!(a[INFO_LEN..HEADER_LEN], b[INFO_LEN..HEADER_LEN], "salts");
    assert_ne!(a[HEADER_LEN..], b[HEADER_LEN..], "segments");
}

/// A stream of 1 KiB segments: 3 full ones and a final of 500 bytes, under `key`.
fn small_stream(alg: Algorithm, key: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let plaintext = random_bytes(3 * 1024 + 500, 11);
    (seal_all(alg, key, 10, &plaintext), plaintext)
}

/// The segments of a 1 KiB-segment stream, header apart.
fn split(sealed: &[u8]) -> (&[u8], Vec<&[u8]>) {
    let (header, body) = sealed.split_at(HEADER_LEN);
    (header, body.chunks(1024 + TAG_LEN).collect())
}

#[test]
fn every_changed_byte_fails() {
    for alg in Algorithm::ALL {
        let key = key_for(alg);
        let (sealed, _) = small_stream(alg, &key);
        // Every byte of the header and of the first and last segments, and the segment
        // boundaries' neighbours; one bit or all of them.
        let boundaries = (1..4).flat_map(|s| {
            let at = HEADER_LEN + s * (1024 + TAG_LEN);
            [at - 1, at]
        });
        let positions = (0..HEADER_LEN + 1040)
            .chain(sealed.len() - 516..sealed.len())
            .chain(boundaries);
        for at in positions {
            for flip in [0x01, 0xff] {
                let mut bad = sealed.clone();
                bad[at] ^= flip;
                let result = open_parts(Some(alg), &key, &[&bad]);
                match at {
                    // Not a header: said so (magic, version, unknown ids, sizes out of range).
                    0..=10 => assert!(result.is_err(), "{alg:?} byte {at}"),
                    _ => assert!(is_auth_failed(result), "{alg:?} byte {at} ^ {flip:#x}"),
                }
            }
        }
    }
}

#[test]
fn a_header_naming_other_valid_parameters_fails_authentication() {
    let key = key_for(Algorithm::Aes256Gcm);
    let (sealed, _) = small_stream(Algorithm::Aes256Gcm, &key);
    // ChaCha20-Poly1305 takes the same key length: the algorithm byte is bound to the key.
    let mut other_alg = sealed.clone();
    other_alg[9] = algorithm_id(Algorithm::ChaCha20Poly1305);
    assert!(is_auth_failed(open_parts(None, &key, &[&other_alg])));
    assert!(matches!(
        open_parts(Some(Algorithm::Aes256Gcm), &key, &[&other_alg]),
        Err(KernelError::Unsupported(m)) if m.contains("chacha20-poly1305")
    ));
    for log2 in [9, 11, 25] {
        let mut other_size = sealed.clone();
        other_size[10] = log2;
        let result = open_all(&key, &other_size);
        if SEGMENT_LOG2.contains(&log2) {
            assert!(is_auth_failed(result), "2^{log2}");
        } else {
            assert!(
                matches!(result, Err(KernelError::CorruptInput { .. })),
                "2^{log2}"
            );
        }
    }
    // A one-segment stream parses the same under any larger segment size: only the binding of
    // the header into the key makes this fail.
    let short = seal_all(Algorithm::Aes256Gcm, &key, 10, &[3; 500]);
    for log2 in [11, 16, 24] {
        let mut other_size = short.clone();
        other_size[10] = log2;
        assert!(
            is_auth_failed(open_all(&key, &other_size)),
            "one segment, 2^{log2}"
        );
    }
    let mut magic = sealed.clone();
    magic[0] = b'X';
    assert!(matches!(
        open_all(&key, &magic),
        Err(KernelError::CorruptInput { .. })
    ));
    let mut version = sealed;
    version[8] = 2;
    assert!(
        matches!(open_all(&key, &version), Err(KernelError::Unsupported(m)) if m.contains("version 2"))
    );
}

#[test]
fn what_is_not_a_stream_is_said_so_at_its_first_bytes() {
    let key = key_for(Algorithm::Aes256Gcm);
    let mut opener = Opener::new(None, &key).unwrap();
    assert!(opener.push(b"OFL", NEVER).unwrap().is_empty());
    assert!(matches!(
        opener.push(b"x", NEVER),
        Err(KernelError::CorruptInput { detail, .. }) if detail.contains("not an offload")
    ));
    let mut opener = Opener::new(None, &key).unwrap();
    assert!(matches!(
        opener.push(b"hello", NEVER),
        Err(KernelError::CorruptInput { .. })
    ));
    // Nothing at all, or a header cut short: a truncated stream.
    assert!(is_auth_failed(open_all(&key, b"")));
    assert!(is_auth_failed(open_all(&key, b"OFLDSTRM\x01")));
}

#[test]
fn truncation_reordering_duplication_and_appending_fail() {
    let alg = Algorithm::Aes128Gcm;
    let key = key_for(alg);
    let (sealed, plaintext) = small_stream(alg, &key);
    assert_eq!(open_all(&key, &sealed).unwrap(), plaintext);
    let (header, segs) = split(&sealed);
    assert_eq!(segs.len(), 4);
    let join = |parts: &[&[u8]]| parts.concat();

    // Truncation anywhere: inside the header, at every segment boundary, inside a segment.
    for len in [
        0,
        1,
        HEADER_LEN - 1,
        HEADER_LEN,
        HEADER_LEN + 15,
        HEADER_LEN + 16,
        sealed.len() - 1,
    ] {
        assert!(
            is_auth_failed(open_all(&key, &sealed[..len])),
            "cut at {len}"
        );
    }
    for n in 1..segs.len() {
        let cut = join(&[&[header], &segs[..n]].concat());
        assert!(is_auth_failed(open_all(&key, &cut)), "{n} segments");
    }
    // Reordered, duplicated, dropped.
    let swapped = join(&[header, segs[0], segs[2], segs[1], segs[3]]);
    let doubled = join(&[header, segs[0], segs[1], segs[1], segs[2], segs[3]]);
    let dropped = join(&[header, segs[0], segs[2], segs[3]]);
    let final_twice = join(&[header, segs[0], segs[1], segs[2], segs[3], segs[3]]);
    for (what, bad) in [
        ("swapped", swapped),
        ("doubled", doubled),
        ("dropped", dropped),
        ("final twice", final_twice),
    ] {
        assert!(is_auth_failed(open_all(&key, &bad)), "{what}");
    }
    // Anything after the final segment: a byte, a tag's length, a whole segment.
    for extra in [&[0u8][..], &[0; TAG_LEN], &[0; 1024 + TAG_LEN + 1], segs[0]] {
        let appended = join(&[&sealed, extra]);
        assert!(
            is_auth_failed(open_all(&key, &appended)),
            "{} bytes appended",
            extra.len()
        );
    }
    // Spliced: this stream's header with the segments of another one under the same key.
    let (other, _) = small_stream(alg, &key);
    let spliced = join(&[header, &other[HEADER_LEN..]]);
    assert!(is_auth_failed(open_all(&key, &spliced)));
    // A wrong key.
    let mut wrong = key.clone();
    wrong[15] ^= 1;
    assert!(is_auth_failed(open_all(&wrong, &sealed)));
}

#[test]
fn an_empty_final_segment_is_refused_after_a_full_one() {
    // What the sealer never writes (it seals a full last segment as the final), forged here
    // with the stream's own key: a full segment, then an empty final one.
    let alg = Algorithm::Aes256Gcm;
    let key = key_for(alg);
    let salt = [7u8; SALT_LEN];
    let header = super::header(alg, 10, &salt);
    let mut segments = Segments::derive(alg, &key, &header, NEVER).unwrap();
    let mut forged = header.to_vec();
    segments
        .seal(&[5; 1024], false, &mut forged, NEVER)
        .unwrap();
    segments.seal(&[], true, &mut forged, NEVER).unwrap();
    assert!(is_auth_failed(open_all(&key, &forged)));
    // The sealer's stream for the same plaintext: one full final segment, which opens.
    let (mut sealer, header) = Sealer::with_salt(alg, &key, 10, &salt).unwrap();
    let mut sealed = header.to_vec();
    sealed.extend(sealer.push(&[5; 1024], false, NEVER).unwrap());
    sealed.extend(sealer.push(&[], true, NEVER).unwrap());
    assert_eq!(sealed.len(), HEADER_LEN + 1024 + TAG_LEN);
    assert_eq!(open_all(&key, &sealed).unwrap(), [5; 1024]);
}

#[test]
fn a_failed_opener_stays_failed_and_releases_nothing_more() {
    let alg = Algorithm::ChaCha20Poly1305;
    let key = key_for(alg);
    let (mut sealed, plaintext) = small_stream(alg, &key);
    sealed[HEADER_LEN + 1040 + 3] ^= 1; // the second segment
    let mut opener = Opener::new(Some(alg), &key).unwrap();
    // The first segment is released (authenticated), the second fails, and so does the rest.
    let first = HEADER_LEN + 1040 + 1;
    assert_eq!(
        opener.push(&sealed[..first], NEVER).unwrap(),
        &plaintext[..1024]
    );
    assert!(matches!(
        opener.push(&sealed[first..], NEVER),
        Err(KernelError::AuthFailed)
    ));
    assert!(opener.push(&[], NEVER).is_err());
    assert!(opener.finish(NEVER).is_err());
}

#[test]
fn bad_arguments_and_misuse_are_refused() {
    let short = [0u8; 16];
    assert!(matches!(
        Sealer::new(Algorithm::Aes256Gcm, &short),
        Err(KernelError::Unsupported(_))
    ));
    assert!(matches!(
        Opener::new(Some(Algorithm::ChaCha20Poly1305), &short),
        Err(KernelError::Unsupported(_))
    ));
    for log2 in [9, 25] {
        assert!(matches!(
            Sealer::with_segment_log2(Algorithm::Aes128Gcm, &short, log2),
            Err(KernelError::OutOfRange(_))
        ));
    }
    // Without an expected algorithm, the key is checked against the header's.
    let sealed = seal_all(Algorithm::Aes128Gcm, &short, 10, b"x");
    assert!(matches!(
        open_all(&[0u8; 32], &sealed),
        Err(KernelError::Unsupported(_))
    ));
    let (mut sealer, _) = Sealer::new(Algorithm::Aes128Gcm, &short).unwrap();
    sealer.push(b"abc", true, NEVER).unwrap();
    assert!(sealer.push(b"", true, NEVER).is_err());
}

#[test]
fn cancel_stops_both_sides_before_a_segment() {
    let key = key_for(Algorithm::Aes256Gcm);
    let (mut sealer, _) = Sealer::new(Algorithm::Aes256Gcm, &key).unwrap();
    assert!(matches!(
        sealer.push(&[1; 100], true, ALWAYS),
        Err(KernelError::Cancelled)
    ));
    // A cancelled stream is dead: segments it counted were never returned.
    assert!(sealer.push(&[], true, NEVER).is_err());
    let sealed = seal_all(Algorithm::Aes256Gcm, &key, 10, &[1; 3000]);
    let mut opener = Opener::new(None, &key).unwrap();
    assert!(matches!(
        opener.push(&sealed, ALWAYS),
        Err(KernelError::Cancelled)
    ));
    assert!(opener.finish(NEVER).is_err());
}
