//! Budgets that bound work beyond one pool: memory admitted within this process (`memory`), and
//! running tasks across every process of this user on the host (`host`).

#[cfg(target_os = "linux")]
pub mod host;
mod memory;

pub(crate) use memory::{Budget, Grant, Refused};
