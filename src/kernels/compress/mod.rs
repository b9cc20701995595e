//! Compression and bounded, strict decompression.
//!
//! Gzip, deflate, deflate-raw and brotli follow Node's `zlib` (same wrappers,
//! levels, defaults and error texts where possible); zstd and lz4 use their
//! standard frame formats, with content checksums so corruption is detected.

use std::io::Write;
use std::ops::RangeInclusive;
use std::str::FromStr;

use brotli::enc::BrotliEncoderParams;
use brotli::enc::backward_references::BrotliEncoderMode;
use flate2::{Compress, Compression, FlushCompress, Status};

use crate::kernels::{CHUNK, Cancel, KernelError, UnknownName, check, pieces};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Gzip,
    Deflate,
    DeflateRaw,
    Brotli,
    Zstd,
    Lz4,
}

impl Format {
    pub const ALL: [Format; 6] = [
        Self::Gzip,
        Self::Deflate,
        Self::DeflateRaw,
        Self::Brotli,
        Self::Zstd,
        Self::Lz4,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::Gzip => "gzip",
            Self::Deflate => "deflate",
            Self::DeflateRaw => "deflate-raw",
            Self::Brotli => "brotli",
            Self::Zstd => "zstd",
            Self::Lz4 => "lz4",
        }
    }

    /// `Unsupported` unless `level` is in [`Format::level_range`] (the binding checks first and
    /// names the option; this keeps the kernels safe to call directly).
    pub fn check_level(self, level: i32) -> Result<(), KernelError> {
        let range = self.level_range();
        if range.contains(&level) {
            return Ok(());
        }
        Err(KernelError::Unsupported(format!(
            "compression level {level} is out of range for {} ({}..={})",
            self.name(),
            range.start(),
            range.end()
        )))
    }

    pub fn level_range(self) -> RangeInclusive<i32> {
        match self {
            Self::Gzip | Self::Deflate | Self::DeflateRaw => 0..=9,
            Self::Brotli => 0..=11,
            Self::Zstd => 1..=22,
            Self::Lz4 => 0..=0,
        }
    }

    /// Node's defaults: Z_DEFAULT_COMPRESSION (6) and BROTLI_DEFAULT_QUALITY
    /// (11); zstd's own ZSTD_CLEVEL_DEFAULT (3), which Node >= 22.15 also uses.
    pub fn default_level(self) -> i32 {
        match self {
            Self::Gzip | Self::Deflate | Self::DeflateRaw => 6,
            Self::Brotli => 11,
            Self::Zstd => 3,
            Self::Lz4 => 0,
        }
    }

    /// Input fed to the compressor between cancellation checks: at most ~2 ms
    /// of work at the single-core speed measured for each level on log text
    /// (CPU ms per MiB in the comments). zstd (128 KiB blocks) and brotli >= 4
    /// (64-256 KiB blocks) compress whole blocks at once, so at their top
    /// levels a check per block is the best granularity available: tens of
    /// ms, and ~0.5 s for brotli 10-11.
    pub(crate) fn input_step(self, level: i32) -> usize {
        const K: usize = 1024;
        match self {
            Self::Gzip | Self::Deflate | Self::DeflateRaw => match level {
                0..=3 => CHUNK,  // 1-7 ms/MiB
                4..=7 => 64 * K, // 9-28
                _ => 16 * K,     // 8: 65, 9: 30
            },
            Self::Brotli => match level {
                0..=1 => CHUNK,   // 5-8
                2..=3 => 128 * K, // 16
                4..=6 => 32 * K,  // 38-45
                _ => 16 * K,      // 66-1800
            },
            Self::Zstd => match level {
                ..=4 => CHUNK,   // 4-5
                5..=9 => 64 * K, // 10-23
                _ => 32 * K,     // 27-415
            },
            Self::Lz4 => CHUNK, // 2
        }
    }
}

impl FromStr for Format {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|f| f.name() == s)
            .ok_or_else(|| UnknownName {
                kind: "compression format",
                name: s.to_owned(),
            })
    }
}

pub(super) fn corrupt(format: Format, detail: impl ToString) -> KernelError {
    KernelError::CorruptInput {
        format: format.name(),
        detail: detail.to_string(),
    }
}

