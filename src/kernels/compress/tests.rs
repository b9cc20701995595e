use super::decode::{Sink, decode};
use super::*;
use crate::kernels::test_util::{ALWAYS, NEVER, log_text, pipe_through, random_bytes};
use std::sync::atomic::{AtomicUsize, Ordering};

const MIB: usize = 1 << 20;

fn pack(f: Format, data: &[u8], level: i32) -> Vec<u8> {
    compress(f, data, level, NEVER).unwrap()
}

fn unpack(f: Format, data: &[u8]) -> Result<Vec<u8>, KernelError> {
    decompress(f, data, usize::MAX, NEVER)
}

fn assert_corrupt(f: Format, data: &[u8], what: &str) {
    match unpack(f, data) {
        Err(KernelError::CorruptInput { format, .. }) => assert_eq!(format, f.name()),
        other => panic!("{}: {what}: expected CorruptInput, got {other:?}", f.name()),
    }
}

/// Fastest level that actually compresses.
fn fast(f: Format) -> i32 {
    1.clamp(*f.level_range().start(), *f.level_range().end())
}

/// Levels worth testing: ends of the range, the default, and one between.
fn levels(f: Format) -> Vec<i32> {
    let r = f.level_range();
    let mut v = vec![
        *r.start(),
        (r.start() + r.end()) / 2,
        f.default_level(),
        *r.end(),
    ];
    v.dedup();
    v
}

#[test]
fn names_levels_and_defaults() {
    for f in Format::ALL {
        assert_eq!(f.name().parse::<Format>().unwrap(), f);
        assert!(f.level_range().contains(&f.default_level()));
    }
    assert_eq!(
        "GZIP".parse::<Format>().unwrap_err().to_string(),
        r#"unknown compression format "GZIP""#
    );
    assert_eq!(
        (Format::Gzip.default_level(), Format::Brotli.default_level()),
        (6, 11)
    );
    assert_eq!(
        (Format::Zstd.level_range(), Format::Zstd.default_level()),
        (1..=22, 3)
    );
    assert_eq!(Format::Lz4.level_range(), 0..=0);
    let err = compress(Format::Brotli, b"x", 12, NEVER).unwrap_err();
    assert_eq!(
        err.to_string(),
        "compression level 12 is out of range for brotli (0..=11)"
    );
    assert!(matches!(
        compress(Format::Zstd, b"x", 0, NEVER),
        Err(KernelError::Unsupported(_))
    ));
}

#[test]
fn round_trip_small_inputs_every_level() {
    let inputs: [&[u8]; 4] = [b"", b"x", b"hello hello hello hello", &log_text(20_000)];
    for f in Format::ALL {
        for level in levels(f) {
            for input in inputs {
                let packed = pack(f, input, level);
                assert_eq!(
                    unpack(f, &packed).unwrap(),
                    input,
                    "{} level {level}",
                    f.name()
                );
            }
        }
    }
}

#[test]
fn round_trip_large_inputs() {
    let text = log_text(2 * MIB + 5);
    let random = random_bytes(2 * MIB + 7, 4);
    for f in Format::ALL {
        // Moderate levels keep debug-mode tests quick; the top levels are
        // covered on small inputs above.
        let level = f.default_level().min(5);
        let packed = pack(f, &text, level);
        assert!(
            packed.len() < text.len() / 3,
            "{} compresses text",
            f.name()
        );
        assert_eq!(unpack(f, &packed).unwrap(), text, "{}", f.name());
        // Incompressible data may grow only by framing overhead.
        let packed = pack(f, &random, level);
        assert!(packed.len() < random.len() + random.len() / 100 + 64);
        assert_eq!(unpack(f, &packed).unwrap(), random, "{}", f.name());
    }
}

