//! Process creation with `clone(CLONE_VM | CLONE_VFORK)`, as glibc's `posix_spawn` does.
//!
//! The child borrows the parent's memory until it calls `execve`, so spawning costs the same
//! whatever the size of the parent's heap (`fork` copies page tables: Node's `child_process`
//! stalls its event loop for 1.4 s per spawn at a 4 GiB heap). Unlike `posix_spawn`, the child
//! can first join a new process group, set a parent-death signal and apply rlimits.
//!
//! The child runs on a small stack of its own and makes plain syscalls only: no allocation, no
//! locks, nothing from Rust's std, because it shares the parent's memory and locks. Everything
//! it needs (C strings, the resolved program path) is prepared beforehand. Signals are blocked
//! around the clone so no parent handler can run on the child's stack; the child resets every
//! handler to its default and unblocks everything before `execve`. An `execve` failure is
//! reported through the shared memory the parent reads once the child is gone.
//!
//! Only the clone and the child's side live here; [`Command`] and PATH resolution are in
//! `command.rs`. Every raw call the child makes goes through a one-line helper at the bottom
//! of this file, each with its own SAFETY argument, so `child_main` reads as the plain
//! sequence of steps it is.

use std::ffi::{CString, c_int, c_void};
use std::os::unix::ffi::OsStrExt;
use std::ptr;
use std::sync::atomic::{AtomicI32, Ordering};

use super::command::{Command, MAX_EXTRA_FDS, SpawnError, Stdio, cstring, limit_name, resolve};
use super::reap::wait;

/// Everything the child reads, prepared in the parent.
struct ChildArgs {
    program: CString,
    argv: Vec<*const libc::c_char>,
    envp: Vec<*const libc::c_char>,
    cwd: Option<CString>,
    dev_null: CString,
    stdio: [Stdio; 3],
    extra: [(c_int, c_int); MAX_EXTRA_FDS],
    extra_len: usize,
    process_group: bool,
    parent_death_signal: c_int,
    parent_pid: libc::pid_t,
    rlimits: Vec<(c_int, libc::rlimit)>,
    /// Written by the child if it fails before or at `execve` (atomic only so the child can
    /// write it through the shared reference it holds).
    errno: AtomicI32,
    /// Which setup step the child was at (`STEP_*`), so a failure names its cause.
    step: AtomicI32,
}

const STEP_SETUP: i32 = 0;
const STEP_CWD: i32 = 1;
const STEP_LIMITS: i32 = 2; // + the index of the limit in `rlimits`
const STEP_EXEC: i32 = 100;

const CHILD_STACK: usize = 64 * 1024;

/// Starts `cmd` and returns the child's pid once it has exec'd. Reap it with [`wait`].
pub fn spawn(cmd: &Command) -> Result<libc::pid_t, SpawnError> {
    let program_path = resolve(&cmd.program, &cmd.env, cmd.cwd.as_deref())?;
    let program = cstring(program_path.as_os_str().as_bytes(), "the program path")?;
    let argv0 = cstring(cmd.program.as_os_str().as_bytes(), "the program")?;
    let args = std::iter::once(Ok(argv0))
        .chain(cmd.args.iter().map(|a| cstring(a, "an argument")))
        .collect::<Result<Vec<_>, _>>()?;
    let env = cmd
        .env
        .iter()
        .map(|e| cstring(e, "an environment entry"))
        .collect::<Result<Vec<_>, _>>()?;
    let cwd = match &cmd.cwd {
        Some(c) => Some(cstring(c.as_os_str().as_bytes(), "cwd")?),
        None => None,
    };
    let null_terminated = |v: &[CString]| {
        v.iter()
            .map(|s| s.as_ptr())
            .chain(std::iter::once(ptr::null()))
            .collect()
    };
    let mut extra = [(0, 0); MAX_EXTRA_FDS];
    let targets_ok = cmd
        .extra_fds
        .iter()
        .enumerate()
        .all(|(i, &(t, _))| t >= 3 && !cmd.extra_fds[..i].iter().any(|&(u, _)| u == t));
    if cmd.extra_fds.len() > MAX_EXTRA_FDS || !targets_ok {
        return Err(SpawnError::ExtraFds);
    }
    extra[..cmd.extra_fds.len()].copy_from_slice(&cmd.extra_fds);
    let mut child = ChildArgs {
        argv: null_terminated(&args),
        envp: null_terminated(&env),
        program,
        cwd,
        dev_null: CString::from(c"/dev/null"),
        stdio: [cmd.stdin, cmd.stdout, cmd.stderr],
        extra,
        extra_len: cmd.extra_fds.len(),
        process_group: cmd.process_group,
        parent_death_signal: cmd.parent_death_signal.unwrap_or(0),
        // SAFETY: always succeeds.
        parent_pid: unsafe { libc::getpid() },
        rlimits: cmd.limits.rlimits(),
        errno: AtomicI32::new(0),
        step: AtomicI32::new(STEP_SETUP),
    };
    let pid = clone_child(&mut child)?;
    let errno = child.errno.load(Ordering::Relaxed);
    if errno == 0 {
        return Ok(pid);
    }
    // The child exited with 127 without exec'ing; reap it so it leaves no zombie.
    let _ = wait(pid);
    let program = cmd.program.display().to_string();
    Err(match child.step.load(Ordering::Relaxed) {
        STEP_EXEC => match errno {
            libc::ENOENT => SpawnError::NotFound {
                program,
                path: program_path.display().to_string(),
            },
            libc::EACCES => SpawnError::PermissionDenied { program },
            errno => SpawnError::Exec { program, errno },
        },
        STEP_CWD => SpawnError::Cwd {
            cwd: cmd
                .cwd
                .as_ref()
                .map(|c| c.display().to_string())
                .unwrap_or_default(),
            errno,
        },
        step if step >= STEP_LIMITS => SpawnError::Limit {
            resource: child
                .rlimits
                .get((step - STEP_LIMITS) as usize)
                .map_or("unknown", |&(r, _)| limit_name(r)),
            errno,
        },
        _ => SpawnError::Setup {
            step: "process group, parent-death signal or stdio",
            errno,
        },
    })
}

