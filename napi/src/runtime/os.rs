//! The libc queries the binding makes outside N-API, kept here so the entry modules stay
//! free of `unsafe` and of platform `cfg`s.

/// Whether our stdin (descriptor 0) is a terminal.
pub(crate) fn stdin_is_tty() -> bool {
    // SAFETY: isatty only inspects descriptor 0; any descriptor value is accepted.
    unsafe { libc::isatty(0) == 1 }
}

/// Bytes the C allocator has handed out and not had back, over every arena and mmapped block
/// (glibc's `mallinfo2`: `uordblks + hblkhd`), or -1 where that is not known.
#[cfg(feature = "test-kernels")]
pub(crate) fn malloc_in_use() -> f64 {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: mallinfo2 only reads the allocator's counters (under its arena locks).
        let m = unsafe { libc::mallinfo2() };
        (m.uordblks + m.hblkhd) as f64
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        -1.0
    }
}
