//! The error of every `FromStr` for a name JS passes (algorithms, formats, kernels): the
//! binding turns it into `ERR_INVALID_ARG_VALUE` listing the allowed names.

#[derive(Debug, thiserror::Error)]
#[error("unknown {kind} {name:?}")]
pub struct UnknownName {
    pub kind: &'static str,
    pub name: String,
}
