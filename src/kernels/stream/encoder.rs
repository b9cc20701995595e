//! Compression that keeps its state between pieces, with `Sync` flushes (everything written so
//! far becomes decodable: zlib's `Z_SYNC_FLUSH`, brotli's `FLUSH`, zstd's `ZSTD_e_flush`, an LZ4
//! block) for server-sent events and other streams a reader consumes as they arrive.
//!
//! Every format is a `Write` adapter over a `Vec` whose bytes are taken after each call, so a
//! call returns exactly the output it produced. Levels are the one-shot kernel's, with its
//! mapping of zlib level 1 (zlib-rs's level 2, zlib's level-1 parameters); the one-shot
//! kernel's level-4-to-6 retry at level 7 needs the whole input and is not done here.

use std::io::Write;

use brotli::enc::BrotliEncoderParams;
use flate2::Compression;

use crate::kernels::compress::Format;
use crate::kernels::{Cancel, KernelError, check, pieces};

/// What to do after the input of one [`Encoder::write`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flush {
    /// Keep what the compressor buffers for better ratios.
    None,
    /// Emit everything so far in decodable form; the stream goes on.
    Sync,
    /// End the stream (trailer, checksum); the encoder takes no more input.
    Finish,
}

/// A compressor whose output is a `Vec` it owns until taken.
trait Sink: Write + Send {
    fn output(&mut self) -> &mut Vec<u8>;
    fn end(self: Box<Self>) -> std::io::Result<Vec<u8>>;
}

macro_rules! sink {
    ($ty:ty, $end:ident) => {
        impl Sink for $ty {
            fn output(&mut self) -> &mut Vec<u8> {
                self.get_mut()
            }
            fn end(self: Box<Self>) -> std::io::Result<Vec<u8>> {
                (*self).$end()
            }
        }
    };
}

sink!(flate2::write::GzEncoder<Vec<u8>>, finish);
sink!(flate2::write::ZlibEncoder<Vec<u8>>, finish);
sink!(flate2::write::DeflateEncoder<Vec<u8>>, finish);
sink!(zstd::stream::write::Encoder<'static, Vec<u8>>, finish);

impl Sink for brotli::CompressorWriter<Vec<u8>> {
    fn output(&mut self) -> &mut Vec<u8> {
        self.get_mut()
    }
    fn end(self: Box<Self>) -> std::io::Result<Vec<u8>> {
        // into_inner finishes the stream (BROTLI_OPERATION_FINISH) before it returns the Vec.
        Ok((*self).into_inner())
    }
}

impl Sink for lz4_flex::frame::FrameEncoder<Vec<u8>> {
    fn output(&mut self) -> &mut Vec<u8> {
        self.get_mut()
    }
    fn end(self: Box<Self>) -> std::io::Result<Vec<u8>> {
        (*self).finish().map_err(std::io::Error::other)
    }
}

/// A compression stream of one format.
pub struct Encoder {
    step: usize,
    /// None once finished.
    sink: Option<Box<dyn Sink>>,
}

fn failed(e: impl ToString) -> KernelError {
    KernelError::Unsupported(format!("encoder failed: {}", e.to_string()))
}

impl Encoder {
    /// A stream of `format` at `level` (checked against the format's range, as `compress`).
    pub fn new(format: Format, level: i32) -> Result<Encoder, KernelError> {
        format.check_level(level)?;
        let zlib = || Compression::new(if level == 1 { 2 } else { level.unsigned_abs() });
        let sink: Box<dyn Sink> = match format {
            Format::Gzip => Box::new(flate2::write::GzEncoder::new(Vec::new(), zlib())),
            Format::Deflate => Box::new(flate2::write::ZlibEncoder::new(Vec::new(), zlib())),
            Format::DeflateRaw => Box::new(flate2::write::DeflateEncoder::new(Vec::new(), zlib())),
            Format::Brotli => {
                let params = BrotliEncoderParams {
                    quality: level,
                    lgwin: 22,
                    ..BrotliEncoderParams::default()
                };
                Box::new(brotli::CompressorWriter::with_params(
                    Vec::new(),
                    64 * 1024,
                    &params,
                ))
            }
            Format::Zstd => {
                let mut w = zstd::stream::write::Encoder::new(Vec::new(), level).map_err(failed)?;
                w.include_checksum(true).map_err(failed)?;
                Box::new(w)
            }
            Format::Lz4 => {
                let info = lz4_flex::frame::FrameInfo::new().content_checksum(true);
                Box::new(lz4_flex::frame::FrameEncoder::with_frame_info(
                    info,
                    Vec::new(),
                ))
            }
        };
        Ok(Encoder {
            step: format.input_step(level),
            sink: Some(sink),
        })
    }

    /// Whether [`Flush::Finish`] has ended the stream.
    pub fn is_finished(&self) -> bool {
        self.sink.is_none()
    }

    /// Compresses `input`, then flushes as asked; returns the output this call produced
    /// (often empty without a flush). After `Finish`, or an error, further calls fail.
    pub fn write(
        &mut self,
        input: &[u8],
        flush: Flush,
        cancel: Cancel,
    ) -> Result<Vec<u8>, KernelError> {
        let Some(mut sink) = self.sink.take() else {
            return Err(KernelError::Unsupported(
                "the compression stream has ended".into(),
            ));
        };
        for piece in pieces(input, self.step) {
            check(cancel)?;
            sink.write_all(piece).map_err(failed)?;
        }
        match flush {
            Flush::None => {}
            Flush::Sync => sink.flush().map_err(failed)?,
            Flush::Finish => return sink.end().map_err(failed),
        }
        let out = std::mem::take(sink.output());
        self.sink = Some(sink);
        Ok(out)
    }
}
