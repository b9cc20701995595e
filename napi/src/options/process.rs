//! `exec()`/`spawn()` and `new Supervisor()` options → the core's `Spec` and
//! `SupervisorConfig`, and signal names or numbers → signal numbers.
//!
//! `Call::try_from(Request)` does every check a spawn needs on the JS thread, so a bad option
//! throws before a child is queued, and `checkProcessOptions` (a `ProcessPool` checking its
//! workers' options up front) runs exactly the same code.

use std::collections::HashMap;
use std::path::PathBuf;

use napi::bindgen_prelude::Either;
use napi_derive::napi;

use super::{MAX_BUFFER_LENGTH, MAX_SAFE_INTEGER, MAX_STRING_LENGTH, count, integer, ms};
use crate::errors::{Error, Result, invalid_value, one_of, unknown_signal};
use crate::runtime::os::stdin_is_tty;
use offload_core::process::{Command, Input, Limits, Output, Spec, SupervisorConfig, signal};

/// Options for `new Supervisor()`.
#[napi(object, object_to_js = false)]
pub struct SupervisorOptions {
    /// Children allowed to run at once; more wait in the queue. Default: 4 × `os.availableParallelism()`.
    pub max_concurrent: Option<f64>,
    /// Children allowed to wait for a running slot; past this, calls reject with
    /// `ERR_OFFLOAD_QUEUE_FULL`. `Infinity` for no bound. Default: `10000`.
    pub max_queue: Option<f64>,
}

/// rlimits applied in the child before it runs the program. Each is unset by default (the
/// child inherits the parent's).
#[napi(object, object_to_js = false)]
pub struct ProcessLimits {
    /// Address space (`RLIMIT_AS`), bytes. Allocations past it fail; a child that dies of it is
    /// reported with `killedByLimit: 'memoryBytes'`. Default: inherited.
    pub memory_bytes: Option<f64>,
    /// CPU time (`RLIMIT_CPU`), seconds: SIGXCPU at the limit, SIGKILL a second later.
    /// Default: inherited.
    pub cpu_seconds: Option<f64>,
    /// Open file descriptors (`RLIMIT_NOFILE`). Default: inherited.
    pub open_files: Option<f64>,
    /// Processes of the user (`RLIMIT_NPROC`): caps fork bombs. Default: inherited.
    pub processes: Option<f64>,
    /// Largest file the child may write (`RLIMIT_FSIZE`), bytes; past it, SIGXFSZ.
    /// Default: inherited.
    pub file_size_bytes: Option<f64>,
}

/// Options for `exec()` and `spawn()`.
#[napi(object, object_to_js = false)]
#[derive(Default)]
pub struct ProcessOptions {
    /// Working directory of the child. Default: the parent's.
    pub cwd: Option<String>,
    /// Environment variables for the child; added to the parent's (see `extendEnv`).
    /// Default: the parent's environment.
    // Applied by the JS layer (as the `envBlock` of `spawnProcess`); declared for its docs.
    pub env: Option<HashMap<String, String>>,
    /// Start from the parent's environment (`process.env` at the call) and apply `env` on
    /// top; `false` gives the child exactly `env`. Default: `true`.
    // Applied by the JS layer; declared here so its docs reach the typings.
    pub extend_env: Option<bool>,
    /// `'pipe'`, `'ignore'` or `'inherit'`. Default: `'pipe'` for `spawn()`; for `exec()`,
    /// `'pipe'` with `input`, else `'ignore'` (`/dev/null`).
    pub stdin: Option<String>,
    /// `'pipe'`, `'ignore'` or `'inherit'`. Default: `'pipe'`.
    pub stdout: Option<String>,
    /// `'pipe'`, `'ignore'` or `'inherit'`. Default: `'pipe'`.
    pub stderr: Option<String>,
    /// How `exec()` returns output: `'utf8'` (strings; invalid UTF-8 becomes U+FFFD) or
    /// `'buffer'` (Buffers, handed over without a copy). Default: `'utf8'`.
    pub encoding: Option<String>,
    /// Drop one trailing newline (`\n` or `\r\n`) from `exec()`'s output. Default: `true`.
    pub strip_final_newline: Option<bool>,
    /// Milliseconds the child may run (from its start, not its time in the queue); then it
    /// gets `killSignal` and the call rejects with `ERR_OFFLOAD_TIMEOUT`. 0 for none.
    /// Default: `0`.
    pub timeout: Option<f64>,
    /// Signal for timeout, abort and maxBuffer, and the default for `kill()`. Default: `'SIGTERM'`.
    pub kill_signal: Option<Either<String, f64>>,
    /// Milliseconds to wait after `killSignal` before SIGKILL; `Infinity` never escalates.
    /// Default: `2000`.
    pub force_kill_after: Option<f64>,
    /// Bytes `exec()` keeps per stream; more kills the child and rejects with
    /// `ERR_OFFLOAD_MAX_BUFFER`, the truncated output attached. Default: `104857600` (100 MiB).
    pub max_buffer: Option<f64>,
    /// Run through a shell: `true` for `/bin/sh`, or a shell's path. The file and arguments
    /// are joined with spaces and parsed by that shell, so never pass untrusted input with it.
    /// Default: `false`.
    pub shell: Option<Either<bool, String>>,
    /// Give the child its own process group and signal the whole group, so no grandchild
    /// outlives a timeout, abort or kill, or the child itself. Not applied when stdin is
    /// inherited from a terminal (the child must stay in the terminal's foreground group to
    /// read it). Default: `true`.
    pub kill_tree: Option<bool>,
    /// Resource limits applied in the child. Default: none.
    pub limits: Option<ProcessLimits>,
    /// Reject when the child exits with a non-zero code or is killed by a signal; `false`
    /// resolves with the result instead. Default: `true`.
    // Applied by the JS layer; declared here so its docs reach the typings.
    pub reject: Option<bool>,
}

