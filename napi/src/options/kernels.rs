//! Kernel arguments and options: algorithm, encoding and format names, compression levels and
//! output limits.
//!
//! The string unions `index.d.ts` offers (`HashAlgorithm`, `HmacAlgorithm`, `Encoding`,
//! `CompressionFormat`) are generated from the `string_enum`s below; each is tied to its core
//! type by an exhaustive match, so a core variant without a JS name fails to compile, and the
//! names listed in error messages come from the same enums. Arguments still arrive as strings
//! and are parsed by the core type: a bad name is our coded `ERR_INVALID_ARG_VALUE`, not napi's.

use napi_derive::napi;

use super::{MAX_BUFFER_LENGTH, integer, name};
use crate::errors::{Result, one_of, out_of_range};
use offload_core::kernels::compress::Format;
use offload_core::kernels::hash::{Encoding as CoreEncoding, HashAlgorithm as CoreAlgorithm};

/// Options for `hash()`, `hmac()` and `hashMany()`.
#[napi(object, object_to_js = false)]
pub struct HashOptions {
    /// Output encoding: `'buffer'`, `'hex'`, `'base64'` or `'base64url'`. Default: `'buffer'`.
    pub encoding: Option<String>,
}

/// Options for `compress()`.
#[napi(object, object_to_js = false)]
pub struct CompressOptions {
    /// Compression level: 0–9 for gzip/deflate/deflate-raw (default 6, as node:zlib;
    /// each level's output is at most ~10% larger than node:zlib's at that level),
    /// 0–11 for brotli (default 11, as node:zlib), 1–22 for zstd (default 3), 0 for lz4.
    /// Default: the format's default.
    pub level: Option<f64>,
}

/// Options for `decompress()`.
#[napi(object, object_to_js = false)]
pub struct DecompressOptions {
    /// Largest output allowed; a larger result rejects with `ERR_OFFLOAD_OUTPUT_TOO_LARGE`
    /// as soon as it is exceeded, guarding against decompression bombs.
    /// Default: `buffer.constants.MAX_LENGTH` (4 GiB on 64-bit Node 20).
    pub max_output_length: Option<f64>,
}

/// Digests `hash` and `hashMany` compute.
#[napi(string_enum)]
pub enum HashAlgorithm {
    #[napi(value = "sha1")]
    Sha1,
    #[napi(value = "sha256")]
    Sha256,
    #[napi(value = "sha384")]
    Sha384,
    #[napi(value = "sha512")]
    Sha512,
    #[napi(value = "sha3-256")]
    Sha3_256,
    #[napi(value = "sha3-512")]
    Sha3_512,
    #[napi(value = "blake3")]
    Blake3,
    #[napi(value = "xxh3-64")]
    Xxh3_64,
    #[napi(value = "xxh3-128")]
    Xxh3_128,
    #[napi(value = "md5")]
    Md5,
    #[napi(value = "crc32c")]
    Crc32c,
}

/// Digests `hmac` supports.
#[napi(string_enum)]
pub enum HmacAlgorithm {
    #[napi(value = "sha1")]
    Sha1,
    #[napi(value = "sha256")]
    Sha256,
    #[napi(value = "sha384")]
    Sha384,
    #[napi(value = "sha512")]
    Sha512,
    #[napi(value = "sha3-256")]
    Sha3_256,
    #[napi(value = "sha3-512")]
    Sha3_512,
    #[napi(value = "md5")]
    Md5,
}

/// How a digest is returned: a Buffer, or a string in that encoding.
#[napi(string_enum)]
pub enum Encoding {
    #[napi(value = "buffer")]
    Buffer,
    #[napi(value = "hex")]
    Hex,
    #[napi(value = "base64")]
    Base64,
    #[napi(value = "base64url")]
    Base64Url,
}

/// Formats of `compress` and `decompress`; gzip, deflate, deflate-raw and brotli interoperate with node:zlib.
#[napi(string_enum)]
pub enum CompressionFormat {
    #[napi(value = "gzip")]
    Gzip,
    #[napi(value = "deflate")]
    Deflate,
    #[napi(value = "deflate-raw")]
    DeflateRaw,
    #[napi(value = "brotli")]
    Brotli,
    #[napi(value = "zstd")]
    Zstd,
    #[napi(value = "lz4")]
    Lz4,
}

