// Public typings for offload. Option docs for kernel-specific fields are generated from the
// Rust sources into binding.d.ts and re-used here.
import type {
  CompressionFormat,
  CompressOptions as NativeCompressOptions,
  DecompressOptions as NativeDecompressOptions,
  Encoding,
  HashAlgorithm,
  HashOptions as NativeHashOptions,
  HmacAlgorithm,
  LatencyStats,
  PoolOptions,
  PoolStats,
  ProcessLimits,
  ProcessOptions as NativeProcessOptions,
  SupervisorOptions,
  SupervisorStats,
} from './napi/binding'
import type { Readable, Writable } from 'node:stream'
import type { EventEmitter } from 'node:events'

/** Generated from the Rust sources (binding.d.ts), documented there. */
export type { LatencyStats, PoolOptions, PoolStats, ProcessLimits, SupervisorOptions, SupervisorStats }
/** Name unions generated from the Rust enums (binding.d.ts): algorithms, encodings, formats. */
export type { CompressionFormat, Encoding, HashAlgorithm, HmacAlgorithm }

/** Binary inputs are read in place (zero-copy); strings are read as UTF-8. Do not modify or transfer a binary input until the promise settles. */
export type BinaryLike = string | ArrayBufferView | ArrayBuffer | SharedArrayBuffer

/** Queue level of a task: FIFO within a level, higher levels first. */
export type Priority = 'high' | 'normal' | 'low'

/** Options every kernel accepts. */
export interface TaskOptions {
  /** Pool to run on. Default: the shared default pool (`defaultPool()`). */
  pool?: Pool
  /** Cancels the task, queued or running; the promise rejects with an `AbortError` whose `cause` is `signal.reason`. Default: none. */
  signal?: AbortSignal
  /** Milliseconds before the task is cancelled and the promise rejects with `ERR_OFFLOAD_TIMEOUT`; `0` disables it. Default: none. */
  timeout?: number
  /** Queue priority: FIFO within a level, higher levels first. Default: `'normal'`. */
  priority?: Priority
}


/** Options of `hash`, `hmac` and `hashMany`. */
export interface HashOptions extends TaskOptions, Omit<NativeHashOptions, 'encoding'> {
  /** Output encoding. Default: `'buffer'`. */
  encoding?: Encoding
}
/** Options of `compress`: the task options and `level`. */
export interface CompressOptions extends TaskOptions, NativeCompressOptions {}
/** Options of `decompress`: the task options and `maxOutputLength`. */
export interface DecompressOptions extends TaskOptions, NativeDecompressOptions {}

type Digest<O> = O extends { encoding: 'hex' | 'base64' | 'base64url' } ? string : Buffer

