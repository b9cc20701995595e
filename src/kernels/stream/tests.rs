//! The incremental kernels against the one-shot ones (an independent path through the same
//! crates for the hashes, and through node-compatible decoders for the formats), fed in pieces
//! of assorted sizes; truncation, corruption and the output limit.

use super::*;
use crate::kernels::KernelError;
use crate::kernels::compress::{Format, compress, decompress};
use crate::kernels::hash::{HashAlgorithm, digest, hmac};
use crate::kernels::test_util::{ALWAYS, NEVER, log_text, pipe_through, random_bytes};

/// `data` cut at sizes from 1 byte to 300 KiB (over one CHUNK), the same cuts on every run.
fn cuts(data: &[u8], seed: u64) -> Vec<&[u8]> {
    let sizes = random_bytes(64, seed);
    let mut out = Vec::new();
    let mut pos = 0;
    let mut i = 0;
    while pos < data.len() {
        let n = match sizes[i % sizes.len()] % 4 {
            0 => 1 + usize::from(sizes[i % sizes.len()]),
            1 => 4096,
            2 => 300 * 1024,
            _ => 65_537,
        };
        let end = data.len().min(pos + n);
        out.push(&data[pos..end]);
        pos = end;
        i += 1;
    }
    out
}

const STREAMABLE: [Format; 5] = [
    Format::Gzip,
    Format::Deflate,
    Format::DeflateRaw,
    Format::Brotli,
    Format::Zstd,
];

#[test]
fn hashers_fed_in_pieces_give_the_one_shot_digests_and_hmacs() {
    let data = random_bytes(1 << 20, 7);
    for alg in HashAlgorithm::ALL {
        let mut h = Hasher::new(alg);
        for piece in cuts(&data, 1) {
            h.update(piece, NEVER).unwrap();
        }
        assert_eq!(h.finish(), digest(alg, &data, NEVER).unwrap(), "{alg:?}");
        if alg.supports_hmac() {
            let mut m = Hasher::hmac(alg, b"key").unwrap();
            for piece in cuts(&data, 2) {
                m.update(piece, NEVER).unwrap();
            }
            assert_eq!(
                m.finish(),
                hmac(alg, b"key", &data, NEVER).unwrap(),
                "{alg:?}"
            );
        } else {
            assert!(Hasher::hmac(alg, b"key").is_err());
        }
    }
    let mut h = Hasher::new(HashAlgorithm::Sha256);
    assert!(matches!(
        h.update(&data, ALWAYS),
        Err(KernelError::Cancelled)
    ));
}

#[test]
fn encoded_streams_decode_with_the_one_shot_kernel() {
    let data = log_text(3 << 20);
    for format in Format::ALL {
        let level = format.default_level().min(6);
        let mut e = Encoder::new(format, level).unwrap();
        let mut out = Vec::new();
        for (i, piece) in cuts(&data, 3).into_iter().enumerate() {
            let flush = if i % 5 == 4 { Flush::Sync } else { Flush::None };
            out.extend(e.write(piece, flush, NEVER).unwrap());
        }
        out.extend(e.write(&[], Flush::Finish, NEVER).unwrap());
        assert!(e.is_finished());
        assert!(
            out.len() < data.len() / 3,
            "{format:?}: {} bytes",
            out.len()
        );
        assert_eq!(
            decompress(format, &out, usize::MAX, NEVER).unwrap(),
            data,
            "{format:?}"
        );
        assert!(e.write(b"more", Flush::None, NEVER).is_err());
    }
    assert!(Encoder::new(Format::Zstd, 23).is_err());
}

/// After a Sync flush, everything written so far decodes, before the stream ends: what a
/// server-sent event needs.
#[test]
fn a_sync_flush_makes_everything_written_so_far_decodable() {
    for format in STREAMABLE {
        let mut e = Encoder::new(format, format.default_level().min(6)).unwrap();
        let mut d = Decoder::new(format, u64::MAX).unwrap();
        for event in ["data: one\n\n", "data: two\n\n", "data: three\n\n"] {
            let out = e.write(event.as_bytes(), Flush::Sync, NEVER).unwrap();
            assert_eq!(
                d.write(&out, NEVER).unwrap(),
                event.as_bytes(),
                "{format:?}"
            );
        }
    }
}

#[test]
fn decoders_fed_in_pieces_read_what_the_one_shot_kernel_and_gzip_write() {
    let data = log_text(2 << 20);
    for format in STREAMABLE {
        let packed = compress(format, &data, format.default_level().min(6), NEVER).unwrap();
        let mut d = Decoder::new(format, u64::MAX).unwrap();
        let mut out = Vec::new();
        for piece in cuts(&packed, 4) {
            out.extend(d.write(piece, NEVER).unwrap());
        }
        out.extend(d.finish(NEVER).unwrap());
        assert_eq!(out, data, "{format:?}");
    }
    if let Some(packed) = pipe_through("gzip", &["-c"], &data) {
        let mut d = Decoder::new(Format::Gzip, u64::MAX).unwrap();
        let mut out = Vec::new();
        for piece in packed.chunks(1000) {
            out.extend(d.write(piece, NEVER).unwrap());
        }
        out.extend(d.finish(NEVER).unwrap());
        assert_eq!(out, data);
    }
    assert!(Decoder::new(Format::Lz4, 1).is_err());
}