impl TryFrom<SupervisorOptions> for SupervisorConfig {
    type Error = Error;

    fn try_from(o: SupervisorOptions) -> Result<Self> {
        let mut config = SupervisorConfig::default();
        if let Some(n) = o.max_concurrent {
            config.max_concurrent = count("options.maxConcurrent", n, 1.0, false)?;
        }
        if let Some(n) = o.max_queue {
            config.max_queue = count("options.maxQueue", n, 0.0, true)?;
        }
        Ok(config)
    }
}

/// A signal option: a name such as `'SIGTERM'` or a number. Numbers are read as doubles, never
/// through napi's int32 (which wraps `2**32 + 15` to 15); a fraction is refused, not truncated.
pub(crate) fn parse_signal(name: &str, value: Either<String, f64>) -> Result<i32> {
    let sig = match &value {
        Either::A(s) => signal::by_name(s),
        Either::B(n) => Some(*n)
            .filter(|n| n.fract() == 0.0 && (1.0..=64.0).contains(n))
            .map(|n| n as i32)
            .filter(|&n| signal::is_valid(n)),
    };
    sig.ok_or_else(|| match value {
        Either::A(s) => unknown_signal(name, format!("'{s}'")),
        Either::B(n) => unknown_signal(name, n),
    })
}

fn no_nul(what: &str, s: &str) -> Result<()> {
    if s.contains('\0') {
        return Err(invalid_value(
            what,
            format!("must be a string without null bytes. Received {s:?}"),
        ));
    }
    Ok(())
}

fn stdio(name: &str, v: Option<String>, default: &str) -> Result<String> {
    let v = v.unwrap_or_else(|| default.to_owned());
    match v.as_str() {
        "pipe" | "ignore" | "inherit" => Ok(v),
        _ => Err(one_of(
            &format!("property 'options.{name}'"),
            &["pipe", "ignore", "inherit"],
            &v,
        )),
    }
}

impl TryFrom<ProcessLimits> for Limits {
    type Error = Error;

    fn try_from(l: ProcessLimits) -> Result<Self> {
        let one = |name: &str, v: Option<f64>| -> Result<Option<u64>> {
            v.map(|v| {
                let name = format!("options.limits.{name}");
                Ok(integer(&name, v, 0.0, MAX_SAFE_INTEGER, "an integer >= 0")? as u64)
            })
            .transpose()
        };
        Ok(Limits {
            memory_bytes: one("memoryBytes", l.memory_bytes)?,
            cpu_seconds: one("cpuSeconds", l.cpu_seconds)?,
            open_files: one("openFiles", l.open_files)?,
            processes: one("processes", l.processes)?,
            file_size_bytes: one("fileSizeBytes", l.file_size_bytes)?,
        })
    }
}

/// How `exec()` hands back captured output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum OutputEncoding {
    Utf8,
    Buffer,
}

impl OutputEncoding {
    pub(crate) fn name(self) -> &'static str {
        match self {
            OutputEncoding::Utf8 => "utf8",
            OutputEncoding::Buffer => "buffer",
        }
    }

    /// The longest output of this encoding JS can receive.
    fn max_length(self) -> f64 {
        match self {
            OutputEncoding::Utf8 => MAX_STRING_LENGTH,
            OutputEncoding::Buffer => MAX_BUFFER_LENGTH,
        }
    }
}

/// What a spawn call asks for, before validation.
pub(crate) struct Request<'a> {
    pub(crate) file: String,
    pub(crate) args: Vec<String>,
    pub(crate) options: ProcessOptions,
    /// The child's whole environment, NUL-ended `NAME=value` entries (see
    /// lib/subprocess/options.js).
    pub(crate) env_block: &'a str,
    pub(crate) has_input: bool,
    pub(crate) streaming: bool,
}

/// A validated call: the core spec plus what the binding needs to shape the result.
pub(crate) struct Call {
    pub(crate) spec: Spec,
    pub(crate) encoding: OutputEncoding,
}

