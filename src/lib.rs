//! offload: a dedicated CPU pool and built-in kernels for Node.js.
//!
//! `pool`, `kernels` and `process` are plain Rust; `binding` is the only module that knows about Node.

pub mod kernels;
pub mod pool;
// Fork-free spawning uses Linux's clone and prctl.
#[cfg(target_os = "linux")]
pub mod process;

// napi-derive registers nothing under cfg(test), so the binding is left out of unit tests;
// the JS suites in __test__/ exercise it.
#[cfg(not(test))]
mod binding;
