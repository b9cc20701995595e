//! What a caller asks of a child ([`Spec`], with its [`Input`] and [`Output`] modes) and what
//! it gets back ([`Report`]): plain data, fixed before the child is admitted and filled in
//! once it has ended, so every layer above can share it without depending on one another.

#![forbid(unsafe_code)]

use std::ffi::c_int;
use std::os::fd::{OwnedFd, RawFd};
use std::time::Duration;

use super::capture::Captured;
use super::sys::command::{Command, Limits, SpawnError};
use super::sys::pipe::Source;
use super::sys::reap::ExitStatus;

/// The child's stdin.
pub enum Input {
    /// `/dev/null`.
    Null,
    /// The parent's stdin.
    Inherit,
    /// A pipe written with `Child::write` and closed with `Child::close_stdin`.
    Pipe,
    /// A pipe that is fed these bytes and then closed.
    Bytes(Box<dyn Source>),
}

/// What happens to the child's stdout or stderr.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Output {
    /// `/dev/null`.
    Ignore,
    /// The parent's own stream.
    Inherit,
    /// Collected into the [`Report`], up to `max_buffer` bytes.
    Capture,
    /// A pipe read with `Child::read`.
    Stream,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    Stdout = 0,
    Stderr = 1,
}

/// Everything about one child, fixed before it is admitted.
pub struct Spec {
    /// Program, arguments, environment, cwd and limits; its stdio and process-group fields
    /// are filled in from the fields below.
    pub command: Command,
    pub stdin: Input,
    pub stdout: Output,
    pub stderr: Output,
    /// Captured bytes kept per stream; one more kills the child and truncates the capture.
    pub max_buffer: usize,
    /// Drop one trailing `\n` (or `\r\n`) from captured output.
    pub strip_final_newline: bool,
    /// Run time allowed after the spawn; then `kill_signal`, then SIGKILL.
    pub timeout: Option<Duration>,
    pub kill_signal: c_int,
    /// Wait between `kill_signal` and SIGKILL; `None` never escalates.
    pub force_kill_after: Option<Duration>,
    /// Give the child its own process group and signal the whole group.
    pub kill_tree: bool,
    /// Let a large capture come back as a mapped memfd ([`Captured::Mapped`]) rather than a
    /// heap `Vec` (faster; see `capture.rs`). Callers that will copy the bytes anyway (to
    /// decode text) gain nothing from it.
    pub map_large_output: bool,
    /// Start out cancelled (its AbortSignal had already fired): the child never runs and the
    /// report says `cancelled`.
    pub cancelled: bool,
    /// Descriptors the child gets beyond stdio, as `(target, descriptor)`: the process pool's
    /// message pipes. Ours are closed once the child has them (or never starts).
    pub channels: Vec<(RawFd, OwnedFd)>,
    /// A descriptor to be the child's stderr, over what `stderr` says: the write end of a
    /// process-pool worker's stderr pipe, read by the caller. Ours is closed as `channels` are.
    pub stderr_fd: Option<OwnedFd>,
}

impl Spec {
    pub fn new(command: Command) -> Self {
        Self {
            command,
            stdin: Input::Null,
            stdout: Output::Capture,
            stderr: Output::Capture,
            max_buffer: 100 * 1024 * 1024,
            strip_final_newline: false,
            timeout: None,
            kill_signal: libc::SIGTERM,
            force_kill_after: Some(Duration::from_secs(2)),
            kill_tree: true,
            map_large_output: true,
            cancelled: false,
            channels: Vec::new(),
            stderr_fd: None,
        }
    }
}

/// How a child ended (or why it never started).
#[derive(Debug, Default)]
pub struct Report {
    pub pid: Option<libc::pid_t>,
    /// `None` if the child never ran.
    pub status: Option<ExitStatus>,
    pub spawn_error: Option<SpawnError>,
    /// Captured output, for streams in [`Output::Capture`] mode.
    pub stdout: Option<Captured>,
    pub stderr: Option<Captured>,
    /// From the spawn to the end of the child (its output drained).
    pub duration: Duration,
    pub timed_out: bool,
    /// Stopped by `Child::cancel` (an abort), or before it was admitted.
    pub cancelled: bool,
    /// The supervisor signalled it (kill, timeout, abort or maxBuffer).
    pub killed: bool,
    pub max_buffer_exceeded: Option<Stream>,
    /// The child's own peak RSS, when it can be told apart: `wait4` reports the larger of the
    /// child's peak and the parent's peak at the spawn (the kernel charges a child that
    /// borrowed the parent's memory until `execve` with it), so a value at or below the
    /// parent's peak is unknown (`None`).
    pub max_rss_bytes: Option<u64>,
    /// For [`Input::Bytes`]: how many bytes of it the child took before it closed its stdin
    /// or exited (all of them, normally).
    pub input_written: Option<u64>,
    /// For [`Input::Bytes`]: a failure writing it other than the child closing its stdin
    /// (which only means it did not read everything; see `input_written`).
    pub input_error: Option<String>,
    /// The resource limit that most likely ended it (`"cpuSeconds"`, `"fileSizeBytes"`,
    /// `"memoryBytes"`).
    pub killed_by_limit: Option<&'static str>,
}

/// The limit that most likely ended the child. CPU and file size have their own signals (also
/// seen as exit code 128 + signal when a shell ran the process that got it); a memory cap
/// shows up as a failed allocation, which runtimes turn into an abort or a crash, so that one
/// is inferred from a crash signal the supervisor did not send.
pub(crate) fn limit_hit(
    status: &ExitStatus,
    limits: &Limits,
    we_signalled: bool,
) -> Option<&'static str> {
    let cpu_us = status.user_cpu_us + status.system_cpu_us;
    let shell_reported = status.code.and_then(|c| c.checked_sub(128));
    match shell_reported {
        Some(libc::SIGXCPU) if limits.cpu_seconds.is_some() => return Some("cpuSeconds"),
        Some(libc::SIGXFSZ) if limits.file_size_bytes.is_some() => return Some("fileSizeBytes"),
        _ => {}
    }
    match status.signal? {
        libc::SIGXCPU => Some("cpuSeconds"),
        libc::SIGXFSZ => Some("fileSizeBytes"),
        _ if we_signalled => None,
        libc::SIGKILL
            if limits
                .cpu_seconds
                .is_some_and(|s| cpu_us >= s.saturating_mul(1_000_000)) =>
        {
            Some("cpuSeconds")
        }
        libc::SIGSEGV | libc::SIGABRT | libc::SIGBUS | libc::SIGTRAP | libc::SIGKILL
            if limits.memory_bytes.is_some() =>
        {
            Some("memoryBytes")
        }
        _ => None,
    }
}