pub(super) const EOF: &str = "unexpected end of file";

/// Encoders write into a `Vec`, so they cannot fail short of a library bug.
fn encoder_failed(e: impl ToString) -> KernelError {
    KernelError::Unsupported(format!("encoder failed: {}", e.to_string()))
}

/// Compresses `data` into a single stream / frame of `format`.
pub fn compress(
    format: Format,
    data: &[u8],
    level: i32,
    cancel: Cancel,
) -> Result<Vec<u8>, KernelError> {
    format.check_level(level)?;
    if let Some(out) = whole::compress(format, data, level, cancel)? {
        return Ok(out);
    }
    let step = format.input_step(level);
    // Small inputs get their worst case up front; large ones start at 1/4 and
    // double, which fits typical text ratios without over-reserving.
    let out = Vec::with_capacity(if data.len() <= 64 * 1024 {
        data.len() + 128
    } else {
        data.len() / 4
    });
    let mut out = match format {
        Format::Gzip | Format::Deflate | Format::DeflateRaw => {
            deflate_like_node(format, data, level, step, out, cancel)?
        }
        Format::Brotli => {
            let params = BrotliEncoderParams {
                quality: level,
                lgwin: 22,
                mode: BrotliEncoderMode::BROTLI_MODE_GENERIC,
                // The C encoder behind Node derives this from the input it is given.
                size_hint: data.len(),
                ..BrotliEncoderParams::default()
            };
            let mut w = brotli::CompressorWriter::with_params(out, 64 * 1024, &params);
            write_pieces(&mut w, data, step, cancel)?;
            w.into_inner()
        }
        Format::Zstd => {
            let mut w = zstd::stream::write::Encoder::new(out, level).map_err(encoder_failed)?;
            w.include_checksum(true).map_err(encoder_failed)?;
            // Records the size in the header and lets zstd shrink its tables.
            w.set_pledged_src_size(Some(data.len() as u64))
                .map_err(encoder_failed)?;
            write_pieces(&mut w, data, step, cancel)?;
            w.finish().map_err(encoder_failed)?
        }
        Format::Lz4 => {
            let info = lz4_flex::frame::FrameInfo::new()
                .content_size(Some(data.len() as u64))
                .content_checksum(true);
            let mut w = lz4_flex::frame::FrameEncoder::with_frame_info(info, out);
            write_pieces(&mut w, data, step, cancel)?;
            w.finish().map_err(encoder_failed)?
        }
    };
    out.shrink_to_fit();
    Ok(out)
}

fn write_pieces(
    w: &mut impl Write,
    data: &[u8],
    step: usize,
    cancel: Cancel,
) -> Result<(), KernelError> {
    for piece in pieces(data, step) {
        check(cancel)?;
        w.write_all(piece).map_err(encoder_failed)?;
    }
    Ok(())
}

/// Input/output ratio above which levels 4-6 are redone with deflate_slow.
/// Below it, deflate_medium's skipped insertions cost at most 4% on log text
/// mixed with repeated blocks (up to 4x above ratio 13), while deflate_slow
/// costs 1.2-2.3x the time of level 6 on ordinary text (~7:1 logs stay on
/// the fast path); see `deflate_like_node`.
const RETRY_SLOW_ABOVE_RATIO: usize = 10;

