//! The subprocess supervisor's entry points: options are validated into a core
//! [`Spec`](offload_core::process::Spec) on the JS thread; everything after that runs on the
//! supervisor's threads, and results come back through the environment's channel.

use std::collections::HashMap;
use std::os::fd::{AsRawFd, IntoRawFd};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use napi::bindgen_prelude::{Either, External, ToNapiValue, Unknown};
use napi::{Env, JsValue, sys};
use napi_derive::napi;

use super::channel::{Completion, EnvScope, Settle};
use super::deferred::Deferred;
use super::env_scope;
use super::errors::{self, Error, Result, out_of_range};
use super::input::Input as JsInput;
use super::report::{self, Encoding};
use super::value::{TaskError, Value};
use offload_core::process::{
    self, Child, Command, Input, Limits, Output, ProcessStats, Source, Spec, Stream, Supervisor,
    SupervisorConfig, SupervisorError, global_stats, signal,
};

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
pub struct ProcessOptions {
    /// Working directory of the child. Default: the parent's.
    pub cwd: Option<String>,
    /// Environment variables for the child; added to the parent's (see `extendEnv`).
    /// Default: the parent's environment.
    #[expect(
        dead_code,
        reason = "applied by the JS layer (as the `env` block of `spawn_process`); declared here so its docs reach the typings"
    )]
    pub env: Option<HashMap<String, String>>,
    /// Start from the parent's environment (`process.env` at the call) and apply `env` on
    /// top; `false` gives the child exactly `env`. Default: `true`.
    #[expect(
        dead_code,
        reason = "applied by the JS layer; declared here so its docs reach the typings"
    )]
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
    #[expect(
        dead_code,
        reason = "applied by the JS layer; declared here so its docs reach the typings"
    )]
    pub reject: Option<bool>,
}

/// Counters of a supervisor, or of all of them (`processStats()`).
#[napi(object)]
pub struct SupervisorStats {
    /// Children started.
    pub spawned: f64,
    /// Children running now.
    pub running: u32,
    /// Children waiting for a running slot.
    pub queued: u32,
    /// Children that ran and ended, however they ended.
    pub exited: f64,
    /// Children that exited with a non-zero code or a signal, or could not start.
    pub failed: f64,
    /// Children stopped by their `timeout`.
    pub timed_out: f64,
    /// Children the supervisor signalled (kill, timeout, abort, maxBuffer, teardown).
    pub killed: f64,
    /// Spawns that failed (program not found, not executable, ...).
    pub spawn_errors: f64,
    /// The largest peak RSS, in bytes, measured of any child; undefined until one was
    /// measured. Linux reports a child started without fork (as offload starts them) with at
    /// least this process's own peak, so a child whose peak stays below that is not measured
    /// and not counted, rather than counted as 0 or as this process's size.
    pub max_rss_bytes: Option<f64>,
}

impl From<ProcessStats> for SupervisorStats {
    fn from(s: ProcessStats) -> Self {
        Self {
            spawned: s.spawned as f64,
            running: s.running as u32,
            queued: s.queued as u32,
            exited: s.exited as f64,
            failed: s.failed as f64,
            timed_out: s.timed_out as f64,
            killed: s.killed as f64,
            spawn_errors: s.spawn_errors as f64,
            max_rss_bytes: s.max_rss_bytes.map(|b| b as f64),
        }
    }
}

/// A supervisor handle as JS holds it, inside an `External` (free functions over one are
/// cheaper to call than class methods); declared to napi only so the typings can name it.
#[napi]
pub struct NativeSupervisor(Supervisor);

/// A child handle as JS holds it, inside an `External`; declared to napi for the typings.
#[napi]
pub struct NativeChild {
    child: Child,
    scope: Arc<EnvScope>,
}

