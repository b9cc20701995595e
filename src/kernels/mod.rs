//! TEMPORARY STUB (replaced by the real kernels)
pub mod compress;
pub mod hash;
pub type Cancel<'a> = &'a (dyn Fn() -> bool + Sync);
#[derive(Debug, thiserror::Error)]
pub enum KernelError {
    #[error("cancelled")]
    Cancelled,
    #[error("too large {limit}")]
    OutputTooLarge { limit: usize },
    #[error("corrupt {format} {detail}")]
    CorruptInput {
        format: &'static str,
        detail: String,
    },
    #[error("{0}")]
    Unsupported(String),
}
#[derive(Debug, thiserror::Error)]
#[error("unknown {kind} {name:?}")]
pub struct UnknownName {
    pub kind: &'static str,
    pub name: String,
}
