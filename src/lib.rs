//! offload: a dedicated CPU pool and built-in kernels for Node.js.
//!
//! `pool` and `kernels` are plain Rust; `binding` is the only module that knows about Node.

pub mod pool;
pub mod kernels;

mod binding;