/// A highly compressible input makes far more output than one room of CHUNK bytes per
/// piece of input: all of it must come out of `write`, not wait for the next piece.
#[test]
fn a_small_piece_that_expands_a_lot_comes_out_whole() {
    let data = vec![b'a'; 8 << 20];
    for format in STREAMABLE {
        let packed = compress(format, &data, 3.min(format.default_level()), NEVER).unwrap();
        assert!(packed.len() < 64 * 1024, "{format:?}");
        let mut d = Decoder::new(format, u64::MAX).unwrap();
        let out = d.write(&packed, NEVER).unwrap();
        assert_eq!(out.len(), data.len(), "{format:?}");
        assert!(d.finish(NEVER).unwrap().is_empty());
    }
}

#[test]
fn write_some_bounds_each_call_and_loses_nothing() {
    // 8 MiB of one byte, a few KiB packed: one write would hand back all 8 MiB at once.
    let data = vec![b'a'; 8 << 20];
    let max = 64 * 1024;
    for format in STREAMABLE {
        let packed = compress(format, &data, 3.min(format.default_level()), NEVER).unwrap();
        let mut d = Decoder::new(format, u64::MAX).unwrap();
        let (mut rest, mut out, mut calls) = (&packed[..], Vec::new(), 0);
        loop {
            let (used, piece, more) = d.write_some(rest, max, NEVER).unwrap();
            assert!(piece.len() <= max + crate::kernels::CHUNK, "{format:?}");
            out.extend_from_slice(&piece);
            rest = &rest[used..];
            calls += 1;
            if rest.is_empty() && !more {
                break;
            }
        }
        out.extend(d.finish(NEVER).unwrap());
        assert!(calls > 8, "{format:?}: {calls} calls");
        assert!(out == data, "{format:?}");
    }
}

#[test]
fn truncated_corrupt_and_oversized_streams_fail() {
    let data = log_text(1 << 20);
    for format in STREAMABLE {
        let packed = compress(format, &data, 3.min(format.default_level()), NEVER).unwrap();
        // Truncated: every piece decodes, the end is missing.
        let mut d = Decoder::new(format, u64::MAX).unwrap();
        d.write(&packed[..packed.len() - 9], NEVER).unwrap();
        let e = d.finish(NEVER).unwrap_err();
        assert!(
            matches!(e, KernelError::CorruptInput { .. }),
            "{format:?}: {e:?}"
        );
        // Corrupt: a flipped byte in the middle.
        let mut bad = packed.clone();
        let mid = bad.len() / 2;
        bad[mid] ^= 0x55;
        let mut d = Decoder::new(format, u64::MAX).unwrap();
        let r = d
            .write(&bad, NEVER)
            .and_then(|out| Ok([out, d.finish(NEVER)?].concat()));
        if format == Format::DeflateRaw {
            // Raw deflate has no checksum: a flipped byte can decode, only to other bytes.
            assert!(r.map_or(true, |out| out != data), "{format:?}");
        } else {
            assert!(
                matches!(r, Err(KernelError::CorruptInput { .. })),
                "{format:?}: {r:?}"
            );
        }
        // Over the limit: fails without holding the whole output.
        let mut d = Decoder::new(format, 100_000).unwrap();
        let r = d.write(&packed, NEVER);
        assert!(
            matches!(r, Err(KernelError::OutputTooLarge { limit: 100_000 })),
            "{format:?}"
        );
        // Nothing at all.
        let mut d = Decoder::new(format, u64::MAX).unwrap();
        assert!(matches!(
            d.finish(NEVER),
            Err(KernelError::CorruptInput { .. })
        ));
    }
}

#[test]
fn gzip_members_and_zstd_frames_concatenate_and_padding_ends_gzip() {
    let (a, b) = (log_text(100_000), random_bytes(50_000, 9));
    for format in [Format::Gzip, Format::Zstd] {
        let mut packed = compress(format, &a, 3, NEVER).unwrap();
        packed.extend(compress(format, &b, 3, NEVER).unwrap());
        let mut d = Decoder::new(format, u64::MAX).unwrap();
        let mut out = Vec::new();
        for piece in packed.chunks(777) {
            out.extend(d.write(piece, NEVER).unwrap());
        }
        out.extend(d.finish(NEVER).unwrap());
        assert_eq!(out, [a.clone(), b.clone()].concat(), "{format:?}");
    }
    let mut padded = compress(Format::Gzip, &a, 3, NEVER).unwrap();
    padded.extend([0u8; 512]);
    padded.extend(b"anything");
    let mut d = Decoder::new(Format::Gzip, u64::MAX).unwrap();
    let mut out = d.write(&padded, NEVER).unwrap();
    out.extend(d.finish(NEVER).unwrap());
    assert_eq!(out, a);
    let mut junk = compress(Format::Zstd, &a, 3, NEVER).unwrap();
    junk.extend(b"garbage!");
    let mut d = Decoder::new(Format::Zstd, u64::MAX).unwrap();
    assert!(d.write(&junk, NEVER).and_then(|_| d.finish(NEVER)).is_err());
}
