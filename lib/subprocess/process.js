'use strict'
// exec() and spawn(): the JS face of the subprocess supervisor. The binding spawns off the JS
// thread and settles one promise per child with a raw report; this module shapes that report
// into a Result, or into the error the call rejects with.
const binding = require('../shared/native')
const { AbortError, OffloadError, fromNative, invalidArgType } = require('../shared/errors')
const { normalizeArgs, processOptions, supervisorOptions } = require('./options')
const { unlisten } = require('../shared/validate')
const { abortError } = require('../shared/cancellable')
const { ERR_OFFLOAD_CANCELLED, ERR_OFFLOAD_EXIT, ERR_OFFLOAD_IO, ERR_OFFLOAD_LIMIT, ERR_OFFLOAD_MAX_BUFFER, ERR_OFFLOAD_TIMEOUT } = require('../shared/codes')
// The completion channel settles every child's promises; requiring it opens it.
require('../shared/completion')

const kNative = Symbol('offload.supervisor')

/** A separate budget of running and queued children. */
class Supervisor {
  constructor(options) {
    const o = supervisorOptions(options)
    try {
      this[kNative] = binding.createSupervisor(o)
    } catch (err) {
      throw fromNative(err)
    }
    const [maxConcurrent, maxQueue] = binding.supervisorConfig(this[kNative])
    this.maxConcurrent = maxConcurrent
    this.maxQueue = maxQueue >= Number.MAX_SAFE_INTEGER ? Infinity : maxQueue
    Object.freeze(this)
  }

  stats() {
    return binding.supervisorStats(this[kNative])
  }
}

let defaultSupervisor
function getDefaultSupervisor() {
  defaultSupervisor ??= new Supervisor()
  return defaultSupervisor
}

/** Counters over every supervisor in the process. */
function processStats() {
  return binding.processStats()
}

// Node runs no environment cleanup hooks on process.exit(), so the binding cannot see that
// exit coming; without this, only the direct children would die (by their parent-death
// signal) and their own children would live on. One hook per environment, shared by every
// copy of this module.
const kExitHook = Symbol.for('offload.killChildrenOnExit')
function killChildrenOnExit() {
  if (binding[kExitHook]) return
  binding[kExitHook] = true
  process.once('exit', () => binding.killAllProcesses())
}

// How a command is shown in results and messages: arguments quoted as a POSIX shell would
// need them, so the line can be pasted into a terminal.
function escape(arg) {
  if (/^[\w@%+=:,./-]+$/.test(arg)) return arg
  return `'${arg.replace(/'/g, "'\\''")}'`
}

function commandOf(file, args) {
  return [file, ...args].map(escape).join(' ')
}

class SubprocessError extends OffloadError {
  constructor(code, message, fields) {
    super(code, message)
    this.name = 'SubprocessError'
    Object.assign(this, fields)
  }
}

// The binding reports a child as a positional array whose slots are its `ReportField` enum
// (napi/src/report.rs): one definition for both sides.
const F = binding.ReportField
function rawReport(r) {
  return {
    pid: r[F.Pid],
    exitCode: r[F.ExitCode],
    signal: r[F.Signal],
    stdout: r[F.Stdout],
    stderr: r[F.Stderr],
    durationMs: r[F.DurationMs],
    timedOut: r[F.TimedOut],
    cancelled: r[F.Cancelled],
    killed: r[F.Killed],
    maxBufferExceeded: r[F.MaxBufferExceeded],
    killedByLimit: r[F.KilledByLimit],
    ran: r[F.Ran],
    maxRssBytes: r[F.MaxRssBytes],
    userCpuMs: r[F.UserCpuMs],
    systemCpuMs: r[F.SystemCpuMs],
    errorCode: r[F.ErrorCode],
    errorMessage: r[F.ErrorMessage],
    searchedPath: r[F.SearchedPath],
    inputWritten: r[F.InputWritten],
    inputError: r[F.InputError],
  }
}

function resultOf(raw, call) {
  return {
    command: call.command,
    pid: raw.pid ?? undefined,
    exitCode: raw.exitCode,
    signal: raw.signal,
    stdout: raw.stdout,
    stderr: raw.stderr,
    durationMs: raw.durationMs,
    failed: raw.exitCode !== 0,
    timedOut: raw.timedOut,
    cancelled: raw.cancelled,
    killed: raw.killed,
    killedByLimit: raw.killedByLimit ?? undefined,
    inputBytesWritten: raw.inputWritten ?? undefined,
    rusage: !raw.ran ? undefined : {
      maxRssBytes: raw.maxRssBytes,
      userCpuMs: raw.userCpuMs,
      systemCpuMs: raw.systemCpuMs,
    },
  }
}