/// Clones the child onto a stack of its own and returns once it has exec'd or exited.
fn clone_child(child: &mut ChildArgs) -> Result<libc::pid_t, SpawnError> {
    let mut stack = vec![0u8; CHILD_STACK];
    // The stack grows down: start at its end, 16-byte aligned (still inside the allocation).
    let top = stack
        .as_mut_ptr_range()
        .end
        .map_addr(|a| a & !15)
        .cast::<c_void>();
    // No parent handler may run on the child's stack while it shares our memory.
    let old = set_signal_mask(&full_set());
    // SAFETY: CLONE_VFORK suspends this thread until the child execs or exits, so `child`
    // and `stack` outlive every use by the child; `child_main` only makes async-signal-safe
    // calls (see the module docs).
    let pid = unsafe {
        libc::clone(
            child_main,
            top,
            libc::CLONE_VM | libc::CLONE_VFORK | libc::SIGCHLD,
            ptr::from_mut(child).cast::<c_void>(),
        )
    };
    let clone_errno = errno();
    set_signal_mask(&old);
    drop(stack);
    if pid < 0 {
        return Err(SpawnError::Clone(clone_errno));
    }
    Ok(pid)
}

/// The child side. Only async-signal-safe libc calls (the helpers below); see the module docs.
extern "C" fn child_main(arg: *mut c_void) -> c_int {
    // SAFETY: `arg` is the parent's `ChildArgs`, alive while the parent is suspended.
    let a = unsafe { &*arg.cast::<ChildArgs>() };
    // Default dispositions for every signal (SIGKILL/SIGSTOP and glibc's internal ones
    // refuse; that is fine), then unblock everything the parent blocked around clone.
    for sig in 1..65 {
        reset_signal(sig);
    }
    if a.process_group && setpgid_self() != 0 {
        fail(a);
    }
    if a.parent_death_signal != 0 {
        if set_parent_death_signal(a.parent_death_signal) != 0 {
            fail(a);
        }
        // The parent may have died before the prctl; then nobody would signal us.
        if parent_pid() != a.parent_pid {
            exit_now(127);
        }
    }
    // A source descriptor at or below the highest target could be overwritten by an
    // earlier dup2 onto it: move such sources above every target first.
    let mut stdio = a.stdio;
    let mut extra = a.extra;
    let extra = &mut extra[..a.extra_len];
    let high = extra.iter().map(|&(t, _)| t).max().unwrap_or(2).max(2);
    let above = |fd: c_int| -> c_int {
        if fd > high {
            return fd;
        }
        let moved = dup_above(fd, high + 1);
        if moved < 0 {
            fail(a);
        }
        moved
    };
    for source in &mut stdio {
        if let Stdio::Fd(fd) = *source {
            *source = Stdio::Fd(above(fd));
        }
    }
    for (_, source) in extra.iter_mut() {
        *source = above(*source);
    }
    for (target, source) in stdio.iter().enumerate() {
        let target = target as c_int;
        let fd = match *source {
            Stdio::Inherit => {
                // The parent may hold its own stdio close-on-exec (Node does): clear the
                // flag so the program really inherits it. A closed descriptor stays closed.
                clear_cloexec(target);
                continue;
            }
            Stdio::Fd(fd) => fd,
            Stdio::Null => {
                let fd = open_dev_null(a, target == 0);
                if fd < 0 {
                    fail(a);
                }
                fd
            }
        };
        if dup_onto(fd, target) < 0 {
            fail(a);
        }
    }
    // dup2 leaves the new descriptor without close-on-exec, so these survive execve.
    for &(target, source) in extra.iter() {
        if dup_onto(source, target) < 0 {
            fail(a);
        }
    }
    a.step.store(STEP_CWD, Ordering::Relaxed);
    if let Some(cwd) = &a.cwd
        && change_dir(cwd) != 0
    {
        fail(a);
    }
    // Limits last: a low descriptor or memory limit must not break the setup above.
    for (i, (resource, lim)) in a.rlimits.iter().enumerate() {
        a.step.store(STEP_LIMITS + i as i32, Ordering::Relaxed);
        if set_limit(*resource, lim) != 0 {
            fail(a);
        }
    }
    a.step.store(STEP_EXEC, Ordering::Relaxed);
    set_signal_mask(&empty_set());
    exec(a);
    fail(a)
}