/// The typings' name of each core algorithm (every one has one), and whether `hmac` takes it.
fn js_algorithm(a: CoreAlgorithm) -> (HashAlgorithm, Option<HmacAlgorithm>) {
    use {HashAlgorithm as J, HmacAlgorithm as H};
    match a {
        CoreAlgorithm::Sha1 => (J::Sha1, Some(H::Sha1)),
        CoreAlgorithm::Sha256 => (J::Sha256, Some(H::Sha256)),
        CoreAlgorithm::Sha384 => (J::Sha384, Some(H::Sha384)),
        CoreAlgorithm::Sha512 => (J::Sha512, Some(H::Sha512)),
        CoreAlgorithm::Sha3_256 => (J::Sha3_256, Some(H::Sha3_256)),
        CoreAlgorithm::Sha3_512 => (J::Sha3_512, Some(H::Sha3_512)),
        CoreAlgorithm::Md5 => (J::Md5, Some(H::Md5)),
        CoreAlgorithm::Blake3 => (J::Blake3, None),
        CoreAlgorithm::Xxh3_64 => (J::Xxh3_64, None),
        CoreAlgorithm::Xxh3_128 => (J::Xxh3_128, None),
        CoreAlgorithm::Crc32c => (J::Crc32c, None),
    }
}

/// Every encoding, in the typings' order (the matches below tie the enums together).
const ENCODINGS: [CoreEncoding; 4] = [
    CoreEncoding::Buffer,
    CoreEncoding::Hex,
    CoreEncoding::Base64,
    CoreEncoding::Base64Url,
];

fn encoding_name(e: CoreEncoding) -> &'static str {
    match e {
        CoreEncoding::Buffer => "buffer",
        CoreEncoding::Hex => "hex",
        CoreEncoding::Base64 => "base64",
        CoreEncoding::Base64Url => "base64url",
    }
}

const _: fn(CoreEncoding) -> Encoding = |e| match e {
    CoreEncoding::Buffer => Encoding::Buffer,
    CoreEncoding::Hex => Encoding::Hex,
    CoreEncoding::Base64 => Encoding::Base64,
    CoreEncoding::Base64Url => Encoding::Base64Url,
};

/// Every format, in the typings' order.
const FORMATS: [Format; 6] = [
    Format::Gzip,
    Format::Deflate,
    Format::DeflateRaw,
    Format::Brotli,
    Format::Zstd,
    Format::Lz4,
];

const _: fn(Format) -> CompressionFormat = |f| match f {
    Format::Gzip => CompressionFormat::Gzip,
    Format::Deflate => CompressionFormat::Deflate,
    Format::DeflateRaw => CompressionFormat::DeflateRaw,
    Format::Brotli => CompressionFormat::Brotli,
    Format::Zstd => CompressionFormat::Zstd,
    Format::Lz4 => CompressionFormat::Lz4,
};

/// The `algorithm` argument of `hash` and `hashMany`.
pub(crate) fn algorithm(name: &str) -> Result<CoreAlgorithm> {
    let all: Vec<&str> = CoreAlgorithm::ALL.iter().map(|a| a.name()).collect();
    self::name("argument 'algorithm'", &all, name)
}

/// The `algorithm` argument of `hmac`: one of the `HmacAlgorithm` union.
pub(crate) fn hmac_algorithm(name: &str) -> Result<CoreAlgorithm> {
    let hmac = |a: &CoreAlgorithm| js_algorithm(*a).1.is_some() && a.supports_hmac();
    let all: Vec<&str> = CoreAlgorithm::ALL
        .iter()
        .filter(|a| hmac(a))
        .map(|a| a.name())
        .collect();
    match algorithm(name)? {
        alg if hmac(&alg) => Ok(alg),
        _ => Err(one_of("argument 'algorithm' for hmac", &all, name)),
    }
}

/// `options.encoding` of the hash kernels.
pub(crate) fn encoding(options: Option<HashOptions>) -> Result<CoreEncoding> {
    match options.and_then(|o| o.encoding) {
        None => Ok(CoreEncoding::Buffer),
        Some(e) => {
            let all = ENCODINGS.map(encoding_name);
            name("property 'options.encoding'", &all, &e)
        }
    }
}

/// The `format` argument of `compress` and `decompress`.
pub(crate) fn format(name: &str) -> Result<Format> {
    let all = FORMATS.map(Format::name);
    self::name("argument 'format'", &all, name)
}

/// `options.level` of `compress`, within the format's range.
pub(crate) fn level(format: Format, options: Option<CompressOptions>) -> Result<i32> {
    let range = format.level_range();
    match options.and_then(|o| o.level) {
        None => Ok(format.default_level()),
        Some(l) => {
            let (lo, hi) = (*range.start(), *range.end());
            let what = format!(">= {lo} && <= {hi} for {}", format.name());
            Ok(integer("options.level", l, lo.into(), hi.into(), &what)? as i32)
        }
    }
}

/// `options.maxOutputLength` of `decompress`.
pub(crate) fn max_output(options: Option<DecompressOptions>) -> Result<usize> {
    match options.and_then(|o| o.max_output_length) {
        None => Ok(MAX_BUFFER_LENGTH as usize),
        Some(m) if m.fract() == 0.0 && (0.0..=MAX_BUFFER_LENGTH).contains(&m) => Ok(m as usize),
        Some(m) => Err(out_of_range(
            "options.maxOutputLength",
            format!("an integer >= 0 && <= {MAX_BUFFER_LENGTH}"),
            m,
        )),
    }
}