/// The program and argv to run, through a shell when `shell` says so.
fn command(
    file: String,
    args: Vec<String>,
    shell: Option<Either<bool, String>>,
) -> Result<Command> {
    if file.is_empty() {
        return Err(invalid_value("argument 'file'", "it must not be empty"));
    }
    no_nul("argument 'file'", &file)?;
    for (i, a) in args.iter().enumerate() {
        no_nul(&format!("argument 'args[{i}]'"), a)?;
    }
    let (program, argv) = match shell {
        None | Some(Either::A(false)) => (file, args),
        Some(shell) => {
            let sh = match shell {
                Either::B(path) if !path.is_empty() => path,
                _ => "/bin/sh".to_owned(),
            };
            let line = std::iter::once(file)
                .chain(args)
                .collect::<Vec<_>>()
                .join(" ");
            (sh, vec!["-c".to_owned(), line])
        }
    };
    let mut cmd = Command::new(program);
    cmd.args = argv.into_iter().map(String::into_bytes).collect();
    Ok(cmd)
}

/// The environment block as entries. The JS layer passes the child's whole environment, taken
/// from `process.env` and checked (see lib/subprocess/options.js): reading `environ` here would
/// race with `setenv` on other threads, which Node guards with a lock of its own.
fn environment(block: &str) -> Result<Vec<Vec<u8>>> {
    let env: Vec<Vec<u8>> = block
        .split_terminator('\0')
        .map(|entry| entry.as_bytes().to_vec())
        .collect();
    if let Some(bad) = env
        .iter()
        .find(|e| e.first().is_none_or(|&b| b == b'=') || !e.contains(&b'='))
    {
        return Err(invalid_value(
            "environment block",
            format!(
                "entries must be NAME=value, received {:?}",
                String::from_utf8_lossy(bad)
            ),
        ));
    }
    Ok(env)
}

/// stdin as the core sees it, given the option, whether the call has `input`, and whether it
/// is `spawn()` (streaming) or `exec()`.
fn stdin(option: Option<String>, has_input: bool, streaming: bool) -> Result<Input> {
    let default = if streaming || has_input {
        "pipe"
    } else {
        "ignore"
    };
    Ok(match stdio("stdin", option, default)?.as_str() {
        "inherit" if !has_input => Input::Inherit,
        "ignore" if !has_input => Input::Null,
        // exec() hands out no stream to write to: a pipe with nothing to feed it is closed at
        // once, which is what /dev/null gives.
        "pipe" if !streaming && !has_input => Input::Null,
        "pipe" => Input::Pipe,
        _ => {
            return Err(invalid_value(
                "property 'options.stdin'",
                "'input' needs stdin to be 'pipe'",
            ));
        }
    })
}

impl TryFrom<Request<'_>> for Call {
    type Error = Error;

    fn try_from(r: Request<'_>) -> Result<Self> {
        let o = r.options;
        let mut cmd = command(r.file, r.args, o.shell)?;
        cmd.env = environment(r.env_block)?;
        if let Some(cwd) = o.cwd {
            no_nul("property 'options.cwd'", &cwd)?;
            cmd.cwd = Some(PathBuf::from(cwd));
        }
        if let Some(l) = o.limits {
            cmd.limits = Limits::try_from(l)?;
        }

        let mut spec = Spec::new(cmd);
        spec.stdin = stdin(o.stdin, r.has_input, r.streaming)?;
        let piped = if r.streaming {
            Output::Stream
        } else {
            Output::Capture
        };
        let output = |s: String| match s.as_str() {
            "pipe" => piped,
            "inherit" => Output::Inherit,
            _ => Output::Ignore,
        };
        spec.stdout = output(stdio("stdout", o.stdout, "pipe")?);
        spec.stderr = output(stdio("stderr", o.stderr, "pipe")?);
        let encoding = match o.encoding.as_deref() {
            None | Some("utf8" | "utf-8") => OutputEncoding::Utf8,
            Some("buffer") => OutputEncoding::Buffer,
            Some(e) => {
                return Err(one_of(
                    "property 'options.encoding'",
                    &["utf8", "buffer"],
                    e,
                ));
            }
        };
        spec.strip_final_newline = o.strip_final_newline.unwrap_or(true);
        if let Some(m) = o.max_buffer {
            let limit = encoding.max_length();
            let range = format!(
                "an integer >= 0 && <= {limit} with encoding '{}'",
                encoding.name()
            );
            spec.max_buffer = integer("options.maxBuffer", m, 0.0, limit, &range)? as usize;
        }
        if let Some(t) = o.timeout {
            spec.timeout = ms("options.timeout", t, false)?.filter(|d| !d.is_zero());
        }
        if let Some(s) = o.kill_signal {
            spec.kill_signal = parse_signal("options.killSignal", s)?;
        }
        if let Some(f) = o.force_kill_after {
            spec.force_kill_after = ms("options.forceKillAfter", f, true)?;
        }
        // A child reading the terminal must stay in the terminal's foreground process group,
        // or its first read stops it (SIGTTIN): with an inherited TTY stdin it keeps ours, as
        // child_process does.
        let tty_stdin = matches!(spec.stdin, Input::Inherit) && stdin_is_tty();
        spec.kill_tree = o.kill_tree.unwrap_or(true) && !tty_stdin;
        Ok(Call { spec, encoding })
    }
}