/// Deflate output size at every level against stock zlib (CPython's; Node's
/// is a fork of it), when python3 is installed: at most 10% larger on text,
/// and on incompressible bytes equal up to stored-block framing (5 bytes per
/// block of at least 16 KiB). zlib-rs's own level 1 (static Huffman only)
/// and levels 4-6 on long repeats (deflate_medium) were far outside this.
#[test]
fn sizes_match_zlib_at_every_level() {
    let line = b"2026-11-22T10:00:00.000Z INFO req_id=1f3a method=GET path=/api/users/42 status=200 dur_ms=12\n";
    let samples = [
        ("repeated line", line.repeat(10_000)),
        ("repeated 30 KB block", log_text(30_000).repeat(20)),
        ("log text", log_text(512 * 1024)),
        ("random", random_bytes(256 * 1024, 3)),
    ];
    let py = "import sys, zlib\n\
        d = sys.stdin.buffer.read()\n\
        for l in range(10):\n\
        \x20   z = zlib.compressobj(l, zlib.DEFLATED, -15)\n\
        \x20   print(len(z.compress(d) + z.flush()))";
    for (name, data) in samples {
        let Some(sizes) = pipe_through("python3", &["-c", py], &data) else {
            eprintln!("skipping zlib size comparison: python3 not installed");
            return;
        };
        let sizes: Vec<usize> = String::from_utf8(sizes)
            .unwrap()
            .lines()
            .map(|l| l.parse().unwrap())
            .collect();
        // zip() below would silently check fewer levels if python printed fewer lines.
        assert_eq!(sizes.len(), 10, "{name}: one size per zlib level");
        for (level, zlib) in (0..=9).zip(sizes) {
            let ours = pack(Format::DeflateRaw, &data, level).len();
            // Smaller is fine: zlib's levels 1-4 skip insertions too (it is
            // 0.8x at level 4 on the repeated blocks, which we redo at level 7).
            let ok = if name == "random" {
                ours.abs_diff(zlib) <= 5 * data.len().div_ceil(16 * 1024) + 16
            } else {
                ours * 10 <= zlib * 11
            };
            assert!(ok, "{name}, level {level}: {ours} bytes, zlib {zlib}");
        }
    }
}

#[test]
fn headers_match_node() {
    let d = b"hello hello hello";
    // zlib.gzipSync(d, {level}).subarray(0, 10) on Linux: mtime 0, XFL by level, OS 3.
    assert_eq!(
        hex::encode(&pack(Format::Gzip, d, 6)[..10]),
        "1f8b0800000000000003"
    );
    assert_eq!(
        hex::encode(&pack(Format::Gzip, d, 1)[..10]),
        "1f8b0800000000000403"
    );
    assert_eq!(
        hex::encode(&pack(Format::Gzip, d, 9)[..10]),
        "1f8b0800000000000203"
    );
    // zlib.deflateSync(d, {level}).subarray(0, 2)
    let zlib_hdr = |l| hex::encode(&pack(Format::Deflate, d, l)[..2]);
    assert_eq!(
        [
            zlib_hdr(0),
            zlib_hdr(1),
            zlib_hdr(2),
            zlib_hdr(6),
            zlib_hdr(9)
        ],
        ["7801", "7801", "785e", "789c", "78da"]
    );
    // Also where zlib-rs runs another level (long repeats at 4-6 are redone
    // at 7): zlib.deflateSync(Buffer.alloc(100000), {level}).subarray(0, 2)
    let zeros = vec![0; 100_000];
    let zlib_hdr = |l| hex::encode(&pack(Format::Deflate, &zeros, l)[..2]);
    assert_eq!(
        [zlib_hdr(1), zlib_hdr(4), zlib_hdr(5), zlib_hdr(6)],
        ["7801", "785e", "785e", "789c"]
    );
    let gzip_xfl = |l| pack(Format::Gzip, &zeros, l)[8];
    assert_eq!([gzip_xfl(1), gzip_xfl(6)], [4, 0]);
    // zstd and lz4 frames carry content checksums (descriptor / FLG bit 2).
    assert_ne!(pack(Format::Zstd, d, 3)[4] & 0x04, 0);
    assert_ne!(pack(Format::Lz4, d, 0)[4] & 0x04, 0);
    // Empty inputs, byte for byte as Node produces them.
    assert_eq!(
        hex::encode(pack(Format::Gzip, b"", 6)),
        "1f8b080000000000000303000000000000000000"
    );
    assert_eq!(
        hex::encode(pack(Format::Deflate, b"", 6)),
        "789c030000000001"
    );
    assert_eq!(hex::encode(pack(Format::DeflateRaw, b"", 6)), "0300");
    assert_eq!(hex::encode(pack(Format::Brotli, b"", 11)), "3b");
}