/** A dedicated set of Rust threads with its own bounded, prioritised queue. */
export declare class Pool {
  /** @throws {RangeError} `ERR_OUT_OF_RANGE` for a bad `threads` or `maxQueue`. */
  constructor(options?: PoolOptions)
  /** Number of worker threads. */
  readonly threads: number
  /** Name used in the threads' names (`offload-<name>-<n>`). */
  readonly name: string
  /** Waiting tasks admitted before calls reject with `ERR_OFFLOAD_QUEUE_FULL`. */
  readonly maxQueue: number
  /** Counters and latency percentiles; O(1) and cheap to call. */
  stats(): PoolStats
  /** Stops admission (later calls reject with `ERR_OFFLOAD_POOL_CLOSED`); resolves once every accepted task has settled. */
  close(): Promise<void>
  /** Stops admission, rejects queued tasks with `ERR_OFFLOAD_POOL_DESTROYED` and cancels running ones. */
  destroy(): void
  /** Same as `close()`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>
}

/** The lazily created pool used when no `pool` option is given (`OFFLOAD_THREADS` or `os.availableParallelism()` threads). */
export declare function defaultPool(): Pool

/** Digest of `data`. Resolves to a Buffer, or a string for the text encodings. */
export declare function hash<O extends HashOptions = {}>(algorithm: HashAlgorithm, data: BinaryLike, options?: O): Promise<Digest<O>>
/** HMAC of `data` under `key`. */
export declare function hmac<O extends HashOptions = {}>(algorithm: HmacAlgorithm, key: BinaryLike, data: BinaryLike, options?: O): Promise<Digest<O>>
/** Digests of every input, computed in parallel on the pool, in input order. */
export declare function hashMany<O extends HashOptions = {}>(algorithm: HashAlgorithm, datas: readonly BinaryLike[], options?: O): Promise<Array<Digest<O>>>
/** Compresses `data`; gzip, deflate, deflate-raw and brotli output is readable by node:zlib. */
export declare function compress(format: CompressionFormat, data: BinaryLike, options?: CompressOptions): Promise<Buffer>
/** Decompresses `data`; rejects with `ERR_OFFLOAD_CORRUPT_INPUT` or `ERR_OFFLOAD_OUTPUT_TOO_LARGE`. */
export declare function decompress(format: CompressionFormat, data: BinaryLike, options?: DecompressOptions): Promise<Buffer>

/** Error for offload's own failures; `code` is one of the `ERR_OFFLOAD_*` codes. */
export declare class OffloadError extends Error {
  /** Mostly for tests and wrappers: offload creates these itself. */
  constructor(code: string, message: string, options?: { cause?: unknown })
  /** One of the `ERR_OFFLOAD_*` codes. */
  readonly code: string
}

/** Rejection for an aborted task: `name` is `'AbortError'`, `code` is `'ABORT_ERR'`, `cause` is the signal's reason. */
export declare class AbortError extends Error {
  /** Default message: `'The operation was aborted'`. */
  constructor(message?: string, options?: { cause?: unknown })
  /** Always `'ABORT_ERR'`, as Node's own AbortError. */
  readonly code: 'ABORT_ERR'
}

// ---------------------------------------------------------------------------------------------
// Subprocesses

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

// ---------------------------------------------------------------------------------------------
// Process pool

/** The directory holding `offload_worker.py`. A pool whose `command` is named `python*` puts it first on the workers' `PYTHONPATH` by itself; other launchers (`uv run`, a venv's wrapper script) can add it. */
export declare const pythonPath: string

/** Options for `new ProcessPool()`: exactly one of `script` and `command`. */
export interface ProcessPoolOptions {
  /** A JavaScript file that calls `serve()` from `offload/worker`, run by this Node binary (`process.execPath`). */
  script?: string | URL
  /** Any program that speaks the protocol on descriptors 3 and 4 (docs/protocol.md), e.g. `'python3'`. Run without a shell, found on `PATH`. */
  command?: string
  /** Names the pool in `metrics()`. Default: the script's or command's file name. */
  name?: string
  /** Arguments after the script or command. Default: `[]`. */
  args?: readonly string[]
  /** Node options before the script (`script` only), e.g. `['--max-old-space-size=512']`. Default: `[]`. */
  execArgv?: readonly string[]
  /** The most workers at once; each runs one task at a time. Default: `os.availableParallelism()`. */
  size?: number
  /** Workers started with the pool and kept when idle. Default: `0` (workers start on demand). */
  minWorkers?: number
  /** Tasks allowed to wait for a worker; past it, `run()` rejects with `ERR_OFFLOAD_QUEUE_FULL`. `Infinity` for no bound. Default: `10000`. */
  maxQueue?: number
  /** Milliseconds from `run()` before a task rejects with `ERR_OFFLOAD_TIMEOUT` (its worker is then cancelled and, after `cancelGrace`, killed); `0` for none. Default: none. */
  timeout?: number
  /** A worker is replaced (after finishing its task) once it has run this many. Default: `Infinity`. */
  maxTasksPerWorker?: number
  /** A worker whose resident memory is above this after a task is replaced. Default: none. */
  maxRssBytes?: number
  /** Resource limits of each worker, as for `exec()`. Default: none. */
  limits?: ProcessLimits
  /** Environment variables on top of `process.env` (unless `extendEnv` is false). Default: `process.env`. */
  env?: Record<string, string | number | boolean | undefined>
  /** Default: `true`. */
  extendEnv?: boolean
  /** Working directory of the workers. Default: the parent's. */
  cwd?: string | URL
  /** Where the workers' own output goes: this process's stdout, or nowhere. It never carries messages. Default: `'inherit'`. */
  stdout?: 'inherit' | 'ignore'
  /** The workers' stderr, always read through a pipe: `'inherit'` forwards it to this process's stderr as it arrives, `'ignore'` drops it. Either way its last lines (up to 4 KiB, 20 lines) go into the `ERR_OFFLOAD_WORKER_START` error of a worker that fails to start. Default: `'inherit'`. */
  stderr?: 'inherit' | 'ignore'
  /** Milliseconds before retrying a worker that failed to start or died before finishing a task; doubles with each failure in a row, up to 30 s. Default: `100`. */
  restartBackoff?: number
  /** Milliseconds a worker has to send `ready` before it counts as failed to start; `0` for no limit. Default: `30000`. */
  startTimeout?: number
  /** Milliseconds an idle worker above `minWorkers` is kept; `0` keeps it. Default: `60000`. */
  idleTimeout?: number
  /** Milliseconds a worker whose task was aborted or timed out has to answer before it is killed with its process tree; a handler that honours its signal keeps its worker. Default: `250`. */
  cancelGrace?: number
}

/** Options for `ProcessPool#run()`. */
export interface ProcessPoolRunOptions {
  /** The handler to run, for workers that serve several (`serve({ name: fn })`). Default: the `default` (or only) handler. */
  name?: string | null
  /** Rejects with an `AbortError` whose `cause` is `signal.reason`; a queued task never starts, a running one is cancelled. Default: none. */
  signal?: AbortSignal
  /** Overrides the pool's `timeout`; `0` for none. Default: the pool's. */
  timeout?: number
  /** Queue priority: FIFO within a level, higher levels first. Default: `'normal'`. */
  priority?: Priority
}

/** One live worker of a ProcessPool. */
export interface ProcessPoolWorkerStats {
  /** The worker process. */
  pid: number
  /** `cancelling`: its task was aborted or timed out and it has `cancelGrace` to answer; `retiring`: asked to exit; `exiting`: its reply pipe closed; `killing`: SIGKILL sent. */
  state: 'idle' | 'busy' | 'cancelling' | 'retiring' | 'exiting' | 'killing'
  /** Tasks answered by this worker. */
  tasks: number
  /** Resident memory now (`/proc/<pid>/statm`), or null if it could not be read. */
  rssBytes: number | null
}

/** A snapshot of a ProcessPool: gauges, counters since it started, and its workers. */
export interface ProcessPoolStats {
  /** The pool's `size`. */
  size: number
  /** Live workers that have started. */
  workers: ProcessPoolWorkerStats[]
  /** Workers started but not ready yet. */
  starting: number
  /** Ready workers without a task. */
  idle: number
  /** Workers running a task (or finishing a cancelled one). */
  busy: number
  /** Tasks waiting for a worker. */
  queued: number
  /** Tasks resolved. */
  completed: number
  /** Tasks rejected by the handler's error, a crash, a protocol error, a failed start or `destroy()`. */
  failed: number
  /** Tasks aborted by their signal. */
  cancelled: number
  /** Tasks that passed their `timeout`. */
  timedOut: number
  /**
   * Calls refused at admission, which never became tasks: queue full (`ERR_OFFLOAD_QUEUE_FULL`),
   * pool closed (`ERR_OFFLOAD_POOL_CLOSED`), or no worker up while restarts back off
   * (`ERR_OFFLOAD_WORKER_START`). Argument errors are not counted.
   */
  rejected: number
  /** Workers that died without being asked to. */
  crashed: number
  /** Workers started to replace one that crashed, was killed or was recycled. */
  restarts: number
  /** Workers replaced because of `maxTasksPerWorker` or `maxRssBytes`. */
  recycled: number
  /** Workers that exited, or did not answer in time, before they were ready. */
  startFailures: number
}

/**
 * Persistent, isolated worker processes running your code (docs/protocol.md). `run()` rejects
 * with the handler's error (same class for built-in ones, `name`, `message`, `code`, own
 * properties, the worker's stack), `ERR_OFFLOAD_WORKER_CRASHED` (`exitCode`, `signal`, `pid`,
 * and `stderr`, the worker's last stderr lines, also in the message; only the task that was
 * running fails), `ERR_OFFLOAD_WORKER_START` (`exitCode`,
 * `signal`, and `stderr`: the worker's last stderr lines, also in the message, with a hint for
 * a `.ts` script run without a loader),
 * `ERR_OFFLOAD_TIMEOUT`, `ERR_OFFLOAD_QUEUE_FULL`, `ERR_OFFLOAD_POOL_CLOSED`,
 * `ERR_OFFLOAD_POOL_DESTROYED`, `ERR_OFFLOAD_WORKER_PROTOCOL` or an `AbortError`.
 */
export declare class ProcessPool {
  /** @throws {TypeError} `ERR_INVALID_ARG_TYPE` / `ERR_INVALID_ARG_VALUE`, {RangeError} `ERR_OUT_OF_RANGE`, naming the option. */
  constructor(options: ProcessPoolOptions)
  /** The pool's name in `metrics()`. */
  readonly name: string
  /** The most workers at once. */
  readonly size: number
  /** Workers started with the pool and kept while idle. */
  readonly minWorkers: number
  /** Waiting tasks admitted before `ERR_OFFLOAD_QUEUE_FULL`; `Infinity` when unbounded. */
  readonly maxQueue: number
  /**
   * Runs `payload` (JSON, with Buffers and TypedArrays carried as raw bytes, read in place: do
   * not modify them until the task settles) on a worker. Rejects with `ERR_INVALID_ARG_TYPE`,
   * naming the path, for what JSON would silently change (`BigInt`, functions, symbols,
   * `SharedArrayBuffer`, `Map`, `Set`, other class instances; see docs/protocol.md).
   */
  run<R = any>(payload?: unknown, options?: ProcessPoolRunOptions): Promise<R>
  /** Counters, gauges and each live worker's pid, state, tasks and RSS (read from `/proc`). */
  stats(): ProcessPoolStats
  /** Stops admission (`ERR_OFFLOAD_POOL_CLOSED`), finishes queued and running tasks, then lets every worker exit; resolves when none is left. */
  close(): Promise<void>
  /** Rejects queued and running tasks with `ERR_OFFLOAD_POOL_DESTROYED` and SIGKILLs every worker tree; resolves when none is left. */
  destroy(): Promise<void>
  /** Same as `close()`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>
}

// ---------------------------------------------------------------------------------------------
// Metrics

/**
 * Every CPU pool, process pool and the subprocess counters in the Prometheus text exposition
 * format (0.0.4), with `# HELP` and `# TYPE` lines: queue depth, running, tasks by outcome,
 * wait and run time histograms (`offload_pool_*`); spawned, running, failed, killed, max RSS
 * (`offload_subprocess*`); process-pool workers, crashes and restarts
 * (`offload_process_pool_*`). Serve it with `metrics.contentType`.
 */
export declare const metrics: {
  (): string
  /** `'text/plain; version=0.0.4; charset=utf-8'`. */
  readonly contentType: string
}
