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

use std::ffi::{CString, OsStr, c_int, c_void};
use std::os::fd::RawFd;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::ptr;
use std::sync::atomic::{AtomicI32, Ordering};

/// Where one of the child's standard streams comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stdio {
    /// The parent's own stream.
    Inherit,
    /// `/dev/null`.
    Null,
    /// This descriptor (e.g. one end of a pipe), duplicated onto the stream.
    Fd(RawFd),
}

/// Resource limits applied in the child before `execve`; `None` leaves a limit as inherited.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Limits {
    /// Address space (`RLIMIT_AS`), bytes.
    pub memory_bytes: Option<u64>,
    /// CPU time (`RLIMIT_CPU`), seconds; the child gets SIGXCPU, then SIGKILL a second later.
    pub cpu_seconds: Option<u64>,
    /// Open file descriptors (`RLIMIT_NOFILE`).
    pub open_files: Option<u64>,
    /// Processes of the user (`RLIMIT_NPROC`).
    pub processes: Option<u64>,
    /// Largest file the child may write (`RLIMIT_FSIZE`), bytes; past it, SIGXFSZ.
    pub file_size_bytes: Option<u64>,
}

impl Limits {
    fn rlimits(&self) -> Vec<(c_int, libc::rlimit)> {
        let pairs = [
            (libc::RLIMIT_AS, self.memory_bytes),
            (libc::RLIMIT_CPU, self.cpu_seconds),
            (libc::RLIMIT_NOFILE, self.open_files),
            (libc::RLIMIT_NPROC, self.processes),
            (libc::RLIMIT_FSIZE, self.file_size_bytes),
        ];
        // SAFETY: valid out-pointer.
        let mut cpu: libc::rlimit = unsafe { std::mem::zeroed() };
        // SAFETY: as above.
        unsafe { libc::getrlimit(libc::RLIMIT_CPU, &mut cpu) };
        pairs
            .into_iter()
            .filter_map(|(resource, v)| {
                v.map(|v| {
                    // A CPU hard limit one second above the soft one: SIGXCPU (which names the
                    // cause) arrives first, and SIGKILL only if the child ignores it.
                    // (Capped at the inherited hard limit, which only a privileged process may
                    // raise; a soft limit above it fails the spawn with a clear error.)
                    let max = if resource == libc::RLIMIT_CPU {
                        v.saturating_add(1).min(cpu.rlim_max).max(v)
                    } else {
                        v
                    };
                    let lim = libc::rlimit {
                        rlim_cur: v,
                        rlim_max: max,
                    };
                    (resource as c_int, lim)
                })
            })
            .collect()
    }
}

fn limit_name(resource: c_int) -> &'static str {
    match resource as _ {
        libc::RLIMIT_AS => "memoryBytes",
        libc::RLIMIT_CPU => "cpuSeconds",
        libc::RLIMIT_NOFILE => "openFiles",
        libc::RLIMIT_NPROC => "processes",
        libc::RLIMIT_FSIZE => "fileSizeBytes",
        _ => "unknown",
    }
}

/// What to run and how.
#[derive(Clone, Debug)]
pub struct Command {
    pub program: PathBuf,
    /// Arguments after the program name (`argv[1..]`).
    pub args: Vec<Vec<u8>>,
    /// The complete environment, as `NAME=value` entries.
    pub env: Vec<Vec<u8>>,
    pub cwd: Option<PathBuf>,
    pub stdin: Stdio,
    pub stdout: Stdio,
    pub stderr: Stdio,
    /// Descriptors the child gets beyond stdio, as `(target, source)`: `source` (one of ours)
    /// becomes the child's `target`. Targets must be unique and at least 3; at most
    /// [`MAX_EXTRA_FDS`]. (The process pool's message pipes use this.)
    pub extra_fds: Vec<(RawFd, RawFd)>,
    /// Make the child the leader of a new process group, so the whole tree can be signalled.
    pub process_group: bool,
    /// Signal the child receives when the thread that spawned it dies (`PR_SET_PDEATHSIG`).
    pub parent_death_signal: Option<c_int>,
    pub limits: Limits,
}