#[test]
fn every_truncation_is_rejected() {
    let text = log_text(6000);
    for f in Format::ALL {
        let packed = pack(f, &text, f.default_level());
        for cut in 0..packed.len() {
            assert_corrupt(
                f,
                &packed[..cut],
                &format!("truncated to {cut}/{}", packed.len()),
            );
        }
    }
    // The second gzip member truncated; a lone 0x1f after a member (as in Node).
    let gz = pack(Format::Gzip, &text, 6);
    assert_corrupt(
        Format::Gzip,
        &[&gz[..], &gz[..gz.len() - 3]].concat(),
        "2nd member truncated",
    );
    assert_corrupt(Format::Gzip, &[&gz[..], &[0x1f]].concat(), "lone 0x1f");
}

#[test]
fn large_truncations_are_rejected() {
    // Cuts at chunk and block boundaries of multi-chunk streams.
    let text = log_text(2 * MIB);
    for f in Format::ALL {
        let packed = pack(f, &text, fast(f));
        for cut in [
            packed.len() / 2,
            packed.len() - CHUNK.min(packed.len() / 3),
            packed.len() - 1,
        ] {
            assert_corrupt(f, &packed[..cut], &format!("large stream cut at {cut}"));
        }
    }
}

#[test]
fn garbage_and_bad_checksums_are_rejected() {
    for f in Format::ALL {
        assert_corrupt(f, b"this is not compressed data, just some text!", "text");
        assert_corrupt(f, &random_bytes(4096, 5), "random bytes");
        assert_corrupt(f, &[0; 64], "zeros");
    }
    // zlib's messages, as Node reports them.
    let msg = |f, data: &[u8]| unpack(f, data).unwrap_err().to_string();
    assert_eq!(
        msg(Format::Gzip, b"garbage"),
        "corrupt gzip input: incorrect header check"
    );
    let gz = pack(Format::Gzip, b"abc", 6);
    assert_eq!(
        msg(Format::Gzip, &gz[..gz.len() - 1]),
        "corrupt gzip input: unexpected end of file"
    );
    let text = log_text(10_000);
    // Flip a bit in the trailing checksum (gzip CRC32, zlib Adler-32,
    // zstd XXH64, lz4 content XXH32) and in the middle of each stream.
    for f in [Format::Gzip, Format::Deflate, Format::Zstd, Format::Lz4] {
        let mut packed = pack(f, &text, f.default_level());
        let at = packed.len() - if f == Format::Gzip { 6 } else { 2 };
        packed[at] ^= 0x10;
        assert_corrupt(f, &packed, "bad checksum");
    }
    for f in Format::ALL {
        let mut packed = pack(f, &text, f.default_level());
        let mid = packed.len() / 2;
        packed[mid] ^= 0x55;
        assert!(
            unpack(f, &packed).map_or(true, |out| out != text),
            "{}: corruption unnoticed",
            f.name()
        );
    }
}

/// Large-window brotli (an extension beyond RFC 7932) is refused as by Node, so
/// a stream cannot make the decoder allocate a ring buffer of up to 1 GiB.
#[test]
fn large_window_brotli_is_rejected() {
    let params = BrotliEncoderParams {
        large_window: true,
        lgwin: 26,
        ..BrotliEncoderParams::default()
    };
    let mut w = brotli::CompressorWriter::with_params(Vec::new(), 4096, &params);
    w.write_all(&log_text(10_000)).unwrap();
    assert_corrupt(Format::Brotli, &w.into_inner(), "large window");
}

