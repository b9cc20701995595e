//! gzip, deflate and deflate-raw of inputs up to [`MAX_INPUT`] in one call to libdeflate.
//!
//! libdeflate compresses a whole buffer at once, with no streaming state, and measured faster
//! than zlib-rs at the same level with a smaller output (1 MiB of JSON records, one thread, best
//! of 30 on the 2-core EPYC: level 6 10.4 ms and 250,149 bytes against zlib-rs's 13.4 ms and
//! 255,309, node's zlib 16.8 ms and 251,529; level 1 3.6 against 5.5 ms). It cannot stop
//! mid-way, so only inputs it finishes in tens of milliseconds come here (4 MiB at level 6,
//! about 40 ms); larger ones stream through zlib-rs with cancel polls. Levels 7-9 stay with
//! zlib-rs too: at level 8 libdeflate's output was 1.2x zlib's on repeated 30 KB blocks, past
//! the 10% the size test allows. Headers are labelled as
//! zlib labels them (`label_level`, and gzip's OS byte 3, Unix), so node's bytes and ours
//! differ only in the compressed data. Level 0 (stored) and empty inputs (node's exact bytes)
//! stay with zlib-rs.

use libdeflater::{CompressionLvl, Compressor};

use super::{Format, encoder_failed, label_level};
use crate::kernels::{Cancel, KernelError, check};

/// Largest input compressed in one uncancellable call.
pub(super) const MAX_INPUT: usize = 4 << 20;

/// The compressed stream, or `None` when this path does not apply (format, level 0, size).
pub(super) fn compress(
    format: Format,
    data: &[u8],
    level: i32,
    cancel: Cancel,
) -> Result<Option<Vec<u8>>, KernelError> {
    if !matches!(format, Format::Gzip | Format::Deflate | Format::DeflateRaw)
        || !(1..=6).contains(&level)
        || data.is_empty()
        || data.len() > MAX_INPUT
    {
        return Ok(None);
    }
    check(cancel)?;
    let lvl = CompressionLvl::new(level).map_err(|e| encoder_failed(format!("{e:?}")))?;
    let mut c = Compressor::new(lvl);
    let bound = match format {
        Format::Gzip => c.gzip_compress_bound(data.len()),
        Format::Deflate => c.zlib_compress_bound(data.len()),
        _ => c.deflate_compress_bound(data.len()),
    };
    let mut out = vec![0u8; bound];
    let n = match format {
        Format::Gzip => c.gzip_compress(data, &mut out),
        Format::Deflate => c.zlib_compress(data, &mut out),
        _ => c.deflate_compress(data, &mut out),
    }
    .map_err(|e| encoder_failed(format!("{e:?}")))?;
    out.truncate(n);
    label_level(format, level, &mut out);
    if format == Format::Gzip {
        out[9] = 3;
    }
    out.shrink_to_fit();
    Ok(Some(out))
}