impl Command {
    pub fn new(program: impl Into<PathBuf>) -> Self {
        Self {
            program: program.into(),
            args: Vec::new(),
            env: Vec::new(),
            cwd: None,
            stdin: Stdio::Null,
            stdout: Stdio::Inherit,
            stderr: Stdio::Inherit,
            extra_fds: Vec::new(),
            process_group: false,
            parent_death_signal: None,
            limits: Limits::default(),
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SpawnError {
    /// `path` is the search path used; it is kept out of the message, which reaches logs and
    /// HTTP clients of apps that echo it.
    #[error("{program}: not found")]
    NotFound { program: String, path: String },
    #[error("{program}: permission denied")]
    PermissionDenied { program: String },
    #[error("{what} contains a NUL byte")]
    Nul { what: &'static str },
    #[error("extra descriptors need unique targets of at least 3, at most {MAX_EXTRA_FDS} of them")]
    ExtraFds,
    #[error("{program}: exec failed: {}", std::io::Error::from_raw_os_error(*.errno))]
    Exec { program: String, errno: i32 },
    #[error("cwd {cwd:?}: {}", std::io::Error::from_raw_os_error(*.errno))]
    Cwd { cwd: String, errno: i32 },
    #[error("could not apply the {resource} limit: {}", std::io::Error::from_raw_os_error(*.errno))]
    Limit { resource: &'static str, errno: i32 },
    #[error("could not set up the child ({step}): {}", std::io::Error::from_raw_os_error(*.errno))]
    Setup { step: &'static str, errno: i32 },
    #[error("could not create the process: {}", std::io::Error::from_raw_os_error(*.0))]
    Clone(i32),
    #[error("could not set up the child's stdio: {}", std::io::Error::from_raw_os_error(*.0))]
    Stdio(i32),
    #[error("the supervisor failed internally; the child's state is unknown")]
    Internal,
}

/// How a child ended, with its resource usage.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExitStatus {
    pub code: Option<i32>,
    pub signal: Option<i32>,
    /// Peak RSS as `wait4` reports it. Linux charges a child that shared its parent's memory
    /// until `execve` (as ours do) with the parent's peak too, so this is at least the parent's
    /// peak RSS at the time of the spawn; see `Report::max_rss_bytes`.
    pub max_rss_bytes: u64,
    pub user_cpu_us: u64,
    pub system_cpu_us: u64,
}

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

/// The most descriptors [`Command::extra_fds`] may pass.
pub const MAX_EXTRA_FDS: usize = 8;

fn cstring(bytes: &[u8], what: &'static str) -> Result<CString, SpawnError> {
    CString::new(bytes).map_err(|_| SpawnError::Nul { what })
}

/// Finds `program` like `execvp` would, in the parent, so the child only has to `execve`.
/// Relative `PATH` entries are taken from `cwd`, the directory the child will run in, as
/// `execvp` after the child's `chdir` would (a caller passes it absolute, so the answer does
/// not depend on this process's directory when the spawn finally happens).
fn resolve(program: &Path, env: &[Vec<u8>], cwd: Option<&Path>) -> Result<PathBuf, SpawnError> {
    let shown = program.display().to_string();
    if program.as_os_str().as_bytes().contains(&b'/') {
        return Ok(program.to_path_buf());
    }
    let path = env
        .iter()
        .find_map(|e| e.strip_prefix(b"PATH="))
        .map(|p| p.to_vec())
        // Not the parent's PATH: reading the environment here (off the thread that changes
        // it) would race with `setenv`. This is glibc's default for an unset PATH.
        .unwrap_or_else(|| b"/bin:/usr/bin".to_vec());
    let mut denied = false;
    for dir in path.split(|&b| b == b':') {
        let dir = Path::new(OsStr::from_bytes(if dir.is_empty() { b"." } else { dir }));
        let candidate = match cwd {
            Some(base) if dir.is_relative() => base.join(dir).join(program),
            _ => dir.join(program),
        };
        let Ok(c) = CString::new(candidate.as_os_str().as_bytes()) else {
            continue;
        };
        // SAFETY: a valid C string.
        if unsafe { libc::access(c.as_ptr(), libc::X_OK) } == 0 && candidate.is_file() {
            return Ok(candidate);
        }
        denied |= candidate.is_file();
    }
    if denied {
        return Err(SpawnError::PermissionDenied { program: shown });
    }
    Err(SpawnError::NotFound {
        program: shown,
        path: String::from_utf8_lossy(&path).into_owned(),
    })
}

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
    let mut stack = vec![0u8; CHILD_STACK];
    // SAFETY: the stack grows down; its top, 16-byte aligned, is inside the allocation.
    let top = unsafe { stack.as_mut_ptr().add(CHILD_STACK) }.map_addr(|a| a & !15);
    // SAFETY: signals are blocked so no handler runs on the child's stack while it shares our
    // memory; CLONE_VFORK suspends this thread until the child execs or exits, so `child`
    // and `stack` outlive every use by the child.
    let pid = unsafe {
        let mut all: libc::sigset_t = std::mem::zeroed();
        let mut old: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut all);
        libc::pthread_sigmask(libc::SIG_SETMASK, &all, &mut old);
        let pid = libc::clone(
            child_main,
            top.cast::<c_void>(),
            libc::CLONE_VM | libc::CLONE_VFORK | libc::SIGCHLD,
            (&raw mut child).cast::<c_void>(),
        );
        let clone_errno = *libc::__errno_location();
        libc::pthread_sigmask(libc::SIG_SETMASK, &old, ptr::null_mut());
        if pid < 0 {
            return Err(SpawnError::Clone(clone_errno));
        }
        pid
    };
    drop(stack);
    let errno = child.errno.load(Ordering::Relaxed);
    if errno != 0 {
        // The child exited with 127 without exec'ing; reap it so it leaves no zombie.
        let _ = wait(pid);
        let program = cmd.program.display().to_string();
        return Err(match child.step.load(Ordering::Relaxed) {
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
        });
    }
    Ok(pid)
}

/// The child side. Only async-signal-safe libc calls; see the module docs.
extern "C" fn child_main(arg: *mut c_void) -> c_int {
    /// Records errno for the parent and exits without running any destructor or atexit hook.
    ///
    /// # Safety
    /// Only for the cloned child: it ends the calling process at once.
    unsafe fn fail(a: &ChildArgs) -> ! {
        // SAFETY: reading errno and exiting are async-signal-safe.
        unsafe {
            let errno = *libc::__errno_location();
            a.errno.store(
                if errno == 0 { libc::EINVAL } else { errno },
                Ordering::Relaxed,
            );
            libc::_exit(127)
        }
    }
    // SAFETY: `arg` is the parent's `ChildArgs`, alive while the parent is suspended.
    let a = unsafe { &*arg.cast::<ChildArgs>() };
    // SAFETY: raw syscalls on prepared data; on any failure we record errno and _exit.
    unsafe {
        // Default dispositions for every signal (SIGKILL/SIGSTOP and glibc's internal ones
        // refuse; that is fine), then unblock everything the parent blocked around clone.
        let mut dfl: libc::sigaction = std::mem::zeroed();
        dfl.sa_sigaction = libc::SIG_DFL;
        for sig in 1..65 {
            libc::sigaction(sig, &dfl, ptr::null_mut());
        }
        if a.process_group && libc::setpgid(0, 0) != 0 {
            fail(a);
        }
        if a.parent_death_signal != 0 {
            if libc::prctl(
                libc::PR_SET_PDEATHSIG,
                a.parent_death_signal as libc::c_ulong,
            ) != 0
            {
                fail(a);
            }
            // The parent may have died before the prctl; then nobody would signal us.
            if libc::getppid() != a.parent_pid {
                libc::_exit(127);
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
            let moved = libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, high + 1);
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
                    libc::fcntl(target, libc::F_SETFD, 0);
                    continue;
                }
                Stdio::Fd(fd) => fd,
                Stdio::Null => {
                    let mode = if target == 0 {
                        libc::O_RDONLY
                    } else {
                        libc::O_WRONLY
                    };
                    let fd = libc::open(a.dev_null.as_ptr(), mode | libc::O_CLOEXEC);
                    if fd < 0 {
                        fail(a);
                    }
                    fd
                }
            };
            if libc::dup2(fd, target) < 0 {
                fail(a);
            }
        }
        // dup2 leaves the new descriptor without close-on-exec, so these survive execve.
        for &(target, source) in extra.iter() {
            if libc::dup2(source, target) < 0 {
                fail(a);
            }
        }
        a.step.store(STEP_CWD, Ordering::Relaxed);
        if let Some(cwd) = &a.cwd
            && libc::chdir(cwd.as_ptr()) != 0
        {
            fail(a);
        }
        // Limits last: a low descriptor or memory limit must not break the setup above.
        for (i, (resource, lim)) in a.rlimits.iter().enumerate() {
            a.step.store(STEP_LIMITS + i as i32, Ordering::Relaxed);
            if libc::setrlimit(*resource as _, lim) != 0 {
                fail(a);
            }
        }
        a.step.store(STEP_EXEC, Ordering::Relaxed);
        let mut empty: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut empty);
        libc::sigprocmask(libc::SIG_SETMASK, &empty, ptr::null_mut());
        libc::execve(a.program.as_ptr(), a.argv.as_ptr(), a.envp.as_ptr());
        fail(a)
    }
}