fn count(name: &str, v: f64, min: f64, infinite_ok: bool) -> Result<usize> {
    if infinite_ok && v == f64::INFINITY {
        return Ok(usize::MAX);
    }
    if v.fract() != 0.0 || !(min..=9_007_199_254_740_991.0).contains(&v) {
        let what = if infinite_ok { " or Infinity" } else { "" };
        return Err(out_of_range(name, format!("an integer >= {min}{what}"), v));
    }
    Ok(v as usize)
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

fn supervisor_error(e: SupervisorError) -> Error {
    let code = match e {
        SupervisorError::QueueFull { .. } => "ERR_OFFLOAD_QUEUE_FULL",
        SupervisorError::Closed => "ERR_OFFLOAD_CANCELLED",
        SupervisorError::Start(_) => "ERR_OFFLOAD_SPAWN",
    };
    napi::Error::new(code.to_owned(), e.to_string())
}

#[napi]
pub fn create_supervisor(options: Option<SupervisorOptions>) -> Result<External<NativeSupervisor>> {
    let config = match options {
        Some(o) => SupervisorConfig::try_from(o)?,
        None => SupervisorConfig::default(),
    };
    let sup = Supervisor::new(config).map_err(supervisor_error)?;
    Ok(External::new(NativeSupervisor(sup)))
}

#[napi]
pub fn supervisor_stats(supervisor: &External<NativeSupervisor>) -> SupervisorStats {
    supervisor.0.stats().into()
}

#[napi]
pub fn supervisor_config(supervisor: &External<NativeSupervisor>) -> Vec<f64> {
    let c = supervisor.0.config();
    vec![c.max_concurrent as f64, c.max_queue as f64]
}

#[napi]
pub fn process_stats() -> SupervisorStats {
    global_stats().into()
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
    sig.ok_or_else(|| {
        let shown = match value {
            Either::A(s) => format!("'{s}'"),
            Either::B(n) => n.to_string(),
        };
        napi::Error::new(
            "ERR_UNKNOWN_SIGNAL".to_owned(),
            format!("Unknown signal for \"{name}\": {shown}"),
        )
    })
}

fn no_nul(what: &str, s: &str) -> Result<()> {
    if s.contains('\0') {
        return Err(errors::invalid_value(
            what,
            format!("must be a string without null bytes. Received {s:?}"),
        ));
    }
    Ok(())
}

fn ms(name: &str, v: f64, infinite_ok: bool) -> Result<Option<Duration>> {
    if infinite_ok && v == f64::INFINITY {
        return Ok(None);
    }
    if !(0.0..=2_147_483_647.0).contains(&v) {
        let what = if infinite_ok { " or Infinity" } else { "" };
        return Err(out_of_range(
            name,
            format!(">= 0 && <= 2147483647{what}"),
            v,
        ));
    }
    Ok(Some(Duration::from_secs_f64(v / 1000.0)))
}

fn stdio(name: &str, v: Option<String>, default: &str) -> Result<String> {
    let v = v.unwrap_or_else(|| default.to_owned());
    match v.as_str() {
        "pipe" | "ignore" | "inherit" => Ok(v),
        _ => Err(errors::one_of(
            &format!("property 'options.{name}'"),
            &["pipe", "ignore", "inherit"],
            &v,
        )),
    }
}

fn limits(l: ProcessLimits) -> Result<Limits> {
    let one = |name: &str, v: Option<f64>| -> Result<Option<u64>> {
        v.map(|v| {
            if v.fract() != 0.0 || !(0.0..=9_007_199_254_740_991.0).contains(&v) {
                return Err(out_of_range(
                    &format!("options.limits.{name}"),
                    "an integer >= 0",
                    v,
                ));
            }
            Ok(v as u64)
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

/// The longest string V8 can make (`buffer.constants.MAX_STRING_LENGTH`).
const MAX_STRING_LENGTH: f64 = 536_870_888.0;
/// The longest Buffer Node 20 can make (`buffer.constants.MAX_LENGTH`).
const MAX_BUFFER_LENGTH: f64 = 4_294_967_296.0;

/// A validated call: the core spec plus what the binding needs to shape the result.
struct Call {
    spec: Spec,
    encoding: Encoding,
}

fn build(
    file: String,
    args: Vec<String>,
    o: ProcessOptions,
    env_block: &str,
    has_input: bool,
    streaming: bool,
) -> Result<Call> {
    if file.is_empty() {
        return Err(errors::invalid_value(
            "argument 'file'",
            "it must not be empty",
        ));
    }
    no_nul("argument 'file'", &file)?;
    for (i, a) in args.iter().enumerate() {
        no_nul(&format!("argument 'args[{i}]'"), a)?;
    }
    let (program, argv) = match o.shell {
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
    // The JS layer passes the child's whole environment as one block of NUL-ended `NAME=value`
    // entries, taken from `process.env` and checked (see lib/process-options.js): reading
    // `environ` here would race with `setenv` on other threads, which Node guards with a lock of
    // its own.
    let env: Vec<Vec<u8>> = env_block
        .split_terminator('\0')
        .map(|entry| entry.as_bytes().to_vec())
        .collect();
    if let Some(bad) = env
        .iter()
        .find(|e| e.first().is_none_or(|&b| b == b'=') || !e.contains(&b'='))
    {
        return Err(errors::invalid_value(
            "environment block",
            format!(
                "entries must be NAME=value, received {:?}",
                String::from_utf8_lossy(bad)
            ),
        ));
    }
    cmd.env = env;
    if let Some(cwd) = o.cwd {
        no_nul("property 'options.cwd'", &cwd)?;
        cmd.cwd = Some(PathBuf::from(cwd));
    }
    if let Some(l) = o.limits {
        cmd.limits = limits(l)?;
    }

    let mut spec = Spec::new(cmd);
    let stdin_default = if streaming || has_input {
        "pipe"
    } else {
        "ignore"
    };
    spec.stdin = match stdio("stdin", o.stdin, stdin_default)?.as_str() {
        "inherit" if !has_input => Input::Inherit,
        "ignore" if !has_input => Input::Null,
        // exec() hands out no stream to write to: a pipe with nothing to feed it is closed at
        // once, which is what /dev/null gives.
        "pipe" if !streaming && !has_input => Input::Null,
        "pipe" => Input::Pipe,
        _ => {
            return Err(errors::invalid_value(
                "property 'options.stdin'",
                "'input' needs stdin to be 'pipe'",
            ));
        }
    };
    let piped = if streaming {
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
        None | Some("utf8" | "utf-8") => Encoding::Utf8,
        Some("buffer") => Encoding::Buffer,
        Some(e) => {
            return Err(errors::one_of(
                "property 'options.encoding'",
                &["utf8", "buffer"],
                e,
            ));
        }
    };
    spec.strip_final_newline = o.strip_final_newline.unwrap_or(true);
    if let Some(m) = o.max_buffer {
        let limit = match encoding {
            Encoding::Utf8 => MAX_STRING_LENGTH,
            Encoding::Buffer => MAX_BUFFER_LENGTH,
        };
        if m.fract() != 0.0 || !(0.0..=limit).contains(&m) {
            return Err(out_of_range(
                "options.maxBuffer",
                format!(
                    "an integer >= 0 && <= {limit} with encoding '{}'",
                    encoding.name()
                ),
                m,
            ));
        }
        spec.max_buffer = m as usize;
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
    // A child reading the terminal must stay in the terminal's foreground process group, or
    // its first read stops it (SIGTTIN): with an inherited TTY stdin it keeps ours, as
    // child_process does.
    // SAFETY: isatty only inspects descriptor 0.
    let tty_stdin = matches!(spec.stdin, Input::Inherit) && unsafe { libc::isatty(0) } == 1;
    spec.kill_tree = o.kill_tree.unwrap_or(true) && !tty_stdin;
    Ok(Call { spec, encoding })
}

/// Checks `exec()`/`spawn()` options exactly as a spawn would, without spawning: for a
/// `ProcessPool`, whose workers start later, away from the constructor that took them.
#[napi]
pub fn check_process_options(options: ProcessOptions) -> Result<()> {
    // Any valid program and environment do: only the options are under test.
    build("true".to_owned(), Vec::new(), options, "", false, false).map(drop)
}

/// Input bytes borrowed from a JS value: read only while its environment is alive, and the
/// value itself is held by the call's promise until the call settles.
struct Borrowed {
    input: JsInput,
    scope: Arc<EnvScope>,
}

impl Source for Borrowed {
    fn with_bytes(&self, f: &mut dyn FnMut(&[u8])) -> bool {
        let Some(_guard) = self.scope.borrow() else {
            return false;
        };
        f(self.input.as_slice());
        true
    }
}

/// Starts a child (`aborted`: its signal has already fired, so it is only reported as
/// cancelled). Returns `[handle, promise]`: the promise resolves with the raw report
/// object (see `report.rs`) once the child has ended; the JS layer shapes it. With
/// `channels` (a process-pool worker), also the parent's ends of its message pipes and the
/// read end of its stderr: `[handle, promise, requestsFd, repliesFd, stderrFd]`, owned by
/// the caller from then on (the spec's stderr option is overridden); that
/// promise does not keep the event loop alive. `env_block` is the child's whole environment,
/// NUL-ended `NAME=value` entries (see lib/process-options.js).
// `allow`, not `expect`: napi's macro re-emits this function, so the lint fires on one copy
// and an expectation goes unfulfilled on the other.
#[allow(
    clippy::too_many_arguments,
    reason = "a positional internal entry point: an options object would cost a napi conversion per spawn"
)]
#[napi]
pub fn spawn_process(
    env: Env,
    supervisor: &External<NativeSupervisor>,
    file: String,
    args: Vec<String>,
    options: Option<ProcessOptions>,
    input: Option<Unknown>,
    streaming: bool,
    aborted: bool,
    channels: Option<bool>,
    env_block: String,
) -> Result<Unknown<'static>> {
    let scope = env_scope(&env)?;
    let options = options.unwrap_or(ProcessOptions {
        cwd: None,
        env: None,
        extend_env: None,
        stdin: None,
        stdout: None,
        stderr: None,
        encoding: None,
        strip_final_newline: None,
        timeout: None,
        kill_signal: None,
        force_kill_after: None,
        max_buffer: None,
        shell: None,
        kill_tree: None,
        limits: None,
        reject: None,
    });
    let Call { mut spec, encoding } =
        build(file, args, options, &env_block, input.is_some(), streaming)?;
    // A mapped capture helps only when it is handed over as is; text is copied anyway.
    spec.map_large_output = encoding == Encoding::Buffer;
    spec.cancelled = aborted;
    let mut parent_ends = None;
    if channels == Some(true) {
        let c = process::channels().map_err(|e| {
            napi::Error::new(
                "ERR_OFFLOAD_SPAWN".to_owned(),
                format!("could not create the worker's pipes: {e}"),
            )
        })?;
        spec.channels = c.worker_ends;
        // The stderr pipe goes onto descriptor 2: nothing else needs opening for it.
        spec.stderr = Output::Inherit;
        spec.stderr_fd = Some(c.worker_stderr);
        parent_ends = Some((c.requests, c.replies, c.stderr));
    }
    let mut keep = Vec::new();
    if let Some(value) = &input {
        let bytes = JsInput::from_js(env.raw(), value, "options.input")?;
        spec.stdin = Input::Bytes(Box::new(Borrowed {
            input: bytes,
            scope: scope.clone(),
        }));
        keep.push(value.raw());
    }
    let raw = env.raw();
    // SAFETY: on the JS thread, with values from this call's arguments.
    let (deferred, promise) = unsafe { Deferred::create(raw, &keep) }
        .map_err(|e| napi::Error::new("ERR_OFFLOAD_INTERNAL".to_owned(), e.reason))?;
    let post = scope.clone();
    let detached = parent_ends.is_some();
    let spawned = supervisor.0.spawn(spec, &scope.processes, move |r| {
        post.post(Completion {
            settle: if detached {
                Settle::Detached(deferred)
            } else {
                Settle::Deferred(deferred)
            },
            result: Ok(report::to_value(r, encoding)),
        });
    });
    let child = match spawned {
        Ok(child) => child,
        Err(e) => {
            // SAFETY: on the JS thread; the closure holding the other copy was dropped.
            unsafe { deferred.abandon(raw) };
            return Err(supervisor_error(e));
        }
    };
    if !detached {
        scope.begin(raw);
    }
    let handle = External::new(NativeChild { child, scope });
    // A pair missing its handle or a descriptor would reach JS as undefined, so every status
    // is checked. The descriptors stay owned (closed on an early return) until all are set.
    let check = |status: sys::napi_status| {
        (status == sys::Status::napi_ok)
            .then_some(())
            .ok_or_else(|| {
                napi::Error::new(
                    "ERR_OFFLOAD_INTERNAL".to_owned(),
                    "could not build the child's handle".to_owned(),
                )
            })
    };
    // SAFETY: `raw` is the current JS thread's env (this is a #[napi] call); `promise` was
    // made in it above and `handle` just now; every out-pointer is a valid local and `pair`
    // is the array made first.
    unsafe {
        let handle = External::to_napi_value(raw, handle)
            .map_err(|e| napi::Error::new("ERR_OFFLOAD_INTERNAL".to_owned(), e.reason))?;
        let mut pair = std::ptr::null_mut();
        check(sys::napi_create_array_with_length(raw, 2, &mut pair))?;
        check(sys::napi_set_element(raw, pair, 0, handle))?;
        check(sys::napi_set_element(raw, pair, 1, promise))?;
        if let Some((requests, replies, stderr)) = parent_ends {
            let fds = [requests, replies, stderr];
            for (i, fd) in (2..).zip(&fds) {
                let mut n = std::ptr::null_mut();
                check(sys::napi_create_int32(raw, fd.as_raw_fd(), &mut n))?;
                check(sys::napi_set_element(raw, pair, i, n))?;
            }
            // JS owns them now (it closes them with the worker).
            for fd in fds {
                let _ = fd.into_raw_fd();
            }
        }
        // SAFETY: `pair` is a value of `raw`, made above.
        Ok(Unknown::from_raw_unchecked(raw, pair))
    }
}

#[napi]
pub fn process_pid(child: &External<NativeChild>) -> Option<i32> {
    child.child.pid()
}

/// Resolves with the child's pid once it has been spawned, or with null once it is known it
/// never will be (its report then says why).
#[napi]
pub fn process_spawned(env: Env, child: &External<NativeChild>) -> Result<Unknown<'static>> {
    child.promise(&env, &[], |done| {
        child.child.when_spawned(move |pid| {
            done(Ok(pid.map_or(Value::Null, |p| Value::Number(f64::from(p)))))
        })
    })
}

/// Sends `signal` (default: the child's `killSignal`), escalating to SIGKILL after
/// `forceKillAfter`; false if the child had already exited.
#[napi]
pub fn process_kill(child: &External<NativeChild>, signal: Either<String, f64>) -> Result<bool> {
    let sig = parse_signal("signal", signal)?;
    Ok(child.child.kill(sig))
}

/// Aborts the child (AbortSignal): `killSignal`, then SIGKILL; reported as cancelled.
#[napi]
pub fn process_cancel(child: &External<NativeChild>) {
    child.child.cancel();
}

impl NativeChild {
    /// A promise the I/O thread settles through the channel.
    fn promise<F>(&self, env: &Env, keep: &[sys::napi_value], start: F) -> Result<Unknown<'static>>
    where
        F: FnOnce(Box<dyn FnOnce(std::result::Result<Value, TaskError>) + Send>),
    {
        let raw = env.raw();
        // SAFETY: on the JS thread.
        let (deferred, promise) = unsafe { Deferred::create(raw, keep) }
            .map_err(|e| napi::Error::new("ERR_OFFLOAD_INTERNAL".to_owned(), e.reason))?;
        self.scope.begin(raw);
        let scope = self.scope.clone();
        start(Box::new(move |result| {
            scope.post(Completion {
                settle: Settle::Deferred(deferred),
                result,
            })
        }));
        // SAFETY: created in this env just now.
        Ok(unsafe { Unknown::from_raw_unchecked(raw, promise) })
    }
}

fn io_error(e: std::io::Error) -> TaskError {
    match e.raw_os_error() {
        Some(libc::EPIPE) => TaskError::new("EPIPE", "write EPIPE: the child closed its stdin"),
        _ => TaskError::new("ERR_OFFLOAD_IO", e.to_string()),
    }
}

/// The stream JS names by its descriptor number: 2 is stderr, anything else stdout.
fn stream_of(fd: u32) -> Stream {
    if fd == 2 {
        Stream::Stderr
    } else {
        Stream::Stdout
    }
}

/// The next chunk of the child's stdout (`stream` 1) or stderr (2): a Buffer, or null at end.
#[napi]
pub fn process_read(
    env: Env,
    child: &External<NativeChild>,
    stream: u32,
) -> Result<Unknown<'static>> {
    let which = stream_of(stream);
    child.promise(&env, &[], |done| {
        child.child.read(which, move |r| {
            done(match r {
                Ok(Some(chunk)) => Ok(Value::Bytes(chunk)),
                Ok(None) => Ok(Value::Null),
                Err(e) => Err(io_error(e)),
            })
        })
    })
}

/// Writes `data` to the child's stdin (read in place, kept alive until written).
#[napi]
pub fn process_write(
    env: Env,
    child: &External<NativeChild>,
    data: Unknown,
) -> Result<Unknown<'static>> {
    let input = JsInput::from_js(env.raw(), &data, "chunk")?;
    let src = Box::new(Borrowed {
        input,
        scope: child.scope.clone(),
    });
    child.promise(&env, &[data.raw()], |done| {
        child.child.write(src, move |r| {
            done(r.map(|()| Value::Undefined).map_err(io_error))
        })
    })
}

/// Stops reading the child's stdout (`stream` 1) or stderr (2) and closes our end.
#[napi]
pub fn process_close_output(child: &External<NativeChild>, stream: u32) {
    let which = stream_of(stream);
    child.child.close_output(which);
}

/// SIGKILLs every child this environment started (and their trees), for process exit: Node
/// does not run environment cleanup hooks on `process.exit()`.
#[napi]
pub fn kill_all_processes(env: Env) -> Result<()> {
    env_scope(&env)?.processes.kill_all();
    Ok(())
}

/// Closes the child's stdin after pending writes.
#[napi]
pub fn process_close_stdin(child: &External<NativeChild>) {
    child.child.close_stdin();
}

/// The resident set of a live process in bytes (`/proc/<pid>/statm`), or null if it is gone.
#[napi]
pub fn process_rss(pid: i32) -> Option<f64> {
    process::rss_bytes(pid).ok().map(|b| b as f64)
}
