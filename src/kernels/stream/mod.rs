//! Incremental kernels: a digest or HMAC fed piece by piece ([`Hasher`]), and compression and
//! decompression that keep their state between pieces ([`Encoder`], [`Decoder`]). They serve
//! data that never sits in memory whole: files read in chunks, Node streams, HTTP responses.
//!
//! Each call does work proportional to the piece it is given and polls `cancel` between
//! sub-pieces as the one-shot kernels do, so a pool task per piece keeps its cancel latency
//! and its time on a thread bounded. The formats are the one-shot kernels' (same names, levels
//! and checks): an [`Encoder`]'s output decodes with `compress::decompress`, and a [`Decoder`]
//! accepts what `compress::compress` and node:zlib write, rejecting corrupt or truncated input
//! with `CorruptInput` and refusing more than its output limit with `OutputTooLarge`.

mod decoder;
mod encoder;
mod hasher;
#[cfg(test)]
mod tests;

pub use decoder::Decoder;
pub use encoder::{Encoder, Flush};
pub use hasher::Hasher;
