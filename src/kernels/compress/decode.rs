//! Streaming decoders that stop at the output limit and reject truncated or corrupt input.

use std::io::Read as _;
use std::ops::Range;

use brotli::{BrotliDecompressStream, BrotliResult, BrotliState, HeapAlloc, HuffmanCode};
use flate2::{Decompress, FlushDecompress, Status};
use zstd::stream::raw::{InBuffer, Operation as _, OutBuffer};

use super::{EOF, Format, corrupt};
use crate::kernels::{CHUNK, Cancel, KernelError, check};

pub(super) fn decode(
    format: Format,
    data: &[u8],
    sink: &mut Sink,
    cancel: Cancel,
) -> Result<(), KernelError> {
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
pub(super) struct Sink {
    pub(super) buf: Vec<u8>,
    filled: usize,
    limit: usize,
    first: usize,
}

impl Sink {
    pub(super) fn new(limit: usize, input_len: usize) -> Self {
        let first = input_len.saturating_mul(4).clamp(64 * 1024, 16 << 20);
        Sink {
            buf: Vec::new(),
            filled: 0,
            limit,
            first,
        }
    }

    fn room(&mut self) -> Result<&mut [u8], KernelError> {
        if self.filled == self.buf.len() {
            let grown = if self.buf.is_empty() {
                self.first
            } else {
                self.buf.len() * 2
            };
            let len = grown.min(self.limit.saturating_add(1));
            // A huge limit must not abort the process when memory runs out.
            self.buf
                .try_reserve_exact(len - self.buf.len())
                .map_err(|_| {
                    KernelError::Unsupported(format!("cannot allocate {len} bytes of output"))
                })?;
            self.buf.resize(len, 0);
        }
        let end = self.buf.len().min(self.filled + CHUNK);
        Ok(&mut self.buf[self.filled..end])
    }

    fn commit(&mut self, produced: usize) -> Result<(), KernelError> {
        self.filled += produced;
        if self.filled > self.limit {
            return Err(KernelError::OutputTooLarge { limit: self.limit });
        }
        Ok(())
    }

    pub(super) fn finish(mut self) -> Vec<u8> {
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
        let room = sink.room()?;
        let room_len = room.len();
        let (in0, out0) = (z.total_in(), z.total_out());
        let status = z
            .decompress(input, room, FlushDecompress::None)
            .map_err(|e| {
                // Keep zlib's own text ("incorrect header check"), as Node shows it.
                let msg = e.to_string();
                corrupt(
                    format,
                    msg.trim_start_matches("deflate decompression error: "),
                )
            })?;
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
        let room = sink.room()?;
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
        let room = sink.room()?;
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
            // A read decodes at most one block (<= 4 MiB, a few ms at worst).
            let n = z.read(sink.room()?).map_err(|e| corrupt(Format::Lz4, e))?;
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
