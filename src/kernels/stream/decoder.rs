//! Decompression fed piece by piece, as strict as the one-shot kernel: corrupt data fails at
//! once, a stream that stops early fails at [`Decoder::finish`], and output past the limit
//! fails with `OutputTooLarge` before it is held. gzip reads concatenated members (a zero byte
//! after a member ends the input, as in node); deflate, deflate-raw and brotli ignore what
//! follows their end, as node does; zstd reads concatenated frames and rejects anything else.
//! LZ4 is not offered: its frame decoder only pulls from a reader, so it is one-shot only.

use brotli::{BrotliDecompressStream, BrotliResult, BrotliState, HeapAlloc, HuffmanCode};
use flate2::{Decompress, FlushDecompress, Status};
use zstd::stream::raw::{InBuffer, Operation as _, OutBuffer};

use crate::kernels::compress::Format;
use crate::kernels::{CHUNK, Cancel, KernelError, check};

type Brotli = BrotliState<HeapAlloc<u8>, HeapAlloc<u32>, HeapAlloc<HuffmanCode>>;

enum State {
    Inflate(Decompress),
    Brotli(Box<Brotli>),
    Zstd(Box<zstd::stream::raw::Decoder<'static>>),
}

/// A decompression stream of one format.
pub struct Decoder {
    format: Format,
    state: State,
    /// The stream (gzip: a member; zstd: a frame) is complete: more input starts another or
    /// is ignored, per the format.
    ended: bool,
    /// Input after the end is ignored from here on (gzip's zero padding, deflate, brotli).
    ignore_rest: bool,
    seen_input: bool,
    /// `write_some` stopped at its output bound while the decoder still held output.
    pending: bool,
    produced: u64,
    limit: u64,
}

fn corrupt(format: Format, detail: impl ToString) -> KernelError {
    KernelError::CorruptInput {
        format: format.name(),
        detail: detail.to_string(),
    }
}

const EOF: &str = "unexpected end of file";

fn inflater(format: Format) -> Decompress {
    match format {
        Format::Gzip => Decompress::new_gzip(15),
        Format::Deflate => Decompress::new(true),
        _ => Decompress::new(false),
    }
}

impl Decoder {
    /// A stream of `format` that may produce at most `max_output` bytes in all.
    pub fn new(format: Format, max_output: u64) -> Result<Decoder, KernelError> {
        let state = match format {
            Format::Gzip | Format::Deflate | Format::DeflateRaw => State::Inflate(inflater(format)),
            // "strict": no large windows, as node's decoder by default (16 MiB ring buffer).
            Format::Brotli => State::Brotli(Box::new(BrotliState::new_strict(
                HeapAlloc::default(),
                HeapAlloc::default(),
                HeapAlloc::default(),
            ))),
            Format::Zstd => State::Zstd(Box::new(
                zstd::stream::raw::Decoder::new().map_err(|e| corrupt(format, e))?,
            )),
            Format::Lz4 => {
                return Err(KernelError::Unsupported(
                    "lz4 cannot be decompressed as a stream; use decompress() on the whole data"
                        .into(),
                ));
            }
        };
        Ok(Decoder {
            format,
            state,
            ended: false,
            ignore_rest: false,
            seen_input: false,
            pending: false,
            produced: 0,
            limit: max_output,
        })
    }

    /// Decodes `input`; returns all the output it can give so far.
    pub fn write(&mut self, input: &[u8], cancel: Cancel) -> Result<Vec<u8>, KernelError> {
        self.write_some(input, usize::MAX, cancel)
            .map(|(_, out, _)| out)
    }

