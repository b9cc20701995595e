//! The slots: one file per slot, `slot-<i>`, each opened once per process; holding slot `i`
//! means holding an exclusive `flock` on its file. The kernel keeps the lock, and drops it when
//! the last descriptor closes, so a process killed with SIGKILL gives its slots back as its
//! files close, not after a lease runs out.
//!
//! `flock` is per open file description: two threads of one process locking the same
//! descriptor would both "succeed". A local claim (an atomic flag per slot) therefore comes
//! first, and only a claimed slot is locked.
//!
//! Waiters and wake-ups: a process with tasks waiting holds a shared lock on `waiting`. A
//! releaser probes it (an exclusive non-blocking lock on its own descriptor: refused while
//! anyone holds it shared) and only then rings `bell` (opens and closes it for writing), which
//! every waiting process's inotify watch sees. A holder's death closes its slot files: the
//! watch sees that too.
//!
//! Starvation: between processes the first to lock a freed slot gets it, so a process can lose
//! that race for long. One whose oldest waiter has waited a quantum takes `turn` (exclusive);
//! while it holds it, no other process takes a free slot, so the next one freed is its own.

use std::os::fd::{AsFd, OwnedFd};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use super::HostBudgetError;
use super::dir::BudgetDir;
use super::sys;

pub(crate) struct Slots {
    files: Vec<OwnedFd>,
    claimed: Vec<AtomicBool>,
    /// Where the next search starts, so processes do not all try slot 0 first.
    next: AtomicUsize,
    /// Held shared while this process has waiters; probed exclusive through `probe`.
    waiting: OwnedFd,
    probe: OwnedFd,
    /// Held exclusive by a process whose oldest waiter starves; probed shared through
    /// `turn_probe`. While another process holds it, this one takes no free slot.
    turn: OwnedFd,
    turn_probe: OwnedFd,
    holding_turn: AtomicBool,
    dir: BudgetDir,
}

impl Slots {
    pub(crate) fn open(dir: BudgetDir, n: usize) -> Result<Self, HostBudgetError> {
        let files = (0..n)
            .map(|i| dir.open_file(&format!("slot-{i}"), libc::O_RDONLY))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            claimed: (0..n).map(|_| AtomicBool::new(false)).collect(),
            next: AtomicUsize::new(std::process::id() as usize % n),
            waiting: dir.open_file("waiting", libc::O_RDONLY)?,
            probe: dir.open_file("waiting", libc::O_RDONLY)?,
            turn: dir.open_file("turn", libc::O_RDONLY)?,
            turn_probe: dir.open_file("turn", libc::O_RDONLY)?,
            holding_turn: AtomicBool::new(false),
            files,
            dir,
        })
    }

    pub(crate) fn len(&self) -> usize {
        self.files.len()
    }

    pub(crate) fn dir(&self) -> &BudgetDir {
        &self.dir
    }

    /// Takes a free slot without waiting: its index, or `None` if every slot is held, or if
    /// another process holds the turn.
    pub(crate) fn try_take(&self) -> Option<usize> {
        if !self.holding_turn.load(Ordering::Acquire) {
            match sys::flock(self.turn_probe.as_fd(), libc::LOCK_SH | libc::LOCK_NB) {
                Ok(true) => drop(sys::flock(self.turn_probe.as_fd(), libc::LOCK_UN)),
                _ => return None,
            }
        }
        let n = self.files.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed) % n;
        for k in 0..n {
            let i = (start + k) % n;
            if self.claimed[i].swap(true, Ordering::Acquire) {
                continue;
            }
            // An I/O error on a file we hold open cannot happen short of a kernel bug; counting
            // it as taken by another process keeps the budget's bound.
            if sys::flock(self.files[i].as_fd(), libc::LOCK_EX | libc::LOCK_NB).unwrap_or(false) {
                return Some(i);
            }
            self.claimed[i].store(false, Ordering::Release);
        }
        None
    }

    /// Gives slot `i` back, and wakes waiting processes if there are any.
    pub(crate) fn give(&self, i: usize) {
        let _ = sys::flock(self.files[i].as_fd(), libc::LOCK_UN);
        self.claimed[i].store(false, Ordering::Release);
        if self.contended() {
            self.ring();
        }
    }

    /// Whether some process (this one included) has tasks waiting for a slot.
    pub(crate) fn contended(&self) -> bool {
        match sys::flock(self.probe.as_fd(), libc::LOCK_EX | libc::LOCK_NB) {
            Ok(true) => {
                let _ = sys::flock(self.probe.as_fd(), libc::LOCK_UN);
                false
            }
            _ => true,
        }
    }

    /// Claims the turn for this process's starving waiter; false if another process has it.
    pub(crate) fn take_turn(&self) -> bool {
        if self.holding_turn.load(Ordering::Acquire) {
            return true;
        }
        let got = sys::flock(self.turn.as_fd(), libc::LOCK_EX | libc::LOCK_NB).unwrap_or(false);
        self.holding_turn.store(got, Ordering::Release);
        got
    }

    /// Gives the turn back (its waiter was served) and wakes the processes it held back.
    pub(crate) fn drop_turn(&self) {
        if self.holding_turn.swap(false, Ordering::AcqRel) {
            let _ = sys::flock(self.turn.as_fd(), libc::LOCK_UN);
            if self.contended() {
                self.ring();
            }
        }
    }

    fn ring(&self) {
        // Closing a file opened for writing is the event waiters watch for.
        drop(sys::open_at(
            Some(self.dir.fd.as_fd()),
            "bell",
            libc::O_WRONLY | libc::O_CREAT,
        ));
    }

    /// Announces (or withdraws) this process's waiters. Set before the waiter's last look at
    /// the slots, so a release after that look rings the bell.
    pub(crate) fn set_waiting(&self, waiting: bool) {
        let op = if waiting {
            libc::LOCK_SH
        } else {
            libc::LOCK_UN
        };
        // A shared lock waits at most for a releaser's probe, a few microseconds.
        let _ = sys::flock(self.waiting.as_fd(), op);
    }

    /// Slots held host-wide right now, by trying each one not held here (for stats only).
    pub(crate) fn held_anywhere(&self) -> usize {
        (0..self.files.len())
            .filter(|&i| {
                if self.claimed[i].swap(true, Ordering::Acquire) {
                    return true;
                }
                let free = sys::flock(self.files[i].as_fd(), libc::LOCK_EX | libc::LOCK_NB)
                    .unwrap_or(false);
                if free {
                    // Another process may have tried it meanwhile and gone to wait: ring.
                    self.give(i);
                } else {
                    self.claimed[i].store(false, Ordering::Release);
                }
                !free
            })
            .count()
    }
}