#[test]
fn multi_member_and_trailing_data_follow_node() {
    let (a, b) = (log_text(3000), b"second member".to_vec());
    let gz = [pack(Format::Gzip, &a, 6), pack(Format::Gzip, &b, 1)].concat();
    assert_eq!(
        unpack(Format::Gzip, &gz).unwrap(),
        [&a[..], &b[..]].concat()
    );
    // gunzip: zero padding ends the stream, anything else must be a member.
    assert_eq!(
        unpack(Format::Gzip, &[&gz[..], b"\0\0garbage"].concat())
            .unwrap()
            .len(),
        a.len() + b.len()
    );
    assert_corrupt(
        Format::Gzip,
        &[&gz[..], b"garbage"].concat(),
        "trailing garbage",
    );
    // inflate, inflateRaw and brotliDecompress ignore trailing bytes.
    for f in [Format::Deflate, Format::DeflateRaw, Format::Brotli] {
        assert_eq!(
            unpack(f, &[pack(f, &a, 6), b"garbage".to_vec()].concat()).unwrap(),
            a
        );
    }
    // zstd and lz4: concatenated frames are one stream; trailing garbage is not.
    for f in [Format::Zstd, Format::Lz4] {
        let two = [
            pack(f, &a, f.default_level()),
            pack(f, &b, f.default_level()),
        ]
        .concat();
        assert_eq!(unpack(f, &two).unwrap(), [&a[..], &b[..]].concat());
        assert_corrupt(f, &[&two[..], b"garbage!"].concat(), "trailing garbage");
    }
    // lz4 skippable frames are skipped.
    let skippable = [
        &0x184D_2A5Au32.to_le_bytes()[..],
        &3u32.to_le_bytes(),
        b"abc",
    ]
    .concat();
    let lz = [skippable.clone(), pack(Format::Lz4, &b, 0), skippable].concat();
    assert_eq!(unpack(Format::Lz4, &lz).unwrap(), b);
}

#[test]
fn output_limit_is_exact() {
    let text = log_text(100_000);
    for f in Format::ALL {
        let packed = pack(f, &text, f.default_level().min(5));
        assert_eq!(decompress(f, &packed, text.len(), NEVER).unwrap(), text);
        let err = decompress(f, &packed, text.len() - 1, NEVER).unwrap_err();
        assert!(matches!(err, KernelError::OutputTooLarge { limit } if limit == text.len() - 1));
        assert!(
            decompress(f, &pack(f, b"", fast(f)), 0, NEVER)
                .unwrap()
                .is_empty()
        );
        assert!(matches!(
            decompress(f, &pack(f, b"x", f.default_level()), 0, NEVER),
            Err(KernelError::OutputTooLarge { limit: 0 })
        ));
    }
    let msg = KernelError::OutputTooLarge { limit: 1000 }.to_string();
    assert_eq!(
        msg,
        "decompressed output exceeds maxOutputLength (1000 bytes)"
    );
}

/// Zero-filled streams of 8x the limit, and for formats that allow
/// concatenation 1280 copies of them (10 GiB of output), must fail fast
/// with a buffer of at most limit + 1 bytes.
#[test]
fn decompression_bombs_fail_fast_with_bounded_memory() {
    let limit = MIB;
    let zeros = vec![0; 8 * limit];
    for f in Format::ALL {
        let level = if f == Format::Brotli {
            1
        } else {
            f.default_level()
        };
        let one = pack(f, &zeros, level);
        let bomb = match f {
            Format::Gzip | Format::Zstd | Format::Lz4 => one.repeat(1280),
            _ => one,
        };
        let started = std::time::Instant::now();
        let mut sink = Sink::new(limit, bomb.len());
        let err = decode(f, &bomb, &mut sink, NEVER).unwrap_err();
        assert!(
            matches!(err, KernelError::OutputTooLarge { limit: l } if l == limit),
            "{}: {err}",
            f.name()
        );
        assert!(
            sink.buf.capacity() <= limit + 1,
            "{}: {} bytes buffered",
            f.name(),
            sink.buf.capacity()
        );
        assert!(
            started.elapsed().as_secs() < 5,
            "{} bomb took {:?}",
            f.name(),
            started.elapsed()
        );
    }
}