    /// Decodes `input` until about `max` bytes of output are made (at most one `CHUNK` more),
    /// so a consumer's memory stays bounded whatever the compression ratio. Returns (input
    /// consumed, output, more): `more` says the decoder holds output it had no room for; call
    /// again (with the rest of the input, or none) before `finish`.
    pub fn write_some(
        &mut self,
        input: &[u8],
        max: usize,
        cancel: Cancel,
    ) -> Result<(usize, Vec<u8>, bool), KernelError> {
        let mut out = Vec::new();
        let mut pos = 0;
        // Whether the last call filled its room: the decoder may hold more output.
        let mut full = self.pending;
        while !self.ignore_rest && (pos < input.len() || (full && !self.ended)) {
            if out.len() >= max {
                self.pending = full;
                return Ok((pos, out, full && !self.ended));
            }
            check(cancel)?;
            if self.ended {
                self.next_member(input[pos]);
                if self.ignore_rest {
                    break;
                }
            }
            self.seen_input = true;
            let piece = &input[pos..input.len().min(pos + CHUNK)];
            let (consumed, made, room) = self.step_into(piece, &mut out)?;
            pos += consumed;
            full = made == room;
            if consumed == 0 && made == 0 && !self.ended && !piece.is_empty() {
                return Err(corrupt(self.format, "the decoder made no progress"));
            }
        }
        self.pending = false;
        // Input after the end is ignored (see the module comment): it counts as consumed.
        Ok((if self.ignore_rest { input.len() } else { pos }, out, false))
    }

    /// One decoder call appending to `out`, within the output limit: (consumed, made, room).
    fn step_into(
        &mut self,
        piece: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(usize, usize, usize), KernelError> {
        // At most one byte past the limit: enough to prove the output too large.
        let left = self.limit.saturating_sub(self.produced).saturating_add(1);
        let room = usize::try_from(left).map_or(CHUNK, |l| l.min(CHUNK));
        let start = out.len();
        out.resize(start + room, 0);
        let (consumed, made) = self.step(piece, &mut out[start..])?;
        out.truncate(start + made);
        self.produced += made as u64;
        if self.produced > self.limit {
            return Err(KernelError::OutputTooLarge {
                limit: usize::try_from(self.limit).unwrap_or(usize::MAX),
            });
        }
        Ok((consumed, made, room))
    }

    /// Called when input follows a complete stream.
    fn next_member(&mut self, first: u8) {
        match self.format {
            Format::Gzip if first != 0 => {
                self.state = State::Inflate(inflater(Format::Gzip));
                self.ended = false;
            }
            Format::Zstd => self.ended = false,
            _ => self.ignore_rest = true,
        }
    }

    /// One decoder call: (input consumed, output made).
    fn step(&mut self, input: &[u8], room: &mut [u8]) -> Result<(usize, usize), KernelError> {
        let format = self.format;
        match &mut self.state {
            State::Inflate(z) => {
                let (in0, out0) = (z.total_in(), z.total_out());
                let status = z
                    .decompress(input, room, FlushDecompress::None)
                    .map_err(|e| {
                        let msg = e.to_string();
                        corrupt(
                            format,
                            msg.trim_start_matches("deflate decompression error: "),
                        )
                    })?;
                if status == Status::StreamEnd {
                    self.ended = true;
                }
                Ok((
                    (z.total_in() - in0) as usize,
                    (z.total_out() - out0) as usize,
                ))
            }
            State::Brotli(state) => {
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
                    state,
                );
                match result {
                    BrotliResult::ResultSuccess => self.ended = true,
                    BrotliResult::NeedsMoreInput | BrotliResult::NeedsMoreOutput => {}
                    BrotliResult::ResultFailure => {
                        let code = format!("{:?}", state.error_code);
                        return Err(corrupt(format, code.trim_start_matches("BROTLI_DECODER_")));
                    }
                }
                Ok((in_off, out_off))
            }
            State::Zstd(z) => {
                let mut inb = InBuffer::around(input);
                let mut outb = OutBuffer::around(room);
                // 0: a frame is complete and fully flushed.
                let hint = z.run(&mut inb, &mut outb).map_err(|e| corrupt(format, e))?;
                self.ended = hint == 0;
                Ok((inb.pos(), outb.pos()))
            }
        }
    }

    /// Ends the input: the output still held by the decoder, or `CorruptInput` if the stream
    /// stopped before its end (or there was no input at all).
    pub fn finish(&mut self, cancel: Cancel) -> Result<Vec<u8>, KernelError> {
        // A decoder may hold output it had no room for: drain it with empty input.
        let mut out = Vec::new();
        loop {
            check(cancel)?;
            if self.ended || self.ignore_rest {
                return Ok(out);
            }
            if !self.seen_input {
                return Err(corrupt(self.format, EOF));
            }
            let (_, made, room) = self.step_into(&[], &mut out)?;
            if made < room && !self.ended {
                return Err(corrupt(self.format, EOF));
            }
        }
    }
}
