//! Signal names as Node spells them (`'SIGTERM'`), for options and reports.

use std::ffi::c_int;

const SIGNALS: &[(&str, c_int)] = &[
    ("SIGHUP", libc::SIGHUP),
    ("SIGINT", libc::SIGINT),
    ("SIGQUIT", libc::SIGQUIT),
    ("SIGILL", libc::SIGILL),
    ("SIGTRAP", libc::SIGTRAP),
    ("SIGABRT", libc::SIGABRT),
    ("SIGBUS", libc::SIGBUS),
    ("SIGFPE", libc::SIGFPE),
    ("SIGKILL", libc::SIGKILL),
    ("SIGUSR1", libc::SIGUSR1),
    ("SIGSEGV", libc::SIGSEGV),
    ("SIGUSR2", libc::SIGUSR2),
    ("SIGPIPE", libc::SIGPIPE),
    ("SIGALRM", libc::SIGALRM),
    ("SIGTERM", libc::SIGTERM),
    ("SIGSTKFLT", libc::SIGSTKFLT),
    ("SIGCHLD", libc::SIGCHLD),
    ("SIGCONT", libc::SIGCONT),
    ("SIGSTOP", libc::SIGSTOP),
    ("SIGTSTP", libc::SIGTSTP),
    ("SIGTTIN", libc::SIGTTIN),
    ("SIGTTOU", libc::SIGTTOU),
    ("SIGURG", libc::SIGURG),
    ("SIGXCPU", libc::SIGXCPU),
    ("SIGXFSZ", libc::SIGXFSZ),
    ("SIGVTALRM", libc::SIGVTALRM),
    ("SIGPROF", libc::SIGPROF),
    ("SIGWINCH", libc::SIGWINCH),
    ("SIGIO", libc::SIGIO),
    ("SIGPWR", libc::SIGPWR),
    ("SIGSYS", libc::SIGSYS),
];

/// The number of a signal named like `'SIGTERM'`.
pub fn by_name(name: &str) -> Option<c_int> {
    SIGNALS.iter().find(|(n, _)| *n == name).map(|&(_, s)| s)
}

/// The name of signal `sig`; real-time signals are `SIGRTMIN+n`.
pub fn name(sig: c_int) -> String {
    if let Some((n, _)) = SIGNALS.iter().find(|(_, s)| *s == sig) {
        return (*n).to_owned();
    }
    let rtmin = libc::SIGRTMIN();
    if (rtmin..=libc::SIGRTMAX()).contains(&sig) {
        return format!("SIGRTMIN+{}", sig - rtmin);
    }
    format!("signal {sig}")
}

/// Whether `sig` is a signal number that can be sent (0 only probes, so it is excluded).
pub fn is_valid(sig: c_int) -> bool {
    (1..=libc::SIGRTMAX()).contains(&sig)
}

/// Sends `sig` to `target` (a pid, or minus a process group id); false if it could not.
///
/// The caller must know `target` is still its own: a pid it has not reaped yet (or the group
/// named after one); after the reap the number may name an unrelated process.
pub(crate) fn send(target: libc::pid_t, sig: c_int) -> bool {
    // SAFETY: kill takes plain integers and touches no memory of ours.
    unsafe { libc::kill(target, sig) == 0 }
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_round_trip() {
        assert_eq!(super::by_name("SIGTERM"), Some(libc::SIGTERM));
        assert_eq!(super::name(libc::SIGKILL), "SIGKILL");
        assert_eq!(super::by_name("SIGNOPE"), None);
        assert!(super::name(libc::SIGRTMIN() + 2).ends_with("+2"));
        assert!(!super::is_valid(0) && super::is_valid(libc::SIGKILL));
    }
}
