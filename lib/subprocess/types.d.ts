// Typings for exec(), spawn() and the supervisor (lib/subprocess). Option docs for the
// native fields are generated from the Rust sources into napi/binding.d.ts and re-used here.
// Re-exported by the package's index.d.ts.
import type {
  ProcessLimits,
  ProcessOptions as NativeProcessOptions,
  SupervisorOptions,
  SupervisorStats,
} from '../../napi/binding'
import type { Readable, Writable } from 'node:stream'
import type { EventEmitter } from 'node:events'
import type { BinaryLike, OffloadError } from '../shared/types'

/** Generated from the Rust sources (binding.d.ts), documented there. */
export type { ProcessLimits, SupervisorOptions, SupervisorStats }

/** What a child's stdio stream is connected to. */
export type StdioMode = 'pipe' | 'ignore' | 'inherit'
/** Signal names `kill()` and `killSignal` accept (numbers work too). */
export type SignalName =
  | 'SIGHUP' | 'SIGINT' | 'SIGQUIT' | 'SIGILL' | 'SIGTRAP' | 'SIGABRT' | 'SIGBUS' | 'SIGFPE'
  | 'SIGKILL' | 'SIGUSR1' | 'SIGSEGV' | 'SIGUSR2' | 'SIGPIPE' | 'SIGALRM' | 'SIGTERM'
  | 'SIGSTKFLT' | 'SIGCHLD' | 'SIGCONT' | 'SIGSTOP' | 'SIGTSTP' | 'SIGTTIN' | 'SIGTTOU'
  | 'SIGURG' | 'SIGXCPU' | 'SIGXFSZ' | 'SIGVTALRM' | 'SIGPROF' | 'SIGWINCH' | 'SIGIO'
  | 'SIGPWR' | 'SIGSYS'

/** Options for `exec()` and `spawn()`. */
export interface ExecOptions extends Omit<NativeProcessOptions, 'env' | 'stdin' | 'stdout' | 'stderr' | 'encoding' | 'killSignal' | 'cwd'> {
  /** Working directory of the child. Default: the parent's. */
  cwd?: string | URL
  /** Environment variables for the child, on top of `process.env` unless `extendEnv` is false; values are converted to strings, `undefined` ones skipped. Default: `process.env`. */
  env?: Record<string, string | number | boolean | undefined>
  /** Default: `'pipe'` for `spawn()`; for `exec()`, `'pipe'` with `input`, else `'ignore'` (`/dev/null`). */
  stdin?: StdioMode
  /** Default: `'pipe'`. `exec()` captures a piped stream into the `Result`, and its type says so: `stdout` is a string (or Buffer) unless this is `'ignore'` or `'inherit'` (or not known statically). */
  stdout?: StdioMode
  /** Default: `'pipe'`. As `stdout`, for the `Result`'s `stderr`. */
  stderr?: StdioMode
  /** How `exec()` returns output: strings (invalid UTF-8 becomes U+FFFD) or Buffers. Default: `'utf8'`. */
  encoding?: 'utf8' | 'utf-8' | 'buffer'
  /** Signal for timeout, abort and maxBuffer, and the default for `kill()`. Default: `'SIGTERM'`. */
  killSignal?: SignalName | number
  /** Written to the child's stdin, which is then closed. Read in place: do not modify it until the call settles. Default: none. */
  input?: BinaryLike
  /** Aborting kills the child (`killSignal`, then SIGKILL) and rejects with an `AbortError` whose `cause` is `signal.reason`; a queued child never starts. Default: none. */
  signal?: AbortSignal
  /** Supervisor whose concurrency budget to use. Default: the shared default supervisor. */
  supervisor?: Supervisor
}

/** Resource usage of a finished child, from `wait4`. */
export interface ResourceUsage {
  /** The child's own peak RSS in bytes, or `null` when it stayed below this process's own peak: Linux charges a child that shared its parent's memory until `execve` (as vfork-style spawns do) with the parent's peak, so smaller peaks cannot be told apart. */
  maxRssBytes: number | null
  /** CPU time the child spent in user mode. */
  userCpuMs: number
  /** CPU time the child spent in the kernel. */
  systemCpuMs: number
}

type Output<O> = O extends { encoding: 'buffer' } ? Buffer : string
// A stream's mode in options `O` (undefined when absent, i.e. piped); a union when `O` is a
// widened `ExecOptions`, so that the result below is a union too.
type ModeOf<O, K extends 'stdout' | 'stderr'> = K extends keyof O ? O[K] : undefined
// Distributes over the mode: captured unless the stream went elsewhere.
type Captured<Mode, T> = Mode extends 'ignore' | 'inherit' ? undefined : T

/**
 * The `Result` of `exec(file, args, options)`: `stdout` and `stderr` are a string (a Buffer with
 * `encoding: 'buffer'`) when piped, the default, and `undefined` when `'ignore'` or `'inherit'`.
 */
export type ExecResult<O extends ExecOptions = {}> = Result<Captured<ModeOf<O, 'stdout'>, Output<O>>, Captured<ModeOf<O, 'stderr'>, Output<O>>>

/**
 * How a child ended. `Stdout` and `Stderr` are the exact types of the captured output: `exec()`
 * gives `string` or `Buffer` for a piped stream and `undefined` otherwise (see `ExecResult`),
 * `spawn()`'s `exited` gives `undefined` (its output is on its streams).
 */
