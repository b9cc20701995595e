//! CPU-bound kernels (hashing, compression) that run on worker threads.
//!
//! A kernel borrows its input (`&[u8]`) and returns a freshly allocated
//! `Vec<u8>`. It works through the input in pieces of at most [`CHUNK`] bytes
//! (decoders: of output), each a few milliseconds of work at most, and polls
//! the [`Cancel`] callback before every piece, the first included, so a task
//! cancelled or timed out while queued or running stops within milliseconds
//! with [`KernelError::Cancelled`]. Slow compression levels feed smaller
//! pieces; only the block-based top levels of brotli and zstd can run tens of
//! milliseconds (brotli 10-11: ~0.5 s) between polls.
//!
//! Guarantees: no `unsafe`, no global state (any number of kernels may run in
//! parallel), no panics on untrusted input, and every failure is a
//! [`KernelError`]. Decoders reject truncated, corrupt or trailing-garbage
//! input (following Node's rules where Node has the format) and never hold
//! much more than the caller's output limit in memory.

#![forbid(unsafe_code)]

pub mod compress;
pub mod hash;
pub mod stream;

/// Cooperative cancellation check: returns `true` when the task must stop.
pub type Cancel<'a> = &'a (dyn Fn() -> bool + Sync);

/// Largest piece of input (decoders: of output) handled between two cancel
/// polls: ~0.2 ms of SHA-256, ~1.4 ms of SHA3-512 (the slowest hash), ~0.5 ms
/// of inflate output. Slow compression levels use smaller pieces (see
/// `compress::Format::input_step`).
pub(crate) const CHUNK: usize = 256 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum KernelError {
    #[error("operation was cancelled")]
    Cancelled,
    #[error("decompressed output exceeds maxOutputLength ({limit} bytes)")]
    OutputTooLarge { limit: usize },
    #[error("corrupt {format} input: {detail}")]
    CorruptInput {
        format: &'static str,
        detail: String,
    },
    #[error("{0}")]
    Unsupported(String),
    #[error(transparent)]
    Image(#[from] crate::images::ImageError),
    /// A parameter outside its range, said in Node's wording (password hashing's options).
    #[error("{0}")]
    OutOfRange(String),
    /// An input the kernel cannot read (a password hash), said without quoting it.
    #[error("{0}")]
    Malformed(String),
    /// A failure that checked parameters cannot cause (the OS random source, a crate).
    #[error("{0}")]
    Internal(String),
    /// `decrypt`: the tag did not verify; no plaintext is released.
    #[error(
        "unable to authenticate the message: the key, IV, additional data, ciphertext or tag is not the one it was sealed with"
    )]
    AuthFailed,
}

pub use crate::names::UnknownName;

/// Polls the cancel callback; `?` on the result aborts the kernel.
pub(crate) fn check(cancel: Cancel) -> Result<(), KernelError> {
    if cancel() {
        Err(KernelError::Cancelled)
    } else {
        Ok(())
    }
}

/// Splits `data` into pieces of at most `step` bytes, yielding one empty piece
/// for empty input so loops over it still poll the cancel callback once.
pub(crate) fn pieces(data: &[u8], step: usize) -> impl Iterator<Item = &[u8]> {
    let empty: &[u8] = &[];
    data.chunks(step).chain(data.is_empty().then_some(empty))
}

#[cfg(test)]
pub(crate) mod test_util {
    use super::Cancel;

    pub(crate) const NEVER: Cancel = &|| false;
    pub(crate) const ALWAYS: Cancel = &|| true;

    /// Deterministic pseudo-random bytes (xorshift64*), no extra dev-dependency.
    pub(crate) fn random_bytes(len: usize, seed: u64) -> Vec<u8> {
        let mut s = seed | 1;
        let mut out = Vec::with_capacity(len + 8);
        while out.len() < len {
            s ^= s >> 12;
            s ^= s << 25;
            s ^= s >> 27;
            out.extend_from_slice(&s.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes());
        }
        out.truncate(len);
        out
    }

    /// Pipes `input` through a system tool and returns its stdout; `None` only if the tool
    /// cannot be started because it is not installed, so cross-checks against independent
    /// implementations skip where it is missing. A tool that starts and then fails (non-zero
    /// exit, a broken pipe) panics: that is a disagreement, never a reason to skip.
    pub(crate) fn pipe_through(cmd: &str, args: &[&str], input: &[u8]) -> Option<Vec<u8>> {
        use std::io::Write as _;
        use std::process::{Command, Stdio};
        let mut child = match Command::new(cmd)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
        {
            Ok(child) => child,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
            Err(e) => panic!("{cmd} could not be started: {e}"),
        };
        let mut stdin = child.stdin.take().expect("stdin is piped");
        let input = input.to_vec();
        // Written from another thread: a tool that streams could otherwise fill the stdout
        // pipe while we block writing its stdin.
        let writer = std::thread::spawn(move || stdin.write_all(&input));
        let out = child
            .wait_with_output()
            .unwrap_or_else(|e| panic!("waiting for {cmd}: {e}"));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success(),
            "{cmd} {args:?} failed ({}): {stderr}",
            out.status
        );
        // A tool that exits 0 without reading all of its input did not check what we sent.
        writer
            .join()
            .expect("the stdin writer panicked")
            .unwrap_or_else(|e| panic!("writing to {cmd}: {e} (stderr: {stderr})"));
        Some(out.stdout)
    }

    /// Realistic, moderately compressible log text of about `len` bytes.
    pub(crate) fn log_text(len: usize) -> Vec<u8> {
        let r = random_bytes(len / 16 + 64, 7);
        let mut out = Vec::with_capacity(len + 128);
        let mut i = 0;
        while out.len() < len {
            let (a, b, c) = (r[i % r.len()], r[(i + 1) % r.len()], r[(i + 2) % r.len()]);
            let line = format!(
                "2026-11-22T10:{:02}:{:02}.{:03}Z {} req_id={:06x} method={} path=/api/users/{} status={} dur_ms={}\n",
                a % 60,
                b % 60,
                u16::from(c) * 3,
                ["INFO", "WARN", "DEBUG", "ERROR"][usize::from(a % 4)],
                u32::from(a) << 16 | u32::from(b) << 8 | u32::from(c),
                ["GET", "POST", "PUT"][usize::from(b % 3)],
                u16::from(b) * 7 + u16::from(c),
                [200, 201, 404, 500][usize::from(c % 4)],
                u16::from(a) + u16::from(c),
            );
            out.extend_from_slice(line.as_bytes());
            i += 3;
        }
        out.truncate(len);
        out
    }
}
