//! What to run ([`Command`]) and how it can fail ([`SpawnError`]), prepared in the parent:
//! stdio sources, resource limits, and `execvp`-style PATH resolution.
//!
//! Everything here runs on ordinary threads with all of std available; the cloned child never
//! calls into this module (see `spawn.rs`), so it is free to allocate and touch the filesystem.

use std::ffi::{CString, OsStr, c_int};
use std::os::fd::RawFd;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

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
    pub(crate) fn rlimits(&self) -> Vec<(c_int, libc::rlimit)> {
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

pub(crate) fn limit_name(resource: c_int) -> &'static str {
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

/// The most descriptors [`Command::extra_fds`] may pass.
pub(crate) const MAX_EXTRA_FDS: usize = 8;

pub(crate) fn cstring(bytes: &[u8], what: &'static str) -> Result<CString, SpawnError> {
    CString::new(bytes).map_err(|_| SpawnError::Nul { what })
}

/// Finds `program` like `execvp` would, in the parent, so the child only has to `execve`.
/// Relative `PATH` entries are taken from `cwd`, the directory the child will run in, as
/// `execvp` after the child's `chdir` would (a caller passes it absolute, so the answer does
/// not depend on this process's directory when the spawn finally happens).
pub(crate) fn resolve(
    program: &Path,
    env: &[Vec<u8>],
    cwd: Option<&Path>,
) -> Result<PathBuf, SpawnError> {
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
