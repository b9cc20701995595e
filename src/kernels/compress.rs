//! Compression and bounded, strict decompression.
//!
//! Gzip, deflate, deflate-raw and brotli follow Node's `zlib` (same wrappers,
//! levels, defaults and error texts where possible); zstd and lz4 use their
//! standard frame formats, with content checksums so corruption is detected.

use std::io::{Read as _, Write};
use std::ops::{Range, RangeInclusive};
use std::str::FromStr;

use brotli::enc::BrotliEncoderParams;
use brotli::enc::backward_references::BrotliEncoderMode;
use brotli::{BrotliDecompressStream, BrotliResult, BrotliState, HeapAlloc, HuffmanCode};
use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};
use zstd::stream::raw::{InBuffer, Operation as _, OutBuffer};

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

    /// Node's defaults: Z_DEFAULT_COMPRESSION (6), BROTLI_DEFAULT_QUALITY (11),
    /// ZSTD_CLEVEL_DEFAULT (3).
    pub fn default_level(self) -> i32 {
        match self {
            Self::Gzip | Self::Deflate | Self::DeflateRaw => 6,
            Self::Brotli => 11,
            Self::Zstd => 3,
            Self::Lz4 => 0,
        }
    }

    /// Input fed to the compressor between cancellation checks: at most ~2 ms
    /// of work at the single-core speed measured for each level on log text.
    /// zstd (128 KiB blocks) and brotli >= 4 (64-256 KiB blocks) compress
    /// whole blocks at once, so at their top levels one check per block is
    /// the best granularity available (tens of ms; ~0.5 s for brotli 10-11).
    fn input_step(self, level: i32) -> usize {
        const K: usize = 1024;
        match (self, level) {
            (Self::Gzip | Self::Deflate | Self::DeflateRaw, 0..=3) => CHUNK, // <= 7 ms/MiB
            (Self::Gzip | Self::Deflate | Self::DeflateRaw, 4..=7) => 64 * K, // <= 28 ms/MiB
            (Self::Gzip | Self::Deflate | Self::DeflateRaw, _) => 16 * K,    // <= 70 ms/MiB
            (Self::Brotli, 0..=1) => CHUNK,                                  // <= 8 ms/MiB
            (Self::Brotli, 2..=3) => 128 * K,                                // ~16 ms/MiB
            (Self::Brotli, 4..=6) => 32 * K,                                 // <= 45 ms/MiB
            (Self::Brotli, _) => 16 * K,                                     // >= 66 ms/MiB
            (Self::Zstd, 1..=4) => CHUNK,                                    // ~5 ms/MiB
            (Self::Zstd, 5..=9) => 64 * K,                                   // <= 23 ms/MiB
            (Self::Zstd, _) => 32 * K,                                       // >= 27 ms/MiB
            (Self::Lz4, _) => CHUNK,                                         // ~2 ms/MiB
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

fn corrupt(format: Format, detail: impl ToString) -> KernelError {
    KernelError::CorruptInput {
        format: format.name(),
        detail: detail.to_string(),
    }
}

const EOF: &str = "unexpected end of file";

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

fn decode(format: Format, data: &[u8], sink: &mut Sink, cancel: Cancel) -> Result<(), KernelError> {
    match format {
        Format::Gzip => inflate(format, Decompress::new_gzip(15), data, sink, cancel),
        Format::Deflate => inflate(format, Decompress::new(true), data, sink, cancel),
        Format::DeflateRaw => inflate(format, Decompress::new(false), data, sink, cancel),
        Format::Brotli => unbrotli(data, sink, cancel),
        Format::Zstd => unzstd(data, sink, cancel),
        Format::Lz4 => unlz4(data, sink, cancel),
    }
}

/// Decoder output buffer. It grows geometrically but never past `limit + 1`
/// bytes (one byte over the limit proves the output too large), so a bomb
/// costs about `limit` bytes of memory. It is zero-filled ahead of the decoder
/// because the safe decoder APIs write into `&mut [u8]`; each call gets at
/// most CHUNK bytes of room, which bounds the work between cancel checks.
struct Sink {
    buf: Vec<u8>,
    filled: usize,
    limit: usize,
    first: usize,
}

impl Sink {
    fn new(limit: usize, input_len: usize) -> Self {
        let first = input_len.saturating_mul(4).clamp(64 * 1024, 16 << 20);
        Sink {
            buf: Vec::new(),
            filled: 0,
            limit,
            first,
        }
    }

    fn room(&mut self) -> &mut [u8] {
        if self.filled == self.buf.len() {
            let grown = if self.buf.is_empty() {
                self.first
            } else {
                self.buf.len() * 2
            };
            let len = grown.min(self.limit.saturating_add(1));
            self.buf.reserve_exact(len - self.buf.len());
            self.buf.resize(len, 0);
        }
        let end = self.buf.len().min(self.filled + CHUNK);
        &mut self.buf[self.filled..end]
    }

    fn commit(&mut self, produced: usize) -> Result<(), KernelError> {
        self.filled += produced;
        if self.filled > self.limit {
            return Err(KernelError::OutputTooLarge { limit: self.limit });
        }
        Ok(())
    }

    fn finish(mut self) -> Vec<u8> {
        self.buf.truncate(self.filled);
        self.buf.shrink_to_fit();
        self.buf
    }
}

fn inflate(
    format: Format,
    mut z: Decompress,
    data: &[u8],
    sink: &mut Sink,
    cancel: Cancel,
) -> Result<(), KernelError> {
    let mut pos = 0;
    loop {
        check(cancel)?;
        let input = &data[pos..data.len().min(pos + CHUNK)];
        let room = sink.room();
        let room_len = room.len();
        let (in0, out0) = (z.total_in(), z.total_out());
        let status = z
            .decompress(input, room, FlushDecompress::None)
            .map_err(|e| corrupt(format, e))?;
        let consumed = (z.total_in() - in0) as usize;
        let produced = (z.total_out() - out0) as usize;
        pos += consumed;
        sink.commit(produced)?;
        if status == Status::StreamEnd {
            // Like Node's gunzip: another member follows unless the rest is
            // empty or starts with a zero byte (padding, ignored with all that
            // follows). Node's inflate / inflateRaw ignore trailing bytes too.
            if format == Format::Gzip && data.get(pos).is_some_and(|&b| b != 0) {
                z = Decompress::new_gzip(15);
                continue;
            }
            return Ok(());
        }
        // Room left over while all input is consumed means the stream ended early.
        let stalled = consumed == 0 && produced == 0;
        if produced < room_len && (pos == data.len() || stalled) {
            return Err(corrupt(format, EOF));
        }
    }
}

fn unbrotli(data: &[u8], sink: &mut Sink, cancel: Cancel) -> Result<(), KernelError> {
    // "strict" rejects large-window streams, as Node's decoder does by default,
    // which caps the decoder's ring buffer at 16 MiB.
    let mut state = BrotliState::new_strict(
        HeapAlloc::<u8>::default(),
        HeapAlloc::<u32>::default(),
        HeapAlloc::<HuffmanCode>::default(),
    );
    let mut pos = 0;
    loop {
        check(cancel)?;
        let input = &data[pos..data.len().min(pos + CHUNK)];
        let room = sink.room();
        let (mut avail_in, mut in_off) = (input.len(), 0);
        let (mut avail_out, mut out_off, mut total) = (room.len(), 0, 0);
        let result = BrotliDecompressStream(
            &mut avail_in,
            &mut in_off,
            input,
            &mut avail_out,
            &mut out_off,
            room,
            &mut total,
            &mut state,
        );
        pos += in_off;
        sink.commit(out_off)?;
        match result {
            // Trailing bytes after the last meta-block are ignored, as in Node.
            BrotliResult::ResultSuccess => return Ok(()),
            BrotliResult::NeedsMoreOutput => {}
            BrotliResult::NeedsMoreInput if pos < data.len() => {}
            BrotliResult::NeedsMoreInput => return Err(corrupt(Format::Brotli, EOF)),
            BrotliResult::ResultFailure => {
                let code = format!("{:?}", state.error_code);
                let detail = code.trim_start_matches("BROTLI_DECODER_").to_owned();
                return Err(corrupt(Format::Brotli, detail));
            }
        }
    }
}

/// Decodes every frame in `data` (concatenated frames are valid zstd, as with
/// the zstd CLI); trailing garbage is an error. Windows above 128 MiB (zstd's
/// default limit) are refused, which bounds the decoder's own memory.
fn unzstd(data: &[u8], sink: &mut Sink, cancel: Cancel) -> Result<(), KernelError> {
    let mut z = zstd::stream::raw::Decoder::new().map_err(|e| corrupt(Format::Zstd, e))?;
    let mut pos = 0;
    loop {
        check(cancel)?;
        let mut input = InBuffer::around(&data[pos..data.len().min(pos + CHUNK)]);
        let room = sink.room();
        let room_len = room.len();
        let mut output = OutBuffer::around(room);
        // 0 means a frame was completed and fully flushed.
        let hint = z
            .run(&mut input, &mut output)
            .map_err(|e| corrupt(Format::Zstd, e))?;
        let produced = output.pos();
        pos += input.pos();
        sink.commit(produced)?;
        if pos == data.len() {
            if hint == 0 && !data.is_empty() {
                return Ok(());
            }
            if produced < room_len {
                return Err(corrupt(Format::Zstd, EOF));
            }
        }
    }
}

fn unlz4(data: &[u8], sink: &mut Sink, cancel: Cancel) -> Result<(), KernelError> {
    for frame in lz4_frames(data).map_err(|e| corrupt(Format::Lz4, e))? {
        let mut z = lz4_flex::frame::FrameDecoder::new(&data[frame]);
        loop {
            check(cancel)?;
            // One read decodes at most one block (<= 4 MiB, about a millisecond).
            let n = z.read(sink.room()).map_err(|e| corrupt(Format::Lz4, e))?;
            sink.commit(n)?;
            if n == 0 {
                break;
            }
        }
    }
    Ok(())
}

/// Splits `data` into LZ4 frames by walking headers and block sizes, skipping
/// skippable frames. Needed because lz4_flex reports input that ends on a
/// block boundary as a clean end of stream, i.e. it accepts truncation.
fn lz4_frames(data: &[u8]) -> Result<Vec<Range<usize>>, String> {
    const MAGIC: u32 = 0x184D_2204;
    let word = |at: usize| -> Result<u32, String> {
        let bytes = data.get(at..at.saturating_add(4)).ok_or(EOF)?;
        Ok(u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
    };
    let mut frames = Vec::new();
    let mut p = 0;
    loop {
        let magic = word(p)?;
        if magic & 0xFFFF_FFF0 == 0x184D_2A50 {
            p += 8 + word(p + 4)? as usize;
        } else if magic != MAGIC {
            return Err(format!("bad frame magic number {magic:#010x}"));
        } else {
            let start = p;
            let flags = *data.get(p + 4).ok_or(EOF)?;
            let opt = |bit: u8, len: usize| if flags & bit != 0 { len } else { 0 };
            p += 7 + opt(0x08, 8) + opt(0x01, 4); // magic, FLG, BD, [size], [dict id], HC
            loop {
                let block = word(p)?;
                p += 4;
                if block == 0 {
                    break; // end mark
                }
                p += (block & 0x7FFF_FFFF) as usize + opt(0x10, 4);
            }
            p += opt(0x04, 4);
            frames.push(start..p);
        }
        if p >= data.len() {
            return if p == data.len() {
                Ok(frames)
            } else {
                Err(EOF.to_owned())
            };
        }
    }
}