export interface Result<Stdout = string | undefined, Stderr = Stdout> {
  /** The command line, quoted for display (never run through a shell). */
  command: string
  /** Undefined if the child never started. */
  pid: number | undefined
  /** `null` if the child was killed by a signal or never started. */
  exitCode: number | null
  /** The signal that killed the child, e.g. `'SIGTERM'`. */
  signal: SignalName | string | null
  /** Captured stdout (`exec()`); undefined when not piped, and always for `spawn()`, whose output is on its streams. */
  stdout: Stdout
  /** Captured stderr (`exec()`); see `stdout`. */
  stderr: Stderr
  /** From the spawn to the end of the child and its output (time in the queue excluded). */
  durationMs: number
  /** True unless the exit code is 0. */
  failed: boolean
  /** Killed because its `timeout` passed. */
  timedOut: boolean
  /** Stopped by an AbortSignal (or never started because of it). */
  cancelled: boolean
  /** The supervisor signalled it: `kill()`, timeout, abort or maxBuffer. */
  killed: boolean
  /** The limit that most likely ended the child: CPU and file size by their signals, memory inferred from a crash under a memory limit. */
  killedByLimit: 'cpuSeconds' | 'fileSizeBytes' | 'memoryBytes' | undefined
  /** With `input`: how many of its bytes the child read before it closed stdin or exited; less than the input's length when it stopped reading early (not an error by itself, as with a shell pipe into `head`). Undefined without `input`. */
  inputBytesWritten: number | undefined
  /** Undefined if the child never started. */
  rusage: ResourceUsage | undefined
}

/**
 * Rejection of `exec()` and `exited`: `code` is `ERR_OFFLOAD_EXIT` (non-zero exit or a signal),
 * `ERR_OFFLOAD_TIMEOUT`, `ERR_OFFLOAD_MAX_BUFFER` (output truncated to `maxBuffer` attached),
 * `ERR_OFFLOAD_LIMIT`, `ERR_OFFLOAD_CANCELLED` (killed while queued), `ERR_OFFLOAD_SPAWN`
 * (setup failed), `ERR_OFFLOAD_IO` (writing `input` failed other than by the child closing stdin), or `ENOENT`/`EACCES` when the program or `cwd` cannot be used. Carries every
 * `Result` field.
 */
export declare class SubprocessError<T = string | Buffer> extends OffloadError {
  /** For spawn failures: `spawn <file>`. */
  syscall?: string
  /** For spawn failures: the program. */
  path?: string
  /** For spawn failures: its arguments. */
  spawnargs?: string[]
  /** For `ENOENT` (program not found): the `PATH` directories searched. Kept out of the message, which apps often echo to clients. */
  searchedPath?: string[]
}
/** Every `Result` field is on the error too (declaration merging); output may be absent (not piped, or the child never started). */
export interface SubprocessError<T = string | Buffer> extends Result<T | undefined> {}

/** A separate budget of running and queued children. */
export declare class Supervisor {
  /** @throws {RangeError} `ERR_OUT_OF_RANGE` for a bad `maxConcurrent` or `maxQueue`. */
  constructor(options?: SupervisorOptions)
  /** Children running at once. */
  readonly maxConcurrent: number
  /** Children allowed to wait; `Infinity` when unbounded. */
  readonly maxQueue: number
  /** Counters of this supervisor's children. */
  stats(): SupervisorStats
}

/** A running child; see `spawn()`. Emits `'spawn'` once the child exists, as Node's `ChildProcess` does. */
export declare class Subprocess extends EventEmitter {
  /** The child's pid once spawned; undefined while it waits in the supervisor's queue (see `spawned`). */
  readonly pid: number | undefined
  /** Resolves with the pid once the child has been spawned; rejects as `exited` does if it never is (program not found, aborted or killed while queued). */
  readonly spawned: Promise<number>
  on(event: 'spawn', listener: () => void): this
  once(event: 'spawn', listener: () => void): this
  on(event: string | symbol, listener: (...args: any[]) => void): this
  once(event: string | symbol, listener: (...args: any[]) => void): this
  /** Null unless stdin is `'pipe'` (and no `input` was given). Writes after the child stops reading are dropped. */
  readonly stdin: Writable | null
  /** Null unless stdout is `'pipe'`. Also an async iterable of Buffers. */
  readonly stdout: Readable | null
  /** Null unless stderr is `'pipe'`. */
  readonly stderr: Readable | null
  /** Resolves when the child has ended, or rejects as `exec()` would. Never an unhandled rejection by itself. */
  readonly exited: Promise<Result<undefined>>
  /** Sends `signal` (to the whole tree with `killTree`), escalating to SIGKILL after `forceKillAfter`; a queued child never starts. False if it had already exited. */
  kill(signal?: SignalName | number): boolean
  /** Lines of a piped stream, decoded as UTF-8, without line endings (for progress output such as `ffmpeg -progress pipe:1`). */
  lines(stream?: 'stdout' | 'stderr'): AsyncIterableIterator<string>
  /** Kills the child and waits for it, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>
}

/** Runs `file` with `args` (no shell unless `shell` is set) and buffers its output. Rejects with a `SubprocessError`, an `AbortError`, or `ERR_OFFLOAD_QUEUE_FULL`. */
export declare function exec<O extends ExecOptions = {}>(file: string, args?: readonly string[], options?: O): Promise<ExecResult<O>>
/** `exec(file, options)`: no arguments. */
export declare function exec<O extends ExecOptions = {}>(file: string, options?: O): Promise<ExecResult<O>>
/** Starts `file` with `args` and returns it with streams over its stdio. Throws synchronously for bad arguments and `ERR_OFFLOAD_QUEUE_FULL`. */
export declare function spawn(file: string, args?: readonly string[], options?: ExecOptions): Subprocess
/** `spawn(file, options)`: no arguments. */
export declare function spawn(file: string, options?: ExecOptions): Subprocess
/** Counters over every supervisor in the process. */
export declare function processStats(): SupervisorStats