#[test]
fn cancellation() {
    // Past libdeflate's one-call limit: inputs up to it are checked once, before the call.
    let text = log_text(whole::MAX_INPUT + 4 * CHUNK);
    for f in Format::ALL {
        let level = f.default_level().min(3);
        let packed = pack(f, &text, level);
        assert!(matches!(
            compress(f, b"", level, ALWAYS),
            Err(KernelError::Cancelled)
        ));
        assert!(matches!(
            decompress(f, &packed, usize::MAX, ALWAYS),
            Err(KernelError::Cancelled)
        ));
        // Cancelled after a few polls: checks happen between chunks, mid-stream.
        let polls = AtomicUsize::new(0);
        let later = &|| polls.fetch_add(1, Ordering::Relaxed) >= 2;
        assert!(
            matches!(
                compress(f, &text, level, later),
                Err(KernelError::Cancelled)
            ),
            "{}",
            f.name()
        );
        polls.store(0, Ordering::Relaxed);
        assert!(
            matches!(
                decompress(f, &packed, usize::MAX, later),
                Err(KernelError::Cancelled)
            ),
            "{}",
            f.name()
        );
    }
}

/// Interoperability with the reference CLIs, when installed.
#[test]
fn interoperates_with_system_tools() {
    let pipe = pipe_through;
    let text = log_text(300_000);
    let tools = [
        (Format::Gzip, "gzip"),
        (Format::Zstd, "zstd"),
        (Format::Lz4, "lz4"),
    ];
    for (f, tool) in tools {
        let Some(theirs) = pipe(tool, &["-c"], &text) else {
            eprintln!("skipping {tool} interop: not installed");
            continue;
        };
        assert_eq!(unpack(f, &theirs).unwrap(), text, "we decode {tool}");
        assert_eq!(
            pipe(tool, &["-dc"], &pack(f, &text, f.default_level())).unwrap(),
            text,
            "{tool} decodes ours"
        );
    }
    let py = "import sys, zlib; sys.stdout.buffer.write(zlib.decompress(sys.stdin.buffer.read(), int(sys.argv[1])))";
    for (f, wbits) in [(Format::Deflate, "15"), (Format::DeflateRaw, "-15")] {
        match pipe("python3", &["-c", py, wbits], &pack(f, &text, 6)) {
            Some(out) => assert_eq!(out, text, "python zlib decodes our {}", f.name()),
            None => eprintln!("skipping python3 zlib interop: not installed"),
        }
    }
}

/// Inputs up to `whole::MAX_INPUT` at levels 1-6 go through libdeflate in one call: node's
/// zlib reads them, and a cancel already set is seen before the call.
#[test]
fn whole_inputs_decode_with_zlib_and_see_a_cancel_first() {
    let text = log_text(1 << 20);
    for f in [Format::Gzip, Format::Deflate, Format::DeflateRaw] {
        for level in 1..=6 {
            let ours = whole::compress(f, &text, level, NEVER).unwrap().unwrap();
            assert_eq!(decompress(f, &ours, usize::MAX, NEVER).unwrap(), text);
        }
        assert!(whole::compress(f, &text, 7, NEVER).unwrap().is_none());
        assert!(matches!(
            whole::compress(f, &text, 6, ALWAYS),
            Err(KernelError::Cancelled)
        ));
    }
    if let Some(out) = pipe_through("gzip", &["-dc"], &pack(Format::Gzip, &text, 6)) {
        assert_eq!(out, text);
    }
}
