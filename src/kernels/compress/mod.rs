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
    const ALL: [Format; 6] = [
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
    fn input_step(self, level: i32) -> usize {
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
    let range = format.level_range();
    if !range.contains(&level) {
        return Err(KernelError::Unsupported(format!(
            "compression level {level} is out of range for {} ({}..={})",
            format.name(),
            range.start(),
            range.end()
        )));
    }
    let step = format.input_step(level);
    // Small inputs get their worst case up front; large ones start at 1/4 and
    // double, which fits typical text ratios without over-reserving.
    let out = Vec::with_capacity(if data.len() <= 64 * 1024 {
        data.len() + 128
    } else {
        data.len() / 4
    });
    let zlevel = Compression::new(level.unsigned_abs());
    let mut out = match format {
        // zlib itself writes the gzip header: mtime 0, XFL by level, OS = 3
        // (Unix) — byte for byte what Node's zlib.gzip emits.
        Format::Gzip => deflate(Compress::new_gzip(zlevel, 15), data, step, out, cancel)?,
        Format::Deflate => deflate(Compress::new(zlevel, true), data, step, out, cancel)?,
        Format::DeflateRaw => deflate(Compress::new(zlevel, false), data, step, out, cancel)?,
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

use decode::{Sink, decode};

#[cfg(test)]
mod tests;