/// Deflate with node:zlib's level semantics on zlib-rs.
///
/// zlib-rs ports zlib-ng's level table, not zlib's (which Node uses):
/// - level 1 is deflate_quick: static Huffman codes and one hash probe, 40%
///   larger than zlib's level 1 on log text and 5.5% larger than the input on
///   random bytes. zlib-rs level 2 is deflate_fast with exactly zlib's level-1
///   parameters, so level 1 runs that.
/// - levels 3-6 are deflate_medium, whose `insert_match` does not hash the
///   positions inside a match longer than 16 x max_lazy (192 bytes at level 4,
///   256 at 5-6). zlib's levels 4-9 (deflate_slow) hash every position. In
///   long repeats the next match can then only start at an earlier match's
///   end, far back or out of the window: 50,000 copies of a 93-byte line come
///   out 1.85x as large as Node's, 30 KB blocks repeated up to 4x. zlib-rs
///   cannot tune deflate_slow down to zlib's level-6 parameters through its
///   safe API, and its level 7 is 1.2-2.3x slower than level 6 on log text,
///   so levels 4-6 keep deflate_medium and redo only highly compressible
///   input, where the flaw can show, at level 7, keeping the smaller output.
///   That input pays for both passes: 4x the time on a repeated line (still
///   1.4 GB/s with 2 threads) and 3.8x on 12:1 text without long repeats.
///
/// Levels 2-3 and 7-9 are within a few percent of Node's as they are.
fn deflate_like_node(
    format: Format,
    data: &[u8],
    level: i32,
    step: usize,
    out: Vec<u8>,
    cancel: Cancel,
) -> Result<Vec<u8>, KernelError> {
    let stream = |zlib_rs_level: u32| {
        let l = Compression::new(zlib_rs_level);
        match format {
            Format::Gzip => Compress::new_gzip(l, 15),
            Format::Deflate => Compress::new(l, true),
            _ => Compress::new(l, false),
        }
    };
    let first = if level == 1 { 2 } else { level.unsigned_abs() };
    let mut out = deflate(stream(first), data, step, out, cancel)?;
    if (4..=6).contains(&level) && out.len().saturating_mul(RETRY_SLOW_ABOVE_RATIO) < data.len() {
        let slow = deflate(stream(7), data, step, Vec::with_capacity(out.len()), cancel)?;
        if slow.len() < out.len() {
            out = slow;
        }
    }
    label_level(format, level, &mut out);
    Ok(out)
}

/// Rewrites the header fields that record the level (gzip XFL, zlib FLEVEL)
/// as zlib writes them for `level`, so headers stay byte for byte Node's when
/// zlib-rs ran another level. Decoders ignore both fields.
fn label_level(format: Format, level: i32, out: &mut [u8]) {
    match format {
        // zlib writes the rest of the gzip header itself: mtime 0, OS = 3 (Unix).
        Format::Gzip => {
            out[8] = match level {
                9 => 2,
                ..2 => 4,
                _ => 0,
            };
        }
        Format::Deflate => {
            let flevel: u16 = match level {
                ..2 => 0,
                2..6 => 1,
                6 => 2,
                _ => 3,
            };
            // As deflate.c: FCHECK makes the 16-bit header a multiple of 31.
            let header = (u16::from(out[0]) << 8) | (flevel << 6);
            let [_, flg] = (header + 31 - header % 31).to_be_bytes();
            out[1] = flg;
        }
        _ => {}
    }
}

fn deflate(
    mut z: Compress,
    data: &[u8],
    step: usize,
    mut out: Vec<u8>,
    cancel: Cancel,
) -> Result<Vec<u8>, KernelError> {
    // compress_vec only writes into spare capacity; reserve() grows geometrically.
    const SPARE: usize = 32 * 1024;
    for piece in pieces(data, step) {
        check(cancel)?;
        let mut rest = piece;
        while !rest.is_empty() {
            out.reserve(SPARE);
            let before = z.total_in();
            z.compress_vec(rest, &mut out, FlushCompress::None)
                .map_err(encoder_failed)?;
            rest = &rest[(z.total_in() - before) as usize..];
        }
    }
    loop {
        out.reserve(SPARE);
        let status = z
            .compress_vec(&[], &mut out, FlushCompress::Finish)
            .map_err(encoder_failed)?;
        if status == Status::StreamEnd {
            return Ok(out);
        }
    }
}

/// Decompresses `data`, failing with `OutputTooLarge` as soon as the output
/// would exceed `max_output` bytes.
pub fn decompress(
    format: Format,
    data: &[u8],
    max_output: usize,
    cancel: Cancel,
) -> Result<Vec<u8>, KernelError> {
    let mut sink = Sink::new(max_output, data.len());
    decode(format, data, &mut sink, cancel)?;
    Ok(sink.finish())
}

mod decode;
mod whole;

use decode::{Sink, decode};

#[cfg(test)]
mod tests;