// The raw calls, one unsafe operation each. All are async-signal-safe and take only plain
// integers or pointers to data the parent prepared (alive while it is suspended), so none
// allocates, locks, or touches memory it does not own: safe to call from the cloned child.

/// Records errno for the parent and exits without running any destructor or atexit hook.
fn fail(a: &ChildArgs) -> ! {
    let errno = errno();
    a.errno.store(
        if errno == 0 { libc::EINVAL } else { errno },
        Ordering::Relaxed,
    );
    exit_now(127)
}

fn errno() -> c_int {
    // SAFETY: no arguments; returns this thread's errno slot.
    let slot = unsafe { libc::__errno_location() };
    // SAFETY: the slot is valid for reads for the life of the thread.
    unsafe { *slot }
}

fn exit_now(code: c_int) -> ! {
    // SAFETY: `_exit` ends the process at once; nothing of ours runs after it.
    unsafe { libc::_exit(code) }
}

fn full_set() -> libc::sigset_t {
    // SAFETY: sigset_t is plain data; all zeroes is a valid (empty) value.
    let mut set: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: fills a valid sigset_t we own.
    unsafe { libc::sigfillset(&mut set) };
    set
}

fn empty_set() -> libc::sigset_t {
    // SAFETY: sigset_t is plain data; all zeroes is a valid value.
    let mut set: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: clears a valid sigset_t we own.
    unsafe { libc::sigemptyset(&mut set) };
    set
}

/// Sets the calling thread's signal mask and returns the previous one.
fn set_signal_mask(set: &libc::sigset_t) -> libc::sigset_t {
    // SAFETY: sigset_t is plain data; all zeroes is a valid value.
    let mut old: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: valid in and out pointers to sigset_t values.
    unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, set, &mut old) };
    old
}

fn reset_signal(sig: c_int) {
    // SAFETY: sigaction is plain data; all zeroes is SIG_DFL with no flags.
    let mut dfl: libc::sigaction = unsafe { std::mem::zeroed() };
    dfl.sa_sigaction = libc::SIG_DFL;
    // SAFETY: a valid sigaction; a signal that refuses it just keeps its disposition.
    unsafe { libc::sigaction(sig, &dfl, ptr::null_mut()) };
}

fn setpgid_self() -> c_int {
    // SAFETY: integer arguments only.
    unsafe { libc::setpgid(0, 0) }
}

fn set_parent_death_signal(sig: c_int) -> c_int {
    // SAFETY: integer arguments only.
    unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, sig as libc::c_ulong) }
}

fn parent_pid() -> libc::pid_t {
    // SAFETY: no arguments; always succeeds.
    unsafe { libc::getppid() }
}

/// A duplicate of `fd` at `min` or above (close-on-exec), or -1.
fn dup_above(fd: c_int, min: c_int) -> c_int {
    // SAFETY: integer arguments only.
    unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, min) }
}

fn clear_cloexec(fd: c_int) {
    // SAFETY: integer arguments only; a closed descriptor just fails.
    unsafe { libc::fcntl(fd, libc::F_SETFD, 0) };
}

fn open_dev_null(a: &ChildArgs, read: bool) -> c_int {
    let mode = if read { libc::O_RDONLY } else { libc::O_WRONLY };
    // SAFETY: a NUL-terminated path the parent prepared.
    unsafe { libc::open(a.dev_null.as_ptr(), mode | libc::O_CLOEXEC) }
}

fn dup_onto(fd: c_int, target: c_int) -> c_int {
    // SAFETY: integer arguments only.
    unsafe { libc::dup2(fd, target) }
}

fn change_dir(dir: &CString) -> c_int {
    // SAFETY: a NUL-terminated path the parent prepared.
    unsafe { libc::chdir(dir.as_ptr()) }
}

fn set_limit(resource: c_int, lim: &libc::rlimit) -> c_int {
    // SAFETY: a valid rlimit the parent prepared.
    unsafe { libc::setrlimit(resource as _, lim) }
}

/// Replaces the process image; returns only on failure.
fn exec(a: &ChildArgs) {
    // SAFETY: NUL-terminated program path and NULL-terminated argv/envp arrays whose strings
    // the parent keeps alive while it is suspended.
    unsafe { libc::execve(a.program.as_ptr(), a.argv.as_ptr(), a.envp.as_ptr()) };
}
