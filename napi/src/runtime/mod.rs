//! The raw N-API runtime: the only module of the crate with `unsafe` code and `napi::sys`
//! calls. The entry modules get safe functions from here and never see a raw handle.
//!
//! - `channel`: the per-environment completion channel (pool threads → one threadsafe
//!   function → the JS thread), with teardown that waits for borrowed memory; `batch`
//!   hands one batch of slotted completions to the JS dispatcher.
//! - `deferred`: promises created and settled natively, holding their inputs by reference.
//! - `value`: results to JS (Buffers owning their `Vec`, mapped captures, lists).
//! - `text`: large strings as V8 external strings, prepared off the JS thread.
//! - `js`: small conversions (strings, numbers, handles) every other file here uses.
//! - `input`: zero-copy views of `Uint8Array` inputs.
//! - `os`: the two libc queries the binding needs (terminal stdin, allocator counters).
//!
//! Guarantees: every `unsafe` block has a `// SAFETY:` line and does one unsafe thing; every
//! `unsafe fn` has a `# Safety` section; every N-API status is checked, or a comment says why
//! ignoring it is sound (a call that cannot fail in a live environment, or teardown). Nothing
//! here imports the entry modules: the layering is errors → runtime → options → entries.

pub(crate) mod batch;
pub(crate) mod channel;
pub(crate) mod deferred;
pub(crate) mod input;
pub(crate) mod js;
pub(crate) mod os;
pub(crate) mod text;
pub(crate) mod turn;
pub(crate) mod value;
