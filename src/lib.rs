//! offload's core: a dedicated CPU pool ([`pool`]), the kernels that run on it ([`kernels`],
//! [`images`], [`files`], [`parse`]), a fork-free subprocess supervisor ([`process`]), the dispatch
//! queue of the JS thread pool ([`threads`]) and the budgets that bound work ([`budget`]). Plain Rust: this crate does not depend on
//! napi, so nothing here can touch JavaScript values; the Node binding is the `offload` crate in
//! `napi/`, which converts options and errors and hands results to JavaScript.

pub mod budget;
pub mod crypto;
#[cfg(unix)]
pub mod files;
pub mod images;
pub mod kernels;
pub mod names;
#[cfg(unix)]
pub mod parse;
pub mod pool;
// Fork-free spawning uses Linux's clone and prctl.
#[cfg(target_os = "linux")]
pub mod process;
pub mod reclaim;
pub mod threads;