function tail(stderr) {
  if (typeof stderr !== 'string' || stderr.length === 0) return ''
  return `\n${stderr.length > 2000 ? `…${stderr.slice(-2000)}` : stderr}`
}

// The Result, or the error to reject with.
function outcome(raw, call) {
  const result = resultOf(raw, call)
  const { command } = result
  if (raw.errorCode !== null) {
    // A program not found reads as Node's `spawn foo ENOENT`; the directories searched are a
    // property, never part of the message (apps echo messages to HTTP clients).
    const message = raw.searchedPath !== null
      ? `spawn ${call.file} ENOENT`
      : `spawn ${call.file} ${raw.errorCode}: ${raw.errorMessage}`
    /** @type {SubprocessError & { searchedPath?: string[], syscall?: string, path?: string, spawnargs?: string[] }} */
    const err = new SubprocessError(raw.errorCode, message, result)
    if (raw.searchedPath !== null) err.searchedPath = raw.searchedPath.split(':')
    err.syscall = `spawn ${call.file}`
    err.path = call.file
    err.spawnargs = call.args
    return err
  }
  if (!raw.ran && raw.killed && !raw.cancelled) {
    return new SubprocessError(ERR_OFFLOAD_CANCELLED, `Command was killed before it started: ${command}`, result)
  }
  if (raw.inputError !== null) {
    return new SubprocessError(ERR_OFFLOAD_IO, `Could not write the input to the child (${raw.inputError}): ${command}`, result)
  }
  if (raw.cancelled) {
    // The same AbortError every cancellable task gives (a throwing `reason` getter included).
    const err = call.signal ? abortError(call.signal) : new AbortError()
    return Object.assign(err, result)
  }
  if (raw.timedOut) {
    return new SubprocessError(ERR_OFFLOAD_TIMEOUT, `Command timed out after ${call.timeout} ms: ${command}`, result)
  }
  if (raw.maxBufferExceeded !== null) {
    return new SubprocessError(ERR_OFFLOAD_MAX_BUFFER,
      `${raw.maxBufferExceeded} exceeded maxBuffer (${call.maxBuffer} bytes): ${command}`, result)
  }
  if (!result.failed || !call.reject) return result
  if (raw.killedByLimit !== null) {
    return new SubprocessError(ERR_OFFLOAD_LIMIT,
      `Command was killed by its ${raw.killedByLimit} limit (${raw.signal ?? `exit code ${raw.exitCode}`}): ${command}${tail(raw.stderr)}`, result)
  }
  const how = raw.signal !== null ? `was killed with ${raw.signal}` : `failed with exit code ${raw.exitCode}`
  return new SubprocessError(ERR_OFFLOAD_EXIT, `Command ${how}: ${command}${tail(raw.stderr)}`, result)
}

// Validates and starts a child; returns [handle, rawPromise, call].
function start(file, args, options, streaming) {
  if (typeof file !== 'string') throw invalidArgType('file', 'of type string', file)
  const [argv, opts] = normalizeArgs(args, options)
  const o = processOptions(opts, Supervisor)
  const call = {
    file,
    args: argv,
    command: commandOf(file, argv),
    signal: o.signal,
    timeout: o.timeout,
    maxBuffer: o.maxBuffer,
    reject: o.reject,
    killSignal: o.killSignal,
    options: o,
  }
  const supervisor = (o.supervisor ?? getDefaultSupervisor())[kNative]
  killChildrenOnExit()
  // Subscribed before spawning: the signal is the caller's object and may throw, and once a
  // child exists its promise must follow it to the end.
  let handle
  const onAbort = () => { if (handle !== undefined) binding.processCancel(handle) }
  const listening = o.signal !== undefined && !o.signal.aborted
  // addEventListener, never `onabort`: the caller's own handler must survive.
  if (listening) o.signal.addEventListener('abort', onAbort, { once: true })
  let pair
  try {
    pair = binding.spawnProcess(supervisor, file, argv, o.native, o.input, o.envBlock, { streaming, aborted: o.signal?.aborted === true })
  } catch (err) {
    if (listening) unlisten(o.signal, onAbort)
    throw fromNative(err)
  }
  handle = pair[0]
  const raw = pair[1]
  const settled = listening ? raw.finally(() => unlisten(o.signal, onAbort)) : raw
  return [handle, settled, call]
}

function finish(report, call) {
  const r = outcome(rawReport(report), call)
  if (r instanceof Error) throw r
  return r
}

/** Runs `file` with `args` (no shell) and buffers its output. */
function exec(file, args, options) {
  try {
    const [, raw, call] = start(file, args, options, false)
    return raw.then((r) => finish(r, call))
  } catch (err) {
    return Promise.reject(err)
  }
}

module.exports = { Supervisor, SubprocessError, exec, start, finish, processStats, getDefaultSupervisor, killChildrenOnExit, kNative, rawReport }
