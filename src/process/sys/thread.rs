//! Per-thread scheduling for the supervisor's own threads.

/// Lowers the calling thread's priority to niceness `nice` (best effort: failure only keeps
/// the default priority). On Linux niceness is per thread, so this affects no other thread.
pub(crate) fn lower_priority(nice: libc::c_int) {
    // SAFETY: no arguments; returns the calling thread's id.
    let tid = unsafe { libc::syscall(libc::SYS_gettid) } as libc::id_t;
    // SAFETY: integer arguments only.
    unsafe { libc::setpriority(libc::PRIO_PROCESS, tid, nice) };
}