/// Blocks until `pid` exits; returns how, with its resource usage (from `wait4`).
pub fn wait(pid: libc::pid_t) -> std::io::Result<ExitStatus> {
    loop {
        if let Some(status) = wait4(pid, 0)? {
            return Ok(status);
        }
    }
}

/// Reaps `pid` if it has exited, without blocking.
pub fn try_wait(pid: libc::pid_t) -> std::io::Result<Option<ExitStatus>> {
    wait4(pid, libc::WNOHANG)
}

fn wait4(pid: libc::pid_t, flags: c_int) -> std::io::Result<Option<ExitStatus>> {
    let mut status = 0;
    // SAFETY: plain syscall with valid out-pointers.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    match unsafe { libc::wait4(pid, &mut status, flags, &mut usage) } {
        0 => return Ok(None),
        r if r == pid => {}
        _ => {
            let err = std::io::Error::last_os_error();
            if err.kind() == std::io::ErrorKind::Interrupted {
                return Ok(None);
            }
            return Err(err);
        }
    }
    let micros = |t: libc::timeval| t.tv_sec as u64 * 1_000_000 + t.tv_usec as u64;
    Ok(Some(ExitStatus {
        code: libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status)),
        signal: libc::WIFSIGNALED(status).then(|| libc::WTERMSIG(status)),
        max_rss_bytes: usage.ru_maxrss as u64 * 1024,
        user_cpu_us: micros(usage.ru_utime),
        system_cpu_us: micros(usage.ru_stime),
    }))
}
